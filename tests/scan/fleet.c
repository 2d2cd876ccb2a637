/*
 * exhunt-fleet: an emulated fleet of Exchange (and other) servers for the
 * tests and benchmarks of exhunt scan. One TLS listener answers for every
 * address of 127.0.0.0/8: the destination address of a connection picks
 * the host's profile (build, what leaks it, mitigation, redirect, TLS
 * fault, slowness, half-open), and "exhunt-fleet truth CIDR" prints what
 * a correct scanner must report for each address.
 *
 *   exhunt-fleet serve PORT_FILE [SLOW_MS [plain]]   (plain: HTTP, no TLS)
 *   exhunt-fleet truth CIDR
 *
 * serve listens on 0.0.0.0 at an ephemeral port (written to PORT_FILE), so
 * it refuses to run unless loopback is the only network interface up: run
 * it inside a private network namespace (unshare -n), as the tests do.
 */
#define _GNU_SOURCE /* accept4, memmem, strcasestr */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum kind { K_EXCHANGE, K_PLAIN, K_AWAY, K_TLSFAULT, K_SLOW, K_HALFOPEN, K_CLOSE };
enum leak { L_PATH3 = 1, L_PATH4 = 2, L_HEADER = 4, L_MANIFEST = 8, L_SERVICE = 16, L_LOCALREDIR = 32 };
enum probe { P_NONE, P_VULN, P_PATCHED, P_MITIGATED, P_ONLINE };

typedef struct profile {
  const char *name;
  int kind;
  const char *build; /* what the server runs */
  unsigned leak;
  int probe;
  /* the truth a scanner must find */
  const char *e_build, *e_precision, *e_level, *e_proxylogon, *e_probe;
} profile;

/*
 * Levels: exact builds are patched/unpatched against exhunt's tables
 * (data/); CU-level ones patched (CU released after the fixes), vulnerable
 * (some CVE never fixed on that CU) or undetermined. The ProxyLogon column
 * follows fingerprint.md §2b/§3.8: fixes shipped as the March 2021 SU for
 * 2013 CU21-23 and SP1, 2016 CU8-CU19, 2019 RTM-CU8; 2016 CU20 and 2019 CU9
 * (2021-03-16) include them; 2016 CU7 never got them. Exchange 2010 SP3:
 * CVE-2021-26857 only, fixed by Update Rollup 32 (14.3.513.0).
 * The probe column follows detections.md §3 and fingerprint.md §3.4-5.
 */
static const profile profiles[] = {
    {"e2016-cu19-mar21su-manifest", K_EXCHANGE, "15.1.2176.9", L_PATH3 | L_MANIFEST, P_PATCHED,
     "15.1.2176.9", "exact", "unpatched", "patched", "not_vulnerable"},
    {"e2016-cu19-rtm-header", K_EXCHANGE, "15.1.2176.2", L_PATH3 | L_HEADER, P_VULN,
     "15.1.2176.2", "exact", "unpatched", "unpatched", "vulnerable"},
    {"e2016-cu19-path-mitigated", K_EXCHANGE, "15.1.2176.2", L_PATH3, P_MITIGATED,
     "15.1.2176", "cu", "vulnerable", "undetermined", "aborted"},
    {"e2019-cu8-path", K_EXCHANGE, "15.2.792.3", L_PATH3, P_VULN,
     "15.2.792", "cu", "vulnerable", "undetermined", "vulnerable"},
    {"e2016-cu20-path", K_EXCHANGE, "15.1.2242.4", L_PATH3, P_PATCHED,
     "15.1.2242", "cu", "vulnerable", "patched", "not_vulnerable"},
    {"e2013-cu23-path-localredir", K_EXCHANGE, "15.0.1497.2", L_PATH3 | L_LOCALREDIR, P_VULN,
     "15.0.1497", "cu", "undetermined", "undetermined", "vulnerable"},
    {"e2016-cu8-path", K_EXCHANGE, "15.1.1415.2", L_PATH3, P_VULN,
     "15.1.1415", "cu", "vulnerable", "undetermined", "vulnerable"},
    {"e2016-cu7-path", K_EXCHANGE, "15.1.1261.35", L_PATH3, P_VULN,
     "15.1.1261", "cu", "vulnerable", "vulnerable", "vulnerable"},
    {"e2019-cu8-service-header", K_EXCHANGE, "15.2.792.10", L_PATH3 | L_SERVICE, P_PATCHED,
     "15.2.792.10", "exact", "unpatched", "patched", "not_vulnerable"},
    {"e2010-sp3-ru31-path4", K_EXCHANGE, "14.3.509.0", L_PATH4, P_NONE,
     "14.3.509.0", "exact", "unpatched", "unpatched", "not_vulnerable"},
    {"e2010-sp3-ru32-path4", K_EXCHANGE, "14.3.513.0", L_PATH4, P_NONE,
     "14.3.513.0", "exact", "patched", "patched", "not_vulnerable"},
    {"owa-no-version", K_EXCHANGE, "15.1.2507.6", 0, P_PATCHED,
     NULL, NULL, "unknown", "unknown", "not_vulnerable"},
    {"hybrid-front-online-header", K_EXCHANGE, "15.2.1118.7", L_PATH3 | L_MANIFEST, P_ONLINE,
     "15.2.1118.7", "exact", "unpatched", "patched", "not_vulnerable"},
    {"nginx", K_PLAIN, NULL, 0, P_NONE, NULL, NULL, NULL, NULL, "not_run"},
    {"redirect-to-online", K_AWAY, NULL, 0, P_NONE, NULL, NULL, NULL, NULL, "not_run"},
    {"tls-fault", K_TLSFAULT, NULL, 0, P_NONE, NULL, NULL, NULL, NULL, "not_run"},
    {"slow", K_SLOW, "15.1.2176.9", L_PATH3, P_NONE, NULL, NULL, NULL, NULL, "not_run"},
    {"half-open", K_HALFOPEN, NULL, 0, P_NONE, NULL, NULL, NULL, NULL, "not_run"},
    {"closed", K_CLOSE, NULL, 0, P_NONE, NULL, NULL, NULL, NULL, "not_run"},
};
#define NPROFILES (sizeof profiles / sizeof profiles[0])

