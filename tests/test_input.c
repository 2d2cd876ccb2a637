/* Inputs as users give them: strings, ExSetup.exe, install folders and
 * mounted volumes (case-insensitive, links not followed, atimes kept). */
#define _GNU_SOURCE
#include "t.h"

#include "core/internal.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

static const char *dir;
static char tmp[64];

static void mkdirs(const char *rel) {
  char p[1024];
  snprintf(p, sizeof p, "%s/%s", tmp, rel);
  for (char *s = p + strlen(tmp) + 1; *s; s++)
    if (*s == '/') {
      *s = '\0';
      mkdir(p, 0755);
      *s = '/';
    }
  mkdir(p, 0755);
}

static void copy_fixture(const char *fixture, const char *rel) {
  char src[1024], dst[1024];
  snprintf(src, sizeof src, "%s/pe/%s", dir, fixture);
  snprintf(dst, sizeof dst, "%s/%s", tmp, rel);
  unsigned char *buf;
  size_t len;
  exh_error e;
  if (exhi_read_file(src, 1 << 20, &buf, &len, &e)) {
    fprintf(stderr, "%s\n", e.text);
    exit(1);
  }
  FILE *f = fopen(dst, "wb");
  fwrite(buf, 1, len, f);
  fclose(f);
  free(buf);
}

static void strings(void) {
  exh_input_build in;
  exh_error e;
  CHECK_INT(exh_input_read("15.01.2176.009", &in, &e), EXH_OK);
  CHECK_INT(in.kind, EXH_INPUT_STRING);
  CHECK_INT(in.precision, EXH_PRECISION_EXACT);
  CHECK_INT(exh_input_read("Version 15.1 (Build 2176.2)", &in, &e), EXH_OK);
  CHECK_INT(in.precision, EXH_PRECISION_CU);
  CHECK_INT(exh_input_read("garbage", &in, &e), EXH_ERR_PARSE);
  CHECK_CONTAINS(e.text, "garbage: no build number");
  CHECK_CONTAINS(e.text, "nor is it a file or folder");
  CHECK_INT(exh_input_read("/no/such/ExSetup.exe", &in, &e), EXH_ERR_IO);
  CHECK_CONTAINS(e.text, "/no/such/ExSetup.exe: cannot open");
  CHECK_INT(exh_input_read("", &in, &e), EXH_ERR_INVALID);
  /* control characters in an input are not echoed raw */
  CHECK_INT(exh_input_read("\x1b[31mevil", &in, &e), EXH_ERR_PARSE);
  CHECK(strchr(e.text, '\x1b') == NULL);
  CHECK_CONTAINS(e.text, "\\x1b[31mevil");
}

