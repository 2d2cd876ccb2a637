/* exh_files_config.skip_dirs: the files another reader takes are left out,
 * everything else in those folders is still scanned; near misses (a folder
 * whose name only starts like a skip folder, a file of another ending) are
 * not left out. */
#define _GNU_SOURCE
#include "t.h"

#include "exhunt.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* A one-line shell the bundled YARA rules know (China Chopper). */
static const char SHELL[] =
    "<%@ Page Language=\"Jscript\"%><%eval(Request.Item[\"k\"],\"unsafe\");%>\r\n";

static char root[256];

static void put(const char *rel, const char *text) {
  char p[512], d[512];
  snprintf(p, sizeof p, "%s/%s", root, rel);
  snprintf(d, sizeof d, "%s", p);
  for (char *s = d + strlen(root) + 1; (s = strchr(s, '/')); s++) {
    *s = '\0';
    mkdir(d, 0700);
    *s = '/';
  }
  FILE *f = fopen(p, "w");
  if (!f) {
    perror(p);
    exit(2);
  }
  fputs(text, f);
  fclose(f);
}

/* A file of n bytes (NULs allowed). */
static void put_bytes(const char *rel, const void *data, size_t n) {
  put(rel, "");
  char p[512];
  snprintf(p, sizeof p, "%s/%s", root, rel);
  FILE *f = fopen(p, "wb");
  if (!f || fwrite(data, 1, n, f) != n) {
    perror(p);
    exit(2);
  }
  fclose(f);
}

typedef struct seen {
  char names[16][64];
  size_t n;
} seen;

static int on_finding(void *ctx, const exh_finding *f) {
  seen *s = ctx;
  const char *slash = strrchr(f->path, '/');
  const char *name = slash ? slash + 1 : f->path;
  for (size_t i = 0; i < s->n; i++)
    if (!strcmp(s->names[i], name)) return EXH_OK;
  if (s->n < 16) snprintf(s->names[s->n++], sizeof s->names[0], "%s", name);
  return EXH_OK;
}

static int has(const seen *s, const char *name) {
  for (size_t i = 0; i < s->n; i++)
    if (!strcmp(s->names[i], name)) return 1;
  return 0;
}

static void scan(const exh_files_config *cfg, seen *s, exh_files_stats *st) {
  exh_files *f;
  exh_error e;
  memset(s, 0, sizeof *s);
  memset(st, 0, sizeof *st);
  CHECK_INT(exh_files_new(cfg, &f, &e), EXH_OK);
  if (!f) return;
  CHECK_INT(exh_files_scan(f, root, on_finding, NULL, s, st, &e), EXH_OK);
  exh_files_free(f);
}

int main(void) {
  snprintf(root, sizeof root, "%s/exhunt-skip-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
  if (!mkdtemp(root)) return 2;
  /* Every file holds the shell, so any file that is read gives a finding. */
  put("V15/Logging/HttpProxy/Owa/HttpProxy_2021030306-1.LOG", SHELL);
  put("V15/Logging/HttpProxy/Owa/old.log.gz", SHELL);
  put("V15/Logging/HttpProxy/Owa/lsass.dmp", SHELL);       /* not a log: scanned */
  put("V15/Logging/HttpProxy/sneaky.aspx", SHELL);         /* not a log: scanned */
  put("V15/Logging/HttpProxyOld/HttpProxy_1.LOG", SHELL);  /* another folder */
  put("V15/Logging/other.log", SHELL);                     /* above the folder */
  put("V15/Logging/HttpProxy.log", SHELL);                 /* a file named like the folder */

  /* Named like a log, but no log the hunt reads (it skips a file with NULs
   * at its start): an LSASS minidump hidden among the logs is scanned. A
   * gzip log and an event log (binary too) are the hunt's. */
  static const char dump[] = "MDMP\x93\xa7\0\0\0\0\0\0lsass.exe\0\0";
  put_bytes("V15/Logging/HttpProxy/Owa/HttpProxy_2021030307-1.LOG", dump, sizeof dump);
  static const char gz[] = "\x1f\x8b\x08\0\0\0\0\0\0\x03<%eval(Request.Item[\"k\"],\"unsafe\");%>";
  put_bytes("V15/Logging/HttpProxy/Owa/HttpProxy_2021030305-1.LOG.gz", gz, sizeof gz);

  exh_files_config cfg = {.threads = 2};
  seen s;
  exh_files_stats st;
  /* Without skip folders every file is read: the test can fail. */
  scan(&cfg, &s, &st);
  CHECK_INT(st.files, 9);
  CHECK_INT(st.files_left, 0);
  CHECK(has(&s, "HttpProxy_2021030306-1.LOG"));
  CHECK(has(&s, "HttpProxy_2021030307-1.LOG"));

  char dir[512], dir_slash[512];
  snprintf(dir, sizeof dir, "%s/V15/Logging/HttpProxy", root);
  snprintf(dir_slash, sizeof dir_slash, "%s/", dir);
  const char *dirs[] = {dir_slash};
  const char *exts[] = {".log", ".log.gz", ".evtx"};
  cfg.skip_dirs = dirs;
  cfg.n_skip_dirs = 1;
  cfg.skip_exts = exts;
  cfg.n_skip_exts = 3;
  scan(&cfg, &s, &st);
  CHECK_INT(st.files_left, 3);
  CHECK_INT(st.files, 6);
  CHECK(!has(&s, "HttpProxy_2021030306-1.LOG")); /* case-insensitive ending */
  CHECK(has(&s, "HttpProxy_2021030307-1.LOG"));  /* the dump */
  CHECK(!has(&s, "old.log.gz"));
  CHECK(has(&s, "lsass.dmp"));
  CHECK(has(&s, "sneaky.aspx"));
  CHECK(has(&s, "HttpProxy_1.LOG"));
  CHECK(has(&s, "other.log"));
  CHECK(has(&s, "HttpProxy.log"));

  /* No endings: every file below the folder is left. */
  cfg.n_skip_exts = 0;
  scan(&cfg, &s, &st);
  CHECK_INT(st.files_left, 6);
  CHECK(!has(&s, "sneaky.aspx"));
  CHECK(has(&s, "HttpProxy_1.LOG"));

  /* The root itself as the skip folder. */
  const char *rootdirs[] = {root};
  cfg.skip_dirs = rootdirs;
  cfg.n_skip_exts = 1;
  scan(&cfg, &s, &st);
  CHECK_INT(st.files_left, 4); /* the four .log files; .log.gz is not ".log" */
  CHECK(has(&s, "old.log.gz"));

  /* An empty entry is an error, not "skip nothing". */
  const char *empty[] = {""};
  cfg.skip_dirs = empty;
  exh_files *f = NULL;
  exh_error e;
  CHECK_INT(exh_files_new(&cfg, &f, &e), EXH_ERR_INVALID);
  CHECK_CONTAINS(e.text, "skip_dirs");
  exh_files_free(f);

  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", root);
  return t_done("files-skip");
}
