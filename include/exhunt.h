/*
 * exhunt.h - the whole public API of libexhunt.
 *
 * Conventions (see docs/api.md):
 *   - every function that can fail returns an int status: EXH_OK (0) or one
 *     of the EXH_ERR_* codes below, and fills an exh_error the caller passes
 *     (may be NULL) with a sentence naming the input, the line or offset and
 *     what was wrong;
 *   - *_new / *_load return an object the caller owns and releases with the
 *     matching *_free (which accepts NULL);
 *   - "const char *" members of result structs are borrowed: they live as long
 *     as the object named in the comment beside them (usually the exh_kb).
 */
#ifndef EXHUNT_H
#define EXHUNT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define EXH_API __attribute__((visibility("default")))
#else
#define EXH_API
#endif

#define EXH_VERSION "0.1.0"

/* ---- errors ------------------------------------------------------------ */

/* Status codes. Values never change meaning; new ones are only appended. */
enum exh_status {
  EXH_OK = 0,
  EXH_ERR_NOMEM = 1,    /* out of memory */
  EXH_ERR_IO = 2,       /* a file or folder could not be opened or read */
  EXH_ERR_PARSE = 3,    /* the input is malformed */
  EXH_ERR_LIMIT = 4,    /* the input exceeds a documented bound */
  EXH_ERR_NOTFOUND = 5, /* what was looked for is not there */
  EXH_ERR_INVALID = 6,  /* the caller passed an invalid argument */
  EXH_ERR_DATA = 7      /* a data table (build, CVE) is inconsistent */
};

#define EXH_ERROR_TEXT_MAX 768

typedef struct exh_error {
  int code;                       /* one of enum exh_status */
  char text[EXH_ERROR_TEXT_MAX];  /* "FILE: line N: what was wrong" */
} exh_error;

/* A short, constant description of a status code ("malformed input"). */
EXH_API const char *exh_strerror(int code);

/* ---- builds ------------------------------------------------------------ */

/*
 * An Exchange build number, e.g. 15.1.2176.9. parts == 3 when only
 * major.minor.build is known (an OWA logon page path, AdminDisplayVersion
 * shows 4 parts but only the CU level: see precision in exh_assessment).
 */
typedef struct exh_build {
  uint32_t major, minor, build, revision;
  int parts; /* 3 or 4 */
} exh_build;

/*
 * Finds the build number in a line of text as people paste it:
 * "15.1.2176.2", "15.01.2176.002", "Version 15.1 (Build 2176.2)",
 * "Exchange Server 2016 CU19 (15.1.2176.2)", "Exchange/15.01.2176.009".
 * *admin_display is set to 1 when the text had the AdminDisplayVersion
 * shape, which reveals the CU only (may be NULL).
 */
EXH_API int exh_build_parse(const char *text, size_t len, exh_build *out,
                            int *admin_display, exh_error *err);

/* Orders two builds on the parts both have (-1, 0, 1). */
EXH_API int exh_build_cmp(const exh_build *a, const exh_build *b);

/* Writes the short form ("15.1.2176.9" or "15.1.2176"); returns its length. */
EXH_API size_t exh_build_format(const exh_build *b, char *buf, size_t size);

/* ---- knowledge base: build and CVE tables ------------------------------ */

typedef struct exh_kb exh_kb; /* immutable once loaded: share it between threads */

/*
 * Loads the tables. dir == NULL: the tables built into the library. Otherwise
 * each table file present in dir (builds.csv, cves.csv, campaigns.csv,
 * products.csv) replaces the built-in one.
 */
EXH_API int exh_kb_load(const char *dir, exh_kb **out, exh_error *err);
EXH_API void exh_kb_free(exh_kb *kb);

/* One release of Exchange: a CU / SP as released, or an update (SU, HU, RU). */
typedef struct exh_release {
  const char *product;  /* "Exchange Server 2016"; lives as long as the kb */
  const char *cu;       /* "CU19", "SP1", "SP3", "RTM" */
  const char *update;   /* "Mar21SU", "Update Rollup 32"; "" for the CU itself */
  const char *name;     /* "Exchange Server 2016 CU19 Mar21SU" */
  const char *released; /* "2021-03-02", or "" when unknown */
  const char *kb;       /* "KB5000871", or "" when unknown */
  const char *source;   /* where the fact comes from */
  exh_build build;
} exh_release;

/* Facts the kb holds about itself, for --version and reports. */
typedef struct exh_kb_info {
  size_t releases, cve_rows, cves, products;
  const char *newest_release; /* date of the newest release in the table */
  const char *origin;         /* "built-in" or the --data folder */
} exh_kb_info;
EXH_API void exh_kb_get_info(const exh_kb *kb, exh_kb_info *info);

/* ---- assessment ------------------------------------------------------- */

enum exh_precision {
  EXH_PRECISION_EXACT = 0, /* full build from ExSetup.exe or a 4-part string */
  EXH_PRECISION_CU = 1     /* CU known, update level unknown */
};

enum exh_level {
  EXH_LEVEL_NONE_OPEN = 0,  /* exact build, no CVE of the table open */
  EXH_LEVEL_UNPATCHED = 1,  /* exact build with open CVEs */
  EXH_LEVEL_UNKNOWN = 2,    /* CU known only: the update level cannot be told */
  EXH_LEVEL_NOT_ASSESSED = 3 /* product or build line exhunt has no table for */
};

enum exh_support {
  EXH_SUPPORT_UNKNOWN = 0,
  EXH_SUPPORT_SUPPORTED = 1,
  EXH_SUPPORT_ENDED = 2
};

/* One CVE open on the assessed build. */
typedef struct exh_open_cve {
  const char *id;            /* "CVE-2021-26855" */
  const char *campaign;      /* "ProxyLogon", or "" */
  const exh_release *fix;    /* the release on this CU line that closes it;
                                NULL: no update for this CU ever closed it */
} exh_open_cve;

