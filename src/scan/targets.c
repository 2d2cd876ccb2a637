/*
 * Targets for exhunt scan: what to scan (addresses, ranges, names, the
 * list outputs of zmap, masscan and zgrab2), what never to scan (the
 * blocklist), and in which order (a keyed permutation, split in shards).
 * Ranges stay ranges: a /8 is one entry, expanded one address at a time.
 */
#include "scan/scan.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* ---- networks ---------------------------------------------------------- */

int exhi_net_parse(const char *text, exhi_net *out, exh_error *err) {
  char buf[64];
  size_t len = strlen(text);
  if (len == 0 || len >= sizeof buf)
    return exhi_err(err, EXH_ERR_PARSE, NULL, 0, -1, "\"%.64s\" is not an address or CIDR range", text);
  memcpy(buf, text, len + 1);
  char *slash = strchr(buf, '/');
  long prefix = -1;
  if (slash) {
    *slash = '\0';
    char *end;
    if (!isdigit((unsigned char)slash[1]))
      return exhi_err(err, EXH_ERR_PARSE, NULL, 0, -1, "\"%s\": the prefix length after '/' is not a number", text);
    prefix = strtol(slash + 1, &end, 10);
    if (*end)
      return exhi_err(err, EXH_ERR_PARSE, NULL, 0, -1, "\"%s\": the prefix length after '/' is not a number", text);
  }
  memset(out, 0, sizeof *out);
  if (inet_pton(AF_INET, buf, out->addr) == 1) {
    out->family = 4;
    if (prefix < 0) prefix = 32;
    if (prefix > 32)
      return exhi_err(err, EXH_ERR_PARSE, NULL, 0, -1, "\"%s\": an IPv4 prefix is 0 to 32 bits", text);
  } else if (inet_pton(AF_INET6, buf, out->addr) == 1) {
    out->family = 6;
    if (prefix < 0) prefix = 128;
    if (prefix > 128)
      return exhi_err(err, EXH_ERR_PARSE, NULL, 0, -1, "\"%s\": an IPv6 prefix is 0 to 128 bits", text);
  } else {
    return exhi_err(err, EXH_ERR_PARSE, NULL, 0, -1, "\"%s\" is not an address or CIDR range", text);
  }
  out->prefix = (uint8_t)prefix;
  /* Clear host bits: "10.1.2.3/8" means 10.0.0.0/8, as zmap reads it. */
  int bytes = out->family == 4 ? 4 : 16;
  for (int i = 0; i < bytes; i++) {
    int keep = (int)prefix - i * 8;
    if (keep >= 8) continue;
    out->addr[i] &= keep <= 0 ? 0 : (uint8_t)(0xffu << (8 - keep));
  }
  return EXH_OK;
}

static bool net_contains(const exhi_net *n, int family, const uint8_t *addr) {
  if (n->family != family) return false;
  int full = n->prefix / 8, rest = n->prefix % 8;
  if (memcmp(n->addr, addr, (size_t)full) != 0) return false;
  if (rest == 0) return true;
  uint8_t mask = (uint8_t)(0xffu << (8 - rest));
  return (n->addr[full] & mask) == (addr[full] & mask);
}

static bool any_contains(const exhi_net *v, size_t n, int family, const uint8_t *addr) {
  for (size_t i = 0; i < n; i++)
    if (net_contains(&v[i], family, addr)) return true;
  return false;
}

int exhi_scan_policy_add(exhi_scan_policy *p, int which, const exhi_net *n, exh_error *err) {
  exhi_net **v = which == 0 ? &p->block : which == 1 ? &p->allow : &p->only;
  size_t *len = which == 0 ? &p->nblock : which == 1 ? &p->nallow : &p->nonly;
  size_t *cap = which == 0 ? &p->capblock : which == 1 ? &p->capallow : &p->caponly;
  if (*len >= EXHI_SCAN_MAX_NETS)
    return exhi_err(err, EXH_ERR_LIMIT, NULL, 0, -1, "more than %d networks in a list", EXHI_SCAN_MAX_NETS);
  if (*len == *cap) {
    size_t nc = *cap ? *cap * 2 : 32;
    exhi_net *nv = realloc(*v, nc * sizeof *nv);
    if (!nv) return exhi_err(err, EXH_ERR_NOMEM, NULL, 0, -1, "out of memory");
    *v = nv;
    *cap = nc;
  }
  (*v)[(*len)++] = *n;
  return EXH_OK;
}

