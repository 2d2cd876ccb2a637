/* Compiled vectorscan databases kept between runs (see hscache.h). */
#define _GNU_SOURCE
#include "hscache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A cache file larger than this is not ours (the rule set's biggest
 * database is well under 1 MiB; the indicators' literal prefilter of
 * 100 000 values is ~9 MiB). */
#define CACHE_FILE_MAX (64u << 20)
static const char MAGIC[8] = "EXHSDB1";

static uint64_t fnv(uint64_t h, const void *p, size_t n) {
  const unsigned char *b = p;
  for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 1099511628211ull;
  return h;
}

/* The key: every input of the compile, unambiguously (lengths first).
 * lens: NULL for NUL-terminated regexes, else literals of lens[i] bytes,
 * whose keys carry a mode tag after the version (regex keys are unchanged,
 * so existing cache files stay valid). */
static char *make_key(const char *const *exprs, const size_t *lens, const unsigned *flags,
                      const unsigned *ids, unsigned n, size_t *klen) {
  const char *ver = hs_version();
  static const char lit_tag[] = "\001literals";
  /* The CPU too: a database built for one (AVX-512 here, none under
   * valgrind) must not be loaded, or overwritten, by another. */
  hs_platform_info_t plat;
  memset(&plat, 0, sizeof plat);
  if (hs_populate_platform(&plat) != HS_SUCCESS) return NULL;
  size_t len = strlen(ver) + 1 + sizeof plat + sizeof n + (lens ? sizeof lit_tag : 0);
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
  memcpy(k + o, &plat, sizeof plat);
  o += sizeof plat;
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

/* The cache folder, created (0700) when missing; 0 when there is none. */
static int cache_dir(char *buf, size_t size) {
  const char *off = getenv("EXHUNT_NO_CACHE");
  if (off && off[0] && strcmp(off, "0")) return 0;
  const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
  int w;
  /* XDG Base Directory spec: a relative XDG_CACHE_HOME is invalid. */
  if (xdg && xdg[0] == '/') w = snprintf(buf, size, "%s/exhunt", xdg);
  else if (home && home[0] == '/') w = snprintf(buf, size, "%s/.cache/exhunt", home);
  else return 0;
  if (w < 0 || (size_t)w + 32 >= size) return 0;
  /* Parents first: ~/.cache may not exist on a fresh account. */
  for (char *p = buf + 1; *p; p++) {
    if (*p != '/') continue;
    *p = '\0';
    if (mkdir(buf, 0700) != 0 && errno != EEXIST) return 0;
    *p = '/';
  }
  if (mkdir(buf, 0700) != 0 && errno != EEXIST) return 0;
  size_t l = strlen(buf);
  if (snprintf(buf + l, size - l, "/hs") < 0) return 0;
  if (mkdir(buf, 0700) != 0 && errno != EEXIST) return 0;
  return 1;
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

/* The database stored at path under key, or NULL. Only a file of our own
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
out:
  free(buf);
  close(fd);
  return db;
}

/* Writes db beside path and renames it into place: a reader sees the
 * whole file or none, and parallel runs never mix their writes. */
static void store(const char *path, const char *key, size_t klen, const hs_database_t *db) {
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
  if (fd >= 0) {
    uint64_t kl = klen, dl = sl;
    int bad = write_all(fd, MAGIC, sizeof MAGIC) || write_all(fd, &kl, sizeof kl) ||
              write_all(fd, &dl, sizeof dl) || write_all(fd, key, klen) || write_all(fd, ser, sl);
    if (close(fd) != 0) bad = 1;
    if (bad || rename(tmp, path) != 0) unlink(tmp);
  }
  free(ser); /* hs_serialize_database allocates with the default allocator */
}

static hs_error_t compile_cached(const char *const *exprs, const size_t *lens,
                                 const unsigned *flags, const unsigned *ids, unsigned n,
                                 hs_database_t **db, hs_compile_error_t **ce) {
  *db = NULL;
  *ce = NULL;
  char dir[4096], path[4200];
  size_t klen = 0;
  char *key = NULL;
  if (cache_dir(dir, sizeof dir) && (key = make_key(exprs, lens, flags, ids, n, &klen))) {
    uint64_t h = fnv(1469598103934665603ull, key, klen);
    snprintf(path, sizeof path, "%s/%016llx.db", dir, (unsigned long long)h);
    if ((*db = load(path, key, klen))) {
      free(key);
      return HS_SUCCESS;
    }
  }
  hs_error_t e = lens ? hs_compile_lit_multi(exprs, flags, ids, lens, n, HS_MODE_BLOCK, NULL, db, ce)
                      : hs_compile_multi(exprs, flags, ids, n, HS_MODE_BLOCK, NULL, db, ce);
  if (e == HS_SUCCESS && key) store(path, key, klen, *db);
  free(key);
  return e;
}

hs_error_t exhi_hs_compile_cached(const char *const *exprs, const unsigned *flags,
                                  const unsigned *ids, unsigned n, hs_database_t **db,
                                  hs_compile_error_t **ce) {
  return compile_cached(exprs, NULL, flags, ids, n, db, ce);
}

hs_error_t exhi_hs_compile_lit_cached(const char *const *exprs, const size_t *lens,
                                      const unsigned *flags, const unsigned *ids, unsigned n,
                                      hs_database_t **db, hs_compile_error_t **ce) {
  return compile_cached(exprs, lens, flags, ids, n, db, ce);
}
