/* exhunt logs: files -> blocks -> prefiltered lines -> records -> rules ->
 * hits, grouped per rule and client and judged as a chain; a bounded pool
 * of threads, one file at a time each; results merged so output is stable. */
#define _GNU_SOURCE /* memrchr */
#include "../files/walk.h"
#include "../findings/log_findings.h"
#include "logioc.h"
#include "../outputs/output.h"
#include "../readers/evtx.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* Files in one hunt: a triage collection of many servers has tens of
 * thousands; a million keeps the file table under ~100 MiB. */
#define MAX_FILES 1000000
/* Folder depth searched under each PATH: as deep as exhunt files walks,
 * since exhunt check leaves the log files below a log folder to this hunt,
 * at whatever depth the files scan meets them. */
#define MAX_DEPTH EXHI_WALK_MAX_DEPTH
/* Distinct (rule, outcome, client) groups per file; more (a botnet) fold
 * into one "many clients" group per rule and outcome. */
#define MAX_GROUPS_PER_FILE 20000
/* --timeline keeps each hit (about 1 KiB with its evidence): 200 000 of
 * them in all keeps a hunt near 200 MiB; later hits are counted, not kept. */
#define MAX_TIMELINE_HITS 200000
#define MAX_THREADS 16

struct exh_logrules {
  exhi_lr *lr;
  exh_ioc_set *own_iocs; /* the iocs_csv file's indicators, or NULL */
};

int exh_logrules_load(int builtin, const char *const *dirs, size_t n_dirs, const char *iocs_csv,
                      exh_logrules **out, exh_error *err) {
  *out = NULL;
  exh_logrules *r = calloc(1, sizeof *r);
  if (!r) return exhi_err(err, EXH_ERR_NOMEM, "rules", 0, -1, "out of memory");
  int rc = exhi_lr_load(builtin, dirs, n_dirs, NULL, &r->lr, err);
  if (!rc && iocs_csv && (rc = exhi_logioc_load_file(iocs_csv, &r->own_iocs, err)))
    exhi_lr_free(r->lr);
  if (rc) {
    free(r);
    return rc;
  }
  *out = r;
  return EXH_OK;
}

void exh_logrules_free(exh_logrules *r) {
  if (!r) return;
  exhi_lr_free(r->lr);
  exh_ioc_set_free(r->own_iocs);
  free(r);
}

size_t exh_logrules_count(const exh_logrules *r) { return exhi_lr_count(r->lr); }

typedef struct fileres {
  char *path;
  int status;           /* EXH_OK, or the read error */
  exh_error err;
  int skipped;          /* not a text log */
  int kind;
  uint64_t bytes, lines, candidates, events;
  int64_t first_ms, last_ms; /* first and last record time */
  uint64_t size;        /* at discovery */
  uint64_t cost;        /* its size weighed by its kind: the order files are taken in */
  exhi_hit *hits;
  size_t n_hits, cap_hits;
  uint32_t *table;      /* hash of groups: index+1, 0 empty */
  size_t table_cap;
} fileres;

struct exh_loghunt {
  const exh_logrules *rules;
  exh_loghunt_options opt;
  char *cwd;            /* where relative paths start (sightings name files absolutely); may be NULL */
  fileres *files;
  size_t n_files, cap_files;
  atomic_size_t next;
  pthread_mutex_t mu;
  size_t done;
  uint64_t bytes_done;
  exhi_hit *merged;
  size_t n_merged;
  size_t *via;          /* per merged group: the follow-up's index, or SIZE_MAX */
  size_t *order;        /* file indexes, largest first */
  atomic_size_t timeline_kept, timeline_dropped;
  int ran;
  /* Indicator sets looked up per record: [0] the store's (opt.iocs), then
   * the rules' own (--iocs). store_set: index of opt.iocs, or -1. */
  exhi_logioc iocs;
  int store_set;
};

int exh_loghunt_new(const exh_logrules *rules, const exh_loghunt_options *opt,
                    exh_loghunt **out, exh_error *err) {
  *out = NULL;
  exh_loghunt *h = calloc(1, sizeof *h);
  if (!h) return exhi_err(err, EXH_ERR_NOMEM, NULL, 0, -1, "out of memory");
  h->rules = rules;
  if (opt) h->opt = *opt;
  else h->opt.since_ms = h->opt.until_ms = -1;
  h->store_set = exhi_logioc_add(&h->iocs, h->opt.iocs);
  exhi_logioc_add(&h->iocs, rules->own_iocs);
  /* A progress callback means a terminal that wants to hear (cli/logs.c). */
  h->iocs.notice = h->opt.progress != NULL;
  int rc = exhi_logioc_prepare(&h->iocs, err);
  if (rc) {
    exhi_logioc_release(&h->iocs);
    free(h);
    return rc;
  }
  pthread_mutex_init(&h->mu, NULL);
  /* Taken now: the paths added are relative to this folder. */
  char cwd[4096];
  if (getcwd(cwd, sizeof cwd)) h->cwd = strdup(cwd);
  *out = h;
  return EXH_OK;
}

static int add_file(exh_loghunt *h, const char *path, uint64_t size, exh_error *err) {
  if (h->n_files >= MAX_FILES)
    return exhi_err(err, EXH_ERR_LIMIT, path, 0, -1, "more than %d files in one hunt", MAX_FILES);
  if (h->n_files == h->cap_files) {
    size_t nc = h->cap_files ? h->cap_files * 2 : 64;
    fileres *q = realloc(h->files, nc * sizeof *q);
    if (!q) return exhi_err(err, EXH_ERR_NOMEM, path, 0, -1, "out of memory");
    h->files = q;
    h->cap_files = nc;
  }
  fileres *f = &h->files[h->n_files];
  memset(f, 0, sizeof *f);
  f->path = strdup(path);
  if (!f->path) return exhi_err(err, EXH_ERR_NOMEM, path, 0, -1, "out of memory");
  f->first_ms = f->last_ms = -1;
  f->size = size;
  /* Costliest first, so that no thread is left with a big file at the end
   * while the others wait. IIS logs cost about 3x per byte what the other
   * kinds do (bench/logs: every line's columns are read, not only the
   * prefilter's hits). */
  f->cost = exhi_logkind_of_path(path) == EXHI_LOG_IIS ? 3 * size : size;
  h->n_files++;
  return EXH_OK;
}

static int cmp_name(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int walk(exh_loghunt *h, const char *dir, int depth, exh_error *err) {
  if (depth > MAX_DEPTH) return EXH_OK;
  DIR *d = opendir(dir);
  if (!d) return exhi_err(err, EXH_ERR_IO, dir, 0, -1, "cannot open folder: %s", strerror(errno));
  char **names = NULL;
  size_t n = 0, cap = 0;
  int rc = EXH_OK;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    if (n == cap) {
      size_t nc = cap ? cap * 2 : 64;
      char **q = realloc(names, nc * sizeof *q);
      if (!q) { rc = exhi_err(err, EXH_ERR_NOMEM, dir, 0, -1, "out of memory"); break; }
      names = q;
      cap = nc;
    }
    if (!(names[n] = strdup(e->d_name))) { rc = exhi_err(err, EXH_ERR_NOMEM, dir, 0, -1, "out of memory"); break; }
    n++;
  }
  closedir(d);
  /* Sorted names: the same tree gives the same order, run after run. */
  if (!rc && n) qsort(names, n, sizeof *names, cmp_name); /* qsort(NULL, 0) is undefined */
  for (size_t i = 0; i < n && !rc; i++) {
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, names[i]) >= sizeof path) continue;
    struct stat st;
    if (lstat(path, &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) rc = walk(h, path, depth + 1, err);
    else if (S_ISREG(st.st_mode)) rc = add_file(h, path, (uint64_t)st.st_size, err);
    /* links and devices: never followed, never read */
  }
  for (size_t i = 0; i < n; i++) free(names[i]);
  free(names);
  return rc;
}

