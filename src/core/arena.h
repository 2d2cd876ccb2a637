/* A bump allocator for objects that live and die together (a kb's strings
 * and tables). Everything allocated is freed by exhi_arena_free. */
#ifndef EXHUNT_ARENA_H
#define EXHUNT_ARENA_H

#include <stddef.h>

typedef struct exhi_arena_block exhi_arena_block;
typedef struct exhi_arena {
  exhi_arena_block *head;
} exhi_arena;

/* Zeroed memory, or NULL when out of memory. */
void *exhi_arena_alloc(exhi_arena *a, size_t size);
char *exhi_arena_strdup(exhi_arena *a, const char *s);
void exhi_arena_free(exhi_arena *a);

#endif
