/* exhunt check: the actions table, discovery by relative path (cases,
 * layouts, near misses, links), servers in a path, the callback output. */
#define _GNU_SOURCE
#include "t.h"

#include "check/check.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmp[256];

/* mkdir -p of the folder part, then the file (empty) unless path ends in '/'. */
static void make(const char *rel) {
  char p[1024];
  snprintf(p, sizeof p, "%s/%s", tmp, rel);
  for (char *s = p + strlen(tmp) + 1; *s; s++)
    if (*s == '/') {
      *s = '\0';
      mkdir(p, 0755);
      *s = '/';
    }
  if (p[strlen(p) - 1] != '/') {
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      if (write(fd, "x\n", 2) != 2) t_failed++;
      close(fd);
    }
  }
}

static size_t src_index(const char *id) {
  for (size_t s = 0; s < exhi_src_count; s++)
    if (!strcmp(exhi_src_defs[s].id, id)) return s;
  return (size_t)-1;
}

static void actions(void) {
  exhi_actions a;
  exh_error err;
  CHECK_INT(exhi_actions_load(&a, &err), EXH_OK);
  /* Every id check.c asks for. */
  static const char *const used[] = {"isolate", "preserve", "remove_files", "update", "update_cu",
                                     "unsupported", "mitigate", "reset_creds_dump", "reset_creds",
                                     "lateral", "restore", "report", "collect_build",
                                     "collect_missing", "watch", "keep_current"};
  for (size_t i = 0; i < sizeof used / sizeof *used; i++) {
    const exhi_action_def *d = exhi_action_get(&a, used[i]);
    CHECK(d != NULL);
    if (d) CHECK(strlen(d->source) > 10);
  }
  CHECK(exhi_action_get(&a, "no_such_action") == NULL);
  CHECK_INT(a.n, sizeof used / sizeof *used);
  exhi_actions_clear(&a);
}

static void discovery(void) {
  /* A KAPE target collection, names in the cases Windows and collectors use. */
  make("EXCH01/C/Program Files/Microsoft/Exchange Server/V15/bin/EXSETUP.EXE");
  make("EXCH01/C/Program Files/Microsoft/Exchange Server/V15/Logging/HttpProxy/Owa/a.LOG");
  make("EXCH01/C/Program Files/Microsoft/Exchange Server/V15/Logging/HttpProxy/Ecp/b.LOG");
  make("EXCH01/C/Program Files/Microsoft/Exchange Server/V15/LOGGING/ecp/server/c.log");
  make("EXCH01/C/inetpub/logs/LogFiles/W3SVC1/u_ex210303.log");
  make("EXCH01/C/Program Files/Microsoft/Exchange Server/V15/Logging/CmdletInfra/Others/Rps_Cmdlet/r.LOG");
  make("EXCH01/C/inetpub/logs/LogFiles/w3svc2/u_ex210304.log");
  make("EXCH01/C/inetpub/wwwroot/aspnet_client/system_web/x.aspx");
  make("EXCH01/C/Windows/Temp/t.txt");
  make("EXCH01/C/root/lsass.dmp");
  make("EXCH01/C/ProgramData/p.7z");
  /* Near misses: a folder that only starts like a source, the IIS error
   * log folder, a "root" and a "ProgramData" that are not at a volume root. */
  make("EXCH01/C/Program Files/Microsoft/Exchange Server/V15/Logging/HttpProxyOld/d.LOG");
  make("EXCH01/C/inetpub/logs/LogFiles/HTTPERR/httperr1.log");
  make("EXCH01/C/Program Files/Microsoft/Exchange Server/V15/Scripts/root/r.txt");
  make("EXCH01/C/Program Files/Microsoft/Exchange Server/V15/Scripts/ProgramData/r.txt");
  /* A link to a tree with a source outside the evidence is never followed. */
  make("outside/Logging/ECP/Server/e.log");
  char target[512], link[512];
  snprintf(target, sizeof target, "%s/outside/Logging", tmp);
  snprintf(link, sizeof link, "%s/EXCH01/C/Program Files/Microsoft/Exchange Server/V15/Logs", tmp);
  CHECK_INT(symlink(target, link), 0);

  char root[512];
  snprintf(root, sizeof root, "%s/EXCH01", tmp);
  exhi_discovery d;
  exh_error err;
  CHECK_INT(exhi_discover(root, &d, &err), EXH_OK);
  const exhi_src_found *s = d.src;
  CHECK_INT(s[src_index("exsetup")].n_paths, 1);
  CHECK_INT(s[src_index("httpproxy")].n_paths, 1);
  CHECK_INT(s[src_index("httpproxy")].files, 2);
  CHECK_INT(s[src_index("ecp")].n_paths, 1);
  CHECK_INT(s[src_index("ecp")].files, 1);
  CHECK_INT(s[src_index("oabgen")].n_paths, 0);
  CHECK_INT(s[src_index("iis")].n_paths, 2);
  CHECK_INT(s[src_index("iis")].files, 2);
  CHECK_INT(s[src_index("wwwroot")].files, 1);
  CHECK_INT(s[src_index("windows_temp")].files, 1);
  CHECK_INT(s[src_index("root_dir")].n_paths, 1);
  CHECK_INT(s[src_index("root_dir")].files, 1);
  CHECK_INT(s[src_index("programdata")].n_paths, 1);
  CHECK_INT(s[src_index("evtx")].n_paths, 0);
  CHECK_INT(s[src_index("frontend")].n_paths, 0);
  if (s[src_index("ecp")].n_paths)
    CHECK_CONTAINS(s[src_index("ecp")].paths[0], "/LOGGING/ecp/server");
  CHECK_INT(s[src_index("cmdlet")].files, 1);
  CHECK_INT(exhi_discovery_found(&d), 9);
  exhi_discovery_clear(&d);
  CHECK_INT(exhi_discover("/nonexistent/exhunt", &d, &err), EXH_ERR_IO);
}

