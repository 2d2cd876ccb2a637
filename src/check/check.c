/*
 * exhunt check: one server's evidence through the parts that exist
 * (discovery, assess, the log hunt, the file scan), then the verdict, the
 * incident that joins what they found, and the actions.
 */
#define _GNU_SOURCE /* strcasestr */
#include "check.h"
#include "../files/scan.h"
#include "../findings/findings.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct exh_check {
  exh_kb *kb;
  exh_logrules *rules;
  exh_files *files;
  exhi_actions actions;
  exhi_verdict table; /* rules/check/verdict.csv */
  exh_indicator_lookup hook;
  const exh_ioc_set *iocs; /* borrowed: for the log hunt too */
  unsigned threads;
  char as_of[11];
  int have_as_of;
  int notice; /* exh_check_config.notice */
};

const char *exh_check_update_name(int u) {
  return u == EXH_UPDATE_PATCHED ? "patched" : u == EXH_UPDATE_UNPATCHED ? "unpatched" : "unknown";
}

const char *exh_check_compromise_name(int c) {
  static const char *const n[] = {"unknown", "no evidence found", "attempted", "exploited",
                                  "compromised"};
  return c >= 0 && c <= 4 ? n[c] : "unknown";
}

int exh_check_new(const exh_check_config *cfg, exh_check **out, exh_error *err) {
  *out = NULL;
  exh_check *c = calloc(1, sizeof *c);
  if (!c) return exhi_err(err, EXH_ERR_NOMEM, NULL, 0, -1, "out of memory");
  c->threads = cfg ? cfg->threads : 0;
  c->notice = cfg ? cfg->notice : 0;
  if (cfg && cfg->as_of) {
    if (!exhi_valid_date(cfg->as_of)) {
      free(c);
      return exhi_err(err, EXH_ERR_INVALID, "--as-of", 0, -1, "not a date YYYY-MM-DD");
    }
    exhi_strlcpy(c->as_of, cfg->as_of, sizeof c->as_of);
    c->have_as_of = 1;
  }
  int rc = exh_kb_load(NULL, &c->kb, err);
  if (!rc) rc = exh_logrules_load(1, NULL, 0, NULL, &c->rules, err);
  if (!rc) {
    exh_files_config fc = {.threads = c->threads};
    if (cfg && cfg->iocs) {
      c->iocs = cfg->iocs;
      exh_ioc_files_lookup(cfg->iocs, &c->hook);
      fc.indicators = &c->hook;
    }
    rc = exh_files_new(&fc, &c->files, err);
  }
  if (!rc) rc = exhi_actions_load(&c->actions, err);
  if (!rc) rc = exhi_verdict_load(&c->table, err);
  if (rc) {
    exh_check_free(c);
    return rc;
  }
  *out = c;
  return EXH_OK;
}

void exh_check_free(exh_check *c) {
  if (!c) return;
  exh_kb_free(c->kb);
  exh_logrules_free(c->rules);
  exh_files_free(c->files);
  exhi_actions_clear(&c->actions);
  exhi_verdict_clear(&c->table);
  free(c);
}

/* ---- servers in a path --------------------------------------------------- */

/* "C", "C%3A" (Velociraptor), "C_", "C:" (a zip of Windows paths): a
 * drive's folder in a collection. */
static int is_drive(const char *n) {
  size_t l = strlen(n);
  return (l == 1 || (l == 4 && !strcasecmp(n + 1, "%3a")) || (l == 2 && (n[1] == '_' || n[1] == ':'))) &&
         (n[0] | 32) >= 'a' && (n[0] | 32) <= 'z';
}

/* Names that say "this folder is part of one server", not a server of a
 * folder of collections: Windows and Exchange folders, drive letters. */
static int layout_name(const char *n) {
  static const char *const names[] = {
      "windows", "program files", "program files (x86)", "programdata", "inetpub", "users",
      "root", "microsoft", "exchange server", "v15", "v14", "bin", "logging", "frontend",
      "clientaccess", "$recycle.bin", "perflogs", "recovery", "system volume information",
      /* the top of a Velociraptor collection (uploads/auto/C%3A/..., results/) */
      "uploads", "results"};
  for (size_t i = 0; i < EXHI_ARRAY_LEN(names); i++)
    if (!strcasecmp(n, names[i])) return 1;
  return is_drive(n);
}

static const char *base_name(const char *p, char *buf, size_t size) {
  size_t len = strlen(p);
  while (len > 1 && p[len - 1] == '/') len--;
  size_t s = len;
  while (s > 0 && p[s - 1] != '/') s--;
  size_t n = len - s < size - 1 ? len - s : size - 1;
  memcpy(buf, p + s, n);
  buf[n] = '\0';
  return buf;
}

