/* libFuzzer target: everything the import reads, through format detection:
 * JSON lists and JSON lines (MSTIC's .json/.jsonl), STIX, MISP and CSV. */
#include "fuzz_ioc_sink.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > (1u << 20)) return 0;
  size_t n = 0;
  exhi_ioc_sink sink = {fuzz_ioc_on_entry, fuzz_ioc_on_skip, &n};
  exh_error err;
  const char *format = NULL;
  int rc = exhi_ioc_parse("fuzz", (const char *)data, size, &sink, &format, &err);
  if (!format && rc == EXH_OK) abort(); /* every accepted input has a format */
  if (rc != EXH_OK && !memchr(err.text, '\0', sizeof err.text)) abort();
  return 0;
}
