/* A fused small-literal scanner for the log prefilter (see litscan.h). */
#include "litscan.h"

#include <stdalign.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define NB 8 /* buckets: the literals, then the line-start '#' */

struct exhi_litscan {
  unsigned nb;      /* buckets in use */
  unsigned n_lits;  /* literals (buckets 0..n_lits-1) */
  int line_hash;    /* bucket n_lits is '\n','#', and offset 0 is checked */
  unsigned hash_id;
  unsigned id[NB];
  uint8_t len[NB];  /* bytes verified: the literal ('#' alone for the line-start one) */
  uint8_t back[NB]; /* from the fingerprint's second byte back to the match's first */
  uint8_t nlx[NB];  /* '\n's of the match from its fingerprint's second byte to before its last */
  uint8_t fp[NB];   /* offset in the literal of the fingerprint's first byte */
  unsigned min_delta; /* least (end - fingerprint's second byte) over buckets */
  /* Buckets whose fingerprint's first (t0) or second (t1) byte is this
   * byte: the portable path's tables. */
  uint8_t t0[256], t1[256];
  int high_fp; /* a fingerprint byte >= 0x80: the AVX-512 path's 7-bit tables miss it */
  /* The same as nibble tables for pshufb, 16 bytes repeated in both
   * 128-bit lanes: low and high nibble of the first byte, then of the
   * second. A bucket holds one literal, so low & high is exact per bucket
   * (a caseless letter sets two high nibbles of one low nibble). */
  uint8_t lo0[32], hi0[32], lo1[32], hi1[32]; /* loaded unaligned: calloc gives 16 */
  /* A match is (byte & msk) == val over len bytes: msk 0xDF and the upper
   * case for caseless letters, else 0xFF and the byte. Padded to 256 for
   * 8-byte compares. */
  alignas(8) uint8_t val[NB][256], msk[NB][256];
};

static int is_letter(unsigned c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }

/* A guess of how common a byte is in Exchange and IIS web logs (1 rare ..
 * 4 everywhere), for the fingerprint when there is no sample. */
static unsigned static_cost(unsigned c, int caseless) {
  if (caseless && is_letter(c)) c |= 0x20; /* both cases accepted: as common as the lower */
  if (c >= 'a' && c <= 'z') return strchr("etaoinsrhlcdmup", (int)c) ? 4 : 3;
  if (c >= 'A' && c <= 'Z') return 2;
  if (c >= '0' && c <= '9') return 4;
  if (c && strchr(" ,./-_:=&?%;+()", (int)c)) return 4;
  return 1; /* ~ # { } | ^ ` \ < > ! $ @ * [ ] quotes, control and high bytes */
}

size_t exhi_litscan_fingerprint(const exhi_litscan *ls, size_t i) {
  return i < ls->n_lits ? ls->fp[i] : 0;
}

/* Occurrences in the sample of the pair (a, b), counting both cases of a
 * caseless letter. cnt: pair counts, indexed a << 8 | b. */
static uint64_t pair_freq(const uint32_t *cnt, unsigned a, unsigned b, int caseless) {
  unsigned as[2] = {a, a}, bs[2] = {b, b};
  if (caseless && is_letter(a)) as[1] = a ^ 0x20;
  if (caseless && is_letter(b)) bs[1] = b ^ 0x20;
  uint64_t f = 0;
  for (int x = 0; x < 2; x++) {
    if (x && as[1] == as[0]) break;
    for (int y = 0; y < 2; y++) {
      if (y && bs[1] == bs[0]) break;
      f += cnt[as[x] << 8 | bs[y]];
    }
  }
  return f;
}

/* Bucket k recognises byte c (and its other case if caseless) as its
 * fingerprint's first (second = 0) or second byte. */
