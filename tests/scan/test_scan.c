/* Unit tests of exhunt scan's parts that need no network: targets, the
 * address policy, order and shards, response parsers, verdicts, resume. */
#include "../t.h"

#include "scan/scan.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static void test_targets(void) {
  exhi_targets t = {0};
  exh_error e;
  CHECK_INT(exhi_targets_add_line(&t, "192.0.2.0/30", "x", 1, &e), EXH_OK);
  CHECK_INT(exhi_targets_add_line(&t, "  # a comment", "x", 2, &e), EXH_OK);
  CHECK_INT(exhi_targets_add_line(&t, "", "x", 3, &e), EXH_OK);
  CHECK_INT(exhi_targets_add_line(&t, "mail.example.org\n", "x", 4, &e), EXH_OK);
  CHECK_INT(exhi_targets_add_line(&t, "open tcp 8443 198.51.100.7 1614000000", "x", 5, &e), EXH_OK);
  CHECK_INT(exhi_targets_add_line(&t, "closed tcp 443 198.51.100.8 1614000000", "x", 6, &e), EXH_OK);
  CHECK_INT(exhi_targets_add_line(&t, "Discovered open port 444/tcp on 198.51.100.9", "x", 7, &e), EXH_OK);
  CHECK_INT(exhi_targets_add_line(&t, "203.0.113.5,owa.example.net,cert-nl,4443", "x", 8, &e), EXH_OK);
  CHECK_INT(exhi_targets_add_line(&t, "saddr,daddr,sport", "x", 9, &e), EXH_OK); /* zmap csv header */
  CHECK_INT(exhi_targets_add_line(&t, "2001:db8::/126", "x", 10, &e), EXH_OK);
  CHECK_INT(exhi_targets_add_line(&t, ",only.example.com", "x", 11, &e), EXH_OK);
  CHECK_INT(exhi_targets_seal(&t, &e), EXH_OK);
  CHECK_INT(t.total, 4 + 1 + 1 + 1 + 1 + 4 + 1);
  exhi_target g;
  exhi_targets_get(&t, 3, 443, &g);
  CHECK_STR(g.ip, "192.0.2.3");
  CHECK_INT(g.port, 443);
  exhi_targets_get(&t, 4, 443, &g);
  CHECK_INT(g.family, 0);
  CHECK_STR(g.domain, "mail.example.org");
  exhi_targets_get(&t, 5, 443, &g);
  CHECK_STR(g.ip, "198.51.100.7");
  CHECK_INT(g.port, 8443);
  exhi_targets_get(&t, 6, 443, &g);
  CHECK_STR(g.ip, "198.51.100.9");
  CHECK_INT(g.port, 444);
  exhi_targets_get(&t, 7, 443, &g);
  CHECK_STR(g.ip, "203.0.113.5");
  CHECK_STR(g.domain, "owa.example.net");
  CHECK_STR(g.tag, "cert-nl");
  CHECK_INT(g.port, 4443);
  exhi_targets_get(&t, 11, 443, &g);
  CHECK_STR(g.ip, "2001:db8::3");
  exhi_targets_get(&t, 12, 443, &g);
  CHECK_STR(g.domain, "only.example.com");
  CHECK_INT(g.family, 0);
  /* carry across bytes */
  exhi_targets u = {0};
  CHECK_INT(exhi_targets_add_line(&u, "10.0.0.0/8", "x", 1, &e), EXH_OK);
  CHECK_INT(exhi_targets_seal(&u, &e), EXH_OK);
  exhi_targets_get(&u, 256 * 256 + 255, 443, &g);
  CHECK_STR(g.ip, "10.1.0.255");
  exhi_targets_get(&u, (1u << 24) - 1, 443, &g);
  CHECK_STR(g.ip, "10.255.255.255");
  /* host bits are cleared as zmap does */
  exhi_targets_get(&u, 0, 443, &g);
  CHECK_STR(g.ip, "10.0.0.0");
  exhi_targets_clear(&u);

  /* near misses */
  CHECK_INT(exhi_targets_add_line(&t, "192.0.2.1/33", "x", 20, &e), EXH_ERR_PARSE);
  CHECK_INT(exhi_targets_add_line(&t, "2001:db8::/64", "x", 21, &e), EXH_ERR_LIMIT);
  CHECK_CONTAINS(e.text, "x: line 21");
  CHECK_INT(exhi_targets_add_line(&t, "300.1.2.3", "x", 22, &e), EXH_ERR_PARSE);
  CHECK_INT(exhi_targets_add_line(&t, "mail example org", "x", 23, &e), EXH_ERR_PARSE);
  CHECK_INT(exhi_targets_add_line(&t, "192.0.2.1,bad/name,,", "x", 24, &e), EXH_ERR_PARSE);
  CHECK_INT(exhi_targets_add_line(&t, "192.0.2.1,,,70000", "x", 25, &e), EXH_ERR_PARSE);
  CHECK_INT(exhi_targets_add_line(&t, "a.b\x1b[31m", "x", 26, &e), EXH_ERR_PARSE);
  CHECK_INT(exhi_targets_add_line(&t, "1,2,3,4,5", "x", 27, &e), EXH_ERR_PARSE);
  CHECK_INT(exhi_targets_add_line(&t, "Discovered open port 443/udp on 198.51.100.9", "x", 28, &e), EXH_ERR_PARSE);
  exhi_targets_clear(&t);
}

