/* exhunt ioc: the indicator store (import, list, stats, export, pull). */
#include "cli.h"

#include "core/internal.h" /* exhi_escape_terminal: evidence-safe printing */
#include "ioc/ioc.h"       /* exhi_ioc_prefilter_warm */

#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static void help(FILE *fp) {
  fputs("usage: exhunt ioc [--db FILE] COMMAND [OPTIONS] ...\n"
        "\n"
        "Keeps indicators of compromise (hashes, file names and paths, IP addresses,\n"
        "domains, URLs, user agents) in one SQLite store that remembers who\n"
        "published each one, for which actor or report, and when it was seen.\n"
        "`exhunt files` and `exhunt logs` look their evidence up in it.\n"
        "\n"
        "Commands:\n"
        "  import FILE...     read indicator files ('-': standard input) into the\n"
        "                     store; the format is\n"
        "                     told from the content: CSV (Microsoft MSTIC's\n"
        "                     DateAdded,FirstSeen,Indicator,IndicatorType,TLP;\n"
        "                     Volexity's value,type,notes; or a plain header with\n"
        "                     type,value and optionally source, actor, report,\n"
        "                     description, tags, confidence, first_seen, last_seen),\n"
        "                     a STIX 2.1 bundle, a MISP event, or a JSON list / JSON\n"
        "                     lines of {type, value, ...} or MSTIC's {Indicator, ...}\n"
        "  pull URL           fetch a feed over HTTPS and import it; sends the ETag /\n"
        "                     Last-Modified of the previous pull, so an unchanged\n"
        "                     feed costs one 304\n"
        "  list               print indicators (TYPE, VALUE, SOURCE, ACTOR, FIRST_SEEN,\n"
        "                     CONFIDENCE, tab-separated)\n"
        "  stats              count indicators per source, type and actor\n"
        "  lookup VALUE...    is this hash / IP / domain / URL / path in the store? ('-'\n"
        "                     reads one value per line); prints each hit with its\n"
        "                     source and actor; the type is guessed unless --type;\n"
        "                     a file name also finds the paths published with it\n"
        "  export             write the sightings (which indicator was seen where)\n"
        "\n"
        "Options for every command:\n"
        "      --db FILE      the store (default $XDG_DATA_HOME/exhunt/iocs.sqlite or\n"
        "                     ~/.local/share/exhunt/iocs.sqlite; created on first import)\n"
        "  -h, --help         this text\n"
        "import and pull:\n"
        "      --source NAME  record NAME as the publisher (default: the layout's\n"
        "                     publisher (microsoft-mstic, volexity), the file's own\n"
        "                     (STIX identity, MISP Orgc), else the file name / URL host)\n"
        "      --actor NAME   attribution for indicators the file attributes to no one\n"
        "pull:\n"
        "      --cacert FILE  trust the CA certificates in FILE instead of the system's\n"
        "      --retries N    attempts after a timeout or HTTP 5xx/429 (default 3)\n"
        "      --retry-delay MS  wait before the first retry, doubled each time\n"
        "                     (default 1000)\n"
        "      --force        ignore the stored ETag / Last-Modified\n"
        "list and lookup:\n"
        "  -t, --type TYPE    sha256 sha1 md5 filename filepath ipv4 ipv6 domain url\n"
        "                     user-agent\n"
        "      --source NAME, --actor NAME   only those\n"
        "  -f, --format FMT   text (default) or jsonl\n"
        "export:\n"
        "  -f, --format FMT   csv (default) or stix (a STIX 2.1 bundle)\n"
        "  -o, --output FILE  write there instead of standard output\n"
        "\n"
        "Each file is imported in one transaction: an error (or a kill) leaves the\n"
        "store as it was. Importing a file again updates its indicators and never\n"
        "duplicates them (one row per source, type and value).\n"
        "\n"
        "An import or pull that changed the store also builds the hunts' prefilter of\n"
        "its values and caches it (~10 s for 100 000 values), so that the next\n"
        "`exhunt logs` / `exhunt check` starts at once instead of compiling it.\n"
        "\n"
        "Exit status: 0 done (list: something listed; lookup: no value known),\n"
        "1 list found nothing / lookup found a known indicator, 2 an error (the other\n"
        "files are still imported).\n"
        "\n"
        "Examples:\n"
        "  exhunt ioc import MSTICIoCs-ExchangeServerVulnerabilitiesDisclosedMarch2021.csv\n"
        "  exhunt ioc import --actor HAFNIUM volexity-indicators.csv\n"
        "  exhunt ioc pull https://example.org/feeds/exchange.stix.json\n"
        "  exhunt ioc list --type sha256 --source microsoft-mstic\n"
        "  exhunt ioc lookup 103.77.192.219 2b9838da7edb0decd32b086e47a31e8f5733b5981ad8247a2f9508e232589bff\n"
        "  exhunt ioc export --format stix -o sightings.json\n",
        fp);
}

