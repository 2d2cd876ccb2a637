/* Assessment rules on the built-in tables (detections.md §1), and table
 * errors from a --data folder. */
#define _GNU_SOURCE
#include "t.h"

#include "core/internal.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static exh_kb *kb;
static const char *AS_OF = "2026-11-23";

static exh_assessment *assess(const char *build, int precision) {
  exh_build b;
  exh_error e;
  if (exh_build_parse(build, strlen(build), &b, NULL, &e)) {
    fprintf(stderr, "parse %s: %s\n", build, e.text);
    exit(1);
  }
  exh_assessment *a;
  if (exh_assess(kb, &b, precision, AS_OF, &a, &e)) {
    fprintf(stderr, "assess %s: %s\n", build, e.text);
    exit(1);
  }
  return a;
}

static const exh_open_cve *open_cve(const exh_assessment *a, const char *id) {
  for (size_t i = 0; i < a->n_open; i++)
    if (!strcmp(a->open[i].id, id)) return &a->open[i];
  return NULL;
}

static void fix_is(const exh_assessment *a, const char *id, const char *name, const char *kb_,
                   const char *build) {
  const exh_open_cve *c = open_cve(a, id);
  CHECK(c != NULL);
  if (!c) return;
  CHECK(c->fix != NULL);
  if (!c->fix) return;
  CHECK_STR(c->fix->name, name);
  CHECK_STR(c->fix->kb, kb_);
  char s[64];
  exh_build_format(&c->fix->build, s, sizeof s);
  CHECK_STR(s, build);
}

static void proxylogon_on_2016_cu19(void) {
  exh_assessment *a = assess("15.1.2176.2", EXH_PRECISION_EXACT);
  CHECK_STR(a->product, "Exchange Server 2016");
  CHECK_STR(a->cu->cu, "CU19");
  CHECK(a->release != NULL);
  CHECK_STR(a->release->update, "");
  CHECK_INT(a->level, EXH_LEVEL_UNPATCHED);
  fix_is(a, "CVE-2021-26855", "Exchange Server 2016 CU19 Mar21SU", "KB5000871", "15.1.2176.9");
  CHECK_STR(open_cve(a, "CVE-2021-26855")->campaign, "ProxyLogon");
  fix_is(a, "CVE-2021-34473", "Exchange Server 2016 CU19 Apr21SU", "KB5001779", "15.1.2176.12");
  fix_is(a, "CVE-2021-31207", "Exchange Server 2016 CU19 May21SU", "KB5003435", "15.1.2176.14");
  /* ProxyNotShell was fixed on CU22/CU23 only: open on CU19 whatever its update. */
  const exh_open_cve *pns = open_cve(a, "CVE-2022-41040");
  CHECK(pns && !pns->fix);
  CHECK_STR(a->min_update->name, "Exchange Server 2016 CU19 May21SU");
  CHECK(a->n_unfixable > 0);
  CHECK_INT(a->support, EXH_SUPPORT_ENDED);
  CHECK_STR(a->support_end, "2025-10-14");
  CHECK_STR(a->target_product, "Exchange Server SE");
  CHECK_STR(a->target->name, "Exchange Server SE RTM May26HU");
  CHECK_STR(a->latest_in_cu->name, "Exchange Server 2016 CU19 May21SU");
  CHECK_STR(a->latest_in_product->name, "Exchange Server 2016 CU23 Feb26SU");
  /* open CVEs come grouped by fix, the never-fixed last */
  for (size_t i = 1; i < a->n_open; i++)
    if (a->open[i - 1].fix && a->open[i].fix)
      CHECK(exh_build_cmp(&a->open[i - 1].fix->build, &a->open[i].fix->build) <= 0);
  CHECK(a->open[a->n_open - 1].fix == NULL);
  size_t n_open = a->n_open;
  exh_assessment_free(a);

  /* after the March update: ProxyLogon closed, ProxyShell still open */
  a = assess("15.1.2176.9", EXH_PRECISION_EXACT);
  CHECK(open_cve(a, "CVE-2021-26855") == NULL);
  CHECK(open_cve(a, "CVE-2021-27065") == NULL);
  CHECK(open_cve(a, "CVE-2021-34473") != NULL);
  CHECK(a->n_open < n_open);
  exh_assessment_free(a);

  /* the CU known only: same open list as the CU as released, level unknown */
  a = assess("15.1.2176", EXH_PRECISION_CU);
  CHECK_INT(a->level, EXH_LEVEL_UNKNOWN);
  CHECK(a->release == NULL);
  CHECK_STR(a->cu->cu, "CU19");
  CHECK_INT(a->n_open, n_open);
  exh_assessment_free(a);
  a = assess("Version 15.1 (Build 2176.9)", EXH_PRECISION_CU);
  CHECK_INT(a->level, EXH_LEVEL_UNKNOWN);
  CHECK(a->release == NULL);
  exh_assessment_free(a);
}