/* Mostly Exchange: the profile index comes from a hash of the address, so
 * neighbours differ and every profile appears in any range of a few
 * hundred addresses. */
static const profile *profile_of(uint32_t ip) {
  uint64_t x = ip * UINT64_C(0x9e3779b97f4a7c15);
  x ^= x >> 29;
  x *= UINT64_C(0xbf58476d1ce4e5b9);
  x ^= x >> 32;
  return &profiles[x % NPROFILES];
}

/* ---- truth ------------------------------------------------------------------ */

static void jstr(const char *k, const char *v) {
  if (v) printf(",\"%s\":\"%s\"", k, v);
  else printf(",\"%s\":null", k);
}

static int truth(const char *cidr) {
  char buf[64];
  snprintf(buf, sizeof buf, "%s", cidr);
  char *slash = strchr(buf, '/');
  int prefix = 32;
  if (slash) {
    *slash = '\0';
    prefix = atoi(slash + 1);
  }
  struct in_addr a;
  if (inet_pton(AF_INET, buf, &a) != 1 || prefix < 8 || prefix > 32) {
    fprintf(stderr, "exhunt-fleet truth: give an IPv4 CIDR of at most a /8\n");
    return 2;
  }
  uint32_t base = ntohl(a.s_addr) & (prefix == 32 ? 0xffffffffu : ~((1u << (32 - prefix)) - 1));
  uint64_t n = UINT64_C(1) << (32 - prefix);
  for (uint64_t i = 0; i < n; i++) {
    uint32_t ip = base + (uint32_t)i;
    const profile *p = profile_of(ip);
    struct in_addr x = {htonl(ip)};
    char t[32];
    inet_ntop(AF_INET, &x, t, sizeof t);
    printf("{\"ip\":\"%s\"", t);
    jstr("profile", p->name);
    printf(",\"is_exchange\":%s", p->kind == K_EXCHANGE ? "true" : "false");
    bool answers = p->kind == K_EXCHANGE || p->kind == K_PLAIN || p->kind == K_AWAY;
    jstr("status", answers ? "success" : "error");
    jstr("build", p->e_build);
    jstr("precision", p->e_precision);
    jstr("level", p->e_level);
    jstr("proxylogon", p->e_proxylogon);
    jstr("probe", p->e_probe);
    printf("}\n");
  }
  return 0;
}

/* ---- TLS ------------------------------------------------------------------- */

