/* libFuzzer target: the compiled-rule cache reader (src/detectors/hscache.c).
 * A cache file is read whole and handed to exhi_hs_cache_decode; whatever it
 * holds (planted, torn, damaged, from another vectorscan) must come back as
 * a database that works or as "not cached", never a crash.
 *
 * The key a run expects is taken from the input itself, so that inputs
 * reach vectorscan's deserialiser (a real run's key is a hash input the
 * fuzzer could never guess); a fixed key covers the mismatch path. */
#include "detectors/hscache.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The header: 8 bytes of magic, then the key's and the database's lengths. */
#define HEADER 24

static int on_match(unsigned id, unsigned long long from, unsigned long long to, unsigned flags,
                    void *ctx) {
  (void)id, (void)from, (void)flags, (void)ctx;
  if (to > 64) abort(); /* a match past the end of what was scanned */
  return 0;
}

static void use(hs_database_t *db) {
  if (!db) return;
  /* A database that loads is one a hunt scans with: do that too. */
  hs_scratch_t *scratch = NULL;
  if (hs_alloc_scratch(db, &scratch) == HS_SUCCESS) {
    static const char text[64] = "GET /owa/auth/x.js ServerInfo~a]@b:444/ecp/ autodiscover.json";
    hs_scan(db, text, sizeof text, 0, scratch, on_match, NULL);
  }
  hs_free_scratch(scratch);
  hs_free_database(db);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  use(exhi_hs_cache_decode(data, size, "exhunt-fuzz", 11));
  if (size < HEADER) return 0;
  uint64_t kl;
  memcpy(&kl, data + 8, sizeof kl);
  if (kl > size - HEADER) return 0;
  use(exhi_hs_cache_decode(data, size, (const char *)data + HEADER, (size_t)kl));
  return 0;
}
