/*
 * The hunts' indicator prefilter built when the store changes, not when
 * the next hunt needs it: `exhunt ioc import` / `pull` call this, so the
 * first `exhunt logs` / `check` after an import of 100 000 values finds the
 * compiled database in the cache instead of compiling it for 7-14 s.
 *
 * The set is loaded from the store exactly as a hunt loads it
 * (exh_ioc_set_load) and handed to the same exhi_logioc_prepare, so the
 * literals, hence the cache key, are the same as the hunt's for a hunt on
 * the store alone (with --iocs FILE too, the hunt's set is another one).
 */
#include "ioc.h"

#include "detectors/hscache.h"
#include "detectors/logioc.h"

int exhi_ioc_prefilter_warm(exh_ioc_store *s, int notice, size_t *n_literals, int *compiled,
                            exh_error *err) {
  *n_literals = 0;
  *compiled = 0;
  /* No cache (EXHUNT_NO_CACHE=1, no usable folder): the hunt compiles
   * anyway, so building it here would only double the cost. */
  if (!exhi_hs_cache_on()) return EXH_OK;
  exh_ioc_set *set = NULL;
  int rc = exh_ioc_set_load(s, &set, err);
  if (rc) return rc;
  exhi_logioc m = {.notice = notice};
  exhi_logioc_add(&m, set); /* an empty set is not added: nothing to build */
  rc = exhi_logioc_prepare(&m, err);
  if (!rc) exhi_logioc_prefilter_info(&m, n_literals, compiled);
  exhi_logioc_release(&m);
  exh_ioc_set_free(set);
  return rc;
}
