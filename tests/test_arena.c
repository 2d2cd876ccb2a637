/* The bump allocator (src/core/arena.c): every allocation is zeroed, even on
 * memory the heap had handed out and taken back; allocations never overlap;
 * one larger than a block gets its own without wasting the current block,
 * and its pages are not all touched (exhunt logs' start-up: a rule's
 * condition table is 137 KB, mostly never used). */
#define _GNU_SOURCE
#include "t.h"

#include "core/arena.h"

#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

static int all_zero(const unsigned char *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (p[i]) return 0;
  return 1;
}

/* Dirties memory the heap will hand out again: what a fresh arena gets
 * next is likely to be these bytes. */
static void dirty_heap(void) {
  enum { N = 16 };
  void *p[N];
  for (int i = 0; i < N; i++) {
    size_t n = (size_t)(i % 4 + 1) * 40000;
    p[i] = malloc(n);
    if (p[i]) memset(p[i], 0xAB, n);
  }
  for (int i = 0; i < N; i++) free(p[i]);
}

static void test_zeroed_and_apart(void) {
  static const size_t sizes[] = {1,      7, 16,     100, 4000, 65536,
                                 65537, 137240, 3, 300000, 48,   64 << 10};
  enum { N = sizeof sizes / sizeof sizes[0] };
  for (int round = 0; round < 3; round++) {
    dirty_heap();
    exhi_arena a = {0};
    unsigned char *p[N];
    for (int i = 0; i < N; i++) {
      p[i] = exhi_arena_alloc(&a, sizes[i]);
      CHECK(p[i] != NULL);
      if (!p[i]) return;
      CHECK(((uintptr_t)p[i] % _Alignof(max_align_t)) == 0);
      CHECK(all_zero(p[i], sizes[i]));
      memset(p[i], 0x10 + i, sizes[i]);
    }
    /* Each still holds its own pattern: none was handed out twice. */
    for (int i = 0; i < N; i++) {
      size_t bad = 0;
      for (size_t k = 0; k < sizes[i]; k++) bad += p[i][k] != (unsigned char)(0x10 + i);
      CHECK_INT(bad, 0);
    }
    char *s = exhi_arena_strdup(&a, "ServerInfo~");
    CHECK_STR(s, "ServerInfo~");
    exhi_arena_free(&a);
    CHECK(a.head == NULL);
  }
}

/* A large object does not end the block in use: the small allocations
 * before and after it are neighbours. */
static void test_large_keeps_block(void) {
  exhi_arena a = {0};
  char *p1 = exhi_arena_alloc(&a, 16);
  char *big = exhi_arena_alloc(&a, 200000);
  char *p2 = exhi_arena_alloc(&a, 16);
  CHECK(p1 && big && p2);
  CHECK(p2 == p1 + 16);
  /* A large one first: the next small one starts a block of its own. */
  exhi_arena b = {0};
  char *big2 = exhi_arena_alloc(&b, 200000);
  char *q1 = exhi_arena_alloc(&b, 16), *q2 = exhi_arena_alloc(&b, 16);
  CHECK(big2 && q1 && q2 && q2 == q1 + 16);
  CHECK(q1 < big2 || q1 >= big2 + 200000);
  exhi_arena_free(&a);
  exhi_arena_free(&b);
}

/* Only the pages written are resident: the object was not memset. (ASan's
 * allocator poisons and may touch what it hands out: not asked there.) */
static void test_large_untouched(void) {
#ifndef UNDER_ASAN
  /* meson test sets MALLOC_PERTURB_, under which glibc fills what calloc
   * returns: the allocator as exhunt meets it has no perturbation. */
  mallopt(M_PERTURB, 0);
  long pg = sysconf(_SC_PAGESIZE);
  size_t n = 8u << 20, pages = 0, resident = 0;
  exhi_arena a = {0};
  unsigned char *p = exhi_arena_alloc(&a, n);
  CHECK(p != NULL);
  if (!p || pg <= 0) return;
  p[0] = 1;
  p[n - 1] = 1;
  uintptr_t from = ((uintptr_t)p + (uintptr_t)pg - 1) & ~((uintptr_t)pg - 1);
  uintptr_t to = ((uintptr_t)p + n) & ~((uintptr_t)pg - 1);
  pages = (to - from) / (size_t)pg;
  unsigned char *vec = malloc(pages);
  CHECK(vec != NULL);
  if (vec && mincore((void *)from, to - from, vec) == 0) {
    for (size_t i = 0; i < pages; i++) resident += vec[i] & 1;
    CHECK(resident < pages / 8);
  } else {
    CHECK(!"mincore failed");
  }
  free(vec);
  exhi_arena_free(&a);
#endif
}

int main(void) {
  test_zeroed_and_apart();
  test_large_keeps_block();
  test_large_untouched();
  return t_done("arena");
}
