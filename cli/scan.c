/* exhunt scan: fingerprint Exchange builds across many hosts over HTTPS. */
#include "cli.h"
#include "scan/scan.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Distinct values counted by --summary per dimension (products x CUs is a
 * few hundred; a hostile build string cannot grow it past this). */
#define SUMMARY_MAX_KEYS 4096

static void help(FILE *fp) {
  fputs("usage: exhunt scan [OPTIONS] TARGET...\n"
        "       exhunt scan diff [--list] OLD.jsonl NEW.jsonl\n"
        "\n"
        "Finds Microsoft Exchange servers in address ranges and tells from outside,\n"
        "without credentials and without changing anything on them, which build they\n"
        "run and whether it is patched. One JSON object per host on standard output.\n"
        "\n"
        "TARGET is an address (192.0.2.1, 2001:db8::1), a CIDR range (198.51.100.0/24;\n"
        "IPv6 up to a /96), a host name (mail.example.org: name and SNI), or '-' for\n"
        "standard input. Input lines (stdin, -f FILE) may also be zmap output (one\n"
        "address per line, or csv with a saddr header), masscan -oL lines ('open tcp\n"
        "443 192.0.2.1 ...'), 'Discovered open port 443/tcp on 192.0.2.1', or zgrab2\n"
        "CSV 'IP,DOMAIN,TAG,PORT' (DOMAIN is sent as SNI and Host; the address is\n"
        "used as given, with no DNS lookup).\n"
        "\n"
        "What is asked, per host, over one connection (GET only):\n"
        "  /owa/auth/logon.aspx      is it Exchange; the build path (CU precision)\n"
        "  exporttool manifest       the exact build (Exchange 2013 and later)\n"
        "  /owa/service              the X-OWA-Version header (exact), if still unknown\n"
        "The build goes through exhunt's tables (as 'exhunt assess' does): 'level' is\n"
        "patched/unpatched for an exact build, and for a CU-level build patched (CU\n"
        "released after every fix), vulnerable (CU never fixed) or undetermined (the\n"
        "fix is an update on that CU, which cannot be seen from outside).\n"
        "\n",
        fp);
  fputs("Targets:\n"
        "  -f, --input-file FILE  read targets from FILE, one per line (repeatable)\n"
        "  -p, --port PORT        port when the target does not say (default 443)\n"
        "      --http             plain HTTP instead of HTTPS\n"
        "      --blocklist FILE   CIDR ranges never to scan, zmap's format; replaces the\n"
        "                         built-in list of reserved and private ranges\n"
        "      --allow CIDR       scan CIDR although the blocklist has it: your own\n"
        "                         private network (repeatable)\n"
        "      --only CIDR        refuse everything outside CIDR (repeatable)\n"
        "      --seed N           the order of the scan (default 0): the same seed gives\n"
        "                         the same order and shards on every machine\n"
        "      --shard I/N        scan only shard I of N (0-based, as zmap)\n"
        "\n"
        "Engine:\n"
        "      --rate N           start at most N hosts per second (default: no limit)\n"
        "      --concurrency N    hosts in flight (default 256, at most 20000)\n"
        "      --timeout SEC      per request, connection included (default 10)\n"
        "      --retries N        more attempts after a failed connection (default 1)\n"
        "      --contact URL      put URL in the User-Agent, so owners can reach you\n"
        "      --probe proxylogon also send Microsoft's CVE-2021-26855 cookie check\n"
        "                         (GET /owa/auth/x.js): reported apart from the build;\n"
        "                         a mitigated but unpatched server says not vulnerable\n"
        "\n"
        "Output:\n"
        "  -o, --output FILE      write the JSON lines there instead of standard output\n"
        "      --resume LOG       keep a completion log in LOG; run the same command\n"
        "                         again after Ctrl-C or a crash to continue (needs -o)\n"
        "      --summary          counts by level, product and CU on standard error\n"
        "      --geoip FILE       a MaxMind database (Country, City or ASN; repeatable):\n"
        "                         adds geo {country, asn, as_org} to each record and, with\n"
        "                         --summary, Exchange and exposed hosts by country and AS\n"
        "      --data DIR         newer build tables (as 'exhunt assess --data')\n"
        "      --as-of DATE       judge support at DATE (YYYY-MM-DD)\n"
        "  -q, --quiet            no progress or summary on standard error\n"
        "\n"
        "Each record: ip, port, domain, tag, timestamp, status (success, error,\n"
        "blocked), tls {subject, issuer, not_after}, http {status, redirect,\n"
        "redirect_m365 (to Microsoft 365 sign-in: hybrid or Exchange Online)},\n"
        "is_exchange, build, precision (exact, cu), build_source, product, cu,\n"
        "update, support, level, proxylogon (the level for the ProxyLogon CVEs),\n"
        "open_cves (or open_cves_without_update), probe {proxylogon, detail},\n"
        "exposed, geo {country, asn, as_org} (with --geoip), errors.\n"
        "\n"
        "diff OLD NEW: hosts fixed, still exposed, newly exposed and gone between two\n"
        "scans ('exposed': level unpatched or vulnerable, or the probe said\n"
        "vulnerable). --list adds one JSON line per host that changed or stayed exposed.\n"
        "Either scan may be '-' (standard input) or a pipe; with --list such a scan is\n"
        "copied to a temporary file (TMPDIR) while it is read, to print from. A host\n"
        "(ip, port, domain) found twice in one scan counts once, by its last record\n"
        "(the number of such repeats is said on standard error). Memory: about the\n"
        "key's length + 32 bytes per record; --list re-reads the records it prints.\n"
        "\n"
        "Exit status: 0 no exposed host, 1 exposed hosts, 2 error.\n"
        "\n"
        "Examples:\n"
        "  exhunt scan --rate 500 --contact https://cert.example/scan 198.51.100.0/24\n"
        "  zmap -p 443 -q 203.0.113.0/24 | exhunt scan -o today.jsonl --summary -\n"
        "  exhunt scan --seed 7 --shard 0/4 -f ranges.txt -o s0.jsonl --resume s0.log\n"
        "  exhunt scan diff last-week.jsonl today.jsonl\n",
        fp);
}