int exhi_scan_policy_load(exhi_scan_policy *p, const char *text, size_t len,
                          const char *name, exh_error *err) {
  const char *s = text, *end = text + len;
  long long lineno = 0;
  while (s < end) {
    const char *nl = memchr(s, '\n', (size_t)(end - s));
    const char *le = nl ? nl : end;
    lineno++;
    if (le - s > EXHI_SCAN_LINE_MAX)
      return exhi_err(err, EXH_ERR_LIMIT, name, lineno, -1, "line longer than %d bytes", EXHI_SCAN_LINE_MAX);
    char line[EXHI_SCAN_LINE_MAX + 1];
    size_t n = (size_t)(le - s);
    memcpy(line, s, n);
    line[n] = '\0';
    s = nl ? nl + 1 : end;
    char *hash = strchr(line, '#');
    if (hash) *hash = '\0';
    char *tok = line;
    while (*tok == ' ' || *tok == '\t' || *tok == '\r') tok++;
    char *te = tok;
    while (*te && *te != ' ' && *te != '\t' && *te != '\r') te++;
    char *after = te;
    while (*after == ' ' || *after == '\t' || *after == '\r') after++;
    *te = '\0';
    if (!*tok) continue;
    if (*after)
      return exhi_err(err, EXH_ERR_PARSE, name, lineno, -1, "one CIDR range per line, then an optional # comment");
    exhi_net net;
    if (exhi_net_parse(tok, &net, err) != EXH_OK) {
      exhi_err(err, EXH_ERR_PARSE, name, lineno, -1, "\"%.64s\" is not an address or CIDR range", tok);
      return EXH_ERR_PARSE;
    }
    int rc = exhi_scan_policy_add(p, 0, &net, err);
    if (rc) return rc;
  }
  return EXH_OK;
}

const char *exhi_scan_policy_check(const exhi_scan_policy *p, int family, const uint8_t *addr) {
  uint8_t mapped[16];
  /* An IPv4-mapped IPv6 address reaches the IPv4 host: judge that one. */
  static const uint8_t v4map[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (family == 6 && memcmp(addr, v4map, 12) == 0) {
    memcpy(mapped, addr + 12, 4);
    addr = mapped;
    family = 4;
  }
  if (p->nonly && !any_contains(p->only, p->nonly, family, addr)) return "outside --only";
  if (any_contains(p->allow, p->nallow, family, addr)) return NULL;
  if (any_contains(p->block, p->nblock, family, addr)) return "blocklist";
  return NULL;
}

void exhi_scan_policy_clear(exhi_scan_policy *p) {
  free(p->block);
  free(p->allow);
  free(p->only);
  memset(p, 0, sizeof *p);
}

/* ---- target lines ------------------------------------------------------ */

/* Letters, digits, '-', '_' and '.': a name safe to put in a URL, a Host
 * header and an SNI field as it is. */
static bool valid_name(const char *s, size_t n) {
  if (n == 0 || n > EXHI_SCAN_NAME_MAX || s[0] == '.' || s[0] == '-') return false;
  bool alpha = false;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (isalpha(c)) alpha = true;
    else if (!isdigit(c) && c != '-' && c != '.' && c != '_') return false;
  }
  return alpha; /* all digits and dots would be a mistyped address */
}

static char *dup_n(const char *s, size_t n) {
  char *d = malloc(n + 1);
  if (d) {
    memcpy(d, s, n);
    d[n] = '\0';
  }
  return d;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n) {
  const unsigned char *b = p;
  for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * UINT64_C(0x100000001b3);
  return h;
}

static int push(exhi_targets *t, exhi_spec *s, const char *where, long long lineno, exh_error *err) {
  if (t->n >= EXHI_SCAN_MAX_SPECS)
    return exhi_err(err, EXH_ERR_LIMIT, where, lineno, -1, "more than %u target entries", EXHI_SCAN_MAX_SPECS);
  if (t->total + s->count > EXHI_SCAN_MAX_TARGETS)
    return exhi_err(err, EXH_ERR_LIMIT, where, lineno, -1, "more than 2^40 targets in all");
  if (t->n == t->cap) {
    size_t nc = t->cap ? t->cap * 2 : 64;
    exhi_spec *ns = realloc(t->specs, nc * sizeof *ns);
    if (!ns) return exhi_err(err, EXH_ERR_NOMEM, where, lineno, -1, "out of memory");
    t->specs = ns;
    t->cap = nc;
  }
  t->specs[t->n++] = *s;
  t->total += s->count;
  uint64_t h = t->digest ? t->digest : UINT64_C(0xcbf29ce484222325);
  h = fnv(h, &s->family, 1);
  h = fnv(h, s->addr, sizeof s->addr);
  h = fnv(h, &s->count, sizeof s->count);
  h = fnv(h, &s->port, sizeof s->port);
  if (s->domain) h = fnv(h, s->domain, strlen(s->domain) + 1);
  if (s->tag) h = fnv(h, s->tag, strlen(s->tag) + 1);
  t->digest = h;
  return EXH_OK;
}

