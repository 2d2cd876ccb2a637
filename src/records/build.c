/* Build numbers: parsing every form people paste, ordering, printing. */
#include "../core/internal.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* A group longer than this cannot be an Exchange build part and would
 * overflow uint32_t. */
#define GROUP_MAX_DIGITS 9
/* Candidates remembered per text; a CMDB line holds a handful of numbers. */
#define MAX_CANDIDATES 16

int exh_build_cmp(const exh_build *a, const exh_build *b) {
  if (a->major != b->major) return a->major < b->major ? -1 : 1;
  if (a->minor != b->minor) return a->minor < b->minor ? -1 : 1;
  if (a->build != b->build) return a->build < b->build ? -1 : 1;
  if (a->parts == 4 && b->parts == 4 && a->revision != b->revision)
    return a->revision < b->revision ? -1 : 1;
  return 0;
}

/* Hand-rolled rather than snprintf: it runs once per line of a million-line
 * list, and snprintf was a third of that cost. Same contract as snprintf:
 * returns the full length, writes at most size bytes, NUL-terminated. */
size_t exh_build_format(const exh_build *b, char *buf, size_t size) {
  char t[48]; /* 4 x 10 digits + 3 dots + NUL */
  size_t n = 0;
  const uint32_t part[4] = {b->major, b->minor, b->build, b->revision};
  int parts = b->parts == 3 ? 3 : 4;
  for (int i = 0; i < parts; i++) {
    char d[10];
    size_t k = 0;
    uint32_t v = part[i];
    do {
      d[k++] = (char)('0' + v % 10);
      v /= 10;
    } while (v);
    if (i) t[n++] = '.';
    while (k) t[n++] = d[--k];
  }
  t[n] = '\0';
  if (size) {
    size_t c = n < size ? n : size - 1;
    memcpy(buf, t, c);
    buf[c] = '\0';
  }
  return n;
}

/* Reads groups of digits separated by single dots starting at s[*i]. Returns
 * the number of groups (0 if none), or -1 if a group is too long. */
static int read_groups(const char *s, size_t len, size_t *i, uint32_t *g, int max) {
  int n = 0;
  size_t p = *i;
  for (;;) {
    size_t start = p;
    uint64_t v = 0;
    while (p < len && isdigit((unsigned char)s[p])) {
      if (p - start >= GROUP_MAX_DIGITS) {
        while (p < len && (isdigit((unsigned char)s[p]) || s[p] == '.')) p++;
        *i = p;
        return -1;
      }
      v = v * 10 + (uint64_t)(s[p] - '0');
      p++;
    }
    if (p == start) break;
    if (n < max) g[n] = (uint32_t)v;
    n++;
    if (p + 1 < len && s[p] == '.' && isdigit((unsigned char)s[p + 1])) {
      p++;
      continue;
    }
    break;
  }
  *i = p;
  return n;
}

static size_t skip_space(const char *s, size_t len, size_t i) {
  while (i < len && (s[i] == ' ' || s[i] == '\t')) i++;
  return i;
}

static bool match_word(const char *s, size_t len, size_t i, const char *w) {
  size_t n = strlen(w);
  return i + n <= len && exhi_ascii_ieq(s + i, n, w);
}

/* "Version 15.1 (Build 2176.2)": AdminDisplayVersion and the Exchange
 * Management Shell's view of a server. */
static bool parse_admin_display(const char *s, size_t len, exh_build *out) {
  for (size_t at = 0; at + 7 <= len; at++) {
    if (!match_word(s, len, at, "version")) continue;
    size_t i = skip_space(s, len, at + 7);
    uint32_t a[4];
    size_t j = i;
    if (read_groups(s, len, &j, a, 4) != 2) continue;
    j = skip_space(s, len, j);
    if (j >= len || s[j] != '(') continue;
    j = skip_space(s, len, j + 1);
    if (!match_word(s, len, j, "build")) continue;
    j = skip_space(s, len, j + 5);
    uint32_t b[4];
    if (read_groups(s, len, &j, b, 4) != 2) continue;
    j = skip_space(s, len, j);
    if (j >= len || s[j] != ')') continue;
    out->major = a[0];
    out->minor = a[1];
    out->build = b[0];
    out->revision = b[1];
    out->parts = 4;
    return true;
  }
  return false;
}

