#include "t.h"

#include "readers/csv.h"

#include <stdlib.h>

static int read_all(const char *text, char out[][64], size_t max, size_t *n, exh_error *e) {
  exhi_csv *c = malloc(sizeof *c);
  exhi_csv_init(c, "t.csv", text, strlen(text));
  *n = 0;
  int got, rc;
  while ((rc = exhi_csv_next(c, &got, e)) == EXH_OK && got)
    for (size_t i = 0; i < c->nfields && *n < max; i++) snprintf(out[(*n)++], 64, "%s", c->fields[i]);
  free(c);
  return rc;
}

int main(void) {
  char f[32][64];
  size_t n;
  exh_error e;
  CHECK_INT(read_all("a,b\r\n# comment\n\n\"x, \"\"y\"\"\",\n", f, 32, &n, &e), EXH_OK);
  CHECK_INT(n, 4);
  CHECK_STR(f[0], "a");
  CHECK_STR(f[2], "x, \"y\"");
  CHECK_STR(f[3], "");
  /* A BOM from a spreadsheet export. */
  CHECK_INT(read_all("\xEF\xBB\xBFproduct,x\n", f, 32, &n, &e), EXH_OK);
  CHECK_STR(f[0], "product");
  /* Multi-line quoted field keeps counting lines. */
  exhi_csv *c = malloc(sizeof *c);
  const char *ml = "a\n\"one\ntwo\"\nthree\n";
  exhi_csv_init(c, "t.csv", ml, strlen(ml));
  int got;
  exhi_csv_next(c, &got, &e);
  exhi_csv_next(c, &got, &e);
  CHECK_STR(c->fields[0], "one\ntwo");
  exhi_csv_next(c, &got, &e);
  CHECK_INT(c->line, 4);
  free(c);
  /* Errors name the file and line. */
  CHECK_INT(read_all("a\n\"open\n", f, 32, &n, &e), EXH_ERR_PARSE);
  CHECK_CONTAINS(e.text, "t.csv: line 2: quoted field not closed");
  CHECK_INT(read_all("a\nx\"y\n", f, 32, &n, &e), EXH_ERR_PARSE);
  CHECK_CONTAINS(e.text, "line 2");
  CHECK_INT(read_all("\"a\"b\n", f, 32, &n, &e), EXH_ERR_PARSE);
  /* Bounds: too many fields, too long a record. */
  char many[400];
  memset(many, ',', 100);
  many[100] = '\0';
  CHECK_INT(read_all(many, f, 32, &n, &e), EXH_ERR_LIMIT);
  char *big = malloc(EXHI_CSV_MAX_RECORD + 10);
  memset(big, 'x', EXHI_CSV_MAX_RECORD + 9);
  big[EXHI_CSV_MAX_RECORD + 9] = '\0';
  CHECK_INT(read_all(big, f, 32, &n, &e), EXH_ERR_LIMIT);
  /* Empty fields up to the record limit must not overflow the buffer. */
  memset(big, ',', 63);
  big[63] = '\0';
  CHECK_INT(read_all(big, f, 32, &n, &e), EXH_OK);
  free(big);
  return t_done("test_csv");
}
