/* Canonical forms of indicator values, so that a lookup finds what a feed
 * wrote however either side spelled it (case, defanging, separators). */
#include "ioc.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>
#include <strings.h>

static const char *const type_names[EXH_IOC_TYPE_COUNT] = {
    NULL,       "sha256", "sha1",   "md5", "filename",  "filepath",
    "ipv4",     "ipv6",   "domain", "url", "user-agent",
};

const char *exh_ioc_type_name(int type) {
  return type > 0 && type < EXH_IOC_TYPE_COUNT ? type_names[type] : NULL;
}

int exh_ioc_type_from_name(const char *name) {
  for (int t = 1; t < EXH_IOC_TYPE_COUNT; t++)
    if (name && strcmp(name, type_names[t]) == 0) return t;
  return 0;
}

/* The type words of the feeds exhunt reads (MSTIC, Volexity, MISP
 * attribute types, OTX-style "FileHash-SHA256", plain lists). */
static const struct {
  const char *word;
  int type; /* -1: IPv4 or IPv6 by the value; -2: a hash by its length */
} aliases[] = {
    {"sha256", EXH_IOC_SHA256},     {"sha-256", EXH_IOC_SHA256},
    {"filehash-sha256", EXH_IOC_SHA256}, {"hash_sha256", EXH_IOC_SHA256},
    {"sha1", EXH_IOC_SHA1},         {"sha-1", EXH_IOC_SHA1},
    {"filehash-sha1", EXH_IOC_SHA1}, {"hash_sha1", EXH_IOC_SHA1},
    {"md5", EXH_IOC_MD5},           {"filehash-md5", EXH_IOC_MD5},
    {"hash_md5", EXH_IOC_MD5},      {"hash", -2},
    {"filehash", -2},               {"filename", EXH_IOC_FILENAME},
    {"file_name", EXH_IOC_FILENAME}, {"file", EXH_IOC_FILENAME},
    {"webshell_name", EXH_IOC_FILENAME}, {"filepath", EXH_IOC_FILEPATH},
    {"file_path", EXH_IOC_FILEPATH}, {"path", EXH_IOC_FILEPATH},
    {"ipv4", EXH_IOC_IPV4},         {"ipv4-addr", EXH_IOC_IPV4},
    {"ipv6", EXH_IOC_IPV6},         {"ipv6-addr", EXH_IOC_IPV6},
    {"ip", -1},                     {"ipaddress", -1},
    {"ip-address", -1},             {"ip_address", -1},
    {"ip-src", -1},                 {"ip-dst", -1},
    {"domain", EXH_IOC_DOMAIN},     {"domain-name", EXH_IOC_DOMAIN},
    {"hostname", EXH_IOC_DOMAIN},   {"fqdn", EXH_IOC_DOMAIN},
    {"url", EXH_IOC_URL},           {"uri", EXH_IOC_URL},
    {"user-agent", EXH_IOC_USER_AGENT}, {"useragent", EXH_IOC_USER_AGENT},
    {"user_agent", EXH_IOC_USER_AGENT},
};

int exhi_ioc_type_guess(const char *word, const char *value, size_t value_len) {
  if (!word) return 0;
  for (size_t i = 0; i < EXHI_ARRAY_LEN(aliases); i++) {
    if (strcasecmp(word, aliases[i].word) != 0) continue;
    if (aliases[i].type == -1)
      return value && memchr(value, ':', value_len) ? EXH_IOC_IPV6 : EXH_IOC_IPV4;
    if (aliases[i].type == -2) {
      size_t n = value_len;
      while (n && isspace((unsigned char)value[n - 1])) n--;
      return n == 64 ? EXH_IOC_SHA256 : n == 40 ? EXH_IOC_SHA1 : n == 32 ? EXH_IOC_MD5 : 0;
    }
    return aliases[i].type;
  }
  return 0;
}

static char lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c; }

