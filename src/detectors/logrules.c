/* Log rules: YAML (Sigma-like) -> selections, items and patterns -> per
 * kind and field vectorscan databases, plus one prefilter database over raw
 * lines. See logrules.h for the shape and docs/logs.md for the format. */
#define _GNU_SOURCE /* memrchr */
#include "logrules.h"

#include "../core/arena.h"
#include "hscache.h"
#include "litscan.h"
#include "../core/eq64.h"
#include "yamltree.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <hs/hs.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_AVX2_WALK 1
#endif
#include <sys/stat.h>
#include <unistd.h>

/* Built-in rules, compiled in by tools/embed.py from rules/logs/. */
extern const exhi_embedded_file exhi_embedded_rules[];
extern const size_t exhi_embedded_rules_count;

/* Condition nodes per rule: Sigma conditions are a line; 256 is plenty. */
#define COND_MAX 256
/* Selections per rule. */
#define SEL_MAX 64

enum { MOD_EQ, MOD_CONTAINS, MOD_STARTS, MOD_ENDS, MOD_RE };
enum { C_SEL, C_AND, C_OR, C_NOT, C_ONE_OF, C_ALL_OF };

typedef struct pat {
  size_t rule, item;
  char *field;        /* NULL: keyword (whole line) */
  char *expr;         /* vectorscan expression */
  unsigned flags;
  char *pre;          /* prefilter expression over raw lines, NULL if none */
  unsigned pre_flags;
  char *pre2;         /* a second literal factor a matching line must hold
                         as well (another piece of the regex), NULL if none */
  char *detail;       /* for indicators: "value (source; actor)" */
  size_t exact_len;   /* > 0: only a match of the whole value counts (indicator
                         addresses: anchored patterns compile 20x slower) */
  int line;
} pat;

typedef struct item {
  size_t rule;
  char *field;
  int all;
  size_t first_pat, n_pats;
} item;

typedef struct alt { size_t first_item, n_items; } alt; /* AND of items */

typedef struct sel {
  char *name;
  alt *alts; /* OR of alternatives */
  size_t n_alts;
} sel;

typedef struct cnode {
  int op;
  int a, b;              /* children */
  size_t sels[SEL_MAX];  /* C_SEL: sels[0]; OF: the matched selections */
  size_t n_sels;
} cnode;

typedef struct cond {
  cnode nodes[COND_MAX];
  int n, root;
  sel *sels;
  size_t n_sels;
} cond;

/* Vetoes kept per (rule, group) bit; a rule with more keeps the first ones
 * (fewer vetoes only make more candidates). */
#define VETO_MAX 4

/* One field's database for one log kind. */
typedef struct fielddb {
  const char *field;
  hs_database_t *db;
} fielddb;

/* A prefilter database of literals alone (and "^#"): them as bytes, so
 * that a thread may find them with litscan, in the pass that also counts
 * the lines (see scan_lines). n == 0: not such a database. */
typedef struct plits {
  size_t n;
  int hash; /* it has "^#" as id 0 */
  struct {
    unsigned id, len;
    int caseless;
    char b[EXHI_LITSCAN_MAX_LEN];
  } v[EXHI_LITSCAN_MAX_LITS];
} plits;

typedef struct kindset {
  size_t *rules;   /* rule indexes that apply */
  size_t n_rules;
  fielddb *fields;
  size_t n_fields;
  hs_database_t *keywords; /* whole-line patterns, NULL if none */
  hs_database_t *prefilter; /* over raw lines: '#' and the rules' literals */
  uint64_t *pre_mask;      /* per prefilter id: the (rule, group) bits it sets */
  uint64_t *need;          /* per rule of the kind: the bits a candidate line must have */
  int grouped;             /* bits are (rule, group) pairs; else rule index % 64 */
  uint64_t *field_mask;    /* per field: the rules that test it */
  uint64_t kw_mask;        /* rules with keyword items */
  int all_lines;
  /* Column checks in space-separated (W3C) logs, per (rule, group) bit when
   * grouped: the field all of the group's literals come from (index in
   * fields; -1: none, or several, or a literal that may hold a space), and
   * the rule's vetoes on that same field (`... and not SEL`, SEL one item on
   * it): items whose match of a whole column clears the bit. */
  signed char bit_field[64];
  unsigned char n_veto[64];
  uint32_t veto_item[64][VETO_MAX];
  uint64_t field_bits;     /* bits with bit_field >= 0 */
  /* Column mode, for W3C lines whose field-bound bits all bind to columns
   * (see colmode_prefilter): the prefilter split in two. kw_pre: the
   * literals of the other bits, over raw lines (NULL: none); col_lits: the
   * field-bound literals, scanned in one column's value at a time. */
  hs_database_t *kw_pre, *col_lits;
  uint64_t *kw_pre_mask, *col_lit_mask; /* per id: the bits it sets */
  /* No col_lits literal holds a newline: values joined by newlines can be
   * scanned in one call, each match lying in one value. */
  int col_batch;
  plits pre_lits, kw_lits; /* prefilter's and kw_pre's literals */
  /* Per field (index in fields) whose literals field-bound bits have:
   * up to four bytes, one of which each of those literals holds, so that
   * a value holding none of them sets no such bit (n_needles: how many;
   * -1: none found). */
  char needles[64][4];
  int n_needles[64];
} kindset;

struct exhi_lr {
  exhi_arena arena;
  int cache;    /* compiled databases may come from / go to the user cache */
  exhi_lr_rule *rules;
  size_t n_rules, cap_rules;
  item *items;
  size_t n_items, cap_items;
  pat *pats;
  size_t n_pats, cap_pats;
  kindset kinds[EXHI_LOG_KINDS];
  hs_scratch_t *proto;
};

const char *exhi_outcome_name(int o) {
  return o == EXHI_OUTCOME_EXPLOITED ? "exploited" : o == EXHI_OUTCOME_ATTEMPTED ? "attempted" : "detected";
}

/* ---- aliases: ECS names usable in any rule ------------------------------ */

static const struct alias {
  const char *ecs;
  const char *native[4];
} aliases[] = {
    {"source.ip", {"ClientIpAddress", "c-ip", "client-ip", NULL}},
    {"user_agent.original", {"UserAgent", "cs(User-Agent)", NULL}},
    {"c-useragent", {"cs(User-Agent)", "UserAgent", NULL}},
    {"url.path", {"UrlStem", "cs-uri-stem", NULL}},
    {"c-uri", {"cs-uri-stem", "UrlStem", NULL}},
    {"url.query", {"UrlQuery", "cs-uri-query", NULL}},
    {"http.response.status_code", {"HttpStatus", "sc-status", NULL}},
    {"http.request.method", {"Method", "cs-method", NULL}},
    {"url.domain", {"UrlHost", "cs-host", "cs(Host)", NULL}},
    {"user.name", {"AuthenticatedUser", "cs-username", NULL}},
    {"exhunt.anchor_mailbox", {"AnchorMailbox", NULL}},
    {"cs-user-agent", {"cs(User-Agent)", NULL}},
    {"cs-referer", {"cs(Referer)", NULL}},
    {"cs-host", {"cs(Host)", "UrlHost", NULL}},
    /* Sysmon names; Security 4688 writes the same facts under others. */
    {"Image", {"NewProcessName", NULL}},
    {"ParentImage", {"ParentProcessName", NULL}},
};

int exhi_lr_field_col(const exhi_logschema *s, const char *name) {
  int c = exhi_logschema_col(s, name);
  if (c >= 0) return c;
  for (size_t i = 0; i < EXHI_ARRAY_LEN(aliases); i++) {
    if (!exhi_ascii_ieq(name, strlen(name), aliases[i].ecs)) continue;
    for (size_t j = 0; j < 4 && aliases[i].native[j]; j++)
      if ((c = exhi_logschema_col(s, aliases[i].native[j])) >= 0) return c;
  }
  return -1;
}

/* ---- growable arrays ------------------------------------------------------ */

static void *grow(void *p, size_t *cap, size_t need, size_t elem) {
  if (need <= *cap) return p;
  size_t nc = *cap ? *cap * 2 : 16;
  while (nc < need) nc *= 2;
  void *q = realloc(p, nc * elem);
  if (q) *cap = nc;
  return q;
}

#define PUSH(lr, arr, n, cap)                                                   \
  do {                                                                          \
    void *q_ = grow((lr)->arr, &(lr)->cap, (lr)->n + 1, sizeof *(lr)->arr);     \
    if (!q_) return exhi_err(err, EXH_ERR_NOMEM, NULL, 0, -1, "out of memory"); \
    (lr)->arr = q_;                                                             \
  } while (0)

/* ---- values to expressions ------------------------------------------------ */

typedef struct sbuf {
  char *p;
  size_t n, cap;
  int oom;
} sbuf;

static void sb_putc(sbuf *b, char c) {
  if (b->oom) return;
  if (b->n + 2 > b->cap) {
    size_t nc = b->cap ? b->cap * 2 : 64;
    char *q = realloc(b->p, nc);
    if (!q) {
      b->oom = 1;
      return;
    }
    b->p = q;
    b->cap = nc;
  }
  b->p[b->n++] = c;
  b->p[b->n] = '\0';
}
static void sb_puts(sbuf *b, const char *s) {
  while (*s) sb_putc(b, *s++);
}
static void sb_lit(sbuf *b, unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_') {
    sb_putc(b, (char)c);
  } else {
    static const char hex[] = "0123456789abcdef";
    sb_puts(b, "\\x");
    sb_putc(b, hex[c >> 4]);
    sb_putc(b, hex[c & 15]);
  }
}

/* Sigma value with wildcards (* ?, \ escapes) -> expression; also the longest
 * literal run (no wildcard, no '"' which CSV writes doubled) for the prefilter. */
static void wildcard_expr(const char *v, int mod, sbuf *out, sbuf *best) {
  size_t run_a = 0, run_n = 0, best_n = 0;
  char run[EXHI_LR_VALUE_MAX + 1];
  if (mod == MOD_EQ || mod == MOD_STARTS) sb_putc(out, '^');
  for (const char *p = v;; p++) {
    unsigned char c = (unsigned char)*p;
    int literal = c != '\0';
    if (c == '\\' && (p[1] == '*' || p[1] == '?' || p[1] == '\\')) {
      c = (unsigned char)*++p;
    } else if (c == '*' || c == '?') {
      literal = 0;
    }
    if (literal) sb_lit(out, c);
    else if (c) sb_puts(out, c == '*' ? ".*" : ".");
    if (literal && c != '"' && run_n < EXHI_LR_VALUE_MAX) {
      run[run_n++] = (char)c;
    } else {
      if (run_n > best_n) {
        best_n = run_n;
        best->n = 0;
        if (best->p) best->p[0] = '\0';
        for (size_t i = 0; i < run_n; i++) sb_lit(best, (unsigned char)run[i]);
      }
      run_n = 0;
    }
    if (!c) break;
  }
  (void)run_a;
  if (mod == MOD_EQ || mod == MOD_ENDS) sb_putc(out, '$');
}

/* A regex's prefilter over raw lines: the regex itself in prefilter mode,
 * without a leading ^ or trailing $ (they anchor the field, not the line).
 * None when anchors remain inside or it spells a '"'. */
static char *regex_prefilter(const char *re) {
  size_t n = strlen(re);
  const char *a = re, *b = re + n;
  if (a < b && *a == '^') a++;
  if (b > a && b[-1] == '$' && (b - 1 == a || b[-2] != '\\')) b--;
  for (const char *p = a; p < b; p++) {
    if (*p == '\\' && p + 1 < b) {
      p++;
      continue;
    }
    if (*p == '^' || *p == '$' || *p == '"') {
      /* ^ inside a class [^...] is negation, harmless. */
      if (*p == '^' && p > a && p[-1] == '[') continue;
      return NULL;
    }
  }
  char *r = malloc((size_t)(b - a) + 1);
  if (!r) return NULL;
  memcpy(r, a, (size_t)(b - a));
  r[b - a] = '\0';
  return r;
}

/* A regex's literal factor over raw lines: for a regex built only of
 * literals, groups of literal alternatives and gaps (.* .+ .), the
 * alternatives one of which every match must contain, e.g.
 * ^/(owa/auth|ecp/auth|aspnet_client)/.*\.(aspx|ashx|asmx)$ gives
 * (?:/owa/auth/|/ecp/auth/|/aspnet_client/). A literal set scans several
 * times faster than the regex in prefilter mode (vectorscan confirms each
 * factor hit with the regex's automaton). NULL when the regex has any other
 * construct (classes, quantifiers on literals or groups, nested groups,
 * top-level |, \d and the like): the prefilter-mode regex is used then. */
#define FACTOR_ALTS 16 /* strings in one factor: more is no longer a literal scan */
#define FACTOR_LEN 64  /* bytes of one string */
typedef struct factor {
  char s[FACTOR_ALTS][FACTOR_LEN + 1];
  size_t n;
} factor;

static int is_meta(char c) { return c && strchr("\\.^$|?*+()[]{}", c) != NULL; }

