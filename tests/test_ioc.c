/* The indicator store: normalising, the three parsers, import semantics
 * (no duplicates, merge on re-import, all-or-nothing), the in-memory set
 * and sightings. Argument: the fixtures folder. */
#include "t.h"

#include "ioc/ioc.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *fixtures;
static char tmpdir[] = "/tmp/exhunt-test-ioc.XXXXXX";

static const char *fixture(const char *name) {
  static char buf[4][1024];
  static int k;
  k = (k + 1) % 4;
  snprintf(buf[k], sizeof buf[k], "%s/ioc/%s", fixtures, name);
  return buf[k];
}

static const char *db_path(const char *name) {
  static char buf[1024];
  snprintf(buf, sizeof buf, "%s/%s", tmpdir, name);
  return buf;
}

static const char *norm(int type, const char *v) {
  static char out[EXH_IOC_VALUE_MAX + 2];
  exh_error e;
  if (exh_ioc_normalize(type, v, strlen(v), out, sizeof out, &e) != EXH_OK) return "ERR";
  return out;
}

static void test_normalize(void) {
  CHECK_STR(norm(EXH_IOC_SHA256, " 2E1EB00575E1A8F6C95A23C87B05E23EB4718557F787AA905BB000E98B31C5F0\r"),
            "2e1eb00575e1a8f6c95a23c87b05e23eb4718557f787aa905bb000e98b31c5f0");
  CHECK_STR(norm(EXH_IOC_SHA256, "2e1eb00575e1a8f6c95a23c87b05e23eb4718557f787aa905bb000e98b31c5f"), "ERR");
  CHECK_STR(norm(EXH_IOC_MD5, "77318f5e9fc9b143a7877d7db5fe100g"), "ERR");
  CHECK_STR(norm(EXH_IOC_SHA1, "b6b0bc7c2552d999b5cece361c37228f811c2d23"),
            "b6b0bc7c2552d999b5cece361c37228f811c2d23");
  CHECK_STR(norm(EXH_IOC_IPV4, "103.77.192[.]219"), "103.77.192.219");
  CHECK_STR(norm(EXH_IOC_IPV4, "103.77.192.219.1"), "ERR");
  CHECK_STR(norm(EXH_IOC_IPV4, "103.77.192.256"), "ERR");
  CHECK_STR(norm(EXH_IOC_IPV4, "2001:db8::1"), "ERR");
  CHECK_STR(norm(EXH_IOC_IPV6, "[2001:DB8:0:0::1]"), "2001:db8::1");
  CHECK_STR(norm(EXH_IOC_DOMAIN, "P.EstoNine[.]com."), "p.estonine.com");
  CHECK_STR(norm(EXH_IOC_DOMAIN, "localhost"), "ERR");
  CHECK_STR(norm(EXH_IOC_DOMAIN, "bad..example"), "ERR");
  /* Found by fuzzing: "a.." became "a." and then "a" (not idempotent). */
  CHECK_STR(norm(EXH_IOC_DOMAIN, "a.."), "ERR");
  CHECK_STR(norm(EXH_IOC_DOMAIN, "example.com."), "example.com");
  CHECK_STR(norm(EXH_IOC_DOMAIN, "b d.example"), "ERR");
  CHECK_STR(norm(EXH_IOC_URL, "hxxps://CDN.ChatCDN[.]net/Path?Q=A"), "https://cdn.chatcdn.net/Path?Q=A");
  CHECK_STR(norm(EXH_IOC_URL, "cdn.chatcdn.net/p"), "ERR");
  /* Only scheme and host are refanged; a path keeps its brackets. */
  CHECK_STR(norm(EXH_IOC_URL, "hxxp://a[.]example/x[.]y"), "http://a.example/x[.]y");
  CHECK_STR(norm(EXH_IOC_URL, "http://[2001:DB8::1]:8080/p"), "http://[2001:db8::1]:8080/p");
  CHECK_STR(norm(EXH_IOC_URL, "http://[[.]]/"), "ERR");
  CHECK_STR(norm(EXH_IOC_URL, "http://a<b.example/"), "ERR");
  CHECK_STR(norm(EXH_IOC_FILEPATH,
                 "C:\\Program Files\\Microsoft\\Exchange Server\\V15\\FrontEnd\\HttpProxy\\owa\\auth\\OutlookEN.aspx"),
            "/program files/microsoft/exchange server/v15/frontend/httpproxy/owa/auth/outlooken.aspx");
  CHECK_STR(norm(EXH_IOC_FILEPATH, "\\\\?\\C:\\inetpub\\\\wwwroot\\"), "/inetpub/wwwroot");
  CHECK_STR(norm(EXH_IOC_FILEPATH, "C:\\"), "ERR");
  CHECK_STR(norm(EXH_IOC_FILENAME, "C:\\x\\Supp0rt.ASPX"), "supp0rt.aspx");
  CHECK_STR(norm(EXH_IOC_FILENAME, "dir/"), "ERR");
  /* Found by fuzzing: spaces next to a separator must not survive. */
  CHECK_STR(norm(EXH_IOC_FILENAME, "C:\\x\\ a.aspx"), "a.aspx");
  CHECK_STR(norm(EXH_IOC_FILEPATH, "C:\\x\\a \\"), "/x/a");
  CHECK_STR(norm(EXH_IOC_USER_AGENT, "Mozilla/5.0 (X)"), "Mozilla/5.0 (X)");
  CHECK_STR(norm(EXH_IOC_USER_AGENT, "a\x1b[31mb"), "ERR");
  CHECK_INT(exh_ioc_type_from_name("user-agent"), EXH_IOC_USER_AGENT);
  CHECK_INT(exh_ioc_type_from_name("registry"), 0);
  CHECK_INT(exhi_ioc_type_guess("ipaddress", "::1", 3), EXH_IOC_IPV6);
  CHECK_INT(exhi_ioc_type_guess("IPAddress", "1.2.3.4", 7), EXH_IOC_IPV4);
  CHECK_INT(exhi_ioc_type_guess("hash", "0e55ead3b8fd305d9a54f78c7b56741a", 32), EXH_IOC_MD5);
  CHECK_INT(exhi_ioc_type_guess("hash", "0e55", 4), 0);
}

