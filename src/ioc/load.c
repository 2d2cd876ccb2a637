/*
 * exh_ioc_set_open: the one way a scanner (exhunt files, logs, check) gets
 * its indicators. It tells "no store" (scan without indicators) apart from
 * "a store that cannot be read" (stop: scanning without the indicators the
 * user has would be a silent miss), which exh_ioc_store_open alone cannot:
 * SQLite opens a missing and an unreadable file with the same error.
 */
#include "core/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int exh_ioc_set_open(const char *path, char *resolved, size_t size, exh_ioc_set **out,
                     exh_error *err) {
  *out = NULL;
  char buf[4096];
  if (resolved && size) resolved[0] = '\0';
  if (path) {
    if (!*path) return exhi_err(err, EXH_ERR_INVALID, "store", 0, -1, "empty store path");
    if ((size_t)snprintf(buf, sizeof buf, "%s", path) >= sizeof buf)
      return exhi_err(err, EXH_ERR_LIMIT, "store", 0, -1, "store path longer than %zu bytes",
                      sizeof buf - 1);
  } else {
    int rc = exh_ioc_default_path(buf, sizeof buf, err);
    if (rc == EXH_ERR_NOTFOUND) return EXH_OK; /* no HOME: no default store */
    if (rc != EXH_OK) return rc;
  }
  struct stat st;
  if (stat(buf, &st) != 0) {
    int e = errno;
    if (e == ENOENT || e == ENOTDIR) {
      if (!path) return EXH_OK; /* nothing imported yet: the normal first run */
      /* A store named on purpose must be there: a typo must not silently
       * scan without the indicators the user meant. */
      return exhi_err(err, EXH_ERR_NOTFOUND, buf, 0, -1,
                      "%s (create it with 'exhunt ioc import FILE')", strerror(e));
    }
    return exhi_err(err, EXH_ERR_IO, buf, 0, -1, "%s", strerror(e));
  }
  if (resolved && size) snprintf(resolved, size, "%s", buf);
  if (!S_ISREG(st.st_mode))
    return exhi_err(err, EXH_ERR_IO, buf, 0, -1, "not a file");
  /* Asked here because SQLite would report a file it may not read as one
   * it "cannot open", the same as a missing one. */
  int fd = open(buf, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return exhi_err(err, EXH_ERR_IO, buf, 0, -1, "%s", strerror(errno));
  close(fd);
  if (st.st_size == 0) return EXH_OK; /* an empty file: a store with nothing in it */
  exh_ioc_store *s;
  int rc = exh_ioc_store_open(buf, EXH_IOC_READONLY, &s, err);
  if (rc == EXH_ERR_NOTFOUND) /* SQLite, but schema version 0: never written by exhunt */
    return exhi_err(err, EXH_ERR_DATA, buf, 0, -1,
                    "a SQLite database, but not an exhunt indicator store (schema version 0)");
  if (rc != EXH_OK) return rc;
  rc = exh_ioc_set_load(s, out, err);
  exh_ioc_store_close(s);
  if (rc != EXH_OK) return rc;
  if (!exh_ioc_set_size(*out)) { /* imported into, then every indicator removed */
    exh_ioc_set_free(*out);
    *out = NULL;
  }
  return EXH_OK;
}
