#define _GNU_SOURCE /* FNM_CASEFOLD */
#include "rules.h"

#include "../readers/csv.h"

#include <ctype.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

void exhi_rule_clear(exhi_rule *r) {
  free(r->id);
  free(r->name);
  free(r->message);
  free(r->action);
  free(r->source);
  free(r->attack_buf);
  memset(r, 0, sizeof *r);
}

/* Splits buf in place at sep; trims blanks; fills at most max pointers.
 * Returns the count, or (size_t)-1 when there are more than max. */
static size_t split(char *buf, char sep, const char **out, size_t max) {
  size_t n = 0;
  char *p = buf;
  while (*p) {
    char *e = strchr(p, sep);
    if (e) *e = '\0';
    char *s = p;
    while (*s == ' ' || *s == '\t') s++;
    size_t l = strlen(s);
    while (l && (s[l - 1] == ' ' || s[l - 1] == '\t')) s[--l] = '\0';
    if (*s) {
      if (n == max) return (size_t)-1;
      out[n++] = s;
    }
    if (!e) break;
    p = e + 1;
  }
  return n;
}

int exhi_rule_set_attack(exhi_rule *r, const char *list) {
  free(r->attack_buf);
  r->attack_buf = strdup(list ? list : "");
  r->n_attack = 0;
  if (!r->attack_buf) return EXH_ERR_NOMEM;
  /* YARA meta separates with ',', the CSV rules with '|' (no quoting). */
  for (char *p = r->attack_buf; *p; p++)
    if (*p == '|') *p = ',';
  size_t n = split(r->attack_buf, ',', r->attack, EXHI_RULE_MAX_ATTACK);
  if (n == (size_t)-1) return EXH_ERR_LIMIT;
  r->n_attack = n;
  return EXH_OK;
}

int exhi_severity_parse(const char *s) {
  static const char *const names[] = {"info", "low", "medium", "high", "critical"};
  for (int i = 0; i < 5; i++)
    if (exhi_ascii_ieq(s, strlen(s), names[i])) return i;
  return -1;
}

/* ---- layout ------------------------------------------------------------- */

#define MAX_COMPONENTS 256

static bool comp_is(const char *s, size_t n, const char *word) { return exhi_ascii_ieq(s, n, word); }

unsigned exhi_layout_classify(const char *path, size_t rel_start) {
  const char *start[MAX_COMPONENTS];
  size_t len[MAX_COMPONENTS];
  size_t n = 0;
  for (const char *p = path; *p && n < MAX_COMPONENTS;) {
    while (*p == '/' || *p == '\\') p++;
    if (!*p) break;
    const char *s = p;
    while (*p && *p != '/' && *p != '\\') p++;
    start[n] = s;
    len[n++] = (size_t)(p - s);
  }
  if (n < 2) return 0;
  size_t dirs = n - 1; /* the last component is the file itself */
  unsigned loc = 0;
#define C(i, w) ((i) < dirs && comp_is(start[i], len[i], w))
  for (size_t i = 0; i < dirs; i++) {
    if (C(i, "frontend") && C(i + 1, "httpproxy")) {
      loc |= EXHI_LOC_HTTPPROXY;
      if (C(i + 2, "owa") && C(i + 3, "auth")) loc |= EXHI_LOC_OWA_AUTH;
      if (C(i + 2, "ecp") && C(i + 3, "auth")) loc |= EXHI_LOC_ECP_AUTH;
      if (C(i + 2, "oab")) loc |= EXHI_LOC_OAB;
    }
    if (C(i, "inetpub") && C(i + 1, "wwwroot")) {
      loc |= EXHI_LOC_WWWROOT;
      if (C(i + 2, "aspnet_client")) loc |= EXHI_LOC_ASPNET_CLIENT;
    }
    if (C(i, "clientaccess")) loc |= EXHI_LOC_CLIENTACCESS;
    if (C(i, "temporary asp.net files")) loc |= EXHI_LOC_TEMP_ASPNET;
    if (C(i, "programdata")) loc |= EXHI_LOC_PROGRAMDATA;
    if (C(i, "windows") && C(i + 1, "temp")) loc |= EXHI_LOC_WINDOWS_TEMP;
    if (C(i, "users") && C(i + 1, "public")) loc |= EXHI_LOC_USERS_PUBLIC;
    if (C(i, "root") && (size_t)(start[i] - path) >= rel_start) loc |= EXHI_LOC_ROOT_DIR;
  }
#undef C
  return loc;
}

