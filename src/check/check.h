/* exhunt check: the internal parts (discovery, actions, the result). */
#ifndef EXHUNT_CHECK_H
#define EXHUNT_CHECK_H

#include "../core/internal.h"

/* ---- evidence sources ---------------------------------------------------- */

enum exhi_src_kind { EXHI_SRC_BUILD = 0, EXHI_SRC_LOGS = 1, EXHI_SRC_FILES = 2 };

/* What a source tells: the compromise verdict needs one request log and one
 * web folder read (see exhi_check_verdict). */
enum exhi_src_role {
  EXHI_ROLE_REQUESTS = 1u << 0, /* every request the server answered */
  EXHI_ROLE_WEBDIRS = 1u << 1,  /* where web shells are dropped */
  EXHI_ROLE_OTHER = 1u << 2
};

typedef struct exhi_src_def {
  const char *id;      /* "httpproxy" */
  const char *label;   /* "Logging/HttpProxy" as people name it */
  const char *pattern; /* lower-case, '/'-separated tail of a folder path;
                          a final '*' matches any rest of the last name */
  int kind;            /* enum exhi_src_kind */
  unsigned role;       /* enum exhi_src_role */
  int volume_child;    /* 1: only directly below a volume root (C:\root) */
  const char *why;     /* what it shows, for the report */
} exhi_src_def;

extern const exhi_src_def exhi_src_defs[];
extern const size_t exhi_src_count;

/* Paths kept per source: a collection holds one or two copies at most
 * (C: and D:); more are counted, not kept. */
#define EXHI_SRC_MAX_PATHS 8
/* Folder depth searched: an Exchange web folder sits ~12 levels below a
 * volume root, collections add 2-4; 32 leaves room without letting a
 * hostile tree recurse forever. */
#define EXHI_DISC_MAX_DEPTH 32
/* Entries visited: a Windows system volume has about a million; past five
 * million the walk stops and says so. */
#define EXHI_DISC_MAX_ENTRIES 5000000u

typedef struct exhi_src_found {
  size_t n_paths;                     /* folders (or files) found, may exceed kept */
  char *paths[EXHI_SRC_MAX_PATHS];    /* full paths as found (owned) */
  uint64_t files, bytes;              /* regular files below them */
  /* Filled from the log hunt's coverage: lines read, time span. */
  uint64_t lines;
  size_t log_files;
  char first_seen[40], last_seen[40];
} exhi_src_found;

typedef struct exhi_discovery {
  exhi_src_found *src; /* exhi_src_count entries */
  uint64_t entries;
  int truncated;       /* the walk hit EXHI_DISC_MAX_ENTRIES */
  size_t unreadable;   /* folders that could not be opened */
  char first_unreadable[512];
} exhi_discovery;

/* Walks root (read-only, links never followed) and fills d. */
int exhi_discover(const char *root, exhi_discovery *d, exh_error *err);
void exhi_discovery_clear(exhi_discovery *d);
/* Number of sources with something found. */
size_t exhi_discovery_found(const exhi_discovery *d);

/* ---- actions: the wording of the public guidance (rules/check/actions.csv) */

typedef struct exhi_action_def {
  char *id, *text, *source;
} exhi_action_def;

typedef struct exhi_actions {
  exhi_action_def *v;
  size_t n;
} exhi_actions;

int exhi_actions_load(exhi_actions *a, exh_error *err);
void exhi_actions_clear(exhi_actions *a);
/* The text of action id, or NULL. */
const exhi_action_def *exhi_action_get(const exhi_actions *a, const char *id);

/* ---- the verdict table (rules/check/verdict.csv) -------------------------- */

/* Rows in the table: a few per kind of post-exploitation evidence; the bound
 * keeps a broken table from growing without end. */
#define EXHI_VERDICT_MAX_ROWS 1024
/* A rule id is a few dozen bytes. */
#define EXHI_VERDICT_MAX_RULE 200

