/* Findings of an assessment: what a SIEM gets, one record per thing to do.
 *
 * Two steps: plan() decides which findings an assessment has and their
 * severities, cheaply (the exit status needs only that, once per input);
 * exhi_assessment_findings() then words each planned finding. */
#include "findings.h"

#include <stdio.h>
#include <string.h>

/* A fixed order reads better than table order: the famous chains first. */
static const char *const campaign_order[] = {"ProxyLogon", "ProxyShell", "ProxyNotShell",
                                             "OWASSRF", "ProxyOracle"};

void exhi_campaigns(const exh_open_cve *cves, size_t n, char *buf, size_t size) {
  const char *seen[16];
  size_t ns = 0, o = 0;
  if (size) buf[0] = '\0';
  for (size_t i = 0; i < n && ns < EXHI_ARRAY_LEN(seen); i++) {
    const char *c = cves[i].campaign;
    if (!c || !*c) continue;
    bool dup = false;
    for (size_t j = 0; j < ns && !dup; j++) dup = seen[j] == c || strcmp(seen[j], c) == 0;
    if (!dup) seen[ns++] = c;
  }
  if (!ns || !size) return;
  bool used[16] = {false};
  for (size_t k = 0; k <= EXHI_ARRAY_LEN(campaign_order); k++) {
    for (size_t j = 0; j < ns; j++) {
      if (used[j]) continue;
      if (k < EXHI_ARRAY_LEN(campaign_order) && strcmp(seen[j], campaign_order[k]) != 0) continue;
      used[j] = true;
      /* Appended by hand, not with snprintf: this runs for every line of a
       * brief listing. Truncates like snprintf would. */
      const char *parts[2] = {o ? ", " : "", seen[j]};
      for (int q = 0; q < 2; q++)
        for (const char *c = parts[q]; *c; c++) {
          if (o + 1 >= size) {
            buf[o] = '\0';
            return;
          }
          buf[o++] = *c;
        }
      buf[o] = '\0';
    }
  }
}

static bool any_campaign(const exh_open_cve *c, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (c[i].campaign && *c[i].campaign) return true;
  return false;
}

/* ---- plan ---------------------------------------------------------------- */

enum kind { K_NOT_ASSESSED, K_UNKNOWN_BUILD, K_UPDATE_UNKNOWN, K_MISSING_UPDATE, K_NEVER_FIXED,
            K_OUT_OF_SUPPORT };

typedef struct item {
  enum kind kind;
  int severity;
  size_t begin, end; /* the open CVEs it covers: a->open[begin..end) */
} item;

/* One finding per fixing release at most, plus five others. */
#define MAX_ITEMS 128

static size_t plan(const exh_assessment *a, item *it) {
  size_t n = 0;
  size_t nfix = a->n_open - a->n_unfixable;
  if (a->level == EXH_LEVEL_NOT_ASSESSED) it[n++] = (item){K_NOT_ASSESSED, EXH_SEV_LOW, 0, 0};
  if (a->precision == EXH_PRECISION_EXACT && a->level != EXH_LEVEL_NOT_ASSESSED && !a->release)
    it[n++] = (item){K_UNKNOWN_BUILD, EXH_SEV_LOW, 0, 0};
  size_t i = 0;
  if (a->precision == EXH_PRECISION_CU && nfix) {
    it[n++] = (item){K_UPDATE_UNKNOWN, any_campaign(a->open, nfix) ? EXH_SEV_HIGH : EXH_SEV_MEDIUM, 0, nfix};
    i = nfix;
  }
  while (i < nfix && n < MAX_ITEMS - 2) {
    size_t j = i;
    while (j < nfix && a->open[j].fix == a->open[i].fix) j++;
    it[n++] = (item){K_MISSING_UPDATE, any_campaign(a->open + i, j - i) ? EXH_SEV_CRITICAL : EXH_SEV_HIGH, i, j};
    i = j;
  }
  if (a->n_unfixable)
    it[n++] = (item){K_NEVER_FIXED,
                     any_campaign(a->open + nfix, a->n_unfixable) ? EXH_SEV_CRITICAL : EXH_SEV_HIGH,
                     nfix, a->n_open};
  if (a->support == EXH_SUPPORT_ENDED) it[n++] = (item){K_OUT_OF_SUPPORT, EXH_SEV_HIGH, 0, 0};
  return n;
}

int exhi_assessment_max_severity(const exh_assessment *a) {
  item it[MAX_ITEMS];
  size_t n = plan(a, it);
  int m = -1;
  for (size_t i = 0; i < n; i++)
    if (it[i].severity > m) m = it[i].severity;
  return m;
}

int exh_assessment_severity(const exh_assessment *a) { return exhi_assessment_max_severity(a); }

/* ---- wording -------------------------------------------------------------- */

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

static const char *const titles[] = {
    [K_NOT_ASSESSED] = "Build not assessed",     [K_UNKNOWN_BUILD] = "Unknown build",
    [K_UPDATE_UNKNOWN] = "Update level unknown", [K_MISSING_UPDATE] = "Security update missing",
    [K_NEVER_FIXED] = "CU never fixed",          [K_OUT_OF_SUPPORT] = "Product out of support",
};
static const char *const rule_ids[] = {
    [K_NOT_ASSESSED] = EXHI_RULE_NOT_ASSESSED,     [K_UNKNOWN_BUILD] = EXHI_RULE_UNKNOWN_BUILD,
    [K_UPDATE_UNKNOWN] = EXHI_RULE_UPDATE_UNKNOWN, [K_MISSING_UPDATE] = EXHI_RULE_MISSING_UPDATE,
    [K_NEVER_FIXED] = EXHI_RULE_CU_NEVER_FIXED,    [K_OUT_OF_SUPPORT] = EXHI_RULE_OUT_OF_SUPPORT,
};

