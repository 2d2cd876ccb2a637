/* The indicator store: one SQLite file. Every import is one transaction,
 * so a killed or failed import leaves the store as it was (SQLite's
 * rollback journal undoes a half-written one on the next open). */
#include "ioc.h"
#include "core/dl_sqlite.h" /* libsqlite3, loaded by exh_ioc_store_open */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Version 1: indicators, sightings, feeds, meta. Bumped on any change; an
 * older exhunt refuses a newer store rather than misreading it. */
#define SCHEMA_VERSION 1

/* Page cache for an import: a million random hashes make B-tree inserts
 * touch pages all over the file; 64 MiB keeps them in memory (SQLite's
 * default of 2 MiB made a 1M-row import three times slower). */
#define IMPORT_CACHE_KIB 65536

/* Another exhunt may be importing into the same store: wait for it rather
 * than fail. An import of the largest feeds takes seconds. */
#define BUSY_TIMEOUT_MS 30000

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);\n"
    "CREATE TABLE IF NOT EXISTS indicators(\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  source TEXT NOT NULL, type TEXT NOT NULL, value TEXT NOT NULL,\n"
    "  actor TEXT NOT NULL DEFAULT '', report TEXT NOT NULL DEFAULT '',\n"
    "  description TEXT NOT NULL DEFAULT '', tags TEXT NOT NULL DEFAULT '',\n"
    "  confidence INTEGER, first_seen TEXT NOT NULL DEFAULT '',\n"
    "  last_seen TEXT NOT NULL DEFAULT '',\n"
    "  imported_at TEXT NOT NULL, updated_at TEXT NOT NULL,\n"
    "  UNIQUE(source, type, value));\n"
    "CREATE TABLE IF NOT EXISTS sightings(\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  indicator_id INTEGER NOT NULL REFERENCES indicators(id) ON DELETE CASCADE,\n"
    "  host TEXT NOT NULL DEFAULT '', location TEXT NOT NULL DEFAULT '',\n"
    "  seen_at TEXT NOT NULL DEFAULT '', detector TEXT NOT NULL DEFAULT '',\n"
    "  detail TEXT NOT NULL DEFAULT '', recorded_at TEXT NOT NULL,\n"
    "  UNIQUE(indicator_id, host, location, seen_at));\n"
    "CREATE TABLE IF NOT EXISTS feeds(\n"
    "  url TEXT PRIMARY KEY, etag TEXT NOT NULL DEFAULT '',\n"
    "  last_modified TEXT NOT NULL DEFAULT '', fetched_at TEXT NOT NULL DEFAULT '',\n"
    "  status INTEGER NOT NULL DEFAULT 0);\n";

static int db_err(exh_ioc_store *s, exh_error *err, const char *what) {
  return exhi_err(err, EXH_ERR_IO, s->path, 0, -1, "%s: %s", what, sqlite3_errmsg(s->db));
}

int exh_ioc_default_path(char *buf, size_t size, exh_error *err) {
  const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
  int w;
  /* XDG Base Directory spec: a relative XDG_DATA_HOME is invalid, ignore it. */
  if (xdg && xdg[0] == '/') w = snprintf(buf, size, "%s/exhunt/iocs.sqlite", xdg);
  else if (home && *home) w = snprintf(buf, size, "%s/.local/share/exhunt/iocs.sqlite", home);
  else
    return exhi_err(err, EXH_ERR_NOTFOUND, "store", 0, -1,
                    "neither XDG_DATA_HOME nor HOME is set: give --db FILE");
  if (w < 0 || (size_t)w >= size)
    return exhi_err(err, EXH_ERR_LIMIT, "store", 0, -1, "data directory path too long");
  return EXH_OK;
}

/* mkdir -p of path's folder, private to the user (indicators may be TLP:AMBER). */
static int make_parent(const char *path, exh_error *err) {
  char *d = strdup(path);
  if (!d) return exhi_err(err, EXH_ERR_NOMEM, path, 0, -1, "out of memory");
  char *slash = strrchr(d, '/');
  if (slash && slash != d) {
    *slash = '\0';
    for (char *p = d + 1; *p; p++) {
      if (*p != '/') continue;
      *p = '\0';
      mkdir(d, 0700);
      *p = '/';
    }
    if (mkdir(d, 0700) != 0 && errno != EEXIST) {
      int e = errno;
      exhi_err(err, EXH_ERR_IO, d, 0, -1, "cannot create the store's folder: %s", strerror(e));
      free(d);
      return EXH_ERR_IO;
    }
  }
  free(d);
  return EXH_OK;
}