typedef struct opts {
  const char *db, *source, *actor, *format, *output, *cacert;
  int type, retries;
  long retry_delay_ms;
  bool force;
} opts;

static void put(FILE *fp, const char *s) {
  char buf[4 * EXH_IOC_VALUE_MAX + 16];
  exhi_escape_terminal(s ? s : "", buf, sizeof buf);
  fputs(buf, fp);
}

static int open_store(const opts *o, unsigned flags, exh_ioc_store **s) {
  char path[4096];
  exh_error err;
  const char *p = o->db;
  if (!p) {
    if (exh_ioc_default_path(path, sizeof path, &err) != EXH_OK) {
      fprintf(stderr, "exhunt ioc: %s\n", err.text);
      return EXIT_ERROR;
    }
    p = path;
  }
  if (exh_ioc_store_open(p, flags, s, &err) != EXH_OK) {
    fprintf(stderr, "exhunt ioc: %s\n", err.text);
    if (err.code == EXH_ERR_NOTFOUND)
      fprintf(stderr, "exhunt ioc: import indicators first: exhunt ioc import FILE\n");
    return EXIT_ERROR;
  }
  return EXIT_CLEAN;
}

static void print_stats(const char *label, const exh_ioc_import_stats *st) {
  size_t kept = st->added + st->updated + st->unchanged;
  printf("%s: %s: %zu indicators (%zu new, %zu updated, %zu unchanged), %zu skipped",
         label, st->format, kept, st->added, st->updated, st->unchanged, st->skipped);
  const char *sep = "; ";
  for (int t = 1; t < EXH_IOC_TYPE_COUNT; t++)
    if (st->per_type[t]) {
      printf("%s%s %zu", sep, exh_ioc_type_name(t), st->per_type[t]);
      sep = ", ";
    }
  putchar('\n');
  if (st->first_skip[0]) {
    printf("  first skipped: ");
    put(stdout, st->first_skip);
    putchar('\n');
  }
}

/* Standard input, bounded like a file. */
static int read_stdin(char **buf, size_t *len, exh_error *err) {
  size_t cap = 1 << 16;
  char *b = malloc(cap);
  *len = 0;
  while (b) {
    if (*len == cap) {
      if (cap > EXH_IOC_IMPORT_MAX_BYTES) {
        free(b);
        err->code = EXH_ERR_LIMIT;
        snprintf(err->text, sizeof err->text, "stdin: more than %u bytes", EXH_IOC_IMPORT_MAX_BYTES);
        return EXH_ERR_LIMIT;
      }
      char *nb = realloc(b, cap * 2);
      if (!nb) break;
      b = nb;
      cap *= 2;
    }
    size_t n = fread(b + *len, 1, cap - *len, stdin);
    *len += n;
    if (n == 0) {
      if (ferror(stdin)) {
        free(b);
        err->code = EXH_ERR_IO;
        snprintf(err->text, sizeof err->text, "stdin: read error");
        return EXH_ERR_IO;
      }
      *buf = b;
      return EXH_OK;
    }
  }
  free(b);
  err->code = EXH_ERR_NOMEM;
  snprintf(err->text, sizeof err->text, "stdin: out of memory");
  return EXH_ERR_NOMEM;
}

