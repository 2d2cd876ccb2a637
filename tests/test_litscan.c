/* The log prefilter's small-literal scanner (src/detectors/litscan.c): every
 * code path this CPU runs against vectorscan with the same literals (and
 * "^#" in MULTILINE mode) on chosen and random inputs: matches at offset 0,
 * at the very end, across 32- and 64-byte edges, overlapping, caseless,
 * near misses, CRLF, empty input; the newline count against a plain count;
 * the fingerprint taken from the sample; build errors; a callback that
 * stops the scan. */
#include "litscan_diff.h"
#include "t.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static unsigned paths;
static unsigned long cases;

/* Builds the scanner and the reference for lits and compares them on data
 * (and on every path). Returns the number of matches, so that callers can
 * check the case was not empty by mistake. */
static size_t diff_case(const char *what, const exhi_litscan_lit *lits, size_t n, int hash,
                        const char *sample, size_t sample_len, const char *data, size_t len) {
  exhi_litscan *ls = NULL;
  exh_error err = {0};
  int rc = exhi_litscan_build(lits, n, hash, 99, sample, sample_len, &ls, &err);
  CHECK_INT(rc, EXH_OK);
  if (rc) {
    fprintf(stderr, "%s: build: %s\n", what, err.text);
    return 0;
  }
  hs_database_t *db = ls_ref_compile(lits, n, hash, 99);
  hs_scratch_t *scratch = NULL;
  CHECK(db != NULL);
  if (!db || hs_alloc_scratch(db, &scratch) != HS_SUCCESS) {
    exhi_litscan_free(ls);
    hs_free_database(db);
    return 0;
  }
  /* Exactly len bytes of heap: a read past them is an ASan error. */
  char *p = malloc(len ? len : 1);
  if (len) memcpy(p, data, len);
  for (unsigned path = 1; path <= paths; path <<= 1) {
    if (!(paths & path)) continue;
    const char *why = ls_diff(ls, db, scratch, p, len, path, hash, 99);
    CHECK(why == NULL);
    if (why) fprintf(stderr, "%s: %s\n", what, why);
  }
  cases++;
  /* How many matches there were (the same on every path, as checked). */
  ls_list got = {0};
  exhi_litscan_scan_path(ls, EXHI_LITSCAN_PORTABLE, p, len, ls_on_match, &got, NULL);
  size_t found = got.n;
  free(got.m);
  free(p);
  hs_free_scratch(scratch);
  hs_free_database(db);
  exhi_litscan_free(ls);
  return found;
}

#define LIT(s, ci, i) {(s), sizeof(s) - 1, (ci), (i)}

static const exhi_litscan_lit proxy_lits[] = {
    LIT("ServerInfo~", 1, 1),
    LIT("VirtualDirectory#", 1, 2),
    LIT("/powershell", 1, 3),
    LIT("autodiscover.json", 1, 4),
};

static void test_errors(void) {
  exhi_litscan *ls = (exhi_litscan *)1;
  exh_error err = {0};
  exhi_litscan_lit many[8];
  for (int i = 0; i < 8; i++) many[i] = (exhi_litscan_lit)LIT("ab", 0, (unsigned)i);
  CHECK_INT(exhi_litscan_build(many, 8, 0, 0, NULL, 0, &ls, &err), EXH_ERR_LIMIT);
  CHECK(ls == NULL);
  CHECK_CONTAINS(err.text, "8 literals");
  exhi_litscan_lit one = LIT("a", 0, 1);
  CHECK_INT(exhi_litscan_build(&one, 1, 0, 0, NULL, 0, &ls, &err), EXH_ERR_INVALID);
  CHECK_CONTAINS(err.text, "literal 0");
  static char big[256];
  memset(big, 'x', sizeof big);
  exhi_litscan_lit two[2] = {LIT("ok", 0, 1), {big, 256, 0, 2}};
  CHECK_INT(exhi_litscan_build(two, 2, 0, 0, NULL, 0, &ls, &err), EXH_ERR_LIMIT);
  CHECK_CONTAINS(err.text, "literal 1: 256 bytes");
  exhi_litscan_lit none = {NULL, 3, 0, 1};
  CHECK_INT(exhi_litscan_build(&none, 1, 0, 0, NULL, 0, &ls, &err), EXH_ERR_INVALID);
  /* Seven literals and the line-start '#' fill the eight buckets. */
  CHECK_INT(exhi_litscan_build(many, 7, 1, 0, NULL, 0, &ls, &err), EXH_OK);
  exhi_litscan_free(ls);
  /* No literal, only the '#': also a scanner. */
  CHECK_INT(exhi_litscan_build(NULL, 0, 1, 5, NULL, 0, &ls, &err), EXH_OK);
  exhi_litscan_free(ls);
}