static const struct {
  const char *name;
  unsigned mask;
} loc_names[] = {
    {"owa_auth", EXHI_LOC_OWA_AUTH},         {"ecp_auth", EXHI_LOC_ECP_AUTH},
    {"oab", EXHI_LOC_OAB},                   {"httpproxy", EXHI_LOC_HTTPPROXY},
    {"aspnet_client", EXHI_LOC_ASPNET_CLIENT}, {"wwwroot", EXHI_LOC_WWWROOT},
    {"clientaccess", EXHI_LOC_CLIENTACCESS}, {"temp_aspnet", EXHI_LOC_TEMP_ASPNET},
    {"programdata", EXHI_LOC_PROGRAMDATA},   {"windows_temp", EXHI_LOC_WINDOWS_TEMP},
    {"root_dir", EXHI_LOC_ROOT_DIR},         {"users_public", EXHI_LOC_USERS_PUBLIC},
    {"web", EXHI_LOC_WEB},
    {"any", 0},
};

int exhi_layout_parse(const char *text, unsigned *mask) {
  *mask = 0;
  const char *p = text;
  while (*p) {
    const char *e = strchr(p, '|');
    size_t l = e ? (size_t)(e - p) : strlen(p);
    bool found = false;
    for (size_t i = 0; i < EXHI_ARRAY_LEN(loc_names); i++)
      if (exhi_ascii_ieq(p, l, loc_names[i].name)) {
        *mask |= loc_names[i].mask;
        found = true;
      }
    if (!found) return EXH_ERR_PARSE;
    if (!e) break;
    p = e + 1;
  }
  return EXH_OK;
}

bool exhi_name_looks_random(const char *name) {
  const char *dot = strrchr(name, '.');
  size_t n = dot ? (size_t)(dot - name) : strlen(name);
  if (n < 8) return false;
  size_t letters = 0, digits = 0, vowels = 0, switches = 0;
  int prev = 0; /* 1 letter, 2 digit */
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)name[i];
    int kind;
    if (isdigit(c)) {
      digits++;
      kind = 2;
    } else if (isalpha(c)) {
      letters++;
      if (strchr("aeiouyAEIOUY", c)) vowels++;
      kind = 1;
    } else {
      return false; /* words joined by '_', '-', '.' read as names */
    }
    if (prev && kind != prev) switches++;
    prev = kind;
  }
  /* Digits inside letters twice or more (r07azcq5, 8Lw7tAhF9i1pJnRo) but
   * not a word with a number after it (default1, errorpage2). */
  if (letters && digits && switches >= 2) return true;
  /* Letters alone with at most one vowel in four (dvgippna, zxvtlpqt). */
  return digits == 0 && vowels * 4 <= letters;
}

/* ---- path rules --------------------------------------------------------- */

static const char *const columns[] = {"id", "name", "severity", "attack", "where", "names",
                                      "except", "magic", "condition", "message", "action",
                                      "source"};
enum { COL_ID, COL_NAME, COL_SEV, COL_ATTACK, COL_WHERE, COL_NAMES, COL_EXCEPT, COL_MAGIC,
       COL_COND, COL_MESSAGE, COL_ACTION, COL_SOURCE, NCOLS };

