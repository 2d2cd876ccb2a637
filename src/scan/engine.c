/*
 * The scan engine: libcurl's multi-socket interface on epoll. Each host is
 * a small state machine of GET requests on one connection (curl reuses it):
 *   logon page -> [exporttool manifest] -> [/owa/service] -> [probe]
 * The later steps run only on Exchange hosts and only while the exact
 * build is still unknown (fingerprint.md §5: "one HTTP pass per host").
 * Nothing sent changes a server's state: GET only, no body, no credentials.
 *
 * Network safety: every socket curl opens goes through opensocket_cb,
 * which refuses any address the policy blocks, so neither a host name, a
 * zgrab2 DOMAIN nor a redirect can lead a connection elsewhere. Redirects
 * are followed by hand and only to the same host.
 */
#include "scan/scan.h"
#include "core/dl_curl.h" /* libcurl, loaded on first use */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#define PATH_LOGON "/owa/auth/logon.aspx"
#define PATH_MANIFEST "/ecp/Current/exporttool/microsoft.exchange.ediscovery.exporttool.application"
#define PATH_SERVICE "/owa/service"
#define PATH_PROBE "/owa/auth/x.js"
/* Microsoft's check for CVE-2021-26855 (CSS-Exchange nmap script;
 * detections.md §3): a patched front end does not route by these. */
#define PROBE_COOKIE                                                        \
  "X-AnonResource=true; X-AnonResource-Backend=localhost/ecp/default.flt?~3; " \
  "X-BEResource=localhost/owa/auth/logon.aspx?~3;"

enum step { ST_LOGON, ST_MANIFEST, ST_SERVICE, ST_PROBE, ST_DONE };

typedef struct host {
  struct engine *eng;
  CURL *easy;
  exhi_scan_result r;
  int step;
  unsigned attempts, redirects;
  char path[EXHI_SCAN_LOCATION_MAX];
  char base[EXHI_SCAN_NAME_MAX + 80]; /* "https://name:port" */
  char connect_to[EXHI_SCAN_NAME_MAX + 80];
  struct curl_slist *connect_list;
  exhi_scan_resp resp;
  char *body;
  size_t body_len, body_cap;
  bool truncated;
  bool refused; /* opensocket said no */
  size_t slot;  /* in engine.live while in flight */
  char errbuf[CURL_ERROR_SIZE];
} host;

typedef struct engine {
  CURLM *multi;
  int epfd;
  long timer_ms; /* -1: none */
  const exhi_scan_policy *policy;
  const exhi_scan_opts *opts;
  host **free_hosts;
  size_t nfree;
  host **live; /* hosts in flight, to free them if the scan stops early */
  size_t nlive;
  unsigned active;
} engine;

static int64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Records "what: detail" (detail may be ""). */
static void add_error(exhi_scan_result *r, const char *what, const char *detail) {
  if (r->nerrors >= EXHI_SCAN_MAX_ERRORS) return;
  snprintf(r->errors[r->nerrors++], sizeof r->errors[0], "%s%s%s", what, *detail ? ": " : "", detail);
}

/* ---- curl callbacks ------------------------------------------------------ */

static curl_socket_t opensocket_cb(void *user, curlsocktype purpose, struct curl_sockaddr *a) {
  host *h = user;
  (void)purpose;
  uint8_t addr[16];
  int family;
  if (a->family == AF_INET) {
    memcpy(addr, &((struct sockaddr_in *)(void *)&a->addr)->sin_addr, 4);
    family = 4;
  } else if (a->family == AF_INET6) {
    memcpy(addr, &((struct sockaddr_in6 *)(void *)&a->addr)->sin6_addr, 16);
    family = 6;
  } else {
    h->refused = true;
    return CURL_SOCKET_BAD;
  }
  if (exhi_scan_policy_check(h->eng->policy, family, addr)) {
    h->refused = true;
    return CURL_SOCKET_BAD;
  }
  return socket(a->family, a->socktype, a->protocol);
}

static size_t header_cb(char *buf, size_t size, size_t n, void *user) {
  host *h = user;
  exhi_scan_header_line(&h->resp, buf, size * n);
  /* X-OWA-Version may come on any response, a redirect included. */
  if (h->resp.has_owa_version && !h->r.header_exact) {
    exh_build b;
    if (exhi_scan_exact_build(h->resp.owa_version, &b)) {
      h->r.header_build = b;
      h->r.header_exact = true;
    }
  }
  return size * n;
}

