/* Blocks of whole lines from a log file, plain or gzip, in bounded memory:
 * one buffer of EXHI_LOG_BLOCK + EXHI_LOG_LINE_MAX bytes per open source. */
#define _GNU_SOURCE /* O_NOFOLLOW with O_NOATIME in exhi_open_ro's spirit */
#include "logs.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
/* ISA-L's inflate: 2.5x zlib's speed on x86 (igzip), the same gzip. */
#include <isa-l/igzip_lib.h>

/* Compressed bytes read at a time from a .gz file. */
#define GZ_IN_CHUNK (256u << 10)

/* Plain files are mapped, not copied: read() spent ~20% of a hunt copying
 * out of the page cache. One window of EXHI_LOG_BLOCK + EXHI_LOG_LINE_MAX
 * bytes is mapped at a time per source, so resident memory stays as with
 * the read buffer whatever the file size. */
#define MAP_WINDOW ((size_t)EXHI_LOG_BLOCK + EXHI_LOG_LINE_MAX)

struct exhi_logsrc {
  char *name;
  int fd;               /* -1 for memory sources */
  const unsigned char *mem;
  size_t mem_len, mem_pos;
  int gzip, z_end;
  struct inflate_state *z; /* gzip decoder state (tens of KiB): owned */
  unsigned char *zin;
  char *buf;
  size_t cap;           /* EXHI_LOG_BLOCK + EXHI_LOG_LINE_MAX */
  size_t fill;          /* bytes in buf */
  size_t consumed;      /* bytes of buf handed out by the last call */
  int eof;
  int skipping;          /* inside a line longer than EXHI_LOG_LINE_MAX */
  uint64_t cut_lines, bytes_in;
  /* Mapped plain files: the window [map_off, map_off + map_len) of the
   * file, and the file offset of the first byte not handed out yet. */
  int mapped;
  char *map;
  size_t map_len;
  uint64_t map_off, pos, size;
  volatile sig_atomic_t shrank; /* set by the SIGBUS guard */
};

/* ---- SIGBUS guard --------------------------------------------------------
 * A file truncated while mapped turns reads past its new end into SIGBUS.
 * The guard knows each thread's window: a fault inside it gets zero pages
 * mapped over the rest of the window (the scan finishes on zeros) and the
 * source is marked; the next exhi_logsrc_next() reports the file as
 * truncated. Faults anywhere else go to the handler there was before. */
static _Thread_local exhi_logsrc *guarded;
static struct sigaction old_bus;
static pthread_once_t guard_once = PTHREAD_ONCE_INIT;
static int guard_ok;
static size_t page_size; /* read once: sysconf is not async-signal-safe */

