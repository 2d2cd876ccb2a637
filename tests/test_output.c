/* Writers: JSON lines parse back with ECS names; text escapes what came
 * from evidence. */
#include "t.h"

#include "core/internal.h"
#include "outputs/output.h"

#include <jansson.h>
#include <stdlib.h>

static char *run(const char *format, unsigned flags, const char *build, const char *input_label) {
  exh_kb *kb;
  exh_error e;
  if (exh_kb_load(NULL, &kb, &e)) return NULL;
  char *buf = NULL;
  size_t len = 0;
  FILE *fp = open_memstream(&buf, &len);
  exh_output *o;
  CHECK_INT(exh_output_new(format, fp, flags, 1700000000000, &o, &e), EXH_OK);
  exh_input_build in;
  CHECK_INT(exh_input_read(build, &in, &e), EXH_OK);
  exh_assessment *a;
  CHECK_INT(exh_assess(kb, &in.build, in.precision, "2026-11-23", &a, &e), EXH_OK);
  CHECK_INT(exh_output_assessment(o, input_label, &in, a), EXH_OK);
  CHECK_INT(exh_output_finish(o, &e), EXH_OK);
  exh_output_free(o);
  exh_assessment_free(a);
  exh_kb_free(kb);
  fclose(fp);
  return buf;
}

static void jsonl(void) {
  char *out = run("jsonl", 0, "15.1.2176.2", "srv\x01\xff");
  CHECK(out != NULL);
  int lines = 0, alerts = 0, states = 0, proxylogon = 0;
  for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
    lines++;
    json_error_t je;
    json_t *j = json_loads(line, 0, &je);
    CHECK(j != NULL);
    if (!j) {
      fprintf(stderr, "bad JSON: %s: %s\n", je.text, line);
      continue;
    }
    CHECK_STR(json_string_value(json_object_get(j, "@timestamp")), "2023-11-14T22:13:20.000Z");
    json_t *ev = json_object_get(j, "event");
    const char *kind = json_string_value(json_object_get(ev, "kind"));
    CHECK_STR(json_string_value(json_object_get(ev, "module")), "exhunt");
    CHECK_STR(json_string_value(json_object_get(ev, "dataset")), "exhunt.assess");
    /* the invalid byte and the control byte of the label survive as valid JSON */
    CHECK_STR(json_string_value(json_object_get(json_object_get(j, "exhunt"), "input")), "srv\x01\xEF\xBF\xBD");
    if (!strcmp(kind, "alert")) {
      alerts++;
      CHECK(json_string_value(json_object_get(json_object_get(j, "rule"), "id")) != NULL);
      json_t *ids = json_object_get(json_object_get(j, "vulnerability"), "id");
      size_t i;
      json_t *v;
      json_array_foreach(ids, i, v) if (!strcmp(json_string_value(v), "CVE-2021-26855")) {
        proxylogon++;
        CHECK_STR(json_string_value(json_object_get(json_object_get(json_object_get(j, "exhunt"), "fix"), "kb")), "KB5000871");
      }
    } else if (!strcmp(kind, "state")) {
      states++;
      json_t *x = json_object_get(j, "exhunt");
      CHECK_STR(json_string_value(json_object_get(x, "update_level")), "unpatched");
      CHECK_STR(json_string_value(json_object_get(x, "product")), "Exchange Server 2016");
      CHECK_STR(json_string_value(json_object_get(x, "cu")), "CU19");
      CHECK_STR(json_string_value(json_object_get(json_object_get(x, "support"), "status")), "ended");
      CHECK(json_integer_value(json_object_get(x, "open_cves")) > 50);
    }
    json_decref(j);
  }
  CHECK(lines >= 5);
  CHECK_INT(states, 1);
  CHECK(alerts >= 4);
  CHECK_INT(proxylogon, 1);
  free(out);
}