static void test_fingerprint(void) {
  exhi_litscan *ls = NULL;
  exh_error err = {0};
  exhi_litscan_lit l = LIT("ServerInfo~", 1, 1);
  /* No sample: '~' is the guess of a rare byte, "o~" the pair. */
  CHECK_INT(exhi_litscan_build(&l, 1, 0, 0, NULL, 0, &ls, &err), EXH_OK);
  CHECK_INT(exhi_litscan_fingerprint(ls, 0), 9);
  exhi_litscan_free(ls);
  /* A sample full of "o~" but without "rI" (either case): that pair. */
  static const char sample[] = "xo~ o~ O~ SERVER info o~ server Info ServerInfO";
  CHECK_INT(exhi_litscan_build(&l, 1, 0, 0, sample, sizeof sample - 1, &ls, &err), EXH_OK);
  CHECK_INT(exhi_litscan_fingerprint(ls, 0), 5);
  exhi_litscan_free(ls);
  /* Caseless: "RI" in the sample counts against "rI", though "rI" as
   * written is not there: every pair is as common, the guess decides. */
  static const char sample2[] = "SERVERINFO~ SERVERINFO~ serverinfo~ RIRIRIRI";
  CHECK_INT(exhi_litscan_build(&l, 1, 0, 0, sample2, sizeof sample2 - 1, &ls, &err), EXH_OK);
  CHECK_INT(exhi_litscan_fingerprint(ls, 0), 9);
  exhi_litscan_free(ls);
}

static int stop_at_second(void *ctx, unsigned id, size_t end, size_t nl) {
  (void)id, (void)end, (void)nl;
  int *calls = ctx;
  return ++*calls == 2 ? 7 : 0;
}

static void test_stop(void) {
  exhi_litscan *ls = NULL;
  exh_error err = {0};
  CHECK_INT(exhi_litscan_build(proxy_lits, 4, 1, 0, NULL, 0, &ls, &err), EXH_OK);
  static const char text[] = "#a\nGET /PowerShell x\nServerInfo~ y\n#z\n";
  for (unsigned path = 1; path <= paths; path <<= 1) {
    if (!(paths & path)) continue;
    int calls = 0;
    CHECK_INT(exhi_litscan_scan_path(ls, path, text, sizeof text - 1, stop_at_second, &calls, NULL),
              7);
    CHECK_INT(calls, 2);
    ls_list got = {0};
    uint64_t nl = 0;
    CHECK_INT(exhi_litscan_scan_path(ls, path, text, sizeof text - 1, ls_on_match, &got, &nl), 0);
    CHECK_INT(nl, 4);
    /* '#' at 0, "/PowerShell" ends at 18, "ServerInfo~" at 32, '#' at 35. */
    CHECK_INT(got.n, 4);
    if (got.n == 4) {
      CHECK_INT(got.m[0].id, 0);
      CHECK_INT(got.m[0].end, 1);
      CHECK_INT(got.m[1].id, 3);
      CHECK_INT(got.m[1].end, 18);
      CHECK_INT(got.m[2].id, 1);
      CHECK_INT(got.m[2].end, 32);
      CHECK_INT(got.m[3].id, 0);
      CHECK_INT(got.m[3].end, 36);
    }
    free(got.m);
  }
  exhi_litscan_free(ls);
}

/* Each literal at every offset of a 200-byte filler, so across every
 * 32- and 64-byte edge and at the very end. */
static void test_offsets(void) {
  static const exhi_litscan_lit lits[] = {
      LIT("ServerInfo~", 1, 1), LIT("ab", 0, 2), LIT("xyz#", 1, 3),
  };
  for (size_t l = 0; l < 3; l++) {
    for (size_t at = 0; at + lits[l].len <= 200; at++) {
      char buf[200];
      memset(buf, '.', sizeof buf);
      memcpy(buf + at, lits[l].bytes, lits[l].len);
      char what[64];
      snprintf(what, sizeof what, "literal %zu at %zu", l, at);
      CHECK_INT(diff_case(what, lits, 3, 1, NULL, 0, buf, sizeof buf), 1);
      /* Cut right after it: the match ends at the very end. */
      CHECK_INT(diff_case(what, lits, 3, 1, NULL, 0, buf, at + lits[l].len), 1);
      /* Cut one byte short: no match, nothing read past the end. */
      CHECK_INT(diff_case(what, lits, 3, 1, NULL, 0, buf, at + lits[l].len - 1), 0);
    }
  }
  /* The last 40 bytes of a 1000-byte buffer, where vectorscan 5.4.9 misses
   * matches of a database of several literals (see ls_diff). */
  static const exhi_litscan_lit pair[] = {LIT("a#", 0, 1), LIT("b#", 0, 2)};
  static char big[1000];
  for (size_t at = sizeof big - 40; at + 11 <= sizeof big; at++) {
    memset(big, '-', sizeof big);
    memcpy(big + at, "b#", 2);
    CHECK_INT(diff_case("b# near the end", pair, 2, 0, NULL, 0, big, sizeof big), 1);
    memset(big, '-', sizeof big);
    memcpy(big + at, "ServerInfo~", 11);
    CHECK_INT(diff_case("ServerInfo~ near the end", proxy_lits, 4, 1, NULL, 0, big, sizeof big), 1);
  }
  /* The line-start '#' after a '\n' at each offset, and at 0. */
  for (size_t at = 1; at < 140; at++) {
    char buf[140];
    memset(buf, 'q', sizeof buf);
    buf[at - 1] = '\n';
    buf[at] = '#';
    CHECK_INT(diff_case("line-start #", proxy_lits, 4, 1, NULL, 0, buf, at + 1), 1);
    CHECK_INT(diff_case("line-start #", proxy_lits, 4, 1, NULL, 0, buf, sizeof buf), 1);
  }
}