/* A sink that records what a parser gives. */
typedef struct rec {
  int n, skipped;
  char values[64][160];
  int types[64];
  char sources[64][64], actors[64][64], reports[64][64];
  char first_skip[256];
} rec;

static int rec_entry(void *ctx, const exhi_ioc_entry *e, exh_error *err) {
  (void)err;
  rec *r = ctx;
  if (r->n < 64) {
    snprintf(r->values[r->n], 160, "%.*s", (int)e->value_len, e->value);
    r->types[r->n] = e->type;
    snprintf(r->sources[r->n], 64, "%s", e->source ? e->source : "");
    snprintf(r->actors[r->n], 64, "%s", e->actor ? e->actor : "");
    snprintf(r->reports[r->n], 64, "%s", e->report ? e->report : "");
  }
  r->n++;
  return EXH_OK;
}

static void rec_skip(void *ctx, const char *where, const char *why) {
  rec *r = ctx;
  if (!r->skipped++) snprintf(r->first_skip, sizeof r->first_skip, "%s: %s", where, why);
}

static int parse_text(const char *text, rec *r, const char **fmt, exh_error *e) {
  memset(r, 0, sizeof *r);
  exhi_ioc_sink sink = {rec_entry, rec_skip, r};
  *fmt = "";
  return exhi_ioc_parse("t", text, strlen(text), &sink, fmt, e);
}

static int find(const rec *r, const char *value) {
  for (int i = 0; i < r->n && i < 64; i++)
    if (!strcmp(r->values[i], value)) return i;
  return -1;
}