int exh_loghunt_add(exh_loghunt *h, const char *path, exh_error *err) {
  struct stat st;
  if (stat(path, &st) != 0)
    return exhi_err(err, EXH_ERR_IO, path, 0, -1, "cannot open: %s", strerror(errno));
  if (S_ISDIR(st.st_mode)) return walk(h, path, 0, err);
  /* A FIFO or a device would block or never end: logs are regular files. */
  if (!S_ISREG(st.st_mode)) return exhi_err(err, EXH_ERR_IO, path, 0, -1, "not a regular file");
  return add_file(h, path, (uint64_t)st.st_size, err);
}

/* ---- one file ------------------------------------------------------------ */

typedef struct worker {
  exh_loghunt *h;
  exhi_lr_scan *scan;
  exhi_logschema schema;
  exhi_logrec rec;
  fileres *f;
  size_t file_index;
  const char *block;
  uint64_t line_base;    /* line number of block[0] */
  size_t counted_to;     /* newlines counted up to here in block */
  int64_t cur_line;
  char val[EXHI_HIT_VALUE_MAX + 1];
  exh_error err;
  int prefiltering;      /* lines come from the prefilter (else: all lines) */
  int ioc_lines;         /* all lines, for the indicators; rules prefiltered per line */
  size_t slice;          /* offset of the prefiltered slice in block */
  size_t restart_at;     /* after a kind change: prefilter again from here */
  int restarted;         /* the block's layout changed mid-block (times) */
  int rest_all_lines;    /* it changed again: the rest of the block line by line */
  const exhi_logschema *cols_schema; /* cached columns of on_hit */
  unsigned cols_gen;
  int ip_col, status_col, server_col;
  int64_t evtx_ms;       /* time of the event record being evaluated */
  exhi_logioc_cols ioc_cols;
  exhi_logioc_lines *ioc_pick; /* the lines holding an indicator's literal */
  size_t piece_at;       /* the piece being prefiltered starts here, */
  uint64_t piece_base;   /*   after this many lines */
  int init_rc;           /* making scan or ioc_pick failed: this, */
  exh_error init_err;    /*   saying why */
  int ioc_picked;        /* this slice's lines are picked for the indicators */
  size_t block_len;
  const exh_ioc *cur_ioc; /* the indicator of the hit being added */
  size_t cur_set;
  const char *cur_field;
} worker;

static const char *const evidence_fields[] = {
    "source.ip", "url.domain", "http.request.method", "url.path", "url.query",
    "http.response.status_code", "user_agent.original", "user.name", "exhunt.anchor_mailbox",
};
static const struct { const char *ecs, *native; } exchange_fields[] = {
    {"exhunt.routing_hint", "RoutingHint"},
    {"exhunt.target_server_version", "TargetServerVersion"},
    {"exhunt.request_id", "RequestId"},
};

static char *dup_value(worker *w, int col, int w3c) {
  size_t len;
  const char *v = exhi_logrec_value(&w->rec, col, w->val, sizeof w->val, &len);
  if (!v || !len) return NULL;
  if (w3c && len == 1 && v[0] == '-') return NULL;
  if (len > EXHI_HIT_VALUE_MAX) len = EXHI_HIT_VALUE_MAX;
  char *s = malloc(len + 1);
  if (!s) return NULL;
  memcpy(s, v, len);
  s[len] = '\0';
  /* Strings with NUL inside are cut there: outputs escape the rest. */
  return s;
}

static const struct { const char *ecs, *native; } evtx_fields[] = {
    {"winlog.event_id", "EventID"},
    {"winlog.channel", "Channel"},
    {"winlog.provider_name", "Provider_Name"},
    {"host.name", "Computer"},
    {"process.executable", "Image"},
    {"process.command_line", "CommandLine"},
    {"process.parent.executable", "ParentImage"},
    {"user.name", "User"},
    {"user.target.name", "TargetUserName"},
    {"group.name", "TargetUserName"},
};

static void fill_fields(worker *w, exhi_hit *hit) {
  const exhi_logschema *s = &w->schema;
  if (s->kind == EXHI_LOG_EVTX) {
    for (size_t i = 0; i < EXHI_ARRAY_LEN(evtx_fields) && hit->n_fields < EXHI_HIT_FIELDS - 1; i++) {
      int col = exhi_lr_field_col(s, evtx_fields[i].native);
      if (col < 0 || (i == 9 && exhi_lr_field_col(s, "MemberName") < 0)) continue;
      if (i == 8 && exhi_lr_field_col(s, "MemberName") >= 0) continue; /* a group, not a user */
      char *v = dup_value(w, col, 0);
      if (v) hit->fields[hit->n_fields++] = (exh_field){evtx_fields[i].ecs, v};
    }
  }
  int w3c = s->syntax == EXHI_SYN_W3C;
  for (size_t i = 0; i < EXHI_ARRAY_LEN(evidence_fields) && hit->n_fields < EXHI_HIT_FIELDS; i++) {
    int col = exhi_lr_field_col(s, evidence_fields[i]);
    if (col < 0) continue;
    char *v = dup_value(w, col, w3c);
    if (v) hit->fields[hit->n_fields++] = (exh_field){evidence_fields[i], v};
  }
  for (size_t i = 0; i < EXHI_ARRAY_LEN(exchange_fields) && hit->n_fields < EXHI_HIT_FIELDS; i++) {
    int col = exhi_logschema_col(s, exchange_fields[i].native);
    if (col < 0) continue;
    char *v = dup_value(w, col, w3c);
    if (v) hit->fields[hit->n_fields++] = (exh_field){exchange_fields[i].ecs, v};
  }
  if (hit->n_fields == 0 || (s->kind != EXHI_LOG_HTTPPROXY && s->kind != EXHI_LOG_IIS &&
                             s->kind != EXHI_LOG_EVTX)) {
    size_t len = w->rec.len > EXHI_HIT_VALUE_MAX ? EXHI_HIT_VALUE_MAX : w->rec.len;
    char *v = malloc(len + 1);
    if (v) {
      memcpy(v, w->rec.line, len);
      v[len] = '\0';
      if (hit->n_fields < EXHI_HIT_FIELDS) hit->fields[hit->n_fields++] = (exh_field){"event.original", v};
      else free(v);
    }
  }
}

static uint64_t hash_key(size_t rule, const char *key) {
  uint64_t x = 1469598103934665603ull ^ (rule * 0x9E3779B97F4A7C15ull);
  for (const unsigned char *p = (const unsigned char *)key; *p; p++) x = (x ^ *p) * 1099511628211ull;
  return x;
}

static int table_grow(fileres *f) {
  size_t nc = f->table_cap ? f->table_cap * 2 : 64;
  uint32_t *t = calloc(nc, sizeof *t);
  if (!t) return -1;
  for (size_t i = 0; i < f->n_hits; i++) {
    exhi_hit *g = &f->hits[i];
    size_t j = hash_key(g->rule, g->key) & (nc - 1);
    while (t[j]) j = (j + 1) & (nc - 1);
    t[j] = (uint32_t)(i + 1);
  }
  free(f->table);
  f->table = t;
  f->table_cap = nc;
  return 0;
}

