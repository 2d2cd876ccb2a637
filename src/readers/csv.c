#include "csv.h"

#include <string.h>

void exhi_csv_init(exhi_csv *c, const char *name, const char *data, size_t len) {
  memset(c, 0, sizeof *c);
  c->name = name;
  c->p = data;
  c->end = data + len;
  c->next_line = 1;
  /* A UTF-8 byte order mark from a spreadsheet export is not data. */
  if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) c->p += 3;
}

int exhi_csv_next(exhi_csv *c, int *got, exh_error *err) {
  *got = 0;
  c->nfields = 0;
  /* Skip blank and comment lines. */
  for (;;) {
    if (c->p >= c->end) return EXH_OK;
    const char *q = c->p;
    while (q < c->end && (*q == ' ' || *q == '\t')) q++;
    if (q < c->end && (*q == '#' || *q == '\n' || *q == '\r')) {
      while (q < c->end && *q != '\n') q++;
      if (q < c->end) q++;
      c->p = q;
      c->next_line++;
      continue;
    }
    break;
  }
  c->line = c->next_line;
  size_t o = 0;
  const char *p = c->p;
  size_t fstart = 0;
  for (;;) {
    if (c->nfields >= EXHI_CSV_MAX_FIELDS)
      return exhi_err(err, EXH_ERR_LIMIT, c->name, c->line, -1,
                      "more than %d fields in a record", EXHI_CSV_MAX_FIELDS);
    fstart = o;
    if (p < c->end && *p == '"') {
      p++;
      for (;;) {
        if (p >= c->end)
          return exhi_err(err, EXH_ERR_PARSE, c->name, c->line, -1,
                          "quoted field not closed before the end of the file");
        if (*p == '"') {
          if (p + 1 < c->end && p[1] == '"') {
            if (o + 1 >= sizeof c->buf) goto too_long;
            c->buf[o++] = '"';
            p += 2;
            continue;
          }
          p++;
          break;
        }
        if (*p == '\n') c->next_line++;
        if (o + 1 >= sizeof c->buf) goto too_long;
        c->buf[o++] = *p++;
      }
      if (p < c->end && *p != ',' && *p != '\n' && *p != '\r')
        return exhi_err(err, EXH_ERR_PARSE, c->name, c->line, -1,
                        "text after the closing quote of field %zu", c->nfields + 1);
    } else {
      while (p < c->end && *p != ',' && *p != '\n' && *p != '\r') {
        if (*p == '"')
          return exhi_err(err, EXH_ERR_PARSE, c->name, c->line, -1,
                          "quote inside unquoted field %zu", c->nfields + 1);
        if (o + 1 >= sizeof c->buf) goto too_long;
        c->buf[o++] = *p++;
      }
    }
    if (memchr(c->buf + fstart, '\0', o - fstart))
      return exhi_err(err, EXH_ERR_PARSE, c->name, c->line, -1,
                      "NUL byte in field %zu", c->nfields + 1);
    if (o >= sizeof c->buf) goto too_long;
    c->buf[o++] = '\0';
    c->fields[c->nfields++] = c->buf + fstart;
    if (p < c->end && *p == ',') {
      p++;
      continue;
    }
    if (p < c->end && *p == '\r') p++;
    if (p < c->end && *p == '\n') p++;
    c->next_line++;
    break;
  }
  c->p = p;
  *got = 1;
  return EXH_OK;
too_long:
  return exhi_err(err, EXH_ERR_LIMIT, c->name, c->line, -1,
                  "record longer than %d bytes", EXHI_CSV_MAX_RECORD);
}

int exhi_csv_column(const exhi_csv *header, const char *name) {
  for (size_t i = 0; i < header->nfields; i++)
    if (strcmp(header->fields[i], name) == 0) return (int)i;
  return -1;
}
