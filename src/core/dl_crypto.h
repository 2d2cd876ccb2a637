/*
 * libcrypto (OpenSSL 3), loaded on first use (core/dynlib.h): exh_files_new
 * calls exhi_dl_crypto() before it fetches the hash functions, so code that
 * holds an exh_files may hash directly; anything else (the STIX ids of
 * exhunt ioc export) calls the loader first. After this header the EVP_*
 * names used by exhunt are its table's entries.
 */
#ifndef EXHUNT_DL_CRYPTO_H
#define EXHUNT_DL_CRYPTO_H

#include "dynlib.h"

#include <openssl/evp.h>

#define EXHI_CRYPTO_FUNCTIONS(X)                                                                   \
  X(EVP_MD_fetch) X(EVP_MD_free) X(EVP_sha1) X(EVP_MD_CTX_new) X(EVP_MD_CTX_free)                 \
  X(EVP_DigestInit_ex) X(EVP_DigestUpdate) X(EVP_DigestFinal_ex)

typedef struct exhi_crypto_api {
  EXHI_CRYPTO_FUNCTIONS(EXHI_DL_FIELD)
} exhi_crypto_api;
extern exhi_crypto_api exhi_crypto;

#ifndef EXHI_DYNLIB_IMPL
#define EVP_MD_fetch exhi_crypto.EVP_MD_fetch
#define EVP_MD_free exhi_crypto.EVP_MD_free
#define EVP_sha1 exhi_crypto.EVP_sha1
#define EVP_MD_CTX_new exhi_crypto.EVP_MD_CTX_new
#define EVP_MD_CTX_free exhi_crypto.EVP_MD_CTX_free
#define EVP_DigestInit_ex exhi_crypto.EVP_DigestInit_ex
#define EVP_DigestUpdate exhi_crypto.EVP_DigestUpdate
#define EVP_DigestFinal_ex exhi_crypto.EVP_DigestFinal_ex
#endif

#endif
