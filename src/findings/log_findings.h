/* Hits of log rules, grouped into findings (shared by the hunt, which makes
 * them, and the writer side, which words them). */
#ifndef EXHUNT_FINDINGS_LOG_FINDINGS_H
#define EXHUNT_FINDINGS_LOG_FINDINGS_H

#include "../detectors/logrules.h"

/* Evidence fields kept per hit (ECS names). */
#define EXHI_HIT_FIELDS 14
/* A value kept as evidence: a URL or a user agent; longer ones are cut. */
#define EXHI_HIT_VALUE_MAX 1024

typedef struct exhi_hit {
  size_t rule;
  int outcome;            /* enum exhi_lr_outcome */
  int kind;               /* enum exhi_logkind of the log */
  size_t file;            /* index of the file in the hunt */
  int64_t line;
  int64_t first_ms, last_ms;
  uint64_t count;
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

void exhi_hit_clear(exhi_hit *h);

/* Writes one hit as a finding. path: the log file. */
int exhi_hit_emit(exh_output *o, const exhi_lr *lr, const exhi_hit *h, const char *path,
                  int timeline);

#endif