static void nearest(const exh_assessment *a, char *buf, size_t size) {
  size_t o = 0;
  buf[0] = '\0';
  char b[64];
  if (a->nearest_below) {
    exh_build_format(&a->nearest_below->build, b, sizeof b);
    int w = snprintf(buf, size, "; nearest below: %s (%s)", a->nearest_below->name, b);
    if (w > 0) o = (size_t)w;
  }
  if (a->nearest_above && o < size) {
    exh_build_format(&a->nearest_above->build, b, sizeof b);
    snprintf(buf + o, size - o, "; nearest above: %s (%s)", a->nearest_above->name, b);
  }
}

int exhi_assessment_findings(const exh_assessment *a, const exh_input_build *in,
                             exhi_finding_cb cb, void *ctx) {
  item it[MAX_ITEMS];
  size_t n = plan(a, it);
  char build[64], msg[1024], action[1024], camp[256], r[512], near[512], fb[64];
  exh_build_format(&a->build, build, sizeof build);
  exh_field fields[8];
  size_t nf = 0;
  fields[nf++] = (exh_field){"exhunt.build", build};
  if (a->product) fields[nf++] = (exh_field){"exhunt.product", a->product};
  if (a->cu) fields[nf++] = (exh_field){"exhunt.cu", a->cu->cu};
  size_t base_fields = nf;

  for (size_t k = 0; k < n; k++) {
    const item *x = &it[k];
    const exh_open_cve *v = a->open + x->begin;
    size_t nv = x->end - x->begin;
    const char *act = action;
    nf = base_fields;
    exhi_campaigns(v, nv, camp, sizeof camp);
    const char *sep = camp[0] ? ", " : "";
    switch (x->kind) {
    case K_NOT_ASSESSED:
      if (a->product) snprintf(msg, sizeof msg, "exhunt has no build table for %s", a->product);
      else snprintf(msg, sizeof msg, "Build %s is not a known Exchange Server version", build);
      act = NULL;
      break;
    case K_UNKNOWN_BUILD:
      nearest(a, near, sizeof near);
      snprintf(msg, sizeof msg, "Build %s is not in exhunt's table%s%s", build,
               a->newer_than_table ? " (newer than every known build: update the tables)" : "", near);
      act = NULL;
      break;
    case K_UPDATE_UNKNOWN:
      snprintf(msg, sizeof msg,
               "Only the CU of build %s is known: %zu CVE%s %s open unless an update is installed%s%s",
               build, nv, nv == 1 ? "" : "s", nv == 1 ? "is" : "are", sep, camp);
      release_phrase(a->min_update, r, sizeof r);
      snprintf(action, sizeof action,
               "Read the installed build from Bin\\ExSetup.exe (exhunt assess PATH); unless it is "
               "at least %s, install it", r);
      break;
    case K_MISSING_UPDATE:
      release_phrase(v->fix, r, sizeof r);
      snprintf(msg, sizeof msg, "Build %s lacks %s: %zu CVE%s open%s%s", build, r, nv,
               nv == 1 ? "" : "s", sep, camp);
      snprintf(action, sizeof action, "Install %s", r);
      exh_build_format(&v->fix->build, fb, sizeof fb);
      fields[nf++] = (exh_field){"exhunt.fix.name", v->fix->name};
      if (v->fix->kb[0]) fields[nf++] = (exh_field){"exhunt.fix.kb", v->fix->kb};
      fields[nf++] = (exh_field){"exhunt.fix.build", fb};
      break;
    case K_NEVER_FIXED:
      snprintf(msg, sizeof msg, "%s %s never received the fix for %zu CVE%s%s%s", a->product,
               a->cu ? a->cu->cu : "(a build older than any known CU)", nv, nv == 1 ? "" : "s", sep,
               camp);
      upgrade_action(a, action, sizeof action);
      break;
    case K_OUT_OF_SUPPORT:
      snprintf(msg, sizeof msg, "%s has been out of support since %s: no more security updates",
               a->product, a->support_end);
      upgrade_action(a, action, sizeof action);
      break;
    }
    const char *ids[EXH_FINDING_MAX_CVES];
    size_t nid = 0;
    for (size_t i = 0; i < nv && nid < EXH_FINDING_MAX_CVES; i++) ids[nid++] = v[i].id;
    exh_finding f = {
        .rule_id = rule_ids[x->kind],
        .rule_name = titles[x->kind],
        .severity = x->severity,
        .confidence = a->precision == EXH_PRECISION_EXACT ? 100 : 60,
        .cves = ids,
        .n_cves = nid,
        .event_time_ms = -1,
        .path = in && in->path[0] ? in->path : NULL,
        .offset = -1,
        .fields = fields,
        .n_fields = nf,
        .message = msg,
        .action = act,
    };
    int rc = cb(ctx, &f);
    if (rc) return rc;
  }
  return 0;
}
