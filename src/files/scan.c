/*
 * exh_files: the walk, then each file read once into memory and given to
 * SHA-256 (and SHA-1/MD5 when the indicators use them), the YARA rules, the
 * path rules and the indicator hook, in parallel; findings leave in walk
 * order. Work goes in batches: while the workers scan one batch, the
 * calling thread walks the next, then writes the finished one. Memory is
 * bounded by two batches plus one read buffer per worker.
 */
#define _GNU_SOURCE /* O_NOATIME */
#include "rules.h"
#include "scan.h"
#include "walk.h"
#include "yara.h"
#include "core/dl_crypto.h" /* libcrypto, loaded by exh_files_new */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* Files per batch: enough that thread start-up and the batch's slowest
 * file are amortised, few enough that two batches of paths and findings
 * stay a few MiB. */
#define BATCH_FILES 2048
/* More threads than this do not help a disk scan and only cost buffers. */
#define MAX_THREADS 64
/* Reads of files too large for YARA stream through this much. */
#define STREAM_CHUNK (1u << 20)
/* Bytes of a file's start the path rules may test (magic numbers). */
#define HEAD_BYTES 64

extern const exhi_embedded_file exhi_files_path_blobs[];
extern const size_t exhi_files_path_count;

struct exh_files {
  exhi_yara *yara;
  exhi_pathrules paths;
  exhi_rule ioc_hash, ioc_name; /* findings of indicator hits */
  unsigned threads;
  uint64_t max_scan;
  exh_indicator_lookup ioc;
  bool has_ioc;
  EVP_MD *sha256, *sha1, *md5;
  /* exh_files_config's skip folders and endings, copied */
  char **skip_strs;
  exhi_walk_skip skip;
};

typedef struct hit {
  const exhi_rule *rule;
  int64_t offset;
  char *yara_rule, *yara_ns;
  char *ioc_value, *ioc_type, *ioc_source, *ioc_actor, *ioc_report, *message;
} hit;

typedef struct job {
  char *path;
  size_t root_len; /* the scan root's part of path */
  size_t name_off;
  dev_t dev;
  ino_t ino;
  int64_t size, mtime_ms, median_ms;
  size_t dir_files;
  hit *hits;
  size_t n_hits, cap_hits;
  char sha256[65], sha1[41], md5[33];
  exh_error *err;   /* the file (or folder, for walk errors) could not be read */
  bool walk_error;  /* not a file: a problem the walk met at this point */
  bool read_ok, not_yara;
  uint64_t bytes;
} job;

typedef struct batch {
  job jobs[BATCH_FILES];
  size_t n;
  atomic_size_t next;
} batch;

typedef struct worker {
  const exh_files *f;
  exhi_yara_scanner *ys;
  unsigned char *buf;
  size_t cap;
  EVP_MD_CTX *c256, *c1, *c5;
  batch *b;
  job *cur;
  pthread_t tid;
} worker;

/* ---- results ------------------------------------------------------------ */

/* Records why the file could not be read (the first reason only). */
static void job_fail(job *j, int code, const char *what, const char *detail) {
  if (j->err) return;
  j->err = calloc(1, sizeof *j->err);
  if (j->err) exhi_err(j->err, code, j->path, 0, -1, "%s%s", what, detail);
}

static hit *add_hit(job *j, const exhi_rule *r) {
  if (j->n_hits == j->cap_hits) {
    size_t nc = j->cap_hits ? j->cap_hits * 2 : 4;
    hit *nh = realloc(j->hits, nc * sizeof *nh);
    if (!nh) {
      job_fail(j, EXH_ERR_NOMEM, "", "out of memory recording findings");
      return NULL;
    }
    j->hits = nh;
    j->cap_hits = nc;
  }
  hit *h = &j->hits[j->n_hits++];
  memset(h, 0, sizeof *h);
  h->rule = r;
  h->offset = -1;
  return h;
}

static void job_clear(job *j) {
  for (size_t i = 0; i < j->n_hits; i++) {
    hit *h = &j->hits[i];
    free(h->yara_rule);
    free(h->yara_ns);
    free(h->ioc_value);
    free(h->ioc_type);
    free(h->ioc_source);
    free(h->ioc_actor);
    free(h->ioc_report);
    free(h->message);
  }
  free(j->hits);
  free(j->path);
  free(j->err);
  memset(j, 0, sizeof *j);
}

