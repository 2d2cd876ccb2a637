/* exhunt logs: hunt exploitation in Exchange and IIS logs. */
#include "cli.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* --rules may be given this many times. */
#define MAX_RULE_DIRS 32

static void help(FILE *fp) {
  fputs("usage: exhunt logs [OPTIONS] PATH...\n"
        "\n"
        "Hunts exploitation of Exchange (ProxyLogon, ProxyShell, ProxyNotShell,\n"
        "OWASSRF), web shell access and mailbox exports in the logs an Exchange\n"
        "server writes. PATH is a log file or a folder, searched recursively: a\n"
        "collection of logs from many servers, a mounted system volume, anything.\n"
        "Formats are recognised by content (and .gz files are read as they are):\n"
        "  Exchange CSV logs: Logging/HttpProxy/<protocol>, ECP/Server, OABGeneratorLog,\n"
        "                     Rps_Cmdlet, EWS, MessageTracking (2013 rows without a\n"
        "                     #Fields line included)\n"
        "  IIS W3C logs:      inetpub/logs/LogFiles/W3SVC*/u_ex*.log\n"
        "  Windows event logs (.evtx): Application, Security, MSExchange Management, Sysmon\n"
        "Links are not followed; nothing is written to the evidence.\n"
        "\n"
        "Repeated hits (a scanner probing 10 000 times) are one finding per rule,\n"
        "client address and server (when the log names it), with counts (all, failed,\n"
        "succeeded), first and last seen.\n"
        "It is 'exploited' when any of the client's hits succeeded (e.g. 241/200 on\n"
        "the ProxyLogon steps; the finding then shows the first success) or when a\n"
        "later step of the chain succeeded after it (a ProxyLogon SSRF, then a virtual\n"
        "directory reset, an ECP Server write or a web shell answering 200, from any\n"
        "client on that server; IIS logs seldom name theirs: hunt one server per run to\n"
        "be sure), and 'attempted' only when every hit failed. Each log folder ends with an\n"
        "info line saying how far back its logs reach: nothing older was examined.\n"
        "\n"
        "Options:\n"
        "  -f, --format FMT   text (default) or jsonl (one JSON object per line, ECS names)\n"
        "  -o, --output FILE  write there instead of standard output\n"
        "      --timeline     every hit on its own, all sources sorted by time\n"
        "      --since TIME   only events at or after TIME (YYYY-MM-DD or\n"
        "                     YYYY-MM-DDTHH:MM:SS, UTC)\n"
        "      --until TIME   only events at or before TIME (a date alone: that whole day)\n"
        "      --rules DIR    add the rules in DIR (*.yml, *.yaml; exhunt's format or\n"
        "                     plain Sigma webserver rules); may be repeated\n"
        "      --no-builtin   use only the rules given with --rules\n"
        "      --db FILE      the indicator store (default: the one `exhunt ioc` uses,\n"
        "                     $XDG_DATA_HOME/exhunt/iocs.sqlite); used when it exists\n"
        "      --no-iocs      do not look anything up in the indicator store\n"
        "      --iocs FILE    indicators from a file as well (any format `exhunt ioc\n"
        "                     import` reads: plain type,value[,source,actor] CSV, the\n"
        "                     MSTIC and Volexity CSVs, STIX 2.1, MISP); not stored\n"
        "      --no-sightings do not record the indicator hits in the store\n"
        "      --host NAME    the server the logs come from, kept with the sightings\n"
        "  -j, --threads N    files read in parallel (default: one per CPU, at most 16)\n"
        "      --list-rules   print the rules that would be used, and exit\n"
        "      --color WHEN   auto (default), always or never; NO_COLOR is honoured\n"
        "  -q, --quiet        print nothing; only the exit status\n"
        "  -h, --help         this text\n"
        "\n"
        "A progress line is shown on standard error when it is a terminal.\n"
        "\n"
        "Indicators: client addresses (IPv4/IPv6 in any spelling), user agents\n"
        "(IIS's '+' for spaces included), host names, URLs (host + path, and the\n"
        "query when the URL has one: that query only) and web shells requested\n"
        "by name (/owa/auth/x.aspx for the published path\n"
        "C:\\...\\FrontEnd\\HttpProxy\\owa\\auth\\x.aspx; the same name in another\n"
        "folder is not it) are looked up in the store; each finding names the\n"
        "indicator's source, actor and report. Hits from the store are recorded in\n"
        "it as sightings (see `exhunt ioc export`).\n"
        "\n"
        "Exit status: 0 nothing found, 1 findings (severity low or above), 2 a file\n"
        "or a rule could not be read (the other files are still hunted).\n"
        "\n"
        "Examples:\n"
        "  exhunt logs /mnt/evidence/C\n"
        "  exhunt logs --format jsonl -o hits.jsonl collected/*/Logging\n"
        "  exhunt logs --timeline --since 2021-02-20 --until 2021-03-10 logs/\n"
        "  exhunt logs --iocs volexity-ips.csv --rules my-sigma/ logs/\n"
        "  exhunt ioc import mstic.csv && exhunt logs --host EX01 /mnt/ex01/Logging\n",
        fp);
}

