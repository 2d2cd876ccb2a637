/* `exhunt ioc pull URL`: a conditional GET with libcurl, retried on
 * transient failures, and the body imported in one transaction together
 * with the feed's new ETag / Last-Modified (a failed import keeps the old
 * validators, so the next pull fetches the body again). */
#include "ioc.h"
#include "core/dl_sqlite.h" /* libsqlite3, loaded by exh_ioc_store_open */
#include "core/dl_curl.h" /* libcurl, loaded on first use */

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* An ETag or date header is a few dozen bytes; longer ones are not kept. */
#define VALIDATOR_MAX 512
/* Redirects followed: a CDN hop or two. */
#define MAX_REDIRECTS 5

typedef struct body {
  char *data;
  size_t len, cap;
  bool too_big;
} body;

typedef struct hdrs {
  char etag[VALIDATOR_MAX], last_modified[VALIDATOR_MAX];
} hdrs;

static size_t on_body(char *p, size_t size, size_t nmemb, void *ctx) {
  body *b = ctx;
  size_t n = size * nmemb;
  if (b->len + n > EXH_IOC_PULL_MAX_BYTES) {
    b->too_big = true;
    return 0; /* aborts the transfer */
  }
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 65536;
    while (cap < b->len + n + 1) cap *= 2;
    char *nd = realloc(b->data, cap);
    if (!nd) return 0;
    b->data = nd;
    b->cap = cap;
  }
  memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = '\0';
  return n;
}

static void header_value(const char *line, size_t n, size_t name_len, char *out, size_t size) {
  const char *v = line + name_len;
  const char *end = line + n;
  while (v < end && (*v == ' ' || *v == '\t')) v++;
  while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ')) end--;
  size_t len = (size_t)(end - v);
  if (len >= size) return; /* not a real validator: keep none */
  memcpy(out, v, len);
  out[len] = '\0';
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *ctx) {
  hdrs *h = ctx;
  size_t n = size * nmemb;
  /* A new response (after a redirect) starts with its status line. */
  if (n >= 5 && !strncmp(p, "HTTP/", 5)) h->etag[0] = h->last_modified[0] = '\0';
  if (n > 5 && !strncasecmp(p, "ETag:", 5)) header_value(p, n, 5, h->etag, sizeof h->etag);
  if (n > 14 && !strncasecmp(p, "Last-Modified:", 14))
    header_value(p, n, 14, h->last_modified, sizeof h->last_modified);
  return n;
}

typedef struct feed_update {
  const char *url;
  const hdrs *h;
  long status;
} feed_update;

static int save_feed(exh_ioc_store *s, void *ctx, exh_error *err) {
  feed_update *f = ctx;
  char now[40];
  exhi_format_time_ms(exhi_now_ms(), now, sizeof now);
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(s->db,
                         "INSERT OR REPLACE INTO feeds(url, etag, last_modified, fetched_at, status) "
                         "VALUES(?1, ?2, ?3, ?4, ?5)",
                         -1, &st, NULL) != SQLITE_OK)
    return exhi_err(err, EXH_ERR_IO, s->path, 0, -1, "%s", sqlite3_errmsg(s->db));
  sqlite3_bind_text(st, 1, f->url, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, f->h->etag, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 3, f->h->last_modified, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 4, now, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 5, f->status);
  int r = sqlite3_step(st);
  sqlite3_finalize(st);
  if (r != SQLITE_DONE)
    return exhi_err(err, EXH_ERR_IO, s->path, 0, -1, "%s", sqlite3_errmsg(s->db));
  return EXH_OK;
}

static void load_validators(exh_ioc_store *s, const char *url, hdrs *h) {
  sqlite3_stmt *st;
  h->etag[0] = h->last_modified[0] = '\0';
  if (sqlite3_prepare_v2(s->db, "SELECT etag, last_modified FROM feeds WHERE url = ?1", -1, &st,
                         NULL) != SQLITE_OK)
    return;
  sqlite3_bind_text(st, 1, url, -1, SQLITE_STATIC);
  if (sqlite3_step(st) == SQLITE_ROW) {
    const unsigned char *e = sqlite3_column_text(st, 0), *l = sqlite3_column_text(st, 1);
    snprintf(h->etag, sizeof h->etag, "%s", e ? (const char *)e : "");
    snprintf(h->last_modified, sizeof h->last_modified, "%s", l ? (const char *)l : "");
  }
  sqlite3_finalize(st);
}

static bool transient(CURLcode c, long status) {
  if (c == CURLE_OK) return status == 429 || (status >= 500 && status <= 599);
  return c == CURLE_COULDNT_CONNECT || c == CURLE_OPERATION_TIMEDOUT || c == CURLE_RECV_ERROR ||
         c == CURLE_SEND_ERROR || c == CURLE_GOT_NOTHING || c == CURLE_PARTIAL_FILE ||
         c == CURLE_COULDNT_RESOLVE_HOST;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0) {}
}

