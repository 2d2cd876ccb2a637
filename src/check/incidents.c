/*
 * exhunt check: the steps of a server's story split into incidents by what
 * joins them. Two steps belong together when they share an attacker address
 * (the client of a log finding) or a shell (a post-exploitation file's name
 * on disk, or a request or log line naming it), or when the later one comes
 * within EXHI_INCIDENT_GAP_DAYS of the last event so far; a step that shares
 * neither and comes after a longer gap starts a new incident. So a server hit
 * by ProxyLogon in March 2021 and by ProxyShell in August 2021 shows two
 * incidents, while a shell written in March and used again in August stays
 * one story.
 */
#define _GNU_SOURCE /* strcasestr */
#include "check.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Distinct shells (file names) followed per server: the files on disk of an
 * incident are a handful; more are left out of the joins, not of the steps. */
#define MAX_SHELLS 256

static const char *fv(const exh_finding *f, const char *name) {
  for (size_t i = 0; i < f->n_fields; i++)
    if (!strcmp(f->fields[i].name, name)) return f->fields[i].value;
  return NULL;
}

static const char *last_name(const char *p) {
  const char *s = p ? strrchr(p, '/') : NULL;
  return s ? s + 1 : p;
}

typedef struct work {
  int64_t first, last;
  const char *ips[EXHI_CHECK_MAX_IPS]; /* borrowed from the findings */
  size_t n_ips;
  unsigned char shell[MAX_SHELLS];
  unsigned joined;
  int alive;
} work;

static int has_ip(const work *w, const char *ip) {
  for (size_t i = 0; ip && i < w->n_ips; i++)
    if (!strcmp(w->ips[i], ip)) return 1;
  return 0;
}

static void add_ip(work *w, const char *ip) {
  if (ip && *ip && !has_ip(w, ip) && w->n_ips < EXHI_CHECK_MAX_IPS) w->ips[w->n_ips++] = ip;
}

static void span(work *w, int64_t first, int64_t last) {
  if (first >= 0 && (w->first < 0 || first < w->first)) w->first = first;
  if (last < first) last = first;
  if (last > w->last) w->last = last;
}

/* Takes b into a (b dies); of[] is relabelled. */
static void merge(work *a, work *b, int ia, int ib, int *of, size_t n) {
  span(a, b->first, b->last);
  for (size_t i = 0; i < b->n_ips; i++) add_ip(a, b->ips[i]);
  for (size_t k = 0; k < MAX_SHELLS; k++) a->shell[k] |= b->shell[k];
  a->joined |= b->joined;
  b->alive = 0;
  for (size_t i = 0; i < n; i++)
    if (of[i] == ib) of[i] = ia;
}

void exhi_incidents_clear(exh_check_result *r) {
  for (size_t i = 0; i < r->n_inc; i++) {
    for (size_t k = 0; k < r->inc[i].n_ips; k++) free(r->inc[i].ips[k]);
    free(r->inc[i].steps);
  }
  free(r->inc);
  r->inc = NULL;
  r->n_inc = 0;
}

static int by_first(const void *a, const void *b) {
  const exhi_incident *x = a, *y = b;
  /* Unknown first times last; the sort is stable enough: ties keep steps' order. */
  if (x->first_ms != y->first_ms) {
    if (x->first_ms < 0) return 1;
    if (y->first_ms < 0) return -1;
    return x->first_ms < y->first_ms ? -1 : 1;
  }
  size_t sx = x->n_steps ? x->steps[0] : 0, sy = y->n_steps ? y->steps[0] : 0;
  return sx < sy ? -1 : sx > sy;
}

static int by_time(const void *a, const void *b, void *ctx) {
  const exh_check_result *r = ctx;
  size_t x = *(const size_t *)a, y = *(const size_t *)b;
  int64_t tx = r->f[x].f.event_time_ms, ty = r->f[y].f.event_time_ms;
  if (tx != ty) return tx < ty ? -1 : 1;
  return x < y ? -1 : x > y;
}

static int is_step(const exh_check_result *r, size_t i) {
  for (size_t k = 0; k < r->n_steps; k++)
    if (r->steps[k] == i) return 1;
  return 0;
}

/*
 * Indicator findings of the logs (a published address, user agent, host or
 * URL in the requests) are no steps of their own (they show who came, not
 * that anything succeeded), but they name the attacker: each joins the
 * incident that has its client address, with its source and actor.
 */
