/* Internal API of the indicator store (src/ioc/): parsers turn a feed into
 * exhi_ioc_entry values handed to a sink; the store normalises and writes
 * them. Parsers know nothing of SQLite, so the fuzz targets run them alone. */
#ifndef EXHUNT_IOC_H
#define EXHUNT_IOC_H

#include "../core/internal.h"

#include <jansson.h>

/* One indicator as a feed states it, before normalising. Every string may
 * be NULL or "" for "not given"; all are borrowed for the sink call. */
typedef struct exhi_ioc_entry {
  int type;                 /* enum exh_ioc_type */
  const char *value;
  size_t value_len;
  const char *source, *actor, *report, *description, *tags;
  const char *first_seen, *last_seen;
  int confidence;           /* -1: not given */
  const char *where;        /* "line 12", "$.objects[3]": for skip reasons */
} exhi_ioc_entry;

typedef struct exhi_ioc_sink {
  /* An indicator: returns EXH_OK, or an error that stops the parse. */
  int (*entry)(void *ctx, const exhi_ioc_entry *e, exh_error *err);
  /* An entry the parser saw but cannot use (where, why). */
  void (*skip)(void *ctx, const char *where, const char *reason);
  void *ctx;
} exhi_ioc_sink;

/* A JSON feed nests a few levels; a bundle of a million indicators is ~500
 * MB, so the byte bound (EXH_IOC_IMPORT_MAX_BYTES) is the one that matters.
 * Entries per document: generous for any real feed, bounded for hostile. */
#define EXHI_IOC_MAX_ENTRIES 5000000u
/* A JSON feed is held as a tree (jansson), several times its size in
 * memory: 64 MiB is above the largest public STIX bundles and MISP exports
 * (tens of MB) and keeps the tree under a few GB. CSV is streamed and keeps
 * the file limit (EXH_IOC_IMPORT_MAX_BYTES). */
#define EXHI_IOC_JSON_MAX_BYTES (64u << 20)
/* A STIX pattern with more comparisons than this is not a simple list. */
#define EXHI_IOC_PATTERN_MAX_TERMS 256
/* Longest STIX pattern parsed: a few hundred comparisons of long URLs. */
#define EXHI_IOC_PATTERN_MAX_BYTES (1u << 20)

/* "csv-mstic", "csv-volexity", "csv", "stix", "misp", "json", "jsonl". Detects the format
 * from the content and parses. *format gets the name (static string). */
int exhi_ioc_parse(const char *name, const char *data, size_t len,
                   const exhi_ioc_sink *sink, const char **format, exh_error *err);
int exhi_ioc_parse_csv(const char *name, const char *data, size_t len,
                       const exhi_ioc_sink *sink, const char **format, exh_error *err);
int exhi_ioc_parse_stix(const char *name, json_t *doc, const exhi_ioc_sink *sink,
                        exh_error *err);
int exhi_ioc_parse_misp(const char *name, json_t *doc, const exhi_ioc_sink *sink,
                        exh_error *err);
/* A JSON array of flat indicator objects (MSTIC's .json or the plain keys),
 * and the same as JSON lines (MSTIC's .jsonl). */
int exhi_ioc_parse_json_list(const char *name, json_t *doc, const exhi_ioc_sink *sink,
                             exh_error *err);
int exhi_ioc_parse_jsonl(const char *name, const char *data, size_t len,
                         const exhi_ioc_sink *sink, exh_error *err);
/* Parses a JSON document with the bounds above; errors name line/column. */
int exhi_ioc_json_load(const char *name, const char *data, size_t len, json_t **out,
                       exh_error *err);

/* A feed's type word ("sha256", "ipaddress", "ip-dst", "FileHash-MD5",
 * "user-agent", ...) as an exh_ioc_type, using the value to tell IPv4 from
 * IPv6 and a bare "hash" by its length; 0 when exhunt keeps no such type. */
int exhi_ioc_type_guess(const char *word, const char *value, size_t value_len);

/* ---- store internals shared with pull.c ---- */
typedef struct sqlite3 sqlite3;
struct exh_ioc_store {
  sqlite3 *db;
  char *path;
  unsigned flags;
};

/* Runs the import of one document in one transaction; before COMMIT calls
 * extra(ctx) (may be NULL) so that feed state lands in the same commit. */
int exhi_ioc_import_txn(exh_ioc_store *s, const char *name, const char *data,
                        size_t len, const exh_ioc_import_opts *opts,
                        exh_ioc_import_stats *stats,
                        int (*extra)(exh_ioc_store *s, void *ctx, exh_error *err),
                        void *extra_ctx, exh_error *err);

/* The i-th indicator of a set (sorted by type, value, source: the sources
 * of one value are neighbours), or NULL past the end. Borrowed from the
 * set. For consumers that build their own index of the values (the web
 * log prefilter of logioc.c). */
const exh_ioc *exhi_ioc_set_at(const exh_ioc_set *set, size_t i);

/* Builds (or finds cached) the literal prefilter a hunt on this store's
 * indicators uses (src/detectors/logioc.c), so that hunt does not compile
 * it. notice: announce a long compile on stderr. *n_literals: its size (0:
 * nothing a log line shows); *compiled: 1 compiled now, 0 already cached.
 * Nothing is done without a cache (exhi_hs_cache_on). */
int exhi_ioc_prefilter_warm(exh_ioc_store *s, int notice, size_t *n_literals, int *compiled,
                            exh_error *err);

#endif
