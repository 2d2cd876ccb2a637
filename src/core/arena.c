#include "arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK_SIZE (64u * 1024u)

struct exhi_arena_block {
  exhi_arena_block *next;
  size_t used, cap;
  max_align_t data[];
};

void *exhi_arena_alloc(exhi_arena *a, size_t size) {
  size_t align = _Alignof(max_align_t);
  if (size > SIZE_MAX - align - sizeof(exhi_arena_block)) return NULL;
  size = (size + align - 1) & ~(align - 1);
  if (size > BLOCK_SIZE) {
    /* An object larger than a block gets one of its own from calloc, not
     * malloc + memset: glibc maps such sizes fresh from the kernel, already
     * zero, so only the pages written are ever faulted in. A log rule's
     * condition table is 137 KB of which a few hundred bytes are used; the
     * memset touched every page (18 rules: ~600 page faults, over 1 ms of
     * every `exhunt logs`). */
    exhi_arena_block *big = calloc(1, sizeof *big + size);
    if (!big) return NULL;
    big->cap = big->used = size;
    /* Behind the head: the head's free space stays the next to be used. */
    big->next = a->head ? a->head->next : NULL;
    if (a->head) a->head->next = big;
    else a->head = big;
    return big->data;
  }
  exhi_arena_block *b = a->head;
  if (!b || b->cap - b->used < size) {
    size_t cap = BLOCK_SIZE;
    b = malloc(sizeof *b + cap);
    if (!b) return NULL;
    b->cap = cap;
    b->used = 0;
    b->next = a->head;
    a->head = b;
  }
  void *p = (char *)b->data + b->used;
  b->used += size;
  memset(p, 0, size);
  return p;
}

char *exhi_arena_strdup(exhi_arena *a, const char *s) {
  size_t n = strlen(s) + 1;
  char *p = exhi_arena_alloc(a, n);
  if (p) memcpy(p, s, n);
  return p;
}

void exhi_arena_free(exhi_arena *a) {
  exhi_arena_block *b = a->head;
  while (b) {
    exhi_arena_block *n = b->next;
    free(b);
    b = n;
  }
  a->head = NULL;
}
