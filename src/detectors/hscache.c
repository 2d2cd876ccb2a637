/* Compiled vectorscan databases kept between runs (see hscache.h). */
#define _GNU_SOURCE
#include "hscache.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* A cache file larger than this is not ours (the rule set's biggest
 * database is well under 1 MiB; the indicators' literal prefilter of
 * 100 000 values is ~9 MiB). */
#define CACHE_FILE_MAX (64u << 20)
static const char MAGIC[8] = "EXHSDB1";

/* The cache's size cap (EXHUNT_CACHE_MAX overrides it): the rule
 * databases take ~1 MiB a set, an indicator prefilter ~9-14 MiB per
 * 100 000 values, so this keeps some twenty large indicator sets, more
 * than anyone switches between, in what a laptop does not miss. */
#define CACHE_MAX_DEFAULT ((uint64_t)256 << 20)
/* A file not loaded for this long is for a rule or indicator set no
 * longer in use (each import of a changed set leaves the old one). */
#define CACHE_MAX_AGE_DAYS 30
/* A loaded file's mtime is set to now when older than this: the mtime is
 * the "last used" the eviction goes by, and once a day is precise enough
 * for a cap measured in days while costing a syscall at most daily. */
#define TOUCH_AFTER_S (24 * 3600)
/* A .tmp file this old is from a run that died while writing (a write
 * takes well under a second): removed. A younger one may be in progress. */
#define TMP_STALE_S 3600
/* Entries the eviction looks at in one pass: a bound on its memory
 * whatever was put in the folder (ours hold tens of files). */
#define EVICT_MAX_ENTRIES 4096

static atomic_ulong n_loaded, n_compiled, n_stored, n_evicted;

void exhi_hs_cache_get_counts(exhi_hs_cache_counts *c) {
  c->loaded = atomic_load(&n_loaded);
  c->compiled = atomic_load(&n_compiled);
  c->stored = atomic_load(&n_stored);
  c->evicted = atomic_load(&n_evicted);
}

/* EXHUNT_CACHE_TRACE=1: one line on stderr per cache decision, for tests
 * and for "why did that take so long". */
static int tracing(void) {
  const char *t = getenv("EXHUNT_CACHE_TRACE");
  return t && t[0] && strcmp(t, "0");
}

static const char *base_name(const char *path) {
  const char *b = strrchr(path, '/');
  return b ? b + 1 : path;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n) {
  const unsigned char *b = p;
  for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 1099511628211ull;
  return h;
}

/* The CPU, as the key names it: asked once per process. It is part of
 * every key, and asking (cpuid, which a virtual machine traps) for each of
 * the ~32 databases of a hunt was a tenth of a short run.
 *
 * vectorscan's own view of it (hs_populate_platform: a tuning family and
 * the AVX2/AVX-512/VBMI features the OS enables) lives in its compiler,
 * which a run on a warm cache does not load (core/dl_hs.h). On x86 the key
 * holds instead the cpuid words that view is derived from: the vendor,
 * leaf 1's signature (family, model) and feature words, leaf 7's feature
 * words and the register state the OS enables (XCR0), so that it changes
 * whenever vectorscan's view can. Leaf 1's EBX is left out: it holds the
 * core's APIC id, which differs between cores of one CPU. Elsewhere the
 * compiler is asked. */
static pthread_once_t platform_once = PTHREAD_ONCE_INIT;
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
static uint32_t platform[12];
static const char platform_tag[] = "\002cpuid";
static int platform_ok;

static void platform_init(void) {
  unsigned a, b, c, d;
  if (!__get_cpuid(0, &a, &b, &c, &d)) return;
  unsigned max = a;
  platform[0] = b, platform[1] = c, platform[2] = d;
  __cpuid(1, a, b, c, d);
  platform[3] = a, platform[4] = c, platform[5] = d;
  if (max >= 7) {
    __cpuid_count(7, 0, a, b, c, d);
    platform[6] = b, platform[7] = c, platform[8] = d;
  }
  if (platform[4] & bit_OSXSAVE) {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    platform[9] = lo, platform[10] = hi;
  }
  platform_ok = 1;
}
#else
static hs_platform_info_t platform;
static const char platform_tag[] = "";
static int platform_ok;

