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

/* ---- log hunting (exhunt logs) ----------------------------------------- */

/*
 * Detection rules for logs (the rules/logs folder, built in, plus user folders of
 * the same format or plain Sigma webserver rules), and indicators from a
 * "type,value[,source,actor]" CSV. Compiled once; immutable; share it.
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
 * NULL when it was read; i < stats.files. */
EXH_API const exh_error *exh_loghunt_file_error(const exh_loghunt *h, size_t i);
EXH_API void exh_loghunt_free(exh_loghunt *h);

#ifdef __cplusplus
}
#endif
#endif /* EXHUNT_H */