/* The group of (rule, key), or NULL; *slot: where a new one goes. */
static exhi_hit *group_find(fileres *f, size_t rule, const char *key, size_t *slot) {
  size_t j = hash_key(rule, key) & (f->table_cap - 1);
  while (f->table[j]) {
    exhi_hit *g = &f->hits[f->table[j] - 1];
    if (g->rule == rule && !strcmp(g->key, key)) return g;
    j = (j + 1) & (f->table_cap - 1);
  }
  *slot = j;
  return NULL;
}

/* Whether hit a (outcome, time, file, line) is better evidence for its
 * group than b: a success over a failure (the analyst's first question is
 * "did it work"), then the earlier, then file and line order (stable). */
static int evidence_before(int oa, int64_t ta, size_t fa, int64_t la, int ob, int64_t tb, size_t fb,
                           int64_t lb) {
  if ((oa == EXHI_OUTCOME_EXPLOITED) != (ob == EXHI_OUTCOME_EXPLOITED))
    return oa == EXHI_OUTCOME_EXPLOITED;
  if (ta != tb) {
    if (ta < 0) return 0;
    if (tb < 0) return 1;
    return ta < tb;
  }
  if (fa != fb) return fa < fb;
  return la < lb;
}

static void group_count(exhi_hit *g, int outcome, int64_t t) {
  if (outcome == EXHI_OUTCOME_EXPLOITED) {
    g->succeeded++;
    if (t >= 0 && (g->success_ms < 0 || t < g->success_ms)) g->success_ms = t;
  } else if (outcome == EXHI_OUTCOME_ATTEMPTED) {
    g->failed++;
  }
}

static int on_hit(void *c, size_t rule, const char *detail) {
  worker *w = c;
  fileres *f = w->f;
  const exhi_lr *lr = w->h->rules->lr;
  const exhi_lr_rule *r = exhi_hit_rule(lr, rule);
  int is_ioc = exhi_hit_rule_is_ioc(lr, rule);
  /* A hit reads every column (time, client, evidence). */
  if (w->rec.partial) exhi_logrec_split(&w->rec, &w->schema, w->rec.line, w->rec.len);
  int64_t t = w->schema.kind == EXHI_LOG_EVTX ? w->evtx_ms : exhi_logrec_time(&w->rec);
  if (r->channel) {
    /* A rule for one event log (Sigma's service) ignores the others. */
    size_t len;
    const char *ch = exhi_logrec_value(&w->rec, exhi_logschema_col(&w->schema, "Channel"), w->val,
                                       sizeof w->val, &len);
    if (!ch || !exhi_ascii_ieq(ch, len, r->channel)) return 0;
  }
  const exh_loghunt_options *o = &w->h->opt;
  if (t >= 0 && ((o->since_ms >= 0 && t < o->since_ms) || (o->until_ms >= 0 && t > o->until_ms)))
    return 0;
  f->events++;
  if (w->cols_schema != &w->schema || w->cols_gen != w->schema.generation) {
    w->ip_col = exhi_lr_field_col(&w->schema, "source.ip");
    w->status_col = exhi_lr_field_col(&w->schema, "http.response.status_code");
    /* Which server wrote the line: HttpProxy, ECP Server, IIS (optional). */
    static const char *const server_cols[] = {"ServerHostName", "ServerName", "s-computername"};
    w->server_col = -1;
    for (size_t i = 0; i < EXHI_ARRAY_LEN(server_cols) && w->server_col < 0; i++)
      w->server_col = exhi_logschema_col(&w->schema, server_cols[i]);
    w->cols_schema = &w->schema;
    w->cols_gen = w->schema.generation;
  }
  int outcome = r->outcome;
  if (r->n_success) {
    int col = w->status_col;
    size_t len;
    const char *v = exhi_logrec_value(&w->rec, col, w->val, sizeof w->val, &len);
    outcome = EXHI_OUTCOME_ATTEMPTED;
    for (size_t i = 0; v && i < r->n_success; i++)
      if (strlen(r->success_status[i]) == len && !memcmp(r->success_status[i], v, len))
        outcome = EXHI_OUTCOME_EXPLOITED;
  }
  /* Group key: the client address. */
  char keybuf[160] = "";
  int ipcol = w->ip_col;
  if (ipcol >= 0) {
    size_t len;
    const char *v = exhi_logrec_value(&w->rec, ipcol, w->val, sizeof w->val, &len);
    if (v) snprintf(keybuf, sizeof keybuf, "%.*s", (int)(len > 64 ? 64 : len), v);
  } else if (w->schema.kind == EXHI_LOG_EVTX) {
    /* Events: one finding per computer and program (or group changed). */
    size_t hl = 0, il = 0;
    const char *host = exhi_logrec_value(&w->rec, exhi_logschema_col(&w->schema, "Computer"), w->val,
                                         sizeof w->val, &hl);
    int what = exhi_lr_field_col(&w->schema, "Image");
    if (what < 0) what = exhi_logschema_col(&w->schema, "TargetUserName");
    char hostbuf[72];
    snprintf(hostbuf, sizeof hostbuf, "%.*s", host ? (int)(hl > 64 ? 64 : hl) : 0, host ? host : "");
    const char *img = exhi_logrec_value(&w->rec, what, w->val, sizeof w->val, &il);
    snprintf(keybuf, sizeof keybuf, "%s|%.*s", hostbuf, img ? (int)(il > 80 ? 80 : il) : 0,
             img ? img : "");
  }
  char server[EXHI_HIT_SERVER_MAX + 1] = "";
  if (w->server_col >= 0 && w->schema.kind != EXHI_LOG_EVTX) {
    size_t len;
    const char *v = exhi_logrec_value(&w->rec, w->server_col, w->val, sizeof w->val, &len);
    if (v && !(len == 1 && v[0] == '-'))
      snprintf(server, sizeof server, "%.*s", (int)(len > EXHI_HIT_SERVER_MAX ? EXHI_HIT_SERVER_MAX : len), v);
    /* One chain per client and server: a collection of many servers
     * judges each on its own. An indicator is about the client, not a
     * chain: one finding whatever logs (IIS seldom names its server). */
    size_t kl = strlen(keybuf);
    if (server[0] && !is_ioc) snprintf(keybuf + kl, sizeof keybuf - kl, "@%s", server);
  }
  if (is_ioc) {
    /* One finding per client and indicator (and so per source). */
    size_t kl = strlen(keybuf);
    snprintf(keybuf + kl, sizeof keybuf - kl, "|ioc%zu:%lld", w->cur_set, (long long)w->cur_ioc->id);
  }
  int timeline = w->h->opt.timeline;
  exhi_hit *g = NULL;
  if (!timeline) {
    if (f->n_hits * 2 >= f->table_cap && table_grow(f)) return EXH_ERR_NOMEM;
    size_t slot = 0;
    g = group_find(f, rule, keybuf, &slot);
    if (!g && f->n_hits >= MAX_GROUPS_PER_FILE) {
      strcpy(keybuf, "(many clients)");
      g = group_find(f, rule, keybuf, &slot);
    }
    if (g) {
      g->count++;
      group_count(g, outcome, t);
      if (t >= 0 && (g->first_ms < 0 || t < g->first_ms)) g->first_ms = t;
      if (t > g->last_ms) g->last_ms = t;
      if (!evidence_before(outcome, t, w->file_index, w->cur_line, g->outcome, g->evidence_ms,
                           g->file, g->line))
        return 0;
      /* This hit becomes the group's evidence: its first success (or an
       * earlier hit than the one kept, in a file not in time order). */
      for (size_t i = 0; i < g->n_fields; i++) free((void *)(uintptr_t)g->fields[i].value);
      g->n_fields = 0;
      free(g->detail);
      g->detail = NULL;
    } else {
      f->table[slot] = (uint32_t)(f->n_hits + 1);
    }
  } else if (atomic_fetch_add(&w->h->timeline_kept, 1) >= MAX_TIMELINE_HITS) {
    atomic_fetch_add(&w->h->timeline_dropped, 1);
    return 0;
  }
  if (!g) {
    if (f->n_hits == f->cap_hits) {
      size_t nc = f->cap_hits ? f->cap_hits * 2 : 16;
      exhi_hit *q = realloc(f->hits, nc * sizeof *q);
      if (!q) return EXH_ERR_NOMEM;
      f->hits = q;
      f->cap_hits = nc;
    }
    g = &f->hits[f->n_hits++];
    memset(g, 0, sizeof *g);
    g->rule = rule;
    g->first_ms = g->last_ms = t;
    g->success_ms = -1;
    g->count = 1;
    group_count(g, outcome, t);
    g->key = strdup(keybuf);
    if (!g->key) return EXH_ERR_NOMEM;
  }
  g->outcome = outcome;
  g->kind = w->schema.kind;
  g->file = w->file_index;
  g->line = w->cur_line;
  g->evidence_ms = t;
  memcpy(g->server, server, sizeof server);
  g->detail = detail ? strdup(detail) : NULL;
  if (is_ioc) {
    g->ioc = w->cur_ioc;
    g->ioc_set = w->cur_set;
    g->ioc_field = w->cur_field;
  }
  fill_fields(w, g);
  return 0;
}

