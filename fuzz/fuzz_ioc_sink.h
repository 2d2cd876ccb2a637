/* The entry sink the indicator-parser fuzz targets share: every entry must
 * have a type and a value, and normalising its value must be idempotent (a
 * lookup of the stored form must find it); every skip must say where and why.
 * Included by each fuzz_ioc_*.c (static: one copy per target binary). */
#ifndef EXHUNT_FUZZ_IOC_SINK_H
#define EXHUNT_FUZZ_IOC_SINK_H

#include "ioc/ioc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int fuzz_ioc_on_entry(void *ctx, const exhi_ioc_entry *e, exh_error *err) {
  (void)err;
  if (!exh_ioc_type_name(e->type) || !e->value) abort();
  char out[EXH_IOC_VALUE_MAX + 2], again[EXH_IOC_VALUE_MAX + 2];
  exh_error nerr;
  if (exh_ioc_normalize(e->type, e->value, e->value_len, out, sizeof out, &nerr) == EXH_OK) {
    size_t n = strlen(out);
    if (n == 0 || n > EXH_IOC_VALUE_MAX + 1) abort();
    if (exh_ioc_normalize(e->type, out, n, again, sizeof again, &nerr) != EXH_OK ||
        strcmp(out, again) != 0)
      abort();
  }
  (*(size_t *)ctx)++;
  return EXH_OK;
}

static void fuzz_ioc_on_skip(void *ctx, const char *where, const char *why) {
  (void)ctx;
  if (!where || !why || !*why) abort();
}

/* One parser over the input into the sink above; a failure must leave a
 * terminated message. What every target's entry point does. */
typedef int (*fuzz_ioc_parse_fn)(const char *data, size_t size, exhi_ioc_sink *sink,
                                 exh_error *err);
static int fuzz_ioc_run(const uint8_t *data, size_t size, fuzz_ioc_parse_fn parse) {
  /* exh_ioc_import_file's bound is far above what a fuzzer explores. */
  if (size > (1u << 20)) return 0;
  size_t n = 0;
  exhi_ioc_sink sink = {fuzz_ioc_on_entry, fuzz_ioc_on_skip, &n};
  exh_error err;
  int rc = parse((const char *)data, size, &sink, &err);
  if (rc != EXH_OK && !memchr(err.text, '\0', sizeof err.text)) abort();
  return 0;
}

#endif
