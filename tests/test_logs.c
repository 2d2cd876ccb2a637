/* Unit tests of the log readers (byte source, W3C/CSV layouts) and the rule
 * engine (YAML parsing, modifiers, conditions, errors). The rules of
 * rules/logs are tested end to end in e2e_logs.py. */
#include "t.h"

#include "detectors/logioc.h"
#include "detectors/logrules.h"
#include "readers/evtx.h"

#include <stdlib.h>
#include <zlib.h>

static const char *val(const exhi_logrec *r, const exhi_logschema *s, const char *name,
                       char *buf, size_t size) {
  size_t len;
  const char *v = exhi_logrec_value(r, exhi_logschema_col(s, name), buf, size, &len);
  static char out[4096];
  if (!v) return NULL;
  snprintf(out, sizeof out, "%.*s", (int)len, v);
  return out;
}

static void test_csv_preamble(void) {
  exhi_logschema *s = calloc(1, sizeof *s);
  exhi_logrec *r = calloc(1, sizeof *r);
  char buf[256];
  exhi_logschema_init(s);
  const char *h[] = {"#Software: Microsoft Exchange Server", "#Log-type: HttpProxy Logs",
                     "#Fields: DateTime,UrlStem,AnchorMailbox,UserAgent,HttpStatus"};
  for (size_t i = 0; i < 3; i++) exhi_logschema_header(s, h[i], strlen(h[i]));
  CHECK_INT(s->kind, EXHI_LOG_HTTPPROXY);
  CHECK_INT(s->syntax, EXHI_SYN_CSV);
  CHECK_INT(s->nfields, 5);
  const char *line = "2021-03-03T06:21:03.5Z,/ecp/y.js,\"ServerInfo~a]@h:444/ecp/proxyLogon.ecp?#\","
                     "\"Mozilla/5.0 (a, \"\"b\"\")\",241\r\n";
  exhi_logrec_split(r, s, line, strlen(line));
  CHECK_INT(r->nvals, 5);
  CHECK_STR(val(r, s, "AnchorMailbox", buf, sizeof buf), "ServerInfo~a]@h:444/ecp/proxyLogon.ecp?#");
  CHECK_STR(val(r, s, "UserAgent", buf, sizeof buf), "Mozilla/5.0 (a, \"b\")");
  CHECK_STR(val(r, s, "HttpStatus", buf, sizeof buf), "241");
  CHECK_INT(r->v[1].escaped, 0); /* unquoted values are views, not copies */
  CHECK(r->v[1].p == line + 23);
  CHECK_INT(exhi_logrec_time(r), 1614752463500LL);
  /* Decoding into a small buffer cuts, never overruns. */
  char tiny[8];
  size_t len;
  exhi_logrec_value(r, 3, tiny, sizeof tiny, &len);
  CHECK_INT(len, 7);
  /* The preamble again, columns in another order: bound anew. */
  unsigned gen = s->generation;
  const char *h2 = "#Fields: HttpStatus,DateTime,UrlStem";
  exhi_logschema_header(s, h2, strlen(h2));
  CHECK(s->generation != gen);
  CHECK_INT(exhi_logschema_col(s, "urlstem"), 2); /* names are case-insensitive */
  CHECK_INT(s->time_col, 1);
  free(s);
  free(r);
}