static void set_byte(exhi_litscan *ls, unsigned k, int second, unsigned c, int caseless) {
  uint8_t bit = (uint8_t)(1u << k);
  uint8_t *t = second ? ls->t1 : ls->t0, *lo = second ? ls->lo1 : ls->lo0,
          *hi = second ? ls->hi1 : ls->hi0;
  unsigned cs[2] = {c, caseless && is_letter(c) ? c ^ 0x20 : c};
  for (int x = 0; x < 2; x++) {
    t[cs[x]] |= bit;
    lo[cs[x] & 15] |= bit;
    lo[16 + (cs[x] & 15)] |= bit;
    hi[cs[x] >> 4] |= bit;
    hi[16 + (cs[x] >> 4)] |= bit;
  }
}

int exhi_litscan_build(const exhi_litscan_lit *lits, size_t n, int line_hash,
                       unsigned line_hash_id, const char *sample, size_t sample_len,
                       exhi_litscan **out, exh_error *err) {
  *out = NULL;
  if (n > EXHI_LITSCAN_MAX_LITS)
    return exhi_err(err, EXH_ERR_LIMIT, "litscan", 0, -1, "%zu literals: at most %d", n,
                    EXHI_LITSCAN_MAX_LITS);
  if (n && !lits) return exhi_err(err, EXH_ERR_INVALID, "litscan", 0, -1, "no literals given");
  for (size_t i = 0; i < n; i++) {
    if (!lits[i].bytes || lits[i].len < EXHI_LITSCAN_MIN_LEN)
      return exhi_err(err, EXH_ERR_INVALID, "litscan", 0, -1,
                      "literal %zu: %zu bytes, at least %d needed", i, lits[i].bytes ? lits[i].len : 0,
                      EXHI_LITSCAN_MIN_LEN);
    if (lits[i].len > EXHI_LITSCAN_MAX_LEN)
      return exhi_err(err, EXH_ERR_LIMIT, "litscan", 0, -1, "literal %zu: %zu bytes, at most %d",
                      i, lits[i].len, EXHI_LITSCAN_MAX_LEN);
  }
  exhi_litscan *ls = calloc(1, sizeof *ls);
  if (!ls) return exhi_err(err, EXH_ERR_NOMEM, "litscan", 0, -1, "out of memory");
  uint32_t *cnt = NULL;
  if (sample && sample_len >= 2) {
    cnt = calloc(65536, sizeof *cnt);
    if (!cnt) {
      free(ls);
      return exhi_err(err, EXH_ERR_NOMEM, "litscan", 0, -1, "out of memory");
    }
    const unsigned char *s = (const unsigned char *)sample;
    for (size_t i = 0; i + 1 < sample_len; i++) cnt[s[i] << 8 | s[i + 1]]++;
  }
  ls->n_lits = (unsigned)n;
  ls->min_delta = 255;
  for (unsigned k = 0; k < n; k++) {
    const unsigned char *b = (const unsigned char *)lits[k].bytes;
    size_t len = lits[k].len;
    int ci = lits[k].caseless != 0;
    /* The rarest pair in the sample; ties (and no sample) by the guess. */
    size_t best = 0;
    uint64_t best_f = UINT64_MAX;
    unsigned best_c = ~0u;
    for (size_t f = 0; f + 1 < len; f++) {
      uint64_t fr = cnt ? pair_freq(cnt, b[f], b[f + 1], ci) : 0;
      unsigned c = static_cost(b[f], ci) + static_cost(b[f + 1], ci);
      if (fr < best_f || (fr == best_f && c < best_c)) best = f, best_f = fr, best_c = c;
    }
    ls->id[k] = lits[k].id;
    ls->len[k] = (uint8_t)len;
    ls->fp[k] = (uint8_t)best;
    ls->back[k] = (uint8_t)(best + 1);
    for (size_t i = 0; i < len; i++) {
      int fold = ci && is_letter(b[i]);
      ls->msk[k][i] = fold ? 0xDF : 0xFF;
      ls->val[k][i] = fold ? (uint8_t)(b[i] & 0xDF) : b[i];
    }
    for (size_t i = best + 1; i + 1 < len; i++) ls->nlx[k] += b[i] == '\n';
    set_byte(ls, k, 0, b[best], ci);
    set_byte(ls, k, 1, b[best + 1], ci);
    if (b[best] >= 0x80 || b[best + 1] >= 0x80) ls->high_fp = 1;
    if (len - best - 1 < ls->min_delta) ls->min_delta = (unsigned)(len - best - 1);
  }
  free(cnt);
  ls->nb = (unsigned)n;
  if (line_hash) {
    /* '#' is the match; the '\n' before it is the fingerprint's first byte. */
    unsigned k = ls->nb++;
    ls->line_hash = 1;
    ls->hash_id = line_hash_id;
    ls->id[k] = line_hash_id;
    ls->len[k] = 1;
    ls->back[k] = 0;
    ls->val[k][0] = '#';
    ls->msk[k][0] = 0xFF;
    set_byte(ls, k, 0, '\n', 0);
    set_byte(ls, k, 1, '#', 0);
    ls->min_delta = 1;
  }
  *out = ls;
  return EXH_OK;
}

