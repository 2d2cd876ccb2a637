/* STIX 2.1 bundles: indicator objects whose pattern is a comparison, or an
 * OR of comparisons, of a kind exhunt keeps (file hashes and names, IPv4 /
 * IPv6, domain names, URLs, HTTP user agents). Anything else in a pattern
 * (AND, FOLLOWEDBY, qualifiers, operators other than '=') is skipped with
 * its reason. Source: the identity named by created_by_ref; actor: what the
 * indicator "indicates" (relationship objects); report: a report object
 * that lists it. Spec: STIX 2.1 (OASIS, 2021), sections 4.7 and 9. */
#include "ioc.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

typedef struct term {
  int type;
  const char *value; /* into the decode buffer */
  size_t len;
  char reason[96];   /* set when type == 0: why it is skipped */
} term;

typedef struct pat {
  const char *p, *end;
  char *buf;         /* decoded string literals */
  size_t used, cap;
  term terms[EXHI_IOC_PATTERN_MAX_TERMS];
  size_t n;
  char fail[128];    /* set: the whole pattern is skipped for this reason */
} pat;

static void ws(pat *x) {
  while (x->p < x->end && isspace((unsigned char)*x->p)) x->p++;
}

static bool word(pat *x, const char *w) {
  size_t n = strlen(w);
  if ((size_t)(x->end - x->p) < n || strncmp(x->p, w, n) != 0) return false;
  if (x->p + n < x->end && (isalnum((unsigned char)x->p[n]) || x->p[n] == '_')) return false;
  x->p += n;
  return true;
}

/* Records why the whole pattern is skipped; returns -1 for `return failf()`. */
static int failf(pat *x, const char *why) {
  if (!x->fail[0]) snprintf(x->fail, sizeof x->fail, "%s", why);
  return -1;
}

/* 'text' with \' and \\ escapes, decoded into x->buf. */
static const char *literal(pat *x, size_t *len) {
  if (x->p >= x->end || *x->p != '\'') return NULL;
  x->p++;
  size_t start = x->used;
  while (x->p < x->end && *x->p != '\'') {
    char c = *x->p++;
    if (c == '\\') {
      if (x->p >= x->end || (*x->p != '\'' && *x->p != '\\')) return NULL;
      c = *x->p++;
    }
    if (x->used + 1 >= x->cap) return NULL;
    x->buf[x->used++] = c;
  }
  if (x->p >= x->end) return NULL;
  x->p++;
  *len = x->used - start;
  x->buf[x->used++] = '\0';
  return x->buf + start;
}

/* An object path: type ':' property ('.' property)*, properties plain or
 * quoted. Written into path (lower-cased, quotes dropped). */
static bool object_path(pat *x, char *path, size_t size) {
  size_t o = 0;
  bool colon = false;
  while (x->p < x->end) {
    char c = *x->p;
    if (c == '\'') {
      x->p++;
      while (x->p < x->end && *x->p != '\'') {
        if (o + 1 >= size) return false;
        path[o++] = (char)tolower((unsigned char)*x->p++);
      }
      if (x->p >= x->end) return false;
      x->p++;
      continue;
    }
    if (isalnum((unsigned char)c) || c == '_' || c == '-' || c == '.' || (c == ':' && !colon)) {
      if (c == ':') colon = true;
      if (o + 1 >= size) return false;
      path[o++] = (char)tolower((unsigned char)c);
      x->p++;
      continue;
    }
    break;
  }
  path[o] = '\0';
  return colon && o > 2;
}

static const struct {
  const char *path;
  int type;
} paths[] = {
    {"file:hashes.sha-256", EXH_IOC_SHA256}, {"file:hashes.sha256", EXH_IOC_SHA256},
    {"file:hashes.sha-1", EXH_IOC_SHA1},     {"file:hashes.sha1", EXH_IOC_SHA1},
    {"file:hashes.md5", EXH_IOC_MD5},        {"file:name", EXH_IOC_FILENAME},
    {"ipv4-addr:value", EXH_IOC_IPV4},       {"ipv6-addr:value", EXH_IOC_IPV6},
    {"domain-name:value", EXH_IOC_DOMAIN},   {"url:value", EXH_IOC_URL},
    {"network-traffic:extensions.http-request-ext.request_header.user-agent",
     EXH_IOC_USER_AGENT},
};

