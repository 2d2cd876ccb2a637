/*
 * vectorscan's compiler, loaded on first use (core/dynlib.h). exhunt links
 * only vectorscan's runtime (libhs_runtime.so.5: scan, scratch, database
 * (de)serialisation; C, no dependency but libc); the compiler (libhs.so.5)
 * brings libstdc++, libm and libgcc_s, whose relocation cost every run of
 * `exhunt logs` ~0.7 ms before main although a run whose databases all come
 * from the rule cache (detectors/hscache.h) compiles nothing.
 *
 * Unlike the other libraries', the compiler's functions keep their names:
 * libexhunt defines hs_compile_multi, hs_compile_lit_multi,
 * hs_free_compile_error and hs_populate_platform itself (core/dynlib.c),
 * each loading the compiler on its first call and calling the compiler's
 * own, so callers include <hs/hs.h> and call them as always, with no loader
 * call. When the compiler cannot be loaded, a compile fails as a compile
 * does, HS_COMPILER_ERROR with *error set, its message naming the file, the
 * loader's reason and the Debian package; hs_free_compile_error takes that
 * error back like any other. (exhunt's symbols are not exported, so the
 * compiler's own calls never reach these.)
 *
 * This header is dynlib.c's: the compiler's table.
 */
#ifndef EXHUNT_DL_HS_H
#define EXHUNT_DL_HS_H

#include "dynlib.h"

#include <hs/hs.h>

/* hs_version: the compiler's own, checked against the runtime's at load. */
#define EXHI_HS_FUNCTIONS(X)                                                                       \
  X(hs_compile_multi) X(hs_compile_lit_multi) X(hs_free_compile_error) X(hs_populate_platform)    \
  X(hs_version)

typedef struct exhi_hs_api {
  EXHI_HS_FUNCTIONS(EXHI_DL_FIELD)
} exhi_hs_api;
extern exhi_hs_api exhi_hscomp;

#endif