static void test_policy(void) {
  exhi_scan_policy p = {0};
  exh_error e;
  CHECK_INT(exhi_scan_policy_load(&p, exhi_scan_default_blocklist, strlen(exhi_scan_default_blocklist),
                                  "builtin", &e), EXH_OK);
  CHECK(p.nblock >= 16);
  uint8_t a[16] = {127, 1, 2, 3};
  CHECK_STR(exhi_scan_policy_check(&p, 4, a), "blocklist");
  uint8_t pub[16] = {8, 8, 8, 8};
  CHECK(exhi_scan_policy_check(&p, 4, pub) == NULL);
  uint8_t b[16] = {172, 31, 255, 255}, c[16] = {172, 32, 0, 0};
  CHECK(exhi_scan_policy_check(&p, 4, b) != NULL);
  CHECK(exhi_scan_policy_check(&p, 4, c) == NULL); /* just outside 172.16/12 */
  uint8_t v6lo[16] = {0};
  v6lo[15] = 1;
  CHECK(exhi_scan_policy_check(&p, 6, v6lo) != NULL);
  uint8_t mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1};
  CHECK(exhi_scan_policy_check(&p, 6, mapped) != NULL); /* ::ffff:10.0.0.1 is 10.0.0.1 */
  exhi_net n;
  CHECK_INT(exhi_net_parse("127.0.0.0/8", &n, &e), EXH_OK);
  CHECK_INT(exhi_scan_policy_add(&p, 1, &n, &e), EXH_OK);
  CHECK(exhi_scan_policy_check(&p, 4, a) == NULL);
  CHECK_INT(exhi_scan_policy_add(&p, 2, &n, &e), EXH_OK);
  CHECK_STR(exhi_scan_policy_check(&p, 4, pub), "outside --only");
  CHECK(exhi_scan_policy_check(&p, 4, a) == NULL);
  const char bad[] = "10.0.0.0/8\n10.0.0.0/99\n";
  CHECK_INT(exhi_scan_policy_load(&p, bad, sizeof bad - 1, "bl.conf", &e), EXH_ERR_PARSE);
  CHECK_CONTAINS(e.text, "bl.conf: line 2");
  exhi_scan_policy_clear(&p);
}