static int comparison(pat *x) {
  char path[256];
  ws(x);
  if (!object_path(x, path, sizeof path)) return failf(x, "object path not understood");
  ws(x);
  if (x->p >= x->end || *x->p != '=') return failf(x, "operator other than '=' (only equality is kept)");
  x->p++;
  ws(x);
  size_t len;
  const char *v = literal(x, &len);
  if (!v) return failf(x, "value is not a quoted string");
  if (x->n >= EXHI_IOC_PATTERN_MAX_TERMS) return failf(x, "too many comparisons");
  term *t = &x->terms[x->n++];
  memset(t, 0, sizeof *t);
  t->value = v;
  t->len = len;
  for (size_t i = 0; i < EXHI_ARRAY_LEN(paths); i++)
    if (!strcmp(path, paths[i].path)) t->type = paths[i].type;
  if (!t->type) snprintf(t->reason, sizeof t->reason, "object path %.60s is not kept", path);
  return 0;
}

static int parse_pattern(pat *x) {
  for (;;) {
    ws(x);
    if (x->p >= x->end || *x->p != '[') return failf(x, "observation expression not in [ ]");
    x->p++;
    for (;;) {
      if (comparison(x)) return -1;
      ws(x);
      if (word(x, "OR")) continue;
      if (word(x, "AND")) return failf(x, "AND of comparisons (only OR lists are kept)");
      break;
    }
    ws(x);
    if (x->p >= x->end || *x->p != ']') return failf(x, "observation expression not closed");
    x->p++;
    ws(x);
    if (x->p >= x->end) return 0;
    if (word(x, "OR")) continue;
    if (word(x, "AND")) return failf(x, "AND of observations (only OR lists are kept)");
    if (word(x, "FOLLOWEDBY")) return failf(x, "FOLLOWEDBY (only OR lists are kept)");
    return failf(x, "qualifier or text after an observation (WITHIN, REPEATS, START)");
  }
}

static const char *str(json_t *o, const char *k) {
  const char *s = json_string_value(json_object_get(o, k));
  return s ? s : "";
}

/* Joins a JSON array of strings with commas into buf. */
static void join(json_t *arr, char *buf, size_t size) {
  size_t o = 0;
  buf[0] = '\0';
  size_t i;
  json_t *v;
  json_array_foreach(arr, i, v) {
    const char *s = json_string_value(v);
    if (!s) continue;
    int w = snprintf(buf + o, size - o, "%s%s", o ? "," : "", s);
    if (w < 0 || (size_t)w >= size - o) break;
    o += (size_t)w;
  }
}

