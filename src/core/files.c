#define _GNU_SOURCE /* O_NOATIME */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int exhi_open_ro(const char *path) {
  /* O_NOATIME is refused (EPERM) on files we do not own unless we have
   * CAP_FOWNER; fall back to a plain open then: relatime still limits updates. */
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOATIME);
  if (fd < 0 && errno == EPERM) fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  return fd;
}

int exhi_read_file(const char *path, size_t max, unsigned char **buf,
                   size_t *len, exh_error *err) {
  *buf = NULL;
  *len = 0;
  int fd = exhi_open_ro(path);
  if (fd < 0)
    return exhi_err(err, EXH_ERR_IO, path, 0, -1, "cannot open: %s", strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int e = errno;
    close(fd);
    return exhi_err(err, EXH_ERR_IO, path, 0, -1, "cannot stat: %s", strerror(e));
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    return exhi_err(err, EXH_ERR_IO, path, 0, -1, "not a regular file");
  }
  if ((uint64_t)st.st_size > max) {
    close(fd);
    return exhi_err(err, EXH_ERR_LIMIT, path, 0, -1,
                    "file is %lld bytes, more than the %zu this input may have",
                    (long long)st.st_size, max);
  }
  size_t want = (size_t)st.st_size;
  unsigned char *b = malloc(want + 1);
  if (!b) {
    close(fd);
    return exhi_err(err, EXH_ERR_NOMEM, path, 0, -1, "out of memory");
  }
  size_t got = 0;
  /* Read to EOF rather than trusting st_size: the file may be growing. */
  for (;;) {
    if (got == want) {
      unsigned char probe;
      ssize_t r = read(fd, &probe, 1);
      if (r == 0) break;
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) {
        int e = errno;
        free(b);
        close(fd);
        return exhi_err(err, EXH_ERR_IO, path, 0, (long long)got, "read failed: %s", strerror(e));
      }
      free(b);
      close(fd);
      return exhi_err(err, EXH_ERR_LIMIT, path, 0, -1, "file grew while being read");
    }
    ssize_t r = read(fd, b + got, want - got);
    if (r == 0) break;
    if (r < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      free(b);
      close(fd);
      return exhi_err(err, EXH_ERR_IO, path, 0, (long long)got, "read failed: %s", strerror(e));
    }
    got += (size_t)r;
  }
  close(fd);
  b[got] = '\0';
  *buf = b;
  *len = got;
  return EXH_OK;
}
