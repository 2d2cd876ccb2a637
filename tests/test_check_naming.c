/* exhunt check: an archive's evidence named as its members, never by the
 * temporary folder it was read from (src/check/naming.c). */
#include "check/check.h"
#include "exhunt.h"
#include "t.h"

#include <stdlib.h>

static const char *shown(const char *in, size_t size) {
  static char buf[512];
  snprintf(buf, sizeof buf, "%s", in);
  exh_check_show_path(buf, size < sizeof buf ? size : sizeof buf, "/tmp/T/exhunt-check-ab12CD",
                      "cases/EXCH01.zip");
  return buf;
}

/* The Windows path of a file in a collection, or NULL ("-" here). */
static void wp(const char *path, const char *want) {
  char *w = exhi_windows_path(path);
  CHECK_STR(w ? w : "-", want);
  free(w);
}

static void windows_paths(void) {
  wp("/cases/EXCH01/C/inetpub/wwwroot/aspnet_client/x.aspx", "C:\\inetpub\\wwwroot\\aspnet_client\\x.aspx");
  wp("EXCH01.zip!/C/Windows/Temp/lsass.dmp", "C:\\Windows\\Temp\\lsass.dmp");
  wp("EXCH01.zip!/C:/Windows/Temp/lsass.dmp", "C:\\Windows\\Temp\\lsass.dmp");
  wp("v.zip!/uploads/auto/C%3A/Program%20Files/Microsoft/Exchange%20Server/V15/x%25y.aspx",
     "C:\\Program Files\\Microsoft\\Exchange Server\\V15\\x%y.aspx");
  wp("v.zip!/uploads/ntfs/%5C%5C.%5CD%3A/inetpub/a.aspx", "D:\\inetpub\\a.aspx");
  wp("k/d_/root/lsass.dmp", "D:\\root\\lsass.dmp");
  /* An encoded separator stays inside its name. */
  wp("v.zip!/uploads/auto/C%3A/inetpub/a%2F..%5Cb.aspx", "C:\\inetpub\\a_.._b.aspx");
  /* KAPE and zips copy names as they are: a '%' there is part of the name
   * on the server, decoded only below Velociraptor's encoded drive. */
  wp("/cases/EXCH01/C/inetpub/wwwroot/a%2easpx", "C:\\inetpub\\wwwroot\\a%2easpx");
  wp("EXCH01.zip!/C:/Program%20Files/x.aspx", "-");
  wp("EXCH01.zip!/C_/inetpub/a%41.aspx", "C:\\inetpub\\a%41.aspx");
  /* An encoded NUL neither ends the name nor the path. */
  wp("v.zip!/uploads/auto/C%3A/inetpub/a%00b.aspx", "C:\\inetpub\\a_b.aspx");
  /* Near misses: a one-letter folder above something else, no drive at all,
   * a drive folder with nothing below it, the archive's own name. */
  wp("/home/u/x/notes/a.txt", "-");
  wp("/mnt/ex01/inetpub/wwwroot/a.aspx", "-");
  wp("EXCH01.zip!/C", "-");
  wp("C/inetpub.zip!/logs/a.log", "-");
  wp("/data/CC/inetpub/a.aspx", "-");
}

int main(void) {
  /* A member, the folder itself, and both in one message. */
  CHECK_STR(shown("/tmp/T/exhunt-check-ab12CD/C/inetpub/x.aspx", 512),
            "cases/EXCH01.zip!/C/inetpub/x.aspx");
  CHECK_STR(shown("/tmp/T/exhunt-check-ab12CD", 512), "cases/EXCH01.zip");
  CHECK_STR(shown("/tmp/T/exhunt-check-ab12CD/a: cannot read; then /tmp/T/exhunt-check-ab12CD/b", 512),
            "cases/EXCH01.zip!/a: cannot read; then cases/EXCH01.zip!/b");
  CHECK_STR(shown("\"/tmp/T/exhunt-check-ab12CD\": no evidence", 512), "\"cases/EXCH01.zip\": no evidence");
  /* Near misses: a longer folder name that starts the same, another folder. */
  CHECK_STR(shown("/tmp/T/exhunt-check-ab12CDE/C/x", 512), "/tmp/T/exhunt-check-ab12CDE/C/x");
  CHECK_STR(shown("/tmp/T/exhunt-check-ab12CD.old/C/x", 512), "/tmp/T/exhunt-check-ab12CD.old/C/x");
  CHECK_STR(shown("/tmp/T/exhunt-check-zz99ZZ/C/x", 512), "/tmp/T/exhunt-check-zz99ZZ/C/x");
  CHECK_STR(shown("", 512), "");
  /* Cut to the buffer, never past it, still terminated. */
  CHECK_STR(shown("/tmp/T/exhunt-check-ab12CD/C/inetpub/x.aspx", 12), "cases/EXCH0");
  /* NULL arguments leave the text alone. */
  char t[] = "/tmp/T/exhunt-check-ab12CD/C";
  exh_check_show_path(t, sizeof t, NULL, "a.zip");
  exh_check_show_path(t, sizeof t, "/tmp/T/exhunt-check-ab12CD", NULL);
  CHECK_STR(t, "/tmp/T/exhunt-check-ab12CD/C");
  windows_paths();
  return t_done("check-naming");
}