static volatile int stop_flag;
static void on_signal(int sig) {
  (void)sig;
  stop_flag++;
}

/* ---- summary ------------------------------------------------------------- */

typedef struct counter {
  char *key[SUMMARY_MAX_KEYS];
  uint64_t n[SUMMARY_MAX_KEYS];
  size_t len;
  uint64_t other;
} counter;

static void count(counter *c, const char *key) {
  for (size_t i = 0; i < c->len; i++)
    if (!strcmp(c->key[i], key)) {
      c->n[i]++;
      return;
    }
  char *k = c->len < SUMMARY_MAX_KEYS ? strdup(key) : NULL;
  if (!k) {
    c->other++;
    return;
  }
  c->key[c->len] = k;
  c->n[c->len++] = 1;
}

static void counter_print(FILE *fp, const char *title, counter *c) {
  if (!c->len) return;
  fprintf(fp, "%s:\n", title);
  /* largest first */
  for (size_t i = 0; i < c->len; i++)
    for (size_t j = i + 1; j < c->len; j++)
      if (c->n[j] > c->n[i] || (c->n[j] == c->n[i] && strcmp(c->key[j], c->key[i]) < 0)) {
        char *k = c->key[i];
        uint64_t n = c->n[i];
        c->key[i] = c->key[j];
        c->n[i] = c->n[j];
        c->key[j] = k;
        c->n[j] = n;
      }
  for (size_t i = 0; i < c->len; i++) {
    fprintf(fp, "  %10" PRIu64 "  ", c->n[i]);
    exhi_fputs_safe(fp, c->key[i]);
    fputc('\n', fp);
  }
  if (c->other) fprintf(fp, "  %10" PRIu64 "  (other)\n", c->other);
}

static void counter_free(counter *c) {
  for (size_t i = 0; i < c->len; i++) free(c->key[i]);
}

/* ---- the scan ------------------------------------------------------------ */

typedef struct run {
  exh_kb *kb;
  const char *as_of;
  FILE *out;
  exhi_resume resume;
  bool resuming, summary;
  uint64_t exchange, exposed, errors;
  counter levels, products, cus, probes;
  exhi_geo *geo; /* --geoip, or NULL */
  counter countries, exposed_countries, exposed_as;
  exh_error err;
} run;

