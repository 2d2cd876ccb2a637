/*
 * Evidence discovery for exhunt check: which of the known sources a folder
 * holds, found by their relative paths compared case-insensitively (they
 * come from Windows), wherever the collection put the drive (a mounted
 * volume, C/... in a KAPE target collection, an install folder alone).
 */
#define _GNU_SOURCE /* O_NOATIME */
#include "check.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * The sources. Paths from Microsoft's documentation of the Exchange logging
 * folders and Microsoft CSS-Exchange Test-ProxyLogon.ps1 (HttpProxy, ECP
 * Server, OABGeneratorLog, C:\root, Windows\Temp, ProgramData), the
 * CmdletInfra Rps_Cmdlet logs ProxyShell's mailbox exports show in (Splunk
 * research 2021-12, ../shared/docs/detections.md), the IIS
 * default log folder (inetpub\logs\LogFiles\W3SVC<n>), the web folders the
 * 2021 web shells were written to (Volexity and MSTIC, March 2021); see
 * ../shared/docs/architecture.md section 2 and detections.md.
 */
const exhi_src_def exhi_src_defs[] = {
    {"exsetup", "Bin/ExSetup.exe", "bin/exsetup.exe", EXHI_SRC_BUILD, EXHI_ROLE_OTHER, 0,
     "the installed build (update level)"},
    {"httpproxy", "Logging/HttpProxy", "logging/httpproxy", EXHI_SRC_LOGS, EXHI_ROLE_REQUESTS, 0,
     "every request the front end proxied (ProxyLogon, ProxyShell SSRF)"},
    {"ecp", "Logging/ECP/Server", "logging/ecp/server", EXHI_SRC_LOGS, EXHI_ROLE_OTHER, 0,
     "virtual directory changes that wrote web shells (CVE-2021-27065)"},
    {"oabgen", "Logging/OABGeneratorLog", "logging/oabgeneratorlog", EXHI_SRC_LOGS, EXHI_ROLE_OTHER,
     0, "files written to unexpected paths (CVE-2021-26858)"},
    {"cmdlet", "Logging/CmdletInfra (Rps_Cmdlet)", "logging/cmdletinfra", EXHI_SRC_LOGS,
     EXHI_ROLE_OTHER, 0, "remote PowerShell cmdlets: mailbox exports, role assignments (ProxyShell)"},
    /* The second place is IIS 6's default, which CyLR still collects by
     * default (CyLR/src/CollectionPaths.cs: %SYSTEMROOT%\System32\LogFiles\W3SVC1). */
    {"iis", "inetpub/logs/LogFiles/W3SVC*", "inetpub/logs/logfiles/w3svc*|windows/system32/logfiles/w3svc*", EXHI_SRC_LOGS,
     EXHI_ROLE_REQUESTS, 0, "every request IIS answered (requests to web shells)"},
    {"evtx", "Windows/System32/winevt/Logs", "windows/system32/winevt/logs", EXHI_SRC_LOGS,
     EXHI_ROLE_OTHER, 0, "Windows event logs (CVE-2021-26857, processes started by IIS)"},
    {"frontend", "FrontEnd/HttpProxy (owa/auth, ecp/auth, OAB)", "frontend/httpproxy",
     EXHI_SRC_FILES, EXHI_ROLE_WEBDIRS, 0, "Exchange web folders where web shells were dropped"},
    {"wwwroot", "inetpub/wwwroot (aspnet_client)", "inetpub/wwwroot", EXHI_SRC_FILES,
     EXHI_ROLE_WEBDIRS, 0, "the IIS web root where web shells were dropped"},
    {"programdata", "ProgramData", "programdata", EXHI_SRC_FILES, EXHI_ROLE_OTHER, 1,
     "archives staged for theft"},
    {"windows_temp", "Windows/Temp", "windows/temp", EXHI_SRC_FILES, EXHI_ROLE_OTHER, 0,
     "LSASS dumps, scripts"},
    {"root_dir", "C:/root", "root", EXHI_SRC_FILES, EXHI_ROLE_OTHER, 1, "LSASS dumps"},
};
const size_t exhi_src_count = EXHI_ARRAY_LEN(exhi_src_defs);

/* Folder names that mark a Windows volume root among a folder's children. */
static const char *const volume_marks[] = {"windows", "program files", "inetpub"};

typedef struct walker {
  exhi_discovery *d;
  char path[4096];  /* as found */
  char lower[4096]; /* lower-case, for matching */
} walker;

static int hexval(char c) {
  return c >= '0' && c <= '9' ? c - '0' : (c | 32) >= 'a' && (c | 32) <= 'f' ? (c | 32) - 'a' + 10 : -1;
}