static void current_builds(void) {
  exh_assessment *a = assess("15.2.1748.43", EXH_PRECISION_EXACT);
  CHECK_STR(a->release->name, "Exchange Server 2019 CU15 Feb26SU");
  CHECK_INT(a->level, EXH_LEVEL_NONE_OPEN);
  CHECK_INT(a->n_open, 0);
  CHECK_INT(a->support, EXH_SUPPORT_ENDED);
  CHECK(a->release == a->latest_in_cu);
  CHECK(a->release == a->latest_in_product);
  CHECK(exh_assessment_severity(a) >= EXH_SEV_HIGH); /* out of support */
  exh_assessment_free(a);

  a = assess("15.2.2562.37", EXH_PRECISION_EXACT);
  CHECK_STR(a->product, "Exchange Server SE");
  CHECK_STR(a->release->update, "Feb26SU");
  CHECK_INT(a->level, EXH_LEVEL_NONE_OPEN);
  CHECK_INT(a->support, EXH_SUPPORT_SUPPORTED);
  CHECK(a->release != a->latest_in_product);
  CHECK_INT(exh_assessment_severity(a), -1);
  exh_assessment_free(a);

  a = assess("15.2.2562.17", EXH_PRECISION_EXACT);
  CHECK_INT(a->level, EXH_LEVEL_UNPATCHED);
  CHECK(open_cve(a, "CVE-2026-21527") != NULL);
  CHECK(open_cve(a, "CVE-2021-26855") == NULL); /* SE was never affected */
  CHECK_INT(a->n_unfixable, 0);
  exh_assessment_free(a);
}

static void unknown_builds(void) {
  exh_assessment *a = assess("15.1.2176.5", EXH_PRECISION_EXACT);
  CHECK(a->release == NULL);
  CHECK_STR(a->nearest_below->name, "Exchange Server 2016 CU19 Feb21SU");
  CHECK_STR(a->nearest_above->name, "Exchange Server 2016 CU19 Mar21SU");
  CHECK(open_cve(a, "CVE-2021-26855") != NULL);
  CHECK(!a->newer_than_table);
  exh_assessment_free(a);

  a = assess("15.2.2562.99", EXH_PRECISION_EXACT);
  CHECK(a->newer_than_table);
  CHECK_INT(a->n_open, 0);
  CHECK_INT(exh_assessment_severity(a), EXH_SEV_LOW);
  exh_assessment_free(a);

  a = assess("8.3.83.6", EXH_PRECISION_EXACT);
  CHECK_STR(a->product, "Exchange Server 2007");
  CHECK_INT(a->level, EXH_LEVEL_NOT_ASSESSED);
  CHECK_INT(a->support, EXH_SUPPORT_ENDED);
  exh_assessment_free(a);

  a = assess("16.0.100.1", EXH_PRECISION_EXACT);
  CHECK(a->product == NULL);
  CHECK_INT(a->level, EXH_LEVEL_NOT_ASSESSED);
  exh_assessment_free(a);

  /* older than the first known build of its product */
  a = assess("15.1.100.1", EXH_PRECISION_EXACT);
  CHECK(a->cu == NULL);
  CHECK_INT(a->level, EXH_LEVEL_UNPATCHED);
  CHECK_INT(a->n_open, a->n_unfixable);
  exh_assessment_free(a);
}