static void test_perm(void) {
  for (uint64_t n = 1; n < 3000; n = n * 3 + 1) {
    exhi_perm p;
    exhi_perm_init(&p, n, 42);
    unsigned char *seen = calloc(n, 1);
    int dup = 0;
    for (uint64_t i = 0; i < n; i++) {
      uint64_t x = exhi_perm_at(&p, i);
      if (x >= n || seen[x]++) dup++;
    }
    CHECK_INT(dup, 0);
    free(seen);
  }
  exhi_perm a, b, c;
  exhi_perm_init(&a, 1000, 7);
  exhi_perm_init(&b, 1000, 7);
  exhi_perm_init(&c, 1000, 8);
  int same = 0, differ = 0;
  for (uint64_t i = 0; i < 1000; i++) {
    same += exhi_perm_at(&a, i) == exhi_perm_at(&b, i);
    differ += exhi_perm_at(&a, i) != exhi_perm_at(&c, i);
  }
  CHECK_INT(same, 1000);
  CHECK(differ > 900);
  /* Not the identity: neighbours are spread out. */
  int in_order = 0;
  for (uint64_t i = 0; i < 999; i++) in_order += exhi_perm_at(&a, i) + 1 == exhi_perm_at(&a, i + 1);
  CHECK(in_order < 20);
}

static void test_parsers(void) {
  exhi_scan_resp r = {0};
  const char *lines[] = {"HTTP/1.1 302 Found\r\n", "Location: /owa/auth/logon.aspx?x=1\r\n",
                         "x-owa-version:  15.2.721.2 \r\n", "X-CalculatedBETarget: localhost\r\n", "\r\n"};
  for (size_t i = 0; i < 5; i++) exhi_scan_header_line(&r, lines[i], strlen(lines[i]));
  CHECK_INT(r.status, 302);
  CHECK_STR(r.location, "/owa/auth/logon.aspx?x=1");
  CHECK_STR(r.owa_version, "15.2.721.2");
  CHECK_STR(r.be_target, "localhost");
  exhi_scan_header_line(&r, "HTTP/1.1 200 OK\r\n", 17);
  CHECK_INT(r.status, 200);
  CHECK(!r.has_owa_version); /* a new response forgets the old one's headers */
  /* near misses: a header named like it but longer, a value with a CR inside */
  exhi_scan_header_line(&r, "X-OWA-VersionX: 15.2.721.2", 26);
  CHECK(!r.has_owa_version);
  exhi_scan_header_line(&r, "Location: /a\x1b[2Jb", 17);
  CHECK_STR(r.location, "/a?[2Jb");

  exh_build b;
  CHECK(exhi_scan_exact_build("15.2.721.2", &b));
  CHECK(!exhi_scan_exact_build("15.2.721", &b)); /* 3 parts are not exact */
  CHECK(!exhi_scan_exact_build("Version 15.2 (Build 721.2)", &b));
  CHECK(!exhi_scan_exact_build("", &b));

  const char man[] =
      "<assembly><dependency><assemblyIdentity name=\"Microsoft.Windows.CommonLanguageRuntime\" "
      "version=\"4.0.30319.0\" /></dependency>\n"
      "<assemblyIdentity  name='microsoft.exchange.ediscovery.exporttool.application' version='15.2.986.5'/>";
  CHECK_INT(exhi_scan_manifest_build(man, sizeof man - 1, &b, NULL), EXH_OK);
  char s[64];
  exh_build_format(&b, s, sizeof s);
  CHECK_STR(s, "15.2.986.5");
  const char only_clr[] = "<assemblyIdentity name=\"Microsoft.Windows.CommonLanguageRuntime\" version=\"4.0.30319.0\"/>";
  exh_error e;
  CHECK_INT(exhi_scan_manifest_build(only_clr, sizeof only_clr - 1, &b, &e), EXH_ERR_NOTFOUND);
  const char three[] = "<assemblyIdentity name=\"microsoft.exchange.ediscovery.exporttool\" version=\"15.2.986\"/>";
  CHECK_INT(exhi_scan_manifest_build(three, sizeof three - 1, &b, &e), EXH_ERR_NOTFOUND);
  const char cut[] = "<assemblyIdentity name=\"microsoft.exchange.ediscovery.exporttool\" version=\"15.2.986.5";
  CHECK_INT(exhi_scan_manifest_build(cut, sizeof cut - 1, &b, &e), EXH_ERR_NOTFOUND);
  CHECK_INT(exhi_scan_manifest_build("<html>", 6, &b, &e), EXH_ERR_NOTFOUND);

  exhi_scan_page pg;
  const char page[] = "<!-- OwaPage = ASP.auth_logon_aspx --><link href=\"/owa/auth/15.1.2176/themes/resources/favicon.ico\">";
  exhi_scan_logon_page(page, sizeof page - 1, &pg);
  CHECK(pg.is_owa && pg.found);
  CHECK_INT(pg.build.parts, 3);
  const char nover[] = "<noscript>To use Outlook, browser settings must allow scripts to run.</noscript>";
  exhi_scan_logon_page(nover, sizeof nover - 1, &pg);
  CHECK(pg.is_owa && !pg.found);
  const char other[] = "<html><title>Welcome to nginx!</title> owa/auth/15.1.2176 not a path</html>";
  exhi_scan_logon_page(other, sizeof other - 1, &pg);
  CHECK(!pg.is_owa && !pg.found);
}

