#include "internal.h"

#include <string.h>
#include <stdatomic.h>
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

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

/* ---- counting newlines ----------------------------------------------------
 * Line numbers of log findings: every byte of a log may pass through here. */
#if defined(__x86_64__) && defined(__GNUC__)
#define HAVE_AVX2_PATH 1
/* 32 bytes at a time on CPUs with AVX2 (chosen at run time). */
__attribute__((target("avx2"))) static uint64_t count_nl_avx2(const char *p, size_t n) {
  uint64_t c = 0;
  size_t i = 0;
  const __m256i nl = _mm256_set1_epi8('\n');
  while (i + 32 <= n) {
    __m256i acc = _mm256_setzero_si256();
    size_t rounds = (n - i) / 32;
    if (rounds > 255) rounds = 255;
    for (size_t r = 0; r < rounds; r++, i += 32) {
      __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(p + i));
      acc = _mm256_sub_epi8(acc, _mm256_cmpeq_epi8(v, nl));
    }
    __m256i sums = _mm256_sad_epu8(acc, _mm256_setzero_si256());
    c += (uint64_t)_mm256_extract_epi64(sums, 0) + (uint64_t)_mm256_extract_epi64(sums, 1) +
         (uint64_t)_mm256_extract_epi64(sums, 2) + (uint64_t)_mm256_extract_epi64(sums, 3);
  }
  for (; i < n; i++) c += p[i] == '\n';
  return c;
}
#endif

/* Newlines in p[0..n): 16 bytes at a time where SSE2 is there (every
 * x86-64), since every byte of every log passes through here. */
static uint64_t count_nl_sse2(const char *p, size_t n) {
  uint64_t c = 0;
  size_t i = 0;
#if defined(__SSE2__)
  /* Byte counters (cmpeq gives -1 per match) summed by psadbw before any
   * of them can wrap: at most 255 rounds per batch. */
  const __m128i nl = _mm_set1_epi8('\n');
  while (i + 16 <= n) {
    __m128i acc = _mm_setzero_si128();
    size_t rounds = (n - i) / 16;
    if (rounds > 255) rounds = 255;
    for (size_t r = 0; r < rounds; r++, i += 16) {
      __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
      acc = _mm_sub_epi8(acc, _mm_cmpeq_epi8(v, nl));
    }
    __m128i sums = _mm_sad_epu8(acc, _mm_setzero_si128());
    c += (uint64_t)_mm_cvtsi128_si32(sums) + (uint64_t)_mm_extract_epi16(sums, 4);
  }
#endif
  for (; i < n; i++) c += p[i] == '\n';
  return c;
}

uint64_t exhi_count_newlines(const char *p, size_t n) {
#ifdef HAVE_AVX2_PATH
  static atomic_int avx2 = -1; /* every thread computes the same answer */
  int a = atomic_load_explicit(&avx2, memory_order_relaxed);
  if (a < 0) {
    a = __builtin_cpu_supports("avx2") ? 1 : 0;
    atomic_store_explicit(&avx2, a, memory_order_relaxed);
  }
  if (a) return count_nl_avx2(p, n);
#endif
  return count_nl_sse2(p, n);
}