static void platform_init(void) {
  memset(&platform, 0, sizeof platform);
  platform_ok = hs_populate_platform(&platform) == HS_SUCCESS;
}
#endif

/* The key: every input of the compile, unambiguously (lengths first).
 * lens: NULL for NUL-terminated regexes, else literals of lens[i] bytes,
 * whose keys carry a mode tag after the version. The CPU follows, tagged
 * with how it was asked (platform_tag). */
static char *make_key(const char *const *exprs, const size_t *lens, const unsigned *flags,
                      const unsigned *ids, unsigned n, size_t *klen) {
  const char *ver = hs_version();
  static const char lit_tag[] = "\001literals";
  /* The CPU too: a database built for one (AVX-512 here, none under
   * valgrind) must not be loaded, or overwritten, by another. */
  if (pthread_once(&platform_once, platform_init) || !platform_ok) return NULL;
  size_t len = strlen(ver) + 1 + sizeof platform_tag + sizeof platform + sizeof n +
               (lens ? sizeof lit_tag : 0);
  for (unsigned i = 0; i < n; i++)
    len += (lens ? lens[i] + sizeof lens[i] : strlen(exprs[i]) + 1) + 2 * sizeof(unsigned);
  char *k = malloc(len);
  if (!k) return NULL;
  size_t o = 0;
  memcpy(k + o, ver, strlen(ver) + 1);
  o += strlen(ver) + 1;
  if (lens) {
    memcpy(k + o, lit_tag, sizeof lit_tag);
    o += sizeof lit_tag;
  }
  memcpy(k + o, platform_tag, sizeof platform_tag);
  o += sizeof platform_tag;
  memcpy(k + o, &platform, sizeof platform);
  o += sizeof platform;
  memcpy(k + o, &n, sizeof n);
  o += sizeof n;
  for (unsigned i = 0; i < n; i++) {
    if (lens) { /* a literal may hold any byte: its length first */
      memcpy(k + o, &lens[i], sizeof lens[i]);
      o += sizeof lens[i];
    }
    size_t l = lens ? lens[i] : strlen(exprs[i]) + 1;
    memcpy(k + o, exprs[i], l);
    o += l;
    memcpy(k + o, &flags[i], sizeof flags[i]);
    o += sizeof flags[i];
    memcpy(k + o, &ids[i], sizeof ids[i]);
    o += sizeof ids[i];
  }
  *klen = len;
  return k;
}

/* Makes path's missing folders (0700), parents first: ~/.cache may not
 * exist on a fresh account. 0 when one cannot be made. */
static int make_folders(char *path) {
  for (char *p = path + 1; *p; p++) {
    if (*p != '/') continue;
    *p = '\0';
    int bad = mkdir(path, 0700) != 0 && errno != EEXIST;
    *p = '/';
    if (bad) return 0;
  }
  return mkdir(path, 0700) == 0 || errno == EEXIST;
}

/* The folder's verdict, kept for the rest of the process: a hunt loads
 * some thirty databases, and each asked for the folder (four mkdir calls
 * and an lstat, every one of them made again). Kept per path, since the
 * environment that names it may change between calls (tests do). */
static pthread_mutex_t dir_mu = PTHREAD_MUTEX_INITIALIZER;
static char dir_known[4096]; /* the last folder judged, "" before the first */
static int dir_known_ok;

/* The cache folder, created (0700) when missing; 0 when there is none. */
static int cache_dir(char *buf, size_t size) {
  const char *off = getenv("EXHUNT_NO_CACHE");
  if (off && off[0] && strcmp(off, "0")) return 0;
  const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
  int w;
  /* XDG Base Directory spec: a relative XDG_CACHE_HOME is invalid. */
  if (xdg && xdg[0] == '/') w = snprintf(buf, size, "%s/exhunt/hs", xdg);
  else if (home && home[0] == '/') w = snprintf(buf, size, "%s/.cache/exhunt/hs", home);
  else return 0;
  if (w < 0 || (size_t)w + 32 >= size || (size_t)w >= sizeof dir_known) return 0;
  pthread_mutex_lock(&dir_mu);
  int ok;
  if (dir_known[0] && strcmp(dir_known, buf) == 0) {
    ok = dir_known_ok;
  } else {
    /* Ours, really a folder (not a symlink to one: the eviction removes
     * files in it), writable by no one else: else no cache. Made only
     * when missing, so a run on an existing cache makes no mkdir call. */
    struct stat st;
    int there = lstat(buf, &st) == 0;
    if (!there && errno == ENOENT && make_folders(buf)) there = lstat(buf, &st) == 0;
    ok = there && S_ISDIR(st.st_mode) && st.st_uid == geteuid() &&
         !(st.st_mode & (S_IWGRP | S_IWOTH));
    memcpy(dir_known, buf, (size_t)w + 1);
    dir_known_ok = ok;
  }
  pthread_mutex_unlock(&dir_mu);
  return ok;
}

