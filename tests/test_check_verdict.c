/* exhunt check's verdict table (rules/check/verdict.csv): the built-in rows
 * as the verdict uses them, first match wins, prefixes only at a '.', and a
 * broken table refused with its line. */
#include "t.h"

#include "check/check.h"

int main(void) {
  exhi_verdict v;
  exh_error e;
  CHECK_INT(exhi_verdict_load(&v, &e), EXH_OK);
  CHECK(v.n >= 8);
  CHECK_INT(exhi_verdict_level(&v, "exh.logs.webshell.iis_access"), EXH_COMP_COMPROMISED);
  CHECK_INT(exhi_verdict_level(&v, "exh.logs.mailbox_export.rps_cmdlet"), EXH_COMP_COMPROMISED);
  CHECK_INT(exhi_verdict_level(&v, "exh.logs.evtx.webshell_process"), EXH_COMP_COMPROMISED);
  CHECK_INT(exhi_verdict_level(&v, "exh.logs.evtx.transport_agent_install"), EXH_COMP_COMPROMISED);
  /* The web shell path row comes before the "exh.logs.ioc." prefix. */
  CHECK_INT(exhi_verdict_level(&v, "exh.logs.ioc.webshell_path"), EXH_COMP_COMPROMISED);
  CHECK_INT(exhi_verdict_level(&v, "exh.logs.ioc.source_ip"), EXH_COMP_ATTEMPTED);
  CHECK_INT(exhi_verdict_level(&v, "exh.logs.ioc.user_agent"), EXH_COMP_ATTEMPTED);
  /* Near misses: an exact id is not a prefix; a prefix ends at its '.'. */
  CHECK_INT(exhi_verdict_level(&v, "exh.logs.evtx.webshell_process_other"), -1);
  CHECK_INT(exhi_verdict_level(&v, "exh.logs.webshellx.a"), -1);
  CHECK_INT(exhi_verdict_level(&v, "exh.logs.proxylogon.cve_2021_26855"), -1);
  CHECK_INT(exhi_verdict_level(&v, "exh.files.webshell.china_chopper"), -1);
  for (size_t i = 0; i < v.n; i++) CHECK(v.rows[i].source[0] != '\0');
  exhi_verdict_clear(&v);

  static const char bad_level[] = "# c\nrule,level,source\nexh.a.,attempted,s\nexh.b,exploited,s\n";
  CHECK_INT(exhi_verdict_parse(&v, "t.csv", bad_level, sizeof bad_level - 1, &e), EXH_ERR_DATA);
  CHECK_CONTAINS(e.text, "t.csv");
  CHECK_CONTAINS(e.text, "4");
  CHECK_CONTAINS(e.text, "compromised or attempted");
  CHECK_INT(v.n, 0);
  static const char no_source[] = "rule,level,source\nexh.a,attempted,\n";
  CHECK_INT(exhi_verdict_parse(&v, "t.csv", no_source, sizeof no_source - 1, &e), EXH_ERR_DATA);
  CHECK_CONTAINS(e.text, "source");
  static const char not_rule[] = "rule,level,source\nwebshell,compromised,s\n";
  CHECK_INT(exhi_verdict_parse(&v, "t.csv", not_rule, sizeof not_rule - 1, &e), EXH_ERR_DATA);
  static const char no_header[] = "# nothing\n";
  CHECK_INT(exhi_verdict_parse(&v, "t.csv", no_header, sizeof no_header - 1, &e), EXH_ERR_DATA);
  /* Columns found by name, in any order. */
  static const char reordered[] = "source,rule,level\ns,exh.x.,attempted\n";
  CHECK_INT(exhi_verdict_parse(&v, "t.csv", reordered, sizeof reordered - 1, &e), EXH_OK);
  CHECK_INT(exhi_verdict_level(&v, "exh.x.y"), EXH_COMP_ATTEMPTED);
  exhi_verdict_clear(&v);
  return t_done("check-verdict");
}