static int by_str(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int exh_check_servers(const char *path, int (*fn)(void *ctx, const char *root, const char *name),
                      void *ctx, exh_error *err) {
  exhi_discovery d;
  int rc = exhi_discover(path, &d, err);
  if (rc) return rc;
  size_t found = exhi_discovery_found(&d);
  exhi_discovery_clear(&d);
  if (!found)
    return exhi_err(err, EXH_ERR_NOTFOUND, path, 0, -1,
                    "no Exchange evidence found (none of Bin/ExSetup.exe, Logging/HttpProxy, "
                    "inetpub/logs/LogFiles, FrontEnd/HttpProxy, ... below it)");
  /* The children that hold evidence: all of them non-layout names means a
   * folder of collections. */
  DIR *dir = opendir(path);
  if (!dir) return exhi_err(err, EXH_ERR_IO, path, 0, -1, "cannot open folder: %s", strerror(errno));
  char **kids = NULL;
  size_t n = 0;
  int layout = 0;
  struct dirent *de;
  while ((de = readdir(dir)) && n < 100000) {
    if (de->d_name[0] == '.' && (!de->d_name[1] || (de->d_name[1] == '.' && !de->d_name[2])))
      continue;
    if (layout_name(de->d_name)) {
      layout = 1;
      break;
    }
    char sub[4096];
    if ((size_t)snprintf(sub, sizeof sub, "%s/%s", path, de->d_name) >= sizeof sub) continue;
    struct stat st;
    if (lstat(sub, &st) || !S_ISDIR(st.st_mode)) continue;
    char **nk = realloc(kids, (n + 1) * sizeof *nk);
    if (!nk) break;
    kids = nk;
    if ((kids[n] = strdup(de->d_name))) n++;
  }
  closedir(dir);
  char name[256];
  if (layout || !n) {
    for (size_t i = 0; i < n; i++) free(kids[i]);
    free(kids);
    base_name(path, name, sizeof name);
    if (is_drive(name)) { /* a bare drive folder: the parent names it */
      char parent[4096];
      exhi_strlcpy(parent, path, sizeof parent);
      char *slash = strrchr(parent, '/');
      while (slash && slash[1] == '\0' && slash > parent) {
        *slash = '\0';
        slash = strrchr(parent, '/');
      }
      if (slash) {
        *slash = '\0';
        if (parent[0]) base_name(parent, name, sizeof name);
      }
    }
    fn(ctx, path, name);
    return EXH_OK;
  }
  qsort(kids, n, sizeof *kids, by_str);
  int stop = 0, any = 0;
  size_t plen = strlen(path);
  while (plen > 1 && path[plen - 1] == '/') plen--;
  for (size_t i = 0; i < n; i++) {
    char sub[4096];
    snprintf(sub, sizeof sub, "%.*s/%s", (int)plen, path, kids[i]);
    if (!stop) {
      exhi_discovery dk;
      if (exhi_discover(sub, &dk, NULL) == EXH_OK) {
        if (exhi_discovery_found(&dk)) {
          any = 1;
          stop = fn(ctx, sub, kids[i]);
        }
        exhi_discovery_clear(&dk);
      }
    }
    free(kids[i]);
  }
  free(kids);
  if (!any) {
    base_name(path, name, sizeof name);
    fn(ctx, path, name);
  }
  return EXH_OK;
}

/* ---- collecting findings ------------------------------------------------- */

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

static const char *field_of(const exh_finding *f, const char *name) {
  for (size_t i = 0; i < f->n_fields; i++)
    if (!strcmp(f->fields[i].name, name)) return f->fields[i].value;
  return NULL;
}

/* "2021-03-03T06:12:01.100Z" -> ms; -1 when it is not that shape. */
static int64_t parse_time(const char *s) {
  if (!s) return -1;
  struct tm tm = {0};
  int ms = 0;
  if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d.%3d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
             &tm.tm_min, &tm.tm_sec, &ms) < 6)
    return -1;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return (int64_t)timegm(&tm) * 1000 + ms;
}

static void cf_clear(exhi_cf *c) {
  exh_finding *f = &c->f;
  free((char *)(uintptr_t)f->rule_id);
  free((char *)(uintptr_t)f->rule_name);
  for (size_t i = 0; i < f->n_cves; i++) free((char *)(uintptr_t)f->cves[i]);
  free((void *)(uintptr_t)f->cves);
  for (size_t i = 0; i < f->n_attack; i++) free((char *)(uintptr_t)f->attack[i]);
  free((void *)(uintptr_t)f->attack);
  free((char *)(uintptr_t)f->actor);
  free((char *)(uintptr_t)f->host);
  free((char *)(uintptr_t)f->path);
  free((char *)(uintptr_t)f->sha256);
  for (size_t i = 0; i < f->n_fields; i++) {
    free((char *)(uintptr_t)f->fields[i].name);
    free((char *)(uintptr_t)f->fields[i].value);
  }
  free((void *)(uintptr_t)f->fields);
  free((char *)(uintptr_t)f->message);
  free((char *)(uintptr_t)f->action);
}

static char **dup_list(const char *const *v, size_t n) {
  char **o = calloc(n ? n : 1, sizeof *o);
  for (size_t i = 0; o && i < n; i++) o[i] = dup_or_null(v[i]);
  return o;
}

