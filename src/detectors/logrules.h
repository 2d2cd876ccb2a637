/*
 * Log rules: a YAML format close to Sigma (logsource, named selections with
 * field modifiers, a condition), compiled once into vectorscan databases:
 *   - per log kind and field, one multi-pattern database holding every value
 *     of every rule that tests that field (adding rules costs little);
 *   - one prefilter database over raw lines: for each rule, literals (or
 *     prefilter-mode regexes) at least one of which a matching line must
 *     contain. Lines without a prefilter hit are never split into fields,
 *     which is how exhunt reads logs at the speed of reading.
 * A compiled set is immutable and shared by threads; each thread has its own
 * exhi_lr_scan (scratch space and match bits).
 */
#ifndef EXHUNT_DETECTORS_LOGRULES_H
#define EXHUNT_DETECTORS_LOGRULES_H

#include "../readers/logs.h"

/* A rule file is a page of YAML; 1 MiB stops a hostile --rules folder. */
#define EXHI_LR_FILE_MAX (1u << 20)
/* Rule files read from one --rules folder (recursively, 4 levels). */
#define EXHI_LR_MAX_FILES 10000
#define EXHI_LR_MAX_DEPTH 4
/* YAML nesting in a rule: Sigma needs four levels; 32 stops billion-laughs
 * style depth. Nodes per file likewise. */
#define EXHI_LR_YAML_DEPTH 32
#define EXHI_LR_YAML_NODES 20000
/* A value or regex in a rule. */
#define EXHI_LR_VALUE_MAX 4096
/* A field value copied for matching (decoded CSV escapes). Longer values
 * are matched on their first EXHI_LR_FIELD_MAX bytes. */
#define EXHI_LR_FIELD_MAX 65536

enum exhi_lr_outcome {
  EXHI_OUTCOME_DETECTED = 0, /* a sign, neither attempt nor success */
  EXHI_OUTCOME_ATTEMPTED = 1,
  EXHI_OUTCOME_EXPLOITED = 2
};
const char *exhi_outcome_name(int outcome);

typedef struct exhi_lr_rule {
  char *id, *title, *file, *description;
  int severity;            /* enum exh_severity */
  char **cves;
  size_t n_cves;
  char **attack;
  size_t n_attack;
  char **refs;
  size_t n_refs;
  unsigned kinds;          /* bit per enum exhi_logkind it applies to */
  int windows;             /* a Windows event log rule (evtx) */
  char *channel;           /* the event log a Windows rule is for, or NULL */
  int outcome;             /* fixed outcome, when no status list */
  char **success_status;   /* status codes that mean "exploited" */
  size_t n_success;
  /* Rule ids whose success (from any client) at or after a hit of this
   * rule makes its group exploited: the chain's later steps. */
  char **exploited_by;
  size_t n_exploited_by;
  int exploited_by_line;   /* in the rule file, for errors */
  int ioc;                 /* an indicator rule (logioc.h) */
  /* condition, compiled (private to logrules.c) */
  void *cond;
  size_t first_item, n_items;
} exhi_lr_rule;

typedef struct exhi_lr exhi_lr; /* compiled rule set */

/* Loads the built-in rules (when builtin != 0) and every *.yml / *.yaml
 * under each of dirs, and compiles. iocs_path must be NULL (indicators are
 * matched by logioc.h from indicator sets). Errors name the file, the line and the construct. */
int exhi_lr_load(int builtin, const char *const *dirs, size_t n_dirs, const char *iocs_path,
                 exhi_lr **out, exh_error *err);
/* Parses one rule from a buffer and compiles a set of it alone (tests, fuzz). */
int exhi_lr_load_text(const char *name, const char *text, size_t len, exhi_lr **out,
                      exh_error *err);
void exhi_lr_free(exhi_lr *lr);
size_t exhi_lr_count(const exhi_lr *lr);
const exhi_lr_rule *exhi_lr_rule_at(const exhi_lr *lr, size_t i);
/* Whether lines of this kind must all be evaluated (a rule with no literal
 * the prefilter can use). */
int exhi_lr_needs_all_lines(const exhi_lr *lr, int kind);

