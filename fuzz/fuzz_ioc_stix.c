/* libFuzzer target: STIX 2.1 bundles and their patterns, each entry normalised as the store does. */
#include "ioc/ioc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int on_entry(void *ctx, const exhi_ioc_entry *e, exh_error *err) {
  (void)err;
  if (!exh_ioc_type_name(e->type) || !e->value) abort();
  char out[EXH_IOC_VALUE_MAX + 2];
  exh_error nerr;
  if (exh_ioc_normalize(e->type, e->value, e->value_len, out, sizeof out, &nerr) == EXH_OK) {
    size_t n = strlen(out);
    if (n == 0 || n > EXH_IOC_VALUE_MAX + 1) abort();
    /* Normalising is idempotent: a lookup of the stored form finds it. */
    char again[EXH_IOC_VALUE_MAX + 2];
    if (exh_ioc_normalize(e->type, out, n, again, sizeof again, &nerr) != EXH_OK ||
        strcmp(out, again) != 0)
      abort();
  }
  (*(size_t *)ctx)++;
  return EXH_OK;
}

static void on_skip(void *ctx, const char *where, const char *why) {
  (void)ctx;
  if (!where || !why || !*why) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* exh_ioc_import_file's bound is far above what a fuzzer explores. */
  if (size > (1u << 20)) return 0;
  size_t n = 0;
  exhi_ioc_sink sink = {on_entry, on_skip, &n};
  exh_error err;
  const char *format = "";
  int rc;
  json_t *doc = NULL;
  rc = exhi_ioc_json_load("fuzz.json", (const char *)data, size, &doc, &err);
  if (rc == EXH_OK) rc = exhi_ioc_parse_stix("fuzz.json", doc, &sink, &err);
  json_decref(doc);
  (void)format;
  if (rc != EXH_OK && !memchr(err.text, '\0', sizeof err.text)) abort();
  return 0;
}