static int attach_indicators(exh_check_result *r) {
  /* Steps are appended, then each list sorted once: sorting per finding
   * would be quadratic with many indicator hits. */
  int added = 0;
  for (size_t i = 0; i < r->n_f; i++) {
    const exhi_cf *c = &r->f[i];
    if (c->from != EXHI_FROM_LOGS || strncmp(c->f.rule_id, "exh.logs.ioc.", 13) || is_step(r, i))
      continue;
    const char *ip = fv(&c->f, "source.ip");
    for (size_t j = 0; ip && j < r->n_inc; j++) {
      exhi_incident *in = &r->inc[j];
      int has = 0;
      for (size_t k = 0; k < in->n_ips && !has; k++) has = !strcmp(in->ips[k], ip);
      if (!has) continue;
      size_t *ns = realloc(in->steps, (in->n_steps + 1) * sizeof *ns);
      if (!ns) return EXH_ERR_NOMEM;
      in->steps = ns;
      in->steps[in->n_steps++] = i;
      in->joined |= EXHI_JOIN_INDICATOR;
      added = 1;
      if (c->f.actor) exhi_list_add(in->actors, sizeof in->actors, c->f.actor);
      exhi_list_add(in->actors, sizeof in->actors, fv(&c->f, "threat.indicator.provider"));
      /* The whole story (exhunt.incident) has it too. */
      if (r->n_steps < EXHI_CHECK_MAX_STEPS) r->steps[r->n_steps++] = i;
      if (c->f.actor) exhi_list_add(r->actors, sizeof r->actors, c->f.actor);
      exhi_list_add(r->actors, sizeof r->actors, fv(&c->f, "threat.indicator.provider"));
      break;
    }
  }
  if (added) {
    for (size_t j = 0; j < r->n_inc; j++)
      if (r->inc[j].joined & EXHI_JOIN_INDICATOR)
        qsort_r(r->inc[j].steps, r->inc[j].n_steps, sizeof *r->inc[j].steps, by_time, r);
    qsort_r(r->steps, r->n_steps, sizeof r->steps[0], by_time, r);
  }
  return EXH_OK;
}