/* Deep copy: the parts' findings live for the callback only. */
static int cf_copy(exhi_cf *c, const exh_finding *f, int from, const char *host) {
  memset(c, 0, sizeof *c);
  exh_finding *d = &c->f;
  *d = *f;
  d->rule_id = dup_or_null(f->rule_id);
  d->rule_name = dup_or_null(f->rule_name);
  d->cves = (const char *const *)dup_list(f->cves, f->n_cves);
  d->attack = (const char *const *)dup_list(f->attack, f->n_attack);
  d->actor = dup_or_null(f->actor);
  /* The server being checked names every finding, whatever name the log
   * itself gives (HttpProxy's ServerHostName is upper case, IIS's often
   * absent): a SIEM groups a check's records by the server the user named. */
  d->host = dup_or_null(host ? host : f->host);
  d->path = dup_or_null(f->path);
  d->sha256 = dup_or_null(f->sha256);
  exh_field *fl = calloc(f->n_fields ? f->n_fields : 1, sizeof *fl);
  for (size_t i = 0; fl && i < f->n_fields; i++) {
    /* The log's own server name stays as evidence under another name. */
    const char *name = f->fields[i].name;
    if (host && name && !strcmp(name, "host.name")) name = "exhunt.log_host";
    fl[i].name = dup_or_null(name);
    fl[i].value = dup_or_null(f->fields[i].value);
  }
  d->fields = fl;
  d->message = dup_or_null(f->message);
  d->action = dup_or_null(f->action);
  c->from = from;
  c->outcome = -1;
  c->last_ms = f->event_time_ms;
  if (from == EXHI_FROM_LOGS) {
    const char *o = field_of(f, "exhunt.outcome");
    c->outcome = !o ? 0 : !strcmp(o, "exploited") ? 2 : !strcmp(o, "attempted") ? 1 : 0;
    int64_t l = parse_time(field_of(f, "exhunt.last_seen"));
    if (l >= 0) c->last_ms = l;
  }
  if (!d->rule_id || (f->rule_name && !d->rule_name) || !d->cves || !d->attack || !fl ||
      (f->message && !d->message) || !d->host || (f->path && !d->path) ||
      (f->action && !d->action) || (f->sha256 && !d->sha256) || (f->actor && !d->actor)) {
    cf_clear(c);
    return EXH_ERR_NOMEM;
  }
  return EXH_OK;
}

typedef struct collector {
  exh_check_result *r;
  int from;
  int nomem;
} collector;

static int keep_finding(void *ctx, const exh_finding *f) {
  collector *k = ctx;
  exh_check_result *r = k->r;
  int cov = !strcmp(f->rule_id, "exh.logs.coverage");
  exhi_cf **v = cov ? &r->cov : &r->f;
  size_t *n = cov ? &r->n_cov : &r->n_f, *cap = cov ? &r->cap_cov : &r->cap_f;
  if (*n >= EXHI_CHECK_MAX_FINDINGS) {
    r->dropped_f++;
    return EXH_OK;
  }
  if (*n == *cap) {
    size_t nc = *cap ? *cap * 2 : 64;
    exhi_cf *nv = realloc(*v, nc * sizeof *nv);
    if (!nv) {
      k->nomem = 1;
      return EXH_ERR_NOMEM;
    }
    *v = nv;
    *cap = nc;
  }
  if (cf_copy(&(*v)[*n], f, k->from, r->name)) {
    k->nomem = 1;
    return EXH_ERR_NOMEM;
  }
  (*n)++;
  return EXH_OK;
}

static void keep_error_text(exh_check_result *r, const char *text) {
  r->n_errors++;
  if (r->n_errors_kept >= EXHI_CHECK_MAX_ERRORS) return;
  char **ne = realloc(r->errors, (r->n_errors_kept + 1) * sizeof *ne);
  if (!ne) return;
  r->errors = ne;
  if ((r->errors[r->n_errors_kept] = strdup(text))) r->n_errors_kept++;
}

static void keep_log_error(void *ctx, const char *input, const exh_error *e) {
  (void)input; /* e->text names the file, escaped */
  keep_error_text(((collector *)ctx)->r, e->text);
}

static void keep_files_error(void *ctx, const exh_error *e) {
  keep_error_text(((collector *)ctx)->r, e->text);
}

/* ---- coverage per source -------------------------------------------------- */

static int under(const char *path, const char *dir) {
  size_t l = strlen(dir);
  return !strncmp(path, dir, l) && (path[l] == '\0' || path[l] == '/');
}

static void attribute_coverage(exh_check_result *r) {
  for (size_t i = 0; i < r->n_cov; i++) {
    const exh_finding *f = &r->cov[i].f;
    if (!f->path) continue;
    for (size_t s = 0; s < exhi_src_count; s++) {
      exhi_src_found *sf = &r->disc.src[s];
      if (exhi_src_defs[s].kind != EXHI_SRC_LOGS) continue;
      int hit = 0;
      for (size_t p = 0; p < sf->n_paths && p < EXHI_SRC_MAX_PATHS && !hit; p++)
        hit = under(f->path, sf->paths[p]);
      if (!hit) continue;
      const char *nf = field_of(f, "exhunt.files"), *nl = field_of(f, "exhunt.lines");
      const char *a = field_of(f, "exhunt.first_seen"), *b = field_of(f, "exhunt.last_seen");
      if (nf) sf->log_files += strtoull(nf, NULL, 10);
      if (nl) sf->lines += strtoull(nl, NULL, 10);
      if (a && (!sf->first_seen[0] || strcmp(a, sf->first_seen) < 0))
        exhi_strlcpy(sf->first_seen, a, sizeof sf->first_seen);
      if (b && strcmp(b, sf->last_seen) > 0) exhi_strlcpy(sf->last_seen, b, sizeof sf->last_seen);
      break;
    }
  }
}

/* ---- verdict ---------------------------------------------------------------- */