static void test_parsers(void) {
  rec *r = calloc(1, sizeof *r);
  exh_error e;
  const char *fmt;
  /* MSTIC layout */
  CHECK_INT(parse_text("DateAdded,FirstSeen,Indicator,IndicatorType,TLP\n"
                       "2021-03-10,2021-03-05T10:07:29Z,8E90ED33C7EE82C0B64078EA36EC95F7420BA435C693B3B3DD728B494ABF7DFC,sha256,White\n"
                       "2021-03-09,,C:\\inetpub\\wwwroot\\aspnet_client\\shell.aspx,filepath,White\n"
                       "2021-03-09,,something,registrykey,White\n",
                       r, &fmt, &e), EXH_OK);
  CHECK_STR(fmt, "csv-mstic");
  CHECK_INT(r->n, 2);
  CHECK_INT(r->types[0], EXH_IOC_SHA256);
  CHECK_STR(r->sources[0], "microsoft-mstic");
  CHECK_INT(r->types[1], EXH_IOC_FILEPATH);
  CHECK_INT(r->skipped, 1);
  CHECK_CONTAINS(r->first_skip, "line 4: type \"registrykey\"");
  /* Volexity layout: the type word "ipaddress" for both families. */
  CHECK_INT(parse_text("value,type,notes\n103.77.192.219,ipaddress,\"a, b\"\n2001:db8::5,ipaddress,x\n", r,
                       &fmt, &e), EXH_OK);
  CHECK_STR(fmt, "csv-volexity");
  CHECK_INT(r->n, 2);
  CHECK_INT(r->types[0], EXH_IOC_IPV4);
  CHECK_INT(r->types[1], EXH_IOC_IPV6);
  CHECK_STR(r->sources[1], "volexity");
  /* No header: the plain layout by position. */
  CHECK_INT(parse_text("sha256,2e1eb00575e1a8f6c95a23c87b05e23eb4718557f787aa905bb000e98b31c5f0,cisa,HAFNIUM\n"
                       "ip-dst,198.51.100.4\n", r, &fmt, &e), EXH_OK);
  CHECK_INT(r->n, 2);
  CHECK_STR(r->sources[0], "cisa");
  CHECK_STR(r->actors[0], "HAFNIUM");
  CHECK_INT(r->types[1], EXH_IOC_IPV4);
  CHECK_INT(parse_text("hello,world\nsha256,x\n", r, &fmt, &e), EXH_ERR_PARSE);
  /* A header that is none of them. */
  CHECK_INT(parse_text("hash,comment\nabc,x\n", r, &fmt, &e), EXH_ERR_PARSE);
  CHECK_CONTAINS(e.text, "t: line 1: header has no \"type\" and \"value\"");
  CHECK_INT(parse_text("type,value\nsha256,\"unclosed\n", r, &fmt, &e), EXH_ERR_PARSE);
  CHECK_CONTAINS(e.text, "line 2");
  CHECK_INT(parse_text("", r, &fmt, &e), EXH_ERR_PARSE);

  /* STIX */
  unsigned char *buf;
  size_t len;
  CHECK_INT(exhi_read_file(fixture("bundle.stix.json"), 1 << 20, &buf, &len, &e), EXH_OK);
  memset(r, 0, sizeof *r);
  exhi_ioc_sink sink = {rec_entry, rec_skip, r};
  CHECK_INT(exhi_ioc_parse("b", (const char *)buf, len, &sink, &fmt, &e), EXH_OK);
  free(buf);
  CHECK_STR(fmt, "stix");
  CHECK_INT(r->n, 8);
  int i = find(r, "2e1eb00575e1a8f6c95a23c87b05e23eb4718557f787aa905bb000e98b31c5f0");
  CHECK(i >= 0);
  if (i >= 0) {
    CHECK_STR(r->sources[i], "Example CERT");
    CHECK_STR(r->actors[i], "HAFNIUM");
    CHECK_STR(r->reports[i], "AR21-084A");
  }
  CHECK(find(r, "discover.aspx") >= 0);
  CHECK(find(r, "198.51.100.23") >= 0);
  CHECK(find(r, "2001:db8::23") >= 0);
  CHECK(find(r, "bad.example.net") >= 0);
  CHECK(find(r, "https://bad.example.net/it's") >= 0);
  i = find(r, "python-requests/2.25.1");
  CHECK(i >= 0 && r->types[i] == EXH_IOC_USER_AGENT);
  CHECK(find(r, "0e55ead3b8fd305d9a54f78c7b56741a") >= 0);
  /* AND, FOLLOWEDBY, ISSUBSET, yara, process:name: each skipped. */
  CHECK_INT(r->skipped, 5);
  CHECK_CONTAINS(r->first_skip, "$.objects[5]: AND of comparisons");
  CHECK(find(r, "x.aspx") < 0);
  CHECK(find(r, "192.0.2.1") < 0);
  /* Malformed JSON names line and column; a JSON that is neither. */
  CHECK_INT(parse_text("{\"type\": \"bundle\",\n \"objects\": [}\n", r, &fmt, &e), EXH_ERR_PARSE);
  CHECK_CONTAINS(e.text, "t: line 2: column");
  CHECK_INT(parse_text("{\"type\": \"bundle\", \"objects\": 3}", r, &fmt, &e), EXH_ERR_PARSE);
  CHECK_CONTAINS(e.text, "$.objects: not an array");
  CHECK_INT(parse_text("{\"hello\": 1}", r, &fmt, &e), EXH_ERR_PARSE);
  CHECK_CONTAINS(e.text, "neither a STIX");
  CHECK_INT(parse_text("{\"type\":\"indicator\",\"pattern\":\"[file:name = 'a\\\\'b.aspx']\"}", r, &fmt, &e),
            EXH_OK);
  CHECK_INT(r->n, 1);
  CHECK_STR(r->values[0], "a'b.aspx");
  CHECK_INT(parse_text("{\"type\":\"indicator\",\"revoked\":true,\"pattern\":\"[file:name = 'x.aspx']\"}", r, &fmt, &e),
            EXH_OK);
  CHECK_INT(r->n, 0);
  CHECK_CONTAINS(r->first_skip, "revoked");
  CHECK_INT(parse_text("{\"type\":\"indicator\",\"pattern\":\"[file:name = 'unterminated]\"}", r, &fmt, &e),
            EXH_OK);
  CHECK_INT(r->n, 0);
  CHECK_INT(r->skipped, 1);

  /* JSON lists: MSTIC's .json with the extra hashes, plain keys; .jsonl. */
  CHECK_INT(exhi_read_file(fixture("mstic-shape.json"), 1 << 20, &buf, &len, &e), EXH_OK);
  memset(r, 0, sizeof *r);
  CHECK_INT(exhi_ioc_parse("j", (const char *)buf, len, &sink, &fmt, &e), EXH_OK);
  free(buf);
  CHECK_STR(fmt, "json");
  CHECK_INT(r->n, 4); /* sha256 + its md5, a path, an ipv4; the registry key skipped */
  CHECK_INT(r->skipped, 1);
  CHECK_CONTAINS(r->first_skip, "$[2]: type \"registrykey\"");
  i = find(r, "0e55ead3b8fd305d9a54f78c7b56741a");
  CHECK(i >= 0 && r->types[i] == EXH_IOC_MD5 && !strcmp(r->sources[i], "microsoft-mstic"));
  i = find(r, "192.0.2.33");
  CHECK(i >= 0 && !strcmp(r->sources[i], "analyst-notes") && !strcmp(r->actors[i], "HAFNIUM"));
  CHECK_INT(exhi_read_file(fixture("mstic-shape.jsonl"), 1 << 20, &buf, &len, &e), EXH_OK);
  memset(r, 0, sizeof *r);
  CHECK_INT(exhi_ioc_parse("l", (const char *)buf, len, &sink, &fmt, &e), EXH_OK);
  free(buf);
  CHECK_STR(fmt, "jsonl");
  CHECK_INT(r->n, 2);
  CHECK_INT(r->types[1], EXH_IOC_FILEPATH);
  CHECK_INT(parse_text("{\"type\":\"ipv4\",\"value\":\"192.0.2.1\"}\n{\"type\":\"ipv4\",\n", r, &fmt, &e),
            EXH_ERR_PARSE);
  CHECK_CONTAINS(e.text, "t: line 2: column");
  CHECK_INT(parse_text("[1, {\"value\": \"x\"}]", r, &fmt, &e), EXH_OK);
  CHECK_INT(r->skipped, 2);

  /* MISP */
  CHECK_INT(exhi_read_file(fixture("event.misp.json"), 1 << 20, &buf, &len, &e), EXH_OK);
  memset(r, 0, sizeof *r);
  CHECK_INT(exhi_ioc_parse("m", (const char *)buf, len, &sink, &fmt, &e), EXH_OK);
  free(buf);
  CHECK_STR(fmt, "misp");
  /* sha256, ip-dst, ip-src|port (ip), filename|md5 (2), hostname, user-agent,
   * bad ip (given, normalising rejects it later), Object sha1. */
  CHECK_INT(r->n, 9);
  i = find(r, "2B9838DA7EDB0DECD32B086E47A31E8F5733B5981AD8247A2F9508E232589BFF");
  CHECK(i >= 0);
  if (i >= 0) {
    CHECK_STR(r->sources[i], "Example ISAC");
    CHECK_STR(r->actors[i], "HAFNIUM");
    CHECK_STR(r->reports[i], "Exchange exploitation, March 2021");
  }
  CHECK(find(r, "203.0.113.45") >= 0);
  CHECK(find(r, "443") < 0);
  CHECK(find(r, "msupdate.exe") >= 0);
  CHECK(find(r, "0e55ead3b8fd305d9a54f78c7b56741a") >= 0);
  CHECK(find(r, "b6b0bc7c2552d999b5cece361c37228f811c2d23") >= 0);
  CHECK(find(r, "192.0.2.200") < 0); /* deleted */
  CHECK(find(r, "konedieyp@airmail.cc") < 0);
  CHECK_INT(r->skipped, 3); /* to_ids false, email-src (also to_ids false), size-in-bytes */
  CHECK_CONTAINS(r->first_skip, "$.Event.Attribute[6]: to_ids is false");
  CHECK(find(r, "update.microsoft.com") < 0);
  CHECK_INT(parse_text("{\"response\": [{\"Event\": 5}]}", r, &fmt, &e), EXH_ERR_PARSE);
  CHECK_CONTAINS(e.text, "$.response[0].Event: not an object");
  free(r);
}

