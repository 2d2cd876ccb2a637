/* libFuzzer target: the exporttool ClickOnce manifest reader. */
#include "scan/scan.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > EXHI_SCAN_BODY_MAX) return 0; /* the engine never keeps more */
  exh_build b;
  exh_error err;
  int rc = exhi_scan_manifest_build((const char *)data, size, &b, &err);
  if (rc == EXH_OK) {
    if (b.parts != 4) abort(); /* only an exact build is taken */
  } else if (rc != EXH_ERR_NOTFOUND || !memchr(err.text, '\0', sizeof err.text)) {
    abort();
  }
  return 0;
}