static void test_guessed_layouts(void) {
  exhi_logschema *s = calloc(1, sizeof *s);
  exhi_logrec *r = calloc(1, sizeof *r);
  char buf[256];
  /* A 2013 HttpProxy row without #Fields (64 fields: the common prefix). */
  char row[2048];
  snprintf(row, sizeof row, "2021-04-06T14:54:34.255Z,61d2c86f-f9bb-456d-88c0-3529172510ac,15,0,847,30,,"
           "Ecp,192.168.0.60,/ecp/lkO.js,,FBA,False,,,ServerInfo~Admin@W:444/ecp/x,Mozilla/5.0,"
           "192.168.0.127,W,200,200,,POST,Proxy,w,41.42.31996.000,CrossRegion,X-BEResource-Cookie");
  for (int i = 28; i < 64; i++) strcat(row, ",0");
  exhi_logschema_init(s);
  CHECK_INT(exhi_logschema_guess(s, row, strlen(row)), 1);
  CHECK_INT(s->kind, EXHI_LOG_HTTPPROXY);
  CHECK_INT(s->nfields, 29);
  exhi_logrec_split(r, s, row, strlen(row));
  CHECK_STR(val(r, s, "AnchorMailbox", buf, sizeof buf), "ServerInfo~Admin@W:444/ecp/x");
  CHECK_STR(val(r, s, "ClientIpAddress", buf, sizeof buf), "192.168.0.127");
  /* An ECP Server row. */
  const char *ecp = "2021-04-06T14:54:38.677Z,WIN,ECP.Request,\"S:CMD=Set-X\"";
  exhi_logschema_init(s);
  CHECK_INT(exhi_logschema_guess(s, ecp, strlen(ecp)), 1);
  CHECK_INT(s->kind, EXHI_LOG_ECP_SERVER);
  /* IIS with its default fields; a user agent written with spaces is folded. */
  const char *iis = "2023-12-25 11:54:21 10.10.130.5 GET /owa/auth/a.aspx cmd=whoami 443 - 1.2.3.4 "
                    "Mozilla/5.0 (Windows NT 10.0; Win64) Chrome/121 - 200 0 0 142";
  exhi_logschema_init(s);
  CHECK_INT(exhi_logschema_guess(s, iis, strlen(iis)), 1);
  CHECK_INT(s->kind, EXHI_LOG_IIS);
  exhi_logrec_split(r, s, iis, strlen(iis));
  CHECK_STR(val(r, s, "cs(User-Agent)", buf, sizeof buf), "Mozilla/5.0 (Windows NT 10.0; Win64) Chrome/121");
  CHECK_STR(val(r, s, "sc-status", buf, sizeof buf), "200");
  CHECK_STR(val(r, s, "c-ip", buf, sizeof buf), "1.2.3.4");
  CHECK_INT(exhi_logrec_time(r), 1703505261000LL);
  /* Not a log row: nothing guessed. */
  exhi_logschema_init(s);
  CHECK_INT(exhi_logschema_guess(s, "hello, world", 12), 0);
  CHECK_INT(exhi_parse_iso_ms("2021-13-01T00:00:00Z", 20), -1);
  CHECK_INT(exhi_parse_iso_ms("2021-03-0xT00:00:00Z", 20), -1);
  free(s);
  free(r);
}

static size_t gzip_buf(const char *in, size_t n, unsigned char *out, size_t cap) {
  z_stream z = {0};
  deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  z.next_in = (Bytef *)(uintptr_t)in;
  z.avail_in = (uInt)n;
  z.next_out = out;
  z.avail_out = (uInt)cap;
  deflate(&z, Z_FINISH);
  size_t got = cap - z.avail_out;
  deflateEnd(&z);
  return got;
}

/* All a source gives, concatenated (caller frees); *rc: the last status. */
static char *read_all(exhi_logsrc *src, size_t *n, int *rc, exh_error *e) {
  size_t cap = 1 << 20, got = 0;
  char *all = malloc(cap);
  const char *b;
  size_t len;
  while ((*rc = exhi_logsrc_next(src, &b, &len, e)) == EXH_OK && len) {
    while (got + len > cap) all = realloc(all, cap *= 2);
    memcpy(all + got, b, len);
    got += len;
  }
  *n = got;
  return all;
}

/* gzip as log collections hold it, written by zlib and read by the
 * source's decoder: members larger than its 256 KiB reads and than a
 * block, an empty member between two, a member boundary anywhere; a cut
 * file gives what it holds; bytes after the last member are an error. */