static void on_path_rule(void *ctx, const exhi_pathrule *r) { add_hit(ctx, &r->info); }

static void on_yara(void *ctx, const exhi_yara_match *m) {
  job *j = ctx;
  hit *h = add_hit(j, m->rule);
  if (!h) return;
  h->offset = m->offset;
  h->yara_rule = strdup(m->identifier);
  h->yara_ns = strdup(m->ns);
}

static char *xstrdup(const char *s) { return s ? strdup(s) : NULL; }

static bool is_hash_type(const char *t) {
  return t && (!strcmp(t, "sha256") || !strcmp(t, "sha1") || !strcmp(t, "md5"));
}

/* ---- collections with URL-encoded names (Velociraptor) ----------------- */

static int hexval(char c) {
  return c >= '0' && c <= '9' ? c - '0' : (c | 32) >= 'a' && (c | 32) <= 'f' ? (c | 32) - 'a' + 10 : -1;
}

/* Decodes one name's "%XX" into out (at most n bytes); an encoded separator
 * or NUL stays inside the name as '_'. Returns the length written. */
static size_t url_decode(const char *s, size_t len, char *out) {
  size_t o = 0;
  for (size_t i = 0; i < len; i++) {
    char c = s[i];
    if (c == '%' && i + 2 < len && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
      c = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
      i += 2;
      if (c == '/' || c == '\\' || c == '\0') c = '_';
    }
    out[o++] = c;
  }
  return o;
}

/* Is the name an encoded drive as Velociraptor writes it: "C%3A" (the auto
 * accessor) or "%5C%5C.%5CC%3A" (\\.\C:, the ntfs accessor)? */
static bool encoded_drive(const char *s, size_t len) {
  if (len < 4 || strncasecmp(s + len - 3, "%3a", 3)) return false;
  char c = (char)(s[len - 4] | 32);
  if (c < 'a' || c > 'z') return false;
  return len == 4 || (len >= 7 && !strncasecmp(s + len - 7, "%5c", 3));
}

/*
 * The path as Windows named the file, for the path rules and indicators: in
 * a Velociraptor collection (uploads/auto/C%3A/Program%20Files/...) the
 * names below the encoded drive are URL-decoded and the drive reads "C:", so
 * that "C:\Program Files\...\x.aspx" matches. Returns 0 when the path holds
 * no encoded drive (then it is used as it is); else the decoded length
 * (out has size EXHI_WALK_MAX_PATH + 1, enough: decoding only shortens).
 */
static size_t windows_path(const char *in, size_t len, char *out) {
  size_t o = 0;
  bool below = false, any = false;
  for (size_t i = 0; i < len;) {
    size_t e = i;
    while (e < len && in[e] != '/') e++;
    if (!below && encoded_drive(in + i, e - i)) {
      out[o++] = in[e - 4];
      out[o++] = ':';
      below = any = true;
    } else if (below) {
      o += url_decode(in + i, e - i, out + o);
    } else {
      memcpy(out + o, in + i, e - i);
      o += e - i;
    }
    if (e < len) out[o++] = '/';
    i = e + 1;
  }
  out[o] = '\0';
  return any ? o : 0;
}