/* Undoes the usual defanging of network indicators in reports. */
static size_t refang(const char *in, size_t len, char *out, size_t size) {
  static const struct {
    const char *from, *to;
  } subs[] = {{"[.]", "."}, {"(.)", "."}, {"{.}", "."}, {"[dot]", "."},
              {"(dot)", "."}, {"[:]", ":"}, {"[://]", "://"}, {"[at]", "@"},
              {"[@]", "@"}};
  size_t o = 0;
  size_t i = 0;
  /* Every defanged form opens with one of these or is "hxxp": values from
   * logs (looked up per record) almost never do, so copy them at once. */
  if (!memchr(in, '[', len) && !memchr(in, '(', len) && !memchr(in, '{', len) &&
      !(len >= 4 && (in[0] == 'h' || in[0] == 'H') && (in[1] == 'x' || in[1] == 'X'))) {
    if (len >= size) return (size_t)-1;
    memcpy(out, in, len);
    out[len] = '\0';
    return len;
  }
  /* hxxp://, hXXps:// */
  if (len >= 4 && strncasecmp(in, "hxxp", 4) == 0) {
    if (o + 4 >= size) return (size_t)-1;
    memcpy(out, "http", 4);
    o = 4;
    i = 4;
  }
  while (i < len) {
    size_t k;
    for (k = 0; k < EXHI_ARRAY_LEN(subs); k++) {
      size_t fl = strlen(subs[k].from);
      if (len - i >= fl && strncasecmp(in + i, subs[k].from, fl) == 0) {
        size_t tl = strlen(subs[k].to);
        if (o + tl >= size) return (size_t)-1;
        memcpy(out + o, subs[k].to, tl);
        o += tl;
        i += fl;
        break;
      }
    }
    if (k < EXHI_ARRAY_LEN(subs)) continue;
    if (o + 1 >= size) return (size_t)-1;
    out[o++] = in[i++];
  }
  out[o] = '\0';
  return o;
}

static int bad(exh_error *err, int type, const char *why) {
  return exhi_err(err, EXH_ERR_PARSE, NULL, 0, -1, "not a valid %s: %s",
                  exh_ioc_type_name(type) ? exh_ioc_type_name(type) : "indicator", why);
}

static bool has_ctl(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) return true;
  return false;
}

