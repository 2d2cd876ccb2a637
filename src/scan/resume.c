/*
 * --resume: after Ctrl-C, kill -9 or a reboot, the next run continues the
 * same scan with no host lost and none reported twice.
 *
 * The log holds "INDEX OFFSET" per host, appended after the host's record
 * is in the output; OFFSET is where the output ended then. On restart the
 * output is cut back to the last logged OFFSET: a record written but not
 * logged disappears and its host is scanned again. Hosts in flight at the
 * crash were never written, so they are scanned again too.
 */
#include "scan/scan.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HEADER "exhunt-scan-resume 1 "
/* fsync every this many records: a crash of the machine loses at most the
 * last few seconds' records, which are then simply scanned again. */
#define SYNC_EVERY 256

static uint64_t slot_of(uint64_t v, size_t cap) {
  v ^= v >> 33;
  v *= UINT64_C(0xff51afd7ed558ccd);
  v ^= v >> 33;
  return v & (cap - 1);
}

static int set_add(exhi_resume *r, uint64_t index, exh_error *err) {
  if ((r->n + 1) * 2 > r->cap) {
    size_t nc = r->cap ? r->cap * 2 : 1024;
    uint64_t *ns = calloc(nc, sizeof *ns);
    if (!ns) return exhi_err(err, EXH_ERR_NOMEM, "resume", 0, -1, "out of memory");
    for (size_t i = 0; i < r->cap; i++) {
      if (!r->set[i]) continue;
      size_t j = slot_of(r->set[i] - 1, nc);
      while (ns[j]) j = (j + 1) & (nc - 1);
      ns[j] = r->set[i];
    }
    free(r->set);
    r->set = ns;
    r->cap = nc;
  }
  size_t j = slot_of(index, r->cap);
  while (r->set[j]) {
    if (r->set[j] == index + 1) return EXH_OK;
    j = (j + 1) & (r->cap - 1);
  }
  r->set[j] = index + 1;
  r->n++;
  return EXH_OK;
}

bool exhi_resume_done(const exhi_resume *r, uint64_t index) {
  if (!r->cap) return false;
  size_t j = slot_of(index, r->cap);
  while (r->set[j]) {
    if (r->set[j] == index + 1) return true;
    j = (j + 1) & (r->cap - 1);
  }
  return false;
}

/* "INDEX OFFSET\n", digits only: sscanf would take signs, spaces and
 * numbers too large for their type (undefined behaviour in C). */
static bool parse_entry(const char *line, size_t len, uint64_t *idx, long long *off) {
  const char *p = line, *end = line + len - 1; /* before the '\n' */
  uint64_t v[2] = {0, 0};
  for (int k = 0; k < 2; k++) {
    if (k == 1 && (p == end || *p++ != ' ')) return false;
    const char *digits = p;
    while (p < end && *p >= '0' && *p <= '9') {
      unsigned d = (unsigned)(*p++ - '0');
      if (v[k] > (UINT64_MAX - d) / 10) return false;
      v[k] = v[k] * 10 + d;
    }
    if (p == digits) return false;
  }
  if (p != end || v[1] > (uint64_t)LLONG_MAX) return false;
  *idx = v[0];
  *off = (long long)v[1];
  return true;
}

int exhi_resume_read(exhi_resume *r, FILE *f, const char *path, uint64_t identity,
                     long long *good_end, long long *out_end, exh_error *err) {
  char header[64];
  snprintf(header, sizeof header, HEADER "%016" PRIx64 "\n", identity);
  char line[EXHI_RESUME_LINE_MAX];
  long long lineno = 0;
  *good_end = 0;
  *out_end = 0;
  while (fgets(line, sizeof line, f)) {
    lineno++;
    size_t len = strlen(line);
    if (!len || line[len - 1] != '\n') {
      /* Cut short by the crash (or zeroed): the torn tail ends the file. A
       * line too long for the log that does end is no line of a resume
       * log (the output named by mistake?): refused, nothing cut back. */
      if (len == sizeof line - 1) {
        int c;
        while ((c = fgetc(f)) != EOF && c != '\n') {
        }
        if (c == '\n')
          return exhi_err(err, EXH_ERR_PARSE, path, lineno, -1,
                          "a line longer than %d bytes: not an exhunt scan resume log",
                          EXHI_RESUME_LINE_MAX - 2);
      }
      break;
    }
    if (lineno == 1) {
      if (strncmp(line, HEADER, strlen(HEADER)) != 0)
        return exhi_err(err, EXH_ERR_PARSE, path, 1, -1, "not an exhunt scan resume log");
      if (strcmp(line, header) != 0)
        return exhi_err(err, EXH_ERR_INVALID, path, 1, -1,
                        "this log belongs to another scan (other targets, seed, shard, port or probes); "
                        "use a new --resume file or the same options");
    } else {
      uint64_t idx;
      long long off;
      if (!parse_entry(line, len, &idx, &off) || off < *out_end)
        return exhi_err(err, EXH_ERR_PARSE, path, lineno, -1, "not \"INDEX OFFSET\" with growing offsets");
      int rc = set_add(r, idx, err);
      if (rc) return rc;
      *out_end = off;
    }
    *good_end += (long long)len;
  }
  if (ferror(f)) return exhi_err(err, EXH_ERR_IO, path, 0, -1, "read error");
  return EXH_OK;
}