static bool skip_done(uint64_t index, void *user) {
  run *r = user;
  return r->resuming && exhi_resume_done(&r->resume, index);
}

static int host_done(const exhi_scan_result *res, void *user) {
  run *r = user;
  exhi_scan_verdict v;
  if (exhi_scan_verdict_of(res, r->kb, r->as_of, &v, &r->err) != EXH_OK) return -1;
  exhi_geo_info geo = {0};
  if (r->geo) exhi_geo_lookup(r->geo, res->t.ip, &geo);
  int rc = exhi_scan_record_write(r->out, res, &v, r->geo ? &geo : NULL);
  if (rc == EXH_OK && r->resuming) rc = exhi_resume_commit(&r->resume, res->index, &r->err);
  else if (rc) exhi_err(&r->err, EXH_ERR_IO, "output", 0, -1, "write failed: %s", strerror(errno));
  if (res->is_exchange) r->exchange++;
  if (v.exposed) r->exposed++;
  if (!res->connected) r->errors++;
  if (r->summary) {
    count(&r->levels, res->is_exchange ? v.level : res->connected ? "not Exchange" : "no answer");
    if (v.a && v.a->product) {
      count(&r->products, v.a->product);
      char cu[160];
      snprintf(cu, sizeof cu, "%s %s", v.a->product, v.a->cu ? v.a->cu->cu : "(CU unknown)");
      count(&r->cus, cu);
    }
    if (res->probe != EXHI_PROBE_NOT_RUN) count(&r->probes, exhi_probe_name(res->probe));
    if (r->geo && res->is_exchange) {
      count(&r->countries, geo.country[0] ? geo.country : "(unknown)");
      if (v.exposed) {
        count(&r->exposed_countries, geo.country[0] ? geo.country : "(unknown)");
        char as[160];
        if (geo.asn) snprintf(as, sizeof as, "AS%u %s", (unsigned)geo.asn, geo.as_org);
        else snprintf(as, sizeof as, "(unknown)");
        count(&r->exposed_as, as);
      }
    }
  }
  exhi_scan_verdict_clear(&v);
  return rc;
}

static int read_targets(exhi_targets *t, FILE *fp, const char *name, exh_error *err) {
  char line[EXHI_SCAN_LINE_MAX + 2];
  long long n = 0;
  while (fgets(line, sizeof line, fp)) {
    n++;
    size_t len = strlen(line);
    if (len && line[len - 1] != '\n' && !feof(fp)) {
      return exhi_err(err, EXH_ERR_LIMIT, name, n, -1, "line longer than %d bytes", EXHI_SCAN_LINE_MAX);
    }
    int rc = exhi_targets_add_line(t, line, name, n, err);
    if (rc) return rc;
  }
  if (ferror(fp)) return exhi_err(err, EXH_ERR_IO, name, n, -1, "read error");
  return EXH_OK;
}

static int parse_u64(const char *s, uint64_t max, uint64_t *out) {
  char *end;
  errno = 0;
  if (!*s || *s == '-') return -1;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || *end || v > max) return -1;
  *out = v;
  return 0;
}

static int cmd_scan_diff(int argc, char **argv);