/* The store changed: build the hunts' prefilter of its values now, so the
 * next `exhunt logs` / `check` loads it from the cache instead of pausing
 * to compile it. A failure costs that hunt the compile, nothing else: a
 * warning, and the import stands. */
static void warm_prefilter(exh_ioc_store *s, const char *cmd) {
  size_t n;
  int compiled;
  exh_error err;
  if (exhi_ioc_prefilter_warm(s, isatty(STDERR_FILENO), &n, &compiled, &err) != EXH_OK)
    fprintf(stderr, "exhunt ioc %s: warning: the hunts' indicator prefilter was not built "
                    "(the next hunt builds it): %s\n", cmd, err.text);
}

static int do_import(const opts *o, int argc, char **argv) {
  if (argc == 0) {
    fprintf(stderr, "exhunt ioc import: no file given\n");
    return EXIT_ERROR;
  }
  exh_ioc_store *s;
  int rc = open_store(o, 0, &s);
  if (rc) return rc;
  exh_ioc_import_opts io = {.source = o->source, .actor = o->actor};
  int changed = 0;
  for (int i = 0; i < argc; i++) {
    exh_ioc_import_stats st;
    exh_error err;
    int r;
    if (!strcmp(argv[i], "-")) {
      char *buf = NULL;
      size_t len = 0;
      r = read_stdin(&buf, &len, &err);
      if (r == EXH_OK) r = exh_ioc_import_buffer(s, "stdin", buf, len, &io, &st, &err);
      free(buf);
    } else {
      r = exh_ioc_import_file(s, argv[i], &io, &st, &err);
    }
    if (r != EXH_OK) {
      fprintf(stderr, "exhunt ioc import: %s (nothing imported from it)\n", err.text);
      rc = EXIT_ERROR;
      continue;
    }
    char label[512];
    exhi_escape_terminal(strcmp(argv[i], "-") ? argv[i] : "stdin", label, sizeof label);
    print_stats(label, &st);
    if (st.added || st.updated) changed = 1;
  }
  if (changed) warm_prefilter(s, "import");
  exh_ioc_store_close(s);
  return rc;
}

typedef struct list_ctx {
  bool jsonl;
  size_t n;
} list_ctx;

static int list_one(void *ctx, const exh_ioc *i) {
  list_ctx *l = ctx;
  l->n++;
  if (l->jsonl) {
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "type",
                          exh_ioc_type_name(i->type), "value", i->value, "source", i->source,
                          "actor", i->actor, "report", i->report, "description", i->description,
                          "tags", i->tags, "first_seen", i->first_seen, "last_seen", i->last_seen);
    if (o) {
      if (i->confidence >= 0) json_object_set_new(o, "confidence", json_integer(i->confidence));
      char *t = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
      if (t) puts(t);
      free(t);
      json_decref(o);
    }
    return 0;
  }
  put(stdout, exh_ioc_type_name(i->type));
  putchar('\t');
  put(stdout, i->value);
  putchar('\t');
  put(stdout, i->source);
  putchar('\t');
  put(stdout, *i->actor ? i->actor : "-");
  putchar('\t');
  put(stdout, *i->first_seen ? i->first_seen : "-");
  if (i->confidence >= 0) printf("\t%d\n", i->confidence);
  else fputs("\t-\n", stdout);
  return 0;
}

