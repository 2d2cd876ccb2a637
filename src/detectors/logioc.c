/* Indicators in logs: the web fields of a record looked up in indicator
 * sets. The sets are immutable and lock-free, so workers call this on every
 * record of a web log; what makes it cheap is one hash lookup per field
 * after normalising the value on the stack. */
#define _GNU_SOURCE /* memrchr, qsort_r */
#include "logioc.h"

#include "../ioc/ioc.h"
#include "hscache.h"

#include <arpa/inet.h>
#include "../core/dl_sqlite.h" /* libsqlite3 (loaded by exh_ioc_store_open) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the indicator rules ----------------------------------------------- */

/* exhi_lr_rule holds mutable strings (compiled rules own theirs); these
 * arrays are never written. */
static char f_store[] = "indicator store";
static char empty[] = "";
static char id_ip[] = "exh.logs.ioc.source_ip";
static char t_ip[] = "Request from a known-bad client address";
static char id_ua[] = "exh.logs.ioc.user_agent";
static char t_ua[] = "Request with a known-bad user agent";
static char id_dom[] = "exh.logs.ioc.domain";
static char t_dom[] = "Request for a known-bad host name";
static char id_url[] = "exh.logs.ioc.url";
static char t_url[] = "Request for a known-bad URL";
static char id_path[] = "exh.logs.ioc.webshell_path";
static char t_path[] = "Request for a file named in a threat report (web shell)";
/* A web shell answered 200: it was there and ran. Anything else (404 from a
 * scanner trying names from the reports) is an attempt. */
static char s200[] = "200";
static char *ok_status[] = {s200};
/* ATT&CK: Server Software Component: Web Shell. */
static char t1505[] = "T1505.003";
static char *webshell_attack[] = {t1505};

static const exhi_lr_rule ioc_rules[EXHI_LOGIOC_RULES] = {
    [EXHI_LOGIOC_IP] = {.id = id_ip, .title = t_ip, .file = f_store, .description = empty,
                        .severity = EXH_SEV_HIGH, .outcome = EXHI_OUTCOME_DETECTED, .ioc = 1},
    [EXHI_LOGIOC_UA] = {.id = id_ua, .title = t_ua, .file = f_store, .description = empty,
                        .severity = EXH_SEV_HIGH, .outcome = EXHI_OUTCOME_DETECTED, .ioc = 1},
    [EXHI_LOGIOC_DOMAIN] = {.id = id_dom, .title = t_dom, .file = f_store, .description = empty,
                            .severity = EXH_SEV_HIGH, .outcome = EXHI_OUTCOME_DETECTED, .ioc = 1},
    [EXHI_LOGIOC_URL] = {.id = id_url, .title = t_url, .file = f_store, .description = empty,
                         .severity = EXH_SEV_HIGH, .outcome = EXHI_OUTCOME_DETECTED, .ioc = 1},
    [EXHI_LOGIOC_PATH] = {.id = id_path, .title = t_path, .file = f_store, .description = empty,
                          .severity = EXH_SEV_CRITICAL, .attack = webshell_attack, .n_attack = 1,
                          .success_status = ok_status, .n_success = 1, .ioc = 1},
};

int exhi_hit_rule_is_ioc(const exhi_lr *lr, size_t rule) {
  size_t n = exhi_lr_count(lr);
  return rule >= n && rule < n + EXHI_LOGIOC_RULES;
}

const exhi_lr_rule *exhi_hit_rule(const exhi_lr *lr, size_t rule) {
  size_t n = exhi_lr_count(lr);
  return rule < n ? exhi_lr_rule_at(lr, rule) : &ioc_rules[(rule - n) % EXHI_LOGIOC_RULES];
}

int exhi_logioc_kind(int kind) {
  /* The logs with a client address and a request: the rest (ECP Server,
   * OAB generator, cmdlets, transport, events) have none of these fields. */
  return kind == EXHI_LOG_HTTPPROXY || kind == EXHI_LOG_IIS || kind == EXHI_LOG_EWS ||
         kind == EXHI_LOG_EXCHANGE;
}

/* ---- matching ------------------------------------------------------------ */

int exhi_logioc_add(exhi_logioc *m, const exh_ioc_set *set) {
  if (!set || !exh_ioc_set_size(set) || m->n_sets == EXHI_LOGIOC_MAX_SETS) return -1;
  unsigned types = 0;
  for (int t = 1; t < EXH_IOC_TYPE_COUNT; t++)
    if (exh_ioc_set_count(set, t)) types |= 1u << t;
  m->sets[m->n_sets] = set;
  m->types[m->n_sets] = types;
  return (int)m->n_sets++;
}