int cmd_scan(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "diff")) return cmd_scan_diff(argc - 1, argv + 1);
  enum { O_HTTP = 256, O_BLOCK, O_ALLOW, O_ONLY, O_SEED, O_SHARD, O_RATE, O_CONC, O_TIMEOUT, O_RETRIES,
         O_CONTACT, O_PROBE, O_RESUME, O_SUMMARY, O_DATA, O_ASOF, O_GEOIP };
  static const struct option opts[] = {
      {"input-file", required_argument, NULL, 'f'}, {"port", required_argument, NULL, 'p'},
      {"http", no_argument, NULL, O_HTTP},          {"blocklist", required_argument, NULL, O_BLOCK},
      {"allow", required_argument, NULL, O_ALLOW},  {"only", required_argument, NULL, O_ONLY},
      {"seed", required_argument, NULL, O_SEED},    {"shard", required_argument, NULL, O_SHARD},
      {"rate", required_argument, NULL, O_RATE},    {"concurrency", required_argument, NULL, O_CONC},
      {"timeout", required_argument, NULL, O_TIMEOUT}, {"retries", required_argument, NULL, O_RETRIES},
      {"contact", required_argument, NULL, O_CONTACT}, {"probe", required_argument, NULL, O_PROBE},
      {"output", required_argument, NULL, 'o'},     {"resume", required_argument, NULL, O_RESUME},
      {"summary", no_argument, NULL, O_SUMMARY},    {"data", required_argument, NULL, O_DATA},
      {"as-of", required_argument, NULL, O_ASOF},   {"quiet", no_argument, NULL, 'q'},
      {"geoip", required_argument, NULL, O_GEOIP},
      {"help", no_argument, NULL, 'h'},             {NULL, 0, NULL, 0}};
  const char *files[64], *geoip[EXHI_GEO_MAX_DBS];
  size_t nfiles = 0, ngeoip = 0;
  const char *blocklist = NULL, *contact = NULL, *output = NULL, *resume = NULL, *data = NULL, *as_of = NULL;
  uint64_t seed = 0, shard = 0, nshards = 1, v;
  exhi_scan_opts so = {.port = 443, .concurrency = 256, .timeout_ms = 10000, .retries = 1};
  bool quiet = false, summary = false;
  exhi_scan_policy policy = {0};
  exhi_targets targets = {0};
  exh_error err;
  int c, status = EXIT_ERROR;
  optind = 1;
  opterr = 0;
  /* Messages may quote input lines or server text: printed escaped. */