/* Line number of block offset `at` (counting newlines since the last call). */
static int64_t line_at(worker *w, size_t at) {
  if (at > w->counted_to) w->line_base += exhi_count_newlines(w->block + w->counted_to, at - w->counted_to);
  w->counted_to = at;
  return (int64_t)w->line_base + 1;
}

static void note_time(worker *w, const char *line, size_t len, int first) {
  exhi_logrec *r = &w->rec;
  exhi_logrec_split(r, &w->schema, line, len);
  int64_t t = exhi_logrec_time(r);
  if (t < 0) return;
  /* Rows are not always in time order: keep the extremes of what was seen. */
  (void)first;
  if (w->f->first_ms < 0 || t < w->f->first_ms) w->f->first_ms = t;
  if (t > w->f->last_ms) w->f->last_ms = t;
}

static int on_ioc(void *c, int which, size_t set, const exh_ioc *ioc, const char *field) {
  worker *w = c;
  w->cur_ioc = ioc;
  w->cur_set = set;
  w->cur_field = field;
  return on_hit(w, exhi_lr_count(w->h->rules->lr) + (size_t)which, NULL);
}

static int line_mask(void *c, size_t a, size_t b, uint64_t rules) {
  (void)a, (void)b;
  *(uint64_t *)c |= rules;
  return 0;
}

/* do_line's code for "the log kind changed: prefilter the rest again". */
#define RESTART 1000

/* The picked lines for the indicators that start before block offset
 * `before`, looked up. */
static int ioc_before(worker *w, size_t before) {
  size_t a;
  while ((a = exhi_logioc_next(w->ioc_pick, before)) != SIZE_MAX) {
    const char *line = w->block + a;
    const char *e = memchr(line, '\n', w->block_len - a);
    size_t len = e ? (size_t)(e - line) : w->block_len - a;
    /* Preamble lines come to do_line (the rules' prefilter reports each). */
    if (!len || line[0] == '#' || (len == 1 && line[0] == '\r')) continue;
    if (w->schema.nfields == 0) exhi_logschema_guess(&w->schema, line, len);
    w->f->candidates++;
    w->cur_line = line_at(w, a);
    exhi_logrec_split(&w->rec, &w->schema, line, len);
    int rc = exhi_logioc_match(&w->h->iocs, &w->ioc_cols, &w->rec, on_ioc, w);
    if (rc) return rc;
  }
  return 0;
}

/* The picked lines before block offset `upto`, looked up; *here: whether
 * the line at upto is one of them (taken: the caller looks it up). */
static int ioc_upto(worker *w, size_t upto, int *here) {
  int rc = ioc_before(w, upto);
  *here = !rc && exhi_logioc_next(w->ioc_pick, upto + 1) != SIZE_MAX;
  return rc;
}

/* One line (a candidate, or every line when the kind needs that). */
static int do_line(void *c, size_t a, size_t b, uint64_t rules) {
  worker *w = c;
  const char *line = w->block + a;
  size_t len = b - a;
  int ioc_here = 0;
  if (w->ioc_picked) {
    int rc = ioc_upto(w, a, &ioc_here);
    if (rc) return rc;
  }
  if (len && line[0] == '#') {
    int kind = w->schema.kind;
    exhi_logschema_header(&w->schema, line, len);
    /* The prefilter picked the lines after this one for the old layout: a
     * new kind (other rules), or new columns (IIS writes its preamble again
     * when it restarts, with the fields of that moment). The first change
     * in a block prefilters the rest again; after that, the rest of the
     * block is read line by line, so a block of alternating preambles costs
     * its length once rather than once per preamble. */
    if (w->prefiltering &&
        (w->schema.kind != kind || !exhi_lr_prefilter_cols_hold(w->scan, &w->schema))) {
      w->restart_at = b + 1;
      if (w->restarted++) w->rest_all_lines = 1;
      return RESTART;
    }
    return 0;
  }
  if (!len || (len == 1 && line[0] == '\r')) return 0;
  if (w->schema.nfields == 0) exhi_logschema_guess(&w->schema, line, len);
  w->f->candidates++;
  w->cur_line = line_at(w, a);
  if (w->ioc_lines) {
    /* Indicators may sit in any column: split the whole line. */
    exhi_logrec_split(&w->rec, &w->schema, line, len);
    int rc = exhi_logioc_match(&w->h->iocs, &w->ioc_cols, &w->rec, on_ioc, w);
    if (rc) return rc;
    /* Every line came here for the indicators: the rules still see only
     * the lines their prefilter picks, as without indicators. */
    if (w->ioc_lines == 1) {
      uint64_t mask = 0;
      rc = exhi_lr_prefilter(w->scan, &w->schema, line, len, line_mask, &mask, &w->err);
      if (rc) return rc;
      if (!mask) return 0;
      rules = mask;
    }
  } else if (ioc_here) {
    /* Picked for an indicator too: split whole, looked up, then the rules. */
    exhi_logrec_split(&w->rec, &w->schema, line, len);
    int rc = exhi_logioc_match(&w->h->iocs, &w->ioc_cols, &w->rec, on_ioc, w);
    if (rc) return rc;
  } else if (w->schema.syntax == EXHI_SYN_W3C || w->schema.syntax == EXHI_SYN_CSV) {
    /* Only the columns the rules read: a hit splits the rest (on_hit). */
    exhi_logrec_split_upto(&w->rec, &w->schema, line, len,
                           exhi_lr_cols_needed(w->scan, &w->schema, rules));
  } else {
    exhi_logrec_split(&w->rec, &w->schema, line, len);
  }
  return exhi_lr_eval(w->scan, &w->rec, rules, on_hit, w, &w->err);
}

/* Prefilter callbacks give offsets in the slice being scanned. */
static int do_line_pf(void *c, size_t a, size_t b, uint64_t rules) {
  worker *w = c;
  /* The prefilter may know the line's number (litscan counts lines as it
   * scans): then the piece is not read again up to it. Not when indicators
   * picked lines, which are numbered first, in order. */
  size_t k = exhi_lr_prefilter_line_no(w->scan);
  if (k != SIZE_MAX && !w->ioc_picked && w->slice == w->piece_at && a + w->slice >= w->counted_to) {
    w->line_base = w->piece_base + k;
    w->counted_to = a + w->slice;
  }
  return do_line(c, a + w->slice, b + w->slice, rules);
}

