/*
 * 64 bytes compared with one byte at once, a bit per byte: what the log
 * readers and the column walk find line ends, spaces and commas with.
 */
#ifndef EXHUNT_CORE_EQ64_H
#define EXHUNT_CORE_EQ64_H

#include <stdint.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* Bit i set when p[i] == c, for i < 64; p[0..64) must be readable. Four
 * SSE2 loads (x86-64's baseline); column mode has an AVX2 twin. */
static inline uint64_t exhi_eq64_sse2(const char *p, char c) {
#if defined(__SSE2__)
  const __m128i v = _mm_set1_epi8(c);
#define EXHI_EQ16(k)                                                                               \
  ((uint64_t)(unsigned)_mm_movemask_epi8(                                                         \
       _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)(p + 16 * (k))), v))         \
   << (16 * (k)))
  return EXHI_EQ16(0) | EXHI_EQ16(1) | EXHI_EQ16(2) | EXHI_EQ16(3);
#undef EXHI_EQ16
#else
  uint64_t m = 0;
  for (int k = 0; k < 64; k++) m |= (uint64_t)(p[k] == c) << k;
  return m;
#endif
}

#endif