static void indicators(worker *w, job *j, const char *path, size_t root_len, size_t name_off) {
  const exh_files *f = w->f;
  exh_indicator_hit hits[EXH_INDICATOR_MAX_HITS];
  size_t n = 0;
  const char *rel = path + root_len;
  while (*rel == '/') rel++;
  exh_file_info fi = {.path = path, .rel_path = *rel ? rel : path + name_off,
                      .name = path + name_off, .size = (int64_t)j->bytes,
                      .sha256 = j->sha256, .sha1 = j->sha1, .md5 = j->md5};
  exh_error e = {0};
  int rc = f->ioc.lookup(f->ioc.ctx, &fi, hits, EXH_INDICATOR_MAX_HITS, &n, &e);
  if (rc != EXH_OK) {
    job_fail(j, rc, "indicator lookup failed: ", e.text);
    return;
  }
  if (n > EXH_INDICATOR_MAX_HITS) n = EXH_INDICATOR_MAX_HITS;
  for (size_t i = 0; i < n; i++) {
    const exh_indicator_hit *x = &hits[i];
    hit *h = add_hit(j, is_hash_type(x->type) ? &f->ioc_hash : &f->ioc_name);
    if (!h) return;
    h->ioc_value = xstrdup(x->value ? x->value : "");
    h->ioc_type = xstrdup(x->type ? x->type : "unknown");
    h->ioc_source = xstrdup(x->source && *x->source ? x->source : "unnamed source");
    h->ioc_actor = xstrdup(x->actor && *x->actor ? x->actor : NULL);
    h->ioc_report = xstrdup(x->report && *x->report ? x->report : NULL);
    char msg[1024];
    snprintf(msg, sizeof msg, "%s %.200s is a published indicator (source: %.200s%s%.200s%s%.200s)",
             h->ioc_type ? h->ioc_type : "", h->ioc_value ? h->ioc_value : "",
             h->ioc_source ? h->ioc_source : "", h->ioc_actor ? "; actor: " : "",
             h->ioc_actor ? h->ioc_actor : "", h->ioc_report ? "; report: " : "",
             h->ioc_report ? h->ioc_report : "");
    h->message = strdup(msg);
  }
}

/* ---- reading and hashing ------------------------------------------------ */

static void hex(const unsigned char *d, unsigned n, char *out) {
  static const char x[] = "0123456789abcdef";
  for (unsigned i = 0; i < n; i++) {
    out[2 * i] = x[d[i] >> 4];
    out[2 * i + 1] = x[d[i] & 15];
  }
  out[2 * n] = '\0';
}

static bool hash_init(worker *w) {
  const exh_files *f = w->f;
  unsigned want = f->has_ioc ? f->ioc.want : 0;
  if (!EVP_DigestInit_ex(w->c256, f->sha256, NULL)) return false;
  if ((want & EXH_WANT_SHA1) && !EVP_DigestInit_ex(w->c1, f->sha1, NULL)) return false;
  if ((want & EXH_WANT_MD5) && !EVP_DigestInit_ex(w->c5, f->md5, NULL)) return false;
  return true;
}

static bool hash_update(worker *w, const unsigned char *p, size_t n) {
  unsigned want = w->f->has_ioc ? w->f->ioc.want : 0;
  if (!EVP_DigestUpdate(w->c256, p, n)) return false;
  if ((want & EXH_WANT_SHA1) && !EVP_DigestUpdate(w->c1, p, n)) return false;
  if ((want & EXH_WANT_MD5) && !EVP_DigestUpdate(w->c5, p, n)) return false;
  return true;
}

static bool hash_final(worker *w, job *j) {
  unsigned want = w->f->has_ioc ? w->f->ioc.want : 0;
  unsigned char d[EVP_MAX_MD_SIZE];
  unsigned n;
  if (!EVP_DigestFinal_ex(w->c256, d, &n)) return false;
  hex(d, n, j->sha256);
  if (want & EXH_WANT_SHA1) {
    if (!EVP_DigestFinal_ex(w->c1, d, &n)) return false;
    hex(d, n, j->sha1);
  }
  if (want & EXH_WANT_MD5) {
    if (!EVP_DigestFinal_ex(w->c5, d, &n)) return false;
    hex(d, n, j->md5);
  }
  return true;
}

static bool grow(worker *w, size_t need) {
  if (w->cap >= need) return true;
  size_t nc = w->cap ? w->cap : STREAM_CHUNK;
  while (nc < need) nc *= 2;
  unsigned char *nb = realloc(w->buf, nc);
  if (!nb) return false;
  w->buf = nb;
  w->cap = nc;
  return true;
}

static int open_file(const char *path) {
  /* O_NOFOLLOW: a link put in place of the file since the walk is not
   * followed; O_NONBLOCK: a FIFO put there cannot hang the scan. */
  int flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY;
  int fd = open(path, flags | O_NOATIME);
  if (fd < 0 && errno == EPERM) fd = open(path, flags);
  return fd;
}