#define BAD(...)                                    \
  do {                                              \
    char msg_[EXH_ERROR_TEXT_MAX + 256];            \
    snprintf(msg_, sizeof msg_, __VA_ARGS__);       \
    fputs("exhunt scan: ", stderr);                 \
    exhi_fputs_safe(stderr, msg_);                  \
    fputc('\n', stderr);                            \
    goto done;                                      \
  } while (0)
  while ((c = getopt_long(argc, argv, "f:p:o:qh", opts, NULL)) != -1) {
    switch (c) {
    case 'f':
      if (nfiles == EXHI_ARRAY_LEN(files)) BAD("at most %zu --input-file", EXHI_ARRAY_LEN(files));
      files[nfiles++] = optarg;
      break;
    case 'p':
      if (parse_u64(optarg, 65535, &v) || v == 0) BAD("--port takes 1 to 65535");
      so.port = (uint16_t)v;
      break;
    case O_HTTP: so.plain_http = true; break;
    case O_BLOCK: blocklist = optarg; break;
    case O_ALLOW:
    case O_ONLY: {
      exhi_net n;
      if (exhi_net_parse(optarg, &n, &err) || exhi_scan_policy_add(&policy, c == O_ALLOW ? 1 : 2, &n, &err))
        BAD("%s: %s", c == O_ALLOW ? "--allow" : "--only", err.text);
      break;
    }
    case O_SEED:
      if (parse_u64(optarg, UINT64_MAX, &seed)) BAD("--seed takes a number");
      break;
    case O_SHARD: {
      char *slash = strchr(optarg, '/');
      if (!slash) BAD("--shard takes I/N, e.g. 0/4 (0-based)");
      *slash = '\0';
      if (parse_u64(optarg, 1u << 20, &shard) || parse_u64(slash + 1, 1u << 20, &nshards) || nshards == 0 ||
          shard >= nshards)
        BAD("--shard takes I/N with 0 <= I < N <= 1048576 (0-based, as zmap's --shard)");
      break;
    }
    case O_RATE: {
      char *end;
      so.rate = strtod(optarg, &end);
      if (*end || !(so.rate > 0) || so.rate > 1e7) BAD("--rate takes hosts per second, above 0");
      break;
    }
    case O_CONC:
      if (parse_u64(optarg, EXHI_SCAN_MAX_CONCURRENCY, &v) || v == 0)
        BAD("--concurrency takes 1 to %d", EXHI_SCAN_MAX_CONCURRENCY);
      so.concurrency = (unsigned)v;
      break;
    case O_TIMEOUT: {
      char *end;
      double s = strtod(optarg, &end);
      if (*end || !(s >= 0.05) || s > 3600) BAD("--timeout takes seconds, 0.05 to 3600");
      so.timeout_ms = (long)(s * 1000);
      break;
    }
    case O_RETRIES:
      if (parse_u64(optarg, 10, &v)) BAD("--retries takes 0 to 10");
      so.retries = (unsigned)v;
      break;
    case O_CONTACT:
      contact = optarg;
      for (const char *p = contact; *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || *p == ')' || *p == '(')
          BAD("--contact takes a URL without spaces, brackets or control bytes");
      if (strlen(contact) > 200) BAD("--contact: at most 200 bytes");
      break;
    case O_PROBE:
      if (strcmp(optarg, "proxylogon")) BAD("--probe takes 'proxylogon' (the only probe there is)");
      so.probe_proxylogon = true;
      break;
    case 'o': output = optarg; break;
    case O_RESUME: resume = optarg; break;
    case O_SUMMARY: summary = true; break;
    case O_DATA: data = optarg; break;
    case O_ASOF: as_of = optarg; break;
    case O_GEOIP:
      if (ngeoip == EXHI_GEO_MAX_DBS) BAD("at most %d --geoip databases", EXHI_GEO_MAX_DBS);
      geoip[ngeoip++] = optarg;
      break;
    case 'q': quiet = true; break;
    case 'h': help(stdout); status = EXIT_CLEAN; goto done;
    default:
      BAD("%s '%s'. Run 'exhunt scan --help' for the options.",
          optopt ? "option needs a value or is unknown:" : "unknown option",
          optopt ? (char[]){'-', (char)optopt, 0} : argv[optind - 1]);
    }
  }
  if (optind >= argc && nfiles == 0)
    BAD("no target. Give addresses, ranges, names, -f FILE or '-'. Run 'exhunt scan --help' for more.");
  if (resume && !output) BAD("--resume needs -o FILE: the log records where each host's line ends");

  /* Address policy: the built-in blocklist unless replaced. */
  if (blocklist) {
    unsigned char *buf;
    size_t len;
    if (exhi_read_file(blocklist, 64u << 20, &buf, &len, &err)) BAD("--blocklist: %s", err.text);
    int rc = exhi_scan_policy_load(&policy, (const char *)buf, len, blocklist, &err);
    free(buf);
    if (rc) BAD("--blocklist: %s", err.text);
  } else if (exhi_scan_policy_load(&policy, exhi_scan_default_blocklist, strlen(exhi_scan_default_blocklist),
                                   "built-in blocklist", &err)) {
    BAD("%s", err.text);
  }

  /* Targets, in the order given. */
  int stdin_used = 0;
  for (int i = optind; i < argc; i++) {
    int rc;
    if (!strcmp(argv[i], "-")) {
      if (stdin_used++) BAD("'-' (standard input) may be given once");
      rc = read_targets(&targets, stdin, "stdin", &err);
    } else {
      rc = exhi_targets_add_line(&targets, argv[i], "argument", 0, &err);
    }
    if (rc) BAD("%s", err.text);
  }
  for (size_t i = 0; i < nfiles; i++) {
    FILE *fp = fopen(files[i], "r");
    if (!fp) BAD("%s: %s", files[i], strerror(errno));
    int rc = read_targets(&targets, fp, files[i], &err);
    fclose(fp);
    if (rc) BAD("%s", err.text);
  }
  if (exhi_targets_seal(&targets, &err)) BAD("%s", err.text);
  if (targets.total == 0) BAD("the inputs hold no target");
  /* Refuse up front when nothing at all may be scanned: a test or a typo
   * aimed at a private range should not look like an empty result. */
  bool any_allowed = false;
  for (size_t i = 0; i < targets.n && !any_allowed; i++) {
    const exhi_spec *s = &targets.specs[i];
    if (!s->family || !exhi_scan_policy_check(&policy, s->family, s->addr)) any_allowed = true;
    else if (s->count > 1) {
      exhi_target last;
      exhi_targets_get(&targets, targets.first[i] + s->count - 1, so.port, &last);
      if (!exhi_scan_policy_check(&policy, last.family, last.addr)) any_allowed = true;
    }
  }
  if (!any_allowed)
    BAD("every target is refused by the address policy (%s). The built-in blocklist has the reserved and "
        "private ranges; scan your own with --allow CIDR.",
        exhi_scan_policy_check(&policy, targets.specs[0].family, targets.specs[0].addr));

  char ua[400];
  snprintf(ua, sizeof ua, "Mozilla/5.0 (compatible; exhunt/%s; Exchange exposure scan%s%s)", EXH_VERSION,
           contact ? "; +" : "", contact ? contact : "");
  so.user_agent = ua;

  run r = {.as_of = as_of, .summary = summary, .out = stdout};
  if (ngeoip && exhi_geo_open(&r.geo, geoip, ngeoip, &err)) BAD("--geoip: %s", err.text);
  if (exh_kb_load(data, &r.kb, &err)) {
    exhi_geo_free(r.geo);
    BAD("%s", err.text);
  }
  if (as_of) {
    exh_assessment *a;
    exh_build b = {15, 2, 0, 0, 4};
    if (exh_assess(r.kb, &b, EXH_PRECISION_EXACT, as_of, &a, &err)) {
      exh_kb_free(r.kb);
      exhi_geo_free(r.geo);
      BAD("--as-of: %s", err.text);
    }
    exh_assessment_free(a);
  }
  if (resume) {
    uint64_t id = targets.digest;
    uint64_t parts[] = {seed, shard, nshards, so.port, so.probe_proxylogon, so.plain_http};
    for (size_t i = 0; i < EXHI_ARRAY_LEN(parts); i++) id = (id ^ parts[i]) * UINT64_C(0x100000001b3) + i;
    if (exhi_resume_open(&r.resume, resume, output, id, &err)) {
      exh_kb_free(r.kb);
      exhi_geo_free(r.geo);
      BAD("--resume: %s", err.text);
    }
    r.resuming = true;
    r.out = r.resume.out;
    if (!quiet && r.resume.n)
      fprintf(stderr, "exhunt scan: resuming: %zu hosts already done\n", r.resume.n);
  } else if (output) {
    r.out = fopen(output, "w");
    if (!r.out) {
      exh_kb_free(r.kb);
      exhi_geo_free(r.geo);
      BAD("%s: %s", output, strerror(errno));
    }
  }

  struct sigaction sa = {0};
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  exhi_perm perm;
  exhi_perm_init(&perm, targets.total, seed);
  exhi_scan_stats st;
  int rc = exhi_scan_run(&targets, &perm, shard, nshards, &policy, &so, skip_done, host_done, &r, &stop_flag,
                         &st, &err);
  if (rc && r.err.text[0]) err = r.err;
  int cl = EXH_OK;
  if (r.resuming) cl = exhi_resume_close(&r.resume, rc ? NULL : &err);
  else if (r.out != stdout) cl = fclose(r.out) ? EXH_ERR_IO : EXH_OK;
  else cl = fflush(stdout) ? EXH_ERR_IO : EXH_OK;
  if (cl && !rc) {
    rc = cl;
    if (!err.text[0] || !r.resuming) snprintf(err.text, sizeof err.text, "output: write failed");
  }
  if (rc) {
    fputs("exhunt scan: ", stderr);
    exhi_fputs_safe(stderr, err.text);
    fputc('\n', stderr);
  }
  if (!quiet) {
    fprintf(stderr,
            "exhunt scan: %" PRIu64 " hosts scanned, %" PRIu64 " Exchange, %" PRIu64 " exposed, %" PRIu64
            " without an answer",
            st.scanned, r.exchange, r.exposed, r.errors);
    if (st.skipped_policy) fprintf(stderr, "; %" PRIu64 " refused by the blocklist", st.skipped_policy);
    if (st.skipped_done) fprintf(stderr, "; %" PRIu64 " done in an earlier run", st.skipped_done);
    if (stop_flag) fprintf(stderr, "; interrupted%s", resume ? " (run the same command to continue)" : "");
    fputc('\n', stderr);
  }
  if (summary && !quiet) {
    counter_print(stderr, "by level", &r.levels);
    counter_print(stderr, "by product", &r.products);
    counter_print(stderr, "by CU", &r.cus);
    counter_print(stderr, "proxylogon probe", &r.probes);
    counter_print(stderr, "Exchange hosts by country", &r.countries);
    counter_print(stderr, "exposed hosts by country", &r.exposed_countries);
    counter_print(stderr, "exposed hosts by AS", &r.exposed_as);
  }
  counter_free(&r.countries);
  counter_free(&r.exposed_countries);
  counter_free(&r.exposed_as);
  exhi_geo_free(r.geo);
  counter_free(&r.levels);
  counter_free(&r.products);
  counter_free(&r.cus);
  counter_free(&r.probes);
  exh_kb_free(r.kb);
  status = rc || stop_flag ? EXIT_ERROR : r.exposed ? EXIT_FINDINGS : EXIT_CLEAN;