/* Log rules whose hit means the attacker was already in (post-exploitation:
 * a web shell answered, mailboxes exported, a process started by IIS, a
 * group or transport agent changed), and those that say at most
 * "attempted": the verdict table, rules/check/verdict.csv (each row with its
 * source), looked up once per finding (table_level). */
static int is_post_exploitation(const exhi_cf *c) {
  if (c->from == EXHI_FROM_FILES) return c->f.severity >= EXH_SEV_HIGH;
  if (c->outcome == 1) return 0;
  return c->table_level == EXH_COMP_COMPROMISED;
}

static int level_of(const exhi_cf *c) {
  if (c->f.severity < EXH_SEV_LOW) return EXH_COMP_NONE_FOUND;
  if (is_post_exploitation(c)) return EXH_COMP_COMPROMISED;
  if (c->from == EXHI_FROM_LOGS && c->table_level == EXH_COMP_ATTEMPTED) return EXH_COMP_ATTEMPTED;
  if (c->from == EXHI_FROM_FILES) return EXH_COMP_NONE_FOUND; /* medium and below: to examine */
  if (c->outcome != 1 && c->f.severity >= EXH_SEV_MEDIUM) return EXH_COMP_EXPLOITED;
  return EXH_COMP_ATTEMPTED;
}

/* item without the spaces around it: *n bytes from the result. */
static const char *trimmed(const char *item, size_t *n) {
  while (*item == ' ' || *item == '\t') item++;
  size_t l = strlen(item);
  while (l && (item[l - 1] == ' ' || item[l - 1] == '\t')) l--;
  *n = l;
  return item;
}

/* Entries start the list or follow "; "; an entry holding "; " itself is
 * still found whole, as it was added. */
static int list_has(const char *list, const char *item, size_t n) {
  for (const char *p = list; *p;) {
    if (!strncasecmp(p, item, n) && (!p[n] || (p[n] == ';' && p[n + 1] == ' '))) return 1;
    const char *next = strstr(p, "; ");
    if (!next) return 0;
    p = next + 2;
  }
  return 0;
}

int exhi_list_has(const char *list, const char *item) {
  size_t n;
  item = trimmed(item, &n);
  return n && list_has(list, item, n);
}

void exhi_list_add(char *list, size_t size, const char *item) {
  if (!item) return;
  size_t n;
  item = trimmed(item, &n);
  if (!n || n > INT_MAX || list_has(list, item, n)) return;
  size_t l = strlen(list);
  snprintf(list + l, size - l, "%s%.*s", l ? "; " : "", (int)n, item);
}

/* Room for the names of the kinds of evidence a verdict does not list. */
#define MORE_KINDS_MAX (64u << 10)

static void verdict(exh_check_result *r) {
  if (r->assessment) {
    int lv = r->assessment->level;
    r->update = lv == EXH_LEVEL_NONE_OPEN ? EXH_UPDATE_PATCHED
                : lv == EXH_LEVEL_UNPATCHED ? EXH_UPDATE_UNPATCHED : EXH_UPDATE_UNKNOWN;
  } else {
    r->update = EXH_UPDATE_UNKNOWN;
  }
  int comp = EXH_COMP_NONE_FOUND, reasons = 0;
  /* The kinds of evidence after the first three, each counted once (the
   * rule set has a few hundred at most; a kind that finds no room here is
   * counted each time it is met). */
  char *more = calloc(1, MORE_KINDS_MAX);
  for (size_t i = 0; i < r->n_f; i++) {
    int l = level_of(&r->f[i]);
    if (l > comp) {
      comp = l;
      r->reason[0] = '\0';
      if (more) more[0] = '\0';
      reasons = 0;
    }
    if (l == comp && l > EXH_COMP_NONE_FOUND) {
      /* The first few kinds of evidence name the verdict; the findings list has them all. */
      char what[300];
      snprintf(what, sizeof what, "%s%s",
               r->f[i].f.rule_name ? r->f[i].f.rule_name : r->f[i].f.rule_id,
               r->f[i].from == EXHI_FROM_FILES ? " (on disk)" : "");
      if (!exhi_list_has(r->reason, what) && !(more && exhi_list_has(more, what))) {
        if (reasons < 3) exhi_list_add(r->reason, sizeof r->reason, what);
        else if (more) exhi_list_add(more, MORE_KINDS_MAX, what);
        reasons++;
      }
    }
  }
  free(more);
  if (reasons > 3) {
    size_t l = strlen(r->reason);
    snprintf(r->reason + l, sizeof r->reason - l, "; and %d more", reasons - 3);
  }
  /* What a "no evidence" needs: a log of the requests the server answered,
   * and the web folders where shells are dropped. */
  int requests = 0, webdirs = 0;
  for (size_t s = 0; s < exhi_src_count; s++) {
    const exhi_src_def *sd = &exhi_src_defs[s];
    const exhi_src_found *sf = &r->disc.src[s];
    if ((sd->role & EXHI_ROLE_REQUESTS) && sf->log_files) requests = 1;
    if ((sd->role & EXHI_ROLE_WEBDIRS) && sf->n_paths) webdirs = 1;
  }
  r->missing[0] = '\0';
  if (!requests) exhi_list_add(r->missing, sizeof r->missing, "request logs (Logging/HttpProxy or inetpub/logs/LogFiles/W3SVC*) with entries");
  if (!webdirs) exhi_list_add(r->missing, sizeof r->missing, "the web folders (FrontEnd/HttpProxy or inetpub/wwwroot)");
  if (comp == EXH_COMP_NONE_FOUND && r->missing[0]) comp = EXH_COMP_UNKNOWN;
  r->compromise = comp;
}

