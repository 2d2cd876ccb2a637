/* The in-memory indicator set: every indicator of a store, sorted by
 * (type, value) so that all sources of one value sit side by side, and an
 * open-addressing hash table from (type, value) to that run. Built once,
 * never written again: threads share it without locks. */
#include "ioc.h"

#include "core/arena.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

/* A store larger than this is not a feed but a mistake (the biggest public
 * feeds hold a few million values); it also keeps the run index in 32 bits. */
#define SET_MAX_INDICATORS 50000000u

typedef struct slot {
  uint64_t hash; /* 0: empty */
  uint32_t first, count;
} slot;

struct exh_ioc_set {
  exhi_arena strings;
  exh_ioc *iocs;
  size_t n;
  slot *slots;
  size_t mask; /* slots - 1, a power of two minus one */
};

void exhi_ioc_from_row(sqlite3_stmt *st, exh_ioc *ioc);

/* FNV-1a over the type and the value; 0 is reserved for empty slots. */
static uint64_t hash(int type, const char *v, size_t len) {
  uint64_t h = 1469598103934665603ull ^ (uint64_t)type;
  h *= 1099511628211ull;
  for (size_t i = 0; i < len; i++) {
    h ^= (unsigned char)v[i];
    h *= 1099511628211ull;
  }
  return h ? h : 1;
}

static bool same(const exh_ioc *a, int type, const char *v, size_t len) {
  return a->type == type && strlen(a->value) == len && memcmp(a->value, v, len) == 0;
}

static int cmp(const void *pa, const void *pb) {
  const exh_ioc *a = pa, *b = pb;
  if (a->type != b->type) return a->type < b->type ? -1 : 1;
  int c = strcmp(a->value, b->value);
  return c ? c : strcmp(a->source, b->source);
}

static char *keep(exhi_arena *a, const char *s) { return exhi_arena_strdup(a, s ? s : ""); }

int exh_ioc_set_load(exh_ioc_store *s, exh_ioc_set **out, exh_error *err) {
  *out = NULL;
  exh_ioc_set *set = calloc(1, sizeof *set);
  if (!set) return exhi_err(err, EXH_ERR_NOMEM, s->path, 0, -1, "out of memory");
  sqlite3_stmt *st = NULL;
  int rc = EXH_OK;
  size_t cap = 0;
  /* One snapshot: a concurrent import is seen entirely or not at all. */
  if (sqlite3_prepare_v2(s->db,
                         "SELECT id, type, value, source, actor, report, description, tags, "
                         "confidence, first_seen, last_seen FROM indicators",
                         -1, &st, NULL) != SQLITE_OK) {
    rc = exhi_err(err, EXH_ERR_IO, s->path, 0, -1, "cannot read indicators: %s",
                  sqlite3_errmsg(s->db));
    goto fail;
  }
  int r;
  while ((r = sqlite3_step(st)) == SQLITE_ROW) {
    exh_ioc row;
    exhi_ioc_from_row(st, &row);
    if (!row.type) continue; /* a type a newer exhunt wrote */
    if (set->n == cap) {
      if (cap >= SET_MAX_INDICATORS) {
        rc = exhi_err(err, EXH_ERR_LIMIT, s->path, 0, -1, "more than %u indicators",
                      SET_MAX_INDICATORS);
        goto fail;
      }
      size_t ncap = cap ? cap * 2 : 1024;
      exh_ioc *n = realloc(set->iocs, ncap * sizeof *n);
      if (!n) goto nomem;
      set->iocs = n;
      cap = ncap;
    }
    exh_ioc *d = &set->iocs[set->n];
    *d = row;
    d->value = keep(&set->strings, row.value);
    d->source = keep(&set->strings, row.source);
    d->actor = keep(&set->strings, row.actor);
    d->report = keep(&set->strings, row.report);
    d->description = keep(&set->strings, row.description);
    d->tags = keep(&set->strings, row.tags);
    d->first_seen = keep(&set->strings, row.first_seen);
    d->last_seen = keep(&set->strings, row.last_seen);
    if (!d->value || !d->source || !d->actor || !d->report || !d->description || !d->tags ||
        !d->first_seen || !d->last_seen)
      goto nomem;
    set->n++;
  }
  if (r != SQLITE_DONE) {
    rc = exhi_err(err, EXH_ERR_IO, s->path, 0, -1, "cannot read indicators: %s",
                  sqlite3_errmsg(s->db));
    goto fail;
  }
  sqlite3_finalize(st);
  st = NULL;
  if (set->n) qsort(set->iocs, set->n, sizeof *set->iocs, cmp);
  /* Load factor at most 1/2 keeps probe runs short. */
  size_t nslots = 16;
  while (nslots < set->n * 2) nslots *= 2;
  set->slots = calloc(nslots, sizeof *set->slots);
  if (!set->slots) goto nomem;
  set->mask = nslots - 1;
  for (size_t i = 0; i < set->n;) {
    size_t j = i + 1;
    while (j < set->n && set->iocs[j].type == set->iocs[i].type &&
           !strcmp(set->iocs[j].value, set->iocs[i].value))
      j++;
    uint64_t h = hash(set->iocs[i].type, set->iocs[i].value, strlen(set->iocs[i].value));
    size_t k = h & set->mask;
    while (set->slots[k].hash) k = (k + 1) & set->mask;
    set->slots[k] = (slot){h, (uint32_t)i, (uint32_t)(j - i)};
    i = j;
  }
  *out = set;
  return EXH_OK;
nomem:
  rc = exhi_err(err, EXH_ERR_NOMEM, s->path, 0, -1, "out of memory loading indicators");
fail:
  sqlite3_finalize(st);
  exh_ioc_set_free(set);
  return rc;
}

void exh_ioc_set_free(exh_ioc_set *set) {
  if (!set) return;
  exhi_arena_free(&set->strings);
  free(set->iocs);
  free(set->slots);
  free(set);
}

size_t exh_ioc_set_size(const exh_ioc_set *set) { return set ? set->n : 0; }

static size_t find(const exh_ioc_set *set, int type, const char *v, size_t len,
                   const exh_ioc **hits) {
  uint64_t h = hash(type, v, len);
  for (size_t k = h & set->mask;; k = (k + 1) & set->mask) {
    const slot *sl = &set->slots[k];
    if (!sl->hash) return 0;
    if (sl->hash == h && same(&set->iocs[sl->first], type, v, len)) {
      *hits = &set->iocs[sl->first];
      return sl->count;
    }
  }
}

size_t exh_ioc_set_lookup(const exh_ioc_set *set, int type, const char *value, size_t len,
                          const exh_ioc **hits) {
  *hits = NULL;
  if (!set || !set->n || !value) return 0;
  char norm[EXH_IOC_VALUE_MAX + 2];
  if (exh_ioc_normalize(type, value, len, norm, sizeof norm, NULL) != EXH_OK) return 0;
  size_t n = strlen(norm);
  if (type != EXH_IOC_FILEPATH) return find(set, type, norm, n, hits);
  /* Every tail that starts at a separator: "/mnt/c/program files/x.aspx"
   * finds the indicator "/program files/x.aspx". */
  for (size_t i = 0; i < n; i++) {
    if (norm[i] != '/') continue;
    size_t c = find(set, type, norm + i, n - i, hits);
    if (c) return c;
  }
  return 0;
}