/* One literal character at *p (maybe escaped); 0 when it is not one. */
static int lit_char(const char **p, char *out) {
  const char *q = *p;
  if (*q == '\\') {
    unsigned char e = (unsigned char)q[1];
    if (!e || (e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') || (e >= '0' && e <= '9')) return 0;
    *out = (char)e;
    *p = q + 2;
    return 1;
  }
  if (!*q || is_meta(*q)) return 0;
  *out = *q;
  *p = q + 1;
  return 1;
}

/* Appends the strings of alts (n_alts, each len) to every string of f. */
static int factor_cat(factor *f, char alts[][FACTOR_LEN + 1], size_t n_alts) {
  if (f->n * n_alts > FACTOR_ALTS) return 0;
  factor g;
  g.n = 0;
  for (size_t i = 0; i < f->n; i++)
    for (size_t j = 0; j < n_alts; j++) {
      if (strlen(f->s[i]) + strlen(alts[j]) > FACTOR_LEN) return 0;
      snprintf(g.s[g.n++], FACTOR_LEN + 1, "%s%s", f->s[i], alts[j]);
    }
  *f = g;
  return 1;
}

static size_t factor_min(const factor *f) {
  size_t m = (size_t)-1;
  for (size_t i = 0; i < f->n; i++)
    if (strlen(f->s[i]) < m) m = strlen(f->s[i]);
  return f->n ? m : 0;
}

/* Whether a is a better factor than b: its shortest string is longer. */
static int factor_better(const factor *a, const factor *b) {
  size_t m = factor_min(a), mb = factor_min(b);
  return m > mb || (m == mb && a->n < b->n);
}

/* A finished segment: kept as the best or the runner-up. */
static void factor_keep(const factor *cur, factor *best, factor *second) {
  if (factor_better(cur, best)) {
    *second = *best;
    *best = *cur;
  } else if (factor_better(cur, second)) {
    *second = *cur;
  }
}

static char *factor_expr(const factor *f) {
  sbuf b = {0};
  /* One alternative: the bare literal, which then shares its prefilter
   * pattern with the same literal of other rules (one hit, not two). */
  if (f->n != 1) sb_puts(&b, "(?:");
  for (size_t i = 0; i < f->n; i++) {
    if (i) sb_putc(&b, '|');
    for (const char *q = f->s[i]; *q; q++) sb_lit(&b, (unsigned char)*q);
  }
  if (f->n != 1) sb_putc(&b, ')');
  if (b.oom) {
    free(b.p);
    return NULL;
  }
  return b.p;
}

/* *also, when not NULL, gets the second-best factor (a match holds both:
 * each piece between gaps is required), or NULL when there is none of at
 * least 4 bytes. */
static char *regex_literal_factor(const char *re, char **also) {
  const char *p = re;
  if (also) *also = NULL;
  if (*p == '^') p++;
  factor cur = {.n = 1}, best = {.n = 0}, second = {.n = 0};
  cur.s[0][0] = '\0';
  int ok = 1;
  for (;;) {
    char c;
    int end = !*p || (p[0] == '$' && !p[1]);
    int gap = !end && *p == '.';
    if (end || gap) {
      /* A segment between gaps: keep the one whose shortest string is longest. */
      factor_keep(&cur, &best, &second);
      if (end) break;
      p++;
      if (*p == '*' || *p == '+' || *p == '?') p++;
      if (*p == '?') p++;
      cur.n = 1;
      cur.s[0][0] = '\0';
      continue;
    }
    char alts[FACTOR_ALTS][FACTOR_LEN + 1];
    size_t n_alts = 0;
    if (*p == '(') {
      p++;
      if (p[0] == '?' && p[1] == ':') p += 2;
      size_t len = 0;
      alts[0][0] = '\0';
      n_alts = 1;
      while (*p && *p != ')') {
        if (*p == '|') {
          if (n_alts == FACTOR_ALTS) { ok = 0; break; }
          alts[n_alts++][0] = '\0';
          len = 0;
          p++;
        } else if (lit_char(&p, &c) && len < FACTOR_LEN) {
          alts[n_alts - 1][len++] = c;
          alts[n_alts - 1][len] = '\0';
        } else {
          ok = 0;
          break;
        }
      }
      if (!ok || *p != ')') return NULL;
      p++;
    } else if (lit_char(&p, &c)) {
      alts[0][0] = c;
      alts[0][1] = '\0';
      n_alts = 1;
    } else {
      return NULL;
    }
    /* An optional or repeated piece is not required: no factor then. */
    if (*p == '?' || *p == '*' || *p == '+' || *p == '{') return NULL;
    for (size_t i = 0; i < n_alts; i++)
      if (strchr(alts[i], '"')) return NULL; /* CSV writes it doubled */
    if (!factor_cat(&cur, alts, n_alts)) {
      /* Too many or too long: end the segment here, start anew. */
      factor_keep(&cur, &best, &second);
      cur.n = 1;
      cur.s[0][0] = '\0';
      if (!factor_cat(&cur, alts, n_alts)) return NULL;
    }
  }
  /* Short factors hit everywhere: the regex itself prefilters better. */
  if (factor_min(&best) < 4) return NULL;
  char *r = factor_expr(&best);
  if (r && also && factor_min(&second) >= 4) *also = factor_expr(&second);
  return r;
}

/* ---- rule parsing ------------------------------------------------------- */

typedef struct lctx {
  exhi_lr *lr;
  const char *file;
  exh_error *err;
} lctx;

static char *adup(exhi_lr *lr, const char *s) { return exhi_arena_strdup(&lr->arena, s ? s : ""); }

static int bad(lctx *c, const exhi_ynode *n, const char *fmt, ...) EXHI_PRINTF(3, 4);
static int bad(lctx *c, const exhi_ynode *n, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int rc = exhi_verr(c->err, EXH_ERR_PARSE, c->file, n ? n->line : 0, -1, fmt, ap);
  va_end(ap);
  return rc;
}

static int scalar_list(lctx *c, const exhi_ynode *n, char ***out, size_t *count,
                       const char *key) {
  *out = NULL;
  *count = 0;
  if (!n) return EXH_OK;
  size_t k = n->type == EXHI_Y_SEQ ? n->n : 1;
  char **v = exhi_arena_alloc(&c->lr->arena, (k ? k : 1) * sizeof *v);
  if (!v) return exhi_err(c->err, EXH_ERR_NOMEM, c->file, 0, -1, "out of memory");
  for (size_t i = 0; i < k; i++) {
    const exhi_ynode *e = n->type == EXHI_Y_SEQ ? n->kids[i] : n;
    if (e->type != EXHI_Y_SCALAR) return bad(c, e, "'%s' must be a value or a list of values", key);
    v[i] = adup(c->lr, e->val);
  }
  *out = v;
  *count = k;
  return EXH_OK;
}

static int parse_severity(const char *s) {
  static const char *const names[][2] = {{"informational", "info"}, {"low", "low"},
                                         {"medium", "medium"}, {"high", "high"},
                                         {"critical", "critical"}};
  for (int i = 0; i < 5; i++)
    if (!strcmp(s, names[i][0]) || !strcmp(s, names[i][1])) return i;
  return -1;
}

/* logsource -> kinds. */
static int parse_logsource(lctx *c, const exhi_ynode *ls, exhi_lr_rule *r) {
  if (!ls || ls->type != EXHI_Y_MAP) return bad(c, ls, "%s", "a rule needs a 'logsource' mapping");
  const exhi_ynode *prod = exhi_ymap_get(ls, "product"), *svc = exhi_ymap_get(ls, "service"),
                   *cat = exhi_ymap_get(ls, "category");
  const char *p = prod && prod->type == EXHI_Y_SCALAR ? prod->val : "";
  const char *s = svc && svc->type == EXHI_Y_SCALAR ? svc->val : "";
  const char *ca = cat && cat->type == EXHI_Y_SCALAR ? cat->val : "";
  static const struct { const char *svc; int kind; } ex[] = {
      {"httpproxy", EXHI_LOG_HTTPPROXY}, {"ecp_server", EXHI_LOG_ECP_SERVER},
      {"ecp_activity", EXHI_LOG_ECP_ACTIVITY}, {"oabgen", EXHI_LOG_OABGEN},
      {"ews", EXHI_LOG_EWS}, {"rps_cmdlet", EXHI_LOG_RPS_CMDLET},
      {"messagetracking", EXHI_LOG_MSGTRK}, {"iis", EXHI_LOG_IIS}};
  if (!strcmp(ca, "webserver") || (!strcmp(p, "windows") && !strcmp(s, "iis")) ||
      (!strcmp(p, "iis"))) {
    r->kinds |= 1u << EXHI_LOG_IIS;
    return EXH_OK;
  }
  if (!strcmp(p, "exchange")) {
    if (!*s) {
      for (int k = EXHI_LOG_HTTPPROXY; k <= EXHI_LOG_EXCHANGE; k++) r->kinds |= 1u << k;
      return EXH_OK;
    }
    for (size_t i = 0; i < EXHI_ARRAY_LEN(ex); i++)
      if (!strcmp(s, ex[i].svc)) {
        r->kinds |= 1u << ex[i].kind;
        return EXH_OK;
      }
    return bad(c, svc, "logsource service '%.64s' is not an Exchange log exhunt reads "
                       "(httpproxy, ecp_server, ecp_activity, oabgen, ews, rps_cmdlet, messagetracking)",
               s);
  }
  if (!strcmp(p, "windows")) {
    /* Sigma's service names the event log (channel); categories such as
     * process_creation are matched on their fields in any channel. */
    static const struct { const char *svc, *channel; } ch[] = {
        {"application", "Application"}, {"security", "Security"}, {"system", "System"},
        {"sysmon", "Microsoft-Windows-Sysmon/Operational"},
        {"msexchange-management", "MSExchange Management"},
        {"powershell", "Microsoft-Windows-PowerShell/Operational"}};
    r->windows = 1;
    r->kinds |= 1u << EXHI_LOG_EVTX;
    if (*s) {
      for (size_t i = 0; i < EXHI_ARRAY_LEN(ch); i++)
        if (!strcmp(s, ch[i].svc)) r->channel = adup(c->lr, ch[i].channel);
      if (!r->channel)
        return bad(c, svc, "logsource service '%.64s' is not a Windows event log exhunt knows "
                           "(application, security, system, sysmon, msexchange-management, powershell)", s);
    }
    return EXH_OK;
  }
  if (!strcmp(p, "any") || !strcmp(ca, "text")) {
    r->kinds |= 1u << EXHI_LOG_UNKNOWN;
    return EXH_OK;
  }
  return bad(c, ls, "unsupported logsource '%.80s': exhunt logs reads Exchange logs "
                    "(product: exchange), IIS (category: webserver) and Windows event logs",
             *ca ? ca : *p ? p : "(empty)");
}

/* One "field|mod|mod: value(s)" entry, or a keyword list (field NULL). */
static int add_item(lctx *c, size_t rule, const exhi_ynode *key, const exhi_ynode *val,
                    size_t *out_item) {
  exhi_lr *lr = c->lr;
  exh_error *err = c->err;
  char spec[512];
  char *field = NULL;
  int mod = MOD_EQ, all = 0, re_i = 0, cased = 0;
  if (key) {
    if (strlen(key->val) >= sizeof spec) return bad(c, key, "%s", "field name too long");
    strcpy(spec, key->val);
    char *save = NULL;
    /* "|re: ..." (no field name): a keyword with modifiers, on the line. */
    char *rest = spec;
    if (spec[0] != '|') {
      char *bar = strchr(spec, '|');
      if (bar) *bar = '\0';
      field = adup(lr, spec);
      rest = bar ? bar + 1 : spec + strlen(spec);
    }
    if (field && !*field) return bad(c, key, "%s", "empty field name");
    int n_mod = 0;
    char *tok;
    for (char *q = rest; (tok = strtok_r(q, "|", &save)); q = NULL) {
      if (!strcmp(tok, "contains")) mod = MOD_CONTAINS;
      else if (!strcmp(tok, "startswith")) mod = MOD_STARTS;
      else if (!strcmp(tok, "endswith")) mod = MOD_ENDS;
      else if (!strcmp(tok, "re")) mod = MOD_RE;
      else if (!strcmp(tok, "wildcard")) mod = MOD_EQ;
      else if (!strcmp(tok, "all")) all = 1;
      else if (!strcmp(tok, "i") && mod == MOD_RE) re_i = 1;
      else if (!strcmp(tok, "cased")) cased = 1;
      else
        return exhi_err(err, EXH_ERR_PARSE, c->file, key->line, -1,
                        "unsupported field modifier '|%.40s' (supported: contains, startswith, "
                        "endswith, re, re|i, wildcard, all, cased)", tok);
      if (++n_mod > 4) return bad(c, key, "%s", "too many modifiers");
    }
  }
  PUSH(lr, items, n_items, cap_items);
  item *it = &lr->items[lr->n_items];
  it->rule = rule;
  it->field = field;
  it->all = all;
  it->first_pat = lr->n_pats;
  it->n_pats = 0;
  size_t idx = lr->n_items++;
  size_t nv = val->type == EXHI_Y_SEQ ? val->n : 1;
  if (val->type == EXHI_Y_MAP) return bad(c, val, "%s", "a field value cannot be a mapping");
  if (nv == 0) return bad(c, val, "%s", "an empty list of values matches nothing");
  for (size_t i = 0; i < nv; i++) {
    const exhi_ynode *v = val->type == EXHI_Y_SEQ ? val->kids[i] : val;
    if (v->type != EXHI_Y_SCALAR) return bad(c, v, "%s", "a value must be a plain value");
    if (!v->quoted && (!strcmp(v->val, "null") || !strcmp(v->val, "~") || !v->val[0]))
      return bad(c, v, "%s", "null values (field must be empty/absent) are not supported");
    PUSH(lr, pats, n_pats, cap_pats);
    pat *pt = &lr->pats[lr->n_pats];
    memset(pt, 0, sizeof *pt);
    pt->rule = rule;
    pt->item = idx;
    pt->field = field;
    pt->line = v->line;
    sbuf e = {0}, best = {0};
    if (mod == MOD_RE) {
      sb_puts(&e, v->val);
      pt->flags = HS_FLAG_DOTALL | HS_FLAG_SINGLEMATCH | HS_FLAG_ALLOWEMPTY | (re_i ? HS_FLAG_CASELESS : 0);
      char *also = NULL;
      if ((pt->pre = regex_literal_factor(v->val, &also))) {
        if (also) {
          pt->pre2 = adup(lr, also);
          free(also);
        }
        pt->pre_flags = HS_FLAG_CASELESS;
      } else {
        pt->pre = regex_prefilter(v->val);
        pt->pre_flags = HS_FLAG_PREFILTER | HS_FLAG_CASELESS | HS_FLAG_ALLOWEMPTY;
      }
    } else {
      /* Keywords (no field) match anywhere in the line, like Sigma's. */
      wildcard_expr(v->val, field ? mod : MOD_CONTAINS, &e, &best);
      pt->flags = HS_FLAG_DOTALL | HS_FLAG_SINGLEMATCH | HS_FLAG_ALLOWEMPTY | (cased ? 0 : HS_FLAG_CASELESS);
      if (best.n) pt->pre = best.p, best.p = NULL;
      pt->pre_flags = cased ? 0 : HS_FLAG_CASELESS;
    }
    free(best.p);
    if (e.oom) {
      free(e.p);
      return exhi_err(err, EXH_ERR_NOMEM, c->file, 0, -1, "out of memory");
    }
    pt->expr = adup(lr, e.p);
    free(e.p);
    if (pt->pre) {
      char *pa = adup(lr, pt->pre);
      free(pt->pre);
      pt->pre = pa;
    }
    lr->n_pats++;
    lr->items[idx].n_pats++;
  }
  *out_item = idx;
  return EXH_OK;
}

/* A selection: a map (AND of items), a list of maps (OR), or a list of
 * keywords. */
static int parse_selection(lctx *c, size_t rule, const exhi_ynode *key, const exhi_ynode *v,
                           sel *s) {
  exhi_arena *a = &c->lr->arena;
  s->name = adup(c->lr, key->val);
  if (v->type == EXHI_Y_SCALAR || (v->type == EXHI_Y_SEQ && v->n && v->kids[0]->type == EXHI_Y_SCALAR)) {
    s->alts = exhi_arena_alloc(a, sizeof *s->alts);
    if (!s->alts) return exhi_err(c->err, EXH_ERR_NOMEM, c->file, 0, -1, "out of memory");
    s->n_alts = 1;
    size_t it;
    int rc = add_item(c, rule, NULL, v, &it);
    if (rc) return rc;
    s->alts[0].first_item = it;
    s->alts[0].n_items = 1;
    return EXH_OK;
  }
  size_t na = v->type == EXHI_Y_SEQ ? v->n : 1;
  if (na == 0) return bad(c, v, "selection '%.64s' is empty", key->val);
  s->alts = exhi_arena_alloc(a, na * sizeof *s->alts);
  if (!s->alts) return exhi_err(c->err, EXH_ERR_NOMEM, c->file, 0, -1, "out of memory");
  s->n_alts = na;
  for (size_t i = 0; i < na; i++) {
    const exhi_ynode *m = v->type == EXHI_Y_SEQ ? v->kids[i] : v;
    if (m->type != EXHI_Y_MAP)
      return bad(c, m, "selection '%.64s': a list must hold only mappings or only values", key->val);
    if (m->n == 0) return bad(c, m, "selection '%.64s' has an empty mapping", key->val);
    s->alts[i].first_item = c->lr->n_items;
    s->alts[i].n_items = m->n;
    for (size_t j = 0; j < m->n; j++) {
      size_t it;
      int rc = add_item(c, rule, m->keys[j], m->kids[j], &it);
      if (rc) return rc;
    }
  }
  return EXH_OK;
}

/* ---- conditions ------------------------------------------------------------ */

typedef struct cparse {
  lctx *c;
  const exhi_ynode *node;
  const char *p;
  cond *cd;
  char tok[128];
} cparse;

static int next_tok(cparse *cp) {
  while (*cp->p == ' ' || *cp->p == '\t') cp->p++;
  cp->tok[0] = '\0';
  if (!*cp->p) return 0;
  if (*cp->p == '(' || *cp->p == ')' || *cp->p == '|') {
    cp->tok[0] = *cp->p++;
    cp->tok[1] = '\0';
    return 1;
  }
  size_t n = 0;
  while (*cp->p && *cp->p != ' ' && *cp->p != '\t' && *cp->p != '(' && *cp->p != ')' &&
         *cp->p != '|') {
    if (n + 1 < sizeof cp->tok) cp->tok[n++] = *cp->p;
    cp->p++;
  }
  cp->tok[n] = '\0';
  return 1;
}

static int peek_is(cparse *cp, const char *w) {
  const char *save = cp->p;
  char t[128];
  memcpy(t, cp->tok, sizeof t);
  int r = next_tok(cp) && !strcmp(cp->tok, w);
  cp->p = save;
  memcpy(cp->tok, t, sizeof t);
  return r;
}

static int new_node(cparse *cp, int op) {
  if (cp->cd->n >= COND_MAX) return -1;
  cnode *n = &cp->cd->nodes[cp->cd->n];
  memset(n, 0, sizeof *n);
  n->op = op;
  n->a = n->b = -1;
  return cp->cd->n++;
}

static int cerr(cparse *cp, const char *what) {
  exhi_err(cp->c->err, EXH_ERR_PARSE, cp->c->file, cp->node->line, -1,
           "condition '%.200s': %s", cp->node->val, what);
  return -1;
}

static bool glob_match(const char *pattern, const char *s) {
  /* Selection-name patterns in "1 of sel*": only a trailing '*'. */
  size_t n = strlen(pattern);
  if (n && pattern[n - 1] == '*') return strncmp(pattern, s, n - 1) == 0;
  return strcmp(pattern, s) == 0;
}

static int parse_or(cparse *cp);

static int parse_atom(cparse *cp) {
  if (!next_tok(cp)) return cerr(cp, "ends too early");
  if (!strcmp(cp->tok, "(")) {
    int n = parse_or(cp);
    if (n < 0) return n;
    if (!next_tok(cp) || strcmp(cp->tok, ")")) return cerr(cp, "missing ')'");
    return n;
  }
  if (!strcmp(cp->tok, "not")) {
    int a = parse_atom(cp);
    if (a < 0) return a;
    int n = new_node(cp, C_NOT);
    if (n < 0) return cerr(cp, "too long");
    cp->cd->nodes[n].a = a;
    return n;
  }
  if (!strcmp(cp->tok, "|")) return cerr(cp, "aggregations ('| count() ...') are not supported");
  bool one = !strcmp(cp->tok, "1"), all = !strcmp(cp->tok, "all");
  if ((one || all) && peek_is(cp, "of")) {
    next_tok(cp);
    if (!next_tok(cp)) return cerr(cp, "'of' needs a selection name, a name*, or 'them'");
    int n = new_node(cp, one ? C_ONE_OF : C_ALL_OF);
    if (n < 0) return cerr(cp, "too long");
    cnode *nd = &cp->cd->nodes[n];
    bool them = !strcmp(cp->tok, "them");
    for (size_t i = 0; i < cp->cd->n_sels && nd->n_sels < SEL_MAX; i++) {
      const char *name = cp->cd->sels[i].name;
      if (them ? name[0] != '_' : glob_match(cp->tok, name)) nd->sels[nd->n_sels++] = i;
    }
    if (!nd->n_sels) return cerr(cp, "'of' names no selection");
    return n;
  }
  if (cp->tok[0] >= '0' && cp->tok[0] <= '9') return cerr(cp, "only '1 of' and 'all of' are supported");
  for (size_t i = 0; i < cp->cd->n_sels; i++)
    if (!strcmp(cp->cd->sels[i].name, cp->tok)) {
      int n = new_node(cp, C_SEL);
      if (n < 0) return cerr(cp, "too long");
      cp->cd->nodes[n].sels[0] = i;
      cp->cd->nodes[n].n_sels = 1;
      return n;
    }
  char msg[200];
  snprintf(msg, sizeof msg, "'%.60s' is not a selection of this rule", cp->tok);
  return cerr(cp, msg);
}

static int parse_and(cparse *cp) {
  int l = parse_atom(cp);
  while (l >= 0 && peek_is(cp, "and")) {
    next_tok(cp);
    int r = parse_atom(cp);
    if (r < 0) return r;
    int n = new_node(cp, C_AND);
    if (n < 0) return cerr(cp, "too long");
    cp->cd->nodes[n].a = l;
    cp->cd->nodes[n].b = r;
    l = n;
  }
  return l;
}

static int parse_or(cparse *cp) {
  int l = parse_and(cp);
  while (l >= 0 && peek_is(cp, "or")) {
    next_tok(cp);
    int r = parse_and(cp);
    if (r < 0) return r;
    int n = new_node(cp, C_OR);
    if (n < 0) return cerr(cp, "too long");
    cp->cd->nodes[n].a = l;
    cp->cd->nodes[n].b = r;
    l = n;
  }
  return l;
}

static int parse_detection(lctx *c, size_t rule, const exhi_ynode *det) {
  if (!det || det->type != EXHI_Y_MAP) return bad(c, det, "%s", "a rule needs a 'detection' mapping");
  cond *cd = exhi_arena_alloc(&c->lr->arena, sizeof *cd);
  if (!cd) return exhi_err(c->err, EXH_ERR_NOMEM, c->file, 0, -1, "out of memory");
  cd->sels = exhi_arena_alloc(&c->lr->arena, SEL_MAX * sizeof *cd->sels);
  if (!cd->sels) return exhi_err(c->err, EXH_ERR_NOMEM, c->file, 0, -1, "out of memory");
  const exhi_ynode *condn = NULL;
  c->lr->rules[rule].first_item = c->lr->n_items;
  for (size_t i = 0; i < det->n; i++) {
    const exhi_ynode *k = det->keys[i];
    if (!strcmp(k->val, "condition")) {
      condn = det->kids[i];
      continue;
    }
    if (!strcmp(k->val, "timeframe"))
      return bad(c, k, "%s", "'timeframe' (correlation) is not supported");
    if (cd->n_sels == SEL_MAX) return bad(c, k, "%s", "more than 64 selections");
    int rc = parse_selection(c, rule, k, det->kids[i], &cd->sels[cd->n_sels]);
    if (rc) return rc;
    cd->n_sels++;
  }
  c->lr->rules[rule].n_items = c->lr->n_items - c->lr->rules[rule].first_item;
  if (!condn) return bad(c, det, "%s", "'detection' needs a 'condition'");
  if (condn->type == EXHI_Y_SEQ)
    return bad(c, condn, "%s", "a list of conditions is not supported: join them with 'or'");
  if (condn->type != EXHI_Y_SCALAR) return bad(c, condn, "%s", "'condition' must be a line");
  cparse cp = {.c = c, .node = condn, .p = condn->val, .cd = cd};
  int root = parse_or(&cp);
  if (root < 0) return EXH_ERR_PARSE;
  if (next_tok(&cp)) {
    char msg[200];
    snprintf(msg, sizeof msg, "unexpected '%.60s'%s", cp.tok,
             !strcmp(cp.tok, "|") ? " (aggregations are not supported)" : "");
    cerr(&cp, msg);
    return EXH_ERR_PARSE;
  }
  cd->root = root;
  c->lr->rules[rule].cond = cd;
  return EXH_OK;
}

static void tags_to_ids(lctx *c, exhi_lr_rule *r, const exhi_ynode *tags) {
  /* Sigma tags: attack.t1190 -> T1190, cve.2021-26855 -> CVE-2021-26855. */
  if (!tags || tags->type != EXHI_Y_SEQ) return;
  for (size_t i = 0; i < tags->n; i++) {
    const exhi_ynode *t = tags->kids[i];
    if (t->type != EXHI_Y_SCALAR) continue;
    char buf[96];
    char ***arr = NULL;
    size_t *cnt = NULL;
    if (!strncmp(t->val, "attack.t", 8) && strlen(t->val) < 40) {
      snprintf(buf, sizeof buf, "T%s", t->val + 8);
      for (char *q = buf; *q; q++) if (*q >= 'a' && *q <= 'z') *q = (char)(*q - 32);
      arr = &r->attack;
      cnt = &r->n_attack;
    } else if (!strncmp(t->val, "cve.", 4) && strlen(t->val) < 40) {
      snprintf(buf, sizeof buf, "CVE-%s", t->val + 4);
      arr = &r->cves;
      cnt = &r->n_cves;
    }
    if (!arr) continue;
    char **nv = exhi_arena_alloc(&c->lr->arena, (*cnt + 1) * sizeof *nv);
    if (!nv) return;
    if (*cnt) memcpy(nv, *arr, *cnt * sizeof *nv);
    nv[*cnt] = adup(c->lr, buf);
    *arr = nv;
    (*cnt)++;
  }
}

static int parse_rule(lctx *c, const exhi_ynode *root) {
  exhi_lr *lr = c->lr;
  exh_error *err = c->err;
  if (!root || root->type != EXHI_Y_MAP) return bad(c, root, "%s", "a rule file must hold one mapping");
  PUSH(lr, rules, n_rules, cap_rules);
  size_t ri = lr->n_rules;
  exhi_lr_rule *r = &lr->rules[ri];
  memset(r, 0, sizeof *r);
  lr->n_rules++;
  r->file = adup(lr, c->file);
  const exhi_ynode *id = exhi_ymap_get(root, "id"), *title = exhi_ymap_get(root, "title");
  if (!id || id->type != EXHI_Y_SCALAR || !id->val[0]) return bad(c, root, "%s", "a rule needs an 'id'");
  if (!title || title->type != EXHI_Y_SCALAR) return bad(c, root, "%s", "a rule needs a 'title'");
  for (size_t i = 0; i + 1 < lr->n_rules; i++)
    if (!strcmp(lr->rules[i].id, id->val))
      return exhi_err(err, EXH_ERR_PARSE, c->file, id->line, -1,
                      "rule id '%.100s' is already used by %.200s", id->val, lr->rules[i].file);
  r->id = adup(lr, id->val);
  r->title = adup(lr, title->val);
  const exhi_ynode *d = exhi_ymap_get(root, "description");
  r->description = adup(lr, d && d->type == EXHI_Y_SCALAR ? d->val : "");
  const exhi_ynode *sev = exhi_ymap_get(root, "severity");
  if (!sev) sev = exhi_ymap_get(root, "level");
  r->severity = EXH_SEV_MEDIUM;
  if (sev) {
    if (sev->type != EXHI_Y_SCALAR || (r->severity = parse_severity(sev->val)) < 0)
      return bad(c, sev, "severity '%.40s' is not one of informational, low, medium, high, critical",
                 sev->type == EXHI_Y_SCALAR ? sev->val : "?");
  }
  int rc;
  if ((rc = scalar_list(c, exhi_ymap_get(root, "cves"), &r->cves, &r->n_cves, "cves"))) return rc;
  if ((rc = scalar_list(c, exhi_ymap_get(root, "attack"), &r->attack, &r->n_attack, "attack")))
    return rc;
  if ((rc = scalar_list(c, exhi_ymap_get(root, "references"), &r->refs, &r->n_refs, "references")))
    return rc;
  tags_to_ids(c, r, exhi_ymap_get(root, "tags"));
  const exhi_ynode *out = exhi_ymap_get(root, "outcome");
  r->outcome = EXHI_OUTCOME_DETECTED;
  if (out) {
    if (out->type == EXHI_Y_SCALAR) {
      if (!strcmp(out->val, "exploited")) r->outcome = EXHI_OUTCOME_EXPLOITED;
      else if (!strcmp(out->val, "attempted")) r->outcome = EXHI_OUTCOME_ATTEMPTED;
      else if (strcmp(out->val, "detected"))
        return bad(c, out, "outcome '%.40s' is not exploited, attempted or detected", out->val);
    } else if (out->type == EXHI_Y_MAP) {
      const exhi_ynode *st = exhi_ymap_get(out, "exploited_status");
      if (!st) return bad(c, out, "%s", "outcome mapping needs 'exploited_status: [codes]'");
      if ((rc = scalar_list(c, st, &r->success_status, &r->n_success, "exploited_status"))) return rc;
      const exhi_ynode *by = exhi_ymap_get(out, "exploited_by");
      if ((rc = scalar_list(c, by, &r->exploited_by, &r->n_exploited_by, "exploited_by"))) return rc;
      if (by) r->exploited_by_line = by->line;
      r->outcome = EXHI_OUTCOME_ATTEMPTED;
    } else {
      return bad(c, out, "%s", "'outcome' must be a word or a mapping");
    }
  }
  if ((rc = parse_logsource(c, exhi_ymap_get(root, "logsource"), r))) return rc;
  /* r may move when rules grow: parse_detection reindexes. */
  return parse_detection(c, ri, exhi_ymap_get(root, "detection"));
}

static int load_text(exhi_lr *lr, const char *name, const char *text, size_t len, exh_error *err) {
  exhi_ytree t;
  int rc = exhi_ytree_parse(name, text, len, &t, err);
  if (rc) return rc;
  lctx c = {.lr = lr, .file = name, .err = err};
  rc = parse_rule(&c, t.root);
  exhi_ytree_free(&t);
  return rc;
}

/* ---- loading folders ------------------------------------------------------- */

static bool is_rule_name(const char *n) {
  size_t l = strlen(n);
  return (l > 4 && !strcmp(n + l - 4, ".yml")) || (l > 5 && !strcmp(n + l - 5, ".yaml"));
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int load_dir(exhi_lr *lr, const char *dir, int depth, size_t *files, exh_error *err) {
  DIR *d = opendir(dir);
  if (!d) return exhi_err(err, EXH_ERR_IO, dir, 0, -1, "cannot open rules folder: %s", strerror(errno));
  char **names = NULL;
  size_t n = 0, cap = 0;
  struct dirent *e;
  int rc = EXH_OK;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    if (n == cap) {
      char **q = grow(names, &cap, n + 1, sizeof *names);
      if (!q) { rc = exhi_err(err, EXH_ERR_NOMEM, dir, 0, -1, "out of memory"); break; }
      names = q;
    }
    if (!(names[n] = strdup(e->d_name))) { rc = exhi_err(err, EXH_ERR_NOMEM, dir, 0, -1, "out of memory"); break; }
    n++;
  }
  closedir(d);
  if (!rc) qsort(names, n, sizeof *names, cmp_str); /* stable order of rules */
  for (size_t i = 0; i < n && !rc; i++) {
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, names[i]) >= sizeof path) continue;
    struct stat st;
    if (lstat(path, &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      if (depth < EXHI_LR_MAX_DEPTH) rc = load_dir(lr, path, depth + 1, files, err);
      continue;
    }
    if (!S_ISREG(st.st_mode) || !is_rule_name(names[i])) continue;
    if (++*files > EXHI_LR_MAX_FILES) {
      rc = exhi_err(err, EXH_ERR_LIMIT, dir, 0, -1, "more than %d rule files", EXHI_LR_MAX_FILES);
      break;
    }
    unsigned char *buf;
    size_t len;
    if ((rc = exhi_read_file(path, EXHI_LR_FILE_MAX, &buf, &len, err))) break;
    rc = load_text(lr, path, (const char *)buf, len, err);
    free(buf);
  }
  for (size_t i = 0; i < n; i++) free(names[i]);
  free(names);
  return rc;
}

/* ---- compiling ----------------------------------------------------------- */

/* What a rule's lines must contain, as groups of prefilter literals: a line
 * can match only if it holds at least one literal of every group (the
 * keys of one selection, the values of an all-of item, and the pieces of
 * a regex between its gaps). One group alone would be enough to be sound; more
 * make fewer candidates: an IIS request for .../logon.css holds /owa/auth/
 * but not the .aspx the web shell rule's regex also requires, and
 * autodiscover.json without "powershell" is no ProxyNotShell candidate. */
typedef struct req {
  const char *expr;
  unsigned flags, group; /* group: numbered per rule from 0 */
  size_t pat;            /* the pattern it comes from (errors name its rule) */
} req;
typedef struct reqs {
  req *v;
  size_t n, max;
  unsigned ngroups;
} reqs;

static int req_add(reqs *q, const pat *pt, size_t p, const char *expr, unsigned group) {
  if (q->n >= q->max) return 0;
  q->v[q->n++] = (req){expr, pt->pre_flags, group, p};
  return 1;
}

/* Keeps only group g of the entries from `from` on, renumbered as `as`:
 * the one group an `or` of both sides can require. */
static void keep_group(reqs *q, size_t from, unsigned g, unsigned as) {
  size_t o = from;
  for (size_t i = from; i < q->n; i++)
    if (q->v[i].group == g) {
      q->v[o] = q->v[i];
      q->v[o++].group = as;
    }
  q->n = o;
}

/* Each function returns 1 when it added at least one group, else 0 with
 * q as it was. */
static int item_groups(const exhi_lr *lr, const item *it, reqs *q) {
  size_t n0 = q->n;
  unsigned g0 = q->ngroups;
  if (it->all || it->n_pats == 1) {
    /* Every pattern must match: each of its factors is a group. A group
     * left out (no room) only makes more candidates. */
    for (size_t p = it->first_pat; p < it->first_pat + it->n_pats; p++) {
      const pat *pt = &lr->pats[p];
      if (pt->pre && req_add(q, pt, p, pt->pre, q->ngroups)) q->ngroups++;
      if (pt->pre && pt->pre2 && req_add(q, pt, p, pt->pre2, q->ngroups)) q->ngroups++;
    }
    return q->n > n0;
  }
  for (size_t p = it->first_pat; p < it->first_pat + it->n_pats; p++)
    if (!lr->pats[p].pre) return 0;
  for (size_t p = it->first_pat; p < it->first_pat + it->n_pats; p++)
    if (!req_add(q, &lr->pats[p], p, lr->pats[p].pre, g0)) {
      q->n = n0;
      return 0;
    }
  q->ngroups = g0 + 1;
  return 1;
}

static int alt_groups(const exhi_lr *lr, const alt *al, reqs *q) {
  int ok = 0;
  for (size_t i = 0; i < al->n_items; i++) ok |= item_groups(lr, &lr->items[al->first_item + i], q);
  return ok;
}

static int sel_groups(const exhi_lr *lr, const sel *s, reqs *q) {
  if (s->n_alts == 1) return alt_groups(lr, &s->alts[0], q);
  size_t n0 = q->n;
  unsigned g0 = q->ngroups;
  for (size_t a = 0; a < s->n_alts; a++) {
    size_t na = q->n;
    unsigned ga = q->ngroups;
    if (!alt_groups(lr, &s->alts[a], q)) {
      q->n = n0;
      q->ngroups = g0;
      return 0;
    }
    keep_group(q, na, ga, g0);
    q->ngroups = g0 + 1;
  }
  return s->n_alts > 0;
}

static int node_groups(const exhi_lr *lr, const cond *cd, int n, reqs *q, int join);

/* Both sides of an `and`: only for rules read in W3C logs alone, whose
 * literals are checked to sit in their own column (exhi_lr_prefilter), so
 * a common second-side literal (/ews/ in a path) is cheap to reject. */
static int and_groups(const exhi_lr *lr, const cond *cd, const cnode *nd, reqs *q, int join) {
  if (!join) return node_groups(lr, cd, nd->a, q, join) || node_groups(lr, cd, nd->b, q, join);
  int a = node_groups(lr, cd, nd->a, q, join);
  int b = node_groups(lr, cd, nd->b, q, join);
  return a || b;
}

static int node_groups(const exhi_lr *lr, const cond *cd, int n, reqs *q, int join) {
  const cnode *nd = &cd->nodes[n];
  size_t n0 = q->n;
  unsigned g0 = q->ngroups;
  switch (nd->op) {
  case C_SEL: return sel_groups(lr, &cd->sels[nd->sels[0]], q);
  case C_AND:
    /* One side only: the groups of both sides cost more than they save
     * when the second side's literals are common where the first's are
     * not (measured: ProxyShell's back-end paths /ews/ and /mapi/emsmdb
     * made HttpProxy hunts 30% slower and spared no IIS candidate). */
    return and_groups(lr, cd, nd, q, join);
  case C_OR:
    if (!node_groups(lr, cd, nd->a, q, join)) return 0;
    keep_group(q, n0, g0, g0);
    q->ngroups = g0 + 1;
    {
      size_t nb = q->n;
      if (!node_groups(lr, cd, nd->b, q, join)) {
        q->n = n0;
        q->ngroups = g0;
        return 0;
      }
      keep_group(q, nb, g0 + 1, g0);
      q->ngroups = g0 + 1;
    }
    return 1;
  case C_ONE_OF:
    for (size_t i = 0; i < nd->n_sels; i++) {
      size_t ni = q->n;
      unsigned gi = q->ngroups;
      if (!sel_groups(lr, &cd->sels[nd->sels[i]], q)) {
        q->n = n0;
        q->ngroups = g0;
        return 0;
      }
      keep_group(q, ni, gi, g0);
      q->ngroups = g0 + 1;
    }
    return nd->n_sels > 0;
  case C_ALL_OF: {
    int ok = 0;
    for (size_t i = 0; i < nd->n_sels; i++) ok |= sel_groups(lr, &cd->sels[nd->sels[i]], q);
    return ok;
  }
  default: return 0; /* NOT */
  }
}

/* ids: what the database reports; origin: the pattern each came from (for
 * errors naming the rule file and line). */
static int compile_db(const char *const *exprs, const unsigned *flags, const unsigned *ids,
                      const unsigned *origin, size_t n, hs_database_t **db, const exhi_lr *lr,
                      exh_error *err) {
  hs_compile_error_t *ce = NULL;
  /* Rule sets loaded from text (tests, fuzzing: thousands of one-off sets)
   * are compiled every time rather than filling the cache. */
  hs_error_t hr = lr->cache ? exhi_hs_compile_cached(exprs, flags, ids, (unsigned)n, db, &ce)
                            : exhi_hs_compile(exprs, flags, ids, (unsigned)n, db, &ce);
  if (hr == HS_SUCCESS) return EXH_OK;
  int rc;
  if (ce && ce->expression >= 0 && (size_t)ce->expression < n && origin[ce->expression] < lr->n_pats) {
    const pat *p = &lr->pats[origin[ce->expression]];
    rc = exhi_err(err, EXH_ERR_PARSE, lr->rules[p->rule].file, p->line, -1,
                  "pattern '%.200s' cannot be compiled: %s", exprs[ce->expression], ce->message);
  } else if (!ce && hr == HS_NOMEM) {
    rc = exhi_err(err, EXH_ERR_NOMEM, "rules", 0, -1, "out of memory");
  } else {
    rc = exhi_err(err, EXH_ERR_PARSE, "rules", 0, -1, "cannot compile the rule set: %s",
                  ce ? ce->message : "unknown error");
  }
  hs_free_compile_error(ce);
  return rc;
}

/* Whether a prefilter literal (as sb_lit escapes it: \xHH is one byte) is
 * under 4 bytes: '@' or '-' would hit on most lines. Regex factors,
 * "(?:...)", are 4 bytes or more by construction. */
static int lit_short(const char *e) {
  if (e[0] == '(') return 0;
  size_t n = 0;
  for (const char *p = e; *p && n < 4; n++) p += p[0] == '\\' ? (p[1] == 'x' && p[2] && p[3] ? 4 : p[1] ? 2 : 1) : 1;
  return n < 4;
}

/* Requests every Exchange client makes all day: a literal inside one of
 * them is in most lines of a busy server's web logs. (Microsoft Learn:
 * "Autodiscover for Exchange" (AutodiscoverV2), Outlook on the web,
 * Exchange Web Services, MAPI over HTTP, Exchange ActiveSync, Outlook
 * Anywhere, the offline address book.) */
static const char *const common_requests[] = {
    "/autodiscover/autodiscover.json", "/autodiscover/autodiscover.xml", "/owa/service.svc",
    "/ews/exchange.asmx", "/mapi/emsmdb/", "/mapi/nspi/", "/microsoft-server-activesync",
    "/rpc/rpcproxy.dll", "/oab/",
};

/* Whether a prefilter literal (as sb_lit escapes it) sits inside one of
 * the common requests, whatever the case. Alternations are not. */
static int lit_common(const char *e) {
  char lit[64];
  size_t n = 0;
  if (e[0] == '(') return 0;
  for (const char *p = e; *p; n++) {
    if (n + 1 >= sizeof lit) return 0;
    if (p[0] == '\\' && p[1] == 'x' && isxdigit((unsigned char)p[2]) && isxdigit((unsigned char)p[3])) {
      char h[3] = {p[2], p[3], 0};
      lit[n] = (char)strtol(h, NULL, 16);
      p += 4;
    } else if (p[0] == '\\' && p[1]) {
      lit[n] = p[1];
      p += 2;
    } else {
      lit[n] = *p++;
    }
  }
  for (size_t i = 0; i < EXHI_ARRAY_LEN(common_requests); i++) {
    const char *c = common_requests[i];
    size_t cl = strlen(c);
    for (size_t o = 0; n && o + n <= cl; o++) {
      size_t k = 0;
      while (k < n && tolower((unsigned char)c[o + k]) == tolower((unsigned char)lit[k])) k++;
      if (k == n) return 1;
    }
  }
  return 0;
}

/* Keeps a rule's groups of literals, renumbered from 0, and drops its
 * groups that hold a prefilter-mode regex or a literal under 4 bytes:
 * those may hit anywhere (user.name|re: '.' hits every byte), so they are
 * worth scanning for only when they are all the rule has, and then as its
 * one group. Likewise a group of keyword literals (whole line) all inside
 * common requests, when the rule has another group: scanning for
 * "autodiscover.json" costs a hit on most lines, and a line the rule
 * matches has the other group's literal anyway. Returns the groups left. */
static unsigned prune_groups(const exhi_lr *lr, reqs *q, size_t from) {
  unsigned ng = q->ngroups, kept = 0;
  unsigned char weak[64] = {0};
  unsigned char *w = ng <= 64 ? weak : calloc(ng, 1);
  if (!w) {
    keep_group(q, from, 0, 0); /* out of memory: the first group is enough */
    return 1;
  }
  for (size_t i = from; i < q->n; i++)
    if ((q->v[i].flags & HS_FLAG_PREFILTER) || lit_short(q->v[i].expr)) w[q->v[i].group] = 1;
  /* Common keyword groups: 2 marks them, while a group that stays is
   * neither weak nor common. */
  unsigned char comm[64] = {0};
  if (ng <= 64) {
    for (unsigned g = 0; g < ng; g++) comm[g] = !w[g];
    for (size_t i = from; i < q->n; i++)
      if (lr->pats[q->v[i].pat].field || !lit_common(q->v[i].expr)) comm[q->v[i].group] = 0;
    int other = 0;
    for (unsigned g = 0; g < ng; g++) other |= !w[g] && !comm[g];
    for (unsigned g = 0; g < ng && other; g++)
      if (comm[g]) w[g] = 2;
  }
  for (unsigned g = 0; g < ng; g++) kept += !w[g];
  if (!kept) {
    keep_group(q, from, 0, 0);
    kept = 1;
  } else {
    /* New numbers: the rank of the group among those kept. */
    size_t o = from;
    for (size_t i = from; i < q->n; i++) {
      unsigned g = q->v[i].group;
      if (w[g]) continue;
      unsigned rank = 0;
      for (unsigned h = 0; h < g; h++) rank += !w[h];
      q->v[o] = q->v[i];
      q->v[o++].group = rank;
    }
    q->n = o;
  }
  if (w != weak) free(w);
  return kept;
}

/* A rule's vetoes: the selections X of `... and not X` at the top of its
 * condition that are one item on one field (not an all-of list): a column
 * whose whole value matches X rules the line out. */
static void collect_vetoes(const exhi_lr *lr, const cond *cd, int n, uint32_t *out, size_t *n_out,
                           size_t max) {
  const cnode *nd = &cd->nodes[n];
  if (nd->op == C_AND) {
    collect_vetoes(lr, cd, nd->a, out, n_out, max);
    collect_vetoes(lr, cd, nd->b, out, n_out, max);
    return;
  }
  if (nd->op != C_NOT || cd->nodes[nd->a].op != C_SEL) return;
  const sel *se = &cd->sels[cd->nodes[nd->a].sels[0]];
  if (se->n_alts != 1 || se->alts[0].n_items != 1) return;
  const item *it = &lr->items[se->alts[0].first_item];
  if (!it->field || it->all || *n_out >= max) return;
  out[(*n_out)++] = (uint32_t)se->alts[0].first_item;
}

/* Whether a prefilter literal can only match inside one space-separated
 * column: a plain literal or alternation (as sb_lit escapes them) with no
 * space in it. Prefilter-mode regexes may match anything. */
static int lit_spacefree(const char *e, unsigned flags) {
  if (flags & HS_FLAG_PREFILTER) return 0;
  for (const char *p = e; *p; p++) {
    if (*p == ' ') return 0;
    if (p[0] == '\\' && p[1] == 'x' && p[2] == '2' && p[3] == '0') return 0;
    if (p[0] == '\\' && p[1]) p++;
  }
  return 1;
}

static int field_index(const kindset *ks, const char *f) {
  if (!f) return -1;
  for (size_t j = 0; j < ks->n_fields && j < 64; j++)
    if (exhi_ascii_ieq(f, strlen(f), ks->fields[j].field)) return (int)j;
  return -1;
}

/* A kind's prefilter literal with the group bit it sets. */
typedef struct kreq {
  const char *expr;
  unsigned flags;
  size_t pat;
  uint64_t bit;
} kreq;

static int cmp_kreq(const void *a, const void *b) {
  const kreq *x = a, *y = b;
  if (x->flags != y->flags) return x->flags < y->flags ? -1 : 1;
  return strcmp(x->expr, y->expr);
}

/* One of column mode's two databases: the prefilter's patterns (exprs,
 * after its id 0, the preamble) whose bits meet `part`, each setting only
 * those bits. */
static int compile_part(const kindset *ks, const char *const *exprs, const unsigned *flags,
                        const unsigned *origin, size_t n, uint64_t part, hs_database_t **db,
                        uint64_t **mask, exhi_lr *lr, exh_error *err) {
  const char **ex = malloc((n + 1) * sizeof *ex);
  unsigned *fl = malloc((n + 1) * sizeof *fl), *id = malloc((n + 1) * sizeof *id);
  unsigned *or = malloc((n + 1) * sizeof *or);
  *mask = calloc(n + 1, sizeof **mask);
  int rc = EXH_OK;
  if (!ex || !fl || !id || !or || !*mask) {
    rc = exhi_err(err, EXH_ERR_NOMEM, "rules", 0, -1, "out of memory");
    goto done;
  }
  size_t m = 0;
  for (size_t i = 1; i < n; i++) {
    if (!(ks->pre_mask[i] & part)) continue;
    ex[m] = exprs[i];
    fl[m] = flags[i];
    id[m] = (unsigned)m;
    or[m] = origin[i];
    (*mask)[m++] = ks->pre_mask[i] & part;
  }
  if (m && !(rc = compile_db(ex, fl, id, or, m, db, lr, err)) &&
      hs_alloc_scratch(*db, &lr->proto) != HS_SUCCESS)
    rc = exhi_err(err, EXH_ERR_NOMEM, "rules", 0, -1, "cannot allocate scan space");
done:
  free(ex);
  free(fl);
  free(id);
  free(or);
  return rc;
}

/* Adds pattern e (flags, id) to l when it is a literal or an alternation
 * of literals, as sb_lit and factor_expr write them; 0 when it is not, or
 * l is full. */
static int plits_add(plits *l, const char *e, unsigned flags, unsigned id) {
  if (flags & ~(unsigned)HS_FLAG_CASELESS) return 0;
  const char *p = e, *end = e + strlen(e);
  int is_alt = strncmp(p, "(?:", 3) == 0;
  if (is_alt) {
    if (end - p < 4 || end[-1] != ')') return 0;
    p += 3;
    end--;
  }
  for (;;) {
    if (l->n == EXHI_LITSCAN_MAX_LITS) return 0;
    unsigned len = 0;
    while (p < end && *p != '|') {
      unsigned char c;
      if (isalnum((unsigned char)*p) || *p == '_') {
        c = (unsigned char)*p++;
      } else if (p[0] == '\\' && p[1] == 'x' && isxdigit((unsigned char)p[2]) &&
                 isxdigit((unsigned char)p[3])) {
        char h[3] = {p[2], p[3], 0};
        c = (unsigned char)strtol(h, NULL, 16);
        p += 4;
      } else {
        return 0;
      }
      if (len == EXHI_LITSCAN_MAX_LEN) return 0;
      l->v[l->n].b[len++] = (char)c;
    }
    if (len < EXHI_LITSCAN_MIN_LEN) return 0;
    l->v[l->n].len = len;
    l->v[l->n].id = id;
    l->v[l->n].caseless = (flags & HS_FLAG_CASELESS) != 0;
    l->n++;
    if (p == end) return 1;
    if (!is_alt) return 0;
    p++;
  }
}

/* l as the literals of patterns exprs[from..n) (ids: their index less
 * from, plus id0), or n == 0 when one is not a literal. */
static void plits_of(plits *l, const char *const *exprs, const unsigned *flags, size_t from,
                     size_t n, unsigned id0) {
  l->n = 0;
  for (size_t i = from; i < n; i++)
    if (!plits_add(l, exprs[i], flags[i], (unsigned)(i - from) + id0)) {
      l->n = 0;
      return;
    }
}

/* Whether a literal as sb_lit escapes it (or an alternation of them) may
 * match a newline. */
static int lit_newline(const char *e) {
  for (const char *p = e; *p; p++) {
    if (*p == '\n') return 1;
    if (p[0] == '\\' && p[1] == 'n') return 1;
    if (p[0] == '\\' && p[1] == 'x' && p[2] == '0' && (p[3] == 'a' || p[3] == 'A')) return 1;
    if (p[0] == '\\' && p[1]) p++;
  }
  return 0;
}

static int ascii_letter(unsigned char c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }

/* How common a byte is in web server log values (paths, query strings,
 * user agents), for needles: a cost, rarer bytes cheaper. */
static int needle_cost(unsigned char c) {
  static const char rare[] = "@~^|`{}[]<>\\!$*'\";,?:#";
  const char *p = c ? strchr(rare, c) : NULL;
  if (p) return 1 + (int)(p - rare);
  if (c == '/' || c == '-') return 40;
  if (strchr("jqxzJQXZ", c) && c) return 30;
  if (strchr("kvwybKVWYB", c) && c) return 60;
  if (c >= '0' && c <= '9') return 100;
  if (ascii_letter(c)) return 120;
  if (c >= 0x80 || c < 0x20) return 10;
  return 150; /* _ = % . & + */
}

/* The needles of a field whose literals are lits[0..n_lits) (see kindset):
 * the cheapest set of at most four bytes such that each literal holds one
 * (a letter matched without case counts as its two cases), into out;
 * *n_out: how many, -1 when there is no such set. */
#define NEEDLE_CANDS 16
typedef struct needle_cand {
  unsigned char b[2]; /* the byte, or a letter's two cases */
  int nb, cost;
  uint64_t in; /* the literals that hold it */
} needle_cand;

/* Picking needles: the candidates, the literals to cover, the set being
 * tried and the cheapest found (best_cost -1: none yet). */
typedef struct needle_search {
  const needle_cand *cand;
  int nc;
  uint64_t all;
  int cur[4], best[4], n_best, best_cost;
} needle_search;

/* Tries the sets that add candidates from `from` on to the `depth` chosen
 * (bytes and cost so far, covering cov); a set that covers all is not
 * extended (each candidate costs more). */
static void needle_try(needle_search *q, int from, int depth, int bytes, int cost, uint64_t cov) {
  if (cov == q->all) {
    if (q->best_cost < 0 || cost < q->best_cost) {
      q->best_cost = cost;
      q->n_best = depth;
      memcpy(q->best, q->cur, sizeof q->best);
    }
    return;
  }
  for (int x = from; x < q->nc && depth < 4; x++) {
    if (bytes + q->cand[x].nb > 4) continue;
    q->cur[depth] = x;
    needle_try(q, x + 1, depth + 1, bytes + q->cand[x].nb, cost + q->cand[x].cost,
               cov | q->cand[x].in);
  }
}

static void pick_needles(const plits *lits, size_t n_lits, char *out, int *n_out) {
  /* Candidates: each literal's bytes as classes (a letter matched without
   * case is its two cases), the cheapest NEEDLE_CANDS of them. */
  needle_cand cand[NEEDLE_CANDS];
  int nc = 0;
  *n_out = -1;
  for (size_t i = 0; i < n_lits; i++)
    for (size_t j = 0; j < lits[i].n; j++)
      for (unsigned q = 0; q < lits[i].v[j].len; q++) {
        unsigned char c = (unsigned char)lits[i].v[j].b[q];
        int two = lits[i].v[j].caseless && ascii_letter(c);
        needle_cand k = {{two ? (unsigned char)(c | 0x20) : c, (unsigned char)(c & ~0x20)}, two ? 2 : 1,
                         needle_cost(c) * (two ? 2 : 1), 0};
        int dup = 0;
        for (int x = 0; x < nc && !dup; x++)
          dup = cand[x].b[0] == k.b[0] && cand[x].nb == k.nb;
        if (dup) continue;
        if (nc < NEEDLE_CANDS) {
          cand[nc++] = k;
        } else {
          int worst = 0;
          for (int x = 1; x < nc; x++)
            if (cand[x].cost > cand[worst].cost) worst = x;
          if (k.cost < cand[worst].cost) cand[worst] = k;
        }
      }
  /* The literals each candidate is in (at most 64 literals). */
  size_t total = 0;
  for (size_t i = 0; i < n_lits; i++) total += lits[i].n;
  if (!nc || total > 64) return;
  uint64_t all = total == 64 ? ~0ull : (1ull << total) - 1;
  size_t li = 0;
  for (size_t i = 0; i < n_lits; i++)
    for (size_t j = 0; j < lits[i].n; j++, li++)
      for (unsigned q = 0; q < lits[i].v[j].len; q++) {
        unsigned char c = (unsigned char)lits[i].v[j].b[q];
        for (int x = 0; x < nc; x++)
          for (int y = 0; y < cand[x].nb; y++)
            if (c == cand[x].b[y] ||
                (lits[i].v[j].caseless && ascii_letter(c) && (c | 0x20) == (cand[x].b[y] | 0x20)))
              cand[x].in |= 1ull << li;
      }
  /* The cheapest set of up to four bytes that covers every literal. */
  needle_search q = {.cand = cand, .nc = nc, .all = all, .best_cost = -1};
  needle_try(&q, 0, 0, 0, 0, 0);
  if (q.best_cost < 0) return;
  *n_out = 0;
  for (int k = 0; k < q.n_best; k++)
    for (int y = 0; y < cand[q.best[k]].nb; y++) out[(*n_out)++] = (char)cand[q.best[k]].b[y];
}

/* The needles of each field the field-bound bits bind to. */
static void find_needles(kindset *ks, const char *const *exprs, const unsigned *flags, size_t n) {
  for (size_t f = 0; f < 64; f++) ks->n_needles[f] = -1;
  plits *lits = calloc(n ? n : 1, sizeof *lits);
  if (!lits) return; /* out of memory: no needles, every value scanned */
  for (size_t f = 0; f < ks->n_fields && f < 64; f++) {
    size_t nl = 0;
    int ok = 1;
    for (size_t i = 1; i < n && ok; i++) {
      int mine = 0;
      for (uint64_t b = ks->pre_mask[i] & ks->field_bits; b; b &= b - 1)
        mine |= ks->bit_field[__builtin_ctzll(b)] == (int)f;
      if (mine) {
        lits[nl].n = 0;
        ok = plits_add(&lits[nl++], exprs[i], flags[i], 0);
      }
    }
    if (ok && nl) pick_needles(lits, nl, ks->needles[f], &ks->n_needles[f]);
  }
  free(lits);
}

static int compile_colmode(kindset *ks, const char *const *exprs, const unsigned *flags,
                           const unsigned *origin, size_t n, exhi_lr *lr, exh_error *err) {
  find_needles(ks, exprs, flags, n);
  ks->col_batch = 1;
  for (size_t i = 1; i < n; i++)
    if ((ks->pre_mask[i] & ks->field_bits) && lit_newline(exprs[i])) ks->col_batch = 0;
  /* kw_pre's literals, numbered as compile_part numbers them. */
  unsigned m = 0;
  ks->kw_lits.n = 0;
  for (size_t i = 1; i < n; i++)
    if ((ks->pre_mask[i] & ~ks->field_bits) && !plits_add(&ks->kw_lits, exprs[i], flags[i], m++)) {
      ks->kw_lits.n = 0;
      break;
    }
  int rc = compile_part(ks, exprs, flags, origin, n, ~ks->field_bits, &ks->kw_pre,
                        &ks->kw_pre_mask, lr, err);
  if (!rc)
    rc = compile_part(ks, exprs, flags, origin, n, ks->field_bits, &ks->col_lits,
                      &ks->col_lit_mask, lr, err);
  return rc;
}

static int compile(exhi_lr *lr, exh_error *err) {
  size_t np = lr->n_pats;
  /* Prefilter literals: at most two per pattern (pre, pre2), plus '#'. */
  size_t nmax = 2 * np + 2;
  const char **exprs = malloc(nmax * sizeof *exprs);
  unsigned *flags = malloc(nmax * sizeof *flags), *ids = malloc(nmax * sizeof *ids);
  unsigned *origin = malloc(nmax * sizeof *origin);
  reqs rq = {.v = malloc(nmax * sizeof(req)), .max = nmax};
  kreq *kq = malloc(nmax * sizeof *kq);
  /* Per rule: its entries in rq.v, how many, and its groups. */
  size_t *r_first = calloc(lr->n_rules + 1, sizeof *r_first);
  size_t *r_n = calloc(lr->n_rules + 1, sizeof *r_n);
  unsigned *r_groups = calloc(lr->n_rules + 1, sizeof *r_groups);
  int rc = EXH_OK;
  if (!exprs || !flags || !ids || !origin || !rq.v || !kq || !r_first || !r_n || !r_groups) {
    rc = exhi_err(err, EXH_ERR_NOMEM, "rules", 0, -1, "out of memory");
    goto out;
  }
  /* Rules per kind, and which kinds need every line. */
  for (size_t r = 0; r < lr->n_rules; r++) {
    exhi_lr_rule *ru = &lr->rules[r];
    r_first[r] = rq.n;
    rq.ngroups = 0;
    int ok = node_groups(lr, ru->cond, ((cond *)ru->cond)->root, &rq,
                         ru->kinds == 1u << EXHI_LOG_IIS);
    if (!ok) rq.n = r_first[r];
    else rq.ngroups = prune_groups(lr, &rq, r_first[r]);
    r_n[r] = rq.n - r_first[r];
    r_groups[r] = ok ? rq.ngroups : 0;
    for (int k = 0; k < EXHI_LOG_KINDS; k++) {
      if (!(ru->kinds & (1u << k))) continue;
      kindset *ks = &lr->kinds[k];
      size_t *q = realloc(ks->rules, (ks->n_rules + 1) * sizeof *q);
      if (!q) {
        rc = exhi_err(err, EXH_ERR_NOMEM, "rules", 0, -1, "out of memory");
        goto out;
      }
      ks->rules = q;
      ks->rules[ks->n_rules++] = r;
      if (!ok) ks->all_lines = 1;
    }
  }
  /* Field databases per kind. */
  for (int k = 0; k < EXHI_LOG_KINDS; k++) {
    kindset *ks = &lr->kinds[k];
    if (!ks->n_rules) continue;
    /* Distinct fields (NULL = keywords), in first-seen order. */
    for (size_t ri = 0; ri < ks->n_rules; ri++) {
      const exhi_lr_rule *ru = &lr->rules[ks->rules[ri]];
      for (size_t i = ru->first_item; i < ru->first_item + ru->n_items; i++) {
        const char *f = lr->items[i].field;
        if (!f) continue;
        bool seen = false;
        for (size_t j = 0; j < ks->n_fields; j++) seen |= exhi_ascii_ieq(f, strlen(f), ks->fields[j].field);
        if (seen) continue;
        fielddb *q = realloc(ks->fields, (ks->n_fields + 1) * sizeof *q);
        if (!q) {
          rc = exhi_err(err, EXH_ERR_NOMEM, "rules", 0, -1, "out of memory");
          goto out;
        }
        ks->fields = q;
        ks->fields[ks->n_fields].field = f;
        ks->fields[ks->n_fields].db = NULL;
        ks->n_fields++;
      }
    }
    ks->field_mask = calloc(ks->n_fields + 1, sizeof *ks->field_mask);
    if (!ks->field_mask) {
      rc = exhi_err(err, EXH_ERR_NOMEM, "rules", 0, -1, "out of memory");
      goto out;
    }
    for (size_t ri = 0; ri < ks->n_rules; ri++) {
      const exhi_lr_rule *ru = &lr->rules[ks->rules[ri]];
      uint64_t bit = 1ull << (ks->rules[ri] % 64);
      for (size_t i = ru->first_item; i < ru->first_item + ru->n_items; i++) {
        const char *f = lr->items[i].field;
        if (!f) {
          ks->kw_mask |= bit;
          continue;
        }
        for (size_t j = 0; j < ks->n_fields; j++)
          if (exhi_ascii_ieq(f, strlen(f), ks->fields[j].field)) ks->field_mask[j] |= bit;
      }
    }
    if (ks->n_fields > 64) {
      rc = exhi_err(err, EXH_ERR_LIMIT, "rules", 0, -1,
                    "rules for %s logs test more than 64 distinct fields", exhi_logkind_name(k));
      goto out;
    }
    for (size_t fi = 0; fi <= ks->n_fields; fi++) {
      const char *f = fi < ks->n_fields ? ks->fields[fi].field : NULL;
      size_t n = 0;
      for (size_t ri = 0; ri < ks->n_rules; ri++) {
        const exhi_lr_rule *ru = &lr->rules[ks->rules[ri]];
        for (size_t i = ru->first_item; i < ru->first_item + ru->n_items; i++) {
          const item *it = &lr->items[i];
          if (f ? !(it->field && exhi_ascii_ieq(it->field, strlen(it->field), f)) : it->field != NULL)
            continue;
          for (size_t p = it->first_pat; p < it->first_pat + it->n_pats; p++) {
            exprs[n] = lr->pats[p].expr;
            flags[n] = lr->pats[p].flags;
            ids[n] = origin[n] = (unsigned)p;
            n++;
          }
        }
      }
      if (!n) continue;
      hs_database_t **dst = f ? &ks->fields[fi].db : &ks->keywords;
      if ((rc = compile_db(exprs, flags, ids, origin, n, dst, lr, err))) goto out;
      if (hs_alloc_scratch(*dst, &lr->proto) != HS_SUCCESS) {
        rc = exhi_err(err, EXH_ERR_NOMEM, "rules", 0, -1, "cannot allocate scan space");
        goto out;
      }
    }
  }
  /* A prefilter per kind: '#' preamble lines, then each distinct literal
   * of the kind's rules. Fewer patterns per scan, faster scans. Each
   * (rule, group) pair of the kind gets a bit when there are at most 64;
   * else each rule is prefiltered by its first group alone, its bit
   * (index % 64) standing for the group. */
  for (int k = 0; k < EXHI_LOG_KINDS && !rc; k++) {
    kindset *ks = &lr->kinds[k];
    size_t pairs = 0;
    for (size_t ri = 0; ri < ks->n_rules; ri++) pairs += r_groups[ks->rules[ri]];
    ks->grouped = pairs <= 64;
    ks->need = calloc(ks->n_rules + 1, sizeof *ks->need);
    if (!ks->need) {
      rc = exhi_err(err, EXH_ERR_NOMEM, "rules", 0, -1, "out of memory");
      goto out;
    }
    size_t m = 0;
    unsigned next = 0;
    /* -2: no literal seen yet for the bit. */
    for (int b = 0; b < 64; b++) ks->bit_field[b] = -2;
    for (size_t ri = 0; ri < ks->n_rules; ri++) {
      size_t r = ks->rules[ri];
      for (size_t i = r_first[r]; i < r_first[r] + r_n[r]; i++) {
        const req *e = &rq.v[i];
        if (!ks->grouped && e->group != 0) continue;
        uint64_t bit = ks->grouped ? 1ull << (next + e->group) : 1ull << (r % 64);
        kq[m++] = (kreq){e->expr, e->flags, e->pat, bit};
        ks->need[ri] |= bit;
        if (ks->grouped) {
          int b = (int)(next + e->group);
          int fi = lit_spacefree(e->expr, e->flags) ? field_index(ks, lr->pats[e->pat].field) : -1;
          if (ks->bit_field[b] == -2) ks->bit_field[b] = (signed char)fi;
          else if (ks->bit_field[b] != fi) ks->bit_field[b] = -1;
        }
      }
      if (ks->grouped) {
        uint32_t vet[VETO_MAX * 4];
        size_t nv = 0;
        collect_vetoes(lr, lr->rules[r].cond, ((const cond *)lr->rules[r].cond)->root, vet, &nv,
                       sizeof vet / sizeof *vet);
        for (unsigned g = 0; g < r_groups[r]; g++) {
          unsigned b = next + g;
          if (ks->bit_field[b] < 0) continue;
          for (size_t v = 0; v < nv && ks->n_veto[b] < VETO_MAX; v++)
            if (field_index(ks, lr->items[vet[v]].field) == ks->bit_field[b])
              ks->veto_item[b][ks->n_veto[b]++] = vet[v];
        }
        next += r_groups[r];
      }
    }
    ks->field_bits = 0;
    for (int b = 0; b < 64; b++) {
      if (ks->bit_field[b] < 0) ks->bit_field[b] = -1;
      else if (ks->grouped) ks->field_bits |= 1ull << b;
    }
    qsort(kq, m, sizeof *kq, cmp_kreq);
    ks->pre_mask = calloc(m + 1, sizeof *ks->pre_mask);
    if (!ks->pre_mask) {
      rc = exhi_err(err, EXH_ERR_NOMEM, "rules", 0, -1, "out of memory");
      goto out;
    }
    size_t n = 0;
    exprs[n] = "^#";
    flags[n] = HS_FLAG_MULTILINE;
    ids[n] = 0; /* id 0, mask 0: a preamble line */
    origin[n] = (unsigned)np;
    n++;
    for (size_t i = 0; i < m; i++) {
      /* The same literal for several groups: one pattern, their bits or'ed. */
      if (!(i && cmp_kreq(&kq[i - 1], &kq[i]) == 0)) {
        exprs[n] = kq[i].expr;
        flags[n] = kq[i].flags;
        ids[n] = (unsigned)n;
        origin[n] = (unsigned)kq[i].pat;
        n++;
      }
      ks->pre_mask[n - 1] |= kq[i].bit;
    }
    if ((rc = compile_db(exprs, flags, ids, origin, n, &ks->prefilter, lr, err))) goto out;
    plits_of(&ks->pre_lits, exprs, flags, 1, n, 1);
    ks->pre_lits.hash = 1;
    if (hs_alloc_scratch(ks->prefilter, &lr->proto) != HS_SUCCESS)
      rc = exhi_err(err, EXH_ERR_NOMEM, "rules", 0, -1, "cannot allocate scan space");
    if (!rc && ks->grouped && ks->field_bits) rc = compile_colmode(ks, exprs, flags, origin, n, lr, err);
  }
out:
  free(exprs);
  free(flags);
  free(ids);
  free(origin);
  free(rq.v);
  free(kq);
  free(r_first);
  free(r_n);
  free(r_groups);
  return rc;
}

static int lr_new(exhi_lr **out, exh_error *err) {
  *out = calloc(1, sizeof **out);
  return *out ? EXH_OK : exhi_err(err, EXH_ERR_NOMEM, "rules", 0, -1, "out of memory");
}

int exhi_lr_load(int builtin, const char *const *dirs, size_t n_dirs, const char *iocs_path,
                 exhi_lr **out, exh_error *err) {
  *out = NULL;
  exhi_lr *lr;
  int rc = lr_new(&lr, err);
  if (rc) return rc;
  for (size_t i = 0; builtin && i < exhi_embedded_rules_count && !rc; i++) {
    char name[256];
    snprintf(name, sizeof name, "rules/logs/%s", exhi_embedded_rules[i].name);
    rc = load_text(lr, name, (const char *)exhi_embedded_rules[i].data, exhi_embedded_rules[i].len, err);
  }
  size_t files = 0;
  for (size_t i = 0; i < n_dirs && !rc; i++) rc = load_dir(lr, dirs[i], 0, &files, err);
  /* Indicators are matched by detectors/logioc.c from the ioc module's sets. */
  if (!rc && iocs_path)
    rc = exhi_err(err, EXH_ERR_INVALID, iocs_path, 0, -1, "indicators are not rules: load them as a set");
  /* A misspelt follow-up id would silently never escalate anything. */
  for (size_t i = 0; i < lr->n_rules && !rc; i++) {
    const exhi_lr_rule *r = &lr->rules[i];
    for (size_t j = 0; j < r->n_exploited_by && !rc; j++) {
      size_t k = 0;
      while (k < lr->n_rules && strcmp(lr->rules[k].id, r->exploited_by[j])) k++;
      if (k == lr->n_rules)
        rc = exhi_err(err, EXH_ERR_PARSE, r->file, r->exploited_by_line, -1,
                      "exploited_by names rule '%.200s', which is not loaded", r->exploited_by[j]);
    }
  }
  lr->cache = 1;
  if (!rc) rc = compile(lr, err);
  if (rc) {
    exhi_lr_free(lr);
    return rc;
  }
  *out = lr;
  return EXH_OK;
}

int exhi_lr_load_text(const char *name, const char *text, size_t len, exhi_lr **out,
                      exh_error *err) {
  *out = NULL;
  exhi_lr *lr;
  int rc = lr_new(&lr, err);
  if (!rc) rc = load_text(lr, name, text, len, err);
  if (!rc) rc = compile(lr, err);
  if (rc) {
    exhi_lr_free(lr);
    return rc;
  }
  *out = lr;
  return EXH_OK;
}

void exhi_lr_free(exhi_lr *lr) {
  if (!lr) return;
  for (int k = 0; k < EXHI_LOG_KINDS; k++) {
    kindset *ks = &lr->kinds[k];
    for (size_t i = 0; i < ks->n_fields; i++) hs_free_database(ks->fields[i].db);
    hs_free_database(ks->keywords);
    hs_free_database(ks->prefilter);
    free(ks->pre_mask);
    hs_free_database(ks->kw_pre);
    hs_free_database(ks->col_lits);
    free(ks->kw_pre_mask);
    free(ks->col_lit_mask);
    free(ks->need);
    free(ks->field_mask);
    free(ks->fields);
    free(ks->rules);
  }
  hs_free_scratch(lr->proto);
  free(lr->rules);
  free(lr->items);
  free(lr->pats);
  exhi_arena_free(&lr->arena);
  free(lr);
}

size_t exhi_lr_count(const exhi_lr *lr) { return lr->n_rules; }
const exhi_lr_rule *exhi_lr_rule_at(const exhi_lr *lr, size_t i) {
  return i < lr->n_rules ? &lr->rules[i] : NULL;
}
int exhi_lr_needs_all_lines(const exhi_lr *lr, int kind) {
  return kind >= 0 && kind < EXHI_LOG_KINDS && lr->kinds[kind].all_lines;
}

/* ---- scanning ---------------------------------------------------------------- */

/* Field values repeat (every request for /owa/auth/logon.aspx has the same
 * url.path): what a field database found in a value is remembered, so the
 * same value is not scanned again. Direct-mapped, per scan (per thread).
 * 512 slots of ~200 bytes: ~100 KiB per thread. */
#define MEMO_SLOTS 512
/* Longer values are rarely repeated; they are scanned every time. */
#define MEMO_VAL_MAX 160
/* Patterns one value may match and still be remembered. */
#define MEMO_IDS 8
/* Column mode's memo: most web requests are for a few dozen paths. */
#define CMEMO_BITS 10
#define CMEMO_SLOTS (1u << CMEMO_BITS)
/* Column mode lists a block's line ends this many bytes at a time. */
#define NL_CHUNK 8192u
typedef struct cmemo {
  uint64_t bits;
  uint32_t len;           /* UINT32_MAX: empty slot */
  int col;                /* the column; + 1024 for a line's last one */
  /* A first column's value that leaves no rule a chance whatever the
   * later columns hold, on a line no keyword hit (see colmode_fast). */
  int dead;
  char val[MEMO_VAL_MAX];
} cmemo;

typedef struct memo {
  const hs_database_t *db;  /* NULL: empty slot */
  uint32_t len, n_ids;
  unsigned ids[MEMO_IDS];
  char val[MEMO_VAL_MAX];
} memo;

struct exhi_lr_scan {
  const exhi_lr *lr;
  memo *memo;             /* MEMO_SLOTS */
  hs_scratch_t *scratch;
  unsigned char *bits;    /* per pattern: matched in this record */
  unsigned *set;          /* the patterns set in bits, to clear them fast */
  size_t n_set;
  size_t *lines;          /* candidate line starts of a block */
  uint64_t *masks;        /* per candidate: the rules its hits serve */
  size_t n_lines, cap_lines, cap_masks;
  const kindset *ks;      /* of the block being prefiltered */
  const char *block;
  size_t block_len;
  int cols[EXHI_LOG_KINDS][64]; /* field -> column for the bound schema */
  unsigned gen[EXHI_LOG_KINDS];
  const void *schema_of[EXHI_LOG_KINDS];
  char *val;              /* EXHI_LR_FIELD_MAX bytes: decoded values */
  size_t cur_len;         /* length of the value being scanned */
  int oom;
  hs_error_t hs_err;      /* a vectorscan error in a prefilter callback */
  /* Column checks of the block being prefiltered (W3C only): */
  hs_scratch_t *scratch2; /* field scans from inside the prefilter's scan */
  uint64_t col_bits;      /* bits whose literals must sit in column bit_col[b] */
  int bit_col[64];
  size_t tk_line, tk_pos, tk_a; /* tokens counted in the line at tk_line up to tk_pos */
  int tk_idx, tk_in;      /* index of the token at tk_a; inside one at tk_pos */
  size_t vt_a;            /* veto verdict cached for the token at vt_a, */
  const char *vt_block;   /*   in this slice (NULL: none) */
  uint64_t vt_drop;       /*   the bits it clears */
  const uint64_t *pm;     /* the running prefilter's id -> bits */
  /* Column mode (W3C only): */
  struct cmemo *cmemo;    /* CMEMO_SLOTS: a column's value -> its bits */
  size_t cm_mask;         /* the slots in use, less one (tests use fewer) */
  const void *cm_ks;      /* the kind and binding (columns, their bits) */
  int cm_ncols, cm_cols[64]; /*   the memo's entries hold for */
  uint64_t cm_colbits[64];
  uint64_t cm_later;      /*   and the bits of its columns after the first */
  uint64_t cm_bits;       /* the bits the literals found in a value set */
  int no_colmode;         /* tests: column checks per hit instead */
  int no_avx2;            /* tests: column mode's walk without AVX2 */
  int no_fast;            /* tests: no fast path, no needles (every batched value scanned) */
  uint32_t *nl_at;        /* NL_CHUNK: a chunk's line ends (colmode_walk) */
  size_t cm_line_ends;    /* line ends of the last call in column mode */
  /* Column mode's deferred lines and the values they wait for (see
   * colmode_prefilter): */
  struct cpend *pend;
  size_t n_pend, cap_pend;
  char *qb;               /* the waiting values, each followed by '\n' */
  size_t qb_len, qb_cap;
  size_t *q_end;          /* per value: its end in qb */
  uint64_t *q_bits;       /* per value: the bits its literals set */
  size_t n_q, cap_q, cap_qbits;
  /* litscan, per kind for its prefilter [0] and kw_pre [1] (lits_for): */
  exhi_litscan *ls[EXHI_LOG_KINDS][2];
  unsigned char ls_state[EXHI_LOG_KINDS][2]; /* 0 not tried, 1 built, 2 not usable */
  int no_litscan;         /* tests: vectorscan for every database */
  size_t ls_lines;        /* newlines the last scan_lines counted; SIZE_MAX: none */
  size_t hit_nl;          /* litscan's '\n's before the hit being added; SIZE_MAX: none */
  size_t *lines_nl;       /* per candidate: the '\n's before its line (cap_lines_nl) */
  size_t cap_lines_nl;
  size_t cb_nl;           /* in a callback: the '\n's before its line; SIZE_MAX: unknown */
  int lines_sorted_as_found; /* scan_lines did not reorder lines (lines_nl holds) */
};

void exhi_lr_scan_colmode(exhi_lr_scan *s, int on) { s->no_colmode = !on; }
void exhi_lr_scan_walk_avx2(exhi_lr_scan *s, int on) { s->no_avx2 = !on; }
void exhi_lr_scan_colmode_fast(exhi_lr_scan *s, int on) { s->no_fast = !on; }
void exhi_lr_scan_memo_bits(exhi_lr_scan *s, unsigned bits) {
  s->cm_mask = ((size_t)1 << (bits <= CMEMO_BITS ? bits : CMEMO_BITS)) - 1;
}
void exhi_lr_scan_litscan(exhi_lr_scan *s, int on) { s->no_litscan = !on; }

int exhi_lr_scan_new(const exhi_lr *lr, exhi_lr_scan **out, exh_error *err) {
  *out = NULL;
  exhi_lr_scan *s = calloc(1, sizeof *s);
  if (!s) return exhi_err(err, EXH_ERR_NOMEM, "rules", 0, -1, "out of memory");
  s->lr = lr;
  s->bits = calloc(lr->n_pats + 1, 1);
  s->set = malloc((lr->n_pats + 1) * sizeof *s->set);
  s->val = malloc(EXHI_LR_FIELD_MAX);
  s->memo = calloc(MEMO_SLOTS, sizeof *s->memo);
  s->cmemo = malloc(CMEMO_SLOTS * sizeof *s->cmemo);
  s->cm_mask = CMEMO_SLOTS - 1;
  s->nl_at = malloc(NL_CHUNK * sizeof *s->nl_at);
  if (s->cmemo)
    for (size_t i = 0; i < CMEMO_SLOTS; i++) s->cmemo[i].len = UINT32_MAX;
  if (!s->bits || !s->set || !s->val || !s->memo || !s->cmemo || !s->nl_at ||
      hs_clone_scratch(lr->proto, &s->scratch) != HS_SUCCESS ||
      hs_clone_scratch(lr->proto, &s->scratch2) != HS_SUCCESS) {
    exhi_lr_scan_free(s);
    return exhi_err(err, EXH_ERR_NOMEM, "rules", 0, -1, "out of memory");
  }
  for (int k = 0; k < EXHI_LOG_KINDS; k++) s->gen[k] = (unsigned)-1;
  *out = s;
  return EXH_OK;
}

void exhi_lr_scan_free(exhi_lr_scan *s) {
  if (!s) return;
  hs_free_scratch(s->scratch);
  hs_free_scratch(s->scratch2);
  free(s->bits);
  free(s->set);
  free(s->lines);
  free(s->masks);
  free(s->val);
  free(s->memo);
  free(s->cmemo);
  free(s->nl_at);
  free(s->pend);
  free(s->qb);
  free(s->q_end);
  free(s->q_bits);
  free(s->lines_nl);
  for (int k = 0; k < EXHI_LOG_KINDS; k++)
    for (int w = 0; w < 2; w++) exhi_litscan_free(s->ls[k][w]);
  free(s);
}

static int on_field(unsigned id, unsigned long long from, unsigned long long to, unsigned flags,
                    void *c);

/* Sets the bits of the patterns of field database db that value v matches,
 * remembering the answer for values seen again. */
static hs_error_t field_scan(exhi_lr_scan *s, const hs_database_t *db, const char *v, size_t vlen,
                             hs_scratch_t *scratch) {
  s->cur_len = vlen;
  memo *m = NULL;
  if (vlen <= MEMO_VAL_MAX) {
    /* Eight bytes at a time: this runs for every candidate's fields. */
    uint64_t h = (uint64_t)(uintptr_t)db ^ (vlen * 0x9E3779B97F4A7C15ull), w8;
    size_t i = 0;
    for (; i + 8 <= vlen; i += 8) {
      memcpy(&w8, v + i, 8);
      h = (h ^ w8) * 0xff51afd7ed558ccdull;
      h ^= h >> 32;
    }
    w8 = 0;
    if (vlen > i) memcpy(&w8, v + i, vlen - i);
    h = (h ^ w8) * 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 29;
    m = &s->memo[h & (MEMO_SLOTS - 1)];
    if (m->db == db && m->len == vlen && !memcmp(m->val, v, vlen)) {
      for (uint32_t j = 0; j < m->n_ids; j++)
        if (!s->bits[m->ids[j]]) {
          s->bits[m->ids[j]] = 1;
          s->set[s->n_set++] = m->ids[j];
        }
      return HS_SUCCESS;
    }
  }
  size_t before = s->n_set;
  hs_error_t e = hs_scan(db, v ? v : "", (unsigned)vlen, 0, scratch, on_field, s);
  if (e != HS_SUCCESS) return e;
  /* Each pattern belongs to one field's database: what this scan set is
   * exactly what the value matched. */
  if (m && s->n_set - before <= MEMO_IDS) {
    m->db = db;
    m->len = (uint32_t)vlen;
    m->n_ids = (uint32_t)(s->n_set - before);
    memcpy(m->ids, s->set + before, m->n_ids * sizeof *m->ids);
    memcpy(m->val, v, vlen);
  } else if (m) {
    m->db = NULL;
  }
  return HS_SUCCESS;
}

/* Bits set in a 64-bit mask, without needing the popcnt instruction. */
static unsigned pop64(uint64_t x) {
  x = x - ((x >> 1) & 0x5555555555555555ull);
  x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
  x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
  return (unsigned)((x * 0x0101010101010101ull) >> 56);
}

/* The bits of vet (each with vetoes) that a veto of its rule clears: one
 * whose item matches the whole value v (as the reader gives it). Sets
 * s->hs_err on a vectorscan error. */
static uint64_t vetoed(exhi_lr_scan *s, uint64_t vet, const char *v, size_t vlen,
                       hs_scratch_t *scratch) {
  uint64_t drop = 0, done = 0; /* done: fields scanned */
  while (s->n_set) s->bits[s->set[--s->n_set]] = 0;
  for (uint64_t m = vet; m; m &= m - 1) {
    int bit = __builtin_ctzll(m);
    int fi = s->ks->bit_field[bit];
    if (!(done >> fi & 1)) {
      hs_error_t er = field_scan(s, s->ks->fields[fi].db, v, vlen, scratch);
      if (er != HS_SUCCESS) {
        s->hs_err = er;
        break;
      }
      done |= 1ull << fi;
    }
    for (unsigned k = 0; k < s->ks->n_veto[bit]; k++) {
      const item *it = &s->lr->items[s->ks->veto_item[bit][k]];
      for (size_t p = it->first_pat; p < it->first_pat + it->n_pats; p++)
        if (s->bits[p]) drop |= 1ull << bit;
    }
  }
  while (s->n_set) s->bits[s->set[--s->n_set]] = 0;
  return drop;
}

/* Column check of one prefilter hit ending at pos, in the line starting at
 * `start`: the (rule, group) bits of mask whose literals must sit in one
 * column are kept only when the hit's column (space-separated token) is
 * that column and its whole value matches none of the rule's vetoes.
 * Sound because such a column is one token (it comes before the user agent,
 * the one column the reader lets hold spaces): a line the rule matches has
 * a literal of each group inside that column, whose value the vetoes reject.
 * Tokens are counted forward from the last hit of the same line, so a long
 * line costs its length once, however many hits it has. */
static uint64_t col_check(exhi_lr_scan *s, size_t start, size_t pos, uint64_t mask) {
  const char *b = s->block;
  if (s->tk_line == start && pos + 1 < s->tk_pos) return mask; /* out of order: no check */
  if (s->tk_line != start) {
    s->tk_line = start;
    s->tk_pos = start;
    s->tk_idx = -1;
    s->tk_in = 0;
    s->tk_a = start;
  }
  size_t i = s->tk_pos;
#if defined(__SSE2__)
  /* 16 bytes at a time: a token starts at each non-space byte that follows
   * a space (or the line start, when not already inside a token). */
  const __m128i sp = _mm_set1_epi8(' ');
  for (; i + 16 <= pos + 1; i += 16) {
    unsigned m = (unsigned)_mm_movemask_epi8(
        _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)(b + i)), sp));
    unsigned starts = ~m & ((m << 1) | (s->tk_in ? 0u : 1u)) & 0xffffu;
    if (starts) {
      s->tk_idx += (int)pop64(starts);
      s->tk_a = i + 31 - (size_t)__builtin_clz(starts);
    }
    s->tk_in = !(m & 0x8000u);
  }