static void pathrule_clear(exhi_pathrule *r) {
  exhi_rule_clear(&r->info);
  free(r->globs_buf);
  free(r->except_buf);
  memset(r, 0, sizeof *r);
}

void exhi_pathrules_free(exhi_pathrules *p) {
  if (!p) return;
  for (size_t i = 0; i < p->n; i++) pathrule_clear(&p->rules[i]);
  free(p->rules);
  p->rules = NULL;
  p->n = 0;
}

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = tolower(c);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

static int parse_row(exhi_csv *c, const int *col, exhi_pathrule *r, exh_error *err) {
#define F(k) (col[k] < (int)c->nfields ? c->fields[col[k]] : "")
#define BAD(...) exhi_err(err, EXH_ERR_PARSE, c->name, c->line, -1, __VA_ARGS__)
  if (!*F(COL_ID) || strncmp(F(COL_ID), "exh.files.", 10) != 0)
    return BAD("rule id \"%.64s\" must start with exh.files.", F(COL_ID));
  if (!*F(COL_NAME) || !*F(COL_MESSAGE)) return BAD("a rule needs a name and a message");
  if (!*F(COL_SOURCE)) return BAD("rule %.64s names no source", F(COL_ID));
  int sev = exhi_severity_parse(F(COL_SEV));
  if (sev < 0) return BAD("unknown severity \"%.32s\"", F(COL_SEV));
  r->info.severity = sev;
  r->info.confidence = 80;
  if (exhi_layout_parse(F(COL_WHERE), &r->where) != EXH_OK)
    return BAD("unknown location in \"%.64s\"", F(COL_WHERE));
  const char *cond = F(COL_COND);
  if (!*cond) r->cond = EXHI_COND_NONE;
  else if (!strcmp(cond, "random_name")) r->cond = EXHI_COND_RANDOM_NAME;
  else if (!strcmp(cond, "recent")) r->cond = EXHI_COND_RECENT;
  else return BAD("unknown condition \"%.32s\" (random_name, recent)", cond);
  const char *m = F(COL_MAGIC);
  size_t ml = strlen(m);
  if (ml % 2 || ml / 2 > EXHI_PATHRULE_MAX_MAGIC)
    return BAD("magic must be hex bytes, at most %d", EXHI_PATHRULE_MAX_MAGIC);
  for (size_t i = 0; i < ml; i += 2) {
    int hi = hexval((unsigned char)m[i]), lo = hexval((unsigned char)m[i + 1]);
    if (hi < 0 || lo < 0) return BAD("magic \"%.40s\" is not hex", m);
    r->magic[i / 2] = (unsigned char)(hi << 4 | lo);
  }
  r->magic_len = ml / 2;
  r->info.id = strdup(F(COL_ID));
  r->info.name = strdup(F(COL_NAME));
  r->info.message = strdup(F(COL_MESSAGE));
  r->info.action = *F(COL_ACTION) ? strdup(F(COL_ACTION)) : NULL;
  r->info.source = strdup(F(COL_SOURCE));
  r->globs_buf = strdup(F(COL_NAMES));
  r->except_buf = strdup(F(COL_EXCEPT));
  if (!r->info.id || !r->info.name || !r->info.message || !r->info.source || !r->globs_buf ||
      !r->except_buf || (*F(COL_ACTION) && !r->info.action))
    return exhi_err(err, EXH_ERR_NOMEM, c->name, c->line, -1, "out of memory");
  int rc = exhi_rule_set_attack(&r->info, F(COL_ATTACK));
  if (rc == EXH_ERR_LIMIT) return BAD("more than %d ATT&CK ids", EXHI_RULE_MAX_ATTACK);
  if (rc != EXH_OK) return exhi_err(err, rc, c->name, c->line, -1, "out of memory");
  size_t n = split(r->globs_buf, '|', r->globs, EXHI_PATHRULE_MAX_GLOBS);
  size_t x = split(r->except_buf, '|', r->except, EXHI_PATHRULE_MAX_GLOBS);
  if (n == (size_t)-1 || x == (size_t)-1)
    return BAD("more than %d names in a list", EXHI_PATHRULE_MAX_GLOBS);
  r->n_globs = n;
  r->n_except = x;
  if (!n && !r->magic_len && r->cond == EXHI_COND_NONE && !r->where)
    return BAD("rule %.64s would match every file", F(COL_ID));
  return EXH_OK;
#undef F
#undef BAD
}