static int do_list(const opts *o) {
  if (o->format && strcmp(o->format, "text") && strcmp(o->format, "jsonl")) {
    fprintf(stderr, "exhunt ioc list: --format takes text or jsonl\n");
    return EXIT_ERROR;
  }
  exh_ioc_store *s;
  int rc = open_store(o, EXH_IOC_READONLY, &s);
  if (rc) return rc;
  list_ctx l = {.jsonl = o->format && !strcmp(o->format, "jsonl")};
  exh_ioc_filter f = {.type = o->type, .source = o->source, .actor = o->actor};
  exh_error err;
  if (exh_ioc_store_list(s, &f, list_one, &l, &err) != EXH_OK) {
    fprintf(stderr, "exhunt ioc list: %s\n", err.text);
    rc = EXIT_ERROR;
  } else {
    rc = l.n ? EXIT_CLEAN : EXIT_FINDINGS;
  }
  exh_ioc_store_close(s);
  return rc;
}

static int stats_one(void *ctx, const char *key, int64_t n) {
  (void)ctx;
  printf("  %8lld  ", (long long)n);
  put(stdout, *key ? key : "(none)");
  putchar('\n');
  return 0;
}

static int do_stats(const opts *o) {
  exh_ioc_store *s;
  int rc = open_store(o, EXH_IOC_READONLY, &s);
  if (rc) return rc;
  static const char *const groups[] = {"source", "type", "actor"};
  for (size_t g = 0; g < 3; g++) {
    printf("%sper %s:\n", g ? "\n" : "", groups[g]);
    exh_error err;
    if (exh_ioc_store_count(s, groups[g], stats_one, NULL, &err) != EXH_OK) {
      fprintf(stderr, "exhunt ioc stats: %s\n", err.text);
      rc = EXIT_ERROR;
      break;
    }
  }
  exh_ioc_store_close(s);
  return rc;
}

static int do_export(const opts *o) {
  const char *format = o->format ? o->format : "csv";
  if (strcmp(format, "csv") && strcmp(format, "stix")) {
    fprintf(stderr, "exhunt ioc export: --format takes csv or stix\n");
    return EXIT_ERROR;
  }
  exh_ioc_store *s;
  int rc = open_store(o, EXH_IOC_READONLY, &s);
  if (rc) return rc;
  FILE *fp = stdout;
  if (o->output && !(fp = fopen(o->output, "w"))) {
    perror(o->output);
    exh_ioc_store_close(s);
    return EXIT_ERROR;
  }
  size_t n = 0;
  exh_error err;
  if (exh_ioc_store_export(s, format, fp, &n, &err) != EXH_OK) {
    fprintf(stderr, "exhunt ioc export: %s\n", err.text);
    rc = EXIT_ERROR;
  }
  if (fp != stdout ? fclose(fp) != 0 : fflush(fp) != 0) {
    perror(o->output ? o->output : "stdout");
    rc = EXIT_ERROR;
  }
  if (!rc && o->output) fprintf(stderr, "exhunt ioc export: %zu sightings\n", n);
  exh_ioc_store_close(s);
  return rc;
}

/* One value as a user gives it: every hit, one line each. */
/* The end of a lookup line: "\tsource\tactor\treport\n" of the indicator. */
static void put_origin(const exh_ioc *h) {
  putchar('\t');
  put(stdout, h->source);
  putchar('\t');
  put(stdout, *h->actor ? h->actor : "-");
  putchar('\t');
  put(stdout, *h->report ? h->report : "-");
  putchar('\n');
}