typedef struct mctx {
  const exhi_logioc *m;
  unsigned any; /* types present in any set */
  exhi_logioc_cb cb;
  void *ctx;
} mctx;

#define HAS(mc, t) ((mc)->any & (1u << (t)))

static int lookup(const mctx *mc, int which, int type, const char *v, size_t len,
                  const char *field) {
  for (size_t s = 0; s < mc->m->n_sets; s++) {
    if (!(mc->m->types[s] & (1u << type))) continue;
    const exh_ioc *hits;
    size_t n = exh_ioc_set_lookup(mc->m->sets[s], type, v, len, &hits);
    for (size_t i = 0; i < n; i++) {
      int rc = mc->cb(mc->ctx, which, s, &hits[i], field);
      if (rc) return rc;
    }
  }
  return 0;
}

static int match_ip(const mctx *mc, const char *v, size_t len) {
  /* "[::1]" and "fe80::1%12" as some writers put them: the address alone. */
  if (len > 2 && v[0] == '[') {
    const char *e = memchr(v, ']', len);
    if (e) {
      len = (size_t)(e - v) - 1;
      v++;
    }
  }
  const char *pct = memchr(v, '%', len);
  if (pct) len = (size_t)(pct - v);
  if (!memchr(v, ':', len))
    return HAS(mc, EXH_IOC_IPV4) ? lookup(mc, EXHI_LOGIOC_IP, EXH_IOC_IPV4, v, len, "source.ip") : 0;
  int rc = HAS(mc, EXH_IOC_IPV6) ? lookup(mc, EXHI_LOGIOC_IP, EXH_IOC_IPV6, v, len, "source.ip") : 0;
  /* An IPv4 client on a dual-stack socket is logged as ::ffff:a.b.c.d; the
   * feeds list a.b.c.d. */
  if (!rc && HAS(mc, EXH_IOC_IPV4) && len > 7 && exhi_ascii_ieq(v, 7, "::ffff:") &&
      memchr(v + 7, '.', len - 7))
    rc = lookup(mc, EXHI_LOGIOC_IP, EXH_IOC_IPV4, v + 7, len - 7, "source.ip");
  return rc;
}

static int match_ua(const mctx *mc, const char *v, size_t len, int w3c) {
  int rc = lookup(mc, EXHI_LOGIOC_UA, EXH_IOC_USER_AGENT, v, len, "user_agent.original");
  if (rc || !w3c || !memchr(v, '+', len) || len > EXH_IOC_VALUE_MAX) return rc;
  /* IIS writes the spaces of a user agent as '+'; feeds publish spaces.
   * IIS writes every space so: a value with both (hand-edited) is taken as
   * it is, so that the prefilter's two spellings of an agent cover it. */
  if (memchr(v, ' ', len)) return 0;
  char buf[EXH_IOC_VALUE_MAX + 1];
  for (size_t i = 0; i < len; i++) buf[i] = v[i] == '+' ? ' ' : v[i];
  return lookup(mc, EXHI_LOGIOC_UA, EXH_IOC_USER_AGENT, buf, len, "user_agent.original");
}

/* The host without a port ("mail.example.com:443", "[::1]:443"). */
static size_t host_len(const char *v, size_t len) {
  if (len && v[0] == '[') return len;
  const char *c = memchr(v, ':', len);
  return c ? (size_t)(c - v) : len;
}

