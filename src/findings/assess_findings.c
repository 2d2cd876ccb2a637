/* Findings of an assessment: what a SIEM gets, one record per thing to do. */
#include "findings.h"

#include <stdio.h>
#include <string.h>

void exhi_campaigns(const exh_open_cve *cves, size_t n, char *buf, size_t size) {
  const char *seen[16];
  size_t ns = 0, o = 0;
  if (size) buf[0] = '\0';
  for (size_t i = 0; i < n && ns < EXHI_ARRAY_LEN(seen); i++) {
    const char *c = cves[i].campaign;
    if (!c || !*c) continue;
    bool dup = false;
    for (size_t j = 0; j < ns; j++) dup |= strcmp(seen[j], c) == 0;
    if (dup) continue;
    seen[ns++] = c;
  }
  /* A fixed order reads better than table order: the famous chains first. */
  static const char *const order[] = {"ProxyLogon", "ProxyShell", "ProxyNotShell", "OWASSRF", "ProxyOracle"};
  for (size_t k = 0; k <= EXHI_ARRAY_LEN(order); k++) {
    for (size_t j = 0; j < ns; j++) {
      bool known = false;
      for (size_t m = 0; m < EXHI_ARRAY_LEN(order); m++) known |= strcmp(seen[j], order[m]) == 0;
      bool take = k < EXHI_ARRAY_LEN(order) ? strcmp(seen[j], order[k]) == 0 : !known;
      if (!take) continue;
      int w = snprintf(buf + o, size > o ? size - o : 0, "%s%s", o ? ", " : "", seen[j]);
      if (w > 0) o += (size_t)w;
      if (o >= size) return;
    }
  }
}

static bool any_campaign(const exh_open_cve *c, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (c[i].campaign && *c[i].campaign) return true;
  return false;
}

typedef struct emit {
  const exh_assessment *a;
  const exh_input_build *in;
  exhi_finding_cb cb;
  void *ctx;
  char build[64];
  exh_field fields[EXH_FINDING_MAX_FIELDS];
  size_t nfields;
} emit;

static void add_field(emit *e, const char *name, const char *value) {
  if (!value || !*value || e->nfields >= EXH_FINDING_MAX_FIELDS) return;
  e->fields[e->nfields].name = name;
  e->fields[e->nfields].value = value;
  e->nfields++;
}

static int emit_finding(emit *e, const char *rule, const char *title, int sev,
                const exh_open_cve *cves, size_t n, const char *msg, const char *action) {
  const char *ids[EXH_FINDING_MAX_CVES];
  size_t k = 0;
  for (size_t i = 0; i < n && k < EXH_FINDING_MAX_CVES; i++) ids[k++] = cves[i].id;
  exh_finding f = {
      .rule_id = rule,
      .rule_name = title,
      .severity = sev,
      .confidence = e->a->precision == EXH_PRECISION_EXACT ? 100 : 60,
      .cves = ids,
      .n_cves = k,
      .event_time_ms = -1,
      .path = e->in && e->in->path[0] ? e->in->path : NULL,
      .offset = -1,
      .fields = e->fields,
      .n_fields = e->nfields,
      .message = msg,
      .action = action,
  };
  return e->cb(e->ctx, &f);
}

static void release_phrase(const exh_release *r, char *buf, size_t size) {
  char b[64];
  exh_build_format(&r->build, b, sizeof b);
  if (r->kb[0]) snprintf(buf, size, "%s (%s, build %s)", r->name, r->kb, b);
  else snprintf(buf, size, "%s (build %s)", r->name, b);
}

static void upgrade_action(const exh_assessment *a, char *buf, size_t size) {
  char t[512] = "";
  if (a->support == EXH_SUPPORT_ENDED || !a->latest_in_product) {
    if (a->target) release_phrase(a->target, t, sizeof t);
    snprintf(buf, size, "%s is out of support: move to %s%s%s, or decommission the server",
             a->product, a->target_product ? a->target_product : "a supported version",
             a->target ? " at its latest update, " : "", t);
  } else {
    release_phrase(a->latest_in_product, t, sizeof t);
    snprintf(buf, size, "Upgrade to the latest CU and update: %s", t);
  }
}