done:
  exhi_targets_clear(&targets);
  exhi_scan_policy_clear(&policy);
  return status;
#undef BAD
}

/* ---- diff ----------------------------------------------------------------- */

/* One scan being compared: the set, and where its records can be read
 * again for --list (the file itself, or a temporary copy of a pipe). */
typedef struct diff_input {
  const char *path;
  FILE *fp;    /* the input; owned unless stdin */
  FILE *again; /* fp, or the copy; NULL without --list */
  bool spooled, list;
  exhi_diff_set set;
  /* What load_scan has to say (an error, or the repeats), printed after
   * both scans are read: they are read at once, one in a thread. */
  int rc;
  char msg[EXH_ERROR_TEXT_MAX + 512];
} diff_input;

/* An unlinked temporary file: the copy of a pipe, gone when closed. */
static FILE *temp_copy(void) {
  const char *dir = getenv("TMPDIR");
  char path[4096];
  snprintf(path, sizeof path, "%s/exhunt-diff-XXXXXX", dir && *dir ? dir : "/tmp");
  int fd = mkstemp(path);
  if (fd < 0) return NULL;
  unlink(path);
  FILE *fp = fdopen(fd, "w+");
  if (!fp) close(fd);
  return fp;
}

/* Reads one scan's records into in->set; in->rc -1 and in->msg on error.
 * With list, a scan that cannot be read again by offset (stdin, a pipe,
 * <(...)) is copied to a temporary file while it is read. */
