/* Turning detector results into findings (architecture.md §4). */
#ifndef EXHUNT_FINDINGS_H
#define EXHUNT_FINDINGS_H

#include "../core/internal.h"

/* Rule ids of assess findings: stable, documented in docs/findings.md. */
#define EXHI_RULE_MISSING_UPDATE "exh.assess.missing_update"
#define EXHI_RULE_CU_NEVER_FIXED "exh.assess.cu_never_fixed"
#define EXHI_RULE_UPDATE_UNKNOWN "exh.assess.update_level_unknown"
#define EXHI_RULE_OUT_OF_SUPPORT "exh.assess.out_of_support"
#define EXHI_RULE_UNKNOWN_BUILD "exh.assess.unknown_build"
#define EXHI_RULE_NOT_ASSESSED "exh.assess.not_assessed"

typedef int (*exhi_finding_cb)(void *ctx, const exh_finding *f);

/* Calls cb once per finding of an assessment, in a stable order. The
 * finding and its strings live only during the call. Stops at, and returns,
 * the first non-zero value cb returns. */
int exhi_assessment_findings(const exh_assessment *a, const exh_input_build *in,
                             exhi_finding_cb cb, void *ctx);

/* The highest severity among an assessment's findings, or -1 if none. */
int exhi_assessment_max_severity(const exh_assessment *a);

/* "ProxyLogon, ProxyShell" for the campaigns among cves[0..n), into buf. */
void exhi_campaigns(const exh_open_cve *cves, size_t n, char *buf, size_t size);

#endif
