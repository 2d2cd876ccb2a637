/* Indicator lists as CSV, in three layouts told apart by the header:
 *   MSTIC   DateAdded,FirstSeen,Indicator,IndicatorType,TLP   (Microsoft's
 *           Exchange feed, Azure/Azure-Sentinel "Sample Data/Feeds/")
 *   Volexity value,type,notes   (volexity/threat-intel, 2021-03-02 report)
 *   plain   a header with "type" and "value" columns, and optionally source,
 *           actor, report, description (or comment, notes), tags,
 *           confidence, first_seen, last_seen; or no header, those columns
 *           by position, recognised by a known type word in the first cell. */
#include "ioc.h"

#include "readers/csv.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { COL_TYPE, COL_VALUE, COL_SOURCE, COL_ACTOR, COL_REPORT, COL_DESC, COL_TAGS,
       COL_CONF, COL_FIRST, COL_LAST, COL_TLP, COL_N };

static int column(const exhi_csv *h, const char *const *names) {
  for (size_t i = 0; i < h->nfields; i++)
    for (const char *const *n = names; *n; n++)
      if (strcasecmp(h->fields[i], *n) == 0) return (int)i;
  return -1;
}

static const char *field(const exhi_csv *c, const int *cols, int k) {
  int i = cols[k];
  return i >= 0 && (size_t)i < c->nfields ? c->fields[i] : NULL;
}

/* "85", "85%" -> 85; "high"/"medium"/"low" as MISP and OTX word it. */
static int parse_confidence(const char *s) {
  if (!s || !*s) return -1;
  if (!strcasecmp(s, "high")) return 85;
  if (!strcasecmp(s, "medium")) return 50;
  if (!strcasecmp(s, "low")) return 15;
  char *end;
  long v = strtol(s, &end, 10);
  if (end == s || (*end && strcmp(end, "%") != 0) || v < 0 || v > 100) return -1;
  return (int)v;
}

