/* libFuzzer target: STIX 2.1 bundles and their patterns, each entry normalised as the store does. */
#include "fuzz_ioc_sink.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int parse(const char *data, size_t size, exhi_ioc_sink *sink, exh_error *err) {
  json_t *doc = NULL;
  int rc = exhi_ioc_json_load("fuzz.json", data, size, &doc, err);
  if (rc == EXH_OK) rc = exhi_ioc_parse_stix("fuzz.json", doc, sink, err);
  json_decref(doc);
  return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return fuzz_ioc_run(data, size, parse); }