int exh_ioc_normalize(int type, const char *value, size_t len, char *out, size_t size,
                      exh_error *err) {
  if (!exh_ioc_type_name(type))
    return exhi_err(err, EXH_ERR_INVALID, NULL, 0, -1, "unknown indicator type %d", type);
  if (!value || !out || size == 0)
    return exhi_err(err, EXH_ERR_INVALID, NULL, 0, -1, "no value or no output buffer");
  out[0] = '\0';
  /* Spreadsheet and copy-paste whitespace around a value is never meant. */
  while (len && isspace((unsigned char)*value)) value++, len--;
  while (len && isspace((unsigned char)value[len - 1])) len--;
  if (len == 0) return bad(err, type, "empty");
  if (len > EXH_IOC_VALUE_MAX)
    return exhi_err(err, EXH_ERR_LIMIT, NULL, 0, -1, "value longer than %d bytes",
                    EXH_IOC_VALUE_MAX);
  if (memchr(value, '\0', len) || has_ctl(value, len))
    return bad(err, type, "control character in the value");
  if (size < len + 2) return exhi_err(err, EXH_ERR_LIMIT, NULL, 0, -1, "output buffer too small");

  switch (type) {
  case EXH_IOC_SHA256:
  case EXH_IOC_SHA1:
  case EXH_IOC_MD5: {
    size_t want = type == EXH_IOC_SHA256 ? 64 : type == EXH_IOC_SHA1 ? 40 : 32;
    if (len != want) return bad(err, type, "wrong length");
    for (size_t i = 0; i < len; i++) {
      if (!isxdigit((unsigned char)value[i])) return bad(err, type, "not hexadecimal");
      out[i] = lower(value[i]);
    }
    out[len] = '\0';
    return EXH_OK;
  }
  case EXH_IOC_IPV4:
  case EXH_IOC_IPV6: {
    char tmp[128];
    if (len >= sizeof tmp) return bad(err, type, "too long for an address");
    size_t n = refang(value, len, tmp, sizeof tmp);
    if (n == (size_t)-1) return bad(err, type, "too long for an address");
    char *p = tmp;
    if (type == EXH_IOC_IPV6 && n >= 2 && p[0] == '[' && p[n - 1] == ']') {
      p[n - 1] = '\0';
      p++;
    }
    unsigned char bin[16];
    int af = type == EXH_IOC_IPV4 ? AF_INET : AF_INET6;
    if (inet_pton(af, p, bin) != 1) return bad(err, type, "not an address");
    char canon[INET6_ADDRSTRLEN];
    if (!inet_ntop(af, bin, canon, sizeof canon)) return bad(err, type, "not an address");
    if (strlen(canon) >= size) return exhi_err(err, EXH_ERR_LIMIT, NULL, 0, -1, "output buffer too small");
    strcpy(out, canon);
    return EXH_OK;
  }
  case EXH_IOC_DOMAIN: {
    size_t n = refang(value, len, out, size);
    if (n == (size_t)-1) return exhi_err(err, EXH_ERR_LIMIT, NULL, 0, -1, "output buffer too small");
    if (n && out[n - 1] == '.') out[--n] = '\0';
    if (n == 0 || n > 253) return bad(err, type, "length outside 1..253");
    size_t label = 0;
    bool dot = false;
    for (size_t i = 0; i < n; i++) {
      char c = lower(out[i]);
      out[i] = c;
      if (c == '.') {
        if (label == 0) return bad(err, type, "empty label");
        label = 0;
        dot = true;
        continue;
      }
      if (!(isalnum((unsigned char)c) || c == '-' || c == '_'))
        return bad(err, type, "character not allowed in a host name");
      if (++label > 63) return bad(err, type, "label longer than 63");
    }
    if (!dot) return bad(err, type, "no dot");
    if (label == 0) return bad(err, type, "empty label");
    return EXH_OK;
  }
  case EXH_IOC_URL: {
    /* Refang the scheme and host only: a path is the server's business and
     * may hold "[.]" legitimately. */
    size_t hend = 0;
    /* The authority ends at the first '/', '?' or '#' after "://" (or its
     * defanged "[://]"); find "//" first. */
    const char *ss = NULL;
    for (size_t i = 0; i + 1 < len; i++)
      if (value[i] == '/' && value[i + 1] == '/') {
        ss = value + i;
        break;
      }
    if (!ss) return bad(err, type, "no scheme://");
    hend = (size_t)(ss - value) + 2;
    while (hend < len && value[hend] != '/' && value[hend] != '?' && value[hend] != '#') hend++;
    size_t n = refang(value, hend, out, size);
    if (n == (size_t)-1 || n + (len - hend) + 1 > size)
      return exhi_err(err, EXH_ERR_LIMIT, NULL, 0, -1, "output buffer too small");
    memcpy(out + n, value + hend, len - hend);
    out[n + len - hend] = '\0';
    for (size_t i = 0; out[i]; i++)
      if (out[i] == ' ') return bad(err, type, "space in a URL");
    char *sep = strstr(out, "://");
    if (!sep || sep == out || (size_t)(sep - out) + 3 > n) return bad(err, type, "no scheme://");
    for (char *q = out; q < sep; q++) {
      if (!isalnum((unsigned char)*q) && *q != '+' && *q != '-' && *q != '.')
        return bad(err, type, "invalid scheme");
      *q = lower(*q);
    }
    char *host = sep + 3, *hostend = out + n;
    if (host == hostend) return bad(err, type, "no host");
    /* An IPv6 literal "[2001:db8::1]" is the only place for brackets. */
    bool in_literal = *host == '[';
    for (char *q = host + in_literal; q < hostend; q++) {
      *q = lower(*q);
      bool ok;
      if (in_literal) {
        ok = isxdigit((unsigned char)*q) || *q == ':' || *q == '.' || *q == ']';
        if (*q == ']') in_literal = false;
      } else {
        ok = *q && (isalnum((unsigned char)*q) || strchr(".-_:@%~!$&'()*+,;=", *q));
      }
      if (!ok) return bad(err, type, "character not allowed in the host part");
    }
    if (in_literal) return bad(err, type, "IPv6 literal not closed");
    if (*host == '[') {
      char v6[INET6_ADDRSTRLEN + 1];
      unsigned char bin[16];
      size_t l = (size_t)(strchr(host, ']') - host - 1);
      if (l >= sizeof v6) return bad(err, type, "not an IPv6 literal");
      memcpy(v6, host + 1, l);
      v6[l] = '\0';
      if (inet_pton(AF_INET6, v6, bin) != 1) return bad(err, type, "not an IPv6 literal");
    }
    return EXH_OK;
  }
  case EXH_IOC_USER_AGENT:
    memcpy(out, value, len);
    out[len] = '\0';
    return EXH_OK;
  case EXH_IOC_FILENAME: {
    /* A name given with its folder: keep the name. */
    size_t start = len;
    while (start && value[start - 1] != '/' && value[start - 1] != '\\') start--;
    /* " x.aspx" after a separator: the same trim as for the whole value. */
    while (start < len && isspace((unsigned char)value[start])) start++;
    if (start == len) return bad(err, type, "ends with a separator");
    for (size_t i = start; i < len; i++) out[i - start] = lower(value[i]);
    out[len - start] = '\0';
    if (!strcmp(out, ".") || !strcmp(out, "..")) return bad(err, type, "not a file name");
    return EXH_OK;
  }
  case EXH_IOC_FILEPATH: {
    size_t i = 0, o = 0;
    /* \\?\C:\ long-path prefix, then a drive letter. */
    if (len >= 4 && (memcmp(value, "\\\\?\\", 4) == 0 || memcmp(value, "//?/", 4) == 0)) i = 4;
    if (len - i >= 2 && isalpha((unsigned char)value[i]) && value[i + 1] == ':') i += 2;
    out[o++] = '/';
    for (; i < len; i++) {
      char c = value[i] == '\\' ? '/' : lower(value[i]);
      if (c == '/' && out[o - 1] == '/') continue; /* "a\\b", "a//b" */
      out[o++] = c;
    }
    while (o > 1 && (out[o - 1] == '/' || isspace((unsigned char)out[o - 1]))) o--;
    out[o] = '\0';
    if (o <= 1) return bad(err, type, "no file in the path");
    return EXH_OK;
  }
  }
  return bad(err, type, "unknown type");
}

