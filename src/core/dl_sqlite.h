/*
 * libsqlite3, loaded on first use (core/dynlib.h): exh_ioc_store_open calls
 * exhi_dl_sqlite() before it opens a store, so code that holds an open
 * exh_ioc_store may call these directly; anything else must call the loader
 * first. After this header the sqlite3_* names used by exhunt are its
 * table's entries (SQLITE_STATIC and SQLITE_TRANSIENT are constants).
 */
#ifndef EXHUNT_DL_SQLITE_H
#define EXHUNT_DL_SQLITE_H

#include "dynlib.h"

#include <sqlite3.h>

#define EXHI_SQLITE_FUNCTIONS(X)                                                                   \
  X(sqlite3_open_v2) X(sqlite3_close_v2) X(sqlite3_busy_timeout)                                   \
  X(sqlite3_extended_result_codes) X(sqlite3_errmsg) X(sqlite3_exec) X(sqlite3_free)             \
  X(sqlite3_prepare_v2) X(sqlite3_step) X(sqlite3_reset) X(sqlite3_finalize)                      \
  X(sqlite3_bind_int) X(sqlite3_bind_int64) X(sqlite3_bind_null) X(sqlite3_bind_text)             \
  X(sqlite3_column_int) X(sqlite3_column_int64) X(sqlite3_column_text) X(sqlite3_column_type)

typedef struct exhi_sqlite_api {
  EXHI_SQLITE_FUNCTIONS(EXHI_DL_FIELD)
} exhi_sqlite_api;
extern exhi_sqlite_api exhi_sqlite;

#ifndef EXHI_DYNLIB_IMPL
#define sqlite3_open_v2 exhi_sqlite.sqlite3_open_v2
#define sqlite3_close_v2 exhi_sqlite.sqlite3_close_v2
#define sqlite3_busy_timeout exhi_sqlite.sqlite3_busy_timeout
#define sqlite3_extended_result_codes exhi_sqlite.sqlite3_extended_result_codes
#define sqlite3_errmsg exhi_sqlite.sqlite3_errmsg
#define sqlite3_exec exhi_sqlite.sqlite3_exec
#define sqlite3_free exhi_sqlite.sqlite3_free
#define sqlite3_prepare_v2 exhi_sqlite.sqlite3_prepare_v2
#define sqlite3_step exhi_sqlite.sqlite3_step
#define sqlite3_reset exhi_sqlite.sqlite3_reset
#define sqlite3_finalize exhi_sqlite.sqlite3_finalize
#define sqlite3_bind_int exhi_sqlite.sqlite3_bind_int
#define sqlite3_bind_int64 exhi_sqlite.sqlite3_bind_int64
#define sqlite3_bind_null exhi_sqlite.sqlite3_bind_null
#define sqlite3_bind_text exhi_sqlite.sqlite3_bind_text
#define sqlite3_column_int exhi_sqlite.sqlite3_column_int
#define sqlite3_column_int64 exhi_sqlite.sqlite3_column_int64
#define sqlite3_column_text exhi_sqlite.sqlite3_column_text
#define sqlite3_column_type exhi_sqlite.sqlite3_column_type
#endif

#endif
