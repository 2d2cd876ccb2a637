/*
 * exhunt check: what a report calls the evidence of an archive. An archive
 * is read from a private temporary folder that is gone when the report is
 * read, so every path below that folder is shown as the responder knows it:
 * the archive as given on the command line, "!/", the member's name
 * ("EXCH01.zip!/C/inetpub/wwwroot/aspnet_client/x.aspx"). The renaming is
 * done once per server, on the finished result, before anything is written:
 * the server's label, the sources, every finding's path, fields and message,
 * the read errors; the actions and the incident are built from those.
 */
#include "check.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A character that may continue a file name: "dir" must not match the start
 * of "dirX" (mkdtemp names have a fixed length, a collection's folders not). */
static int name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.' || c == '%' || c == '~' || (unsigned char)c >= 0x80;
}

/* Where the next whole-path occurrence of dir is in s, or NULL. */
static const char *find_dir(const char *s, const char *dir, size_t dl) {
  for (const char *p = s; (p = strstr(p, dir)); p++)
    if (!name_char(p[dl])) return p;
  return NULL;
}

/* s with every occurrence of dir replaced: dir followed by '/' becomes
 * "ARCHIVE!" (the '/' stays), dir alone becomes "ARCHIVE". NULL when s does
 * not name dir (nothing to do) or memory ran out (*nomem set). */
static char *renamed(const char *s, const char *dir, const char *archive, int *nomem) {
  size_t dl = strlen(dir), al = strlen(archive);
  if (!s || !dl || !find_dir(s, dir, dl)) return NULL;
  size_t n = 0;
  for (const char *p = s; (p = find_dir(p, dir, dl)); p += dl) n++;
  size_t len = strlen(s) + n * (al + 1) + 1;
  char *out = malloc(len);
  if (!out) {
    *nomem = 1;
    return NULL;
  }
  size_t o = 0;
  const char *p = s, *q;
  while ((q = find_dir(p, dir, dl))) {
    memcpy(out + o, p, (size_t)(q - p));
    o += (size_t)(q - p);
    memcpy(out + o, archive, al);
    o += al;
    if (q[dl] == '/') out[o++] = '!';
    p = q + dl;
  }
  size_t rest = strlen(p);
  memcpy(out + o, p, rest + 1);
  return out;
}

/* Renames an owned string in place (the old one freed). */
static void rename_owned(char **s, const char *dir, const char *archive, int *nomem) {
  char *n = renamed(*s, dir, archive, nomem);
  if (!n) return;
  free(*s);
  *s = n;
}

static void rename_const(const char **s, const char *dir, const char *archive, int *nomem) {
  char *n = renamed(*s, dir, archive, nomem);
  if (!n) return;
  free((char *)(uintptr_t)*s);
  *s = n;
}

static void rename_finding(exh_finding *f, const char *dir, const char *archive, int *nomem) {
  rename_const(&f->path, dir, archive, nomem);
  rename_const(&f->message, dir, archive, nomem);
  rename_const(&f->action, dir, archive, nomem);
  exh_field *fl = (exh_field *)(uintptr_t)f->fields;
  for (size_t i = 0; i < f->n_fields; i++) rename_const(&fl[i].value, dir, archive, nomem);
}

/* Renames a fixed-size buffer; a name that no longer fits is cut. */
static void rename_buf(char *buf, size_t size, const char *dir, const char *archive, int *nomem) {
  char *n = renamed(buf, dir, archive, nomem);
  if (!n) return;
  exhi_strlcpy(buf, n, size);
  free(n);
}

int exhi_check_rename(exh_check_result *r, const char *dir, const char *archive) {
  int nomem = 0;
  rename_owned(&r->root, dir, archive, &nomem);
  rename_buf(r->build_error, sizeof r->build_error, dir, archive, &nomem);
  rename_buf(r->disc.first_unreadable, sizeof r->disc.first_unreadable, dir, archive, &nomem);
  for (size_t s = 0; r->disc.src && s < exhi_src_count; s++)
    for (size_t p = 0; p < r->disc.src[s].n_paths && p < EXHI_SRC_MAX_PATHS; p++)
      rename_owned(&r->disc.src[s].paths[p], dir, archive, &nomem);
  for (size_t i = 0; i < r->n_f; i++) rename_finding(&r->f[i].f, dir, archive, &nomem);
  for (size_t i = 0; i < r->n_cov; i++) rename_finding(&r->cov[i].f, dir, archive, &nomem);
  for (size_t i = 0; i < r->n_errors_kept; i++) rename_owned(&r->errors[i], dir, archive, &nomem);
  return nomem ? EXH_ERR_NOMEM : EXH_OK;
}

void exh_check_show_path(char *text, size_t size, const char *dir, const char *archive) {
  if (!text || !dir || !archive) return;
  int nomem = 0;
  rename_buf(text, size, dir, archive, &nomem);
}

/* ---- the Windows path of a file in a collection ------------------------- */

/* Folders found directly below a Windows system drive: what tells a drive's
 * folder in a collection ("C/inetpub") from a folder that is named C. */