int exhi_ioc_parse_stix(const char *name, json_t *doc, const exhi_ioc_sink *sink,
                        exh_error *err) {
  json_t *objects;
  if (!json_is_object(doc))
    return exhi_err(err, EXH_ERR_PARSE, name, 0, -1, "$: a STIX document is a JSON object");
  if (!strcmp(str(doc, "type"), "bundle")) {
    objects = json_object_get(doc, "objects");
    if (!objects) objects = json_array(); /* an empty bundle may omit it */
    else json_incref(objects);
    if (!json_is_array(objects)) {
      json_decref(objects);
      return exhi_err(err, EXH_ERR_PARSE, name, 0, -1, "$.objects: not an array");
    }
  } else if (!strcmp(str(doc, "type"), "indicator")) {
    objects = json_array();
    if (objects) json_array_append(objects, doc);
  } else {
    return exhi_err(err, EXH_ERR_PARSE, name, 0, -1,
                    "$.type: \"%.40s\" is neither \"bundle\" nor \"indicator\"", str(doc, "type"));
  }
  if (!objects) return exhi_err(err, EXH_ERR_NOMEM, name, 0, -1, "out of memory");

  /* Names of identities, actors and reports, and who indicates what. */
  json_t *names = json_object(), *actor_of = json_object(), *report_of = json_object();
  int rc = EXH_OK;
  pat *x = calloc(1, sizeof *x);
  if (!names || !actor_of || !report_of || !x) {
    rc = exhi_err(err, EXH_ERR_NOMEM, name, 0, -1, "out of memory");
    goto out;
  }
  size_t i;
  json_t *o;
  json_array_foreach(objects, i, o) {
    const char *id = str(o, "id"), *nm = str(o, "name");
    if (*id && *nm) json_object_set_new(names, id, json_string(nm));
  }
  json_array_foreach(objects, i, o) {
    const char *t = str(o, "type");
    if (!strcmp(t, "relationship") && !strcmp(str(o, "relationship_type"), "indicates")) {
      const char *target = json_string_value(json_object_get(names, str(o, "target_ref")));
      if (target && *str(o, "source_ref") && !json_object_get(actor_of, str(o, "source_ref")))
        json_object_set_new(actor_of, str(o, "source_ref"), json_string(target));
    } else if (!strcmp(t, "report") && *str(o, "name")) {
      size_t k;
      json_t *ref;
      json_array_foreach(json_object_get(o, "object_refs"), k, ref)
        if (json_is_string(ref) && !json_object_get(report_of, json_string_value(ref)))
          json_object_set_new(report_of, json_string_value(ref), json_string(str(o, "name")));
    }
  }
  json_array_foreach(objects, i, o) {
    char where[64];
    snprintf(where, sizeof where, "$.objects[%zu]", i);
    if (!json_is_object(o)) {
      sink->skip(sink->ctx, where, "not an object");
      continue;
    }
    if (strcmp(str(o, "type"), "indicator") != 0) continue; /* not counted: not an indicator */
    /* The producer withdrew it (STIX 2.1 section 3.2, "revoked"). */
    if (json_is_true(json_object_get(o, "revoked"))) {
      sink->skip(sink->ctx, where, "revoked by its producer");
      continue;
    }
    const char *ptype = str(o, "pattern_type");
    if (*ptype && strcmp(ptype, "stix") != 0) {
      char why[96];
      snprintf(why, sizeof why, "pattern_type \"%.40s\" (only stix patterns are read)", ptype);
      sink->skip(sink->ctx, where, why);
      continue;
    }
    const char *pattern = json_string_value(json_object_get(o, "pattern"));
    if (!pattern) {
      sink->skip(sink->ctx, where, "no pattern");
      continue;
    }
    size_t plen = strlen(pattern);
    if (plen > EXHI_IOC_PATTERN_MAX_BYTES) {
      sink->skip(sink->ctx, where, "pattern too long");
      continue;
    }
    if (x->cap < plen + 1) {
      char *nb = realloc(x->buf, plen + 1);
      if (!nb) {
        rc = exhi_err(err, EXH_ERR_NOMEM, name, 0, -1, "out of memory");
        goto out;
      }
      x->buf = nb;
      x->cap = plen + 1;
    }
    x->p = pattern;
    x->end = pattern + plen;
    x->used = 0;
    x->n = 0;
    x->fail[0] = '\0';
    parse_pattern(x);
    if (x->fail[0]) {
      sink->skip(sink->ctx, where, x->fail);
      continue;
    }
    const char *id = str(o, "id");
    const char *source = json_string_value(json_object_get(names, str(o, "created_by_ref")));
    const char *actor = json_string_value(json_object_get(actor_of, id));
    const char *report = json_string_value(json_object_get(report_of, id));
    char tags[512];
    join(json_object_get(o, "indicator_types"), tags, sizeof tags);
    if (!tags[0]) join(json_object_get(o, "labels"), tags, sizeof tags);
    json_t *conf = json_object_get(o, "confidence");
    int confidence = json_is_integer(conf) && json_integer_value(conf) >= 0 &&
                             json_integer_value(conf) <= 100
                         ? (int)json_integer_value(conf) : -1;
    const char *desc = *str(o, "description") ? str(o, "description") : str(o, "name");
    for (size_t k = 0; k < x->n; k++) {
      char w2[96];
      snprintf(w2, sizeof w2, "%s.pattern", where);
      if (!x->terms[k].type) {
        sink->skip(sink->ctx, w2, x->terms[k].reason);
        continue;
      }
      exhi_ioc_entry e = {
          .type = x->terms[k].type,
          .value = x->terms[k].value,
          .value_len = x->terms[k].len,
          .source = source,
          .actor = actor,
          .report = report,
          .description = desc,
          .tags = tags,
          .first_seen = str(o, "valid_from"),
          .last_seen = str(o, "valid_until"),
          .confidence = confidence,
          .where = w2,
      };
      rc = sink->entry(sink->ctx, &e, err);
      if (rc != EXH_OK) goto out;
    }
  }
out:
  if (x) free(x->buf);
  free(x);
  json_decref(names);
  json_decref(actor_of);
  json_decref(report_of);
  json_decref(objects);
  return rc;
}
