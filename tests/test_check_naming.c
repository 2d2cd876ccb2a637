/* exhunt check: an archive's evidence named as its members, never by the
 * temporary folder it was read from (src/check/naming.c). */
#include "exhunt.h"
#include "t.h"

static const char *shown(const char *in, size_t size) {
  static char buf[512];
  snprintf(buf, sizeof buf, "%s", in);
  exh_check_show_path(buf, size < sizeof buf ? size : sizeof buf, "/tmp/T/exhunt-check-ab12CD",
                      "cases/EXCH01.zip");
  return buf;
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
  return t_done("check-naming");
}