static exhi_scan_verdict last;

/* The level and ProxyLogon level for a build seen in a header or a page;
 * the strings are static, so the verdict can be freed at once. */
static const char *verdict_level(exh_kb *kb, const char *build, bool header, const char **pl) {
  exhi_scan_result r = {0};
  exh_build b;
  int admin;
  exh_build_parse(build, strlen(build), &b, &admin, NULL);
  r.is_exchange = true;
  if (header) {
    r.header_exact = true;
    r.header_build = b;
  } else {
    r.page.is_owa = r.page.found = true;
    r.page.build = b;
  }
  exhi_scan_verdict_clear(&last);
  if (exhi_scan_verdict_of(&r, kb, "2026-01-01", &last, NULL) != EXH_OK) return "error";
  *pl = last.proxylogon;
  const char *level = last.level;
  exhi_scan_verdict_clear(&last);
  return level;
}

static void test_verdicts(void) {
  exh_kb *kb;
  exh_error e;
  if (exh_kb_load(NULL, &kb, &e) != EXH_OK) {
    CHECK(0);
    return;
  }
  const char *pl;
  /* Exact: the March 2021 SU on 2016 CU19 closes ProxyLogon; later CVEs stay open. */
  CHECK_STR(verdict_level(kb, "15.1.2176.9", true, &pl), "unpatched");
  CHECK_STR(pl, "patched");
  CHECK_STR(verdict_level(kb, "15.1.2176.2", true, &pl), "unpatched");
  CHECK_STR(pl, "unpatched");
  /* CU only: CU19 got the fix as an update (undetermined); CU20 shipped with it
   * (patched); CU7 never got it (vulnerable). */
  verdict_level(kb, "15.1.2176", false, &pl);
  CHECK_STR(pl, "undetermined");
  verdict_level(kb, "15.1.2242", false, &pl);
  CHECK_STR(pl, "patched");
  verdict_level(kb, "15.1.1261", false, &pl);
  CHECK_STR(pl, "vulnerable");
  /* Exchange 2010 SP3: CVE-2021-26857 only, fixed by UR32 (14.3.513.0). */
  CHECK_STR(verdict_level(kb, "14.3.509.0", true, &pl), "unpatched");
  CHECK_STR(pl, "unpatched");
  verdict_level(kb, "14.3.513.0", true, &pl);
  CHECK_STR(pl, "patched");
  /* Exchange without a build: unknown; not Exchange: no level at all. */
  exhi_scan_result r = {0};
  exhi_scan_verdict v;
  r.is_exchange = true;
  CHECK_INT(exhi_scan_verdict_of(&r, kb, NULL, &v, NULL), EXH_OK);
  CHECK_STR(v.level, "unknown");
  CHECK(!v.exposed);
  r.is_exchange = false;
  r.probe = EXHI_PROBE_VULNERABLE;
  CHECK_INT(exhi_scan_verdict_of(&r, kb, NULL, &v, NULL), EXH_OK);
  CHECK(v.level == NULL);
  CHECK(v.exposed);
  /* Two sources that disagree (a load balancer) are flagged. */
  memset(&r, 0, sizeof r);
  r.is_exchange = true;
  r.header_exact = true;
  exh_build_parse("15.1.2176.9", 11, &r.header_build, NULL, NULL);
  r.page.found = r.page.is_owa = true;
  exh_build_parse("15.1.2242", 9, &r.page.build, NULL, NULL);
  CHECK_INT(exhi_scan_verdict_of(&r, kb, NULL, &v, NULL), EXH_OK);
  CHECK(v.disagree);
  CHECK_STR(v.source, "x-owa-version");
  exhi_scan_verdict_clear(&v);
  exh_kb_free(kb);
}

