/* A minimal test harness: CHECK macros that count, and a closing line
 * "N passed, N failed" that CI reads. */
#ifndef EXHUNT_T_H
#define EXHUNT_T_H

#include <stdio.h>
#include <string.h>

static int t_passed, t_failed;

#define CHECK(cond)                                                              \
  do {                                                                           \
    if (cond) t_passed++;                                                        \
    else {                                                                       \
      t_failed++;                                                                \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);   \
    }                                                                            \
  } while (0)

#define CHECK_INT(a, b)                                                          \
  do {                                                                           \
    long long a_ = (long long)(a), b_ = (long long)(b);                          \
    if (a_ == b_) t_passed++;                                                    \
    else {                                                                       \
      t_failed++;                                                                \
      fprintf(stderr, "%s:%d: %s == %lld, expected %lld\n", __FILE__, __LINE__,  \
              #a, a_, b_);                                                       \
    }                                                                            \
  } while (0)

#define CHECK_STR(a, b)                                                          \
  do {                                                                           \
    const char *a_ = (a), *b_ = (b);                                             \
    if (a_ && b_ && strcmp(a_, b_) == 0) t_passed++;                             \
    else {                                                                       \
      t_failed++;                                                                \
      fprintf(stderr, "%s:%d: %s == \"%s\", expected \"%s\"\n", __FILE__,        \
              __LINE__, #a, a_ ? a_ : "(null)", b_ ? b_ : "(null)");             \
    }                                                                            \
  } while (0)

#define CHECK_CONTAINS(hay, needle)                                              \
  do {                                                                           \
    const char *h_ = (hay), *n_ = (needle);                                      \
    if (h_ && strstr(h_, n_)) t_passed++;                                        \
    else {                                                                       \
      t_failed++;                                                                \
      fprintf(stderr, "%s:%d: \"%s\" does not contain \"%s\"\n", __FILE__,       \
              __LINE__, h_ ? h_ : "(null)", n_);                                 \
    }                                                                            \
  } while (0)

static inline int t_done(const char *name) {
  printf("%s: %d passed, %d failed\n", name, t_passed, t_failed);
  return t_failed ? 1 : 0;
}

#endif
