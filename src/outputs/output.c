#include "output.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const exhi_writer *const writers[] = {&exhi_writer_text, &exhi_writer_jsonl};

const char *exh_severity_name(int s) {
  static const char *const names[] = {"info", "low", "medium", "high", "critical"};
  return s >= 0 && s <= 4 ? names[s] : "unknown";
}

int exh_output_new(const char *format, FILE *fp, unsigned flags, int64_t now_ms,
                   exh_output **out, exh_error *err) {
  *out = NULL;
  const exhi_writer *w = NULL;
  for (size_t i = 0; i < EXHI_ARRAY_LEN(writers); i++)
    if (strcmp(writers[i]->name, format) == 0) w = writers[i];
  if (!w)
    return exhi_err(err, EXH_ERR_INVALID, "--format", 0, -1,
                    "unknown output format \"%s\" (text, jsonl)", format);
  exh_output *o = calloc(1, sizeof *o);
  if (!o) return exhi_err(err, EXH_ERR_NOMEM, NULL, 0, -1, "out of memory");
  o->w = w;
  o->fp = fp;
  o->flags = flags;
  o->now_ms = now_ms >= 0 ? now_ms : exhi_now_ms();
  exhi_format_time_ms(o->now_ms, o->now, sizeof o->now);
  *out = o;
  return EXH_OK;
}

int exh_output_finding(exh_output *o, const exh_finding *f) {
  o->count++;
  return o->w->finding(o, f);
}

int exh_output_assessment(exh_output *o, const char *input, const exh_input_build *in,
                          const exh_assessment *a) {
  o->count++;
  return o->w->assessment(o, input, in, a);
}

int exh_output_input_error(exh_output *o, const char *input, const exh_error *e) {
  return o->w->input_error(o, input, e);
}

int exh_output_finish(exh_output *o, exh_error *err) {
  if (fflush(o->fp) != 0 || ferror(o->fp))
    return exhi_err(err, EXH_ERR_IO, "output", 0, -1, "write failed: %s", strerror(errno));
  return EXH_OK;
}

void exh_output_free(exh_output *o) {
  if (o) free(o->line);
  free(o);
}
