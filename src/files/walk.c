#define _GNU_SOURCE /* O_NOATIME */
#include "walk.h"

#include <dirent.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct ent {
  size_t name_off; /* into frame.names */
  mode_t mode;
  dev_t dev;
  ino_t ino;
  int64_t size, mtime_ms;
} ent;

typedef struct frame {
  int fd;           /* the folder, for openat/fstatat relative to it */
  dev_t dev;        /* the folder's identity, to refuse loops (bind mounts) */
  ino_t ino;
  size_t path_len;  /* length of the folder's path in w->path */
  ent *ents;
  size_t n, i;
  char *names;      /* NUL-separated names */
  int64_t median_ms;
  size_t nfiles;
  bool skip;        /* the folder is, or lies below, a skip folder */
} frame;

struct exhi_walk {
  frame stack[EXHI_WALK_MAX_DEPTH];
  size_t depth;
  char path[EXHI_WALK_MAX_PATH + 1];
  int single;       /* root is a file: 1 until it is yielded */
  const exhi_walk_skip *skip;
  struct stat single_st;
  exhi_walk_counts counts;
};

static int64_t mtime_ms(const struct stat *st) {
  return (int64_t)st->st_mtim.tv_sec * 1000 + st->st_mtim.tv_nsec / 1000000;
}

static int open_dir_at(int dirfd, const char *name) {
  int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY;
  int fd = openat(dirfd, name, flags | O_NOATIME);
  if (fd < 0 && errno == EPERM) fd = openat(dirfd, name, flags);
  return fd;
}