static void test_gzip_members(void) {
  size_t n1 = 3u << 20, n2 = 5u << 20;
  char *text = malloc(n1 + n2);
  unsigned x = 1;
  for (size_t i = 0, line = 0; i < n1 + n2; i++) {
    x = x * 1103515245u + 12345u;
    /* Lines of varied, half-compressible text. */
    text[i] = (i % 97 == 96) ? '\n' : (char)('a' + ((x >> 16) % (line++ % 3 ? 26 : 4)));
  }
  text[n1 - 1] = text[n1 + n2 - 1] = '\n';
  size_t cap = n1 + n2 + (1u << 20);
  unsigned char *gz = malloc(cap);
  size_t g = gzip_buf(text, n1, gz, cap);
  g += gzip_buf("", 0, gz + g, cap - g);
  size_t g2 = gzip_buf(text + n1, n2, gz + g, cap - g);
  size_t total = g + g2;
  exh_error e;
  exhi_logsrc *src;
  int rc;
  size_t n;
  CHECK_INT(exhi_logsrc_open_mem("m.gz", gz, total, &src, &e), EXH_OK);
  char *all = read_all(src, &n, &rc, &e);
  CHECK_INT(rc, EXH_OK);
  CHECK(n == n1 + n2 && !memcmp(all, text, n1 + n2));
  free(all);
  exhi_logsrc_free(src);
  /* Cut in the second member: the first whole, then part of the second. */
  CHECK_INT(exhi_logsrc_open_mem("cut.gz", gz, g + g2 / 2, &src, &e), EXH_OK);
  all = read_all(src, &n, &rc, &e);
  CHECK_INT(rc, EXH_OK);
  CHECK(n >= n1 && n < n1 + n2 && !memcmp(all, text, n));
  free(all);
  exhi_logsrc_free(src);
  /* Bytes after the last member that are no gzip member. */
  memcpy(gz + total, "not gzip at all\n", 16);
  CHECK_INT(exhi_logsrc_open_mem("tail.gz", gz, total + 16, &src, &e), EXH_OK);
  all = read_all(src, &n, &rc, &e);
  CHECK_INT(rc, EXH_ERR_PARSE);
  CHECK_CONTAINS(e.text, "tail.gz");
  free(all);
  exhi_logsrc_free(src);
  free(gz);
  free(text);
}

static void test_logsrc(void) {
  exh_error e;
  exhi_logsrc *src;
  /* gzip is recognised by content and inflated; two members concatenated. */
  const char *text = "#Fields: a b\nline one\nline two\n";
  unsigned char gz[512];
  size_t n = gzip_buf(text, strlen(text), gz, 256);
  n += gzip_buf("line three\n", 11, gz + n, 256);
  CHECK_INT(exhi_logsrc_open_mem("t.gz", gz, n, &src, &e), EXH_OK);
  CHECK_INT(exhi_logsrc_is_gzip(src), 1);
  char all[256] = "";
  const char *b;
  size_t len;
  while (exhi_logsrc_next(src, &b, &len, &e) == EXH_OK && len) strncat(all, b, len);
  CHECK_STR(all, "#Fields: a b\nline one\nline two\nline three\n");
  exhi_logsrc_free(src);
  /* Corrupt gzip: an error naming the input, not a crash. */
  gz[20] ^= 0xff;
  gz[21] ^= 0xff;
  CHECK_INT(exhi_logsrc_open_mem("bad.gz", gz, n, &src, &e), EXH_OK);
  int rc = EXH_OK;
  while ((rc = exhi_logsrc_next(src, &b, &len, &e)) == EXH_OK && len) {
  }
  CHECK_INT(rc, EXH_ERR_PARSE);
  CHECK_CONTAINS(e.text, "bad.gz");
  exhi_logsrc_free(src);
  /* A line longer than the bound is cut; the next line is whole. */
  size_t big = EXHI_LOG_BLOCK + EXHI_LOG_LINE_MAX + 100;
  char *long_text = malloc(big + 32);
  memset(long_text, 'a', big);
  strcpy(long_text + big, "\nafter\n");
  CHECK_INT(exhi_logsrc_open_mem("long", long_text, big + 7, &src, &e), EXH_OK);
  const char *last = NULL;
  size_t last_len = 0, blocks = 0;
  while (exhi_logsrc_next(src, &b, &len, &e) == EXH_OK && len) {
    blocks++;
    last = b;
    last_len = len;
  }
  CHECK_INT(exhi_logsrc_cut_lines(src), 1);
  CHECK(last && last_len == 6 && memcmp(last, "after\n", 6) == 0);
  CHECK_INT(blocks, 2);
  exhi_logsrc_free(src);
  free(long_text);
}