/* ---- the incident ------------------------------------------------------------ */

static const char *last_name(const char *p) {
  const char *s = p ? strrchr(p, '/') : NULL;
  return s ? s + 1 : p;
}

/* Does text name the file name, as a whole name ("x\\a.aspx", "/a.aspx",
 * "a.aspx needs"), not as the tail of a longer one ("data.aspx")? */
int exhi_names_file(const char *text, const char *name) {
  size_t n = strlen(name);
  if (!text || !n) return 0;
  for (const char *p = text; (p = strcasestr(p, name)); p++) {
    char before = p == text ? ' ' : p[-1], after = p[n];
    int word = (before >= 'a' && before <= 'z') || (before >= 'A' && before <= 'Z') ||
               (before >= '0' && before <= '9') || before == '_' || before == '-' || before == '.';
    int more = (after >= 'a' && after <= 'z') || (after >= 'A' && after <= 'Z') ||
               (after >= '0' && after <= '9') || after == '_';
    if (!word && !more) return 1;
  }
  return 0;
}

static int64_t step_time(const exh_check_result *r, size_t i) { return r->f[i].f.event_time_ms; }

static void add_ip(exh_check_result *r, const char *ip) {
  if (!ip || !*ip) return;
  for (size_t i = 0; i < r->n_ips; i++)
    if (!strcmp(r->ips[i], ip)) return;
  if (r->n_ips < EXHI_CHECK_MAX_IPS && (r->ips[r->n_ips] = strdup(ip))) r->n_ips++;
}

static int by_step_time(const void *a, const void *b, void *ctx) {
  const exh_check_result *r = ctx;
  size_t x = *(const size_t *)a, y = *(const size_t *)b;
  int64_t tx = step_time(r, x), ty = step_time(r, y);
  if (tx != ty) return tx < ty ? -1 : 1;
  return x < y ? -1 : x > y;
}

/*
 * One incident per server: the successful exploitation in the logs, the
 * post-exploitation files on disk, and every request or log line that names
 * one of those files (the later requests to the shell, the OABGeneratorLog
 * line that wrote it). Probes that failed stay out of it.
 */
static void correlate(exh_check_result *r) {
  if (r->compromise < EXH_COMP_EXPLOITED) return;
  /* The names of the files found on disk. */
  const char *shells[256];
  size_t n_shells = 0;
  for (size_t i = 0; i < r->n_f && n_shells < EXHI_ARRAY_LEN(shells); i++)
    if (r->f[i].from == EXHI_FROM_FILES && is_post_exploitation(&r->f[i]) && r->f[i].f.path)
      shells[n_shells++] = last_name(r->f[i].f.path);
  r->first_ms = r->last_ms = -1;
  /* The files on disk first, then the logs: the steps are bounded, and the
   * requests of an exploitation from hundreds of addresses must not push
   * the shells written to the disk out of the story. */
  for (int pass = 0; pass < 2; pass++)
  for (size_t i = 0; i < r->n_f && r->n_steps < EXHI_CHECK_MAX_STEPS; i++) {
    exhi_cf *c = &r->f[i];
    if ((c->from == EXHI_FROM_FILES) != (pass == 0)) continue;
    int in = level_of(c) >= EXH_COMP_EXPLOITED;
    if (!in && c->from == EXHI_FROM_LOGS) {
      const char *url = field_of(&c->f, "url.path");
      for (size_t k = 0; k < n_shells && !in; k++)
        in = (url && !strcasecmp(last_name(url), shells[k])) ||
             exhi_names_file(c->f.message, shells[k]);
    }
    if (!in) continue;
    r->steps[r->n_steps++] = i;
    if (c->f.event_time_ms >= 0 && (r->first_ms < 0 || c->f.event_time_ms < r->first_ms))
      r->first_ms = c->f.event_time_ms;
    if (c->last_ms > r->last_ms) r->last_ms = c->last_ms;
    if (c->from == EXHI_FROM_LOGS) add_ip(r, field_of(&c->f, "source.ip"));
    const char *prov = field_of(&c->f, "threat.indicator.provider");
    if (c->f.actor) exhi_list_add(r->actors, sizeof r->actors, c->f.actor);
    if (prov) exhi_list_add(r->actors, sizeof r->actors, prov);
  }
  qsort_r(r->steps, r->n_steps, sizeof r->steps[0], by_step_time, r);
  r->incident = r->n_steps > 0;
}

/* ---- actions -------------------------------------------------------------- */

typedef struct kv {
  const char *k, *v;
} kv;

/* Replaces {name} with its value; other braces are kept as they are. */
static char *fill(const char *tmpl, const kv *vars, size_t n) {
  size_t cap = strlen(tmpl) + 1;
  for (size_t i = 0; i < n; i++) cap += strlen(vars[i].v) * 4; /* a name used a few times */
  char *out = malloc(cap);
  if (!out) return NULL;
  size_t o = 0;
  for (const char *p = tmpl; *p;) {
    if (*p == '{') {
      const char *e = strchr(p, '}');
      size_t k = 0;
      for (; e && k < n; k++)
        if (strlen(vars[k].k) == (size_t)(e - p - 1) && !strncmp(p + 1, vars[k].k, (size_t)(e - p - 1)))
          break;
      if (e && k < n) {
        size_t l = strlen(vars[k].v);
        if (o + l < cap) {
          memcpy(out + o, vars[k].v, l);
          o += l;
        }
        p = e + 1;
        continue;
      }
    }
    if (o + 1 < cap) out[o++] = *p;
    p++;
  }
  out[o] = '\0';
  return out;
}

