/* libFuzzer target: exhunt scan's HTTP header lines. The input is split at
 * '\n' into lines as curl hands them over (not NUL-terminated). */
#include "scan/scan.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  exhi_scan_resp r = {0};
  const char *p = (const char *)data, *end = p + size;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *le = nl ? nl + 1 : end;
    exhi_scan_header_line(&r, p, (size_t)(le - p));
    p = le;
  }
  if (r.status < 0 || r.status > 999) abort();
  if (!memchr(r.owa_version, '\0', sizeof r.owa_version) || !memchr(r.location, '\0', sizeof r.location) ||
      !memchr(r.be_target, '\0', sizeof r.be_target))
    abort();
  for (const char *s = r.location; *s; s++)
    if ((unsigned char)*s < 0x20) abort(); /* control bytes never reach a record */
  exh_build b;
  if (exhi_scan_exact_build(r.owa_version, &b) && b.parts != 4) abort();
  return 0;
}
