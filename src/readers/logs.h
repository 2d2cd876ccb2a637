/*
 * Log readers for `exhunt logs`: a byte source that hands out blocks of whole
 * lines (plain or gzip, bounded memory), and the line formats: Exchange CSV
 * logs with a W3C-style preamble, IIS W3C logs, and plain text.
 *
 * Records are views into the block being read: nothing is copied per field.
 * A value that was RFC 4180 quoted with "" inside is decoded only when a
 * detector asks for it (exhi_logrec_value).
 */
#ifndef EXHUNT_READERS_LOGS_H
#define EXHUNT_READERS_LOGS_H

#include "../core/internal.h"

/* ---- limits ------------------------------------------------------------ */

/* Bytes read per block. Large reads run at disk speed; each block of a
 * plain file is a mapping of its own, whose unmapping makes the kernel
 * interrupt the other cores running the pool (TLB shootdown): 8 MiB halves
 * those of 4 MiB (bench/logs: +2% speed), and 16 workers' windows of 9 MiB
 * keep the pool under the 256 MiB budget. */
#define EXHI_LOG_BLOCK (8u << 20)
/* The longest line kept whole. HttpProxy lines are under 4 KiB; ECP Server
 * lines with a long EventData rarely pass 64 KiB. Longer lines are cut at
 * this length (and counted), never buffered without bound. */
#define EXHI_LOG_LINE_MAX (1u << 20)
/* Columns in one #Fields line: 74 in HttpProxy 2016/2019, 130-odd in EWS.
 * 256 leaves room for later versions. */
#define EXHI_LOG_MAX_FIELDS 256
/* A #Fields line's names, copied: 256 names of a few dozen bytes. */
#define EXHI_LOG_NAMES_MAX 16384

/* ---- byte source ------------------------------------------------------- */

typedef struct exhi_logsrc exhi_logsrc;

/* Opens a log file read-only (no atime, no symlink followed at the last
 * component); gzip is recognised by its magic bytes and inflated on the fly.
 * Plain files are mapped a window at a time; the first open installs a
 * process-wide SIGBUS handler that turns a truncation under the window of
 * the source a thread last read from into an error of that source (faults
 * elsewhere go to the handler there was). */
int exhi_logsrc_open(const char *path, exhi_logsrc **out, exh_error *err);
/* Opens a buffer the caller keeps alive (tests, fuzzing). */
int exhi_logsrc_open_mem(const char *name, const void *data, size_t len,
                         exhi_logsrc **out, exh_error *err);
/* The next block of whole lines (the last may lack its '\n' at the end of
 * input, or when a line exceeded EXHI_LOG_LINE_MAX). *len == 0 at the end.
 * The block is valid until the next call. */
int exhi_logsrc_next(exhi_logsrc *s, const char **block, size_t *len, exh_error *err);
/* Lines that were longer than EXHI_LOG_LINE_MAX and were cut. */
uint64_t exhi_logsrc_cut_lines(const exhi_logsrc *s);
/* Bytes read from the file (compressed size for gzip). */
uint64_t exhi_logsrc_bytes_in(const exhi_logsrc *s);
int exhi_logsrc_is_gzip(const exhi_logsrc *s);
void exhi_logsrc_free(exhi_logsrc *s);

/* ---- formats ----------------------------------------------------------- */

/* What a log is, as rules name it in `logsource`. */
enum exhi_logkind {
  EXHI_LOG_UNKNOWN = 0, /* plain text lines: only keyword rules apply */
  EXHI_LOG_HTTPPROXY,   /* Logging/HttpProxy/<protocol> */
  EXHI_LOG_ECP_SERVER,  /* Logging/ECP/Server */
  EXHI_LOG_ECP_ACTIVITY,/* Logging/ECP/Activity */
  EXHI_LOG_OABGEN,      /* Logging/OABGeneratorLog */
  EXHI_LOG_EWS,         /* Logging/Ews */
  EXHI_LOG_RPS_CMDLET,  /* Logging/CmdletInfra/.../Rps_Cmdlet */
  EXHI_LOG_MSGTRK,      /* TransportRoles/Logs/MessageTracking */
  EXHI_LOG_EXCHANGE,    /* another Exchange CSV log */
  EXHI_LOG_IIS,         /* IIS W3C u_ex*.log */
  EXHI_LOG_EVTX,        /* Windows event log records (readers/evtx.h) */
  EXHI_LOG_KINDS
};
const char *exhi_logkind_name(int kind);

