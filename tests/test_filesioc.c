/* The join of exhunt files and the indicator store: the hook made from a
 * set (what it looks up, which extra hashes it asks for, path semantics),
 * the scanner's indicator findings from it on a real tree, finding an
 * indicator back from a finding, and sightings written all or nothing. */
#include "exhunt.h"
#include "t.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/exhunt-test-filesioc.XXXXXX";

static const char *tmp(const char *name) {
  static char buf[2][4096];
  static int k;
  k ^= 1;
  snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
  return buf[k];
}

static void write_file(const char *path, const char *data) {
  FILE *fp = fopen(path, "w");
  if (!fp) {
    perror(path);
    exit(2);
  }
  fputs(data, fp);
  fclose(fp);
}

static exh_ioc_store *store_with(const char *name, const char *csv) {
  exh_ioc_store *s = NULL;
  exh_error err;
  CHECK_INT(exh_ioc_store_open(tmp(name), 0, &s, &err), EXH_OK);
  if (!s) exit(2);
  exh_ioc_import_stats st;
  int rc = exh_ioc_import_buffer(s, "test.csv", csv, strlen(csv), NULL, &st, &err);
  if (rc != EXH_OK) fprintf(stderr, "%s\n", err.text);
  CHECK_INT(rc, EXH_OK);
  return s;
}

/* PAYLOAD's SHA-256, from sha256sum. */
#define PAYLOAD "exhunt test payload\n"
#define PAYLOAD_SHA256 "9067a4a620bfffb3ac726e1ec161c73e7128382785c9e2024c70c3beaf1dc4ce"

static void test_want(void) {
  exh_ioc_store *s = store_with("want.sqlite", "type,value,source\n"
                                               "sha256," PAYLOAD_SHA256 ",a\n"
                                               "filename,x.aspx,a\n");
  exh_ioc_set *set;
  exh_error err;
  CHECK_INT(exh_ioc_set_load(s, &set, &err), EXH_OK);
  exh_indicator_lookup hook;
  exh_ioc_files_lookup(set, &hook);
  CHECK(hook.lookup != NULL);
  CHECK_INT(hook.want, 0); /* no SHA-1 or MD5 indicators: not computed */
  CHECK_INT(exh_ioc_set_count(set, EXH_IOC_SHA256), 1);
  CHECK_INT(exh_ioc_set_count(set, EXH_IOC_MD5), 0);
  CHECK_INT(exh_ioc_set_count(set, 99), 0);
  exh_ioc_set_free(set);
  const char *more = "type,value,source\n"
                     "md5,0123456789abcdef0123456789abcdef,b\n"
                     "sha1,0123456789abcdef0123456789abcdef01234567,b\n";
  exh_ioc_import_stats st;
  CHECK_INT(exh_ioc_import_buffer(s, "more.csv", more, strlen(more), NULL, &st, &err), EXH_OK);
  CHECK_INT(exh_ioc_set_load(s, &set, &err), EXH_OK);
  exh_ioc_files_lookup(set, &hook);
  CHECK_INT(hook.want, EXH_WANT_SHA1 | EXH_WANT_MD5);
  exh_ioc_set_free(set);
  exh_ioc_store_close(s);
}