static int match_path(const mctx *mc, const char *v, size_t len) {
  /* A bare file name in a feed (supp0rt.aspx) matches the request for it in
   * any folder. */
  int rc = HAS(mc, EXH_IOC_FILENAME)
               ? lookup(mc, EXHI_LOGIOC_PATH, EXH_IOC_FILENAME, v, len, "url.path")
               : 0;
  if (rc || !HAS(mc, EXH_IOC_FILEPATH)) return rc;
  char np[EXH_IOC_VALUE_MAX + 2];
  if (exh_ioc_normalize(EXH_IOC_FILEPATH, v, len, np, sizeof np, NULL) != EXH_OK) return 0;
  size_t nl = strlen(np);
  if (!nl || np[nl - 1] == '/') return 0; /* a folder: no file named */
  for (size_t s = 0; s < mc->m->n_sets; s++) {
    if (!(mc->m->types[s] & (1u << EXH_IOC_FILEPATH))) continue;
    /* The published paths with this file name; one matches when the
     * request's whole path is its tail (/owa/auth/x.aspx for
     * C:\...\FrontEnd\HttpProxy\owa\auth\x.aspx) or it is the request's
     * tail (a short published path under a longer URL). The same name
     * under another folder (/ecp/auth/x.aspx) is not it. */
    const exh_ioc *hits;
    size_t n = exh_ioc_set_lookup_path_name(mc->m->sets[s], np, nl, &hits);
    for (size_t i = 0; i < n; i++) {
      const char *iv = hits[i].value;
      size_t il = strlen(iv);
      const char *lng = il >= nl ? iv : np, *sht = il >= nl ? np : iv;
      size_t ll = il >= nl ? il : nl, sl = il >= nl ? nl : il;
      if (memcmp(lng + ll - sl, sht, sl)) continue;
      if (ll > sl && sht[0] != '/' && lng[ll - sl - 1] != '/') continue;
      if ((rc = mc->cb(mc->ctx, EXHI_LOGIOC_PATH, s, &hits[i], "url.path"))) return rc;
    }
  }
  return 0;
}

/* host + path (+ '?' query, when the line has one: q NULL otherwise) as a
 * URL with each scheme, looked up. */
static int match_url(const mctx *mc, const char *host, size_t hl, const char *path, size_t pl,
                     const char *q, size_t ql) {
  /* host + path is a URL when the path starts it and the host holds none
   * of its delimiters: then an indicator's authority is the host column
   * and the rest the path (and query) column, as the prefilter assumes. */
  if (!pl || path[0] != '/' || memchr(host, '/', hl) || memchr(host, '?', hl) ||
      memchr(host, '#', hl) || memchr(path, '?', pl))
    return 0;
  /* Exchange writes the query's '?', IIS does not. */
  if (q && ql && q[0] == '?') q++, ql--;
  /* The log has no scheme: a URL indicator is published with either. */
  static const char *const schemes[] = {"https://", "http://"};
  char buf[EXH_IOC_VALUE_MAX + 1];
  for (int with_q = 0; with_q < 1 + (q && ql); with_q++) {
    for (size_t k = 0; k < 2; k++) {
      size_t sl = strlen(schemes[k]), n = sl + hl + pl + (with_q ? 1 + ql : 0);
      if (n > EXH_IOC_VALUE_MAX) return 0;
      memcpy(buf, schemes[k], sl);
      memcpy(buf + sl, host, hl);
      memcpy(buf + sl + hl, path, pl);
      if (with_q) {
        buf[sl + hl + pl] = '?';
        memcpy(buf + sl + hl + pl + 1, q, ql);
      }
      int rc = lookup(mc, EXHI_LOGIOC_URL, EXH_IOC_URL, buf, n, "url.full");
      if (rc) return rc;
    }
  }
  return 0;
}

/* The value of col, or NULL for absent, empty and W3C's "-". */
static const char *value(const exhi_logrec *rec, int col, char *buf, size_t size, size_t *len) {
  if (col < 0) return NULL;
  const char *v = exhi_logrec_value(rec, col, buf, size, len);
  if (!v || !*len) return NULL;
  if (*len == 1 && v[0] == '-') return NULL;
  return v;
}

