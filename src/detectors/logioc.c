/* Indicators in logs: the web fields of a record looked up in indicator
 * sets. The sets are immutable and lock-free, so workers call this on every
 * record of a web log; what makes it cheap is one hash lookup per field
 * after normalising the value on the stack. */
#include "logioc.h"

#include "../ioc/ioc.h"

#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
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
  /* IIS writes the spaces of a user agent as '+'; feeds publish spaces. */
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

static int match_url(const mctx *mc, const char *host, size_t hl, const char *path, size_t pl) {
  /* The log has no scheme: a URL indicator is published with either. */
  static const char *const schemes[] = {"https://", "http://"};
  char buf[EXH_IOC_VALUE_MAX + 1];
  for (size_t k = 0; k < 2; k++) {
    size_t sl = strlen(schemes[k]);
    if (sl + hl + pl > EXH_IOC_VALUE_MAX) return 0;
    memcpy(buf, schemes[k], sl);
    memcpy(buf + sl, host, hl);
    memcpy(buf + sl + hl, path, pl);
    int rc = lookup(mc, EXHI_LOGIOC_URL, EXH_IOC_URL, buf, sl + hl + pl, "url.full");
    if (rc) return rc;
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
      if (hl && HAS(&mc, EXH_IOC_URL) && (rc = match_url(&mc, hostbuf, hl, v, len))) return rc;
    }
  }
  return 0;
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
