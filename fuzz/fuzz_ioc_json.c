/* libFuzzer target: everything the import reads, through format detection:
 * JSON lists and JSON lines (MSTIC's .json/.jsonl), STIX, MISP and CSV. */
#include "ioc/ioc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int on_entry(void *ctx, const exhi_ioc_entry *e, exh_error *err) {
  (void)err;
  if (!exh_ioc_type_name(e->type) || !e->value) abort();
  char out[EXH_IOC_VALUE_MAX + 2], again[EXH_IOC_VALUE_MAX + 2];
  exh_error nerr;
  if (exh_ioc_normalize(e->type, e->value, e->value_len, out, sizeof out, &nerr) == EXH_OK &&
      (exh_ioc_normalize(e->type, out, strlen(out), again, sizeof again, &nerr) != EXH_OK ||
       strcmp(out, again) != 0))
    abort(); /* normalising must be idempotent, or lookups miss */
  (*(size_t *)ctx)++;
  return EXH_OK;
}

static void on_skip(void *ctx, const char *where, const char *why) {
  (void)ctx;
  if (!where || !why || !*why) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > (1u << 20)) return 0;
  size_t n = 0;
  exhi_ioc_sink sink = {on_entry, on_skip, &n};
  exh_error err;
  const char *format = NULL;
  int rc = exhi_ioc_parse("fuzz", (const char *)data, size, &sink, &format, &err);
  if (!format && rc == EXH_OK) abort(); /* every accepted input has a format */
  if (rc != EXH_OK && !memchr(err.text, '\0', sizeof err.text)) abort();
  return 0;
}
