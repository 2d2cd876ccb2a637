/* libFuzzer target: target lines (zmap, masscan, zgrab2 CSV, names,
 * ranges) and the blocklist reader. Every line given must either be
 * refused with an error or give targets that read back in range. */
#include "scan/scan.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 1 << 16) return 0;
  exhi_scan_policy pol = {0};
  exh_error err;
  exhi_scan_policy_load(&pol, (const char *)data, size, "fuzz", &err);
  exhi_scan_policy_clear(&pol);

  exhi_targets t = {0};
  char line[EXHI_SCAN_LINE_MAX + 1];
  const char *p = (const char *)data, *end = p + size;
  long long n = 0;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *le = nl ? nl : end;
    size_t len = (size_t)(le - p);
    if (len > EXHI_SCAN_LINE_MAX) len = EXHI_SCAN_LINE_MAX;
    memcpy(line, p, len);
    line[len] = '\0';
    int rc = exhi_targets_add_line(&t, line, "fuzz", ++n, &err);
    if (rc && !memchr(err.text, '\0', sizeof err.text)) abort();
    p = nl ? nl + 1 : end;
  }
  if (exhi_targets_seal(&t, &err) == EXH_OK && t.total) {
    exhi_perm perm;
    exhi_perm_init(&perm, t.total, 1);
    for (uint64_t i = 0; i < t.total && i < 64; i++) {
      uint64_t x = exhi_perm_at(&perm, i);
      if (x >= t.total) abort();
      exhi_target g;
      exhi_targets_get(&t, x, 443, &g);
      if (g.port == 0 || (g.family == 0 && !g.domain)) abort();
    }
  }
  exhi_targets_clear(&t);
  return 0;
}