int exhi_logioc_match(const exhi_logioc *m, exhi_logioc_cols *cols, const exhi_logrec *rec,
                      exhi_logioc_cb cb, void *ctx) {
  const exhi_logschema *sc = rec->schema;
  if (!m->n_sets || !exhi_logioc_kind(sc->kind)) return 0;
  if (cols->schema != sc || cols->gen != sc->generation) {
    cols->ip = exhi_lr_field_col(sc, "source.ip");
    cols->ua = exhi_lr_field_col(sc, "user_agent.original");
    cols->host = exhi_lr_field_col(sc, "url.domain");
    cols->path = exhi_lr_field_col(sc, "url.path");
    cols->query = exhi_lr_field_col(sc, "url.query");
    cols->schema = sc;
    cols->gen = sc->generation;
  }
  mctx mc = {m, 0, cb, ctx};
  for (size_t s = 0; s < m->n_sets; s++) mc.any |= m->types[s];
  /* Values longer than an indicator can be are not looked up. */
  char buf[EXH_IOC_VALUE_MAX + 1], hostbuf[EXH_IOC_VALUE_MAX + 1];
  size_t len;
  int rc = 0;
  const char *v;
  if (HAS(&mc, EXH_IOC_IPV4) || HAS(&mc, EXH_IOC_IPV6)) {
    v = value(rec, cols->ip, buf, sizeof buf, &len);
    if (v && len <= EXH_IOC_VALUE_MAX && (rc = match_ip(&mc, v, len))) return rc;
  }
  if (HAS(&mc, EXH_IOC_USER_AGENT)) {
    v = value(rec, cols->ua, buf, sizeof buf, &len);
    if (v && len <= EXH_IOC_VALUE_MAX && (rc = match_ua(&mc, v, len, sc->syntax == EXHI_SYN_W3C)))
      return rc;
  }
  size_t hl = 0;
  if (HAS(&mc, EXH_IOC_DOMAIN) || HAS(&mc, EXH_IOC_URL)) {
    v = value(rec, cols->host, buf, sizeof buf, &len);
    if (v && len <= EXH_IOC_VALUE_MAX) {
      hl = host_len(v, len);
      memcpy(hostbuf, v, hl);
      if (hl && HAS(&mc, EXH_IOC_DOMAIN) &&
          (rc = lookup(&mc, EXHI_LOGIOC_DOMAIN, EXH_IOC_DOMAIN, hostbuf, hl, "url.domain")))
        return rc;
    }
  }
  if (HAS(&mc, EXH_IOC_FILENAME) || HAS(&mc, EXH_IOC_FILEPATH) || (hl && HAS(&mc, EXH_IOC_URL))) {
    v = value(rec, cols->path, buf, sizeof buf, &len);
    if (v && len <= EXH_IOC_VALUE_MAX) {
      if ((rc = match_path(&mc, v, len))) return rc;
      if (hl && HAS(&mc, EXH_IOC_URL)) {
        char qbuf[EXH_IOC_VALUE_MAX + 1];
        size_t ql = 0;
        const char *q = value(rec, cols->query, qbuf, sizeof qbuf, &ql);
        if (q && ql > EXH_IOC_VALUE_MAX) q = NULL, ql = 0; /* longer than any indicator */
        if ((rc = match_url(&mc, hostbuf, hl, v, len, q, ql))) return rc;
      }
    }
  }
  return 0;
}

/* ---- picking lines: the literal prefilter --------------------------------- */

/* Literals compiled into one database. Compiling grows faster than the
 * count (100 000: ~7 s, ~9 MiB; 500 000: about a minute); past this a set
 * is looked up line by line, as before the prefilter. */
#define PICK_MAX_LITERALS 500000
/* From this many literals a compile takes about a second or more (10 000:
 * 0.25 s, 50 000: 2.5 s, 100 000: 7 s on one core of a 2020s x86), long
 * enough that a user at a terminal should be told why nothing happens. */
#define PICK_NOTICE_LITERALS 25000

struct exhi_logioc_pf {
  hs_database_t *db; /* NULL: nothing to pick (or every line) */
  hs_scratch_t *proto;
  int picking;       /* enum exhi_logioc_picking */
  size_t n_literals;
  int compiled;      /* the database was compiled, not loaded from the cache */
};

typedef struct lit {
  size_t off, len;
  unsigned flags;
} lit;

typedef struct litset {
  char *buf;
  size_t len, cap;
  lit *v;
  size_t n, cap_v;
  int every; /* an indicator with no literal: every line */
} litset;

static int lit_add(litset *ls, const char *p, size_t n, unsigned flags) {
  if (!n) {
    ls->every = 1; /* cannot happen for a normalised value; be safe */
    return 0;
  }
  if (ls->len + n > ls->cap) {
    size_t nc = ls->cap ? ls->cap : 4096;
    while (nc < ls->len + n) nc *= 2;
    char *q = realloc(ls->buf, nc);
    if (!q) return -1;
    ls->buf = q;
    ls->cap = nc;
  }
  if (ls->n == ls->cap_v) {
    size_t nc = ls->cap_v ? ls->cap_v * 2 : 256;
    lit *q = realloc(ls->v, nc * sizeof *q);
    if (!q) return -1;
    ls->v = q;
    ls->cap_v = nc;
  }
  memcpy(ls->buf + ls->len, p, n);
  ls->v[ls->n++] = (lit){ls->len, n, flags};
  ls->len += n;
  return 0;
}