static void test_resume(void) {
  char dir[] = "/tmp/exhunt-resume-XXXXXX";
  if (!mkdtemp(dir)) {
    CHECK(0);
    return;
  }
  char log[128], out[128];
  snprintf(log, sizeof log, "%s/log", dir);
  snprintf(out, sizeof out, "%s/out.jsonl", dir);
  exhi_resume r;
  exh_error e;
  CHECK_INT(exhi_resume_open(&r, log, out, 99, &e), EXH_OK);
  for (uint64_t i = 0; i < 5; i++) {
    fprintf(r.out, "{\"host\":%d}\n", (int)i);
    CHECK_INT(exhi_resume_commit(&r, i * 10, &e), EXH_OK);
  }
  fputs("{\"host\":\"written but not logged\"}\n", r.out); /* the crash came here */
  fflush(r.out);
  FILE *lf = r.log;
  fputs("70 99", lf); /* and a torn log line */
  fflush(lf);
  CHECK_INT(exhi_resume_close(&r, &e), EXH_OK);
  CHECK_INT(exhi_resume_open(&r, log, out, 100, &e), EXH_ERR_INVALID); /* another scan */
  CHECK_INT(exhi_resume_open(&r, log, out, 99, &e), EXH_OK);
  CHECK_INT(r.n, 5);
  CHECK(exhi_resume_done(&r, 40));
  CHECK(!exhi_resume_done(&r, 41));
  CHECK(!exhi_resume_done(&r, 70));
  CHECK_INT(ftello(r.out) >= 0, 1);
  CHECK_INT(exhi_resume_close(&r, &e), EXH_OK);
  FILE *f = fopen(out, "r");
  int lines = 0, c;
  while (f && (c = fgetc(f)) != EOF) lines += c == '\n';
  if (f) fclose(f);
  CHECK_INT(lines, 5); /* the unlogged record is gone: its host is scanned again */
  /* --resume naming a scan's output by mistake (long JSON lines): refused,
   * and the file is left whole. */
  struct stat st0, st1;
  CHECK_INT(stat(out, &st0), 0);
  CHECK_INT(exhi_resume_open(&r, out, log, 99, &e), EXH_ERR_PARSE);
  CHECK_INT(stat(out, &st1), 0);
  CHECK_INT((long long)st1.st_size, (long long)st0.st_size);
  f = fopen(out, "w");
  if (f) {
    fprintf(f, "{\"ip\":\"192.0.2.1\",\"port\":443,\"status\":\"success\",\"pad\":\"%0200d\"}\n", 0);
    fclose(f);
  }
  CHECK_INT(stat(out, &st0), 0);
  int rc = exhi_resume_open(&r, out, log, 99, &e);
  CHECK_INT(rc, EXH_ERR_PARSE);
  if (rc == EXH_OK) exhi_resume_close(&r, &e);
  CHECK_INT(stat(out, &st1), 0);
  CHECK_INT((long long)st1.st_size, (long long)st0.st_size);
  unlink(log);
  unlink(out);
  rmdir(dir);
}

/* The log's lines are read strictly: what exhunt writes, nothing else. */
static int read_log(const char *text, size_t *n, long long *good, long long *out_end) {
  FILE *f = fmemopen((void *)(uintptr_t)text, strlen(text), "r");
  if (!f) return -1;
  exhi_resume r;
  memset(&r, 0, sizeof r);
  exh_error e;
  int rc = exhi_resume_read(&r, f, "log", 0xab, good, out_end, &e);
  fclose(f);
  *n = r.n;
  free(r.set);
  return rc;
}