/* Fills s from an address or CIDR token. */
static int spec_from_net(const char *tok, exhi_spec *s, const char *where, long long lineno, exh_error *err) {
  exhi_net net;
  if (exhi_net_parse(tok, &net, err) != EXH_OK) return EXH_ERR_PARSE;
  unsigned host_bits = (net.family == 4 ? 32u : 128u) - net.prefix;
  if (host_bits > 32)
    return exhi_err(err, EXH_ERR_LIMIT, where, lineno, -1,
                    "\"%s\": IPv6 ranges larger than a /96 (2^32 addresses) are not scanned address by address",
                    tok);
  s->family = net.family;
  memcpy(s->addr, net.addr, sizeof s->addr);
  s->count = UINT64_C(1) << host_bits;
  return EXH_OK;
}

static bool parse_port(const char *s, size_t n, uint16_t *out) {
  if (n == 0 || n > 5) return false;
  unsigned v = 0;
  for (size_t i = 0; i < n; i++) {
    if (!isdigit((unsigned char)s[i])) return false;
    v = v * 10 + (unsigned)(s[i] - '0');
  }
  if (v == 0 || v > 65535) return false;
  *out = (uint16_t)v;
  return true;
}

static void trim(const char **s, const char **e) {
  while (*s < *e && isspace((unsigned char)**s)) (*s)++;
  while (*e > *s && isspace((unsigned char)(*e)[-1])) (*e)--;
}

/* zgrab2 input: IP, DOMAIN, TAG, PORT; every field but one of IP/DOMAIN may be empty. */
static int add_csv(exhi_targets *t, const char *line, const char *where, long long lineno, exh_error *err) {
  const char *f[4] = {0}, *fe[4] = {0};
  int nf = 0;
  const char *p = line;
  for (;;) {
    const char *c = strchr(p, ',');
    if (nf == 4)
      return exhi_err(err, EXH_ERR_PARSE, where, lineno, -1, "more than 4 fields (IP,DOMAIN,TAG,PORT)");
    f[nf] = p;
    fe[nf] = c ? c : p + strlen(p);
    trim(&f[nf], &fe[nf]);
    nf++;
    if (!c) break;
    p = c + 1;
  }
  /* zmap's csv output starts with a header naming its fields. */
  if (fe[0] - f[0] == 5 && !memcmp(f[0], "saddr", 5)) return EXH_OK;
  exhi_spec s = {.count = 1};
  if (fe[0] > f[0]) {
    char tok[80];
    size_t n = (size_t)(fe[0] - f[0]);
    if (n >= sizeof tok)
      return exhi_err(err, EXH_ERR_PARSE, where, lineno, -1, "the IP field is not an address or CIDR range");
    memcpy(tok, f[0], n);
    tok[n] = '\0';
    if (spec_from_net(tok, &s, where, lineno, err) != EXH_OK) {
      if (err && err->code == EXH_ERR_LIMIT) return EXH_ERR_LIMIT;
      return exhi_err(err, EXH_ERR_PARSE, where, lineno, -1, "the IP field \"%s\" is not an address or CIDR range", tok);
    }
  }
  if (nf > 1 && fe[1] > f[1]) {
    size_t n = (size_t)(fe[1] - f[1]);
    if (!valid_name(f[1], n))
      return exhi_err(err, EXH_ERR_PARSE, where, lineno, -1,
                      "the DOMAIN field is not a host name (letters, digits, '-', '.', at most %d bytes)",
                      EXHI_SCAN_NAME_MAX);
    s.domain = dup_n(f[1], n);
    if (!s.domain) return exhi_err(err, EXH_ERR_NOMEM, where, lineno, -1, "out of memory");
  }
  if (!s.family && !s.domain) {
    return exhi_err(err, EXH_ERR_PARSE, where, lineno, -1, "neither IP nor DOMAIN given");
  }
  int rc = EXH_OK;
  if (nf > 2 && fe[2] > f[2]) {
    size_t n = (size_t)(fe[2] - f[2]);
    if (n > EXHI_SCAN_TAG_MAX) {
      rc = exhi_err(err, EXH_ERR_LIMIT, where, lineno, -1, "TAG longer than %d bytes", EXHI_SCAN_TAG_MAX);
      goto fail;
    }
    s.tag = dup_n(f[2], n);
    if (!s.tag) {
      rc = exhi_err(err, EXH_ERR_NOMEM, where, lineno, -1, "out of memory");
      goto fail;
    }
  }
  if (nf > 3 && fe[3] > f[3] && !parse_port(f[3], (size_t)(fe[3] - f[3]), &s.port)) {
    rc = exhi_err(err, EXH_ERR_PARSE, where, lineno, -1, "PORT is not a number from 1 to 65535");
    goto fail;
  }
  rc = push(t, &s, where, lineno, err);
  if (rc == EXH_OK) return EXH_OK;
fail:
  free(s.domain);
  free(s.tag);
  return rc;
}

