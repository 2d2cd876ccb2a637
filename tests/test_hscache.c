/* The compiled-database cache's eviction (src/detectors/hscache.c): the
 * least recently used files go beyond the size cap, files unused for 30
 * days go, a load marks a file used, stale .tmp files go, and nothing but
 * the cache's own regular files directly in its folder is ever removed.
 * Two processes filling one cache at once stay correct. */
#define _GNU_SOURCE
#include "detectors/hscache.h"
#include "t.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char root[] = "/tmp/exhunt-hscache-XXXXXX";
static char hs[4200]; /* root/cache/exhunt/hs */

#define DAY (24 * 3600)

/* Compiles (or loads) the one-expression database number i; the path of
 * its cache file in name (found as the file that appeared or was loaded:
 * the counters say which). Returns 0 on success. */
static int compile_n(unsigned i) {
  char expr[64];
  /* The same length for every i: the files have the same size. */
  snprintf(expr, sizeof expr, "exhunt-cache-test-%06u", i);
  const char *e[] = {expr};
  unsigned flags[] = {0}, ids[] = {1};
  hs_database_t *db = NULL;
  hs_compile_error_t *ce = NULL;
  if (exhi_hs_compile_cached(e, flags, ids, 1, &db, &ce) != HS_SUCCESS) {
    hs_free_compile_error(ce);
    return -1;
  }
  hs_free_database(db);
  return 0;
}

/* The cache files (NAME.db) in hs, in names (up to max), sorted. */
static size_t list(char names[][64], size_t max, uint64_t *total) {
  DIR *d = opendir(hs);
  size_t n = 0;
  if (total) *total = 0;
  if (!d) return 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    if (n < max) snprintf(names[n], 64, "%s", e->d_name);
    n++;
    struct stat st;
    char p[4400];
    snprintf(p, sizeof p, "%s/%s", hs, e->d_name);
    if (total && lstat(p, &st) == 0) *total += (uint64_t)st.st_size;
  }
  closedir(d);
  return n;
}

/* The file compile_n(i) wrote: the one name new since before. */
static void newest(char *out, size_t size, char before[][64], size_t nb) {
  char now[64][64];
  size_t n = list(now, 64, NULL);
  out[0] = '\0';
  for (size_t i = 0; i < n && i < 64; i++) {
    int seen = 0;
    for (size_t j = 0; j < nb; j++) seen |= !strcmp(now[i], before[j]);
    if (!seen) snprintf(out, size, "%s", now[i]);
  }
}

static int exists(const char *name) {
  char p[4400];
  struct stat st;
  snprintf(p, sizeof p, "%s/%s", hs, name);
  return lstat(p, &st) == 0;
}

static void set_age(const char *name, time_t age) {
  char p[4400];
  snprintf(p, sizeof p, "%s/%s", hs, name);
  struct timespec ts[2] = {{time(NULL) - age, 0}, {time(NULL) - age, 0}};
  if (utimensat(AT_FDCWD, p, ts, AT_SYMLINK_NOFOLLOW) != 0) perror(p);
}

static time_t age_of(const char *name) {
  char p[4400];
  struct stat st;
  snprintf(p, sizeof p, "%s/%s", hs, name);
  if (lstat(p, &st) != 0) return -1;
  return time(NULL) - st.st_mtime;
}

/* Compiles database i and returns the name of the file it added. */
static void add(unsigned i, char *name) {
  char before[64][64];
  size_t nb = list(before, 64, NULL);
  CHECK_INT(compile_n(i), 0);
  newest(name, 64, before, nb < 64 ? nb : 64);
  CHECK(name[0] != '\0');
}

static void clear(void) {
  char names[256][64];
  size_t n = list(names, 256, NULL);
  for (size_t i = 0; i < n && i < 256; i++) {
    char p[4400];
    snprintf(p, sizeof p, "%s/%s", hs, names[i]);
    if (unlink(p) != 0) rmdir(p);
  }
}

