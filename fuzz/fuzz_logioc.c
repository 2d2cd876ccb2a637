/* libFuzzer target: indicator matching on log records (detectors/logioc.c):
 * the input is read as log lines (preamble lines set the layout) and every
 * record's client address, user agent, host and path is looked up in a set
 * holding indicators of every type. Hits must be indicators of the set. */
#include "detectors/logioc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static exh_ioc_set *set;
static exhi_logioc iocs;

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
    "url,https://evil.example/x,f,\n";

static int on_hit(void *ctx, int which, size_t s, const exh_ioc *ioc, const char *field) {
  (void)ctx;
  if (which < 0 || which >= EXHI_LOGIOC_RULES || s >= iocs.n_sets || !field) abort();
  if (!ioc || !ioc->value || !ioc->source) abort();
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
  }
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
      exhi_logrec_split(&rec, &schema, p, len);
      exhi_logioc_match(&iocs, &cols, &rec, on_hit, NULL);
    }
    p += len + 1;
  }
  return 0;
}