/* Prefilter piece: below the per-core cache (1 MiB L2 on current x86). */
#define PIECE ((size_t)256 << 10)

/* The length of the piece starting at p: whole lines up to PIECE bytes
 * (one longer line whole), or all n. */
static size_t piece_at_line_end(const char *p, size_t n) {
  if (n <= PIECE) return n;
  const char *nl = memrchr(p, '\n', PIECE);
  if (!nl) nl = memchr(p + PIECE, '\n', n - PIECE);
  return nl ? (size_t)(nl - p) + 1 : n;
}

static int all_lines(worker *w, size_t from, size_t len) {
  size_t a = from;
  while (a < len) {
    const char *e = memchr(w->block + a, '\n', len - a);
    size_t b = e ? (size_t)(e - w->block) : len;
    int rc = do_line(w, a, b, EXHI_LR_ALL);
    if (rc) return rc;
    a = b + 1;
  }
  return 0;
}

/* Whether the first bytes look like a binary file (not a text log). */
static int looks_binary(const char *p, size_t n) {
  if (n > 4096) n = 4096;
  /* UTF-16 logs have NULs too; Exchange and IIS write UTF-8/ASCII. */
  return memchr(p, '\0', n) != NULL;
}

static int on_event(void *c, const exhi_logrec *rec, int64_t time_ms, int64_t record_no) {
  worker *w = c;
  (void)rec; /* w->rec itself */
  w->evtx_ms = time_ms;
  w->cur_line = record_no;
  w->f->candidates++;
  if (time_ms >= 0) {
    if (w->f->first_ms < 0 || time_ms < w->f->first_ms) w->f->first_ms = time_ms;
    if (time_ms > w->f->last_ms) w->f->last_ms = time_ms;
  }
  return exhi_lr_eval(w->scan, &w->rec, EXHI_LR_ALL, on_hit, w, &w->err);
}

/* Whether the file is a Windows event log (by content, not name). */
static int is_evtx(const char *path) {
  int fd = exhi_open_ro(path);
  if (fd < 0) return 0;
  unsigned char head[8];
  ssize_t n = pread(fd, head, sizeof head, 0);
  close(fd);
  return n == (ssize_t)sizeof head && exhi_evtx_is(head, sizeof head);
}

static void scan_file(worker *w) {
  fileres *f = w->f;
  const exhi_lr *lr = w->h->rules->lr;
  exhi_logsrc *src;
  exh_error *err = &f->err;
  if (is_evtx(f->path)) {
    uint64_t n = 0;
    f->kind = EXHI_LOG_EVTX;
    f->status = exhi_evtx_read(f->path, &w->schema, &w->rec, on_event, w, &n, err);
    if (f->status && w->err.text[0] && f->status != EXH_ERR_PARSE) *err = w->err;
    f->lines = n;
    struct stat st;
    if (stat(f->path, &st) == 0) f->bytes = (uint64_t)st.st_size;
    return;
  }
  if ((f->status = exhi_logsrc_open(f->path, &src, err)) != EXH_OK) return;
  exhi_logschema_init(&w->schema);
  exhi_logschema_hint_path(&w->schema, f->path);
  w->line_base = 0;
  int first = 1;
  for (;;) {
    const char *block;
    size_t len;
    if ((f->status = exhi_logsrc_next(src, &block, &len, err)) != EXH_OK) break;
    if (!len) break;
    if (first && looks_binary(block, len)) {
      f->skipped = 1;
      break;
    }
    w->block = block;
    w->block_len = len;
    w->counted_to = 0;
    /* The first data line: bind a layout for files without a preamble and
     * note the oldest time (evidence age). */
    if (first) {
      size_t a = 0;
      while (a < len) {
        const char *e = memchr(block + a, '\n', len - a);
        size_t b = e ? (size_t)(e - block) : len;
        if (b > a && block[a] == '#') {
          exhi_logschema_header(&w->schema, block + a, b - a);
        } else if (b > a + 1) {
          if (w->schema.nfields == 0) exhi_logschema_guess(&w->schema, block + a, b - a);
          note_time(w, block + a, b - a, 1);
          break;
        }
        a = b + 1;
      }
      /* The loop reads the preamble again: applying it twice is harmless. */
      first = 0;
    }
    int rc;
    size_t from = 0;
    w->rest_all_lines = w->restarted = 0;
    for (;;) {
      w->prefiltering = !exhi_lr_needs_all_lines(lr, w->schema.kind) && !w->rest_all_lines;
      /* Indicators: every line of a web log is looked up when their own
       * prefilter cannot pick the lines (an indicator with no literal). */
      int ioc_kind = w->h->iocs.n_sets && exhi_logioc_kind(w->schema.kind);
      /* (2: the rules read every line anyway.) */
      w->ioc_lines = ioc_kind ? (w->prefiltering ? 1 : 2) : 0;
      /* ...unless the indicators' own prefilter picks their lines. */
      w->ioc_picked = 0;
      if (ioc_kind && exhi_logioc_picking(&w->h->iocs) != EXHI_LOGIOC_PICK_EVERY) {
        w->ioc_lines = 0;
        w->ioc_picked = w->ioc_pick != NULL;
        if (w->ioc_picked &&
            (rc = exhi_logioc_pick(w->ioc_pick, block, from, len, &w->err)) != EXH_OK)
          break;
      }
      if (w->ioc_lines) w->prefiltering = 0;
      w->slice = from;
      if (!w->prefiltering) {
        rc = all_lines(w, from, len);
      } else {
        /* In pieces that stay in the core's cache, so the line count that
         * follows each reads what the scan just brought in. */
        rc = 0;
        for (size_t at = from; at < len && !rc;) {
          size_t n = piece_at_line_end(block + at, len - at);
          w->slice = at;
          line_at(w, at);
          uint64_t base = w->line_base;
          w->piece_at = at;
          w->piece_base = base;
          rc = exhi_lr_prefilter(w->scan, &w->schema, block + at, n, do_line_pf, w, &w->err);
          /* Lines are numbered in order: the piece's picked lines first. */
          if (!rc && w->ioc_picked) rc = ioc_before(w, at + n);
          size_t ends = exhi_lr_prefilter_line_ends(w->scan);
          if (!rc && ends != SIZE_MAX && w->counted_to <= at + n) {
            /* The prefilter read every line: no need to count them again. */
            w->line_base = base + ends;
            w->counted_to = at + n;
          } else if (!rc) {
            line_at(w, at + n);
          }
          at += n;
        }
      }
      if (!rc && w->ioc_picked) {
        int here;
        rc = ioc_upto(w, len, &here); /* the picked lines after the rules' last */
      }
      if (rc != RESTART) break;
      from = w->restart_at;
      /* The kind changed on the block's last line, which had no line end
       * (the end of the file): restart_at is past the block. */
      if (from >= len) {
        rc = 0;
        break;
      }
    }
    if (rc) {
      f->status = rc;
      *err = w->err;
      break;
    }
    /* The last data line of the block: the newest time so far. */
    size_t end = len;
    while (end > 0) {
      while (end > 0 && (block[end - 1] == '\n' || block[end - 1] == '\r')) end--;
      const char *nl = end ? memrchr(block, '\n', end) : NULL;
      size_t a = nl ? (size_t)(nl - block) + 1 : 0;
      if (end > a && block[a] != '#') {
        note_time(w, block + a, end - a, 0);
        break;
      }
      end = a;
    }
    line_at(w, len);
    f->bytes += len;
  }
  f->lines = w->line_base;
  f->kind = w->schema.kind;
  if (exhi_logsrc_cut_lines(src) && f->status == EXH_OK) {
    /* Not an error: said in the coverage line. */
  }
  exhi_logsrc_free(src);
}