/* The least recently used go first; a load makes a file recent. */
static void test_lru(void) {
  clear();
  setenv("EXHUNT_CACHE_MAX", "1G", 1);
  char a[64], b[64], c[64], d[64];
  add(1, a);
  uint64_t size;
  list((char(*)[64])d, 1, &size); /* one file: its size */
  add(2, b);
  add(3, c);
  set_age(a, 2 * DAY); /* used two days ago: stale for the touch */
  set_age(b, 3 * 3600);
  set_age(c, 2 * 3600);
  exhi_hs_cache_counts k0, k1;
  exhi_hs_cache_get_counts(&k0);
  CHECK_INT(compile_n(1), 0); /* loads a: now the most recent */
  exhi_hs_cache_get_counts(&k1);
  CHECK_INT(k1.loaded - k0.loaded, 1);
  CHECK_INT(k1.compiled - k0.compiled, 0);
  CHECK(age_of(a) < 60);
  /* Loading a file used an hour ago does not write to it again. */
  set_age(c, 3600 + 2);
  CHECK_INT(compile_n(3), 0);
  CHECK(age_of(c) >= 3600);
  set_age(c, 2 * 3600);
  /* Room for three and a half: a fourth file evicts the oldest, b. */
  char cap[32];
  snprintf(cap, sizeof cap, "%llu", (unsigned long long)(size * 7 / 2));
  setenv("EXHUNT_CACHE_MAX", cap, 1);
  add(4, d);
  CHECK(exists(a));
  CHECK(!exists(b));
  CHECK(exists(c));
  CHECK(exists(d));
  exhi_hs_cache_get_counts(&k0);
  CHECK_INT(k0.evicted - k1.evicted, 1);
  /* Under the cap nothing goes. */
  setenv("EXHUNT_CACHE_MAX", "1M", 1);
  char e[64];
  add(5, e);
  CHECK(exists(a) && exists(c) && exists(d) && exists(e));
  /* A cap of 0 keeps the file just written only. */
  setenv("EXHUNT_CACHE_MAX", "0", 1);
  char f[64];
  add(6, f);
  CHECK(exists(f));
  CHECK(!exists(a) && !exists(c) && !exists(d) && !exists(e));
  /* A cap that is not a size is the default (256 MiB): nothing goes. */
  setenv("EXHUNT_CACHE_MAX", "lots", 1);
  char g[64];
  add(7, g);
  CHECK(exists(f) && exists(g));
  setenv("EXHUNT_CACHE_MAX", "12X", 1);
  char h[64];
  add(8, h);
  CHECK(exists(f) && exists(g) && exists(h));
  setenv("EXHUNT_CACHE_MAX", " -1", 1); /* not a huge cap either */
  char i9[64];
  add(9, i9);
  CHECK(exists(f) && exists(g) && exists(h) && exists(i9));
  /* A cap with a unit: 1K is below any one of these files, so only the
   * new one stays. */
  setenv("EXHUNT_CACHE_MAX", "1K", 1);
  char j[64];
  add(10, j);
  CHECK(exists(j));
  CHECK(!exists(f) && !exists(g) && !exists(h) && !exists(i9));
}

/* Unused for 30 days: gone whatever the cap; 29 days: kept. */
static void test_age(void) {
  clear();
  setenv("EXHUNT_CACHE_MAX", "1G", 1);
  char a[64], b[64], c[64];
  add(11, a);
  add(12, b);
  set_age(a, 31 * DAY);
  set_age(b, 29 * DAY);
  add(13, c);
  CHECK(!exists(a));
  CHECK(exists(b));
  CHECK(exists(c));
}

static void write_file(const char *path, size_t size, time_t age) {
  FILE *fp = fopen(path, "w");
  if (!fp) {
    perror(path);
    return;
  }
  for (size_t i = 0; i < size; i++) fputc('x', fp);
  fclose(fp);
  struct timespec ts[2] = {{time(NULL) - age, 0}, {time(NULL) - age, 0}};
  utimensat(AT_FDCWD, path, ts, 0);
}

/* Only the cache's own regular files go: not other names, not what a
 * symlink points to, not folders, not a .tmp being written. */
static void test_only_ours(void) {
  clear();
  char p[4400], outside[4400];
  snprintf(outside, sizeof outside, "%s/outside.db", root);
  write_file(outside, 4096, 60 * DAY);
  snprintf(p, sizeof p, "%s/0123456789abcdef.db", hs); /* a cache name, a symlink */
  CHECK_INT(symlink(outside, p), 0);
  snprintf(p, sizeof p, "%s/notes.txt", hs);
  write_file(p, 100000, 60 * DAY);
  snprintf(p, sizeof p, "%s/0123456789ABCDEF.db", hs); /* upper case: not a name we write */
  write_file(p, 100000, 60 * DAY);
  snprintf(p, sizeof p, "%s/fedcba9876543210.db", hs);
  CHECK_INT(mkdir(p, 0700), 0);
  snprintf(p, sizeof p, "%s/00000000000000aa.db.123.0.tmp", hs); /* a dead run's */
  write_file(p, 100, 2 * 3600);
  snprintf(p, sizeof p, "%s/00000000000000bb.db.124.0.tmp", hs); /* being written */
  write_file(p, 100, 10);
  setenv("EXHUNT_CACHE_MAX", "0", 1);
  char a[64], b[64];
  add(21, a);
  add(22, b);
  CHECK(!exists(a));
  CHECK(exists(b));
  CHECK(exists("0123456789abcdef.db"));
  CHECK(access(outside, F_OK) == 0);
  CHECK(exists("notes.txt"));
  CHECK(exists("0123456789ABCDEF.db"));
  CHECK(exists("fedcba9876543210.db"));
  CHECK(!exists("00000000000000aa.db.123.0.tmp"));
  CHECK(exists("00000000000000bb.db.124.0.tmp"));
  clear();
}