/* Per-thread matching state. */
typedef struct exhi_lr_scan exhi_lr_scan;
int exhi_lr_scan_new(const exhi_lr *lr, exhi_lr_scan **out, exh_error *err);
void exhi_lr_scan_free(exhi_lr_scan *s);

/* Calls cb(ctx, start, end) for each line of block[0..len) that contains a
 * hit of the kind's prefilter or starts with '#', in order, once per line,
 * with the rules whose literals it holds (bit = rule index % 64; nothing
 * to go by for a '#' line, which is a preamble).
 * A callback's non-zero return stops the scan and is returned. */
typedef int (*exhi_lr_line_cb)(void *ctx, size_t start, size_t end, uint64_t rules);
int exhi_lr_prefilter(exhi_lr_scan *s, const exhi_logschema *schema, const char *block, size_t len,
                      exhi_lr_line_cb cb, void *ctx, exh_error *err);

/* Evaluates the rules of the record's kind that `rules` names (bit = rule
 * index % 64, as the prefilter reports; EXHI_LR_ALL for every rule). For each
 * rule that matches, calls hit(ctx, rule index, ioc detail or NULL). */
#define EXHI_LR_ALL UINT64_MAX
/* Whether the W3C columns the running exhi_lr_prefilter checks its hits
 * against are still where schema puts them. A "#Fields" line met in its
 * callbacks may move them; the candidates after that line were picked by
 * the old columns, so the caller must read them again another way. */
int exhi_lr_prefilter_cols_hold(exhi_lr_scan *s, const exhi_logschema *schema);

/* The line ends ('\n' bytes) of the block the last exhi_lr_prefilter call
 * read, when it read every byte to the block's end (column mode, or
 * litscan) and ran to its end; else SIZE_MAX. */
size_t exhi_lr_prefilter_line_ends(const exhi_lr_scan *s);
/* Called from inside an exhi_lr_prefilter callback: the line ends in the
 * block before the line the callback was given, when the prefilter counted
 * them on its way (litscan); else SIZE_MAX. */
size_t exhi_lr_prefilter_line_no(const exhi_lr_scan *s);

/* Tests: on (the default) lets exhi_lr_prefilter read W3C lines column by
 * column where it can; off makes it check each raw hit's column instead.
 * Both give the same candidates. */
void exhi_lr_scan_colmode(exhi_lr_scan *s, int on);
/* Tests: on (the default) lets column mode walk lines with AVX2 where the
 * CPU has it; off makes it take the SSE2 walk. Both give the same. */
void exhi_lr_scan_walk_avx2(exhi_lr_scan *s, int on);
/* Tests: on (the default) lets column mode read a line's first column by
 * its fast path (a memo probe within the line's first 128 bytes) and pass
 * over last-column values without a byte of their literals; off reads
 * every line column by column and scans every such value. Both give the
 * same. */
void exhi_lr_scan_colmode_fast(exhi_lr_scan *s, int on);
/* Tests: column mode's memo of values uses 2^bits of its slots (0 to 10,
 * the default): with one, every value is compared with the last one. */
void exhi_lr_scan_memo_bits(exhi_lr_scan *s, unsigned bits);
/* Tests: on (the default) lets exhi_lr_prefilter find a database's
 * literals with litscan where it can; off makes vectorscan find them. Both
 * give the same candidates. */
void exhi_lr_scan_litscan(exhi_lr_scan *s, int on);

typedef int (*exhi_lr_hit_cb)(void *ctx, size_t rule, const char *ioc_detail);
int exhi_lr_eval(exhi_lr_scan *s, const exhi_logrec *rec, uint64_t rules, exhi_lr_hit_cb hit,
                 void *ctx, exh_error *err);

/* How many leading columns of a record of this schema the rules in `rules`
 * read (the highest bound column + 1; 0 when they read none). */
size_t exhi_lr_cols_needed(exhi_lr_scan *s, const exhi_logschema *schema, uint64_t rules);

/* Column of an ECS-or-native field name in a schema (aliases applied), or -1. */
int exhi_lr_field_col(const exhi_logschema *s, const char *name);

#endif
