/* The litscan scanner against vectorscan, the reference it replaces: the
 * same literals compiled by hs_compile_multi (each byte as \xHH,
 * HS_FLAG_CASELESS where caseless, "^#" in HS_FLAG_MULTILINE mode), the same
 * bytes scanned by both. Shared by tests/test_litscan.c and
 * fuzz/fuzz_litscan.c. */
#ifndef EXHUNT_TESTS_LITSCAN_DIFF_H
#define EXHUNT_TESTS_LITSCAN_DIFF_H

#include "detectors/litscan.h"

#include <hs/hs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct ls_match {
  unsigned id;
  size_t end;
  size_t nl; /* litscan's count of '\n' before the last byte; SIZE_MAX from vectorscan */
} ls_match;

typedef struct ls_list {
  ls_match *m;
  size_t n, cap;
  int out_of_order; /* an end smaller than the one before */
  int oom;
} ls_list;

static int ls_add(ls_list *l, unsigned id, size_t end, size_t nl) {
  if (l->n && end < l->m[l->n - 1].end) l->out_of_order = 1;
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 64;
    ls_match *q = realloc(l->m, cap * sizeof *q);
    if (!q) {
      l->oom = 1;
      return 1;
    }
    l->m = q;
    l->cap = cap;
  }
  l->m[l->n].id = id;
  l->m[l->n].end = end;
  l->m[l->n].nl = nl;
  l->n++;
  return 0;
}

static int ls_on_match(void *ctx, unsigned id, size_t end, size_t nl) {
  return ls_add(ctx, id, end, nl);
}

static int ls_on_hs(unsigned id, unsigned long long from, unsigned long long to, unsigned flags,
                    void *ctx) {
  (void)from, (void)flags;
  return ls_add(ctx, id, (size_t)to, SIZE_MAX);
}

static int ls_cmp(const void *a, const void *b) {
  const ls_match *x = a, *y = b;
  if (x->end != y->end) return x->end < y->end ? -1 : 1;
  return x->id < y->id ? -1 : x->id > y->id;
}

/* The reference database for lits[0..n) (+ "^#" as hash_id when hash);
 * NULL when vectorscan refuses it (message on stderr). */
static hs_database_t *ls_ref_compile(const exhi_litscan_lit *lits, size_t n, int hash,
                                     unsigned hash_id) {
  char *exprs[EXHI_LITSCAN_MAX_LITS + 1];
  unsigned flags[EXHI_LITSCAN_MAX_LITS + 1], ids[EXHI_LITSCAN_MAX_LITS + 1];
  size_t m = 0;
  for (size_t i = 0; i < n; i++, m++) {
    exprs[m] = malloc(lits[i].len * 4 + 1);
    if (!exprs[m]) return NULL;
    for (size_t j = 0; j < lits[i].len; j++)
      snprintf(exprs[m] + 4 * j, 5, "\\x%02x", (unsigned char)lits[i].bytes[j]);
    flags[m] = lits[i].caseless ? HS_FLAG_CASELESS : 0;
    ids[m] = lits[i].id;
  }
  static char hash_expr[] = "^#";
  if (hash) {
    exprs[m] = hash_expr;
    flags[m] = HS_FLAG_MULTILINE;
    ids[m] = hash_id;
    m++;
  }
  hs_database_t *db = NULL;
  hs_compile_error_t *ce = NULL;
  if (hs_compile_multi((const char *const *)exprs, flags, ids, (unsigned)m, HS_MODE_BLOCK, NULL,
                       &db, &ce) != HS_SUCCESS) {
    fprintf(stderr, "ls_ref_compile: %s\n", ce ? ce->message : "?");
    hs_free_compile_error(ce);
    db = NULL;
  }
  for (size_t i = 0; i < n; i++) free(exprs[i]);
  return db;
}

/* Matches vectorscan missed on the bare buffer but found on the padded one
 * (see ls_diff), over all calls. */
static unsigned long ls_vs_tail_misses;

#define LS_PAD 256

