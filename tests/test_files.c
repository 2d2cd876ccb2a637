/* exhunt files: layout knowledge, generated-looking names, the path rule
 * parser, the walker's order and what it skips, and the indicator hook. */
#define _GNU_SOURCE
#include "t.h"

#include "files/rules.h"
#include "files/walk.h"
#include "files/yara.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static void layout(void) {
  const char *owa = "/mnt/c/Program Files/Microsoft/Exchange Server/V15/FrontEnd/HttpProxy/owa/auth/x.aspx";
  unsigned l = exhi_layout_classify(owa, 0);
  CHECK(l & EXHI_LOC_OWA_AUTH);
  CHECK(l & EXHI_LOC_HTTPPROXY);
  CHECK(!(l & EXHI_LOC_ECP_AUTH));
  /* Windows names in any case, backslashes from collections. */
  l = exhi_layout_classify("C:\\Program Files\\Microsoft\\Exchange Server\\V15\\FRONTEND\\httpproxy\\ECP\\Auth\\y.aspx", 0);
  CHECK(l & EXHI_LOC_ECP_AUTH);
  l = exhi_layout_classify("/e/inetpub/wwwroot/aspnet_client/system_web/4_0_30319/a.aspx", 0);
  CHECK((l & (EXHI_LOC_ASPNET_CLIENT | EXHI_LOC_WWWROOT)) == (EXHI_LOC_ASPNET_CLIENT | EXHI_LOC_WWWROOT));
  CHECK_INT(exhi_layout_classify("/e/Windows/Temp/lsass.dmp", 0), EXHI_LOC_WINDOWS_TEMP);
  CHECK_INT(exhi_layout_classify("/e/ProgramData/a/b.7z", 0), EXHI_LOC_PROGRAMDATA);
  CHECK_INT(exhi_layout_classify("/e/root/lsass.dmp", 3), EXHI_LOC_ROOT_DIR);
  CHECK_INT(exhi_layout_classify("/e/USERS/Public/opera/x.exe", 0), EXHI_LOC_USERS_PUBLIC);
  /* Near misses: the file name itself is no folder; "Temp" alone is not
   * Windows\Temp; an analyst's /root home above the scan root is not C:\root. */
  CHECK_INT(exhi_layout_classify("/e/x/ProgramData", 0), 0);
  CHECK_INT(exhi_layout_classify("/e/Users/a/AppData/Local/Temp/lsass.dmp", 0), 0);
  CHECK_INT(exhi_layout_classify("/root/cases/c/lsass.dmp", 13), 0);
  CHECK_INT(exhi_layout_classify("/e/FrontEnd/owa/auth/x.aspx", 0), 0);
  unsigned m;
  CHECK_INT(exhi_layout_parse("owa_auth|programdata", &m), EXH_OK);
  CHECK_INT(m, EXHI_LOC_OWA_AUTH | EXHI_LOC_PROGRAMDATA);
  CHECK_INT(exhi_layout_parse("web", &m), EXH_OK);
  CHECK_INT(m, EXHI_LOC_WEB);
  CHECK_INT(exhi_layout_parse("owa_auth|nowhere", &m), EXH_ERR_PARSE);
}

static void random_names(void) {
  /* Red Canary's and MSTIC's examples. */
  const char *yes[] = {"zxvt0lpt.aspx", "r07azcq5.aspx", "dvgippna.aspx", "xpy07b5a.aspx",
                       "8Lw7tAhF9i1pJnRo.aspx", "xclkmcfldfi948398430fdjkfdkj.aspx"};
  const char *no[] = {"logon.aspx", "RedirSuiteServiceProxy.aspx", "ExpiredPassword.aspx",
                      "healthcheck.aspx", "default1.aspx", "errorpage2.aspx", "aspnet_client.aspx",
                      "TimeoutLogoff.aspx", "shel90.aspx", "discover.aspx", "SvmFeedback.aspx"};
  for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) {
    if (!exhi_name_looks_random(yes[i])) fprintf(stderr, "not random: %s\n", yes[i]);
    CHECK(exhi_name_looks_random(yes[i]));
  }
  for (size_t i = 0; i < sizeof no / sizeof *no; i++) {
    if (exhi_name_looks_random(no[i])) fprintf(stderr, "random: %s\n", no[i]);
    CHECK(!exhi_name_looks_random(no[i]));
  }
}

