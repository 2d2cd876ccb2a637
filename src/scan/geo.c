/*
 * --geoip: the country and autonomous system of each host, from MaxMind
 * databases (GeoLite2/GeoIP2 Country, City or ASN, or any MMDB file with
 * the same keys), read with libmaxminddb. Lookups are local: no traffic.
 */
#include "scan/scan.h"
#include "core/dl_maxminddb.h" /* libmaxminddb, loaded on first use */

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

struct exhi_geo {
  MMDB_s db[EXHI_GEO_MAX_DBS];
  size_t n;
};

int exhi_geo_open(exhi_geo **out, const char *const *paths, size_t n, exh_error *err) {
  *out = NULL;
  if (n > EXHI_GEO_MAX_DBS)
    return exhi_err(err, EXH_ERR_LIMIT, "--geoip", 0, -1, "at most %d databases", EXHI_GEO_MAX_DBS);
  int loaded = exhi_dl_maxminddb(err);
  if (loaded) return loaded;
  exhi_geo *g = calloc(1, sizeof *g);
  if (!g) return exhi_err(err, EXH_ERR_NOMEM, "--geoip", 0, -1, "out of memory");
  for (size_t i = 0; i < n; i++) {
    int rc = MMDB_open(paths[i], MMDB_MODE_MMAP, &g->db[i]);
    if (rc != MMDB_SUCCESS) {
      exhi_geo_free(g);
      return exhi_err(err, EXH_ERR_IO, paths[i], 0, -1, "not a readable MaxMind database: %s",
                      MMDB_strerror(rc));
    }
    g->n++;
  }
  *out = g;
  return EXH_OK;
}

void exhi_geo_free(exhi_geo *g) {
  if (!g) return;
  for (size_t i = 0; i < g->n; i++) MMDB_close(&g->db[i]);
  free(g);
}

/* A string value, printable ASCII only (the database is input too). */
static void copy_str(const MMDB_entry_data_s *d, char *out, size_t size) {
  size_t n = d->data_size < size - 1 ? d->data_size : size - 1;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)d->utf8_string[i];
    out[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
  }
  out[n] = '\0';
}

void exhi_geo_lookup(const exhi_geo *g, const char *ip, exhi_geo_info *out) {
  memset(out, 0, sizeof *out);
  if (!g || !ip[0]) return;
  for (size_t i = 0; i < g->n; i++) {
    int gai = 0, mm = 0;
    MMDB_lookup_result_s res = MMDB_lookup_string((MMDB_s *)(uintptr_t)&g->db[i], ip, &gai, &mm);
    if (gai || mm != MMDB_SUCCESS || !res.found_entry) continue;
    MMDB_entry_data_s d;
    if (!out->country[0] && MMDB_get_value(&res.entry, &d, "country", "iso_code", NULL) == MMDB_SUCCESS &&
        d.has_data && d.type == MMDB_DATA_TYPE_UTF8_STRING) {
      copy_str(&d, out->country, sizeof out->country);
      out->found = true;
    }
    if (!out->asn && MMDB_get_value(&res.entry, &d, "autonomous_system_number", NULL) == MMDB_SUCCESS &&
        d.has_data && d.type == MMDB_DATA_TYPE_UINT32) {
      out->asn = d.uint32;
      out->found = true;
      if (MMDB_get_value(&res.entry, &d, "autonomous_system_organization", NULL) == MMDB_SUCCESS &&
          d.has_data && d.type == MMDB_DATA_TYPE_UTF8_STRING)
        copy_str(&d, out->as_org, sizeof out->as_org);
    }
  }
}