/* Reads up to want bytes (fewer at EOF); returns the count or -1. */
static ssize_t read_full(int fd, unsigned char *p, size_t want) {
  size_t got = 0;
  while (got < want) {
    ssize_t r = read(fd, p + got, want - got);
    if (r == 0) break;
    if (r < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    got += (size_t)r;
  }
  return (ssize_t)got;
}

static void scan_job(worker *w, job *j) {
  const exh_files *f = w->f;
  unsigned char head[HEAD_BYTES];
  size_t head_len = 0;
  int fd = open_file(j->path);
  struct stat st;
  if (fd < 0) {
    job_fail(j, EXH_ERR_IO, "cannot open: ", strerror(errno));
  } else if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_dev != j->dev ||
             st.st_ino != j->ino) {
    job_fail(j, EXH_ERR_IO, "", "file changed while being scanned: not read");
  } else if (!hash_init(w)) {
    job_fail(j, EXH_ERR_NOMEM, "", "cannot start hashing");
  } else if ((uint64_t)st.st_size <= f->max_scan) {
    /* The common case: the whole file in memory, hashed and scanned from
     * the same buffer. Only st_size bytes are taken if it grows. */
    size_t want = (size_t)st.st_size;
    if (!grow(w, want ? want : 1)) {
      job_fail(j, EXH_ERR_NOMEM, "", "out of memory for the read buffer");
    } else {
      ssize_t got = read_full(fd, w->buf, want);
      if (got < 0) {
        job_fail(j, EXH_ERR_IO, "read failed: ", strerror(errno));
      } else if (!hash_update(w, w->buf, (size_t)got) || !hash_final(w, j)) {
        job_fail(j, EXH_ERR_NOMEM, "", "hashing failed");
      } else {
        j->read_ok = true;
        j->bytes = (uint64_t)got;
        head_len = (size_t)got < HEAD_BYTES ? (size_t)got : HEAD_BYTES;
        memcpy(head, w->buf, head_len);
        if (w->ys) {
          exh_error e;
          if (exhi_yara_scan(w->ys, NULL, w->buf, (size_t)got, on_yara, j, &e) != EXH_OK)
            job_fail(j, e.code, "", e.text);
        }
      }
    }
  } else {
    /* Too large for YARA (an EDB, a disk image): hashed in chunks. */
    j->not_yara = true;
    if (!grow(w, STREAM_CHUNK)) {
      job_fail(j, EXH_ERR_NOMEM, "", "out of memory for the read buffer");
    } else {
      uint64_t total = 0;
      bool ok = true;
      for (;;) {
        ssize_t got = read_full(fd, w->buf, STREAM_CHUNK);
        if (got < 0) {
          job_fail(j, EXH_ERR_IO, "read failed: ", strerror(errno));
          ok = false;
          break;
        }
        if (got == 0) break;
        if (!total) {
          head_len = (size_t)got < HEAD_BYTES ? (size_t)got : HEAD_BYTES;
          memcpy(head, w->buf, head_len);
        }
        if (!hash_update(w, w->buf, (size_t)got)) {
          ok = false;
          break;
        }
        total += (uint64_t)got;
      }
      if (ok && hash_final(w, j)) {
        j->read_ok = true;
        j->bytes = total;
      }
    }
  }
  if (fd >= 0) close(fd);

  /* Path rules go first in a file's findings, then YARA, then indicators;
   * they are moved to the front here so the order is stable. */
  size_t yara_hits = j->n_hits;
  /* Rules and indicators see the Windows names (decoded in a Velociraptor
   * collection); findings keep the path as found, to find the file again. */
  char dec[EXHI_WALK_MAX_PATH + 1];
  const char *path = j->path;
  size_t root_len = j->root_len, name_off = j->name_off, plen = strlen(j->path);
  if (plen <= EXHI_WALK_MAX_PATH && windows_path(j->path, plen, dec)) {
    char droot[EXHI_WALK_MAX_PATH + 1];
    size_t r = windows_path(j->path, j->root_len, droot);
    root_len = r ? r : j->root_len;
    const char *slash = strrchr(dec, '/');
    name_off = slash ? (size_t)(slash + 1 - dec) : 0;
    path = dec;
  }
  exhi_file_ctx fc = {.path = path, .name = path + name_off,
                      .loc = exhi_layout_classify(path, root_len), .mtime_ms = j->mtime_ms,
                      .dir_median_mtime_ms = j->median_ms, .dir_files = j->dir_files,
                      .head = j->read_ok ? head : NULL, .head_len = head_len};
  exhi_pathrules_eval(&f->paths, &fc, on_path_rule, j);
  if (yara_hits && j->n_hits > yara_hits) {
    size_t np = j->n_hits - yara_hits;
    hit *tmp = malloc(np * sizeof *tmp);
    if (tmp) {
      memcpy(tmp, j->hits + yara_hits, np * sizeof *tmp);
      memmove(j->hits + np, j->hits, yara_hits * sizeof *tmp);
      memcpy(j->hits, tmp, np * sizeof *tmp);
      free(tmp);
    }
  }
  if (f->has_ioc && j->read_ok) indicators(w, j, path, root_len, name_off);
}

