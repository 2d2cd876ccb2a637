/* Exchange CSV logs and IIS W3C logs: the preamble, the layouts that come
 * without one, and splitting a row into views. Column names are bound from
 * each file's own #Fields line; a preamble may repeat anywhere in a file. */
#include "logs.h"

#include "../core/eq64.h"

#include <stdatomic.h>
#include <string.h>

/* HttpProxy logs of Exchange 2016 CU23 / 2019 (74 fields), as their own
 * #Fields line names them (e.g. Logging/HttpProxy/Ecp/HttpProxy_*.LOG). */
static const char *const httpproxy_fields[] = {
    "DateTime", "RequestId", "MajorVersion", "MinorVersion", "BuildVersion",
    "RevisionVersion", "ClientRequestId", "Protocol", "UrlHost", "UrlStem",
    "ProtocolAction", "AuthenticationType", "IsAuthenticated", "AuthenticatedUser",
    "Organization", "AnchorMailbox", "UserAgent", "ClientIpAddress", "ServerHostName",
    "HttpStatus", "BackEndStatus", "ErrorCode", "Method", "ProxyAction", "TargetServer",
    "TargetServerVersion", "RoutingType", "RoutingHint", "BackEndCookie",
    "ServerLocatorHost", "ServerLocatorLatency", "RequestBytes", "ResponseBytes",
    "TargetOutstandingRequests", "AuthModulePerfContext", "HttpPipelineLatency",
    "CalculateTargetBackEndLatency", "GlsLatencyBreakup", "TotalGlsLatency",
    "AccountForestLatencyBreakup", "TotalAccountForestLatency",
    "ResourceForestLatencyBreakup", "TotalResourceForestLatency", "ADLatency",
    "SharedCacheLatencyBreakup", "TotalSharedCacheLatency", "ActivityContextLifeTime",
    "ModuleToHandlerSwitchingLatency", "ClientReqStreamLatency", "BackendReqInitLatency",
    "BackendReqStreamLatency", "BackendProcessingLatency", "BackendRespInitLatency",
    "BackendRespStreamLatency", "ClientRespStreamLatency", "KerberosAuthHeaderLatency",
    "HandlerCompletionLatency", "RequestHandlerLatency", "HandlerToModuleSwitchingLatency",
    "ProxyTime", "CoreLatency", "RoutingLatency", "HttpProxyOverhead", "TotalRequestTime",
    "RouteRefresherLatency", "UrlQuery", "BackEndGenericInfo", "GenericInfo",
    "GenericErrors", "EdgeTraceId", "DatabaseGuid", "UserADObjectGuid",
    "PartitionEndpointLookupLatency", "RoutingStatus"};
#define HTTPPROXY_NFIELDS 74
/* Exchange 2013 rows (64 fields) agree with the list above up to
 * BackEndCookie; past it the latency columns differ, so only this prefix is
 * bound when a row comes without its #Fields line. */
#define HTTPPROXY_COMMON_PREFIX 29

/* ECP Server and Activity logs: "#Fields: TimeStamp,ServerName,EventId,EventData". */
static const char *const ecp_fields[] = {"TimeStamp", "ServerName", "EventId", "EventData"};

/* IIS's default W3C field set (IIS 8.5 and later), for a file whose
 * preamble was cut away. */
static const char *const iis_default_fields[] = {
    "date", "time", "s-ip", "cs-method", "cs-uri-stem", "cs-uri-query", "s-port",
    "cs-username", "c-ip", "cs(User-Agent)", "cs(Referer)", "sc-status", "sc-substatus",
    "sc-win32-status", "time-taken"};

/* Generations are unique across all schemas, so a binding cached for one
 * schema is never taken for another's, even at the same address. */
static atomic_uint generations;

void exhi_logschema_touch(exhi_logschema *s) { s->generation = atomic_fetch_add(&generations, 1) + 1; }

const char *exhi_logkind_name(int kind) {
  static const char *const names[] = {
      "text", "httpproxy", "ecp_server", "ecp_activity", "oabgen", "ews",
      "rps_cmdlet", "messagetracking", "exchange", "iis", "evtx"};
  return kind >= 0 && kind < EXHI_LOG_KINDS ? names[kind] : "text";
}

