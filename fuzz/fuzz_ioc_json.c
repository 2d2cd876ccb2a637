/* libFuzzer target: everything the import reads, through format detection:
 * JSON lists and JSON lines (MSTIC's .json/.jsonl), STIX, MISP and CSV. */
#include "fuzz_ioc_sink.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int parse(const char *data, size_t size, exhi_ioc_sink *sink, exh_error *err) {
  const char *format = NULL;
  int rc = exhi_ioc_parse("fuzz", data, size, sink, &format, err);
  if (!format && rc == EXH_OK) abort(); /* every accepted input has a format */
  return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return fuzz_ioc_run(data, size, parse); }