static void folders(void) {
  exh_input_build in;
  exh_error e;
  char p[1024];
  /* a mounted system volume, names in Windows' mixed case */
  mkdirs("vol/PROGRAM FILES/microsoft/Exchange Server/V15/bin");
  copy_fixture("exsetup-2016-cu19-mar21su-x64.exe", "vol/PROGRAM FILES/microsoft/Exchange Server/V15/bin/EXSETUP.EXE");
  snprintf(p, sizeof p, "%s/vol", tmp);
  /* set an old access time: reading must not change it */
  char exe[1024];
  snprintf(exe, sizeof exe, "%s/vol/PROGRAM FILES/microsoft/Exchange Server/V15/bin/EXSETUP.EXE", tmp);
  struct timespec ts[2] = {{1000000000, 0}, {1000000000, 0}};
  CHECK_INT(utimensat(AT_FDCWD, exe, ts, 0), 0);
  CHECK_INT(exh_input_read(p, &in, &e), EXH_OK);
  CHECK_INT(in.kind, EXH_INPUT_FOLDER);
  char s[64];
  exh_build_format(&in.build, s, sizeof s);
  CHECK_STR(s, "15.1.2176.9");
  CHECK_CONTAINS(in.path, "EXSETUP.EXE");
  CHECK_CONTAINS(in.detail, "15.01.2176.009");
  struct stat st;
  CHECK_INT(stat(exe, &st), 0);
  CHECK_INT(st.st_atim.tv_sec, 1000000000);
  CHECK_INT(st.st_mtim.tv_sec, 1000000000);

  /* an install folder (V15) given directly */
  snprintf(p, sizeof p, "%s/vol/PROGRAM FILES/microsoft/Exchange Server/V15", tmp);
  CHECK_INT(exh_input_read(p, &in, &e), EXH_OK);
  /* an install in a custom place, found by the bounded search */
  mkdirs("d/Apps/Exch/V15/Bin");
  copy_fixture("exsetup-se-rtm-feb26su-x64.exe", "d/Apps/Exch/V15/Bin/ExSetup.exe");
  snprintf(p, sizeof p, "%s/d", tmp);
  CHECK_INT(exh_input_read(p, &in, &e), EXH_OK);
  exh_build_format(&in.build, s, sizeof s);
  CHECK_STR(s, "15.2.2562.37");
  /* a link out of the tree is not followed */
  mkdirs("linked");
  char target[1024], link[1024];
  snprintf(target, sizeof target, "%s/d/Apps", tmp);
  snprintf(link, sizeof link, "%s/linked/Apps", tmp);
  CHECK_INT(symlink(target, link), 0);
  snprintf(p, sizeof p, "%s/linked", tmp);
  CHECK_INT(exh_input_read(p, &in, &e), EXH_ERR_NOTFOUND);
  CHECK_CONTAINS(e.text, "no Bin/ExSetup.exe in this folder");
  /* a folder without Exchange */
  mkdirs("empty/Windows/System32");
  snprintf(p, sizeof p, "%s/empty", tmp);
  CHECK_INT(exh_input_read(p, &in, &e), EXH_ERR_NOTFOUND);
}

static void files(void) {
  exh_input_build in;
  exh_error e;
  char p[1024];
  snprintf(p, sizeof p, "%s/pe/exsetup-2010-sp3-ru32-x86.exe", dir);
  CHECK_INT(exh_input_read(p, &in, &e), EXH_OK);
  CHECK_INT(in.kind, EXH_INPUT_EXSETUP);
  CHECK_INT(in.build.major, 14);
  snprintf(p, sizeof p, "%s/pe/string-differs-x64.exe", dir);
  CHECK_INT(exh_input_read(p, &in, &e), EXH_OK);
  CHECK_CONTAINS(in.detail, "15.01.2507.006 (Custom build)");
  snprintf(p, sizeof p, "%s/pe/no-version-resource-x64.exe", dir);
  CHECK_INT(exh_input_read(p, &in, &e), EXH_ERR_NOTFOUND);
  CHECK_CONTAINS(e.text, "no-version-resource-x64.exe: PE file has no resources");
  snprintf(p, sizeof p, "%s/owa/owa-2016-cu19.html", dir);
  CHECK_INT(exh_input_read(p, &in, &e), EXH_OK);
  CHECK_INT(in.kind, EXH_INPUT_OWA_PAGE);
  CHECK_INT(in.precision, EXH_PRECISION_CU);
  snprintf(p, sizeof p, "%s/owa/not-owa.html", dir);
  CHECK_INT(exh_input_read(p, &in, &e), EXH_ERR_PARSE);
  CHECK_CONTAINS(e.text, "neither a PE file");
  CHECK_INT(exh_input_read("/dev/null", &in, &e), EXH_ERR_IO);
}

int main(int argc, char **argv) {
  dir = argc > 1 ? argv[1] : "tests/fixtures";
  snprintf(tmp, sizeof tmp, "/tmp/exhunt-input-XXXXXX");
  if (!mkdtemp(tmp)) return 1;
  strings();
  folders();
  files();
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
  CHECK_INT(system(cmd), 0);
  return t_done("test_input");
}
