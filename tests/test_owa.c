#include "t.h"

#include "core/internal.h"
#include "readers/owa.h"

#include <stdlib.h>

static const char *dir;

static int page(const char *name, exh_build *b, bool *owa, exh_error *e) {
  char path[4096];
  snprintf(path, sizeof path, "%s/owa/%s", dir, name);
  unsigned char *buf;
  size_t len;
  if (exhi_read_file(path, 1 << 20, &buf, &len, e)) return -1;
  int rc = exhi_owa_page_build((const char *)buf, len, name, b, owa, e);
  free(buf);
  return rc;
}

int main(int argc, char **argv) {
  dir = argc > 1 ? argv[1] : "tests/fixtures";
  exh_build b;
  bool owa;
  exh_error e;
  char s[64];
  CHECK_INT(page("owa-2016-cu19.html", &b, &owa, &e), EXH_OK);
  exh_build_format(&b, s, sizeof s);
  CHECK_STR(s, "15.1.2176");
  CHECK_INT(b.parts, 3);
  CHECK(owa);
  CHECK_INT(page("owa-2010-sp3.html", &b, &owa, &e), EXH_OK);
  exh_build_format(&b, s, sizeof s);
  CHECK_STR(s, "14.3.123.4");
  CHECK_INT(page("owa-no-version.html", &b, &owa, &e), EXH_ERR_NOTFOUND);
  CHECK(owa);
  CHECK_CONTAINS(e.text, "without a versioned");
  CHECK_INT(page("not-owa.html", &b, &owa, &e), EXH_ERR_NOTFOUND);
  CHECK(!owa);
  /* Near misses: a version-like path that is not followed by '/', too many
   * parts, and a digit run longer than any build part. */
  const char *t1 = "<a href=\"/owa/15.1.2176.2.1/x\">/owa/auth/15.1.2176\"</a> /owa/auth/1234567890.1.1/";
  CHECK_INT(exhi_owa_page_build(t1, strlen(t1), "t1", &b, &owa, &e), EXH_ERR_NOTFOUND);
  /* A page with both forms: the 4-part path refines the 3-part one. */
  const char *t2 = "/owa/auth/15.0.1497/themes/a.css /owa/15.0.1497.2/themes/b.css";
  CHECK_INT(exhi_owa_page_build(t2, strlen(t2), "t2", &b, &owa, &e), EXH_OK);
  exh_build_format(&b, s, sizeof s);
  CHECK_STR(s, "15.0.1497.2");
  /* Case-insensitive, as IIS is. */
  const char *t3 = "<link href=\"/OWA/Auth/15.2.1748/themes/resources/favicon.ico\">";
  CHECK_INT(exhi_owa_page_build(t3, strlen(t3), "t3", &b, &owa, &e), EXH_OK);
  CHECK_INT(b.build, 1748);
  /* A page cut off in the middle of a path. */
  const char *t4 = "/owa/auth/15.1.21";
  CHECK_INT(exhi_owa_page_build(t4, strlen(t4), "t4", &b, &owa, &e), EXH_ERR_NOTFOUND);
  return t_done("test_owa");
}
