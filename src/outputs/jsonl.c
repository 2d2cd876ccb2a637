/*
 * JSON lines with Elastic Common Schema names, so Filebeat's ndjson input or
 * an Elasticsearch ingest takes them unchanged: nested objects ("event":
 * {"kind": ...}), ECS fields where ECS has one, exhunt's own under "exhunt".
 */
#include "../findings/findings.h"
#include "output.h"

#include <inttypes.h>
#include <jansson.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* Longest string value written; evidence beyond it is cut. */
#define MAX_VALUE 8192

static json_t *str(const char *s) {
  static _Thread_local char buf[MAX_VALUE];
  return json_string(exhi_utf8_sanitize(s ? s : "", buf, sizeof buf));
}

/* Sets a dotted ECS path ("file.hash.sha256") in obj, creating the objects
 * on the way. Takes the reference to v. */
static int set_path(json_t *obj, const char *path, json_t *v) {
  if (!v) return -1;
  char key[256];
  const char *p = path;
  for (;;) {
    const char *dot = strchr(p, '.');
    if (!dot) return json_object_set_new(obj, p, v);
    size_t n = (size_t)(dot - p);
    if (n >= sizeof key) {
      json_decref(v);
      return -1;
    }
    memcpy(key, p, n);
    key[n] = '\0';
    json_t *child = json_object_get(obj, key);
    if (!child || !json_is_object(child)) {
      child = json_object();
      if (!child || json_object_set_new(obj, key, child)) {
        json_decref(v);
        return -1;
      }
    }
    obj = child;
    p = dot + 1;
  }
}

/* The line under construction, in o->line; oom: it could not grow. */
typedef struct line {
  exh_output *o;
  size_t n;
  int oom;
} line;

static void put(line *l, const char *p, size_t n) {
  exh_output *o = l->o;
  if (l->oom) return;
  if (l->n + n + 2 > o->line_cap) {
    size_t cap = o->line_cap ? o->line_cap : 4096;
    while (cap < l->n + n + 2) cap *= 2;
    char *b = realloc(o->line, cap);
    if (!b) {
      l->oom = 1;
      return;
    }
    o->line = b;
    o->line_cap = cap;
  }
  memcpy(o->line + l->n, p, n);
  l->n += n;
}

/* One byte: the punctuation between a finding's tokens, a call each. */
static inline void put1(line *l, char c) {
  if (l->n + 3 > l->o->line_cap) {
    put(l, &c, 1);
    return;
  }
  l->o->line[l->n++] = c;
}

/* A JSON string as jansson writes it without flags: '"', '\\' and control
 * characters escaped, everything else (UTF-8 included) as it is. */
static void put_string(line *l, const char *s, size_t n) {
  static const char hex[] = "0123456789ABCDEF";
  put1(l, '"');
  size_t run = 0;
  for (size_t i = 0; i < n; i++) {
#if defined(__SSE2__)
    /* Sixteen bytes at a time past those that need no escape (most). */
    while (i + 16 <= n) {
      __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
      __m128i ctl = _mm_cmpeq_epi8(_mm_max_epu8(v, _mm_set1_epi8(0x1f)), _mm_set1_epi8(0x1f));
      __m128i q = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
                               _mm_cmpeq_epi8(v, _mm_set1_epi8('\\')));
      unsigned m = (unsigned)_mm_movemask_epi8(_mm_or_si128(ctl, q));
      if (m) {
        i += (size_t)__builtin_ctz(m);
        break;
      }
      i += 16;
    }
    if (i >= n) break;
#endif
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    put(l, s + run, i - run);
    run = i + 1;
    char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
    switch (c) {
    case '"': put(l, "\\\"", 2); break;
    case '\\': put(l, "\\\\", 2); break;
    case '\b': put(l, "\\b", 2); break;
    case '\f': put(l, "\\f", 2); break;
    case '\n': put(l, "\\n", 2); break;
    case '\r': put(l, "\\r", 2); break;
    case '\t': put(l, "\\t", 2); break;
    default: put(l, e, 6); break;
    }
  }
  put(l, s + run, n - run);
  put1(l, '"');
}