static SSL_CTX *make_ctx(void) {
  SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
  EVP_PKEY *key = EVP_EC_gen("P-256");
  X509 *x = X509_new();
  if (!ctx || !key || !x) return NULL;
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 365L * 24 * 3600);
  X509_set_pubkey(x, key);
  X509_NAME *nm = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(nm, "O", MBSTRING_ASC, (const unsigned char *)"exhunt fleet", -1, -1, 0);
  X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC, (const unsigned char *)"mail.fleet.test", -1, -1, 0);
  X509_set_issuer_name(x, nm);
  X509_sign(x, key, EVP_sha256());
  SSL_CTX_use_certificate(ctx, x);
  SSL_CTX_use_PrivateKey(ctx, key);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
  X509_free(x);
  EVP_PKEY_free(key);
  return ctx;
}

/* ---- connections ------------------------------------------------------------- */

enum cstate { C_HANDSHAKE, C_READ, C_SLEEP, C_WRITE, C_HOLD };

typedef struct conn {
  int fd;
  SSL *ssl;
  int state;
  const profile *p;
  char in[16384];
  size_t inlen;
  char *out;
  size_t outlen, outoff;
  bool close_after;
  int64_t wake;
  struct conn *next_sleep;
} conn;

static int epfd;
static long slow_ms = 3000;
static conn *sleepers;

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void conn_close(conn *c) {
  if (c->state == C_SLEEP) {
    for (conn **pp = &sleepers; *pp; pp = &(*pp)->next_sleep)
      if (*pp == c) {
        *pp = c->next_sleep;
        break;
      }
  }
  epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
  if (c->ssl) SSL_free(c->ssl);
  close(c->fd);
  free(c->out);
  free(c);
}

static void want(conn *c, uint32_t ev) {
  struct epoll_event e = {.events = ev, .data.ptr = c};
  epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &e);
}

static const char LOGON_HEAD[] =
    "<!DOCTYPE html>\n<html>\n<head>\n"
    "<!-- OwaPage = ASP.auth_logon_aspx -->\n"
    "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\">\n"
    "<title>Outlook</title>\n";

static void page_for(const profile *p, char *buf, size_t size, size_t *len) {
  char path[64] = "";
  char b3[32];
  snprintf(b3, sizeof b3, "%s", p->build ? p->build : "");
  char *last = strrchr(b3, '.');
  if (last) *last = '\0';
  if (p->leak & L_PATH4) snprintf(path, sizeof path, "/owa/%s/", p->build);
  else if (p->leak & L_PATH3) snprintf(path, sizeof path, "/owa/auth/%s/", b3);
  int n = snprintf(buf, size, "%s", LOGON_HEAD);
  if (path[0])
    n += snprintf(buf + n, size - (size_t)n,
                  "<link rel=\"shortcut icon\" href=\"%sthemes/resources/favicon.ico\" type=\"image/x-icon\">\n"
                  "<link rel=\"stylesheet\" href=\"%sthemes/resources/logon.css\">\n",
                  path, path);
  n += snprintf(buf + n, size - (size_t)n,
                "<script type=\"text/javascript\">\nfunction IsOwaPremiumBrowser(sPremiumUrl) {\n"
                "  return true; /* emulated */\n}\n");
  /* Filler the size of a real page's scripts, with a near miss that must
   * not be taken for a build: a version not followed by '/'. */
  for (int i = 0; i < 60 && (size_t)n + 200 < size; i++)
    n += snprintf(buf + n, size - (size_t)n,
                  "var g_fFcs%d = false; // owa/auth/15.9.%d.1 is not a path, clientVersion 15.%d\n", i, i, i);
  n += snprintf(buf + n, size - (size_t)n,
                "</script>\n</head>\n<body>\n<noscript>To use Outlook, browser settings must allow scripts "
                "to run. For information about how to allow scripts, consult the Help for your browser."
                "</noscript>\n<form action=\"/owa/auth.owa\" method=\"POST\" name=\"logonForm\">"
                "</form>\n</body>\n</html>\n");
  *len = (size_t)n;
}