static size_t lookup_one(const exh_ioc_set *set, int type, const char *v, size_t len) {
  int types[2] = {type ? type : exh_ioc_type_detect(v, len), 0};
  /* A path may be published as a path or only by its name. */
  if (!type && types[0] == EXH_IOC_FILEPATH) types[1] = EXH_IOC_FILENAME;
  size_t total = 0;
  for (int k = 0; k < 2 && types[k]; k++) {
    const exh_ioc *h;
    size_t n = exh_ioc_set_lookup(set, types[k], v, len, &h);
    for (size_t i = 0; i < n; i++) {
      put(stdout, v);
      putchar('\t');
      put(stdout, exh_ioc_type_name(h[i].type));
      put_origin(&h[i]);
    }
    total += n;
  }
  /* A name alone also finds the paths published with that name. */
  int t0 = types[0];
  if (t0 == EXH_IOC_FILENAME || t0 == EXH_IOC_FILEPATH) {
    const exh_ioc *h;
    size_t n = exh_ioc_set_lookup_path_name(set, v, len, &h);
    for (size_t i = 0; i < n; i++) {
      /* the exact path was printed above already */
      const exh_ioc *x;
      if (t0 == EXH_IOC_FILEPATH && exh_ioc_set_lookup(set, EXH_IOC_FILEPATH, v, len, &x) &&
          !strcmp(x->value, h[i].value))
        continue;
      put(stdout, v);
      fputs("\tname of ", stdout);
      put(stdout, h[i].value);
      put_origin(&h[i]);
      total++;
    }
  }
  return total;
}

/* A value on standard input: a hash, a URL, a path; 8 KiB covers them. */
#define LOOKUP_LINE_MAX 8192

static int do_lookup(const opts *o, int argc, char **argv) {
  if (argc == 0) {
    fprintf(stderr, "exhunt ioc lookup: give values, or '-' to read one per line\n");
    return EXIT_ERROR;
  }
  exh_ioc_store *s;
  int rc = open_store(o, EXH_IOC_READONLY, &s);
  if (rc) return rc;
  exh_ioc_set *set;
  exh_error err;
  rc = exh_ioc_set_load(s, &set, &err);
  exh_ioc_store_close(s);
  if (rc != EXH_OK) {
    fprintf(stderr, "exhunt ioc lookup: %s\n", err.text);
    return EXIT_ERROR;
  }
  size_t hits = 0;
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "-") != 0) {
      hits += lookup_one(set, o->type, argv[i], strlen(argv[i]));
      continue;
    }
    static char line[LOOKUP_LINE_MAX + 2];
    while (fgets(line, sizeof line, stdin)) {
      size_t len = strlen(line);
      while (len && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = '\0';
      if (len) hits += lookup_one(set, o->type, line, len);
    }
  }
  exh_ioc_set_free(set);
  if (fflush(stdout) != 0) {
    perror("stdout");
    return EXIT_ERROR;
  }
  return hits ? EXIT_FINDINGS : EXIT_CLEAN;
}

static int do_pull(const opts *o, int argc, char **argv) {
  if (argc != 1) {
    fprintf(stderr, "exhunt ioc pull: give one URL\n");
    return EXIT_ERROR;
  }
  exh_ioc_store *s;
  int rc = open_store(o, 0, &s);
  if (rc) return rc;
  exh_ioc_pull_opts po = {.cacert = o->cacert, .retries = o->retries, .backoff_ms = o->retry_delay_ms,
                          .force = o->force, .import = {.source = o->source, .actor = o->actor}};
  exh_ioc_pull_result res;
  exh_error err;
  char label[512];
  exhi_escape_terminal(argv[0], label, sizeof label);
  if (!strncasecmp(argv[0], "http://", 7))
    fprintf(stderr, "exhunt ioc pull: warning: %s is plain HTTP: anyone on the way can change "
                    "the indicators; prefer https://\n", label);
  if (exh_ioc_pull(s, argv[0], &po, &res, &err) != EXH_OK) {
    fprintf(stderr, "exhunt ioc pull: %s\n", err.text);
    rc = EXIT_ERROR;
  } else if (res.not_modified) {
    printf("%s: not modified since the last pull (HTTP 304): nothing to import\n", label);
  } else {
    print_stats(label, &res.stats);
    if (res.stats.added || res.stats.updated) warm_prefilter(s, "pull");
  }
  exh_ioc_store_close(s);
  return rc;
}