typedef struct exh_assessment {
  exh_build build;
  int precision;                 /* enum exh_precision */
  const char *product;           /* NULL when the product is unknown */
  const exh_release *cu;         /* the CU/SP as released, NULL if unknown */
  const exh_release *release;    /* exact table row; NULL: not in the table */
  const exh_release *nearest_below, *nearest_above; /* when release == NULL */
  int newer_than_table;          /* build above every known build of its line */
  int level;                     /* enum exh_level */
  int support;                   /* enum exh_support */
  const char *support_end;       /* "2025-10-14", or "" */
  const exh_release *latest_in_cu;      /* newest release on this CU line */
  const exh_release *latest_in_product; /* newest release of the product */
  const exh_release *target;     /* recommended target (latest supported) */
  const char *target_product;    /* product of target */
  const exh_release *min_update; /* smallest update on this CU closing every
                                    open CVE the CU line can close; NULL if none */
  size_t n_open;                 /* open CVEs (if no update installed when
                                    precision is EXH_PRECISION_CU) */
  const exh_open_cve *open;      /* n_open entries, sorted by fix then id */
  size_t n_unfixable;            /* of n_open, those with fix == NULL */
  const char *note;              /* a remark on the table's coverage, or "" */
  const char *tables_date;       /* newest release date in the tables (kb) */
  char as_of[11];                /* the date support was judged at */
} exh_assessment;

/*
 * Assesses a build against the tables. as_of is the date ("YYYY-MM-DD") the
 * support status is judged at; NULL means today. The result is owned by the
 * caller (exh_assessment_free) and borrows strings from kb.
 */
EXH_API int exh_assess(const exh_kb *kb, const exh_build *build, int precision,
                       const char *as_of, exh_assessment **out, exh_error *err);
EXH_API void exh_assessment_free(exh_assessment *a);
/* The highest severity (enum exh_severity) among the assessment's findings,
 * or -1 when it has none. */
EXH_API int exh_assessment_severity(const exh_assessment *a);

/* ---- evidence inputs -------------------------------------------------- */

enum exh_input_kind {
  EXH_INPUT_STRING = 0,   /* a build string */
  EXH_INPUT_EXSETUP = 1,  /* the PE version resource of ExSetup.exe */
  EXH_INPUT_FOLDER = 2,   /* an install folder or system volume */
  EXH_INPUT_OWA_PAGE = 3  /* a saved OWA logon page */
};

typedef struct exh_input_build {
  exh_build build;
  int precision;            /* enum exh_precision */
  int kind;                 /* enum exh_input_kind */
  char path[4096];          /* the file the build was read from, or "" */
  char detail[256];         /* e.g. the PE FileVersion string, or "" */
} exh_input_build;

/*
 * Reads a build from one input as a user gives it: an existing path (an
 * ExSetup.exe or other PE file, a saved OWA page, an install folder or
 * mounted system volume) or else a build string. Never writes to, or
 * changes the access time of, the evidence.
 */
EXH_API int exh_input_read(const char *arg, exh_input_build *out, exh_error *err);

/* ---- findings ---------------------------------------------------------- */

enum exh_severity {
  EXH_SEV_INFO = 0, EXH_SEV_LOW = 1, EXH_SEV_MEDIUM = 2,
  EXH_SEV_HIGH = 3, EXH_SEV_CRITICAL = 4
};
EXH_API const char *exh_severity_name(int severity);

/* An evidence field: an ECS name ("source.ip", "url.path") and its value. */
typedef struct exh_field {
  const char *name;
  const char *value;
} exh_field;

#define EXH_FINDING_MAX_CVES 256
#define EXH_FINDING_MAX_FIELDS 32

/* One hit. Every pointer is borrowed for the duration of the output call. */
typedef struct exh_finding {
  const char *rule_id;      /* stable id, e.g. "exh.assess.missing_update" */
  const char *rule_name;    /* one line title */
  int severity;             /* enum exh_severity */
  int confidence;           /* 0..100 */
  const char *const *cves;  /* n_cves ids */
  size_t n_cves;
  const char *const *attack; /* ATT&CK technique ids */
  size_t n_attack;
  const char *actor;        /* attribution, or NULL */
  int64_t event_time_ms;    /* time of the event (UTC, ms), -1 if none */
  const char *host;         /* host.name, or NULL */
  const char *path;         /* artifact path, or NULL */
  const char *sha256;       /* artifact hash, or NULL */
  int64_t line;             /* 1-based line in path, 0 if none */
  int64_t offset;           /* byte offset in path, -1 if none */
  const exh_field *fields;  /* evidence that matched */
  size_t n_fields;
  const char *message;      /* what was found, in a sentence */
  const char *action;       /* what to do about it, or NULL */
} exh_finding;

/* ---- outputs ----------------------------------------------------------- */

typedef struct exh_output exh_output;

enum exh_output_flags {
  EXH_OUT_COLOR = 1u << 0, /* ANSI colour (text only; the caller decides) */
  EXH_OUT_BRIEF = 1u << 1  /* text: one line per assessed input */
};

/*
 * format: "text" or "jsonl". fp stays owned by the caller. now_ms stamps
 * records that have no event time of their own (-1: the current time).
 */
EXH_API int exh_output_new(const char *format, FILE *fp, unsigned flags,
                           int64_t now_ms, exh_output **out, exh_error *err);
EXH_API int exh_output_finding(exh_output *o, const exh_finding *f);
/* Writes an assessment: a report (text) or its findings and a summary (jsonl). */
EXH_API int exh_output_assessment(exh_output *o, const char *input,
                                  const exh_input_build *in,
                                  const exh_assessment *a);
