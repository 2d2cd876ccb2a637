/* Benchmark helper for bench/ioc-prefilter (not part of exhunt): does
 * compiling the indicators' literal prefilter as K smaller vectorscan
 * databases, in K threads, cost less than one database, and what does it
 * cost the hunts, which must then scan every block K times?
 *
 * usage: prefilter_split N K FLAGS LOGFILE
 *   N literals in the mix of bench/logs-ioc (half IPv4 addresses, a quarter
 *   user agents, a quarter web shell file names, case-blind), split into K
 *   databases compiled in parallel; FLAGS added to every literal's flags
 *   (e.g. 8 = HS_FLAG_SINGLEMATCH); the first 64 MiB of LOGFILE scanned
 *   with each database. Prints compile seconds, total database size, scan
 *   seconds and the number of matches (equal for every K: same results). */
#define _GNU_SOURCE /* strndup */
#include <hs/hs.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_PARTS 16
#define SCAN_MAX ((size_t)64 << 20)

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static char **exprs;
static size_t *lens;
static unsigned *flags, *ids;

typedef struct part {
  unsigned lo, hi;
  hs_database_t *db;
  int failed;
} part;

static void *compile_part(void *p) {
  part *j = p;
  hs_compile_error_t *ce = NULL;
  if (hs_compile_lit_multi((const char *const *)exprs + j->lo, flags + j->lo, ids + j->lo,
                           lens + j->lo, j->hi - j->lo, HS_MODE_BLOCK, NULL, &j->db,
                           &ce) != HS_SUCCESS) {
    fprintf(stderr, "compile: %s\n", ce ? ce->message : "?");
    hs_free_compile_error(ce);
    j->failed = 1;
  }
  return NULL;
}

static int on_match(unsigned id, unsigned long long from, unsigned long long to, unsigned fl,
                    void *ctx) {
  (void)id, (void)from, (void)to, (void)fl;
  ++*(unsigned long *)ctx;
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: prefilter_split N K FLAGS LOGFILE\n");
    return 2;
  }
  unsigned n = (unsigned)strtoul(argv[1], NULL, 10);
  int k = atoi(argv[2]);
  unsigned extra = (unsigned)strtoul(argv[3], NULL, 10);
  if (!n || k < 1 || k > MAX_PARTS) return 2;
  exprs = calloc(n, sizeof *exprs);
  lens = calloc(n, sizeof *lens);
  flags = calloc(n, sizeof *flags);
  ids = calloc(n, sizeof *ids);
  if (!exprs || !lens || !flags || !ids) return 2;
  FILE *fp = fopen(argv[4], "rb");
  if (!fp) {
    perror(argv[4]);
    return 2;
  }
  char *buf = malloc(SCAN_MAX);
  size_t len = buf ? fread(buf, 1, SCAN_MAX, fp) : 0;
  fclose(fp);
  srand(7);
  for (unsigned i = 0; i < n; i++) {
    char b[128];
    switch (i % 4) {
    case 0:
    case 1:
      snprintf(b, sizeof b, "100.%d.%d.%d", 64 + rand() % 64, rand() % 256, 1 + rand() % 254);
      flags[i] = extra;
      break;
    case 2:
      snprintf(b, sizeof b, "BenchTool/%u.%d (noise)", i, rand() % 100);
      flags[i] = extra;
      break;
    default:
      snprintf(b, sizeof b, "bench%u.aspx", i);
      flags[i] = HS_FLAG_CASELESS | extra;
    }
    /* Some text of the log itself, so that there are matches to count. */
    if (i % 9973 == 0 && len > 4096) {
      size_t at = (size_t)rand() % (len - 64);
      size_t l = 0;
      while (l < 24 && buf[at + l] != '\n' && buf[at + l] != '\r') l++;
      if (l >= 12) {
        memcpy(b, buf + at, l);
        b[l] = '\0';
        flags[i] = extra;
      }
    }
    exprs[i] = strndup(b, sizeof b);
    lens[i] = strlen(exprs[i]);
    ids[i] = i;
  }
  part parts[MAX_PARTS];
  pthread_t th[MAX_PARTS];
  double t = now();
  for (int p = 0; p < k; p++) {
    parts[p] = (part){(unsigned)((unsigned long long)n * (unsigned)p / (unsigned)k),
                      (unsigned)((unsigned long long)n * (unsigned)(p + 1) / (unsigned)k), NULL, 0};
    pthread_create(&th[p], NULL, compile_part, &parts[p]);
  }
  size_t total = 0;
  for (int p = 0; p < k; p++) {
    pthread_join(th[p], NULL);
    if (parts[p].failed) return 1;
    size_t s = 0;
    hs_database_size(parts[p].db, &s);
    total += s;
  }
  double t_compile = now() - t;
  unsigned long hits = 0;
  t = now();
  for (int p = 0; p < k; p++) {
    hs_scratch_t *sc = NULL;
    if (hs_alloc_scratch(parts[p].db, &sc) != HS_SUCCESS) return 1;
    hs_scan(parts[p].db, buf, (unsigned)len, 0, sc, on_match, &hits);
    hs_free_scratch(sc);
    hs_free_database(parts[p].db);
  }
  double t_scan = now() - t;
  printf("%7u literals  %2d part(s)  flags+%u  compile %6.2f s  %5.1f MB  scan %4.0f MB %6.3f s"
         "  matches %lu\n",
         n, k, extra, t_compile, (double)total / 1e6, (double)len / 1e6, t_scan, hits);
  for (unsigned i = 0; i < n; i++) free(exprs[i]);
  free(exprs), free(lens), free(flags), free(ids), free(buf);
  return 0;
}
