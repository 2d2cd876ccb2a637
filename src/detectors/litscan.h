/* A scanner for a handful of short literals, made for the log prefilter:
 * one pass over a piece of a log finds every occurrence of up to
 * EXHI_LITSCAN_MAX_LITS literals (each caseless or not), optionally every
 * '#' that starts a line (the W3C preamble, vectorscan's "^#" in MULTILINE
 * mode), and counts the piece's '\n' bytes, which the hunt needs for line
 * numbers and would otherwise read the piece again for.
 *
 * It is Teddy (Hyperscan's small-literal matcher) cut down to that job:
 * each literal has its own bucket, recognised by two adjacent bytes of it
 * (its fingerprint), looked up 32 bytes at a time with nibble shuffles;
 * every fingerprint hit is then checked against the whole literal. The
 * fingerprint is the pair of the literal rarest in a sample of the data,
 * so that few positions need that check.
 *
 * What it reports is what hs_scan reports for the same literals (each as
 * its own pattern, HS_FLAG_CASELESS where caseless) plus "^#" in
 * HS_FLAG_MULTILINE mode: every (id, end), end one past the match's last
 * byte, in non-decreasing end order. Caseless means ASCII letters only, as
 * vectorscan does outside UTF-8 mode.
 *
 * A scanner is immutable once built: threads may share one. */
#ifndef EXHUNT_DETECTORS_LITSCAN_H
#define EXHUNT_DETECTORS_LITSCAN_H

#include "../core/internal.h"

#include <stddef.h>
#include <stdint.h>

#define EXHI_LITSCAN_MAX_LITS 7
#define EXHI_LITSCAN_MIN_LEN 2
#define EXHI_LITSCAN_MAX_LEN 255

typedef struct exhi_litscan_lit {
  const char *bytes; /* len bytes, any values; only read during the build */
  size_t len;        /* EXHI_LITSCAN_MIN_LEN..EXHI_LITSCAN_MAX_LEN */
  int caseless;      /* non-zero: ASCII letters match in either case */
  unsigned id;       /* what the callback is given for this literal */
} exhi_litscan_lit;

typedef struct exhi_litscan exhi_litscan;

/* Called once per match; end is one past its last byte, nl the '\n' bytes
 * before its last byte (the line it ends on starts after that many). A
 * non-zero return stops the scan, which returns that value. */
typedef int (*exhi_litscan_cb)(void *ctx, unsigned id, size_t end, size_t nl);

/* Builds a scanner for lits[0..n) and, when line_hash is non-zero, for "a
 * '#' at offset 0 or right after a '\n'" reported as line_hash_id with end
 * = its offset + 1. sample (may be NULL) is data like what will be scanned,
 * e.g. the first 64 KiB of a log: each literal's fingerprint is its pair of
 * adjacent bytes least frequent there (without one, a fixed guess of what
 * is rare in web logs). On success *out is the caller's (exhi_litscan_free).
 * Errors: EXH_ERR_LIMIT for more than EXHI_LITSCAN_MAX_LITS literals or one
 * longer than EXHI_LITSCAN_MAX_LEN, EXH_ERR_INVALID for one shorter than
 * EXHI_LITSCAN_MIN_LEN or without bytes, EXH_ERR_NOMEM; the caller then
 * uses vectorscan as before. */
int exhi_litscan_build(const exhi_litscan_lit *lits, size_t n, int line_hash,
                       unsigned line_hash_id, const char *sample, size_t sample_len,
                       exhi_litscan **out, exh_error *err);
void exhi_litscan_free(exhi_litscan *ls);

/* Scans p[0..n) (never reading outside it), calling cb for every match in
 * non-decreasing end order, and stores the number of '\n' bytes in p[0..n)
 * in *newlines (may be NULL). Returns 0, or the callback's non-zero return
 * that stopped it (*newlines is then not meaningful). A match must lie
 * wholly inside p[0..n): as with hs_scan, a piece's edges cut matches. */
int exhi_litscan_scan(const exhi_litscan *ls, const char *p, size_t n, exhi_litscan_cb cb,
                      void *ctx, uint64_t *newlines);

/* The code paths. exhi_litscan_scan takes the fastest this CPU runs. */
enum {
  EXHI_LITSCAN_PORTABLE = 1, /* plain C, any CPU: slow, a fallback and a reference */
  EXHI_LITSCAN_AVX2 = 2,     /* AVX2 + BMI1 + POPCNT (x86-64, chosen at run time) */
  EXHI_LITSCAN_AVX512 = 4,   /* AVX-512 BW + VBMI (Ice Lake, Zen 4 and later); a
                                scanner with a fingerprint byte >= 0x80 runs AVX2 */
};
/* The paths this build and CPU can run (bits of the enum above). A caller
 * without EXHI_LITSCAN_AVX2 is better served by vectorscan. */
unsigned exhi_litscan_paths(void);
/* exhi_litscan_scan on the given path; one this CPU lacks falls back to the
 * next slower one it has. For the tests, which check every path gives the
 * same answer, and for benchmarks. */
int exhi_litscan_scan_path(const exhi_litscan *ls, unsigned path, const char *p, size_t n,
                           exhi_litscan_cb cb, void *ctx, uint64_t *newlines);

/* The offset in literal i of its fingerprint's first byte (tests, and a
 * benchmark's report of what the sample chose). */
size_t exhi_litscan_fingerprint(const exhi_litscan *ls, size_t i);

#endif