typedef struct listed {
  int n;
  char last[256];
} listed;

static int count_one(void *ctx, const exh_ioc *i) {
  listed *l = ctx;
  l->n++;
  snprintf(l->last, sizeof l->last, "%s|%s|%s|%d", i->value, i->source, i->actor, i->confidence);
  return 0;
}

static int store_count(exh_ioc_store *s, const exh_ioc_filter *f) {
  listed l = {0};
  exh_error e;
  if (exh_ioc_store_list(s, f, count_one, &l, &e) != EXH_OK) return -1;
  return l.n;
}

static int stop_after(void *ctx, size_t n) { return n >= *(size_t *)ctx; }
static int kill_after(void *ctx, size_t n) {
  if (n >= *(size_t *)ctx) raise(SIGKILL);
  return 0;
}

static void test_store(void) {
  exh_ioc_store *s;
  exh_error e;
  exh_ioc_import_stats st;
  CHECK_INT(exh_ioc_store_open(db_path("ro.sqlite"), EXH_IOC_READONLY, &s, &e), EXH_ERR_NOTFOUND);
  CHECK_INT(exh_ioc_store_open(db_path("sub/dir/s.sqlite"), 0, &s, &e), EXH_OK);
  CHECK_INT(exh_ioc_import_file(s, fixture("plain.csv"), NULL, &st, &e), EXH_OK);
  CHECK_STR(st.format, "csv");
  CHECK_INT(st.added, 10);
  CHECK_INT(st.skipped, 2);
  CHECK_INT(st.per_type[EXH_IOC_SHA256], 1);
  CHECK_INT(st.per_type[EXH_IOC_IPV4], 1);
  CHECK_INT(st.per_type[EXH_IOC_IPV6], 1);
  CHECK_INT(store_count(s, NULL), 10);
  /* Re-import: no duplicates, nothing changed. */
  CHECK_INT(exh_ioc_import_file(s, fixture("plain.csv"), NULL, &st, &e), EXH_OK);
  CHECK_INT(st.added, 0);
  CHECK_INT(st.unchanged, 10);
  CHECK_INT(store_count(s, NULL), 10);
  /* The same value from another source is another row; an update merges. */
  const char *upd = "type,value,source,confidence,first_seen,last_seen\n"
                    "sha256,b67a11f17434f5ee501cc1d2acab2da14ae8dfc5a27dc00bbd7652425d5c3d23,cisa,70,2021-03-20,2021-04-01\n"
                    "sha256,b67a11f17434f5ee501cc1d2acab2da14ae8dfc5a27dc00bbd7652425d5c3d23,other,,,\n";
  CHECK_INT(exh_ioc_import_buffer(s, "upd.csv", upd, strlen(upd), NULL, &st, &e), EXH_OK);
  CHECK_INT(st.updated, 1);
  CHECK_INT(st.added, 1);
  exh_ioc_filter f = {.type = EXH_IOC_SHA256, .source = "cisa"};
  listed l = {0};
  CHECK_INT(exh_ioc_store_list(s, &f, count_one, &l, &e), EXH_OK);
  CHECK_INT(l.n, 1);
  /* actor kept from the first import; confidence replaced. */
  CHECK_STR(l.last, "b67a11f17434f5ee501cc1d2acab2da14ae8dfc5a27dc00bbd7652425d5c3d23|cisa|HAFNIUM|70");
  f = (exh_ioc_filter){.actor = "DLTMiner"};
  CHECK_INT(store_count(s, &f), 2);
  /* --source / --actor options. */
  const char *one = "type,value\nipv4,192.0.2.77\n";
  exh_ioc_import_opts o = {.source = "mine", .actor = "Pydomer"};
  CHECK_INT(exh_ioc_import_buffer(s, "one.csv", one, strlen(one), &o, &st, &e), EXH_OK);
  f = (exh_ioc_filter){.source = "mine", .actor = "Pydomer"};
  CHECK_INT(store_count(s, &f), 1);
  int before = store_count(s, NULL);

  /* A parse error after good rows: nothing of the file is written. */
  const char *broken = "type,value\nipv4,192.0.2.10\nipv4,192.0.2.11\nipv4,\"192.0.2.12\n";
  CHECK_INT(exh_ioc_import_buffer(s, "broken.csv", broken, strlen(broken), NULL, &st, &e), EXH_ERR_PARSE);
  CHECK_CONTAINS(e.text, "broken.csv: line 4: quoted field not closed");
  CHECK_INT(st.added, 0);
  CHECK_INT(store_count(s, NULL), before);
  /* The caller stopping it half-way: the same. */
  size_t limit = 1;
  exh_ioc_import_opts stop = {.progress = stop_after, .ctx = &limit};
  const char *two = "type,value\nipv4,192.0.2.20\nipv4,192.0.2.21\n";
  CHECK_INT(exh_ioc_import_buffer(s, "two.csv", two, strlen(two), &stop, &st, &e), EXH_ERR_INVALID);
  CHECK_INT(store_count(s, NULL), before);

  /* A process killed (SIGKILL) in the middle of a big import: the next
   * open rolls the journal back and the store is as it was. */
  size_t big_n = 20000;
  char *big = malloc(big_n * 32 + 32);
  size_t o2 = (size_t)sprintf(big, "type,value\n");
  for (size_t k = 0; k < big_n; k++)
    o2 += (size_t)sprintf(big + o2, "ipv4,10.%zu.%zu.%zu\n", k >> 16, (k >> 8) & 255, k & 255);
  exh_ioc_store_close(s);
  pid_t pid = fork();
  if (pid == 0) {
    exh_ioc_store *cs;
    size_t at = big_n / 2;
    exh_ioc_import_opts ko = {.progress = kill_after, .ctx = &at};
    if (exh_ioc_store_open(db_path("sub/dir/s.sqlite"), 0, &cs, NULL) != EXH_OK) _exit(3);
    exh_ioc_import_buffer(cs, "big.csv", big, o2, &ko, NULL, NULL);
    _exit(4); /* not reached: killed half-way */
  }
  int status = 0;
  waitpid(pid, &status, 0);
  CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  CHECK_INT(exh_ioc_store_open(db_path("sub/dir/s.sqlite"), 0, &s, &e), EXH_OK);
  CHECK_INT(store_count(s, NULL), before);
  /* and the same import, not killed, lands whole. */
  CHECK_INT(exh_ioc_import_buffer(s, "big.csv", big, o2, NULL, &st, &e), EXH_OK);
  CHECK_INT(st.added, big_n);
  CHECK_INT(store_count(s, NULL), before + (int)big_n);
  free(big);

  /* Counts per group. */
  exh_ioc_store_close(s);
}

