/* MISP events in the MISP core format (draft-dulaunoy-misp-core-format):
 * {"Event": {...}}, a bare event, or {"response": [{"Event": ...}, ...]}
 * as the REST API returns. Attributes (and those inside Object[]) of the
 * types exhunt keeps become indicators; composite types ("filename|sha256",
 * "ip-dst|port") give each part they hold; attributes with "to_ids": false
 * are skipped. Source: the creator organisation
 * (Orgc.name); report: the event's info; actor: a threat-actor galaxy
 * cluster or misp-galaxy:threat-actor tag. */
#include "ioc.h"

#include <stdlib.h>
#include <string.h>

static const char *str(json_t *o, const char *k) {
  const char *s = json_string_value(json_object_get(o, k));
  return s ? s : "";
}

/* Attribute type -> exhunt type (or 0); for composites, one per part. */
static int part_type(const char *t, const char *v, size_t vlen) {
  if (!strcmp(t, "ip-dst") || !strcmp(t, "ip-src"))
    return exhi_ioc_type_guess("ip", v, vlen);
  if (!strcmp(t, "hostname") || !strcmp(t, "domain")) return EXH_IOC_DOMAIN;
  if (!strcmp(t, "port")) return 0;
  return exhi_ioc_type_guess(t, v, vlen);
}

typedef struct ev {
  const char *name;
  const exhi_ioc_sink *sink;
  const char *source, *report, *actor, *date;
  char tags[512];
  exh_error *err;
  size_t n;
} ev;

/* MISP timestamps are seconds since the epoch as strings. */
static void epoch_date(const char *s, char *out, size_t size) {
  out[0] = '\0';
  char *end;
  long long v = strtoll(s, &end, 10);
  if (!*s || *end || v <= 0 || v > 32503680000LL) return;
  exhi_format_time_ms(v * 1000, out, size);
}

static int attribute(ev *e, json_t *a, const char *where) {
  const exhi_ioc_sink *sink = e->sink;
  if (!json_is_object(a)) {
    sink->skip(sink->ctx, where, "not an object");
    return EXH_OK;
  }
  const char *type = str(a, "type");
  const char *value = str(a, "value");
  json_t *del = json_object_get(a, "deleted");
  if (json_is_true(del)) return EXH_OK;
  /* to_ids false: the publisher gives it as context, not for detection
   * (MISP core format, section 2.3.1.5). Matching on it raises alarms its
   * author did not mean. */
  if (json_is_false(json_object_get(a, "to_ids"))) {
    sink->skip(sink->ctx, where, "to_ids is false: context, not for detection");
    return EXH_OK;
  }
  if (!*type || !*value) {
    sink->skip(sink->ctx, where, "no type or value");
    return EXH_OK;
  }
  /* A composite type "a|b" pairs with a value "x|y". */
  char tbuf[64];
  snprintf(tbuf, sizeof tbuf, "%s", type);
  const char *tparts[2] = {tbuf, NULL};
  char *bar = strchr(tbuf, '|');
  const char *vparts[2] = {value, NULL};
  size_t vlens[2] = {strlen(value), 0};
  if (bar) {
    *bar = '\0';
    tparts[1] = bar + 1;
    const char *vb = strchr(value, '|');
    if (!vb) {
      sink->skip(sink->ctx, where, "composite type without '|' in the value");
      return EXH_OK;
    }
    vlens[0] = (size_t)(vb - value);
    vparts[1] = vb + 1;
    vlens[1] = strlen(vb + 1);
  }
  char first[40], last[40];
  snprintf(first, sizeof first, "%s", str(a, "first_seen"));
  snprintf(last, sizeof last, "%s", str(a, "last_seen"));
  if (!first[0]) snprintf(first, sizeof first, "%s", e->date);
  if (!last[0]) epoch_date(str(a, "timestamp"), last, sizeof last);
  int kept = 0;
  for (int k = 0; k < 2 && tparts[k]; k++) {
    int t = part_type(tparts[k], vparts[k], vlens[k]);
    if (!t) continue;
    if (++e->n > EXHI_IOC_MAX_ENTRIES)
      return exhi_err(e->err, EXH_ERR_LIMIT, e->name, 0, -1, "more than %u indicators",
                      EXHI_IOC_MAX_ENTRIES);
    exhi_ioc_entry ent = {
        .type = t,
        .value = vparts[k],
        .value_len = vlens[k],
        .source = e->source,
        .actor = e->actor,
        .report = e->report,
        .description = str(a, "comment"),
        .tags = e->tags,
        .first_seen = first,
        .last_seen = last,
        .confidence = -1,
        .where = where,
    };
    int rc = sink->entry(sink->ctx, &ent, e->err);
    if (rc != EXH_OK) return rc;
    kept++;
  }
  if (!kept) {
    char why[96];
    snprintf(why, sizeof why, "attribute type \"%.40s\" is not one exhunt keeps", type);
    sink->skip(sink->ctx, where, why);
  }
  return EXH_OK;
}

