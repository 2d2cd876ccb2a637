/*
 * libarchive, loaded on first use (core/dynlib.h): call exhi_dl_archive()
 * before any archive_* function; after this header the archive_* names used
 * by exhunt are its table's entries.
 */
#ifndef EXHUNT_DL_ARCHIVE_H
#define EXHUNT_DL_ARCHIVE_H

#include "dynlib.h"

#include <archive.h>
#include <archive_entry.h>

#define EXHI_ARCHIVE_FUNCTIONS(X)                                                                  \
  X(archive_read_new) X(archive_read_free) X(archive_read_support_filter_all)                     \
  X(archive_read_support_format_all) X(archive_read_add_passphrase) X(archive_read_open_fd)       \
  X(archive_read_next_header) X(archive_read_data) X(archive_error_string)                        \
  X(archive_entry_pathname) X(archive_entry_filetype) X(archive_entry_hardlink)                   \
  X(archive_entry_is_data_encrypted) X(archive_entry_mtime) X(archive_entry_mtime_is_set)

typedef struct exhi_archive_api {
  EXHI_ARCHIVE_FUNCTIONS(EXHI_DL_FIELD)
} exhi_archive_api;
extern exhi_archive_api exhi_archive;

#ifndef EXHI_DYNLIB_IMPL
#define archive_read_new exhi_archive.archive_read_new
#define archive_read_free exhi_archive.archive_read_free
#define archive_read_support_filter_all exhi_archive.archive_read_support_filter_all
#define archive_read_support_format_all exhi_archive.archive_read_support_format_all
#define archive_read_add_passphrase exhi_archive.archive_read_add_passphrase
#define archive_read_open_fd exhi_archive.archive_read_open_fd
#define archive_read_next_header exhi_archive.archive_read_next_header
#define archive_read_data exhi_archive.archive_read_data
#define archive_error_string exhi_archive.archive_error_string
#define archive_entry_pathname exhi_archive.archive_entry_pathname
#define archive_entry_filetype exhi_archive.archive_entry_filetype
#define archive_entry_hardlink exhi_archive.archive_entry_hardlink
#define archive_entry_is_data_encrypted exhi_archive.archive_entry_is_data_encrypted
#define archive_entry_mtime exhi_archive.archive_entry_mtime
#define archive_entry_mtime_is_set exhi_archive.archive_entry_mtime_is_set
#endif

#endif
