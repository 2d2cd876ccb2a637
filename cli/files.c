/* exhunt files: web shells, ransomware, dumps and staged archives on disk. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* --yara may be given this often; each can be a folder of rules. */
#define MAX_YARA_ARGS 64
/* Sightings kept in memory until the scan ends: a million hits is already
 * a tree where every file matched a name; beyond it they are only counted. */
#define MAX_SIGHTINGS 1000000
/* A host name (DNS: 253 characters) plus room for a NetBIOS\domain form. */
#define MAX_HOST_LEN 255

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
        "      --db FILE       the indicator store to use (default: the one 'exhunt ioc'\n"
        "                      uses, $XDG_DATA_HOME/exhunt/iocs.sqlite or\n"
        "                      ~/.local/share/exhunt/iocs.sqlite); when it exists, every\n"
        "                      file's SHA-256 (SHA-1, MD5 when the store has such), name\n"
        "                      and path are looked up in it\n"
        "      --no-iocs       do not use the indicator store\n"
        "      --no-sightings  do not record indicator hits in the store (it is then only\n"
        "                      read)\n"
        "      --host NAME     the server the evidence comes from: put on findings and on\n"
        "                      the sightings recorded\n"
        "      --color WHEN    auto (default), always or never; NO_COLOR is honoured\n"
        "  -q, --quiet         print nothing; only the exit status\n"
        "  -h, --help          this text\n"
        "\n"
        "A summary (files, bytes, findings, unreadable files) goes to standard error.\n"
        "\n"
        "Indicators: import them first ('exhunt ioc import FILE', 'exhunt ioc pull URL').\n"
        "An indicator hit (exh.files.ioc.hash, exh.files.ioc.name) names the source, actor\n"
        "and report of the indicator, and is recorded in the store as a sighting (host,\n"
        "file path, the file's modification time, detector \"files\") after the scan, in\n"
        "one transaction: 'exhunt ioc export' lists them. No store is not an error; a\n"
        "store that cannot be read, or was written by a newer exhunt, is.\n"
        "\n"
        "Exit status: 0 nothing found, 1 findings, 2 an error (a path or some file\n"
        "could not be read: the rest is still scanned and reported).\n"
        "\n"
        "Examples:\n"
        "  exhunt files /mnt/evidence/C\n"
        "  exhunt files --format jsonl -o files.jsonl /mnt/evidence/C\n"
        "  exhunt files --yara ~/rules/ \"/mnt/c/Program Files/Microsoft/Exchange Server/V15\"\n"
        "  exhunt files --host EXCH01 --db case.sqlite /mnt/evidence/C\n",
        fp);
}

/* One indicator hit to record in the store after the scan. */
typedef struct sighting {
  const exh_ioc *ioc; /* borrowed from the set */
  char *path;
  int64_t seen_ms;
  const char *detail; /* static */
} sighting;

typedef struct run {
  exh_output *out;
  bool quiet;
  int worst;
  int write_failed;
  const char *host;         /* --host, or NULL */
  const exh_ioc_set *set;   /* NULL: no indicators */
  bool record;              /* collect sightings */
  sighting *sightings;
  size_t n_sightings, cap_sightings, dropped_sightings;
  char cwd[4096];           /* to make sighting paths absolute; "" unknown */
} run;

static const char *field(const exh_finding *f, const char *name) {
  for (size_t i = 0; i < f->n_fields; i++)
    if (!strcmp(f->fields[i].name, name)) return f->fields[i].value;
  return NULL;
}

/* Keeps an indicator finding's hit for the store. The finding names the
 * indicator by type, normalised value and source; the set gives it back. */