static void add_action(exh_check_result *r, const exh_check *c, const char *id, const kv *vars,
                       size_t n) {
  const exhi_action_def *d = exhi_action_get(&c->actions, id);
  if (!d) return; /* the table is tested to have every id (tests/test_check.c) */
  exhi_act *na = realloc(r->acts, (r->n_acts + 1) * sizeof *na);
  if (!na) return;
  r->acts = na;
  exhi_act *a = &r->acts[r->n_acts];
  memset(a, 0, sizeof *a);
  a->id = d->id;
  a->source = d->source;
  if (!(a->text = fill(d->text, vars, n))) return;
  r->n_acts++;
}

/* The files to remove: post-exploitation files, with their hashes. */
static void add_remove_items(exh_check_result *r) {
  exhi_act *a = &r->acts[r->n_acts - 1];
  for (size_t i = 0; i < r->n_f; i++) {
    const exhi_cf *c = &r->f[i];
    if (c->from != EXHI_FROM_FILES || !is_post_exploitation(c) || !c->f.path) continue;
    int dup = 0;
    for (size_t k = 0; k < a->n_items && !dup; k++)
      dup = !strncmp(a->items[k], c->f.path, strlen(c->f.path)) &&
            a->items[k][strlen(c->f.path)] == ' ';
    if (dup) continue;
    size_t len = strlen(c->f.path) + 80;
    char *item = malloc(len);
    char **ni = realloc(a->items, (a->n_items + 1) * sizeof *ni);
    if (!item || !ni) {
      free(item);
      if (ni) a->items = ni;
      return;
    }
    a->items = ni;
    snprintf(item, len, "%s  sha256 %s", c->f.path, c->f.sha256 ? c->f.sha256 : "unknown");
    a->items[a->n_items++] = item;
  }
}

static void plan(exh_check_result *r, const exh_check *c) {
  char first[40] = "the first event", build[64] = "", n_cves[24] = "", n_unfix[24] = "";
  char campaigns[256] = "", unfix_campaigns[256] = "", update[256] = "", kb[64] = "",
       target[256] = "";
  if (r->first_ms >= 0) exhi_format_time_ms(r->first_ms, first, sizeof first);
  const exh_assessment *as = r->assessment;
  if (as) {
    if (as->min_update) {
      exhi_strlcpy(update, as->min_update->name, sizeof update);
      exhi_strlcpy(kb, as->min_update->kb[0] ? as->min_update->kb : "KB unknown", sizeof kb);
      exh_build_format(&as->min_update->build, build, sizeof build);
    }
    if (as->target) exhi_strlcpy(target, as->target->name, sizeof target);
    snprintf(n_cves, sizeof n_cves, "%zu", as->n_open - as->n_unfixable);
    snprintf(n_unfix, sizeof n_unfix, "%zu", as->n_unfixable);
    /* Only the campaigns the update closes: the open list ends with the CVEs
     * no update of this CU closes (n_unfixable), named in update_cu. */
    size_t nfix = as->n_open - as->n_unfixable;
    char names[200];
    exhi_campaigns(as->open, nfix, names, sizeof names);
    if (names[0]) snprintf(campaigns, sizeof campaigns, " (%s)", names);
    exhi_campaigns(as->open + nfix, as->n_unfixable, names, sizeof names);
    if (names[0]) snprintf(unfix_campaigns, sizeof unfix_campaigns, " (%s)", names);
  }
  const kv vars[] = {{"host", r->name},
                     {"update", update},
                     {"kb", kb},
                     {"build", build},
                     {"n_cves", n_cves},
                     {"campaigns", campaigns},
                     {"target", target},
                     {"n_unfixable", n_unfix},
                     {"unfixable_campaigns", unfix_campaigns},
                     {"product", as && as->product ? as->product : "This Exchange version"},
                     {"support_end", as && as->support_end && *as->support_end ? as->support_end : "?"},
                     {"first", first},
                     {"missing", r->missing}};
  const size_t nv = EXHI_ARRAY_LEN(vars);
  int bad = r->compromise >= EXH_COMP_EXPLOITED;
  int dump = 0;
  for (size_t i = 0; i < r->n_f; i++)
    if (strstr(r->f[i].f.rule_id, "dump") && level_of(&r->f[i]) >= EXH_COMP_EXPLOITED) dump = 1;
  if (bad) {
    add_action(r, c, "isolate", vars, nv);
    add_action(r, c, "preserve", vars, nv);
  }
  if (r->compromise == EXH_COMP_COMPROMISED) {
    size_t before = r->n_acts;
    add_action(r, c, "remove_files", vars, nv);
    if (r->n_acts > before) {
      add_remove_items(r);
      if (!r->acts[r->n_acts - 1].n_items) { /* only log evidence of the shell */
        free(r->acts[r->n_acts - 1].text);
        r->n_acts--;
      }
    }
  }
  if (r->update == EXH_UPDATE_UNPATCHED) {
    if (as->min_update) add_action(r, c, "update", vars, nv);
    if (as->n_unfixable && as->target) add_action(r, c, "update_cu", vars, nv);
  }
  if (as && as->support == EXH_SUPPORT_ENDED) add_action(r, c, "unsupported", vars, nv);
  if (r->update == EXH_UPDATE_UNPATCHED) add_action(r, c, "mitigate", vars, nv);
  if (dump) add_action(r, c, "reset_creds_dump", vars, nv);
  else if (bad) add_action(r, c, "reset_creds", vars, nv);
  if (bad) {
    add_action(r, c, "lateral", vars, nv);
    add_action(r, c, "restore", vars, nv);
    add_action(r, c, "report", vars, nv);
  }
  if (r->update == EXH_UPDATE_UNKNOWN) add_action(r, c, "collect_build", vars, nv);
  if (r->compromise == EXH_COMP_UNKNOWN) add_action(r, c, "collect_missing", vars, nv);
  if (r->compromise == EXH_COMP_ATTEMPTED) add_action(r, c, "watch", vars, nv);
  if (r->compromise == EXH_COMP_NONE_FOUND && r->update == EXH_UPDATE_PATCHED)
    add_action(r, c, "keep_current", vars, nv);
}