/* "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SS[.fff][Z]" -> ms; end_of_day for --until. */
static int parse_when(const char *s, bool end_of_day, int64_t *out) {
  char buf[40];
  size_t n = strlen(s);
  if (n == 10) {
    snprintf(buf, sizeof buf, "%sT%s", s, end_of_day ? "23:59:59.999" : "00:00:00");
    s = buf;
    n = strlen(buf);
  }
  if (n < 19 || n > 30) return -1;
  /* Reuse the log time parser through a tiny shim: same grammar. */
  struct tm tm = {0};
  int ms = 0;
  char z[8] = "";
  int got = sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d.%3d%7s", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms, z);
  if (got < 6) return -1;
  if (got < 7) ms = 0;
  if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
      tm.tm_min > 59 || tm.tm_sec > 60)
    return -1;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  time_t t = timegm(&tm);
  *out = (int64_t)t * 1000 + ms;
  return 0;
}

typedef struct progress {
  int on;
  time_t last;
} progress;

static void show_progress(void *ctx, size_t done, size_t total, uint64_t bytes) {
  progress *p = ctx;
  time_t now = time(NULL);
  if (done != total && now == p->last) return; /* at most once a second */
  p->last = now;
  fprintf(stderr, "\rexhunt logs: %zu/%zu files, %.1f MB read", done, total, (double)bytes / 1e6);
  if (done == total) fputs("\r\033[K", stderr);
  fflush(stderr);
}

/* The store's indicators as a set, or *out = NULL when there is no store
 * at the default path, or an empty one: hunting needs none. A store named
 * with --db must exist; a corrupt or newer one is an error either way. */
static int load_store(const char *db, char *path, size_t size, exh_ioc_set **out) {
  exh_error err;
  if (exh_ioc_set_open(db, path, size, out, &err) == EXH_OK) return EXIT_CLEAN;
  fprintf(stderr, "exhunt logs: indicator store: %s\n", err.text);
  fprintf(stderr, "exhunt logs: use --no-iocs to hunt without it, or --db FILE\n");
  return EXIT_ERROR;
}

