/*
 * Test helper: writes a 7z archive of a folder with libarchive (Python has
 * no 7z writer and Debian's 7z tools are not installed), so the end-to-end
 * tests can check a 7z collection as a responder would receive one.
 *
 * usage: make_archive OUT.7z DIR
 * Members are named by their path below DIR ("C/inetpub/..."), file times kept.
 */
#define _GNU_SOURCE
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static struct archive *out;
static size_t base_len;

static int add(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)ftw;
  if (flag != FTW_F || !S_ISREG(st->st_mode)) return 0;
  struct archive_entry *e = archive_entry_new();
  archive_entry_set_pathname(e, path + base_len + 1);
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_perm(e, 0644);
  archive_entry_set_size(e, st->st_size);
  archive_entry_set_mtime(e, st->st_mtime, 0);
  int rc = archive_write_header(out, e);
  archive_entry_free(e);
  if (rc != ARCHIVE_OK) {
    fprintf(stderr, "make_archive: %s: %s\n", path, archive_error_string(out));
    return 1;
  }
  int fd = open(path, O_RDONLY);
  if (fd < 0) return 1;
  char buf[1 << 16];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0)
    if (archive_write_data(out, buf, (size_t)n) != n) {
      close(fd);
      return 1;
    }
  close(fd);
  return n < 0;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: make_archive OUT.7z DIR\n");
    return 2;
  }
  out = archive_write_new();
  if (archive_write_set_format_7zip(out) != ARCHIVE_OK || archive_write_open_filename(out, argv[1]) != ARCHIVE_OK) {
    fprintf(stderr, "make_archive: %s: %s\n", argv[1], archive_error_string(out));
    return 1;
  }
  base_len = strlen(argv[2]);
  while (base_len > 1 && argv[2][base_len - 1] == '/') base_len--;
  int rc = nftw(argv[2], add, 16, FTW_PHYS);
  if (archive_write_close(out) != ARCHIVE_OK) rc = 1;
  archive_write_free(out);
  return rc ? 1 : 0;
}
