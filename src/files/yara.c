#define _GNU_SOURCE /* O_NOATIME */
#include "yara.h"
#include "core/dl_yara.h" /* libyara, loaded on first use */

#include <dirent.h>
#include <limits.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <hs/hs.h>

/* The bundled rules, generated from rules/yara/ by tools/embed.py
 * (data NUL-terminated). */
extern const exhi_embedded_file exhi_files_yara_blobs[];
extern const size_t exhi_files_yara_count;

typedef struct set {
  YR_RULES *rules;
  exhi_rule *info; /* parallel to rules->rules_table */
  size_t n;
} set;

struct exhi_yara {
  set sets[EXHI_YARA_MAX_SETS];
  size_t n_sets;
  size_t n_rules;
  /* The prefilter of the bundled set (sets[0]): every bundled rule needs
   * one of its literal strings (rules/yara/README.md), so a file holding
   * none of them cannot match and is not given to YARA. NULL: no prefilter
   * (bundled rules off, or a rule without a usable literal). */
  hs_database_t *gate;
};

struct exhi_yara_scanner {
  const exhi_yara *y;
  hs_scratch_t *scratch;
  YR_SCANNER *sc[EXHI_YARA_MAX_SETS];
  size_t cur; /* set being scanned, for the callback */
  void (*on_match)(void *ctx, const exhi_yara_match *m);
  void *ctx;
};

typedef struct compile_ctx {
  exh_error *err;
  int failed;
} compile_ctx;

static void compile_cb(int level, const char *file, int line, const YR_RULE *rule,
                       const char *msg, void *user) {
  (void)rule;
  compile_ctx *c = user;
  if (level != YARA_ERROR_LEVEL_ERROR || c->failed) return;
  c->failed = 1;
  exhi_err(c->err, EXH_ERR_PARSE, file ? file : "YARA rules", line, -1, "%s", msg);
}

static const char *meta_str(const YR_RULE *r, const char *key) {
  const YR_META *m;
  yr_rule_metas_foreach(r, m) {
    if (m->type == META_TYPE_STRING && !strcmp(m->identifier, key)) return m->string;
  }
  return NULL;
}

static char *concat(const char *a, const char *b) {
  size_t n = strlen(a) + strlen(b) + 1;
  char *s = malloc(n);
  if (s) snprintf(s, n, "%s%s", a, b);
  return s;
}

/* The finding info of each rule, from its meta (see rules/yara/README.md). */
static int describe(set *s, exh_error *err) {
  size_t n = 0;
  const YR_RULE *r;
  yr_rules_foreach(s->rules, r) n++;
  s->info = calloc(n ? n : 1, sizeof *s->info);
  if (!s->info) return exhi_err(err, EXH_ERR_NOMEM, NULL, 0, -1, "out of memory");
  s->n = n;
  size_t i = 0;
  yr_rules_foreach(s->rules, r) {
    exhi_rule *d = &s->info[i++];
    const char *id = meta_str(r, "id"), *title = meta_str(r, "title");
    const char *desc = meta_str(r, "description"), *msg = meta_str(r, "message");
    const char *sev = meta_str(r, "severity"), *action = meta_str(r, "action");
    const char *src = meta_str(r, "source");
    if (!src) src = meta_str(r, "reference");
    d->id = id ? strdup(id) : concat("exh.files.yara.", r->identifier);
    d->name = strdup(title ? title : desc ? desc : r->identifier);
    d->message = msg ? strdup(msg) : concat("the file matches YARA rule ", r->identifier);
    d->action = strdup(action ? action
                              : "Examine the file; if it is not legitimate, preserve a copy "
                                "and follow the incident response plan.");
    d->source = strdup(src ? src : "user rule");
    int sv = sev ? exhi_severity_parse(sev) : -1;
    d->severity = sv >= 0 ? sv : EXH_SEV_HIGH;
    d->confidence = id ? 90 : 70;
    if (!d->id || !d->name || !d->message || !d->action || !d->source ||
        exhi_rule_set_attack(d, meta_str(r, "attack")) == EXH_ERR_NOMEM)
      return exhi_err(err, EXH_ERR_NOMEM, NULL, 0, -1, "out of memory");
  }
  return EXH_OK;
}