/* A cache folder that is a symlink is not used, so not trimmed: what it
 * points to may be anything. */
static void test_symlinked_folder(void) {
  char base[4400], elsewhere[4400], p[4400];
  snprintf(base, sizeof base, "%s/other", root);
  snprintf(elsewhere, sizeof elsewhere, "%s/elsewhere", root);
  CHECK_INT(mkdir(base, 0700), 0);
  CHECK_INT(mkdir(elsewhere, 0700), 0);
  snprintf(p, sizeof p, "%s/exhunt", base);
  CHECK_INT(mkdir(p, 0700), 0);
  snprintf(p, sizeof p, "%s/exhunt/hs", base);
  CHECK_INT(symlink(elsewhere, p), 0);
  char victim[4400];
  snprintf(victim, sizeof victim, "%s/00000000000000cc.db", elsewhere);
  write_file(victim, 100, 60 * DAY);
  setenv("XDG_CACHE_HOME", base, 1);
  setenv("EXHUNT_CACHE_MAX", "0", 1);
  exhi_hs_cache_counts k0, k1;
  exhi_hs_cache_get_counts(&k0);
  CHECK_INT(compile_n(31), 0);
  exhi_hs_cache_get_counts(&k1);
  CHECK(access(victim, F_OK) == 0);
  CHECK_INT(k1.stored - k0.stored, 0); /* no cache there at all */
  DIR *d = opendir(elsewhere);
  size_t n = 0;
  for (struct dirent *e; d && (e = readdir(d));) n += e->d_name[0] != '.';
  if (d) closedir(d);
  CHECK_INT(n, 1);
  char cache[4400];
  snprintf(cache, sizeof cache, "%s/cache", root);
  setenv("XDG_CACHE_HOME", cache, 1);
}

/* Two processes compiling different sets into one small cache: every
 * compile works, no .tmp is left, the cap holds up to what the other
 * process wrote after the last trim. */
static void test_two_processes(void) {
  clear();
  char a[64];
  add(40, a);
  uint64_t size;
  list((char(*)[64])a, 1, &size);
  clear();
  char cap[32];
  snprintf(cap, sizeof cap, "%llu", (unsigned long long)(size * 5));
  setenv("EXHUNT_CACHE_MAX", cap, 1);
  pid_t kids[2];
  for (int k = 0; k < 2; k++) {
    kids[k] = fork();
    if (kids[k] == 0) {
      int bad = 0;
      for (unsigned i = 0; i < 40; i++) {
        bad |= compile_n(1000 + 1000 * (unsigned)k + i) != 0;
        bad |= compile_n(1000 + 1000 * (unsigned)k + i / 2) != 0; /* a load, often */
        bad |= compile_n(5000 + i % 3) != 0; /* the same files in both */
      }
      _exit(bad);
    }
  }
  for (int k = 0; k < 2; k++) {
    int st = 0;
    CHECK(waitpid(kids[k], &st, 0) == kids[k]);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  }
  char names[256][64];
  uint64_t total;
  size_t n = list(names, 256, &total);
  CHECK(n >= 1);
  CHECK(total <= size * 7);
  for (size_t i = 0; i < n && i < 256; i++) CHECK(strstr(names[i], ".tmp") == NULL);
  /* Whatever is left loads as what it was stored for. */
  CHECK_INT(compile_n(5000), 0);
}

static void rm_tree(const char *path) {
  char cmd[4500];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", path);
}

int main(void) {
  if (!mkdtemp(root)) {
    perror("mkdtemp");
    return 1;
  }
  char cache[4400];
  snprintf(cache, sizeof cache, "%s/cache", root);
  snprintf(hs, sizeof hs, "%s/exhunt/hs", cache);
  setenv("XDG_CACHE_HOME", cache, 1);
  unsetenv("EXHUNT_NO_CACHE");
  unsetenv("EXHUNT_CACHE_TRACE");
  CHECK_INT(compile_n(0), 0); /* creates the folder */
  test_lru();
  test_age();
  test_only_ours();
  test_symlinked_folder();
  test_two_processes();
  rm_tree(root);
  return t_done("hscache");
}
