/* libFuzzer target: exhunt check's verdict table parser (rules/check/
 * verdict.csv): any text parses or fails with an error naming a line, never
 * more than EXHI_VERDICT_MAX_ROWS rows; a parsed table answers lookups. */
#include "check/check.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  exhi_verdict v;
  exh_error err;
  if (exhi_verdict_parse(&v, "fuzz.csv", (const char *)data, size, &err) == EXH_OK) {
    if (v.n > EXHI_VERDICT_MAX_ROWS) abort();
    for (size_t i = 0; i < v.n; i++) {
      int l = exhi_verdict_level(&v, v.rows[i].rule);
      if (l != EXH_COMP_COMPROMISED && l != EXH_COMP_ATTEMPTED) abort();
    }
    (void)exhi_verdict_level(&v, "exh.logs.webshell.iis_access");
    exhi_verdict_clear(&v);
  } else if (!err.text[0]) {
    abort(); /* a failure always says why */
  }
  return 0;
}
