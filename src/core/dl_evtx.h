/*
 * libevtx, loaded on first use (core/dynlib.h): call exhi_dl_evtx() before
 * any libevtx_* function, that is when the first .evtx file is read; after
 * this header the libevtx_* names used by exhunt are its table's entries.
 */
#ifndef EXHUNT_DL_EVTX_H
#define EXHUNT_DL_EVTX_H

#include "dynlib.h"

#include <libevtx.h>

#define EXHI_EVTX_FUNCTIONS(X)                                                                     \
  X(libevtx_error_sprint) X(libevtx_error_free) X(libevtx_file_initialize) X(libevtx_file_open)   \
  X(libevtx_file_close) X(libevtx_file_free) X(libevtx_file_get_number_of_records)                \
  X(libevtx_file_get_record_by_index) X(libevtx_record_free)                                       \
  X(libevtx_record_get_utf8_xml_string_size) X(libevtx_record_get_utf8_xml_string)                \
  X(libevtx_record_get_event_identifier) X(libevtx_record_get_event_level)                        \
  X(libevtx_record_get_written_time)

typedef struct exhi_evtx_api {
  EXHI_EVTX_FUNCTIONS(EXHI_DL_FIELD)
} exhi_evtx_api;
extern exhi_evtx_api exhi_evtx;

#ifndef EXHI_DYNLIB_IMPL
#define libevtx_error_sprint exhi_evtx.libevtx_error_sprint
#define libevtx_error_free exhi_evtx.libevtx_error_free
#define libevtx_file_initialize exhi_evtx.libevtx_file_initialize
#define libevtx_file_open exhi_evtx.libevtx_file_open
#define libevtx_file_close exhi_evtx.libevtx_file_close
#define libevtx_file_free exhi_evtx.libevtx_file_free
#define libevtx_file_get_number_of_records exhi_evtx.libevtx_file_get_number_of_records
#define libevtx_file_get_record_by_index exhi_evtx.libevtx_file_get_record_by_index
#define libevtx_record_free exhi_evtx.libevtx_record_free
#define libevtx_record_get_utf8_xml_string_size exhi_evtx.libevtx_record_get_utf8_xml_string_size
#define libevtx_record_get_utf8_xml_string exhi_evtx.libevtx_record_get_utf8_xml_string
#define libevtx_record_get_event_identifier exhi_evtx.libevtx_record_get_event_identifier
#define libevtx_record_get_event_level exhi_evtx.libevtx_record_get_event_level
#define libevtx_record_get_written_time exhi_evtx.libevtx_record_get_written_time
#endif

#endif