static void respond(conn *c, const char *req) {
  const profile *p = c->p;
  char line[2048];
  size_t ll = strcspn(req, "\r\n");
  if (ll >= sizeof line) ll = sizeof line - 1;
  memcpy(line, req, ll);
  line[ll] = '\0';
  char method[16] = "", path[1024] = "";
  sscanf(line, "%15s %1023s", method, path);
  bool cookie_probe = strcasestr(req, "\r\nCookie:") && strstr(req, "X-AnonResource-Backend");
  bool conn_close_req = strcasestr(req, "\r\nConnection: close") != NULL;

  static char body[32768];
  size_t blen = 0;
  int status = 404;
  char extra[1024] = "";
  size_t el = 0;
  const char *ctype = "text/html; charset=utf-8";

  if (p->kind == K_EXCHANGE && (p->leak & L_HEADER))
    el += (size_t)snprintf(extra + el, sizeof extra - el, "X-OWA-Version: %s\r\n", p->build);
  if (p->kind == K_EXCHANGE)
    el += (size_t)snprintf(extra + el, sizeof extra - el, "X-FEServer: EXCH%02u\r\n",
                           (unsigned)(p - profiles));
  if (p->probe == P_ONLINE)
    el += (size_t)snprintf(extra + el, sizeof extra - el,
                           "X-CalculatedBETarget: BN8PR12MB3412.namprd12.prod.outlook.com\r\n");

  if (!strncasecmp(path, "/owa/auth/logon.aspx", 20)) {
    if (p->kind == K_AWAY) {
      status = 302;
      el += (size_t)snprintf(extra + el, sizeof extra - el,
                             "Location: https://login.microsoftonline.com/common/oauth2/authorize?client_id=00000002-0000-0ff1-ce00-000000000000\r\n");
    } else if (p->kind == K_EXCHANGE && (p->leak & L_LOCALREDIR) && !strchr(path, '?')) {
      status = 302;
      el += (size_t)snprintf(extra + el, sizeof extra - el,
                             "Location: /owa/auth/logon.aspx?replaceCurrent=1&url=%%2fowa%%2f\r\n");
    } else if (p->kind == K_EXCHANGE || p->kind == K_SLOW) {
      status = 200;
      page_for(p, body, sizeof body, &blen);
    }
  } else if (!strcasecmp(path, "/ecp/Current/exporttool/microsoft.exchange.ediscovery.exporttool.application") &&
             p->kind == K_EXCHANGE && (p->leak & L_MANIFEST)) {
    status = 200;
    ctype = "application/x-ms-application";
    blen = (size_t)snprintf(
        body, sizeof body,
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
        "<asmv1:assembly xsi:schemaLocation=\"urn:schemas-microsoft-com:asm.v1 assembly.adaptive.xsd\" "
        "manifestVersion=\"1.0\" xmlns:asmv1=\"urn:schemas-microsoft-com:asm.v1\">\n"
        "  <dependency><dependentAssembly dependencyType=\"preRequisite\">\n"
        "    <assemblyIdentity name=\"Microsoft.Windows.CommonLanguageRuntime\" version=\"4.0.30319.0\" />\n"
        "  </dependentAssembly></dependency>\n"
        "  <assemblyIdentity name=\"microsoft.exchange.ediscovery.exporttool.application\" version=\"%s\" "
        "publicKeyToken=\"31bf3856ad364e35\" language=\"neutral\" processorArchitecture=\"msil\" "
        "xmlns=\"urn:schemas-microsoft-com:asm.v1\" />\n"
        "  <description asmv2:publisher=\"Microsoft Corporation\" asmv2:product=\"Microsoft Exchange\" />\n"
        "</asmv1:assembly>\n",
        p->build);
  } else if (!strcasecmp(path, "/owa/service") && p->kind == K_EXCHANGE) {
    status = 401;
    if ((p->leak & L_SERVICE) && !(p->leak & L_HEADER))
      el += (size_t)snprintf(extra + el, sizeof extra - el, "X-OWA-Version: %s\r\n", p->build);
  } else if (!strcasecmp(path, "/owa/auth/x.js") && p->kind == K_EXCHANGE) {
    if (cookie_probe && p->probe == P_MITIGATED) {
      conn_close(c); /* URL Rewrite AbortRequest: no answer at all */
      return;
    }
    if (cookie_probe && p->probe == P_VULN) {
      status = 500;
      el += (size_t)snprintf(extra + el, sizeof extra - el, "X-CalculatedBETarget: localhost\r\n");
    }
  }
  if (status == 404 && !blen)
    blen = (size_t)snprintf(body, sizeof body, "<html><head><title>404 Not Found</title></head>"
                                               "<body><center><h1>404 Not Found</h1></center></body></html>\n");
  const char *reason = status == 200 ? "OK" : status == 302 ? "Found" : status == 401 ? "Unauthorized"
                     : status == 500 ? "Internal Server Error" : "Not Found";
  const char *server = p->kind == K_PLAIN ? "nginx/1.22.1" : "Microsoft-IIS/10.0";
  size_t cap = blen + el + 512;
  c->out = malloc(cap);
  if (!c->out) {
    conn_close(c);
    return;
  }
  int hl = snprintf(c->out, cap,
                    "HTTP/1.1 %d %s\r\nServer: %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s%s\r\n",
                    status, reason, server, ctype, blen, extra, conn_close_req ? "Connection: close\r\n" : "");
  memcpy(c->out + hl, body, blen);
  c->outlen = (size_t)hl + blen;
  c->outoff = 0;
  c->close_after = conn_close_req;
  if (p->kind == K_SLOW) {
    c->state = C_SLEEP;
    c->wake = now_ms() + slow_ms;
    c->next_sleep = sleepers;
    sleepers = c;
    want(c, EPOLLRDHUP);
    return;
  }
  c->state = C_WRITE;
  want(c, EPOLLOUT);
}