static void *load_scan(void *arg) {
  diff_input *in = arg;
  const char *what = in->path;
  in->rc = -1;
  if (!strcmp(in->path, "-")) {
    in->fp = stdin;
    what = "standard input";
  } else {
    in->fp = fopen(in->path, "r");
  }
  if (!in->fp) {
    snprintf(in->msg, sizeof in->msg, "%s: %s", in->path, strerror(errno));
    return NULL;
  }
  if (in->list) {
    /* Offsets count from where reading starts: a file given as stdin may
     * have been read from already. */
    struct stat st;
    if (!fstat(fileno(in->fp), &st) && S_ISREG(st.st_mode) && ftello(in->fp) == 0) {
      in->again = in->fp;
    } else {
      in->spooled = true;
      if (!(in->again = temp_copy())) {
        snprintf(in->msg, sizeof in->msg, "%s: cannot make a temporary copy to list from: %s", what,
                 strerror(errno));
        return NULL;
      }
    }
  }
  exh_error err;
  int rc = exhi_diff_load(&in->set, in->fp, in->spooled ? in->again : NULL, what, &err);
  if (rc == EXH_OK && in->spooled && fflush(in->again))
    rc = exhi_err(&err, EXH_ERR_IO, what, 0, -1, "cannot write the temporary copy: %s", strerror(errno));
  if (rc != EXH_OK) {
    snprintf(in->msg, sizeof in->msg, "%s", err.text);
    return NULL;
  }
  if (in->set.duplicates)
    snprintf(in->msg, sizeof in->msg,
             "%s: %" PRIu64 " record%s of a host already seen in this scan: the last record of each host counts",
             what, in->set.duplicates, in->set.duplicates == 1 ? "" : "s");
  in->rc = 0;
  return NULL;
}

static void close_scan(diff_input *in) {
  if (in->again && in->again != in->fp) fclose(in->again);
  if (in->fp && in->fp != stdin) fclose(in->fp);
  exhi_diff_clear(&in->set);
}

typedef struct list_ctx {
  diff_input *old, *new_;
  exh_error err;
} list_ctx;

