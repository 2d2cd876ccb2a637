/* Libraries loaded on first use: see dynlib.h. */
#define EXHI_DYNLIB_IMPL
#include "dl_archive.h"
#include "dl_crypto.h"
#include "dl_curl.h"
#include "dl_evtx.h"
#include "dl_hs.h"
#include "dl_maxminddb.h"
#include "dl_sqlite.h"
#include "dl_yara.h"

#include <dlfcn.h>
#include <pthread.h>
#include <string.h>

exhi_curl_api exhi_curl;
exhi_archive_api exhi_archive;
exhi_maxminddb_api exhi_maxminddb;
exhi_yara_api exhi_yara_lib;
exhi_sqlite_api exhi_sqlite;
exhi_evtx_api exhi_evtx;
exhi_crypto_api exhi_crypto;
exhi_hs_api exhi_hscomp;

typedef struct dynlib {
  const char *file;     /* the soname dlopen looks for */
  const char *package;  /* the Debian package that provides it */
  const char *needs;    /* who needs it, for the message */
  const char *const *names; /* the table's functions, in field order */
  size_t n;
  void *table; /* n function pointers, filled only once all are found */
  pthread_once_t once;
  int code; /* EXH_OK once loaded */
  char text[EXH_ERROR_TEXT_MAX];
  /* The library's own set-up, run inside the once after the table is
   * filled (non-zero: done); NULL: none. */
  int (*init)(void);
} dynlib;

#define NAME(f) #f,
#define COUNT(f) +1
static const char *const curl_names[] = {EXHI_CURL_FUNCTIONS(NAME)};
static const char *const archive_names[] = {EXHI_ARCHIVE_FUNCTIONS(NAME)};
static const char *const maxminddb_names[] = {EXHI_MAXMINDDB_FUNCTIONS(NAME)};
static const char *const yara_names[] = {EXHI_YARA_FUNCTIONS(NAME)};
static const char *const sqlite_names[] = {EXHI_SQLITE_FUNCTIONS(NAME)};
static const char *const evtx_names[] = {EXHI_EVTX_FUNCTIONS(NAME)};
static const char *const crypto_names[] = {EXHI_CRYPTO_FUNCTIONS(NAME)};
static const char *const hs_names[] = {EXHI_HS_FUNCTIONS(NAME)};
/* The tables are filled as arrays of pointers (POSIX: a function pointer
 * has the representation of a void *, which is what dlsym returns). */
_Static_assert(sizeof(exhi_curl_api) == (0 EXHI_CURL_FUNCTIONS(COUNT)) * sizeof(void *), "curl table");
_Static_assert(sizeof(exhi_archive_api) == (0 EXHI_ARCHIVE_FUNCTIONS(COUNT)) * sizeof(void *),
               "archive table");
_Static_assert(sizeof(exhi_maxminddb_api) == (0 EXHI_MAXMINDDB_FUNCTIONS(COUNT)) * sizeof(void *),
               "maxminddb table");
_Static_assert(sizeof(exhi_yara_api) == (0 EXHI_YARA_FUNCTIONS(COUNT)) * sizeof(void *),
               "yara table");
_Static_assert(sizeof(exhi_sqlite_api) == (0 EXHI_SQLITE_FUNCTIONS(COUNT)) * sizeof(void *),
               "sqlite table");
_Static_assert(sizeof(exhi_evtx_api) == (0 EXHI_EVTX_FUNCTIONS(COUNT)) * sizeof(void *),
               "evtx table");
_Static_assert(sizeof(exhi_crypto_api) == (0 EXHI_CRYPTO_FUNCTIONS(COUNT)) * sizeof(void *),
               "crypto table");
_Static_assert(sizeof(exhi_hs_api) == (0 EXHI_HS_FUNCTIONS(COUNT)) * sizeof(void *), "hs table");

/* libcurl's global state is set up here, inside the load's once, and
 * nowhere else: curl_global_init is not thread-safe on every libcurl (before
 * 7.84, or built without atomics), and two threads may pull or scan at once.
 * Never cleaned up: the library stays for the life of the process. */
static int init_curl(void) { return exhi_curl.curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; }

static dynlib curl_lib = {"libcurl.so.4", "libcurl4", "exhunt scan and exhunt ioc pull", curl_names,
                          EXHI_ARRAY_LEN(curl_names), &exhi_curl, PTHREAD_ONCE_INIT, 0, "",
                          init_curl};