static void on_bus(int sig, siginfo_t *si, void *uc) {
  exhi_logsrc *s = guarded;
  char *a = si ? (char *)si->si_addr : NULL;
  if (s && s->map && a >= s->map && a < s->map + s->map_len) {
    char *from = s->map + (((size_t)(a - s->map)) & ~(page_size - 1));
    size_t n = (size_t)(s->map + s->map_len - from);
    /* mmap is a plain system call: safe enough in a handler in practice. */
    if (mmap(from, n, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != MAP_FAILED) {
      s->shrank = 1;
      return;
    }
  }
  if (old_bus.sa_flags & SA_SIGINFO) {
    if (old_bus.sa_sigaction) {
      old_bus.sa_sigaction(sig, si, uc);
      return;
    }
  } else if (old_bus.sa_handler != SIG_DFL && old_bus.sa_handler != SIG_IGN) {
    old_bus.sa_handler(sig);
    return;
  }
  /* Default action: die as the fault would have made us die. */
  signal(SIGBUS, SIG_DFL);
  raise(SIGBUS);
}

static void guard_install(void) {
  long ps = sysconf(_SC_PAGESIZE);
  page_size = ps > 0 ? (size_t)ps : 4096;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_bus;
  sa.sa_flags = SA_SIGINFO | SA_NODEFER;
  sigemptyset(&sa.sa_mask);
  guard_ok = sigaction(SIGBUS, &sa, &old_bus) == 0;
}

static void unmap(exhi_logsrc *s) {
  if (guarded == s) guarded = NULL;
  if (s->map) munmap(s->map, s->map_len);
  s->map = NULL;
  s->map_len = 0;
}

static int fail(exhi_logsrc *s, exh_error *err, int code, const char *what, int e) {
  return exhi_err(err, code, s->name, 0, (long long)s->bytes_in, "%s%s%s", what,
                  e ? ": " : "", e ? strerror(e) : "");
}

static int src_new(const char *name, exhi_logsrc **out, exh_error *err) {
  exhi_logsrc *s = calloc(1, sizeof *s);
  if (!s) return exhi_err(err, EXH_ERR_NOMEM, name, 0, -1, "out of memory");
  s->fd = -1;
  s->name = strdup(name);
  s->cap = EXHI_LOG_BLOCK + EXHI_LOG_LINE_MAX;
  s->buf = malloc(s->cap);
  if (!s->name || !s->buf) {
    exhi_logsrc_free(s);
    return exhi_err(err, EXH_ERR_NOMEM, name, 0, -1, "out of memory");
  }
  *out = s;
  return EXH_OK;
}

/* Raw bytes from the file or memory. Returns bytes read, 0 at EOF, -1 error. */
static ssize_t raw_read(exhi_logsrc *s, void *dst, size_t n) {
  if (s->fd < 0) {
    size_t left = s->mem_len - s->mem_pos;
    if (n > left) n = left;
    memcpy(dst, s->mem + s->mem_pos, n);
    s->mem_pos += n;
    s->bytes_in += n;
    return (ssize_t)n;
  }
  for (;;) {
    ssize_t r = read(s->fd, dst, n);
    if (r < 0 && errno == EINTR) continue;
    if (r > 0) s->bytes_in += (uint64_t)r;
    return r;
  }
}

static int start(exhi_logsrc *s, exh_error *err) {
  /* Peek at two bytes to tell gzip from text; keep them as data otherwise. */
  ssize_t r = raw_read(s, s->buf, 2);
  if (r < 0) return fail(s, err, EXH_ERR_IO, "read failed", errno);
  if (r == 2 && (unsigned char)s->buf[0] == 0x1f && (unsigned char)s->buf[1] == 0x8b) {
    s->gzip = 1;
    s->zin = malloc(GZ_IN_CHUNK);
    if (!s->zin) return fail(s, err, EXH_ERR_NOMEM, "out of memory", 0);
    memcpy(s->zin, "\x1f\x8b", 2);
    if (!(s->z = malloc(sizeof *s->z))) return fail(s, err, EXH_ERR_NOMEM, "out of memory", 0);
    isal_inflate_init(s->z);
    s->z->crc_flag = ISAL_GZIP; /* the header parsed, the CRC and length checked */
    s->z->next_in = s->zin;
    s->z->avail_in = 2;
  } else {
    s->fill = (size_t)r;
  }
  return EXH_OK;
}

int exhi_logsrc_open(const char *path, exhi_logsrc **out, exh_error *err) {
  *out = NULL;
  exhi_logsrc *s = NULL; /* src_new sets it on success; -O3 cannot see it */
  int rc = src_new(path, &s, err);
  if (rc) return rc;
  /* Evidence: never follow a link planted where a log should be. */
  /* O_NONBLOCK: a FIFO put where a log should be must not hang the hunt
   * (it has no effect on regular files, which are all we read). */
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK | O_NOATIME);
  if (fd < 0 && errno == EPERM)
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) {
    rc = exhi_err(err, EXH_ERR_IO, path, 0, -1, "cannot open: %s",
                  errno == ELOOP ? "a symbolic link (not followed)" : strerror(errno));
    exhi_logsrc_free(s);
    return rc;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    exhi_logsrc_free(s);
    return exhi_err(err, EXH_ERR_IO, path, 0, -1, "not a regular file");
  }
  s->fd = fd;
#ifdef POSIX_FADV_SEQUENTIAL
  posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
  unsigned char magic[2];
  ssize_t m;
  do m = pread(fd, magic, 2, 0);
  while (m < 0 && errno == EINTR);
  pthread_once(&guard_once, guard_install);
  if (guard_ok && st.st_size > 0 && !(m == 2 && magic[0] == 0x1f && magic[1] == 0x8b) &&
      getenv("EXHUNT_NO_MMAP") == NULL) {
    /* Plain text: mapped windows (exhi_logsrc_next), no buffer. */
    s->mapped = 1;
    s->size = (uint64_t)st.st_size;
    free(s->buf);
    s->buf = NULL;
    *out = s;
    return EXH_OK;
  }
  if ((rc = start(s, err)) != EXH_OK) {
    exhi_logsrc_free(s);
    return rc;
  }
  *out = s;
  return EXH_OK;
}