static void test_set_and_sightings(void) {
  exh_ioc_store *s;
  exh_error e;
  CHECK_INT(exh_ioc_store_open(db_path("set.sqlite"), 0, &s, &e), EXH_OK);
  CHECK_INT(exh_ioc_import_file(s, fixture("plain.csv"), NULL, NULL, &e), EXH_OK);
  CHECK_INT(exh_ioc_import_file(s, fixture("event.misp.json"), NULL, NULL, &e), EXH_OK);
  CHECK_INT(exh_ioc_import_file(s, fixture("bundle.stix.json"), NULL, NULL, &e), EXH_OK);
  exh_ioc_set *set;
  CHECK_INT(exh_ioc_set_load(s, &set, &e), EXH_OK);
  CHECK_INT(exh_ioc_set_size(set), 10 + 8 + 8);
  const exh_ioc *h;
  const char *sha = "B67A11F17434F5EE501CC1D2ACAB2DA14AE8DFC5A27DC00BBD7652425D5C3D23";
  CHECK_INT(exh_ioc_set_lookup(set, EXH_IOC_SHA256, sha, strlen(sha), &h), 1);
  CHECK_STR(h->source, "cisa");
  CHECK_STR(h->actor, "HAFNIUM");
  CHECK_STR(h->report, "AR21-084A");
  CHECK_INT(h->confidence, 90);
  CHECK_STR(h->first_seen, "2021-03-19");
  /* One value, two sources (the MISP event's creator, and the bundle whose
   * indicator names no creator: its file name): both hits, by source. */
  const char *md5 = "0e55ead3b8fd305d9a54f78c7b56741a";
  CHECK_INT(exh_ioc_set_lookup(set, EXH_IOC_MD5, md5, strlen(md5), &h), 2);
  CHECK_STR(h[0].source, "Example ISAC");
  CHECK_STR(h[1].source, "bundle.stix.json");
  /* Near miss: one digit off. */
  const char *md5x = "0e55ead3b8fd305d9a54f78c7b56741b";
  CHECK_INT(exh_ioc_set_lookup(set, EXH_IOC_MD5, md5x, strlen(md5x), &h), 0);
  CHECK(h == NULL);
  CHECK_INT(exh_ioc_set_lookup(set, EXH_IOC_IPV4, "203.0.113.7", 11, &h), 1);
  CHECK_STR(h->source, "analyst-notes");
  CHECK_INT(exh_ioc_set_lookup(set, EXH_IOC_IPV4, "203.0.113.70", 12, &h), 0);
  CHECK_INT(exh_ioc_set_lookup(set, EXH_IOC_IPV6, "2001:db8::1", 11, &h), 1);
  CHECK_INT(exh_ioc_set_lookup(set, EXH_IOC_DOMAIN, "YUUUUU44.com", 12, &h), 1);
  CHECK_STR(h->actor, "HAFNIUM");
  CHECK_INT(exh_ioc_set_lookup(set, EXH_IOC_DOMAIN, "yuuuuu44.co", 11, &h), 0);
  /* Paths: any tail from a separator; a mounted image's prefix is fine. */
  const char *p1 = "/mnt/evidence/C/Program Files/Microsoft/Exchange Server/V15/FrontEnd/HttpProxy/owa/auth/supp0rt.aspx";
  CHECK_INT(exh_ioc_set_lookup(set, EXH_IOC_FILEPATH, p1, strlen(p1), &h), 1);
  CHECK_INT(h->type, EXH_IOC_FILEPATH);
  const char *p2 = "/mnt/evidence/C/Program Files/Microsoft/Exchange Server/V15/FrontEnd/HttpProxy/owa/auth/xsupp0rt.aspx";
  CHECK_INT(exh_ioc_set_lookup(set, EXH_IOC_FILEPATH, p2, strlen(p2), &h), 0);
  const char *p3 = "/mnt/evidence/C/Program Files/Microsoft/Exchange Server/V15/FrontEnd/HttpProxy/ecp/auth/supp0rt.aspx";
  CHECK_INT(exh_ioc_set_lookup(set, EXH_IOC_FILEPATH, p3, strlen(p3), &h), 0);
  const char *n1 = "/mnt/x/inetpub/wwwroot/aspnet_client/DISCOVER.aspx";
  CHECK_INT(exh_ioc_set_lookup(set, EXH_IOC_FILENAME, n1, strlen(n1), &h), 2);
  CHECK_INT(exh_ioc_set_lookup(set, EXH_IOC_FILENAME, "discover.aspx.bak", 17, &h), 0);
  /* A path indicator found by its file name alone (a web log's URL path). */
  CHECK_INT(exh_ioc_set_lookup_path_name(set, "/owa/auth/SUPP0RT.aspx", 22, &h), 1);
  CHECK_INT(h->type, EXH_IOC_FILEPATH);
  CHECK_STR(h->value, "/program files/microsoft/exchange server/v15/frontend/httpproxy/owa/auth/supp0rt.aspx");
  CHECK_STR(h->source, "analyst-notes");
  CHECK_INT(exh_ioc_set_lookup_path_name(set, "supp0rt.aspx.txt", 16, &h), 0);
  CHECK_INT(exh_ioc_set_lookup_path_name(set, "auth", 4, &h), 0);
  CHECK_INT(exh_ioc_set_lookup(set, EXH_IOC_USER_AGENT, "antSword/v2.1", 13, &h), 1);
  CHECK_INT(exh_ioc_set_lookup(set, EXH_IOC_USER_AGENT, "antsword/v2.1", 13, &h), 0);
  CHECK_INT(exh_ioc_set_lookup(set, EXH_IOC_URL, "HTTP://cdn.chatcdn.NET/p?hl=x", 29, &h), 1);
  CHECK_INT(exh_ioc_set_lookup(set, EXH_IOC_SHA256, "zz", 2, &h), 0);

  /* Sightings, deduplicated, exported. */
  CHECK_INT(exh_ioc_set_lookup(set, EXH_IOC_SHA256, sha, strlen(sha), &h), 1);
  exh_ioc_sighting w = {.host = "mail01", .location = p1, .seen_ms = 1615420800000, .detector = "files",
                        .detail = "=cmd|' /c calc'!A1"};
  CHECK_INT(exh_ioc_store_add_sighting(s, h, &w, &e), EXH_OK);
  CHECK_INT(exh_ioc_store_add_sighting(s, h, &w, &e), EXH_OK);
  CHECK_INT(exh_ioc_set_lookup(set, EXH_IOC_IPV4, "203.0.113.7", 11, &h), 1);
  exh_ioc_sighting w2 = {.host = "mail01", .location = "W3SVC1/u_ex210303.log:1207", .seen_ms = -1,
                         .detector = "logs"};
  CHECK_INT(exh_ioc_store_add_sighting(s, h, &w2, &e), EXH_OK);
  exh_ioc ghost = *h;
  ghost.id = 999999;
  CHECK_INT(exh_ioc_store_add_sighting(s, &ghost, &w2, &e), EXH_ERR_NOTFOUND);

  char *text = NULL;
  size_t tlen = 0, n = 0;
  FILE *fp = open_memstream(&text, &tlen);
  CHECK_INT(exh_ioc_store_export(s, "csv", fp, &n, &e), EXH_OK);
  fclose(fp);
  CHECK_INT(n, 2);
  CHECK_CONTAINS(text, "type,value,source,actor,report,confidence,host,location,seen_at,detector,detail,recorded_at\n");
  CHECK_CONTAINS(text, "sha256,b67a11f17434f5ee501cc1d2acab2da14ae8dfc5a27dc00bbd7652425d5c3d23,cisa,HAFNIUM,AR21-084A,90,mail01,");
  CHECK_CONTAINS(text, ",2021-03-11T00:00:00.000Z,files,'=cmd|' /c calc'!A1,");
  CHECK_CONTAINS(text, "ipv4,203.0.113.7,analyst-notes,");
  free(text);
  fp = open_memstream(&text, &tlen);
  CHECK_INT(exh_ioc_store_export(s, "stix", fp, &n, &e), EXH_OK);
  fclose(fp);
  json_error_t je;
  json_t *b = json_loads(text, 0, &je);
  CHECK(b != NULL);
  CHECK_STR(json_string_value(json_object_get(b, "type")), "bundle");
  json_t *objs = json_object_get(b, "objects");
  CHECK_INT(json_array_size(objs), 4);
  int sightings = 0;
  size_t k;
  json_t *o;
  json_array_foreach(objs, k, o) {
    if (!strcmp(json_string_value(json_object_get(o, "type")), "sighting")) sightings++;
    else
      CHECK_CONTAINS(json_string_value(json_object_get(o, "pattern")), "[");
  }
  CHECK_INT(sightings, 2);
  CHECK_CONTAINS(text, "[file:hashes.'SHA-256' = 'b67a11f17434f5ee501cc1d2acab2da14ae8dfc5a27dc00bbd7652425d5c3d23']");
  /* What the export writes, the STIX parser reads back. */
  rec *r = calloc(1, sizeof *r);
  exhi_ioc_sink sink = {rec_entry, rec_skip, r};
  CHECK_INT(exhi_ioc_parse_stix("export", b, &sink, &e), EXH_OK);
  CHECK_INT(r->n, 2);
  free(r);
  json_decref(b);
  free(text);
  CHECK_INT(exh_ioc_store_export(s, "xml", stdout, &n, &e), EXH_ERR_INVALID);
  exh_ioc_set_free(set);
  exh_ioc_store_close(s);
  /* A set is independent of its store. */
  CHECK_INT(exh_ioc_store_open(db_path("set.sqlite"), EXH_IOC_READONLY, &s, &e), EXH_OK);
  CHECK_INT(exh_ioc_set_load(s, &set, &e), EXH_OK);
  exh_ioc_store_close(s);
  CHECK_INT(exh_ioc_set_lookup(set, EXH_IOC_SHA1, "B6B0BC7C2552D999B5CECE361C37228F811C2D23", 40, &h), 2);
  exh_ioc_set_free(set);
}