static int add_set(exhi_yara *y, YR_RULES *rules, exh_error *err) {
  if (y->n_sets == EXHI_YARA_MAX_SETS) {
    yr_rules_destroy(rules);
    return exhi_err(err, EXH_ERR_LIMIT, "--yara", 0, -1, "more than %d compiled rule files",
                    EXHI_YARA_MAX_SETS - 1);
  }
  set *s = &y->sets[y->n_sets++];
  s->rules = rules;
  int rc = describe(s, err);
  y->n_rules += s->n;
  return rc;
}

static bool is_compiled(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char magic[4];
  bool yes = read(fd, magic, 4) == 4 && !memcmp(magic, "YARA", 4);
  close(fd);
  return yes;
}

static bool has_ext(const char *name, const char *ext) {
  size_t n = strlen(name), e = strlen(ext);
  return n > e && exhi_ascii_ieq(name + n - e, e, ext);
}

/* One user file: compiled ones become their own set, sources go to c. */
static int add_user_file(exhi_yara *y, YR_COMPILER *c, compile_ctx *cc, const char *path,
                         int *n_sources, exh_error *err) {
  if (is_compiled(path)) {
    YR_RULES *rules;
    int yrc = yr_rules_load(path, &rules);
    if (yrc != ERROR_SUCCESS)
      return exhi_err(err, EXH_ERR_PARSE, path, 0, -1,
                      "cannot load compiled YARA rules (error %d; compiled by another YARA "
                      "version?)", yrc);
    return add_set(y, rules, err);
  }
  FILE *fp = fopen(path, "r");
  if (!fp) return exhi_err(err, EXH_ERR_IO, path, 0, -1, "cannot open: %s", strerror(errno));
  int errors = yr_compiler_add_file(c, fp, "user", path);
  fclose(fp);
  if (errors || cc->failed) {
    if (!cc->failed) exhi_err(err, EXH_ERR_PARSE, path, 0, -1, "YARA rules do not compile");
    return EXH_ERR_PARSE;
  }
  (*n_sources)++;
  return EXH_OK;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int add_user_dir(exhi_yara *y, YR_COMPILER *c, compile_ctx *cc, const char *dir,
                        int *n_sources, exh_error *err) {
  DIR *d = opendir(dir);
  if (!d) return exhi_err(err, EXH_ERR_IO, dir, 0, -1, "cannot open folder: %s", strerror(errno));
  char **names = NULL;
  size_t n = 0;
  int rc = EXH_OK;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    const char *nm = de->d_name;
    if (nm[0] == '.') continue;
    if (n == EXHI_YARA_MAX_DIR_FILES) {
      rc = exhi_err(err, EXH_ERR_LIMIT, dir, 0, -1, "more than %d files", EXHI_YARA_MAX_DIR_FILES);
      break;
    }
    char **nn = realloc(names, (n + 1) * sizeof *names);
    size_t len = strlen(dir) + strlen(nm) + 2;
    char *p = malloc(len);
    if (!nn || !p) {
      free(p);
      if (nn) names = nn;
      rc = exhi_err(err, EXH_ERR_NOMEM, dir, 0, -1, "out of memory");
      break;
    }
    names = nn;
    snprintf(p, len, "%s/%s", dir, nm);
    names[n++] = p;
  }
  closedir(d);
  if (rc == EXH_OK) qsort(names, n, sizeof *names, cmp_str);
  /* Sorted, so that rule order (and duplicate-name errors) do not depend
   * on the file system's order. */
  for (size_t i = 0; rc == EXH_OK && i < n; i++) {
    struct stat st;
    if (stat(names[i], &st) != 0 || !S_ISREG(st.st_mode)) continue;
    if (has_ext(names[i], ".yar") || has_ext(names[i], ".yara") || is_compiled(names[i]))
      rc = add_user_file(y, c, cc, names[i], n_sources, err);
  }
  for (size_t i = 0; i < n; i++) free(names[i]);
  free(names);
  return rc;
}

/* Literal strings of a set as vectorscan patterns (ASCII and UTF-16LE
 * forms); the gate is left NULL when some rule has no literal to gate on. */
#define GATE_MAX_PATTERNS 4096
#define GATE_MAX_LITERAL 4096