/* Reports an input that could not be assessed (jsonl: an error record). */
EXH_API int exh_output_input_error(exh_output *o, const char *input,
                                   const exh_error *e);
/* Flushes; reports a write error (disk full, closed pipe) as EXH_ERR_IO. */
EXH_API int exh_output_finish(exh_output *o, exh_error *err);
EXH_API void exh_output_free(exh_output *o);

/* ---- files: web shells, ransomware, dumps on disk (exhunt files) ------- */

/* What the indicator hook is told about one file. Strings live for the
 * duration of the lookup call. Below a URL-encoded drive folder of a
 * Velociraptor collection ("C%3A", "%5C%5C.%5CC%3A"), path, rel_path and
 * name are the Windows names, decoded ("C:/Program Files/..."); the path
 * rules see the same, and findings keep the path as found. */
typedef struct exh_file_info {
  const char *path;     /* as scanned: the root given, then the path below it */
  const char *rel_path; /* below the scan root, '/'-separated
                           ("inetpub/wwwroot/aspnet_client/x.aspx"), to
                           compare with published Windows paths; the file
                           name when the root is the file itself */
  const char *name;     /* the last component */
  int64_t size;
  const char *sha256;   /* lower-case hex */
  const char *sha1;     /* "" unless the lookup asked for it (want) */
  const char *md5;      /* "" unless the lookup asked for it (want) */
} exh_file_info;

/* One indicator that matched a file. The strings are borrowed from the
 * lookup's owner and must stay valid until the lookup is called again from
 * the same thread (the scanner copies them at once). */
typedef struct exh_indicator_hit {
  const char *value;  /* the indicator as listed: a hash, a file name, a path */
  const char *type;   /* "sha256", "sha1", "md5", "filename", "filepath" */
  const char *source; /* who published it: "MSTIC", "CISA AR21-084A", ... */
  const char *actor;  /* attribution as the source gives it, or NULL */
  const char *report; /* the report or feed it was published in, or NULL */
} exh_indicator_hit;

/* The most hits one file reports; more are counted, not listed. */
#define EXH_INDICATOR_MAX_HITS 16

enum exh_hash_want { EXH_WANT_SHA1 = 1u << 0, EXH_WANT_MD5 = 1u << 1 };

/*
 * The hook an indicator store plugs into `exh_files`: called once per
 * readable file from the worker threads (so it must be thread-safe), with
 * the file's hashes and paths. It writes up to max hits and their count to
 * *n. A status other than EXH_OK is reported as an error on that file.
 */
typedef struct exh_indicator_lookup {
  int (*lookup)(void *ctx, const exh_file_info *file, exh_indicator_hit *hits, size_t max,
                size_t *n, exh_error *err);
  void *ctx;
  unsigned want; /* enum exh_hash_want: extra hashes the indicators use */
} exh_indicator_lookup;

typedef struct exh_files_config {
  unsigned threads;           /* worker threads; 0: one per online CPU */
  const char *const *yara;    /* extra YARA rule files or folders (source or
                                 compiled), n_yara of them */
  size_t n_yara;
  int no_builtin;             /* 1: only the --yara rules, no bundled ones */
  uint64_t max_scan_bytes;    /* larger files are hashed but not given to
                                 YARA; 0: EXH_FILES_DEFAULT_MAX_SCAN */
  const exh_indicator_lookup *indicators; /* NULL: none; borrowed */
  /* Folders whose files another reader takes (exhunt check hands the log
   * folders to the log hunt): a regular file below one of them is not read
   * when its name ends with one of skip_exts (case-insensitive, e.g. ".log";
   * n_skip_exts == 0: every file below them) and, when named by an ending,
   * it reads as a log (its first 4 KiB: text without a NUL, gzip or an event
   * log; a dump named x.log is scanned). The folders are still walked,
   * so whatever else they hold (a page, a dump, a tool) is scanned. Each is
   * a path as the scan spells it: the root as given (trailing '/' removed),
   * then "/" and the names below it. Copied by exh_files_new; at most
   * EXH_FILES_MAX_SKIP of each. Counted in exh_files_stats.files_left. */
  const char *const *skip_dirs;
  size_t n_skip_dirs;
  const char *const *skip_exts;
  size_t n_skip_exts;
} exh_files_config;

/* Most skip folders and most skip endings in exh_files_config: a check hands
 * the log hunt a few dozen folders at most. */
#define EXH_FILES_MAX_SKIP 1024

/* The default size limit for YARA: 128 MiB (see docs/findings.md). */
#define EXH_FILES_DEFAULT_MAX_SCAN (128ull << 20)

/* Compiled rules (YARA and path rules): immutable, reused for many scans.
 * exh_files_new loads libyara (libyara.so.9) when YARA rules are asked for:
 * EXH_ERR_NOTFOUND, naming the file and the Debian package, when it cannot
 * be loaded. */
typedef struct exh_files exh_files;

EXH_API int exh_files_new(const exh_files_config *cfg, exh_files **out, exh_error *err);
EXH_API void exh_files_free(exh_files *f);
/* Numbers of rules compiled: bundled + user YARA rules, path rules. */
EXH_API void exh_files_rule_counts(const exh_files *f, size_t *yara, size_t *paths);

/* One compiled rule, for listings; strings live as long as f, except yara,
 * valid until the calling thread's next exh_files_rule_get. */
typedef struct exh_files_rule {
  const char *id;       /* "exh.files.webshell.china_chopper" */
  const char *name;     /* one-line title */
  const char *kind;     /* "yara" or "path" */
  const char *yara;     /* YARA namespace:identifier, or NULL for path rules */
  int severity;         /* enum exh_severity */
  const char *source;   /* the public report(s) it rests on */
} exh_files_rule;
/* Rule i of the YARA rules then the path rules; EXH_ERR_NOTFOUND past the end. */
EXH_API int exh_files_rule_get(const exh_files *f, size_t i, exh_files_rule *out);

