/*
 * exhunt scan diff: two scans' JSON-lines outputs read into sorted sets and
 * compared host by host (key "ip port domain"). The files may come from
 * anywhere (a colleague, a ticket): every line is bounded and checked.
 */
#include "scan/scan.h"

#include <stdlib.h>
#include <string.h>

static int cmp_host(const void *a, const void *b) {
  return strcmp(((const exhi_diff_host *)a)->key, ((const exhi_diff_host *)b)->key);
}

int exhi_diff_load(exhi_diff_set *s, FILE *fp, const char *name, exh_error *err) {
  char *line = malloc(EXHI_DIFF_LINE_MAX + 2);
  if (!line) return exhi_err(err, EXH_ERR_NOMEM, name, 0, -1, "out of memory");
  long long n = 0;
  int rc = EXH_OK;
  while (fgets(line, EXHI_DIFF_LINE_MAX + 2, fp)) {
    n++;
    size_t len = strlen(line);
    if (len > EXHI_DIFF_LINE_MAX) {
      rc = exhi_err(err, EXH_ERR_LIMIT, name, n, -1, "longer than %u bytes", EXHI_DIFF_LINE_MAX);
      break;
    }
    if (len <= 1) continue;
    json_error_t je;
    json_t *o = json_loads(line, 0, &je);
    const char *ip = o ? json_string_value(json_object_get(o, "ip")) : NULL;
    if (!ip) {
      json_decref(o);
      rc = exhi_err(err, EXH_ERR_PARSE, name, n, -1, "not an exhunt scan record");
      break;
    }
    const char *dom = json_string_value(json_object_get(o, "domain"));
    char key[512];
    snprintf(key, sizeof key, "%s %lld %s", ip, (long long)json_integer_value(json_object_get(o, "port")),
             dom ? dom : "");
    if (s->n == s->cap) {
      size_t nc = s->cap ? s->cap * 2 : 1024;
      exhi_diff_host *nv = realloc(s->v, nc * sizeof *nv);
      if (!nv) {
        json_decref(o);
        rc = exhi_err(err, EXH_ERR_NOMEM, name, n, -1, "out of memory");
        break;
      }
      s->v = nv;
      s->cap = nc;
    }
    exhi_diff_host *d = &s->v[s->n];
    if (!(d->key = strdup(key))) {
      json_decref(o);
      rc = exhi_err(err, EXH_ERR_NOMEM, name, n, -1, "out of memory");
      break;
    }
    d->rec = o;
    d->exposed = json_is_true(json_object_get(o, "exposed"));
    const char *st = json_string_value(json_object_get(o, "status"));
    /* Fixed means: answered again, still Exchange, no longer exposed. */
    d->answered = st && !strcmp(st, "success") && json_is_true(json_object_get(o, "is_exchange"));
    s->n++;
  }
  if (rc == EXH_OK && ferror(fp)) rc = exhi_err(err, EXH_ERR_IO, name, n, -1, "read error");
  free(line);
  /* qsort must not be given NULL, even for no elements (C17 7.22.5). */
  if (rc == EXH_OK && s->n > 1) qsort(s->v, s->n, sizeof *s->v, cmp_host);
  return rc;
}

void exhi_diff_clear(exhi_diff_set *s) {
  for (size_t i = 0; i < s->n; i++) {
    free(s->v[i].key);
    json_decref(s->v[i].rec);
  }
  free(s->v);
  memset(s, 0, sizeof *s);
}

void exhi_diff_compare(const exhi_diff_set *a, const exhi_diff_set *b, exhi_diff_counts *c,
                       exhi_diff_fn fn, void *ctx) {
  memset(c, 0, sizeof *c);
  size_t x = 0, y = 0;
  while (x < a->n || y < b->n) {
    int cmp = x >= a->n ? 1 : y >= b->n ? -1 : strcmp(a->v[x].key, b->v[y].key);
    const exhi_diff_host *o = cmp <= 0 ? &a->v[x] : NULL, *n = cmp >= 0 ? &b->v[y] : NULL;
    if (o && o->exposed) c->old_exposed++;
    if (n && n->exposed) c->new_exposed++;
    const char *change = NULL;
    if (o && o->exposed) {
      if (n && n->exposed) change = "still_exposed", c->still++;
      else if (n && n->answered) change = "fixed", c->fixed++;
      else change = "gone", c->gone++;
    } else if (n && n->exposed) {
      change = "newly_exposed", c->newly++;
    }
    if (fn && change) fn(change, o, n, ctx);
    if (cmp <= 0) x++;
    if (cmp >= 0) y++;
  }
}