static void keep_sighting(run *r, const exh_finding *f) {
  if (!r->record || !f->path || strncmp(f->rule_id, "exh.files.ioc.", 14)) return;
  const char *type = field(f, "threat.indicator.type");
  const exh_ioc *ioc = exh_ioc_set_find(r->set, type, field(f, "threat.indicator.name"),
                                        field(f, "threat.indicator.provider"));
  if (!ioc) return;
  if (r->n_sightings == MAX_SIGHTINGS) {
    r->dropped_sightings++;
    return;
  }
  if (r->n_sightings == r->cap_sightings) {
    size_t nc = r->cap_sightings ? r->cap_sightings * 2 : 16;
    sighting *ns = realloc(r->sightings, nc * sizeof *ns);
    if (!ns) {
      r->dropped_sightings++;
      return;
    }
    r->sightings = ns;
    r->cap_sightings = nc;
  }
  /* Absolute, so the export still says where the file was when read later
   * from another folder; links are not resolved (the path as scanned). */
  char *path;
  if (f->path[0] == '/' || !r->cwd[0]) {
    path = strdup(f->path);
  } else {
    size_t n = strlen(r->cwd) + 1 + strlen(f->path) + 1;
    path = malloc(n);
    if (path) snprintf(path, n, "%s/%s", r->cwd, f->path);
  }
  if (!path) {
    r->dropped_sightings++;
    return;
  }
  /* detail: the file's field that matched, as a log detector names its field. */
  const char *detail = !strcmp(type, "filepath") ? "file.path"
                       : !strcmp(type, "filename") ? "file.name"
                       : !strcmp(type, "sha1")     ? "file.hash.sha1"
                       : !strcmp(type, "md5")      ? "file.hash.md5"
                                                   : "file.hash.sha256";
  r->sightings[r->n_sightings++] =
      (sighting){.ioc = ioc, .path = path, .seen_ms = f->event_time_ms, .detail = detail};
}

