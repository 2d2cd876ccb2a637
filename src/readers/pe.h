/* The version resource (VS_VERSIONINFO) of a PE file, read with bounds on
 * every offset and length: the file may be hostile. */
#ifndef EXHUNT_PE_H
#define EXHUNT_PE_H

#include "../core/internal.h"

typedef struct exhi_pe_version {
  bool has_fixed;          /* VS_FIXEDFILEINFO present and signed */
  exh_build fixed;         /* dwFileVersionMS/LS */
  char file_version[128];  /* StringFileInfo "FileVersion", UTF-8, or "" */
  char product_name[128];  /* StringFileInfo "ProductName", or "" */
} exhi_pe_version;

/* name is used in error messages only. */
int exhi_pe_read_version(const unsigned char *data, size_t len, const char *name,
                         exhi_pe_version *out, exh_error *err);

#endif
