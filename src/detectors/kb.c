/* Loads the build, CVE, campaign and product tables (built in, or from a
 * --data folder) and compiles them into an immutable exh_kb. */
#include "kb.h"

#include "../readers/csv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Hard caps on table sizes: the real ones hold a few hundred rows. */
#define MAX_ROWS 100000

bool exhi_parse_build4(const char *s, exh_build *out) {
  uint32_t v[4] = {0};
  int n = 0;
  const char *p = s;
  while (n < 4) {
    if (*p < '0' || *p > '9') return false;
    uint64_t x = 0;
    int digits = 0;
    while (*p >= '0' && *p <= '9') {
      if (++digits > 9) return false;
      x = x * 10 + (uint64_t)(*p++ - '0');
    }
    v[n++] = (uint32_t)x;
    if (n < 4) {
      if (*p != '.') return false;
      p++;
    }
  }
  if (*p) return false;
  out->major = v[0];
  out->minor = v[1];
  out->build = v[2];
  out->revision = v[3];
  out->parts = 4;
  return true;
}

static bool parse_u32(const char *s, uint32_t dflt, uint32_t *out) {
  if (!*s) {
    *out = dflt;
    return true;
  }
  char *end;
  errno = 0;
  unsigned long v = strtoul(s, &end, 10);
  if (errno || *end || v > UINT32_MAX || *s == '-') return false;
  *out = (uint32_t)v;
  return true;
}

/* ---- table sources ------------------------------------------------------ */

typedef struct table_src {
  char name[4200];          /* for errors: "builds.csv (built-in)" or a path */
  const char *data;
  size_t len;
  unsigned char *owned;     /* when read from --data */
} table_src;

static int open_table(const char *dir, const char *file, table_src *t, exh_error *err) {
  memset(t, 0, sizeof *t);
  if (dir) {
    snprintf(t->name, sizeof t->name, "%s/%s", dir, file);
    struct stat st;
    if (stat(t->name, &st) == 0) {
      size_t len;
      int rc = exhi_read_file(t->name, EXHI_TABLE_MAX_BYTES, &t->owned, &len, err);
      if (rc) return rc;
      t->data = (const char *)t->owned;
      t->len = len;
      return EXH_OK;
    }
  }
  for (size_t i = 0; i < exhi_embedded_count; i++) {
    if (strcmp(exhi_embedded_files[i].name, file) == 0) {
      snprintf(t->name, sizeof t->name, "%s (built-in)", file);
      t->data = (const char *)exhi_embedded_files[i].data;
      t->len = exhi_embedded_files[i].len;
      return EXH_OK;
    }
  }
  return exhi_err(err, EXH_ERR_DATA, file, 0, -1, "table not built in and not in --data");
}

/* Reads the header and binds the wanted columns by name. */
static int bind_columns(exhi_csv *c, const char *const *want, int *idx, size_t n,
                        exh_error *err) {
  int got;
  int rc = exhi_csv_next(c, &got, err);
  if (rc) return rc;
  if (!got) return exhi_err(err, EXH_ERR_DATA, c->name, 0, -1, "empty table: no header line");
  for (size_t i = 0; i < n; i++) {
    idx[i] = exhi_csv_column(c, want[i]);
    if (idx[i] < 0)
      return exhi_err(err, EXH_ERR_DATA, c->name, c->line, -1,
                      "header has no column \"%s\"", want[i]);
  }
  return EXH_OK;
}

static const char *cell(const exhi_csv *c, int idx) {
  return (size_t)idx < c->nfields ? c->fields[idx] : "";
}

#define NOMEM(err, t) exhi_err((err), EXH_ERR_NOMEM, (t)->name, 0, -1, "out of memory")

/* ---- products ------------------------------------------------------------ */

