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