typedef struct exh_files_stats {
  uint64_t files;           /* regular files read */
  uint64_t bytes;           /* bytes read */
  uint64_t dirs;            /* folders entered */
  uint64_t links_skipped;   /* symbolic links, never followed */
  uint64_t special_skipped; /* devices, FIFOs, sockets */
  uint64_t unreadable;      /* files and folders that could not be read */
  uint64_t not_yara_scanned;/* files above max_scan_bytes: hashed only */
  uint64_t findings;
  uint64_t files_left;      /* below exh_files_config.skip_dirs: not read */
} exh_files_stats;

/*
 * Scans the tree at root (a folder or a single file) read-only: files are
 * opened O_NOATIME where allowed, symbolic links and special files are never
 * opened. Findings come to on_finding in a stable order (folder entries
 * sorted by name, depth first), from the calling thread; an on_finding status
 * other than EXH_OK stops the scan and is returned. Files or folders that
 * cannot be read go to on_error (may be NULL) and the scan goes on. stats
 * (may be NULL) is added to, so one struct can sum several roots.
 */
EXH_API int exh_files_scan(const exh_files *f, const char *root,
                           int (*on_finding)(void *ctx, const exh_finding *fd),
                           void (*on_error)(void *ctx, const exh_error *e),
                           void *ctx, exh_files_stats *stats, exh_error *err);
/* ---- indicator store (exhunt ioc) -------------------------------------- */

/*
 * Indicators of compromise kept in an SQLite file that remembers where each
 * one came from. Three objects:
 *   - exh_ioc_store: the file (open / import / list / record sightings);
 *     one per thread, like an sqlite3 connection;
 *   - exh_ioc_set: every indicator loaded into memory once, immutable, for
 *     lookups from any number of threads without locks;
 *   - exh_ioc: one indicator as a lookup or a listing returns it.
 * Values are normalised before they are stored and before they are looked
 * up (exh_ioc_normalize), so "1.2.3[.]4" finds 1.2.3.4 and an upper-case
 * hash finds its lower-case twin. Docs: docs/ioc.md.
 */

/* Indicator types. Values never change meaning; new ones are appended. */
enum exh_ioc_type {
  EXH_IOC_SHA256 = 1,
  EXH_IOC_SHA1 = 2,
  EXH_IOC_MD5 = 3,
  EXH_IOC_FILENAME = 4,   /* a file name, compared case-insensitively */
  EXH_IOC_FILEPATH = 5,   /* a Windows path; matched as a suffix of a path */
  EXH_IOC_IPV4 = 6,
  EXH_IOC_IPV6 = 7,
  EXH_IOC_DOMAIN = 8,
  EXH_IOC_URL = 9,
  EXH_IOC_USER_AGENT = 10,
  EXH_IOC_TYPE_COUNT = 11 /* one past the last type */
};

/* "sha256", "filepath", "user-agent", ...; NULL for an unknown type. */
EXH_API const char *exh_ioc_type_name(int type);
/* The type named name (exh_ioc_type_name's names), or 0. */
EXH_API int exh_ioc_type_from_name(const char *name);

/* The type a bare value most likely has, for a user who types one: 64/40/32
 * hex digits -> sha256/sha1/md5, an IP address, "scheme://" -> url, a
 * '\\' or '/' -> filepath, a dotted host name -> domain, else filename. */
EXH_API int exh_ioc_type_detect(const char *value, size_t len);

/* Longest indicator value exhunt keeps, in bytes after normalising: a long
 * URL or user agent fits; anything longer is skipped as not an indicator. */
#define EXH_IOC_VALUE_MAX 2048

/*
 * Writes the canonical form of value for type into out (size >=
 * EXH_IOC_VALUE_MAX + 2 always suffices): hashes lower-case hex of the exact
 * length; IP addresses as inet_ntop prints them; domains lower-case without a
 * trailing dot; URLs with scheme and host lower-cased; file names and paths
 * lower-case with '/' separators and no drive letter ("c:\A\b.aspx" ->
 * "/a/b.aspx"). Defanged forms ("[.]", "hxxp", "[:]") are refanged.
 * EXH_ERR_PARSE when the value is not of that type.
 */
EXH_API int exh_ioc_normalize(int type, const char *value, size_t len, char *out,
                              size_t size, exh_error *err);

/* One indicator. Strings are never NULL ("" when unknown); they are borrowed
 * from the object that returned the exh_ioc (set, or the listing callback). */
typedef struct exh_ioc {
  int64_t id;              /* row id in the store; stable until deleted */
  int type;                /* enum exh_ioc_type */
  const char *value;       /* normalised */
  const char *source;      /* who published it: "microsoft-mstic", "volexity" */
  const char *actor;       /* attribution or report: "HAFNIUM", "" */
  const char *report;      /* the report or feed it was published in */
  const char *description; /* the publisher's note on it */
  const char *tags;        /* comma-separated */
  const char *first_seen;  /* RFC 3339 or YYYY-MM-DD, "" when unknown */
  const char *last_seen;
  int confidence;          /* 0..100, -1 when the source gave none */
} exh_ioc;

typedef struct exh_ioc_store exh_ioc_store;

enum exh_ioc_open_flags {
  EXH_IOC_READONLY = 1u << 0 /* never create or write: for scanners */
};

/*
 * The default store: $XDG_DATA_HOME/exhunt/iocs.sqlite, else
 * $HOME/.local/share/exhunt/iocs.sqlite. EXH_ERR_NOTFOUND if neither
 * variable is set.
 */
EXH_API int exh_ioc_default_path(char *buf, size_t size, exh_error *err);