static void *work(void *arg) {
  worker *w = arg;
  exh_loghunt *h = w->h;
  /* Each thread makes its own matching state, so the threads start at
   * once rather than one after another's (scratch space, memos). */
  if ((w->init_rc = exhi_lr_scan_new(h->rules->lr, &w->scan, &w->init_err)) ||
      (w->init_rc = exhi_logioc_lines_new(&h->iocs, &w->ioc_pick, &w->init_err)))
    return NULL;
  for (;;) {
    size_t i = atomic_fetch_add(&h->next, 1);
    if (i >= h->n_files) break;
    i = h->order[i];
    w->f = &h->files[i];
    w->file_index = i;
    scan_file(w);
    pthread_mutex_lock(&h->mu);
    h->done++;
    h->bytes_done += w->f->bytes;
    if (h->opt.progress) h->opt.progress(h->opt.progress_ctx, h->done, h->n_files, h->bytes_done);
    pthread_mutex_unlock(&h->mu);
  }
  return NULL;
}

/* ---- merge -------------------------------------------------------------- */

/* Groups of one rule and client together (the merge), then the best
 * evidence first, so the first of a run is the one kept. */
static int cmp_group(const void *a, const void *b) {
  const exhi_hit *x = a, *y = b;
  if (x->rule != y->rule) return x->rule < y->rule ? -1 : 1;
  int c = strcmp(x->key, y->key);
  if (c) return c;
  if (evidence_before(x->outcome, x->evidence_ms, x->file, x->line, y->outcome, y->evidence_ms,
                      y->file, y->line))
    return -1;
  return evidence_before(y->outcome, y->evidence_ms, y->file, y->line, x->outcome, x->evidence_ms,
                         x->file, x->line);
}

/* Output order: rule order, then first seen, then where (stable). */
static int cmp_out(const void *a, const void *b) {
  const exhi_hit *x = a, *y = b;
  if (x->rule != y->rule) return x->rule < y->rule ? -1 : 1;
  if (x->first_ms != y->first_ms) return x->first_ms < y->first_ms ? -1 : 1;
  if (x->file != y->file) return x->file < y->file ? -1 : 1;
  if (x->line != y->line) return x->line < y->line ? -1 : 1;
  return strcmp(x->key, y->key);
}

static int cmp_time(const void *a, const void *b) {
  const exhi_hit *x = a, *y = b;
  if (x->first_ms != y->first_ms) return x->first_ms < y->first_ms ? -1 : 1;
  if (x->file != y->file) return x->file < y->file ? -1 : 1;
  if (x->line != y->line) return x->line < y->line ? -1 : 1;
  return x->rule < y->rule ? -1 : x->rule > y->rule;
}

/* Successes of follow-up rules, by time: (time, group index). */
typedef struct followup {
  int64_t ms;
  size_t group;
} followup;

static int cmp_followup(const void *a, const void *b) {
  const followup *x = a, *y = b;
  if (x->ms != y->ms) return x->ms < y->ms ? -1 : 1;
  return x->group < y->group ? -1 : x->group > y->group;
}

/* Whether two groups may be steps of one chain: the same server, or a
 * server one of them does not name (IIS logs seldom do). Names compare by
 * their first DNS label, case aside: EXCH01 is exch01.contoso.example. */
static int same_server(const exhi_hit *a, const exhi_hit *b) {
  if (!a->server[0] || !b->server[0]) return 1;
  size_t la = strcspn(a->server, "."), lb = strcspn(b->server, ".");
  return la == lb && !strncasecmp(a->server, b->server, la);
}

/* A chain is judged as a whole: a group none of whose hits succeeded is
 * exploited when a later step of its chain (its rule's exploited_by, from
 * any client: the web shell is reached from elsewhere) succeeded at or
 * after its first hit in this hunt. Unknown times do not order: such a
 * success counts for every group, and a group without a time takes the
 * earliest success. */
static int follow_ups(exh_loghunt *h, exh_error *err) {
  const exhi_lr *lr = h->rules->lr;
  h->via = malloc((h->n_merged ? h->n_merged : 1) * sizeof *h->via);
  if (!h->via) return exhi_err(err, EXH_ERR_NOMEM, NULL, 0, -1, "out of memory");
  for (size_t i = 0; i < h->n_merged; i++) h->via[i] = SIZE_MAX;
  followup *fu = NULL;
  int rc = EXH_OK;
  for (size_t ri = 0; ri < exhi_lr_count(lr) && !rc; ri++) {
    const exhi_lr_rule *r = exhi_lr_rule_at(lr, ri);
    if (!r->n_exploited_by) continue;
    size_t nf = 0;
    for (size_t i = 0; i < h->n_merged; i++) {
      const exhi_hit *q = &h->merged[i];
      if (q->outcome != EXHI_OUTCOME_EXPLOITED || q->rule == ri || h->via[i] != SIZE_MAX) continue;
      for (size_t k = 0; k < r->n_exploited_by; k++)
        if (!strcmp(exhi_hit_rule(lr, q->rule)->id, r->exploited_by[k])) {
          if (!fu && !(fu = malloc(h->n_merged * sizeof *fu))) {
            rc = exhi_err(err, EXH_ERR_NOMEM, NULL, 0, -1, "out of memory");
            break;
          }
          fu[nf++] = (followup){q->success_ms >= 0 ? q->success_ms : q->evidence_ms, i};
          break;
        }
      if (rc) break;
    }
    if (rc || !nf) continue;
    qsort(fu, nf, sizeof *fu, cmp_followup);
    for (size_t i = 0; i < h->n_merged; i++) {
      exhi_hit *g = &h->merged[i];
      if (g->rule != ri || g->outcome == EXHI_OUTCOME_EXPLOITED) continue;
      /* The first success at or after the group's first hit (all of them
       * when it has no time), on its server; else one with no time. */
      size_t lo = 0, hi = nf, pick = SIZE_MAX;
      if (g->first_ms >= 0)
        while (lo < hi) {
          size_t mid = lo + (hi - lo) / 2;
          if (fu[mid].ms < g->first_ms) lo = mid + 1;
          else hi = mid;
        }
      for (size_t k = lo; k < nf && pick == SIZE_MAX; k++)
        if (same_server(g, &h->merged[fu[k].group])) pick = k;
      for (size_t k = 0; k < lo && fu[k].ms < 0 && pick == SIZE_MAX; k++)
        if (same_server(g, &h->merged[fu[k].group])) pick = k;
      if (pick == SIZE_MAX) continue;
      h->via[i] = fu[pick].group;
      g->outcome = EXHI_OUTCOME_EXPLOITED;
      g->success_ms = fu[pick].ms;
    }
  }
  free(fu);
  return rc;
}