void exhi_logschema_init(exhi_logschema *s) {
  s->kind = EXHI_LOG_UNKNOWN;
  s->syntax = EXHI_SYN_TEXT;
  s->guessed = 0;
  s->nfields = 0;
  s->time_col = s->date_col = s->ua_col = -1;
  exhi_logschema_touch(s);
  s->log_type[0] = s->software[0] = '\0';
}

static bool has_prefix_ci(const char *p, size_t len, const char *pre) {
  size_t n = strlen(pre);
  return len >= n && exhi_ascii_ieq(p, n, pre);
}

static bool contains_ci(const char *hay, const char *needle) {
  size_t n = strlen(needle), left = strlen(hay);
  for (const char *h = hay; left >= n; h++, left--)
    if (exhi_ascii_ieq(h, n, needle)) return true;
  return false;
}

int exhi_logschema_col(const exhi_logschema *s, const char *name) {
  for (size_t i = 0; i < s->nfields; i++)
    if (exhi_ascii_ieq(s->names[i], strlen(s->names[i]), name)) return (int)i;
  return -1;
}

static void bind_times(exhi_logschema *s) {
  static const char *const iso[] = {"DateTime", "TimeStamp", "date-time"};
  s->ua_col = exhi_logschema_col(s, "cs(User-Agent)");
  s->time_col = s->date_col = -1;
  for (size_t i = 0; i < EXHI_ARRAY_LEN(iso) && s->time_col < 0; i++)
    s->time_col = exhi_logschema_col(s, iso[i]);
  if (s->time_col < 0) {
    int d = exhi_logschema_col(s, "date"), t = exhi_logschema_col(s, "time");
    if (d >= 0 && t >= 0) {
      s->date_col = d;
      s->time_col = t;
    }
  }
}

static void bind_static(exhi_logschema *s, const char *const *names, size_t n) {
  s->nfields = n;
  for (size_t i = 0; i < n; i++) s->names[i] = names[i];
  bind_times(s);
  exhi_logschema_touch(s);
}

static void kind_from_text(exhi_logschema *s) {
  const char *lt = s->log_type;
  if (contains_ci(s->software, "Internet Information Services")) s->kind = EXHI_LOG_IIS;
  else if (contains_ci(lt, "HttpProxy")) s->kind = EXHI_LOG_HTTPPROXY;
  else if (contains_ci(lt, "ECP Server")) s->kind = EXHI_LOG_ECP_SERVER;
  else if (contains_ci(lt, "ECP Activity")) s->kind = EXHI_LOG_ECP_ACTIVITY;
  else if (contains_ci(lt, "OAB")) s->kind = EXHI_LOG_OABGEN;
  else if (contains_ci(lt, "EWS")) s->kind = EXHI_LOG_EWS;
  else if (contains_ci(lt, "Rps Cmdlet")) s->kind = EXHI_LOG_RPS_CMDLET;
  else if (contains_ci(lt, "Message Tracking")) s->kind = EXHI_LOG_MSGTRK;
  else if (lt[0] || contains_ci(s->software, "Exchange")) {
    if (s->kind == EXHI_LOG_UNKNOWN) s->kind = EXHI_LOG_EXCHANGE;
  }
}

static void set_fields(exhi_logschema *s, const char *p, size_t len, char sep) {
  size_t o = 0, n = 0;
  size_t i = 0;
  while (i <= len && n < EXHI_LOG_MAX_FIELDS) {
    size_t j = i;
    while (j < len && p[j] != sep) j++;
    size_t a = i, b = j;
    while (a < b && (p[a] == ' ' || p[a] == '\t')) a++;
    while (b > a && (p[b - 1] == ' ' || p[b - 1] == '\t' || p[b - 1] == '\r')) b--;
    if (b > a || sep == ',') {
      if (o + (b - a) + 1 > sizeof s->names_buf) break;
      memcpy(s->names_buf + o, p + a, b - a);
      s->names_buf[o + (b - a)] = '\0';
      s->names[n++] = s->names_buf + o;
      o += (b - a) + 1;
    }
    i = j + 1;
  }
  s->nfields = n;
  s->guessed = 0;
  bind_times(s);
  exhi_logschema_touch(s);
}

