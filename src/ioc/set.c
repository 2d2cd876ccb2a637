/* The in-memory indicator set: every indicator of a store, sorted by
 * (type, value) so that all sources of one value sit side by side, and an
 * open-addressing hash table from (type, value) to that run. Built once,
 * never written again: threads share it without locks. */
#include "ioc.h"
#include "core/dl_sqlite.h" /* libsqlite3, loaded by exh_ioc_store_open */

#include "core/arena.h"

#include <stdlib.h>
#include <string.h>

/* A store larger than this is not a feed but a mistake (the biggest public
 * feeds hold a few million values); it also keeps the run index in 32 bits. */
#define SET_MAX_INDICATORS 50000000u

typedef struct slot {
  uint64_t hash; /* 0: empty */
  uint32_t first, count;
} slot;

/* A hash table over runs of equal keys in one sorted array. */
typedef struct table {
  slot *slots;
  size_t mask; /* slots - 1, a power of two minus one */
} table;

struct exh_ioc_set {
  exhi_arena strings;
  exh_ioc *iocs;    /* every indicator, by (type, value, source) */
  size_t n;
  table main;
  exh_ioc *bynames; /* copies of the path indicators, by last component */
  size_t nbynames;
  table names;
  size_t per_type[EXH_IOC_TYPE_COUNT]; /* for exh_ioc_set_count */
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

static const char *last_component(const char *path) {
  const char *slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
}

/* The key a run is grouped by: the value, or a path's last component. */
typedef const char *(*key_fn)(const exh_ioc *i);
static const char *key_value(const exh_ioc *i) { return i->value; }
static const char *key_name(const exh_ioc *i) { return last_component(i->value); }

static int cmp_name(const void *pa, const void *pb) {
  const exh_ioc *a = pa, *b = pb;
  int c = strcmp(key_name(a), key_name(b));
  return c ? c : strcmp(a->value, b->value) ? strcmp(a->value, b->value) : strcmp(a->source, b->source);
}

/* Indexes the runs of arr (sorted by key) in t; false when out of memory. */
static bool index_runs(table *t, const exh_ioc *arr, size_t n, key_fn key) {
  /* Load factor at most 1/2 keeps probe runs short. */
  size_t nslots = 16;
  while (nslots < n * 2) nslots *= 2;
  t->slots = calloc(nslots, sizeof *t->slots);
  if (!t->slots) return false;
  t->mask = nslots - 1;
  for (size_t i = 0; i < n;) {
    size_t j = i + 1;
    while (j < n && arr[j].type == arr[i].type && !strcmp(key(&arr[j]), key(&arr[i]))) j++;
    const char *k0 = key(&arr[i]);
    uint64_t h = hash(arr[i].type, k0, strlen(k0));
    size_t k = h & t->mask;
    while (t->slots[k].hash) k = (k + 1) & t->mask;
    t->slots[k] = (slot){h, (uint32_t)i, (uint32_t)(j - i)};
    i = j;
  }
  return true;
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
    set->per_type[d->type]++;
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
  if (!index_runs(&set->main, set->iocs, set->n, key_value)) goto nomem;
  /* Path indicators again, by file name: a request for /owa/auth/x.aspx
   * in a log names the file C:\...\owa\auth\x.aspx without its folder. */
  for (size_t i = 0; i < set->n; i++) set->nbynames += set->iocs[i].type == EXH_IOC_FILEPATH;
  if (set->nbynames) {
    set->bynames = malloc(set->nbynames * sizeof *set->bynames);
    if (!set->bynames) goto nomem;
    size_t k = 0;
    for (size_t i = 0; i < set->n; i++)
      if (set->iocs[i].type == EXH_IOC_FILEPATH) set->bynames[k++] = set->iocs[i];
    qsort(set->bynames, set->nbynames, sizeof *set->bynames, cmp_name);
  }
  if (!index_runs(&set->names, set->bynames, set->nbynames, key_name)) goto nomem;
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
  free(set->main.slots);
  free(set->bynames);
  free(set->names.slots);
  free(set);
}

size_t exh_ioc_set_size(const exh_ioc_set *set) { return set ? set->n : 0; }

static size_t find_in(const table *t, const exh_ioc *arr, key_fn key, int type, const char *v,
                      size_t len, const exh_ioc **hits) {
  uint64_t h = hash(type, v, len);
  for (size_t k = h & t->mask;; k = (k + 1) & t->mask) {
    const slot *sl = &t->slots[k];
    if (!sl->hash) return 0;
    const exh_ioc *first = &arr[sl->first];
    const char *fk = key(first);
    if (sl->hash == h && first->type == type && strlen(fk) == len && !memcmp(fk, v, len)) {
      *hits = first;
      return sl->count;
    }
  }
}

static size_t find(const exh_ioc_set *set, int type, const char *v, size_t len,
                   const exh_ioc **hits) {
  return find_in(&set->main, set->iocs, key_value, type, v, len, hits);
}

size_t exh_ioc_set_lookup_path_name(const exh_ioc_set *set, const char *name, size_t len,
                                    const exh_ioc **hits) {
  *hits = NULL;
  if (!set || !set->nbynames || !name) return 0;
  char norm[EXH_IOC_VALUE_MAX + 2];
  if (exh_ioc_normalize(EXH_IOC_FILENAME, name, len, norm, sizeof norm, NULL) != EXH_OK) return 0;
  return find_in(&set->names, set->bynames, key_name, EXH_IOC_FILEPATH, norm, strlen(norm), hits);
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

const exh_ioc *exhi_ioc_set_at(const exh_ioc_set *set, size_t i) {
  return set && i < set->n ? &set->iocs[i] : NULL;
}

size_t exh_ioc_set_count(const exh_ioc_set *set, int type) {
  if (!set || type <= 0 || type >= EXH_IOC_TYPE_COUNT) return 0;
  return set->per_type[type];
}

const exh_ioc *exh_ioc_set_find(const exh_ioc_set *set, const char *type, const char *value,
                                const char *source) {
  int t = type ? exh_ioc_type_from_name(type) : 0;
  if (!set || !set->n || !t || !value || !source) return NULL;
  const exh_ioc *hits;
  size_t n = find(set, t, value, strlen(value), &hits);
  for (size_t i = 0; i < n; i++)
    if (!strcmp(hits[i].source, source)) return &hits[i];
  return NULL;
}
