/* libFuzzer target: the indicator CSV layouts (MSTIC, Volexity, plain), each entry normalised as the store does. */
#include "fuzz_ioc_sink.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* exh_ioc_import_file's bound is far above what a fuzzer explores. */
  if (size > (1u << 20)) return 0;
  size_t n = 0;
  exhi_ioc_sink sink = {fuzz_ioc_on_entry, fuzz_ioc_on_skip, &n};
  exh_error err;
  const char *format = "";
  int rc;
  rc = exhi_ioc_parse_csv("fuzz.csv", (const char *)data, size, &sink, &format, &err);
  (void)format;
  if (rc != EXH_OK && !memchr(err.text, '\0', sizeof err.text)) abort();
  return 0;
}