static void discovery_encoded(void) {
  /* Velociraptor's URL-encoded names; an encoded '/' stays inside a name. */
  make("VELO/uploads/auto/C%3A/Program%20Files/Microsoft/Exchange%20Server/V15/Logging/HttpProxy/Owa/a.LOG");
  make("VELO/uploads/auto/C%3A/inetpub/logs/LogFiles/W3SVC1/u.log");
  make("VELO/uploads/auto/C%3A/Windows/Temp/t.txt");
  make("VELO/uploads/auto/C%3A/ProgramData/p.zip");
  make("VELO/uploads/auto/C%3A/inetpub/wwwroot/Logging%2FECP%2FServer/x.log");
  char root[512];
  snprintf(root, sizeof root, "%s/VELO", tmp);
  exhi_discovery d;
  exh_error err;
  CHECK_INT(exhi_discover(root, &d, &err), EXH_OK);
  CHECK_INT(d.src[src_index("httpproxy")].files, 1);
  CHECK_INT(d.src[src_index("iis")].files, 1);
  CHECK_INT(d.src[src_index("windows_temp")].files, 1);
  CHECK_INT(d.src[src_index("programdata")].n_paths, 1); /* "Windows" marks the volume root */
  CHECK_INT(d.src[src_index("ecp")].n_paths, 0);
  if (d.src[src_index("httpproxy")].n_paths)
    CHECK_CONTAINS(d.src[src_index("httpproxy")].paths[0], "/Program%20Files/"); /* the real path */
  exhi_discovery_clear(&d);
  char p[512];
  snprintf(p, sizeof p, "%s/VELO/uploads/auto/C%%3A", tmp);
  CHECK_INT(exhi_discover(p, &d, &err), EXH_OK);
  exhi_discovery_clear(&d);
}

typedef struct seen {
  char names[8][64];
  int n;
} seen;

static int on_server(void *ctx, const char *root, const char *name) {
  seen *s = ctx;
  (void)root;
  if (s->n < 8) snprintf(s->names[s->n++], 64, "%s", name);
  return 0;
}

static void servers(void) {
  exh_error err;
  char p[512];
  seen s = {0};
  /* tmp holds EXCH01 (a collection) and outside (logs of no server layout)
   * plus EXCH02 now: a folder of collections. */
  make("EXCH02/Program Files/Microsoft/Exchange Server/V15/Logging/HttpProxy/Owa/a.LOG");
  CHECK_INT(exh_check_servers(tmp, on_server, &s, &err), EXH_OK);
  CHECK_INT(s.n, 4);
  CHECK_STR(s.names[0], "EXCH01");
  CHECK_STR(s.names[1], "EXCH02");
  CHECK_STR(s.names[2], "VELO");
  CHECK_STR(s.names[3], "outside");
  /* One collection given directly, or its drive folder: one server. */
  memset(&s, 0, sizeof s);
  snprintf(p, sizeof p, "%s/EXCH01", tmp);
  CHECK_INT(exh_check_servers(p, on_server, &s, &err), EXH_OK);
  CHECK_INT(s.n, 1);
  CHECK_STR(s.names[0], "EXCH01");
  memset(&s, 0, sizeof s);
  snprintf(p, sizeof p, "%s/EXCH01/C/", tmp);
  CHECK_INT(exh_check_servers(p, on_server, &s, &err), EXH_OK);
  CHECK_INT(s.n, 1);
  CHECK_STR(s.names[0], "EXCH01");
  /* Nothing known: an error that says what was looked for. */
  make("empty/notes.txt");
  snprintf(p, sizeof p, "%s/empty", tmp);
  CHECK_INT(exh_check_servers(p, on_server, &s, &err), EXH_ERR_NOTFOUND);
  CHECK_CONTAINS(err.text, "no Exchange evidence");
}

