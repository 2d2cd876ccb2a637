/* Windows event logs (.evtx) through libevtx: each record becomes a log
 * record with named fields (EventID, Provider_Name, Channel, Computer,
 * Level and every <Data Name="..."> of EventData), its XML as the line. */
#include "evtx.h"

#include "../core/dl_evtx.h" /* libevtx, loaded on first use */
#include <stdlib.h>
#include <string.h>

/* FILETIME (100 ns since 1601) to ms since 1970. */
#define FILETIME_UNIX_MS 11644473600000LL

static int lib_err(const char *path, libevtx_error_t *e, const char *what, exh_error *err) {
  char msg[256] = "";
  if (e) {
    libevtx_error_sprint(e, msg, sizeof msg);
    libevtx_error_free(&e);
  }
  /* libevtx's message may span lines: keep the first. */
  char *nl = strchr(msg, '\n');
  if (nl) *nl = '\0';
  return exhi_err(err, EXH_ERR_PARSE, path, 0, -1, "%s%s%s", what, msg[0] ? ": " : "", msg);
}

/* Decodes the five XML entities and numeric references in place, ASCII
 * only (others are kept as written). */
static size_t xml_unescape(char *s, size_t n) {
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '&') {
      static const struct { const char *e; char c; } ents[] = {
          {"&lt;", '<'}, {"&gt;", '>'}, {"&amp;", '&'}, {"&quot;", '"'}, {"&apos;", '\''}};
      size_t k;
      for (k = 0; k < 5; k++) {
        size_t l = strlen(ents[k].e);
        if (i + l <= n && !memcmp(s + i, ents[k].e, l)) {
          s[o++] = ents[k].c;
          i += l - 1;
          break;
        }
      }
      if (k < 5) continue;
    }
    s[o++] = s[i];
  }
  return o;
}

typedef struct builder {
  exhi_logschema *schema;
  exhi_logrec *rec;
  char *vals;
  size_t vcap, vlen, nlen;
} builder;

static void add(builder *b, const char *name, size_t nlen, const char *v, size_t vlen) {
  exhi_logschema *s = b->schema;
  if (s->nfields >= EXHI_LOG_MAX_FIELDS || b->nlen + nlen + 1 > sizeof s->names_buf) return;
  if (b->vlen + 1 > b->vcap) return;
  if (b->vlen + vlen + 1 > b->vcap) vlen = b->vcap > b->vlen + 1 ? b->vcap - b->vlen - 1 : 0;
  memcpy(s->names_buf + b->nlen, name, nlen);
  s->names_buf[b->nlen + nlen] = '\0';
  s->names[s->nfields] = s->names_buf + b->nlen;
  b->nlen += nlen + 1;
  memcpy(b->vals + b->vlen, v, vlen);
  vlen = xml_unescape(b->vals + b->vlen, vlen);
  b->rec->v[s->nfields].p = b->vals + b->vlen;
  b->rec->v[s->nfields].len = (uint32_t)vlen;
  b->rec->v[s->nfields].escaped = 0;
  b->vlen += vlen + 1;
  s->nfields++;
}

/* The text of the first <tag ...>text</tag> in xml, or NULL. */
static const char *tag_text(const char *xml, const char *tag, size_t *len) {
  char open[48], close[48];
  snprintf(open, sizeof open, "<%s", tag);
  snprintf(close, sizeof close, "</%s>", tag);
  const char *p = strstr(xml, open);
  while (p && p[strlen(open)] != '>' && p[strlen(open)] != ' ') p = strstr(p + 1, open);
  if (!p) return NULL;
  const char *gt = strchr(p, '>');
  if (!gt || gt[-1] == '/') return NULL;
  const char *end = strstr(gt + 1, close);
  if (!end) return NULL;
  *len = (size_t)(end - (gt + 1));
  return gt + 1;
}

/* Every <Data Name="N">V</Data> (EventData) and, for classic events,
 * unnamed <Data>V</Data> as Data, Data2, ... */
static void data_fields(builder *b, const char *xml) {
  const char *p = xml;
  int unnamed = 0;
  while ((p = strstr(p, "<Data")) && b->schema->nfields < EXHI_LOG_MAX_FIELDS) {
    p += 5;
    if (*p != ' ' && *p != '>') continue;
    const char *gt = strchr(p, '>');
    if (!gt) break;
    if (gt[-1] == '/') {
      p = gt;
      continue;
    }
    const char *end = strstr(gt + 1, "</Data>");
    if (!end) break;
    const char *nm = strstr(p, "Name=\"");
    char name[64];
    size_t nl;
    if (nm && nm < gt) {
      nm += 6;
      const char *q = memchr(nm, '"', (size_t)(gt - nm));
      nl = q ? (size_t)(q - nm) : 0;
      if (nl >= sizeof name) nl = sizeof name - 1;
      memcpy(name, nm, nl);
      name[nl] = '\0';
    } else {
      nl = (size_t)snprintf(name, sizeof name, unnamed ? "Data%d" : "Data", unnamed + 1);
      unnamed++;
    }
    if (nl) add(b, name, strlen(name), gt + 1, (size_t)(end - (gt + 1)));
    p = end + 7;
  }
}