int exhi_resume_open(exhi_resume *r, const char *path, const char *output, uint64_t identity,
                     exh_error *err) {
  memset(r, 0, sizeof *r);
  char header[64];
  snprintf(header, sizeof header, HEADER "%016" PRIx64 "\n", identity);
  FILE *f = fopen(path, "r+");
  long long good_end = 0, out_end = 0;
  if (!f && errno != ENOENT) return exhi_err(err, EXH_ERR_IO, path, 0, -1, "%s", strerror(errno));
  if (f) {
    int rc = exhi_resume_read(r, f, path, identity, &good_end, &out_end, err);
    fclose(f);
    if (rc) {
      free(r->set);
      memset(r, 0, sizeof *r);
      return rc;
    }
    if (good_end == 0) { /* empty or torn header: start over */
      if (truncate(path, 0) != 0) return exhi_err(err, EXH_ERR_IO, path, 0, -1, "%s", strerror(errno));
    } else if (truncate(path, good_end) != 0) {
      return exhi_err(err, EXH_ERR_IO, path, 0, -1, "%s", strerror(errno));
    }
  }
  struct stat st;
  if (stat(output, &st) == 0) {
    if (!S_ISREG(st.st_mode))
      return exhi_err(err, EXH_ERR_INVALID, output, 0, -1, "--resume needs -o to name a regular file");
    if (st.st_size < out_end)
      return exhi_err(err, EXH_ERR_INVALID, output, 0, -1,
                      "shorter (%lld bytes) than the resume log says (%lld): not the output of this scan",
                      (long long)st.st_size, out_end);
    if (st.st_size > out_end && truncate(output, out_end) != 0)
      return exhi_err(err, EXH_ERR_IO, output, 0, -1, "%s", strerror(errno));
  } else if (out_end > 0) {
    return exhi_err(err, EXH_ERR_INVALID, output, 0, -1, "missing, but the resume log lists %zu hosts in it", r->n);
  }
  r->out = fopen(output, "a");
  if (!r->out) return exhi_err(err, EXH_ERR_IO, output, 0, -1, "%s", strerror(errno));
  r->log = fopen(path, "a");
  if (!r->log) {
    fclose(r->out);
    r->out = NULL;
    return exhi_err(err, EXH_ERR_IO, path, 0, -1, "%s", strerror(errno));
  }
  if (good_end == 0 && (fputs(header, r->log) == EOF || fflush(r->log) != 0)) {
    exhi_resume_close(r, NULL);
    return exhi_err(err, EXH_ERR_IO, path, 0, -1, "write failed");
  }
  return EXH_OK;
}

static int sync_both(exhi_resume *r, exh_error *err) {
  if (fflush(r->out) != 0 || fsync(fileno(r->out)) != 0)
    return exhi_err(err, EXH_ERR_IO, "output", 0, -1, "%s", strerror(errno));
  if (fflush(r->log) != 0 || fsync(fileno(r->log)) != 0)
    return exhi_err(err, EXH_ERR_IO, "resume log", 0, -1, "%s", strerror(errno));
  r->since_sync = 0;
  return EXH_OK;
}

int exhi_resume_commit(exhi_resume *r, uint64_t index, exh_error *err) {
  /* The record must be in the file (the kernel's page cache survives
   * kill -9) before the log says so. */
  if (fflush(r->out) != 0) return exhi_err(err, EXH_ERR_IO, "output", 0, -1, "%s", strerror(errno));
  long long off = (long long)ftello(r->out);
  if (off < 0) return exhi_err(err, EXH_ERR_IO, "output", 0, -1, "%s", strerror(errno));
  if (fprintf(r->log, "%" PRIu64 " %lld\n", index, off) < 0 || fflush(r->log) != 0)
    return exhi_err(err, EXH_ERR_IO, "resume log", 0, -1, "%s", strerror(errno));
  if (++r->since_sync >= SYNC_EVERY) return sync_both(r, err);
  return EXH_OK;
}

int exhi_resume_close(exhi_resume *r, exh_error *err) {
  int rc = EXH_OK;
  if (r->out && r->log) rc = sync_both(r, err);
  if (r->out && fclose(r->out) != 0 && !rc) rc = exhi_err(err, EXH_ERR_IO, "output", 0, -1, "close failed");
  if (r->log && fclose(r->log) != 0 && !rc) rc = exhi_err(err, EXH_ERR_IO, "resume log", 0, -1, "close failed");
  free(r->set);
  memset(r, 0, sizeof *r);
  return rc;
}
