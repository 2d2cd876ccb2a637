/* exhunt files: web shells, ransomware, dumps and staged archives on disk. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --yara may be given this often; each can be a folder of rules. */
#define MAX_YARA_ARGS 64

static void help(FILE *fp) {
  fputs("usage: exhunt files [OPTIONS] PATH...\n"
        "\n"
        "Scans an Exchange server's disk - a mounted system volume, an Exchange install\n"
        "folder, a triage collection or single files - for what the attackers of\n"
        "2021 and after left behind: web shells (China Chopper, OAB configuration\n"
        "shells, ASPXSpy, pages in owa\\auth, ecp\\auth and aspnet_client), DearCry and\n"
        "Black Kingdom notes and encrypted files, LSASS dumps, archives staged in\n"
        "ProgramData, mailbox exports in web folders, post-exploitation tools.\n"
        "\n"
        "Each file is read once: SHA-256, the bundled YARA rules (rules/yara/) and the\n"
        "path rules (rules/files/paths.csv) run on the same bytes. Nothing is written to\n"
        "the evidence; files are opened without updating their access time where the\n"
        "system allows it; symbolic links are never followed, special files never opened.\n"
        "Folder names are compared case-insensitively, as Windows does.\n"
        "\n"
        "Options:\n"
        "  -f, --format FMT    text (default) or jsonl (one JSON object per line, ECS names:\n"
        "                      file.path, file.hash.sha256, rule.id, threat.technique.id)\n"
        "  -o, --output FILE   write there instead of standard output\n"
        "  -y, --yara PATH     add YARA rules: a .yar file, a compiled file (yarac), or a\n"
        "                      folder of them; may be repeated\n"
        "      --no-builtin    use only the --yara rules (no bundled YARA or path rules)\n"
        "  -j, --threads N     worker threads (default: one per CPU)\n"
        "      --list-rules    print the rules (id, severity, kind, title, source) and exit\n"
        "      --max-size SIZE files larger than SIZE (e.g. 512M, 2G) are hashed but not\n"
        "                      given to YARA (default 128M; Exchange databases are larger)\n"
        "      --color WHEN    auto (default), always or never; NO_COLOR is honoured\n"
        "  -q, --quiet         print nothing; only the exit status\n"
        "  -h, --help          this text\n"
        "\n"
        "A summary (files, bytes, findings, unreadable files) goes to standard error.\n"
        "\n"
        "Exit status: 0 nothing found, 1 findings, 2 an error (a path or some file\n"
        "could not be read: the rest is still scanned and reported).\n"
        "\n"
        "Examples:\n"
        "  exhunt files /mnt/evidence/C\n"
        "  exhunt files --format jsonl -o files.jsonl /mnt/evidence/C\n"
        "  exhunt files --yara ~/rules/ \"/mnt/c/Program Files/Microsoft/Exchange Server/V15\"\n",
        fp);
}

typedef struct run {
  exh_output *out;
  bool quiet;
  int worst;
  int write_failed;
} run;

static int on_finding(void *ctx, const exh_finding *f) {
  run *r = ctx;
  if (r->worst < EXIT_FINDINGS) r->worst = EXIT_FINDINGS;
  if (r->quiet) return EXH_OK;
  int rc = exh_output_finding(r->out, f);
  if (rc != EXH_OK) r->write_failed = 1;
  return rc;
}

static void on_error(void *ctx, const exh_error *e) {
  run *r = ctx;
  r->worst = EXIT_ERROR;
  if (r->quiet) return;
  exh_output_input_error(r->out, "files", e);
  fprintf(stderr, "exhunt files: ");
  /* e->text escapes the evidence names already (exhi_err). */
  fputs(e->text, stderr);
  fputc('\n', stderr);
}

static int parse_size(const char *s, uint64_t *out) {
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || end == s || *s == '-') return -1;
  unsigned shift = 0;
  if (*end == 'k' || *end == 'K') shift = 10, end++;
  else if (*end == 'm' || *end == 'M') shift = 20, end++;
  else if (*end == 'g' || *end == 'G') shift = 30, end++;
  if (*end || v == 0 || v > (UINT64_MAX >> shift)) return -1;
  *out = (uint64_t)v << shift;
  return 0;
}

/* One line per rule, tab-separated; user rules are input, so anything but
 * printable ASCII is written as \xNN. */
static int list_rules(exh_files *fs) {
  exh_files_rule r;
  for (size_t i = 0; exh_files_rule_get(fs, i, &r) == EXH_OK; i++) {
    const char *cols[] = {r.id, exh_severity_name(r.severity), r.kind, r.name, r.source};
    for (size_t k = 0; k < sizeof cols / sizeof *cols; k++) {
      if (k) putchar('\t');
      for (const char *p = cols[k]; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f) printf("\\x%02x", (unsigned char)*p);
        else putchar(*p);
    }
    putchar('\n');
  }
  exh_files_free(fs);
  return fflush(stdout) == 0 ? EXIT_CLEAN : EXIT_ERROR;
}

