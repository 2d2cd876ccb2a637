/* libFuzzer target: the PE version resource reader (a hostile ExSetup.exe). */
#include "readers/pe.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* exhi_read_file caps what reaches the reader at EXHI_PE_MAX_BYTES. */
  if (size > EXHI_PE_MAX_BYTES) return 0;
  exhi_pe_version v;
  exh_error err;
  int rc = exhi_pe_read_version(data, size, "fuzz.exe", &v, &err);
  if (rc != EXH_OK) {
    if (!memchr(err.text, '\0', sizeof err.text)) abort();
    return 0;
  }
  /* The strings must be terminated inside their arrays. */
  if (!memchr(v.file_version, '\0', sizeof v.file_version) ||
      !memchr(v.product_name, '\0', sizeof v.product_name))
    abort();
  if (!v.has_fixed && !v.file_version[0]) abort(); /* success promises one of the two */
  if (v.has_fixed) {
    char text[64];
    exh_build_format(&v.fixed, text, sizeof text);
  }
  return 0;
}
