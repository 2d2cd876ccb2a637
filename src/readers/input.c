/* One input as a user gives it on the command line or on a line of stdin:
 * a path (ExSetup.exe, a saved OWA page, an install folder, a mounted system
 * volume) or a build string. Evidence is opened read-only, without touching
 * access times, and links are never followed out of a searched tree. */
#define _GNU_SOURCE /* O_NOATIME, O_DIRECTORY */
#include "../core/internal.h"
#include "owa.h"
#include "pe.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Where ExSetup.exe sits relative to the folders users point at, most
 * specific first (architecture.md §2). */
static const char *const exsetup_paths[] = {
    "Bin/ExSetup.exe",
    "V15/Bin/ExSetup.exe",
    "V14/Bin/ExSetup.exe",
    "Exchange Server/V15/Bin/ExSetup.exe",
    "Exchange Server/V14/Bin/ExSetup.exe",
    "Microsoft/Exchange Server/V15/Bin/ExSetup.exe",
    "Microsoft/Exchange Server/V14/Bin/ExSetup.exe",
    "Program Files/Microsoft/Exchange Server/V15/Bin/ExSetup.exe",
    "Program Files/Microsoft/Exchange Server/V14/Bin/ExSetup.exe",
};

/* Folders of a system volume that never hold an Exchange install and are
 * large: skipping them keeps the fallback search fast. */
static const char *const skip_dirs[] = {
    "Windows", "Users", "ProgramData", "$Recycle.Bin", "System Volume Information",
    "Recovery", "PerfLogs", "node_modules", "Logging", "Mailbox", "TransportRoles",
};

static DIR *open_dir_ro(const char *path) {
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOATIME);
  if (fd < 0 && errno == EPERM) fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return NULL;
  DIR *d = fdopendir(fd);
  if (!d) close(fd);
  return d;
}

/* Looks up one path component case-insensitively (names come from Windows).
 * Writes dir/<actual name> into out. want_dir selects folders or files;
 * links are never taken. */
static bool lookup_ci(const char *dir, const char *name, bool want_dir, char *out, size_t outsz) {
  DIR *d = open_dir_ro(dir);
  if (!d) return false;
  bool ok = false;
  struct dirent *e;
  size_t nlen = strlen(name);
  while ((e = readdir(d))) {
    if (!exhi_ascii_ieq(e->d_name, strlen(e->d_name), name) || strlen(e->d_name) != nlen) continue;
    int n = snprintf(out, outsz, "%s/%s", dir, e->d_name);
    if (n < 0 || (size_t)n >= outsz) continue;
    struct stat st;
    if (lstat(out, &st) != 0 || S_ISLNK(st.st_mode)) continue;
    if (want_dir ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode)) {
      ok = true;
      break;
    }
  }
  closedir(d);
  return ok;
}

static bool resolve_ci(const char *base, const char *rel, char *out, size_t outsz) {
  char cur[4096];
  if (exhi_strlcpy(cur, base, sizeof cur) >= sizeof cur) return false;
  size_t cl = strlen(cur);
  while (cl > 1 && cur[cl - 1] == '/') cur[--cl] = '\0';
  const char *p = rel;
  while (*p) {
    const char *slash = strchr(p, '/');
    size_t n = slash ? (size_t)(slash - p) : strlen(p);
    char comp[256];
    if (n >= sizeof comp) return false;
    memcpy(comp, p, n);
    comp[n] = '\0';
    char next[4096];
    if (!lookup_ci(cur, comp, slash != NULL, next, sizeof next)) return false;
    memcpy(cur, next, sizeof cur);
    p = slash ? slash + 1 : p + n;
  }
  return exhi_strlcpy(out, cur, outsz) < outsz;
}

static bool skipped(const char *name) {
  for (size_t i = 0; i < EXHI_ARRAY_LEN(skip_dirs); i++)
    if (exhi_ascii_ieq(name, strlen(name), skip_dirs[i])) return true;
  return false;
}

/* Breadth-first search, bounded in depth and entries, for bin/exsetup.exe.
 * For installs in places no known path covers (D:\\Exchange\\V15). */
