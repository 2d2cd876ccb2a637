/* exhunt check: a server's evidence -> verdict, incident, what to do now. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Servers in one run: a service provider's fifty, with room to spare. */
#define MAX_SERVERS 4096
/* Archives given in one run (each is extracted to its own folder). */
#define MAX_ARCHIVES 256
/* Servers checked at once: each already reads in parallel inside. */
#define MAX_JOBS 64
/* An archive password's length: tools write tens of characters at most. */
#define MAX_PASSWORD 1024

static void help(FILE *fp) {
  fputs("usage: exhunt check [OPTIONS] PATH...\n"
        "\n"
        "One command from an Exchange server's evidence to a verdict: is it patched,\n"
        "was it attacked, what to do now, with the proof. PATH is a mounted system\n"
        "volume, an Exchange install folder, a triage collection folder (KAPE targets:\n"
        "the drive as C/...; an extracted Velociraptor collection, uploads/auto/C%3A/...,\n"
        "URL-encoded names decoded), or a folder of such collections, one per server (each\n"
        "gets its own verdict, servers are checked in parallel, a table sums them up).\n"
        "\n"
        "exhunt finds the sources by their relative paths, case-insensitively:\n"
        "  Bin/ExSetup.exe                 the installed build (update level)\n"
        "  Logging/HttpProxy/*, Logging/ECP/Server, Logging/OABGeneratorLog,\n"
        "  Logging/CmdletInfra (Rps_Cmdlet)\n"
        "  inetpub/logs/LogFiles/W3SVC*    IIS logs\n"
        "  Windows/System32/winevt/Logs    event logs\n"
        "  FrontEnd/HttpProxy, inetpub/wwwroot, ProgramData, Windows/Temp, C:/root\n"
        "runs 'exhunt assess' on the build, 'exhunt logs' on the logs and 'exhunt files'\n"
        "on the whole tree, and joins what they found. Nothing is written to the evidence.\n"
        "\n"
        "The verdict per server:\n"
        "  compromise  compromised (a web shell, a dump or a known-bad file on disk, a\n"
        "              shell answering in the logs), exploited (exploitation succeeded per\n"
        "              the logs), attempted (probes that failed), no evidence found (only\n"
        "              when a request log and the web folders were read), unknown (they\n"
        "              were missing: never 'clean' without them)\n"
        "  update      patched, unpatched (the CVEs and the update to install), unknown\n"
        "Then the actions in order, the incident (the exploitation, the files on disk,\n"
        "the requests to them, attacker addresses, first and last time), the sources\n"
        "found and missing with how far back each log reaches, and every finding.\n"
        "Campaigns months apart are separate incidents: steps sharing an attacker\n"
        "address or a shell stay together; otherwise more than 30 days after the last\n"
        "event starts a new incident.\n"
        "\n"
        "Options:\n"
        "  -f, --format FMT   text (default) or jsonl (every finding, then one summary\n"
        "                     object per server, event.dataset exhunt.check; ECS names)\n"
        "  -o, --output FILE  write there instead of standard output\n"
        "      --html FILE    also write one self-contained HTML page (verdicts, actions,\n"
        "                     incidents, evidence, findings; no scripts, prints well)\n"
        "  -J, --jobs N       servers checked at once (default 2)\n"
        "  -j, --threads N    threads per server for logs and files (default: one per CPU)\n"
        "      --db FILE      the indicator store: file hashes, names and paths, and in\n"
        "                     the web logs client addresses, user agents, hosts, URLs\n"
        "                     and requested files (default: the one 'exhunt ioc' uses,\n"
        "                     when it exists); what was seen is recorded there as\n"
        "                     sightings, host = the server's name ('exhunt ioc export')\n"
        "      --no-iocs      do not use the indicator store\n"
        "      --no-sightings use the store read-only: record nothing\n"
        "      --as-of DATE   judge support at DATE (YYYY-MM-DD), not today\n"
        "      --max-extract SIZE  an archive may expand to at most SIZE (default 16G)\n"
        "      --password-file FILE  the password of encrypted zips (KAPE --zpw, CyLR -zp):\n"
        "                     the first line of FILE ('-': standard input), never an\n"
        "                     argument, which other users could see\n"
        "      --color WHEN   auto (default), always or never; NO_COLOR is honoured\n"
        "  -q, --quiet        print nothing; only the exit status\n"
        "  -h, --help         this text\n"
        "\n",
        fp);
  /* Two strings: C17 compilers need not take one longer than 4095 bytes. */
  fputs("Archives (zip, tar, tar.gz, 7z: a KAPE, Velociraptor or CyLR zip as it comes)\n"
        "are extracted into a private temporary folder below $TMPDIR (mode 0700), removed\n"
        "afterwards and on Ctrl-C: paths that would leave it are refused, links never\n"
        "created, the size bounded by --max-extract and 512 MiB kept free on its disk\n"
        "(set TMPDIR to a larger disk for a large collection, outside the evidence: one\n"
        "inside a folder being checked is refused). Reports name what is in\n"
        "an archive by the archive as given, '!', and the member's name, separators as\n"
        "'/': EXCH01.zip!/C/inetpub/wwwroot/aspnet_client/x.aspx (Velociraptor's names\n"
        "as stored, URL-encoded: uploads/auto/C%3A/...).\n"
        "\n"
        "Not yet (later steps): reading archives in place without the temporary copy.\n"
        "\n"
        "Exit status: 0 every server patched with no evidence found, 1 anything else\n"
        "(findings, unpatched, or a verdict that is unknown), 2 an error (a PATH with no\n"
        "Exchange evidence, files that could not be read).\n"
        "\n"
        "Examples:\n"
        "  exhunt check /mnt/evidence/C\n"
        "  exhunt check collections/            # one folder per server\n"
        "  exhunt check --format jsonl -o check.jsonl /cases/kape/EXCH01\n",
        fp);
}

