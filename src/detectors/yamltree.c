#include "yamltree.h"

#include "../core/arena.h"
#include "logrules.h"

#include <stdlib.h>
#include <string.h>
#include <yaml.h>

typedef struct frame {
  exhi_ynode *node;
  exhi_ynode *pending_key; /* map: key read, value not yet */
  size_t cap;
} frame;

static int add_child(exhi_ytree *t, frame *f, exhi_ynode *child, exh_error *err,
                     const char *name) {
  exhi_arena *a = t->mem;
  exhi_ynode *p = f->node;
  if (p->type == EXHI_Y_MAP && !f->pending_key) {
    if (child->type != EXHI_Y_SCALAR)
      return exhi_err(err, EXH_ERR_PARSE, name, child->line, -1,
                      "a mapping key must be a plain value");
    f->pending_key = child;
    return EXH_OK;
  }
  if (p->n == f->cap) {
    size_t nc = f->cap ? f->cap * 2 : 4;
    exhi_ynode **k = exhi_arena_alloc(a, nc * sizeof *k);
    exhi_ynode **ks = p->type == EXHI_Y_MAP ? exhi_arena_alloc(a, nc * sizeof *ks) : NULL;
    if (!k || (p->type == EXHI_Y_MAP && !ks))
      return exhi_err(err, EXH_ERR_NOMEM, name, 0, -1, "out of memory");
    if (p->n) memcpy(k, p->kids, p->n * sizeof *k);
    if (ks && p->n) memcpy(ks, p->keys, p->n * sizeof *ks);
    p->kids = k;
    if (ks) p->keys = ks;
    f->cap = nc;
  }
  if (p->type == EXHI_Y_MAP) {
    for (size_t i = 0; i < p->n; i++)
      if (strcmp(p->keys[i]->val, f->pending_key->val) == 0)
        return exhi_err(err, EXH_ERR_PARSE, name, f->pending_key->line, -1,
                        "key '%.64s' appears twice in the same mapping", f->pending_key->val);
    p->keys[p->n] = f->pending_key;
    f->pending_key = NULL;
  }
  p->kids[p->n++] = child;
  return EXH_OK;
}

int exhi_ytree_parse(const char *name, const char *text, size_t len, exhi_ytree *t,
                     exh_error *err) {
  memset(t, 0, sizeof *t);
  exhi_arena *a = calloc(1, sizeof *a);
  if (!a) return exhi_err(err, EXH_ERR_NOMEM, name, 0, -1, "out of memory");
  t->mem = a;
  yaml_parser_t p;
  if (!yaml_parser_initialize(&p)) {
    exhi_ytree_free(t);
    return exhi_err(err, EXH_ERR_NOMEM, name, 0, -1, "out of memory");
  }
  yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
  frame stack[EXHI_LR_YAML_DEPTH];
  int depth = 0, docs = 0, rc = EXH_OK, done = 0;
  while (!done && rc == EXH_OK) {
    yaml_event_t ev;
    if (!yaml_parser_parse(&p, &ev)) {
      rc = exhi_err(err, EXH_ERR_PARSE, name, (long long)p.problem_mark.line + 1, -1,
                    "YAML: %s", p.problem ? p.problem : "syntax error");
      break;
    }
    int line = (int)ev.start_mark.line + 1;
    exhi_ynode *node = NULL;
    switch (ev.type) {
    case YAML_STREAM_END_EVENT: done = 1; break;
    case YAML_DOCUMENT_START_EVENT:
      if (++docs > 1)
        rc = exhi_err(err, EXH_ERR_PARSE, name, line, -1,
                      "a second YAML document ('---'): rule collections are not supported, "
                      "write one rule per file");
      break;
    case YAML_ALIAS_EVENT:
      rc = exhi_err(err, EXH_ERR_PARSE, name, line, -1,
                    "YAML alias '*%.64s': anchors and aliases are not supported in rules",
                    (const char *)ev.data.alias.anchor);
      break;
    case YAML_SCALAR_EVENT:
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT: {
      if (++t->nodes > EXHI_LR_YAML_NODES) {
        rc = exhi_err(err, EXH_ERR_LIMIT, name, line, -1, "more than %d YAML nodes",
                      EXHI_LR_YAML_NODES);
        break;
      }
      node = exhi_arena_alloc(a, sizeof *node);
      if (!node) {
        rc = exhi_err(err, EXH_ERR_NOMEM, name, 0, -1, "out of memory");
        break;
      }
      node->line = line;
      if (ev.type == YAML_SCALAR_EVENT) {
        node->type = EXHI_Y_SCALAR;
        if (ev.data.scalar.anchor) {
          rc = exhi_err(err, EXH_ERR_PARSE, name, line, -1, "YAML anchors are not supported in rules");
          break;
        }
        if (ev.data.scalar.length > EXHI_LR_VALUE_MAX) {
          rc = exhi_err(err, EXH_ERR_LIMIT, name, line, -1, "a value longer than %d bytes",
                        EXHI_LR_VALUE_MAX);
          break;
        }
        node->val = exhi_arena_alloc(a, ev.data.scalar.length + 1);
        if (!node->val) {
          rc = exhi_err(err, EXH_ERR_NOMEM, name, 0, -1, "out of memory");
          break;
        }
        memcpy(node->val, ev.data.scalar.value, ev.data.scalar.length);
        node->quoted = ev.data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
      } else {
        node->type = ev.type == YAML_SEQUENCE_START_EVENT ? EXHI_Y_SEQ : EXHI_Y_MAP;
        const unsigned char *anchor = ev.type == YAML_SEQUENCE_START_EVENT
                                          ? ev.data.sequence_start.anchor
                                          : ev.data.mapping_start.anchor;
        if (anchor) {
          rc = exhi_err(err, EXH_ERR_PARSE, name, line, -1, "YAML anchors are not supported in rules");
          break;
        }
      }
      if (depth > 0) rc = add_child(t, &stack[depth - 1], node, err, name);
      else t->root = node;
      if (rc == EXH_OK && node->type != EXHI_Y_SCALAR) {
        if (depth == EXHI_LR_YAML_DEPTH) {
          rc = exhi_err(err, EXH_ERR_LIMIT, name, line, -1, "YAML nested deeper than %d levels",
                        EXHI_LR_YAML_DEPTH);
          break;
        }
        stack[depth].node = node;
        stack[depth].pending_key = NULL;
        stack[depth].cap = 0;
        depth++;
      }
      break;
    }
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
      if (depth > 0) depth--;
      break;
    default: break;
    }
    yaml_event_delete(&ev);
  }
  yaml_parser_delete(&p);
  if (rc != EXH_OK) {
    exhi_ytree_free(t);
    return rc;
  }
  return EXH_OK;
}

void exhi_ytree_free(exhi_ytree *t) {
  if (!t || !t->mem) return;
  exhi_arena_free(t->mem);
  free(t->mem);
  t->mem = NULL;
  t->root = NULL;
}

const exhi_ynode *exhi_ymap_get(const exhi_ynode *map, const char *key) {
  if (!map || map->type != EXHI_Y_MAP) return NULL;
  for (size_t i = 0; i < map->n; i++)
    if (strcmp(map->keys[i]->val, key) == 0) return map->kids[i];
  return NULL;
}