static size_t write_cb(char *buf, size_t size, size_t n, void *user) {
  host *h = user;
  size_t len = size * n;
  if (h->body_len + len > EXHI_SCAN_BODY_MAX) {
    h->truncated = true;
    return 0; /* stop reading: what we need is at the start of the page */
  }
  if (h->body_len + len > h->body_cap) {
    size_t nc = h->body_cap ? h->body_cap : 16384;
    while (nc < h->body_len + len) nc *= 2;
    if (nc > EXHI_SCAN_BODY_MAX) nc = EXHI_SCAN_BODY_MAX;
    char *nb = realloc(h->body, nc);
    if (!nb) return 0;
    h->body = nb;
    h->body_cap = nc;
  }
  memcpy(h->body + h->body_len, buf, len);
  h->body_len += len;
  return len;
}

static int socket_cb(CURL *easy, curl_socket_t s, int what, void *user, void *sockp) {
  engine *e = user;
  (void)easy;
  if (what == CURL_POLL_REMOVE) {
    epoll_ctl(e->epfd, EPOLL_CTL_DEL, s, NULL);
    return 0;
  }
  struct epoll_event ev = {0};
  ev.data.fd = s;
  if (what & CURL_POLL_IN) ev.events |= EPOLLIN;
  if (what & CURL_POLL_OUT) ev.events |= EPOLLOUT;
  if (!sockp) {
    if (epoll_ctl(e->epfd, EPOLL_CTL_ADD, s, &ev) != 0 && errno == EEXIST)
      epoll_ctl(e->epfd, EPOLL_CTL_MOD, s, &ev);
    curl_multi_assign(e->multi, s, (void *)1);
  } else if (epoll_ctl(e->epfd, EPOLL_CTL_MOD, s, &ev) != 0 && errno == ENOENT) {
    epoll_ctl(e->epfd, EPOLL_CTL_ADD, s, &ev);
  }
  return 0;
}

static int timer_cb(CURLM *multi, long ms, void *user) {
  (void)multi;
  ((engine *)user)->timer_ms = ms;
  return 0;
}

/* ---- hosts ----------------------------------------------------------------- */

static int host_request(host *h) {
  char url[sizeof h->base + sizeof h->path];
  snprintf(url, sizeof url, "%s%s", h->base, h->path);
  memset(&h->resp, 0, sizeof h->resp);
  h->body_len = 0;
  h->truncated = false;
  h->refused = false;
  h->errbuf[0] = '\0';
  curl_easy_setopt(h->easy, CURLOPT_URL, url);
  curl_easy_setopt(h->easy, CURLOPT_COOKIE, h->step == ST_PROBE ? PROBE_COOKIE : NULL);
  /* Certificate details are read once, from the request that made the
   * handshake; later requests reuse the connection. */
  curl_easy_setopt(h->easy, CURLOPT_CERTINFO, h->r.requests == 0 && !h->eng->opts->plain_http ? 1L : 0L);
  h->r.requests++;
  return curl_multi_add_handle(h->eng->multi, h->easy) == CURLM_OK ? 0 : -1;
}

static void host_setup(host *h, const exhi_scan_opts *o) {
  CURL *c = h->easy;
  curl_easy_reset(c);
  curl_easy_setopt(c, CURLOPT_PRIVATE, h);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, h);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_cb);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, h);
  curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, opensocket_cb);
  curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, h);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->errbuf);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_NOPROXY, "*"); /* never via a proxy from the environment */
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, o->timeout_ms);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, o->timeout_ms);
  curl_easy_setopt(c, CURLOPT_USERAGENT, o->user_agent);
  /* A scanner reads certificates; it does not trust them. */
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
  /* Nothing is verified, so no CA store to load for each connection. */
  curl_easy_setopt(c, CURLOPT_CAINFO, NULL);
  curl_easy_setopt(c, CURLOPT_CAPATH, NULL);
  curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
}

/* "Nov 25 10:00:00 2027 GMT" (OpenSSL's ASN1_TIME_print) -> RFC 3339. */
static void expiry_rfc3339(const char *s, char *out, size_t size) {
  static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
  char mon[4];
  int d, hh, mm, ss, y;
  out[0] = '\0';
  if (sscanf(s, "%3s %d %d:%d:%d %d", mon, &d, &hh, &mm, &ss, &y) != 6) return;
  const char *m = strstr(months, mon);
  if (!m || (m - months) % 3) return;
  snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, (int)((m - months) / 3) + 1, d, hh, mm, ss);
}

