/* libFuzzer target: the CSV reader behind the data tables. */
#include "readers/csv.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* exhi_read_file caps a table at EXHI_TABLE_MAX_BYTES. */
  if (size > EXHI_TABLE_MAX_BYTES) return 0;
  exhi_csv *c = malloc(sizeof *c); /* ~17 KiB: not on the stack */
  if (!c) return 0;
  exhi_csv_init(c, "fuzz.csv", (const char *)data, size);
  exh_error err;
  int got = 0;
  bool header = true;
  for (;;) {
    const char *before = c->p;
    int rc = exhi_csv_next(c, &got, &err);
    if (rc != EXH_OK) {
      if (!memchr(err.text, '\0', sizeof err.text)) abort();
      break;
    }
    if (!got) break;
    /* Every record consumes input, so the loop ends. */
    if (c->p <= before || c->p > c->end) abort();
    if (c->nfields == 0 || c->nfields > EXHI_CSV_MAX_FIELDS) abort();
    for (size_t i = 0; i < c->nfields; i++) {
      const char *f = c->fields[i];
      if (f < c->buf || f >= c->buf + sizeof c->buf) abort();
      if (!memchr(f, '\0', (size_t)(c->buf + sizeof c->buf - f))) abort();
    }
    if (header) {
      /* As the table loader does: bind columns by name. */
      int idx = exhi_csv_column(c, c->fields[c->nfields - 1]);
      if (idx < 0 || strcmp(c->fields[idx], c->fields[c->nfields - 1]) != 0) abort();
      exhi_csv_column(c, "product");
      header = false;
    }
  }
  free(c);
  return 0;
}
