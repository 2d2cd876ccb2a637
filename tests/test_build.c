/* Build-string parsing: every form people paste, and the garbage that must
 * be refused with a reason. */
#include "t.h"

#include "core/internal.h"

typedef struct good {
  const char *text;
  const char *want; /* short form */
  int admin;
} good;

static const good goods[] = {
    {"15.1.2176.2", "15.1.2176.2", 0},
    {"15.01.2176.002", "15.1.2176.2", 0},
    {"  15.01.2176.009\r\n", "15.1.2176.9", 0},
    {"Version 15.1 (Build 2176.2)", "15.1.2176.2", 1},
    {"Microsoft Exchange Server 2016 Version 15.1 (Build 2176.2)", "15.1.2176.2", 1},
    {"version 15.2 ( build 1748.10 )", "15.2.1748.10", 1},
    {"Exchange Server 2016 CU19 (15.1.2176.2)", "15.1.2176.2", 0},
    {"Exchange Server 2019 CU15 Feb26SU 15.2.1748.43", "15.2.1748.43", 0},
    {"Exchange/15.01.2176.009", "15.1.2176.9", 0},
    {"15.1.2176", "15.1.2176", 0},
    {"v15.2.2562.37", "15.2.2562.37", 0},
    {"mail01;192.168.1.10;Exchange 2016;15.1.2507.6", "15.1.2507.6", 0},
    {"14.03.0513.000", "14.3.513.0", 0},
    {"15.1.2176.9 15.01.2176.009", "15.1.2176.9", 0}, /* same build twice */
    {"KB5000871 15.1.2176.9", "15.1.2176.9", 0},
};

typedef struct bad {
  const char *text;
  const char *reason; /* part of the message */
} bad;

static const bad bads[] = {
    {"", "no build number"},
    {"hello", "no build number"},
    {"15.1", "only major.minor"},
    {"15.1.abc", "only major.minor"},
    {"15.1.2176.2.7", "3 or 4 parts"},
    {"15.1.21760000000.2", "digits"},
    {"15.1.2176.2 and 15.2.1748.43", "several build numbers"},
    {"CU19", "no build number"},
    {"KB5000871", "no build number"},
    {"Version 15.1", "only major.minor"},
};

static void test_cmp(void) {
  exh_build a = {15, 1, 2176, 2, 4}, b = {15, 1, 2176, 9, 4}, c = {15, 1, 2176, 0, 3};
  CHECK(exh_build_cmp(&a, &b) < 0);
  CHECK(exh_build_cmp(&b, &a) > 0);
  CHECK(exh_build_cmp(&a, &c) == 0); /* 3 parts ignore the revision */
  exh_build d = {15, 2, 0, 0, 4};
  CHECK(exh_build_cmp(&b, &d) < 0);
  char buf[64];
  CHECK_INT(exh_build_format(&c, buf, sizeof buf), 9);
  CHECK_STR(buf, "15.1.2176");
}

int main(void) {
  for (size_t i = 0; i < sizeof goods / sizeof goods[0]; i++) {
    exh_build b;
    exh_error e;
    int admin = -1;
    int rc = exh_build_parse(goods[i].text, strlen(goods[i].text), &b, &admin, &e);
    if (rc) fprintf(stderr, "  input \"%s\": %s\n", goods[i].text, e.text);
    CHECK_INT(rc, EXH_OK);
    char s[64];
    exh_build_format(&b, s, sizeof s);
    CHECK_STR(s, goods[i].want);
    CHECK_INT(admin, goods[i].admin);
  }
  for (size_t i = 0; i < sizeof bads / sizeof bads[0]; i++) {
    exh_build b;
    exh_error e;
    int rc = exh_build_parse(bads[i].text, strlen(bads[i].text), &b, NULL, &e);
    CHECK_INT(rc, EXH_ERR_PARSE);
    CHECK_CONTAINS(e.text, bads[i].reason);
  }
  /* Bounds: an overlong input, and a NUL inside. */
  static char big[EXHI_BUILD_TEXT_MAX + 2];
  memset(big, '1', sizeof big - 1);
  exh_build b;
  exh_error e;
  CHECK_INT(exh_build_parse(big, sizeof big - 1, &b, NULL, &e), EXH_ERR_LIMIT);
  CHECK_INT(exh_build_parse("15.1\0.2176.2", 12, &b, NULL, &e), EXH_ERR_PARSE);
  CHECK_CONTAINS(e.text, "NUL");
  test_cmp();
  return t_done("test_build");
}