/* Evaluates one rule (YAML text) on one record; returns 1 on a hit, 0 on
 * none, -1 when the rule does not load. */
static int hit_count;
static int on_hit(void *ctx, size_t rule, const char *detail) {
  (void)ctx, (void)rule, (void)detail;
  hit_count++;
  return 0;
}

static int match(const char *rule, const char *fields, const char *line, exh_error *e) {
  exhi_lr *lr;
  if (exhi_lr_load_text("t.yml", rule, strlen(rule), &lr, e) != EXH_OK) return -1;
  exhi_lr_scan *sc;
  exhi_lr_scan_new(lr, &sc, e);
  exhi_logschema *s = calloc(1, sizeof *s);
  exhi_logrec *r = calloc(1, sizeof *r);
  exhi_logschema_init(s);
  exhi_logschema_header(s, "#Log-type: HttpProxy Logs", 25);
  exhi_logschema_header(s, fields, strlen(fields));
  exhi_logrec_split(r, s, line, strlen(line));
  hit_count = 0;
  exhi_lr_eval(sc, r, EXHI_LR_ALL, on_hit, NULL, e);
  int got = hit_count;
  free(s);
  free(r);
  exhi_lr_scan_free(sc);
  exhi_lr_free(lr);
  return got;
}

#define RULE_HEAD "id: t1\ntitle: t\nlogsource:\n  product: exchange\n  service: httpproxy\n"

/* vectorscan 5.4.9 misses matches that end in a value's last ~40 bytes
 * when its database holds only short literals ({a#, b#}, {200, 241}):
 * exhunt adds a longer one the callbacks ignore. Field and keyword rules
 * of two 2- or 3-byte values, and a regex of two, each value at every
 * place near the end of values of 70 to 130 bytes. */
