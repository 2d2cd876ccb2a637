/* Benchmark helper for bench/litscan (not part of exhunt): the log
 * prefilter's literal scan as the hunt does it today (vectorscan with the
 * literals and "^#", then the AVX2 newline count of the same piece) against
 * src/detectors/litscan.c doing both in one pass.
 *
 * usage: bench_litscan RUNS NLITS FILE...
 *   NLITS 4: the HttpProxy prefilter's literals (ServerInfo~,
 *   VirtualDirectory#, /powershell, autodiscover.json, caseless); 1:
 *   ServerInfo~ alone (rg -F 'ServerInfo~'). "^#" in MULTILINE mode in
 *   both. The files are mapped and read once before timing (page faults are
 *   no part of either scan), then cut in pieces of at most 256 KiB ending at
 *   a line end, as the hunt cuts them. Each way (litscan on each fast path
 *   this CPU has) runs RUNS times, taking turns; prints the best GB/s of
 *   each, the ratio to vectorscan + count, and the matches and newlines,
 *   which must be equal (exit 1 if not). */
#define _GNU_SOURCE /* memrchr */
#include "detectors/litscan.h"

#include <fcntl.h>
#include <hs/hs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PIECE ((size_t)256 << 10)

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

typedef struct piece {
  const char *p;
  size_t n;
} piece;

static piece *pieces;
static size_t n_pieces;
static uint64_t total_bytes;

/* Pieces of at most PIECE bytes, each ending after a '\n' when one is in it. */
static void cut(const char *p, size_t n) {
  size_t off = 0;
  while (off < n) {
    size_t len = n - off;
    if (len > PIECE) {
      const char *nl = memrchr(p + off, '\n', PIECE);
      len = nl ? (size_t)(nl - (p + off)) + 1 : PIECE;
    }
    pieces = realloc(pieces, (n_pieces + 1) * sizeof *pieces);
    if (!pieces) exit(2);
    pieces[n_pieces].p = p + off;
    pieces[n_pieces].n = len;
    n_pieces++;
    off += len;
  }
}

static int count_hs(unsigned id, unsigned long long from, unsigned long long to, unsigned flags,
                    void *ctx) {
  (void)id, (void)from, (void)to, (void)flags;
  ++*(uint64_t *)ctx;
  return 0;
}