static void table_rules(void) {
  /* 2013 SP1 is CU4 and got the March 2021 update */
  exh_assessment *a = assess("15.0.847.32", EXH_PRECISION_EXACT);
  CHECK_STR(a->cu->cu, "SP1");
  fix_is(a, "CVE-2021-26855", "Exchange Server 2013 SP1 Mar21SU", "KB5000871", "15.0.847.64");
  exh_assessment_free(a);
  /* 2016 CU8: HealthChecker's .8 and Microsoft's .10 both count as fixed;
   * the newer build is the one recommended */
  a = assess("15.1.1415.8", EXH_PRECISION_EXACT);
  CHECK(open_cve(a, "CVE-2021-26855") == NULL);
  exh_assessment_free(a);
  a = assess("15.1.1415.7", EXH_PRECISION_EXACT);
  fix_is(a, "CVE-2021-26855", "Exchange Server 2016 CU8 Mar21SU", "KB5000871", "15.1.1415.10");
  exh_assessment_free(a);
  /* "CU20+": a later CU contains the fix */
  a = assess("15.1.2308.8", EXH_PRECISION_EXACT);
  CHECK(open_cve(a, "CVE-2021-26855") == NULL);
  CHECK(open_cve(a, "CVE-2021-34473") == NULL);
  exh_assessment_free(a);
  /* 2010: only CVE-2021-26857, fixed by Update Rollup 32 on SP3 */
  a = assess("14.3.123.4", EXH_PRECISION_EXACT);
  fix_is(a, "CVE-2021-26857", "Update Rollup 32 for Exchange Server 2010 SP3", "KB5000978", "14.3.513.0");
  CHECK(open_cve(a, "CVE-2021-26855") == NULL);
  exh_assessment_free(a);
  a = assess("14.2.247.5", EXH_PRECISION_EXACT);
  CHECK(open_cve(a, "CVE-2021-26857") && !open_cve(a, "CVE-2021-26857")->fix);
  exh_assessment_free(a);
  /* Microsoft's page prints an SP2 rollup with an SP3 build: matched as printed */
  a = assess("14.3.328.5", EXH_PRECISION_EXACT);
  CHECK_STR(a->release->name, "Update Rollup 5 for Exchange Server 2010 SP2");
  CHECK_STR(a->cu->cu, "SP2");
  exh_assessment_free(a);
  a = assess("14.3.330.0", EXH_PRECISION_EXACT); /* unknown, between RU15 and RU16 of SP3 */
  CHECK_STR(a->cu->cu, "SP3");
  CHECK_STR(a->nearest_above->name, "Update Rollup 16 for Exchange Server 2010 SP3");
  exh_assessment_free(a);
  /* Preview and RTM share a build number */
  a = assess("15.1.225.16", EXH_PRECISION_EXACT);
  CHECK_STR(a->cu->cu, "Preview");
  exh_assessment_free(a);
  a = assess("15.1.225.42", EXH_PRECISION_EXACT);
  CHECK_STR(a->cu->cu, "RTM");
  exh_assessment_free(a);
  /* support is judged at the date asked */
  AS_OF = "2025-01-01";
  a = assess("15.1.2507.6", EXH_PRECISION_EXACT);
  CHECK_INT(a->support, EXH_SUPPORT_SUPPORTED);
  CHECK_STR(a->target_product, "Exchange Server SE"); /* newest supported product */
  exh_assessment_free(a);
  AS_OF = "2026-11-23";
  exh_build b = {15, 1, 2176, 2, 4};
  exh_error e;
  CHECK_INT(exh_assess(kb, &b, EXH_PRECISION_EXACT, "2026-13-01", &a, &e), EXH_ERR_INVALID);
}

/* ---- --data folders ---------------------------------------------------- */

static char tmpdir[64];

static void write_file(const char *name, const char *text) {
  char p[256];
  snprintf(p, sizeof p, "%s/%s", tmpdir, name);
  FILE *f = fopen(p, "w");
  fputs(text, f);
  fclose(f);
}

static void expect_data_error(const char *file, const char *text, const char *msg) {
  write_file(file, text);
  exh_kb *k = NULL;
  exh_error e;
  int rc = exh_kb_load(tmpdir, &k, &e);
  CHECK_INT(rc, EXH_ERR_DATA);
  CHECK_CONTAINS(e.text, msg);
  exh_kb_free(k);
  char p[256];
  snprintf(p, sizeof p, "%s/%s", tmpdir, file);
  unlink(p);
}

