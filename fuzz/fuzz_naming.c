/* libFuzzer target: exhunt check's naming of an archive's evidence
 * (src/check/naming.c). Member names come from the archive, so both the
 * renaming of texts that hold them and the Windows path made from a
 * collection's path see attacker-controlled bytes. The input is one path
 * (or message); it is renamed into buffers of several sizes, which must stay
 * terminated and never name the temporary folder's own string when the
 * input began with it, and its Windows path must never be longer than it. */
#include "check/check.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define DIR "/tmp/T/exhunt-check-ab12CD"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 8192) return 0;
  char in[8193 + sizeof DIR];
  memcpy(in, data, size);
  in[size] = '\0';
  char *w = exhi_windows_path(in);
  if (w && strlen(w) > strlen(in) + 2) abort(); /* "C:" added, nothing else grows */
  free(w);
  static const size_t sizes[] = {1, 7, 64, 4096};
  for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
    char buf[4096];
    size_t n = sizes[i];
    memcpy(buf, in, size < n ? size : n - 1);
    buf[size < n ? size : n - 1] = '\0';
    exh_check_show_path(buf, n, DIR, "EXCH01.zip");
    if (!memchr(buf, '\0', n)) abort();
  }
  /* The folder followed by the input: renamed whatever follows. */
  char buf[sizeof in + 64];
  memcpy(buf, DIR, sizeof DIR - 1);
  memcpy(buf + sizeof DIR - 1, in, size + 1);
  exh_check_show_path(buf, sizeof buf, DIR, "EXCH01.zip");
  if (!strncmp(buf, DIR, sizeof DIR - 1) && !strncmp(buf + sizeof DIR - 1, "/", 1)) abort();
  return 0;
}