int exh_ioc_type_detect(const char *value, size_t len) {
  char buf[EXH_IOC_VALUE_MAX + 2];
  while (len && isspace((unsigned char)*value)) value++, len--;
  while (len && isspace((unsigned char)value[len - 1])) len--;
  if (!len) return 0;
  size_t hex = 0;
  while (hex < len && isxdigit((unsigned char)value[hex])) hex++;
  if (hex == len && (len == 64 || len == 40 || len == 32))
    return len == 64 ? EXH_IOC_SHA256 : len == 40 ? EXH_IOC_SHA1 : EXH_IOC_MD5;
  if (exh_ioc_normalize(EXH_IOC_IPV4, value, len, buf, sizeof buf, NULL) == EXH_OK) return EXH_IOC_IPV4;
  if (exh_ioc_normalize(EXH_IOC_IPV6, value, len, buf, sizeof buf, NULL) == EXH_OK) return EXH_IOC_IPV6;
  if (exh_ioc_normalize(EXH_IOC_URL, value, len, buf, sizeof buf, NULL) == EXH_OK) return EXH_IOC_URL;
  if (memchr(value, '\\', len) || memchr(value, '/', len)) return EXH_IOC_FILEPATH;
  if (exh_ioc_normalize(EXH_IOC_DOMAIN, value, len, buf, sizeof buf, NULL) == EXH_OK) {
    /* "shell.aspx" is a file name, not a host: a known file extension decides. */
    static const char *const exts[] = {".aspx", ".asp", ".ashx", ".asmx", ".exe", ".dll", ".bat",
                                       ".ps1", ".txt", ".zip", ".7z", ".rar", ".dmp", ".js",
                                       ".config", ".log", ".hta", ".vbs", ".php", ".jsp"};
    for (size_t i = 0; i < EXHI_ARRAY_LEN(exts); i++) {
      size_t el = strlen(exts[i]);
      if (len > el && strncasecmp(value + len - el, exts[i], el) == 0) return EXH_IOC_FILENAME;
    }
    return EXH_IOC_DOMAIN;
  }
  return EXH_IOC_FILENAME;
}