/* v as json_dumpb(JSON_COMPACT | JSON_PRESERVE_ORDER) writes it, without its
 * per-character callbacks (they were most of the time a finding took to
 * write; test_output compares the two). */
static void put_json(line *l, json_t *v, int depth) {
  char num[32];
  if (depth > 32) { /* the writers nest three deep: never reached */
    put(l, "null", 4);
    return;
  }
  switch (json_typeof(v)) {
  case JSON_OBJECT: {
    put(l, "{", 1);
    int first = 1;
    const char *k;
    json_t *x;
    json_object_foreach(v, k, x) {
      if (!first) put(l, ",", 1);
      first = 0;
      put_string(l, k, strlen(k));
      put(l, ":", 1);
      put_json(l, x, depth + 1);
    }
    put(l, "}", 1);
    break;
  }
  case JSON_ARRAY: {
    put(l, "[", 1);
    for (size_t i = 0; i < json_array_size(v); i++) {
      if (i) put(l, ",", 1);
      put_json(l, json_array_get(v, i), depth + 1);
    }
    put(l, "]", 1);
    break;
  }
  case JSON_STRING: put_string(l, json_string_value(v), json_string_length(v)); break;
  case JSON_INTEGER:
    put(l, num, (size_t)snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v)));
    break;
  case JSON_REAL: {
    /* Not written by exhunt; jansson's own form if it ever is. */
    char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (t) put(l, t, strlen(t));
    else l->oom = 1;
    free(t);
    break;
  }
  case JSON_TRUE: put(l, "true", 4); break;
  case JSON_FALSE: put(l, "false", 5); break;
  default: put(l, "null", 4); break;
  }
}

/* The line is laid out in memory and written at once. */
static int write_line(exh_output *o, json_t *root) {
  line l = {o, 0, 0};
  put_json(&l, root, 0);
  put(&l, "\n", 1);
  int rc = EXH_OK;
  if (l.oom) rc = EXH_ERR_NOMEM;
  else if (fwrite(o->line, 1, l.n, o->fp) != l.n) rc = EXH_ERR_IO;
  json_decref(root);
  return rc;
}

static json_t *base(exh_output *o, const char *kind, const char *dataset) {
  json_t *root = json_object();
  if (!root) return NULL;
  set_path(root, "@timestamp", str(o->now));
  set_path(root, "event.kind", str(kind));
  set_path(root, "event.module", str("exhunt"));
  set_path(root, "event.dataset", str(dataset));
  set_path(root, "event.created", str(o->now));
  return root;
}

static json_t *strings(const char *const *v, size_t n) {
  json_t *a = json_array();
  for (size_t i = 0; a && i < n; i++) json_array_append_new(a, str(v[i]));
  return a;
}

static const char *ecs_severity(int s) {
  static const char *const names[] = {"Info", "Low", "Medium", "High", "Critical"};
  return s >= 0 && s <= 4 ? names[s] : "Unknown";
}

/* The dataset a finding's rule id names: exh.<part>.<rule> -> exhunt.<part>. */
static const char *dataset_of(const char *rule_id, char *ds, size_t size) {
  const char *dataset = "exhunt.assess";
  if (strncmp(rule_id, "exh.", 4) == 0) {
    const char *dot = strchr(rule_id + 4, '.');
    size_t n = dot ? (size_t)(dot - (rule_id + 4)) : 0;
    if (n && n < 32) {
      snprintf(ds, size, "exhunt.%.*s", (int)n, rule_id + 4);
      dataset = ds;
    }
  }
  return dataset;
}

/* ---- findings, written without a jansson tree ------------------------------
 * A finding's dotted paths become nested objects, each key where it was
 * first set and a value set again replacing it in place, as set_path does
 * on a jansson object; jsonl_finding_tree below builds the same line that
 * way (the tests compare the two). Building and freeing the tree was most
 * of what writing a finding cost, and the log hunt writes its findings
 * after the hunt, alone. */