/* Appends the first letter of each matching rule's name to a string. */
static void hit(void *ctx, const exhi_pathrule *r) {
  char *s = *(char **)ctx;
  size_t n = strlen(s);
  if (n < 7) {
    s[n] = r->info.name[0];
    s[n + 1] = '\0';
  }
}

#define HEAD "id,name,severity,attack,where,names,except,magic,condition,message,action,source\n"

static int parse(const char *text, exh_error *e) {
  exhi_pathrules p;
  int rc = exhi_pathrules_parse("t.csv", text, strlen(text), &p, e);
  exhi_pathrules_free(&p);
  return rc;
}

static void pathrules(void) {
  exh_error e;
  exhi_pathrules p;
  const char *good = HEAD "# a comment\n"
                     "exh.files.t.a,A,high,T1|T2,owa_auth,*.aspx,logon.aspx,,,msg,act,src\n"
                     "exh.files.t.b,B,low,,any,,,2142444E,,msg,,src\n"
                     "exh.files.t.c,C,medium,,web,*.aspx,,,random_name,msg,,src\n";
  CHECK_INT(exhi_pathrules_parse("t.csv", good, strlen(good), &p, &e), EXH_OK);
  CHECK_INT(p.n, 3);
  CHECK_INT(p.rules[0].info.n_attack, 2);
  CHECK_STR(p.rules[0].info.attack[1], "T2");
  CHECK_INT(p.rules[1].magic_len, 4);
  CHECK_INT(p.rules[1].magic[0], '!');

  /* Evaluation: where, names, except, magic, condition. */
  struct {
    const char *path, *head;
    const char *want;
  } cases[] = {
      {"/x/FrontEnd/HttpProxy/owa/auth/shell.aspx", "<%", "A"},
      {"/x/FrontEnd/HttpProxy/owa/auth/LOGON.ASPX", "<%", ""},   /* except, any case */
      {"/x/FrontEnd/HttpProxy/owa/auth/shell.css", "<%", ""},    /* name */
      {"/x/Other/shell.aspx", "<%", ""},                         /* where */
      {"/x/FrontEnd/HttpProxy/owa/auth/r07azcq5.aspx", "<%", "AC"},
      {"/x/any/mail.bin", "!BDN....", "B"},
      {"/x/any/mail.bin", "!BD", ""},                            /* short */
      {"/x/any/mail.bin", NULL, ""},                             /* unreadable */
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char got[8] = "";
    exhi_file_ctx fc = {.path = cases[i].path, .name = strrchr(cases[i].path, '/') + 1,
                        .loc = exhi_layout_classify(cases[i].path, 0),
                        .head = (const unsigned char *)cases[i].head,
                        .head_len = cases[i].head ? strlen(cases[i].head) : 0};
    struct acc { char *s; } acc = {got};
    exhi_pathrules_eval(&p, &fc, hit, &acc);
    if (strcmp(got, cases[i].want)) fprintf(stderr, "case %zu: %s\n", i, cases[i].path);
    CHECK_STR(got, cases[i].want);
  }
  exhi_pathrules_free(&p);

  /* Recent among old: 30 days after the folder's median, 4+ files. */
  const char *recent = HEAD "exh.files.t.r,R,low,,any,*.aspx,,,recent,m,,s\n";
  CHECK_INT(exhi_pathrules_parse("t.csv", recent, strlen(recent), &p, &e), EXH_OK);
  int64_t day = 86400000;
  struct { int64_t mtime; size_t files; int want; } rc[] = {
      {31 * day, 5, 1}, {29 * day, 5, 0}, {31 * day, 3, 0}, {-40 * day, 9, 0}};
  for (size_t i = 0; i < sizeof rc / sizeof *rc; i++) {
    char got[8] = "";
    struct acc { char *s; } acc = {got};
    exhi_file_ctx fc = {.path = "/a/b.aspx", .name = "b.aspx", .mtime_ms = rc[i].mtime,
                        .dir_median_mtime_ms = 0, .dir_files = rc[i].files};
    exhi_pathrules_eval(&p, &fc, hit, &acc);
    CHECK_INT(got[0] == 'R', rc[i].want);
  }
  exhi_pathrules_free(&p);

  /* Errors name the file, the line and what was wrong. */
  CHECK_INT(parse(HEAD "exh.files.x,X,severe,,any,*.a,,,,m,,s\n", &e), EXH_ERR_PARSE);
  CHECK_CONTAINS(e.text, "t.csv: line 2: unknown severity");
  CHECK_INT(parse(HEAD "exh.files.x,X,low,,any,*.a,,,,m,,\n", &e), EXH_ERR_PARSE);
  CHECK_CONTAINS(e.text, "names no source");
  CHECK_INT(parse(HEAD "exh.files.x,X,low,,any,,,4G,,m,,s\n", &e), EXH_ERR_PARSE);
  CHECK_CONTAINS(e.text, "magic");
  CHECK_INT(parse(HEAD "exh.files.x,X,low,,nowhere,*.a,,,,m,,s\n", &e), EXH_ERR_PARSE);
  CHECK_CONTAINS(e.text, "unknown location");
  CHECK_INT(parse(HEAD "exh.files.x,X,low,,any,*.a,,,often,m,,s\n", &e), EXH_ERR_PARSE);
  CHECK_CONTAINS(e.text, "unknown condition");
  CHECK_INT(parse(HEAD "exh.files.x,X,low,,any,,,,,m,,s\n", &e), EXH_ERR_PARSE);
  CHECK_CONTAINS(e.text, "every file");
  CHECK_INT(parse(HEAD "other.id,X,low,,any,*.a,,,,m,,s\n", &e), EXH_ERR_PARSE);
  CHECK_INT(parse("id,name\nexh.files.x,X\n", &e), EXH_ERR_PARSE);
  CHECK_CONTAINS(e.text, "no column");
}