static int read_all(int fd, void *dst, size_t n) {
  char *p = dst;
  while (n) {
    ssize_t r = read(fd, p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    p += r;
    n -= (size_t)r;
  }
  return 0;
}

static int write_all(int fd, const void *src, size_t n) {
  const char *p = src;
  while (n) {
    ssize_t r = write(fd, p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    p += r;
    n -= (size_t)r;
  }
  return 0;
}

/* The header before the key: magic, key length, database length. */
#define CACHE_HEADER (sizeof MAGIC + 2 * sizeof(uint64_t))

hs_database_t *exhi_hs_cache_decode(const void *bytes, size_t len, const char *key, size_t klen) {
  const unsigned char *b = bytes;
  uint64_t kl, dl;
  if (len < CACHE_HEADER || len > CACHE_FILE_MAX || memcmp(b, MAGIC, sizeof MAGIC)) return NULL;
  memcpy(&kl, b + sizeof MAGIC, sizeof kl);
  memcpy(&dl, b + sizeof MAGIC + sizeof kl, sizeof dl);
  /* Never trust a length: both must add up to the file's size (each is
   * checked alone first, so the sum cannot wrap). */
  if (kl != klen || kl > len || dl > len || (uint64_t)len != CACHE_HEADER + kl + dl) return NULL;
  if (memcmp(b + CACHE_HEADER, key, klen)) return NULL; /* another rule set under the same hash */
  const char *ser = (const char *)b + CACHE_HEADER + kl;
  size_t real = 0;
  hs_database_t *db = NULL;
  if (hs_serialized_database_size(ser, dl, &real) != HS_SUCCESS) return NULL;
  if (hs_deserialize_database(ser, dl, &db) != HS_SUCCESS) return NULL;
  return db;
}

/* One file per database: a hunt opens and reads ~38 (the same one several
 * times). Measured in a fresh process (start3): reading them costs ~0.1 ms
 * more than one mapped file holding them all would (a prototype "pack"),
 * deserialising them ~0.25-0.35 ms (vectorscan copies each into fresh
 * memory and checks its CRC), building their keys ~0.1 ms, of a ~2.8 ms
 * `logs` on an empty folder: not worth a second file format and its rules
 * for concurrent writers.
 *
 * The database stored at path under key, or NULL. Only a file of our own
 * that no one else may write is read: a database is code for vectorscan's
 * engine, checked by it only against accidents (a CRC), not against a
 * planted one. */
static hs_database_t *load(const char *path, const char *key, size_t klen) {
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return NULL;
  hs_database_t *db = NULL;
  char *buf = NULL;
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
      (st.st_mode & (S_IWGRP | S_IWOTH)) || (uint64_t)st.st_size > CACHE_FILE_MAX ||
      st.st_size < (off_t)CACHE_HEADER)
    goto out;
  if (!(buf = malloc((size_t)st.st_size)) || read_all(fd, buf, (size_t)st.st_size)) goto out;
  db = exhi_hs_cache_decode(buf, (size_t)st.st_size, key, klen);
  /* Used: the eviction keeps recently used files. Failing to touch only
   * makes the file look older. */
  if (db && st.st_mtime < time(NULL) - TOUCH_AFTER_S) (void)futimens(fd, NULL);
out:
  free(buf);
  close(fd);
  return db;
}

/* The size cap in bytes: EXHUNT_CACHE_MAX as a number with an optional
 * K, M or G (binary units), else the default. */
static uint64_t cache_max(void) {
  const char *v = getenv("EXHUNT_CACHE_MAX");
  /* Digits first: strtoull would take " -1" as a huge number. */
  if (!v || v[0] < '0' || v[0] > '9') return CACHE_MAX_DEFAULT;
  char *end;
  errno = 0;
  unsigned long long n = strtoull(v, &end, 10);
  if (errno) return CACHE_MAX_DEFAULT;
  unsigned shift = 0;
  if (*end == 'K' || *end == 'k') shift = 10, end++;
  else if (*end == 'M' || *end == 'm') shift = 20, end++;
  else if (*end == 'G' || *end == 'g') shift = 30, end++;
  if (*end || n > (UINT64_MAX >> shift)) return CACHE_MAX_DEFAULT;
  return (uint64_t)n << shift;
}

/* Names the cache writes: 16 hex digits and ".db" (kind 1), or that and
 * ".PID.SEQ.tmp" while being written (kind 2); 0 for anything else, which
 * is never touched. */
static int cache_name_kind(const char *n) {
  for (int i = 0; i < 16; i++)
    if (!((n[i] >= '0' && n[i] <= '9') || (n[i] >= 'a' && n[i] <= 'f'))) return 0;
  if (strncmp(n + 16, ".db", 3)) return 0;
  if (!n[19]) return 1;
  size_t l = strlen(n);
  return n[19] == '.' && l > 24 && !strcmp(n + l - 4, ".tmp") ? 2 : 0;
}

typedef struct cfile {
  char name[20]; /* 16 hex + ".db" + NUL */
  time_t mtime;
  uint64_t size;
} cfile;

static int cmp_cfile(const void *pa, const void *pb) {
  const cfile *a = pa, *b = pb;
  if (a->mtime != b->mtime) return a->mtime < b->mtime ? -1 : 1;
  return strcmp(a->name, b->name);
}

static void evict_one(int dfd, const char *name) {
  /* unlinkat removes the entry itself (a symlink is never followed), and
   * a file another run removed first is gone either way. */
  if (unlinkat(dfd, name, 0) == 0) {
    atomic_fetch_add(&n_evicted, 1);
    if (tracing()) fprintf(stderr, "exhunt: cache: evicted %s\n", name);
  }
}

/* Removes from the cache folder dir the files not used for
 * CACHE_MAX_AGE_DAYS, stale .tmp files, then the least recently used
 * (oldest mtime) until the rest fits the cap, never `keep` (just written).
 * Only regular files of ours with the cache's names, directly in dir:
 * the folder is opened without following a symlink and entries are
 * looked at with lstat semantics. Two runs evicting at once may both try
 * to remove a file: the second finds it gone. */
static void evict(const char *dir, const char *keep) {
  int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dfd < 0) return;
  struct stat ds;
  if (fstat(dfd, &ds) != 0 || ds.st_uid != geteuid()) {
    close(dfd);
    return;
  }
  DIR *d = fdopendir(dfd);
  if (!d) {
    close(dfd);
    return;
  }
  uint64_t cap = cache_max(), total = 0;
  time_t now = time(NULL);
  cfile *files = NULL;
  size_t n = 0, cap_files = 0, seen = 0;
  struct dirent *e;
  while ((e = readdir(d)) && seen++ < EVICT_MAX_ENTRIES) {
    int kind = cache_name_kind(e->d_name);
    if (!kind) continue;
    struct stat st;
    if (fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode) ||
        st.st_uid != geteuid())
      continue;
    if (kind == 2) {
      if (st.st_mtime < now - TMP_STALE_S) evict_one(dfd, e->d_name);
      continue;
    }
    total += (uint64_t)st.st_size;
    if (!strcmp(e->d_name, keep)) continue;
    if (st.st_mtime < now - (time_t)CACHE_MAX_AGE_DAYS * 24 * 3600) {
      evict_one(dfd, e->d_name);
      total -= (uint64_t)st.st_size;
      continue;
    }
    if (n == cap_files) {
      size_t nc = cap_files ? cap_files * 2 : 32;
      cfile *q = realloc(files, nc * sizeof *q);
      if (!q) break; /* the cap waits for the next write */
      files = q;
      cap_files = nc;
    }
    memcpy(files[n].name, e->d_name, sizeof files[n].name); /* kind 1: 19 chars + NUL */
    files[n].mtime = st.st_mtime;
    files[n].size = (uint64_t)st.st_size;
    n++;
  }
  if (total > cap && n) {
    qsort(files, n, sizeof *files, cmp_cfile);
    for (size_t i = 0; i < n && total > cap; i++) {
      evict_one(dfd, files[i].name);
      total -= files[i].size;
    }
  }
  free(files);
  closedir(d); /* closes dfd */
}