/* Plain HTTP (serve ... plain) or TLS: read/write and what to wait for. */
static int io_read(conn *c, char *buf, int n) {
  if (c->ssl) return SSL_read(c->ssl, buf, n);
  ssize_t r = read(c->fd, buf, (size_t)n);
  return r > 0 ? (int)r : r == 0 ? 0 : -1;
}

static int io_write(conn *c, const char *buf, int n) {
  if (c->ssl) return SSL_write(c->ssl, buf, n);
  ssize_t r = write(c->fd, buf, (size_t)n);
  return r >= 0 ? (int)r : -1;
}

/* SSL_ERROR_WANT_READ / _WRITE, or 0 to close. */
static int io_want(conn *c, int r) {
  if (c->ssl) {
    int e = SSL_get_error(c->ssl, r);
    return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ? e : 0;
  }
  if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return SSL_ERROR_WANT_READ;
  return 0;
}

static void on_event(conn *c, uint32_t ev) {
  if (c->state == C_HOLD) { /* half-open: read nothing; wait for the peer to give up */
    if (ev & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) conn_close(c);
    return;
  }
  if (c->state == C_SLEEP) {
    if (ev & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) conn_close(c);
    return;
  }
  for (;;) {
    if (c->state == C_HANDSHAKE) {
      int r = SSL_accept(c->ssl);
      if (r == 1) {
        c->state = C_READ;
        want(c, EPOLLIN);
        continue;
      }
      int e = SSL_get_error(c->ssl, r);
      if (e == SSL_ERROR_WANT_READ) want(c, EPOLLIN);
      else if (e == SSL_ERROR_WANT_WRITE) want(c, EPOLLOUT);
      else conn_close(c);
      return;
    }
    if (c->state == C_READ) {
      char *end = c->inlen ? memmem(c->in, c->inlen, "\r\n\r\n", 4) : NULL;
      if (end) {
        size_t reqlen = (size_t)(end - c->in) + 4;
        char req[sizeof c->in + 1];
        memcpy(req, c->in, reqlen);
        req[reqlen] = '\0';
        memmove(c->in, c->in + reqlen, c->inlen - reqlen);
        c->inlen -= reqlen;
        respond(c, req); /* may free c */
        return;
      }
      if (c->inlen == sizeof c->in) {
        conn_close(c);
        return;
      }
      int r = io_read(c, c->in + c->inlen, (int)(sizeof c->in - c->inlen));
      if (r > 0) {
        c->inlen += (size_t)r;
        continue;
      }
      int e = io_want(c, r);
      if (e == SSL_ERROR_WANT_READ) want(c, EPOLLIN);
      else if (e == SSL_ERROR_WANT_WRITE) want(c, EPOLLOUT);
      else conn_close(c);
      return;
    }
    if (c->state == C_WRITE) {
      int r = io_write(c, c->out + c->outoff, (int)(c->outlen - c->outoff));
      if (r > 0) {
        c->outoff += (size_t)r;
        if (c->outoff < c->outlen) continue;
        free(c->out);
        c->out = NULL;
        if (c->close_after) {
          if (c->ssl) SSL_shutdown(c->ssl);
          conn_close(c);
          return;
        }
        c->state = C_READ;
        continue;
      }
      int e = io_want(c, r);
      if (e == SSL_ERROR_WANT_READ) want(c, c->outoff < c->outlen && !c->ssl ? EPOLLOUT : EPOLLIN);
      else if (e == SSL_ERROR_WANT_WRITE) want(c, EPOLLOUT);
      else conn_close(c);
      return;
    }
    return;
  }
}

