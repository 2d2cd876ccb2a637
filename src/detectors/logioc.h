/*
 * Indicators in logs: looks the web fields of one log record (client
 * address, user agent, host, URL, requested file) up in immutable indicator
 * sets (exh_ioc_set, from the store or from --iocs) and reports each
 * indicator hit. No SQLite here except the sightings transaction, which the
 * hunt runs after its workers are done.
 *
 * Indicator hits are findings of five fixed rules that sit after the
 * compiled rules: hit rule index = exhi_lr_count(lr) + EXHI_LOGIOC_*.
 */
#ifndef EXHUNT_DETECTORS_LOGIOC_H
#define EXHUNT_DETECTORS_LOGIOC_H

#include "logrules.h"

enum exhi_logioc_rule {
  EXHI_LOGIOC_IP = 0,     /* source.ip */
  EXHI_LOGIOC_UA,         /* user_agent.original */
  EXHI_LOGIOC_DOMAIN,     /* url.domain */
  EXHI_LOGIOC_URL,        /* url.domain + url.path */
  EXHI_LOGIOC_PATH,       /* url.path: a web shell by name or path */
  EXHI_LOGIOC_RULES
};

/* Sets consulted per record: the store's and the --iocs file's. */
#define EXHI_LOGIOC_MAX_SETS 4

/* The rule of a hit's rule index: a compiled rule or an indicator rule. */
const exhi_lr_rule *exhi_hit_rule(const exhi_lr *lr, size_t rule);
/* Whether a hit's rule index is an indicator rule. */
int exhi_hit_rule_is_ioc(const exhi_lr *lr, size_t rule);

/* Column bindings of a schema, cached per worker (schemas change rarely). */
typedef struct exhi_logioc_cols {
  const exhi_logschema *schema;
  unsigned gen;
  int ip, ua, host, path, query;
} exhi_logioc_cols;

/* Whether records of this kind carry web fields worth looking up. */
int exhi_logioc_kind(int kind);

/* One indicator hit: which rule, which set (index in sets), the indicator
 * (borrowed from the set), the log field that matched (ECS name, static).
 * A non-zero return stops the matching and is returned. */
typedef int (*exhi_logioc_cb)(void *ctx, int which, size_t set, const exh_ioc *ioc,
                              const char *field);

/* The literal prefilter of the sets' values (private to logioc.c). */
typedef struct exhi_logioc_pf exhi_logioc_pf;

/* The sets to look records up in, with the types each holds. */
typedef struct exhi_logioc {
  const exh_ioc_set *sets[EXHI_LOGIOC_MAX_SETS];
  unsigned types[EXHI_LOGIOC_MAX_SETS]; /* bit per exh_ioc_type present */
  size_t n_sets;
  exhi_logioc_pf *pf; /* owned: exhi_logioc_prepare / exhi_logioc_release */
  /* Set by the caller: a compile long enough to notice (see
   * exhi_logioc_prepare) is announced on stderr first. For a run at a
   * terminal that is not quiet. */
  int notice;
} exhi_logioc;

/* Adds a set (borrowed) unless it is empty or there are already
 * EXHI_LOGIOC_MAX_SETS; returns its index, or -1. */
int exhi_logioc_add(exhi_logioc *m, const exh_ioc_set *set);

/* Looks rec's fields up in every set. Returns 0 or the callback's status. */
int exhi_logioc_match(const exhi_logioc *m, exhi_logioc_cols *cols, const exhi_logrec *rec,
                      exhi_logioc_cb cb, void *ctx);

/*
 * Picking the lines worth looking up. Splitting every web-log line and
 * looking its columns up costs several times the rules' own scan; instead
 * one vectorscan literal database holds, for every indicator a log line can
 * show, a piece of text every line the exact lookup would match contains
 * (the address, the user agent as written with spaces and as IIS writes it,
 * the host, a URL's path or host, a web shell's file name, case-blind where
 * the lookup is), and the lines with a hit are the only ones split and
 * looked up (exhi_logioc_match stays the judge). docs/logs.md lists the
 * literals per type.
 */

/* Builds m's prefilter from its sets (compiled once, cached like the rule
 * databases). Call after the last exhi_logioc_add, before any worker. */
int exhi_logioc_prepare(exhi_logioc *m, exh_error *err);
/* After exhi_logioc_prepare: the prefilter's distinct literals (0: none,
 * or every line) and whether it was compiled now (1) or loaded from the
 * cache (0). */
void exhi_logioc_prefilter_info(const exhi_logioc *m, size_t *n_literals, int *compiled);
/* Frees what exhi_logioc_prepare built (the sets stay the caller's). */
void exhi_logioc_release(exhi_logioc *m);

enum exhi_logioc_picking {
  EXHI_LOGIOC_PICK_NONE = 0,  /* no indicator a log line can show: look nothing up */
  EXHI_LOGIOC_PICK_LINES = 1, /* look up the lines exhi_logioc_pick finds */
  EXHI_LOGIOC_PICK_EVERY = -1 /* some indicator has no literal: every line */
};
int exhi_logioc_picking(const exhi_logioc *m);

/* Per-thread picking state; NULL (and EXH_OK) when m picks no lines. */
typedef struct exhi_logioc_lines exhi_logioc_lines;
int exhi_logioc_lines_new(const exhi_logioc *m, exhi_logioc_lines **out, exh_error *err);
void exhi_logioc_lines_free(exhi_logioc_lines *l);

/* Finds the lines of block[from..len) that hold an indicator's literal;
 * exhi_logioc_next then hands their start offsets (in block) out in order. */
int exhi_logioc_pick(exhi_logioc_lines *l, const char *block, size_t from, size_t len,
                     exh_error *err);
/* The next picked line start below `before`, taken; SIZE_MAX when none. */
size_t exhi_logioc_next(exhi_logioc_lines *l, size_t before);

/* The sightings transaction on a store opened read-write. */
int exhi_logioc_begin(exh_ioc_store *s, exh_error *err);
int exhi_logioc_commit(exh_ioc_store *s, exh_error *err);
void exhi_logioc_rollback(exh_ioc_store *s);

/* An indicator file (any format `exhunt ioc import` reads) parsed by the
 * ioc module into an in-memory store, loaded as a set. */
int exhi_logioc_load_file(const char *path, exh_ioc_set **out, exh_error *err);

#endif