/* Writes db beside path and renames it into place: a reader sees the
 * whole file or none, and parallel runs never mix their writes. Then the
 * cache is trimmed (evict). */
static void store(const char *dir, const char *path, const char *key, size_t klen,
                  const hs_database_t *db) {
  char *ser = NULL;
  size_t sl = 0;
  if (hs_serialize_database(db, &ser, &sl) != HS_SUCCESS) return;
  char tmp[4200];
  static unsigned seq;
  unsigned s = __atomic_fetch_add(&seq, 1, __ATOMIC_RELAXED);
  if (snprintf(tmp, sizeof tmp, "%s.%ld.%u.tmp", path, (long)getpid(), s) >= (int)sizeof tmp) {
    free(ser);
    return;
  }
  int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  int ok = 0;
  if (fd >= 0) {
    uint64_t kl = klen, dl = sl;
    int bad = write_all(fd, MAGIC, sizeof MAGIC) || write_all(fd, &kl, sizeof kl) ||
              write_all(fd, &dl, sizeof dl) || write_all(fd, key, klen) || write_all(fd, ser, sl);
    if (close(fd) != 0) bad = 1;
    if (bad || rename(tmp, path) != 0) unlink(tmp);
    else ok = 1;
  }
  free(ser); /* hs_serialize_database allocates with the default allocator */
  if (!ok) return;
  atomic_fetch_add(&n_stored, 1);
  if (tracing()) fprintf(stderr, "exhunt: cache: stored %s\n", base_name(path));
  evict(dir, base_name(path));
}

