/* libFuzzer target: the OWA logon page reader. The page is not
 * NUL-terminated: len is authoritative, and ASan sees any read past it. */
#include "readers/owa.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > EXHI_OWA_MAX_BYTES) return 0;
  exh_build b;
  bool looks = false;
  exh_error err;
  int rc = exhi_owa_page_build((const char *)data, size, "fuzz.html", &b, &looks, &err);
  if (rc == EXH_OK) {
    if ((b.parts != 3 && b.parts != 4) || !looks) abort();
    char text[64];
    exh_build_format(&b, text, sizeof text);
  } else {
    if (rc != EXH_ERR_NOTFOUND) abort(); /* the reader only ever reports "not found" */
    if (!memchr(err.text, '\0', sizeof err.text)) abort();
  }
  return 0;
}