static const char *const drive_children[] = {
    "windows", "program files", "program files (x86)", "programdata", "inetpub", "users", "root",
    "$recycle.bin", "perflogs", "exchangesetuplogs"};

static int hexv(char c) {
  return c >= '0' && c <= '9' ? c - '0' : (c | 32) >= 'a' && (c | 32) <= 'f' ? (c | 32) - 'a' + 10 : -1;
}

/* One folder name as Windows had it: Velociraptor's "%XX" decoded when
 * decode is set (KAPE and zips keep names as they are: a '%' there is part
 * of the name); an encoded NUL becomes '_', so it cannot cut the path. */
static size_t decode_name(const char *s, size_t n, char *out, int decode) {
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    if (decode && s[i] == '%' && i + 2 < n && hexv(s[i + 1]) >= 0 && hexv(s[i + 2]) >= 0) {
      out[o] = (char)(hexv(s[i + 1]) * 16 + hexv(s[i + 2]));
      if (!out[o]) out[o] = '_';
      o++;
      i += 2;
    } else {
      out[o++] = s[i];
    }
  }
  out[o] = '\0';
  return o;
}

/* The drive letter a collection's folder stands for: "C" (KAPE), "C:" (a
 * zip of Windows paths), "C_", "C%3A" (Velociraptor's auto accessor),
 * "%5C%5C.%5CC%3A" (its ntfs accessor: \\.\C:); 0 when none. */
static char drive_of(const char *dec) {
  size_t l = strlen(dec);
  if (l >= 4 && !strncmp(dec, "\\\\.\\", 4)) dec += 4, l -= 4;
  int letter = l && ((dec[0] | 32) >= 'a' && (dec[0] | 32) <= 'z');
  if (!letter || !(l == 1 || (l == 2 && (dec[1] == ':' || dec[1] == '_')))) return 0;
  return (char)(dec[0] & ~32);
}

/* Path components longer than this are not Windows names (MAX_PATH is 260). */
#define WINDOWS_NAME_MAX 1024

char *exhi_windows_path(const char *path) {
  if (!path) return NULL;
  const char *bang = strstr(path, "!/"); /* inside an archive: look at the member only */
  const char *p = bang ? bang + 2 : path;
  char dec[WINDOWS_NAME_MAX * 3 + 1], next[WINDOWS_NAME_MAX * 3 + 1];
  for (const char *s = p; *s;) {
    const char *e = strchr(s, '/');
    size_t n = e ? (size_t)(e - s) : strlen(s);
    if (!e) break; /* a drive needs a folder below it */
    const char *s2 = e + 1, *e2 = strchr(s2, '/');
    size_t n2 = e2 ? (size_t)(e2 - s2) : strlen(s2);
    if (n < WINDOWS_NAME_MAX && n2 < WINDOWS_NAME_MAX) {
      /* Only Velociraptor encodes its drive folder ("C%3A", "%5C%5C.%5CC%3A"),
       * and only its names below are encoded. */
      int encoded = memchr(s, '%', n) != NULL;
      decode_name(s, n, dec, 1);
      decode_name(s2, n2, next, encoded);
      char drive = drive_of(dec);
      int child = 0;
      for (size_t i = 0; drive && i < sizeof drive_children / sizeof *drive_children && !child; i++)
        child = !strcasecmp(next, drive_children[i]);
      if (drive && child) {
        /* "C:" then every name below, decoded, joined with '\'. */
        size_t cap = 3 + strlen(s2) + 1, o = 0;
        char *out = malloc(cap);
        if (!out) return NULL;
        out[o++] = drive;
        out[o++] = ':';
        for (const char *q = s2; *q;) {
          const char *qe = strchr(q, '/');
          size_t qn = qe ? (size_t)(qe - q) : strlen(q);
          out[o++] = '\\';
          char *d = out + o;
          o += decode_name(q, qn, d, encoded); /* decoding never lengthens a name */
          for (; *d; d++)
            if (*d == '/' || *d == '\\') *d = '_'; /* an encoded separator stays inside its name */
          q += qn + (qe ? 1 : 0);
        }
        out[o] = '\0';
        return out;
      }
    }
    s = e + 1;
  }
  return NULL;
}

int exhi_check_windows_paths(exh_check_result *r) {
  for (size_t i = 0; i < r->n_f; i++) {
    exh_finding *f = &r->f[i].f;
    if (r->f[i].from != EXHI_FROM_FILES || !f->path) continue;
    char *w = exhi_windows_path(f->path);
    if (!w) continue;
    exh_field *fl = realloc((exh_field *)(uintptr_t)f->fields, (f->n_fields + 1) * sizeof *fl);
    char *name = strdup("exhunt.windows_path");
    if (!fl || !name) {
      if (fl) f->fields = fl;
      free(w);
      free(name);
      return EXH_ERR_NOMEM;
    }
    fl[f->n_fields].name = name;
    fl[f->n_fields].value = w;
    f->fields = fl;
    f->n_fields++;
  }
  return EXH_OK;
}