static void test_hook_lookups(void) {
  exh_ioc_store *s = store_with(
      "hook.sqlite",
      "type,value,source,actor,report\n"
      "filepath,C:\\inetpub\\wwwroot\\aspnet_client\\system_web\\Shell1.aspx,mstic,HAFNIUM,r1\n"
      "filename,discover.aspx,volexity,,\n"
      "md5,0123456789ABCDEF0123456789ABCDEF,cisa,HAFNIUM,AR21-084A\n");
  exh_ioc_set *set;
  exh_error err;
  CHECK_INT(exh_ioc_set_load(s, &set, &err), EXH_OK);
  exh_ioc_store_close(s);
  exh_indicator_lookup hook;
  exh_ioc_files_lookup(set, &hook);
  exh_indicator_hit hits[EXH_INDICATOR_MAX_HITS];
  size_t n = 99;

  /* The published path below any mount point, in any case. */
  exh_file_info fi = {.path = "/mnt/img/C/Inetpub/wwwroot/aspnet_client/system_web/shell1.ASPX",
                      .rel_path = "Inetpub/wwwroot/aspnet_client/system_web/shell1.ASPX",
                      .name = "shell1.ASPX", .sha256 = "00", .sha1 = "", .md5 = ""};
  CHECK_INT(hook.lookup(hook.ctx, &fi, hits, EXH_INDICATOR_MAX_HITS, &n, &err), EXH_OK);
  CHECK_INT(n, 1);
  if (n == 1) {
    CHECK_STR(hits[0].type, "filepath");
    CHECK_STR(hits[0].source, "mstic");
    CHECK_STR(hits[0].actor, "HAFNIUM");
    CHECK_STR(hits[0].report, "r1");
    CHECK_STR(hits[0].value, "/inetpub/wwwroot/aspnet_client/system_web/shell1.aspx");
    const exh_ioc *i = exh_ioc_set_find(set, hits[0].type, hits[0].value, hits[0].source);
    CHECK(i != NULL && i->type == EXH_IOC_FILEPATH);
    CHECK(exh_ioc_set_find(set, hits[0].type, hits[0].value, "other") == NULL);
  }
  /* Near misses: the same name in another folder, a folder whose name ends
   * like the published one, a relative path. */
  const char *misses[] = {"/mnt/img/C/inetpub/wwwroot/aspnet_client/shell1.aspx",
                          "/mnt/img/C/inetpub/wwwroot/aspnet_client/xsystem_web/shell1.aspx",
                          "/mnt/img/C/inetpub/wwwroot/aspnet_client/system_web/shell1.aspx.bak"};
  for (size_t k = 0; k < sizeof misses / sizeof *misses; k++) {
    fi.path = misses[k];
    fi.name = strrchr(misses[k], '/') + 1;
    n = 99;
    CHECK_INT(hook.lookup(hook.ctx, &fi, hits, EXH_INDICATOR_MAX_HITS, &n, &err), EXH_OK);
    CHECK_INT(n, 0);
  }
  fi.path = "C/inetpub/wwwroot/aspnet_client/system_web/shell1.aspx"; /* relative root */
  fi.name = "shell1.aspx";
  CHECK_INT(hook.lookup(hook.ctx, &fi, hits, EXH_INDICATOR_MAX_HITS, &n, &err), EXH_OK);
  CHECK_INT(n, 1);

  /* A file name indicator matches in any folder; an MD5 only when the
   * scanner computed it (the hook asked for it). */
  fi = (exh_file_info){.path = "/x/y/Discover.aspx", .name = "Discover.aspx", .sha256 = "00",
                       .sha1 = "", .md5 = "0123456789abcdef0123456789abcdef"};
  CHECK_INT(hook.want, EXH_WANT_MD5);
  CHECK_INT(hook.lookup(hook.ctx, &fi, hits, EXH_INDICATOR_MAX_HITS, &n, &err), EXH_OK);
  CHECK_INT(n, 2);
  if (n == 2) {
    CHECK_STR(hits[0].type, "md5");
    CHECK_STR(hits[0].report, "AR21-084A");
    CHECK_STR(hits[1].type, "filename");
    CHECK(hits[1].actor == NULL);             /* none given: NULL, not "" */
    CHECK_STR(hits[1].report, "test.csv"); /* the import names the report by default */
  }
  fi.md5 = "0123456789abcdef0123456789abcdee"; /* one digit off */
  fi.name = "discover.aspx.txt";
  fi.path = "/x/y/discover.aspx.txt";
  CHECK_INT(hook.lookup(hook.ctx, &fi, hits, EXH_INDICATOR_MAX_HITS, &n, &err), EXH_OK);
  CHECK_INT(n, 0);
  /* max bounds what is written. */
  fi.md5 = "0123456789abcdef0123456789abcdef";
  fi.name = "discover.aspx";
  CHECK_INT(hook.lookup(hook.ctx, &fi, hits, 1, &n, &err), EXH_OK);
  CHECK_INT(n, 1);
  exh_ioc_set_free(set);
}

typedef struct seen {
  int ioc_findings;
  char provider[64], actor[64], feed[64], path[4096];
} seen;

