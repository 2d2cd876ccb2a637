/* libFuzzer target: the OWA logon page as exhunt scan reads it. */
#include "scan/scan.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > EXHI_SCAN_BODY_MAX) return 0; /* the engine never keeps more */
  exhi_scan_page p;
  exhi_scan_logon_page((const char *)data, size, &p);
  if (p.found && (!p.is_owa || (p.build.parts != 3 && p.build.parts != 4))) abort();
  return 0;
}
