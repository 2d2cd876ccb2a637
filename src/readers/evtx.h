/* Windows event logs (.evtx), read through libevtx, as log records. */
#ifndef EXHUNT_READERS_EVTX_H
#define EXHUNT_READERS_EVTX_H

#include "logs.h"

#include <stddef.h>

/* A record's XML is a few KiB; 1 MiB bounds a hostile one. */
#define EXHI_EVTX_XML_MAX (1u << 20)
/* A full 20 MiB Security log holds ~50 000 records; archived logs can be
 * larger. 10 million bounds the time spent on one file. */
#define EXHI_EVTX_MAX_RECORDS 10000000

/* Builds a record from one event's XML (which rec->line then points to):
 * fields EventID and Level (when >= 0), Channel, Computer, Provider_Name and
 * every <Data Name="...">, decoded into vals (vcap bytes, cut when full). */
void exhi_evtx_record_from_xml(const char *xml, long event_id, int level, exhi_logschema *schema,
                               exhi_logrec *rec, char *vals, size_t vcap);

/* Whether the first bytes are an .evtx file header ("ElfFile\0"). */
int exhi_evtx_is(const unsigned char *head, size_t n);

/* Calls cb for every record: fields EventID, Level, Channel, Computer,
 * Provider_Name and each EventData <Data Name=...>; rec->line is the XML.
 * schema and rec are the caller's scratch, rewritten per record. */
typedef int (*exhi_evtx_cb)(void *ctx, const exhi_logrec *rec, int64_t time_ms, int64_t record_no);
int exhi_evtx_read(const char *path, exhi_logschema *schema, exhi_logrec *rec, exhi_evtx_cb cb,
                   void *ctx, uint64_t *records, exh_error *err);

#endif