int cmd_ioc(int argc, char **argv) {
  static const struct option lopts[] = {
      {"db", required_argument, NULL, 'd'},     {"source", required_argument, NULL, 's'},
      {"actor", required_argument, NULL, 'a'},  {"type", required_argument, NULL, 't'},
      {"format", required_argument, NULL, 'f'}, {"output", required_argument, NULL, 'o'},
      {"cacert", required_argument, NULL, 'C'}, {"retries", required_argument, NULL, 'r'},
      {"force", no_argument, NULL, 'F'},        {"help", no_argument, NULL, 'h'},
      {"retry-delay", required_argument, NULL, 'R'},
      {NULL, 0, NULL, 0}};
  opts o = {.retries = 3, .retry_delay_ms = 1000};
  const char *sub = NULL;
  char *rest[256];
  int nrest = 0;
  optind = 1;
  opterr = 0;
  /* Options may come before or after the command; non-options in order. */
  while (optind < argc) {
    int c = getopt_long(argc, argv, "+t:f:o:h", lopts, NULL);
    if (c == -1) {
      if (!sub) sub = argv[optind];
      else if (nrest < (int)EXHI_ARRAY_LEN(rest)) rest[nrest++] = argv[optind];
      else {
        fprintf(stderr, "exhunt ioc: more than %zu arguments\n", EXHI_ARRAY_LEN(rest));
        return EXIT_ERROR;
      }
      optind++;
      continue;
    }
    switch (c) {
    case 'd': o.db = optarg; break;
    case 's': o.source = optarg; break;
    case 'a': o.actor = optarg; break;
    case 'f': o.format = optarg; break;
    case 'o': o.output = optarg; break;
    case 'C': o.cacert = optarg; break;
    case 'F': o.force = true; break;
    case 't':
      o.type = exh_ioc_type_from_name(optarg);
      if (!o.type) {
        fprintf(stderr, "exhunt ioc: --type takes sha256, sha1, md5, filename, filepath, "
                        "ipv4, ipv6, domain, url or user-agent\n");
        return EXIT_ERROR;
      }
      break;
    case 'r': {
      char *end;
      long v = strtol(optarg, &end, 10);
      if (*end || v < 0 || v > 10) {
        fprintf(stderr, "exhunt ioc: --retries takes 0 to 10\n");
        return EXIT_ERROR;
      }
      o.retries = (int)v;
      break;
    }
    case 'R': {
      char *end;
      long v = strtol(optarg, &end, 10);
      if (*end || v < 0 || v > 60000) {
        fprintf(stderr, "exhunt ioc: --retry-delay takes 0 to 60000 (milliseconds)\n");
        return EXIT_ERROR;
      }
      o.retry_delay_ms = v;
      break;
    }
    case 'h': help(stdout); return EXIT_CLEAN;
    default:
      fprintf(stderr, "exhunt ioc: %s '%s'\nRun 'exhunt ioc --help' for the options.\n",
              optopt ? "option needs a value or is unknown:" : "unknown option",
              optopt ? (char[]){'-', (char)optopt, 0} : argv[optind - 1]);
      return EXIT_ERROR;
    }
  }
  if (!sub) {
    fprintf(stderr, "exhunt ioc: no command (import, pull, list, stats, lookup, export).\n"
                    "Run 'exhunt ioc --help' for more.\n");
    return EXIT_ERROR;
  }
  if (!strcmp(sub, "import")) return do_import(&o, nrest, rest);
  if (!strcmp(sub, "pull")) return do_pull(&o, nrest, rest);
  if (!strcmp(sub, "lookup")) return do_lookup(&o, nrest, rest);
  if (nrest) {
    fprintf(stderr, "exhunt ioc %s: takes no arguments, only options\n", sub);
    return EXIT_ERROR;
  }
  if (!strcmp(sub, "list")) return do_list(&o);
  if (!strcmp(sub, "stats")) return do_stats(&o);
  if (!strcmp(sub, "export")) return do_export(&o);
  char esc[128];
  exhi_escape_terminal(sub, esc, sizeof esc);
  fprintf(stderr, "exhunt ioc: unknown command '%s' (import, pull, list, stats, lookup, export)\n", esc);
  return EXIT_ERROR;
}