static int cmp_ent(const void *a, const void *b, void *names) {
  const ent *x = a, *y = b;
  return strcmp((const char *)names + x->name_off, (const char *)names + y->name_off);
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

static void frame_free(frame *f) {
  if (f->fd >= 0) close(f->fd);
  free(f->ents);
  free(f->names);
  memset(f, 0, sizeof *f);
  f->fd = -1;
}

/* Is the folder at w->path[0..len) a skip folder or below one? A folder
 * below one is known from its parent's frame, so each folder costs one
 * comparison per skip folder. */
static bool in_skip_dir(const exhi_walk *w, size_t len) {
  if (!w->skip || !w->skip->n_dirs) return false;
  if (w->depth && w->stack[w->depth - 1].skip) return true;
  for (size_t i = 0; i < w->skip->n_dirs; i++) {
    const char *d = w->skip->dirs[i];
    size_t dl = d ? strlen(d) : 0;
    while (dl > 1 && d[dl - 1] == '/') dl--; /* "dir/" names "dir" */
    if (dl && dl == len && !memcmp(d, w->path, len)) return true;
  }
  return false;
}

/* Does the name end with one of the skip endings (or are there none)? */
static bool skip_name(const exhi_walk_skip *s, const char *name) {
  if (!s->n_exts) return true;
  size_t nl = strlen(name);
  for (size_t i = 0; i < s->n_exts; i++) {
    size_t el = s->exts[i] ? strlen(s->exts[i]) : 0;
    if (el && el < nl && !strcasecmp(name + nl - el, s->exts[i])) return true;
  }
  return false;
}

/* Bytes of a file's start that tell a text log from a binary file: the log
 * hunt's own test (loghunt.c, looks_binary) reads this much. */
#define LOG_PEEK 4096

/* Whether a file named like a log is one the log hunt reads: an event log
 * ("ElfFile\0"), a gzip file, or text with no NUL in its first LOG_PEEK
 * bytes. The hunt skips anything else as binary, so an LSASS dump or an
 * archive named x.log must stay with the file scan. Opened read-only (link
 * not followed, access time kept); a file that cannot be read is scanned,
 * which reports why. */
static bool reads_as_log(int dfd, const char *name) {
  int fl = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK;
  int fd = openat(dfd, name, fl | O_NOATIME);
  if (fd < 0 && errno == EPERM) fd = openat(dfd, name, fl);
  if (fd < 0) return false;
  unsigned char b[LOG_PEEK];
  ssize_t n = pread(fd, b, sizeof b, 0);
  close(fd);
  if (n < 0) return false;
  if (n >= 2 && b[0] == 0x1f && b[1] == 0x8b) return true;
  if (n >= 8 && !memcmp(b, "ElfFile\0", 8)) return true;
  return !memchr(b, '\0', (size_t)n);
}

/* Reads a folder's entries (fd is taken over) and pushes a frame. On error
 * the fd is closed and nothing is pushed. */
static int push_dir(exhi_walk *w, int fd, size_t path_len, exh_error *err) {
  if (w->depth >= EXHI_WALK_MAX_DEPTH) {
    close(fd);
    return exhi_err(err, EXH_ERR_LIMIT, w->path, 0, -1,
                    "folder nested deeper than %d levels: not entered", EXHI_WALK_MAX_DEPTH);
  }
  int dfd = dup(fd);
  DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
  if (!d) {
    int e = errno;
    if (dfd >= 0) close(dfd);
    close(fd);
    return exhi_err(err, EXH_ERR_IO, w->path, 0, -1, "cannot read folder: %s", strerror(e));
  }
  frame f = {.fd = fd, .path_len = path_len, .skip = in_skip_dir(w, path_len)};
  struct stat self;
  if (fstat(fd, &self) == 0) {
    f.dev = self.st_dev;
    f.ino = self.st_ino;
    /* A folder that is its own ancestor (a bind mount of a parent inside
     * the tree) would be walked until the depth limit: refuse it. */
    for (size_t k = 0; k < w->depth; k++)
      if (w->stack[k].dev == f.dev && w->stack[k].ino == f.ino) {
        closedir(d);
        close(fd);
        return exhi_err(err, EXH_ERR_LIMIT, w->path, 0, -1,
                        "folder is one of its own parents (a bind mount?): not entered again");
      }
  }
  size_t cap = 0, names_len = 0, names_cap = 0;
  int rc = EXH_OK;
  struct dirent *de;
  errno = 0;
  while ((de = readdir(d)) != NULL) {
    const char *nm = de->d_name;
    if (nm[0] == '.' && (nm[1] == '\0' || (nm[1] == '.' && nm[2] == '\0'))) continue;
    if (f.n >= EXHI_WALK_MAX_DIR_ENTRIES) {
      rc = exhi_err(err, EXH_ERR_LIMIT, w->path, 0, -1,
                    "folder has more than %u entries: the rest is not scanned",
                    EXHI_WALK_MAX_DIR_ENTRIES);
      break;
    }
    struct stat st;
    if (fstatat(fd, nm, &st, AT_SYMLINK_NOFOLLOW) != 0) continue; /* vanished */
    size_t nl = strlen(nm) + 1;
    if (f.n == cap) {
      size_t nc = cap ? cap * 2 : 64;
      ent *ne = realloc(f.ents, nc * sizeof *ne);
      if (!ne) goto nomem;
      f.ents = ne;
      cap = nc;
    }
    if (names_len + nl > names_cap) {
      size_t nc = names_cap ? names_cap * 2 : 4096;
      while (nc < names_len + nl) nc *= 2;
      char *nn = realloc(f.names, nc);
      if (!nn) goto nomem;
      f.names = nn;
      names_cap = nc;
    }
    memcpy(f.names + names_len, nm, nl);
    f.ents[f.n++] = (ent){.name_off = names_len, .mode = st.st_mode, .dev = st.st_dev,
                          .ino = st.st_ino, .size = (int64_t)st.st_size,
                          .mtime_ms = mtime_ms(&st)};
    names_len += nl;
  }
  if (!de && errno != 0 && rc == EXH_OK)
    rc = exhi_err(err, EXH_ERR_IO, w->path, 0, -1, "reading folder failed: %s", strerror(errno));
  closedir(d);
  if (f.n) {
    qsort_r(f.ents, f.n, sizeof *f.ents, cmp_ent, f.names);
  }
  /* Median mtime of the regular files: the folder's "usual age". */
  int64_t *m = NULL;
  for (size_t i = 0; i < f.n; i++)
    if (S_ISREG(f.ents[i].mode)) f.nfiles++;
  if (f.nfiles) {
    m = malloc(f.nfiles * sizeof *m);
    if (!m) goto nomem_after;
    size_t k = 0;
    for (size_t i = 0; i < f.n; i++)
      if (S_ISREG(f.ents[i].mode)) m[k++] = f.ents[i].mtime_ms;
    qsort(m, k, sizeof *m, cmp_i64);
    f.median_ms = m[k / 2];
    free(m);
  }
  w->stack[w->depth++] = f;
  w->counts.dirs++;
  return rc;

nomem:
  closedir(d);
nomem_after:
  free(f.ents);
  free(f.names);
  close(fd);
  return exhi_err(err, EXH_ERR_NOMEM, w->path, 0, -1, "out of memory listing folder");
}

int exhi_walk_new(const char *root, exhi_walk **out, exh_error *err) {
  return exhi_walk_new_skip(root, NULL, out, err);
}

int exhi_walk_new_skip(const char *root, const exhi_walk_skip *skip, exhi_walk **out,
                       exh_error *err) {
  *out = NULL;
  size_t rl = strlen(root);
  if (rl == 0) return exhi_err(err, EXH_ERR_INVALID, "argument", 0, -1, "empty path");
  if (rl > EXHI_WALK_MAX_PATH - 2)
    return exhi_err(err, EXH_ERR_LIMIT, root, 0, -1, "path longer than %d bytes", EXHI_WALK_MAX_PATH);
  exhi_walk *w = calloc(1, sizeof *w);
  if (!w) return exhi_err(err, EXH_ERR_NOMEM, root, 0, -1, "out of memory");
  for (size_t i = 0; i < EXHI_WALK_MAX_DEPTH; i++) w->stack[i].fd = -1;
  w->skip = skip;
  memcpy(w->path, root, rl + 1);
  /* "dir/" and "dir" give the same paths. */
  while (rl > 1 && w->path[rl - 1] == '/') w->path[--rl] = '\0';
  struct stat st;
  if (stat(w->path, &st) != 0) {
    int e = errno;
    free(w);
    return exhi_err(err, EXH_ERR_IO, root, 0, -1, "cannot open: %s", strerror(e));
  }
  if (S_ISREG(st.st_mode)) {
    /* A link the user named is followed, here once: the scan then opens
     * the target (files are opened O_NOFOLLOW). */
    struct stat lst;
    if (lstat(w->path, &lst) == 0 && S_ISLNK(lst.st_mode)) {
      char *real = realpath(w->path, NULL);
      if (!real || strlen(real) > EXHI_WALK_MAX_PATH - 2) {
        free(real);
        free(w);
        return exhi_err(err, EXH_ERR_IO, root, 0, -1, "cannot resolve the link");
      }
      memcpy(w->path, real, strlen(real) + 1);
      free(real);
    }
    w->single = 1;
    w->single_st = st;
    *out = w;
    return EXH_OK;
  }
  if (!S_ISDIR(st.st_mode)) {
    free(w);
    return exhi_err(err, EXH_ERR_INVALID, root, 0, -1, "not a folder or regular file");
  }
  int fd = open_dir_at(AT_FDCWD, w->path);
  if (fd < 0 && errno == ELOOP) { /* root itself is a link the user named */
    fd = open(w->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  }
  if (fd < 0) {
    int e = errno;
    free(w);
    return exhi_err(err, EXH_ERR_IO, root, 0, -1, "cannot open folder: %s", strerror(e));
  }
  int rc = push_dir(w, fd, rl, err);
  if (w->depth == 0) {
    free(w);
    return rc;
  }
  *out = w;
  return rc; /* a partial first folder is reported but the walk goes on */
}

int exhi_walk_next(exhi_walk *w, exhi_walk_entry *e, int *got, exh_error *err) {
  *got = 0;
  if (w->single) {
    w->single = 0;
    const char *slash = strrchr(w->path, '/');
    *e = (exhi_walk_entry){.path = w->path, .name = slash ? slash + 1 : w->path,
                           .dev = w->single_st.st_dev, .ino = w->single_st.st_ino,
                           .size = (int64_t)w->single_st.st_size,
                           .mtime_ms = mtime_ms(&w->single_st),
                           .dir_median_mtime_ms = mtime_ms(&w->single_st), .dir_files = 1};
    *got = 1;
    return EXH_OK;
  }
  while (w->depth) {
    frame *f = &w->stack[w->depth - 1];
    if (f->i == f->n) {
      frame_free(f);
      w->depth--;
      continue;
    }
    const ent *en = &f->ents[f->i++];
    const char *nm = f->names + en->name_off;
    size_t nl = strlen(nm);
    if (f->path_len + 1 + nl > EXHI_WALK_MAX_PATH) {
      w->path[f->path_len] = '\0';
      return exhi_err(err, EXH_ERR_LIMIT, w->path, 0, -1,
                      "an entry's path is longer than %d bytes: skipped", EXHI_WALK_MAX_PATH);
    }
    /* "/" as root must not give "//name". */
    size_t base = f->path_len;
    if (!(base == 1 && w->path[0] == '/')) w->path[base++] = '/';
    memcpy(w->path + base, nm, nl + 1);
    if (S_ISLNK(en->mode)) {
      w->counts.links_skipped++;
      continue;
    }
    if (S_ISDIR(en->mode)) {
      int fd = open_dir_at(f->fd, nm);
      if (fd < 0)
        return exhi_err(err, EXH_ERR_IO, w->path, 0, -1, "cannot open folder: %s", strerror(errno));
      struct stat st;
      if (fstat(fd, &st) != 0 || st.st_dev != en->dev || st.st_ino != en->ino) {
        close(fd);
        return exhi_err(err, EXH_ERR_IO, w->path, 0, -1, "folder changed while being walked");
      }
      int rc = push_dir(w, fd, base + nl, err);
      if (rc != EXH_OK) return rc;
      continue;
    }
    if (!S_ISREG(en->mode)) {
      w->counts.special_skipped++;
      continue;
    }
    if (f->skip && skip_name(w->skip, nm) && (!w->skip->n_exts || reads_as_log(f->fd, nm))) {
      w->counts.files_left++;
      continue;
    }
    *e = (exhi_walk_entry){.path = w->path, .name = w->path + base, .dev = en->dev,
                           .ino = en->ino, .size = en->size, .mtime_ms = en->mtime_ms,
                           .dir_median_mtime_ms = f->median_ms, .dir_files = f->nfiles};
    *got = 1;
    return EXH_OK;
  }
  return EXH_OK;
}

void exhi_walk_get_counts(const exhi_walk *w, exhi_walk_counts *c) { *c = w->counts; }

void exhi_walk_free(exhi_walk *w) {
  if (!w) return;
  while (w->depth) frame_free(&w->stack[--w->depth]);
  free(w);
}
