/*
 * Libraries that one command needs, loaded on first use (dlopen) instead of
 * by the program loader at every start: libcurl (scan, ioc pull), libarchive
 * (check on an archive), libmaxminddb (scan --geoip), libyara (files, check),
 * libsqlite3 (the indicator store: ioc, and files/logs/check when a store is
 * read), libevtx (an .evtx file met by logs or check), libcrypto (hashing:
 * files, check, the STIX ids of ioc export), vectorscan's compiler (a rule
 * or indicator set not in the cache; see dl_hs.h). Linked normally they
 * cost every run of exhunt ~6 ms before main (libcurl alone brings in gnutls,
 * krb5, ldap, ssh2...), most of `exhunt assess BUILD`; libyara (with
 * libmagic, liblzma, libbz2), libsqlite3 and libevtx (with libbfio) another
 * ~1.3 ms; libcrypto alone ~0.5 ms (17,000 relocations), for the hashes of
 * two commands.
 *
 * Each library has a header (core/dl_curl.h, core/dl_archive.h,
 * core/dl_maxminddb.h, core/dl_yara.h, core/dl_sqlite.h, core/dl_evtx.h,
 * core/dl_crypto.h; core/dl_hs.h differs, see there)
 * that includes the library's own header, declares a table of the functions
 * exhunt calls, typed from the library's prototypes, and maps each function's
 * name onto its table entry, so call sites read as plain library code. The one rule: call the library's exhi_dl_*
 * loader before the first of its functions (a table entry is NULL before).
 */
#ifndef EXHUNT_DYNLIB_H
#define EXHUNT_DYNLIB_H

#include "internal.h"

/* One table field per function, with the type of the library's declaration. */
#define EXHI_DL_FIELD(f) __typeof__(f) *f;

/* Each loads its library once per process (thread-safe: the first caller
 * loads, the others wait) and fills its table. EXH_OK then and on every
 * later call. When the library file cannot be loaded or lacks a function:
 * EXH_ERR_NOTFOUND on this and every later call, the text naming the file,
 * dlerror()'s words and the Debian package that provides it. exhi_dl_curl
 * also runs curl_global_init, in the same once (callers never do): its
 * failure is EXH_ERR_IO, on this and every later call. */
int exhi_dl_curl(exh_error *err);
int exhi_dl_archive(exh_error *err);
int exhi_dl_maxminddb(exh_error *err);
int exhi_dl_yara(exh_error *err);
int exhi_dl_sqlite(exh_error *err);
int exhi_dl_evtx(exh_error *err);
int exhi_dl_crypto(exh_error *err);
/* vectorscan's compiler (core/dl_hs.h): the compile calls dynlib.c
 * defines call this; others need not. Fails too when the compiler is
 * another vectorscan version than the runtime exhunt is linked with. */
int exhi_dl_hs(exh_error *err);

#endif
