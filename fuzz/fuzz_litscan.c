/* libFuzzer target: the log prefilter's literal scanner
 * (src/detectors/litscan.c) against vectorscan, on every code path this CPU
 * runs (tests/litscan_diff.h). The input says what to look for, then gives
 * the bytes to scan:
 *   byte 0: bits 0-2 the number of literals (0..7), bit 3 the line-start
 *           '#', bit 4 the scanned bytes as the fingerprint sample too;
 *   per literal: its length (below 2 counts as 2), bit 0 of the next byte
 *           caseless, then its bytes;
 *   the rest: the bytes scanned.
 * A difference in matches, order or newline count, or a read outside the
 * scanned bytes (ASan), is a crash. */
#include "../tests/litscan_diff.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  unsigned head = data[0];
  size_t at = 1, n = 0;
  exhi_litscan_lit lits[EXHI_LITSCAN_MAX_LITS];
  for (unsigned i = 0; i < (head & 7); i++) {
    if (at + 2 > size) break;
    size_t len = data[at] < 2 ? 2 : data[at];
    int caseless = data[at + 1] & 1;
    at += 2;
    if (at + len > size) break;
    lits[n] = (exhi_litscan_lit){(const char *)data + at, len, caseless, (unsigned)n + 1};
    n++;
    at += len;
  }
  if (n > 7) n = 7; /* head & 7 keeps it there; 7 + 1 with the '#' fills the buckets */
  int hash = (head >> 3) & 1;
  if (!n && !hash) return 0;
  /* The scanned bytes in a heap block of exactly their size. */
  size_t len = size - at;
  char *p = malloc(len ? len : 1);
  if (!p) return 0;
  if (len) memcpy(p, data + at, len);
  exhi_litscan *ls = NULL;
  exh_error err = {0};
  if (exhi_litscan_build(lits, n, hash, 0, (head >> 4) & 1 ? p : NULL, len, &ls, &err)) abort();
  hs_database_t *db = ls_ref_compile(lits, n, hash, 0);
  hs_scratch_t *scratch = NULL;
  if (db && hs_alloc_scratch(db, &scratch) == HS_SUCCESS) {
    unsigned paths = exhi_litscan_paths();
    for (unsigned path = 1; path <= paths; path <<= 1) {
      if (!(paths & path)) continue;
      const char *why = ls_diff(ls, db, scratch, p, len, path, hash, 0);
      if (why) {
        fprintf(stderr, "fuzz_litscan: %s\n", why);
        abort();
      }
    }
  }
  hs_free_scratch(scratch);
  hs_free_database(db);
  exhi_litscan_free(ls);
  free(p);
  return 0;
}
