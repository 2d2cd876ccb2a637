/* Tells a feed's format from its content and hands it to its parser. */
#include "ioc.h"

#include <stdbool.h>
#include <string.h>

int exhi_ioc_json_load(const char *name, const char *data, size_t len, json_t **out,
                       exh_error *err) {
  if (len > EXHI_IOC_JSON_MAX_BYTES)
    return exhi_err(err, EXH_ERR_LIMIT, name, 0, -1,
                    "JSON document of %zu bytes, more than the %u exhunt reads", len,
                    EXHI_IOC_JSON_MAX_BYTES);
  json_error_t je;
  /* JSON_REJECT_DUPLICATES: two "pattern" members would make the meaning
   * depend on which one a reader keeps. */
  *out = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
  if (!*out)
    return exhi_err(err, EXH_ERR_PARSE, name, je.line, -1, "column %d: JSON: %s", je.column,
                    je.text);
  return EXH_OK;
}

int exhi_ioc_parse(const char *name, const char *data, size_t len,
                   const exhi_ioc_sink *sink, const char **format, exh_error *err) {
  size_t i = 0;
  if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) i = 3;
  while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n')) i++;
  if (i < len && (data[i] == '{' || data[i] == '[')) {
    json_t *doc;
    /* JSON lines: a first line that is a whole object, and more after it. */
    const char *nl = memchr(data + i, '\n', len - i);
    if (data[i] == '{' && nl) {
      size_t rest = (size_t)(data + len - nl);
      json_t *first = json_loadb(data + i, (size_t)(nl - data - i), 0, NULL);
      bool more = false;
      for (size_t k = 0; k < rest && !more; k++)
        more = nl[k] != ' ' && nl[k] != '\t' && nl[k] != '\r' && nl[k] != '\n';
      bool lines = first && json_is_object(first) && more;
      json_decref(first);
      if (lines) {
        *format = "jsonl";
        return exhi_ioc_parse_jsonl(name, data + i, len - i, sink, err);
      }
    }
    int rc = exhi_ioc_json_load(name, data + i, len - i, &doc, err);
    if (rc != EXH_OK) return rc;
    const char *type = json_string_value(json_object_get(doc, "type"));
    if (type && (!strcmp(type, "bundle") || !strcmp(type, "indicator"))) {
      *format = "stix";
      rc = exhi_ioc_parse_stix(name, doc, sink, err);
    } else if (json_object_get(doc, "Event") || json_object_get(doc, "response") ||
               json_object_get(doc, "Attribute")) {
      *format = "misp";
      rc = exhi_ioc_parse_misp(name, doc, sink, err);
    } else if (json_is_array(doc)) {
      *format = "json";
      rc = exhi_ioc_parse_json_list(name, doc, sink, err);
    } else {
      *format = "json";
      rc = exhi_err(err, EXH_ERR_PARSE, name, 0, -1,
                    "$: JSON that is neither a STIX 2.1 bundle (\"type\": \"bundle\"), "
                    "a MISP event (\"Event\") nor a list of indicators ([...])");
    }
    json_decref(doc);
    return rc;
  }
  return exhi_ioc_parse_csv(name, data, len, sink, format, err);
}