int exhi_targets_add_line(exhi_targets *t, const char *line, const char *where,
                          long long lineno, exh_error *err) {
  size_t len = strlen(line);
  if (len > EXHI_SCAN_LINE_MAX)
    return exhi_err(err, EXH_ERR_LIMIT, where, lineno, -1, "line longer than %d bytes", EXHI_SCAN_LINE_MAX);
  const char *s = line, *e = line + len;
  trim(&s, &e);
  if (s == e || *s == '#') return EXH_OK;
  char buf[EXHI_SCAN_LINE_MAX + 1];
  memcpy(buf, s, (size_t)(e - s));
  buf[e - s] = '\0';
  for (char *c = buf; *c; c++)
    if ((unsigned char)*c < 0x20 && *c != '\t')
      return exhi_err(err, EXH_ERR_PARSE, where, lineno, -1, "control byte 0x%02x in a target", (unsigned char)*c);

  exhi_spec sp = {.count = 1};
  char *w[6] = {0};
  int nw = 0;
  if (strchr(buf, ',')) return add_csv(t, buf, where, lineno, err);
  char tmp[EXHI_SCAN_LINE_MAX + 1];
  memcpy(tmp, buf, strlen(buf) + 1);
  for (char *save = NULL, *tok = strtok_r(tmp, " \t", &save); tok && nw < 6;
       tok = strtok_r(NULL, " \t", &save))
    w[nw++] = tok;
  const char *addr = w[0];
  /* masscan -oL: "open tcp 443 192.0.2.1 1614000000" */
  if (nw >= 4 && (!strcmp(w[0], "open") || !strcmp(w[0], "closed")) && !strcmp(w[1], "tcp")) {
    if (strcmp(w[0], "open")) return EXH_OK;
    if (!parse_port(w[2], strlen(w[2]), &sp.port))
      return exhi_err(err, EXH_ERR_PARSE, where, lineno, -1, "masscan list line: the port is not a number");
    addr = w[3];
  } else if (nw >= 6 && !strcmp(w[0], "Discovered") && !strcmp(w[1], "open") && !strcmp(w[2], "port") &&
             !strcmp(w[4], "on")) {
    /* masscan's and nmap's console: "Discovered open port 443/tcp on 192.0.2.1" */
    char *sl = strchr(w[3], '/');
    if (!sl || strcmp(sl, "/tcp") || !parse_port(w[3], (size_t)(sl - w[3]), &sp.port))
      return exhi_err(err, EXH_ERR_PARSE, where, lineno, -1, "\"Discovered open port\" line without PORT/tcp");
    addr = w[5];
  } else if (nw > 1) {
    return exhi_err(err, EXH_ERR_PARSE, where, lineno, -1,
                    "one target per line: an address, a CIDR range, a host name or IP,DOMAIN,TAG,PORT");
  }
  if (strchr(addr, ':') || isdigit((unsigned char)addr[0]) || strchr(addr, '/')) {
    if (spec_from_net(addr, &sp, where, lineno, err) == EXH_OK) return push(t, &sp, where, lineno, err);
    if (err && err->code == EXH_ERR_LIMIT) return EXH_ERR_LIMIT;
    if (!valid_name(addr, strlen(addr)))
      return exhi_err(err, EXH_ERR_PARSE, where, lineno, -1, "\"%.80s\" is not an address, CIDR range or host name",
                      addr);
  }
  if (!valid_name(addr, strlen(addr)))
    return exhi_err(err, EXH_ERR_PARSE, where, lineno, -1, "\"%.80s\" is not an address, CIDR range or host name",
                    addr);
  sp.family = 0;
  sp.domain = dup_n(addr, strlen(addr));
  if (!sp.domain) return exhi_err(err, EXH_ERR_NOMEM, where, lineno, -1, "out of memory");
  int rc = push(t, &sp, where, lineno, err);
  if (rc) free(sp.domain);
  return rc;
}

