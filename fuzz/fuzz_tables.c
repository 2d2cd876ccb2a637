/* libFuzzer target: the data tables (a hostile --data folder).
 *
 * Input format: the four tables in load order (products.csv, builds.csv,
 * cves.csv, campaigns.csv) separated by a line holding only "%%", i.e. the
 * byte sequence "\n%%\n". The first three separators split; the rest of the
 * input is campaigns.csv. Missing tables are empty. When the tables load,
 * a few builds are assessed against them. */
#include "detectors/kb.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SEP "\n%%\n"
#define SEP_LEN 4

static const char *find_sep(const char *p, const char *end) {
  for (; (size_t)(end - p) >= SEP_LEN; p++)
    if (memcmp(p, SEP, SEP_LEN) == 0) return p;
  return NULL;
}

static void touch(const char *s) {
  /* Borrowed strings must be readable and terminated (ASan checks). */
  if (s && strlen(s) > EXHI_TABLE_MAX_BYTES) abort();
}

static void check_release(const exh_release *r) {
  if (!r) return;
  touch(r->product);
  touch(r->cu);
  touch(r->update);
  touch(r->name);
  touch(r->released);
  touch(r->kb);
  touch(r->source);
}

static void assess_one(const exh_kb *kb, exh_build b, int precision) {
  exh_assessment *a = NULL;
  exh_error err;
  if (exh_assess(kb, &b, precision, "2026-01-01", &a, &err) != EXH_OK) {
    if (a) abort();
    return;
  }
  touch(a->product);
  touch(a->support_end);
  touch(a->target_product);
  touch(a->note);
  touch(a->tables_date);
  check_release(a->cu);
  check_release(a->release);
  check_release(a->nearest_below);
  check_release(a->nearest_above);
  check_release(a->latest_in_cu);
  check_release(a->latest_in_product);
  check_release(a->target);
  check_release(a->min_update);
  if (a->n_unfixable > a->n_open) abort();
  for (size_t i = 0; i < a->n_open; i++) {
    touch(a->open[i].id);
    touch(a->open[i].campaign);
    check_release(a->open[i].fix);
  }
  exh_assessment_severity(a);
  exh_assessment_free(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* exhi_read_file caps each table at EXHI_TABLE_MAX_BYTES; fuzzing wants
   * far less, and the loader is quadratic in rows by design (a few hundred). */
  if (size > (1u << 20)) return 0;
  static const char *const names[4] = {"products.csv", "builds.csv", "cves.csv",
                                       "campaigns.csv"};
  const char *parts[4];
  size_t lens[4];
  const char *p = (const char *)data, *end = p + size;
  for (int i = 0; i < 4; i++) {
    const char *s = i < 3 ? find_sep(p, end) : NULL;
    parts[i] = p;
    lens[i] = (size_t)((s ? s : end) - p);
    p = s ? s + SEP_LEN : end;
  }

  exh_kb *kb = (exh_kb *)1;
  exh_error err;
  int rc = exhi_kb_load_buffers(names, parts, lens, &kb, &err);
  if (rc != EXH_OK) {
    if (kb != NULL) abort(); /* a failed load leaves *out NULL */
    if (!memchr(err.text, '\0', sizeof err.text)) abort();
    return 0;
  }
  exh_kb_info info;
  exh_kb_get_info(kb, &info);
  touch(info.newest_release);
  touch(info.origin);

  /* A build of the real tables, the same CU known only, and builds taken
   * from the loaded tables: exact, one revision later, CU only. */
  assess_one(kb, (exh_build){15, 1, 2176, 2, 4}, EXH_PRECISION_EXACT);
  assess_one(kb, (exh_build){15, 1, 2176, 0, 3}, EXH_PRECISION_CU);
  size_t pick[3] = {0, kb->nrels / 2, kb->nrels - 1}; /* a kb has >= 1 release */
  for (int i = 0; i < 3; i++) {
    exh_build b = kb->rels[pick[i]].build;
    assess_one(kb, b, EXH_PRECISION_EXACT);
    b.revision++;
    assess_one(kb, b, EXH_PRECISION_EXACT);
    b.parts = 3;
    assess_one(kb, b, EXH_PRECISION_CU);
  }
  exh_kb_free(kb);
  return 0;
}