typedef struct server {
  char *root, *name;
  const char *dir, *archive; /* an archive's: its temporary folder and its path as given */
  exh_check_result *result;
  exh_error err;
  int rc;
} server;

typedef struct pool {
  const exh_check *check;
  server *v;
  size_t n;
  atomic_size_t next;
} pool;

static void *worker(void *arg) {
  pool *p = arg;
  for (;;) {
    size_t i = atomic_fetch_add(&p->next, 1);
    if (i >= p->n) return NULL;
    server *s = &p->v[i];
    s->rc = exh_check_run_archive(p->check, s->root, s->name, s->dir, s->archive, &s->result,
                                  &s->err);
  }
}

typedef struct listing {
  server *v;
  size_t n;
  int full;
  const char *archive_dir;  /* the folder an archive was extracted to, or NULL */
  const char *archive_name; /* the server name it stands for */
  const char *archive_path; /* the archive as given (argv) */
} listing;

static int add_server(void *ctx, const char *root, const char *name) {
  listing *l = ctx;
  if (l->n >= MAX_SERVERS) {
    l->full = 1;
    return 1;
  }
  server *s = &l->v[l->n];
  memset(s, 0, sizeof *s);
  s->root = strdup(root);
  /* An archive holding one server's tree: the archive names it. */
  s->name = strdup(l->archive_dir && !strcmp(root, l->archive_dir) ? l->archive_name : name);
  s->dir = l->archive_dir;
  s->archive = l->archive_path;
  if (!s->root || !s->name) {
    free(s->root);
    free(s->name);
    return 1;
  }
  l->n++;
  return 0;
}

/* The indicator store, read-only, as 'exhunt files' finds it; its path is
 * written to path (for the sightings; "" when there is no store). */
static int load_iocs(const char *db, exh_ioc_set **set, char *path, size_t path_size) {
  exh_error err;
  if (exh_ioc_set_open(db, path, path_size, set, &err) == EXH_OK) return 0;
  fprintf(stderr, "exhunt check: indicator store: %s (--no-iocs checks without it)\n", err.text);
  return -1;
}

/*
 * The temporary folders of this run's archives, removed at the end and also
 * when the run is interrupted (Ctrl-C, kill, a closed terminal): the signals
 * are blocked in every thread and taken by one thread that removes the
 * folders, then lets the signal end the process as it would have.
 */
static struct {
  pthread_mutex_t mu;     /* held from a folder's creation to its listing */
  char *dirs[MAX_ARCHIVES];
  size_t n;
  int closing;            /* the reaper is removing them: make no more */
} temps = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* release: also forget them (at the end; the reaper leaves the names to
 * the threads still using them until the process ends). */