enum { PT_OBJ, PT_STR, PT_INT, PT_STRS };
typedef struct pnode {
  const char *key;
  size_t klen;
  int kind, first, last, next; /* children and the next sibling: -1 none */
  const char *s;               /* PT_STR */
  int64_t i;                   /* PT_INT */
  const char *const *strs;     /* PT_STRS */
  size_t n_strs;
} pnode;

#define PT_MAX 256
typedef struct ptree {
  pnode v[PT_MAX];
  int n;
} ptree;

static int pt_child(ptree *t, int parent, const char *key, size_t klen) {
  for (int c = t->v[parent].first; c >= 0; c = t->v[c].next)
    if (t->v[c].klen == klen && !memcmp(t->v[c].key, key, klen)) return c;
  if (t->n == PT_MAX) return -1;
  int c = t->n++;
  t->v[c] = (pnode){.key = key, .klen = klen, .kind = PT_OBJ, .first = -1, .last = -1, .next = -1};
  if (t->v[parent].last >= 0) t->v[t->v[parent].last].next = c;
  else t->v[parent].first = c;
  t->v[parent].last = c;
  return c;
}

/* The node for dotted path (made, or emptied to take a new value), or -1. */
static int pt_at(ptree *t, const char *path) {
  int node = 0;
  for (const char *p = path;;) {
    const char *dot = strchr(p, '.');
    size_t n = dot ? (size_t)(dot - p) : strlen(p);
    if (dot && n >= 256) return -1; /* set_path's bound on an object's key */
    int c = pt_child(t, node, p, n);
    if (c < 0) return -1;
    if (!dot || t->v[c].kind != PT_OBJ) {
      t->v[c].kind = PT_OBJ; /* a value becomes an object, an object a value */
      t->v[c].first = t->v[c].last = -1;
    }
    if (!dot) return c;
    node = c;
    p = dot + 1;
  }
}

static void pt_str(ptree *t, const char *path, const char *v) {
  int c = pt_at(t, path);
  if (c < 0) return;
  t->v[c].kind = PT_STR;
  t->v[c].s = v ? v : "";
}

static void pt_int(ptree *t, const char *path, int64_t v) {
  int c = pt_at(t, path);
  if (c < 0) return;
  t->v[c].kind = PT_INT;
  t->v[c].i = v;
}

static void pt_strs(ptree *t, const char *path, const char *const *v, size_t n) {
  int c = pt_at(t, path);
  if (c < 0) return;
  t->v[c].kind = PT_STRS;
  t->v[c].strs = v;
  t->v[c].n_strs = n;
}

/* Whether s[0..n) is all ASCII, sixteen bytes at a time. */
static int all_ascii(const char *s, size_t n) {
  size_t i = 0;
#if defined(__SSE2__)
  for (; i + 16 <= n; i += 16)
    if (_mm_movemask_epi8(_mm_loadu_si128((const __m128i *)(const void *)(s + i)))) return 0;
#endif
  for (; i < n; i++)
    if ((unsigned char)s[i] >= 0x80) return 0;
  return 1;
}

static void put_value_str(line *l, const char *s) {
  static _Thread_local char buf[MAX_VALUE];
  if (!s) s = "";
  /* Most values are ASCII and short: sanitizing would copy them unchanged. */
  size_t n = strlen(s);
  if (n < MAX_VALUE && all_ascii(s, n)) {
    put_string(l, s, n);
    return;
  }
  const char *v = exhi_utf8_sanitize(s, buf, sizeof buf);
  put_string(l, v, strlen(v));
}