#endif
  for (; i <= pos; i++) {
    if (b[i] == ' ') s->tk_in = 0;
    else if (!s->tk_in) {
      s->tk_in = 1;
      s->tk_idx++;
      s->tk_a = i;
    }
  }
  if (pos + 1 > s->tk_pos) s->tk_pos = pos + 1;
  if (!s->tk_in) return mask; /* a hit ending on a space: no literal does */
  uint64_t keep = mask & ~s->col_bits, chk = mask & s->col_bits, vet = 0;
  for (uint64_t m = chk; m; m &= m - 1) {
    int bit = __builtin_ctzll(m);
    if (s->bit_col[bit] != s->tk_idx) continue;
    keep |= 1ull << bit;
    if (s->ks->n_veto[bit]) vet |= 1ull << bit;
  }
  if (!vet) return keep;
  if (s->vt_block == b && s->vt_a == s->tk_a) return keep & ~s->vt_drop;
  /* The whole token, bounded: a longer value is not vetoed (kept). */
  size_t a = s->tk_a, e = pos;
  size_t lim = a + MEMO_VAL_MAX < s->block_len ? a + MEMO_VAL_MAX + 1 : s->block_len;
  /* As the reader splits: on spaces only (a CR inside a value is part of
   * it); CRs end a value only where they end the line. */
  while (e < lim && b[e] != ' ' && b[e] != '\n') e++;
  if (e - a > MEMO_VAL_MAX) return keep;
  if (e == s->block_len || b[e] == '\n')
    while (e > a && b[e - 1] == '\r') e--;
  const char *v = b + a;
  size_t vlen = e - a;
  if (vlen == 1 && v[0] == '-') vlen = 0; /* W3C's empty value */
  uint64_t drop = vetoed(s, vet, v, vlen, s->scratch2);
  if (s->hs_err) return keep;
  s->vt_block = b;
  s->vt_a = a;
  s->vt_drop = drop;
  return keep & ~drop;
}

