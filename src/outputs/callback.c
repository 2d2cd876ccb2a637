/* An output that hands findings to a function: how exhunt check collects
 * what the log hunt found without parsing its own JSON back. */
#include "output.h"

#include <stdlib.h>

typedef struct cb_output {
  exh_output o; /* first: the writers get &o */
  int (*on_finding)(void *ctx, const exh_finding *f);
  void (*on_error)(void *ctx, const char *input, const exh_error *e);
  void *ctx;
} cb_output;

static int cb_finding(exh_output *o, const exh_finding *f) {
  cb_output *c = (cb_output *)o;
  return c->on_finding(c->ctx, f);
}

static int cb_assessment(exh_output *o, const char *input, const exh_input_build *in,
                         const exh_assessment *a) {
  (void)o, (void)input, (void)in, (void)a;
  return EXH_OK;
}

static int cb_input_error(exh_output *o, const char *input, const exh_error *e) {
  cb_output *c = (cb_output *)o;
  if (c->on_error) c->on_error(c->ctx, input, e);
  return EXH_OK;
}

static const exhi_writer writer_callback = {
    .name = "callback",
    .help = "findings handed to a function",
    .finding = cb_finding,
    .assessment = cb_assessment,
    .input_error = cb_input_error,
};

int exh_output_new_callback(int (*on_finding)(void *ctx, const exh_finding *f),
                            void (*on_error)(void *ctx, const char *input, const exh_error *e),
                            void *ctx, exh_output **out, exh_error *err) {
  *out = NULL;
  if (!on_finding) return exhi_err(err, EXH_ERR_INVALID, "output", 0, -1, "no finding function");
  cb_output *c = calloc(1, sizeof *c);
  if (!c) return exhi_err(err, EXH_ERR_NOMEM, NULL, 0, -1, "out of memory");
  c->o.w = &writer_callback;
  /* Never written to; a real stream so exh_output_finish stays harmless. */
  c->o.fp = stdout;
  c->o.now_ms = exhi_now_ms();
  exhi_format_time_ms(c->o.now_ms, c->o.now, sizeof c->o.now);
  c->on_finding = on_finding;
  c->on_error = on_error;
  c->ctx = ctx;
  *out = &c->o;
  return EXH_OK;
}