static void pt_put(line *l, const ptree *t, int node) {
  const pnode *x = &t->v[node];
  char num[32];
  switch (x->kind) {
  case PT_OBJ:
    put1(l, '{');
    for (int c = x->first; c >= 0; c = t->v[c].next) {
      if (c != x->first) put1(l, ',');
      put_string(l, t->v[c].key, t->v[c].klen);
      put1(l, ':');
      pt_put(l, t, c);
    }
    put1(l, '}');
    break;
  case PT_STR: put_value_str(l, x->s); break;
  case PT_INT: put(l, num, (size_t)snprintf(num, sizeof num, "%" PRId64, x->i)); break;
  default:
    put1(l, '[');
    for (size_t i = 0; i < x->n_strs; i++) {
      if (i) put1(l, ',');
      put_value_str(l, x->strs[i]);
    }
    put1(l, ']');
    break;
  }
}

static int jsonl_finding_tree(exh_output *o, const exh_finding *f);

/* Tests: off writes findings through the jansson tree (the reference). */
static int jsonl_direct = 1;
void exhi_jsonl_direct(int on) { jsonl_direct = on; }

static int jsonl_finding(exh_output *o, const exh_finding *f) {
  if (!jsonl_direct) return jsonl_finding_tree(o, f);
  static _Thread_local ptree t;
  static _Thread_local char ds[64], when[40];
  static const char *const vuln[] = {"vulnerability"};
  t.n = 1;
  t.v[0] = (pnode){.kind = PT_OBJ, .first = -1, .last = -1, .next = -1};
  pt_str(&t, "@timestamp", o->now);
  pt_str(&t, "event.kind", "alert");
  pt_str(&t, "event.module", "exhunt");
  pt_str(&t, "event.dataset", dataset_of(f->rule_id, ds, sizeof ds));
  pt_str(&t, "event.created", o->now);
  if (f->event_time_ms >= 0) {
    exhi_format_time_ms(f->event_time_ms, when, sizeof when);
    pt_str(&t, "@timestamp", when);
  }
  pt_int(&t, "event.severity", f->severity);
  pt_str(&t, "message", f->message);
  pt_str(&t, "rule.id", f->rule_id);
  pt_str(&t, "rule.name", f->rule_name);
  pt_str(&t, "rule.ruleset", "exhunt");
  if (f->n_cves) {
    pt_strs(&t, "event.category", vuln, 1);
    pt_strs(&t, "vulnerability.id", f->cves, f->n_cves);
    pt_str(&t, "vulnerability.enumeration", "CVE");
    pt_str(&t, "vulnerability.severity", ecs_severity(f->severity));
    pt_str(&t, "vulnerability.scanner.vendor", "exhunt");
  }
  if (f->n_attack) pt_strs(&t, "threat.technique.id", f->attack, f->n_attack);
  if (f->actor) pt_str(&t, "threat.group.name", f->actor);
  if (f->host) pt_str(&t, "host.name", f->host);
  if (f->path) pt_str(&t, "file.path", f->path);
  if (f->sha256) pt_str(&t, "file.hash.sha256", f->sha256);
  for (size_t i = 0; i < f->n_fields; i++) pt_str(&t, f->fields[i].name, f->fields[i].value);
  if (o->cur_input) pt_str(&t, "exhunt.input", o->cur_input);
  pt_str(&t, "exhunt.severity", exh_severity_name(f->severity));
  pt_int(&t, "exhunt.confidence", f->confidence);
  if (f->line > 0) pt_int(&t, "exhunt.line", f->line);
  if (f->offset >= 0) pt_int(&t, "exhunt.offset", f->offset);
  if (f->action) pt_str(&t, "exhunt.action", f->action);
  line l = {o, 0, 0};
  pt_put(&l, &t, 0);
  put(&l, "\n", 1);
  if (l.oom) return EXH_ERR_NOMEM;
  return fwrite(o->line, 1, l.n, o->fp) == l.n ? EXH_OK : EXH_ERR_IO;
}

