/* libFuzzer target: the log readers (byte source with gzip, preamble,
 * guessed layouts, CSV/W3C splitting, values, times) and the built-in rules
 * over what they read, as exhunt logs runs them. */
#include "detectors/logrules.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static exhi_lr *rules;
static exhi_lr_scan *scan;

static int on_hit(void *ctx, size_t rule, const char *detail) {
  (void)ctx;
  if (!exhi_lr_rule_at(rules, rule)) abort();
  if (detail && !memchr(detail, '\0', 4096)) abort();
  return 0;
}

typedef struct state {
  const char *block;
  exhi_logschema *schema;
  exhi_logrec *rec;
} state;

static int on_line(void *c, size_t a, size_t b, uint64_t mask) {
  state *st = c;
  if (b < a) abort();
  const char *line = st->block + a;
  size_t len = b - a;
  if (len && line[0] == '#') {
    exhi_logschema_header(st->schema, line, len);
    return 0;
  }
  if (st->schema->nfields == 0) exhi_logschema_guess(st->schema, line, len);
  exhi_logrec_split(st->rec, st->schema, line, len);
  if (st->rec->nvals > EXHI_LOG_MAX_FIELDS) abort();
  /* The partial split of candidates binds the same first columns. */
  static exhi_logrec part;
  size_t want[2] = {exhi_lr_cols_needed(scan, st->schema, mask), len % 24};
  for (int w = 0; w < 2; w++) {
    exhi_logrec_split_upto(&part, st->schema, line, len, want[w]);
    size_t upto = want[w] < st->rec->nvals ? want[w] : st->rec->nvals;
    if (part.nvals < upto || (!part.partial && part.nvals != st->rec->nvals)) abort();
    for (size_t i = 0; i < upto; i++)
      if (part.v[i].p != st->rec->v[i].p || part.v[i].len != st->rec->v[i].len ||
          part.v[i].escaped != st->rec->v[i].escaped)
        abort();
  }
  for (size_t i = 0; i < st->rec->nvals; i++) {
    const exhi_logval *v = &st->rec->v[i];
    if (v->p < line || v->p + v->len > line + len) abort();
    char buf[64];
    size_t n;
    exhi_logrec_value(st->rec, (int)i, buf, sizeof buf, &n);
    if (v->escaped && n >= sizeof buf) abort();
  }
  exhi_logrec_time(st->rec);
  exh_error err;
  return exhi_lr_eval(scan, st->rec, mask, on_hit, NULL, &err);
}

/* Column mode against the per-hit column checks: the same lines, the same
 * rules (recorded without applying preambles, so both see one layout). */
typedef struct cands {
  size_t n;
  size_t a[256];
  uint64_t m[256];
  int over;
} cands;

static int on_cand(void *c, size_t a, size_t b, uint64_t mask) {
  cands *k = c;
  (void)b;
  if (k->n == 256) {
    k->over = 1;
    return 1;
  }
  k->a[k->n] = a;
  k->m[k->n++] = mask;
  return 0;
}

static void same_both_ways(const exhi_logschema *schema, const char *block, size_t len) {
  /* Column mode and litscan on; column checks per hit; vectorscan alone;
   * column mode's SSE2 walk; column mode without its fast path; column
   * mode with a memo of one slot. */
  static cands k[6];
  exh_error err;
  size_t nl = 0;
  for (size_t i = 0; i < len; i++) nl += block[i] == '\n';
  for (int i = 0; i < 6; i++) {
    k[i].n = 0;
    k[i].over = 0;
    exhi_lr_scan_colmode(scan, i != 1);
    exhi_lr_scan_litscan(scan, i != 2);
    exhi_lr_scan_walk_avx2(scan, i != 3);
    exhi_lr_scan_colmode_fast(scan, i != 4);
    exhi_lr_scan_memo_bits(scan, i == 5 ? 0 : 10);
    int rc = exhi_lr_prefilter(scan, schema, block, len, on_cand, &k[i], &err);
    /* A line count given is the block's. */
    size_t ends = exhi_lr_prefilter_line_ends(scan);
    if (rc == EXH_OK && !k[i].over && ends != SIZE_MAX && ends != nl) abort();
  }
  exhi_lr_scan_colmode(scan, 1);
  exhi_lr_scan_litscan(scan, 1);
  exhi_lr_scan_walk_avx2(scan, 1);
  exhi_lr_scan_colmode_fast(scan, 1);
  exhi_lr_scan_memo_bits(scan, 10);
  for (int j = 1; j < 6; j++) {
    if (k[0].over || k[j].over) continue; /* stopped early: compare nothing */
    if (k[0].n != k[j].n) abort();
    /* A preamble line's rules mean nothing (the hunt applies it). */
    for (size_t i = 0; i < k[0].n; i++)
      if (k[0].a[i] != k[j].a[i] || (block[k[0].a[i]] != '#' && k[0].m[i] != k[j].m[i])) abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  exh_error err;
  if (!rules) {
    if (exhi_lr_load(1, NULL, 0, NULL, &rules, &err) != EXH_OK) abort();
    if (exhi_lr_scan_new(rules, &scan, &err) != EXH_OK) abort();
  }
  exhi_logsrc *src;
  if (exhi_logsrc_open_mem("fuzz.log", data, size, &src, &err) != EXH_OK) return 0;
  state st = {.schema = calloc(1, sizeof *st.schema), .rec = calloc(1, sizeof *st.rec)};
  if (!st.schema || !st.rec) abort();
  exhi_logschema_init(st.schema);
  exhi_logschema_hint_path(st.schema, "Logging/HttpProxy/Ecp/HttpProxy_2021030306-1.LOG");
  const char *block;
  size_t len;
  while (exhi_logsrc_next(src, &block, &len, &err) == EXH_OK && len) {
    st.block = block;
    same_both_ways(st.schema, block, len);
    /* Both ways the hunt reads a block: prefiltered, and every line. */
    exhi_lr_prefilter(scan, st.schema, block, len, on_line, &st, &err);
    size_t a = 0;
    while (a < len) {
      const char *e = memchr(block + a, '\n', len - a);
      size_t b = e ? (size_t)(e - block) : len;
      on_line(&st, a, b, EXHI_LR_ALL);
      a = b + 1;
    }
    /* Again with the layout the block's preambles set (an IIS one). */
    same_both_ways(st.schema, block, len);
  }
  exhi_logsrc_free(src);
  free(st.schema);
  free(st.rec);
  return 0;
}