static void build_gate(exhi_yara *y, const set *st) {
  size_t cap = GATE_MAX_PATTERNS;
  char **pats = calloc(cap, sizeof *pats);
  size_t *lens = calloc(cap, sizeof *lens);
  unsigned *flags = calloc(cap, sizeof *flags), *ids = calloc(cap, sizeof *ids);
  size_t n = 0;
  bool ok = pats && lens && flags && ids;
  const YR_RULE *r;
  yr_rules_foreach(st->rules, r) {
    if (!ok) break;
    size_t lits = 0;
    const YR_STRING *str;
    /* Strings named $gate* are the rule's declared necessary literals
     * (rules/yara/README.md): when it has them, only they count, so that a
     * common literal elsewhere in the rule ("<%@") does not open the gate. */
    bool has_gate = false;
    yr_rule_strings_foreach(r, str) {
      if (!strncmp(str->identifier, "$gate", 5)) has_gate = true;
    }
    yr_rule_strings_foreach(r, str) {
      if (has_gate && strncmp(str->identifier, "$gate", 5)) continue;
      uint32_t f = str->flags;
      if (!(f & STRING_FLAGS_LITERAL) || (f & (STRING_FLAGS_XOR | STRING_FLAGS_BASE64 |
                                               STRING_FLAGS_BASE64_WIDE)))
        continue;
      if (str->length <= 0 || str->length > GATE_MAX_LITERAL) continue;
      size_t len = (size_t)str->length;
      bool wide = f & STRING_FLAGS_WIDE, ascii = (f & STRING_FLAGS_ASCII) || !wide;
      for (int form = 0; form < 2 && ok; form++) {
        if ((form == 0 && !ascii) || (form == 1 && !wide)) continue;
        if (n == cap) {
          ok = false;
          break;
        }
        size_t pl = form ? 2 * len : len;
        char *p = malloc(pl);
        if (!p) {
          ok = false;
          break;
        }
        for (size_t i = 0; i < len; i++) {
          if (form) {
            p[2 * i] = (char)str->string[i];
            p[2 * i + 1] = 0;
          } else {
            p[i] = (char)str->string[i];
          }
        }
        pats[n] = p;
        lens[n] = pl;
        flags[n] = HS_FLAG_SINGLEMATCH | ((f & STRING_FLAGS_NO_CASE) ? HS_FLAG_CASELESS : 0);
        ids[n] = 0;
        n++;
        lits++;
      }
    }
    if (!lits) ok = false; /* this rule could match without a literal */
  }
  if (ok && n) {
    hs_compile_error_t *ce = NULL;
    if (hs_compile_lit_multi((const char *const *)pats, flags, ids, lens, (unsigned)n,
                             HS_MODE_BLOCK, NULL, &y->gate, &ce) != HS_SUCCESS) {
      y->gate = NULL; /* no prefilter: YARA sees every file, still correct */
      hs_free_compile_error(ce);
    }
  }
  for (size_t i = 0; pats && i < n; i++) free(pats[i]);
  free(pats);
  free(lens);
  free(flags);
  free(ids);
}

bool exhi_yara_gated(const exhi_yara *y) { return y->gate != NULL; }