/* Binding 0.0.0.0 is only safe where nothing but loopback exists. */
static bool only_loopback(void) {
  struct if_nameindex *ifs = if_nameindex();
  if (!ifs) return false;
  bool ok = true;
  for (struct if_nameindex *i = ifs; i->if_index; i++)
    if (strcmp(i->if_name, "lo")) ok = false;
  if_freenameindex(ifs);
  return ok;
}

static int serve(const char *port_file, long slow, bool plain) {
  slow_ms = slow;
  if (!only_loopback()) {
    fprintf(stderr, "exhunt-fleet: an interface other than lo exists; run me in a private network "
                    "namespace (unshare -n) so that I answer on loopback only\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  SSL_CTX *ctx = make_ctx();
  if (!ctx) {
    fprintf(stderr, "exhunt-fleet: TLS setup failed\n");
    return 2;
  }
  int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY), .sin_port = 0};
  if (bind(ls, (struct sockaddr *)&sa, sizeof sa) || listen(ls, 4096)) {
    perror("exhunt-fleet: bind/listen");
    return 2;
  }
  socklen_t sl = sizeof sa;
  getsockname(ls, (struct sockaddr *)&sa, &sl);
  FILE *pf = fopen(port_file, "w");
  if (!pf || fprintf(pf, "%u\n", ntohs(sa.sin_port)) < 0 || fclose(pf)) {
    perror(port_file);
    return 2;
  }
  epfd = epoll_create1(0);
  struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
  epoll_ctl(epfd, EPOLL_CTL_ADD, ls, &lev);
  struct epoll_event evs[512];
  for (;;) {
    int timeout = -1;
    int64_t now = now_ms();
    for (conn *s = sleepers; s; s = s->next_sleep) {
      int64_t d = s->wake - now;
      if (d < 0) d = 0;
      if (timeout < 0 || d < timeout) timeout = (int)d;
    }
    int n = epoll_wait(epfd, evs, 512, timeout);
    for (int i = 0; i < n; i++) {
      if (!evs[i].data.ptr) {
        for (;;) {
          struct sockaddr_in peer;
          socklen_t pl = sizeof peer;
          int fd = accept4(ls, (struct sockaddr *)&peer, &pl, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (fd < 0) break;
          struct sockaddr_in me;
          socklen_t ml = sizeof me;
          getsockname(fd, (struct sockaddr *)&me, &ml);
          const profile *p = profile_of(ntohl(me.sin_addr.s_addr));
          if (p->kind == K_CLOSE) {
            struct linger lg = {1, 0}; /* a reset, as a host with nothing on the port */
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
            close(fd);
            continue;
          }
          if (p->kind == K_TLSFAULT && !plain) { /* plain text where TLS was expected */
            static const char junk[] = "HTTP/1.0 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
            ssize_t w = write(fd, junk, sizeof junk - 1);
            (void)w;
            close(fd);
            continue;
          }
          setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          conn *c = calloc(1, sizeof *c);
          if (!c) {
            close(fd);
            continue;
          }
          c->fd = fd;
          c->p = p;
          struct epoll_event e = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = c};
          if (p->kind == K_HALFOPEN) {
            /* Never read: only the peer's close is of interest (EPOLLIN
             * would fire again and again on the unread ClientHello). */
            e.events = EPOLLRDHUP;
            c->state = C_HOLD;
          } else if (plain) {
            c->state = C_READ;
          } else {
            c->ssl = SSL_new(ctx);
            SSL_set_fd(c->ssl, fd);
            c->state = C_HANDSHAKE;
          }
          epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &e);
        }
        continue;
      }
      on_event(evs[i].data.ptr, evs[i].events);
    }
    now = now_ms();
    for (conn **pp = &sleepers; *pp;) {
      conn *s = *pp;
      if (s->wake <= now) {
        *pp = s->next_sleep;
        s->state = C_WRITE;
        on_event(s, EPOLLOUT);
      } else {
        pp = &s->next_sleep;
      }
    }
  }
}

int main(int argc, char **argv) {
  if (argc >= 3 && !strcmp(argv[1], "truth")) return truth(argv[2]);
  if (argc >= 3 && !strcmp(argv[1], "serve"))
    return serve(argv[2], argc > 3 ? atol(argv[3]) : 3000, argc > 4 && !strcmp(argv[4], "plain"));
  fprintf(stderr, "usage: exhunt-fleet serve PORT_FILE [SLOW_MS [plain]] | exhunt-fleet truth CIDR\n");
  return 2;
}