typedef struct exhi_verdict_row {
  char *rule;   /* a rule id, or a prefix when prefix */
  int prefix;   /* the rule ends with '.' */
  int level;    /* EXH_COMP_COMPROMISED or EXH_COMP_ATTEMPTED */
  char *source;
} exhi_verdict_row;

typedef struct exhi_verdict {
  exhi_verdict_row *rows;
  size_t n;
} exhi_verdict;

/* Parses the table's CSV text (name for errors); the built-in one. */
int exhi_verdict_parse(exhi_verdict *v, const char *name, const char *text, size_t len,
                       exh_error *err);
int exhi_verdict_load(exhi_verdict *v, exh_error *err);
void exhi_verdict_clear(exhi_verdict *v);
/* The level of the first row matching rule_id, or -1 when none does. */
int exhi_verdict_level(const exhi_verdict *v, const char *rule_id);

#endif

/* ---- the result of one server ------------------------------------------- */

enum { EXHI_FROM_LOGS = 1, EXHI_FROM_FILES = 2 };

/* Findings kept per server: grouped log hits are a few hundred; a tree where
 * every file matched a rule is bounded here, the rest counted. */
#define EXHI_CHECK_MAX_FINDINGS 100000
/* Read errors kept per server (all are counted). */
#define EXHI_CHECK_MAX_ERRORS 1000
/* Attacker addresses and steps listed in an incident. */
#define EXHI_CHECK_MAX_IPS 64
#define EXHI_CHECK_MAX_STEPS 200

/* Incidents per server: a server attacked again and again (every campaign
 * of 2021-2022 and their reruns) stays far below; past it, the last one
 * takes in the rest. */
#define EXHI_CHECK_MAX_INCIDENTS 32
/*
 * The gap rule: a step more than this many days after the last event of
 * every incident so far, sharing no attacker address and no shell with any
 * of them, starts a new incident. A month: the ProxyLogon wave on one server
 * (first SSRF, shell written, shell used from other addresses) spans days to
 * weeks, while the campaigns that followed came months apart (ProxyLogon
 * March 2021, ProxyShell August 2021, ProxyNotShell September 2022; see
 * ../shared/docs/detections.md); a shell used again later still joins its
 * incident by its name, an attacker back later by the address.
 */
#define EXHI_INCIDENT_GAP_DAYS 30

/* What joined an incident's steps (exhi_incident.joined). */
enum { EXHI_JOIN_ADDRESS = 1u << 0, EXHI_JOIN_SHELL = 1u << 1, EXHI_JOIN_TIME = 1u << 2,
       EXHI_JOIN_INDICATOR = 1u << 3 };

typedef struct exhi_incident {
  int64_t first_ms, last_ms;          /* -1 when none is known */
  char *ips[EXHI_CHECK_MAX_IPS];      /* attacker addresses, owned */
  size_t n_ips;
  size_t *steps;                      /* indexes into the result's f, by time; owned */
  size_t n_steps;
  char actors[512];                   /* indicator sources and actors */
  unsigned joined;                    /* EXHI_JOIN_* */
} exhi_incident;

typedef struct exhi_cf {
  exh_finding f;   /* owns every string and array it points to */
  int from;        /* EXHI_FROM_* */
  int outcome;     /* logs: 2 exploited, 1 attempted, 0 detected; -1 files */
  int64_t last_ms; /* last seen (logs), else event time */
  int table_level; /* logs: the verdict table's level for its rule, -1 none */
} exhi_cf;

typedef struct exhi_act {
  const char *id;       /* borrowed from the actions table */
  char *text;           /* placeholders filled */
  const char *source;
  char **items;         /* files to remove: "path  sha256 ..." */
  size_t n_items;
} exhi_act;