/* p, or when it has a '"' its longest run without one: Exchange's CSV
 * writes a quote doubled in a quoted field, a hand-made file may not, and
 * the reader takes both. */
static int lit_add_csv(litset *ls, const char *p, size_t n, unsigned flags) {
  if (!memchr(p, '"', n)) return lit_add(ls, p, n, flags);
  size_t best = 0, best_len = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j < n && p[j] != '"') j++;
    if (j - i > best_len) best = i, best_len = j - i;
    i = j + 1;
  }
  return lit_add(ls, p + best, best_len, flags); /* none: every line */
}

/* An IPv6 address may be written with or without leading zeros, with any
 * run of zero groups compressed, in any case, with its last 32 bits
 * dotted: the text every spelling holds is a non-zero group among the
 * first six followed by ':', extended by the next groups that have four
 * digits (no leading zero can be added to them). The longest such run. */
static int ipv6_literal(litset *ls, const char *v) {
  unsigned char b[16];
  if (inet_pton(AF_INET6, v, b) != 1) return lit_add(ls, v, strlen(v), HS_FLAG_CASELESS);
  unsigned g[8];
  for (int i = 0; i < 8; i++) g[i] = (unsigned)b[2 * i] << 8 | b[2 * i + 1];
  char best[64] = "";
  for (int i = 0; i < 6; i++) {
    if (!g[i]) continue;
    char cur[64];
    int o = snprintf(cur, sizeof cur, "%x", g[i]);
    for (int j = i + 1; j < 6 && g[j] >= 0x1000; j++) o += snprintf(cur + o, sizeof cur - (size_t)o, ":%x", g[j]);
    snprintf(cur + o, sizeof cur - (size_t)o, ":");
    if (strlen(cur) > strlen(best)) memcpy(best, cur, sizeof best);
  }
  if (!best[0]) { /* ::1, ::a.b.c.d: nothing every spelling holds */
    ls->every = 1;
    return 0;
  }
  return lit_add(ls, best, strlen(best), HS_FLAG_CASELESS);
}

/* URLs: the lookup joins the host, path and query columns (match_url),
 * so the authority is the host column (case-blind) and the path the path
 * column (case as published), each in a line whose URL matches; the query
 * is in another column (IIS's without its '?'). The path when it says
 * enough, else the host. */
#define URL_PATH_MIN 8
static int url_literal(litset *ls, const char *v) {
  const char *a = strstr(v, "://");
  if (!a) return lit_add_csv(ls, v, strlen(v), HS_FLAG_CASELESS);
  a += 3;
  size_t al = strcspn(a, "/?#");
  const char *rest = a + al;
  size_t rl = strcspn(rest, "?#");
  if (rl >= URL_PATH_MIN || !al) return lit_add_csv(ls, rest, rl, 0);
  return lit_add_csv(ls, a, al, HS_FLAG_CASELESS);
}

/* What every line whose web fields the exact lookup would find ioc in
 * holds. Hashes are never looked up in logs: no literal. */
static int literals_of(litset *ls, const exh_ioc *ioc) {
  const char *v = ioc->value;
  size_t n = strlen(v);
  switch (ioc->type) {
  case EXH_IOC_IPV4:
    /* inet_pton takes no leading zeros nor short forms: the canonical
     * text is in every line whose address matches (a longer address
     * holding it, 10.0.0.12 for 10.0.0.1, is left to the lookup). */
    return lit_add(ls, v, n, 0);
  case EXH_IOC_IPV6:
    return ipv6_literal(ls, v);
  case EXH_IOC_DOMAIN:
    return lit_add(ls, v, n, HS_FLAG_CASELESS);
  case EXH_IOC_URL:
    return url_literal(ls, v);
  case EXH_IOC_USER_AGENT: {
    /* As feeds publish it (and Exchange's CSV writes it), and with '+'
     * for each space as IIS writes it (match_ua). */
    if (lit_add_csv(ls, v, n, 0)) return -1;
    if (!memchr(v, ' ', n)) return 0;
    char buf[EXH_IOC_VALUE_MAX + 1];
    if (n > EXH_IOC_VALUE_MAX) return 0;
    for (size_t i = 0; i < n; i++) buf[i] = v[i] == ' ' ? '+' : v[i];
    return lit_add_csv(ls, buf, n, 0);
  }
  case EXH_IOC_FILENAME:
  case EXH_IOC_FILEPATH: {
    /* The request's file name, case-blind: both lookups go by it
     * (match_path), whatever the folders and separators. */
    const char *name = strrchr(v, '/');
    name = name ? name + 1 : v;
    return lit_add_csv(ls, name, strlen(name), HS_FLAG_CASELESS);
  }
  default:
    return 0;
  }
}