/* NULL when litscan on path finds in p[0..n) what vectorscan finds, in end
 * order, and counts the newlines right; else what differed. p must hold
 * exactly n bytes (a malloc of n under ASan catches any read past them).
 * hash, hash_id: whether db has "^#", as what id (unused: kept for callers).
 *
 * vectorscan 5.4.9 (Debian 12) misses matches that end in the last bytes of
 * the scanned buffer when a database has two or more patterns: e.g. "b#"
 * beside "a#" ending 1 to 23 bytes before the end of a 1000-byte buffer,
 * "ServerInfo~" beside the HttpProxy prefilter's other literals ending 10 to
 * 14 bytes before it, "^#" beside a literal when "\n#" ends a 19- to
 * 65-byte buffer. So the reference is vectorscan on a copy of p followed by
 * LS_PAD zero bytes, keeping the matches that end by n: these depend on
 * p[0..n) alone (no pattern looks ahead), and the blind spot falls in the
 * padding. What the bare scan missed is counted in ls_vs_tail_misses. */
static const char *ls_diff(const exhi_litscan *ls, const hs_database_t *db, hs_scratch_t *scratch,
                           const char *p, size_t n, unsigned path, int hash, unsigned hash_id) {
  (void)hash, (void)hash_id;
  static char why[256];
  ls_list ref = {0}, got = {0}, bare = {0};
  const char *bad = NULL;
  uint64_t nl = ~(uint64_t)0, want_nl = 0;
  for (size_t i = 0; i < n; i++) want_nl += p[i] == '\n';
  char *padded = calloc(1, n + LS_PAD);
  if (!padded) {
    bad = "out of memory";
    goto out;
  }
  if (n) memcpy(padded, p, n);
  if (hs_scan(db, padded, (unsigned)(n + LS_PAD), 0, scratch, ls_on_hs, &ref) != HS_SUCCESS ||
      ref.oom ||
      hs_scan(db, n ? p : "", (unsigned)n, 0, scratch, ls_on_hs, &bare) != HS_SUCCESS || bare.oom) {
    bad = "hs_scan failed";
    goto out;
  }
  size_t kept = 0;
  for (size_t i = 0; i < ref.n; i++)
    if (ref.m[i].end <= n) ref.m[kept++] = ref.m[i];
  ref.n = kept;
  if (ref.n > bare.n) ls_vs_tail_misses += ref.n - bare.n;
  int rc = exhi_litscan_scan_path(ls, path, p, n, ls_on_match, &got, &nl);
  if (rc || got.oom) {
    bad = "litscan stopped";
    goto out;
  }
  if (got.out_of_order) {
    bad = "litscan's matches not in end order";
    goto out;
  }
  /* Each match's count of the '\n's before its last byte. */
  for (size_t i = 0, at = 0, seen = 0; i < got.n; i++) {
    size_t last = got.m[i].end ? got.m[i].end - 1 : 0;
    if (last < at) at = seen = 0; /* ends are in order; recount if not */
    for (; at < last; at++) seen += p[at] == '\n';
    if (got.m[i].nl != seen) {
      snprintf(why, sizeof why, "path %u: match id %u end %zu: %zu newlines before it, said %zu",
               path, got.m[i].id, got.m[i].end, seen, got.m[i].nl);
      bad = why;
      goto out;
    }
  }
  if (nl != want_nl) {
    snprintf(why, sizeof why, "newlines: %llu, expected %llu", (unsigned long long)nl,
             (unsigned long long)want_nl);
    bad = why;
    goto out;
  }
  if (ref.n > 1) qsort(ref.m, ref.n, sizeof *ref.m, ls_cmp);
  if (got.n > 1) qsort(got.m, got.n, sizeof *got.m, ls_cmp);
  for (size_t i = 0; i < ref.n || i < got.n; i++) {
    if (i < ref.n && i < got.n && !ls_cmp(&ref.m[i], &got.m[i])) continue;
    if (i < ref.n && (i >= got.n || ls_cmp(&ref.m[i], &got.m[i]) < 0))
      snprintf(why, sizeof why, "path %u: missed id %u end %zu (%zu matches, %zu expected)", path,
               ref.m[i].id, ref.m[i].end, got.n, ref.n);
    else
      snprintf(why, sizeof why, "path %u: extra id %u end %zu (%zu matches, %zu expected)", path,
               got.m[i].id, got.m[i].end, got.n, ref.n);
    bad = why;
    break;
  }
out:
  free(padded);
  free(ref.m);
  free(bare.m);
  free(got.m);
  return bad;
}

#endif