static void text(void) {
  char *out = run("text", 0, "15.1.2176.2", "label\x1b]0;pwned\x07");
  CHECK(out != NULL);
  CHECK(strchr(out, '\x1b') == NULL);
  CHECK(strchr(out, '\x07') == NULL);
  CHECK_CONTAINS(out, "label\\x1b]0;pwned\\x07");
  CHECK_CONTAINS(out, "UNPATCHED");
  CHECK_CONTAINS(out, "Exchange Server 2016 CU19 Mar21SU (KB5000871, 15.1.2176.9, 2021-03-02)");
  CHECK_CONTAINS(out, "CVE-2021-26855");
  CHECK_CONTAINS(out, "ProxyLogon");
  CHECK_CONTAINS(out, "ProxyNotShell");
  CHECK_CONTAINS(out, "Exchange Server SE RTM May26HU");
  free(out);
  out = run("text", EXH_OUT_COLOR, "15.2.1748.43", "x");
  CHECK_CONTAINS(out, "\x1b[");
  CHECK_CONTAINS(out, "no open CVE");
  CHECK_CONTAINS(out, "ended 2025-10-14");
  free(out);
  out = run("text", EXH_OUT_BRIEF, "15.1.2176", "y");
  CHECK_CONTAINS(out, "update level unknown");
  CHECK(strchr(out, '\n') == out + strlen(out) - 1);
  free(out);
  exh_output *o;
  exh_error e;
  CHECK_INT(exh_output_new("xml", stdout, 0, -1, &o, &e), EXH_ERR_INVALID);
  CHECK_CONTAINS(e.text, "unknown output format \"xml\"");
}

static void escape(void) {
  char buf[64];
  exhi_escape_terminal("a\x1b[2Jb\xc2\x9b" "c\xe2\x82\xac", buf, sizeof buf);
  CHECK_STR(buf, "a\\x1b[2Jb\\xc2\\x9bc\xe2\x82\xac"); /* C1 CSI escaped, euro kept */
  exhi_escape_terminal("\xc0\xaf", buf, sizeof buf); /* overlong '/' */
  CHECK_STR(buf, "\\xc0\\xaf");
  exhi_escape_terminal("abcdefgh", buf, 5);
  CHECK_STR(buf, "abcd");
}

/* Valid UTF-8 kept, each bad byte one U+FFFD, cut at the buffer's end
 * only between characters. */
static void sanitize(void) {
  char out[16];
  CHECK_STR(exhi_utf8_sanitize("plain ascii", out, sizeof out), "plain ascii");
  CHECK_STR(exhi_utf8_sanitize("abcdefghijklmnopqrstuvwxyz", out, sizeof out), "abcdefghijklmno");
  CHECK_STR(exhi_utf8_sanitize("a\xff" "b", out, sizeof out), "a\xEF\xBF\xBD" "b");
  CHECK_STR(exhi_utf8_sanitize("caf\xC3\xA9 ok", out, sizeof out), "caf\xC3\xA9 ok");
  /* "abcdefghijklmn" then a 2-byte character that does not fit whole */
  CHECK_STR(exhi_utf8_sanitize("abcdefghijklmn\xC3\xA9", out, sizeof out), "abcdefghijklmn");
  char one[1];
  CHECK_STR(exhi_utf8_sanitize("x", one, sizeof one), "");
}

/* The JSON-lines writer lays lines out itself (jansson's dump cost most of
 * a finding's time): each line must be what jansson writes for the same
 * value, compact and in order, whatever the strings hold. */