static void test_shapes(void) {
  static const exhi_litscan_lit over[] = {
      LIT("aa", 1, 1), LIT("abab", 0, 2), LIT("ba", 1, 3), LIT("aab", 0, 4),
  };
  static const char rep[] = "aAaAababababaaabAAB";
  CHECK(diff_case("overlapping", over, 4, 0, NULL, 0, rep, sizeof rep - 1) > 10);
  CHECK_INT(diff_case("empty", proxy_lits, 4, 1, NULL, 0, "", 0), 0);
  CHECK_INT(diff_case("only #", proxy_lits, 4, 1, NULL, 0, "#", 1), 1);
  CHECK_INT(diff_case("only newline #", proxy_lits, 4, 1, NULL, 0, "\n#", 2), 1);
  static const char crlf[] = "#Software\r\n#Fields: a b\r\nx#\r\n\r#\r\n#\n";
  CHECK_INT(diff_case("crlf", proxy_lits, 4, 1, NULL, 0, crlf, sizeof crlf - 1), 3);
  CHECK_INT(diff_case("no hash asked", proxy_lits, 4, 0, NULL, 0, crlf, sizeof crlf - 1), 0);
  /* Near misses: every literal with one byte changed, and cut short. */
  char buf[4096];
  size_t n = 0;
  for (size_t l = 0; l < 4; l++)
    for (size_t j = 0; j < proxy_lits[l].len; j++) {
      memcpy(buf + n, proxy_lits[l].bytes, proxy_lits[l].len);
      buf[n + j] ^= 0x01;
      n += proxy_lits[l].len;
      memcpy(buf + n, proxy_lits[l].bytes, j);
      n += j;
      buf[n++] = ' ';
    }
  CHECK_INT(diff_case("near misses", proxy_lits, 4, 1, NULL, 0, buf, n), 0);
  /* A caseless literal in mixed case, a cased one only as written. */
  static const exhi_litscan_lit mixed[] = {LIT("Abc~", 1, 1), LIT("Abc#", 0, 2)};
  static const char mix[] = "aBC~ ABC~ abc~ Abc# ABC# abc# Abc#";
  CHECK_INT(diff_case("case", mixed, 2, 0, NULL, 0, mix, sizeof mix - 1), 5);
  /* Bytes that are no letters: NUL, high bytes, '@'/'`' beside the letters. */
  static const exhi_litscan_lit odd[] = {
      {"\0\xff", 2, 1, 1}, {"@[", 2, 1, 2}, {"`{", 2, 0, 3}, {"\xc3\xa9t\xc3\xa9", 5, 1, 4}};
  static const char oddt[] = "\0\xff \0\xdf @[ `{ @{ `[ \xc3\xa9T\xc3\xa9 \xc3\x89t\xc3\xa9";
  CHECK_INT(diff_case("odd bytes", odd, 4, 0, NULL, 0, oddt, sizeof oddt - 1), 4);
  /* A 255-byte literal, and several ending at one byte. */
  static char longlit[255], longtext[700];
  for (size_t i = 0; i < 255; i++) longlit[i] = (char)('a' + i % 7);
  exhi_litscan_lit ll[] = {{longlit, 255, 1, 1}, {longlit + 250, 5, 0, 2}, LIT("fa", 1, 3)};
  memset(longtext, '-', sizeof longtext);
  memcpy(longtext + 3, longlit, 255);
  memcpy(longtext + 300, longlit, 255);
  for (size_t i = 300; i < 555; i += 3) longtext[i] = (char)(longtext[i] & ~0x20);
  CHECK(diff_case("long literal", ll, 3, 1, NULL, 0, longtext, sizeof longtext) >= 4);
}

/* ---- random inputs built from the literals' own bytes ----------------- */

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}
static size_t below(size_t n) { return (size_t)(rnd() % n); }