/* Prints one host of --list, its records read again. */
static int list_host(const char *change, const exhi_diff_host *o, const exhi_diff_host *n, void *ctx) {
  list_ctx *l = ctx;
  json_t *orec = NULL, *nrec = NULL;
  if (o && exhi_diff_record(l->old->again, l->old->path, o, &orec, &l->err)) return -1;
  if (n && exhi_diff_record(l->new_->again, l->new_->path, n, &nrec, &l->err)) {
    json_decref(orec);
    return -1;
  }
  json_t *j = json_object();
  json_object_set_new(j, "change", json_string(change));
  json_t *any = nrec ? nrec : orec;
  json_object_set(j, "ip", json_object_get(any, "ip"));
  json_object_set(j, "port", json_object_get(any, "port"));
  if (json_object_get(any, "domain")) json_object_set(j, "domain", json_object_get(any, "domain"));
  if (orec && json_object_get(orec, "build")) json_object_set(j, "old_build", json_object_get(orec, "build"));
  if (nrec && json_object_get(nrec, "build")) json_object_set(j, "new_build", json_object_get(nrec, "build"));
  if (nrec && json_object_get(nrec, "level")) json_object_set(j, "level", json_object_get(nrec, "level"));
  json_dumpf(j, stdout, JSON_COMPACT);
  fputc('\n', stdout);
  json_decref(j);
  json_decref(orec);
  json_decref(nrec);
  return 0;
}

static int cmd_scan_diff(int argc, char **argv) {
  bool list = false;
  int i = 1;
  for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
    if (!strcmp(argv[i], "--list")) list = true;
    else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
      help(stdout);
      return EXIT_CLEAN;
    } else {
      fprintf(stderr, "exhunt scan diff: unknown option; usage: exhunt scan diff [--list] OLD NEW\n");
      return EXIT_ERROR;
    }
  }
  if (argc - i != 2) {
    fprintf(stderr, "exhunt scan diff: give two scans: exhunt scan diff [--list] OLD.jsonl NEW.jsonl\n");
    return EXIT_ERROR;
  }
  if (!strcmp(argv[i], "-") && !strcmp(argv[i + 1], "-")) {
    fprintf(stderr, "exhunt scan diff: only one of OLD and NEW can be standard input ('-')\n");
    return EXIT_ERROR;
  }
  diff_input a = {.path = argv[i], .list = list}, b = {.path = argv[i + 1], .list = list};
  /* Parsing is nearly all the work and the scans are independent: the new
   * one is read in a thread while this one reads the old. jansson's hash
   * seed is set first, before two threads could race to set it. */
  json_object_seed(0);
  pthread_t t;
  bool threaded = !pthread_create(&t, NULL, load_scan, &b);
  load_scan(&a);
  if (threaded) pthread_join(t, NULL);
  else load_scan(&b);
  for (diff_input *in = &a; in; in = in == &a ? &b : NULL)
    if (in->msg[0]) {
      fputs("exhunt scan diff: ", stderr);
      exhi_fputs_safe(stderr, in->msg);
      fputc('\n', stderr);
    }
  if (a.rc || b.rc) {
    close_scan(&a);
    close_scan(&b);
    return EXIT_ERROR;
  }
  exhi_diff_counts c;
  list_ctx l = {.old = &a, .new_ = &b};
  int rc = exhi_diff_compare(&a.set, &b.set, &c, list ? list_host : NULL, &l);
  if (rc) {
    fputs("exhunt scan diff: ", stderr);
    exhi_fputs_safe(stderr, l.err.text);
    fputc('\n', stderr);
  }
  if (!list) {
    printf("exposed before: %" PRIu64 ", now: %" PRIu64 "\n", c.old_exposed, c.new_exposed);
    printf("fixed:          %" PRIu64 "\n", c.fixed);
    printf("still exposed:  %" PRIu64 "\n", c.still);
    printf("newly exposed:  %" PRIu64 "\n", c.newly);
    printf("gone:           %" PRIu64 "  (exposed before; now no answer, not Exchange, or not scanned)\n", c.gone);
  }
  close_scan(&a);
  close_scan(&b);
  if (fflush(stdout) && !rc) {
    fprintf(stderr, "exhunt scan diff: output: write failed: %s\n", strerror(errno));
    rc = -1;
  }
  return rc ? EXIT_ERROR : c.still || c.newly ? EXIT_FINDINGS : EXIT_CLEAN;
}