static int on_finding(void *ctx, const exh_finding *f) {
  run *r = ctx;
  if (r->worst < EXIT_FINDINGS) r->worst = EXIT_FINDINGS;
  keep_sighting(r, f);
  if (r->quiet) return EXH_OK;
  exh_finding with_host;
  if (r->host && !f->host) {
    with_host = *f;
    with_host.host = r->host;
    f = &with_host;
  }
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

/* Loads the indicators from --db, else the default store, into *set (NULL
 * when there are none to use: no default store, or an empty one). *path is
 * the store's path, "" when there is no file. Prints the error and returns
 * -1 for a store named with --db that is missing, or one that cannot be read. */
static int load_set(const char *db, char *path, size_t size, exh_ioc_set **set) {
  exh_error err;
  if (exh_ioc_set_open(db, path, size, set, &err) == EXH_OK) return 0;
  fprintf(stderr, "exhunt files: indicator store: %s\n"
                  "(--no-iocs scans without indicators; --db FILE names another store)\n",
          err.text);
  return -1;
}

/* Writes the kept sightings in one transaction; the store is opened for
 * writing only now, and only when there is something to write. */
static int record_sightings(run *r, const char *path) {
  exh_error err;
  exh_ioc_store *s;
  const exh_ioc **hits = malloc(r->n_sightings * sizeof *hits);
  exh_ioc_sighting *where = malloc(r->n_sightings * sizeof *where);
  int rc = hits && where ? EXH_OK : EXH_ERR_NOMEM;
  if (rc != EXH_OK) snprintf(err.text, sizeof err.text, "out of memory");
  for (size_t i = 0; rc == EXH_OK && i < r->n_sightings; i++) {
    hits[i] = r->sightings[i].ioc;
    where[i] = (exh_ioc_sighting){.host = r->host, .location = r->sightings[i].path,
                                  .seen_ms = r->sightings[i].seen_ms, .detector = "files",
                                  .detail = r->sightings[i].detail};
  }
  if (rc == EXH_OK) rc = exh_ioc_store_open(path, 0, &s, &err);
  if (rc == EXH_OK) {
    rc = exh_ioc_store_add_sightings(s, hits, where, r->n_sightings, &err);
    exh_ioc_store_close(s);
  }
  free(hits);
  free(where);
  if (rc != EXH_OK) {
    fprintf(stderr, "exhunt files: sightings not recorded: %s (--no-sightings skips this)\n",
            err.text);
    return -1;
  }
  return 0;
}

static bool valid_host(const char *h) {
  size_t n = strlen(h);
  if (!n || n > MAX_HOST_LEN) return false;
  for (const char *p = h; *p; p++)
    if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f) return false;
  return true;
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
      {"list-rules", no_argument, NULL, 'L'},   {"db", required_argument, NULL, 'D'},
      {"no-iocs", no_argument, NULL, 'I'},      {"no-sightings", no_argument, NULL, 'S'},
      {"host", required_argument, NULL, 'H'},   {NULL, 0, NULL, 0}};
  const char *format = "text", *output = NULL, *db = NULL, *host = NULL;
  bool list = false, no_iocs = false, no_sightings = false;
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
      if (cli_parse_size(optarg, &cfg.max_scan_bytes)) {
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
    case 'D': db = optarg; break;
    case 'I': no_iocs = true; break;
    case 'S': no_sightings = true; break;
    case 'H':
      if (!valid_host(optarg)) {
        fprintf(stderr, "exhunt files: --host takes a host name (printable, no spaces, at "
                        "most %d characters)\n", MAX_HOST_LEN);
        return EXIT_ERROR;
      }
      host = optarg;
      break;
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
  /* The indicators are loaded before anything is scanned: a store that
   * cannot be read stops here, not after an hour of scanning. */
  char dbpath[4096] = "";
  exh_ioc_set *set = NULL;
  exh_indicator_lookup hook;
  if (!no_iocs && !list) {
    if (load_set(db, dbpath, sizeof dbpath, &set) != 0) return EXIT_ERROR;
  }
  if (set) {
    exh_ioc_files_lookup(set, &hook);
    cfg.indicators = &hook;
    const char *in = no_sightings ? NULL : cli_store_in_evidence(dbpath, argv + optind, argc - optind);
    if (in) {
      fprintf(stderr, "exhunt files: the indicator store %s lies inside %s, which is scanned:\n"
                      "recording sightings would write into the evidence. Use --db FILE\n"
                      "elsewhere, or --no-sightings.\n", dbpath, in);
      exh_ioc_set_free(set);
      return EXIT_ERROR;
    }
  }
  exh_error err;
  exh_files *fs;
  if (exh_files_new(&cfg, &fs, &err) != EXH_OK) {
    fprintf(stderr, "exhunt files: %s\n", err.text);
    exh_ioc_set_free(set);
    return EXIT_ERROR;
  }
  if (list) return list_rules(fs);
  FILE *fp = stdout;
  if (output && !quiet) {
    fp = fopen(output, "w");
    if (!fp) {
      fprintf(stderr, "exhunt files: %s: %s\n", output, strerror(errno));
      exh_files_free(fs);
      exh_ioc_set_free(set);
      return EXIT_ERROR;
    }
  }
  unsigned flags = 0;
  if (!strcmp(format, "text") && cli_use_color(color, fileno(fp))) flags |= EXH_OUT_COLOR;
  run r = {.quiet = quiet, .host = host, .set = set, .record = set && !no_sightings};
  if (r.record && !getcwd(r.cwd, sizeof r.cwd)) r.cwd[0] = '\0';
  if (exh_output_new(format, fp, flags, -1, &r.out, &err) != EXH_OK) {
    fprintf(stderr, "exhunt files: %s\n", err.text);
    exh_files_free(fs);
    exh_ioc_set_free(set);
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
    if (set) fprintf(stderr, "; %zu indicators from %s", exh_ioc_set_size(set), dbpath);
    else if (no_iocs) fprintf(stderr, "; indicators not used (--no-iocs)");
    else fprintf(stderr, "; no indicator store%s%s", dbpath[0] ? " content in " : "", dbpath);
    fputc('\n', stderr);
  }
  if (r.n_sightings && record_sightings(&r, dbpath) != 0) r.worst = EXIT_ERROR;
  else if (r.n_sightings && !quiet)
    fprintf(stderr, "exhunt files: %zu sightings recorded in %s\n", r.n_sightings, dbpath);
  if (r.dropped_sightings) {
    fprintf(stderr, "exhunt files: %zu sightings beyond the first %d not recorded\n",
            r.dropped_sightings, MAX_SIGHTINGS);
    r.worst = EXIT_ERROR;
  }
  for (size_t i = 0; i < r.n_sightings; i++) free(r.sightings[i].path);
  free(r.sightings);
  exh_files_free(fs);
  exh_ioc_set_free(set);
  return r.worst;
}