void exhi_litscan_free(exhi_litscan *ls) { free(ls); }

/* ---- matches put in end order ------------------------------------------ */

/* Fingerprints are met in position order, but a bucket's end is its
 * fingerprint's position plus its own delta (1..254), so a match may end
 * before one found earlier. Verified matches wait in a ring indexed by end
 * until no later fingerprint can end before them: every pending end lies in
 * (done, done + 255), since ends are at most 253 apart in delta. */
typedef struct sink {
  exhi_litscan_cb cb;
  void *ctx;
  size_t done;      /* every match ending at or before this was reported */
  unsigned pending; /* matches in ring */
  uint8_t ring[256]; /* by end & 255: bucket bits */
  size_t ring_nl[256]; /* by end & 255: the '\n's before the match's last byte */
} sink;

/* Reports the pending matches ending at or before upto. */
static int flush(const exhi_litscan *ls, sink *sk, size_t upto) {
  if (upto <= sk->done) return 0;
  for (size_t e = sk->done + 1; sk->pending && e <= upto; e++) {
    unsigned bits = sk->ring[e & 255];
    if (!bits) continue;
    sk->ring[e & 255] = 0;
    for (; bits; bits &= bits - 1) {
      sk->pending--;
      int rc = sk->cb(sk->ctx, ls->id[__builtin_ctz(bits)], e, sk->ring_nl[e & 255]);
      if (rc) return rc;
    }
  }
  sk->done = upto;
  return 0;
}

/* Whether bucket k's literal is at s (which has len[k] bytes). */
static inline int verify(const exhi_litscan *ls, unsigned k, const unsigned char *s) {
  size_t len = ls->len[k], o = 0;
  const uint8_t *v = ls->val[k], *m = ls->msk[k];
  for (; o + 8 <= len; o += 8) {
    uint64_t x, mm, vv;
    memcpy(&x, s + o, 8);
    memcpy(&mm, m + o, 8);
    memcpy(&vv, v + o, 8);
    if ((x & mm) != vv) return 0;
  }
  for (; o < len; o++)
    if ((s[o] & m[o]) != v[o]) return 0;
  return 1;
}

/* The fingerprints of buckets bk end at p[pos], after nl '\n's: each is
 * checked in full. */
static inline int candidate(const exhi_litscan *ls, sink *sk, const unsigned char *p, size_t n,
                            size_t pos, unsigned bk, size_t nl) {
  /* Nothing found from here on ends before pos + min_delta. */
  int rc = flush(ls, sk, pos + ls->min_delta - 1);
  if (rc) return rc;
  for (; bk; bk &= bk - 1) {
    unsigned k = (unsigned)__builtin_ctz(bk);
    if (pos < ls->back[k]) continue;
    size_t start = pos - ls->back[k], end = start + ls->len[k];
    if (end > n || !verify(ls, k, p + start)) continue;
    sk->ring[end & 255] |= (uint8_t)(1u << k);
    /* Matches ending at one byte share their last byte, so its count. */
    sk->ring_nl[end & 255] = nl + ls->nlx[k];
    sk->pending++;
  }
  return 0;
}

/* ---- the portable path ------------------------------------------------- */