static int load_products(exh_kb *kb, table_src *t, exh_error *err) {
  static const char *const cols[] = {"product", "major", "minor_min", "minor_max",
                                     "build_min", "build_max", "end_of_support",
                                     "note", "source"};
  int idx[9];
  exhi_csv *c = malloc(sizeof *c);
  if (!c) return NOMEM(err, t);
  exhi_csv_init(c, t->name, t->data, t->len);
  int rc = bind_columns(c, cols, idx, 9, err);
  size_t cap = 16;
  kb->products = calloc(cap, sizeof *kb->products);
  if (!rc && !kb->products) rc = NOMEM(err, t);
  while (!rc) {
    int got;
    if ((rc = exhi_csv_next(c, &got, err)) || !got) break;
    if (kb->nproducts == 64) {
      rc = exhi_err(err, EXH_ERR_LIMIT, t->name, c->line, -1, "more than 64 products");
      break;
    }
    if (kb->nproducts == cap) {
      cap *= 2;
      kb_product *np = realloc(kb->products, cap * sizeof *np);
      if (!np) { rc = NOMEM(err, t); break; }
      kb->products = np;
    }
    kb_product *p = &kb->products[kb->nproducts];
    memset(p, 0, sizeof *p);
    if (!*cell(c, idx[0])) {
      rc = exhi_err(err, EXH_ERR_DATA, t->name, c->line, -1, "empty product name");
      break;
    }
    if (!parse_u32(cell(c, idx[1]), 0, &p->major) || !*cell(c, idx[1]) ||
        !parse_u32(cell(c, idx[2]), 0, &p->minor_min) ||
        !parse_u32(cell(c, idx[3]), UINT32_MAX, &p->minor_max) ||
        !parse_u32(cell(c, idx[4]), 0, &p->build_min) ||
        !parse_u32(cell(c, idx[5]), UINT32_MAX, &p->build_max)) {
      rc = exhi_err(err, EXH_ERR_DATA, t->name, c->line, -1,
                    "major, minor_min, minor_max, build_min, build_max must be whole numbers");
      break;
    }
    const char *eos = cell(c, idx[6]);
    if (*eos && !exhi_valid_date(eos)) {
      rc = exhi_err(err, EXH_ERR_DATA, t->name, c->line, -1,
                    "end_of_support \"%s\" is not a YYYY-MM-DD date", eos);
      break;
    }
    p->name = exhi_arena_strdup(&kb->arena, cell(c, idx[0]));
    p->end_of_support = exhi_arena_strdup(&kb->arena, eos);
    p->note = exhi_arena_strdup(&kb->arena, cell(c, idx[7]));
    p->source = exhi_arena_strdup(&kb->arena, cell(c, idx[8]));
    if (!p->name || !p->end_of_support || !p->note || !p->source) { rc = NOMEM(err, t); break; }
    for (size_t i = 0; i < kb->nproducts; i++)
      if (strcmp(kb->products[i].name, p->name) == 0)
        rc = exhi_err(err, EXH_ERR_DATA, t->name, c->line, -1, "product \"%s\" listed twice", p->name);
    if (!rc) kb->nproducts++;
  }
  free(c);
  return rc;
}

static long find_product(const exh_kb *kb, const char *name) {
  for (size_t i = 0; i < kb->nproducts; i++)
    if (strcmp(kb->products[i].name, name) == 0) return (long)i;
  return -1;
}

const kb_product *exhi_kb_product_of(const exh_kb *kb, const exh_build *b) {
  for (size_t i = 0; i < kb->nproducts; i++) {
    const kb_product *p = &kb->products[i];
    if (b->major == p->major && b->minor >= p->minor_min && b->minor <= p->minor_max &&
        b->build >= p->build_min && b->build <= p->build_max)
      return p;
  }
  return NULL;
}

/* ---- releases ------------------------------------------------------------ */