static void *worker_main(void *arg) {
  worker *w = arg;
  batch *b = w->b;
  for (;;) {
    size_t i = atomic_fetch_add(&b->next, 1);
    if (i >= b->n) break;
    job *j = &b->jobs[i];
    if (!j->walk_error) scan_job(w, j);
  }
  return NULL;
}

/* ---- compile ------------------------------------------------------------ */

static int set_rule(exhi_rule *r, const char *id, const char *name, const char *msg,
                    const char *action, const char *attack, int sev) {
  r->id = strdup(id);
  r->name = strdup(name);
  r->message = strdup(msg);
  r->action = strdup(action);
  r->source = strdup("the indicator store (each finding names its source)");
  r->severity = sev;
  r->confidence = 90;
  if (!r->id || !r->name || !r->message || !r->action || !r->source) return EXH_ERR_NOMEM;
  return exhi_rule_set_attack(r, attack);
}

/* Copies the skip folders and endings into f (one array: dirs, then exts). */
static int copy_skip(exh_files *f, const exh_files_config *cfg, exh_error *err) {
  size_t nd = cfg->skip_dirs ? cfg->n_skip_dirs : 0, ne = cfg->skip_exts ? cfg->n_skip_exts : 0;
  if (!nd) return EXH_OK; /* endings alone skip nothing */
  if (nd > EXH_FILES_MAX_SKIP || ne > EXH_FILES_MAX_SKIP)
    return exhi_err(err, EXH_ERR_LIMIT, "skip_dirs", 0, -1, "more than %d skip folders or endings",
                    EXH_FILES_MAX_SKIP);
  f->skip_strs = calloc(nd + ne + 1, sizeof *f->skip_strs);
  if (!f->skip_strs) return exhi_err(err, EXH_ERR_NOMEM, NULL, 0, -1, "out of memory");
  for (size_t i = 0; i < nd + ne; i++) {
    const char *v = i < nd ? cfg->skip_dirs[i] : cfg->skip_exts[i - nd];
    if (!v || !*v)
      return exhi_err(err, EXH_ERR_INVALID, i < nd ? "skip_dirs" : "skip_exts", 0, -1,
                      "entry %zu is empty", i < nd ? i : i - nd);
    if (!(f->skip_strs[i] = strdup(v))) return exhi_err(err, EXH_ERR_NOMEM, NULL, 0, -1, "out of memory");
  }
  f->skip = (exhi_walk_skip){.dirs = (const char *const *)f->skip_strs, .n_dirs = nd,
                             .exts = (const char *const *)f->skip_strs + nd, .n_exts = ne};
  return EXH_OK;
}