static int count_ls(void *ctx, unsigned id, size_t end, size_t nl) {
  (void)id, (void)end, (void)nl;
  ++*(uint64_t *)ctx;
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: bench_litscan RUNS NLITS FILE...\n");
    return 2;
  }
  int runs = atoi(argv[1]), nlits = atoi(argv[2]);
  if (runs < 1 || (nlits != 1 && nlits != 4)) {
    fprintf(stderr, "bench_litscan: RUNS >= 1, NLITS 1 or 4\n");
    return 2;
  }
  const char *sample = NULL;
  size_t sample_len = 0;
  for (int a = 3; a < argc; a++) {
    int fd = open(argv[a], O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
      perror(argv[a]);
      return 2;
    }
    if (st.st_size == 0) {
      close(fd);
      continue;
    }
    const char *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    close(fd);
    if (p == MAP_FAILED) {
      perror(argv[a]);
      return 2;
    }
    if (!sample) sample = p, sample_len = (size_t)st.st_size < 65536 ? (size_t)st.st_size : 65536;
    cut(p, (size_t)st.st_size);
    total_bytes += (uint64_t)st.st_size;
  }

  static const char *const lits[] = {"ServerInfo~", "VirtualDirectory#", "/powershell",
                                     "autodiscover.json"};
  const char *exprs[5];
  unsigned flags[5], ids[5];
  exhi_litscan_lit ll[4];
  for (int i = 0; i < nlits; i++) {
    /* Every byte of these literals is literal in a vectorscan pattern but
     * '#' and '.', escaped. */
    static char esc[4][64];
    size_t k = 0;
    for (const char *c = lits[i]; *c; c++) {
      if (*c == '.' || *c == '#' || *c == '/') esc[i][k++] = '\\';
      esc[i][k++] = *c;
    }
    esc[i][k] = '\0';
    exprs[i] = esc[i];
    flags[i] = HS_FLAG_CASELESS;
    ids[i] = (unsigned)i + 1;
    ll[i] = (exhi_litscan_lit){lits[i], strlen(lits[i]), 1, (unsigned)i + 1};
  }
  exprs[nlits] = "^#";
  flags[nlits] = HS_FLAG_MULTILINE;
  ids[nlits] = 0;
  hs_database_t *db = NULL;
  hs_compile_error_t *ce = NULL;
  hs_scratch_t *scratch = NULL;
  if (hs_compile_multi(exprs, flags, ids, (unsigned)nlits + 1, HS_MODE_BLOCK, NULL, &db, &ce) !=
          HS_SUCCESS ||
      hs_alloc_scratch(db, &scratch) != HS_SUCCESS) {
    fprintf(stderr, "bench_litscan: vectorscan: %s\n", ce ? ce->message : "scratch");
    return 2;
  }
  exhi_litscan *ls = NULL;
  exh_error err = {0};
  if (exhi_litscan_build(ll, (size_t)nlits, 1, 0, sample, sample_len, &ls, &err)) {
    fprintf(stderr, "bench_litscan: %s\n", err.text);
    return 2;
  }
  if (!(exhi_litscan_paths() & EXHI_LITSCAN_AVX2)) {
    fprintf(stderr, "bench_litscan: no AVX2 on this CPU: litscan would run its plain C path\n");
    return 2;
  }

  /* The fast paths this CPU has, each timed. */
  unsigned paths[2], n_paths = 0;
  const char *path_name[2];
  if (exhi_litscan_paths() & EXHI_LITSCAN_AVX2)
    path_name[n_paths] = "AVX2", paths[n_paths++] = EXHI_LITSCAN_AVX2;
  if (exhi_litscan_paths() & EXHI_LITSCAN_AVX512)
    path_name[n_paths] = "AVX-512", paths[n_paths++] = EXHI_LITSCAN_AVX512;
  double best_hs = 1e9, best_ls[2] = {1e9, 1e9}, best_vs = 1e9, best_nl = 1e9;
  uint64_t m_hs = 0, nl_hs = 0, m_ls[2] = {0, 0}, nl_ls[2] = {0, 0}, sink = 0;
  for (int r = 0; r < runs; r++) {
    m_hs = nl_hs = 0;
    double t = now();
    for (size_t i = 0; i < n_pieces; i++) {
      if (hs_scan(db, pieces[i].p, (unsigned)pieces[i].n, 0, scratch, count_hs, &m_hs) !=
          HS_SUCCESS)
        return 2;
      nl_hs += exhi_count_newlines(pieces[i].p, pieces[i].n);
    }
    t = now() - t;
    if (t < best_hs) best_hs = t;

    /* Its two parts alone: where the time goes, and the newline count alone
     * is about the floor set by reading the bytes from memory. */
    t = now();
    for (size_t i = 0; i < n_pieces; i++)
      if (hs_scan(db, pieces[i].p, (unsigned)pieces[i].n, 0, scratch, count_hs, &sink) !=
          HS_SUCCESS)
        return 2;
    t = now() - t;
    if (t < best_vs) best_vs = t;
    t = now();
    for (size_t i = 0; i < n_pieces; i++) sink += exhi_count_newlines(pieces[i].p, pieces[i].n);
    t = now() - t;
    if (t < best_nl) best_nl = t;

    for (unsigned w = 0; w < n_paths; w++) {
      m_ls[w] = nl_ls[w] = 0;
      t = now();
      for (size_t i = 0; i < n_pieces; i++) {
        uint64_t nl = 0;
        if (exhi_litscan_scan_path(ls, paths[w], pieces[i].p, pieces[i].n, count_ls, &m_ls[w], &nl))
          return 2;
        nl_ls[w] += nl;
      }
      t = now() - t;
      if (t < best_ls[w]) best_ls[w] = t;
    }
  }
  int same = 1;
  printf("  %d literal%s + ^#, %.0f MB in %zu pieces, best of %d:\n", nlits, nlits > 1 ? "s" : "",
         (double)total_bytes / 1e6, n_pieces, runs);
  printf("    vectorscan + newline count        %6.2f GB/s  (%.1f ms)\n", (double)total_bytes / best_hs / 1e9,
         best_hs * 1e3);
  printf("      (vectorscan alone %.2f GB/s, %.1f ms; newline count alone %.2f GB/s, %.1f ms)\n",
         (double)total_bytes / best_vs / 1e9, best_vs * 1e3, (double)total_bytes / best_nl / 1e9,
         best_nl * 1e3);
  for (unsigned w = 0; w < n_paths; w++) {
    printf("    litscan %-7s (one pass)  %6.2f GB/s  (%.1f ms)  %.2fx\n", path_name[w],
           (double)total_bytes / best_ls[w] / 1e9, best_ls[w] * 1e3, best_hs / best_ls[w]);
    printf("      matches %llu / %llu, newlines %llu / %llu: %s\n", (unsigned long long)m_hs,
           (unsigned long long)m_ls[w], (unsigned long long)nl_hs, (unsigned long long)nl_ls[w],
           m_hs == m_ls[w] && nl_hs == nl_ls[w] ? "equal" : "DIFFERENT");
    same &= m_hs == m_ls[w] && nl_hs == nl_ls[w];
  }
  for (int i = 0; i < nlits; i++)
    printf("    fingerprint of %-18s at offset %zu\n", lits[i], exhi_litscan_fingerprint(ls, (size_t)i));
  exhi_litscan_free(ls);
  hs_free_scratch(scratch);
  hs_free_database(db);
  if (sink == 42) printf("\n"); /* keeps the parts' loops */
  return same ? 0 : 1;
}
