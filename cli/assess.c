/* exhunt assess: build -> update level, open CVEs, what to install. */
#include "cli.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One stdin line: a build string as pasted, or a CMDB export row. */
#define LINE_MAX_BYTES 4096

static void help(FILE *fp) {
  fputs("usage: exhunt assess [OPTIONS] INPUT...\n"
        "\n"
        "Tells from an Exchange build which update level a server is at, which CVEs\n"
        "are open on it (ProxyLogon, ProxyShell, ProxyNotShell named as such) and\n"
        "what to install. Works offline, from exhunt's built-in tables.\n"
        "\n"
        "INPUT is any of:\n"
        "  15.1.2176.2, 15.01.2176.002      a build number, short or long form\n"
        "  \"Version 15.1 (Build 2176.2)\"    AdminDisplayVersion (shows the CU only)\n"
        "  PATH/ExSetup.exe                 the version resource of ExSetup.exe: the\n"
        "                                   only source of the exact update level\n"
        "  PATH                             an Exchange install folder or a mounted\n"
        "                                   system volume (Bin/ExSetup.exe is found)\n"
        "  PAGE.html                        a saved OWA logon page (CU level only)\n"
        "  -                                one input per line on standard input\n"
        "A name without '/' that reads as a build number is taken as one; write\n"
        "./NAME for a file or folder named like that.\n"
        "\n"
        "Options:\n"
        "  -f, --format FMT   text (default) or jsonl (one JSON object per line, ECS names)\n"
        "  -o, --output FILE  write there instead of standard output\n"
        "      --brief        one line per input (the default when reading '-')\n"
        "      --detail       the full report for each input, also with '-'\n"
        "      --data DIR     read newer tables (builds.csv, cves.csv, campaigns.csv,\n"
        "                     products.csv) from DIR; files not there stay built in\n"
        "      --as-of DATE   judge support status at DATE (YYYY-MM-DD), not today\n"
        "      --color WHEN   auto (default), always or never; NO_COLOR is honoured\n"
        "  -q, --quiet        print nothing; only the exit status\n"
        "  -h, --help         this text\n"
        "\n"
        "Exit status: 0 no finding (the build has no open CVE and is supported),\n"
        "1 findings (open CVEs, update level unknown, out of support, unknown build),\n"
        "2 an input could not be read (the others are still assessed).\n"
        "\n"
        "Examples:\n"
        "  exhunt assess 15.1.2176.2\n"
        "  exhunt assess /mnt/evidence/C\n"
        "  exhunt assess --format jsonl - < builds.txt\n",
        fp);
}

/* A list from a scan or a CMDB repeats a few hundred builds a million times:
 * assessing each distinct build once keeps '-' at the speed of parsing.
 * Bounded so that hostile input (a million distinct builds) costs memory
 * for CACHE_SLOTS assessments at most; past that, lines are assessed anew. */
#define CACHE_SLOTS 4096

typedef struct cache_slot {
  exh_build build;
  int precision;
  exh_assessment *a; /* owned; NULL: empty slot */
  int severity;
} cache_slot;

typedef struct run {
  cache_slot *cache; /* CACHE_SLOTS entries, or NULL when not caching */
  exh_kb *kb;
  exh_output *out;
  const char *as_of;
  int worst;       /* highest exit status so far */
  bool quiet;
} run;

static void report_error(run *r, const char *input, const exh_error *e) {
  if (r->worst < EXIT_ERROR) r->worst = EXIT_ERROR;
  if (r->quiet) return;
  exh_output_input_error(r->out, input, e);
  fprintf(stderr, "exhunt assess: %s\n", e->text);
}

static size_t cache_index(const exh_build *b, int precision) {
  uint64_t h = (uint64_t)b->major * 0x9E3779B97F4A7C15u;
  h = (h ^ b->minor) * 0x9E3779B97F4A7C15u;
  h = (h ^ b->build) * 0x9E3779B97F4A7C15u;
  h = (h ^ b->revision) * 0x9E3779B97F4A7C15u;
  h = (h ^ (uint64_t)(b->parts * 2 + precision)) * 0x9E3779B97F4A7C15u;
  return (size_t)(h >> 52) % CACHE_SLOTS;
}

