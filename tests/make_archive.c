/*
 * Test helper: writes an archive of a folder with libarchive, in the forms
 * Python cannot write: 7z (no 7z writer, and Debian's 7z tools are not
 * installed), and zip encrypted with a password (KAPE --zpw, CyLR -zp), so
 * the end-to-end tests can check them as a responder would receive them.
 *
 * usage: make_archive OUT.7z DIR
 *        make_archive --zip PASSWORD ENCRYPTION OUT.zip DIR
 *          (ENCRYPTION: zipcrypt, aes128 or aes256)
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
  const char *password = NULL, *encryption = NULL;
  if (argc == 6 && !strcmp(argv[1], "--zip")) {
    password = argv[2];
    encryption = argv[3];
    argv += 3;
    argc -= 3;
  }
  if (argc != 3) {
    fprintf(stderr, "usage: make_archive OUT.7z DIR | make_archive --zip PASSWORD ENCRYPTION OUT.zip DIR\n");
    return 2;
  }
  out = archive_write_new();
  char opt[64];
  snprintf(opt, sizeof opt, "zip:encryption=%s", encryption ? encryption : "");
  int fmt = password ? archive_write_set_format_zip(out) : archive_write_set_format_7zip(out);
  if (fmt == ARCHIVE_OK && password &&
      (archive_write_set_options(out, opt) != ARCHIVE_OK ||
       archive_write_set_passphrase(out, password) != ARCHIVE_OK))
    fmt = ARCHIVE_FATAL;
  if (fmt != ARCHIVE_OK || archive_write_open_filename(out, argv[1]) != ARCHIVE_OK) {
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
