/* The build an OWA logon page reveals in its resource paths. */
#ifndef EXHUNT_OWA_H
#define EXHUNT_OWA_H

#include "../core/internal.h"

/* Returns EXH_OK and the build (3 parts on 2013 and later: CU level only;
 * 4 parts on 2010 and older pages), EXH_ERR_NOTFOUND when the page has no
 * versioned path. *looks_owa says whether OWA markers were seen. */
int exhi_owa_page_build(const char *html, size_t len, const char *name,
                        exh_build *out, bool *looks_owa, exh_error *err);

#endif