int exhi_ioc_parse_csv(const char *name, const char *data, size_t len,
                       const exhi_ioc_sink *sink, const char **format, exh_error *err) {
  exhi_csv *c = malloc(sizeof *c);
  if (!c) return exhi_err(err, EXH_ERR_NOMEM, name, 0, -1, "out of memory");
  exhi_csv_init(c, name, data, len);
  int got, rc = exhi_csv_next(c, &got, err);
  if (rc != EXH_OK) goto out;
  if (!got) {
    rc = exhi_err(err, EXH_ERR_PARSE, name, 0, -1, "empty file: no header line");
    goto out;
  }
  static const char *const n_type[] = {"type", "indicatortype", "indicator_type", NULL};
  static const char *const n_value[] = {"value", "indicator", "ioc", NULL};
  static const char *const n_source[] = {"source", NULL};
  static const char *const n_actor[] = {"actor", "threat_actor", NULL};
  static const char *const n_report[] = {"report", NULL};
  static const char *const n_desc[] = {"description", "comment", "notes", NULL};
  static const char *const n_tags[] = {"tags", NULL};
  static const char *const n_conf[] = {"confidence", NULL};
  static const char *const n_first[] = {"first_seen", "firstseen", NULL};
  static const char *const n_last[] = {"last_seen", "lastseen", NULL};
  static const char *const n_tlp[] = {"tlp", NULL};
  static const char *const *const names[COL_N] = {n_type, n_value, n_source, n_actor,
      n_report, n_desc, n_tags, n_conf, n_first, n_last, n_tlp};
  int cols[COL_N];
  for (int k = 0; k < COL_N; k++) cols[k] = column(c, names[k]);
  int date_added = exhi_csv_column(c, "DateAdded");

  const char *fmt = "csv";
  const char *layout_source = NULL;
  if (exhi_csv_column(c, "Indicator") >= 0 && exhi_csv_column(c, "IndicatorType") >= 0) {
    fmt = "csv-mstic";
    layout_source = "microsoft-mstic";
  } else if (c->nfields == 3 && !strcmp(c->fields[0], "value") && !strcmp(c->fields[1], "type") &&
             !strcmp(c->fields[2], "notes")) {
    fmt = "csv-volexity";
    layout_source = "volexity";
  }
  /* No header, but the first row already reads "sha256,<hash>,...": the
   * plain layout by position (type, value, source, actor, report,
   * description, tags, confidence, first_seen, last_seen). */
  bool headerless = false;
  if (cols[COL_TYPE] < 0 && cols[COL_VALUE] < 0 && c->nfields >= 2 &&
      exhi_ioc_type_guess(c->fields[0], c->fields[1], strlen(c->fields[1]))) {
    headerless = true;
    for (int k = 0; k < COL_N; k++) cols[k] = k < COL_TLP ? k : -1;
    date_added = -1;
  }
  if (format) *format = fmt;
  if (cols[COL_TYPE] < 0 || cols[COL_VALUE] < 0) {
    rc = exhi_err(err, EXH_ERR_PARSE, name, c->line, -1,
                  "header has no \"type\" and \"value\" columns (nor MSTIC's "
                  "Indicator,IndicatorType), and the first row is not \"TYPE,VALUE\" with a "
                  "type exhunt keeps");
    goto out;
  }
  const exhi_ioc_sink s = *sink;

  size_t n = 0;
  for (;;) {
    if (headerless) headerless = false; /* the first row is data: use it as read */
    else {
      rc = exhi_csv_next(c, &got, err);
      if (rc != EXH_OK || !got) break;
    }
    char where[48];
    snprintf(where, sizeof where, "line %lld", c->line);
    if (++n > EXHI_IOC_MAX_ENTRIES) {
      rc = exhi_err(err, EXH_ERR_LIMIT, name, c->line, -1, "more than %u indicators",
                    EXHI_IOC_MAX_ENTRIES);
      break;
    }
    const char *tword = field(c, cols, COL_TYPE), *value = field(c, cols, COL_VALUE);
    if (!tword || !value) {
      s.skip(s.ctx, where, "fewer columns than the header");
      continue;
    }
    int type = exhi_ioc_type_guess(tword, value, strlen(value));
    if (!type) {
      char why[128];
      snprintf(why, sizeof why, "type \"%.40s\" is not one exhunt keeps", tword);
      s.skip(s.ctx, where, why);
      continue;
    }
    char tags[64] = "";
    const char *tlp = field(c, cols, COL_TLP);
    if (tlp && *tlp) {
      snprintf(tags, sizeof tags, "tlp:%.40s", tlp);
      for (char *q = tags; *q; q++)
        if (*q >= 'A' && *q <= 'Z') *q = (char)(*q + 32);
    }
    const char *first = field(c, cols, COL_FIRST);
    /* MSTIC leaves FirstSeen empty for paths; DateAdded is the next best. */
    if ((!first || !*first) && date_added >= 0 && (size_t)date_added < c->nfields)
      first = c->fields[date_added];
    exhi_ioc_entry e = {
        .type = type,
        .value = value,
        .value_len = strlen(value),
        .source = field(c, cols, COL_SOURCE) && *field(c, cols, COL_SOURCE)
                      ? field(c, cols, COL_SOURCE) : layout_source,
        .actor = field(c, cols, COL_ACTOR),
        .report = field(c, cols, COL_REPORT),
        .description = field(c, cols, COL_DESC),
        .tags = cols[COL_TAGS] >= 0 ? field(c, cols, COL_TAGS) : tags,
        .first_seen = first,
        .last_seen = field(c, cols, COL_LAST),
        .confidence = parse_confidence(field(c, cols, COL_CONF)),
        .where = where,
    };
    rc = s.entry(s.ctx, &e, err);
    if (rc != EXH_OK) break;
  }
out:
  free(c);
  return rc;
}