/* The name as matched: lower-case, and "%XX" decoded, since Velociraptor
 * collections URL-encode names ("Program%20Files", "C%3A"). Writes at most
 * n bytes plus a NUL; returns the length written. */
static size_t name_key(char *dst, const char *src, size_t n) {
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)src[i];
    if (c == '%' && i + 2 < n && hexval(src[i + 1]) >= 0 && hexval(src[i + 2]) >= 0) {
      c = (unsigned char)(hexval(src[i + 1]) * 16 + hexval(src[i + 2]));
      i += 2;
      if (c == '/' || c == '\\' || c == '\0') c = '_'; /* an encoded separator stays inside the name */
    }
    dst[o++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
  }
  dst[o] = '\0';
  return o;
}

/* Does the lower-case path end with pattern at a folder boundary? */
static int tail_match(const char *lower, size_t len, const char *pat) {
  size_t pl = strlen(pat);
  int glob = pl && pat[pl - 1] == '*';
  if (glob) {
    /* "inetpub/logs/logfiles/w3svc*": the last name starts with "w3svc". */
    const char *slash = strrchr(pat, '/');
    size_t head = slash ? (size_t)(slash - pat) : 0;
    const char *last = lower + len;
    while (last > lower && last[-1] != '/') last--;
    size_t prefix_len = pl - 1 - (slash ? head + 1 : 0);
    if (strncmp(last, slash ? slash + 1 : pat, prefix_len)) return 0;
    if (!slash) return 1;
    size_t dirlen = (size_t)(last - lower);
    if (dirlen == 0) return 0;
    dirlen--; /* the '/' before the last name */
    if (dirlen < head || strncmp(lower + dirlen - head, pat, head)) return 0;
    return dirlen == head || lower[dirlen - head - 1] == '/';
  }
  if (len < pl || memcmp(lower + len - pl, pat, pl)) return 0;
  return len == pl || lower[len - pl - 1] == '/';
}

/* tail_match for each '|'-separated alternative of pats. */
static int any_match(const char *lower, size_t len, const char *pats) {
  char one[128];
  for (const char *p = pats; *p;) {
    const char *bar = strchr(p, '|');
    size_t n = bar ? (size_t)(bar - p) : strlen(p);
    if (n < sizeof one) {
      memcpy(one, p, n);
      one[n] = '\0';
      if (tail_match(lower, len, one)) return 1;
    }
    p += n + (bar ? 1 : 0);
  }
  return 0;
}

static void note_path(exhi_src_found *s, const char *path) {
  if (s->n_paths < EXHI_SRC_MAX_PATHS) s->paths[s->n_paths] = strdup(path);
  s->n_paths++;
}

typedef struct entry {
  char *name;
  char *key; /* name_key of name */
  unsigned char type;
} entry;

static int by_name(const void *a, const void *b) {
  return strcmp(((const entry *)a)->name, ((const entry *)b)->name);
}