/* ---- one server --------------------------------------------------------------- */

/* The names of the files in the log folders that the log hunt reads and the
 * file scan then leaves: Exchange's logs (HttpProxy_*.LOG, ECPServer*.LOG,
 * OABGenerator*.LOG, Rps_Cmdlet*.LOG), IIS's u_ex*.log, the event logs, and
 * logs an administrator compressed. Anything else in those folders (a page,
 * a dump, a tool, an archive) is still scanned: an attacker who can write
 * files (CVE-2021-26858, a web shell) can put them anywhere. IIS serves
 * nothing from these folders, so a .log there cannot run as a page. */
static const char *const hunted_exts[] = {".log", ".log.gz", ".evtx"};

/* The log hunt announces a long compile of the indicators' prefilter only
 * to a caller that takes its progress (a terminal that wants to hear: see
 * exh_loghunt_new); check shows no progress line, so it takes and drops it. */
static void no_progress(void *ctx, size_t files_done, size_t files_total, uint64_t bytes_done) {
  (void)ctx, (void)files_done, (void)files_total, (void)bytes_done;
}

int exh_check_run(const exh_check *c, const char *root, const char *name,
                  exh_check_result **out, exh_error *err) {
  return exh_check_run_archive(c, root, name, NULL, NULL, out, err);
}

