/* Indicator lists as JSON: an array of flat objects, or JSON lines (one
 * object per line). Two key sets, told apart per object:
 *   MSTIC   Indicator, IndicatorType, FirstSeen, DateAdded, TLP and
 *           AdditionalMetadata {FileMd5, FileSha1} (Microsoft's Exchange
 *           feed as .json / .jsonl, Azure/Azure-Sentinel "Sample Data/Feeds/")
 *   plain   type, value and optionally source, actor, report, description,
 *           tags, confidence, first_seen, last_seen (the CSV plain layout). */
#include "ioc.h"

#include <stdlib.h>
#include <string.h>

/* One JSON line: a MSTIC record is ~300 bytes; 64 KiB leaves room for long
 * descriptions and bounds what one line can make jansson allocate. */
#define JSONL_LINE_MAX (64u << 10)

static const char *str(json_t *o, const char *k) {
  const char *s = json_string_value(json_object_get(o, k));
  return s ? s : "";
}

static int emit(const exhi_ioc_sink *sink, const exhi_ioc_entry *base, int type, const char *value,
                exh_error *err) {
  exhi_ioc_entry e = *base;
  e.type = type;
  e.value = value;
  e.value_len = strlen(value);
  return sink->entry(sink->ctx, &e, err);
}

static int item(json_t *o, const char *where, const exhi_ioc_sink *sink, exh_error *err) {
  if (!json_is_object(o)) {
    sink->skip(sink->ctx, where, "not an object");
    return EXH_OK;
  }
  bool mstic = json_object_get(o, "Indicator") && json_object_get(o, "IndicatorType");
  const char *value = str(o, mstic ? "Indicator" : "value");
  const char *tword = str(o, mstic ? "IndicatorType" : "type");
  char tags[64] = "";
  if (*str(o, "TLP")) {
    snprintf(tags, sizeof tags, "tlp:%.40s", str(o, "TLP"));
    for (char *q = tags; *q; q++)
      if (*q >= 'A' && *q <= 'Z') *q = (char)(*q + 32);
  }
  json_t *conf = json_object_get(o, "confidence");
  exhi_ioc_entry base = {
      .source = mstic ? "microsoft-mstic" : str(o, "source"),
      .actor = str(o, "actor"),
      .report = str(o, "report"),
      .description = str(o, "description"),
      .tags = mstic ? tags : str(o, "tags"),
      .first_seen = mstic ? (*str(o, "FirstSeen") ? str(o, "FirstSeen") : str(o, "DateAdded"))
                          : str(o, "first_seen"),
      .last_seen = str(o, "last_seen"),
      .confidence = json_is_integer(conf) && json_integer_value(conf) >= 0 &&
                            json_integer_value(conf) <= 100
                        ? (int)json_integer_value(conf) : -1,
      .where = where,
  };
  int type = exhi_ioc_type_guess(tword, value, strlen(value));
  if (!*value || !type) {
    char why[96];
    snprintf(why, sizeof why, "type \"%.40s\" is not one exhunt keeps, or no value", tword);
    sink->skip(sink->ctx, where, why);
    return EXH_OK;
  }
  int rc = emit(sink, &base, type, value, err);
  /* MSTIC gives the same file's MD5 and SHA-1 beside its SHA-256. */
  json_t *meta = json_object_get(o, "AdditionalMetadata");
  if (rc == EXH_OK && json_is_object(meta)) {
    if (*str(meta, "FileMd5")) rc = emit(sink, &base, EXH_IOC_MD5, str(meta, "FileMd5"), err);
    if (rc == EXH_OK && *str(meta, "FileSha1"))
      rc = emit(sink, &base, EXH_IOC_SHA1, str(meta, "FileSha1"), err);
  }
  return rc;
}

int exhi_ioc_parse_json_list(const char *name, json_t *doc, const exhi_ioc_sink *sink,
                             exh_error *err) {
  if (!json_is_array(doc))
    return exhi_err(err, EXH_ERR_PARSE, name, 0, -1, "$: an indicator list is a JSON array");
  if (json_array_size(doc) > EXHI_IOC_MAX_ENTRIES)
    return exhi_err(err, EXH_ERR_LIMIT, name, 0, -1, "more than %u entries", EXHI_IOC_MAX_ENTRIES);
  size_t i;
  json_t *o;
  json_array_foreach(doc, i, o) {
    char where[48];
    snprintf(where, sizeof where, "$[%zu]", i);
    int rc = item(o, where, sink, err);
    if (rc != EXH_OK) return rc;
  }
  return EXH_OK;
}

int exhi_ioc_parse_jsonl(const char *name, const char *data, size_t len, const exhi_ioc_sink *sink,
                         exh_error *err) {
  size_t line = 0, n = 0;
  const char *p = data, *end = data + len;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *le = nl ? nl : end;
    line++;
    size_t l = (size_t)(le - p);
    while (l && (p[l - 1] == '\r' || p[l - 1] == ' ' || p[l - 1] == '\t')) l--;
    if (l) {
      if (l > JSONL_LINE_MAX)
        return exhi_err(err, EXH_ERR_LIMIT, name, (long long)line, -1,
                        "JSON line longer than %u bytes", JSONL_LINE_MAX);
      if (++n > EXHI_IOC_MAX_ENTRIES)
        return exhi_err(err, EXH_ERR_LIMIT, name, (long long)line, -1, "more than %u entries",
                        EXHI_IOC_MAX_ENTRIES);
      json_error_t je;
      json_t *o = json_loadb(p, l, JSON_REJECT_DUPLICATES, &je);
      if (!o)
        return exhi_err(err, EXH_ERR_PARSE, name, (long long)line, -1, "column %d: JSON: %s",
                        je.column, je.text);
      char where[48];
      snprintf(where, sizeof where, "line %zu", line);
      int rc = item(o, where, sink, err);
      json_decref(o);
      if (rc != EXH_OK) return rc;
    }
    p = nl ? nl + 1 : end;
  }
  return EXH_OK;
}
