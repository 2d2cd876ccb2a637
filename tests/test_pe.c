/* PE version resources: real MinGW-built files (fixtures/pe, see its
 * README) and hostile variants made from them. */
#include "t.h"

#include "core/internal.h"
#include "readers/pe.h"

#include <stdlib.h>

static const char *dir;

static unsigned char *load(const char *name, size_t *len) {
  char path[4096];
  snprintf(path, sizeof path, "%s/pe/%s", dir, name);
  unsigned char *buf;
  exh_error e;
  if (exhi_read_file(path, 1 << 20, &buf, len, &e) != EXH_OK) {
    fprintf(stderr, "fixture: %s\n", e.text);
    exit(1);
  }
  return buf;
}

typedef struct want {
  const char *file;
  const char *fixed;
  const char *string;
} want;

static const want wants[] = {
    {"exsetup-se-rtm-feb26su-x64.exe", "15.2.2562.37", "15.02.2562.037"},
    {"exsetup-2016-cu19-x86.exe", "15.1.2176.2", "15.01.2176.002"},
    {"exsetup-2016-cu19-mar21su-x64.exe", "15.1.2176.9", "15.01.2176.009"},
    {"exsetup-2010-sp3-ru32-x86.exe", "14.3.513.0", "14.03.0513.000"},
    {"string-differs-x64.exe", "15.1.2507.6", "15.01.2507.006 (Custom build)"},
    {"exsetup-2019-cu15-feb26su-x64.dll", "15.2.1748.43", "15.02.1748.043"},
};

static void good_files(void) {
  for (size_t i = 0; i < sizeof wants / sizeof wants[0]; i++) {
    size_t len;
    unsigned char *buf = load(wants[i].file, &len);
    exhi_pe_version v;
    exh_error e;
    int rc = exhi_pe_read_version(buf, len, wants[i].file, &v, &e);
    if (rc) fprintf(stderr, "  %s\n", e.text);
    CHECK_INT(rc, EXH_OK);
    CHECK(v.has_fixed);
    char s[64];
    exh_build_format(&v.fixed, s, sizeof s);
    CHECK_STR(s, wants[i].fixed);
    CHECK_STR(v.file_version, wants[i].string);
    CHECK_CONTAINS(v.product_name, "Exchange");
    free(buf);
  }
}

static void missing(void) {
  size_t len;
  exhi_pe_version v;
  exh_error e;
  unsigned char *buf = load("no-version-resource-x64.exe", &len);
  CHECK_INT(exhi_pe_read_version(buf, len, "x.exe", &v, &e), EXH_ERR_NOTFOUND);
  CHECK_CONTAINS(e.text, "x.exe: PE file has no resources");
  free(buf);
  buf = load("other-resource-only-x64.exe", &len);
  CHECK_INT(exhi_pe_read_version(buf, len, "y.exe", &v, &e), EXH_ERR_NOTFOUND);
  CHECK_CONTAINS(e.text, "no version resource");
  free(buf);
  const char *txt = "hello, not a PE";
  CHECK_INT(exhi_pe_read_version((const unsigned char *)txt, strlen(txt), "t", &v, &e), EXH_ERR_PARSE);
  CHECK_CONTAINS(e.text, "no MZ header");
}

/* Every truncation of a real file fails cleanly or (past the resource)
 * still reads the same version; never reads out of bounds (ASan run). */
static void truncations(void) {
  size_t len;
  unsigned char *buf = load("exsetup-se-rtm-feb26su-x64.exe", &len);
  int ok = 0, failed = 0, other = 0;
  for (size_t n = 0; n <= len; n++) {
    unsigned char *copy = malloc(n ? n : 1);
    memcpy(copy, buf, n);
    exhi_pe_version v;
    exh_error e;
    int rc = exhi_pe_read_version(copy, n, "t", &v, &e);
    if (rc == EXH_OK) {
      char s[64];
      exh_build_format(&v.fixed, s, sizeof s);
      if (strcmp(s, "15.2.2562.37") == 0) ok++;
      else other++;
    } else {
      failed++;
      if (!e.text[0]) other++;
    }
    free(copy);
  }
  CHECK(failed > 0);
  CHECK(ok > 0);
  CHECK_INT(other, 0);
  free(buf);
}

static uint32_t rng_state = 12345;
static uint32_t rnd(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 17;
  rng_state ^= rng_state << 5;
  return rng_state;
}

/* Random corruption of headers and resource bytes: no crash, and every
 * failure has a message. */