int exhi_pathrules_parse(const char *name, const char *text, size_t len, exhi_pathrules *out,
                         exh_error *err) {
  out->rules = NULL;
  out->n = 0;
  if (len > EXHI_PATHRULES_MAX_BYTES)
    return exhi_err(err, EXH_ERR_LIMIT, name, 0, -1, "more than %u bytes", EXHI_PATHRULES_MAX_BYTES);
  exhi_csv *c = malloc(sizeof *c);
  if (!c) return exhi_err(err, EXH_ERR_NOMEM, name, 0, -1, "out of memory");
  exhi_csv_init(c, name, text, len);
  int got = 0, col[NCOLS];
  int rc = exhi_csv_next(c, &got, err);
  if (rc == EXH_OK && !got) rc = exhi_err(err, EXH_ERR_PARSE, name, 0, -1, "no header line");
  for (int k = 0; rc == EXH_OK && k < NCOLS; k++) {
    col[k] = exhi_csv_column(c, columns[k]);
    if (col[k] < 0)
      rc = exhi_err(err, EXH_ERR_PARSE, name, c->line, -1, "no column \"%s\"", columns[k]);
  }
  while (rc == EXH_OK) {
    rc = exhi_csv_next(c, &got, err);
    if (rc != EXH_OK || !got) break;
    if (out->n == EXHI_PATHRULES_MAX_RULES) {
      rc = exhi_err(err, EXH_ERR_LIMIT, name, c->line, -1, "more than %d rules",
                    EXHI_PATHRULES_MAX_RULES);
      break;
    }
    if (!out->n) {
      out->rules = calloc(EXHI_PATHRULES_MAX_RULES, sizeof *out->rules);
      if (!out->rules) {
        rc = exhi_err(err, EXH_ERR_NOMEM, name, 0, -1, "out of memory");
        break;
      }
    }
    exhi_pathrule *r = &out->rules[out->n++];
    rc = parse_row(c, col, r, err);
  }
  free(c);
  if (rc != EXH_OK) exhi_pathrules_free(out);
  return rc;
}

static bool any_glob(const char *const *g, size_t n, const char *name) {
  for (size_t i = 0; i < n; i++)
    if (fnmatch(g[i], name, FNM_CASEFOLD) == 0) return true;
  return false;
}

void exhi_pathrules_eval(const exhi_pathrules *p, const exhi_file_ctx *f,
                         void (*hit)(void *ctx, const exhi_pathrule *r), void *ctx) {
  for (size_t i = 0; i < p->n; i++) {
    const exhi_pathrule *r = &p->rules[i];
    if (r->where && !(r->where & f->loc)) continue;
    if (r->n_globs && !any_glob(r->globs, r->n_globs, f->name)) continue;
    if (r->n_except && any_glob(r->except, r->n_except, f->name)) continue;
    if (r->magic_len &&
        (!f->head || f->head_len < r->magic_len || memcmp(f->head, r->magic, r->magic_len)))
      continue;
    if (r->cond == EXHI_COND_RANDOM_NAME && !exhi_name_looks_random(f->name)) continue;
    if (r->cond == EXHI_COND_RECENT &&
        !(f->dir_files >= EXHI_RECENT_MIN_SIBLINGS &&
          f->mtime_ms - f->dir_median_mtime_ms > EXHI_RECENT_GAP_MS))
      continue;
    hit(ctx, r);
  }
}