int exh_check_run_archive(const exh_check *c, const char *root, const char *name,
                          const char *dir, const char *archive, exh_check_result **out,
                          exh_error *err) {
  *out = NULL;
  exh_check_result *r = calloc(1, sizeof *r);
  if (!r) return exhi_err(err, EXH_ERR_NOMEM, root, 0, -1, "out of memory");
  char nbuf[256];
  r->root = strdup(root);
  r->name = strdup(name ? name : base_name(root, nbuf, sizeof nbuf));
  r->first_ms = r->last_ms = -1;
  int rc = r->root && r->name ? EXH_OK : exhi_err(err, EXH_ERR_NOMEM, root, 0, -1, "out of memory");
  /* Taken now: a caller may change folders before recording sightings. A
   * folder that cannot be named (removed, too long) leaves paths as given. */
  char cwd[4096];
  if (!rc && getcwd(cwd, sizeof cwd) && !(r->cwd = strdup(cwd)))
    rc = exhi_err(err, EXH_ERR_NOMEM, root, 0, -1, "out of memory");
  if (!rc) rc = exhi_discover(root, &r->disc, err);
  if (rc) {
    if (dir && archive && err) exh_check_show_path(err->text, sizeof err->text, dir, archive);
    exh_check_result_free(r);
    return rc;
  }
  if (r->disc.truncated)
    keep_error_text(r, "discovery stopped after 5 000 000 entries: sources further on were not looked for");
  if (r->disc.unreadable) {
    char t[700];
    snprintf(t, sizeof t, "%zu folder(s) could not be opened, the first: %s", r->disc.unreadable,
             r->disc.first_unreadable);
    keep_error_text(r, t);
  }

  /* 1. The build, from the first ExSetup.exe found. */
  const exhi_src_found *ex = NULL;
  for (size_t s = 0; s < exhi_src_count && !ex; s++)
    if (exhi_src_defs[s].kind == EXHI_SRC_BUILD) ex = &r->disc.src[s];
  if (ex && ex->n_paths) {
    exh_error e;
    if (exh_input_read(ex->paths[0], &r->build, &e) == EXH_OK) {
      r->have_build = 1;
      if (exh_assess(c->kb, &r->build.build, r->build.precision, c->have_as_of ? c->as_of : NULL,
                     &r->assessment, &e) != EXH_OK) {
        exhi_strlcpy(r->build_error, e.text, sizeof r->build_error);
        keep_error_text(r, e.text);
      }
    } else {
      exhi_strlcpy(r->build_error, e.text, sizeof r->build_error);
      keep_error_text(r, e.text);
    }
  }

  /* 2. The logs of every log source found, in one hunt. */
  collector k = {.r = r, .from = EXHI_FROM_LOGS};
  exh_loghunt_options ho = {.since_ms = -1, .until_ms = -1, .threads = c->threads,
                            .iocs = c->iocs, .progress = c->notice ? no_progress : NULL};
  exh_loghunt *h = NULL;
  size_t added = 0;
  const char *hunted[EXHI_SRC_MAX_PATHS * 16]; /* the log folders, for the file scan to leave */
  rc = exh_loghunt_new(c->rules, &ho, &h, err);
  for (size_t s = 0; !rc && s < exhi_src_count; s++) {
    if (exhi_src_defs[s].kind != EXHI_SRC_LOGS) continue;
    for (size_t p = 0; p < r->disc.src[s].n_paths && p < EXHI_SRC_MAX_PATHS; p++) {
      exh_error e;
      if (exh_loghunt_add(h, r->disc.src[s].paths[p], &e) != EXH_OK) keep_error_text(r, e.text);
      else if (added < EXHI_ARRAY_LEN(hunted)) {
        /* Discovery spells folders below "/" as "//name", the file scan as "/name". */
        const char *hp = r->disc.src[s].paths[p];
        hunted[added++] = hp[0] == '/' && hp[1] == '/' ? hp + 1 : hp;
      }
    }
  }
  if (!rc && added) rc = exh_loghunt_run(h, err);
  if (!rc && added) {
    exh_output *o;
    rc = exh_output_new_callback(keep_finding, keep_log_error, &k, &o, err);
    if (!rc) {
      rc = exh_loghunt_emit(h, o);
      exh_output_free(o);
      if (rc) exhi_err(err, rc, root, 0, -1, "collecting the log findings failed");
    }
    exh_loghunt_get_stats(h, &r->logs);
  }
  exh_loghunt_free(h);

  /* 3. The whole tree through the file scanner: web shells, dumps, notes
   * can be anywhere; the path rules know the folders. The log files the
   * hunt just read are not read again (they are most of the bytes); what
   * else the log folders hold is scanned like any file (docs: README,
   * "exhunt check", why). */
  if (!rc) {
    k.from = EXHI_FROM_FILES;
    exh_error e;
    exhi_walk_skip skip = {.dirs = hunted, .n_dirs = added, .exts = hunted_exts,
                           .n_exts = EXHI_ARRAY_LEN(hunted_exts)};
    if (exhi_files_scan_skip(c->files, root, &skip, keep_finding, keep_files_error, &k, &r->files,
                             &e) != EXH_OK) {
      if (k.nomem) rc = exhi_err(err, EXH_ERR_NOMEM, root, 0, -1, "out of memory");
      else keep_error_text(r, e.text);
    }
  }
  /* Named as the responder knows it before anything is built from the paths. */
  if (!rc && dir && archive && exhi_check_rename(r, dir, archive))
    rc = exhi_err(err, EXH_ERR_NOMEM, archive, 0, -1, "out of memory");
  if (!rc && exhi_check_windows_paths(r)) rc = exhi_err(err, EXH_ERR_NOMEM, root, 0, -1, "out of memory");
  if (rc) {
    if (dir && archive && err) exh_check_show_path(err->text, sizeof err->text, dir, archive);
    exh_check_result_free(r);
    return rc;
  }
  for (size_t i = 0; i < r->n_f; i++)
    r->f[i].table_level =
        r->f[i].from == EXHI_FROM_LOGS ? exhi_verdict_level(&c->table, r->f[i].f.rule_id) : -1;
  attribute_coverage(r);
  verdict(r);
  correlate(r);
  if (exhi_incidents_split(r) != EXH_OK) {
    exh_check_result_free(r);
    return exhi_err(err, EXH_ERR_NOMEM, root, 0, -1, "out of memory");
  }
  plan(r, c);
  *out = r;
  return EXH_OK;
}

void exh_check_result_free(exh_check_result *r) {
  if (!r) return;
  free(r->name);
  free(r->root);
  free(r->cwd);
  exhi_discovery_clear(&r->disc);
  exh_assessment_free(r->assessment);
  for (size_t i = 0; i < r->n_f; i++) cf_clear(&r->f[i]);
  free(r->f);
  for (size_t i = 0; i < r->n_cov; i++) cf_clear(&r->cov[i]);
  free(r->cov);
  for (size_t i = 0; i < r->n_errors_kept; i++) free(r->errors[i]);
  free(r->errors);
  for (size_t i = 0; i < r->n_ips; i++) free(r->ips[i]);
  exhi_incidents_clear(r);
  for (size_t i = 0; i < r->n_acts; i++) {
    free(r->acts[i].text);
    for (size_t k = 0; k < r->acts[i].n_items; k++) free(r->acts[i].items[k]);
    free(r->acts[i].items);
  }
  free(r->acts);
  free(r);
}

void exh_check_get_summary(const exh_check_result *r, exh_check_summary *s) {
  memset(s, 0, sizeof *s);
  s->name = r->name;
  s->update = r->update;
  s->compromise = r->compromise;
  for (size_t i = 0; i < r->n_f; i++) s->findings += r->f[i].f.severity >= EXH_SEV_LOW;
  s->errors = r->n_errors;
  s->first_ms = r->first_ms;
  s->last_ms = r->last_ms;
  s->incidents = r->n_inc;
}