enum exhi_logsyntax { EXHI_SYN_TEXT = 0, EXHI_SYN_CSV = 1, EXHI_SYN_W3C = 2 };

/* The layout in force at a point of a file: set by the preamble, or guessed
 * from a row when there is none (the 2013 HttpProxy files). */
typedef struct exhi_logschema {
  int kind;          /* enum exhi_logkind */
  int syntax;        /* enum exhi_logsyntax */
  int guessed;       /* bound from a built-in layout, not a #Fields line */
  size_t nfields;
  const char *names[EXHI_LOG_MAX_FIELDS]; /* point into names_buf or static */
  int time_col, date_col; /* ISO DateTime column, or W3C date + time; -1 none */
  int ua_col;             /* cs(User-Agent) in W3C logs, or -1 */
  unsigned generation;    /* bumped on every change: cached bindings re-check */
  char log_type[64];      /* #Log-type, as written */
  char software[64];      /* #Software */
  char names_buf[EXHI_LOG_NAMES_MAX];
} exhi_logschema;

void exhi_logschema_init(exhi_logschema *s);
/* Marks the schema changed (a new, globally unique generation). */
void exhi_logschema_touch(exhi_logschema *s);
/* Applies a preamble line ("#Fields: ...", "#Log-type: ...", "# Fields: "...). */
void exhi_logschema_header(exhi_logschema *s, const char *line, size_t len);
/* Refines the kind from the file name (HttpProxy_..., u_ex..., a folder name)
 * when the content did not tell. */
void exhi_logschema_hint_path(exhi_logschema *s, const char *path);
/* The kind a file's name and folder suggest (EXHI_LOG_UNKNOWN: none). */
int exhi_logkind_of_path(const char *path);
/* For a data row when no #Fields line was seen: recognises the layouts that
 * come without one. Returns 1 when a layout was bound. */
int exhi_logschema_guess(exhi_logschema *s, const char *line, size_t len);
/* Index of a column by name (case-insensitive), or -1. */
int exhi_logschema_col(const exhi_logschema *s, const char *name);

/* One value: a view into the line. */
typedef struct exhi_logval {
  const char *p;
  uint32_t len;
  uint32_t escaped; /* quoted with "" inside: decode before comparing */
} exhi_logval;

typedef struct exhi_logrec {
  const exhi_logschema *schema;
  const char *line;
  size_t len;       /* without the line end */
  size_t nvals;
  int partial;      /* only the first columns were split (split_upto) */
  exhi_logval v[EXHI_LOG_MAX_FIELDS];
} exhi_logrec;

/* Splits a data line by the schema's syntax. Extra W3C tokens (a user agent
 * written with spaces) are folded into cs(User-Agent) when the count is off. */
void exhi_logrec_split(exhi_logrec *r, const exhi_logschema *s, const char *line, size_t len);
/* Like exhi_logrec_split, but may stop once columns [0, ncols) are bound
 * (sets r->partial then): a candidate line whose rules test the first
 * columns of a W3C or CSV line need not be split to its end. Split again
 * in full before reading any other column. */
void exhi_logrec_split_upto(exhi_logrec *r, const exhi_logschema *s, const char *line, size_t len,
                            size_t ncols);
/* The value of column col, decoded into buf when it was escaped (cut at
 * size-1). Sets *len; returns a pointer valid while the line and buf live;
 * NULL when the column is absent. */
const char *exhi_logrec_value(const exhi_logrec *r, int col, char *buf, size_t size,
                              size_t *len);
/* The event time in ms since the epoch, or -1. */
int64_t exhi_logrec_time(const exhi_logrec *r);

/* Parses "2021-03-03T06:21:03.123Z" (fraction optional) or, with tm != NULL,
 * a W3C date + time pair. Returns -1 when malformed. */
int64_t exhi_parse_iso_ms(const char *p, size_t len);
int64_t exhi_parse_w3c_ms(const char *d, size_t dlen, const char *t, size_t tlen);

#endif