static void read_certinfo(host *h) {
  struct curl_certinfo *ci = NULL;
  if (curl_easy_getinfo(h->easy, CURLINFO_CERTINFO, &ci) != CURLE_OK || !ci || ci->num_of_certs < 1) return;
  h->r.tls = true;
  for (struct curl_slist *s = ci->certinfo[0]; s; s = s->next) {
    const char *d = s->data;
    if (!strncmp(d, "Subject:", 8)) exhi_strlcpy(h->r.tls_subject, d + 8, sizeof h->r.tls_subject);
    else if (!strncmp(d, "Issuer:", 7)) exhi_strlcpy(h->r.tls_issuer, d + 7, sizeof h->r.tls_issuer);
    else if (!strncmp(d, "Expire date:", 12)) expiry_rfc3339(d + 12, h->r.tls_not_after, sizeof h->r.tls_not_after);
  }
  for (char *p = h->r.tls_subject; *p; p++)
    if ((unsigned char)*p < 0x20) *p = '?';
  for (char *p = h->r.tls_issuer; *p; p++)
    if ((unsigned char)*p < 0x20) *p = '?';
}

/* A Location on the same host gives the path to follow; NULL otherwise. */
static const char *same_host_path(const host *h, const char *loc) {
  if (loc[0] == '/' && loc[1] != '/') return loc;
  size_t n = strlen(h->base);
  if (!strncmp(loc, h->base, n) && (loc[n] == '/' || loc[n] == '\0')) return loc[n] ? loc + n : "/";
  /* "https://name/..." without the port, when the port is the default one */
  const char *scheme = h->eng->opts->plain_http ? "http://" : "https://";
  uint16_t dport = h->eng->opts->plain_http ? 80 : 443;
  if (h->r.t.port == dport) {
    char alt[sizeof h->base];
    const char *name = h->r.t.domain ? h->r.t.domain : h->r.t.ip;
    if (h->r.t.family == 6 && !h->r.t.domain) snprintf(alt, sizeof alt, "%s[%s]", scheme, name);
    else snprintf(alt, sizeof alt, "%s%s", scheme, name);
    n = strlen(alt);
    if (!strncasecmp(loc, alt, n) && (loc[n] == '/' || loc[n] == '\0')) return loc[n] ? loc + n : "/";
  }
  return NULL;
}

static bool transient(CURLcode rc) {
  switch (rc) {
  case CURLE_COULDNT_CONNECT: case CURLE_OPERATION_TIMEDOUT: case CURLE_SSL_CONNECT_ERROR:
  case CURLE_RECV_ERROR: case CURLE_SEND_ERROR: case CURLE_GOT_NOTHING: case CURLE_COULDNT_RESOLVE_HOST:
    return true;
  default:
    return false;
  }
}

static bool contains_ci(const char *s, const char *w) {
  size_t n = strlen(w), len = strlen(s);
  for (size_t i = 0; i + n <= len; i++)
    if (exhi_ascii_ieq(s + i, n, w)) return true;
  return false;
}

static int next_step(host *h) {
  exhi_scan_result *r = &h->r;
  bool exact = r->header_exact || r->manifest_exact || (r->page.found && r->page.build.parts == 4);
  for (int s = h->step + 1; s < ST_DONE; s++) {
    if (!r->is_exchange) return ST_DONE;
    if ((s == ST_MANIFEST || s == ST_SERVICE) && !exact) return s;
    if (s == ST_PROBE && h->eng->opts->probe_proxylogon) return s;
  }
  return ST_DONE;
}

/* One request finished: read it, then choose the next one. Returns true
 * when the host is done. */