/* The longest run of bytes expression e requires in a row, as far as a
 * plain reading of its syntax tells (classes, groups and anchors end a
 * run; a quantified byte is not required). */
static size_t literal_run(const char *e) {
  size_t best = 0, cur = 0;
  for (const char *p = e; *p; p++) {
    char c = *p;
    if (c == '\\' && p[1]) {
      if (p[1] == 'x' && isxdigit((unsigned char)p[2]) && isxdigit((unsigned char)p[3])) {
        p += 3;
        cur++;
      } else if (isalnum((unsigned char)p[1])) {
        p++; /* \d, \w, \b...: a class or an assertion */
        if (cur > best) best = cur;
        cur = 0;
      } else {
        p++;
        cur++;
      }
    } else if (c == '*' || c == '?' || c == '{') {
      if (cur) cur--; /* the byte before may be absent */
      if (cur > best) best = cur;
      cur = 0;
    } else if (strchr("()[]|.+^$", c)) {
      if (cur > best) best = cur;
      cur = 0;
      if (c == '[')
        while (p[1] && p[1] != ']') p += p[1] == '\\' && p[2] ? 2 : 1;
    } else {
      cur++;
    }
  }
  return cur > best ? cur : best;
}

/* Whether the database wants the sentinel (hscache.h): its patterns all
 * require fewer than four bytes in a row, and are two or more (or one
 * alternation). */
static int wants_sentinel(const char *const *exprs, const size_t *lens, unsigned n) {
  for (unsigned i = 0; i < n; i++)
    if ((lens ? lens[i] : literal_run(exprs[i])) >= 4) return 0;
  return n >= 2 || (n == 1 && !lens && strchr(exprs[0], '|'));
}