/* The lookups refang what they are given (exh_ioc_normalize): a log value
 * "203.0.113[.]20" finds 203.0.113.20. Any line with a defanging mark is
 * picked when a set holds such types. */
static const char *const defang_marks[] = {"[.]", "(.)", "{.}", "[dot]", "(dot)", "[:]", "[://]",
                                           "[at]", "[@]", "hxxp"};

static int cmp_lit(const void *pa, const void *pb, void *ctx) {
  const lit *a = pa, *b = pb;
  const char *buf = ctx;
  if (a->len != b->len) return a->len < b->len ? -1 : 1;
  int c = memcmp(buf + a->off, buf + b->off, a->len);
  if (c) return c;
  return a->flags < b->flags ? -1 : a->flags > b->flags;
}

static void announce(void *ctx, unsigned n) {
  (void)ctx;
  if (n < PICK_NOTICE_LITERALS) return;
  fprintf(stderr, "exhunt: compiling the indicators' prefilter (%u literals), once for this "
                  "indicator set; later runs load it from the cache\n", n);
}

int exhi_logioc_prepare(exhi_logioc *m, exh_error *err) {
  if (m->pf) return EXH_OK;
  exhi_logioc_pf *pf = calloc(1, sizeof *pf);
  if (!pf) return exhi_err(err, EXH_ERR_NOMEM, "indicators", 0, -1, "out of memory");
  m->pf = pf;
  litset ls = {0};
  int rc = EXH_OK;
  unsigned any = 0;
  for (size_t s = 0; s < m->n_sets; s++) any |= m->types[s];
  /* Types a web log record is looked up for (exhi_logioc_match). */
  const unsigned web = 1u << EXH_IOC_IPV4 | 1u << EXH_IOC_IPV6 | 1u << EXH_IOC_DOMAIN |
                       1u << EXH_IOC_URL | 1u << EXH_IOC_USER_AGENT | 1u << EXH_IOC_FILENAME |
                       1u << EXH_IOC_FILEPATH;
  const unsigned refanged = 1u << EXH_IOC_IPV4 | 1u << EXH_IOC_IPV6 | 1u << EXH_IOC_DOMAIN |
                            1u << EXH_IOC_URL;
  if (!(any & web)) return EXH_OK; /* hashes only: nothing in a log line */
  for (size_t s = 0; s < m->n_sets && !ls.every; s++) {
    const exh_ioc *prev = NULL, *ioc;
    for (size_t i = 0; (ioc = exhi_ioc_set_at(m->sets[s], i)) && !ls.every; i++) {
      /* The sources of one value are neighbours: one literal per value. */
      if (prev && prev->type == ioc->type && !strcmp(prev->value, ioc->value)) continue;
      prev = ioc;
      if (literals_of(&ls, ioc)) {
        rc = exhi_err(err, EXH_ERR_NOMEM, "indicators", 0, -1, "out of memory");
        goto out;
      }
      if (ls.n > PICK_MAX_LITERALS) ls.every = 1;
    }
  }
  if (any & refanged)
    for (size_t i = 0; i < EXHI_ARRAY_LEN(defang_marks); i++)
      if (lit_add(&ls, defang_marks[i], strlen(defang_marks[i]), HS_FLAG_CASELESS)) {
        rc = exhi_err(err, EXH_ERR_NOMEM, "indicators", 0, -1, "out of memory");
        goto out;
      }
  if (ls.every) {
    pf->picking = EXHI_LOGIOC_PICK_EVERY;
    goto out;
  }
  /* One literal per distinct (text, case): the sets overlap, the user
   * agents' two spellings may coincide. */
  qsort_r(ls.v, ls.n, sizeof *ls.v, cmp_lit, ls.buf);
  size_t u = 0;
  for (size_t i = 0; i < ls.n; i++)
    if (!u || cmp_lit(&ls.v[u - 1], &ls.v[i], ls.buf)) ls.v[u++] = ls.v[i];
  ls.n = u;
  const char **exprs = malloc(u * sizeof *exprs);
  size_t *lens = malloc(u * sizeof *lens);
  unsigned *flags = malloc(u * sizeof *flags), *ids = malloc(u * sizeof *ids);
  if (!exprs || !lens || !flags || !ids) {
    rc = exhi_err(err, EXH_ERR_NOMEM, "indicators", 0, -1, "out of memory");
  } else {
    for (size_t i = 0; i < u; i++) {
      exprs[i] = ls.buf + ls.v[i].off;
      lens[i] = ls.v[i].len;
      flags[i] = ls.v[i].flags;
      /* Which literal hit is never asked, but one id for all makes
       * vectorscan's compiler take minutes for a few thousand literals. */
      ids[i] = (unsigned)i;
    }
    hs_compile_error_t *ce = NULL;
    exhi_hs_cache_how how = {.compiling = m->notice ? announce : NULL};
    hs_error_t he = exhi_hs_compile_lit_cached(exprs, lens, flags, ids, (unsigned)u, &how, &pf->db, &ce);
    pf->compiled = how.compiled;
    if (he != HS_SUCCESS) {
      /* (Out of memory in the compiler, say.) Every line, as without the
       * prefilter: slower, never different. */
      hs_free_compile_error(ce);
      pf->db = NULL;
      pf->picking = EXHI_LOGIOC_PICK_EVERY;
    } else if (hs_alloc_scratch(pf->db, &pf->proto) != HS_SUCCESS) {
      rc = exhi_err(err, EXH_ERR_NOMEM, "indicators", 0, -1, "out of memory");
    } else {
      pf->picking = EXHI_LOGIOC_PICK_LINES;
      pf->n_literals = u;
    }
  }
  free(exprs);
  free(lens);
  free(flags);
  free(ids);
out:
  free(ls.buf);
  free(ls.v);
  return rc;
}