static int search_exsetup(const char *root, char *out, size_t outsz, exh_error *err) {
  typedef struct qitem { char *path; int depth; } qitem;
  size_t cap = 256, head = 0, tail = 0, entries = 0;
  qitem *q = malloc(cap * sizeof *q);
  int rc = EXH_ERR_NOTFOUND;
  if (!q) return exhi_err(err, EXH_ERR_NOMEM, root, 0, -1, "out of memory");
  q[tail].path = strdup(root);
  q[tail++].depth = 0;
  if (!q[0].path) { free(q); return exhi_err(err, EXH_ERR_NOMEM, root, 0, -1, "out of memory"); }
  while (head < tail && rc == EXH_ERR_NOTFOUND) {
    qitem it = q[head++];
    DIR *d = open_dir_ro(it.path);
    struct dirent *e;
    while (d && (e = readdir(d))) {
      if (++entries > EXHI_FIND_MAX_ENTRIES) {
        rc = exhi_err(err, EXH_ERR_LIMIT, root, 0, -1,
                      "searched %d entries without finding Bin/ExSetup.exe: point at the "
                      "Exchange install folder instead", EXHI_FIND_MAX_ENTRIES);
        break;
      }
      const char *n = e->d_name;
      if (n[0] == '.' && (!n[1] || (n[1] == '.' && !n[2]))) continue;
      if (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN) continue;
      char path[4096];
      int w = snprintf(path, sizeof path, "%s/%s", it.path, n);
      if (w < 0 || (size_t)w >= sizeof path) continue;
      struct stat st;
      if (lstat(path, &st) != 0 || !S_ISDIR(st.st_mode)) continue;
      if (exhi_ascii_ieq(n, strlen(n), "bin") && lookup_ci(path, "ExSetup.exe", false, out, outsz)) {
        rc = EXH_OK;
        break;
      }
      if (it.depth + 1 >= EXHI_FIND_MAX_DEPTH || skipped(n)) continue;
      if (tail == cap) {
        qitem *nq = realloc(q, cap * 2 * sizeof *nq);
        if (!nq) { rc = exhi_err(err, EXH_ERR_NOMEM, root, 0, -1, "out of memory"); break; }
        q = nq;
        cap *= 2;
      }
      q[tail].path = strdup(path);
      q[tail].depth = it.depth + 1;
      if (q[tail].path) tail++;
    }
    if (d) closedir(d);
    free(it.path);
  }
  for (size_t i = head; i < tail; i++) free(q[i].path);
  free(q);
  return rc;
}

static int find_exsetup(const char *dir, char *out, size_t outsz, exh_error *err) {
  for (size_t i = 0; i < EXHI_ARRAY_LEN(exsetup_paths); i++)
    if (resolve_ci(dir, exsetup_paths[i], out, outsz)) return EXH_OK;
  int rc = search_exsetup(dir, out, outsz, err);
  if (rc == EXH_ERR_NOTFOUND)
    return exhi_err(err, EXH_ERR_NOTFOUND, dir, 0, -1,
                    "no Bin/ExSetup.exe in this folder: not an Exchange install folder or "
                    "system volume (searched %d levels deep)", EXHI_FIND_MAX_DEPTH);
  return rc;
}

static bool is_exchange_major(uint32_t m) { return m == 6 || m == 8 || m == 14 || m == 15; }

static int read_pe(const char *path, const unsigned char *buf, size_t len,
                   exh_input_build *out, exh_error *err) {
  exhi_pe_version v;
  int rc = exhi_pe_read_version(buf, len, path, &v, err);
  if (rc) return rc;
  exh_build sb;
  bool have_string = v.file_version[0] &&
                     exh_build_parse(v.file_version, strlen(v.file_version), &sb, NULL, NULL) == EXH_OK;
  if (v.has_fixed && (v.fixed.major || v.fixed.minor || v.fixed.build)) {
    out->build = v.fixed;
  } else if (have_string) {
    out->build = sb;
  } else {
    return exhi_err(err, EXH_ERR_PARSE, path, 0, -1,
                    "version resource has no usable file version (FileVersion \"%s\")",
                    v.file_version);
  }
  if (!is_exchange_major(out->build.major) && !strstr(v.product_name, "Exchange")) {
    char b[64];
    exh_build_format(&out->build, b, sizeof b);
    return exhi_err(err, EXH_ERR_NOTFOUND, path, 0, -1,
                    "a PE file, but not one of Exchange (version %s, ProductName \"%s\")", b,
                    v.product_name);
  }
  out->precision = out->build.parts == 4 ? EXH_PRECISION_EXACT : EXH_PRECISION_CU;
  if (v.file_version[0]) {
    if (have_string && v.has_fixed && exh_build_cmp(&sb, &v.fixed) != 0)
      snprintf(out->detail, sizeof out->detail,
               "FileVersion string \"%s\" differs from the binary version; the binary one is used",
               v.file_version);
    else
      snprintf(out->detail, sizeof out->detail, "FileVersion \"%s\"", v.file_version);
  }
  return EXH_OK;
}