static int load_releases(exh_kb *kb, table_src *t, exh_error *err) {
  static const char *const cols[] = {"product", "cu", "update", "name",
                                     "released", "build", "kb", "source"};
  int idx[8];
  exhi_csv *c = malloc(sizeof *c);
  if (!c) return NOMEM(err, t);
  exhi_csv_init(c, t->name, t->data, t->len);
  int rc = bind_columns(c, cols, idx, 8, err);
  size_t cap = 512;
  kb->rels = calloc(cap, sizeof *kb->rels);
  if (!rc && !kb->rels) rc = NOMEM(err, t);
  while (!rc) {
    int got;
    if ((rc = exhi_csv_next(c, &got, err)) || !got) break;
    if (kb->nrels == MAX_ROWS) {
      rc = exhi_err(err, EXH_ERR_LIMIT, t->name, c->line, -1, "more than %d rows", MAX_ROWS);
      break;
    }
    if (kb->nrels == cap) {
      cap *= 2;
      exh_release *nr = realloc(kb->rels, cap * sizeof *nr);
      if (!nr) { rc = NOMEM(err, t); break; }
      kb->rels = nr;
    }
    exh_release *r = &kb->rels[kb->nrels];
    memset(r, 0, sizeof *r);
    long pi = find_product(kb, cell(c, idx[0]));
    if (pi < 0) {
      rc = exhi_err(err, EXH_ERR_DATA, t->name, c->line, -1,
                    "product \"%s\" is not in products.csv", cell(c, idx[0]));
      break;
    }
    if (!exhi_parse_build4(cell(c, idx[5]), &r->build)) {
      rc = exhi_err(err, EXH_ERR_DATA, t->name, c->line, -1,
                    "build \"%s\" is not of the form 15.1.2176.9", cell(c, idx[5]));
      break;
    }
    if (exhi_kb_product_of(kb, &r->build) != &kb->products[pi]) {
      rc = exhi_err(err, EXH_ERR_DATA, t->name, c->line, -1,
                    "build %s does not belong to %s by products.csv", cell(c, idx[5]),
                    cell(c, idx[0]));
      break;
    }
    const char *rel = cell(c, idx[4]);
    if (*rel && !exhi_valid_date(rel)) {
      rc = exhi_err(err, EXH_ERR_DATA, t->name, c->line, -1,
                    "released \"%s\" is not a YYYY-MM-DD date", rel);
      break;
    }
    if (!*cell(c, idx[1]) || !*cell(c, idx[3])) {
      rc = exhi_err(err, EXH_ERR_DATA, t->name, c->line, -1, "empty cu or name");
      break;
    }
    r->product = kb->products[pi].name;
    r->cu = exhi_arena_strdup(&kb->arena, cell(c, idx[1]));
    r->update = exhi_arena_strdup(&kb->arena, cell(c, idx[2]));
    r->name = exhi_arena_strdup(&kb->arena, cell(c, idx[3]));
    r->released = exhi_arena_strdup(&kb->arena, rel);
    r->kb = exhi_arena_strdup(&kb->arena, cell(c, idx[6]));
    r->source = exhi_arena_strdup(&kb->arena, cell(c, idx[7]));
    if (!r->cu || !r->update || !r->name || !r->released || !r->kb || !r->source) {
      rc = NOMEM(err, t);
      break;
    }
    if (*rel && (!kb->newest_release || strcmp(rel, kb->newest_release) > 0))
      kb->newest_release = r->released;
    kb->nrels++;
  }
  free(c);
  if (!rc && kb->nrels == 0) rc = exhi_err(err, EXH_ERR_DATA, t->name, 0, -1, "no releases");
  return rc;
}

static int cmp_rel_ptr_build(const void *a, const void *b) {
  const exh_release *x = *(const exh_release *const *)a, *y = *(const exh_release *const *)b;
  return exh_build_cmp(&x->build, &y->build);
}

static size_t product_index(const exh_kb *kb, const char *name) {
  /* Release product names point at the product's own string. */
  for (size_t i = 0; i < kb->nproducts; i++)
    if (kb->products[i].name == name) return i;
  return 0;
}

/* Groups releases into CU lines: a line is a base row (update == "") and the
 * updates that name the same product and CU. */