static int scan_portable(const exhi_litscan *ls, const unsigned char *p, size_t n,
                         exhi_litscan_cb cb, void *ctx, uint64_t *newlines) {
  sink sk = {.cb = cb, .ctx = ctx};
  int rc;
  if (ls->line_hash && n && p[0] == '#' && (rc = cb(ctx, ls->hash_id, 1, 0))) return rc;
  uint64_t lines = 0;
  unsigned prev = 0; /* buckets whose first fingerprint byte is p[i - 1] */
  for (size_t i = 0; i < n; i++) {
    unsigned c = p[i];
    lines += c == '\n';
    unsigned r = prev & ls->t1[c];
    prev = ls->t0[c];
    if (r && (rc = candidate(ls, &sk, p, n, i, r, lines - (c == '\n')))) return rc;
  }
  if ((rc = flush(ls, &sk, SIZE_MAX))) return rc;
  if (newlines) *newlines = lines;
  return 0;
}

/* ---- the AVX2 path ----------------------------------------------------- */

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_AVX2_PATH 1
#define AVX2_FN __attribute__((target("avx2,bmi,popcnt")))

typedef struct avx2_k {
  __m256i lo0, hi0, lo1, hi1, nib, nl;
} avx2_k;

/* 64 bytes at q: the buckets whose fingerprint ends at each byte (r0, r1),
 * as a bit per byte in the return; the newline counters in *acc. *prev
 * carries the first-byte buckets of the previous 32 bytes. mask_lo (a
 * constant once inlined): clear bit 7 before the low-nibble lookup. pshufb
 * gives 0 for an index with bit 7 set, right for every byte >= 0x80 when
 * no fingerprint has one, and one instruction less per 32 bytes. */
static inline __attribute__((always_inline)) AVX2_FN uint64_t
block64(const avx2_k *K, const unsigned char *q, __m256i *prev, __m256i *acc, __m256i *r0,
        __m256i *r1, int mask_lo) {
  __m256i v0 = _mm256_loadu_si256((const __m256i *)(const void *)q);
  __m256i v1 = _mm256_loadu_si256((const __m256i *)(const void *)(q + 32));
  *acc = _mm256_sub_epi8(*acc, _mm256_cmpeq_epi8(v0, K->nl));
  *acc = _mm256_sub_epi8(*acc, _mm256_cmpeq_epi8(v1, K->nl));
  __m256i l0 = mask_lo ? _mm256_and_si256(v0, K->nib) : v0;
  __m256i h0 = _mm256_and_si256(_mm256_srli_epi16(v0, 4), K->nib);
  __m256i l1 = mask_lo ? _mm256_and_si256(v1, K->nib) : v1;
  __m256i h1 = _mm256_and_si256(_mm256_srli_epi16(v1, 4), K->nib);
  __m256i a0 = _mm256_and_si256(_mm256_shuffle_epi8(K->lo0, l0), _mm256_shuffle_epi8(K->hi0, h0));
  __m256i b0 = _mm256_and_si256(_mm256_shuffle_epi8(K->lo1, l0), _mm256_shuffle_epi8(K->hi1, h0));
  __m256i a1 = _mm256_and_si256(_mm256_shuffle_epi8(K->lo0, l1), _mm256_shuffle_epi8(K->hi0, h1));
  __m256i b1 = _mm256_and_si256(_mm256_shuffle_epi8(K->lo1, l1), _mm256_shuffle_epi8(K->hi1, h1));
  /* First-byte buckets moved one byte on, to meet the second byte. */
  __m256i s0 = _mm256_alignr_epi8(a0, _mm256_permute2x128_si256(*prev, a0, 0x21), 15);
  __m256i s1 = _mm256_alignr_epi8(a1, _mm256_permute2x128_si256(a0, a1, 0x21), 15);
  *prev = a1;
  *r0 = _mm256_and_si256(s0, b0);
  *r1 = _mm256_and_si256(s1, b1);
  __m256i any = _mm256_or_si256(*r0, *r1);
  if (_mm256_testz_si256(any, any)) return 0;
  __m256i z = _mm256_setzero_si256();
  uint32_t m0 = ~(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(*r0, z));
  uint32_t m1 = ~(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(*r1, z));
  return (uint64_t)m1 << 32 | m0;
}