static int on_finding(void *ctx, const exh_finding *f) {
  seen *s = ctx;
  if (strncmp(f->rule_id, "exh.files.ioc.", 14)) return EXH_OK;
  s->ioc_findings++;
  snprintf(s->actor, sizeof s->actor, "%s", f->actor ? f->actor : "");
  snprintf(s->path, sizeof s->path, "%s", f->path);
  for (size_t i = 0; i < f->n_fields; i++) {
    if (!strcmp(f->fields[i].name, "threat.indicator.provider"))
      snprintf(s->provider, sizeof s->provider, "%s", f->fields[i].value);
    if (!strcmp(f->fields[i].name, "threat.feed.name"))
      snprintf(s->feed, sizeof s->feed, "%s", f->fields[i].value);
  }
  return EXH_OK;
}

/* The scanner with the hook on a real tree: the file whose bytes hash to
 * the indicator is flagged with its source, actor and report; a file one
 * byte different is not. Then its sighting is recorded. */
static void test_scan_and_sightings(void) {
  mkdir(tmp("tree"), 0755);
  write_file(tmp("tree/a.bin"), PAYLOAD);
  write_file(tmp("tree/b.bin"), "exhunt test payloaD\n");
  exh_ioc_store *s = store_with("scan.sqlite", "type,value,source,actor,report\n"
                                               "sha256," PAYLOAD_SHA256 ",lab,ACTOR-X,Report X\n");
  exh_ioc_set *set;
  exh_error err;
  CHECK_INT(exh_ioc_set_load(s, &set, &err), EXH_OK);
  exh_indicator_lookup hook;
  exh_ioc_files_lookup(set, &hook);
  exh_files_config cfg = {.threads = 2, .indicators = &hook};
  exh_files *fs;
  CHECK_INT(exh_files_new(&cfg, &fs, &err), EXH_OK);
  seen sn = {0};
  CHECK_INT(exh_files_scan(fs, tmp("tree"), on_finding, NULL, &sn, NULL, &err), EXH_OK);
  exh_files_free(fs);
  CHECK_INT(sn.ioc_findings, 1);
  CHECK_STR(sn.provider, "lab");
  CHECK_STR(sn.actor, "ACTOR-X");
  CHECK_STR(sn.feed, "Report X");
  CHECK_STR(sn.path, tmp("tree/a.bin"));

  /* All or nothing: an indicator id that is not in the store makes the
   * whole batch fail, and the good sighting before it is not kept. */
  const exh_ioc *good = exh_ioc_set_find(set, "sha256", PAYLOAD_SHA256, "lab");
  CHECK(good != NULL);
  if (!good) exit(2);
  exh_ioc bogus = *good;
  bogus.id = 987654321;
  const exh_ioc *hits[2] = {good, &bogus};
  exh_ioc_sighting where[2] = {
      {.host = "EXCH01", .location = sn.path, .seen_ms = 0, .detector = "files"},
      {.host = "EXCH01", .location = "/elsewhere", .seen_ms = 0, .detector = "files"}};
  CHECK(exh_ioc_store_add_sightings(s, hits, where, 2, &err) != EXH_OK);
  size_t n = 99;
  FILE *devnull = fopen("/dev/null", "w");
  CHECK_INT(exh_ioc_store_export(s, "csv", devnull, &n, &err), EXH_OK);
  CHECK_INT(n, 0);
  CHECK_INT(exh_ioc_store_add_sightings(s, hits, where, 1, &err), EXH_OK);
  CHECK_INT(exh_ioc_store_add_sightings(s, hits, where, 1, &err), EXH_OK); /* kept once */
  CHECK_INT(exh_ioc_store_export(s, "csv", devnull, &n, &err), EXH_OK);
  CHECK_INT(n, 1);
  CHECK_INT(exh_ioc_store_add_sightings(s, NULL, NULL, 0, &err), EXH_OK);
  fclose(devnull);
  exh_ioc_store_close(s);
  /* A read-only store refuses to record. */
  CHECK_INT(exh_ioc_store_open(tmp("scan.sqlite"), EXH_IOC_READONLY, &s, &err), EXH_OK);
  CHECK_INT(exh_ioc_store_add_sightings(s, hits, where, 1, &err), EXH_ERR_INVALID);
  exh_ioc_store_close(s);
  exh_ioc_set_free(set);
}

int main(void) {
  if (!mkdtemp(tmpdir)) {
    perror("mkdtemp");
    return 2;
  }
  test_want();
  test_hook_lookups();
  test_scan_and_sightings();
  char cmd[4200];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
  return t_done("filesioc");
}
