/*
 * Archives for exhunt check (zip, tar, tar.gz, 7z through libarchive):
 * extracted, bounded, into a private temporary folder that the caller removes
 * afterwards. Archives are evidence and attacker-controlled: entries that
 * would land outside the folder (absolute paths, "..") are refused, links and
 * special files are never created, sizes, counts and depth are bounded, and
 * files are created O_EXCL|O_NOFOLLOW below folders opened O_NOFOLLOW.
 */
#define _GNU_SOURCE
#include "check.h"
#include "core/dl_archive.h" /* libarchive, loaded on first use */

#include <errno.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/time.h>
#include <unistd.h>

/* Entries in one archive: a triage collection has tens of thousands. */
#define ARCHIVE_MAX_ENTRIES 2000000
/* Folder depth of an entry: Windows paths stay well below this. */
#define ARCHIVE_MAX_DEPTH 48
/* Space left free on the temporary folder's file system: a collection
 * (or a bomb under --max-extract) must not fill the responder's disk; the
 * extraction stops with an error naming TMPDIR instead. */
#define ARCHIVE_DISK_RESERVE (512ull << 20)
/* How often the free space is looked at: every 64 MiB written. */
#define ARCHIVE_DISK_CHECK_EVERY (64ull << 20)

static int open_dir_at(int dfd, const char *name, int create) {
  if (create && mkdirat(dfd, name, 0700) != 0 && errno != EEXIST) return -1;
  return openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/* Splits a cleaned relative path into folders and creates them below root;
 * returns the fd of the last folder and sets *base to the file name. */
static int make_parents(int root, char *rel, const char **base) {
  int fd = dup(root);
  char *p = rel, *slash;
  while (fd >= 0 && (slash = strchr(p, '/'))) {
    *slash = '\0';
    int nfd = open_dir_at(fd, p, 1);
    close(fd);
    fd = nfd;
    p = slash + 1;
  }
  *base = p;
  return fd;
}

/* '\\' as '/', no leading "./" or "/", no empty, "." or ".." component.
 * A drive ("C:\\Windows\\...", as some CyLR versions and hand-made zips
 * store Windows paths) is kept as a folder named "C:" inside the private
 * folder, where it is harmless; a drive-relative "C:x" is refused.
 * Returns 0 when the path is refused. */
static int clean_path(const char *in, char *out, size_t size, int *depth) {
  size_t o = 0;
  *depth = 0;
  if (in[0] == '/' || in[0] == '\\') return 0; /* absolute */
  if (in[0] && in[1] == ':') {
    int letter = ((in[0] | 32) >= 'a' && (in[0] | 32) <= 'z');
    if (!letter || (in[2] != '/' && in[2] != '\\')) return 0;
  }
  const char *p = in;
  while (*p) {
    const char *s = p;
    while (*p && *p != '/' && *p != '\\') p++;
    size_t n = (size_t)(p - s);
    if (*p) p++;
    if (n == 0 || (n == 1 && s[0] == '.')) continue;
    if (n == 2 && s[0] == '.' && s[1] == '.') return 0;
    if (o + n + 2 >= size) return 0;
    if (o) out[o++] = '/';
    memcpy(out + o, s, n);
    o += n;
    (*depth)++;
  }
  out[o] = '\0';
  return o > 0 && *depth <= ARCHIVE_MAX_DEPTH;
}

/* Set by exh_check_extract_stop: every extraction of the process stops at
 * its next block (an interrupt is cleaning up after it). */
static atomic_int stop_all;

void exh_check_extract_stop(void) { atomic_store(&stop_all, 1); }

static const char *tmp_base(void) {
  const char *tmp = getenv("TMPDIR");
  return tmp && *tmp ? tmp : "/tmp";
}

int exhi_archive_tempdir(const char *path, char *dir, size_t dir_size, exh_error *err) {
  const char *tmp = tmp_base();
  dir[0] = '\0';
  if ((size_t)snprintf(dir, dir_size, "%s/exhunt-check-XXXXXX", tmp) >= dir_size) {
    dir[0] = '\0';
    return exhi_err(err, EXH_ERR_LIMIT, path, 0, -1, "temporary folder path too long");
  }
  if (!mkdtemp(dir)) { /* mode 0700: private */
    int e = errno;
    dir[0] = '\0';
    return exhi_err(err, EXH_ERR_IO, path, 0, -1, "cannot create a temporary folder in %s: %s", tmp,
                    strerror(e));
  }
  return EXH_OK;
}

int exhi_archive_extract(const char *path, uint64_t max_bytes, char *dir, size_t dir_size,
                         exhi_archive_stats *st, exh_error *err) {
  memset(st, 0, sizeof *st);
  int rc = exhi_archive_tempdir(path, dir, dir_size, err);
  return rc ? rc : exhi_archive_extract_into(path, max_bytes, dir, NULL, st, err);
}

/* libarchive's message, which may quote a member's name: kept printable. */
static const char *la_error(struct archive *a, char *buf, size_t size, const char *fallback) {
  const char *m = archive_error_string(a);
  exhi_escape_terminal(m ? m : fallback, buf, size);
  return buf;
}

/* Disk images that collectors write instead of an archive (KAPE --vhdx /
 * --vhd, FTK Imager E01): libarchive does not read them, and "not an
 * archive" would not tell the responder what to do. Magic numbers from the
 * formats' specifications (VHDX: "vhdxfile" file type identifier at offset 0;
 * VHD: the "conectix" footer copy at offset 0 of a dynamic disk; EWF:
 * "EVF\t\r\n\xff\0"). */
static int magic_at(int fd, off_t off, const char *magic, size_t n) {
  char m[16];
  return n <= sizeof m && pread(fd, m, n, off) == (ssize_t)n && !memcmp(m, magic, n);
}

/* Two marks each, so that a tar whose first member is named "vhdxfile" (its
 * name is the tar's first bytes) stays a tar: VHDX's first header "head" at
 * 64 KiB, a dynamic VHD's header "cxsparse" at 512, EWF's fields start 1. */
static const char *disk_image(int fd) {
  if (magic_at(fd, 0, "vhdxfile", 8) && magic_at(fd, 64 << 10, "head", 4))
    return "a VHDX disk image (KAPE --vhdx): mount it read-only (for example guestmount --ro -a FILE -i "
           "/mnt/x, or qemu-nbd --read-only) and check the mounted folder";
  if (magic_at(fd, 0, "conectix", 8) && magic_at(fd, 512, "cxsparse", 8))
    return "a VHD disk image (KAPE --vhd): mount it read-only (for example guestmount --ro -a FILE -i "
           "/mnt/x) and check the mounted folder";
  if (magic_at(fd, 0, "EVF\x09\x0d\x0a\xff\x00\x01", 9))
    return "an EWF (E01) disk image: mount it read-only (ewfmount, then mount -o ro) and check the "
           "mounted volume";
  return NULL;
}

int exhi_archive_extract_into(const char *path, uint64_t max_bytes, const char *dir,
                              const char *passphrase, exhi_archive_stats *st, exh_error *err) {
  memset(st, 0, sizeof *st);
  int loaded = exhi_dl_archive(err);
  if (loaded) return loaded;
  char msg[512];
  const char *tmp = tmp_base();
  int root = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (root < 0)
    return exhi_err(err, EXH_ERR_IO, path, 0, -1, "cannot open the folder to extract into (%s): %s",
                    dir, strerror(errno));
  struct archive *a = archive_read_new();
  if (!a) {
    close(root);
    return exhi_err(err, EXH_ERR_NOMEM, path, 0, -1, "cannot start reading the archive");
  }
  archive_read_support_filter_all(a);
  archive_read_support_format_all(a);
  /* KAPE (--zpw) and CyLR (-zp) encrypt their zips with a password. */
  if (passphrase && archive_read_add_passphrase(a, passphrase) != ARCHIVE_OK) {
    close(root);
    archive_read_free(a);
    return exhi_err(err, EXH_ERR_NOMEM, path, 0, -1, "cannot use the password");
  }
  int rc = EXH_OK;
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOATIME);
  if (fd < 0 && errno == EPERM) fd = open(path, O_RDONLY | O_CLOEXEC);
  const char *image = fd >= 0 ? disk_image(fd) : NULL;
  if (image) {
    rc = exhi_err(err, EXH_ERR_INVALID, path, 0, -1, "not an archive but %s", image);
    goto done;
  }
  if (fd < 0 || archive_read_open_fd(a, fd, 1 << 16) != ARCHIVE_OK) {
    rc = exhi_err(err, fd < 0 ? EXH_ERR_IO : EXH_ERR_PARSE, path, 0, -1, "cannot read as an archive: %s",
                  fd < 0 ? strerror(errno) : la_error(a, msg, sizeof msg, "unknown format"));
    goto done;
  }
  static _Thread_local char buf[1 << 16];
  struct archive_entry *e;
  uint64_t unchecked = ARCHIVE_DISK_CHECK_EVERY; /* look at the free space before the first write */
  for (;;) {
    if (atomic_load(&stop_all)) {
      rc = exhi_err(err, EXH_ERR_IO, path, 0, -1, "interrupted");
      break;
    }
    int r = archive_read_next_header(a, &e);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) {
      rc = exhi_err(err, EXH_ERR_PARSE, path, 0, -1, "entry %zu: %s", st->entries + 1,
                    la_error(a, msg, sizeof msg, "unreadable (truncated?)"));
      break;
    }
    if (++st->entries > ARCHIVE_MAX_ENTRIES) {
      rc = exhi_err(err, EXH_ERR_LIMIT, path, 0, -1, "more than %d entries", ARCHIVE_MAX_ENTRIES);
      break;
    }
    const char *name = archive_entry_pathname(e);
    char rel[4096];
    int depth;
    mode_t type = archive_entry_filetype(e);
    if (!name || !clean_path(name, rel, sizeof rel, &depth)) {
      st->refused++;
      continue;
    }
    /* The member's name for messages: printable, and taken before
     * make_parents cuts rel at its slashes. */
    char shown[1024];
    exhi_escape_terminal(rel, shown, sizeof shown);
    if (type == AE_IFDIR) {
      char *slash_end = rel + strlen(rel);
      *slash_end = '/';
      slash_end[1] = '\0';
      const char *base;
      int dfd = make_parents(root, rel, &base);
      if (dfd >= 0) close(dfd);
      continue;
    }
    if (type != AE_IFREG || archive_entry_hardlink(e)) {
      st->skipped++; /* links, devices, FIFOs are never created */
      continue;
    }
    const char *base;
    int dfd = make_parents(root, rel, &base);
    int out = dfd >= 0 ? openat(dfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600) : -1;
    if (dfd >= 0) close(dfd);
    if (out < 0) {
      st->refused++; /* a duplicate name, or a file where a folder is */
      continue;
    }
    if (archive_entry_is_data_encrypted(e) && !passphrase) {
      close(out);
      rc = exhi_err(err, EXH_ERR_INVALID, path, 0, -1,
                    "%s is encrypted: give the archive's password with --password-file FILE", shown);
      break;
    }
    for (;;) {
      if (atomic_load(&stop_all)) {
        rc = exhi_err(err, EXH_ERR_IO, path, 0, -1, "interrupted");
        break;
      }
      la_ssize_t n = archive_read_data(a, buf, sizeof buf);
      if (n == 0) break;
      if (n < 0) {
        /* ZipCrypto checks a password against one byte of each member's
         * header: one wrong password in 256 gets past it and then reads as
         * damaged data. Say so rather than blame the archive alone. */
        int enc = archive_entry_is_data_encrypted(e) && passphrase;
        rc = exhi_err(err, EXH_ERR_PARSE, path, 0, -1, "%s: %s%s", shown,
                      la_error(a, msg, sizeof msg, "unreadable (truncated?)"),
                      enc ? " (an encrypted member: a wrong password in --password-file reads as"
                            " damaged data; check it)" : "");
        break;
      }
      st->bytes += (uint64_t)n;
      if (st->bytes > max_bytes) {
        rc = exhi_err(err, EXH_ERR_LIMIT, path, 0, -1,
                      "expands to more than %llu bytes (--max-extract); stopped at %s",
                      (unsigned long long)max_bytes, shown);
        break;
      }
      if (unchecked >= ARCHIVE_DISK_CHECK_EVERY) {
        unchecked = 0;
        struct statvfs vfs;
        if (fstatvfs(root, &vfs) == 0 &&
            (uint64_t)vfs.f_bavail * vfs.f_frsize < ARCHIVE_DISK_RESERVE + (uint64_t)n) {
          rc = exhi_err(err, EXH_ERR_LIMIT, path, 0, -1,
                        "less than %llu MiB left free in %s for the temporary copy; stopped at %s "
                        "(set TMPDIR to a folder on a larger disk)",
                        (unsigned long long)(ARCHIVE_DISK_RESERVE >> 20), tmp, shown);
          break;
        }
      }
      unchecked += (uint64_t)n;
      if (write(out, buf, (size_t)n) != n) {
        rc = exhi_err(err, EXH_ERR_IO, path, 0, -1, "writing the temporary copy: %s", strerror(errno));
        break;
      }
    }
    /* The entry's time: what the incident places files by. */
    struct timespec ts[2] = {{archive_entry_mtime(e), 0}, {archive_entry_mtime(e), 0}};
    if (archive_entry_mtime_is_set(e)) futimens(out, ts);
    close(out);
    if (rc) break;
    st->files++;
  }
done:
  archive_read_free(a);
  if (fd >= 0) close(fd); /* libarchive's fd reader leaves it to its owner */
  close(root);
  return rc;
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb, (void)ftw;
  return flag == FTW_DP ? rmdir(p) : unlink(p);
}

void exhi_archive_remove(const char *dir) {
  if (dir && *dir) nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

int exh_check_extract(const char *archive, uint64_t max_bytes, char *dir, size_t size,
                      exh_error *err) {
  exhi_archive_stats st;
  return exhi_archive_extract(archive, max_bytes, dir, size, &st, err);
}

int exh_check_tempdir_new(const char *archive, char *dir, size_t size, exh_error *err) {
  return exhi_archive_tempdir(archive, dir, size, err);
}

int exh_check_extract_into(const char *archive, uint64_t max_bytes, const char *dir,
                           const char *password, exh_error *err) {
  exhi_archive_stats st;
  return exhi_archive_extract_into(archive, max_bytes, dir, password, &st, err);
}

void exh_check_extract_remove(const char *dir) { exhi_archive_remove(dir); }
