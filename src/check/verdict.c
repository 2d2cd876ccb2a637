/*
 * The verdict table of exhunt check (rules/check/verdict.csv, built into the
 * library): which log rules mean post-exploitation ("compromised") and which
 * never say more than "attempted". Data, not code: each row names its source.
 */
#include "check.h"
#include "../readers/csv.h"

#include <stdlib.h>
#include <string.h>

extern const exhi_embedded_file exhi_check_verdict_blobs[];
extern const size_t exhi_check_verdict_count;

int exhi_verdict_parse(exhi_verdict *v, const char *name, const char *text, size_t len,
                       exh_error *err) {
  memset(v, 0, sizeof *v);
  exhi_csv *c = malloc(sizeof *c);
  if (!c) return exhi_err(err, EXH_ERR_NOMEM, name, 0, -1, "out of memory");
  exhi_csv_init(c, name, text, len);
  int got, rc = exhi_csv_next(c, &got, err), first = 1;
  int cr = -1, cl = -1, cs = -1;
  while (rc == EXH_OK && got) {
    if (first) {
      cr = exhi_csv_column(c, "rule");
      cl = exhi_csv_column(c, "level");
      cs = exhi_csv_column(c, "source");
      first = 0;
      if (cr < 0 || cl < 0 || cs < 0) {
        rc = exhi_err(err, EXH_ERR_DATA, name, c->line, -1, "header lacks rule, level or source");
        break;
      }
    } else {
      if (c->nfields <= (size_t)cr || c->nfields <= (size_t)cl || c->nfields <= (size_t)cs) {
        rc = exhi_err(err, EXH_ERR_DATA, name, c->line, -1, "a row needs rule, level and source");
        break;
      }
      const char *rule = c->fields[cr], *lv = c->fields[cl];
      int level = !strcmp(lv, "compromised") ? EXH_COMP_COMPROMISED
                  : !strcmp(lv, "attempted") ? EXH_COMP_ATTEMPTED : -1;
      if (strncmp(rule, "exh.", 4) || strlen(rule) > EXHI_VERDICT_MAX_RULE) {
        rc = exhi_err(err, EXH_ERR_DATA, name, c->line, -1,
                      "rule must be a rule id or prefix (exh.name...), at most %d bytes",
                      EXHI_VERDICT_MAX_RULE);
        break;
      }
      if (level < 0) {
        rc = exhi_err(err, EXH_ERR_DATA, name, c->line, -1,
                      "level must be compromised or attempted");
        break;
      }
      if (!*c->fields[cs]) {
        rc = exhi_err(err, EXH_ERR_DATA, name, c->line, -1, "a row needs its source");
        break;
      }
      if (v->n >= EXHI_VERDICT_MAX_ROWS) {
        rc = exhi_err(err, EXH_ERR_LIMIT, name, c->line, -1, "more than %d rows",
                      EXHI_VERDICT_MAX_ROWS);
        break;
      }
      exhi_verdict_row *nv = realloc(v->rows, (v->n + 1) * sizeof *nv);
      if (!nv) {
        rc = exhi_err(err, EXH_ERR_NOMEM, name, 0, -1, "out of memory");
        break;
      }
      v->rows = nv;
      exhi_verdict_row *row = &v->rows[v->n];
      size_t rl = strlen(rule);
      row->rule = strdup(rule);
      row->source = strdup(c->fields[cs]);
      row->prefix = rule[rl - 1] == '.';
      row->level = level;
      v->n++;
      if (!row->rule || !row->source) {
        rc = exhi_err(err, EXH_ERR_NOMEM, name, 0, -1, "out of memory");
        break;
      }
    }
    rc = exhi_csv_next(c, &got, err);
  }
  if (rc == EXH_OK && first) rc = exhi_err(err, EXH_ERR_DATA, name, 0, -1, "no header");
  free(c);
  if (rc != EXH_OK) exhi_verdict_clear(v);
  return rc;
}

int exhi_verdict_load(exhi_verdict *v, exh_error *err) {
  memset(v, 0, sizeof *v);
  if (!exhi_check_verdict_count)
    return exhi_err(err, EXH_ERR_DATA, "verdict.csv", 0, -1, "not built in");
  const exhi_embedded_file *b = &exhi_check_verdict_blobs[0];
  return exhi_verdict_parse(v, b->name, (const char *)b->data, b->len, err);
}

void exhi_verdict_clear(exhi_verdict *v) {
  for (size_t i = 0; i < v->n; i++) {
    free(v->rows[i].rule);
    free(v->rows[i].source);
  }
  free(v->rows);
  memset(v, 0, sizeof *v);
}

int exhi_verdict_level(const exhi_verdict *v, const char *rule_id) {
  for (size_t i = 0; rule_id && i < v->n; i++) {
    const exhi_verdict_row *r = &v->rows[i];
    if (r->prefix ? !strncmp(rule_id, r->rule, strlen(r->rule)) : !strcmp(rule_id, r->rule))
      return r->level;
  }
  return -1;
}
