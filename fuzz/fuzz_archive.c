/* libFuzzer target: exhunt check's archive extraction (libarchive behind
 * exhunt's own path cleaning and bounds). The input is written to a private
 * temporary file, extracted with a 4 MiB bound into a private folder, and
 * both are removed; nothing may be created outside that folder. */
#define _GNU_SOURCE
#include "check/check.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > (1u << 20)) return 0;
  char path[] = "/tmp/exhunt-fuzz-archive-XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) return 0;
  if (write(fd, data, size) != (ssize_t)size) {
    close(fd);
    unlink(path);
    return 0;
  }
  close(fd);
  char dir[4096];
  exhi_archive_stats st;
  exh_error err;
  int rc = exhi_archive_extract(path, 4u << 20, dir, sizeof dir, &st, &err);
  if (rc != EXH_OK && !memchr(err.text, '\0', sizeof err.text)) abort();
  if (st.bytes > (4u << 20) + (1u << 16)) abort(); /* the bound holds within one read */
  if (dir[0]) exhi_archive_remove(dir);
  struct stat sb;
  if (dir[0] && stat(dir, &sb) == 0) abort(); /* removed whole */
  unlink(path);
  return 0;
}