static void write_file(const char *dir, const char *name, const char *text) {
  char p[512];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  FILE *f = fopen(p, "wb");
  if (f) {
    fputs(text, f);
    fclose(f);
  }
}

static void walker(const char *dir) {
  char p[512];
  write_file(dir, "b", "b");
  write_file(dir, "a", "a");
  write_file(dir, "C", "c");
  snprintf(p, sizeof p, "%s/d", dir);
  mkdir(p, 0755);
  write_file(p, "x", "x");
  snprintf(p, sizeof p, "%s/link", dir);
  CHECK_INT(symlink("/etc", p), 0);
  snprintf(p, sizeof p, "%s/fifo", dir);
  CHECK_INT(mkfifo(p, 0600), 0);
  exhi_walk *w;
  exh_error e;
  CHECK_INT(exhi_walk_new(dir, &w, &e), EXH_OK);
  const char *want[] = {"C", "a", "b", "d/x"};
  size_t n = 0;
  exhi_walk_entry en;
  int got;
  while (exhi_walk_next(w, &en, &got, &e) == EXH_OK && got) {
    if (n < 4) CHECK_STR(en.path + strlen(dir) + 1, want[n]);
    n++;
  }
  CHECK_INT(n, 4);
  exhi_walk_counts c;
  exhi_walk_get_counts(w, &c);
  CHECK_INT(c.dirs, 2);
  CHECK_INT(c.links_skipped, 1);
  CHECK_INT(c.special_skipped, 1);
  exhi_walk_free(w);
  CHECK_INT(exhi_walk_new("/nonexistent/exhunt", &w, &e), EXH_ERR_IO);
  CHECK_CONTAINS(e.text, "/nonexistent/exhunt: cannot open");
}

