/* Runs a fuzz target's LLVMFuzzerTestOneInput on saved inputs, for builds
 * without libFuzzer: each argument is a file or a folder whose regular files
 * (not recursive) are inputs. A crash is the failure; under the sanitizer
 * build ASan and UBSan make every memory error one. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef FUZZ_TARGET
#define FUZZ_TARGET "target"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reads the file into a buffer of exactly its size, so that ASan reports a
 * read past the end of the input. */
static int run_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "fuzz-replay %s: %s: %s\n", FUZZ_TARGET, path, strerror(errno));
    return -1;
  }
  size_t cap = 4096, len = 0;
  uint8_t *buf = malloc(cap);
  for (;;) {
    if (!buf) break;
    if (len == cap) {
      uint8_t *nb = realloc(buf, cap *= 2);
      if (!nb) {
        free(buf);
        buf = NULL;
        break;
      }
      buf = nb;
    }
    size_t n = fread(buf + len, 1, cap - len, f);
    len += n;
    if (n == 0) break;
  }
  int bad = !buf || ferror(f);
  fclose(f);
  if (bad) {
    fprintf(stderr, "fuzz-replay %s: %s: read error or out of memory\n", FUZZ_TARGET, path);
    free(buf);
    return -1;
  }
  uint8_t *exact = malloc(len ? len : 1);
  if (!exact) {
    free(buf);
    return -1;
  }
  if (len) memcpy(exact, buf, len);
  free(buf);
  LLVMFuzzerTestOneInput(exact, len);
  free(exact);
  return 0;
}

static int only_files(const struct dirent *d) { return d->d_name[0] != '.'; }

int main(int argc, char **argv) {
  size_t inputs = 0;
  int failed = 0;
  for (int i = 1; i < argc; i++) {
    struct stat st;
    if (stat(argv[i], &st) != 0) {
      fprintf(stderr, "fuzz-replay %s: %s: %s\n", FUZZ_TARGET, argv[i], strerror(errno));
      failed = 1;
      continue;
    }
    if (!S_ISDIR(st.st_mode)) {
      if (run_file(argv[i])) failed = 1;
      else inputs++;
      continue;
    }
    struct dirent **ents;
    int n = scandir(argv[i], &ents, only_files, alphasort);
    if (n < 0) {
      fprintf(stderr, "fuzz-replay %s: %s: %s\n", FUZZ_TARGET, argv[i], strerror(errno));
      failed = 1;
      continue;
    }
    for (int k = 0; k < n; k++) {
      size_t plen = strlen(argv[i]) + strlen(ents[k]->d_name) + 2;
      char *path = malloc(plen);
      if (path) {
        snprintf(path, plen, "%s/%s", argv[i], ents[k]->d_name);
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
          if (run_file(path)) failed = 1;
          else inputs++;
        }
      } else {
        failed = 1;
      }
      free(path);
      free(ents[k]);
    }
    free(ents);
  }
  printf("fuzz-replay %s: %zu inputs\n", FUZZ_TARGET, inputs);
  return failed;
}
