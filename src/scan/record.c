/*
 * From what a host answered to a verdict, and the verdict to one JSON line.
 * The precision rules are docs/findings.md's "exhunt scan" section and
 * fingerprint.md §5: an exact build (X-OWA-Version, the exporttool
 * manifest, a 4-part logon path) says patched or unpatched; a CU-level
 * build (the logon page path on 2013 and later) says patched only when the
 * CU itself was released after the fixes, vulnerable when the CU never got
 * them, and undetermined when the fix came as an update on that CU.
 */
#include "scan/scan.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

const char *exhi_probe_name(int probe) {
  switch (probe) {
  case EXHI_PROBE_VULNERABLE: return "vulnerable";
  case EXHI_PROBE_NOT_VULNERABLE: return "not_vulnerable";
  case EXHI_PROBE_ABORTED: return "aborted";
  case EXHI_PROBE_ERROR: return "error";
  default: return "not_run";
  }
}

/* The level over the open CVEs for which keep() holds. */
static const char *level_of(const exh_assessment *a, const char *campaign) {
  size_t open = 0, unfixable = 0;
  for (size_t i = 0; i < a->n_open; i++) {
    if (campaign && strcmp(a->open[i].campaign, campaign)) continue;
    open++;
    if (!a->open[i].fix) unfixable++;
  }
  if (a->level == EXH_LEVEL_NOT_ASSESSED) return "unknown";
  if (a->precision == EXH_PRECISION_EXACT) return open ? "unpatched" : "patched";
  if (!open) return "patched";
  return unfixable ? "vulnerable" : "undetermined";
}

int exhi_scan_verdict_of(const exhi_scan_result *r, const exh_kb *kb, const char *as_of,
                         exhi_scan_verdict *v, exh_error *err) {
  memset(v, 0, sizeof *v);
  if (!r->is_exchange) {
    v->exposed = r->probe == EXHI_PROBE_VULNERABLE;
    return EXH_OK;
  }
  /* Exact sources first: the header, then the manifest, then a 4-part path. */
  const exh_build *page = r->page.found ? &r->page.build : NULL;
  if (r->header_exact) {
    v->build = r->header_build;
    v->source = "x-owa-version";
  } else if (r->manifest_exact) {
    v->build = r->manifest_build;
    v->source = "exporttool";
  } else if (page) {
    v->build = *page;
    v->source = "logon-page";
  }
  v->has_build = v->source != NULL;
  if (r->header_exact && r->manifest_exact && exh_build_cmp(&r->header_build, &r->manifest_build) != 0)
    v->disagree = true;
  if (page && v->has_build && v->source[0] != 'l') {
    exh_build p3 = *page, b3 = v->build;
    p3.parts = b3.parts = 3;
    if (exh_build_cmp(&p3, &b3) != 0) v->disagree = true;
  }
  v->level = "unknown";
  v->proxylogon = "unknown";
  if (v->has_build) {
    v->precision = v->build.parts == 4 ? EXH_PRECISION_EXACT : EXH_PRECISION_CU;
    int rc = exh_assess(kb, &v->build, v->precision, as_of, &v->a, err);
    if (rc) return rc;
    v->level = level_of(v->a, NULL);
    v->proxylogon = level_of(v->a, "ProxyLogon");
  }
  v->exposed = !strcmp(v->level, "unpatched") || !strcmp(v->level, "vulnerable") ||
               r->probe == EXHI_PROBE_VULNERABLE;
  return EXH_OK;
}

void exhi_scan_verdict_clear(exhi_scan_verdict *v) {
  exh_assessment_free(v->a);
  v->a = NULL;
}

static bool redirects_to_m365(const char *loc) {
  static const char *const hosts[] = {"login.microsoftonline.com", "outlook.office365.com",
                                      "outlook.office.com", "login.windows.net"};
  const char *p = strstr(loc, "://");
  if (!p) return false;
  p += 3;
  size_t n = strcspn(p, "/:?#");
  for (size_t i = 0; i < EXHI_ARRAY_LEN(hosts); i++)
    if (n == strlen(hosts[i]) && exhi_ascii_ieq(p, n, hosts[i])) return true;
  return false;
}