int exh_ioc_pull(exh_ioc_store *s, const char *url, const exh_ioc_pull_opts *opts,
                 exh_ioc_pull_result *res, exh_error *err) {
  exh_ioc_pull_opts defaults = {.retries = 0};
  if (!opts) opts = &defaults;
  memset(res, 0, sizeof *res);
  if (!url || (strncasecmp(url, "https://", 8) && strncasecmp(url, "http://", 7)))
    return exhi_err(err, EXH_ERR_INVALID, url ? url : "URL", 0, -1,
                    "only http:// and https:// URLs can be pulled");
  if (s->flags & EXH_IOC_READONLY)
    return exhi_err(err, EXH_ERR_INVALID, s->path, 0, -1, "store opened read-only");
  /* Loads libcurl and initialises it, once per process for every thread. */
  int loaded = exhi_dl_curl(err);
  if (loaded) return loaded;
  hdrs old;
  load_validators(s, url, &old);
  CURL *c = curl_easy_init();
  if (!c) return exhi_err(err, EXH_ERR_NOMEM, url, 0, -1, "out of memory");
  struct curl_slist *req = NULL;
  char line[VALIDATOR_MAX + 32];
  if (!opts->force && old.etag[0]) {
    snprintf(line, sizeof line, "If-None-Match: %s", old.etag);
    req = curl_slist_append(req, line);
  }
  if (!opts->force && old.last_modified[0]) {
    snprintf(line, sizeof line, "If-Modified-Since: %s", old.last_modified);
    req = curl_slist_append(req, line);
  }
  body b = {0};
  hdrs h;
  char cerr[CURL_ERROR_SIZE];
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, (long)MAX_REDIRECTS);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, req);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "exhunt/" EXH_VERSION);
  curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, ""); /* gzip etc. as libcurl supports */
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &h);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, opts->timeout_s > 0 ? opts->timeout_s : 120L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)EXH_IOC_PULL_MAX_BYTES);
  if (opts->cacert) curl_easy_setopt(c, CURLOPT_CAINFO, opts->cacert);

  int rc = EXH_OK;
  long backoff = opts->backoff_ms > 0 ? opts->backoff_ms : 0;
  CURLcode cc = CURLE_OK;
  for (int attempt = 0;; attempt++) {
    b.len = 0;
    b.too_big = false;
    memset(&h, 0, sizeof h);
    cerr[0] = '\0';
    res->attempts = attempt + 1;
    cc = curl_easy_perform(c);
    res->http_status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &res->http_status);
    if (attempt >= opts->retries || !transient(cc, res->http_status) || b.too_big) break;
    if (backoff) sleep_ms(backoff);
    backoff *= 2;
  }
  if (b.too_big || cc == CURLE_FILESIZE_EXCEEDED) {
    rc = exhi_err(err, EXH_ERR_LIMIT, url, 0, -1, "feed larger than %u bytes: not imported",
                  EXH_IOC_PULL_MAX_BYTES);
  } else if (cc != CURLE_OK) {
    rc = exhi_err(err, EXH_ERR_IO, url, 0, -1, "%s%s%s (after %d attempt%s); nothing imported",
                  curl_easy_strerror(cc), cerr[0] ? ": " : "", cerr, res->attempts,
                  res->attempts == 1 ? "" : "s");
  } else if (res->http_status == 304) {
    res->not_modified = 1;
  } else if (res->http_status != 200) {
    rc = exhi_err(err, EXH_ERR_IO, url, 0, -1, "HTTP status %ld (after %d attempt%s); nothing imported",
                  res->http_status, res->attempts, res->attempts == 1 ? "" : "s");
  } else {
    res->bytes = b.len;
    /* A 200 without validators still records the fetch; the next pull
     * then downloads again, which is all a server without them allows. */
    feed_update fu = {.url = url, .h = &h, .status = res->http_status};
    exh_ioc_import_opts io = opts->import;
    char host[256] = "";
    if (!io.source) {
      /* Default source for a pulled feed: its host, unless the feed names one. */
      const char *p = strstr(url, "://") + 3;
      size_t n = strcspn(p, "/:?#");
      if (n < sizeof host) {
        memcpy(host, p, n);
        host[n] = '\0';
      }
    }
    rc = exhi_ioc_import_txn(s, *host ? host : url, b.data ? b.data : "", b.len, &io, &res->stats,
                             save_feed, &fu, err);
    if (rc != EXH_OK) exhi_err_prefix(err, url);
  }
  free(b.data);
  curl_slist_free_all(req);
  curl_easy_cleanup(c);
  return rc;
}
