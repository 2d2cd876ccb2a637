#include "internal.h"

#include <string.h>

size_t exhi_strlcpy(char *dst, const char *src, size_t size) {
  size_t len = strlen(src);
  if (size) {
    size_t n = len < size - 1 ? len : size - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
  }
  return len;
}

static unsigned char lower(unsigned char c) {
  return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

bool exhi_ascii_ieq(const char *a, size_t alen, const char *b) {
  size_t blen = strlen(b);
  if (alen != blen) return false;
  for (size_t i = 0; i < alen; i++)
    if (lower((unsigned char)a[i]) != lower((unsigned char)b[i])) return false;
  return true;
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid. Overlong
 * forms and surrogates count as invalid: a terminal may act on them. */
static size_t utf8_len(const unsigned char *s) {
  unsigned char c = s[0];
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return (s[1] & 0xC0) == 0x80 ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if ((s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80) return 0;
    if (c == 0xE0 && s[1] < 0xA0) return 0;
    if (c == 0xED && s[1] >= 0xA0) return 0;
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if ((s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80)
      return 0;
    if (c == 0xF0 && s[1] < 0x90) return 0;
    if (c == 0xF4 && s[1] >= 0x90) return 0;
    return 4;
  }
  return 0;
}

/* C1 controls (U+0080..U+009F) are two bytes C2 80..C2 9F and some
 * terminals honour them as escape introducers. */
static bool is_c1(const unsigned char *s, size_t n) {
  return n == 2 && s[0] == 0xC2 && s[1] >= 0x80 && s[1] <= 0x9F;
}

size_t exhi_escape_terminal(const char *s, char *out, size_t size) {
  static const char hex[] = "0123456789abcdef";
  size_t o = 0;
  if (!size) return 0;
  const unsigned char *p = (const unsigned char *)s;
  while (*p) {
    size_t n = utf8_len(p);
    bool bad = n == 0 || (n == 1 && (*p < 0x20 || *p == 0x7f)) || is_c1(p, n);
    if (bad) {
      if (o + 4 >= size) break;
      out[o++] = '\\';
      out[o++] = 'x';
      out[o++] = hex[*p >> 4];
      out[o++] = hex[*p & 15];
      p++;
    } else {
      if (o + n >= size) break;
      memcpy(out + o, p, n);
      o += n;
      p += n;
    }
  }
  out[o] = '\0';
  return o;
}

void exhi_fputs_safe(FILE *fp, const char *s) {
  /* Most values are plain printable ASCII: write those as they are, without
   * the copy through the escaper (it halves the cost of a brief line). */
  size_t plain = 0;
  while ((unsigned char)s[plain] >= 0x20 && (unsigned char)s[plain] < 0x7f) plain++;
  if (plain) fwrite(s, 1, plain, fp);
  s += plain;
  char buf[1024];
  /* Escape in chunks so long values are not cut. Split only on sequence
   * boundaries: utf8_len never reads past a NUL, and copies whole sequences. */
  const char *p = s;
  while (*p) {
    char chunk[256];
    size_t n = 0;
    while (p[n] && n < sizeof chunk - 8) {
      size_t l = utf8_len((const unsigned char *)p + n);
      n += l ? l : 1;
    }
    memcpy(chunk, p, n);
    chunk[n] = '\0';
    exhi_escape_terminal(chunk, buf, sizeof buf);
    fputs(buf, fp);
    p += n;
  }
}

char *exhi_utf8_sanitize(const char *s, char *out, size_t size) {
  size_t o = 0;
  const unsigned char *p = (const unsigned char *)s;
  if (!size) return out;
  while (*p) {
    /* A run of ASCII (most of what logs hold) is copied at once. */
    size_t run = 0;
    while (p[run] && p[run] < 0x80) run++;
    if (run) {
      if (o + run >= size) run = size - 1 - o;
      memcpy(out + o, p, run);
      o += run;
      p += run;
      if (o + 1 >= size) break;
      continue;
    }
    size_t n = utf8_len(p);
    if (n == 0) {
      if (o + 3 >= size) break;
      memcpy(out + o, "\xEF\xBF\xBD", 3);
      o += 3;
      p++;
      continue;
    }
    if (o + n >= size) break;
    memcpy(out + o, p, n);
    o += n;
    p += n;
  }
  out[o] = '\0';
  return out;
}
