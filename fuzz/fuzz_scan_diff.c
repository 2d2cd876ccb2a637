/* libFuzzer target: exhunt scan diff's JSON-lines reader and the host by
 * host comparison. The input is two scans: the old one up to the first
 * form-feed line ("\f\n"), the new one after it (without one, the input is
 * compared with itself). */
#define _GNU_SOURCE /* memmem */
#include "scan/scan.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void load(exhi_diff_set *s, const uint8_t *data, size_t size) {
  if (!size) return;
  FILE *f = fmemopen((void *)(uintptr_t)data, size, "r");
  if (!f) return;
  exh_error err;
  int rc = exhi_diff_load(s, f, "fuzz.jsonl", &err);
  fclose(f);
  if (rc == EXH_OK) {
    for (size_t i = 1; i < s->n; i++)
      if (strcmp(s->v[i - 1].key, s->v[i].key) > 0) abort(); /* the merge needs them sorted */
  } else if (!memchr(err.text, '\0', sizeof err.text) || strncmp(err.text, "fuzz.jsonl: ", 12)) {
    abort();
  }
}

static void on_change(const char *change, const exhi_diff_host *o, const exhi_diff_host *n,
                      void *ctx) {
  (void)ctx;
  if (!change || (!o && !n)) abort();
  if (o && !json_is_object(o->rec)) abort();
  if (n && !json_is_object(n->rec)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const uint8_t *sep = memmem(data, size, "\f\n", 2);
  size_t old_len = sep ? (size_t)(sep - data) : size;
  const uint8_t *new_data = sep ? sep + 2 : data;
  size_t new_len = sep ? size - old_len - 2 : size;
  exhi_diff_set a = {0}, b = {0};
  load(&a, data, old_len);
  load(&b, new_data, new_len);
  exhi_diff_counts c;
  exhi_diff_compare(&a, &b, &c, on_change, NULL);
  /* Every exposed host of the old scan is fixed, still exposed or gone;
   * every one of the new is still or newly exposed. */
  if (c.fixed + c.still + c.gone != c.old_exposed || c.still + c.newly != c.new_exposed) abort();
  exhi_diff_clear(&a);
  exhi_diff_clear(&b);
  return 0;
}