int exh_files_new(const exh_files_config *cfg, exh_files **out, exh_error *err) {
  *out = NULL;
  exh_files_config def = {0};
  if (!cfg) cfg = &def;
  exh_files *f = calloc(1, sizeof *f);
  if (!f) return exhi_err(err, EXH_ERR_NOMEM, NULL, 0, -1, "out of memory");
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  f->threads = cfg->threads ? cfg->threads : (unsigned)(ncpu > 0 ? ncpu : 1);
  if (f->threads > MAX_THREADS) f->threads = MAX_THREADS;
  f->max_scan = cfg->max_scan_bytes ? cfg->max_scan_bytes : EXH_FILES_DEFAULT_MAX_SCAN;
  if (cfg->indicators && cfg->indicators->lookup) {
    f->ioc = *cfg->indicators;
    f->has_ioc = true;
  }
  int rc = copy_skip(f, cfg, err);
  if (rc == EXH_OK) rc = exhi_dl_crypto(err);
  if (rc == EXH_OK) {
    f->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    f->sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
    f->md5 = EVP_MD_fetch(NULL, "MD5", NULL);
  }
  if (rc == EXH_OK && (!f->sha256 || !f->sha1 || !f->md5))
    rc = exhi_err(err, EXH_ERR_NOMEM, "OpenSSL", 0, -1, "cannot load the hash functions");
  for (size_t i = 0; rc == EXH_OK && i < exhi_files_path_count; i++)
    rc = exhi_pathrules_parse(exhi_files_path_blobs[i].name,
                              (const char *)exhi_files_path_blobs[i].data,
                              exhi_files_path_blobs[i].len, &f->paths, err);
  if (rc == EXH_OK && cfg->no_builtin) exhi_pathrules_free(&f->paths);
  if (rc == EXH_OK && (!cfg->no_builtin || cfg->n_yara))
    rc = exhi_yara_new(cfg->yara, cfg->n_yara, !cfg->no_builtin, &f->yara, err);
  if (rc == EXH_OK)
    rc = set_rule(&f->ioc_hash, "exh.files.ioc.hash", "File hash listed as an indicator",
                  "the file's hash is a published indicator",
                  "Treat the server as compromised: isolate it, preserve the file and follow "
                  "the incident response plan.",
                  "T1505.003", EXH_SEV_CRITICAL);
  if (rc == EXH_OK)
    rc = set_rule(&f->ioc_name, "exh.files.ioc.name", "File name or path listed as an indicator",
                  "the file's name or path is a published indicator",
                  "Examine the file; a name alone can be a coincidence, its content decides.",
                  "T1505.003", EXH_SEV_HIGH);
  if (rc != EXH_OK) {
    if (rc == EXH_ERR_NOMEM && err && !err->text[0])
      exhi_err(err, rc, NULL, 0, -1, "out of memory");
    exh_files_free(f);
    return rc;
  }
  *out = f;
  return EXH_OK;
}

void exh_files_free(exh_files *f) {
  if (!f) return;
  exhi_yara_free(f->yara);
  exhi_pathrules_free(&f->paths);
  exhi_rule_clear(&f->ioc_hash);
  exhi_rule_clear(&f->ioc_name);
  /* Fetched only once libcrypto was loaded (its table filled). */
  if (f->sha256) EVP_MD_free(f->sha256);
  if (f->sha1) EVP_MD_free(f->sha1);
  if (f->md5) EVP_MD_free(f->md5);
  for (size_t i = 0; f->skip_strs && f->skip_strs[i]; i++) free(f->skip_strs[i]);
  free(f->skip_strs);
  free(f);
}

void exh_files_rule_counts(const exh_files *f, size_t *yara, size_t *paths) {
  if (yara) *yara = f->yara ? exhi_yara_rule_count(f->yara) : 0;
  if (paths) *paths = f->paths.n;
}

int exh_files_rule_get(const exh_files *f, size_t i, exh_files_rule *out) {
  static _Thread_local char qualified[512];
  size_t ny = f->yara ? exhi_yara_rule_count(f->yara) : 0;
  if (i < ny) {
    const char *ident, *ns;
    const exhi_rule *r = exhi_yara_rule_at(f->yara, i, &ident, &ns);
    if (!r) return EXH_ERR_NOTFOUND;
    snprintf(qualified, sizeof qualified, "%s:%s", ns, ident);
    *out = (exh_files_rule){.id = r->id, .name = r->name, .kind = "yara", .yara = qualified,
                            .severity = r->severity, .source = r->source};
    return EXH_OK;
  }
  i -= ny;
  if (i >= f->paths.n) return EXH_ERR_NOTFOUND;
  const exhi_rule *r = &f->paths.rules[i].info;
  *out = (exh_files_rule){.id = r->id, .name = r->name, .kind = "path", .yara = NULL,
                          .severity = r->severity, .source = r->source};
  return EXH_OK;
}

/* ---- scan --------------------------------------------------------------- */