static int build_lines(exh_kb *kb, const table_src *t, exh_error *err) {
  kb->by_build = malloc(kb->nrels * sizeof *kb->by_build);
  kb->rel_line = malloc(kb->nrels * sizeof *kb->rel_line);
  kb->lines = calloc(kb->nrels, sizeof *kb->lines);
  if (!kb->by_build || !kb->rel_line || !kb->lines) return NOMEM(err, t);
  for (size_t i = 0; i < kb->nrels; i++) kb->by_build[i] = &kb->rels[i];
  qsort(kb->by_build, kb->nrels, sizeof *kb->by_build, cmp_rel_ptr_build);
  for (size_t i = 1; i < kb->nrels; i++)
    if (exh_build_cmp(&kb->by_build[i - 1]->build, &kb->by_build[i]->build) == 0)
      return exhi_err(err, EXH_ERR_DATA, t->name, 0, -1, "build listed twice: %s and %s",
                      kb->by_build[i - 1]->name, kb->by_build[i]->name);
  /* Lines, product by product, in build order. */
  for (size_t p = 0; p < kb->nproducts; p++) {
    kb->products[p].first_line = kb->nlines;
    for (size_t i = 0; i < kb->nrels; i++) {
      const exh_release *r = kb->by_build[i];
      if (r->product != kb->products[p].name || r->update[0]) continue;
      for (size_t l = kb->products[p].first_line; l < kb->nlines; l++)
        if (strcmp(kb->lines[l].base->cu, r->cu) == 0)
          return exhi_err(err, EXH_ERR_DATA, t->name, 0, -1,
                          "%s %s has two base releases (%s and %s)", r->product, r->cu,
                          kb->lines[l].base->name, r->name);
      kb->lines[kb->nlines].base = r;
      kb->lines[kb->nlines].product = p;
      kb->nlines++;
    }
    kb->products[p].nlines = kb->nlines - kb->products[p].first_line;
  }
  /* Assign every release to its line; count members. */
  size_t *count = calloc(kb->nlines, sizeof *count);
  if (!count) return NOMEM(err, t);
  for (size_t i = 0; i < kb->nrels; i++) {
    exh_release *r = &kb->rels[i];
    const kb_product *p = &kb->products[product_index(kb, r->product)];
    size_t l = p->first_line, end = p->first_line + p->nlines;
    while (l < end && strcmp(kb->lines[l].base->cu, r->cu) != 0) l++;
    if (l == end) {
      free(count);
      return exhi_err(err, EXH_ERR_DATA, t->name, 0, -1,
                      "%s names %s %s, which has no base release (a row with an empty update)",
                      r->name, r->product, r->cu);
    }
    kb->rel_line[i] = l;
    const exh_build *bb = &kb->lines[l].base->build;
    /* A row whose build cannot be on its line (a typo in the source kept as
     * printed) is matched exactly but not ordered with the line. */
    if (r->build.minor == bb->minor && exh_build_cmp(&r->build, bb) >= 0) count[l]++;
  }
  for (size_t l = 0; l < kb->nlines; l++) {
    kb->lines[l].rels = exhi_arena_alloc(&kb->arena, (count[l] ? count[l] : 1) * sizeof(exh_release *));
    if (!kb->lines[l].rels) {
      free(count);
      return NOMEM(err, t);
    }
  }
  free(count);
  for (size_t i = 0; i < kb->nrels; i++) {
    const exh_release *r = kb->by_build[i];
    size_t ri = (size_t)(r - kb->rels);
    kb_line *L = &kb->lines[kb->rel_line[ri]];
    if (r->build.minor == L->base->build.minor && exh_build_cmp(&r->build, &L->base->build) >= 0)
      L->rels[L->nrels++] = r;
  }
  return EXH_OK;
}

/* ---- campaigns and CVEs --------------------------------------------------- */

typedef struct cve_row {
  uint32_t cve;
  size_t product, line;
  bool plus;
  exh_build fixed;
  long long file_line;
} cve_row;

/* A row's place when rows are grouped by product, then CVE, in file order
 * within a group (idx breaks ties: qsort is not stable). */
typedef struct row_key {
  size_t product;
  uint32_t cve;
  size_t idx;
} row_key;