void exhi_logioc_prefilter_info(const exhi_logioc *m, size_t *n_literals, int *compiled) {
  *n_literals = m->pf ? m->pf->n_literals : 0;
  *compiled = m->pf ? m->pf->compiled : 0;
}

void exhi_logioc_release(exhi_logioc *m) {
  if (!m->pf) return;
  hs_free_scratch(m->pf->proto);
  hs_free_database(m->pf->db);
  free(m->pf);
  m->pf = NULL;
}

int exhi_logioc_picking(const exhi_logioc *m) {
  if (!m->n_sets) return EXHI_LOGIOC_PICK_NONE;
  /* Not prepared: the safe way. */
  return m->pf ? m->pf->picking : EXHI_LOGIOC_PICK_EVERY;
}

struct exhi_logioc_lines {
  hs_scratch_t *scratch;
  const hs_database_t *db;
  size_t *starts; /* picked line starts, in block order */
  size_t n, cap, next;
  const char *block;
  size_t len;     /* of the slice being scanned */
  size_t base;    /* its offset in the block */
  size_t cur_start, cur_end; /* the last picked line of the slice */
  int have;       /* cur_* are set */
  int oom;
};

int exhi_logioc_lines_new(const exhi_logioc *m, exhi_logioc_lines **out, exh_error *err) {
  *out = NULL;
  if (exhi_logioc_picking(m) != EXHI_LOGIOC_PICK_LINES) return EXH_OK;
  exhi_logioc_lines *l = calloc(1, sizeof *l);
  if (!l || hs_clone_scratch(m->pf->proto, &l->scratch) != HS_SUCCESS) {
    free(l);
    return exhi_err(err, EXH_ERR_NOMEM, "indicators", 0, -1, "out of memory");
  }
  l->db = m->pf->db;
  *out = l;
  return EXH_OK;
}

void exhi_logioc_lines_free(exhi_logioc_lines *l) {
  if (!l) return;
  hs_free_scratch(l->scratch);
  free(l->starts);
  free(l);
}