void exhi_logschema_header(exhi_logschema *s, const char *line, size_t len) {
  while (len && (line[len - 1] == '\r' || line[len - 1] == '\n')) len--;
  if (!len || line[0] != '#') return;
  size_t i = 1;
  while (i < len && line[i] == ' ') i++; /* "# Fields:" is seen in the wild */
  const char *k = line + i;
  size_t klen = len - i;
  const char *colon = memchr(k, ':', klen);
  if (!colon) return;
  const char *v = colon + 1;
  size_t vlen = (size_t)(line + len - v);
  while (vlen && *v == ' ') v++, vlen--;
  size_t keylen = (size_t)(colon - k);
  if (exhi_ascii_ieq(k, keylen, "Fields")) {
    /* A comma means Exchange's CSV; spaces only, IIS's W3C. */
    bool csv = memchr(v, ',', vlen) != NULL;
    if (csv) {
      if (s->syntax != EXHI_SYN_CSV && s->kind == EXHI_LOG_IIS) s->kind = EXHI_LOG_UNKNOWN;
      s->syntax = EXHI_SYN_CSV;
      set_fields(s, v, vlen, ',');
      if (s->kind == EXHI_LOG_UNKNOWN || s->kind == EXHI_LOG_EXCHANGE) {
        if (exhi_logschema_col(s, "AnchorMailbox") >= 0 && exhi_logschema_col(s, "RoutingHint") >= 0)
          s->kind = EXHI_LOG_HTTPPROXY;
        else if (exhi_logschema_col(s, "EventData") >= 0 && s->kind == EXHI_LOG_UNKNOWN)
          s->kind = EXHI_LOG_EXCHANGE;
        else if (s->kind == EXHI_LOG_UNKNOWN)
          s->kind = EXHI_LOG_EXCHANGE;
      }
    } else {
      s->syntax = EXHI_SYN_W3C;
      set_fields(s, v, vlen, ' ');
      if (exhi_logschema_col(s, "cs-uri-stem") >= 0) s->kind = EXHI_LOG_IIS;
    }
  } else if (exhi_ascii_ieq(k, keylen, "Log-type")) {
    size_t n = vlen < sizeof s->log_type - 1 ? vlen : sizeof s->log_type - 1;
    memcpy(s->log_type, v, n);
    s->log_type[n] = '\0';
    kind_from_text(s);
    exhi_logschema_touch(s);
  } else if (exhi_ascii_ieq(k, keylen, "Software")) {
    size_t n = vlen < sizeof s->software - 1 ? vlen : sizeof s->software - 1;
    memcpy(s->software, v, n);
    s->software[n] = '\0';
    kind_from_text(s);
    exhi_logschema_touch(s);
  }
}

/* Case-insensitive search for a path component-ish word. */
static bool path_has(const char *path, const char *word) { return contains_ci(path, word); }

int exhi_logkind_of_path(const char *path) {
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  /* Not "HttpProxy" anywhere: FrontEnd/HttpProxy holds the web pages
   * (owa/auth/logon.aspx), which are no logs. */
  if (path_has(path, "Logging/HttpProxy") || has_prefix_ci(base, strlen(base), "HttpProxy"))
    return EXHI_LOG_HTTPPROXY;
  if (path_has(path, "OABGenerator")) return EXHI_LOG_OABGEN;
  if (path_has(path, "ECP/Server") || path_has(base, "ECPServer")) return EXHI_LOG_ECP_SERVER;
  if (path_has(path, "ECP/Activity") || path_has(base, "ECPActivity")) return EXHI_LOG_ECP_ACTIVITY;
  if (path_has(base, "Rps_Cmdlet")) return EXHI_LOG_RPS_CMDLET;
  if (has_prefix_ci(base, strlen(base), "u_ex")) return EXHI_LOG_IIS;
  return EXHI_LOG_UNKNOWN;
}