static void test_resume_read(void) {
#define H "exhunt-scan-resume 1 00000000000000ab\n"
  size_t n;
  long long good, end;
  CHECK_INT(read_log(H "3 10\n9 25\n3 40\n", &n, &good, &end), EXH_OK);
  CHECK_INT(n, 2);
  CHECK_INT(good, (long long)strlen(H "3 10\n9 25\n3 40\n"));
  CHECK_INT(end, 40);
  /* A torn last line or a zeroed tail (a power loss) ends the log there. */
  CHECK_INT(read_log(H "3 10\n9 2", &n, &good, &end), EXH_OK);
  CHECK_INT(n, 1);
  CHECK_INT(good, (long long)strlen(H "3 10\n"));
  CHECK_INT(read_log(H "", &n, &good, &end), EXH_OK);
  CHECK_INT(n, 0);
  CHECK_INT(end, 0);
  /* Near misses sscanf took: signs, spaces, extra fields, overflow. */
  CHECK_INT(read_log(H "+3 10\n", &n, &good, &end), EXH_ERR_PARSE);
  CHECK_INT(read_log(H "3 -10\n", &n, &good, &end), EXH_ERR_PARSE);
  CHECK_INT(read_log(H " 3 10\n", &n, &good, &end), EXH_ERR_PARSE);
  CHECK_INT(read_log(H "3  10\n", &n, &good, &end), EXH_ERR_PARSE);
  CHECK_INT(read_log(H "3 10 x\n", &n, &good, &end), EXH_ERR_PARSE);
  CHECK_INT(read_log(H "3 10 \n", &n, &good, &end), EXH_ERR_PARSE);
  CHECK_INT(read_log(H "18446744073709551616 10\n", &n, &good, &end), EXH_ERR_PARSE);
  CHECK_INT(read_log(H "18446744073709551615 10\n", &n, &good, &end), EXH_OK);
  CHECK_INT(read_log(H "3 9223372036854775808\n", &n, &good, &end), EXH_ERR_PARSE);
  CHECK_INT(read_log(H "3 20\n4 19\n", &n, &good, &end), EXH_ERR_PARSE); /* shrinking */
  CHECK_INT(read_log("exhunt-scan-resume 1 00000000000000ac\n", &n, &good, &end), EXH_ERR_INVALID);
  CHECK_INT(read_log("{\"ip\":\"192.0.2.1\"}\n", &n, &good, &end), EXH_ERR_PARSE);
  /* A line longer than any the log holds is no torn tail (more follows):
   * the file is not a resume log, and must not be cut back to "good". */
  char longl[512];
  snprintf(longl, sizeof longl, "{\"ip\":\"192.0.2.1\",\"port\":443,\"status\":\"success\",%0200d}\n{}\n", 0);
  CHECK_INT(read_log(longl, &n, &good, &end), EXH_ERR_PARSE);
  snprintf(longl, sizeof longl, H "3 10\n4 %0200d\n5 30\n", 0);
  CHECK_INT(read_log(longl, &n, &good, &end), EXH_ERR_PARSE);
  /* The same long line last, cut short by a crash: a torn tail. */
  snprintf(longl, sizeof longl, H "3 10\n4 %0200d", 0);
  CHECK_INT(read_log(longl, &n, &good, &end), EXH_OK);
  CHECK_INT(good, (long long)strlen(H "3 10\n"));
#undef H
}

/* ---- scan diff ---------------------------------------------------------- */

static int diff_load(exhi_diff_set *s, const char *text, FILE *spool, exh_error *e) {
  memset(s, 0, sizeof *s);
  FILE *f = fmemopen((void *)(uintptr_t)text, strlen(text), "r");
  if (!f) return -1;
  int rc = exhi_diff_load(s, f, spool, "scan.jsonl", e);
  fclose(f);
  return rc;
}

/* The record of set s's host i read again from text, its field k. */
static char *diff_field(const char *text, const exhi_diff_set *s, size_t i, const char *k) {
  static char out[1024];
  FILE *f = fmemopen((void *)(uintptr_t)text, strlen(text), "r");
  json_t *rec = NULL;
  exh_error e;
  snprintf(out, sizeof out, "(unread)");
  if (f && exhi_diff_record(f, "scan.jsonl", &s->v[i], &rec, &e) == EXH_OK) {
    json_t *v = json_object_get(rec, k);
    snprintf(out, sizeof out, "%s", json_is_string(v) ? json_string_value(v) : json_is_true(v) ? "true" : "other");
  }
  json_decref(rec);
  if (f) fclose(f);
  return out;
}