int cmd_files(int argc, char **argv) {
  static const struct option opts[] = {
      {"format", required_argument, NULL, 'f'}, {"output", required_argument, NULL, 'o'},
      {"yara", required_argument, NULL, 'y'},   {"no-builtin", no_argument, NULL, 'N'},
      {"threads", required_argument, NULL, 'j'}, {"max-size", required_argument, NULL, 'M'},
      {"color", required_argument, NULL, 'c'},  {"colour", required_argument, NULL, 'c'},
      {"quiet", no_argument, NULL, 'q'},        {"help", no_argument, NULL, 'h'},
      {"list-rules", no_argument, NULL, 'L'},   {NULL, 0, NULL, 0}};
  const char *format = "text", *output = NULL;
  bool list = false;
  const char *yara[MAX_YARA_ARGS];
  size_t n_yara = 0;
  exh_files_config cfg = {0};
  int color = 0, c;
  bool quiet = false;
  optind = 1;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "+f:o:y:j:qh", opts, NULL)) != -1) {
    switch (c) {
    case 'f': format = optarg; break;
    case 'o': output = optarg; break;
    case 'y':
      if (n_yara == MAX_YARA_ARGS) {
        fprintf(stderr, "exhunt files: --yara given more than %d times; use a folder\n",
                MAX_YARA_ARGS);
        return EXIT_ERROR;
      }
      yara[n_yara++] = optarg;
      break;
    case 'N': cfg.no_builtin = 1; break;
    case 'j': {
      char *end;
      long v = strtol(optarg, &end, 10);
      if (*end || v < 1 || v > 256) {
        fprintf(stderr, "exhunt files: --threads takes a number from 1 to 256\n");
        return EXIT_ERROR;
      }
      cfg.threads = (unsigned)v;
      break;
    }
    case 'M':
      if (parse_size(optarg, &cfg.max_scan_bytes)) {
        fprintf(stderr, "exhunt files: --max-size takes a size such as 64M or 2G\n");
        return EXIT_ERROR;
      }
      break;
    case 'c':
      if (cli_parse_color(optarg, &color)) {
        fprintf(stderr, "exhunt files: --color takes auto, always or never\n");
        return EXIT_ERROR;
      }
      break;
    case 'q': quiet = true; break;
    case 'L': list = true; break;
    case 'h': help(stdout); return EXIT_CLEAN;
    default:
      fprintf(stderr, "exhunt files: %s '%s'\nRun 'exhunt files --help' for the options.\n",
              optopt ? "option needs a value or is unknown:" : "unknown option",
              optopt ? (char[]){'-', (char)optopt, 0} : argv[optind - 1]);
      return EXIT_ERROR;
    }
  }
  if (optind >= argc && !list) {
    fprintf(stderr, "exhunt files: no path. Give a mounted volume, an Exchange folder or files.\n"
                    "Run 'exhunt files --help' for more.\n");
    return EXIT_ERROR;
  }
  if (strcmp(format, "text") && strcmp(format, "jsonl")) {
    fprintf(stderr, "exhunt files: --format takes text or jsonl, not '%s'\n", format);
    return EXIT_ERROR;
  }
  if (cfg.no_builtin && !n_yara) {
    fprintf(stderr, "exhunt files: --no-builtin leaves no rules: add --yara PATH\n");
    return EXIT_ERROR;
  }
  cfg.yara = yara;
  cfg.n_yara = n_yara;
  exh_error err;
  exh_files *fs;
  if (exh_files_new(&cfg, &fs, &err) != EXH_OK) {
    fprintf(stderr, "exhunt files: %s\n", err.text);
    return EXIT_ERROR;
  }
  if (list) return list_rules(fs);
  FILE *fp = stdout;
  if (output && !quiet) {
    fp = fopen(output, "w");
    if (!fp) {
      fprintf(stderr, "exhunt files: %s: %s\n", output, strerror(errno));
      exh_files_free(fs);
      return EXIT_ERROR;
    }
  }
  unsigned flags = 0;
  if (!strcmp(format, "text") && cli_use_color(color, fileno(fp))) flags |= EXH_OUT_COLOR;
  run r = {.quiet = quiet};
  if (exh_output_new(format, fp, flags, -1, &r.out, &err) != EXH_OK) {
    fprintf(stderr, "exhunt files: %s\n", err.text);
    exh_files_free(fs);
    if (fp != stdout) fclose(fp);
    return EXIT_ERROR;
  }
  exh_files_stats st = {0};
  for (int i = optind; i < argc && !r.write_failed; i++) {
    int rc = exh_files_scan(fs, argv[i], on_finding, on_error, &r, &st, &err);
    if (rc != EXH_OK && !r.write_failed) on_error(&r, &err);
  }
  if (exh_output_finish(r.out, &err) != EXH_OK || r.write_failed) {
    if (r.write_failed && err.text[0] == '\0') snprintf(err.text, sizeof err.text, "write failed");
    fprintf(stderr, "exhunt files: output: %s\n", r.write_failed ? "write failed" : err.text);
    r.worst = EXIT_ERROR;
  }
  exh_output_free(r.out);
  if (fp != stdout && fclose(fp) != 0) {
    fprintf(stderr, "exhunt files: %s: %s\n", output, strerror(errno));
    r.worst = EXIT_ERROR;
  }
  if (!quiet) {
    size_t ny, np;
    exh_files_rule_counts(fs, &ny, &np);
    fprintf(stderr,
            "exhunt files: %llu files (%.1f MB) in %llu folders, %llu findings; %zu YARA and "
            "%zu path rules; %llu unreadable, %llu links and %llu special files skipped",
            (unsigned long long)st.files, (double)st.bytes / 1e6, (unsigned long long)st.dirs,
            (unsigned long long)st.findings, ny, np, (unsigned long long)st.unreadable,
            (unsigned long long)st.links_skipped, (unsigned long long)st.special_skipped);
    if (st.not_yara_scanned)
      fprintf(stderr, ", %llu above --max-size hashed only", (unsigned long long)st.not_yara_scanned);
    fputc('\n', stderr);
  }
  exh_files_free(fs);
  return r.worst;
}