static void temps_remove_all(int release) {
  pthread_mutex_lock(&temps.mu);
  for (size_t i = 0; i < temps.n; i++) {
    exh_check_extract_remove(temps.dirs[i]);
    if (release) free(temps.dirs[i]);
  }
  if (release) temps.n = 0;
  pthread_mutex_unlock(&temps.mu);
}

static void *temps_reaper(void *arg) {
  sigset_t *set = arg;
  int sig;
  if (sigwait(set, &sig) != 0) return NULL;
  /* Taken: the main thread, ending, must not cancel the removal half done
   * (nanosleep below is a cancellation point), which would leave the
   * process to exit with its own status instead of dying by the signal. */
  pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
  /* An extraction may still be writing into a folder: stop it (it stops
   * within one 64 KiB block), and remove again until the folder is gone. */
  exh_check_extract_stop();
  pthread_mutex_lock(&temps.mu);
  temps.closing = 1;
  pthread_mutex_unlock(&temps.mu);
  for (int tries = 0; tries < 1000; tries++) {
    if (tries) nanosleep(&(struct timespec){0, 1000000}, NULL); /* 1 ms: let it see the stop */
    temps_remove_all(0);
    int left = 0;
    struct stat st;
    pthread_mutex_lock(&temps.mu);
    for (size_t i = 0; i < temps.n; i++) left |= lstat(temps.dirs[i], &st) == 0;
    pthread_mutex_unlock(&temps.mu);
    if (!left) break;
  }
  signal(sig, SIG_DFL);
  pthread_sigmask(SIG_UNBLOCK, set, NULL);
  raise(sig);
  _exit(128 + sig); /* not reached unless the signal is ignored */
}

/* The first line of path ("-": standard input), without its line end. */
static int read_password(const char *path, char *out, size_t size) {
  FILE *fp = strcmp(path, "-") ? fopen(path, "r") : stdin;
  if (!fp) {
    fprintf(stderr, "exhunt check: --password-file %s: %s\n", path, strerror(errno));
    return -1;
  }
  int ok = fgets(out, (int)size, fp) != NULL;
  if (fp != stdin) fclose(fp);
  size_t n = ok ? strlen(out) : 0;
  if (ok && n == size - 1 && out[n - 1] != '\n') {
    fprintf(stderr, "exhunt check: --password-file %s: the password is longer than %d bytes\n", path,
            MAX_PASSWORD);
    return -1;
  }
  while (n && (out[n - 1] == '\n' || out[n - 1] == '\r')) out[--n] = '\0';
  if (!n) {
    fprintf(stderr, "exhunt check: --password-file %s: no password on its first line\n", path);
    return -1;
  }
  return 0;
}

/* "EXCH01" from ".../EXCH01.tar.gz" or "EXCH01.zip". */
static void archive_name(const char *path, char *out, size_t size) {
  const char *b = strrchr(path, '/');
  snprintf(out, size, "%s", b ? b + 1 : path);
  static const char *const ext[] = {".tar.gz", ".tar.bz2", ".tar.xz", ".tgz", ".zip", ".tar", ".7z"};
  size_t n = strlen(out);
  for (size_t i = 0; i < sizeof ext / sizeof *ext; i++) {
    size_t e = strlen(ext[i]);
    if (n > e && !strcasecmp(out + n - e, ext[i])) {
      out[n - e] = '\0';
      break;
    }
  }
}

static int parse_count(const char *s, long max, unsigned *out) {
  char *end;
  long v = strtol(s, &end, 10);
  if (*end || end == s || v < 1 || v > max) return -1;
  *out = (unsigned)v;
  return 0;
}

