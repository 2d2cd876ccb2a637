/* libFuzzer target: exhunt scan --resume's completion log reader, fed
 * through a FILE as exhi_resume_open reads a log left by a crash (or by
 * anyone who could write beside the output). */
#include "scan/scan.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The scan the seeds' headers name ("exhunt-scan-resume 1 0123456789abcdef"). */
#define IDENTITY UINT64_C(0x0123456789abcdef)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!size) return 0; /* fmemopen needs a buffer; an empty log is a new scan */
  FILE *f = fmemopen((void *)(uintptr_t)data, size, "r");
  if (!f) return 0;
  exhi_resume r;
  memset(&r, 0, sizeof r);
  long long good_end = -1, out_end = -1;
  exh_error err;
  int rc = exhi_resume_read(&r, f, "fuzz.resume", IDENTITY, &good_end, &out_end, &err);
  fclose(f);
  if (rc == EXH_OK) {
    /* What is kept is whole lines of the input, the offsets in them. */
    if (good_end < 0 || (unsigned long long)good_end > size || out_end < 0) abort();
    if (good_end > 0 && data[good_end - 1] != '\n') abort();
    if (r.n > size / 4) abort(); /* an entry takes at least "0 0\n" */
    for (size_t i = 0; i < r.cap; i++)
      if (r.set[i] && !exhi_resume_done(&r, r.set[i] - 1)) abort();
  } else if (!memchr(err.text, '\0', sizeof err.text) || strncmp(err.text, "fuzz.resume: ", 13)) {
    abort(); /* every error names the log */
  }
  free(r.set);
  return 0;
}