static bool same_key(const cache_slot *s, const exh_build *b, int precision) {
  return s->a && s->precision == precision && s->build.parts == b->parts &&
         s->build.major == b->major && s->build.minor == b->minor && s->build.build == b->build &&
         s->build.revision == b->revision;
}

static void cache_free(cache_slot *cache) {
  if (!cache) return;
  for (size_t i = 0; i < CACHE_SLOTS; i++) exh_assessment_free(cache[i].a);
  free(cache);
}

static void assess_one(run *r, const char *input, const char *label) {
  exh_input_build in;
  exh_error err;
  if (exh_input_read(input, &in, &err) != EXH_OK) {
    report_error(r, label, &err);
    return;
  }
  /* A slot holding another build is replaced: the newest wins, as in a
   * direct-mapped cache; the assessment is a pure function of its key. */
  cache_slot *slot = r->cache ? &r->cache[cache_index(&in.build, in.precision)] : NULL;
  exh_assessment *a;
  int severity;
  if (slot && same_key(slot, &in.build, in.precision)) {
    a = slot->a;
    severity = slot->severity;
  } else {
    if (exh_assess(r->kb, &in.build, in.precision, r->as_of, &a, &err) != EXH_OK) {
      report_error(r, label, &err);
      return;
    }
    severity = exh_assessment_severity(a);
    if (slot) {
      exh_assessment_free(slot->a);
      *slot = (cache_slot){.build = in.build, .precision = in.precision, .a = a, .severity = severity};
    }
  }
  if (!r->quiet && exh_output_assessment(r->out, label, &in, a) != EXH_OK) {
    exh_error werr;
    exh_output_finish(r->out, &werr);
    report_error(r, label, &werr);
  }
  /* Findings of severity low and above call for the user's attention. */
  if (severity >= EXH_SEV_LOW && r->worst < EXIT_FINDINGS) r->worst = EXIT_FINDINGS;
  if (!slot) exh_assessment_free(a);
}

static void assess_stdin(run *r) {
  char line[LINE_MAX_BYTES + 2];
  long long n = 0;
  while (fgets(line, sizeof line, stdin)) {
    n++;
    size_t len = strlen(line);
    bool complete = len && line[len - 1] == '\n';
    if (!complete && !feof(stdin)) {
      int c;
      while ((c = getchar()) != EOF && c != '\n') {}
      exh_error e = {.code = EXH_ERR_LIMIT};
      snprintf(e.text, sizeof e.text, "stdin: line %lld: longer than %d bytes", n, LINE_MAX_BYTES);
      report_error(r, "stdin", &e);
      continue;
    }
    while (len && (line[len - 1] == '\n' || line[len - 1] == '\r' || line[len - 1] == ' ' ||
                   line[len - 1] == '\t'))
      line[--len] = '\0';
    char *s = line;
    while (*s == ' ' || *s == '\t') s++;
    if (!*s || *s == '#') continue;
    if (memchr(line, '\0', len) != NULL && strlen(line) != len) {
      exh_error e = {.code = EXH_ERR_PARSE};
      snprintf(e.text, sizeof e.text, "stdin: line %lld: NUL byte", n);
      report_error(r, "stdin", &e);
      continue;
    }
    assess_one(r, s, s);
  }
  if (ferror(stdin)) {
    exh_error e = {.code = EXH_ERR_IO};
    snprintf(e.text, sizeof e.text, "stdin: read error after line %lld", n);
    report_error(r, "stdin", &e);
  }
}