static dynlib archive_lib = {"libarchive.so.13", "libarchive13", "exhunt check on an archive",
                             archive_names, EXHI_ARRAY_LEN(archive_names), &exhi_archive,
                             PTHREAD_ONCE_INIT, 0, ""};
static dynlib maxminddb_lib = {"libmaxminddb.so.0", "libmaxminddb0", "exhunt scan --geoip",
                               maxminddb_names, EXHI_ARRAY_LEN(maxminddb_names), &exhi_maxminddb,
                               PTHREAD_ONCE_INIT, 0, ""};
/* libyara's own set-up (yr_initialize) stays with its callers: it is
 * reference-counted and paired with yr_finalize per rule set. */
static dynlib yara_lib = {"libyara.so.9", "libyara9", "exhunt files and exhunt check", yara_names,
                          EXHI_ARRAY_LEN(yara_names), &exhi_yara_lib, PTHREAD_ONCE_INIT, 0, ""};
static dynlib sqlite_lib = {"libsqlite3.so.0", "libsqlite3-0",
                            "exhunt ioc, and by exhunt files, logs and check when an indicator "
                            "store exists (--no-iocs does without it)",
                            sqlite_names, EXHI_ARRAY_LEN(sqlite_names), &exhi_sqlite,
                            PTHREAD_ONCE_INIT, 0, ""};
static dynlib evtx_lib = {"libevtx.so.1", "libevtx1",
                          "exhunt logs and exhunt check to read Windows event logs (.evtx)",
                          evtx_names, EXHI_ARRAY_LEN(evtx_names), &exhi_evtx, PTHREAD_ONCE_INIT, 0,
                          ""};
/* Debian's libcrypto.so.3 comes in the libssl3 package. */
static dynlib crypto_lib = {"libcrypto.so.3", "libssl3",
                            "exhunt files and exhunt check to hash files, and by exhunt ioc "
                            "export --format stix",
                            crypto_names, EXHI_ARRAY_LEN(crypto_names), &exhi_crypto,
                            PTHREAD_ONCE_INIT, 0, ""};
/* A database compiled by one vectorscan version is refused by another's
 * runtime: the compiler must be the runtime's own (one Debian package
 * ships both). */
static int init_hs(void) { return strcmp(exhi_hscomp.hs_version(), hs_version()) == 0; }

static dynlib hs_lib = {"libhs.so.5", "libvectorscan5",
                        "exhunt to compile rules and indicators its cache does not hold yet "
                        "(logs, check, files, ioc import)",
                        hs_names, EXHI_ARRAY_LEN(hs_names), &exhi_hscomp, PTHREAD_ONCE_INIT, 0, "",
                        init_hs};

/* Runs once per library. The handle is never closed: the library stays for
 * the life of the process, as a linked one would (libcurl keeps global state
 * and atexit-like cleanups that must not point into unmapped code). */
static void load(dynlib *l) {
  exh_error e;
  void *h = dlopen(l->file, RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    const char *why = dlerror();
    l->code = exhi_err(&e, EXH_ERR_NOTFOUND, l->file, 0, -1,
                       "cannot be loaded (%s); it is needed by %s: install the Debian package %s",
                       why ? why : "no reason given", l->needs, l->package);
    memcpy(l->text, e.text, sizeof l->text);
    return;
  }
  void *found[32];
  _Static_assert(EXHI_ARRAY_LEN(curl_names) <= 32 && EXHI_ARRAY_LEN(archive_names) <= 32 &&
                     EXHI_ARRAY_LEN(maxminddb_names) <= 32 && EXHI_ARRAY_LEN(yara_names) <= 32 &&
                     EXHI_ARRAY_LEN(sqlite_names) <= 32 && EXHI_ARRAY_LEN(evtx_names) <= 32 &&
                     EXHI_ARRAY_LEN(crypto_names) <= 32 && EXHI_ARRAY_LEN(hs_names) <= 32,
                 "found[] holds every table");
  for (size_t i = 0; i < l->n; i++) {
    dlerror();
    found[i] = dlsym(h, l->names[i]);
    if (!found[i]) {
      const char *why = dlerror();
      l->code = exhi_err(&e, EXH_ERR_NOTFOUND, l->file, 0, -1,
                         "has no %s (%s), so it is not the library needed by %s: install the "
                         "Debian package %s",
                         l->names[i], why ? why : "a NULL symbol", l->needs, l->package);
      memcpy(l->text, e.text, sizeof l->text);
      dlclose(h);
      return;
    }
  }
  memcpy(l->table, found, l->n * sizeof(void *));
  if (l->init && !l->init()) {
    /* The table stays filled but unused: every caller gets this error. */
    l->code = exhi_err(&e, EXH_ERR_IO, l->file, 0, -1,
                       "was loaded but could not be initialised; it is needed by %s", l->needs);
    memcpy(l->text, e.text, sizeof l->text);
    return;
  }
  l->code = EXH_OK;
}

