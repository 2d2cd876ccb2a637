/* Build -> update level, open CVEs and what to install. The rules are in
 * docs/assess.md; the facts in data/. */
#include "kb.h"

#include <stdlib.h>
#include <string.h>

static const exh_release *find_exact(const exh_kb *kb, const exh_build *b) {
  size_t lo = 0, hi = kb->nrels;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    int c = exh_build_cmp(&kb->by_build[mid]->build, b);
    if (c == 0 && b->parts == 4) return kb->by_build[mid];
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  return NULL;
}

/* The CU line a build is on: the newest line of its product whose base is
 * at or below it. For a 3-part build the revision is ignored, so a CU whose
 * preview shares the build number resolves to the later (released) one. */
static const kb_line *line_of(const exh_kb *kb, const kb_product *p, const exh_build *b) {
  const kb_line *found = NULL;
  for (size_t l = p->first_line; l < p->first_line + p->nlines; l++)
    if (exh_build_cmp(&kb->lines[l].base->build, b) <= 0) found = &kb->lines[l];
  return found;
}

static int cmp_open(const void *a, const void *b) {
  const exh_open_cve *x = a, *y = b;
  if (!x->fix != !y->fix) return x->fix ? -1 : 1;
  if (x->fix && y->fix) {
    int c = exh_build_cmp(&x->fix->build, &y->fix->build);
    if (c) return c;
  }
  return strcmp(x->id, y->id);
}

static void neighbours(const exh_kb *kb, const exh_build *b, const char *product,
                       exh_assessment *a) {
  for (size_t i = 0; i < kb->nrels; i++) {
    const exh_release *r = kb->by_build[i];
    if (r->product != product) continue;
    int c = exh_build_cmp(&r->build, b);
    if (c < 0) a->nearest_below = r;
    else if (c > 0 && !a->nearest_above) a->nearest_above = r;
  }
}

static const exh_release *latest_of_product(const exh_kb *kb, const kb_product *p) {
  const exh_release *best = NULL;
  for (size_t l = p->first_line; l < p->first_line + p->nlines; l++) {
    const kb_line *L = &kb->lines[l];
    const exh_release *r = L->nrels ? L->rels[L->nrels - 1] : L->base;
    if (!best || exh_build_cmp(&r->build, &best->build) > 0) best = r;
  }
  return best;
}

static bool supported(const kb_product *p, const char *as_of) {
  return !p->end_of_support[0] || strcmp(as_of, p->end_of_support) < 0;
}

int exh_assess(const exh_kb *kb, const exh_build *build, int precision,
               const char *as_of, exh_assessment **out, exh_error *err) {
  *out = NULL;
  char today[16];
  if (!as_of) {
    exhi_today(today, sizeof today);
    as_of = today;
  } else if (!exhi_valid_date(as_of)) {
    return exhi_err(err, EXH_ERR_INVALID, NULL, 0, -1, "date \"%s\" is not YYYY-MM-DD", as_of);
  }
  if (build->parts != 3 && build->parts != 4)
    return exhi_err(err, EXH_ERR_INVALID, NULL, 0, -1, "a build has 3 or 4 parts");
  if (build->parts == 3) precision = EXH_PRECISION_CU;

  exh_assessment *a = calloc(1, sizeof *a);
  if (!a) return exhi_err(err, EXH_ERR_NOMEM, NULL, 0, -1, "out of memory");
  a->build = *build;
  a->precision = precision;
  a->support_end = "";
  a->note = "";
  a->level = EXH_LEVEL_NOT_ASSESSED;
  a->tables_date = kb->newest_release;
  exhi_strlcpy(a->as_of, as_of, sizeof a->as_of);

  const kb_product *p = exhi_kb_product_of(kb, build);
  if (!p) {
    *out = a;
    return EXH_OK;
  }
  a->product = p->name;
  a->support_end = p->end_of_support;
  a->support = supported(p, as_of) ? EXH_SUPPORT_SUPPORTED : EXH_SUPPORT_ENDED;
  if (a->support == EXH_SUPPORT_ENDED)
    a->note = "out of support: vulnerabilities published after support ended are neither "
              "fixed nor listed in exhunt's tables";
  /* Recommended target: the newest release of a supported product. */
  const kb_product *tp = NULL;
  for (size_t i = 0; i < kb->nproducts; i++) {
    const kb_product *q = &kb->products[i];
    if (!q->nlines || !supported(q, as_of)) continue;
    if (!tp || exh_build_cmp(&kb->lines[q->first_line].base->build,
                             &kb->lines[tp->first_line].base->build) > 0)
      tp = q;
  }
  if (tp) {
    a->target = latest_of_product(kb, tp);
    a->target_product = tp->name;
  }
  if (!p->nlines) {
    *out = a; /* a product exhunt knows by name only (2003, 2007) */
    return EXH_OK;
  }
  a->latest_in_product = latest_of_product(kb, p);

  const kb_line *L = NULL;
  /* With the CU known only, no table row says what is installed. */
  if (precision == EXH_PRECISION_EXACT) a->release = find_exact(kb, build);
  if (a->release) {
    L = &kb->lines[kb->rel_line[a->release - kb->rels]];
  } else {
    L = line_of(kb, p, build);
    if (precision == EXH_PRECISION_EXACT) neighbours(kb, build, p->name, a);
    a->newer_than_table = exh_build_cmp(build, &a->latest_in_product->build) > 0;
  }
  /* The build whose fixes count: with the CU known only, the CU as released. */
  exh_build eff = *build;
  if (L) {
    a->cu = L->base;
    a->latest_in_cu = L->nrels ? L->rels[L->nrels - 1] : L->base;
    if (precision == EXH_PRECISION_CU) eff = L->base->build;
  }

  size_t n = L ? L->ncves : p->ncves;
  a->open = NULL;
  exh_open_cve *open = calloc(n ? n : 1, sizeof *open);
  if (!open) {
    free(a);
    return exhi_err(err, EXH_ERR_NOMEM, NULL, 0, -1, "out of memory");
  }
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    const kb_line_cve *lc = L ? &L->cves[i] : NULL;
    uint32_t v = L ? lc->cve : p->cves[i];
    if (lc && lc->fixed && exh_build_cmp(&eff, lc->fixed) >= 0) continue;
    open[k].id = kb->cves[v].id;
    open[k].campaign = kb->cves[v].campaign;
    open[k].fix = lc && lc->fixed ? lc->fix : NULL;
    if (!open[k].fix) a->n_unfixable++;
    else if (!a->min_update || exh_build_cmp(&open[k].fix->build, &a->min_update->build) > 0)
      a->min_update = open[k].fix;
    k++;
  }
  qsort(open, k, sizeof *open, cmp_open);
  a->open = open;
  a->n_open = k;
  if (precision == EXH_PRECISION_CU) a->level = EXH_LEVEL_UNKNOWN;
  else a->level = k ? EXH_LEVEL_UNPATCHED : EXH_LEVEL_NONE_OPEN;
  *out = a;
  return EXH_OK;
}

void exh_assessment_free(exh_assessment *a) {
  if (!a) return;
  free((void *)(uintptr_t)a->open); /* owned: const only to readers */
  free(a);
}
