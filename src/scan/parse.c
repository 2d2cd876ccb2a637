/*
 * Parsers of what an HTTP server sends back to exhunt scan: header lines,
 * the OWA logon page and the exporttool manifest. Facts:
 * ../shared/docs/fingerprint.md §1 (X-OWA-Version header, logon page path,
 * exporttool manifest) and detections.md §3 (X-CalculatedBETarget).
 * Every byte is the server's choice: lengths are taken from the caller,
 * never from the data, and every copy is bounded.
 */
#include "scan/scan.h"
#include "readers/owa.h"

#include <ctype.h>
#include <string.h>

/* Copies a header value, trimmed, with control bytes made visible as '?'
 * (outputs escape again; this keeps a stray CR or NUL out of any record). */
static void copy_value(char *dst, size_t size, const char *v, size_t n) {
  while (n && (*v == ' ' || *v == '\t')) v++, n--;
  while (n && (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == '\r' || v[n - 1] == '\n')) n--;
  if (n >= size) n = size - 1;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)v[i];
    dst[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
  }
  dst[n] = '\0';
}

static bool name_is(const char *line, size_t nlen, const char *want) {
  return strlen(want) == nlen && exhi_ascii_ieq(line, nlen, want);
}

void exhi_scan_header_line(exhi_scan_resp *r, const char *line, size_t len) {
  if (len >= 5 && !memcmp(line, "HTTP/", 5)) {
    /* A new response (after a 100 Continue, or a new request): start over. */
    memset(r, 0, sizeof *r);
    const char *sp = memchr(line, ' ', len);
    if (sp && (size_t)(line + len - sp) >= 4 && isdigit((unsigned char)sp[1]) &&
        isdigit((unsigned char)sp[2]) && isdigit((unsigned char)sp[3]))
      r->status = (sp[1] - '0') * 100 + (sp[2] - '0') * 10 + (sp[3] - '0');
    return;
  }
  if (++r->nheaders > EXHI_SCAN_MAX_HEADERS) return;
  const char *colon = memchr(line, ':', len);
  if (!colon) return;
  size_t nlen = (size_t)(colon - line);
  const char *v = colon + 1;
  size_t vlen = len - nlen - 1;
  if (name_is(line, nlen, "X-OWA-Version")) {
    copy_value(r->owa_version, sizeof r->owa_version, v, vlen);
    r->has_owa_version = true;
  } else if (name_is(line, nlen, "X-CalculatedBETarget")) {
    copy_value(r->be_target, sizeof r->be_target, v, vlen);
    r->has_be_target = true;
  } else if (name_is(line, nlen, "Location")) {
    copy_value(r->location, sizeof r->location, v, vlen);
    r->has_location = true;
  }
}

bool exhi_scan_exact_build(const char *text, exh_build *out) {
  /* Only digits and dots: "15.2.721.2". Longer forms are not what the
   * header carries, and a proxy's garbage must not parse by accident. */
  size_t n = strlen(text);
  if (n == 0 || n > 32) return false;
  for (size_t i = 0; i < n; i++)
    if (!isdigit((unsigned char)text[i]) && text[i] != '.') return false;
  int admin = 0;
  if (exh_build_parse(text, n, out, &admin, NULL) != EXH_OK) return false;
  return out->parts == 4 && !admin;
}

static const char *find_ci(const char *p, const char *end, const char *w) {
  size_t n = strlen(w);
  for (; (size_t)(end - p) >= n; p++)
    if (exhi_ascii_ieq(p, n, w)) return p;
  return NULL;
}

/* The value of attribute name="..." inside the tag [p, end), or NULL. */
static const char *attr(const char *p, const char *end, const char *name, size_t *vlen) {
  size_t n = strlen(name);
  for (const char *q = p; q && q < end; q++) {
    q = find_ci(q, end, name);
    if (!q) return NULL;
    /* a whole attribute name: preceded by space, followed by '=' and a quote */
    if (q == p || !isspace((unsigned char)q[-1])) continue;
    const char *e = q + n;
    while (e < end && isspace((unsigned char)*e)) e++;
    if (e >= end || *e != '=') continue;
    e++;
    while (e < end && isspace((unsigned char)*e)) e++;
    if (e >= end || (*e != '"' && *e != '\'')) continue;
    char quote = *e++;
    const char *close = memchr(e, quote, (size_t)(end - e));
    if (!close) return NULL;
    *vlen = (size_t)(close - e);
    return e;
  }
  return NULL;
}

int exhi_scan_manifest_build(const char *xml, size_t len, exh_build *out, exh_error *err) {
  const char *end = xml + len, *p = xml;
  bool seen = false;
  /* The manifest names other assemblies too (the CLR, the .exe manifest);
   * only the export tool's own identity carries the Exchange build
   * (Metasploit matches name="microsoft.exchange.ediscovery.exporttool"). */
  while ((p = find_ci(p, end, "<assemblyIdentity")) != NULL) {
    p += 17;
    if (p < end && !isspace((unsigned char)*p)) continue; /* <assemblyIdentityX */
    const char *gt = memchr(p, '>', (size_t)(end - p));
    if (!gt) break;
    seen = true;
    size_t vlen = 0, nlen = 0;
    const char *name = attr(p, gt, "name", &nlen);
    const char *v = attr(p, gt, "version", &vlen);
    if (name && v && vlen < 32 && find_ci(name, name + nlen, "microsoft.exchange.ediscovery.exporttool")) {
      char text[32];
      memcpy(text, v, vlen);
      text[vlen] = '\0';
      if (exhi_scan_exact_build(text, out)) return EXH_OK;
    }
    p = gt;
  }
  return exhi_err(err, EXH_ERR_NOTFOUND, "exporttool manifest", 0, -1,
                  seen ? "no <assemblyIdentity> of the export tool with a 4-part version=\"...\""
                       : "no <assemblyIdentity> element: not a ClickOnce manifest");
}

void exhi_scan_logon_page(const char *html, size_t len, exhi_scan_page *out) {
  memset(out, 0, sizeof *out);
  bool owa = false;
  if (exhi_owa_page_build(html, len, "logon page", &out->build, &owa, NULL) == EXH_OK) out->found = true;
  /* Metasploit's Exchange mixin also keys on the noscript sentence of the
   * logon page (fingerprint.md §1a). */
  if (!owa && find_ci(html, html + len, "To use Outlook, browser settings must allow scripts to run"))
    owa = true;
  out->is_owa = owa;
}
