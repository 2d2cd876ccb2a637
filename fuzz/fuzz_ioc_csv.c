/* libFuzzer target: the indicator CSV layouts (MSTIC, Volexity, plain), each entry normalised as the store does. */
#include "fuzz_ioc_sink.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int parse(const char *data, size_t size, exhi_ioc_sink *sink, exh_error *err) {
  const char *format = "";
  return exhi_ioc_parse_csv("fuzz.csv", data, size, sink, &format, err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return fuzz_ioc_run(data, size, parse); }