int exhi_logsrc_open_mem(const char *name, const void *data, size_t len,
                         exhi_logsrc **out, exh_error *err) {
  *out = NULL;
  exhi_logsrc *s = NULL; /* src_new sets it on success; -O3 cannot see it */
  int rc = src_new(name, &s, err);
  if (rc) return rc;
  s->mem = data;
  s->mem_len = len;
  if ((rc = start(s, err)) != EXH_OK) {
    exhi_logsrc_free(s);
    return rc;
  }
  /* Plain text in memory never needs more than its own size: keep small
   * inputs (fuzzing, tests) from paying for a full block. */
  if (!s->gzip && len + 16 < s->cap) {
    char *b = realloc(s->buf, len + 16);
    if (b) {
      s->buf = b;
      s->cap = len + 16;
    }
  }
  *out = s;
  return EXH_OK;
}

/* Fills buf[fill..cap) with decoded bytes. Returns bytes added, 0 at end. */
static int fill_more(exhi_logsrc *s, size_t *added, exh_error *err) {
  *added = 0;
  size_t room = s->cap - s->fill;
  if (!s->gzip) {
    ssize_t r = raw_read(s, s->buf + s->fill, room);
    if (r < 0) return fail(s, err, EXH_ERR_IO, "read failed", errno);
    s->fill += (size_t)r;
    *added = (size_t)r;
    return EXH_OK;
  }
  while (*added == 0 && !s->z_end && room) {
    struct inflate_state *z = s->z;
    if (z->avail_in == 0) {
      ssize_t r = raw_read(s, s->zin, GZ_IN_CHUNK);
      if (r < 0) return fail(s, err, EXH_ERR_IO, "read failed", errno);
      if (r == 0) {
        s->z_end = 1; /* a cut member ends the file where it was cut */
        break;
      }
      z->next_in = s->zin;
      z->avail_in = (uint32_t)r;
    }
    z->next_out = (uint8_t *)s->buf + s->fill;
    z->avail_out = (uint32_t)room;
    uint32_t in_before = z->avail_in;
    int zr = isal_inflate(z);
    size_t got = room - z->avail_out;
    s->fill += got;
    room -= got;
    *added += got;
    if (zr != ISAL_DECOMP_OK) return fail(s, err, EXH_ERR_PARSE, "corrupt gzip data", 0);
    if (z->block_state == ISAL_BLOCK_FINISH) {
      /* gzip files may hold several members (rotated logs concatenated):
       * the next one starts where this one's trailer ended (the reset
       * keeps the input and the gzip wrapper setting). */
      isal_inflate_reset(z);
    } else if (got == 0 && z->avail_in == in_before) {
      /* No input taken and no output made, with room for it: stuck. */
      return fail(s, err, EXH_ERR_PARSE, "corrupt gzip data", 0);
    }
  }
  return EXH_OK;
}

/* Maps the window starting at the page holding s->pos. */
static int map_at(exhi_logsrc *s, exh_error *err) {
  unmap(s);
  uint64_t off = s->pos & ~(uint64_t)(page_size - 1);
  size_t n = MAP_WINDOW + (size_t)(s->pos - off);
  if (off + n > s->size) n = (size_t)(s->size - off);
  /* Not MAP_POPULATE: faulting the pages in as they are read maps up to
   * 16 at a time from the page cache's large folios, where populating goes
   * page by page (kernel 6.x; bench/logs: -4% CPU, -6% wall for files
   * read back from disk; the same CPU for files just written). */
  void *p = mmap(NULL, n, PROT_READ, MAP_PRIVATE, s->fd, (off_t)off);
  if (p == MAP_FAILED) return fail(s, err, EXH_ERR_IO, "cannot map", errno);
  s->map = p;
  s->map_len = n;
  s->map_off = off;
  guarded = s;
#ifdef MADV_SEQUENTIAL
  madvise(p, n, MADV_SEQUENTIAL);
#endif
  return EXH_OK;
}