/* mask: the sources the current folder lies in (bit i = exhi_src_defs[i]). */
/* len: of w->path; llen: of w->lower (shorter when names were decoded). */
static void walk_dir(walker *w, int dfd, size_t len, size_t llen, int depth, uint32_t mask) {
  exhi_discovery *d = w->d;
  DIR *dir = fdopendir(dfd);
  if (!dir) {
    close(dfd);
    d->unreadable++;
    return;
  }
  entry *v = NULL;
  size_t n = 0, cap = 0;
  struct dirent *de;
  while ((de = readdir(dir))) {
    if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
    if (d->entries >= EXHI_DISC_MAX_ENTRIES) {
      d->truncated = 1;
      break;
    }
    d->entries++;
    if (n == cap) {
      size_t nc = cap ? cap * 2 : 32;
      entry *nv = realloc(v, nc * sizeof *nv);
      if (!nv) break;
      v = nv;
      cap = nc;
    }
    unsigned char t = de->d_type;
    if (t == DT_UNKNOWN) {
      struct stat st;
      if (fstatat(dirfd(dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
        t = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_LNK;
    }
    size_t nl = strlen(de->d_name);
    v[n].name = strdup(de->d_name);
    v[n].key = malloc(nl + 1);
    if (!v[n].name || !v[n].key) {
      free(v[n].name);
      free(v[n].key);
      break;
    }
    name_key(v[n].key, de->d_name, nl);
    v[n++].type = t;
  }
  if (n) qsort(v, n, sizeof *v, by_name);
  int is_volume = 0;
  for (size_t i = 0; i < n; i++)
    for (size_t k = 0; k < EXHI_ARRAY_LEN(volume_marks); k++)
      if (v[i].type == DT_DIR && !strcmp(v[i].key, volume_marks[k])) is_volume = 1;
  for (size_t i = 0; i < n; i++) {
    size_t nl = strlen(v[i].name), kl = strlen(v[i].key);
    if (len + 1 + nl >= sizeof w->path) continue; /* deeper than any Windows path */
    w->path[len] = '/';
    memcpy(w->path + len + 1, v[i].name, nl + 1);
    w->lower[llen] = '/';
    memcpy(w->lower + llen + 1, v[i].key, kl + 1);
    size_t l2 = len + 1 + nl, k2 = llen + 1 + kl;
    if (v[i].type == DT_REG) {
      struct stat st;
      uint64_t size = fstatat(dirfd(dir), v[i].name, &st, AT_SYMLINK_NOFOLLOW) == 0
                          ? (uint64_t)st.st_size : 0;
      for (size_t s = 0; s < exhi_src_count; s++) {
        if (mask & (1u << s)) {
          d->src[s].files++;
          d->src[s].bytes += size;
        }
        if (exhi_src_defs[s].kind == EXHI_SRC_BUILD &&
            tail_match(w->lower, k2, exhi_src_defs[s].pattern)) {
          note_path(&d->src[s], w->path);
          d->src[s].files++;
          d->src[s].bytes += size;
        }
      }
    } else if (v[i].type == DT_DIR && depth < EXHI_DISC_MAX_DEPTH) {
      uint32_t m2 = mask;
      for (size_t s = 0; s < exhi_src_count; s++) {
        const exhi_src_def *sd = &exhi_src_defs[s];
        if (sd->kind == EXHI_SRC_BUILD || (mask & (1u << s))) continue;
        if (sd->volume_child ? (is_volume && !strcmp(v[i].key, sd->pattern))
                             : any_match(w->lower, k2, sd->pattern)) {
          note_path(&d->src[s], w->path);
          m2 |= 1u << s;
        }
      }
      int fd = openat(dirfd(dir), v[i].name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NOATIME);
      if (fd < 0 && errno == EPERM)
        fd = openat(dirfd(dir), v[i].name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0) {
        if (!d->unreadable++) exhi_escape_terminal(w->path, d->first_unreadable, sizeof d->first_unreadable);
      } else {
        walk_dir(w, fd, l2, k2, depth + 1, m2);
      }
    }
    w->path[len] = w->lower[llen] = '\0';
  }
  for (size_t i = 0; i < n; i++) {
    free(v[i].name);
    free(v[i].key);
  }
  free(v);
  closedir(dir);
}

int exhi_discover(const char *root, exhi_discovery *d, exh_error *err) {
  memset(d, 0, sizeof *d);
  d->src = calloc(exhi_src_count, sizeof *d->src);
  if (!d->src) return exhi_err(err, EXH_ERR_NOMEM, root, 0, -1, "out of memory");
  walker *w = malloc(sizeof *w);
  if (!w) {
    exhi_discovery_clear(d);
    return exhi_err(err, EXH_ERR_NOMEM, root, 0, -1, "out of memory");
  }
  w->d = d;
  size_t len = strlen(root);
  while (len > 1 && root[len - 1] == '/') len--;
  if (len >= sizeof w->path) {
    free(w);
    exhi_discovery_clear(d);
    return exhi_err(err, EXH_ERR_LIMIT, "path", 0, -1, "path too long");
  }
  /* The root is the user's choice and may be a link; nothing below it is followed. */
  int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOATIME);
  if (fd < 0 && errno == EPERM) fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    free(w);
    exhi_discovery_clear(d);
    return exhi_err(err, EXH_ERR_IO, root, 0, -1, "cannot open folder: %s", strerror(e));
  }
  memcpy(w->path, root, len);
  w->path[len] = '\0';
  /* The root's own name takes part in matching: a root ".../V15/Logging"
   * still shows its HttpProxy folder. */
  size_t llen = name_key(w->lower, root, len);
  walk_dir(w, fd, len, llen, 0, 0);
  free(w);
  return EXH_OK;
}

void exhi_discovery_clear(exhi_discovery *d) {
  if (!d->src) return;
  for (size_t s = 0; s < exhi_src_count; s++)
    for (size_t i = 0; i < d->src[s].n_paths && i < EXHI_SRC_MAX_PATHS; i++) free(d->src[s].paths[i]);
  free(d->src);
  d->src = NULL;
}

size_t exhi_discovery_found(const exhi_discovery *d) {
  size_t n = 0;
  for (size_t s = 0; s < exhi_src_count; s++) n += d->src[s].n_paths > 0;
  return n;
}