int exhi_assessment_findings(const exh_assessment *a, const exh_input_build *in,
                             exhi_finding_cb cb, void *ctx) {
  emit e = {.a = a, .in = in, .cb = cb, .ctx = ctx};
  exh_build_format(&a->build, e.build, sizeof e.build);
  char msg[1024], action[1024], camp[256];
  int rc;
  add_field(&e, "exhunt.build", e.build);
  add_field(&e, "exhunt.product", a->product);
  if (a->cu) add_field(&e, "exhunt.cu", a->cu->cu);

  if (a->level == EXH_LEVEL_NOT_ASSESSED) {
    if (!a->product)
      snprintf(msg, sizeof msg, "Build %s is not a known Exchange Server version", e.build);
    else
      snprintf(msg, sizeof msg, "exhunt has no build table for %s", a->product);
    if ((rc = emit_finding(&e, EXHI_RULE_NOT_ASSESSED, "Build not assessed", EXH_SEV_LOW, NULL, 0, msg, NULL)))
      return rc;
  }
  if (a->precision == EXH_PRECISION_EXACT && a->level != EXH_LEVEL_NOT_ASSESSED && !a->release) {
    char near[512] = "";
    size_t o = 0;
    if (a->nearest_below) {
      char b[64];
      exh_build_format(&a->nearest_below->build, b, sizeof b);
      o += (size_t)snprintf(near, sizeof near, "; nearest below: %s (%s)", a->nearest_below->name, b);
    }
    if (a->nearest_above && o < sizeof near) {
      char b[64];
      exh_build_format(&a->nearest_above->build, b, sizeof b);
      snprintf(near + o, sizeof near - o, "; nearest above: %s (%s)", a->nearest_above->name, b);
    }
    snprintf(msg, sizeof msg, "Build %s is not in exhunt's table%s%s", e.build,
             a->newer_than_table ? " (newer than every known build: update the tables)" : "", near);
    if ((rc = emit_finding(&e, EXHI_RULE_UNKNOWN_BUILD, "Unknown build", EXH_SEV_LOW, NULL, 0, msg, NULL)))
      return rc;
  }

  /* Open CVEs, grouped by the release that closes them (a->open is sorted
   * that way); with the CU known only, one finding for them all. */
  size_t i = 0;
  size_t nfix = a->n_open - a->n_unfixable;
  if (a->precision == EXH_PRECISION_CU && nfix) {
    exhi_campaigns(a->open, nfix, camp, sizeof camp);
    snprintf(msg, sizeof msg,
             "Only the CU of build %s is known: %zu CVE%s %s open unless an update is installed%s%s",
             e.build, nfix, nfix == 1 ? "" : "s", nfix == 1 ? "is" : "are", camp[0] ? ", " : "", camp);
    char r[512];
    release_phrase(a->min_update, r, sizeof r);
    snprintf(action, sizeof action,
             "Read the installed build from Bin\\ExSetup.exe (exhunt assess <path>); unless it is at least %s, install it",
             r);
    rc = emit_finding(&e, EXHI_RULE_UPDATE_UNKNOWN, "Update level unknown", 
              any_campaign(a->open, nfix) ? EXH_SEV_HIGH : EXH_SEV_MEDIUM, a->open, nfix, msg, action);
    if (rc) return rc;
    i = nfix;
  }
  while (i < nfix) {
    size_t j = i;
    while (j < nfix && a->open[j].fix == a->open[i].fix) j++;
    const exh_release *fx = a->open[i].fix;
    char r[512];
    release_phrase(fx, r, sizeof r);
    exhi_campaigns(a->open + i, j - i, camp, sizeof camp);
    snprintf(msg, sizeof msg, "Build %s lacks %s: %zu CVE%s open%s%s", e.build, r, j - i,
             j - i == 1 ? "" : "s", camp[0] ? ", " : "", camp);
    snprintf(action, sizeof action, "Install %s", r);
    size_t nf = e.nfields;
    add_field(&e, "exhunt.fix.name", fx->name);
    add_field(&e, "exhunt.fix.kb", fx->kb);
    char fb[64];
    exh_build_format(&fx->build, fb, sizeof fb);
    add_field(&e, "exhunt.fix.build", fb);
    rc = emit_finding(&e, EXHI_RULE_MISSING_UPDATE, "Security update missing",
              any_campaign(a->open + i, j - i) ? EXH_SEV_CRITICAL : EXH_SEV_HIGH, a->open + i, j - i,
              msg, action);
    e.nfields = nf;
    if (rc) return rc;
    i = j;
  }
  if (a->n_unfixable) {
    const exh_open_cve *u = a->open + nfix;
    exhi_campaigns(u, a->n_unfixable, camp, sizeof camp);
    snprintf(msg, sizeof msg, "%s %s never received the fix for %zu CVE%s%s%s",
             a->product, a->cu ? a->cu->cu : "(a build older than any known CU)", a->n_unfixable,
             a->n_unfixable == 1 ? "" : "s", camp[0] ? ", " : "", camp);
    upgrade_action(a, action, sizeof action);
    rc = emit_finding(&e, EXHI_RULE_CU_NEVER_FIXED, "CU never fixed",
              any_campaign(u, a->n_unfixable) ? EXH_SEV_CRITICAL : EXH_SEV_HIGH, u, a->n_unfixable,
              msg, action);
    if (rc) return rc;
  }
  if (a->support == EXH_SUPPORT_ENDED) {
    snprintf(msg, sizeof msg, "%s has been out of support since %s: no more security updates",
             a->product, a->support_end);
    upgrade_action(a, action, sizeof action);
    if ((rc = emit_finding(&e, EXHI_RULE_OUT_OF_SUPPORT, "Product out of support", EXH_SEV_HIGH, NULL, 0, msg, action)))
      return rc;
  }
  return 0;
}

static int max_cb(void *ctx, const exh_finding *f) {
  int *m = ctx;
  if (f->severity > *m) *m = f->severity;
  return 0;
}

int exhi_assessment_max_severity(const exh_assessment *a) {
  int m = -1;
  exhi_assessment_findings(a, NULL, max_cb, &m);
  return m;
}

int exh_assessment_severity(const exh_assessment *a) { return exhi_assessment_max_severity(a); }