static int exec(exh_ioc_store *s, const char *sql, exh_error *err) {
  char *msg = NULL;
  if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
    int rc = exhi_err(err, EXH_ERR_IO, s->path, 0, -1, "%s", msg ? msg : sqlite3_errmsg(s->db));
    sqlite3_free(msg);
    return rc;
  }
  return EXH_OK;
}

static int user_version(exh_ioc_store *s, int *v, exh_error *err) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
    return db_err(s, err, "not an exhunt indicator store (or not SQLite)");
  int rc = sqlite3_step(st);
  *v = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
  sqlite3_finalize(st);
  if (rc != SQLITE_ROW) return db_err(s, err, "not an exhunt indicator store (or not SQLite)");
  return EXH_OK;
}

int exh_ioc_store_open(const char *path, unsigned flags, exh_ioc_store **out, exh_error *err) {
  *out = NULL;
  if (!path || !*path) return exhi_err(err, EXH_ERR_INVALID, "store", 0, -1, "no path given");
  /* Without libsqlite3 nothing can be said of the store: an I/O error, not
   * the loader's NOTFOUND, which callers read as "no store there yet". */
  if (exhi_dl_sqlite(err) != EXH_OK) {
    if (err) err->code = EXH_ERR_IO;
    return EXH_ERR_IO;
  }
  bool ro = flags & EXH_IOC_READONLY;
  if (!ro) {
    int rc = make_parent(path, err);
    if (rc != EXH_OK) return rc;
  }
  exh_ioc_store *s = calloc(1, sizeof *s);
  if (!s || !(s->path = strdup(path))) {
    free(s);
    return exhi_err(err, EXH_ERR_NOMEM, path, 0, -1, "out of memory");
  }
  s->flags = flags;
  int oflags = ro ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  if (sqlite3_open_v2(path, &s->db, oflags, NULL) != SQLITE_OK) {
    /* NOTFOUND only for a missing file: one that is there but cannot be
     * opened is an error to report, not "no store". */
    struct stat st;
    bool missing = ro && stat(path, &st) != 0 && errno == ENOENT;
    int rc = exhi_err(err, missing ? EXH_ERR_NOTFOUND : EXH_ERR_IO, path, 0, -1,
                      "cannot open the indicator store: %s",
                      s->db ? sqlite3_errmsg(s->db) : "out of memory");
    exh_ioc_store_close(s);
    return rc;
  }
  sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
  sqlite3_extended_result_codes(s->db, 1);
  int v, rc = user_version(s, &v, err);
  if (rc == EXH_OK && v > SCHEMA_VERSION)
    rc = exhi_err(err, EXH_ERR_DATA, path, 0, -1,
                  "store schema version %d is newer than this exhunt's (%d): upgrade exhunt", v,
                  SCHEMA_VERSION);
  if (rc == EXH_OK && ro && v == 0)
    rc = exhi_err(err, EXH_ERR_NOTFOUND, path, 0, -1, "empty: no indicators imported yet");
  if (rc == EXH_OK) rc = exec(s, "PRAGMA foreign_keys = ON", err);
  if (rc == EXH_OK) {
    char pragma[64];
    snprintf(pragma, sizeof pragma, "PRAGMA cache_size = -%d", IMPORT_CACHE_KIB);
    rc = exec(s, pragma, err);
  }
  if (rc == EXH_OK && !ro && v < SCHEMA_VERSION) {
    char sql[sizeof schema + 128];
    snprintf(sql, sizeof sql,
             "BEGIN IMMEDIATE;\n%s"
             "INSERT OR REPLACE INTO meta VALUES('schema_version', '%d');\n"
             "PRAGMA user_version = %d;\nCOMMIT;",
             schema, SCHEMA_VERSION, SCHEMA_VERSION);
    rc = exec(s, sql, err);
    if (rc != EXH_OK) sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
  }
  if (rc != EXH_OK) {
    exh_ioc_store_close(s);
    return rc;
  }
  *out = s;
  return EXH_OK;
}