static void test_random(void) {
  static const char alpha[] = "aAbB~#\n\r/.xX";
  static char litbuf[EXHI_LITSCAN_MAX_LITS][255];
  static char data[6000];
  size_t found = 0;
  for (int round = 0; round < 300; round++) {
    exhi_litscan_lit lits[EXHI_LITSCAN_MAX_LITS];
    size_t n = 1 + below(EXHI_LITSCAN_MAX_LITS);
    for (size_t i = 0; i < n; i++) {
      static const size_t lens[] = {2, 2, 3, 3, 4, 5, 7, 11, 16, 17, 31, 33};
      size_t len = below(40) ? lens[below(sizeof lens / sizeof *lens)] : 2 + below(254);
      for (size_t j = 0; j < len; j++)
        litbuf[i][j] = below(8) ? alpha[below(sizeof alpha - 1)] : (char)rnd();
      lits[i] = (exhi_litscan_lit){litbuf[i], len, (int)below(2), (unsigned)(100 + i)};
    }
    int hash = (int)below(2);
    for (int input = 0; input < 4; input++) {
      size_t cap = below(4) ? 300 : sizeof data, len = 0;
      while (len < cap) {
        size_t room = cap - len, k = below(8);
        const exhi_litscan_lit *l = &lits[below(n)];
        if (k < 3 && l->len <= room) { /* a literal, letters' case flipped at random */
          memcpy(data + len, l->bytes, l->len);
          for (size_t j = 0; j < l->len; j++)
            if (below(3) == 0 && ((data[len + j] | 0x20) >= 'a' && (data[len + j] | 0x20) <= 'z'))
              data[len + j] ^= 0x20;
          len += l->len;
        } else if (k == 3 && l->len <= room) { /* a near miss */
          memcpy(data + len, l->bytes, l->len);
          data[len + below(l->len)] = alpha[below(sizeof alpha - 1)];
          len += l->len;
        } else if (k == 4 && room >= 2) {
          memcpy(data + len, below(2) ? "\n#" : "\r\n", 2);
          len += 2;
        } else {
          data[len++] = below(4) ? alpha[below(sizeof alpha - 1)] : (char)rnd();
        }
      }
      /* Cut anywhere, so matches land at the very end too. */
      len = below(len + 1);
      const char *sample = below(2) ? data : NULL;
      char what[64];
      snprintf(what, sizeof what, "random round %d input %d", round, input);
      found += diff_case(what, lits, n, hash, sample, len, data, len);
    }
  }
  CHECK(found > 10000);
  fprintf(stderr, "random inputs: %zu matches\n", found);
}

/* HttpProxy-like lines with the prefilter's four literals and "^#". */
static void test_log_like(void) {
  static char text[1 << 16];
  size_t n = 0;
  static const char head[] = "#Software: Microsoft Exchange Server\r\n#Version: 15.01.2507.006\r\n"
                             "#Fields: DateTime,RequestId,UrlStem,ServerInfo\r\n";
  memcpy(text, head, sizeof head - 1);
  n = sizeof head - 1;
  static const char *const stems[] = {"/owa/", "/ecp/DDI/DDIService.svc", "/PowerShell/",
                                      "/autodiscover/autodiscover.json?@x.com/mapi/nspi",
                                      "/mapi/emsmdb/", "/EWS/Exchange.asmx"};
  for (int i = 0; n + 200 < sizeof text; i++) {
    int w = snprintf(text + n, sizeof text - n,
                     "2021-03-%02d,%08x-aa,%s,ServerInfo~%s,VirtualDirectory#%d\r\n", 1 + i % 28,
                     (unsigned)i * 2654435761u, stems[i % 6], i % 7 ? "ex01" : "EX01", i % 3);
    n += (size_t)w;
  }
  CHECK(diff_case("log-like", proxy_lits, 4, 1, text, 65536, text, n) > 1000);
  CHECK(diff_case("log-like no sample", proxy_lits, 4, 1, NULL, 0, text, n) > 1000);
}

int main(void) {
  paths = exhi_litscan_paths();
  CHECK(paths & EXHI_LITSCAN_PORTABLE);
  fprintf(stderr, "litscan paths: %s%s%s\n", paths & EXHI_LITSCAN_PORTABLE ? "portable " : "",
          paths & EXHI_LITSCAN_AVX2 ? "avx2 " : "", paths & EXHI_LITSCAN_AVX512 ? "avx512" : "");
  test_errors();
  test_fingerprint();
  test_stop();
  test_offsets();
  test_shapes();
  test_log_like();
  test_random();
  fprintf(stderr, "%lu cases compared; vectorscan missed %lu matches at buffer ends (see ls_diff)\n",
          cases, ls_vs_tail_misses);
  return t_done("litscan");
}