int exhi_yara_new(const char *const *paths, size_t n, bool builtin, exhi_yara **out,
                  exh_error *err) {
  *out = NULL;
  int loaded = exhi_dl_yara(err);
  if (loaded) return loaded;
  if (yr_initialize() != ERROR_SUCCESS)
    return exhi_err(err, EXH_ERR_NOMEM, "YARA", 0, -1, "cannot initialise libyara");
  exhi_yara *y = calloc(1, sizeof *y);
  YR_COMPILER *c = NULL;
  if (!y || yr_compiler_create(&c) != ERROR_SUCCESS) {
    free(y);
    yr_finalize();
    return exhi_err(err, EXH_ERR_NOMEM, "YARA", 0, -1, "out of memory");
  }
  /* Set 0: the bundled rules, alone so that the prefilter can rest on
   * their literals; set 1: the user's sources; then compiled files. */
  y->n_sets = 2;
  compile_ctx cc = {.err = err};
  int rc = EXH_OK, n_sources = 0;
  if (builtin) {
    YR_COMPILER *bc = NULL;
    if (yr_compiler_create(&bc) != ERROR_SUCCESS)
      rc = exhi_err(err, EXH_ERR_NOMEM, "YARA", 0, -1, "out of memory");
    if (bc) yr_compiler_set_callback(bc, compile_cb, &cc);
    for (size_t i = 0; rc == EXH_OK && i < exhi_files_yara_count; i++) {
      const exhi_embedded_file *b = &exhi_files_yara_blobs[i];
      if (yr_compiler_add_string(bc, (const char *)b->data, "exhunt") || cc.failed) {
        if (!cc.failed) exhi_err(err, EXH_ERR_DATA, b->name, 0, -1, "bundled rules do not compile");
        else exhi_err_prefix(err, b->name);
        rc = EXH_ERR_DATA;
      }
    }
    YR_RULES *rules = NULL;
    if (rc == EXH_OK && yr_compiler_get_rules(bc, &rules) != ERROR_SUCCESS)
      rc = exhi_err(err, EXH_ERR_NOMEM, "YARA", 0, -1, "out of memory compiling rules");
    if (rc == EXH_OK) {
      y->sets[0].rules = rules;
      rc = describe(&y->sets[0], err);
      y->n_rules += y->sets[0].n;
      if (rc == EXH_OK) build_gate(y, &y->sets[0]);
    }
    if (bc) yr_compiler_destroy(bc);
  }
  yr_compiler_set_callback(c, compile_cb, &cc);
  for (size_t i = 0; rc == EXH_OK && i < n; i++) {
    struct stat st;
    if (stat(paths[i], &st) != 0)
      rc = exhi_err(err, EXH_ERR_IO, paths[i], 0, -1, "cannot open: %s", strerror(errno));
    else if (S_ISDIR(st.st_mode))
      rc = add_user_dir(y, c, &cc, paths[i], &n_sources, err);
    else
      rc = add_user_file(y, c, &cc, paths[i], &n_sources, err);
  }
  if (rc == EXH_OK && n_sources) {
    YR_RULES *rules = NULL;
    if (yr_compiler_get_rules(c, &rules) != ERROR_SUCCESS)
      rc = exhi_err(err, EXH_ERR_NOMEM, "YARA", 0, -1, "out of memory compiling rules");
    else {
      y->sets[1].rules = rules;
      rc = describe(&y->sets[1], err);
      y->n_rules += y->sets[1].n;
    }
  }
  yr_compiler_destroy(c);
  if (rc != EXH_OK) {
    exhi_yara_free(y);
    return rc;
  }
  *out = y;
  return EXH_OK;
}

void exhi_yara_free(exhi_yara *y) {
  if (!y) return;
  for (size_t i = 0; i < y->n_sets; i++) {
    set *s = &y->sets[i];
    for (size_t k = 0; k < s->n; k++) exhi_rule_clear(&s->info[k]);
    free(s->info);
    if (s->rules) yr_rules_destroy(s->rules);
  }
  hs_free_database(y->gate);
  free(y);
  yr_finalize();
}

size_t exhi_yara_rule_count(const exhi_yara *y) { return y->n_rules; }

const exhi_rule *exhi_yara_rule_at(const exhi_yara *y, size_t i, const char **ident,
                                   const char **ns) {
  for (size_t k = 0; k < y->n_sets; k++) {
    const set *st = &y->sets[k];
    if (i >= st->n) {
      i -= st->n;
      continue;
    }
    const YR_RULE *r = &st->rules->rules_table[i];
    *ident = r->identifier;
    *ns = r->ns ? r->ns->name : "";
    return &st->info[i];
  }
  return NULL;
}