void exhi_logschema_hint_path(exhi_logschema *s, const char *path) {
  if (s->kind != EXHI_LOG_UNKNOWN && s->kind != EXHI_LOG_EXCHANGE) return;
  int k = exhi_logkind_of_path(path);
  if (k != EXHI_LOG_UNKNOWN) {
    s->kind = k;
    exhi_logschema_touch(s);
  }
}

static bool is_digits(const char *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (p[i] < '0' || p[i] > '9') return false;
  return true;
}

int exhi_logschema_guess(exhi_logschema *s, const char *line, size_t len) {
  /* "2021-04-06T14:54:34.255Z,<guid>,15,0,847,30,...": an HttpProxy row
   * (the 2013 files, and single rows cut out of a file). */
  if (len > 30 && exhi_parse_iso_ms(line, 24) >= 0 && line[24] == ',') {
    const char *p = line + 25;
    const char *c = memchr(p, ',', len - 25);
    if (len > 60 && c && c - p == 36 && c + 4 < line + len && c[1] == '1' && c[2] == '5' &&
        c[3] == ',') {
      s->syntax = EXHI_SYN_CSV;
      s->kind = EXHI_LOG_HTTPPROXY;
      exhi_logrec tmp;
      s->nfields = HTTPPROXY_NFIELDS;
      for (size_t i = 0; i < HTTPPROXY_NFIELDS; i++) s->names[i] = httpproxy_fields[i];
      exhi_logrec_split(&tmp, s, line, len);
      bind_static(s, httpproxy_fields,
                  tmp.nvals == HTTPPROXY_NFIELDS ? HTTPPROXY_NFIELDS : HTTPPROXY_COMMON_PREFIX);
      s->guessed = 1;
      return 1;
    }
    /* "<time>,<server>,ECP.Request,...": an ECP Server row. */
    if (c && c + 5 < line + len) {
      const char *third = c + 1;
      if (has_prefix_ci(third, (size_t)(line + len - third), "ECP.")) {
        s->syntax = EXHI_SYN_CSV;
        s->kind = EXHI_LOG_ECP_SERVER;
        bind_static(s, ecp_fields, EXHI_ARRAY_LEN(ecp_fields));
        s->guessed = 1;
        return 1;
      }
    }
  }
  /* "2023-12-25 11:54:21 10.0.0.5 GET /owa/...": IIS with the default fields. */
  if (len > 20 && line[4] == '-' && line[10] == ' ' && line[13] == ':' &&
      exhi_parse_w3c_ms(line, 10, line + 11, 8) >= 0) {
    s->syntax = EXHI_SYN_W3C;
    s->kind = EXHI_LOG_IIS;
    bind_static(s, iis_default_fields, EXHI_ARRAY_LEN(iis_default_fields));
    s->guessed = 1;
    return 1;
  }
  return 0;
}

/* The commas of line[wb..wb + 64) as bits, or of the bytes up to len. */
static uint64_t commas64(const char *line, size_t len, size_t wb) {
  if (len - wb >= 64) return exhi_eq64_sse2(line + wb, ',');
  uint64_t m = 0;
  for (size_t k = 0; wb + k < len; k++) m |= (uint64_t)(line[wb + k] == ',') << k;
  return m;
}

/* The first comma at or after i (< len), or len. The 64 bytes at *wb
 * (their commas *m) are looked at once for the several fields they hold:
 * a call to memchr per field cost more than the split's own work. */
static size_t next_comma(const char *line, size_t len, size_t i, size_t *wb, uint64_t *m) {
  for (;;) {
    if (i >= *wb && i - *wb < 64) {
      uint64_t x = *m & (~0ull << (i - *wb));
      if (x) return *wb + (size_t)__builtin_ctzll(x);
      if (len - *wb <= 64) return len;
      i = *wb + 64;
    }
    *wb = i;
    *m = commas64(line, len, i);
  }
}

/* The first max fields of a CSV row (sets r->partial when the row has
 * more). */
