/*
 * libyara, loaded on first use (core/dynlib.h): call exhi_dl_yara() before
 * any yr_* function; after this header the yr_* names used by exhunt are its
 * table's entries. The yr_*_foreach iterators are macros over the rules'
 * structures, not functions: they need no entry.
 */
#ifndef EXHUNT_DL_YARA_H
#define EXHUNT_DL_YARA_H

#include "dynlib.h"

#include <yara.h>

#define EXHI_YARA_FUNCTIONS(X)                                                                     \
  X(yr_initialize) X(yr_finalize) X(yr_compiler_create) X(yr_compiler_destroy)                     \
  X(yr_compiler_set_callback) X(yr_compiler_add_string) X(yr_compiler_add_file)                    \
  X(yr_compiler_get_rules) X(yr_rules_load) X(yr_rules_destroy) X(yr_scanner_create)              \
  X(yr_scanner_destroy) X(yr_scanner_set_callback) X(yr_scanner_set_timeout)                      \
  X(yr_scanner_scan_mem)

typedef struct exhi_yara_api {
  EXHI_YARA_FUNCTIONS(EXHI_DL_FIELD)
} exhi_yara_api;
extern exhi_yara_api exhi_yara_lib;

#ifndef EXHI_DYNLIB_IMPL
#define yr_initialize exhi_yara_lib.yr_initialize
#define yr_finalize exhi_yara_lib.yr_finalize
#define yr_compiler_create exhi_yara_lib.yr_compiler_create
#define yr_compiler_destroy exhi_yara_lib.yr_compiler_destroy
#define yr_compiler_set_callback exhi_yara_lib.yr_compiler_set_callback
#define yr_compiler_add_string exhi_yara_lib.yr_compiler_add_string
#define yr_compiler_add_file exhi_yara_lib.yr_compiler_add_file
#define yr_compiler_get_rules exhi_yara_lib.yr_compiler_get_rules
#define yr_rules_load exhi_yara_lib.yr_rules_load
#define yr_rules_destroy exhi_yara_lib.yr_rules_destroy
#define yr_scanner_create exhi_yara_lib.yr_scanner_create
#define yr_scanner_destroy exhi_yara_lib.yr_scanner_destroy
#define yr_scanner_set_callback exhi_yara_lib.yr_scanner_set_callback
#define yr_scanner_set_timeout exhi_yara_lib.yr_scanner_set_timeout
#define yr_scanner_scan_mem exhi_yara_lib.yr_scanner_scan_mem
#endif

#endif