static int shrank(exhi_logsrc *s, exh_error *err) {
  return exhi_err(err, EXH_ERR_IO, s->name, 0, (long long)s->pos,
                  "the file shrank while it was read (truncated or rewritten): its findings are "
                  "incomplete");
}

static int next_mapped(exhi_logsrc *s, const char **block, size_t *len, exh_error *err) {
  if (s->shrank) return shrank(s, err);
  for (;;) {
    if (s->pos >= s->size) {
      /* A log still being written may have grown: read on to its new end. */
      struct stat st;
      if (fstat(s->fd, &st) != 0 || (uint64_t)st.st_size <= s->size) {
        /* Everything it had was read: shrinking now (rotation) is no loss. */
        unmap(s);
        return EXH_OK;
      }
      s->size = (uint64_t)st.st_size;
    }
    int rc = map_at(s, err);
    if (rc) return rc;
    const char *data = s->map + (s->pos - s->map_off);
    size_t avail = (size_t)(s->map_off + s->map_len - s->pos);
    if (s->skipping) {
      /* The rest of a line that was cut: drop it up to its end. */
      const char *nl = memchr(data, '\n', avail);
      if (s->shrank) return shrank(s, err);
      if (nl) {
        s->pos += (uint64_t)(nl - data) + 1;
        s->skipping = 0;
      } else {
        s->pos += avail;
      }
      continue;
    }
    const char *nl = memrchr(data, '\n', avail);
    if (s->shrank) return shrank(s, err);
    size_t take;
    if (nl) {
      take = (size_t)(nl - data) + 1;
    } else if (s->pos + avail >= s->size) {
      take = avail; /* the last line, without its line end */
    } else {
      /* No line end in a whole window: a line longer than we keep. */
      take = avail;
      s->cut_lines++;
      s->skipping = 1;
    }
    s->pos += take;
    s->bytes_in += take;
    *block = data;
    *len = take;
    return EXH_OK;
  }
}

int exhi_logsrc_next(exhi_logsrc *s, const char **block, size_t *len, exh_error *err) {
  *block = NULL;
  *len = 0;
  if (s->mapped) return next_mapped(s, block, len, err);
  /* Keep the unfinished line of the last block. */
  if (s->consumed) {
    memmove(s->buf, s->buf + s->consumed, s->fill - s->consumed);
    s->fill -= s->consumed;
    s->consumed = 0;
  }
  /* The rest of a line that was cut: drop it up to its end. */
  while (s->skipping) {
    const char *nl = memchr(s->buf, '\n', s->fill);
    if (nl) {
      size_t drop = (size_t)(nl - s->buf) + 1;
      memmove(s->buf, s->buf + drop, s->fill - drop);
      s->fill -= drop;
      s->skipping = 0;
      break;
    }
    s->fill = 0;
    if (s->eof) {
      s->skipping = 0;
      break;
    }
    size_t added;
    int rc = fill_more(s, &added, err);
    if (rc) return rc;
    if (!added) s->eof = 1;
  }
  while (!s->eof && s->fill < EXHI_LOG_BLOCK) {
    size_t added;
    int rc = fill_more(s, &added, err);
    if (rc) return rc;
    if (!added) s->eof = 1;
  }
  if (s->fill == 0) return EXH_OK;
  const char *nl = memrchr(s->buf, '\n', s->fill);
  size_t take;
  if (nl) {
    take = (size_t)(nl - s->buf) + 1;
  } else if (s->eof) {
    take = s->fill;
  } else {
    /* No line end in a full buffer: the line is longer than we keep. Hand
     * out what we have (the reader sees one cut line) and drop the rest. */
    take = s->fill;
    s->cut_lines++;
    s->skipping = 1;
  }
  *block = s->buf;
  *len = take;
  s->consumed = take;
  return EXH_OK;
}

uint64_t exhi_logsrc_cut_lines(const exhi_logsrc *s) { return s->cut_lines; }
uint64_t exhi_logsrc_bytes_in(const exhi_logsrc *s) { return s->bytes_in; }
int exhi_logsrc_is_gzip(const exhi_logsrc *s) { return s->gzip; }

void exhi_logsrc_free(exhi_logsrc *s) {
  if (!s) return;
  unmap(s);
  if (s->fd >= 0) close(s->fd);
  free(s->z);
  free(s->zin);
  free(s->buf);
  free(s->name);
  free(s);
}
