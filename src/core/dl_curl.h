/*
 * libcurl, loaded on first use (core/dynlib.h): call exhi_dl_curl() before
 * any curl_* function; after this header the curl_* names used by exhunt are
 * its table's entries. libcurl's compile-time type checks of curl_easy_setopt
 * and curl_easy_getinfo (typecheck-gcc.h) are macros of the same names, so
 * they give way to the table here.
 */
#ifndef EXHUNT_DL_CURL_H
#define EXHUNT_DL_CURL_H

#include "dynlib.h"

#include <curl/curl.h>

#define EXHI_CURL_FUNCTIONS(X)                                                                     \
  X(curl_global_init) X(curl_easy_init) X(curl_easy_reset)                                     \
  X(curl_easy_setopt) X(curl_easy_perform) X(curl_easy_getinfo) X(curl_easy_strerror)            \
  X(curl_easy_cleanup) X(curl_slist_append) X(curl_slist_free_all) X(curl_multi_init)            \
  X(curl_multi_setopt) X(curl_multi_add_handle) X(curl_multi_remove_handle) X(curl_multi_assign) \
  X(curl_multi_socket_action) X(curl_multi_info_read) X(curl_multi_cleanup)

typedef struct exhi_curl_api {
  EXHI_CURL_FUNCTIONS(EXHI_DL_FIELD)
} exhi_curl_api;
extern exhi_curl_api exhi_curl;

#ifndef EXHI_DYNLIB_IMPL
#undef curl_easy_setopt
#undef curl_easy_getinfo
#undef curl_multi_setopt
#define curl_global_init exhi_curl.curl_global_init
#define curl_easy_init exhi_curl.curl_easy_init
#define curl_easy_reset exhi_curl.curl_easy_reset
#define curl_easy_setopt exhi_curl.curl_easy_setopt
#define curl_easy_perform exhi_curl.curl_easy_perform
#define curl_easy_getinfo exhi_curl.curl_easy_getinfo
#define curl_easy_strerror exhi_curl.curl_easy_strerror
#define curl_easy_cleanup exhi_curl.curl_easy_cleanup
#define curl_slist_append exhi_curl.curl_slist_append
#define curl_slist_free_all exhi_curl.curl_slist_free_all
#define curl_multi_init exhi_curl.curl_multi_init
#define curl_multi_setopt exhi_curl.curl_multi_setopt
#define curl_multi_add_handle exhi_curl.curl_multi_add_handle
#define curl_multi_remove_handle exhi_curl.curl_multi_remove_handle
#define curl_multi_assign exhi_curl.curl_multi_assign
#define curl_multi_socket_action exhi_curl.curl_multi_socket_action
#define curl_multi_info_read exhi_curl.curl_multi_info_read
#define curl_multi_cleanup exhi_curl.curl_multi_cleanup
#endif

#endif