/* Many threads share one set: every thread gets the same answers. */
typedef struct worker {
  const exh_ioc_set *set;
  int hits, misses;
} worker;

static void *lookups(void *arg) {
  worker *w = arg;
  char ip[32];
  for (int i = 0; i < 20000; i++) {
    snprintf(ip, sizeof ip, "10.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255, i & 255);
    const exh_ioc *h;
    size_t n = exh_ioc_set_lookup(w->set, EXH_IOC_IPV4, ip, strlen(ip), &h);
    if (n == 1 && !strcmp(h->value, ip) && !strcmp(h->source, "threads")) w->hits++;
    else if (n == 0) w->misses++;
  }
  return NULL;
}

static void test_threads(void) {
  exh_ioc_store *s;
  exh_error e;
  CHECK_INT(exh_ioc_store_open(db_path("threads.sqlite"), 0, &s, &e), EXH_OK);
  /* Every even address of 10.0.0.0/16's first 20000 is an indicator. */
  char *csv = malloc(20000 * 24 + 32);
  size_t o = (size_t)sprintf(csv, "type,value,source\n");
  for (int i = 0; i < 20000; i += 2)
    o += (size_t)sprintf(csv + o, "ipv4,10.%d.%d.%d,threads\n", (i >> 16) & 255, (i >> 8) & 255, i & 255);
  CHECK_INT(exh_ioc_import_buffer(s, "t.csv", csv, o, NULL, NULL, &e), EXH_OK);
  free(csv);
  exh_ioc_set *set;
  CHECK_INT(exh_ioc_set_load(s, &set, &e), EXH_OK);
  exh_ioc_store_close(s);
  pthread_t th[4];
  worker w[4];
  for (int i = 0; i < 4; i++) {
    w[i] = (worker){.set = set};
    pthread_create(&th[i], NULL, lookups, &w[i]);
  }
  for (int i = 0; i < 4; i++) {
    pthread_join(th[i], NULL);
    CHECK_INT(w[i].hits, 10000);
    CHECK_INT(w[i].misses, 10000);
  }
  exh_ioc_set_free(set);
}

static void test_misc(void) {
  char buf[256];
  exh_error e;
  setenv("XDG_DATA_HOME", "/x/data", 1);
  CHECK_INT(exh_ioc_default_path(buf, sizeof buf, &e), EXH_OK);
  CHECK_STR(buf, "/x/data/exhunt/iocs.sqlite");
  setenv("XDG_DATA_HOME", "relative", 1);
  setenv("HOME", "/home/u", 1);
  CHECK_INT(exh_ioc_default_path(buf, sizeof buf, &e), EXH_OK);
  CHECK_STR(buf, "/home/u/.local/share/exhunt/iocs.sqlite");
  /* Not a store: a text file. */
  FILE *fp = fopen(db_path("notdb.sqlite"), "w");
  fputs("this is not a database, just text that is long enough to be a header....\n", fp);
  fclose(fp);
  exh_ioc_store *s;
  CHECK(exh_ioc_store_open(db_path("notdb.sqlite"), 0, &s, &e) != EXH_OK);
  CHECK_CONTAINS(e.text, "notdb.sqlite");
  /* A store from a newer exhunt. */
  CHECK_INT(exh_ioc_store_open(db_path("new.sqlite"), 0, &s, &e), EXH_OK);
  exh_ioc_store_close(s);
  char cmd[2048];
  snprintf(cmd, sizeof cmd, "sqlite3 %s 'PRAGMA user_version = 99' 2>/dev/null", db_path("new.sqlite"));
  if (system(cmd) == 0) {
    CHECK_INT(exh_ioc_store_open(db_path("new.sqlite"), 0, &s, &e), EXH_ERR_DATA);
    CHECK_CONTAINS(e.text, "newer");
  }
}

/* Overwrites len bytes of path from off with a pattern. */
static void damage(const char *path, long off, size_t len) {
  FILE *fp = fopen(path, "r+b");
  CHECK(fp != NULL);
  if (!fp) return;
  fseek(fp, off, SEEK_SET);
  for (size_t i = 0; i < len; i++) fputc(0xa5 ^ (int)(i & 0xff), fp);
  fclose(fp);
}

/* exh_ioc_set_open: no store is a normal case, a store that cannot be read
 * is an error naming it, a good one gives its set. */
static void test_set_open(void) {
  exh_error e;
  exh_ioc_set *set = (exh_ioc_set *)&e; /* must be reset to NULL */
  char used[1024];
  char data[1024];
  snprintf(data, sizeof data, "%s/xdg", tmpdir);
  setenv("XDG_DATA_HOME", data, 1);
  /* Missing: the default store is not there yet. */
  CHECK_INT(exh_ioc_set_open(NULL, used, sizeof used, &set, &e), EXH_OK);
  CHECK(set == NULL);
  CHECK_STR(used, "");
  /* Missing, but named: an error (a typo must not scan without). */
  CHECK_INT(exh_ioc_set_open(db_path("typo.sqlite"), used, sizeof used, &set, &e), EXH_ERR_NOTFOUND);
  CHECK(set == NULL);
  CHECK_CONTAINS(e.text, "typo.sqlite: No such file or directory");
  /* No HOME and no XDG_DATA_HOME: no default store. */
  char *home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
  unsetenv("XDG_DATA_HOME");
  unsetenv("HOME");
  CHECK_INT(exh_ioc_set_open(NULL, used, sizeof used, &set, &e), EXH_OK);
  CHECK(set == NULL);
  if (home) setenv("HOME", home, 1);
  free(home);
  setenv("XDG_DATA_HOME", data, 1);

  /* Good: the default store with three indicators. */
  char store[1200];
  snprintf(store, sizeof store, "%s/exhunt/iocs.sqlite", data);
  exh_ioc_store *s;
  CHECK_INT(exh_ioc_store_open(store, 0, &s, &e), EXH_OK);
  const char *csv = "type,value,source\nipv4,198.51.100.7,t\nsha256,"
                    "b75f163ca9b9240bf4b37ad92bc7556b40a17e27c2b8ed5c8991385fe07d17d0,t\n"
                    "filepath,C:\\inetpub\\wwwroot\\aspnet_client\\x.aspx,t\n";
  CHECK_INT(exh_ioc_import_buffer(s, "t.csv", csv, strlen(csv), NULL, NULL, &e), EXH_OK);
  exh_ioc_store_close(s);
  CHECK_INT(exh_ioc_set_open(NULL, used, sizeof used, &set, &e), EXH_OK);
  CHECK(set != NULL);
  CHECK_INT(exh_ioc_set_size(set), 3);
  CHECK_STR(used, store);
  exh_ioc_set_free(set);
  CHECK_INT(exh_ioc_set_open(store, NULL, 0, &set, &e), EXH_OK); /* named, no path wanted */
  CHECK_INT(exh_ioc_set_size(set), 3);
  exh_ioc_set_free(set);

  /* Empty: a zero-byte file holds no indicators; not an error. */
  FILE *fp = fopen(db_path("empty.sqlite"), "w");
  if (fp) fclose(fp);
  CHECK_INT(exh_ioc_set_open(db_path("empty.sqlite"), used, sizeof used, &set, &e), EXH_OK);
  CHECK(set == NULL);

  /* Damaged: the tables' pages overwritten (the header still reads). */
  char cmd[2600];
  snprintf(cmd, sizeof cmd, "cp '%s' '%s'", store, db_path("damaged.sqlite"));
  CHECK_INT(system(cmd), 0);
  struct stat st;
  CHECK_INT(stat(db_path("damaged.sqlite"), &st), 0);
  damage(db_path("damaged.sqlite"), 4096, (size_t)st.st_size - 4096);
  CHECK_INT(exh_ioc_set_open(db_path("damaged.sqlite"), used, sizeof used, &set, &e), EXH_ERR_IO);
  CHECK(set == NULL);
  CHECK_CONTAINS(e.text, "damaged.sqlite");
  /* ... and at the default path too: a damaged store is never "no store". */
  damage(store, 0, 100);
  CHECK_INT(exh_ioc_set_open(NULL, used, sizeof used, &set, &e), EXH_ERR_IO);
  CHECK_CONTAINS(e.text, store);
  CHECK_CONTAINS(e.text, "not an exhunt indicator store");
  /* Not a file. */
  CHECK_INT(exh_ioc_set_open(tmpdir, used, sizeof used, &set, &e), EXH_ERR_IO);
  CHECK_CONTAINS(e.text, "not a file");
  /* Wrong schema: another program's SQLite database (user_version 0). */
  snprintf(cmd, sizeof cmd, "sqlite3 '%s' 'CREATE TABLE t(x); INSERT INTO t VALUES(1)' 2>/dev/null",
           db_path("other.sqlite"));
  if (system(cmd) == 0) {
    CHECK_INT(exh_ioc_set_open(db_path("other.sqlite"), used, sizeof used, &set, &e), EXH_ERR_DATA);
    CHECK_CONTAINS(e.text, "not an exhunt indicator store");
  }
  /* Unreadable: permission (root reads it anyway, so only as a user). */
  if (geteuid() != 0) {
    snprintf(cmd, sizeof cmd, "%s/locked.sqlite", tmpdir);
    fp = fopen(cmd, "w");
    if (fp) {
      fputs("x", fp);
      fclose(fp);
    }
    chmod(cmd, 0);
    CHECK_INT(exh_ioc_set_open(cmd, used, sizeof used, &set, &e), EXH_ERR_IO);
    CHECK_CONTAINS(e.text, "Permission denied");
  }
}

int main(int argc, char **argv) {
  fixtures = argc > 1 ? argv[1] : "tests/fixtures";
  if (!mkdtemp(tmpdir)) {
    perror("mkdtemp");
    return 1;
  }
  test_normalize();
  test_parsers();
  test_store();
  test_set_and_sightings();
  test_threads();
  test_misc();
  test_set_open();
  char cmd[256];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
  return t_done("ioc");
}