/*
 * Opens (and unless EXH_IOC_READONLY, creates with its folder and schema)
 * the store at path. A store written by a newer exhunt (higher schema
 * version) is refused. The store is used by one thread at a time.
 * libsqlite3 (libsqlite3.so.0) is loaded on the first call: EXH_ERR_IO,
 * naming the file and the Debian package, when it cannot be.
 */
EXH_API int exh_ioc_store_open(const char *path, unsigned flags,
                               exh_ioc_store **out, exh_error *err);
EXH_API void exh_ioc_store_close(exh_ioc_store *s);

/* What an import did. Re-importing the same file gives only "unchanged". */
typedef struct exh_ioc_import_stats {
  char format[16];     /* "csv-mstic", "csv-volexity", "csv", "stix", "misp" */
  size_t added;        /* new (source, type, value) rows */
  size_t updated;      /* existing rows whose fields changed */
  size_t unchanged;    /* existing rows seen again as they were */
  size_t skipped;      /* entries that are not indicators exhunt keeps */
  size_t per_type[EXH_IOC_TYPE_COUNT]; /* added + updated + unchanged by type */
  char first_skip[256]; /* the first skipped entry's place and reason, or "" */
} exh_ioc_import_stats;

typedef struct exh_ioc_import_opts {
  const char *source; /* overrides the source the file or layout names; NULL */
  const char *actor;  /* applied where the file names none; NULL */
  /* Called after every indicator written (n so far); returning non-zero
   * aborts the import, which then leaves the store as it was. NULL. */
  int (*progress)(void *ctx, size_t n);
  void *ctx;
} exh_ioc_import_opts;

/*
 * Imports one document (CSV in the MSTIC, Volexity or plain
 * "type,value[,source,actor,...]" layout, a STIX 2.1 bundle, or a MISP
 * event), detected from its content. name is used in errors and as the
 * default report. Everything is written in one transaction: on any error
 * the store is left exactly as it was. opts may be NULL.
 */
EXH_API int exh_ioc_import_buffer(exh_ioc_store *s, const char *name,
                                  const char *data, size_t len,
                                  const exh_ioc_import_opts *opts,
                                  exh_ioc_import_stats *stats, exh_error *err);
/* The same for a file (at most EXH_IOC_IMPORT_MAX_BYTES). */
EXH_API int exh_ioc_import_file(exh_ioc_store *s, const char *path,
                                const exh_ioc_import_opts *opts,
                                exh_ioc_import_stats *stats, exh_error *err);
/* A feed file above this is refused: the largest public feeds are a few MB. */
#define EXH_IOC_IMPORT_MAX_BYTES (256u << 20)

/* Filters for listing; NULL / 0 means any. Strings match exactly. */
typedef struct exh_ioc_filter {
  int type;
  const char *source;
  const char *actor;
} exh_ioc_filter;

/* Calls fn for every indicator matching filter, ordered by type then value.
 * The exh_ioc lives for the duration of the call. fn returning non-zero
 * stops the listing (still EXH_OK). */
EXH_API int exh_ioc_store_list(exh_ioc_store *s, const exh_ioc_filter *filter,
                               int (*fn)(void *ctx, const exh_ioc *ioc), void *ctx,
                               exh_error *err);

/* Counts grouped by one column: what = "source", "type" or "actor". fn gets
 * each key ("" for no actor) and its count, largest first. */
EXH_API int exh_ioc_store_count(exh_ioc_store *s, const char *what,
                                int (*fn)(void *ctx, const char *key, int64_t n),
                                void *ctx, exh_error *err);

/* An immutable in-memory copy of the store's indicators. */
typedef struct exh_ioc_set exh_ioc_set;

/* Loads every indicator of the store. The set is independent of the store
 * afterwards (close the store when you like) and may be shared by threads. */
EXH_API int exh_ioc_set_load(exh_ioc_store *s, exh_ioc_set **out, exh_error *err);
EXH_API void exh_ioc_set_free(exh_ioc_set *set);
EXH_API size_t exh_ioc_set_size(const exh_ioc_set *set);

/*
 * The indicators a scanner matches with (exhunt files, logs, check): the
 * store at path, or with path NULL the default one (exh_ioc_default_path),
 * opened read-only and loaded as a set (*out, the caller's:
 * exh_ioc_set_free). Returns
 *   - EXH_OK with *out NULL: no indicators to use, a normal case: no
 *     default store (no file there, or neither XDG_DATA_HOME nor HOME set),
 *     or a store that holds none;
 *   - EXH_OK with *out set: at least one indicator;
 *   - EXH_ERR_NOTFOUND: path was given and no file is there;
 *   - EXH_ERR_IO: a store that cannot be read (permission, not a regular
 *     file, not SQLite, damaged, libsqlite3 cannot be loaded);
 *   - EXH_ERR_DATA: a SQLite file that is not an exhunt store, or one of a
 *     newer exhunt;
 * with err naming the file and what is wrong. resolved (may be NULL; size
 * bytes) receives the store's path when a file was found there, else "".
 */
EXH_API int exh_ioc_set_open(const char *path, char *resolved, size_t size, exh_ioc_set **out,
                             exh_error *err);

/*
 * Looks a value up: normalises it as type (exh_ioc_normalize) and returns
 * the number of indicators with that value (one per source that published
 * it), *hits pointing to them; 0 when none or when value is not of that
 * type. For EXH_IOC_FILEPATH the value may be any path ("/mnt/c/Program
 * Files/.../owa/auth/x.aspx", "C:\\inetpub\\..."): an indicator matches when
 * it equals a tail of the path that starts at a separator. For
 * EXH_IOC_FILENAME a full path may be given: its last component is used.
 * The hits live as long as the set. Thread-safe.
 */
EXH_API size_t exh_ioc_set_lookup(const exh_ioc_set *set, int type,
                                  const char *value, size_t len,
                                  const exh_ioc **hits);

