/* Output writers, registered in one table (output.c). */
#ifndef EXHUNT_OUTPUT_H
#define EXHUNT_OUTPUT_H

#include "../core/internal.h"

typedef struct exhi_writer {
  const char *name;
  const char *help;
  int (*finding)(exh_output *o, const exh_finding *f);
  int (*assessment)(exh_output *o, const char *input, const exh_input_build *in,
                    const exh_assessment *a);
  int (*input_error)(exh_output *o, const char *input, const exh_error *e);
} exhi_writer;

struct exh_output {
  const exhi_writer *w;
  FILE *fp;
  unsigned flags;
  int64_t now_ms;
  char now[40];            /* now_ms as RFC 3339 */
  const char *cur_input;   /* the input whose findings are being written */
  size_t count;            /* records written */
  char *line;              /* a JSON line being written (jsonl): owned */
  size_t line_cap;
};

/* Tests: on (the default) writes JSON-lines findings directly; off through
 * a jansson tree, the reference the direct writer must equal. */
void exhi_jsonl_direct(int on);

extern const exhi_writer exhi_writer_text;
extern const exhi_writer exhi_writer_jsonl;

#endif
