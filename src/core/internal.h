/*
 * Internal API shared across libexhunt's files: the "exhi_" tier. Nothing
 * here is exported from the shared library; tests link the static one.
 */
#ifndef EXHUNT_INTERNAL_H
#define EXHUNT_INTERNAL_H

#include "exhunt.h"

#include <stdarg.h>
#include <stdbool.h>

#define EXHI_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define EXHI_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- limits: every size fed by evidence is bounded here ---------------- */

/* ExSetup.exe is a few hundred KiB; other Exchange PE files stay well under
 * 64 MiB. Anything larger is not what the user meant to give us. */
#define EXHI_PE_MAX_BYTES (64u << 20)
/* A saved OWA logon page is ~30 KiB; 8 MiB leaves room for inlined assets. */
#define EXHI_OWA_MAX_BYTES (8u << 20)
/* Data tables are a few hundred rows; 16 MiB keeps a hostile --data folder
 * from exhausting memory. */
#define EXHI_TABLE_MAX_BYTES (16u << 20)
/* One build string as pasted: a line of a CMDB export at most. */
#define EXHI_BUILD_TEXT_MAX 4096
/* Folder search for Bin/ExSetup.exe on a mounted volume: deep enough for
 * "D:\Apps\Microsoft\Exchange Server\V15\Bin", shallow enough to stay fast. */
#define EXHI_FIND_MAX_DEPTH 6
#define EXHI_FIND_MAX_ENTRIES 200000

/* ---- errors ------------------------------------------------------------ */

/* Sets err (if non-NULL) and returns code, so callers can `return exhi_err(...)`.
 * where: the input (file name, "argument", "stdin"), may be NULL;
 * line > 0 and offset >= 0 are printed when given. */
int exhi_err(exh_error *err, int code, const char *where, long long line,
             long long offset, const char *fmt, ...) EXHI_PRINTF(6, 7);
int exhi_verr(exh_error *err, int code, const char *where, long long line,
              long long offset, const char *fmt, va_list ap);
/* Prefixes an existing error text with "prefix: " (keeps the code). */
void exhi_err_prefix(exh_error *err, const char *prefix);

/* ---- strings ----------------------------------------------------------- */

/* Copies at most size-1 bytes and terminates; returns the source length. */
size_t exhi_strlcpy(char *dst, const char *src, size_t size);
bool exhi_ascii_ieq(const char *a, size_t alen, const char *b);
/* Writes text with control bytes, DEL and invalid UTF-8 shown as \xNN so that
 * attacker-chosen strings cannot drive a terminal. */
void exhi_fputs_safe(FILE *fp, const char *s);
size_t exhi_escape_terminal(const char *s, char *out, size_t size);
/* Copies s into out replacing each byte of an invalid UTF-8 sequence with
 * U+FFFD, so JSON writers accept it. Returns out. */
char *exhi_utf8_sanitize(const char *s, char *out, size_t size);
/* The '\n' bytes in p[0..n) (AVX2 where the CPU has it, else SSE2). */
uint64_t exhi_count_newlines(const char *p, size_t n);

/* ---- files: read-only, never touching access times --------------------- */

/* Opens for reading with O_NOATIME where the OS lets us. */
int exhi_open_ro(const char *path);
/* Reads a whole regular file of at most max bytes into a new buffer (caller
 * frees). Errors name the path. */
int exhi_read_file(const char *path, size_t max, unsigned char **buf,
                   size_t *len, exh_error *err);

/* ---- embedded data ------------------------------------------------------ */

typedef struct exhi_embedded_file {
  const char *name;
  const unsigned char *data;
  size_t len;
} exhi_embedded_file;
extern const exhi_embedded_file exhi_embedded_files[];
extern const size_t exhi_embedded_count;

/* ---- time -------------------------------------------------------------- */

int64_t exhi_now_ms(void);
/* "YYYY-MM-DD" for the current UTC day into buf (>= 11 bytes). */
void exhi_today(char *buf, size_t size);
/* Formats ms since the epoch as RFC 3339 UTC with milliseconds. */
void exhi_format_time_ms(int64_t ms, char *buf, size_t size);
/* Checks "YYYY-MM-DD" shape and ranges. */
bool exhi_valid_date(const char *s);

#endif