static int merge(exh_loghunt *h, exh_error *err) {
  size_t total = 0;
  for (size_t i = 0; i < h->n_files; i++) total += h->files[i].n_hits;
  h->merged = calloc(total ? total : 1, sizeof *h->merged);
  if (!h->merged) return exhi_err(err, EXH_ERR_NOMEM, NULL, 0, -1, "out of memory");
  size_t n = 0;
  for (size_t i = 0; i < h->n_files; i++) {
    fileres *f = &h->files[i];
    for (size_t j = 0; j < f->n_hits; j++) h->merged[n++] = f->hits[j];
    free(f->hits);
    free(f->table);
    f->hits = NULL;
    f->table = NULL;
    f->n_hits = 0;
  }
  if (h->opt.timeline) {
    qsort(h->merged, n, sizeof *h->merged, cmp_time);
    h->n_merged = n;
    return EXH_OK;
  }
  /* Same rule and client across files: one finding, whose outcome is the
   * best of its hits and whose evidence is the best (sorted first). */
  qsort(h->merged, n, sizeof *h->merged, cmp_group);
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    exhi_hit *g = &h->merged[i];
    exhi_hit *p = o ? &h->merged[o - 1] : NULL;
    if (p && p->rule == g->rule && !strcmp(p->key, g->key)) {
      p->count += g->count;
      p->failed += g->failed;
      p->succeeded += g->succeeded;
      if (g->first_ms >= 0 && (p->first_ms < 0 || g->first_ms < p->first_ms)) p->first_ms = g->first_ms;
      if (g->last_ms > p->last_ms) p->last_ms = g->last_ms;
      if (g->success_ms >= 0 && (p->success_ms < 0 || g->success_ms < p->success_ms))
        p->success_ms = g->success_ms;
      exhi_hit_clear(g);
    } else {
      h->merged[o++] = *g;
    }
  }
  h->n_merged = o;
  qsort(h->merged, o, sizeof *h->merged, cmp_out);
  return follow_ups(h, err);
}

/* Largest files first: the pool's last file is a small one, so no thread
 * sits idle while another finishes a big file (results stay in file order:
 * each file has its own slot). */