AVX2_FN static uint64_t nl_sum(__m256i acc) {
  __m256i s = _mm256_sad_epu8(acc, _mm256_setzero_si256());
  return (uint64_t)_mm256_extract_epi64(s, 0) + (uint64_t)_mm256_extract_epi64(s, 1) +
         (uint64_t)_mm256_extract_epi64(s, 2) + (uint64_t)_mm256_extract_epi64(s, 3);
}

/* Each candidate byte j (bit of m) of the 64 at base, its buckets in rb[j],
 * with the '\n's before it: nl_end (those up to the block's end) less the
 * block's own (nlm) from j on. Both fast paths' (a subset of their ISA). */
static inline __attribute__((always_inline, target("bmi,popcnt"))) int
each_candidate(const exhi_litscan *ls, sink *sk, const unsigned char *p, size_t n, size_t base,
               uint64_t m, const uint8_t *rb, uint64_t nlm, uint64_t nl_end) {
  uint64_t nl0 = nl_end - (uint64_t)_mm_popcnt_u64(nlm);
  for (; m; m = _blsr_u64(m)) {
    unsigned j = (unsigned)_tzcnt_u64(m);
    uint64_t below = j ? nlm & (~0ull >> (64 - j)) : 0;
    int rc = candidate(ls, sk, p, n, base + j, rb[j], nl0 + (uint64_t)_mm_popcnt_u64(below));
    if (rc) return rc;
  }
  return 0;
}

/* Each candidate byte j of the 64 at base (q: those bytes, or their padded
 * copy), its buckets in rb[j]; nl_end: the '\n's up to the block's end. */
AVX2_FN static int candidates(const exhi_litscan *ls, sink *sk, const unsigned char *p, size_t n,
                              size_t base, uint64_t m, __m256i r0, __m256i r1,
                              const unsigned char *q, uint64_t nl_end) {
  alignas(32) uint8_t rb[64];
  _mm256_store_si256((__m256i *)(void *)rb, r0);
  _mm256_store_si256((__m256i *)(void *)(rb + 32), r1);
  /* Rare (a fingerprint seen): the block's '\n's found again, for counts. */
  const __m256i vn = _mm256_set1_epi8('\n');
  uint64_t nlm = (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(
                     _mm256_loadu_si256((const __m256i *)(const void *)q), vn)) |
                 (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(
                     _mm256_loadu_si256((const __m256i *)(const void *)(q + 32)), vn))
                     << 32;
  return each_candidate(ls, sk, p, n, base, m, rb, nlm, nl_end);
}

static inline __attribute__((always_inline)) AVX2_FN int
scan_avx2_body(const exhi_litscan *ls, const unsigned char *p, size_t n, exhi_litscan_cb cb,
               void *ctx, uint64_t *newlines, int mask_lo) {
  sink sk = {.cb = cb, .ctx = ctx};
  int rc;
  if (ls->line_hash && n && p[0] == '#' && (rc = cb(ctx, ls->hash_id, 1, 0))) return rc;
  avx2_k K = {
      .lo0 = _mm256_loadu_si256((const __m256i *)(const void *)ls->lo0),
      .hi0 = _mm256_loadu_si256((const __m256i *)(const void *)ls->hi0),
      .lo1 = _mm256_loadu_si256((const __m256i *)(const void *)ls->lo1),
      .hi1 = _mm256_loadu_si256((const __m256i *)(const void *)ls->hi1),
      .nib = _mm256_set1_epi8(0x0f),
      .nl = _mm256_set1_epi8('\n'),
  };
  __m256i prev = _mm256_setzero_si256(), acc = _mm256_setzero_si256(), r0, r1;
  uint64_t lines = 0;
  size_t i = 0;
  while (i + 64 <= n) {
    /* Byte counters take two per block: summed before any can wrap. */
    size_t stop = n - i >= 127 * 64 ? i + 127 * 64 : n - (n - i) % 64;
    for (; i < stop; i += 64) {
      uint64_t m = block64(&K, p + i, &prev, &acc, &r0, &r1, mask_lo);
      if (m && (rc = candidates(ls, &sk, p, n, i, m, r0, r1, p + i, lines + nl_sum(acc))))
        return rc;
    }
    lines += nl_sum(acc);
    acc = _mm256_setzero_si256();
  }
  if (i < n) {
    /* The last n - i < 64 bytes, from a zero-padded copy: zeros are no
     * '\n', and a fingerprint they complete ends past n, so fails. */
    alignas(32) unsigned char tail[64] = {0};
    memcpy(tail, p + i, n - i);
    uint64_t m = block64(&K, tail, &prev, &acc, &r0, &r1, mask_lo);
    m &= ((uint64_t)1 << (n - i)) - 1;
    if (m && (rc = candidates(ls, &sk, p, n, i, m, r0, r1, tail, lines + nl_sum(acc)))) return rc;
    lines += nl_sum(acc);
  }
  if ((rc = flush(ls, &sk, SIZE_MAX))) return rc;
  if (newlines) *newlines = lines;
  return 0;
}