/* ---- the indicator hook, with a table of two indicators ----------------- */

/* The in-test table: a SHA-256 and an MD5 (filled from sha256sum and
 * md5sum at run time) and a file name. */
typedef struct ioc_row { const char *value, *type, *source, *actor; } ioc_row;
static const ioc_row name_row = {"supp0rt.aspx", "filename", "MSTIC Exchange IOC feed", "HAFNIUM"};
static char planted_sha256[65], planted_md5[33];
static int lookups;

static int rel_ok;

static int lookup(void *ctx, const exh_file_info *h, exh_indicator_hit *hits, size_t max,
                  size_t *n, exh_error *err) {
  (void)ctx;
  (void)err;
  __atomic_fetch_add(&lookups, 1, __ATOMIC_RELAXED);
  *n = 0;
  const char *name = h->name;
  /* rel_path is below the scan root: "sub/<name>" for the files in sub/. */
  size_t nl = strlen(name), rl = strlen(h->rel_path);
  if (!strncmp(h->rel_path, "sub/", 4) && rl == 4 + nl && !strcmp(h->rel_path + 4, name) &&
      strstr(h->path, h->rel_path) && h->size > 0)
    __atomic_fetch_add(&rel_ok, 1, __ATOMIC_RELAXED);
  if (!strcmp(h->sha256, planted_sha256) && *n < max)
    hits[(*n)++] = (exh_indicator_hit){h->sha256, "sha256", "CISA AR21-084A", "HAFNIUM"};
  if (!strcmp(h->md5, planted_md5) && *n < max)
    hits[(*n)++] = (exh_indicator_hit){h->md5, "md5", "test md5 list", NULL};
  if (!strcmp(name, name_row.value) && *n < max)
    hits[(*n)++] = (exh_indicator_hit){name_row.value, name_row.type, name_row.source, name_row.actor};
  return EXH_OK;
}

typedef struct seen {
  int n, hash, md5, name, actor_ok, provider_ok;
  char ids[1024];
} seen;

static int on_finding(void *ctx, const exh_finding *f) {
  seen *s = ctx;
  s->n++;
  strncat(s->ids, f->rule_id, sizeof s->ids - strlen(s->ids) - 2);
  strcat(s->ids, " ");
  const char *prov = NULL, *md5 = NULL;
  for (size_t i = 0; i < f->n_fields; i++) {
    if (!strcmp(f->fields[i].name, "threat.indicator.provider")) prov = f->fields[i].value;
    if (!strcmp(f->fields[i].name, "file.hash.md5")) md5 = f->fields[i].value;
  }
  if (!strcmp(f->rule_id, "exh.files.ioc.hash") && strstr(f->message, "sha256")) {
    s->hash++;
    if (f->actor && !strcmp(f->actor, "HAFNIUM")) s->actor_ok++;
    if (prov && !strcmp(prov, "CISA AR21-084A")) s->provider_ok++;
    if (md5 && !strcmp(md5, planted_md5)) s->md5++;
  }
  if (!strcmp(f->rule_id, "exh.files.ioc.hash") && strstr(f->message, "md5")) {
    s->md5++;
    if (!f->actor) s->actor_ok++;
  }
  if (!strcmp(f->rule_id, "exh.files.ioc.name")) {
    s->name++;
    if (f->actor && !strcmp(f->actor, "HAFNIUM")) s->actor_ok++;
    if (prov && !strcmp(prov, "MSTIC Exchange IOC feed")) s->provider_ok++;
  }
  return EXH_OK;
}