static int scan_cb(YR_SCAN_CONTEXT *ctx, int message, void *data, void *user) {
  if (message != CALLBACK_MSG_RULE_MATCHING) return CALLBACK_CONTINUE;
  exhi_yara_scanner *s = user;
  const set *st = &s->y->sets[s->cur];
  const YR_RULE *r = data;
  size_t idx = (size_t)(r - st->rules->rules_table);
  if (idx >= st->n) return CALLBACK_CONTINUE;
  int64_t first = -1;
  const YR_STRING *str;
  yr_rule_strings_foreach(r, str) {
    /* libyara 4.2 allocates matches and their data copies from one
     * notebook, so a YR_MATCH may sit at an odd address: copy each one out
     * instead of reading its fields in place (yr_string_matches_foreach
     * would), which UBSan rightly calls a misaligned access. */
    const void *mp = ctx->matches[str->idx].head;
    while (mp) {
      YR_MATCH m;
      memcpy(&m, mp, sizeof m);
      if (!m.is_private) {
        int64_t off = m.base + m.offset;
        if (first < 0 || off < first) first = off;
      }
      mp = m.next;
    }
  }
  exhi_yara_match mt = {.rule = &st->info[idx], .identifier = r->identifier,
                        .ns = r->ns ? r->ns->name : "", .offset = first};
  s->on_match(s->ctx, &mt);
  return CALLBACK_CONTINUE;
}

int exhi_yara_scanner_new(const exhi_yara *y, exhi_yara_scanner **out, exh_error *err) {
  *out = NULL;
  exhi_yara_scanner *s = calloc(1, sizeof *s);
  if (!s) return exhi_err(err, EXH_ERR_NOMEM, NULL, 0, -1, "out of memory");
  s->y = y;
  if (y->gate && hs_alloc_scratch(y->gate, &s->scratch) != HS_SUCCESS) {
    free(s);
    return exhi_err(err, EXH_ERR_NOMEM, NULL, 0, -1, "out of memory for the prefilter");
  }
  for (size_t i = 0; i < y->n_sets; i++) {
    if (!y->sets[i].rules) continue;
    if (yr_scanner_create(y->sets[i].rules, &s->sc[i]) != ERROR_SUCCESS) {
      exhi_yara_scanner_free(s);
      return exhi_err(err, EXH_ERR_NOMEM, NULL, 0, -1, "out of memory creating a YARA scanner");
    }
    yr_scanner_set_callback(s->sc[i], scan_cb, s);
    yr_scanner_set_timeout(s->sc[i], EXHI_YARA_SCAN_TIMEOUT_S);
  }
  *out = s;
  return EXH_OK;
}

void exhi_yara_scanner_free(exhi_yara_scanner *s) {
  if (!s) return;
  for (size_t i = 0; i < EXHI_YARA_MAX_SETS; i++)
    if (s->sc[i]) yr_scanner_destroy(s->sc[i]);
  hs_free_scratch(s->scratch);
  free(s);
}

static int stop_at_first(unsigned id, unsigned long long from, unsigned long long to,
                         unsigned flags, void *ctx) {
  (void)id, (void)from, (void)to, (void)flags;
  *(bool *)ctx = true;
  return 1; /* one literal is enough to run YARA */
}

static bool gate_hit(exhi_yara_scanner *s, const unsigned char *buf, size_t len) {
  bool hit = false;
  hs_error_t rc = hs_scan(s->y->gate, (const char *)buf, (unsigned)len, 0, s->scratch,
                          stop_at_first, &hit);
  /* Any failure of the prefilter means "scan": never miss because of it. */
  return hit || (rc != HS_SUCCESS && rc != HS_SCAN_TERMINATED);
}

int exhi_yara_scan(exhi_yara_scanner *s, const char *name, const unsigned char *buf, size_t len,
                   void (*on_match)(void *ctx, const exhi_yara_match *m), void *ctx,
                   exh_error *err) {
  s->on_match = on_match;
  s->ctx = ctx;
  for (size_t i = 0; i < s->y->n_sets; i++) {
    if (!s->sc[i]) continue;
    /* The bundled set only where one of its literals occurs. */
    if (i == 0 && s->y->gate && len <= UINT_MAX && !gate_hit(s, buf, len)) continue;
    s->cur = i;
    int rc = yr_scanner_scan_mem(s->sc[i], buf, len);
    if (rc != ERROR_SUCCESS) {
      /* Partial matches were already reported; say why the rest is not. */
      const char *why = rc == ERROR_SCAN_TIMEOUT          ? "timed out"
                        : rc == ERROR_TOO_MANY_MATCHES    ? "too many string matches"
                        : rc == ERROR_INSUFFICIENT_MEMORY ? "out of memory"
                                                          : "failed";
      return exhi_err(err, EXH_ERR_LIMIT, name, 0, -1, "YARA scan %s (error %d)", why, rc);
    }
  }
  return EXH_OK;
}
