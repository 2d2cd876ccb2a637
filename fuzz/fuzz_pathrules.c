/* libFuzzer target: the path rules of `exhunt files` (rules/files/paths.csv
 * and users' own), the layout classifier and the random-name test, which
 * see attacker-chosen file paths. */
#include "files/rules.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void count(void *ctx, const exhi_pathrule *r) {
  (void)r;
  (*(size_t *)ctx)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > EXHI_PATHRULES_MAX_BYTES) return 0;
  exhi_pathrules p;
  exh_error err;
  if (exhi_pathrules_parse("fuzz.csv", (const char *)data, size, &p, &err) == EXH_OK) {
    if (p.n > EXHI_PATHRULES_MAX_RULES) abort();
    static const char *const paths[] = {
        "/c/Program Files/Microsoft/Exchange Server/V15/FrontEnd/HttpProxy/owa/auth/x1y2z3w4.aspx",
        "/c/inetpub/wwwroot/aspnet_client/system_web/a.aspx", "/c/Windows/Temp/lsass.dmp",
        "/c/ProgramData/a.7z", "/c/root/out.dmp", "/c/readme.txt"};
    static const unsigned char head[] = "!BDNMDMP\x93\xa7";
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
      size_t hits = 0;
      exhi_file_ctx fc = {.path = paths[i], .name = strrchr(paths[i], '/') + 1,
                          .loc = exhi_layout_classify(paths[i], 2), .mtime_ms = 1,
                          .dir_median_mtime_ms = -(40LL * 86400000), .dir_files = 9,
                          .head = head, .head_len = i};
      exhi_pathrules_eval(&p, &fc, count, &hits);
      if (hits > p.n) abort();
    }
    exhi_pathrules_free(&p);
  } else if (!memchr(err.text, '\0', sizeof err.text)) {
    abort();
  }
  /* The input as a path (a file name from evidence). */
  char *s = malloc(size + 1);
  if (!s) return 0;
  memcpy(s, data, size);
  s[size] = '\0';
  exhi_layout_classify(s, size / 2);
  const char *slash = strrchr(s, '/');
  exhi_name_looks_random(slash ? slash + 1 : s);
  unsigned mask;
  exhi_layout_parse(s, &mask);
  free(s);
  return 0;
}