static _Thread_local const exh_loghunt *order_h;
static int cmp_cost(const void *a, const void *b) {
  const fileres *x = &order_h->files[*(const size_t *)a], *y = &order_h->files[*(const size_t *)b];
  if (x->cost != y->cost) return x->cost > y->cost ? -1 : 1;
  return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

int exh_loghunt_run(exh_loghunt *h, exh_error *err) {
  if (h->ran) return exhi_err(err, EXH_ERR_INVALID, NULL, 0, -1, "a hunt runs once");
  h->ran = 1;
  h->order = malloc((h->n_files ? h->n_files : 1) * sizeof *h->order);
  if (!h->order) return exhi_err(err, EXH_ERR_NOMEM, NULL, 0, -1, "out of memory");
  for (size_t i = 0; i < h->n_files; i++) h->order[i] = i;
  order_h = h;
  qsort(h->order, h->n_files, sizeof *h->order, cmp_cost);
  unsigned n = h->opt.threads;
  if (!n) {
    long c = sysconf(_SC_NPROCESSORS_ONLN);
    n = c > 0 ? (unsigned)c : 1;
  }
  if (n > MAX_THREADS) n = MAX_THREADS;
  if (n > h->n_files) n = h->n_files ? (unsigned)h->n_files : 1;
  worker *ws = calloc(n, sizeof *ws);
  pthread_t *th = calloc(n, sizeof *th);
  int rc = EXH_OK;
  if (!ws || !th) rc = exhi_err(err, EXH_ERR_NOMEM, NULL, 0, -1, "out of memory");
  unsigned started = 0;
  for (unsigned i = 0; i < n && !rc; i++) {
    ws[i].h = h;
    if (pthread_create(&th[i], NULL, work, &ws[i]) != 0) {
      rc = exhi_err(err, EXH_ERR_NOMEM, NULL, 0, -1, "cannot start a thread");
      break;
    }
    started++;
  }
  for (unsigned i = 0; i < started; i++) pthread_join(th[i], NULL);
  /* A thread that could not start hunting left its files to the others,
   * but the hunt reports why it could not. */
  for (unsigned i = 0; i < started && !rc; i++)
    if (ws[i].init_rc) {
      rc = ws[i].init_rc;
      *err = ws[i].init_err;
    }
  for (unsigned i = 0; ws && i < n; i++) {
    exhi_lr_scan_free(ws[i].scan);
    exhi_logioc_lines_free(ws[i].ioc_pick);
  }
  free(ws);
  free(th);
  if (rc) return rc;
  return merge(h, err);
}

/* ---- output --------------------------------------------------------------- */

static void dirname_of(const char *path, char *out, size_t size) {
  const char *s = strrchr(path, '/');
  if (!s) {
    exhi_strlcpy(out, ".", size);
    return;
  }
  size_t n = (size_t)(s - path);
  if (n >= size) n = size - 1;
  memcpy(out, path, n);
  out[n] = '\0';
}

static int emit_coverage(exh_loghunt *h, exh_output *o) {
  /* One line per folder and log kind, in file order: how far back its
   * evidence reaches. A folder's files are consecutive (see walk). */
  int rc = EXH_OK;
  size_t i = 0;
  while (i < h->n_files && !rc) {
    char dir[4096], d2[4096];
    dirname_of(h->files[i].path, dir, sizeof dir);
    size_t j = i;
    while (j < h->n_files) {
      dirname_of(h->files[j].path, d2, sizeof d2);
      if (strcmp(dir, d2)) break;
      j++;
    }
    for (int kind = 0; kind < EXHI_LOG_KINDS && !rc; kind++) {
      size_t nfiles = 0;
      uint64_t lines = 0;
      int64_t first = -1, last = -1;
      for (size_t x = i; x < j; x++) {
        fileres *f = &h->files[x];
        if (f->status != EXH_OK || f->skipped || f->kind != kind) continue;
        nfiles++;
        lines += f->lines;
        if (f->first_ms >= 0 && (first < 0 || f->first_ms < first)) first = f->first_ms;
        if (f->last_ms > last) last = f->last_ms;
      }
      /* Plain text files with no time in them say nothing about coverage. */
      if (!nfiles || (kind == EXHI_LOG_UNKNOWN && first < 0)) continue;
      char a[40] = "?", b[40] = "?", msg[4400], nf[32], nl[32], age[32] = "";
      if (first >= 0) exhi_format_time_ms(first, a, sizeof a);
      if (last >= 0) exhi_format_time_ms(last, b, sizeof b);
      snprintf(nf, sizeof nf, "%zu", nfiles);
      snprintf(nl, sizeof nl, "%llu", (unsigned long long)lines);
      if (first >= 0) snprintf(age, sizeof age, "%lld", (long long)((o->now_ms - first) / 86400000));
      snprintf(msg, sizeof msg,
               "%s %s log file(s), %s lines, %s to %s: nothing older was examined%s%s%s", nf,
               exhi_logkind_name(kind), nl, a, b, age[0] ? " (" : "", age, age[0] ? " days ago)" : "");
      exh_field fields[6];
      size_t n = 0;
      fields[n++] = (exh_field){"exhunt.files", nf};
      fields[n++] = (exh_field){"exhunt.lines", nl};
      fields[n++] = (exh_field){"exhunt.log_kind", exhi_logkind_name(kind)};
      if (first >= 0) fields[n++] = (exh_field){"exhunt.first_seen", a};
      if (last >= 0) fields[n++] = (exh_field){"exhunt.last_seen", b};
      if (age[0]) fields[n++] = (exh_field){"exhunt.evidence_age_days", age};
      exh_finding f = {0};
      f.rule_id = "exh.logs.coverage";
      f.rule_name = "Log coverage";
      f.severity = EXH_SEV_INFO;
      f.confidence = 100;
      f.event_time_ms = first;
      f.path = dir;
      f.offset = -1;
      f.fields = fields;
      f.n_fields = n;
      f.message = msg;
      rc = exh_output_finding(o, &f);
    }
    i = j;
  }
  return rc;
}

int exh_loghunt_emit(exh_loghunt *h, exh_output *o) {
  int rc = EXH_OK;
  for (size_t i = 0; i < h->n_files && !rc; i++)
    if (h->files[i].status != EXH_OK) rc = exh_output_input_error(o, h->files[i].path, &h->files[i].err);
  const exhi_lr *lr = h->rules->lr;
  if (h->opt.timeline) {
    for (size_t i = 0; i < h->n_merged && !rc; i++)
      rc = exhi_hit_emit(o, lr, &h->merged[i], h->files[h->merged[i].file].path, NULL, 1);
  } else {
    /* Most severe first; within a severity, rule order then time. */
    for (int sev = EXH_SEV_CRITICAL; sev >= EXH_SEV_INFO && !rc; sev--)
      for (size_t i = 0; i < h->n_merged && !rc; i++) {
        const exhi_hit *g = &h->merged[i];
        int s = exhi_hit_rule(lr, g->rule)->severity;
        if (g->outcome == EXHI_OUTCOME_ATTEMPTED && s > EXH_SEV_LOW) s--;
        if (s != sev) continue;
        exhi_hit_followup via = {0};
        if (h->via && h->via[i] != SIZE_MAX) {
          via.hit = &h->merged[h->via[i]];
          via.path = h->files[via.hit->file].path;
        }
        rc = exhi_hit_emit(o, lr, g, h->files[g->file].path, via.hit ? &via : NULL, 0);
      }
  }
  size_t dropped = atomic_load(&h->timeline_dropped);
  if (!rc && dropped) {
    char msg[200], n[32];
    snprintf(n, sizeof n, "%zu", dropped);
    snprintf(msg, sizeof msg, "%zu more hits were found but not listed: the timeline keeps %d; "
             "run without --timeline for them grouped", dropped, MAX_TIMELINE_HITS);
    exh_field fields[1] = {{"exhunt.count", n}};
    exh_finding f = {0};
    f.rule_id = "exh.logs.timeline_truncated";
    f.rule_name = "Timeline truncated";
    f.severity = EXH_SEV_INFO;
    f.confidence = 100;
    f.event_time_ms = -1;
    f.offset = -1;
    f.fields = fields;
    f.n_fields = 1;
    f.message = msg;
    rc = exh_output_finding(o, &f);
  }
  if (!rc) rc = emit_coverage(h, o);
  return rc;
}

void exh_loghunt_get_stats(const exh_loghunt *h, exh_loghunt_stats *st) {
  memset(st, 0, sizeof *st);
  st->worst_severity = -1;
  for (size_t i = 0; i < h->n_files; i++) {
    const fileres *f = &h->files[i];
    st->files++;
    if (f->status != EXH_OK) st->files_failed++;
    if (f->skipped) st->files_skipped++;
    st->bytes += f->bytes;
    st->lines += f->lines;
    st->candidate_lines += f->candidates;
    st->hits += f->events;
  }
  st->findings = h->n_merged;
  const exhi_lr *lr = h->rules->lr;
  for (size_t i = 0; i < h->n_merged; i++) {
    int s = exhi_hit_rule(lr, h->merged[i].rule)->severity;
    if (h->merged[i].outcome == EXHI_OUTCOME_ATTEMPTED && s > EXH_SEV_LOW) s--;
    if (s > st->worst_severity) st->worst_severity = s;
  }
}

const exh_error *exh_loghunt_file_error(const exh_loghunt *h, size_t i) {
  if (i >= h->n_files || h->files[i].status == EXH_OK) return NULL;
  return &h->files[i].err;
}

void exh_logrules_list(const exh_logrules *r, FILE *fp) {
  for (size_t i = 0; i < exhi_lr_count(r->lr); i++) {
    const exhi_lr_rule *ru = exhi_lr_rule_at(r->lr, i);
    char kinds[256] = "";
    size_t n = 0;
    for (int k = 0; k < EXHI_LOG_KINDS; k++)
      if (ru->kinds & (1u << k))
        n += (size_t)snprintf(kinds + n, sizeof kinds - n, "%s%s", n ? "," : "", exhi_logkind_name(k));
    if (ru->windows) snprintf(kinds + n, sizeof kinds - n, "%sevtx (not read yet)", n ? "," : "");
    exhi_fputs_safe(fp, ru->id);
    fprintf(fp, "\t%s\t%s\t", exh_severity_name(ru->severity), kinds);
    exhi_fputs_safe(fp, ru->title);
    fputc('\t', fp);
    exhi_fputs_safe(fp, ru->file);
    fputc('\n', fp);
  }
  /* The indicator rules: they fire only with indicators (store or --iocs). */
  for (size_t i = 0; i < EXHI_LOGIOC_RULES; i++) {
    const exhi_lr_rule *ru = exhi_hit_rule(r->lr, exhi_lr_count(r->lr) + i);
    fprintf(fp, "%s\t%s\thttpproxy,iis,ews,exchange\t%s\t%s\n", ru->id,
            exh_severity_name(ru->severity), ru->title, ru->file);
  }
}

void exh_loghunt_free(exh_loghunt *h) {
  if (!h) return;
  free(h->cwd);
  for (size_t i = 0; i < h->n_files; i++) {
    fileres *f = &h->files[i];
    for (size_t j = 0; j < f->n_hits; j++) exhi_hit_clear(&f->hits[j]);
    free(f->hits);
    free(f->table);
    free(f->path);
  }
  for (size_t i = 0; i < h->n_merged; i++) exhi_hit_clear(&h->merged[i]);
  free(h->merged);
  free(h->via);
  free(h->order);
  free(h->files);
  exhi_logioc_release(&h->iocs);
  pthread_mutex_destroy(&h->mu);
  free(h);
}

/* ---- sightings -------------------------------------------------------------- */

int exh_loghunt_record_sightings(const exh_loghunt *h, const char *store_path, const char *host,
                                 size_t *n, exh_error *err) {
  if (n) *n = 0;
  size_t todo = 0;
  for (size_t i = 0; i < h->n_merged; i++)
    todo += h->merged[i].ioc && (int)h->merged[i].ioc_set == h->store_set;
  if (!todo) return EXH_OK; /* nothing to write: the store is not opened */
  exh_ioc_store *s;
  int rc = exh_ioc_store_open(store_path, 0, &s, err);
  if (rc) return rc;
  if ((rc = exhi_logioc_begin(s, err))) {
    exh_ioc_store_close(s);
    return rc;
  }
  size_t done = 0;
  for (size_t i = 0; i < h->n_merged && !rc; i++) {
    const exhi_hit *g = &h->merged[i];
    if (!g->ioc || (int)g->ioc_set != h->store_set) continue;
    char where[8400], detail[160], last[40] = "";
    /* Absolute, as exhunt files and check record them; links not resolved. */
    const char *path = h->files[g->file].path;
    const char *cwd = path[0] != '/' && h->cwd ? h->cwd : "";
    const char *sep = *cwd && cwd[strlen(cwd) - 1] != '/' ? "/" : ""; /* "/" is the root */
    snprintf(where, sizeof where, "%s%s%s:%lld", cwd, sep, path, (long long)g->line);
    if (g->last_ms >= 0) exhi_format_time_ms(g->last_ms, last, sizeof last);
    snprintf(detail, sizeof detail, "%s; %llu hit(s)%s%s", g->ioc_field ? g->ioc_field : "",
             (unsigned long long)g->count, last[0] ? ", last " : "", last);
    exh_ioc_sighting sg = {.host = host, .location = where, .seen_ms = g->first_ms,
                           .detector = "logs", .detail = detail};
    rc = exh_ioc_store_add_sighting(s, g->ioc, &sg, err);
    done++;
  }
  if (!rc) rc = exhi_logioc_commit(s, err);
  if (rc) exhi_logioc_rollback(s);
  else if (n) *n = done;
  exh_ioc_store_close(s);
  return rc;
}
