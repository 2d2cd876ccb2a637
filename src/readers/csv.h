/* A bounded RFC 4180 CSV reader over a buffer in memory, for the data
 * tables. Lines starting with '#' outside quotes are comments. */
#ifndef EXHUNT_CSV_H
#define EXHUNT_CSV_H

#include "../core/internal.h"

/* A table row has a dozen columns; 64 leaves room for growth. */
#define EXHI_CSV_MAX_FIELDS 64
/* The longest cell (a source note) is a few hundred bytes. */
#define EXHI_CSV_MAX_RECORD 16384

typedef struct exhi_csv {
  const char *name;      /* file name for errors; borrowed */
  const char *p, *end;   /* the rest of the input; borrowed */
  long long line;        /* line the current record starts on */
  long long next_line;
  size_t nfields;
  const char *fields[EXHI_CSV_MAX_FIELDS]; /* point into buf */
  char buf[EXHI_CSV_MAX_RECORD];
} exhi_csv;

void exhi_csv_init(exhi_csv *c, const char *name, const char *data, size_t len);
/* Reads the next record into c->fields. Returns EXH_OK with *got = 0 at the
 * end of input. */
int exhi_csv_next(exhi_csv *c, int *got, exh_error *err);
/* Index of the column named `name` in the header record, or -1. */
int exhi_csv_column(const exhi_csv *header, const char *name);

#endif