static void split_csv(exhi_logrec *r, const char *line, size_t len, size_t max) {
  size_t i = 0, n = 0, wb = SIZE_MAX;
  uint64_t cm = 0;
  if (max > EXHI_LOG_MAX_FIELDS) max = EXHI_LOG_MAX_FIELDS;
  r->partial = 0;
  for (;;) {
    if (n == max) {
      /* The row goes on past the field before (or has one at least). */
      r->partial = max < EXHI_LOG_MAX_FIELDS;
      break;
    }
    exhi_logval *v = &r->v[n++];
    v->escaped = 0;
    if (i < len && line[i] == '"') {
      size_t a = ++i;
      for (;;) {
        if (i >= len) break;
        if (line[i] == '"') {
          if (i + 1 < len && line[i + 1] == '"') {
            v->escaped = 1;
            i += 2;
            continue;
          }
          break;
        }
        i++;
      }
      v->p = line + a;
      v->len = (uint32_t)(i - a);
      if (i < len) i++; /* closing quote */
      /* Anything between the quote and the comma is kept out: malformed. */
      while (i < len && line[i] != ',') i++;
    } else {
      size_t a = i;
      i = i < len ? next_comma(line, len, i, &wb, &cm) : len;
      v->p = line + a;
      v->len = (uint32_t)(i - a);
    }
    if (i >= len) break;
    i++; /* the comma */
  }
  r->nvals = n;
}

static void split_w3c(exhi_logrec *r, const exhi_logschema *s, const char *line, size_t len) {
  size_t tok_a[EXHI_LOG_MAX_FIELDS + 1], tok_b[EXHI_LOG_MAX_FIELDS + 1];
  size_t nt = 0, i = 0;
  /* Tokens beyond the bound are folded into the last one. */
  while (i < len) {
    while (i < len && line[i] == ' ') i++;
    if (i >= len) break;
    size_t a = i;
    while (i < len && line[i] != ' ') i++;
    if (nt < EXHI_LOG_MAX_FIELDS + 1) {
      tok_a[nt] = a;
      tok_b[nt] = i;
      nt++;
    } else {
      tok_b[nt - 1] = i;
    }
  }
  size_t nf = s->nfields;
  int ua = s->ua_col;
  size_t extra = nt > nf ? nt - nf : 0;
  size_t n = 0;
  for (size_t t = 0; t < nt && n < EXHI_LOG_MAX_FIELDS; n++) {
    size_t a = tok_a[t], b = tok_b[t];
    if (extra && ua >= 0 && n == (size_t)ua) {
      /* A user agent written with spaces (hand-edited or converted logs):
       * the columns after it are bound from the end. */
      b = tok_b[t + extra];
      t += extra + 1;
    } else {
      t++;
    }
    r->v[n].p = line + a;
    r->v[n].len = (uint32_t)(b - a);
    r->v[n].escaped = 0;
  }
  r->nvals = n;
}

/* The first ncols tokens of a W3C line, when they come before the user
 * agent (whose spaces would shift the columns after it). */
static int split_w3c_head(exhi_logrec *r, const exhi_logschema *s, const char *line, size_t len,
                          size_t ncols) {
  if (ncols > s->nfields || ncols > EXHI_LOG_MAX_FIELDS || (s->ua_col >= 0 && ncols > (size_t)s->ua_col))
    return 0;
  size_t n = 0, i = 0;
  while (n < ncols && i < len) {
    while (i < len && line[i] == ' ') i++;
    if (i >= len) break;
    size_t a = i;
    const char *sp = memchr(line + i, ' ', len - i);
    i = sp ? (size_t)(sp - line) : len;
    r->v[n].p = line + a;
    r->v[n].len = (uint32_t)(i - a);
    r->v[n].escaped = 0;
    n++;
  }
  r->nvals = n;
  /* A short line was split whole. */
  r->partial = n == ncols && i < len;
  return 1;
}

void exhi_logrec_split(exhi_logrec *r, const exhi_logschema *s, const char *line, size_t len) {
  while (len && (line[len - 1] == '\n' || line[len - 1] == '\r')) len--;
  r->schema = s;
  r->line = line;
  r->len = len;
  r->nvals = 0;
  r->partial = 0;
  if (s->syntax == EXHI_SYN_CSV) split_csv(r, line, len, EXHI_LOG_MAX_FIELDS);
  else if (s->syntax == EXHI_SYN_W3C) split_w3c(r, s, line, len);
}