AVX2_FN static int scan_avx2(const exhi_litscan *ls, const unsigned char *p, size_t n,
                             exhi_litscan_cb cb, void *ctx, uint64_t *newlines) {
  return ls->high_fp ? scan_avx2_body(ls, p, n, cb, ctx, newlines, 1)
                     : scan_avx2_body(ls, p, n, cb, ctx, newlines, 0);
}

/* ---- the AVX-512 path -------------------------------------------------- */

/* With VBMI a two-register byte permute looks a byte up in 128 entries at
 * once, so each fingerprint byte costs one instruction per 64 bytes instead
 * of two nibble shuffles and an AND per 32, and compares give bit masks
 * directly: about a third of the AVX2 path's instructions. Bytes >= 0x80
 * are zeroed by mask, which is exact as long as no fingerprint has one
 * (high_fp: such scanners take the AVX2 path). */
#define AVX512_FN __attribute__((target("avx512f,avx512bw,avx512vbmi,bmi,popcnt")))

typedef struct avx512_k {
  __m512i t0a, t0b, t1a, t1b, shift, nl;
} avx512_k;

/* 64 bytes at q: bit j of the return set when a fingerprint ends at q[j],
 * its buckets in *r; newlines added to *lines; *prev carries the previous
 * 64 bytes' first-byte buckets. */
static inline __attribute__((always_inline)) AVX512_FN uint64_t
block64_512(const avx512_k *K, const unsigned char *q, __m512i *prev, uint64_t *lines, __m512i *r) {
  __m512i v = _mm512_loadu_si512((const void *)q);
  __mmask64 ascii = ~_mm512_movepi8_mask(v);
  *lines += (uint64_t)_mm_popcnt_u64(_mm512_cmpeq_epi8_mask(v, K->nl));
  __m512i a = _mm512_maskz_permutex2var_epi8(ascii, K->t0a, v, K->t0b);
  __m512i b = _mm512_maskz_permutex2var_epi8(ascii, K->t1a, v, K->t1b);
  /* First-byte buckets moved one byte on (the previous block's last in front). */
  __m512i s = _mm512_permutex2var_epi8(*prev, K->shift, a);
  *prev = a;
  uint64_t m = _mm512_test_epi8_mask(s, b);
  if (m) *r = _mm512_and_si512(s, b);
  return m;
}

/* As candidates(): q the block's bytes, nl_end the '\n's up to its end. */
AVX512_FN static int candidates_512(const exhi_litscan *ls, sink *sk, const unsigned char *p,
                                    size_t n, size_t base, uint64_t m, __m512i r,
                                    const unsigned char *q, uint64_t nl_end) {
  alignas(64) uint8_t rb[64];
  _mm512_store_si512((void *)rb, r);
  uint64_t nlm = _mm512_cmpeq_epi8_mask(_mm512_loadu_si512((const void *)q), _mm512_set1_epi8('\n'));
  return each_candidate(ls, sk, p, n, base, m, rb, nlm, nl_end);
}