struct exh_check_result {
  char *name, *root;
  /* The working folder when the check ran (NULL: unknown), which relative
   * paths (the root or the archive as given) are taken from when the
   * sightings record them absolute. */
  char *cwd;
  exhi_discovery disc;
  int have_build;
  exh_input_build build;
  char build_error[EXH_ERROR_TEXT_MAX];
  exh_assessment *assessment;
  exhi_cf *f;
  size_t n_f, cap_f, dropped_f;
  exhi_cf *cov; /* exh.logs.coverage findings, for JSON lines */
  size_t n_cov, cap_cov;
  char **errors;
  size_t n_errors, n_errors_kept;
  exh_loghunt_stats logs;
  exh_files_stats files;
  int update, compromise;
  char reason[1024];  /* why the compromise verdict */
  char missing[1024]; /* sources missing for a verdict, "" when none */
  /* the incident (compromise >= exploited) */
  int incident;
  int64_t first_ms, last_ms;
  char *ips[EXHI_CHECK_MAX_IPS];
  size_t n_ips;
  size_t steps[EXHI_CHECK_MAX_STEPS]; /* indexes into f, by time */
  size_t n_steps;
  char actors[512];
  /* the same steps split by what joins them (EXHI_INCIDENT_GAP_DAYS) */
  exhi_incident *inc;
  size_t n_inc;
  exhi_act *acts;
  size_t n_acts;
};

/* Splits r's steps (correlate's, sorted by time) into r->inc by what joins
 * them (incidents.c); EXH_ERR_NOMEM leaves none. */
int exhi_incidents_split(exh_check_result *r);
void exhi_incidents_clear(exh_check_result *r);
/* "joined by the same attacker address; events within 30 days of each other" */
void exhi_incident_joined(unsigned joined, char *buf, size_t size);
/* The "; "-separated lists of a report (indicator sources and actors, the
 * verdict's reasons, what is missing). exhi_list_has: does list hold item as
 * a whole entry, compared case-insensitively, spaces around it trimmed
 * ("CISA" is not in "CISA AA21-062A"; "cisa " is in "CISA")? exhi_list_add:
 * appends item (trimmed) unless the list has it; a full list is cut. An item
 * holding "; " is found whole; its parts, which read as entries once printed,
 * count as entries. (check.c) */
int exhi_list_has(const char *list, const char *item);
void exhi_list_add(char *list, size_t size, const char *item);
/* Does text name the file name as a whole name ("x\\a.aspx", "/a.aspx"), not
 * as the tail of a longer one ("data.aspx")? (check.c) */
int exhi_names_file(const char *text, const char *name);

/* ---- archives ------------------------------------------------------------- */

typedef struct exhi_archive_stats {
  size_t entries, files;
  size_t refused; /* absolute or ".." paths, too deep, duplicates */
  size_t skipped; /* links and special files: never created */
  uint64_t bytes;
} exhi_archive_stats;

/* Extracts the archive at path into a new private folder (written to dir),
 * at most max_bytes in all. On error dir may still name a folder to remove. */
int exhi_archive_extract(const char *path, uint64_t max_bytes, char *dir, size_t dir_size,
                         exhi_archive_stats *st, exh_error *err);
/* The two halves of exhi_archive_extract: a new private folder below
 * $TMPDIR (mode 0700), and the extraction into it (dir must be empty;
 * passphrase: an encrypted zip's password, or NULL). */
int exhi_archive_tempdir(const char *path, char *dir, size_t dir_size, exh_error *err);
int exhi_archive_extract_into(const char *path, uint64_t max_bytes, const char *dir,
                              const char *passphrase, exhi_archive_stats *st, exh_error *err);
/* Removes what exhi_archive_extract made (links not followed). */
void exhi_archive_remove(const char *dir);

/* Every path of r below dir (where an archive was extracted) renamed as the
 * archive's member: "ARCHIVE!/member"; dir itself as "ARCHIVE" (naming.c). */
int exhi_check_rename(exh_check_result *r, const char *dir, const char *archive);
/* "C:\\inetpub\\x.aspx" for a file of a collection whose drive's folder is
 * known (C/, C:/, C_/, Velociraptor's C%3A/ with names decoded); NULL
 * otherwise (malloc'd). exhi_check_windows_paths adds it to every file
 * finding as exhunt.windows_path (naming.c). */
char *exhi_windows_path(const char *path);
int exhi_check_windows_paths(exh_check_result *r);