int cmd_assess(int argc, char **argv) {
  static const struct option opts[] = {
      {"format", required_argument, NULL, 'f'}, {"output", required_argument, NULL, 'o'},
      {"brief", no_argument, NULL, 'b'},        {"detail", no_argument, NULL, 'D'},
      {"data", required_argument, NULL, 'd'},   {"as-of", required_argument, NULL, 'a'},
      {"color", required_argument, NULL, 'c'},  {"colour", required_argument, NULL, 'c'},
      {"quiet", no_argument, NULL, 'q'},        {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  const char *format = "text", *output = NULL, *data = NULL, *as_of = NULL;
  int brief = -1, color = 0, c;
  bool quiet = false;
  optind = 1;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "+f:o:qh", opts, NULL)) != -1) {
    switch (c) {
    case 'f': format = optarg; break;
    case 'o': output = optarg; break;
    case 'b': brief = 1; break;
    case 'D': brief = 0; break;
    case 'd': data = optarg; break;
    case 'a': as_of = optarg; break;
    case 'c':
      if (cli_parse_color(optarg, &color)) {
        fprintf(stderr, "exhunt assess: --color takes auto, always or never\n");
        return EXIT_ERROR;
      }
      break;
    case 'q': quiet = true; break;
    case 'h': help(stdout); return EXIT_CLEAN;
    default:
      fprintf(stderr, "exhunt assess: %s '%s'\nRun 'exhunt assess --help' for the options.\n",
              optopt ? "option needs a value or is unknown:" : "unknown option",
              optopt ? (char[]){'-', (char)optopt, 0} : argv[optind - 1]);
      return EXIT_ERROR;
    }
  }
  if (optind >= argc) {
    fprintf(stderr, "exhunt assess: no input. Give a build (15.1.2176.2), a path, or '-'.\n"
                    "Run 'exhunt assess --help' for more.\n");
    return EXIT_ERROR;
  }
  if (strcmp(format, "text") && strcmp(format, "jsonl")) {
    fprintf(stderr, "exhunt assess: --format takes text or jsonl, not '%s'\n", format);
    return EXIT_ERROR;
  }
  int stdin_count = 0;
  for (int i = optind; i < argc; i++) stdin_count += !strcmp(argv[i], "-");
  if (stdin_count > 1) {
    fprintf(stderr, "exhunt assess: '-' (standard input) may be given once\n");
    return EXIT_ERROR;
  }
  run r = {.as_of = as_of, .quiet = quiet};
  exh_error err;
  if (exh_kb_load(data, &r.kb, &err) != EXH_OK) {
    fprintf(stderr, "exhunt assess: %s\n", err.text);
    return EXIT_ERROR;
  }
  if (as_of) {
    exh_assessment *probe;
    exh_build b = {15, 2, 0, 0, 4};
    if (exh_assess(r.kb, &b, EXH_PRECISION_EXACT, as_of, &probe, &err) != EXH_OK) {
      fprintf(stderr, "exhunt assess: --as-of: %s\n", err.text);
      exh_kb_free(r.kb);
      return EXIT_ERROR;
    }
    exh_assessment_free(probe);
  }
  FILE *fp = stdout;
  if (output && !quiet) {
    fp = fopen(output, "w");
    if (!fp) {
      perror(output);
      exh_kb_free(r.kb);
      return EXIT_ERROR;
    }
  }
  unsigned flags = 0;
  if (brief == 1 || (brief == -1 && stdin_count)) flags |= EXH_OUT_BRIEF;
  if (!strcmp(format, "text") && cli_use_color(color, fileno(fp))) flags |= EXH_OUT_COLOR;
  if (exh_output_new(format, fp, flags, -1, &r.out, &err) != EXH_OK) {
    fprintf(stderr, "exhunt assess: %s\n", err.text);
    exh_kb_free(r.kb);
    return EXIT_ERROR;
  }
  /* Without the cache '-' still works, only slower. */
  if (stdin_count) r.cache = calloc(CACHE_SLOTS, sizeof *r.cache);
  for (int i = optind; i < argc; i++) {
    if (!strcmp(argv[i], "-")) assess_stdin(&r);
    else assess_one(&r, argv[i], argv[i]);
  }
  if (exh_output_finish(r.out, &err) != EXH_OK) {
    fprintf(stderr, "exhunt assess: %s\n", err.text);
    r.worst = EXIT_ERROR;
  }
  exh_output_free(r.out);
  cache_free(r.cache);
  if (fp != stdout && fclose(fp) != 0) {
    perror(output);
    r.worst = EXIT_ERROR;
  }
  exh_kb_free(r.kb);
  return r.worst;
}