static void corruptions(void) {
  size_t len;
  unsigned char *buf = load("exsetup-2016-cu19-x86.exe", &len);
  int silent = 0;
  for (int round = 0; round < 20000; round++) {
    unsigned char *copy = malloc(len);
    memcpy(copy, buf, len);
    int flips = 1 + (int)(rnd() % 8);
    for (int k = 0; k < flips; k++) copy[rnd() % len] = (unsigned char)rnd();
    exhi_pe_version v;
    exh_error e = {0};
    if (exhi_pe_read_version(copy, len, "c", &v, &e) != EXH_OK && !e.text[0]) silent++;
    free(copy);
  }
  CHECK_INT(silent, 0);
  free(buf);
}

static void put32(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)v;
  p[1] = (unsigned char)(v >> 8);
  p[2] = (unsigned char)(v >> 16);
  p[3] = (unsigned char)(v >> 24);
}

/* Hand-made hostile headers, each named after what it pins. */
static void hostile(void) {
  unsigned char f[1024] = {'M', 'Z'};
  exhi_pe_version v;
  exh_error e;
  /* e_lfanew pointing past the end of the file */
  put32(f + 0x3C, 0xFFFFFFF0u);
  CHECK_INT(exhi_pe_read_version(f, sizeof f, "lfanew-past-end", &v, &e), EXH_ERR_PARSE);
  CHECK_CONTAINS(e.text, "no PE signature");
  /* a PE header claiming 65535 sections */
  put32(f + 0x3C, 0x40);
  memcpy(f + 0x40, "PE\0\0", 4);
  f[0x46] = 0xFF;
  f[0x47] = 0xFF;
  f[0x54] = 0xF0; /* SizeOfOptionalHeader */
  f[0x58] = 0x0b;
  f[0x59] = 0x02; /* PE32+ */
  CHECK_INT(exhi_pe_read_version(f, sizeof f, "many-sections", &v, &e), EXH_ERR_PARSE);
  CHECK_CONTAINS(e.text, "sections");
  /* the resource directory's RVA outside every section */
  f[0x46] = 1;
  f[0x47] = 0;
  put32(f + 0x58 + 108, 16);         /* NumberOfRvaAndSizes */
  put32(f + 0x58 + 112 + 16, 0x9000); /* resource RVA */
  put32(f + 0x58 + 112 + 20, 0x100);
  size_t sec = 0x58 + 0xF0;
  put32(f + sec + 8, 0x200);  /* VirtualSize */
  put32(f + sec + 12, 0x1000); /* VirtualAddress */
  put32(f + sec + 16, 0x200);  /* SizeOfRawData */
  put32(f + sec + 20, 0x200);  /* PointerToRawData */
  CHECK_INT(exhi_pe_read_version(f, sizeof f, "rsrc-outside", &v, &e), EXH_ERR_PARSE);
  CHECK_CONTAINS(e.text, "outside every section");
  /* a resource directory whose entry points back at itself */
  put32(f + 0x58 + 112 + 16, 0x1000);
  memset(f + 0x200, 0, 0x200);
  f[0x200 + 14] = 1; /* one id entry */
  put32(f + 0x200 + 16, 16);
  put32(f + 0x200 + 20, 0x80000000u); /* subdirectory at offset 0: itself */
  CHECK_INT(exhi_pe_read_version(f, sizeof f, "dir-loop", &v, &e), EXH_ERR_PARSE);
  /* a data entry claiming a 4 GiB version resource */
  put32(f + 0x200 + 20, 0x80000018u); /* level 2 at 0x18 */
  f[0x200 + 0x18 + 14] = 1;
  put32(f + 0x200 + 0x18 + 16, 1);
  put32(f + 0x200 + 0x18 + 20, 0x80000030u); /* level 3 at 0x30 */
  f[0x200 + 0x30 + 14] = 1;
  put32(f + 0x200 + 0x30 + 16, 0x409);
  put32(f + 0x200 + 0x30 + 20, 0x48); /* data entry at 0x48 */
  put32(f + 0x200 + 0x48, 0x1060);
  put32(f + 0x200 + 0x4C, 0xFFFFFFFFu);
  CHECK_INT(exhi_pe_read_version(f, sizeof f, "huge-data", &v, &e), EXH_ERR_PARSE);
  CHECK_CONTAINS(e.text, "larger than any real one");
  /* the same entry with a sane size but a VS_VERSION_INFO length past its end */
  put32(f + 0x200 + 0x4C, 0x40);
  f[0x260] = 0xFF; /* wLength 0xFFFF */
  f[0x261] = 0xFF;
  CHECK_INT(exhi_pe_read_version(f, sizeof f, "block-past-end", &v, &e), EXH_ERR_PARSE);
  CHECK_CONTAINS(e.text, "VS_VERSION_INFO");
}

int main(int argc, char **argv) {
  dir = argc > 1 ? argv[1] : "tests/fixtures";
  good_files();
  missing();
  truncations();
  corruptions();
  hostile();
  return t_done("test_pe");
}
