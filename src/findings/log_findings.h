/* Hits of log rules, grouped into findings (shared by the hunt, which makes
 * them, and the writer side, which words them). */
#ifndef EXHUNT_FINDINGS_LOG_FINDINGS_H
#define EXHUNT_FINDINGS_LOG_FINDINGS_H

#include "../detectors/logrules.h"

/* Evidence fields kept per hit (ECS names). */
#define EXHI_HIT_FIELDS 14
/* The server that wrote a web log (ServerHostName, ServerName,
 * s-computername): a NetBIOS or DNS name, 63 bytes per DNS label. */
#define EXHI_HIT_SERVER_MAX 64
/* A value kept as evidence: a URL or a user agent; longer ones are cut. */
#define EXHI_HIT_VALUE_MAX 1024

/* A group is every hit of one rule from one client (key). Its outcome is
 * the chain's, as an analyst reads it: exploited when any hit succeeded (or
 * a follow-up rule succeeded later: rule `exploited_by`), attempted only
 * when every hit failed. Its evidence (file, line, fields) is its first
 * success, else its first hit. */
typedef struct exhi_hit {
  size_t rule;
  int outcome;            /* enum exhi_lr_outcome: of the group, = its evidence's */
  int kind;               /* enum exhi_logkind of the log */
  size_t file;            /* index of the file in the hunt (evidence) */
  int64_t line;           /* evidence line */
  int64_t first_ms, last_ms;
  int64_t evidence_ms;    /* time of the evidence hit, or -1 */
  int64_t success_ms;     /* first success, or -1 (none, or no time) */
  uint64_t count, failed, succeeded;
  /* Server that wrote the log, as the log names it, or "": part of the
   * group key, so each server's chain is judged on its own. */
  char server[EXHI_HIT_SERVER_MAX + 1];
  char *key;              /* grouping key: client address, or "" */
  char *detail;           /* indicator detail, or NULL */
  size_t n_fields;
  exh_field fields[EXHI_HIT_FIELDS]; /* strings owned by the hit */
  /* Indicator hits (detectors/logioc.h): the indicator, borrowed from the
   * set it came from (index in the hunt's sets); the log field matched. */
  const exh_ioc *ioc;
  size_t ioc_set;
  const char *ioc_field;
} exhi_hit;

/* The follow-up that made a group exploited (a success of another rule in
 * the same hunt, at or after the group's first hit): borrowed. */
typedef struct exhi_hit_followup {
  const exhi_hit *hit;
  const char *path;
} exhi_hit_followup;

void exhi_hit_clear(exhi_hit *h);

/* Writes one hit as a finding. path: the log file. via: the follow-up
 * that made it exploited, or NULL. */
int exhi_hit_emit(exh_output *o, const exhi_lr *lr, const exhi_hit *h, const char *path,
                  const exhi_hit_followup *via, int timeline);

#endif
