/* libFuzzer target: indicator matching on log records (detectors/logioc.c):
 * the input is read as log lines (preamble lines set the layout) and every
 * record's client address, user agent, host and path is looked up in a set
 * holding indicators of every type. Hits must be indicators of the set, and
 * every line with a hit must be one the indicators' literal prefilter picks
 * (exhi_logioc_pick over the whole input): whatever the lookups normalise
 * (case, '+' for spaces, defanging, IPv6 spellings, separators), the
 * prefilter may not miss it. */
#include "detectors/logioc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static exh_ioc_set *set;
static exhi_logioc iocs;
static exhi_logioc_lines *pick;
static int hit_here; /* the current line had a hit */

/* One of each type the logs look up, in forms the fuzzer can reach. */
static const char feed[] =
    "type,value,source,actor\n"
    "ipv4,203.0.113.20,f,a\n"
    "ipv6,2001:db8::66,f,a\n"
    "user-agent,Mozilla/5.0 (x),f,\n"
    "filepath,C:\\inetpub\\wwwroot\\aspnet_client\\system_web\\a.aspx,f,a\n"
    "filepath,/owa/auth/b.aspx,f,\n"
    "filename,c.aspx,f,\n"
    "domain,evil.example,f,\n"
    "url,https://evil.example/x,f,\n"
    "url,https://mail.example/owa/auth/d.aspx,f,\n"
    "user-agent,\"Agent \"\"q\"\" 1\",f,\n"
    "ipv6,fe80::1:2:3,f,\n";

static int on_hit(void *ctx, int which, size_t s, const exh_ioc *ioc, const char *field) {
  (void)ctx;
  if (which < 0 || which >= EXHI_LOGIOC_RULES || s >= iocs.n_sets || !field) abort();
  if (!ioc || !ioc->value || !ioc->source) abort();
  hit_here = 1;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  exh_error err;
  if (!set) {
    exh_ioc_store *s;
    if (exh_ioc_store_open(":memory:", 0, &s, &err) != EXH_OK) abort();
    if (exh_ioc_import_buffer(s, "feed.csv", feed, sizeof feed - 1, NULL, NULL, &err) != EXH_OK)
      abort();
    if (exh_ioc_set_load(s, &set, &err) != EXH_OK) abort();
    exh_ioc_store_close(s);
    if (exhi_logioc_add(&iocs, set) != 0) abort();
    setenv("EXHUNT_NO_CACHE", "1", 1); /* no files written by the fuzzer */
    if (exhi_logioc_prepare(&iocs, &err) != EXH_OK ||
        exhi_logioc_picking(&iocs) != EXHI_LOGIOC_PICK_LINES ||
        exhi_logioc_lines_new(&iocs, &pick, &err) != EXH_OK || !pick)
      abort();
  }
  if (exhi_logioc_pick(pick, (const char *)data, 0, size, &err) != EXH_OK) abort();
  static exhi_logschema schema;
  static exhi_logrec rec;
  exhi_logioc_cols cols = {0};
  exhi_logschema_init(&schema);
  /* Without a preamble: the IIS layout, the commonest web log. */
  static const char iis[] = "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port "
                            "cs-username c-ip cs(User-Agent) cs(Referer) sc-status cs-host";
  exhi_logschema_header(&schema, iis, sizeof iis - 1);
  const char *p = (const char *)data, *end = p + size;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
    if (len && p[0] == '#') {
      exhi_logschema_header(&schema, p, len);
    } else if (len) {
      size_t at = (size_t)(p - (const char *)data), q;
      int picked = 0;
      while ((q = exhi_logioc_next(pick, at + 1)) != SIZE_MAX) picked = q == at;
      exhi_logrec_split(&rec, &schema, p, len);
      hit_here = 0;
      exhi_logioc_match(&iocs, &cols, &rec, on_hit, NULL);
      if (hit_here && !picked) {
        fprintf(stderr, "a line the lookup matches was not picked: %.*s\n", (int)len, p);
        abort();
      }
    }
    p += len + 1;
  }
  return 0;
}