static int on_prefilter(unsigned id, unsigned long long from, unsigned long long to,
                        unsigned flags, void *c) {
  (void)from, (void)flags;
  exhi_lr_scan *s = c;
  if (id == EXHI_HS_SENTINEL_ID) return 0;
  uint64_t mask = s->pm[id];
  size_t pos = to ? (size_t)to - 1 : 0;
  if (pos >= s->block_len) pos = s->block_len ? s->block_len - 1 : 0;
  /* Matches come in end order: one on the last candidate line adds its
   * rules. Only the bytes since that line's start are searched for a line
   * end, and the line's own end is found once, by exhi_lr_prefilter. */
  size_t lo = 0;
  int same = s->n_lines && pos >= s->lines[s->n_lines - 1];
  if (same) lo = s->lines[s->n_lines - 1];
  const char *nl = pos > lo ? memrchr(s->block + lo, '\n', pos - lo) : NULL;
  if (mask & s->col_bits) {
    mask = col_check(s, nl ? (size_t)(nl - s->block) + 1 : lo, pos, mask);
    if (s->hs_err) return 1;
    /* Every bit cleared: the hit serves no rule here. */
    if (!mask) return 0;
  }
  if (same && !nl) {
    s->masks[s->n_lines - 1] |= mask;
    return 0;
  }
  size_t start = nl ? (size_t)(nl - s->block) + 1 : lo;
  if (s->n_lines == s->cap_lines) {
    size_t *q = grow(s->lines, &s->cap_lines, s->n_lines + 1, sizeof *q);
    if (!q) {
      s->oom = 1;
      return 1;
    }
    s->lines = q;
    uint64_t *mq = grow(s->masks, &s->cap_masks, s->cap_lines, sizeof *mq);
    if (!mq) {
      s->oom = 1;
      return 1;
    }
    s->masks = mq;
  }
  if (s->hit_nl != SIZE_MAX) {
    size_t *q = grow(s->lines_nl, &s->cap_lines_nl, s->n_lines + 1, sizeof *q);
    if (!q) {
      s->oom = 1;
      return 1;
    }
    s->lines_nl = q;
    s->lines_nl[s->n_lines] = s->hit_nl;
  }
  s->masks[s->n_lines] = mask;
  s->lines[s->n_lines++] = start;
  return 0;
}