static int jsonl_finding_tree(exh_output *o, const exh_finding *f) {
  static _Thread_local char ds[64];
  const char *dataset = dataset_of(f->rule_id, ds, sizeof ds);
  json_t *root = base(o, "alert", dataset);
  if (!root) return EXH_ERR_NOMEM;
  if (f->event_time_ms >= 0) {
    char t[40];
    exhi_format_time_ms(f->event_time_ms, t, sizeof t);
    set_path(root, "@timestamp", str(t));
  }
  set_path(root, "event.severity", json_integer(f->severity));
  set_path(root, "message", str(f->message));
  set_path(root, "rule.id", str(f->rule_id));
  set_path(root, "rule.name", str(f->rule_name));
  set_path(root, "rule.ruleset", str("exhunt"));
  if (f->n_cves) {
    set_path(root, "event.category", strings((const char *const[]){"vulnerability"}, 1));
    set_path(root, "vulnerability.id", strings(f->cves, f->n_cves));
    set_path(root, "vulnerability.enumeration", str("CVE"));
    set_path(root, "vulnerability.severity", str(ecs_severity(f->severity)));
    set_path(root, "vulnerability.scanner.vendor", str("exhunt"));
  }
  if (f->n_attack) set_path(root, "threat.technique.id", strings(f->attack, f->n_attack));
  if (f->actor) set_path(root, "threat.group.name", str(f->actor));
  if (f->host) set_path(root, "host.name", str(f->host));
  if (f->path) set_path(root, "file.path", str(f->path));
  if (f->sha256) set_path(root, "file.hash.sha256", str(f->sha256));
  for (size_t i = 0; i < f->n_fields; i++) set_path(root, f->fields[i].name, str(f->fields[i].value));
  if (o->cur_input) set_path(root, "exhunt.input", str(o->cur_input));
  set_path(root, "exhunt.severity", str(exh_severity_name(f->severity)));
  set_path(root, "exhunt.confidence", json_integer(f->confidence));
  if (f->line > 0) set_path(root, "exhunt.line", json_integer(f->line));
  if (f->offset >= 0) set_path(root, "exhunt.offset", json_integer(f->offset));
  if (f->action) set_path(root, "exhunt.action", str(f->action));
  return write_line(o, root);
}

static int finding_cb(void *ctx, const exh_finding *f) { return jsonl_finding(ctx, f); }

static json_t *release_obj(const exh_release *r) {
  json_t *o = json_object();
  char b[64];
  exh_build_format(&r->build, b, sizeof b);
  set_path(o, "name", str(r->name));
  set_path(o, "build", str(b));
  if (r->kb[0]) set_path(o, "kb", str(r->kb));
  if (r->released[0]) set_path(o, "date", str(r->released));
  return o;
}

static const char *kind_name(int k) {
  static const char *const n[] = {"string", "exsetup", "folder", "owa_page"};
  return k >= 0 && k <= 3 ? n[k] : "unknown";
}