int cmd_logs(int argc, char **argv) {
  enum { O_TIMELINE = 256, O_SINCE, O_UNTIL, O_RULES, O_NOBUILTIN, O_IOCS, O_LIST, O_COLOR,
         O_DB, O_NOIOCS, O_NOSIGHT, O_HOST };
  static const struct option opts[] = {
      {"format", required_argument, NULL, 'f'}, {"output", required_argument, NULL, 'o'},
      {"timeline", no_argument, NULL, O_TIMELINE}, {"since", required_argument, NULL, O_SINCE},
      {"until", required_argument, NULL, O_UNTIL}, {"rules", required_argument, NULL, O_RULES},
      {"no-builtin", no_argument, NULL, O_NOBUILTIN}, {"iocs", required_argument, NULL, O_IOCS},
      {"threads", required_argument, NULL, 'j'}, {"list-rules", no_argument, NULL, O_LIST},
      {"color", required_argument, NULL, O_COLOR}, {"quiet", no_argument, NULL, 'q'},
      {"help", no_argument, NULL, 'h'}, {"db", required_argument, NULL, O_DB},
      {"no-iocs", no_argument, NULL, O_NOIOCS}, {"no-sightings", no_argument, NULL, O_NOSIGHT},
      {"host", required_argument, NULL, O_HOST}, {NULL, 0, NULL, 0}};
  const char *db = NULL, *host = NULL;
  int no_iocs = 0, no_sightings = 0;
  const char *format = "text", *output = NULL, *iocs = NULL;
  const char *dirs[MAX_RULE_DIRS];
  size_t n_dirs = 0;
  int builtin = 1, list = 0, quiet = 0, color_mode = 0;
  exh_loghunt_options ho = {.since_ms = -1, .until_ms = -1};
  optind = 1;
  int c;
  while ((c = getopt_long(argc, argv, "f:o:j:qh", opts, NULL)) != -1) {
    switch (c) {
    case 'f': format = optarg; break;
    case 'o': output = optarg; break;
    case 'q': quiet = 1; break;
    case 'h': help(stdout); return EXIT_CLEAN;
    case O_TIMELINE: ho.timeline = 1; break;
    case O_SINCE:
    case O_UNTIL:
      if (parse_when(optarg, c == O_UNTIL, c == O_SINCE ? &ho.since_ms : &ho.until_ms)) {
        fprintf(stderr, "exhunt logs: --%s wants YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS (UTC)\n",
                c == O_SINCE ? "since" : "until");
        return EXIT_ERROR;
      }
      break;
    case O_RULES:
      if (n_dirs == MAX_RULE_DIRS) {
        fprintf(stderr, "exhunt logs: at most %d --rules folders\n", MAX_RULE_DIRS);
        return EXIT_ERROR;
      }
      dirs[n_dirs++] = optarg;
      break;
    case O_NOBUILTIN: builtin = 0; break;
    case O_IOCS: iocs = optarg; break;
    case O_DB: db = optarg; break;
    case O_NOIOCS: no_iocs = 1; break;
    case O_NOSIGHT: no_sightings = 1; break;
    case O_HOST: host = optarg; break;
    case O_LIST: list = 1; break;
    case O_COLOR:
      if (cli_parse_color(optarg, &color_mode)) {
        fprintf(stderr, "exhunt logs: --color wants auto, always or never\n");
        return EXIT_ERROR;
      }
      break;
    case 'j': {
      char *end;
      long v = strtol(optarg, &end, 10);
      if (*end || v < 1 || v > 16) {
        fprintf(stderr, "exhunt logs: --threads wants a number from 1 to 16\n");
        return EXIT_ERROR;
      }
      ho.threads = (unsigned)v;
      break;
    }
    default:
      fprintf(stderr, "Run 'exhunt logs --help' for the options.\n");
      return EXIT_ERROR;
    }
  }
  if (strcmp(format, "text") && strcmp(format, "jsonl")) {
    fprintf(stderr, "exhunt logs: --format wants text or jsonl\n");
    return EXIT_ERROR;
  }
  if (ho.since_ms >= 0 && ho.until_ms >= 0 && ho.since_ms > ho.until_ms) {
    fprintf(stderr, "exhunt logs: --since is after --until\n");
    return EXIT_ERROR;
  }
  if (optind >= argc && !list) {
    fprintf(stderr, "exhunt logs: give one or more log files or folders.\n"
                    "Run 'exhunt logs --help' for more.\n");
    return EXIT_ERROR;
  }
  exh_error err;
  exh_logrules *rules;
  if (exh_logrules_load(builtin, dirs, n_dirs, iocs, &rules, &err) != EXH_OK) {
    fprintf(stderr, "exhunt logs: %s\n", err.text);
    return EXIT_ERROR;
  }
  if (exh_logrules_count(rules) == 0) {
    fprintf(stderr, "exhunt logs: no rules to apply\n");
    exh_logrules_free(rules);
    return EXIT_ERROR;
  }
  if (list) {
    exh_logrules_list(rules, stdout);
    exh_logrules_free(rules);
    return EXIT_CLEAN;
  }
  exh_ioc_set *set = NULL;
  char dbpath[4096] = "";
  if (!no_iocs && load_store(db, dbpath, sizeof dbpath, &set) != EXIT_CLEAN) {
    exh_logrules_free(rules);
    return EXIT_ERROR;
  }
  const char *in = set && !no_sightings ? cli_store_in_evidence(dbpath, argv + optind, argc - optind)
                                        : NULL;
  if (in) {
    fprintf(stderr, "exhunt logs: the indicator store %s lies inside %s, which is read:\n"
                    "recording sightings would write into the evidence. Use --db FILE\n"
                    "elsewhere, or --no-sightings.\n", dbpath, in);
    exh_ioc_set_free(set);
    exh_logrules_free(rules);
    return EXIT_ERROR;
  }
  ho.iocs = set;
  progress pr = {.on = !quiet && isatty(STDERR_FILENO)};
  if (pr.on) {
    ho.progress = show_progress;
    ho.progress_ctx = &pr;
  }
  exh_loghunt *hunt;
  if (exh_loghunt_new(rules, &ho, &hunt, &err) != EXH_OK) {
    fprintf(stderr, "exhunt logs: %s\n", err.text);
    exh_logrules_free(rules);
    exh_ioc_set_free(set);
    return EXIT_ERROR;
  }
  int status = EXIT_CLEAN;
  for (int i = optind; i < argc; i++) {
    if (exh_loghunt_add(hunt, argv[i], &err) != EXH_OK) {
      fprintf(stderr, "exhunt logs: %s\n", err.text);
      status = EXIT_ERROR;
    }
  }
  if (exh_loghunt_run(hunt, &err) != EXH_OK) {
    fprintf(stderr, "exhunt logs: %s\n", err.text);
    exh_loghunt_free(hunt);
    exh_logrules_free(rules);
    exh_ioc_set_free(set);
    return EXIT_ERROR;
  }
  size_t n_sighted = 0;
  if (set && !no_sightings &&
      exh_loghunt_record_sightings(hunt, dbpath, host, &n_sighted, &err) != EXH_OK) {
    /* The findings still stand; only the record of them failed. */
    fprintf(stderr, "exhunt logs: %s\n", err.text);
    fprintf(stderr, "exhunt logs: the findings are complete; no sighting was recorded "
                    "(--no-sightings hunts without recording)\n");
    status = EXIT_ERROR;
  }
  exh_loghunt_stats st;
  exh_loghunt_get_stats(hunt, &st);
  if (st.files_failed) status = EXIT_ERROR;
  FILE *fp = stdout;
  if (!quiet && output && !(fp = fopen(output, "w"))) {
    perror(output);
    exh_loghunt_free(hunt);
    exh_logrules_free(rules);
    exh_ioc_set_free(set);
    return EXIT_ERROR;
  }
  if (!quiet) {
    /* The findings come out at once after the hunt, the process waiting on
     * them: to a pipe or file in 1 MiB writes, not stdio's 4 KiB (a reader
     * such as jq would otherwise be woken for each). Nothing was written
     * to fp before. */
    static char outbuf[1u << 20];
    if (!isatty(fileno(fp))) setvbuf(fp, outbuf, _IOFBF, sizeof outbuf);
    exh_output *out;
    unsigned flags = cli_use_color(color_mode, fileno(fp)) ? EXH_OUT_COLOR : 0;
    if (exh_output_new(format, fp, flags, -1, &out, &err) != EXH_OK) {
      fprintf(stderr, "exhunt logs: %s\n", err.text);
      status = EXIT_ERROR;
    } else {
      exh_loghunt_emit(hunt, out);
      if (exh_output_finish(out, &err) != EXH_OK) {
        fprintf(stderr, "exhunt logs: %s\n", err.text);
        status = EXIT_ERROR;
      }
      exh_output_free(out);
    }
    if (!strcmp(format, "text"))
      fprintf(fp, "%zu files (%zu skipped: not text logs), %.1f MB, %llu lines, %zu findings\n",
              st.files, st.files_skipped, (double)st.bytes / 1e6, (unsigned long long)st.lines,
              st.findings);
    if (!strcmp(format, "text") && set)
      fprintf(fp, "%zu indicators from %s, %zu sightings recorded\n", exh_ioc_set_size(set),
              dbpath, n_sighted);
    if (fp != stdout && fclose(fp) != 0) {
      perror(output);
      status = EXIT_ERROR;
    }
  }
  for (size_t i = 0; i < st.files && !quiet; i++) {
    const exh_error *fe = exh_loghunt_file_error(hunt, i);
    if (fe) fprintf(stderr, "exhunt logs: %s\n", fe->text);
  }
  if (status == EXIT_CLEAN && st.worst_severity >= EXH_SEV_LOW) status = EXIT_FINDINGS;
  exh_loghunt_free(hunt);
  exh_logrules_free(rules);
  exh_ioc_set_free(set);
  return status;
}
