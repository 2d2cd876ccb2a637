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
  if (size > SIZE_MAX - align) return NULL;
  size = (size + align - 1) & ~(align - 1);
  exhi_arena_block *b = a->head;
  if (!b || b->cap - b->used < size) {
    size_t cap = size > BLOCK_SIZE ? size : BLOCK_SIZE;
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