static hs_error_t compile_cached(const char *const *exprs, const size_t *lens,
                                 const unsigned *flags, const unsigned *ids, unsigned n,
                                 int use_cache, exhi_hs_cache_how *how, hs_database_t **db,
                                 hs_compile_error_t **ce) {
  *db = NULL;
  *ce = NULL;
  if (how) how->compiled = 0;
  /* The sentinel goes last, before the key is made: it is part of what
   * is compiled. */
  static const char sentinel_expr[] = "\\x00\\xffexhunt\\x00never\\xff\\x00";
  static const char sentinel_lit[] = "\x01\xff"
                                     "exhunt-never\xff\x01";
  const char **ex2 = NULL;
  size_t *le2 = NULL;
  unsigned *fl2 = NULL, *id2 = NULL;
  if (wants_sentinel(exprs, lens, n)) {
    ex2 = malloc((n + 1) * sizeof *ex2);
    le2 = lens ? malloc((n + 1) * sizeof *le2) : NULL;
    fl2 = malloc((n + 1) * sizeof *fl2);
    id2 = malloc((n + 1) * sizeof *id2);
    if (!ex2 || (lens && !le2) || !fl2 || !id2) {
      free(ex2);
      free(le2);
      free(fl2);
      free(id2);
      return HS_NOMEM;
    }
    memcpy(ex2, exprs, n * sizeof *ex2);
    memcpy(fl2, flags, n * sizeof *fl2);
    memcpy(id2, ids, n * sizeof *id2);
    ex2[n] = lens ? sentinel_lit : sentinel_expr;
    fl2[n] = lens ? 0 : HS_FLAG_SINGLEMATCH;
    id2[n] = EXHI_HS_SENTINEL_ID;
    if (lens) {
      memcpy(le2, lens, n * sizeof *le2);
      le2[n] = sizeof sentinel_lit - 1;
      lens = le2;
    }
    exprs = ex2, flags = fl2, ids = id2;
    n++;
  }
  char dir[4096], path[4200];
  size_t klen = 0;
  char *key = NULL;
  const char *what = lens ? "literals" : "expressions";
  hs_error_t e = HS_SUCCESS;
  if (use_cache && cache_dir(dir, sizeof dir) &&
      (key = make_key(exprs, lens, flags, ids, n, &klen))) {
    uint64_t h = fnv(1469598103934665603ull, key, klen);
    snprintf(path, sizeof path, "%s/%016llx.db", dir, (unsigned long long)h);
    if ((*db = load(path, key, klen))) {
      atomic_fetch_add(&n_loaded, 1);
      if (tracing())
        fprintf(stderr, "exhunt: cache: loaded %s (%u %s)\n", base_name(path), n, what);
      goto out;
    }
  }
  if (how) {
    how->compiled = 1;
    if (how->compiling) how->compiling(how->ctx, n);
  }
  atomic_fetch_add(&n_compiled, 1);
  int trace = tracing();
  struct timespec t0, t1;
  if (trace) {
    fprintf(stderr, "exhunt: cache: compiling %u %s\n", n, what);
    clock_gettime(CLOCK_MONOTONIC, &t0);
  }
  e = lens ? hs_compile_lit_multi(exprs, flags, ids, lens, n, HS_MODE_BLOCK, NULL, db, ce)
           : hs_compile_multi(exprs, flags, ids, n, HS_MODE_BLOCK, NULL, db, ce);
  if (trace) {
    clock_gettime(CLOCK_MONOTONIC, &t1);
    fprintf(stderr, "exhunt: cache: compiled %u %s in %.3f s\n", n, what,
            (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
  }
  if (e == HS_SUCCESS && key) store(dir, path, key, klen, *db);
out:
  free(key);
  free(ex2);
  free(le2);
  free(fl2);
  free(id2);
  return e;
}

int exhi_hs_cache_on(void) {
  char dir[4096];
  return cache_dir(dir, sizeof dir);
}

hs_error_t exhi_hs_compile_cached(const char *const *exprs, const unsigned *flags,
                                  const unsigned *ids, unsigned n, hs_database_t **db,
                                  hs_compile_error_t **ce) {
  return compile_cached(exprs, NULL, flags, ids, n, 1, NULL, db, ce);
}

hs_error_t exhi_hs_compile(const char *const *exprs, const unsigned *flags, const unsigned *ids,
                           unsigned n, hs_database_t **db, hs_compile_error_t **ce) {
  return compile_cached(exprs, NULL, flags, ids, n, 0, NULL, db, ce);
}

hs_error_t exhi_hs_compile_lit_cached(const char *const *exprs, const size_t *lens,
                                      const unsigned *flags, const unsigned *ids, unsigned n,
                                      exhi_hs_cache_how *how, hs_database_t **db,
                                      hs_compile_error_t **ce) {
  return compile_cached(exprs, lens, flags, ids, n, 1, how, db, ce);
}

size_t exhi_hs_slice(const char *p, size_t n) {
  if (n <= (1u << 30)) return n;
  const char *nl = memrchr(p, '\n', 1u << 30);
  return nl ? (size_t)(nl - p) + 1 : (1u << 30);
}