AVX512_FN static int scan_avx512(const exhi_litscan *ls, const unsigned char *p, size_t n,
                                 exhi_litscan_cb cb, void *ctx, uint64_t *newlines) {
  sink sk = {.cb = cb, .ctx = ctx};
  int rc;
  if (ls->line_hash && n && p[0] == '#' && (rc = cb(ctx, ls->hash_id, 1, 0))) return rc;
  alignas(64) uint8_t shift[64];
  for (int j = 0; j < 64; j++) shift[j] = (uint8_t)(63 + j); /* 63: prev's last; 64 + k: a[k] */
  avx512_k K = {
      .t0a = _mm512_loadu_si512((const void *)ls->t0),
      .t0b = _mm512_loadu_si512((const void *)(ls->t0 + 64)),
      .t1a = _mm512_loadu_si512((const void *)ls->t1),
      .t1b = _mm512_loadu_si512((const void *)(ls->t1 + 64)),
      .shift = _mm512_load_si512((const void *)shift),
      .nl = _mm512_set1_epi8('\n'),
  };
  __m512i prev = _mm512_setzero_si512(), r = _mm512_setzero_si512();
  uint64_t lines = 0;
  size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    uint64_t m = block64_512(&K, p + i, &prev, &lines, &r);
    if (m && (rc = candidates_512(ls, &sk, p, n, i, m, r, p + i, lines))) return rc;
  }
  if (i < n) {
    /* As on the AVX2 path: a zero-padded copy of the last n - i bytes. */
    alignas(64) unsigned char tail[64] = {0};
    memcpy(tail, p + i, n - i);
    uint64_t m = block64_512(&K, tail, &prev, &lines, &r);
    m &= ((uint64_t)1 << (n - i)) - 1;
    if (m && (rc = candidates_512(ls, &sk, p, n, i, m, r, tail, lines))) return rc;
  }
  if ((rc = flush(ls, &sk, SIZE_MAX))) return rc;
  if (newlines) *newlines = lines;
  return 0;
}
#endif

/* ---- dispatch ---------------------------------------------------------- */

unsigned exhi_litscan_paths(void) {
  static atomic_uint paths; /* 0: not asked yet; every thread finds the same */
  unsigned v = atomic_load_explicit(&paths, memory_order_relaxed);
  if (!v) {
    v = EXHI_LITSCAN_PORTABLE;
#ifdef HAVE_AVX2_PATH
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi") &&
        __builtin_cpu_supports("popcnt")) {
      v |= EXHI_LITSCAN_AVX2;
      /* libgcc's answer includes the OS saving the 512-bit state. */
      if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
          __builtin_cpu_supports("avx512vbmi"))
        v |= EXHI_LITSCAN_AVX512;
    }
#endif
    atomic_store_explicit(&paths, v, memory_order_relaxed);
  }
  return v;
}

int exhi_litscan_scan_path(const exhi_litscan *ls, unsigned path, const char *p, size_t n,
                           exhi_litscan_cb cb, void *ctx, uint64_t *newlines) {
  const unsigned char *u = (const unsigned char *)p;
#ifdef HAVE_AVX2_PATH
  unsigned paths = exhi_litscan_paths();
  if (path == EXHI_LITSCAN_AVX512 && (paths & EXHI_LITSCAN_AVX512) && !ls->high_fp)
    return scan_avx512(ls, u, n, cb, ctx, newlines);
  if ((path == EXHI_LITSCAN_AVX2 || path == EXHI_LITSCAN_AVX512) && (paths & EXHI_LITSCAN_AVX2))
    return scan_avx2(ls, u, n, cb, ctx, newlines);
#endif
  (void)path;
  return scan_portable(ls, u, n, cb, ctx, newlines);
}

int exhi_litscan_scan(const exhi_litscan *ls, const char *p, size_t n, exhi_litscan_cb cb,
                      void *ctx, uint64_t *newlines) {
  unsigned paths = exhi_litscan_paths();
  unsigned path = paths & EXHI_LITSCAN_AVX512 ? EXHI_LITSCAN_AVX512
                  : paths & EXHI_LITSCAN_AVX2 ? EXHI_LITSCAN_AVX2
                                              : EXHI_LITSCAN_PORTABLE;
  return exhi_litscan_scan_path(ls, path, p, n, cb, ctx, newlines);
}