void exhi_evtx_record_from_xml(const char *xml, long event_id, int level, exhi_logschema *schema,
                               exhi_logrec *rec, char *vals, size_t vcap) {
  exhi_logschema_init(schema);
  schema->kind = EXHI_LOG_EVTX;
  schema->syntax = EXHI_SYN_TEXT;
  memset(rec, 0, offsetof(exhi_logrec, v));
  rec->schema = schema;
  rec->line = xml;
  rec->len = strlen(xml);
  builder b = {.schema = schema, .rec = rec, .vals = vals, .vcap = vcap};
  char num[32];
  if (event_id >= 0) {
    snprintf(num, sizeof num, "%ld", event_id);
    add(&b, "EventID", 7, num, strlen(num));
  }
  if (level >= 0) {
    snprintf(num, sizeof num, "%d", level);
    add(&b, "Level", 5, num, strlen(num));
  }
  size_t tl;
  const char *t;
  if ((t = tag_text(xml, "Channel", &tl))) add(&b, "Channel", 7, t, tl);
  if ((t = tag_text(xml, "Computer", &tl))) add(&b, "Computer", 8, t, tl);
  const char *pn = strstr(xml, "<Provider Name=\"");
  if (pn) {
    pn += 16;
    const char *q = strchr(pn, '"');
    if (q) add(&b, "Provider_Name", 13, pn, (size_t)(q - pn));
  }
  data_fields(&b, xml);
  rec->nvals = schema->nfields;
  rec->partial = 0;
  exhi_logschema_touch(schema);
}

int exhi_evtx_is(const unsigned char *head, size_t n) {
  return n >= 8 && memcmp(head, "ElfFile\0", 8) == 0;
}

int exhi_evtx_read(const char *path, exhi_logschema *schema, exhi_logrec *rec, exhi_evtx_cb cb,
                   void *ctx, uint64_t *records, exh_error *err) {
  *records = 0;
  int loaded = exhi_dl_evtx(err);
  if (loaded) return loaded;
  libevtx_file_t *file = NULL;
  libevtx_error_t *e = NULL;
  if (libevtx_file_initialize(&file, &e) != 1) return lib_err(path, e, "cannot read event log", err);
  if (libevtx_file_open(file, path, LIBEVTX_OPEN_READ, &e) != 1) {
    libevtx_file_free(&file, NULL);
    return lib_err(path, e, "not a readable event log", err);
  }
  int n = 0, rc = EXH_OK;
  if (libevtx_file_get_number_of_records(file, &n, &e) != 1) {
    rc = lib_err(path, e, "cannot count records", err);
    n = 0;
  }
  if (n > EXHI_EVTX_MAX_RECORDS) n = EXHI_EVTX_MAX_RECORDS;
  char *xml = malloc(EXHI_EVTX_XML_MAX);
  char *vals = malloc(EXHI_EVTX_XML_MAX);
  if (!xml || !vals) rc = exhi_err(err, EXH_ERR_NOMEM, path, 0, -1, "out of memory");
  for (int i = 0; i < n && rc == EXH_OK; i++) {
    libevtx_record_t *r = NULL;
    if (libevtx_file_get_record_by_index(file, i, &r, &e) != 1) {
      /* A damaged record: skip it, as forensic readers do. */
      libevtx_error_free(&e);
      continue;
    }
    size_t xsize = 0;
    if (libevtx_record_get_utf8_xml_string_size(r, &xsize, NULL) != 1 || xsize == 0 ||
        xsize > EXHI_EVTX_XML_MAX ||
        libevtx_record_get_utf8_xml_string(r, (uint8_t *)xml, xsize, NULL) != 1) {
      libevtx_record_free(&r, NULL);
      continue;
    }
    xml[xsize - 1] = '\0';
    uint32_t id = 0;
    uint8_t level = 0;
    int have_id = libevtx_record_get_event_identifier(r, &id, NULL) == 1;
    int have_level = libevtx_record_get_event_level(r, &level, NULL) == 1;
    exhi_evtx_record_from_xml(xml, have_id ? (long)(id & 0xffff) : -1, have_level ? level : -1,
                              schema, rec, vals, EXHI_EVTX_XML_MAX);
    uint64_t ft = 0;
    int64_t ms = -1;
    if (libevtx_record_get_written_time(r, &ft, NULL) == 1 && ft)
      ms = (int64_t)(ft / 10000) - FILETIME_UNIX_MS;
    libevtx_record_free(&r, NULL);
    (*records)++;
    rc = cb(ctx, rec, ms, i + 1);
  }
  free(xml);
  free(vals);
  libevtx_file_close(file, NULL);
  libevtx_file_free(&file, NULL);
  return rc;
}
