/* The indicator set as the indicator hook of `exhunt files`
 * (exh_indicator_lookup): the join of the two modules. The set is
 * immutable, so the hook is called from every worker thread without a
 * lock; lookups are hash probes in memory, never SQLite. */
#include "ioc.h"

#include <stdint.h>
#include <string.h>

static int lookup(void *ctx, const exh_file_info *fi, exh_indicator_hit *hits, size_t max,
                  size_t *n, exh_error *err) {
  (void)err;
  const exh_ioc_set *set = ctx;
  const char *path = fi->path;
  size_t plen = path ? strlen(path) : 0;
  /* A path longer than an indicator can be is cut to its tail, from a
   * separator: published paths are short, and a deep mount point must not
   * make the whole path unmatchable. */
  if (plen > EXH_IOC_VALUE_MAX) {
    const char *t = path + plen - EXH_IOC_VALUE_MAX;
    while (*t && *t != '/') t++;
    plen -= (size_t)(t - path);
    path = t;
  }
  const struct {
    int type;
    const char *v;
    size_t len;
  } q[] = {
      {EXH_IOC_SHA256, fi->sha256, fi->sha256 ? strlen(fi->sha256) : 0},
      {EXH_IOC_SHA1, fi->sha1, fi->sha1 ? strlen(fi->sha1) : 0},
      {EXH_IOC_MD5, fi->md5, fi->md5 ? strlen(fi->md5) : 0},
      {EXH_IOC_FILENAME, fi->name, fi->name ? strlen(fi->name) : 0},
      {EXH_IOC_FILEPATH, path, plen},
  };
  size_t k = 0;
  for (size_t i = 0; i < sizeof q / sizeof *q && k < max; i++) {
    if (!q[i].len || !exh_ioc_set_count(set, q[i].type)) continue;
    const exh_ioc *h;
    size_t c = exh_ioc_set_lookup(set, q[i].type, q[i].v, q[i].len, &h);
    for (size_t j = 0; j < c && k < max; j++)
      hits[k++] = (exh_indicator_hit){.value = h[j].value,
                                      .type = exh_ioc_type_name(h[j].type),
                                      .source = h[j].source,
                                      .actor = *h[j].actor ? h[j].actor : NULL,
                                      .report = *h[j].report ? h[j].report : NULL};
  }
  *n = k;
  return EXH_OK;
}

void exh_ioc_files_lookup(const exh_ioc_set *set, exh_indicator_lookup *out) {
  *out = (exh_indicator_lookup){.lookup = lookup, .ctx = (void *)(uintptr_t)set}; /* read only */
  /* SHA-1 and MD5 cost a pass over every byte each: only when needed. */
  if (exh_ioc_set_count(set, EXH_IOC_SHA1)) out->want |= EXH_WANT_SHA1;
  if (exh_ioc_set_count(set, EXH_IOC_MD5)) out->want |= EXH_WANT_MD5;
}