static void hook(const char *dir) {
  char sub[600];
  snprintf(sub, sizeof sub, "%s/sub", dir);
  mkdir(sub, 0755);
  write_file(sub, "planted.bin", "planted\n");
  write_file(sub, "supp0rt.aspx", "nothing to see\n");
  write_file(sub, "clean.txt", "clean\n");
  /* Hashes of "planted\n", computed independently (sha256sum, md5sum). */
  FILE *pp = popen("printf 'planted\\n' | sha256sum", "r");
  if (pp) {
    if (!fgets(planted_sha256, sizeof planted_sha256, pp)) planted_sha256[0] = '\0';
    pclose(pp);
  }
  pp = popen("printf 'planted\\n' | md5sum", "r");
  if (pp) {
    if (!fgets(planted_md5, sizeof planted_md5, pp)) planted_md5[0] = '\0';
    pclose(pp);
  }
  CHECK_INT(strlen(planted_sha256), 64);
  CHECK_INT(strlen(planted_md5), 32);

  exh_indicator_lookup ioc = {.lookup = lookup, .want = EXH_WANT_MD5};
  exh_files_config cfg = {.threads = 2, .indicators = &ioc};
  exh_files *f;
  exh_error e;
  CHECK_INT(exh_files_new(&cfg, &f, &e), EXH_OK);
  seen s = {0};
  exh_files_stats st = {0};
  lookups = 0;
  CHECK_INT(exh_files_scan(f, dir, on_finding, NULL, &s, &st, &e), EXH_OK);
  CHECK_INT(s.hash, 1);
  CHECK_INT(s.md5, 2); /* the md5 hit, and the md5 computed beside the sha256 hit */
  CHECK_INT(s.name, 1);
  CHECK_INT(s.actor_ok, 3);
  CHECK_INT(s.provider_ok, 2);
  CHECK_INT(s.n, 3);
  CHECK_INT(lookups, (int)st.files);
  CHECK_INT(rel_ok, 3);
  exh_files_free(f);

  /* Without the hook: no indicator findings, and MD5 is not computed. */
  exh_files_config plain = {.threads = 1};
  CHECK_INT(exh_files_new(&plain, &f, &e), EXH_OK);
  seen s2 = {0};
  CHECK_INT(exh_files_scan(f, dir, on_finding, NULL, &s2, NULL, &e), EXH_OK);
  CHECK_INT(s2.n, 0);
  exh_files_free(f);

  /* A user rule that does not compile names its file and line. */
  char rp[512];
  snprintf(rp, sizeof rp, "%s/bad.yar", dir);
  FILE *rf = fopen(rp, "w");
  if (rf) {
    fputs("rule ok { condition: true }\nrule bad { strings: $a = \"x\" condition: $b }\n", rf);
    fclose(rf);
  }
  const char *paths[] = {rp};
  exh_files_config bad = {.yara = paths, .n_yara = 1};
  CHECK_INT(exh_files_new(&bad, &f, &e), EXH_ERR_PARSE);
  CHECK_CONTAINS(e.text, "bad.yar: line 2:");
  unlink(rp);
}

/* Every bundled rule has a literal to gate on, so the prefilter is on; a
 * rule without one would silently turn it off (and slow every scan). */
static void gate(void) {
  exhi_yara *y;
  exh_error e;
  CHECK_INT(exhi_yara_new(NULL, 0, true, &y, &e), EXH_OK);
  CHECK(exhi_yara_gated(y));
  CHECK(exhi_yara_rule_count(y) >= 16);
  exhi_yara_free(y);
}

int main(void) {
  gate();
  layout();
  random_names();
  pathrules();
  char tmpl[] = "/tmp/exhunt-test-files.XXXXXX";
  char *dir = mkdtemp(tmpl);
  CHECK(dir != NULL);
  if (dir) {
    char sub[600];
    snprintf(sub, sizeof sub, "%s/walk", dir);
    mkdir(sub, 0755);
    walker(sub);
    snprintf(sub, sizeof sub, "%s/hook", dir);
    mkdir(sub, 0755);
    hook(sub);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
  }
  return t_done("files");
}