static void bind_cols(exhi_lr_scan *s, const kindset *ks, int k, const exhi_logschema *schema);

int exhi_lr_prefilter_cols_hold(exhi_lr_scan *s, const exhi_logschema *schema) {
  if (!s->col_bits) return 1;
  int kind = schema->kind;
  if (kind < 0 || kind >= EXHI_LOG_KINDS || &s->lr->kinds[kind] != s->ks ||
      schema->syntax != EXHI_SYN_W3C)
    return 0;
  bind_cols(s, s->ks, kind, schema);
  int lim = schema->ua_col >= 0 ? schema->ua_col : EXHI_LOG_MAX_FIELDS - 1;
  for (uint64_t m = s->col_bits; m; m &= m - 1) {
    int bit = __builtin_ctzll(m);
    int col = s->cols[kind][s->ks->bit_field[bit]];
    if (col != s->bit_col[bit] || col < 0 || col >= lim || (size_t)col >= schema->nfields) return 0;
  }
  return 1;
}

/* How much of a kind's first block litscan samples for its fingerprints. */
#define LITSCAN_SAMPLE ((size_t)64 << 10)

/* The thread's litscan for the running kind's prefilter (which = 0) or
 * kw_pre (1), built on first use with the block's start as the sample its
 * fingerprints come from. NULL when that database is not literals alone,
 * or the CPU lacks AVX2: vectorscan serves then. */