static char *write_odd(int direct, size_t *n_out) {
  /* Values at and past the writers' bound on a value (8 KiB less one: cut
   * there, between characters), ASCII or not. */
  static char at_bound[8192], past_bound[8193], far_past[9001], utf8_past[8200];
  memset(at_bound, 'b', sizeof at_bound - 1);
  memset(past_bound, 'c', sizeof past_bound - 1);
  memset(far_past, 'a', sizeof far_past - 1);
  memset(utf8_past, 'd', sizeof utf8_past - 1);
  memcpy(utf8_past + 8188, "\xE2\x82\xAC\xE2\x82\xAC", 6);
  static const char *const odd[] = {
      "", "plain", "quote \" and backslash \\ and slash /", "\x01\x02\x1f\x7f tab\tcr\rlf\n",
      "\b\f", "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80", "bad \xff\xc0\xaf\xed\xa0\x80 bytes",
      "\"\"\\\\", "<script>&amp;</script>", "a\u2028b",
      /* escapes past the first 16 and 32 bytes, at a run's last byte, none */
      "0123456789abcdef0123456789abcde\"0123456789abcdef\x01", "0123456789abcdef\\",
      "0123456789abcdef0123456789abcdef0123456789abcdef",
      at_bound, past_bound, far_past, utf8_past,
      /* a lone continuation byte, the lowest, in and past 16 bytes */
      "x\x80", "0123456789abcdef\x80",
  };
  size_t n = sizeof odd / sizeof *odd;
  char *buf = NULL;
  size_t len = 0;
  FILE *fp = open_memstream(&buf, &len);
  exh_output *o;
  exh_error e;
  exhi_jsonl_direct(direct);
  CHECK_INT(exh_output_new("jsonl", fp, 0, 1700000000000, &o, &e), EXH_OK);
  for (size_t i = 0; i < n; i++) {
    /* Paths set twice, a value under a path that was a value, a value
     * over an object, keys the first and last on their level. */
    exh_field fields[] = {{"url.path", odd[i]},
                          {"exhunt.anchor_mailbox", odd[(i + 1) % n]},
                          {"source.ip", "203.0.113.9"},
                          {"a.b.c.d", odd[(i + 2) % n]},
                          {"url.path", odd[(i + 3) % n]},
                          {i % 2 ? "a.b" : "a.b.c.e", "over"},
                          {i % 3 ? "message" : "message.x", odd[(i + 6) % n]},
                          {"exhunt.line", "text where a number goes"},
                          {"event.dataset", odd[(i + 7) % n]}};
    const char *cves[] = {"CVE-2021-26855", odd[i]};
    exh_finding f = {.rule_id = i % 4 ? "exh.logs.test" : "x", .rule_name = odd[(i + 3) % n],
                     .severity = (int)(i % 5), .confidence = 90, .cves = cves, .n_cves = i % 3,
                     .attack = cves, .n_attack = i % 3, .actor = i % 2 ? odd[i] : NULL,
                     .event_time_ms = i % 2 ? -1 : 1614729600000 + (int64_t)i, .host = odd[i],
                     .path = odd[(i + 4) % n], .sha256 = i % 3 ? NULL : "ab",
                     .line = (int64_t)i * 1000003, .offset = i % 2 ? -1 : (int64_t)i,
                     .fields = fields, .n_fields = 9, .message = odd[(i + 5) % n],
                     .action = i % 4 ? odd[i] : NULL};
    CHECK_INT(exh_output_finding(o, &f), EXH_OK);
  }
  CHECK_INT(exh_output_finish(o, &e), EXH_OK);
  exh_output_free(o);
  fclose(fp);
  exhi_jsonl_direct(1);
  *n_out = n;
  return buf;
}

/* The JSON-lines writer lays findings out itself (building and dumping a
 * jansson tree cost most of a finding's time): its lines must be those of
 * the jansson tree, byte for byte, and each what jansson writes for the
 * value it holds, whatever the strings and paths. */
static void jsonl_as_jansson(void) {
  size_t n = 0;
  char *direct = write_odd(1, &n), *tree = write_odd(0, &n);
  CHECK_STR(direct, tree);
  size_t lines = 0;
  for (char *line = strtok(direct, "\n"); line; line = strtok(NULL, "\n")) {
    json_error_t je;
    json_t *j = json_loads(line, 0, &je);
    CHECK(j != NULL);
    if (!j) continue;
    char *back = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    CHECK_STR(line, back);
    free(back);
    json_decref(j);
    lines++;
  }
  CHECK_INT((long long)lines, (long long)n);
  free(direct);
  free(tree);
}

/* Event times as RFC 3339 with milliseconds, UTC. */
static void times(void) {
  char b[40];
  static const struct {
    int64_t ms;
    const char *want;
  } cases[] = {
      {0, "1970-01-01T00:00:00.000Z"},
      {1614729600123, "2021-03-03T00:00:00.123Z"},
      {1614815999999, "2021-03-03T23:59:59.999Z"},
      {-1, "1969-12-31T23:59:59.999Z"},
      {951782400005, "2000-02-29T00:00:00.005Z"},
      {253402300799999, "9999-12-31T23:59:59.999Z"},
      {253402300800000, "10000-01-01T00:00:00.000Z"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    exhi_format_time_ms(cases[i].ms, b, sizeof b);
    CHECK_STR(b, cases[i].want);
  }
  exhi_format_time_ms(1614729600123, b, 11); /* cut to the buffer */
  CHECK_STR(b, "2021-03-03");
}

int main(void) {
  times();
  sanitize();
  jsonl();
  jsonl_as_jansson();
  text();
  escape();
  return t_done("test_output");
}