static bool host_finished(host *h, CURLcode rc) {
  exhi_scan_result *r = &h->r;
  long connect_code = 0;
  curl_easy_getinfo(h->easy, CURLINFO_HTTP_CONNECTCODE, &connect_code);
  if (!r->t.ip[0]) {
    char *ip = NULL;
    if (curl_easy_getinfo(h->easy, CURLINFO_PRIMARY_IP, &ip) == CURLE_OK && ip && *ip)
      exhi_strlcpy(r->t.ip, ip, sizeof r->t.ip);
  }
  if (h->r.requests == 1 || !r->tls) read_certinfo(h);
  if (rc == CURLE_WRITE_ERROR && h->truncated) rc = CURLE_OK; /* we stopped reading on purpose */
  if (rc != CURLE_OK) {
    if (h->refused) {
      r->blocked = true;
      add_error(r, "connection refused by exhunt's address policy (blocklist/--only)", "");
      return true;
    }
    if (h->step == ST_PROBE && (rc == CURLE_GOT_NOTHING || rc == CURLE_RECV_ERROR)) {
      r->probe = EXHI_PROBE_ABORTED;
      snprintf(r->probe_detail, sizeof r->probe_detail,
               "the server dropped the request (as a URL Rewrite mitigation does): %s", h->errbuf);
      return true;
    }
    if (transient(rc) && h->attempts < h->eng->opts->retries) {
      h->attempts++;
      return host_request(h) != 0;
    }
    const char *what = h->step == ST_LOGON ? "logon page" : h->step == ST_MANIFEST ? "exporttool manifest"
                     : h->step == ST_SERVICE ? "/owa/service" : "proxylogon probe";
    add_error(r, what, h->errbuf[0] ? h->errbuf : curl_easy_strerror(rc));
    if (h->step == ST_PROBE) {
      r->probe = EXHI_PROBE_ERROR;
      exhi_strlcpy(r->probe_detail, h->errbuf[0] ? h->errbuf : curl_easy_strerror(rc), sizeof r->probe_detail);
      return true;
    }
    if (h->step == ST_LOGON) return true;
  } else {
    r->connected = true;
    h->attempts = 0;
    long status = h->resp.status;
    switch (h->step) {
    case ST_LOGON: {
      r->http_status = (int)status;
      if (status >= 300 && status < 400 && h->resp.has_location) {
        const char *p = same_host_path(h, h->resp.location);
        if (p && h->redirects < EXHI_SCAN_MAX_REDIRECTS && strlen(p) < sizeof h->path) {
          h->redirects++;
          exhi_strlcpy(h->path, p, sizeof h->path);
          return host_request(h) != 0;
        }
        exhi_strlcpy(r->redirect, h->resp.location, sizeof r->redirect);
        if (!p) break; /* another host: Exchange Online, a portal. Not followed. */
        add_error(r, "logon page: too many redirects", "");
        break;
      }
      if (status == 200) exhi_scan_logon_page(h->body ? h->body : "", h->body_len, &r->page);
      break;
    }
    case ST_MANIFEST:
      if (status == 200 && h->body_len &&
          exhi_scan_manifest_build(h->body, h->body_len, &r->manifest_build, NULL) == EXH_OK)
        r->manifest_exact = true;
      break;
    case ST_SERVICE:
      break; /* the header callback did the work */
    case ST_PROBE:
      if (h->resp.has_be_target && contains_ci(h->resp.be_target, "localhost")) {
        r->probe = EXHI_PROBE_VULNERABLE;
        snprintf(r->probe_detail, sizeof r->probe_detail, "X-CalculatedBETarget: %s", h->resp.be_target);
      } else {
        r->probe = EXHI_PROBE_NOT_VULNERABLE;
        if (h->resp.has_be_target)
          snprintf(r->probe_detail, sizeof r->probe_detail,
                   "X-CalculatedBETarget without localhost (%s): Exchange Online and hybrid front ends send it on every answer",
                   h->resp.be_target);
        else
          snprintf(r->probe_detail, sizeof r->probe_detail, "HTTP %ld without X-CalculatedBETarget", status);
      }
      return true;
    }
  }
  r->is_exchange = r->page.is_owa || r->header_exact || r->manifest_exact;
  h->step = next_step(h);
  if (h->step == ST_DONE) return true;
  h->redirects = 0;
  exhi_strlcpy(h->path, h->step == ST_MANIFEST ? PATH_MANIFEST : h->step == ST_SERVICE ? PATH_SERVICE : PATH_PROBE,
               sizeof h->path);
  return host_request(h) != 0;
}

static host *host_get(engine *e) {
  host *h;
  if (e->nfree) {
    h = e->free_hosts[--e->nfree];
  } else {
    h = calloc(1, sizeof *h);
    if (!h) return NULL;
    h->easy = curl_easy_init();
    if (!h->easy) {
      free(h);
      return NULL;
    }
  }
  h->eng = e;
  return h;
}

static void host_put(engine *e, host *h) {
  curl_slist_free_all(h->connect_list);
  h->connect_list = NULL;
  /* Keep the easy handle and body buffer for the next host. */
  char *body = h->body;
  size_t cap = h->body_cap;
  CURL *easy = h->easy;
  memset(h, 0, sizeof *h);
  h->body = body;
  h->body_cap = cap;
  h->easy = easy;
  e->free_hosts[e->nfree++] = h;
}