static void test_short_literals(void) {
  exh_error e;
  const char *f = "#Fields: UrlStem,AnchorMailbox,UserAgent,HttpStatus";
  static const char *const rules[] = {
      RULE_HEAD "detection:\n  s:\n    UserAgent|contains: ['a#', 'b#']\n  condition: s\n",
      RULE_HEAD "detection:\n  s:\n    - 'a#'\n    - 'b#'\n  condition: s\n",
      RULE_HEAD "detection:\n  s:\n    UserAgent|contains: ['200', '241']\n  condition: s\n",
      RULE_HEAD "detection:\n  s:\n    UserAgent|re: 'a#|b#'\n  condition: s\n",
  };
  static const char *const lits[] = {"b#", "b#", "241", "b#"};
  size_t tries = 0, missed = 0;
  for (size_t r = 0; r < sizeof rules / sizeof *rules; r++)
    for (int len = 70; len <= 130; len += 5)
      for (int tail = 0; tail < 45; tail++) {
        char ua[256], row[400];
        int pre = len - tail - (int)strlen(lits[r]);
        snprintf(ua, sizeof ua, "%.*s%s%.*s", pre,
                 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
                 lits[r], tail, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
        snprintf(row, sizeof row, "/owa/,-,%s,200", ua);
        tries++;
        missed += match(rules[r], f, row, &e) != 1;
      }
  CHECK(tries > 2000);
  CHECK_INT((long long)missed, 0);
  /* Such a database that does not compile: the error names the pattern
   * (the sentinel added beside them is not what failed). */
  exhi_lr *lr;
  static const char bad[] =
      RULE_HEAD "detection:\n  s:\n    UserAgent|re: ['a(', 'b#']\n  condition: s\n";
  CHECK_INT(exhi_lr_load_text("t.yml", bad, strlen(bad), &lr, &e), EXH_ERR_PARSE);
  CHECK_CONTAINS(e.text, "t.yml: line 8: pattern 'a(' cannot be compiled");
}

/* The indicators' line picking has the same vectorscan database kind: two
 * user agents of two bytes, each at every place near the end of one-line
 * blocks of 70 to 130 bytes, are picked. */
static void test_short_indicators(void) {
  static const char feed[] = "type,value,source\nuser-agent,a#,f\nuser-agent,b#,f\n";
  exh_error e;
  exh_ioc_store *st;
  exh_ioc_set *set;
  CHECK_INT(exh_ioc_store_open(":memory:", 0, &st, &e), EXH_OK);
  CHECK_INT(exh_ioc_import_buffer(st, "feed.csv", feed, sizeof feed - 1, NULL, NULL, &e), EXH_OK);
  CHECK_INT(exh_ioc_set_load(st, &set, &e), EXH_OK);
  exh_ioc_store_close(st);
  static exhi_logioc m;
  memset(&m, 0, sizeof m);
  CHECK_INT(exhi_logioc_add(&m, set), 0);
  CHECK_INT(exhi_logioc_prepare(&m, &e), EXH_OK);
  CHECK_INT(exhi_logioc_picking(&m), EXHI_LOGIOC_PICK_LINES);
  exhi_logioc_lines *l;
  CHECK_INT(exhi_logioc_lines_new(&m, &l, &e), EXH_OK);
  size_t tries = 0, missed = 0;
  char block[256];
  for (int len = 70; len <= 130; len += 3)
    for (int tail = 0; tail < 45; tail++) {
      memset(block, 'x', sizeof block);
      memcpy(block + len - tail - 2, tail % 2 ? "a#" : "b#", 2);
      CHECK_INT(exhi_logioc_pick(l, block, 0, (size_t)len, &e), EXH_OK);
      tries++;
      missed += exhi_logioc_next(l, SIZE_MAX) != 0;
    }
  CHECK(tries > 900);
  CHECK_INT((long long)missed, 0);
  exhi_logioc_lines_free(l);
  exhi_logioc_release(&m);
  exh_ioc_set_free(set);
}

static void test_rules(void) {
  exh_error e;
  const char *f = "#Fields: UrlStem,AnchorMailbox,UserAgent,HttpStatus";
  const char *row = "/ecp/y.js,ServerInfo~a]@h:444/ecp/proxyLogon.ecp?#,python-requests/2.25.1,241";
  CHECK_INT(match(RULE_HEAD "detection:\n  s:\n    UrlStem|endswith: '.JS'\n  condition: s\n", f, row, &e), 1);
  CHECK_INT(match(RULE_HEAD "detection:\n  s:\n    UrlStem|endswith|cased: '.JS'\n  condition: s\n", f, row, &e), 0);
  CHECK_INT(match(RULE_HEAD "detection:\n  s:\n    UrlStem: '/ecp/?.js'\n  condition: s\n", f, row, &e), 1);
  CHECK_INT(match(RULE_HEAD "detection:\n  s:\n    UrlStem: '/ecp/'\n  condition: s\n", f, row, &e), 0);
  CHECK_INT(match(RULE_HEAD "detection:\n  s:\n    UserAgent|contains|all: [python, '2.25']\n  condition: s\n", f, row, &e), 1);
  CHECK_INT(match(RULE_HEAD "detection:\n  s:\n    UserAgent|contains|all: [python, '2.19']\n  condition: s\n", f, row, &e), 0);
  CHECK_INT(match(RULE_HEAD "detection:\n  s:\n    HttpStatus|re: '^24[01]$'\n  condition: s\n", f, row, &e), 1);
  CHECK_INT(match(RULE_HEAD "detection:\n  s:\n    - UrlStem: /nope\n    - HttpStatus: 241\n  condition: s\n", f, row, &e), 1);
  CHECK_INT(match(RULE_HEAD "detection:\n  k:\n    - proxyLogon.ecp\n  condition: k\n", f, row, &e), 1);
  CHECK_INT(match(RULE_HEAD "detection:\n  sel_a:\n    UrlStem|startswith: /ecp\n  sel_b:\n    HttpStatus: 500\n"
                  "  condition: 1 of sel_*\n", f, row, &e), 1);
  CHECK_INT(match(RULE_HEAD "detection:\n  sel_a:\n    UrlStem|startswith: /ecp\n  sel_b:\n    HttpStatus: 500\n"
                  "  condition: all of them\n", f, row, &e), 0);
  CHECK_INT(match(RULE_HEAD "detection:\n  a:\n    source.ip: 1.2.3.4\n  b:\n    HttpStatus: 241\n"
                  "  condition: not (a or not b)\n", f, row, &e), 1);
  /* A field the log does not have never matches. */
  CHECK_INT(match(RULE_HEAD "detection:\n  a:\n    Nope|contains: x\n  condition: a\n", f, row, &e), 0);

  /* Errors name the file, the line and the construct. */
  CHECK_INT(match(RULE_HEAD "detection:\n  s:\n    UrlStem|base64offset: x\n  condition: s\n", f, row, &e), -1);
  CHECK_CONTAINS(e.text, "t.yml: line 8:");
  CHECK_CONTAINS(e.text, "'|base64offset'");
  CHECK_INT(match(RULE_HEAD "detection:\n  s:\n    UrlStem: x\n  condition: s and t\n", f, row, &e), -1);
  CHECK_CONTAINS(e.text, "line 9:");
  CHECK_CONTAINS(e.text, "'t' is not a selection");
  CHECK_INT(match(RULE_HEAD "detection:\n  s:\n    UrlStem: x\n", f, row, &e), -1);
  CHECK_CONTAINS(e.text, "needs a 'condition'");
  CHECK_INT(match("id: t\ntitle: t\nlogsource:\n  product: linux\ndetection:\n  s: [x]\n  condition: s\n", f, row, &e), -1);
  CHECK_CONTAINS(e.text, "unsupported logsource 'linux'");
  CHECK_INT(match(RULE_HEAD "detection:\n  s:\n    UrlStem|re: '(unclosed'\n  condition: s\n", f, row, &e), -1);
  CHECK_CONTAINS(e.text, "cannot be compiled");
  CHECK_INT(match("a: &x 1\nb: *x\n", f, row, &e), -1);
  CHECK_CONTAINS(e.text, "anchors");
  CHECK_INT(match("id: a\n---\nid: b\n", f, row, &e), -1);
  CHECK_CONTAINS(e.text, "second YAML document");
  CHECK_INT(match(RULE_HEAD "severity: extreme\ndetection:\n  s: [x]\n  condition: s\n", f, row, &e), -1);
  CHECK_CONTAINS(e.text, "line 6:");
}

static void test_builtin_rules_load(void) {
  exh_error e;
  exhi_lr *lr;
  CHECK_INT(exhi_lr_load(1, NULL, 0, NULL, &lr, &e), EXH_OK);
  CHECK(exhi_lr_count(lr) >= 12);
  /* Every built-in rule has what a finding needs, and a prefilter. */
  for (size_t i = 0; i < exhi_lr_count(lr); i++) {
    const exhi_lr_rule *r = exhi_lr_rule_at(lr, i);
    CHECK(strncmp(r->id, "exh.logs.", 9) == 0);
    CHECK(r->n_attack > 0);
    CHECK(r->n_refs > 0);
  }
  for (int k = 0; k < EXHI_LOG_KINDS; k++) CHECK_INT(exhi_lr_needs_all_lines(lr, k), 0);
  exhi_lr_free(lr);
}

/* Event records: fields from the XML libevtx renders, and the evtx rules. */
static int eval_xml(exhi_lr_scan *sc, const char *xml, long id, int level) {
  exhi_logschema *s = calloc(1, sizeof *s);
  exhi_logrec *r = calloc(1, sizeof *r);
  char *vals = malloc(4096);
  exh_error e;
  exhi_evtx_record_from_xml(xml, id, level, s, r, vals, 4096);
  hit_count = 0;
  exhi_lr_eval(sc, r, EXHI_LR_ALL, on_hit, NULL, &e);
  free(s);
  free(r);
  free(vals);
  return hit_count;
}

static void test_evtx_records(void) {
  exhi_logschema *s = calloc(1, sizeof *s);
  exhi_logrec *r = calloc(1, sizeof *r);
  char vals[512], buf[256];
  const char *xml = "<Event><System><Provider Name=\"Microsoft-Windows-Sysmon\"/><EventID>1</EventID>"
                    "<Channel>Microsoft-Windows-Sysmon/Operational</Channel><Computer>EXCH01</Computer>"
                    "</System><EventData><Data Name=\"Image\">C:\\Windows\\System32\\cmd.exe</Data>"
                    "<Data Name=\"CommandLine\">cmd /c &quot;whoami&quot;&amp;echo [S]</Data>"
                    "<Data Name=\"ParentImage\">C:\\Windows\\System32\\inetsrv\\w3wp.exe</Data>"
                    "</EventData></Event>";
  exhi_evtx_record_from_xml(xml, 1, 4, s, r, vals, sizeof vals);
  CHECK_INT(s->kind, EXHI_LOG_EVTX);
  CHECK_STR(val(r, s, "EventID", buf, sizeof buf), "1");
  CHECK_STR(val(r, s, "Channel", buf, sizeof buf), "Microsoft-Windows-Sysmon/Operational");
  CHECK_STR(val(r, s, "Provider_Name", buf, sizeof buf), "Microsoft-Windows-Sysmon");
  CHECK_STR(val(r, s, "CommandLine", buf, sizeof buf), "cmd /c \"whoami\"&echo [S]");
  CHECK_STR(val(r, s, "ParentImage", buf, sizeof buf), "C:\\Windows\\System32\\inetsrv\\w3wp.exe");
  /* A value buffer too small: values are cut, never overrun. */
  char small[40];
  exhi_evtx_record_from_xml(xml, 1, 4, s, r, small, sizeof small);
  for (size_t i = 0; i < r->nvals; i++) CHECK(r->v[i].p + r->v[i].len <= small + sizeof small);
  free(s);
  free(r);

  exh_error e;
  exhi_lr *lr;
  exhi_lr_scan *sc;
  CHECK_INT(exhi_lr_load(1, NULL, 0, NULL, &lr, &e), EXH_OK);
  exhi_lr_scan_new(lr, &sc, &e);
  CHECK_INT(eval_xml(sc, xml, 1, 4), 1);
  /* near miss: w3wp compiling a page (csc.exe) is IIS at work */
  const char *csc = "<Event><System><EventID>1</EventID><Channel>Microsoft-Windows-Sysmon/Operational</Channel>"
                    "</System><EventData><Data Name=\"Image\">C:\\Windows\\Microsoft.NET\\csc.exe</Data>"
                    "<Data Name=\"ParentImage\">C:\\Windows\\System32\\inetsrv\\w3wp.exe</Data></EventData></Event>";
  CHECK_INT(eval_xml(sc, csc, 1, 4), 0);
  /* CVE-2021-26857: UM error with the cast exception; a warning is not one. */
  const char *um = "<Event><System><Provider Name=\"MSExchange Unified Messaging\"/><EventID>1040</EventID>"
                   "<Channel>Application</Channel></System><EventData><Data>System.InvalidCastException: x"
                   "</Data></EventData></Event>";
  CHECK_INT(eval_xml(sc, um, 1040, 2), 1);
  CHECK_INT(eval_xml(sc, um, 1040, 3), 0);
  /* The Security rule ignores the same fields in another channel. */
  const char *grp = "<Event><System><EventID>4756</EventID><Channel>Security</Channel></System><EventData>"
                    "<Data Name=\"TargetUserName\">Organization Management</Data></EventData></Event>";
  CHECK_INT(eval_xml(sc, grp, 4756, 0), 1);
  exhi_lr_scan_free(sc);
  exhi_lr_free(lr);
}

int main(void) {
  test_evtx_records();
  test_csv_preamble();
  test_guessed_layouts();
  test_logsrc();
  test_gzip_members();
  test_rules();
  test_short_literals();
  test_short_indicators();
  test_builtin_rules_load();
  return t_done("logs");
}