typedef struct diff_seen {
  int n;
  char change[8][16];
} diff_seen;

static int diff_note(const char *change, const exhi_diff_host *o, const exhi_diff_host *n, void *ctx) {
  (void)o, (void)n;
  diff_seen *d = ctx;
  if (d->n < 8) snprintf(d->change[d->n], sizeof d->change[0], "%s", change);
  d->n++;
  return 0;
}

static int diff_stop(const char *change, const exhi_diff_host *o, const exhi_diff_host *n, void *ctx) {
  (void)change, (void)o, (void)n, (void)ctx;
  return 7;
}

static void test_diff(void) {
  exh_error e;
  exhi_diff_set a, b;
  exhi_diff_counts c;
  /* Two hosts whose domains share their first 600 bytes are two hosts (the
   * key used to be cut at 512 bytes). */
  char dom[640];
  memset(dom, 'd', 600);
  dom[600] = '\0';
  char two[2048];
  snprintf(two, sizeof two,
           "{\"ip\":\"192.0.2.1\",\"port\":443,\"domain\":\"%sa.example\",\"exposed\":true}\n"
           "{\"ip\":\"192.0.2.1\",\"port\":443,\"domain\":\"%sb.example\",\"exposed\":true}\n",
           dom, dom);
  CHECK_INT(diff_load(&a, two, NULL, &e), EXH_OK);
  CHECK_INT(a.n, 2);
  CHECK_INT(a.duplicates, 0);
  CHECK_INT(a.v[0].key_len, strlen("192.0.2.1") + 1 + 3 + 1 + 600 + strlen("a.example"));
  CHECK(!strncmp(diff_field(two, &a, 0, "domain") + 600, "a.example", 10));
  CHECK(!strncmp(diff_field(two, &a, 1, "domain") + 600, "b.example", 10));
  /* Only the first in the new scan: one still exposed, one gone. */
  char one[1024];
  snprintf(one, sizeof one, "{\"ip\":\"192.0.2.1\",\"port\":443,\"domain\":\"%sa.example\",\"exposed\":true}\n", dom);
  CHECK_INT(diff_load(&b, one, NULL, &e), EXH_OK);
  diff_seen seen = {0};
  CHECK_INT(exhi_diff_compare(&a, &b, &c, diff_note, &seen), 0);
  CHECK_INT(c.still, 1);
  CHECK_INT(c.gone, 1);
  CHECK_INT(seen.n, 2);
  CHECK_STR(seen.change[0], "still_exposed");
  CHECK_STR(seen.change[1], "gone");
  /* A non-zero return stops the walk and is returned. */
  CHECK_INT(exhi_diff_compare(&a, &b, &c, diff_stop, NULL), 7);
  exhi_diff_clear(&a);
  exhi_diff_clear(&b);

  /* Fields that run into each other once joined by spaces ("ip port
   * domain") are still two hosts. */
  const char *joined = "{\"ip\":\"192.0.2.1 443 x\",\"port\":443,\"exposed\":true}\n"
                       "{\"ip\":\"192.0.2.1\",\"port\":443,\"domain\":\"x 443 \",\"exposed\":true}\n";
  CHECK_INT(diff_load(&a, joined, NULL, &e), EXH_OK);
  CHECK_INT(a.n, 2);
  CHECK_INT(a.duplicates, 0);
  exhi_diff_clear(&a);

  /* A host met twice or more: its last record counts, the others are
   * counted as duplicates. Blank lines, CRLF and a last line without a
   * newline keep the offsets right. */
  const char *dup = "{\"ip\":\"192.0.2.9\",\"port\":443,\"build\":\"first\",\"exposed\":true}\r\n"
                    "\n"
                    "{\"ip\":\"192.0.2.8\",\"port\":443,\"build\":\"other\",\"exposed\":false}\n"
                    "\r\n"
                    "{\"ip\":\"192.0.2.9\",\"port\":443,\"build\":\"second\",\"exposed\":true}\n"
                    "{\"ip\":\"192.0.2.9\",\"port\":443,\"build\":\"last\",\"status\":\"success\","
                    "\"is_exchange\":true,\"exposed\":false}";
  CHECK_INT(diff_load(&a, dup, NULL, &e), EXH_OK);
  CHECK_INT(a.n, 2);
  CHECK_INT(a.duplicates, 2);
  CHECK_STR(diff_field(dup, &a, 0, "build"), "other");
  CHECK_STR(diff_field(dup, &a, 1, "build"), "last");
  CHECK(!a.v[1].exposed && a.v[1].answered);
  /* Against an old scan where it was exposed: fixed, by its last record. */
  CHECK_INT(diff_load(&b, "{\"ip\":\"192.0.2.9\",\"port\":443,\"exposed\":true}\n", NULL, &e), EXH_OK);
  CHECK_INT(exhi_diff_compare(&b, &a, &c, NULL, NULL), 0);
  CHECK_INT(c.fixed, 1);
  CHECK_INT(c.still, 0);
  exhi_diff_clear(&b);

  /* A file that changed since it was loaded is an error, not another
   * host's record. */
  const char *shorter = "{\"ip\":\"192.0.2.8\",\"port\":443}\n";
  FILE *f = fmemopen((void *)(uintptr_t)shorter, strlen(shorter), "r");
  json_t *rec = NULL;
  CHECK_INT(exhi_diff_record(f, "scan.jsonl", &a.v[1], &rec, &e), EXH_ERR_IO);
  CHECK(rec == NULL);
  CHECK(strstr(e.text, "byte") != NULL);
  fclose(f);
  char changed[1024];
  snprintf(changed, sizeof changed, "%s", dup);
  char *at = strstr(changed, "192.0.2.8");
  if (at) at[8] = '7'; /* same length, another host */
  f = fmemopen(changed, strlen(changed), "r");
  CHECK_INT(exhi_diff_record(f, "scan.jsonl", &a.v[0], &rec, &e), EXH_ERR_PARSE);
  CHECK(rec == NULL);
  CHECK(strstr(e.text, "changed") != NULL);
  fclose(f);
  exhi_diff_clear(&a);

  /* With a spool, the bytes read are copied there and the records are
   * read again from it (a pipe cannot seek). */
  FILE *spool = tmpfile();
  CHECK(spool != NULL);
  if (spool) {
    CHECK_INT(diff_load(&a, dup, spool, &e), EXH_OK);
    CHECK_INT(fflush(spool), 0);
    CHECK_INT(ftello(spool), (long long)strlen(dup));
    CHECK_INT(exhi_diff_record(spool, "spool", &a.v[1], &rec, &e), EXH_OK);
    CHECK_STR(json_string_value(json_object_get(rec, "build")), "last");
    json_decref(rec);
    fclose(spool);
    exhi_diff_clear(&a);
  }

  /* Not a record, or a line too long: an error naming the file and line. */
  CHECK_INT(diff_load(&a, "{\"ip\":\"192.0.2.1\"}\n[1]\n", NULL, &e), EXH_ERR_PARSE);
  CHECK(!strncmp(e.text, "scan.jsonl", 10) && strstr(e.text, "2") != NULL);
  exhi_diff_clear(&a);
  char *huge = malloc(EXHI_DIFF_LINE_MAX + 64);
  if (huge) {
    memset(huge, ' ', EXHI_DIFF_LINE_MAX + 10);
    memcpy(huge, "{\"ip\":\"192.0.2.1\"}", 18);
    memcpy(huge + EXHI_DIFF_LINE_MAX + 10, "\n", 2);
    CHECK_INT(diff_load(&a, huge, NULL, &e), EXH_ERR_LIMIT);
    exhi_diff_clear(&a);
    free(huge);
  }
}

int main(void) {
  test_targets();
  test_policy();
  test_perm();
  test_parsers();
  test_verdicts();
  test_resume();
  test_resume_read();
  test_diff();
  return t_done("scan");
}
