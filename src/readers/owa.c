/*
 * OWA logon pages load their static files from a folder named after the
 * build: "/owa/auth/15.1.2176/themes/resources/favicon.ico" on 2013 and
 * later (major.minor.build: the CU only), "/owa/14.3.123.4/themes/..." on
 * 2010 (all four parts). Facts: fingerprint.md §1a (CSS-Exchange issue #107,
 * Metasploit's Exchange version mixin).
 */
#include "owa.h"

#include <ctype.h>
#include <string.h>

static bool ieq_prefix(const char *p, const char *end, const char *w) {
  size_t n = strlen(w);
  return (size_t)(end - p) >= n && exhi_ascii_ieq(p, n, w);
}

/* Reads d+.d+.d+(.d+)? followed by '/'; returns the parts or 0. */
static int version_at(const char *p, const char *end, exh_build *b) {
  uint32_t g[4];
  int n = 0;
  while (n < 5) {
    if (p >= end || !isdigit((unsigned char)*p)) return 0;
    uint64_t v = 0;
    int digits = 0;
    while (p < end && isdigit((unsigned char)*p)) {
      if (++digits > 9) return 0;
      v = v * 10 + (uint64_t)(*p++ - '0');
    }
    if (n < 4) g[n] = (uint32_t)v;
    n++;
    if (p < end && *p == '.') {
      p++;
      continue;
    }
    break;
  }
  if (n < 3 || n > 4 || p >= end || *p != '/') return 0;
  b->major = g[0];
  b->minor = g[1];
  b->build = g[2];
  b->revision = n == 4 ? g[3] : 0;
  b->parts = n;
  return n;
}

int exhi_owa_page_build(const char *html, size_t len, const char *name,
                        exh_build *out, bool *looks_owa, exh_error *err) {
  const char *end = html + len;
  bool owa = false, found = false;
  exh_build first = {0};
  for (const char *p = html; p < end; p++) {
    if (*p != '/' && *p != 'O' && *p != 'o') continue;
    if (!owa && (ieq_prefix(p, end, "OwaPage") || ieq_prefix(p, end, "Outlook Web App") ||
                 ieq_prefix(p, end, "/owa/auth/logon.aspx") || ieq_prefix(p, end, "IsOwaPremiumBrowser")))
      owa = true;
    if (!ieq_prefix(p, end, "/owa/")) continue;
    const char *q = p + 5;
    if (ieq_prefix(q, end, "auth/")) q += 5;
    exh_build b;
    if (!version_at(q, end, &b)) continue;
    owa = true;
    if (!found) {
      first = b;
      found = true;
    } else if (b.parts > first.parts && exh_build_cmp(&b, &first) == 0) {
      first = b; /* a 4-part path refines a 3-part one */
    }
  }
  *looks_owa = owa;
  if (!found)
    return exhi_err(err, EXH_ERR_NOTFOUND, name, 0, -1,
                    owa ? "OWA page without a versioned /owa/auth/<build>/ path (a proxy may rewrite it)"
                        : "no /owa/auth/<build>/ path: not a saved OWA logon page");
  *out = first;
  return EXH_OK;
}