static exhi_litscan *lits_for(exhi_lr_scan *s, int which, const char *block, size_t len) {
  size_t k = (size_t)(s->ks - s->lr->kinds);
  if (s->no_litscan || k >= EXHI_LOG_KINDS) return NULL;
  if (s->ls_state[k][which] == 0) {
    const plits *l = which ? &s->ks->kw_lits : &s->ks->pre_lits;
    s->ls_state[k][which] = 2;
    if (l->n && (exhi_litscan_paths() & EXHI_LITSCAN_AVX2)) {
      exhi_litscan_lit v[EXHI_LITSCAN_MAX_LITS];
      for (size_t i = 0; i < l->n; i++)
        v[i] = (exhi_litscan_lit){l->v[i].b, l->v[i].len, l->v[i].caseless, l->v[i].id};
      exh_error e;
      if (exhi_litscan_build(v, l->n, l->hash, 0, block, len < LITSCAN_SAMPLE ? len : LITSCAN_SAMPLE,
                             &s->ls[k][which], &e) == EXH_OK)
        s->ls_state[k][which] = 1;
    }
  }
  return s->ls_state[k][which] == 1 ? s->ls[k][which] : NULL;
}

static int on_litscan(void *ctx, unsigned id, size_t end, size_t nl) {
  exhi_lr_scan *s = ctx;
  s->hit_nl = nl;
  return on_prefilter(id, 0, end, 0, ctx);
}

/* The candidate lines of block[0..len) by the hits of db, the running
 * kind's prefilter (which = 0) or kw_pre (1) (s->pm gives each id's bits),
 * in s->lines and s->masks, in line order. Found by litscan where it can,
 * which counts the block's newlines in the same pass (s->ls_lines). */
static int scan_lines(exhi_lr_scan *s, const hs_database_t *db, int which, const char *block,
                      size_t len, exh_error *err) {
  s->n_lines = 0;
  s->ls_lines = SIZE_MAX;
  s->hit_nl = SIZE_MAX;
  exhi_litscan *ls = lits_for(s, which, block, len);
  if (ls) {
    s->block = block;
    s->block_len = len;
    s->tk_line = (size_t)-1;
    s->vt_block = NULL;
    uint64_t nl = 0;
    int stopped = exhi_litscan_scan(ls, block, len, on_litscan, s, &nl);
    s->hit_nl = SIZE_MAX;
    if (s->oom) return exhi_err(err, EXH_ERR_NOMEM, "rules", 0, -1, "out of memory");
    if (s->hs_err) return exhi_err(err, EXH_ERR_IO, "rules", 0, -1, "vectorscan error %d", (int)s->hs_err);
    if (!stopped) s->ls_lines = (size_t)nl;
  }
  size_t off = ls ? len : 0;
  while (off < len) {
    size_t n = exhi_hs_slice(block + off, len - off);
    s->block = block + off;
    s->block_len = n;
    size_t first = s->n_lines;
    s->tk_line = (size_t)-1;
    s->vt_block = NULL;
    hs_error_t e = hs_scan(db, block + off, (unsigned)n, 0, s->scratch, on_prefilter, s);
    if (s->oom) return exhi_err(err, EXH_ERR_NOMEM, "rules", 0, -1, "out of memory");
    if (s->hs_err) return exhi_err(err, EXH_ERR_IO, "rules", 0, -1, "vectorscan error %d", (int)s->hs_err);
    if (e != HS_SUCCESS) return exhi_err(err, EXH_ERR_IO, "rules", 0, -1, "vectorscan error %d", (int)e);
    for (size_t i = first; i < s->n_lines; i++) s->lines[i] += off;
    off += n;
  }
  /* Matches arrive in end order, which is line order; be sure anyway. */
  int sorted = 1;
  for (size_t i = 1; i < s->n_lines && sorted; i++) sorted = s->lines[i] >= s->lines[i - 1];
  s->lines_sorted_as_found = sorted;
  if (!sorted) {
    /* Rare: insertion order is kept by sorting (start, index) pairs. */
    for (size_t i = 1; i < s->n_lines; i++) {
      size_t a = s->lines[i];
      uint64_t m = s->masks[i];
      size_t j = i;
      while (j > 0 && s->lines[j - 1] > a) {
        s->lines[j] = s->lines[j - 1];
        s->masks[j] = s->masks[j - 1];
        j--;
      }
      s->lines[j] = a;
      s->masks[j] = m;
    }
  }
  return EXH_OK;
}

/* (rule, group) bits -> the rules all of whose groups a line holds. */
static uint64_t rules_of(const kindset *ks, uint64_t bits) {
  uint64_t m = 0;
  for (size_t r = 0; r < ks->n_rules; r++) {
    uint64_t need = ks->need[r];
    if (need && (bits & need) == need) m |= 1ull << (ks->rules[r] % 64);
  }
  return m;
}

static int on_collit(unsigned id, unsigned long long from, unsigned long long to, unsigned flags,
                     void *c) {
  (void)from, (void)to, (void)flags;
  exhi_lr_scan *s = c;
  if (id == EXHI_HS_SENTINEL_ID) return 0;
  s->cm_bits |= s->ks->col_lit_mask[id];
  return 0;
}

/* The memo slot of a value of vlen bytes whose first eight (all of them,
 * zero-padded, when fewer) are a and last eight c8 (0 when fewer), in
 * column key (see cm_slot). */
static inline size_t cm_hash(const exhi_lr_scan *s, int key, uint64_t a, uint64_t c8,
                             size_t vlen) {
  uint64_t h = (a ^ (c8 * 0x9E3779B97F4A7C15ull) ^ ((uint64_t)(unsigned)key << 32 | vlen)) *
               0xbf58476d1ce4e5b9ull;
  return (size_t)(h >> (64 - CMEMO_BITS)) & s->cm_mask;
}

/* Column mode's memo slot for column c's value v (last: it ends the line),
 * or NULL when v is too long to be remembered. */
static inline cmemo *cm_slot(exhi_lr_scan *s, int c, const char *v, size_t vlen, int last) {
  if (vlen > MEMO_VAL_MAX) return NULL;
  int key = c + (last ? 1024 : 0);
  /* Runs once per line: the first and last eight bytes and the length.
   * Values alike there only share a slot. */
  uint64_t a = 0, c8 = 0;
  if (vlen >= 8) {
    memcpy(&a, v, 8);
    memcpy(&c8, v + vlen - 8, 8);
  } else {
    for (size_t i = 0; i < vlen; i++) a |= (uint64_t)(unsigned char)v[i] << (8 * i);
  }
  return &s->cmemo[cm_hash(s, key, a, c8, vlen)];
}

/* Whether a[0..n) == b[0..n) for 8 <= n <= 32, in four loads each, which
 * cover every byte: memcmp's call costs more, once per line. */
static inline int same_8_32(const char *a, const char *b, size_t n) {
  uint64_t x[4], y[4];
  size_t mid = n > 16 ? 8 : 0, mid2 = n > 16 ? n - 16 : 0;
  memcpy(&x[0], a, 8), memcpy(&y[0], b, 8);
  memcpy(&x[1], a + n - 8, 8), memcpy(&y[1], b + n - 8, 8);
  memcpy(&x[2], a + mid, 8), memcpy(&y[2], b + mid, 8);
  memcpy(&x[3], a + mid2, 8), memcpy(&y[3], b + mid2, 8);
  return ((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) | (x[3] ^ y[3])) == 0;
}

