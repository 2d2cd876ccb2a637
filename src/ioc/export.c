/* `exhunt ioc export`: the sightings, as CSV or as a STIX 2.1 bundle of the
 * sighted indicators and Sighting objects (STIX 2.1 section 5.2). STIX ids
 * are UUIDv5 of what they name, so exporting twice gives the same ids and a
 * receiving platform deduplicates. */
#include "ioc.h"
#include "core/dl_crypto.h" /* libcrypto, loaded below for STIX */
#include "core/dl_sqlite.h" /* libsqlite3, loaded by exh_ioc_store_open */

#include <stdlib.h>
#include <string.h>

void exhi_ioc_from_row(sqlite3_stmt *st, exh_ioc *ioc);

static const char *col(sqlite3_stmt *st, int i) {
  const unsigned char *t = sqlite3_column_text(st, i);
  return t ? (const char *)t : "";
}

/* RFC 4180 quoting; cells starting with = + - @ get a leading apostrophe so
 * a spreadsheet does not run an attacker's log text as a formula. */
static void csv_cell(FILE *fp, const char *s, bool last) {
  bool quote = strpbrk(s, ",\"\r\n") != NULL;
  bool formula = *s == '=' || *s == '+' || *s == '-' || *s == '@';
  if (quote) fputc('"', fp);
  if (formula) fputc('\'', fp);
  for (; *s; s++) {
    if (*s == '"') fputc('"', fp);
    fputc(*s, fp);
  }
  if (quote) fputc('"', fp);
  fputc(last ? '\n' : ',', fp);
}

/* UUIDv5 (RFC 4122 section 4.3) in the STIX namespace
 * 00abedb4-aa42-466c-9c01-fed23315a9b7 (STIX 2.1 section 2.9). */
static int uuid5(const char *name, char out[37]) {
  static const unsigned char ns[16] = {0x00, 0xab, 0xed, 0xb4, 0xaa, 0x42, 0x46, 0x6c,
                                       0x9c, 0x01, 0xfe, 0xd2, 0x33, 0x15, 0xa9, 0xb7};
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;
  EVP_MD_CTX *c = EVP_MD_CTX_new();
  int ok = c && EVP_DigestInit_ex(c, EVP_sha1(), NULL) && EVP_DigestUpdate(c, ns, sizeof ns) &&
           EVP_DigestUpdate(c, name, strlen(name)) && EVP_DigestFinal_ex(c, md, &mdlen);
  EVP_MD_CTX_free(c);
  if (!ok || mdlen < 16) return -1;
  md[6] = (unsigned char)((md[6] & 0x0f) | 0x50);
  md[8] = (unsigned char)((md[8] & 0x3f) | 0x80);
  snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
           md[0], md[1], md[2], md[3], md[4], md[5], md[6], md[7], md[8], md[9], md[10], md[11],
           md[12], md[13], md[14], md[15]);
  return 0;
}

/* A STIX pattern for one indicator; ' and \ escaped as STIX requires. */
static json_t *pattern(const exh_ioc *i) {
  static const char *const paths[EXH_IOC_TYPE_COUNT] = {
      NULL, "file:hashes.'SHA-256'", "file:hashes.'SHA-1'", "file:hashes.MD5", "file:name",
      "file:name", "ipv4-addr:value", "ipv6-addr:value", "domain-name:value", "url:value",
      "network-traffic:extensions.'http-request-ext'.request_header.'User-Agent'"};
  const char *value = i->value;
  /* A path indicator: STIX has no single-property form; its name is the part
   * a receiver can match. */
  if (i->type == EXH_IOC_FILEPATH) {
    const char *slash = strrchr(value, '/');
    if (slash) value = slash + 1;
  }
  size_t n = strlen(value);
  char *esc = malloc(2 * n + 1);
  if (!esc) return NULL;
  size_t o = 0;
  for (size_t k = 0; k < n; k++) {
    if (value[k] == '\'' || value[k] == '\\') esc[o++] = '\\';
    esc[o++] = value[k];
  }
  esc[o] = '\0';
  json_t *p = json_sprintf("[%s = '%s']", paths[i->type], esc);
  free(esc);
  return p;
}

