/* libFuzzer target: exhunt's reading of an event record's XML (the fields
 * it takes from what libevtx renders) and the built-in rules over it. The
 * binary format itself is libevtx's, fuzzed upstream. */
#include "detectors/logrules.h"
#include "readers/evtx.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static exhi_lr *rules;
static exhi_lr_scan *scan;

static int on_hit(void *ctx, size_t rule, const char *detail) {
  (void)ctx, (void)detail;
  if (!exhi_lr_rule_at(rules, rule)) abort();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  exh_error err;
  if (size >= EXHI_EVTX_XML_MAX) return 0;
  if (!rules) {
    if (exhi_lr_load(1, NULL, 0, NULL, &rules, &err) != EXH_OK) abort();
    if (exhi_lr_scan_new(rules, &scan, &err) != EXH_OK) abort();
  }
  char *xml = malloc(size + 1);
  char *vals = malloc(size + 64); /* small on purpose: values must be cut, not overrun */
  exhi_logschema *s = calloc(1, sizeof *s);
  exhi_logrec *r = calloc(1, sizeof *r);
  if (!xml || !vals || !s || !r) abort();
  memcpy(xml, data, size);
  xml[size] = '\0';
  exhi_evtx_record_from_xml(xml, size ? data[0] : -1, size > 1 ? data[1] % 6 : -1, s, r, vals, size + 64);
  if (r->nvals != s->nfields || r->nvals > EXHI_LOG_MAX_FIELDS) abort();
  for (size_t i = 0; i < r->nvals; i++)
    if (r->v[i].p < vals || r->v[i].p + r->v[i].len > vals + size + 64) abort();
  exhi_lr_eval(scan, r, EXHI_LR_ALL, on_hit, NULL, &err);
  free(xml);
  free(vals);
  free(s);
  free(r);
  return 0;
}