void exh_ioc_store_close(exh_ioc_store *s) {
  if (!s) return;
  sqlite3_close_v2(s->db);
  free(s->path);
  free(s);
}

/* ---- import -------------------------------------------------------------- */

typedef struct imp {
  exh_ioc_store *s;
  const exh_ioc_import_opts *opts;
  exh_ioc_import_stats *stats;
  const char *default_source; /* the file's base name */
  const char *default_report;
  sqlite3_stmt *sel, *ins, *upd;
  char now[40];
  size_t written;
} imp;

static const char *nz(const char *s) { return s ? s : ""; }

static void on_skip(void *ctx, const char *where, const char *reason) {
  imp *m = ctx;
  m->stats->skipped++;
  if (!m->stats->first_skip[0])
    snprintf(m->stats->first_skip, sizeof m->stats->first_skip, "%s: %s", where, reason);
}

/* Keeps the earlier first_seen and the later last_seen (ISO strings order
 * as times do); other fields: a new non-empty value wins. */
static const char *pick_min(const char *old, const char *neu) {
  if (!*neu) return old;
  if (!*old) return neu;
  return strcmp(neu, old) < 0 ? neu : old;
}
static const char *pick_max(const char *old, const char *neu) {
  if (!*neu) return old;
  if (!*old) return neu;
  return strcmp(neu, old) > 0 ? neu : old;
}
static const char *pick_new(const char *old, const char *neu) { return *neu ? neu : old; }

static const char *col(sqlite3_stmt *st, int i) {
  const unsigned char *t = sqlite3_column_text(st, i);
  return t ? (const char *)t : "";
}