static void load_curl(void) { load(&curl_lib); }
static void load_archive(void) { load(&archive_lib); }
static void load_maxminddb(void) { load(&maxminddb_lib); }
static void load_yara(void) { load(&yara_lib); }
static void load_sqlite(void) { load(&sqlite_lib); }
static void load_evtx(void) { load(&evtx_lib); }
static void load_crypto(void) { load(&crypto_lib); }
static void load_hs(void) { load(&hs_lib); }

/* pthread_once fails only on misuse; its status is checked all the same. */
static int get(dynlib *l, void (*fn)(void), exh_error *err) {
  if (pthread_once(&l->once, fn))
    return exhi_err(err, EXH_ERR_NOTFOUND, l->file, 0, -1, "cannot be loaded (pthread_once failed)");
  if (l->code == EXH_OK) return EXH_OK;
  return exhi_err(err, l->code, NULL, 0, -1, "%s", l->text);
}

int exhi_dl_curl(exh_error *err) { return get(&curl_lib, load_curl, err); }
int exhi_dl_archive(exh_error *err) { return get(&archive_lib, load_archive, err); }
int exhi_dl_maxminddb(exh_error *err) { return get(&maxminddb_lib, load_maxminddb, err); }
int exhi_dl_yara(exh_error *err) { return get(&yara_lib, load_yara, err); }
int exhi_dl_sqlite(exh_error *err) { return get(&sqlite_lib, load_sqlite, err); }
int exhi_dl_evtx(exh_error *err) { return get(&evtx_lib, load_evtx, err); }
int exhi_dl_crypto(exh_error *err) { return get(&crypto_lib, load_crypto, err); }
int exhi_dl_hs(exh_error *err) { return get(&hs_lib, load_hs, err); }

/* vectorscan's compile calls, defined here (see dl_hs.h). What a compile
 * gives when the compiler cannot be loaded: the load's own message
 * (hs_lib.text, set once inside the load's once, constant after), no
 * expression to blame. Never freed: hs_free_compile_error knows it. */
static hs_compile_error_t hs_unloadable = {hs_lib.text, -1};

hs_error_t hs_compile_multi(const char *const *expressions, const unsigned *flags,
                            const unsigned *ids, unsigned elements, unsigned mode,
                            const hs_platform_info_t *platform, hs_database_t **db,
                            hs_compile_error_t **error) {
  if (exhi_dl_hs(NULL) != EXH_OK) {
    *db = NULL;
    *error = &hs_unloadable;
    return HS_COMPILER_ERROR;
  }
  return exhi_hscomp.hs_compile_multi(expressions, flags, ids, elements, mode, platform, db, error);
}

hs_error_t hs_compile_lit_multi(const char *const *expressions, const unsigned *flags,
                                const unsigned *ids, const size_t *lens, unsigned elements,
                                unsigned mode, const hs_platform_info_t *platform,
                                hs_database_t **db, hs_compile_error_t **error) {
  if (exhi_dl_hs(NULL) != EXH_OK) {
    *db = NULL;
    *error = &hs_unloadable;
    return HS_COMPILER_ERROR;
  }
  return exhi_hscomp.hs_compile_lit_multi(expressions, flags, ids, lens, elements, mode, platform,
                                          db, error);
}

hs_error_t hs_free_compile_error(hs_compile_error_t *error) {
  /* Any other error came from the compiler, which is therefore loaded. */
  if (!error || error == &hs_unloadable) return HS_SUCCESS;
  return exhi_hscomp.hs_free_compile_error(error);
}

hs_error_t hs_populate_platform(hs_platform_info_t *platform) {
  if (exhi_dl_hs(NULL) != EXH_OK) return HS_INVALID;
  return exhi_hscomp.hs_populate_platform(platform);
}
