#include "internal.h"

#include <stdio.h>
#include <string.h>

const char *exh_strerror(int code) {
  switch (code) {
  case EXH_OK: return "success";
  case EXH_ERR_NOMEM: return "out of memory";
  case EXH_ERR_IO: return "cannot read input";
  case EXH_ERR_PARSE: return "malformed input";
  case EXH_ERR_LIMIT: return "input exceeds a limit";
  case EXH_ERR_NOTFOUND: return "not found";
  case EXH_ERR_INVALID: return "invalid argument";
  case EXH_ERR_DATA: return "inconsistent data table";
  default: return "unknown error";
  }
}

int exhi_verr(exh_error *err, int code, const char *where, long long line,
              long long offset, const char *fmt, va_list ap) {
  if (!err) return code;
  err->code = code;
  size_t n = 0;
  size_t cap = sizeof(err->text);
  int w;
  err->text[0] = '\0';
  if (where && *where) {
    /* Evidence names are attacker-chosen: keep them printable. */
    n = exhi_escape_terminal(where, err->text, cap / 2);
    w = snprintf(err->text + n, cap - n, ": ");
    if (w > 0) n += (size_t)w;
  }
  if (line > 0 && n < cap) {
    w = snprintf(err->text + n, cap - n, "line %lld: ", line);
    if (w > 0) n += (size_t)w;
  }
  if (offset >= 0 && n < cap) {
    w = snprintf(err->text + n, cap - n, "offset 0x%llx: ", offset);
    if (w > 0) n += (size_t)w;
  }
  if (n < cap) vsnprintf(err->text + n, cap - n, fmt, ap);
  return code;
}

int exhi_err(exh_error *err, int code, const char *where, long long line,
             long long offset, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  exhi_verr(err, code, where, line, offset, fmt, ap);
  va_end(ap);
  return code;
}

void exhi_err_prefix(exh_error *err, const char *prefix) {
  if (!err || !prefix || !*prefix) return;
  char old[EXH_ERROR_TEXT_MAX];
  exhi_strlcpy(old, err->text, sizeof old);
  char esc[EXH_ERROR_TEXT_MAX / 2];
  exhi_escape_terminal(prefix, esc, sizeof esc);
  snprintf(err->text, sizeof err->text, "%s: %s", esc, old);
}