static bool known_major(uint32_t m) { return m == 6 || m == 8 || m == 14 || m == 15; }

int exh_build_parse(const char *text, size_t len, exh_build *out,
                    int *admin_display, exh_error *err) {
  memset(out, 0, sizeof *out);
  if (admin_display) *admin_display = 0;
  if (len > EXHI_BUILD_TEXT_MAX)
    return exhi_err(err, EXH_ERR_LIMIT, NULL, 0, -1,
                    "text of %zu bytes is longer than a build string may be (%d)",
                    len, EXHI_BUILD_TEXT_MAX);
  if (memchr(text, '\0', len))
    return exhi_err(err, EXH_ERR_PARSE, NULL, 0, (long long)((const char *)memchr(text, '\0', len) - text),
                    "NUL byte in a build string");
  if (parse_admin_display(text, len, out)) {
    if (admin_display) *admin_display = 1;
    return EXH_OK;
  }
  exh_build cand[MAX_CANDIDATES];
  size_t ncand = 0, too_many_parts = 0, too_long = 0, two_parts = 0;
  size_t first_bad = 0;
  for (size_t i = 0; i < len;) {
    if (!isdigit((unsigned char)text[i])) {
      i++;
      continue;
    }
    /* A number glued to a letter or dot on its left ("KB5000871", "x.15")
     * is not the start of a build. */
    bool glued = i > 0 && (isalnum((unsigned char)text[i - 1]) || text[i - 1] == '.');
    size_t start = i;
    uint32_t g[4];
    int n = read_groups(text, len, &i, g, 4);
    if (glued && !(start > 0 && (text[start - 1] == 'v' || text[start - 1] == 'V'))) continue;
    if (n < 0) {
      if (!too_long++) first_bad = start;
      continue;
    }
    if (n == 2) two_parts++;
    if (n > 4) {
      if (!too_many_parts++) first_bad = start;
      continue;
    }
    if (n < 3) continue;
    if (ncand < MAX_CANDIDATES) {
      exh_build *b = &cand[ncand++];
      b->major = g[0];
      b->minor = g[1];
      b->build = g[2];
      b->revision = n == 4 ? g[3] : 0;
      b->parts = n;
    }
  }
  if (ncand == 0) {
    if (too_long)
      return exhi_err(err, EXH_ERR_PARSE, NULL, 0, (long long)first_bad,
                      "a number with more than %d digits is not a build number part",
                      GROUP_MAX_DIGITS);
    if (too_many_parts)
      return exhi_err(err, EXH_ERR_PARSE, NULL, 0, (long long)first_bad,
                      "a build number has 3 or 4 parts (like 15.1.2176.2), this one has more");
    if (two_parts)
      return exhi_err(err, EXH_ERR_PARSE, NULL, 0, -1,
                      "only major.minor found: give the build too (like 15.1.2176.2 or "
                      "\"Version 15.1 (Build 2176.2)\")");
    return exhi_err(err, EXH_ERR_PARSE, NULL, 0, -1,
                    "no build number (like 15.1.2176.2) found");
  }
  if (ncand > 1) {
    /* Other dotted numbers (IP addresses, dates) travel with builds in CMDB
     * exports and scan output: keep those that look like Exchange. */
    size_t k = 0;
    for (size_t i = 0; i < ncand; i++)
      if (known_major(cand[i].major)) cand[k++] = cand[i];
    if (k == 0) k = ncand;
    for (size_t i = 1; i < k; i++) {
      if (exh_build_cmp(&cand[0], &cand[i]) != 0 || cand[0].parts != cand[i].parts) {
        char a[64], b[64];
        exh_build_format(&cand[0], a, sizeof a);
        exh_build_format(&cand[i], b, sizeof b);
        return exhi_err(err, EXH_ERR_PARSE, NULL, 0, -1,
                        "several build numbers in one input (%s and %s): give one", a, b);
      }
    }
  }
  *out = cand[0];
  return EXH_OK;
}
