/* libFuzzer target: exhunt scan diff's JSON-lines reader, the host by host
 * comparison, and the records read again by offset (--list). The input is
 * two scans: the old one up to the first form-feed line ("\f\n"), the new
 * one after it (without one, the input is compared with itself). */
#define _GNU_SOURCE /* memmem */
#include "scan/scan.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int key_cmp(const exhi_diff_host *a, const exhi_diff_host *b) {
  int c = memcmp(a->key, b->key, a->key_len < b->key_len ? a->key_len : b->key_len);
  return c ? c : a->key_len < b->key_len ? -1 : a->key_len > b->key_len;
}

/* Loads a scan; returns the stream it was read from (to read records
 * again), or NULL. */
static FILE *load(exhi_diff_set *s, const uint8_t *data, size_t size) {
  if (!size) return NULL;
  FILE *f = fmemopen((void *)(uintptr_t)data, size, "r");
  if (!f) return NULL;
  exh_error err;
  int rc = exhi_diff_load(s, f, NULL, "fuzz.jsonl", &err);
  if (rc == EXH_OK) {
    /* The merge needs them sorted, one per host. */
    for (size_t i = 1; i < s->n; i++)
      if (key_cmp(&s->v[i - 1], &s->v[i]) >= 0) abort();
    for (size_t i = 0; i < s->n; i++)
      if (s->v[i].off + s->v[i].len > size) abort();
  } else if (!memchr(err.text, '\0', sizeof err.text) || strncmp(err.text, "fuzz.jsonl: ", 12)) {
    abort();
  }
  return f;
}

typedef struct ctx {
  FILE *old, *new_;
} ctx;

/* Every host handed over reads again as the record it was loaded from. */
static int on_change(const char *change, const exhi_diff_host *o, const exhi_diff_host *n, void *p) {
  ctx *c = p;
  if (!change || (!o && !n)) abort();
  exh_error err;
  json_t *rec;
  if (o && (!c->old || exhi_diff_record(c->old, "old", o, &rec, &err) != EXH_OK || !json_is_object(rec)))
    abort();
  if (o) json_decref(rec);
  if (n && (!c->new_ || exhi_diff_record(c->new_, "new", n, &rec, &err) != EXH_OK || !json_is_object(rec)))
    abort();
  if (n) json_decref(rec);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const uint8_t *sep = memmem(data, size, "\f\n", 2);
  size_t old_len = sep ? (size_t)(sep - data) : size;
  const uint8_t *new_data = sep ? sep + 2 : data;
  size_t new_len = sep ? size - old_len - 2 : size;
  exhi_diff_set a = {0}, b = {0};
  ctx c = {load(&a, data, old_len), load(&b, new_data, new_len)};
  exhi_diff_counts n;
  if (exhi_diff_compare(&a, &b, &n, on_change, &c)) abort();
  /* Every exposed host of the old scan is fixed, still exposed or gone;
   * every one of the new is still or newly exposed. */
  if (n.fixed + n.still + n.gone != n.old_exposed || n.still + n.newly != n.new_exposed) abort();
  if (c.old) fclose(c.old);
  if (c.new_) fclose(c.new_);
  exhi_diff_clear(&a);
  exhi_diff_clear(&b);
  return 0;
}