int cmd_check(int argc, char **argv) {
  enum { O_DB = 256, O_NOIOCS, O_ASOF, O_COLOR, O_HTML, O_MAXX, O_NOSIGHT, O_PWFILE };
  static const struct option opts[] = {
      {"format", required_argument, NULL, 'f'}, {"output", required_argument, NULL, 'o'},
      {"jobs", required_argument, NULL, 'J'},   {"threads", required_argument, NULL, 'j'},
      {"db", required_argument, NULL, O_DB},    {"no-iocs", no_argument, NULL, O_NOIOCS},
      {"as-of", required_argument, NULL, O_ASOF}, {"color", required_argument, NULL, O_COLOR},
      {"quiet", no_argument, NULL, 'q'},        {"help", no_argument, NULL, 'h'},
      {"html", required_argument, NULL, O_HTML}, {"max-extract", required_argument, NULL, O_MAXX},
      {"no-sightings", no_argument, NULL, O_NOSIGHT},
      {"password-file", required_argument, NULL, O_PWFILE},
      {NULL, 0, NULL, 0}};
  const char *format = "text", *output = NULL, *db = NULL, *html = NULL, *pwfile = NULL;
  char password[MAX_PASSWORD + 2] = "";
  bool no_iocs = false, quiet = false, no_sightings = false;
  char dbpath[4096] = "";
  unsigned jobs = 2;
  uint64_t max_extract = EXH_CHECK_DEFAULT_MAX_EXTRACT;
  size_t n_tmp = 0;
  sigset_t sigs;
  pthread_t reaper;
  int have_reaper = 0;
  int color = 0, c;
  exh_check_config cfg = {0};
  optind = 1;
  while ((c = getopt_long(argc, argv, "+f:o:J:j:qh", opts, NULL)) != -1) {
    switch (c) {
    case 'f': format = optarg; break;
    case 'o': output = optarg; break;
    case 'J':
      if (parse_count(optarg, MAX_JOBS, &jobs)) {
        fprintf(stderr, "exhunt check: --jobs takes a number from 1 to %d\n", MAX_JOBS);
        return EXIT_ERROR;
      }
      break;
    case 'j':
      if (parse_count(optarg, 256, &cfg.threads)) {
        fprintf(stderr, "exhunt check: --threads takes a number from 1 to 256\n");
        return EXIT_ERROR;
      }
      break;
    case O_DB: db = optarg; break;
    case O_NOIOCS: no_iocs = true; break;
    case O_NOSIGHT: no_sightings = true; break;
    case O_ASOF: cfg.as_of = optarg; break;
    case O_HTML: html = optarg; break;
    case O_PWFILE: pwfile = optarg; break;
    case O_MAXX:
      if (cli_parse_size(optarg, &max_extract)) {
        fprintf(stderr, "exhunt check: --max-extract takes a size such as 500M or 64G\n");
        return EXIT_ERROR;
      }
      break;
    case O_COLOR:
      if (cli_parse_color(optarg, &color)) {
        fprintf(stderr, "exhunt check: --color takes auto, always or never\n");
        return EXIT_ERROR;
      }
      break;
    case 'q': quiet = true; break;
    case 'h': help(stdout); return EXIT_CLEAN;
    default: fprintf(stderr, "Run 'exhunt check --help' for the options.\n"); return EXIT_ERROR;
    }
  }
  if (strcmp(format, "text") && strcmp(format, "jsonl")) {
    fprintf(stderr, "exhunt check: --format takes text or jsonl\n");
    return EXIT_ERROR;
  }
  if (optind >= argc) {
    fprintf(stderr, "exhunt check: give a mounted volume, an Exchange folder or a collection.\n"
                    "Run 'exhunt check --help' for more.\n");
    return EXIT_ERROR;
  }
  if (pwfile && read_password(pwfile, password, sizeof password) != 0) return EXIT_ERROR;
  int status = EXIT_CLEAN;
  exh_ioc_set *set = NULL;
  if (!no_iocs && load_iocs(db, &set, dbpath, sizeof dbpath) != 0) return EXIT_ERROR;
  const char *in = set && !no_sightings ? cli_store_in_evidence(dbpath, argv + optind, argc - optind) : NULL;
  if (in) {
    fprintf(stderr, "exhunt check: the indicator store %s is inside %s: recording sightings\n"
                    "would write into the evidence. Use --db FILE elsewhere, or --no-sightings.\n",
            dbpath, in);
    exh_ioc_set_free(set);
    return EXIT_ERROR;
  }
  /* Archives are extracted below TMPDIR: inside a folder given as evidence,
   * that would write into it (and the folder's check would read the copy). */
  int archives = 0;
  for (int i = optind; i < argc; i++) {
    struct stat ast;
    archives |= stat(argv[i], &ast) == 0 && S_ISREG(ast.st_mode);
  }
  const char *tmpdir = getenv("TMPDIR");
  if (!tmpdir || !*tmpdir) tmpdir = "/tmp";
  const char *tin = archives ? cli_store_in_evidence(tmpdir, argv + optind, argc - optind) : NULL;
  if (tin) {
    fprintf(stderr, "exhunt check: the temporary folder %s (TMPDIR) is inside %s: extracting\n"
                    "the archives there would write into the evidence. Set TMPDIR to a folder\n"
                    "outside it.\n",
            tmpdir, tin);
    exh_ioc_set_free(set);
    return EXIT_ERROR;
  }
  cfg.iocs = set;
  /* A silent pause of seconds looks like a hang to someone watching; a
   * script reading JSON lines or -q wants nothing on standard error. */
  /* As exhunt logs: on standard error, whatever goes to standard output. */
  cfg.notice = !quiet && isatty(STDERR_FILENO);
  exh_error err;
  exh_check *chk;
  if (exh_check_new(&cfg, &chk, &err) != EXH_OK) {
    fprintf(stderr, "exhunt check: %s\n", err.text);
    exh_ioc_set_free(set);
    return EXIT_ERROR;
  }
  listing l = {.v = calloc(MAX_SERVERS, sizeof(server))};
  if (!l.v) {
    fprintf(stderr, "exhunt check: out of memory\n");
    exh_check_free(chk);
    exh_ioc_set_free(set);
    return EXIT_ERROR;
  }
  /* Interrupts are taken by the reaper, which removes the temporary folders. */
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGHUP);
  if (pthread_sigmask(SIG_BLOCK, &sigs, NULL) == 0) {
    have_reaper = pthread_create(&reaper, NULL, temps_reaper, &sigs) == 0;
    if (!have_reaper) pthread_sigmask(SIG_UNBLOCK, &sigs, NULL);
  }
  for (int i = optind; i < argc && !l.full; i++) {
    const char *root = argv[i];
    struct stat st;
    l.archive_dir = l.archive_name = l.archive_path = NULL;
    char name[256];
    if (stat(root, &st) == 0 && S_ISREG(st.st_mode)) {
      /* An archive: a private extracted copy, removed at the end. */
      char dir[4096];
      if (n_tmp == MAX_ARCHIVES) {
        fprintf(stderr, "exhunt check: more than %d archives in one run\n", MAX_ARCHIVES);
        status = EXIT_ERROR;
        continue;
      }
      /* Made and listed for the reaper in one step: an interrupt between
       * the two left the folder behind (seen under load). */
      char *kept = NULL;
      pthread_mutex_lock(&temps.mu);
      if (temps.closing) {
        pthread_mutex_unlock(&temps.mu);
        break; /* interrupted: the reaper ends the process */
      }
      int rc = exh_check_tempdir_new(root, dir, sizeof dir, &err);
      if (rc == EXH_OK && !(kept = strdup(dir))) {
        exh_check_extract_remove(dir);
        rc = EXH_ERR_NOMEM;
        snprintf(err.text, sizeof err.text, "%s: out of memory", root);
      }
      if (kept) temps.dirs[temps.n++] = kept;
      pthread_mutex_unlock(&temps.mu);
      if (kept) {
        n_tmp++;
        rc = exh_check_extract_into(root, max_extract, kept, password[0] ? password : NULL, &err);
      }
      if (rc != EXH_OK) {
        fprintf(stderr, "exhunt check: %s\n", err.text);
        status = EXIT_ERROR;
        continue;
      }
      archive_name(root, name, sizeof name);
      l.archive_dir = kept;
      l.archive_name = name;
      l.archive_path = argv[i];
      root = l.archive_dir;
    }
    if (root && exh_check_servers(root, add_server, &l, &err) != EXH_OK) {
      /* Named by the archive, never by the temporary folder. */
      if (l.archive_dir) exh_check_show_path(err.text, sizeof err.text, l.archive_dir, argv[i]);
      fprintf(stderr, "exhunt check: %s\n", err.text);
      status = EXIT_ERROR;
    }
  }
  if (l.full) fprintf(stderr, "exhunt check: more than %d servers: the rest were left out\n", MAX_SERVERS);
  pool p = {.check = chk, .v = l.v, .n = l.n};
  atomic_init(&p.next, 0);
  pthread_t th[MAX_JOBS];
  size_t started = 0;
  for (unsigned t = 0; t < jobs && t < l.n; t++)
    if (pthread_create(&th[started], NULL, worker, &p) == 0) started++;
  if (!started) worker(&p);
  for (size_t t = 0; t < started; t++) pthread_join(th[t], NULL);

  /* What was seen of the store, recorded there (one transaction per server,
   * one server at a time: SQLite has one writer). */
  size_t sighted = 0;
  for (size_t i = 0; set && !no_sightings && i < l.n; i++) {
    server *s = &l.v[i];
    size_t n = 0;
    if (s->rc != EXH_OK) continue;
    /* An archive's findings are already named as its members (NAME!/...). */
    if (exh_check_record_sightings(s->result, set, dbpath, NULL, &n, &err) != EXH_OK) {
      fprintf(stderr, "exhunt check: sightings not recorded: %s (--no-sightings skips this)\n", err.text);
      status = EXIT_ERROR;
    }
    sighted += n;
  }
  if (sighted && !quiet) fprintf(stderr, "exhunt check: %zu sightings recorded in %s\n", sighted, dbpath);

  FILE *fp = stdout;
  if (!quiet && output && !(fp = fopen(output, "w"))) {
    fprintf(stderr, "exhunt check: %s: %s\n", output, strerror(errno));
    fp = NULL;
    status = EXIT_ERROR;
  }
  unsigned flags = fp && !strcmp(format, "text") && cli_use_color(color, fileno(fp)) ? EXH_OUT_COLOR : 0;
  const exh_check_result **done = calloc(l.n ? l.n : 1, sizeof *done);
  size_t n_done = 0;
  for (size_t i = 0; i < l.n; i++) {
    server *s = &l.v[i];
    if (s->rc != EXH_OK) {
      fprintf(stderr, "exhunt check: %s\n", s->err.text);
      status = EXIT_ERROR;
      continue;
    }
    exh_check_summary sum;
    exh_check_get_summary(s->result, &sum);
    if (sum.errors) status = EXIT_ERROR;
    else if (status == EXIT_CLEAN &&
             (sum.findings || sum.update != EXH_UPDATE_PATCHED || sum.compromise != EXH_COMP_NONE_FOUND))
      status = EXIT_FINDINGS;
    if (done) done[n_done++] = s->result;
    if (fp && !quiet && exh_check_write(s->result, format, fp, flags, &err) != EXH_OK) {
      fprintf(stderr, "exhunt check: %s\n", err.text);
      status = EXIT_ERROR;
    }
  }
  if (fp && !quiet && done && n_done > 1 && !strcmp(format, "text") &&
      exh_check_write_table(done, n_done, fp, &err) != EXH_OK) {
    fprintf(stderr, "exhunt check: %s\n", err.text);
    status = EXIT_ERROR;
  }
  if (html && done) {
    FILE *hf = fopen(html, "w");
    if (!hf) {
      fprintf(stderr, "exhunt check: %s: %s\n", html, strerror(errno));
      status = EXIT_ERROR;
    } else {
      if (exh_check_write_html(done, n_done, hf, &err) != EXH_OK) {
        fprintf(stderr, "exhunt check: %s\n", err.text);
        status = EXIT_ERROR;
      }
      if (fclose(hf) != 0) {
        fprintf(stderr, "exhunt check: %s: %s\n", html, strerror(errno));
        status = EXIT_ERROR;
      }
    }
  }
  if (fp && fp != stdout && fclose(fp) != 0) {
    fprintf(stderr, "exhunt check: %s: %s\n", output, strerror(errno));
    status = EXIT_ERROR;
  }
  free(done);
  for (size_t i = 0; i < l.n; i++) {
    exh_check_result_free(l.v[i].result);
    free(l.v[i].root);
    free(l.v[i].name);
  }
  free(l.v);
  explicit_bzero(password, sizeof password);
  temps_remove_all(1);
  if (have_reaper) {
    pthread_cancel(reaper);
    pthread_join(reaper, NULL);
    pthread_sigmask(SIG_UNBLOCK, &sigs, NULL);
  }
  exh_check_free(chk);
  exh_ioc_set_free(set);
  return status;
}