int exhi_targets_seal(exhi_targets *t, exh_error *err) {
  free(t->first);
  t->first = malloc((t->n ? t->n : 1) * sizeof *t->first);
  if (!t->first) return exhi_err(err, EXH_ERR_NOMEM, NULL, 0, -1, "out of memory");
  uint64_t acc = 0;
  for (size_t i = 0; i < t->n; i++) {
    t->first[i] = acc;
    acc += t->specs[i].count;
  }
  return EXH_OK;
}

void exhi_targets_get(const exhi_targets *t, uint64_t i, uint16_t default_port, exhi_target *out) {
  size_t lo = 0, hi = t->n;
  while (hi - lo > 1) { /* last spec whose first index <= i */
    size_t mid = (lo + hi) / 2;
    if (t->first[mid] <= i) lo = mid;
    else hi = mid;
  }
  const exhi_spec *s = &t->specs[lo];
  uint64_t off = i - t->first[lo];
  memset(out, 0, sizeof *out);
  out->family = s->family;
  out->port = s->port ? s->port : default_port;
  out->domain = s->domain;
  out->tag = s->tag;
  if (!s->family) return;
  memcpy(out->addr, s->addr, sizeof out->addr);
  int last = s->family == 4 ? 3 : 15;
  /* Add the offset to the address, byte by byte from the end, with carry. */
  uint64_t carry = off;
  for (int b = last; b >= 0 && carry; b--) {
    uint64_t v = out->addr[b] + (carry & 0xff);
    out->addr[b] = (uint8_t)v;
    carry = (carry >> 8) + (v >> 8);
  }
  inet_ntop(s->family == 4 ? AF_INET : AF_INET6, out->addr, out->ip, sizeof out->ip);
}

void exhi_targets_clear(exhi_targets *t) {
  for (size_t i = 0; i < t->n; i++) {
    free(t->specs[i].domain);
    free(t->specs[i].tag);
  }
  free(t->specs);
  free(t->first);
  memset(t, 0, sizeof *t);
}

/* ---- permutation ------------------------------------------------------- */

static uint64_t mix64(uint64_t x) { /* splitmix64's finaliser */
  x ^= x >> 30;
  x *= UINT64_C(0xbf58476d1ce4e5b9);
  x ^= x >> 27;
  x *= UINT64_C(0x94d049bb133111eb);
  x ^= x >> 31;
  return x;
}

void exhi_perm_init(exhi_perm *p, uint64_t n, uint64_t seed) {
  p->n = n;
  unsigned bits = 2;
  while (bits < 64 && (UINT64_C(1) << bits) < n) bits++;
  if (bits & 1) bits++; /* a balanced Feistel network wants two equal halves */
  p->bits = bits;
  uint64_t k = seed ^ UINT64_C(0x6578687573636e31); /* "exhuscn1": our own domain */
  for (size_t i = 0; i < EXHI_ARRAY_LEN(p->keys); i++) p->keys[i] = k = mix64(k + i + 1);
}

static uint64_t feistel(const exhi_perm *p, uint64_t x) {
  unsigned half = p->bits / 2;
  uint64_t mask = (UINT64_C(1) << half) - 1;
  uint64_t l = x >> half, r = x & mask;
  for (size_t i = 0; i < EXHI_ARRAY_LEN(p->keys); i++) {
    uint64_t nl = r;
    r = l ^ (mix64(r ^ p->keys[i]) & mask);
    l = nl;
  }
  return (l << half) | r;
}

uint64_t exhi_perm_at(const exhi_perm *p, uint64_t pos) {
  /* Cycle-walking: a bijection on [0, 2^bits) restricted to [0, n) stays a
   * bijection; the domain is < 4n, so a few steps on average. */
  uint64_t x = feistel(p, pos);
  while (x >= p->n) x = feistel(p, x);
  return x;
}