static inline int cm_hit(const cmemo *m, int c, const char *v, size_t vlen, int last) {
  if (!m || m->len != vlen || m->col != c + (last ? 1024 : 0)) return 0;
  return vlen >= 8 && vlen <= 32 ? same_8_32(m->val, v, vlen) : !memcmp(m->val, v, vlen);
}

/* The bits of `want` that column c's value v keeps, given found: the bits
 * its literals set. Those of a rule with a veto matching all of v are
 * cleared. Remembered in slot m (NULL: not). */
static uint64_t cm_finish(exhi_lr_scan *s, int c, uint64_t want, const char *v, size_t vlen,
                          int last, uint64_t found, cmemo *m) {
  uint64_t bits = found & want, vet = 0;
  /* A longer value is not vetoed, as by col_check (its candidates). */
  for (uint64_t b = vlen <= MEMO_VAL_MAX ? bits : 0; b; b &= b - 1)
    if (s->ks->n_veto[__builtin_ctzll(b)]) vet |= b & -b;
  if (vet) {
    /* The value as col_check reads it: CRs end it only at the line end. */
    size_t dl = vlen;
    if (last)
      while (dl > 0 && v[dl - 1] == '\r') dl--;
    if (dl == 1 && v[0] == '-') dl = 0; /* W3C's empty value */
    uint64_t drop = vetoed(s, vet, v, dl, s->scratch);
    if (s->hs_err) return want;
    bits &= ~drop;
  }
  if (m) {
    m->bits = bits;
    m->len = (uint32_t)vlen;
    m->col = c + (last ? 1024 : 0);
    m->dead = !bits || !rules_of(s->ks, bits | s->cm_later);
    memcpy(m->val, v, vlen);
  }
  return bits;
}

/* The bits of `want` (those bound to column c) that column c's value v
 * (raw bytes; last: it ends the line) sets: a literal of the bit's group
 * in it, and no veto of the bit's rule matching all of it. The same answer
 * as col_check gives each hit in the column, remembered per value. */
static uint64_t col_value_bits(exhi_lr_scan *s, int c, uint64_t want, const char *v, size_t vlen,
                               int last) {
  cmemo *m = cm_slot(s, c, v, vlen, last);
  if (cm_hit(m, c, v, vlen, last)) return m->bits;
  s->cm_bits = 0;
  if (vlen) {
    hs_error_t e = hs_scan(s->ks->col_lits, v, (unsigned)vlen, 0, s->scratch, on_collit, s);
    if (e != HS_SUCCESS) {
      s->hs_err = e;
      return want;
    }
  }
  return cm_finish(s, c, want, v, vlen, last, s->cm_bits, m);
}

/* A line column mode holds back: a candidate met after a waiting line, or
 * a line waiting for the scan of its value (q >= 0). */
typedef struct cpend {
  size_t a, b;     /* the line */
  uint64_t have;   /* its bits, before the value's */
  uint64_t want;   /* the value's column's bits */
  const char *v;   /* the value, in the block */
  uint32_t vlen;
  int c, last;     /* its column; whether it ends the line */
  int q;           /* its index in the batch; -1: a candidate as it is */
} cpend;

/* A batch holds at most this many bytes of values, and this many lines. */
#define QB_MAX (256u << 10)
#define PEND_MAX 8192u

static int on_batch(unsigned id, unsigned long long from, unsigned long long to, unsigned flags,
                    void *c) {
  (void)from, (void)flags;
  exhi_lr_scan *s = c;
  if (id == EXHI_HS_SENTINEL_ID) return 0;
  /* The value holding the match's last byte: the first ending after it. */
  size_t lo = 0, hi = s->n_q, at = to ? (size_t)to - 1 : 0;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (s->q_end[mid] <= at) lo = mid + 1;
    else hi = mid;
  }
  if (lo < s->n_q) s->q_bits[lo] |= s->ks->col_lit_mask[id];
  return 0;
}

/* Scans the waiting values at once and passes the held lines on in order. */
static int cm_flush(exhi_lr_scan *s, exhi_lr_line_cb cb, void *ctx, exh_error *err) {
  if (s->n_q) {
    memset(s->q_bits, 0, s->n_q * sizeof *s->q_bits);
    hs_error_t e = hs_scan(s->ks->col_lits, s->qb, (unsigned)s->qb_len, 0, s->scratch, on_batch, s);
    if (e != HS_SUCCESS) s->hs_err = e;
  }
  int rc = EXH_OK;
  for (size_t i = 0; i < s->n_pend && !rc && !s->hs_err; i++) {
    const cpend *p = &s->pend[i];
    uint64_t have = p->have;
    if (p->q >= 0)
      have |= cm_finish(s, p->c, p->want, p->v, p->vlen, p->last, s->q_bits[p->q], NULL);
    uint64_t m = p->q >= 0 ? rules_of(s->ks, have) : have;
    if (m) rc = cb(ctx, p->a, p->b, m);
  }
  s->n_pend = 0;
  s->n_q = 0;
  s->qb_len = 0;
  if (s->hs_err)
    return exhi_err(err, EXH_ERR_IO, "rules", 0, -1, "vectorscan error %d", (int)s->hs_err);
  return rc;
}

/* Holds a line back: p->q < 0 a candidate with its rules in p->have, else
 * one whose value p->v joins the batch. */
static int cm_hold(exhi_lr_scan *s, cpend *p, exhi_lr_line_cb cb, void *ctx, exh_error *err) {
  if (s->n_pend == PEND_MAX || (p->q >= 0 && s->qb_len + p->vlen + 1 > QB_MAX)) {
    int rc = cm_flush(s, cb, ctx, err);
    if (rc) return rc;
  }
  if (p->q >= 0) {
    char *qb = grow(s->qb, &s->qb_cap, s->qb_len + p->vlen + 1, 1);
    size_t *qe = qb ? grow(s->q_end, &s->cap_q, s->n_q + 1, sizeof *qe) : NULL;
    if (qe) s->q_end = qe;
    uint64_t *qbits = qe ? grow(s->q_bits, &s->cap_qbits, s->n_q + 1, sizeof *qbits) : NULL;
    if (qb) s->qb = qb;
    if (!qbits) return exhi_err(err, EXH_ERR_NOMEM, "rules", 0, -1, "out of memory");
    s->q_bits = qbits;
    memcpy(s->qb + s->qb_len, p->v, p->vlen);
    s->qb_len += p->vlen;
    s->q_end[s->n_q] = s->qb_len;
    s->qb[s->qb_len++] = '\n';
    p->q = (int)s->n_q++;
  }
  cpend *pe = grow(s->pend, &s->cap_pend, s->n_pend + 1, sizeof *pe);
  if (!pe) return exhi_err(err, EXH_ERR_NOMEM, "rules", 0, -1, "out of memory");
  s->pend = pe;
  s->pend[s->n_pend++] = *p;
  return EXH_OK;
}

/* Where a line's tokenizing stands: the next byte, the index of the last
 * token started (-1: none), whether that byte is inside it. */
typedef struct toks {
  size_t i;
  int idx, in;
} toks;

#ifdef HAVE_AVX2_WALK
/* exhi_eq64_sse2 in two loads instead of four: the column walk's main cost.
 * Inlined only into column mode's AVX2 walk (colmode_walk_avx2). */
__attribute__((target("avx2"))) static inline uint64_t eq64_avx2(const char *p, char c) {
  const __m256i v = _mm256_set1_epi8(c);
  return (uint64_t)(uint32_t)_mm256_movemask_epi8(
             _mm256_cmpeq_epi8(_mm256_loadu_si256((const __m256i *)(const void *)p), v)) |
         (uint64_t)(uint32_t)_mm256_movemask_epi8(
             _mm256_cmpeq_epi8(_mm256_loadu_si256((const __m256i *)(const void *)(p + 32)), v))
             << 32;
}
#define EQ64(avx2, p, c) ((avx2) ? eq64_avx2(p, c) : exhi_eq64_sse2(p, c))
#endif

/* Bit i set when p[i] == q[i], for i < 64; both 64 bytes readable. */
static inline uint64_t same64_sse2(const char *p, const char *q) {
#if defined(__SSE2__)
#define SAME16(k)                                                                                  \
  ((uint64_t)(unsigned)_mm_movemask_epi8(                                                         \
       _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)(p + 16 * (k))),             \
                      _mm_loadu_si128((const __m128i *)(const void *)(q + 16 * (k)))))            \
   << (16 * (k)))
  return SAME16(0) | SAME16(1) | SAME16(2) | SAME16(3);
#undef SAME16
#else
  uint64_t m = 0;
  for (int k = 0; k < 64; k++) m |= (uint64_t)(p[k] == q[k]) << k;
  return m;
#endif
}

#ifdef HAVE_AVX2_WALK
__attribute__((target("avx2"))) static inline uint64_t same64_avx2(const char *p, const char *q) {
#define SAME32(k)                                                                                  \
  ((uint64_t)(uint32_t)_mm256_movemask_epi8(                                                       \
       _mm256_cmpeq_epi8(_mm256_loadu_si256((const __m256i *)(const void *)(p + 32 * (k))),       \
                         _mm256_loadu_si256((const __m256i *)(const void *)(q + 32 * (k)))))      \
   << (32 * (k)))
  return SAME32(0) | SAME32(1);
#undef SAME32
}
#define SAME64(avx2, p, q) ((avx2) ? same64_avx2(p, q) : same64_sse2(p, q))
#else
#define EQ64(avx2, p, c) exhi_eq64_sse2(p, c)
#define SAME64(avx2, p, q) same64_sse2(p, q)
#endif

/* The offsets of the newlines in p[0..n) (n <= NL_CHUNK) into out, in
 * order; returns how many. A log line is longer than 32 bytes, so 64 bytes
 * hold at most two line ends but for a rare short line: those two are
 * taken without a branch, where a loop over each 64 bytes' line ends would
 * miss its exit at every line. */
static inline __attribute__((always_inline)) size_t nl_offsets(const char *p, size_t n,
                                                                uint32_t *out, int avx2) {
  size_t k = 0, i = 0;
  for (; i + 64 <= n; i += 64) {
    uint64_t w = EQ64(avx2, p + i, '\n');
    /* out[k] is written whether or not there is a line end: k <= i < n. */
    out[k] = (uint32_t)(i + (size_t)__builtin_ctzll(w | 1ull << 63));
    k += w != 0;
    w &= w - 1;
    out[k] = (uint32_t)(i + (size_t)__builtin_ctzll(w | 1ull << 63));
    k += w != 0;
    w &= w - 1;
    for (; w; w &= w - 1) out[k++] = (uint32_t)(i + (size_t)__builtin_ctzll(w));
  }
  for (; i < n; i++)
    if (p[i] == '\n') out[k++] = (uint32_t)i;
  return k;
}

/* Tokenizes p[0..n) on from t until token `want` has ended or the line
 * has: the space-separated tokens, counted as col_check counts them. Sets
 * st[want] and en[want] when the line has that token (t->idx >= want).
 * p[0..avail) is readable (avail >= n): 64 bytes are looked at a time
 * while they are, so most lines' tokens up to the path take one look. */
static inline __attribute__((always_inline)) void
line_tokens(const char *p, size_t n, size_t avail, toks *t, int want, uint32_t *st, uint32_t *en,
            int avx2) {
  size_t i = t->i;
  int idx = t->idx, in = t->in;
  for (; i < n && avail - i >= 64; i += 64) {
    uint64_t valid = n - i >= 64 ? ~0ull : (1ull << (n - i)) - 1;
    uint64_t sp = EQ64(avx2, p + i, ' ') & valid, ns = ~sp & valid;
    /* Token starts: a non-space after a space (or the line's start). */
    uint64_t starts = ns & ((sp << 1) | (in ? 0u : 1u));
    if (idx < want) {
      uint64_t s2 = starts;
      for (int k = want - idx - 1; k > 0 && s2; k--) s2 &= s2 - 1;
      if (!s2) {
        idx += (int)pop64(starts);
        in = n - i > 64 ? !(sp >> 63) : 0;
        continue;
      }
      unsigned j = (unsigned)__builtin_ctzll(s2);
      idx = want;
      st[want] = (uint32_t)(i + j);
      sp &= ~0ull << j;
    }
    /* Inside token `want`: it ends at the next space, or the line's end. */
    if (sp) {
      size_t e = i + (size_t)__builtin_ctzll(sp);
      en[want] = (uint32_t)e;
      *t = (toks){e + 1, want, 0};
      return;
    }
    if (n - i <= 64) {
      en[want] = (uint32_t)n;
      *t = (toks){n, want, 0};
      return;
    }
    in = 1;
  }
  for (; i < n; i++) {
    if (p[i] == ' ') {
      if (in && idx == want) {
        en[idx] = (uint32_t)i;
        *t = (toks){i + 1, idx, 0};
        return;
      }
      in = 0;
    } else if (!in) {
      in = 1;
      if (++idx == want) st[idx] = (uint32_t)i;
    }
  }
  if (in && idx == want) en[idx] = (uint32_t)n;
  *t = (toks){n, idx, 0};
}

/* What a column mode walk knows before its first line: the columns it
 * reads, in order, with the bits of each, those wanted on every line
 * whatever it holds (always), and whether the first of them is read by
 * the fast path (colmode_fast; later: the bits of the others). */
typedef struct cwalk {
  const int *cols;
  const uint64_t *colbits;
  int ncols, fast;
  uint64_t later;
  unsigned char always[64];
  /* The needles of the batched last column's bits (see kindset), when
   * there are at most four of them (n_needles >= 0). */
  int n_needles;
  char needles[4];
  /* The fast path also reads the next column: the last and batched one,
   * right after the first, with needles. */
  int fast_next;
} cwalk;

/* Whether v[0..vlen) holds one of w's needles; v[0..avail) is readable. */
static inline __attribute__((always_inline)) int has_needle(const cwalk *w, const char *v,
                                                             size_t vlen, size_t avail, int avx2) {
  for (size_t i = 0; i < vlen; i += 64) {
    uint64_t hit = 0;
    if (avail - i >= 64) {
      for (int k = 0; k < w->n_needles; k++) hit |= EQ64(avx2, v + i, w->needles[k]);
    } else {
      for (size_t j = 0; i + j < vlen; j++)
        for (int k = 0; k < w->n_needles; k++) hit |= (uint64_t)(v[i + j] == w->needles[k]) << j;
    }
    if (vlen - i < 64) hit &= (1ull << (vlen - i)) - 1;
    if (hit) return 1;
  }
  return 0;
}

/* Where a line's first column stands after the fast path. */
enum { FAST_NO, FAST_DONE, FAST_ON };

/* The fast path of a line's first column (w->cols[0], wanted on every
 * line): most lines' answer is "no rule can match", from one or two
 * 64-byte looks for spaces and a memo probe without a call or a loop.
 * FAST_NO: not taken (the column is not where those looks see it, or its
 * value is new to the memo); the line is read as usual. FAST_DONE: no
 * rule can match even with every bit of the later columns. FAST_ON: the
 * first column's bits are in *have and *t stands after it, as
 * line_tokens and col_value_bits leave them. line[0..128) is readable. */
static inline __attribute__((always_inline)) int colmode_fast(exhi_lr_scan *s, const cwalk *w,
                                                               const char *line, size_t n,
                                                               size_t avail, uint64_t *have,
                                                               toks *t, int avx2) {
  int c0 = w->cols[0];
  uint64_t lm = n >= 64 ? ~0ull : (1ull << n) - 1;
  uint64_t sp = EQ64(avx2, line, ' ') & lm;
  /* Token starts as line_tokens counts them: a non-space after a space
   * or at the line's start. The c0-th of them, counting from 0. */
  uint64_t starts = ~sp & ((sp << 1) | 1) & lm;
  for (int k = c0; k > 0; k--) starts &= starts - 1;
  if (!starts) return FAST_NO;
  size_t s0 = (size_t)__builtin_ctzll(starts), e0;
  uint64_t after = sp & (~0ull << s0);
  if (after) {
    e0 = (size_t)__builtin_ctzll(after);
  } else if (n <= 64) {
    e0 = n;
  } else {
    uint64_t sp2 = EQ64(avx2, line + 64, ' ') & (n >= 128 ? ~0ull : (1ull << (n - 64)) - 1);
    if (sp2) e0 = 64 + (size_t)__builtin_ctzll(sp2);
    else if (n <= 128) e0 = n;
    else return FAST_NO;
  }
  /* The value is compared in one 64-byte look (s0 < 64: it is readable). */
  size_t vlen = e0 - s0;
  if (vlen > 64) return FAST_NO;
  const char *v = line + s0;
  int last = e0 == n, key = c0 + (last ? 1024 : 0);
  /* cm_slot's hash: the first eight bytes (fewer, zero-padded) and the
   * last eight. */
  uint64_t x, c8 = 0;
  memcpy(&x, v, 8);
  if (vlen < 8) x &= (1ull << (8 * vlen)) - 1;
  else memcpy(&c8, v + vlen - 8, 8);
  const cmemo *m = &s->cmemo[cm_hash(s, key, x, c8, vlen)];
  uint64_t vm = vlen == 64 ? ~0ull : (1ull << vlen) - 1;
  if (m->len != vlen || m->col != key || (~SAME64(avx2, v, m->val) & vm)) return FAST_NO;
  uint64_t hb = *have | m->bits;
  if (*have ? !rules_of(s->ks, hb | w->later) : m->dead) return FAST_DONE;
  *have = hb;
  *t = e0 < n ? (toks){e0 + 1, c0, 0} : (toks){n, c0, 0};
  if (w->fast_next && e0 + 1 < n && line[e0 + 1] != ' ') {
    /* The next column, the batched last one (a query string), right
     * after a space: without a needle it sets no bit, wanted or not (see
     * colmode_line), and the line's rules are those of the first. A value
     * with a needle, or one past what may be read, goes the general way. */
    for (size_t i = e0 + 1;; i += 64) {
      if (avail - i < 64) return FAST_ON;
      uint64_t lim = n - i >= 64 ? ~0ull : (1ull << (n - i)) - 1;
      uint64_t spm = EQ64(avx2, line + i, ' ') & lim, nd = 0;
      for (int k = 0; k < w->n_needles; k++) nd |= EQ64(avx2, line + i, w->needles[k]);
      uint64_t in = spm ? (spm & -spm) - 1 : lim; /* the value's bytes here */
      if (nd & in) return FAST_ON;
      if (spm || n - i <= 64) break;
    }
    return rules_of(s->ks, hb) ? FAST_ON : FAST_DONE;
  }
  return FAST_ON;
}

/* Column mode's reading of the line block[a..b): its candidate passed to
 * cb (or held back, see cm_hold), or nothing. *ki: the first of the
 * keyword scan's lines (s->lines) not before a. */