static void host_destroy(host *h) {
  curl_easy_cleanup(h->easy);
  curl_slist_free_all(h->connect_list);
  free(h->body);
  free(h);
}

/* Starts a host; false if it could not be started (out of memory). */
static bool host_start(engine *e, const exhi_target *t, uint64_t index) {
  host *h = host_get(e);
  if (!h) return false;
  h->r.t = *t;
  h->r.index = index;
  h->r.time_ms = exhi_now_ms();
  h->step = ST_LOGON;
  exhi_strlcpy(h->path, PATH_LOGON, sizeof h->path);
  const char *scheme = e->opts->plain_http ? "http" : "https";
  char ipb[64];
  if (t->family == 6) snprintf(ipb, sizeof ipb, "[%s]", t->ip);
  else snprintf(ipb, sizeof ipb, "%s", t->ip);
  if (t->domain) {
    snprintf(h->base, sizeof h->base, "%s://%s:%u", scheme, t->domain, (unsigned)t->port);
    if (t->family) { /* pin the name to the given address: no DNS, SNI = DOMAIN */
      snprintf(h->connect_to, sizeof h->connect_to, "%s:%u:%s:%u", t->domain, (unsigned)t->port, ipb,
               (unsigned)t->port);
      h->connect_list = curl_slist_append(NULL, h->connect_to);
      if (!h->connect_list) {
        host_put(e, h);
        return false;
      }
    }
  } else {
    snprintf(h->base, sizeof h->base, "%s://%s:%u", scheme, ipb, (unsigned)t->port);
  }
  host_setup(h, e->opts);
  if (h->connect_list) curl_easy_setopt(h->easy, CURLOPT_CONNECT_TO, h->connect_list);
  /* An address needs no DNS; caching its entry anyway would grow the
   * multi handle's DNS cache with every host, and curl prunes that cache by
   * walking all of it: the scan would slow down as it goes. */
  if (t->family) curl_easy_setopt(h->easy, CURLOPT_DNS_CACHE_TIMEOUT, 0L);
  if (host_request(h) != 0) {
    host_put(e, h);
    return false;
  }
  e->active++;
  h->slot = e->nlive;
  e->live[e->nlive++] = h;
  return true;
}

static int drain(engine *e, exhi_scan_done_fn done, void *user, exhi_scan_stats *stats) {
  CURLMsg *m;
  int left;
  while ((m = curl_multi_info_read(e->multi, &left)) != NULL) {
    if (m->msg != CURLMSG_DONE) continue;
    host *h = NULL;
    curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&h);
    CURLcode rc = m->data.result;
    curl_multi_remove_handle(e->multi, m->easy_handle);
    if (!host_finished(h, rc)) continue;
    e->active--;
    e->live[h->slot] = e->live[--e->nlive];
    e->live[h->slot]->slot = h->slot;
    stats->scanned++;
    int st = done(&h->r, user);
    host_put(e, h);
    if (st) return st;
  }
  return 0;
}