/*
 * Path indicators (EXH_IOC_FILEPATH) whose last component is the file name
 * of name (a name or any path; case-insensitive): for evidence that shows
 * a file without its folder, such as a request for /owa/auth/x.aspx in a
 * web log, or a file found in another folder than the published one. The
 * hits (type EXH_IOC_FILEPATH, their value the full published path) live as
 * long as the set. Thread-safe.
 */
EXH_API size_t exh_ioc_set_lookup_path_name(const exh_ioc_set *set, const char *name,
                                            size_t len, const exh_ioc **hits);

/* Where an indicator was seen, for `exhunt ioc export`. */
typedef struct exh_ioc_sighting {
  const char *host;     /* host name, or NULL */
  const char *location; /* file path, or "LOGFILE:LINE", or NULL */
  int64_t seen_ms;      /* when (UTC ms): the event time, -1 unknown */
  const char *detector; /* which command saw it: "files", "logs" */
  const char *detail;   /* a short note (the matched log field), or NULL */
} exh_ioc_sighting;

/* Records that the indicator hit (from a set loaded from this store, by
 * id) was seen. Recording the same (indicator, host, location, time) twice
 * keeps one row. */
EXH_API int exh_ioc_store_add_sighting(exh_ioc_store *s, const exh_ioc *hit,
                                       const exh_ioc_sighting *where,
                                       exh_error *err);

/* Writes every sighting with its indicator: format "csv" (a header line,
 * then one row per sighting) or "stix" (a STIX 2.1 bundle of the indicators
 * and sighting objects). *n gets the number of sightings written. */
EXH_API int exh_ioc_store_export(exh_ioc_store *s, const char *format, FILE *fp,
                                 size_t *n, exh_error *err);

/* Indicators of that type (enum exh_ioc_type) in the set: 0 for NULL. */
EXH_API size_t exh_ioc_set_count(const exh_ioc_set *set, int type);

/* Records n sightings (hits[i] seen at where[i]) in one transaction: all of
 * them or, on any error, none. */
EXH_API int exh_ioc_store_add_sightings(exh_ioc_store *s, const exh_ioc *const *hits,
                                        const exh_ioc_sighting *where, size_t n,
                                        exh_error *err);

/*
 * Fills *out with an indicator hook for `exh_files` (exh_files_config
 * .indicators) backed by set, which must outlive every scan using it. Per
 * file it looks up the SHA-256, the SHA-1 and MD5 (want asks for them only
 * when the set holds such indicators), the file name (filename indicators)
 * and the whole path as scanned (filepath indicators: a published Windows
 * path matches a tail of the path, so "/mnt/img/Program Files/..." finds
 * "C:\Program Files\..."; the same name in another folder does not).
 * The hits' strings are the set's; exh_ioc_set_find gives the exh_ioc
 * back from a finding's fields. Thread-safe, no SQLite involved.
 */
EXH_API void exh_ioc_files_lookup(const exh_ioc_set *set, exh_indicator_lookup *out);

/* The indicator of set with that type name ("sha256", "filepath"), exact
 * normalised value and source, as an indicator hit or finding names it;
 * NULL when there is none. */
EXH_API const exh_ioc *exh_ioc_set_find(const exh_ioc_set *set, const char *type,
                                        const char *value, const char *source);

/* Fetching feeds over HTTP(S). */
typedef struct exh_ioc_pull_opts {
  const char *cacert;   /* a CA bundle to trust instead of the system's; NULL */
  int retries;          /* extra attempts after a failure (timeouts, 5xx); 0.. */
  long backoff_ms;      /* delay before the first retry, doubled each time */
  long timeout_s;       /* for the whole transfer; 0: 120 s */
  int force;            /* ignore the stored ETag / Last-Modified */
  exh_ioc_import_opts import;
} exh_ioc_pull_opts;

typedef struct exh_ioc_pull_result {
  long http_status;     /* of the last attempt */
  int not_modified;     /* 1: 304, nothing imported */
  int attempts;
  size_t bytes;
  exh_ioc_import_stats stats;
} exh_ioc_pull_result;

/* Largest feed body accepted; the transfer is cut off above it. */
#define EXH_IOC_PULL_MAX_BYTES (64u << 20)

/*
 * Fetches url with a conditional GET (the ETag and Last-Modified the store
 * kept from the previous pull of that URL) and imports the body in one
 * transaction together with the new validators. url must be http(s).
 * libcurl (libcurl.so.4) is loaded on the first call: EXH_ERR_NOTFOUND,
 * naming it and its Debian package, when it cannot be.
 */
EXH_API int exh_ioc_pull(exh_ioc_store *s, const char *url,
                         const exh_ioc_pull_opts *opts,
                         exh_ioc_pull_result *res, exh_error *err);
/* ---- log hunting (exhunt logs) ----------------------------------------- */

/*
 * Detection rules for logs (the rules/logs folder, built in, plus user folders of
 * the same format or plain Sigma webserver rules), and the indicators of
 * iocs_csv (may be NULL): a feed file in any format exh_ioc_import_file
 * reads, held in memory, matched like exh_loghunt_options.iocs but never
 * recorded as sightings. Compiled once; immutable; share it.
 */
typedef struct exh_logrules exh_logrules;
EXH_API int exh_logrules_load(int builtin, const char *const *dirs, size_t n_dirs,
                              const char *iocs_csv, exh_logrules **out, exh_error *err);
EXH_API void exh_logrules_free(exh_logrules *r);
EXH_API size_t exh_logrules_count(const exh_logrules *r);
/* One line per rule: id, severity, log kinds, title, file. */
EXH_API void exh_logrules_list(const exh_logrules *r, FILE *fp);