static json_t *str(const char *s) {
  char buf[EXHI_SCAN_LOCATION_MAX * 3 + 8];
  return json_string(exhi_utf8_sanitize(s, buf, sizeof buf));
}

static void set(json_t *o, const char *k, json_t *v) {
  if (v) json_object_set_new(o, k, v);
}

int exhi_scan_record_write(FILE *fp, const exhi_scan_result *r, const exhi_scan_verdict *v,
                           const exhi_geo_info *geo) {
  json_t *o = json_object();
  if (!o) return EXH_ERR_NOMEM;
  set(o, "ip", str(r->t.ip));
  set(o, "port", json_integer(r->t.port));
  if (r->t.domain) set(o, "domain", str(r->t.domain));
  if (r->t.tag) set(o, "tag", str(r->t.tag));
  char ts[40];
  exhi_format_time_ms(r->time_ms, ts, sizeof ts);
  set(o, "timestamp", json_string(ts));
  set(o, "status", json_string(r->blocked ? "blocked" : r->connected ? "success" : "error"));
  if (r->tls) {
    json_t *t = json_object();
    set(t, "subject", str(r->tls_subject));
    set(t, "issuer", str(r->tls_issuer));
    if (r->tls_not_after[0]) set(t, "not_after", str(r->tls_not_after));
    set(o, "tls", t);
  }
  if (r->connected) {
    json_t *h = json_object();
    set(h, "status", json_integer(r->http_status));
    if (r->redirect[0]) {
      set(h, "redirect", str(r->redirect));
      /* Hybrid and Exchange Online send OWA users to Microsoft's sign-in
       * (fingerprint.md §3.4): not an on-premises build to judge. */
      if (redirects_to_m365(r->redirect)) set(h, "redirect_m365", json_true());
    }
    set(h, "requests", json_integer(r->requests));
    set(o, "http", h);
  }
  set(o, "is_exchange", json_boolean(r->is_exchange));
  if (v->has_build) {
    char b[64];
    exh_build_format(&v->build, b, sizeof b);
    set(o, "build", json_string(b));
    set(o, "precision", json_string(v->precision == EXH_PRECISION_EXACT ? "exact" : "cu"));
    set(o, "build_source", json_string(v->source));
    if (v->disagree) set(o, "builds_disagree", json_true());
  }
  if (v->a && v->a->product) {
    set(o, "product", json_string(v->a->product));
    if (v->a->cu) set(o, "cu", json_string(v->a->cu->cu));
    if (v->a->release) set(o, "update", json_string(v->a->release->update[0] ? v->a->release->update : "none"));
    set(o, "support", json_string(v->a->support == EXH_SUPPORT_ENDED ? "ended" : "supported"));
  }
  if (v->level) {
    set(o, "level", json_string(v->level));
    set(o, "proxylogon", json_string(v->proxylogon));
  }
  if (v->a && v->a->level != EXH_LEVEL_NOT_ASSESSED) {
    json_t *c = json_array();
    for (size_t i = 0; i < v->a->n_open; i++) json_array_append_new(c, json_string(v->a->open[i].id));
    /* With the CU known only, these are open unless an update was installed. */
    set(o, v->a->precision == EXH_PRECISION_EXACT ? "open_cves" : "open_cves_without_update", c);
  }
  if (r->probe != EXHI_PROBE_NOT_RUN) {
    json_t *p = json_object();
    set(p, "proxylogon", json_string(exhi_probe_name(r->probe)));
    set(p, "detail", str(r->probe_detail));
    set(o, "probe", p);
  }
  if (geo && geo->found) {
    json_t *g = json_object();
    if (geo->country[0]) set(g, "country", str(geo->country));
    if (geo->asn) {
      set(g, "asn", json_integer(geo->asn));
      if (geo->as_org[0]) set(g, "as_org", str(geo->as_org));
    }
    set(o, "geo", g);
  }
  set(o, "exposed", json_boolean(v->exposed));
  if (r->nerrors) {
    json_t *e = json_array();
    for (unsigned i = 0; i < r->nerrors; i++) json_array_append_new(e, str(r->errors[i]));
    set(o, "errors", e);
  }
  int rc = json_dumpf(o, fp, JSON_COMPACT) == 0 && fputc('\n', fp) != EOF ? EXH_OK : EXH_ERR_IO;
  json_decref(o);
  return rc;
}
