/*
 * Detection rules of `exhunt files`: what every rule says about itself (the
 * same for YARA and path rules), the Exchange/IIS layout, and the path and
 * context rules read from rules/files/paths.csv.
 */
#ifndef EXHUNT_FILES_RULES_H
#define EXHUNT_FILES_RULES_H

#include "../core/internal.h"

/* A rule names a handful of ATT&CK techniques at most. */
#define EXHI_RULE_MAX_ATTACK 8

/* What a finding of a rule says; owned by the rule set, immutable. */
typedef struct exhi_rule {
  char *id;       /* "exh.files.webshell_name" */
  char *name;     /* one-line title */
  char *message;  /* the sentence of the finding */
  char *action;   /* what to do, or NULL */
  char *source;   /* the public report(s) the rule rests on */
  int severity;   /* enum exh_severity */
  int confidence; /* 0..100 */
  const char *attack[EXHI_RULE_MAX_ATTACK];
  size_t n_attack;
  char *attack_buf; /* owns the attack strings */
} exhi_rule;

void exhi_rule_clear(exhi_rule *r);
/* Sets r's attack list from "T1505.003,T1190" (copied). */
int exhi_rule_set_attack(exhi_rule *r, const char *list);
/* "critical" -> EXH_SEV_CRITICAL; -1 if unknown. */
int exhi_severity_parse(const char *s);

/* ---- layout: where a file sits on an Exchange server -------------------- */

enum exhi_loc {
  EXHI_LOC_OWA_AUTH = 1u << 0,      /* FrontEnd/HttpProxy/owa/auth/... */
  EXHI_LOC_ECP_AUTH = 1u << 1,      /* FrontEnd/HttpProxy/ecp/auth/... */
  EXHI_LOC_OAB = 1u << 2,           /* FrontEnd/HttpProxy/OAB/... */
  EXHI_LOC_HTTPPROXY = 1u << 3,     /* FrontEnd/HttpProxy/... */
  EXHI_LOC_ASPNET_CLIENT = 1u << 4, /* inetpub/wwwroot/aspnet_client/... */
  EXHI_LOC_WWWROOT = 1u << 5,       /* inetpub/wwwroot/... */
  EXHI_LOC_CLIENTACCESS = 1u << 6,  /* <Exchange>/ClientAccess/... */
  EXHI_LOC_TEMP_ASPNET = 1u << 7,   /* Temporary ASP.NET Files/... */
  EXHI_LOC_PROGRAMDATA = 1u << 8,   /* ProgramData/... */
  EXHI_LOC_WINDOWS_TEMP = 1u << 9,  /* Windows/Temp/... */
  EXHI_LOC_ROOT_DIR = 1u << 10,     /* a folder named root (C:\root) */
  EXHI_LOC_USERS_PUBLIC = 1u << 11, /* Users/Public/... */
};
#define EXHI_LOC_WEB                                                               \
  (EXHI_LOC_OWA_AUTH | EXHI_LOC_ECP_AUTH | EXHI_LOC_OAB | EXHI_LOC_HTTPPROXY |     \
   EXHI_LOC_ASPNET_CLIENT | EXHI_LOC_WWWROOT | EXHI_LOC_CLIENTACCESS)

/* The locations of a file from the folders of its path, case-insensitively
 * (the names come from Windows). Only folders count, not the file name.
 * The folders of path's first rel_start bytes (the scan root given by the
 * user) count too, so that scanning .../inetpub/wwwroot/aspnet_client
 * itself works - except for "root", which there would only name the
 * analyst's home folder (/root/cases/...). */
unsigned exhi_layout_classify(const char *path, size_t rel_start);
/* Parses "owa_auth|ecp_auth" or "web" or "any" (0 = anywhere). */
int exhi_layout_parse(const char *text, unsigned *mask);

/* A file name that looks generated: 8+ letters and digits, mixed in a way
 * words are not, or with too few vowels (the Red Canary examples). */
bool exhi_name_looks_random(const char *name);

/* ---- path and context rules -------------------------------------------- */

/* The bundled file is a few dozen rows; 1 MiB bounds a user's own. */
#define EXHI_PATHRULES_MAX_BYTES (1u << 20)
#define EXHI_PATHRULES_MAX_RULES 256
/* Name lists hold the published web shell names (~60). */
#define EXHI_PATHRULE_MAX_GLOBS 128
/* Longest file-type magic a rule tests (PST, MDMP, 7z need 4-6). */
#define EXHI_PATHRULE_MAX_MAGIC 16
/* "Written recently among old files": this much newer than the folder's
 * median, in a folder of at least this many files. An update rewrites a
 * whole folder at once; a dropped shell is one late file. */
#define EXHI_RECENT_GAP_MS (30LL * 24 * 3600 * 1000)
#define EXHI_RECENT_MIN_SIBLINGS 4

enum exhi_cond { EXHI_COND_NONE = 0, EXHI_COND_RANDOM_NAME, EXHI_COND_RECENT };

typedef struct exhi_pathrule {
  exhi_rule info;
  unsigned where;       /* enum exhi_loc mask; 0 = anywhere */
  char *globs_buf, *except_buf;
  const char *globs[EXHI_PATHRULE_MAX_GLOBS];
  size_t n_globs;
  const char *except[EXHI_PATHRULE_MAX_GLOBS];
  size_t n_except;
  unsigned char magic[EXHI_PATHRULE_MAX_MAGIC];
  size_t magic_len;
  int cond;             /* enum exhi_cond */
} exhi_pathrule;

typedef struct exhi_pathrules {
  exhi_pathrule *rules;
  size_t n;
} exhi_pathrules;

/* What the path rules look at. head: the file's first bytes, or NULL when
 * the file could not be read (rules with a magic then do not match). */
typedef struct exhi_file_ctx {
  const char *path, *name;
  unsigned loc;
  int64_t mtime_ms, dir_median_mtime_ms;
  size_t dir_files;
  const unsigned char *head;
  size_t head_len;
} exhi_file_ctx;

/* Parses the CSV text (name is for errors). */
int exhi_pathrules_parse(const char *name, const char *text, size_t len,
                         exhi_pathrules *out, exh_error *err);
void exhi_pathrules_free(exhi_pathrules *p);
/* Calls hit for each rule the file matches, in file order. */
void exhi_pathrules_eval(const exhi_pathrules *p, const exhi_file_ctx *f,
                         void (*hit)(void *ctx, const exhi_pathrule *r), void *ctx);

#endif