typedef struct exh_loghunt_options {
  int64_t since_ms, until_ms; /* keep events in [since, until]; -1: unbounded */
  int timeline;               /* one finding per hit, sorted by time (no grouping) */
  unsigned threads;           /* worker threads; 0: one per CPU (at most 16) */
  /* Called from worker threads (serialised) after each file; may be NULL. */
  void (*progress)(void *ctx, size_t files_done, size_t files_total, uint64_t bytes_done);
  void *progress_ctx;
  /* Indicators to look client addresses, user agents, hosts, URLs and
   * requested files up in (borrowed, must outlive the hunt), or NULL. */
  const exh_ioc_set *iocs;
} exh_loghunt_options;

typedef struct exh_loghunt exh_loghunt;

typedef struct exh_loghunt_stats {
  size_t files, files_failed, files_skipped; /* skipped: binary, .evtx */
  uint64_t bytes, lines, candidate_lines, hits;
  size_t findings;                        /* after grouping */
  int worst_severity;                     /* of findings other than coverage; -1 none */
} exh_loghunt_stats;

/* rules is borrowed and must outlive the hunt. */
EXH_API int exh_loghunt_new(const exh_logrules *rules, const exh_loghunt_options *opt,
                            exh_loghunt **out, exh_error *err);
/* Adds a log file or a folder (searched recursively; links are not followed). */
EXH_API int exh_loghunt_add(exh_loghunt *h, const char *path, exh_error *err);
/* Reads every file added, in parallel. Files that cannot be read are kept
 * as errors (see exh_loghunt_emit); the status is for the hunt itself. */
EXH_API int exh_loghunt_run(exh_loghunt *h, exh_error *err);
/* Writes, in a stable order: read errors, the findings, then one info
 * finding per log folder saying how far back its evidence reaches. */
EXH_API int exh_loghunt_emit(exh_loghunt *h, exh_output *o);
EXH_API void exh_loghunt_get_stats(const exh_loghunt *h, exh_loghunt_stats *st);
/* The read error of the i-th file added (in the order files were found), or
 * NULL when it was read; i < stats.files. libevtx (libevtx.so.1) is loaded
 * when the first event log (.evtx) is met; if it cannot be, each event log's
 * error is EXH_ERR_NOTFOUND naming libevtx.so.1 and the Debian package. */
EXH_API const exh_error *exh_loghunt_file_error(const exh_loghunt *h, size_t i);
EXH_API void exh_loghunt_free(exh_loghunt *h);

/*
 * Records every indicator finding of a run whose indicators came from
 * exh_loghunt_options.iocs (loaded from the store at store_path) as a
 * sighting there: detector "logs", the log file and line of its first hit,
 * its first event time, host (may be NULL). One transaction: all or none.
 * The store is opened read-write only when there is something to record.
 * *n (may be NULL) gets the number of sightings recorded.
 */
EXH_API int exh_loghunt_record_sightings(const exh_loghunt *h, const char *store_path,
                                         const char *host, size_t *n, exh_error *err);
/* ---- check: one server's evidence -> verdict, incident, actions -------- */

/*
 * An output that hands every finding to on_finding (in the calling thread)
 * instead of writing it, and read errors to on_error (may be NULL): how a
 * caller collects what a part (exh_loghunt_emit) found. The finding is
 * borrowed for the call only. Assessments are ignored.
 */
EXH_API int exh_output_new_callback(int (*on_finding)(void *ctx, const exh_finding *f),
                                    void (*on_error)(void *ctx, const char *input,
                                                     const exh_error *e),
                                    void *ctx, exh_output **out, exh_error *err);

enum exh_check_update {
  EXH_UPDATE_UNKNOWN = 0,   /* no ExSetup.exe, or a build the tables cannot judge */
  EXH_UPDATE_PATCHED = 1,   /* exact build, no CVE of the tables open */
  EXH_UPDATE_UNPATCHED = 2  /* exact build with open CVEs */
};
enum exh_check_compromise {
  EXH_COMP_UNKNOWN = 0,     /* nothing found, but the sources that would show it are missing */
  EXH_COMP_NONE_FOUND = 1,  /* nothing found in the sources read, and they suffice */
  EXH_COMP_ATTEMPTED = 2,   /* exploitation tried and failed (probes) */
  EXH_COMP_EXPLOITED = 3,   /* exploitation succeeded, per the logs */
  EXH_COMP_COMPROMISED = 4  /* post-exploitation: a web shell, a dump, a known-bad file */
};
/* "patched", "unpatched", "unknown"; "compromised", "exploited", "attempted",
 * "no evidence found", "unknown". */
EXH_API const char *exh_check_update_name(int update);
EXH_API const char *exh_check_compromise_name(int compromise);

typedef struct exh_check_config {
  unsigned threads;          /* per server, for logs and files; 0: one per CPU */
  const exh_ioc_set *iocs;   /* indicators for files and logs; NULL: none; borrowed */
  const char *as_of;         /* support judged at this date; NULL: today */
  /* Non-zero: a server's log hunt that must compile a large prefilter of
   * the indicators (seconds, before any log is read) says so on standard
   * error first, as exhunt logs does; for a caller on a terminal that is
   * not quiet. Zero: silent. */
  int notice;
} exh_check_config;

/* Tables, log rules, file rules and actions, compiled once; immutable: one
 * exh_check may serve several servers checked in parallel. */
typedef struct exh_check exh_check;
EXH_API int exh_check_new(const exh_check_config *cfg, exh_check **out, exh_error *err);
EXH_API void exh_check_free(exh_check *c);

/*
 * The servers in path, for fn: path itself when it holds any known source
 * (a mounted volume, a KAPE collection with C/..., an install folder), or
 * each of its folders that does when path is a folder of collections (one
 * per server; folders named like a Windows or Exchange folder or a drive
 * letter mean path is one server). name is the server's name (its folder's,
 * or the parent's for a bare drive folder). EXH_ERR_NOTFOUND when nothing
 * known is there. fn returning non-zero stops (status EXH_OK).
 */