/* Walks until the batch is full or the tree ends. Returns true at the end. */
static bool fill(exhi_walk *wk, size_t root_len, batch *b, bool *oom) {
  b->n = 0;
  atomic_store(&b->next, 0);
  while (b->n < BATCH_FILES) {
    exhi_walk_entry e;
    int got = 0;
    exh_error err;
    int rc = exhi_walk_next(wk, &e, &got, &err);
    job *j = &b->jobs[b->n];
    memset(j, 0, sizeof *j);
    if (rc != EXH_OK) {
      j->walk_error = true;
      j->err = malloc(sizeof *j->err);
      if (!j->err) {
        *oom = true;
        return true;
      }
      *j->err = err;
      b->n++;
      continue;
    }
    if (!got) return true;
    j->path = strdup(e.path);
    if (!j->path) {
      *oom = true;
      return true;
    }
    j->name_off = (size_t)(e.name - e.path);
    j->root_len = root_len < j->name_off ? root_len : j->name_off;
    j->dev = e.dev;
    j->ino = e.ino;
    j->size = e.size;
    j->mtime_ms = e.mtime_ms;
    j->median_ms = e.dir_median_mtime_ms;
    j->dir_files = e.dir_files;
    b->n++;
  }
  return false;
}

static int emit(const exh_files *f, batch *b, int (*on_finding)(void *, const exh_finding *),
                void (*on_error)(void *, const exh_error *), void *ctx, exh_files_stats *st) {
  (void)f;
  int rc = EXH_OK;
  for (size_t i = 0; i < b->n; i++) {
    job *j = &b->jobs[i];
    if (j->read_ok) {
      st->files++;
      st->bytes += j->bytes;
      if (j->not_yara) st->not_yara_scanned++;
    }
    char size[32], mtime[40];
    snprintf(size, sizeof size, "%lld", (long long)j->size);
    exhi_format_time_ms(j->mtime_ms, mtime, sizeof mtime);
    for (size_t k = 0; rc == EXH_OK && k < j->n_hits; k++) {
      const hit *h = &j->hits[k];
      const exhi_rule *r = h->rule;
      exh_field fields[16];
      size_t nf = 0;
      fields[nf++] = (exh_field){"file.name", j->path + j->name_off};
      fields[nf++] = (exh_field){"file.size", size};
      fields[nf++] = (exh_field){"file.mtime", mtime};
      if (j->sha1[0]) fields[nf++] = (exh_field){"file.hash.sha1", j->sha1};
      if (j->md5[0]) fields[nf++] = (exh_field){"file.hash.md5", j->md5};
      fields[nf++] = (exh_field){"rule.reference", r->source};
      if (h->yara_rule) {
        fields[nf++] = (exh_field){"exhunt.yara.rule", h->yara_rule};
        fields[nf++] = (exh_field){"exhunt.yara.namespace", h->yara_ns ? h->yara_ns : ""};
      }
      if (h->ioc_value) {
        fields[nf++] = (exh_field){"threat.indicator.name", h->ioc_value};
        fields[nf++] = (exh_field){"threat.indicator.type", h->ioc_type};
        fields[nf++] = (exh_field){"threat.indicator.provider", h->ioc_source};
        if (h->ioc_report) fields[nf++] = (exh_field){"threat.feed.name", h->ioc_report};
        if (h->ioc_report && (!strncmp(h->ioc_report, "https://", 8) ||
                              !strncmp(h->ioc_report, "http://", 7)))
          fields[nf++] = (exh_field){"threat.indicator.reference", h->ioc_report};
      }
      exh_finding fd = {.rule_id = r->id, .rule_name = r->name, .severity = r->severity,
                        .confidence = r->confidence, .attack = r->attack,
                        .n_attack = r->n_attack, .actor = h->ioc_actor,
                        .event_time_ms = j->mtime_ms, .path = j->path,
                        .sha256 = j->sha256[0] ? j->sha256 : NULL, .offset = h->offset,
                        .fields = fields, .n_fields = nf,
                        .message = h->message ? h->message : r->message, .action = r->action};
      st->findings++;
      rc = on_finding(ctx, &fd);
    }
    if (j->err) {
      st->unreadable++;
      if (on_error && rc == EXH_OK) on_error(ctx, j->err);
    }
    job_clear(j);
  }
  b->n = 0;
  return rc;
}

static void workers_free(worker *ws, unsigned n) {
  for (unsigned i = 0; i < n; i++) {
    exhi_yara_scanner_free(ws[i].ys);
    EVP_MD_CTX_free(ws[i].c256);
    EVP_MD_CTX_free(ws[i].c1);
    EVP_MD_CTX_free(ws[i].c5);
    free(ws[i].buf);
  }
  free(ws);
}