static int event(ev *e, json_t *event, const char *path) {
  if (!json_is_object(event))
    return exhi_err(e->err, EXH_ERR_PARSE, e->name, 0, -1, "%s: not an object", path);
  e->source = str(json_object_get(event, "Orgc"), "name");
  e->report = str(event, "info");
  e->date = str(event, "date");
  e->actor = "";
  /* Tags: kept as tags; a threat-actor galaxy tag also names the actor. */
  size_t o = 0, i;
  json_t *t;
  e->tags[0] = '\0';
  static const char ta[] = "misp-galaxy:threat-actor=\"";
  json_array_foreach(json_object_get(event, "Tag"), i, t) {
    const char *nm = str(t, "name");
    if (!*nm) continue;
    if (!strncmp(nm, ta, sizeof ta - 1) && !*e->actor) e->actor = nm + sizeof ta - 1;
    int w = snprintf(e->tags + o, sizeof e->tags - o, "%s%s", o ? "," : "", nm);
    if (w < 0 || (size_t)w >= sizeof e->tags - o) break;
    o += (size_t)w;
  }
  char actor[256] = "";
  if (*e->actor) {
    snprintf(actor, sizeof actor, "%s", e->actor);
    char *q = strrchr(actor, '"');
    if (q) *q = '\0';
  }
  json_t *g;
  json_array_foreach(json_object_get(event, "Galaxy"), i, g) {
    if (actor[0] || strcmp(str(g, "type"), "threat-actor") != 0) continue;
    json_t *cl = json_array_get(json_object_get(g, "GalaxyCluster"), 0);
    snprintf(actor, sizeof actor, "%s", str(cl, "value"));
  }
  e->actor = actor;
  json_t *a;
  char where[128];
  json_array_foreach(json_object_get(event, "Attribute"), i, a) {
    snprintf(where, sizeof where, "%s.Attribute[%zu]", path, i);
    int rc = attribute(e, a, where);
    if (rc != EXH_OK) return rc;
  }
  json_t *obj;
  size_t j;
  json_array_foreach(json_object_get(event, "Object"), j, obj) {
    json_array_foreach(json_object_get(obj, "Attribute"), i, a) {
      snprintf(where, sizeof where, "%s.Object[%zu].Attribute[%zu]", path, j, i);
      int rc = attribute(e, a, where);
      if (rc != EXH_OK) return rc;
    }
  }
  return EXH_OK;
}

int exhi_ioc_parse_misp(const char *name, json_t *doc, const exhi_ioc_sink *sink,
                        exh_error *err) {
  ev e = {.name = name, .sink = sink, .err = err};
  if (!json_is_object(doc))
    return exhi_err(err, EXH_ERR_PARSE, name, 0, -1, "$: a MISP event is a JSON object");
  json_t *resp = json_object_get(doc, "response");
  if (resp) {
    if (!json_is_array(resp))
      return exhi_err(err, EXH_ERR_PARSE, name, 0, -1, "$.response: not an array");
    size_t i;
    json_t *item;
    json_array_foreach(resp, i, item) {
      char path[64];
      snprintf(path, sizeof path, "$.response[%zu].Event", i);
      int rc = event(&e, json_object_get(item, "Event"), path);
      if (rc != EXH_OK) return rc;
    }
    return EXH_OK;
  }
  json_t *evj = json_object_get(doc, "Event");
  if (evj) return event(&e, evj, "$.Event");
  if (json_object_get(doc, "Attribute")) return event(&e, doc, "$");
  return exhi_err(err, EXH_ERR_PARSE, name, 0, -1,
                  "$: no \"Event\", \"response\" or \"Attribute\" member: not a MISP event");
}
