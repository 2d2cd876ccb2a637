/* A cache of compiled vectorscan databases, so a run does not pay for
 * compiling the same rule set again (tens of ms, as much as scanning a few
 * hundred MB of logs).
 *
 * Each database is stored in its own file under $XDG_CACHE_HOME/exhunt/hs
 * (else $HOME/.cache/exhunt/hs), named by a hash of everything that went
 * into it (vectorscan version, mode, expressions, flags, ids); the file
 * holds that whole key too and is used only when the key matches byte for
 * byte. Any problem with the cache (absent, unreadable, stale, written by
 * another vectorscan or CPU) means compiling as before: the cache can make a
 * run faster, never different. EXHUNT_NO_CACHE=1 turns it off.
 *
 * The folder is kept small: after each new file the files not used
 * (loaded) for 30 days go, then the least recently used ones beyond a size
 * cap (256 MiB; EXHUNT_CACHE_MAX=N[K|M|G] sets another). A file's mtime is
 * its last use (set on load at most once a day). Only regular files with
 * the cache's own names, directly in the folder, are ever removed.
 * EXHUNT_CACHE_TRACE=1 prints each decision (loaded, compiling, stored,
 * evicted) on stderr. */
#ifndef EXHUNT_DETECTORS_HSCACHE_H
#define EXHUNT_DETECTORS_HSCACHE_H

#include <hs/hs.h>
#include <stddef.h>

/* vectorscan 5.4.9 (Debian 12) misses matches that end in the last ~40
 * bytes of a buffer of 66 bytes or more when a database's patterns are
 * all short and two or more ({a#, b#}, {200, 241}, or one 'a#|b#'; the
 * literal API too): about a tenth of the places near the end (fuzz-logs
 * found it; a probe outside exhunt shows it; one short pattern alone is
 * found). With a pattern of a longer literal beside them it misses none,
 * so the compiles below add one to such a database. It reports this id:
 * callbacks that use ids pass it over. */
#define EXHI_HS_SENTINEL_ID 0xFFFFFFFFu

/* Like hs_compile_multi in HS_MODE_BLOCK with no platform (and the
 * sentinel, above): on success *db is the caller's (hs_free_database); on
 * failure *ce is set as hs_compile_multi sets it (may be NULL; HS_NOMEM
 * with none: out of memory) and is the caller's. */
hs_error_t exhi_hs_compile_cached(const char *const *exprs, const unsigned *flags,
                                  const unsigned *ids, unsigned n, hs_database_t **db,
                                  hs_compile_error_t **ce);
/* The same without reading or writing the cache (one-off rule sets). */
hs_error_t exhi_hs_compile(const char *const *exprs, const unsigned *flags, const unsigned *ids,
                           unsigned n, hs_database_t **db, hs_compile_error_t **ce);

/* The database in a cache file's bytes when they were stored under key
 * (klen bytes), else NULL: short, damaged, another key or another vectorscan
 * all mean "not cached". bytes are borrowed; the database is the caller's
 * (hs_free_database). What load reads a file through, and fuzz/fuzz_hscache.c
 * feeds. */
hs_database_t *exhi_hs_cache_decode(const void *bytes, size_t len, const char *key, size_t klen);
/* How a lit compile went, and a hook before a long one (all optional). */
typedef struct exhi_hs_cache_how {
  /* Called on a cache miss just before compiling n literals, e.g. to tell
   * a user at a terminal why the run pauses. */
  void (*compiling)(void *ctx, unsigned n);
  void *ctx;
  int compiled; /* out: 1 compiled (not in the cache), 0 loaded */
} exhi_hs_cache_how;

/* The same for hs_compile_lit_multi (pure literals, lens[i] bytes each):
 * cached under its own keys, never mistaken for a regex database. */
hs_error_t exhi_hs_compile_lit_cached(const char *const *exprs, const size_t *lens,
                                      const unsigned *flags, const unsigned *ids, unsigned n,
                                      exhi_hs_cache_how *how, hs_database_t **db,
                                      hs_compile_error_t **ce);

/* Whether there is a cache to read and write (not EXHUNT_NO_CACHE, a
 * usable folder): building a database ahead of its use is pointless
 * without. */
int exhi_hs_cache_on(void);

/* What this process's cached compiles did so far (tests, benchmarks). */
typedef struct exhi_hs_cache_counts {
  unsigned long loaded, compiled, stored, evicted;
} exhi_hs_cache_counts;
void exhi_hs_cache_get_counts(exhi_hs_cache_counts *c);

/* hs_scan takes an unsigned int length: the length of the next slice of
 * p[0..n) to scan, at most 1 GiB and ended on a line end when one is there,
 * so that no line is split between two scans. */
size_t exhi_hs_slice(const char *p, size_t n);

#endif