int exh_files_scan(const exh_files *f, const char *root,
                   int (*on_finding)(void *ctx, const exh_finding *fd),
                   void (*on_error)(void *ctx, const exh_error *e), void *ctx,
                   exh_files_stats *stats, exh_error *err) {
  return exhi_files_scan_skip(f, root, f->skip.n_dirs ? &f->skip : NULL, on_finding, on_error,
                              ctx, stats, err);
}

int exhi_files_scan_skip(const exh_files *f, const char *root, const exhi_walk_skip *skip,
                         int (*on_finding)(void *ctx, const exh_finding *fd),
                         void (*on_error)(void *ctx, const exh_error *e), void *ctx,
                         exh_files_stats *stats, exh_error *err) {
  exh_files_stats local = {0};
  if (!stats) stats = &local;
  exhi_walk *wk;
  exh_error werr = {0};
  int rc = exhi_walk_new_skip(root, skip, &wk, &werr);
  if (!wk) {
    if (err) *err = werr;
    return rc;
  }
  if (rc != EXH_OK) { /* the root folder was read only in part */
    stats->unreadable++;
    if (on_error) on_error(ctx, &werr);
  }
  worker *ws = calloc(f->threads, sizeof *ws);
  batch *bs = calloc(2, sizeof *bs);
  rc = EXH_OK;
  if (!ws || !bs) rc = exhi_err(err, EXH_ERR_NOMEM, root, 0, -1, "out of memory");
  for (unsigned i = 0; rc == EXH_OK && i < f->threads; i++) {
    ws[i].f = f;
    ws[i].c256 = EVP_MD_CTX_new();
    ws[i].c1 = EVP_MD_CTX_new();
    ws[i].c5 = EVP_MD_CTX_new();
    if (!ws[i].c256 || !ws[i].c1 || !ws[i].c5)
      rc = exhi_err(err, EXH_ERR_NOMEM, root, 0, -1, "out of memory");
    else if (f->yara)
      rc = exhi_yara_scanner_new(f->yara, &ws[i].ys, err);
  }
  bool oom = false, done = false;
  /* The root as the walk spells it ("dir//" walks as "dir"). */
  size_t root_len = strlen(root);
  while (root_len > 1 && root[root_len - 1] == '/') root_len--;
  batch *cur = bs ? &bs[0] : NULL, *nxt = bs ? &bs[1] : NULL;
  if (rc == EXH_OK) done = fill(wk, root_len, cur, &oom);
  while (rc == EXH_OK && cur->n) {
    unsigned nt = f->threads < cur->n ? f->threads : (unsigned)cur->n;
    unsigned started = 0;
    /* Workers run in their own threads even when there is one, so that
     * the walk of the next batch overlaps the scan of this one. */
    for (unsigned i = 0; i < nt; i++) {
      ws[i].b = cur;
      if (pthread_create(&ws[i].tid, NULL, worker_main, &ws[i]) != 0) break;
      started++;
    }
    if (started == 0) worker_main(&ws[0]); /* no thread could start: scan here */
    if (!done && !oom) done = fill(wk, root_len, nxt, &oom);
    for (unsigned i = 0; i < started; i++) pthread_join(ws[i].tid, NULL);
    rc = emit(f, cur, on_finding, on_error, ctx, stats);
    batch *t = cur;
    cur = nxt;
    nxt = t;
    if (done && !cur->n) break;
  }
  if (oom && rc == EXH_OK) rc = exhi_err(err, EXH_ERR_NOMEM, root, 0, -1, "out of memory walking");
  if (bs) {
    for (size_t i = 0; i < bs[0].n; i++) job_clear(&bs[0].jobs[i]);
    for (size_t i = 0; i < bs[1].n; i++) job_clear(&bs[1].jobs[i]);
  }
  exhi_walk_counts wc;
  exhi_walk_get_counts(wk, &wc);
  stats->dirs += wc.dirs;
  stats->links_skipped += wc.links_skipped;
  stats->special_skipped += wc.special_skipped;
  stats->files_left += wc.files_left;
  exhi_walk_free(wk);
  if (ws) workers_free(ws, f->threads);
  free(bs);
  return rc;
}
