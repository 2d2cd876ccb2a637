/* Internal layout of the knowledge base (build, CVE, product tables),
 * shared by the loader (kb.c) and the assessor (assess.c). */
#ifndef EXHUNT_KB_H
#define EXHUNT_KB_H

#include "../core/arena.h"
#include "../core/internal.h"

typedef struct kb_product {
  const char *name;
  uint32_t major, minor_min, minor_max, build_min, build_max;
  const char *end_of_support; /* "" while supported */
  const char *note, *source;
  size_t first_line, nlines;  /* its CU lines in kb->lines, oldest first */
  uint32_t *cves;             /* distinct CVEs with a row for this product */
  size_t ncves;
} kb_product;

/* A CVE as seen from one CU line. */
typedef struct kb_line_cve {
  uint32_t cve;               /* index into kb->cves */
  const exh_build *fixed;     /* first fixed build; NULL: never fixed here */
  const exh_release *fix;     /* the release that brings the fix */
} kb_line_cve;

typedef struct kb_line {
  const exh_release *base;    /* the CU / SP as released */
  size_t product;
  const exh_release **rels;   /* releases on this line, by build */
  size_t nrels;
  kb_line_cve *cves;
  size_t ncves;
} kb_line;

typedef struct kb_cve {
  const char *id;
  const char *campaign; /* "" if none */
} kb_cve;

struct exh_kb {
  exhi_arena arena;
  exh_release *rels;          /* in file order */
  size_t nrels;
  size_t *rel_line;           /* line of each release */
  const exh_release **by_build; /* all releases by build, for exact lookup */
  kb_line *lines;             /* grouped by product, each by base build */
  size_t nlines;
  kb_product *products;
  size_t nproducts;
  kb_cve *cves;               /* sorted by id */
  size_t ncves, ncverows;
  const char *newest_release;
  char origin[4096];
};

/* The product a build belongs to, or NULL. */
const kb_product *exhi_kb_product_of(const exh_kb *kb, const exh_build *b);
/* Strict "a.b.c.d" parser for table cells. */
bool exhi_parse_build4(const char *s, exh_build *out);

/* Loads the tables from memory: products.csv, builds.csv, cves.csv and
 * campaigns.csv in that order. names are used in error messages only; data
 * need not be NUL-terminated (lens are authoritative). exh_kb_load reads the
 * files or built-in tables and calls this; a kb loaded here reports origin
 * "in-memory". */
int exhi_kb_load_buffers(const char *const names[4], const char *const data[4],
                         const size_t lens[4], exh_kb **out, exh_error *err);

#endif