static int on_entry(void *ctx, const exhi_ioc_entry *e, exh_error *err) {
  imp *m = ctx;
  char value[EXH_IOC_VALUE_MAX + 2];
  exh_error nerr;
  if (exh_ioc_normalize(e->type, e->value, e->value_len, value, sizeof value, &nerr) != EXH_OK) {
    on_skip(m, e->where ? e->where : "?", nerr.text);
    return EXH_OK;
  }
  const char *type = exh_ioc_type_name(e->type);
  const char *source = m->opts && m->opts->source ? m->opts->source
                       : e->source && *e->source  ? e->source
                                                  : m->default_source;
  const char *actor = nz(e->actor);
  if (!*actor && m->opts && m->opts->actor) actor = m->opts->actor;
  const char *report = e->report && *e->report ? e->report : m->default_report;
  const char *desc = nz(e->description), *tags = nz(e->tags);
  const char *first = nz(e->first_seen), *last = nz(e->last_seen);
  int conf = e->confidence;

  sqlite3_stmt *sel = m->sel;
  sqlite3_reset(sel);
  sqlite3_bind_text(sel, 1, source, -1, SQLITE_STATIC);
  sqlite3_bind_text(sel, 2, type, -1, SQLITE_STATIC);
  sqlite3_bind_text(sel, 3, value, -1, SQLITE_STATIC);
  int r = sqlite3_step(sel);
  if (r == SQLITE_ROW) {
    /* id, actor, report, description, tags, confidence, first, last */
    int64_t id = sqlite3_column_int64(sel, 0);
    const char *n_actor = pick_new(col(sel, 1), actor), *n_report = pick_new(col(sel, 2), report);
    const char *n_desc = pick_new(col(sel, 3), desc), *n_tags = pick_new(col(sel, 4), tags);
    bool had_conf = sqlite3_column_type(sel, 5) != SQLITE_NULL;
    int old_conf = sqlite3_column_int(sel, 5);
    int n_conf = conf >= 0 ? conf : had_conf ? old_conf : -1;
    const char *n_first = pick_min(col(sel, 6), first), *n_last = pick_max(col(sel, 7), last);
    bool same = !strcmp(n_actor, col(sel, 1)) && !strcmp(n_report, col(sel, 2)) &&
                !strcmp(n_desc, col(sel, 3)) && !strcmp(n_tags, col(sel, 4)) &&
                (had_conf ? n_conf == old_conf : n_conf < 0) && !strcmp(n_first, col(sel, 6)) &&
                !strcmp(n_last, col(sel, 7));
    if (same) {
      m->stats->unchanged++;
    } else {
      sqlite3_stmt *u = m->upd;
      sqlite3_reset(u);
      /* Bind copies (SQLITE_TRANSIENT): the row's text dies with the reset. */
      sqlite3_bind_text(u, 1, n_actor, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(u, 2, n_report, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(u, 3, n_desc, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(u, 4, n_tags, -1, SQLITE_TRANSIENT);
      if (n_conf >= 0) sqlite3_bind_int(u, 5, n_conf);
      else sqlite3_bind_null(u, 5);
      sqlite3_bind_text(u, 6, n_first, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(u, 7, n_last, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(u, 8, m->now, -1, SQLITE_STATIC);
      sqlite3_bind_int64(u, 9, id);
      sqlite3_reset(sel);
      if (sqlite3_step(u) != SQLITE_DONE) return db_err(m->s, err, "update failed");
      m->stats->updated++;
    }
    sqlite3_reset(sel);
  } else if (r == SQLITE_DONE) {
    sqlite3_stmt *in = m->ins;
    sqlite3_reset(in);
    sqlite3_bind_text(in, 1, source, -1, SQLITE_STATIC);
    sqlite3_bind_text(in, 2, type, -1, SQLITE_STATIC);
    sqlite3_bind_text(in, 3, value, -1, SQLITE_STATIC);
    sqlite3_bind_text(in, 4, actor, -1, SQLITE_STATIC);
    sqlite3_bind_text(in, 5, report, -1, SQLITE_STATIC);
    sqlite3_bind_text(in, 6, desc, -1, SQLITE_STATIC);
    sqlite3_bind_text(in, 7, tags, -1, SQLITE_STATIC);
    if (conf >= 0) sqlite3_bind_int(in, 8, conf);
    else sqlite3_bind_null(in, 8);
    sqlite3_bind_text(in, 9, first, -1, SQLITE_STATIC);
    sqlite3_bind_text(in, 10, last, -1, SQLITE_STATIC);
    sqlite3_bind_text(in, 11, m->now, -1, SQLITE_STATIC);
    if (sqlite3_step(in) != SQLITE_DONE) return db_err(m->s, err, "insert failed");
    m->stats->added++;
  } else {
    return db_err(m->s, err, "lookup failed");
  }
  m->stats->per_type[e->type]++;
  m->written++;
  if (m->opts && m->opts->progress && m->opts->progress(m->opts->ctx, m->written))
    return exhi_err(err, EXH_ERR_INVALID, m->default_report, 0, -1,
                    "import stopped by the caller after %zu indicators", m->written);
  return EXH_OK;
}

int exhi_ioc_import_txn(exh_ioc_store *s, const char *name, const char *data, size_t len,
                        const exh_ioc_import_opts *opts, exh_ioc_import_stats *stats,
                        int (*extra)(exh_ioc_store *s, void *ctx, exh_error *err),
                        void *extra_ctx, exh_error *err) {
  exh_ioc_import_stats local;
  if (!stats) stats = &local;
  memset(stats, 0, sizeof *stats);
  if (s->flags & EXH_IOC_READONLY)
    return exhi_err(err, EXH_ERR_INVALID, s->path, 0, -1, "store opened read-only");
  const char *base = strrchr(name, '/');
  base = base ? base + 1 : name;
  imp m = {.s = s, .opts = opts, .stats = stats, .default_source = base, .default_report = base};
  exhi_format_time_ms(exhi_now_ms(), m.now, sizeof m.now);
  int rc = EXH_OK;
  if (sqlite3_prepare_v2(s->db,
                         "SELECT id, actor, report, description, tags, confidence, first_seen, "
                         "last_seen FROM indicators WHERE source = ?1 AND type = ?2 AND value = ?3",
                         -1, &m.sel, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(s->db,
                         "INSERT INTO indicators(source, type, value, actor, report, description, "
                         "tags, confidence, first_seen, last_seen, imported_at, updated_at) "
                         "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11)",
                         -1, &m.ins, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(s->db,
                         "UPDATE indicators SET actor = ?1, report = ?2, description = ?3, "
                         "tags = ?4, confidence = ?5, first_seen = ?6, last_seen = ?7, "
                         "updated_at = ?8 WHERE id = ?9",
                         -1, &m.upd, NULL) != SQLITE_OK) {
    rc = db_err(s, err, "cannot prepare the import");
    goto out;
  }
  rc = exec(s, "BEGIN IMMEDIATE", err);
  if (rc != EXH_OK) goto out;
  exhi_ioc_sink sink = {.entry = on_entry, .skip = on_skip, .ctx = &m};
  const char *format = "";
  rc = exhi_ioc_parse(name, data, len, &sink, &format, err);
  snprintf(stats->format, sizeof stats->format, "%s", format);
  if (rc == EXH_OK && extra) rc = extra(s, extra_ctx, err);
  sqlite3_reset(m.sel);
  sqlite3_reset(m.ins);
  sqlite3_reset(m.upd);
  if (rc == EXH_OK) rc = exec(s, "COMMIT", err);
  if (rc != EXH_OK) {
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    exh_ioc_import_stats keep = *stats;
    memset(stats, 0, sizeof *stats);
    memcpy(stats->format, keep.format, sizeof stats->format);
  }
out:
  sqlite3_finalize(m.sel);
  sqlite3_finalize(m.ins);
  sqlite3_finalize(m.upd);
  return rc;
}

int exh_ioc_import_buffer(exh_ioc_store *s, const char *name, const char *data, size_t len,
                          const exh_ioc_import_opts *opts, exh_ioc_import_stats *stats,
                          exh_error *err) {
  if (len > EXH_IOC_IMPORT_MAX_BYTES)
    return exhi_err(err, EXH_ERR_LIMIT, name, 0, -1, "%zu bytes, more than the %u a feed may have",
                    len, EXH_IOC_IMPORT_MAX_BYTES);
  return exhi_ioc_import_txn(s, name ? name : "input", data, len, opts, stats, NULL, NULL, err);
}

int exh_ioc_import_file(exh_ioc_store *s, const char *path, const exh_ioc_import_opts *opts,
                        exh_ioc_import_stats *stats, exh_error *err) {
  unsigned char *buf;
  size_t len;
  int rc = exhi_read_file(path, EXH_IOC_IMPORT_MAX_BYTES, &buf, &len, err);
  if (rc != EXH_OK) return rc;
  rc = exh_ioc_import_buffer(s, path, (const char *)buf, len, opts, stats, err);
  free(buf);
  return rc;
}

/* ---- reading ------------------------------------------------------------- */

void exhi_ioc_from_row(sqlite3_stmt *st, exh_ioc *ioc);
/* Columns: id, type, value, source, actor, report, description, tags,
 * confidence, first_seen, last_seen. */
void exhi_ioc_from_row(sqlite3_stmt *st, exh_ioc *ioc) {
  ioc->id = sqlite3_column_int64(st, 0);
  ioc->type = exh_ioc_type_from_name(col(st, 1));
  ioc->value = col(st, 2);
  ioc->source = col(st, 3);
  ioc->actor = col(st, 4);
  ioc->report = col(st, 5);
  ioc->description = col(st, 6);
  ioc->tags = col(st, 7);
  ioc->confidence = sqlite3_column_type(st, 8) == SQLITE_NULL ? -1 : sqlite3_column_int(st, 8);
  ioc->first_seen = col(st, 9);
  ioc->last_seen = col(st, 10);
}

#define IOC_COLUMNS                                                                   \
  "id, type, value, source, actor, report, description, tags, confidence, first_seen, " \
  "last_seen"

int exh_ioc_store_list(exh_ioc_store *s, const exh_ioc_filter *f,
                       int (*fn)(void *ctx, const exh_ioc *ioc), void *ctx, exh_error *err) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(s->db,
                         "SELECT " IOC_COLUMNS " FROM indicators "
                         "WHERE (?1 IS NULL OR type = ?1) AND (?2 IS NULL OR source = ?2) "
                         "AND (?3 IS NULL OR actor = ?3) ORDER BY type, value, source",
                         -1, &st, NULL) != SQLITE_OK)
    return db_err(s, err, "cannot list");
  if (f && f->type) sqlite3_bind_text(st, 1, exh_ioc_type_name(f->type), -1, SQLITE_STATIC);
  if (f && f->source) sqlite3_bind_text(st, 2, f->source, -1, SQLITE_STATIC);
  if (f && f->actor) sqlite3_bind_text(st, 3, f->actor, -1, SQLITE_STATIC);
  int r;
  while ((r = sqlite3_step(st)) == SQLITE_ROW) {
    exh_ioc ioc;
    exhi_ioc_from_row(st, &ioc);
    if (fn(ctx, &ioc)) {
      r = SQLITE_DONE;
      break;
    }
  }
  int rc = r == SQLITE_DONE ? EXH_OK : db_err(s, err, "listing failed");
  sqlite3_finalize(st);
  return rc;
}

int exh_ioc_store_count(exh_ioc_store *s, const char *what,
                        int (*fn)(void *ctx, const char *key, int64_t n), void *ctx,
                        exh_error *err) {
  const char *sql;
  if (!strcmp(what, "source"))
    sql = "SELECT source, count(*) FROM indicators GROUP BY 1 ORDER BY 2 DESC, 1";
  else if (!strcmp(what, "type"))
    sql = "SELECT type, count(*) FROM indicators GROUP BY 1 ORDER BY 2 DESC, 1";
  else if (!strcmp(what, "actor"))
    sql = "SELECT actor, count(*) FROM indicators GROUP BY 1 ORDER BY 2 DESC, 1";
  else
    return exhi_err(err, EXH_ERR_INVALID, "count", 0, -1,
                    "\"%.40s\": group by source, type or actor", what);
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) return db_err(s, err, "cannot count");
  int r;
  while ((r = sqlite3_step(st)) == SQLITE_ROW)
    if (fn(ctx, col(st, 0), sqlite3_column_int64(st, 1))) {
      r = SQLITE_DONE;
      break;
    }
  int rc = r == SQLITE_DONE ? EXH_OK : db_err(s, err, "counting failed");
  sqlite3_finalize(st);
  return rc;
}

/* ---- sightings ----------------------------------------------------------- */

int exh_ioc_store_add_sighting(exh_ioc_store *s, const exh_ioc *hit, const exh_ioc_sighting *w,
                               exh_error *err) {
  if (!hit || !w) return exhi_err(err, EXH_ERR_INVALID, "sighting", 0, -1, "no indicator or place");
  if (s->flags & EXH_IOC_READONLY)
    return exhi_err(err, EXH_ERR_INVALID, s->path, 0, -1, "store opened read-only");
  char seen[40] = "", now[40];
  if (w->seen_ms >= 0) exhi_format_time_ms(w->seen_ms, seen, sizeof seen);
  exhi_format_time_ms(exhi_now_ms(), now, sizeof now);
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(s->db,
                         "INSERT INTO sightings(indicator_id, host, location, seen_at, detector, "
                         "detail, recorded_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7) "
                         "ON CONFLICT(indicator_id, host, location, seen_at) DO UPDATE SET "
                         "detector = excluded.detector, detail = excluded.detail",
                         -1, &st, NULL) != SQLITE_OK)
    return db_err(s, err, "cannot record a sighting");
  sqlite3_bind_int64(st, 1, hit->id);
  sqlite3_bind_text(st, 2, nz(w->host), -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 3, nz(w->location), -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 4, seen, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 5, nz(w->detector), -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 6, nz(w->detail), -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 7, now, -1, SQLITE_STATIC);
  int r = sqlite3_step(st);
  sqlite3_finalize(st);
  if (r == SQLITE_CONSTRAINT_FOREIGNKEY)
    return exhi_err(err, EXH_ERR_NOTFOUND, s->path, 0, -1,
                    "indicator id %lld is not in this store", (long long)hit->id);
  if (r != SQLITE_DONE) return db_err(s, err, "cannot record a sighting");
  return EXH_OK;
}

int exh_ioc_store_add_sightings(exh_ioc_store *s, const exh_ioc *const *hits,
                                const exh_ioc_sighting *where, size_t n, exh_error *err) {
  if (n && (!hits || !where))
    return exhi_err(err, EXH_ERR_INVALID, "sighting", 0, -1, "no indicators or places");
  if (s->flags & EXH_IOC_READONLY)
    return exhi_err(err, EXH_ERR_INVALID, s->path, 0, -1, "store opened read-only");
  if (!n) return EXH_OK;
  /* One transaction: a scan's sightings land together or not at all, and
   * one commit (one fsync) instead of one per hit. */
  int rc = exec(s, "BEGIN IMMEDIATE", err);
  for (size_t i = 0; rc == EXH_OK && i < n; i++)
    rc = exh_ioc_store_add_sighting(s, hits[i], &where[i], err);
  if (rc == EXH_OK) rc = exec(s, "COMMIT", err);
  if (rc != EXH_OK) sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
  return rc;
}