static int on_literal(unsigned id, unsigned long long from, unsigned long long to, unsigned fl,
                      void *c) {
  (void)id, (void)from, (void)fl;
  exhi_logioc_lines *l = c;
  size_t pos = to ? (size_t)to - 1 : 0; /* a byte of the literal: no line end */
  if (pos >= l->len) pos = l->len ? l->len - 1 : 0;
  /* Matches come in end order: one inside the last picked line adds
   * nothing; else its line starts after the last line end before it. */
  if (l->have && pos >= l->cur_start && pos < l->cur_end) return 0;
  size_t lo = l->have && pos >= l->cur_end ? l->cur_end : 0;
  const char *nl = pos > lo ? memrchr(l->block + lo, '\n', pos - lo) : NULL;
  size_t start = nl ? (size_t)(nl - l->block) + 1 : lo;
  const char *e = memchr(l->block + pos, '\n', l->len - pos);
  if (l->n == l->cap) {
    size_t nc = l->cap ? l->cap * 2 : 256;
    size_t *q = realloc(l->starts, nc * sizeof *q);
    if (!q) {
      l->oom = 1;
      return 1;
    }
    l->starts = q;
    l->cap = nc;
  }
  l->starts[l->n++] = l->base + start;
  l->cur_start = start;
  l->cur_end = e ? (size_t)(e - l->block) : l->len;
  l->have = 1;
  return 0;
}

static int cmp_size(const void *a, const void *b) {
  size_t x = *(const size_t *)a, y = *(const size_t *)b;
  return x < y ? -1 : x > y;
}

int exhi_logioc_pick(exhi_logioc_lines *l, const char *block, size_t from, size_t len,
                     exh_error *err) {
  l->n = l->next = 0;
  l->oom = 0;
  size_t off = from;
  while (off < len) {
    size_t n = exhi_hs_slice(block + off, len - off);
    l->block = block + off;
    l->len = n;
    l->base = off;
    l->have = 0;
    hs_error_t e = hs_scan(l->db, block + off, (unsigned)n, 0, l->scratch, on_literal, l);
    if (l->oom) return exhi_err(err, EXH_ERR_NOMEM, "indicators", 0, -1, "out of memory");
    if (e != HS_SUCCESS)
      return exhi_err(err, EXH_ERR_IO, "indicators", 0, -1, "vectorscan error %d", (int)e);
    off += n;
  }
  /* Matches come in end order, so lines in block order; should they not,
   * a line may also have been picked twice. */
  int sorted = 1;
  for (size_t i = 1; i < l->n && sorted; i++) sorted = l->starts[i] > l->starts[i - 1];
  if (!sorted) {
    qsort(l->starts, l->n, sizeof *l->starts, cmp_size);
    size_t u = 0;
    for (size_t i = 0; i < l->n; i++)
      if (!u || l->starts[u - 1] != l->starts[i]) l->starts[u++] = l->starts[i];
    l->n = u;
  }
  return EXH_OK;
}

size_t exhi_logioc_next(exhi_logioc_lines *l, size_t before) {
  if (!l || l->next >= l->n || l->starts[l->next] >= before) return SIZE_MAX;
  return l->starts[l->next++];
}

/* ---- the store side -------------------------------------------------------- */

static int exec(exh_ioc_store *s, const char *sql, exh_error *err) {
  char *msg = NULL;
  if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
    int rc = exhi_err(err, EXH_ERR_IO, s->path, 0, -1, "recording sightings: %s",
                      msg ? msg : sqlite3_errmsg(s->db));
    sqlite3_free(msg);
    return rc;
  }
  return EXH_OK;
}

int exhi_logioc_begin(exh_ioc_store *s, exh_error *err) { return exec(s, "BEGIN IMMEDIATE", err); }
int exhi_logioc_commit(exh_ioc_store *s, exh_error *err) { return exec(s, "COMMIT", err); }
void exhi_logioc_rollback(exh_ioc_store *s) { sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL); }

int exhi_logioc_load_file(const char *path, exh_ioc_set **out, exh_error *err) {
  *out = NULL;
  exh_ioc_store *s;
  /* A private in-memory store: the file goes through the same parsers and
   * normalising as `exhunt ioc import`, and nothing is written to disk. */
  int rc = exh_ioc_store_open(":memory:", 0, &s, err);
  if (rc) return rc;
  exh_ioc_import_stats st;
  rc = exh_ioc_import_file(s, path, NULL, &st, err);
  if (!rc && st.added + st.updated + st.unchanged == 0)
    rc = exhi_err(err, EXH_ERR_PARSE, path, 0, -1, "no indicators exhunt keeps%s%s",
                  st.first_skip[0] ? ": " : "", st.first_skip);
  if (!rc) rc = exh_ioc_set_load(s, out, err);
  exh_ioc_store_close(s);
  return rc;
}