static int cmp_row_key(const void *pa, const void *pb) {
  const row_key *a = pa, *b = pb;
  if (a->product != b->product) return a->product < b->product ? -1 : 1;
  if (a->cve != b->cve) return a->cve < b->cve ? -1 : 1;
  return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static int cmp_str_ptr(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static long find_cve(const exh_kb *kb, const char *id) {
  size_t lo = 0, hi = kb->ncves;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    int c = strcmp(kb->cves[mid].id, id);
    if (c == 0) return (long)mid;
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  return -1;
}

static bool valid_cve_id(const char *s) {
  /* CVE-YYYY-NNNN+ or an advisory id such as ADV190018. */
  if (strncmp(s, "CVE-", 4) == 0) {
    const char *p = s + 4;
    for (int i = 0; i < 4; i++, p++)
      if (*p < '0' || *p > '9') return false;
    if (*p++ != '-') return false;
    size_t n = 0;
    for (; *p >= '0' && *p <= '9'; p++) n++;
    return n >= 4 && n <= 9 && !*p;
  }
  if (strncmp(s, "ADV", 3) == 0) {
    size_t n = 0;
    for (const char *p = s + 3; *p; p++, n++)
      if (*p < '0' || *p > '9') return false;
    return n >= 6 && n <= 9;
  }
  return false;
}

static int load_cves(exh_kb *kb, table_src *ct, table_src *cp, exh_error *err) {
  static const char *const cols[] = {"cve", "product", "cu", "fixed_build", "source"};
  static const char *const ccols[] = {"cve", "campaign"};
  int idx[5] = {0}, cidx[2] = {0}; /* bind_columns fills them; zeroed for -O3's flow analysis */
  int rc = EXH_OK;
  cve_row *rows = NULL;
  char **ids = NULL;
  row_key *keys = NULL;
  size_t *group = NULL, *first_group = NULL;
  size_t nrows = 0, cap = 1024;
  exhi_csv *c = malloc(sizeof *c);
  rows = malloc(cap * sizeof *rows);
  ids = malloc(cap * sizeof *ids);
  if (!c || !rows || !ids) {
    rc = NOMEM(err, ct);
    goto out;
  }
  /* Pass 1: rows and their ids. */
  exhi_csv_init(c, ct->name, ct->data, ct->len);
  rc = bind_columns(c, cols, idx, 5, err);
  while (!rc) {
    int got;
    if ((rc = exhi_csv_next(c, &got, err)) || !got) break;
    if (nrows == MAX_ROWS) {
      rc = exhi_err(err, EXH_ERR_LIMIT, ct->name, c->line, -1, "more than %d rows", MAX_ROWS);
      break;
    }
    if (nrows == cap) {
      cap *= 2;
      cve_row *nr = realloc(rows, cap * sizeof *nr);
      char **ni = nr ? realloc(ids, cap * sizeof *ni) : NULL;
      if (nr) rows = nr;
      if (ni) ids = ni;
      if (!nr || !ni) { rc = NOMEM(err, ct); break; }
    }
    const char *id = cell(c, idx[0]);
    if (!valid_cve_id(id)) {
      rc = exhi_err(err, EXH_ERR_DATA, ct->name, c->line, -1, "\"%s\" is not a CVE id", id);
      break;
    }
    cve_row *r = &rows[nrows];
    long pi = find_product(kb, cell(c, idx[1]));
    if (pi < 0) {
      rc = exhi_err(err, EXH_ERR_DATA, ct->name, c->line, -1,
                    "product \"%s\" is not in products.csv", cell(c, idx[1]));
      break;
    }
    r->product = (size_t)pi;
    char cu[64];
    size_t cul = exhi_strlcpy(cu, cell(c, idx[2]), sizeof cu);
    if (cul >= sizeof cu || cul == 0) {
      rc = exhi_err(err, EXH_ERR_DATA, ct->name, c->line, -1, "bad cu \"%s\"", cell(c, idx[2]));
      break;
    }
    r->plus = cu[cul - 1] == '+';
    if (r->plus) cu[cul - 1] = '\0';
    const kb_product *p = &kb->products[pi];
    size_t l = p->first_line, end = p->first_line + p->nlines;
    while (l < end && strcmp(kb->lines[l].base->cu, cu) != 0) l++;
    if (l == end) {
      rc = exhi_err(err, EXH_ERR_DATA, ct->name, c->line, -1,
                    "%s %s is not in builds.csv", p->name, cu);
      break;
    }
    r->line = l;
    if (!exhi_parse_build4(cell(c, idx[3]), &r->fixed) ||
        exhi_kb_product_of(kb, &r->fixed) != p) {
      rc = exhi_err(err, EXH_ERR_DATA, ct->name, c->line, -1,
                    "fixed_build \"%s\" is not a %s build", cell(c, idx[3]), p->name);
      break;
    }
    r->file_line = c->line;
    ids[nrows] = exhi_arena_strdup(&kb->arena, id);
    if (!ids[nrows]) { rc = NOMEM(err, ct); break; }
    nrows++;
  }
  if (rc) goto out;
  kb->ncverows = nrows;
  /* Distinct ids, sorted. */
  char **sorted = malloc((nrows ? nrows : 1) * sizeof *sorted);
  if (!sorted) { rc = NOMEM(err, ct); goto out; }
  memcpy(sorted, ids, nrows * sizeof *sorted);
  qsort(sorted, nrows, sizeof *sorted, cmp_str_ptr);
  kb->cves = exhi_arena_alloc(&kb->arena, (nrows ? nrows : 1) * sizeof *kb->cves);
  if (!kb->cves) { free(sorted); rc = NOMEM(err, ct); goto out; }
  for (size_t i = 0; i < nrows; i++)
    if (i == 0 || strcmp(sorted[i], sorted[i - 1]) != 0) {
      kb->cves[kb->ncves].id = sorted[i];
      kb->cves[kb->ncves].campaign = "";
      kb->ncves++;
    }
  free(sorted);
  for (size_t i = 0; i < nrows; i++) rows[i].cve = (uint32_t)find_cve(kb, ids[i]);

  /* Campaign names. */
  exhi_csv_init(c, cp->name, cp->data, cp->len);
  rc = bind_columns(c, ccols, cidx, 2, err);
  while (!rc) {
    int got;
    if ((rc = exhi_csv_next(c, &got, err)) || !got) break;
    long ci = find_cve(kb, cell(c, cidx[0]));
    if (ci < 0) continue; /* a campaign CVE the tables do not cover */
    kb->cves[ci].campaign = exhi_arena_strdup(&kb->arena, cell(c, cidx[1]));
    if (!kb->cves[ci].campaign) rc = NOMEM(err, cp);
  }
  if (rc) goto out;

  /* Rows grouped by (product, CVE): each line below looks at its product's
   * group of each CVE, not at every row (lines x CVEs x rows was most of
   * the time `exhunt assess BUILD` takes). group[g] is where group g starts
   * in keys, group[ngroups] == nrows; a product's groups are in CVE order
   * from first_group[p] on. */
  keys = malloc((nrows ? nrows : 1) * sizeof *keys);
  group = malloc((nrows + 1) * sizeof *group);
  first_group = malloc((kb->nproducts + 1) * sizeof *first_group);
  if (!keys || !group || !first_group) { rc = NOMEM(err, ct); goto out; }
  for (size_t i = 0; i < nrows; i++)
    keys[i] = (row_key){.product = rows[i].product, .cve = rows[i].cve, .idx = i};
  qsort(keys, nrows, sizeof *keys, cmp_row_key);
  size_t ngroups = 0;
  for (size_t i = 0; i < nrows; i++)
    if (i == 0 || keys[i].product != keys[i - 1].product || keys[i].cve != keys[i - 1].cve)
      group[ngroups++] = i;
  group[ngroups] = nrows;

  /* Per product: which CVEs concern it (its groups' CVEs, ascending). */
  size_t g = 0;
  for (size_t p = 0; p < kb->nproducts; p++) {
    kb_product *P = &kb->products[p];
    P->cves = exhi_arena_alloc(&kb->arena, (kb->ncves ? kb->ncves : 1) * sizeof(uint32_t));
    if (!P->cves) { rc = NOMEM(err, ct); goto out; }
    first_group[p] = g;
    for (; g < ngroups && keys[group[g]].product == p; g++) P->cves[P->ncves++] = keys[group[g]].cve;
  }
  /* Per line: for each CVE of the product, the row that decides it. */
  for (size_t l = 0; l < kb->nlines && !rc; l++) {
    kb_line *L = &kb->lines[l];
    const kb_product *P = &kb->products[L->product];
    L->cves = exhi_arena_alloc(&kb->arena, (P->ncves ? P->ncves : 1) * sizeof *L->cves);
    if (!L->cves) { rc = NOMEM(err, ct); break; }
    for (size_t k = 0; k < P->ncves; k++) {
      uint32_t v = P->cves[k];
      size_t gk = first_group[L->product] + k;
      const cve_row *exact = NULL, *plus = NULL;
      for (size_t j = group[gk]; j < group[gk + 1]; j++) {
        const cve_row *r = &rows[keys[j].idx];
        if (r->line == l && !r->plus) exact = r;
        else if (r->plus && r->line <= l && (!plus || r->line > plus->line)) plus = r;
      }
      const cve_row *d = exact ? exact : plus;
      kb_line_cve *lc = &L->cves[L->ncves++];
      lc->cve = v;
      if (!d) continue;
      exh_build *fx = exhi_arena_alloc(&kb->arena, sizeof *fx);
      if (!fx) { rc = NOMEM(err, ct); break; }
      *fx = d->fixed;
      lc->fixed = fx;
      if (d->line != l) {
        /* Fixed in an earlier CU that this one contains. */
        lc->fix = kb->lines[d->line].base;
        continue;
      }
      /* The release on this line that carries the fix; when an update was
       * re-released under the same name, the newest build is the one to
       * recommend. */
      for (size_t j = 0; j < L->nrels; j++)
        if (exh_build_cmp(&L->rels[j]->build, fx) == 0) lc->fix = L->rels[j];
      if (!lc->fix) {
        char b[64];
        exh_build_format(fx, b, sizeof b);
        rc = exhi_err(err, EXH_ERR_DATA, ct->name, d->file_line, -1,
                      "fixed build %s of %s is not a release of %s %s in builds.csv", b,
                      kb->cves[v].id, P->name, L->base->cu);
        break;
      }
      for (size_t j = 0; j < L->nrels; j++)
        if (L->rels[j]->update[0] && strcmp(L->rels[j]->update, lc->fix->update) == 0 &&
            exh_build_cmp(&L->rels[j]->build, &lc->fix->build) > 0)
          lc->fix = L->rels[j];
    }
  }
out:
  free(c);
  free(rows);
  free(ids);
  free(keys);
  free(group);
  free(first_group);
  return rc;
}

/* ---- public ------------------------------------------------------------- */

/* The loader both entry points share: compiles the four tables, given as
 * named buffers, into a new kb. */
int exhi_kb_load_buffers(const char *const names[4], const char *const data[4],
                         const size_t lens[4], exh_kb **out, exh_error *err) {
  *out = NULL;
  exh_kb *kb = calloc(1, sizeof *kb);
  if (!kb) return exhi_err(err, EXH_ERR_NOMEM, NULL, 0, -1, "out of memory");
  exhi_strlcpy(kb->origin, "in-memory", sizeof kb->origin);
  /* table_src is large (its name buffer): keep the four off the stack. */
  table_src *t = calloc(4, sizeof *t);
  if (!t) {
    free(kb);
    return exhi_err(err, EXH_ERR_NOMEM, NULL, 0, -1, "out of memory");
  }
  for (size_t i = 0; i < 4; i++) {
    exhi_strlcpy(t[i].name, names[i], sizeof t[i].name);
    t[i].data = data[i];
    t[i].len = lens[i];
  }
  int rc = load_products(kb, &t[0], err);
  if (!rc) rc = load_releases(kb, &t[1], err);
  if (!rc) rc = build_lines(kb, &t[1], err);
  if (!rc) rc = load_cves(kb, &t[2], &t[3], err);
  free(t);
  if (rc) {
    exh_kb_free(kb);
    return rc;
  }
  if (!kb->newest_release) kb->newest_release = "";
  *out = kb;
  return EXH_OK;
}

int exh_kb_load(const char *dir, exh_kb **out, exh_error *err) {
  *out = NULL;
  if (dir) {
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
      return exhi_err(err, EXH_ERR_IO, dir, 0, -1, "--data must name a folder holding the tables");
  }
  static const char *const files[] = {"products.csv", "builds.csv", "cves.csv", "campaigns.csv"};
  table_src *t = calloc(4, sizeof *t);
  if (!t) return exhi_err(err, EXH_ERR_NOMEM, NULL, 0, -1, "out of memory");
  int rc = EXH_OK;
  for (size_t i = 0; i < 4 && !rc; i++) rc = open_table(dir, files[i], &t[i], err);
  if (!rc) {
    const char *names[4], *data[4];
    size_t lens[4];
    for (size_t i = 0; i < 4; i++) {
      names[i] = t[i].name;
      data[i] = t[i].data;
      lens[i] = t[i].len;
    }
    rc = exhi_kb_load_buffers(names, data, lens, out, err);
    if (!rc) exhi_strlcpy((*out)->origin, dir ? dir : "built-in", sizeof (*out)->origin);
  }
  for (size_t i = 0; i < 4; i++) free(t[i].owned);
  free(t);
  return rc;
}

void exh_kb_free(exh_kb *kb) {
  if (!kb) return;
  free(kb->rels);
  free(kb->rel_line);
  free(kb->by_build);
  free(kb->lines);
  free(kb->products);
  exhi_arena_free(&kb->arena);
  free(kb);
}

void exh_kb_get_info(const exh_kb *kb, exh_kb_info *info) {
  info->releases = kb->nrels;
  info->cve_rows = kb->ncverows;
  info->cves = kb->ncves;
  info->products = kb->nproducts;
  info->newest_release = kb->newest_release;
  info->origin = kb->origin;
}