int exhi_scan_run(const exhi_targets *t, const exhi_perm *perm, uint64_t shard, uint64_t nshards,
                  const exhi_scan_policy *policy, const exhi_scan_opts *opts,
                  exhi_scan_skip_fn skip, exhi_scan_done_fn done, void *user,
                  volatile int *stop, exhi_scan_stats *stats, exh_error *err) {
  memset(stats, 0, sizeof *stats);
  if (opts->concurrency < 1 || opts->concurrency > EXHI_SCAN_MAX_CONCURRENCY)
    return exhi_err(err, EXH_ERR_INVALID, "--concurrency", 0, -1, "must be 1 to %d", EXHI_SCAN_MAX_CONCURRENCY);
  if (nshards < 1 || shard >= nshards)
    return exhi_err(err, EXH_ERR_INVALID, "--shard", 0, -1, "shard must be below the number of shards");
  /* Loads libcurl and initialises it, once per process for every thread. */
  int loaded = exhi_dl_curl(err);
  if (loaded) return loaded;
  engine e = {.timer_ms = -1, .policy = policy, .opts = opts};
  e.epfd = epoll_create1(EPOLL_CLOEXEC);
  e.multi = curl_multi_init();
  e.free_hosts = calloc(opts->concurrency, sizeof *e.free_hosts);
  e.live = calloc(opts->concurrency, sizeof *e.live);
  int rc = EXH_OK;
  if (e.epfd < 0 || !e.multi || !e.free_hosts || !e.live) {
    rc = exhi_err(err, EXH_ERR_NOMEM, "scan", 0, -1, "could not set up the event loop");
    goto out;
  }
  curl_multi_setopt(e.multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
  curl_multi_setopt(e.multi, CURLMOPT_SOCKETDATA, &e);
  curl_multi_setopt(e.multi, CURLMOPT_TIMERFUNCTION, timer_cb);
  curl_multi_setopt(e.multi, CURLMOPT_TIMERDATA, &e);
  /* One idle connection per host in flight, so its next request reuses it. */
  curl_multi_setopt(e.multi, CURLMOPT_MAXCONNECTS, (long)opts->concurrency);

  uint64_t pos = shard, started = 0;
  int64_t t0 = mono_ms();
  struct epoll_event evs[256];
  for (;;) {
    bool stopping = stop && *stop;
    if (stop && *stop > 1) break; /* asked twice: leave hosts in flight (resume rescans them) */
    /* Start hosts while there is room and the rate allows. */
    int64_t wait_rate = -1;
    while (!stopping && pos < perm->n && e.active < opts->concurrency) {
      if (opts->rate > 0) {
        double due_ms = (double)started * 1000.0 / opts->rate;
        int64_t now = mono_ms() - t0;
        if ((double)now < due_ms) {
          wait_rate = (int64_t)(due_ms - (double)now) + 1;
          break;
        }
      }
      uint64_t idx = exhi_perm_at(perm, pos);
      pos += nshards;
      if (skip && skip(idx, user)) {
        stats->skipped_done++;
        continue;
      }
      exhi_target tg;
      exhi_targets_get(t, idx, opts->port, &tg);
      if (tg.family && exhi_scan_policy_check(policy, tg.family, tg.addr)) {
        stats->skipped_policy++;
        continue;
      }
      if (!host_start(&e, &tg, idx)) {
        rc = exhi_err(err, EXH_ERR_NOMEM, "scan", 0, -1, "out of memory starting a host");
        goto out;
      }
      started++;
    }
    if (e.active == 0 && (stopping || pos >= perm->n)) break;
    long wait = e.timer_ms;
    if (wait_rate >= 0 && (wait < 0 || wait_rate < wait)) wait = (long)wait_rate;
    if (wait < 0 || wait > 200) wait = 200; /* look at *stop now and then */
    int n = epoll_wait(e.epfd, evs, (int)EXHI_ARRAY_LEN(evs), (int)wait);
    int running;
    if (n < 0 && errno != EINTR) {
      rc = exhi_err(err, EXH_ERR_IO, "scan", 0, -1, "epoll_wait: %s", strerror(errno));
      goto out;
    }
    if (n <= 0) {
      curl_multi_socket_action(e.multi, CURL_SOCKET_TIMEOUT, 0, &running);
    } else {
      for (int i = 0; i < n; i++) {
        int fl = 0;
        if (evs[i].events & (EPOLLIN | EPOLLHUP)) fl |= CURL_CSELECT_IN;
        if (evs[i].events & EPOLLOUT) fl |= CURL_CSELECT_OUT;
        if (evs[i].events & EPOLLERR) fl |= CURL_CSELECT_ERR;
        curl_multi_socket_action(e.multi, evs[i].data.fd, fl, &running);
      }
      /* Timers due meanwhile (timeouts of hosts that send nothing). */
      curl_multi_socket_action(e.multi, CURL_SOCKET_TIMEOUT, 0, &running);
    }
    if (drain(&e, done, user, stats)) {
      rc = exhi_err(err, EXH_ERR_IO, "output", 0, -1, "write failed; scan stopped");
      goto out;
    }
  }
out:
  stats->interrupted = e.active;
  if (e.multi) {
    /* Hosts still in flight (a second Ctrl-C, an error) are dropped; they
     * are not reported, so a resumed scan does them again. */
    for (size_t i = 0; i < e.nlive; i++) {
      curl_multi_remove_handle(e.multi, e.live[i]->easy);
      host_destroy(e.live[i]);
    }
  }
  free(e.live);
  for (size_t i = 0; i < e.nfree; i++) host_destroy(e.free_hosts[i]);
  free(e.free_hosts);
  if (e.multi) curl_multi_cleanup(e.multi);
  if (e.epfd >= 0) close(e.epfd);
  /* No curl_global_cleanup: the global state is set up once per process
   * (exhi_dl_curl) and shared with every later scan or pull. */
  return rc;
}