static void data_folder(void) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/exhunt-test-XXXXXX");
  CHECK(mkdtemp(tmpdir) != NULL);
  const char *prod = "product,major,minor_min,minor_max,build_min,build_max,end_of_support,note,source\n"
                     "Exchange Server 2016,15,1,1,0,,2025-10-14,,t\n";
  const char *builds = "product,cu,update,name,released,build,kb,source\n"
                       "Exchange Server 2016,CU19,,Exchange Server 2016 CU19,2020-12-15,15.1.2176.2,,t\n"
                       "Exchange Server 2016,CU19,Mar21SU,Exchange Server 2016 CU19 Mar21SU,2021-03-02,15.1.2176.9,KB5000871,t\n";
  const char *cves = "cve,product,cu,fixed_build,source\nCVE-2021-26855,Exchange Server 2016,CU19,15.1.2176.9,t\n";
  write_file("products.csv", prod);
  write_file("builds.csv", builds);
  write_file("cves.csv", cves);
  /* a complete small table set loads and is used */
  exh_kb *k;
  exh_error e;
  CHECK_INT(exh_kb_load(tmpdir, &k, &e), EXH_OK);
  exh_kb_info info;
  exh_kb_get_info(k, &info);
  CHECK_INT(info.releases, 2);
  CHECK_INT(info.cves, 1);
  CHECK_STR(info.origin, tmpdir);
  exh_kb_free(k);
  /* errors name the file and line */
  expect_data_error("products.csv", "product,major\nX,15\n", "products.csv: line 1: header has no column \"minor_min\"");
  expect_data_error("products.csv",
                    "product,major,minor_min,minor_max,build_min,build_max,end_of_support,note,source\n"
                    "Exchange Server 2016,15,1,1,0,,14-10-2025,,t\n",
                    "line 2: end_of_support \"14-10-2025\" is not a YYYY-MM-DD date");
  write_file("products.csv", prod);
  expect_data_error("builds.csv",
                    "product,cu,update,name,released,build,kb,source\n"
                    "Exchange Server 2016,CU19,,Exchange Server 2016 CU19,2020-12-15,15.2.2176.2,,t\n",
                    "builds.csv: line 2: build 15.2.2176.2 does not belong to Exchange Server 2016");
  expect_data_error("builds.csv",
                    "product,cu,update,name,released,build,kb,source\n"
                    "Exchange Server 2016,CU19,,Exchange Server 2016 CU19,2020-12-15,15.1.2176,,t\n",
                    "line 2: build \"15.1.2176\" is not of the form");
  expect_data_error("builds.csv",
                    "product,cu,update,name,released,build,kb,source\n"
                    "Exchange Server 2016,CU19,Mar21SU,x,2021-03-02,15.1.2176.9,,t\n",
                    "has no base release");
  write_file("builds.csv", builds);
  expect_data_error("cves.csv", "cve,product,cu,fixed_build,source\nCVE-2021-26855,Exchange Server 2016,CU7,15.1.2176.9,t\n",
                    "cves.csv: line 2: Exchange Server 2016 CU7 is not in builds.csv");
  expect_data_error("cves.csv", "cve,product,cu,fixed_build,source\nCVE-2021-26855,Exchange Server 2016,CU19,15.1.2176.7,t\n",
                    "cves.csv: line 2: fixed build 15.1.2176.7 of CVE-2021-26855 is not a release");
  expect_data_error("cves.csv", "cve,product,cu,fixed_build,source\nCVE-21-1,Exchange Server 2016,CU19,15.1.2176.9,t\n",
                    "is not a CVE id");
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  CHECK_INT(system(cmd), 0);
  CHECK_INT(exh_kb_load("/nonexistent/exhunt", &k, &e), EXH_ERR_IO);
  CHECK_CONTAINS(e.text, "--data must name a folder");
}

int main(void) {
  exh_error e;
  if (exh_kb_load(NULL, &kb, &e)) {
    fprintf(stderr, "%s\n", e.text);
    return 1;
  }
  exh_kb_info info;
  exh_kb_get_info(kb, &info);
  CHECK(info.releases > 300);
  CHECK(info.cves > 100);
  proxylogon_on_2016_cu19();
  current_builds();
  unknown_builds();
  table_rules();
  data_folder();
  exh_kb_free(kb);
  return t_done("test_kb");
}