static int read_file_input(const char *path, exh_input_build *out, exh_error *err) {
  unsigned char *buf;
  size_t len;
  int rc = exhi_read_file(path, EXHI_PE_MAX_BYTES, &buf, &len, err);
  if (rc) return rc;
  exhi_strlcpy(out->path, path, sizeof out->path);
  if (len >= 2 && buf[0] == 'M' && buf[1] == 'Z') {
    out->kind = EXH_INPUT_EXSETUP;
    rc = read_pe(path, buf, len, out, err);
  } else if (len > EXHI_OWA_MAX_BYTES) {
    rc = exhi_err(err, EXH_ERR_LIMIT, path, 0, -1,
                  "not a PE file, and at %zu bytes too large for a saved OWA page", len);
  } else {
    out->kind = EXH_INPUT_OWA_PAGE;
    bool owa;
    rc = exhi_owa_page_build((const char *)buf, len, path, &out->build, &owa, err);
    if (rc == EXH_ERR_NOTFOUND && !owa)
      rc = exhi_err(err, EXH_ERR_PARSE, path, 0, -1,
                    "neither a PE file (ExSetup.exe) nor a saved OWA logon page");
    if (!rc) {
      out->precision = out->build.parts == 4 ? EXH_PRECISION_EXACT : EXH_PRECISION_CU;
      snprintf(out->detail, sizeof out->detail,
               out->build.parts == 4 ? "OWA page resource path (full build)"
                                     : "OWA page resource path (shows the CU only)");
    }
  }
  free(buf);
  return rc;
}

int exh_input_read(const char *arg, exh_input_build *out, exh_error *err) {
  memset(out, 0, sizeof *out);
  if (!arg || !*arg) return exhi_err(err, EXH_ERR_INVALID, "input", 0, -1, "empty input");
  size_t len = strlen(arg);
  /* A name without '/' that reads as a build number is one: no file system
   * call for the common case (a pipeline of build strings). A file or
   * folder with such a name is reached as ./NAME. */
  int admin = 0;
  exh_error perr;
  int prc = EXH_ERR_PARSE;
  if (!strchr(arg, '/')) {
    prc = exh_build_parse(arg, len, &out->build, &admin, &perr);
    if (prc == EXH_OK) {
      out->kind = EXH_INPUT_STRING;
      out->precision = (admin || out->build.parts == 3) ? EXH_PRECISION_CU : EXH_PRECISION_EXACT;
      if (admin) exhi_strlcpy(out->detail, "AdminDisplayVersion (shows the CU only)", sizeof out->detail);
      return EXH_OK;
    }
  }
  struct stat st;
  if (stat(arg, &st) == 0) {
    if (S_ISDIR(st.st_mode)) {
      char exe[4096];
      int rc = find_exsetup(arg, exe, sizeof exe, err);
      if (rc) return rc;
      rc = read_file_input(exe, out, err);
      out->kind = EXH_INPUT_FOLDER;
      return rc;
    }
    if (S_ISREG(st.st_mode)) return read_file_input(arg, out, err);
    return exhi_err(err, EXH_ERR_IO, arg, 0, -1, "neither a regular file nor a folder");
  }
  int stat_errno = errno;
  /* "Exchange/15.01.2176.009" (X-ServerApplication) has a '/', but a path
   * that starts like one is never read as a build. */
  bool explicit_path = arg[0] == '/' || !strncmp(arg, "./", 2) || !strncmp(arg, "../", 3);
  if (strchr(arg, '/') && !explicit_path) {
    prc = exh_build_parse(arg, len, &out->build, &admin, &perr);
    if (prc == EXH_OK) {
      out->kind = EXH_INPUT_STRING;
      out->precision = (admin || out->build.parts == 3) ? EXH_PRECISION_CU : EXH_PRECISION_EXACT;
      return EXH_OK;
    }
  }
  bool pathish = strchr(arg, '/') || (len > 4 && (exhi_ascii_ieq(arg + len - 4, 4, ".exe") ||
                                                  exhi_ascii_ieq(arg + len - 4, 4, ".htm"))) ||
                 (len > 5 && exhi_ascii_ieq(arg + len - 5, 5, ".html"));
  if (pathish)
    return exhi_err(err, EXH_ERR_IO, arg, 0, -1, "cannot open: %s", strerror(stat_errno));
  if (err) {
    *err = perr;
    exhi_err_prefix(err, arg);
    exhi_strlcpy(err->text + strlen(err->text), "; nor is it a file or folder",
                 sizeof err->text - strlen(err->text));
  }
  return prc;
}
