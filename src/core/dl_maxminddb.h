/*
 * libmaxminddb, loaded on first use (core/dynlib.h): call exhi_dl_maxminddb()
 * before any MMDB_* function; after this header the MMDB_* names used by
 * exhunt are its table's entries.
 */
#ifndef EXHUNT_DL_MAXMINDDB_H
#define EXHUNT_DL_MAXMINDDB_H

#include "dynlib.h"

#include <maxminddb.h>

#define EXHI_MAXMINDDB_FUNCTIONS(X)                                                                \
  X(MMDB_open) X(MMDB_close) X(MMDB_strerror) X(MMDB_lookup_string) X(MMDB_get_value)

typedef struct exhi_maxminddb_api {
  EXHI_MAXMINDDB_FUNCTIONS(EXHI_DL_FIELD)
} exhi_maxminddb_api;
extern exhi_maxminddb_api exhi_maxminddb;

#ifndef EXHI_DYNLIB_IMPL
#define MMDB_open exhi_maxminddb.MMDB_open
#define MMDB_close exhi_maxminddb.MMDB_close
#define MMDB_strerror exhi_maxminddb.MMDB_strerror
#define MMDB_lookup_string exhi_maxminddb.MMDB_lookup_string
#define MMDB_get_value exhi_maxminddb.MMDB_get_value
#endif

#endif