static inline __attribute__((always_inline)) int
colmode_line(exhi_lr_scan *s, const cwalk *w, const char *block, size_t len, size_t a, size_t b,
             size_t *ki, exhi_lr_line_cb cb, void *ctx, exh_error *err, int avx2) {
  const kindset *ks = s->ks;
  const char *line = block + a;
  size_t n = b - a;
  uint64_t have = 0;
  while (*ki < s->n_lines && s->lines[*ki] < a) (*ki)++;
  while (*ki < s->n_lines && s->lines[*ki] == a) have |= s->masks[(*ki)++];
  if (n && line[0] == '#') {
    int rc = s->n_pend ? cm_flush(s, cb, ctx, err) : EXH_OK;
    return rc ? rc : cb(ctx, a, b, 0);
  }
  uint64_t known = ~s->col_bits;
  toks t = {0, -1, 0};
  int ci = 0;
  if (w->fast && n && len - a >= 128) {
    int f = colmode_fast(s, w, line, n, len - a, &have, &t, avx2);
    if (f == FAST_DONE) return EXH_OK;
    if (f == FAST_ON) {
      known |= w->colbits[0];
      ci = 1;
    }
  }
  uint32_t st[EXHI_LOG_MAX_FIELDS], en[EXHI_LOG_MAX_FIELDS];
  int held = 0;
  for (; ci < w->ncols; ci++) {
    /* Wanted while a rule needing the column may still match. */
    int wanted = w->always[ci];
    for (size_t r = 0; r < ks->n_rules && !wanted; r++) {
      uint64_t need = ks->need[r];
      wanted = (need & w->colbits[ci]) && !(need & known & ~have);
    }
    known |= w->colbits[ci];
    if (!wanted) continue;
    int c = w->cols[ci];
    line_tokens(line, n, len - a, &t, c, st, en, avx2);
    if (t.idx < c) break; /* the line has no such column, nor later ones */
    const char *v = line + st[c];
    size_t vlen = en[c] - st[c];
    int last = en[c] == n;
    if (ci == w->ncols - 1 && ks->col_batch && vlen) {
      /* The last column: a value not remembered (a query string, never
       * the same twice) waits for the batch's one scan, unless it holds
       * none of the needles: then none of its literals, and it sets no
       * bit (as cm_finish would find). */
      if (w->n_needles >= 0 && !has_needle(w, v, vlen, len - a - st[c], avx2)) break;
      cmemo *mm = cm_slot(s, c, v, vlen, last);
      if (cm_hit(mm, c, v, vlen, last)) {
        have |= mm->bits;
      } else {
        cpend p = {a, b, have, w->colbits[ci], v, (uint32_t)vlen, c, last, 0};
        int rc = cm_hold(s, &p, cb, ctx, err);
        if (rc) return rc;
        held = 1;
      }
      break;
    }
    have |= col_value_bits(s, c, w->colbits[ci], v, vlen, last);
    if (s->hs_err)
      return exhi_err(err, EXH_ERR_IO, "rules", 0, -1, "vectorscan error %d", (int)s->hs_err);
  }
  uint64_t m = held ? 0 : rules_of(ks, have);
  if (!m) return EXH_OK;
  cpend p = {a, b, m, 0, NULL, 0, 0, 0, -1};
  return s->n_pend ? cm_hold(s, &p, cb, ctx, err) : cb(ctx, a, b, m);
}

/* Column mode's walk over the lines of a block (see colmode_prefilter),
 * once per instruction set: avx2 is a constant in each. */
static inline __attribute__((always_inline)) int
colmode_walk(exhi_lr_scan *s, const char *block, size_t len, const int *cols,
             const uint64_t *colbits, int ncols, exhi_lr_line_cb cb, void *ctx, exh_error *err,
             int avx2) {
  const kindset *ks = s->ks;
  cwalk w = {cols, colbits, ncols, 0, 0, {0}};
  /* Columns wanted on every line whatever it holds: one a rule needs
   * that has no other group known by then (the web shell rule's path).
   * Found once here, not per line. */
  uint64_t known = ~s->col_bits;
  for (int ci = 0; ci < ncols; ci++) {
    for (size_t r = 0; r < ks->n_rules && !w.always[ci]; r++)
      w.always[ci] = (ks->need[r] & colbits[ci]) && !(ks->need[r] & known);
    known |= colbits[ci];
  }
  /* The fast path reads the first column when every line wants it and
   * only it: then a line whose first column rules every rule out is done
   * (the rules of the later columns need a bit of an earlier one). */
  w.fast = ncols > 0 && w.always[0] && !s->no_fast;
  for (int ci = 1; ci < ncols; ci++) {
    if (w.always[ci]) w.fast = 0;
    w.later |= colbits[ci];
  }
  /* The last column's needles, for a batch's values: its bits' field's. */
  w.n_needles = -1;
  if (ncols > 0 && ks->col_batch && !s->no_fast) {
    int f = ks->bit_field[__builtin_ctzll(colbits[ncols - 1])];
    for (uint64_t b = colbits[ncols - 1]; b; b &= b - 1)
      if (ks->bit_field[__builtin_ctzll(b)] != f) f = -1;
    if (f >= 0 && f < 64 && ks->n_needles[f] >= 0) {
      w.n_needles = ks->n_needles[f];
      memcpy(w.needles, ks->needles[f], sizeof w.needles);
    }
  }
  w.fast_next = w.fast && ncols == 2 && cols[1] == cols[0] + 1 && w.n_needles >= 0;
  size_t ki = 0, ends = 0, a = 0;
  uint32_t *nl = s->nl_at;
  for (size_t c = 0; c < len; c += NL_CHUNK) {
    size_t k = nl_offsets(block + c, len - c < NL_CHUNK ? len - c : NL_CHUNK, nl, avx2);
    ends += k;
    for (size_t j = 0; j < k; j++) {
      size_t b = c + nl[j];
      int rc = colmode_line(s, &w, block, len, a, b, &ki, cb, ctx, err, avx2);
      if (rc) return rc;
      a = b + 1;
    }
  }
  if (a < len) {
    int rc = colmode_line(s, &w, block, len, a, len, &ki, cb, ctx, err, avx2);
    if (rc) return rc;
  }
  s->cm_line_ends = ends;
  return s->n_pend ? cm_flush(s, cb, ctx, err) : EXH_OK;
}

static int colmode_walk_sse2(exhi_lr_scan *s, const char *block, size_t len, const int *cols,
                             const uint64_t *colbits, int ncols, exhi_lr_line_cb cb, void *ctx,
                             exh_error *err) {
  return colmode_walk(s, block, len, cols, colbits, ncols, cb, ctx, err, 0);
}

#ifdef HAVE_AVX2_WALK
__attribute__((target("avx2"))) static int
colmode_walk_avx2(exhi_lr_scan *s, const char *block, size_t len, const int *cols,
                  const uint64_t *colbits, int ncols, exhi_lr_line_cb cb, void *ctx,
                  exh_error *err) {
  return colmode_walk(s, block, len, cols, colbits, ncols, cb, ctx, err, 1);
}
#endif

/* Column mode: the prefilter of a W3C block whose field-bound bits all
 * bind to columns before the user agent. Their literals are common in
 * legitimate requests ("/owa/auth/", ".aspx", "autodiscover.json"), so
 * scanning raw lines for them costs a hit, a line search and a column
 * check per request. Here every line's few needed columns are found, and
 * each value's bits come from the memo (web servers answer a few dozen
 * paths). A column is looked at only while a rule that needs it can still
 * match: a query string (never the same twice) is scanned only on lines
 * whose path has the rule's literal, and then with the other lines' such
 * values in one scan (cm_hold). The other bits' literals (keywords that
 * may sit anywhere) are still found by scanning raw lines. The candidates
 * are exactly those of the scan with column checks. */
static int colmode_prefilter(exhi_lr_scan *s, const char *block, size_t len, exhi_lr_line_cb cb,
                             void *ctx, exh_error *err) {
  const kindset *ks = s->ks;
  int cols[64], ncols = 0;
  uint64_t colbits[64];
  for (uint64_t b = s->col_bits; b; b &= b - 1) {
    int bit = __builtin_ctzll(b), c = s->bit_col[bit], j = 0;
    while (j < ncols && cols[j] < c) j++;
    if (j == ncols || cols[j] != c) {
      memmove(cols + j + 1, cols + j, (size_t)(ncols - j) * sizeof *cols);
      memmove(colbits + j + 1, colbits + j, (size_t)(ncols - j) * sizeof *colbits);
      cols[j] = c;
      colbits[j] = 0;
      ncols++;
    }
    colbits[j] |= 1ull << bit;
  }
  /* A value's bits hold for one kind and binding. */
  if (s->cm_ks != ks || s->cm_ncols != ncols ||
      memcmp(s->cm_cols, cols, (size_t)ncols * sizeof *cols) ||
      memcmp(s->cm_colbits, colbits, (size_t)ncols * sizeof *colbits)) {
    for (size_t i = 0; i < CMEMO_SLOTS; i++) s->cmemo[i].len = UINT32_MAX;
    s->cm_ks = ks;
    s->cm_ncols = ncols;
    memcpy(s->cm_cols, cols, (size_t)ncols * sizeof *cols);
    memcpy(s->cm_colbits, colbits, (size_t)ncols * sizeof *colbits);
    s->cm_later = 0;
    for (int ci = 1; ci < ncols; ci++) s->cm_later |= colbits[ci];
  }
  s->n_lines = 0;
  if (ks->kw_pre) {
    s->pm = ks->kw_pre_mask;
    int rc = scan_lines(s, ks->kw_pre, 1, block, len, err);
    if (rc) return rc;
  }
#ifdef HAVE_AVX2_WALK
  if (!s->no_avx2 && __builtin_cpu_supports("avx2"))
    return colmode_walk_avx2(s, block, len, cols, colbits, ncols, cb, ctx, err);
#endif
  return colmode_walk_sse2(s, block, len, cols, colbits, ncols, cb, ctx, err);
}

size_t exhi_lr_prefilter_line_ends(const exhi_lr_scan *s) { return s->cm_line_ends; }
size_t exhi_lr_prefilter_line_no(const exhi_lr_scan *s) { return s->cb_nl; }

int exhi_lr_prefilter(exhi_lr_scan *s, const exhi_logschema *schema, const char *block, size_t len,
                      exhi_lr_line_cb cb, void *ctx, exh_error *err) {
  int kind = schema->kind;
  if (kind < 0 || kind >= EXHI_LOG_KINDS) kind = EXHI_LOG_UNKNOWN;
  s->ks = &s->lr->kinds[kind];
  const hs_database_t *db = s->ks->prefilter;
  s->pm = s->ks->pre_mask;
  s->cm_line_ends = SIZE_MAX;
  s->cb_nl = SIZE_MAX;
  s->block = block;
  s->block_len = len;
  s->n_lines = 0;
  s->oom = 0;
  s->hs_err = HS_SUCCESS;
  s->col_bits = 0;
  s->tk_line = (size_t)-1;
  s->vt_block = NULL;
  if (s->ks->field_bits && schema->syntax == EXHI_SYN_W3C) {
    /* Columns up to the user agent are one token each (see split_w3c). */
    bind_cols(s, s->ks, kind, schema);
    int lim = schema->ua_col >= 0 ? schema->ua_col : EXHI_LOG_MAX_FIELDS - 1;
    for (uint64_t m = s->ks->field_bits; m; m &= m - 1) {
      int bit = __builtin_ctzll(m);
      int col = s->cols[kind][s->ks->bit_field[bit]];
      s->bit_col[bit] = col;
      if (col >= 0 && col < lim && (size_t)col < schema->nfields) s->col_bits |= 1ull << bit;
    }
  }
  if (s->col_bits && s->col_bits == s->ks->field_bits && s->ks->col_lits && !s->no_colmode)
    return colmode_prefilter(s, block, len, cb, ctx, err);
  int rc = scan_lines(s, db, 0, block, len, err);
  if (rc) return rc;
  /* Litscan counted each candidate's line on its way: say so (the lines
   * of a sorted list lost their counts' order, so not then). */
  int numbered = s->ls_lines != SIZE_MAX && s->lines_sorted_as_found;
  for (size_t i = 0; i < s->n_lines; i++) {
    size_t a = s->lines[i];
    uint64_t m = s->masks[i];
    s->cb_nl = numbered ? s->lines_nl[i] : SIZE_MAX;
    while (i + 1 < s->n_lines && s->lines[i + 1] == a) m |= s->masks[++i];
    if (s->ks->grouped) {
      m = rules_of(s->ks, m);
      /* Some literals but not all of any rule: not a candidate. */
      if (!m && block[a] != '#') continue;
    }
    const char *e = memchr(block + a, '\n', len - a);
    size_t b = e ? (size_t)(e - block) : len;
    rc = cb(ctx, a, b, m);
    if (rc) return rc;
  }
  s->cm_line_ends = s->ls_lines; /* litscan counted them */
  return EXH_OK;
}

static int on_field(unsigned id, unsigned long long from, unsigned long long to, unsigned flags,
                    void *c) {
  (void)from, (void)flags;
  exhi_lr_scan *s = c;
  if (id == EXHI_HS_SENTINEL_ID) return 0;
  size_t exact = s->lr->pats[id].exact_len;
  if (exact && (to != s->cur_len || s->cur_len != exact)) return 0;
  if (!s->bits[id]) {
    s->bits[id] = 1;
    s->set[s->n_set++] = id;
  }
  return 0;
}

static bool eval_item(const exhi_lr_scan *s, const item *it) {
  const unsigned char *b = s->bits + it->first_pat;
  if (it->all) {
    for (size_t i = 0; i < it->n_pats; i++) if (!b[i]) return false;
    return true;
  }
  for (size_t i = 0; i < it->n_pats; i++) if (b[i]) return true;
  return false;
}

static bool eval_sel(const exhi_lr_scan *s, const sel *se) {
  for (size_t a = 0; a < se->n_alts; a++) {
    bool ok = true;
    for (size_t i = 0; i < se->alts[a].n_items && ok; i++)
      ok = eval_item(s, &s->lr->items[se->alts[a].first_item + i]);
    if (ok) return true;
  }
  return false;
}

static bool eval_node(const exhi_lr_scan *s, const cond *cd, int n) {
  const cnode *nd = &cd->nodes[n];
  switch (nd->op) {
  case C_SEL: return eval_sel(s, &cd->sels[nd->sels[0]]);
  case C_AND: return eval_node(s, cd, nd->a) && eval_node(s, cd, nd->b);
  case C_OR: return eval_node(s, cd, nd->a) || eval_node(s, cd, nd->b);
  case C_NOT: return !eval_node(s, cd, nd->a);
  case C_ONE_OF:
    for (size_t i = 0; i < nd->n_sels; i++) if (eval_sel(s, &cd->sels[nd->sels[i]])) return true;
    return false;
  case C_ALL_OF:
    for (size_t i = 0; i < nd->n_sels; i++) if (!eval_sel(s, &cd->sels[nd->sels[i]])) return false;
    return true;
  default: return false;
  }
}

static void bind_cols(exhi_lr_scan *s, const kindset *ks, int k, const exhi_logschema *schema) {
  /* Column bindings change only with the schema. */
  if (s->schema_of[k] != schema || s->gen[k] != schema->generation) {
    for (size_t f = 0; f < ks->n_fields && f < 64; f++)
      s->cols[k][f] = exhi_lr_field_col(schema, ks->fields[f].field);
    s->schema_of[k] = schema;
    s->gen[k] = schema->generation;
  }
}

size_t exhi_lr_cols_needed(exhi_lr_scan *s, const exhi_logschema *schema, uint64_t mask) {
  int k = schema->kind;
  if (k < 0 || k >= EXHI_LOG_KINDS) return 0;
  const kindset *ks = &s->lr->kinds[k];
  bind_cols(s, ks, k, schema);
  size_t n = 0;
  for (size_t f = 0; f < ks->n_fields && f < 64; f++) {
    int col = s->cols[k][f];
    if (col >= 0 && (ks->field_mask[f] & mask) && (size_t)col + 1 > n) n = (size_t)col + 1;
  }
  return n;
}

int exhi_lr_eval(exhi_lr_scan *s, const exhi_logrec *rec, uint64_t mask, exhi_lr_hit_cb hit,
                 void *ctx, exh_error *err) {
  const exhi_lr *lr = s->lr;
  int k = rec->schema->kind;
  if (k < 0 || k >= EXHI_LOG_KINDS) return EXH_OK;
  const kindset *ks = &lr->kinds[k];
  if (!ks->n_rules) return EXH_OK;
  while (s->n_set) s->bits[s->set[--s->n_set]] = 0;
  bind_cols(s, ks, k, rec->schema);
  for (size_t f = 0; f < ks->n_fields && f < 64; f++) {
    int col = s->cols[k][f];
    if (col < 0 || !(ks->field_mask[f] & mask)) continue;
    size_t vlen;
    const char *v = exhi_logrec_value(rec, col, s->val, EXHI_LR_FIELD_MAX, &vlen);
    if (!v) continue;
    if (vlen > EXHI_LR_FIELD_MAX) vlen = EXHI_LR_FIELD_MAX;
    /* W3C writes '-' for an empty value. */
    if (rec->schema->syntax == EXHI_SYN_W3C && vlen == 1 && v[0] == '-') vlen = 0;
    hs_error_t e = field_scan(s, ks->fields[f].db, v, vlen, s->scratch);
    if (e != HS_SUCCESS) return exhi_err(err, EXH_ERR_IO, "rules", 0, -1, "vectorscan error %d", (int)e);
  }
  if (ks->keywords && (ks->kw_mask & mask)) {
    s->cur_len = rec->len > EXHI_LOG_BLOCK ? EXHI_LOG_BLOCK : rec->len;
    hs_error_t e = hs_scan(ks->keywords, rec->line, (unsigned)(rec->len > EXHI_LOG_BLOCK ? EXHI_LOG_BLOCK : rec->len),
                           0, s->scratch, on_field, s);
    if (e != HS_SUCCESS) return exhi_err(err, EXH_ERR_IO, "rules", 0, -1, "vectorscan error %d", (int)e);
  }
  for (size_t i = 0; i < ks->n_rules; i++) {
    if (!(mask & (1ull << (ks->rules[i] % 64)))) continue;
    const exhi_lr_rule *r = &lr->rules[ks->rules[i]];
    if (!eval_node(s, r->cond, ((const cond *)r->cond)->root)) continue;
    const char *detail = NULL;
    if (r->ioc) {
      const item *it = &lr->items[r->first_item];
      for (size_t p = it->first_pat; p < it->first_pat + it->n_pats && !detail; p++)
        if (s->bits[p]) detail = lr->pats[p].detail;
    }
    int rc = hit(ctx, ks->rules[i], detail);
    if (rc) return rc;
  }
  return EXH_OK;
}
