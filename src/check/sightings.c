/*
 * exhunt check: what the check saw of the indicator store, recorded there as
 * sightings (as `exhunt files` and `exhunt logs` do), so that `exhunt ioc
 * export` lists every server where a published indicator turned up.
 */
#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *fv(const exh_finding *f, const char *name) {
  for (size_t i = 0; i < f->n_fields; i++)
    if (!strcmp(f->fields[i].name, name)) return f->fields[i].value;
  return NULL;
}

/* The file's field that matched, as `exhunt files` names it. */
static const char *file_detail(const char *type) {
  return !strcmp(type, "filepath")   ? "file.path"
         : !strcmp(type, "filename") ? "file.name"
         : !strcmp(type, "sha1")     ? "file.hash.sha1"
         : !strcmp(type, "md5")      ? "file.hash.md5"
                                     : "file.hash.sha256";
}

typedef struct rec {
  const exh_ioc *ioc;
  char *location, *detail;
  int64_t seen_ms;
} rec;

int exh_check_record_sightings(const exh_check_result *r, const exh_ioc_set *set,
                               const char *store_path, const char *root_as, size_t *n,
                               exh_error *err) {
  if (n) *n = 0;
  if (!r || !set || !store_path) return EXH_OK;
  rec *v = calloc(r->n_f ? r->n_f : 1, sizeof *v);
  if (!v) return exhi_err(err, EXH_ERR_NOMEM, store_path, 0, -1, "out of memory");
  size_t nv = 0, rootlen = strlen(r->root);
  int rc = EXH_OK;
  for (size_t i = 0; i < r->n_f && !rc; i++) {
    const exh_finding *f = &r->f[i].f;
    const char *type = fv(f, "threat.indicator.type");
    if (!type || !f->path) continue;
    const exh_ioc *ioc = exh_ioc_set_find(set, type, fv(f, "threat.indicator.name"),
                                          fv(f, "threat.indicator.provider"));
    if (!ioc) continue; /* not one of the store's (cannot happen with one set) */
    /* The path as checked, or below root_as for an archive's temporary copy
     * (gone after the run). */
    const char *p = f->path, *prefix = "";
    if (root_as && !strncmp(p, r->root, rootlen) && (p[rootlen] == '/' || !p[rootlen])) {
      prefix = root_as;
      p += rootlen;
    }
    /* Absolute, as exhunt files records them, so that the export still
     * says where the evidence was when read from another folder: a
     * relative path (or archive) as given is put below the working folder
     * of the check, spelled as given; no link in it is resolved, so the
     * location is the path that was read, never where a link in the
     * evidence points. */
    const char *cwd = (*prefix ? *prefix : *p) != '/' && r->cwd ? r->cwd : "";
    const char *sep = *cwd && cwd[strlen(cwd) - 1] != '/' ? "/" : ""; /* "/" is the root */
    size_t len = strlen(cwd) + strlen(sep) + strlen(prefix) + strlen(p) + 32;
    char *loc = malloc(len), *detail = malloc(200);
    if (!loc || !detail) {
      free(loc);
      free(detail);
      rc = exhi_err(err, EXH_ERR_NOMEM, store_path, 0, -1, "out of memory");
      break;
    }
    if (r->f[i].from == EXHI_FROM_LOGS) {
      snprintf(loc, len, "%s%s%s%s:%lld", cwd, sep, prefix, p, (long long)f->line);
      const char *field = fv(f, "exhunt.indicator.field"), *count = fv(f, "exhunt.count");
      snprintf(detail, 200, "%.100s; %.20s hit(s)", field ? field : type, count ? count : "1");
    } else {
      snprintf(loc, len, "%s%s%s%s", cwd, sep, prefix, p);
      snprintf(detail, 200, "%s", file_detail(type));
    }
    v[nv++] = (rec){.ioc = ioc, .location = loc, .detail = detail, .seen_ms = f->event_time_ms};
  }
  if (!rc && nv) {
    const exh_ioc **hits = calloc(nv, sizeof *hits);
    exh_ioc_sighting *where = calloc(nv, sizeof *where);
    exh_ioc_store *s = NULL;
    if (!hits || !where) rc = exhi_err(err, EXH_ERR_NOMEM, store_path, 0, -1, "out of memory");
    for (size_t i = 0; !rc && i < nv; i++) {
      hits[i] = v[i].ioc;
      where[i] = (exh_ioc_sighting){.host = r->name, .location = v[i].location,
                                    .seen_ms = v[i].seen_ms, .detector = "check",
                                    .detail = v[i].detail};
    }
    if (!rc) rc = exh_ioc_store_open(store_path, 0, &s, err);
    if (!rc) rc = exh_ioc_store_add_sightings(s, hits, where, nv, err);
    exh_ioc_store_close(s);
    if (!rc && n) *n = nv;
    free(hits);
    free(where);
  }
  for (size_t i = 0; i < nv; i++) {
    free(v[i].location);
    free(v[i].detail);
  }
  free(v);
  return rc;
}