int exh_ioc_store_export(exh_ioc_store *s, const char *format, FILE *fp, size_t *n,
                         exh_error *err) {
  *n = 0;
  bool stix = !strcmp(format, "stix");
  if (!stix && strcmp(format, "csv") != 0)
    return exhi_err(err, EXH_ERR_INVALID, "--format", 0, -1, "\"%.20s\": csv or stix", format);
  /* STIX ids are SHA-1 based (uuid5): libcrypto before the first one. */
  int lrc;
  if (stix && (lrc = exhi_dl_crypto(err)) != EXH_OK) return lrc;
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(
          s->db,
          "SELECT i.id, i.type, i.value, i.source, i.actor, i.report, i.description, i.tags, "
          "i.confidence, i.first_seen, i.last_seen, i.imported_at, "
          "w.host, w.location, w.seen_at, w.detector, w.detail, w.recorded_at "
          "FROM sightings w JOIN indicators i ON i.id = w.indicator_id "
          "ORDER BY w.recorded_at, w.id",
          -1, &st, NULL) != SQLITE_OK)
    return exhi_err(err, EXH_ERR_IO, s->path, 0, -1, "cannot export: %s", sqlite3_errmsg(s->db));
  json_t *objects = stix ? json_array() : NULL, *seen = stix ? json_object() : NULL;
  if (stix && (!objects || !seen)) {
    sqlite3_finalize(st);
    json_decref(objects);
    json_decref(seen);
    return exhi_err(err, EXH_ERR_NOMEM, "export", 0, -1, "out of memory");
  }
  if (!stix)
    fputs("type,value,source,actor,report,confidence,host,location,seen_at,detector,detail,"
          "recorded_at\n",
          fp);
  int r, rc = EXH_OK;
  while ((r = sqlite3_step(st)) == SQLITE_ROW) {
    exh_ioc i;
    exhi_ioc_from_row(st, &i);
    if (!i.type) continue;
    const char *host = col(st, 12), *loc = col(st, 13), *at = col(st, 14), *det = col(st, 15),
               *detail = col(st, 16), *rec = col(st, 17);
    (*n)++;
    if (!stix) {
      char conf[16] = "";
      if (i.confidence >= 0) snprintf(conf, sizeof conf, "%d", i.confidence);
      const char *cells[] = {exh_ioc_type_name(i.type), i.value, i.source, i.actor, i.report,
                             conf, host, loc, at, det, detail, rec};
      for (size_t k = 0; k < EXHI_ARRAY_LEN(cells); k++)
        csv_cell(fp, cells[k], k + 1 == EXHI_ARRAY_LEN(cells));
      continue;
    }
    char key[EXH_IOC_VALUE_MAX + 600], iid[37], sid[37];
    snprintf(key, sizeof key, "exhunt-indicator|%s|%s|%s", i.source, exh_ioc_type_name(i.type),
             i.value);
    if (uuid5(key, iid)) {
      rc = exhi_err(err, EXH_ERR_NOMEM, "export", 0, -1, "SHA-1 unavailable for STIX ids");
      break;
    }
    char ind_id[64], sig_id[64];
    snprintf(ind_id, sizeof ind_id, "indicator--%s", iid);
    if (!json_object_get(seen, ind_id)) {
      json_object_set_new(seen, ind_id, json_true());
      const char *created = col(st, 11);
      json_t *ind = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:s, s:s}", "type", "indicator",
                              "spec_version", "2.1", "id", ind_id, "created", created, "modified",
                              created, "pattern", pattern(&i), "pattern_type", "stix",
                              "valid_from", *i.first_seen ? i.first_seen : created, "name",
                              i.value);
      if (!ind) continue;
      if (*i.description) json_object_set_new(ind, "description", json_string(i.description));
      if (i.confidence >= 0) json_object_set_new(ind, "confidence", json_integer(i.confidence));
      json_object_set_new(ind, "x_exhunt_source", json_string(i.source));
      json_object_set_new(ind, "x_exhunt_type", json_string(exh_ioc_type_name(i.type)));
      if (*i.actor) json_object_set_new(ind, "x_exhunt_actor", json_string(i.actor));
      if (*i.report) json_object_set_new(ind, "x_exhunt_report", json_string(i.report));
      json_array_append_new(objects, ind);
    }
    snprintf(key, sizeof key, "exhunt-sighting|%s|%s|%s|%s", ind_id, host, loc, at);
    if (uuid5(key, sid)) continue;
    snprintf(sig_id, sizeof sig_id, "sighting--%s", sid);
    json_t *sig = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i}", "type", "sighting",
                            "spec_version", "2.1", "id", sig_id, "created", rec, "modified", rec,
                            "sighting_of_ref", ind_id, "count", 1);
    if (!sig) continue;
    if (*at) {
      json_object_set_new(sig, "first_seen", json_string(at));
      json_object_set_new(sig, "last_seen", json_string(at));
    }
    if (*host) json_object_set_new(sig, "x_exhunt_host", json_string(host));
    if (*loc) json_object_set_new(sig, "x_exhunt_location", json_string(loc));
    if (*det) json_object_set_new(sig, "x_exhunt_detector", json_string(det));
    if (*detail) json_object_set_new(sig, "description", json_string(detail));
    json_array_append_new(objects, sig);
  }
  if (rc == EXH_OK && r != SQLITE_DONE && r != SQLITE_ROW)
    rc = exhi_err(err, EXH_ERR_IO, s->path, 0, -1, "export failed: %s", sqlite3_errmsg(s->db));
  sqlite3_finalize(st);
  if (stix && rc == EXH_OK) {
    char bid[37], key[128];
    snprintf(key, sizeof key, "exhunt-bundle|%zu|%lld", *n, (long long)exhi_now_ms());
    uuid5(key, bid);
    char bundle_id[64];
    snprintf(bundle_id, sizeof bundle_id, "bundle--%s", bid);
    json_t *b = json_pack("{s:s, s:s, s:O}", "type", "bundle", "id", bundle_id, "objects", objects);
    if (!b || json_dumpf(b, fp, JSON_INDENT(1) | JSON_ENSURE_ASCII) != 0)
      rc = exhi_err(err, EXH_ERR_IO, "export", 0, -1, "cannot write the bundle");
    else fputc('\n', fp);
    json_decref(b);
  }
  json_decref(objects);
  json_decref(seen);
  if (rc == EXH_OK && ferror(fp))
    rc = exhi_err(err, EXH_ERR_IO, "export", 0, -1, "write failed");
  return rc;
}