int exhi_incidents_split(exh_check_result *r) {
  exhi_incidents_clear(r);
  size_t n = r->n_steps;
  if (!n) return EXH_OK;
  /* The shells: the names of the post-exploitation files among the steps. */
  const char *shells[MAX_SHELLS];
  size_t ns = 0;
  for (size_t i = 0; i < n; i++) {
    const exhi_cf *c = &r->f[r->steps[i]];
    if (c->from != EXHI_FROM_FILES || !c->f.path) continue;
    const char *nm = last_name(c->f.path);
    int dup = 0;
    for (size_t k = 0; k < ns && !dup; k++) dup = !strcasecmp(shells[k], nm);
    if (!dup && ns < MAX_SHELLS) shells[ns++] = nm;
  }
  work *w = calloc(EXHI_CHECK_MAX_INCIDENTS, sizeof *w);
  int *of = calloc(n, sizeof *of); /* zeroed: merge reads entries it then overwrites */
  unsigned char *keys = malloc(MAX_SHELLS);
  if (!w || !of || !keys) {
    free(w);
    free(of);
    free(keys);
    return EXH_ERR_NOMEM;
  }
  const int64_t gap = (int64_t)EXHI_INCIDENT_GAP_DAYS * 86400 * 1000;
  size_t nw = 0;
  /* Steps come sorted by time, unknown times first: take the known ones in
   * time order, then the others (which can only join). */
  for (int pass = 0; pass < 2; pass++) {
    for (size_t i = 0; i < n; i++) {
      const exhi_cf *c = &r->f[r->steps[i]];
      int64_t t = c->f.event_time_ms;
      if ((pass == 0) != (t >= 0)) continue;
      const char *ip = c->from == EXHI_FROM_LOGS ? fv(&c->f, "source.ip") : NULL;
      memset(keys, 0, MAX_SHELLS);
      if (c->from == EXHI_FROM_FILES) {
        const char *nm = c->f.path ? last_name(c->f.path) : NULL;
        for (size_t k = 0; nm && k < ns; k++) keys[k] = !strcasecmp(shells[k], nm);
      } else {
        const char *url = fv(&c->f, "url.path");
        for (size_t k = 0; k < ns; k++)
          keys[k] = (url && !strcasecmp(last_name(url), shells[k])) ||
                    exhi_names_file(c->f.message, shells[k]);
      }
      int target = -1;
      unsigned why = 0;
      for (size_t j = 0; j < nw; j++) {
        if (!w[j].alive) continue;
        unsigned share = has_ip(&w[j], ip) ? EXHI_JOIN_ADDRESS : 0;
        for (size_t k = 0; k < ns && !(share & EXHI_JOIN_SHELL); k++)
          if (keys[k] && w[j].shell[k]) share |= EXHI_JOIN_SHELL;
        if (!share) continue;
        why |= share;
        if (target < 0) target = (int)j;
        else merge(&w[target], &w[j], target, (int)j, of, n);
      }
      if (target < 0 && nw) {
        /* No address or shell in common: the latest incident, if this comes
         * within the gap of its last event (or its time is unknown). */
        int latest = -1;
        for (size_t j = 0; j < nw; j++)
          if (w[j].alive && (latest < 0 || w[j].last > w[latest].last)) latest = (int)j;
        if (latest >= 0 && (t < 0 || w[latest].last < 0 || t - w[latest].last <= gap)) {
          target = latest;
          why = EXHI_JOIN_TIME;
        }
      }
      if (target < 0 && nw < EXHI_CHECK_MAX_INCIDENTS) {
        target = (int)nw++;
        w[target] = (work){.first = -1, .last = -1, .alive = 1};
      } else if (target < 0) { /* past the bound: the latest takes the rest */
        for (size_t j = 0; j < nw; j++)
          if (w[j].alive && (target < 0 || w[j].last > w[target].last)) target = (int)j;
      }
      of[i] = target;
      w[target].joined |= why;
      span(&w[target], t, c->last_ms);
      add_ip(&w[target], ip);
      for (size_t k = 0; k < ns; k++) w[target].shell[k] |= keys[k];
    }
  }
  size_t alive = 0;
  for (size_t j = 0; j < nw; j++) alive += w[j].alive;
  int rc = EXH_OK;
  r->inc = calloc(alive ? alive : 1, sizeof *r->inc);
  if (!r->inc) rc = EXH_ERR_NOMEM;
  for (size_t j = 0; !rc && j < nw; j++) {
    if (!w[j].alive) continue;
    exhi_incident *in = &r->inc[r->n_inc++];
    in->first_ms = w[j].first;
    in->last_ms = w[j].last;
    in->joined = w[j].joined;
    size_t cnt = 0;
    for (size_t i = 0; i < n; i++) cnt += of[i] == (int)j;
    if (!(in->steps = malloc(cnt * sizeof *in->steps))) {
      rc = EXH_ERR_NOMEM;
      break;
    }
    /* The steps in time order (r->steps is), addresses in the order they
     * first appear, the indicators' sources and actors. */
    for (size_t i = 0; i < n; i++) {
      if (of[i] != (int)j) continue;
      const exhi_cf *c = &r->f[r->steps[i]];
      in->steps[in->n_steps++] = r->steps[i];
      const char *ip = c->from == EXHI_FROM_LOGS ? fv(&c->f, "source.ip") : NULL;
      int dup = !ip || !*ip;
      for (size_t k = 0; k < in->n_ips && !dup; k++) dup = !strcmp(in->ips[k], ip);
      if (!dup && in->n_ips < EXHI_CHECK_MAX_IPS) {
        if (!(in->ips[in->n_ips] = strdup(ip))) {
          rc = EXH_ERR_NOMEM;
          break;
        }
        in->n_ips++;
      }
      if (c->f.actor) exhi_list_add(in->actors, sizeof in->actors, c->f.actor);
      exhi_list_add(in->actors, sizeof in->actors, fv(&c->f, "threat.indicator.provider"));
    }
  }
  if (!rc) rc = attach_indicators(r);
  if (!rc) qsort(r->inc, r->n_inc, sizeof *r->inc, by_first);
  free(w);
  free(of);
  free(keys);
  if (rc) exhi_incidents_clear(r);
  return rc;
}

void exhi_incident_joined(unsigned joined, char *buf, size_t size) {
  char days[64];
  snprintf(days, sizeof days, "events within %d days of each other", EXHI_INCIDENT_GAP_DAYS);
  const char *what[4] = {(joined & EXHI_JOIN_ADDRESS) ? "the same attacker address" : NULL,
                         (joined & EXHI_JOIN_SHELL) ? "the same shell" : NULL,
                         (joined & EXHI_JOIN_INDICATOR) ? "an indicator of its address" : NULL,
                         (joined & EXHI_JOIN_TIME) ? days : NULL};
  size_t l = (size_t)snprintf(buf, size, "joined by");
  int any = 0;
  for (size_t i = 0; i < 4; i++) {
    if (!what[i] || l >= size) continue;
    l += (size_t)snprintf(buf + l, size - l, "%s %s", any ? "," : "", what[i]);
    any = 1;
  }
  if (!any) snprintf(buf, size, "one step");
}
