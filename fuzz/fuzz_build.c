/* libFuzzer target: exh_build_parse, the parser of pasted build strings.
 * Besides "no crash, no leak" it checks that a parsed build prints to a
 * string that parses back to the same build. */
#include "exhunt.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* exh_build_parse refuses more than 4096 bytes itself: feed it anything. */
  exh_build b;
  exh_error err;
  int admin = -1;
  int rc = exh_build_parse((const char *)data, size, &b, &admin, &err);
  if (rc != EXH_OK) {
    if (!memchr(err.text, '\0', sizeof err.text)) abort(); /* unterminated error text */
    return 0;
  }
  if ((b.parts != 3 && b.parts != 4) || (admin != 0 && admin != 1)) abort();
  if (admin && b.parts != 4) abort();
  exh_build_parse((const char *)data, size, &b, NULL, NULL); /* NULL out-params are allowed */

  char text[64];
  size_t n = exh_build_format(&b, text, sizeof text);
  if (n == 0 || n >= sizeof text) abort();
  exh_build again;
  if (exh_build_parse(text, n, &again, NULL, &err) != EXH_OK) abort();
  if (exh_build_cmp(&b, &again) != 0 || exh_build_cmp(&again, &b) != 0 || again.parts != b.parts)
    abort();
  return 0;
}