EXH_API int exh_check_servers(const char *path,
                              int (*fn)(void *ctx, const char *root, const char *name),
                              void *ctx, exh_error *err);

typedef struct exh_check_result exh_check_result; /* borrows from the exh_check */

/* Checks one server's evidence at root (read-only). Files that cannot be
 * read are kept in the result and counted; the status is for the check
 * itself. Thread-safe for concurrent calls on the same c. */
EXH_API int exh_check_run(const exh_check *c, const char *root, const char *name,
                          exh_check_result **out, exh_error *err);
EXH_API void exh_check_result_free(exh_check_result *r);

typedef struct exh_check_summary {
  const char *name;         /* borrowed from the result */
  int update;               /* enum exh_check_update */
  int compromise;           /* enum exh_check_compromise */
  size_t findings;          /* low severity or above, coverage lines excluded */
  size_t errors;            /* files or folders that could not be read */
  int64_t first_ms, last_ms; /* the incidents' span; -1 when none */
  size_t incidents;          /* how many: split by address, shell and time gap */
} exh_check_summary;
EXH_API void exh_check_get_summary(const exh_check_result *r, exh_check_summary *s);

/*
 * Records in the indicator store at store_path every indicator finding of r
 * whose indicator came from set (the set the exh_check was made with, loaded
 * from that store) as a sighting: host r's server name, detector "check",
 * the file's path (files) or "LOGFILE:LINE" of the first hit (logs), its
 * event time, the matched field as detail. root_as (may be NULL) names r's
 * root in the locations instead of the folder itself: an archive's path
 * when r was checked in its temporary copy. Locations are absolute, as
 * exhunt files records them: a relative one (a root, an archive or root_as
 * given relative) is put below the working folder of exh_check_run, links
 * not resolved. One transaction: all or none;
 * the store is opened for writing only when there is something to record.
 * *n (may be NULL) gets the number recorded.
 */
EXH_API int exh_check_record_sightings(const exh_check_result *r, const exh_ioc_set *set,
                                       const char *store_path, const char *root_as, size_t *n,
                                       exh_error *err);

/* Writes one server's report: "text" (verdict, actions, incident, sources,
 * then the findings) or "jsonl" (every finding, then one summary object,
 * ECS names). flags: EXH_OUT_COLOR. Write errors give EXH_ERR_IO. */
EXH_API int exh_check_write(const exh_check_result *r, const char *format, FILE *fp,
                            unsigned flags, exh_error *err);
/* Writes the summary table of several servers (text). */
EXH_API int exh_check_write_table(const exh_check_result *const *r, size_t n, FILE *fp,
                                  exh_error *err);
/* Writes one self-contained HTML page (no scripts, no external assets; all
 * evidence text escaped) for the servers: verdicts first, then each server's
 * actions, incident, evidence read and findings. */
EXH_API int exh_check_write_html(const exh_check_result *const *r, size_t n, FILE *fp,
                                 exh_error *err);

/*
 * An archive of a collection (zip, tar, tar.gz, 7z, ... through libarchive),
 * extracted into a new private temporary folder (its name written to dir)
 * for exh_check_servers / exh_check_run: at most max_bytes in all; entries
 * with absolute or ".." paths are refused, links and special files never
 * created, file times kept. On error, dir may still name a folder: remove
 * it with exh_check_extract_remove, as after the check. libarchive
 * (libarchive.so.13) is loaded on the first extraction: EXH_ERR_NOTFOUND,
 * naming it and its Debian package, when it cannot be.
 */
EXH_API int exh_check_extract(const char *archive, uint64_t max_bytes, char *dir, size_t size,
                              exh_error *err);
EXH_API void exh_check_extract_remove(const char *dir);
/* exh_check_extract in two steps, so that a caller knows the folder (to
 * remove it on an interrupt) before the extraction starts: a new private
 * folder below $TMPDIR (mode 0700), then the archive extracted into it.
 * password: an encrypted zip's (KAPE --zpw, CyLR -zp), or NULL; an
 * encrypted member without it is an EXH_ERR_INVALID that says so. */
EXH_API int exh_check_tempdir_new(const char *archive, char *dir, size_t size, exh_error *err);
EXH_API int exh_check_extract_into(const char *archive, uint64_t max_bytes, const char *dir,
                                   const char *password, exh_error *err);
/* Makes every extraction of the process stop at its next 64 KiB block with
 * "interrupted", so that an interrupt can remove the folders for good. An
 * atomic store only: safe from any thread or a signal handler. */
EXH_API void exh_check_extract_stop(void);

/*
 * As exh_check_run, for evidence extracted by exh_check_extract from archive
 * into dir (root is dir or a folder below it): the report never names the
 * temporary folder. Every path below dir (the server's label, the sources,
 * findings' paths, fields and messages, read errors, the files to remove) is
 * shown as the archive as given, "!", and the member's name:
 * "EXCH01.zip!/C/inetpub/wwwroot/aspnet_client/x.aspx"; dir itself as
 * "EXCH01.zip". So are the paths in err.
 */
EXH_API int exh_check_run_archive(const exh_check *c, const char *root, const char *name,
                                  const char *dir, const char *archive, exh_check_result **out,
                                  exh_error *err);
/* The same renaming on any text (an error message): in place, cut to size. */
EXH_API void exh_check_show_path(char *text, size_t size, const char *dir, const char *archive);
/* The default bound of exhunt check --max-extract: 16 GiB. */
#define EXH_CHECK_DEFAULT_MAX_EXTRACT (16ull << 30)

#ifdef __cplusplus
}
#endif
#endif /* EXHUNT_H */