void exhi_logrec_split_upto(exhi_logrec *r, const exhi_logschema *s, const char *line, size_t len,
                            size_t ncols) {
  size_t l = len;
  while (l && (line[l - 1] == '\n' || line[l - 1] == '\r')) l--;
  if (s->syntax == EXHI_SYN_W3C) {
    r->schema = s;
    r->line = line;
    r->len = l;
    if (split_w3c_head(r, s, line, l, ncols)) return;
  } else if (s->syntax == EXHI_SYN_CSV) {
    /* Columns are counted from the start: the first ones bind as in a
     * whole split. */
    r->schema = s;
    r->line = line;
    r->len = l;
    r->nvals = 0;
    split_csv(r, line, l, ncols);
    return;
  }
  exhi_logrec_split(r, s, line, len);
}

const char *exhi_logrec_value(const exhi_logrec *r, int col, char *buf, size_t size,
                              size_t *len) {
  *len = 0;
  if (col < 0 || (size_t)col >= r->nvals) return NULL;
  const exhi_logval *v = &r->v[col];
  if (!v->escaped) {
    *len = v->len;
    return v->p;
  }
  size_t o = 0;
  for (size_t i = 0; i < v->len && o + 1 < size; i++) {
    buf[o++] = v->p[i];
    if (v->p[i] == '"' && i + 1 < v->len && v->p[i + 1] == '"') i++;
  }
  buf[o] = '\0';
  *len = o;
  return buf;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * algorithm): no timegm, no locale, no locks in the scanning loop. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = (unsigned)(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (int64_t)doe - 719468;
}

static int num(const char *p, size_t n) {
  int v = 0;
  for (size_t i = 0; i < n; i++) v = v * 10 + (p[i] - '0');
  return v;
}

static int64_t compose(const char *d, const char *t, size_t tlen) {
  if (!is_digits(d, 4) || d[4] != '-' || !is_digits(d + 5, 2) || d[7] != '-' ||
      !is_digits(d + 8, 2))
    return -1;
  if (tlen < 8 || !is_digits(t, 2) || t[2] != ':' || !is_digits(t + 3, 2) || t[5] != ':' ||
      !is_digits(t + 6, 2))
    return -1;
  int y = num(d, 4), mo = num(d + 5, 2), da = num(d + 8, 2);
  int h = num(t, 2), mi = num(t + 3, 2), se = num(t + 6, 2);
  if (mo < 1 || mo > 12 || da < 1 || da > 31 || h > 23 || mi > 59 || se > 60) return -1;
  int ms = 0;
  if (tlen > 9 && t[8] == '.') {
    size_t k = 9;
    int scale = 100;
    while (k < tlen && t[k] >= '0' && t[k] <= '9') {
      if (scale) ms += (t[k] - '0') * scale;
      scale /= 10;
      k++;
    }
  }
  return (days_from_civil(y, (unsigned)mo, (unsigned)da) * 86400 + h * 3600 + mi * 60 + se) *
             1000 + ms;
}

int64_t exhi_parse_iso_ms(const char *p, size_t len) {
  if (len < 19 || (p[10] != 'T' && p[10] != ' ')) return -1;
  return compose(p, p + 11, len - 11);
}

int64_t exhi_parse_w3c_ms(const char *d, size_t dlen, const char *t, size_t tlen) {
  if (dlen < 10) return -1;
  return compose(d, t, tlen);
}

int64_t exhi_logrec_time(const exhi_logrec *r) {
  const exhi_logschema *s = r->schema;
  if (s->time_col < 0 || (size_t)s->time_col >= r->nvals) return -1;
  const exhi_logval *t = &r->v[s->time_col];
  if (s->date_col >= 0) {
    if ((size_t)s->date_col >= r->nvals) return -1;
    const exhi_logval *d = &r->v[s->date_col];
    return exhi_parse_w3c_ms(d->p, d->len, t->p, t->len);
  }
  return exhi_parse_iso_ms(t->p, t->len);
}