typedef struct got {
  int findings, errors;
  char rule[64];
} got;

static int cb_finding(void *ctx, const exh_finding *f) {
  got *g = ctx;
  g->findings++;
  snprintf(g->rule, sizeof g->rule, "%s", f->rule_id);
  return EXH_OK;
}

static void cb_error(void *ctx, const char *input, const exh_error *e) {
  (void)input, (void)e;
  ((got *)ctx)->errors++;
}

static void callback_output(void) {
  got g = {0};
  exh_output *o;
  exh_error err;
  CHECK_INT(exh_output_new_callback(cb_finding, cb_error, &g, &o, &err), EXH_OK);
  exh_finding f = {.rule_id = "exh.test.one", .rule_name = "t", .event_time_ms = -1, .offset = -1};
  CHECK_INT(exh_output_finding(o, &f), EXH_OK);
  exh_error e = {.code = EXH_ERR_IO, .text = "x: cannot open"};
  exh_output_input_error(o, "x", &e);
  CHECK_INT(exh_output_finish(o, &err), EXH_OK);
  exh_output_free(o);
  CHECK_INT(g.findings, 1);
  CHECK_INT(g.errors, 1);
  CHECK_STR(g.rule, "exh.test.one");
  CHECK_INT(exh_output_new_callback(NULL, NULL, NULL, &o, &err), EXH_ERR_INVALID);
}

/* The report's "; "-separated lists: entries compared whole. */
static void lists(void) {
  char l[64] = "";
  exhi_list_add(l, sizeof l, "CISA AA21-062A");
  exhi_list_add(l, sizeof l, "CISA");       /* part of an entry: its own */
  exhi_list_add(l, sizeof l, " cisa\t");    /* the same, in another case, spaced */
  exhi_list_add(l, sizeof l, "AA21");
  exhi_list_add(l, sizeof l, "   ");        /* nothing to add */
  exhi_list_add(l, sizeof l, NULL);
  CHECK_STR(l, "CISA AA21-062A; CISA; AA21");
  CHECK(exhi_list_has(l, "cisa"));
  CHECK(exhi_list_has(l, "aa21"));
  CHECK(!exhi_list_has(l, "CISA AA21"));
  CHECK(!exhi_list_has(l, "062A"));
  CHECK(!exhi_list_has(l, ""));
  /* An entry holding "; " is found whole, as added; its parts read as
   * entries of the printed list, and count as such. */
  char m[64] = "";
  exhi_list_add(m, sizeof m, "a; b");
  exhi_list_add(m, sizeof m, "A; B");
  exhi_list_add(m, sizeof m, "b");
  exhi_list_add(m, sizeof m, "a; b; c");
  CHECK_STR(m, "a; b; a; b; c");
  /* A full list is cut, never overrun. */
  char s[8] = "";
  exhi_list_add(s, sizeof s, "abcd");
  exhi_list_add(s, sizeof s, "efgh");
  CHECK_STR(s, "abcd; e");
}

/* A folder to extract into that cannot be opened is an I/O error naming
 * it, not "out of memory". */
static void extract_into_missing_folder(void) {
  char dir[400];
  snprintf(dir, sizeof dir, "%s/not-there", tmp);
  exh_error e;
  CHECK_INT(exh_check_extract_into("x.zip", 0, dir, NULL, &e), EXH_ERR_IO);
  CHECK(strstr(e.text, dir) != NULL);
}

int main(void) {
  snprintf(tmp, sizeof tmp, "/tmp/exhunt-test-check-XXXXXX");
  if (!mkdtemp(tmp)) return 2;
  actions();
  discovery();
  discovery_encoded();
  servers();
  callback_output();
  lists();
  extract_into_missing_folder();
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
  if (system(cmd) != 0) t_failed++;
  printf("%d passed, %d failed\n", t_passed, t_failed);
  return t_failed ? 1 : 0;
}
