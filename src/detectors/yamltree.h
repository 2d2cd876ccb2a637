/* A small read-only tree of a YAML document (libyaml events), with the line
 * of every node, so rule errors can name the line. Anchors, aliases, tags
 * and several documents per file are refused: rules do not need them. */
#ifndef EXHUNT_DETECTORS_YAMLTREE_H
#define EXHUNT_DETECTORS_YAMLTREE_H

#include "../core/internal.h"

enum { EXHI_Y_SCALAR = 0, EXHI_Y_SEQ = 1, EXHI_Y_MAP = 2 };

typedef struct exhi_ynode {
  int type;
  int line;              /* 1-based */
  int quoted;            /* scalar written in quotes */
  char *val;             /* scalar text */
  size_t n;              /* children (seq) or pairs (map) */
  struct exhi_ynode **kids;
  struct exhi_ynode **keys; /* map keys (scalars) */
} exhi_ynode;

typedef struct exhi_ytree {
  exhi_ynode *root;      /* NULL for an empty document */
  size_t nodes;
  void *mem;             /* private */
} exhi_ytree;

int exhi_ytree_parse(const char *name, const char *text, size_t len, exhi_ytree *t,
                     exh_error *err);
void exhi_ytree_free(exhi_ytree *t);
/* The value of key in a map (case-sensitive), or NULL. */
const exhi_ynode *exhi_ymap_get(const exhi_ynode *map, const char *key);

#endif
