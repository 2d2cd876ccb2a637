/* The actions table (rules/check/actions.csv, built into the library). */
#include "check.h"
#include "../readers/csv.h"

#include <stdlib.h>
#include <string.h>

extern const exhi_embedded_file exhi_check_actions_blobs[];
extern const size_t exhi_check_actions_count;

int exhi_actions_load(exhi_actions *a, exh_error *err) {
  memset(a, 0, sizeof *a);
  if (!exhi_check_actions_count)
    return exhi_err(err, EXH_ERR_DATA, "actions.csv", 0, -1, "not built in");
  const exhi_embedded_file *b = &exhi_check_actions_blobs[0];
  exhi_csv *c = malloc(sizeof *c);
  if (!c) return exhi_err(err, EXH_ERR_NOMEM, b->name, 0, -1, "out of memory");
  exhi_csv_init(c, b->name, (const char *)b->data, b->len);
  int got, rc = exhi_csv_next(c, &got, err), first = 1;
  int ci = -1, ct = -1, cs = -1;
  while (rc == EXH_OK && got) {
    if (first) {
      ci = exhi_csv_column(c, "id");
      ct = exhi_csv_column(c, "text");
      cs = exhi_csv_column(c, "source");
      first = 0;
      if (ci < 0 || ct < 0 || cs < 0) {
        rc = exhi_err(err, EXH_ERR_DATA, b->name, c->line, -1, "header lacks id, text or source");
        break;
      }
    } else {
      if (c->nfields <= (size_t)ci || c->nfields <= (size_t)ct || c->nfields <= (size_t)cs ||
          !*c->fields[cs]) {
        rc = exhi_err(err, EXH_ERR_DATA, b->name, c->line, -1, "a row needs id, text and source");
        break;
      }
      exhi_action_def *nv = realloc(a->v, (a->n + 1) * sizeof *nv);
      if (!nv) {
        rc = exhi_err(err, EXH_ERR_NOMEM, b->name, 0, -1, "out of memory");
        break;
      }
      a->v = nv;
      exhi_action_def *d = &a->v[a->n];
      d->id = strdup(c->fields[ci]);
      d->text = strdup(c->fields[ct]);
      d->source = strdup(c->fields[cs]);
      a->n++;
      if (!d->id || !d->text || !d->source) {
        rc = exhi_err(err, EXH_ERR_NOMEM, b->name, 0, -1, "out of memory");
        break;
      }
    }
    rc = exhi_csv_next(c, &got, err);
  }
  free(c);
  if (rc != EXH_OK) exhi_actions_clear(a);
  return rc;
}

void exhi_actions_clear(exhi_actions *a) {
  for (size_t i = 0; i < a->n; i++) {
    free(a->v[i].id);
    free(a->v[i].text);
    free(a->v[i].source);
  }
  free(a->v);
  memset(a, 0, sizeof *a);
}

const exhi_action_def *exhi_action_get(const exhi_actions *a, const char *id) {
  for (size_t i = 0; i < a->n; i++)
    if (!strcmp(a->v[i].id, id)) return &a->v[i];
  return NULL;
}
