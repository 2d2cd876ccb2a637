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
 * run faster, never different. EXHUNT_NO_CACHE=1 turns it off. */
#ifndef EXHUNT_DETECTORS_HSCACHE_H
#define EXHUNT_DETECTORS_HSCACHE_H

#include <hs/hs.h>
#include <stddef.h>

/* Like hs_compile_multi in HS_MODE_BLOCK with no platform: on success *db is
 * the caller's (hs_free_database); on failure *ce is set as
 * hs_compile_multi sets it (may be NULL) and is the caller's. */
hs_error_t exhi_hs_compile_cached(const char *const *exprs, const unsigned *flags,
                                  const unsigned *ids, unsigned n, hs_database_t **db,
                                  hs_compile_error_t **ce);

/* The database in a cache file's bytes when they were stored under key
 * (klen bytes), else NULL: short, damaged, another key or another vectorscan
 * all mean "not cached". bytes are borrowed; the database is the caller's
 * (hs_free_database). What load reads a file through, and fuzz/fuzz_hscache.c
 * feeds. */
hs_database_t *exhi_hs_cache_decode(const void *bytes, size_t len, const char *key, size_t klen);
/* The same for hs_compile_lit_multi (pure literals, lens[i] bytes each):
 * cached under its own keys, never mistaken for a regex database. */
hs_error_t exhi_hs_compile_lit_cached(const char *const *exprs, const size_t *lens,
                                      const unsigned *flags, const unsigned *ids, unsigned n,
                                      hs_database_t **db, hs_compile_error_t **ce);

#endif