static int jsonl_assessment(exh_output *o, const char *input, const exh_input_build *in,
                            const exh_assessment *a) {
  o->cur_input = input;
  int rc = exhi_assessment_findings(a, in, finding_cb, o);
  o->cur_input = NULL;
  if (rc) return rc;

  static const char *const levels[] = {"none_open", "unpatched", "unknown", "not_assessed"};
  static const char *const support[] = {"unknown", "supported", "ended"};
  char b[64], msg[512], camp[256];
  exh_build_format(&a->build, b, sizeof b);
  exhi_campaigns(a->open, a->n_open, camp, sizeof camp);
  snprintf(msg, sizeof msg, "%s: %s%s%s: update level %s, %zu open CVE%s%s%s", b,
           a->product ? a->product : "unknown product", a->cu ? " " : "", a->cu ? a->cu->cu : "",
           levels[a->level], a->n_open, a->n_open == 1 ? "" : "s", camp[0] ? ", " : "", camp);
  json_t *root = base(o, "state", "exhunt.assess");
  if (!root) return EXH_ERR_NOMEM;
  set_path(root, "event.category", strings((const char *const[]){"vulnerability"}, 1));
  set_path(root, "event.type", strings((const char *const[]){"info"}, 1));
  set_path(root, "message", str(msg));
  if (in && in->path[0]) set_path(root, "file.path", str(in->path));
  json_t *ids = json_array();
  for (size_t i = 0; i < a->n_open; i++) json_array_append_new(ids, str(a->open[i].id));
  set_path(root, "vulnerability.id", ids);
  set_path(root, "exhunt.input", str(input));
  if (in) {
    set_path(root, "exhunt.source.kind", str(kind_name(in->kind)));
    if (in->detail[0]) set_path(root, "exhunt.source.detail", str(in->detail));
  }
  set_path(root, "exhunt.build", str(b));
  set_path(root, "exhunt.build_precision", str(a->precision == EXH_PRECISION_EXACT ? "exact" : "cu"));
  set_path(root, "exhunt.product", a->product ? str(a->product) : json_null());
  set_path(root, "exhunt.cu", a->cu ? str(a->cu->cu) : json_null());
  set_path(root, "exhunt.update", a->release ? str(a->release->update) : json_null());
  set_path(root, "exhunt.release", a->release ? release_obj(a->release) : json_null());
  set_path(root, "exhunt.known_build", json_boolean(a->release != NULL));
  if (a->newer_than_table) set_path(root, "exhunt.newer_than_table", json_true());
  if (a->nearest_below) set_path(root, "exhunt.nearest_below", release_obj(a->nearest_below));
  if (a->nearest_above) set_path(root, "exhunt.nearest_above", release_obj(a->nearest_above));
  set_path(root, "exhunt.update_level", str(levels[a->level]));
  set_path(root, "exhunt.support.status", str(support[a->support]));
  if (a->support_end[0]) set_path(root, "exhunt.support.end", str(a->support_end));
  if (a->latest_in_cu) {
    set_path(root, "exhunt.latest_in_cu", release_obj(a->latest_in_cu));
    if (a->release) set_path(root, "exhunt.is_latest_in_cu", json_boolean(a->release == a->latest_in_cu));
  }
  if (a->latest_in_product) set_path(root, "exhunt.latest_in_product", release_obj(a->latest_in_product));
  set_path(root, "exhunt.open_cves", json_integer((json_int_t)a->n_open));
  set_path(root, "exhunt.unfixable_cves", json_integer((json_int_t)a->n_unfixable));
  json_t *camps = json_array();
  for (char *p = camp; *p;) {
    char *comma = strstr(p, ", ");
    if (comma) *comma = '\0';
    json_array_append_new(camps, str(p));
    if (!comma) break;
    p = comma + 2;
  }
  set_path(root, "exhunt.campaigns", camps);
  if (a->min_update) set_path(root, "exhunt.min_update", release_obj(a->min_update));
  if (a->target) {
    json_t *t = release_obj(a->target);
    set_path(t, "product", str(a->target_product));
    set_path(root, "exhunt.target", t);
  }
  if (a->note[0]) set_path(root, "exhunt.note", str(a->note));
  set_path(root, "exhunt.tables_date", str(a->tables_date));
  int ms = exhi_assessment_max_severity(a);
  set_path(root, "exhunt.severity", str(ms < 0 ? "none" : exh_severity_name(ms)));
  return write_line(o, root);
}

static int jsonl_input_error(exh_output *o, const char *input, const exh_error *e) {
  json_t *root = base(o, "event", "exhunt.assess");
  if (!root) return EXH_ERR_NOMEM;
  set_path(root, "event.outcome", str("failure"));
  set_path(root, "message", str(e->text));
  set_path(root, "error.message", str(e->text));
  set_path(root, "error.code", str(exh_strerror(e->code)));
  set_path(root, "exhunt.input", str(input));
  return write_line(o, root);
}

const exhi_writer exhi_writer_jsonl = {
    .name = "jsonl",
    .help = "one JSON object per line, Elastic Common Schema names",
    .finding = jsonl_finding,
    .assessment = jsonl_assessment,
    .input_error = jsonl_input_error,
};
