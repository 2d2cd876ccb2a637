/*
 * exhunt scan diff: two scans' JSON-lines outputs read into sorted sets and
 * compared host by host (key ip, port, domain). The files may come from
 * anywhere (a colleague, a ticket): every line is bounded and checked.
 *
 * A national scan has millions of records, so a set keeps per record only
 * its key, its verdict and where the line is; --list re-reads the few it
 * prints (exhi_diff_record).
 */
#include "scan/scan.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

/* Keys are packed one after the other into chunks of this size (a key is at
 * most a line, EXHI_DIFF_LINE_MAX): no per-key allocation or alignment. */
#define KEY_CHUNK (1u << 20)
/* The read buffer holds at least one whole line and its newline. */
#define READ_BUF (1u << 20)
_Static_assert(READ_BUF > EXHI_DIFF_LINE_MAX + 1, "a line must fit the read buffer");
_Static_assert(KEY_CHUNK >= EXHI_DIFF_LINE_MAX, "a key must fit a chunk");

struct exhi_diff_chunk {
  exhi_diff_chunk *next;
  size_t used;
  char data[];
};

/* Room for n key bytes in s's chunks, or NULL when out of memory. */
static char *key_room(exhi_diff_set *s, size_t n) {
  exhi_diff_chunk *c = s->keys;
  if (!c || KEY_CHUNK - c->used < n) {
    c = malloc(sizeof *c + KEY_CHUNK);
    if (!c) return NULL;
    c->used = 0;
    c->next = s->keys;
    s->keys = c;
  }
  char *p = c->data + c->used;
  c->used += n;
  return p;
}

/* The key of a parsed record (see exhi_diff_host) in buf (EXHI_DIFF_LINE_MAX
 * + 32 bytes: the strings come from one line); its length, or 0 if o is not
 * a record (no "ip" string). */
static size_t key_of(const json_t *o, char *buf) {
  const json_t *ip = json_object_get(o, "ip");
  if (!json_is_string(ip)) return 0;
  const json_t *dom = json_object_get(o, "domain");
  size_t ip_len = json_string_length(ip), dom_len = json_is_string(dom) ? json_string_length(dom) : 0;
  if (ip_len + dom_len > EXHI_DIFF_LINE_MAX) return 0; /* cannot come from one line */
  size_t n = 0;
  memcpy(buf, json_string_value(ip), ip_len);
  n += ip_len;
  buf[n++] = '\0';
  n += (size_t)snprintf(buf + n, 24, "%lld", (long long)json_integer_value(json_object_get(o, "port")));
  buf[n++] = '\0';
  if (dom_len) memcpy(buf + n, json_string_value(dom), dom_len);
  return n + dom_len;
}

#define KEY_BUF (EXHI_DIFF_LINE_MAX + 32)

static int key_cmp(const char *a, size_t an, const char *b, size_t bn) {
  int c = memcmp(a, b, an < bn ? an : bn);
  return c ? c : an < bn ? -1 : an > bn;
}

/* By key, then by place in the file: the last of equal keys is the last
 * record of that host. */
static int cmp_host(const void *pa, const void *pb) {
  const exhi_diff_host *a = pa, *b = pb;
  int c = key_cmp(a->key, a->key_len, b->key, b->key_len);
  return c ? c : a->off < b->off ? -1 : a->off > b->off;
}

/* Adds one record line (without its newline) found at off. */
static int add_line(exhi_diff_set *s, const char *line, size_t len, uint64_t off, char *keybuf,
                    const char *name, long long n, exh_error *err) {
  json_error_t je;
  json_t *o = json_loadb(line, len, 0, &je);
  size_t key_len = o ? key_of(o, keybuf) : 0;
  if (!key_len) {
    json_decref(o);
    return exhi_err(err, EXH_ERR_PARSE, name, n, -1, "not an exhunt scan record");
  }
  bool exposed = json_is_true(json_object_get(o, "exposed"));
  const char *st = json_string_value(json_object_get(o, "status"));
  /* Fixed means: answered again, still Exchange, no longer exposed. */
  bool answered = st && !strcmp(st, "success") && json_is_true(json_object_get(o, "is_exchange"));
  json_decref(o);
  if (s->n == s->cap) {
    size_t nc = s->cap ? s->cap * 2 : 1024;
    exhi_diff_host *nv = realloc(s->v, nc * sizeof *nv);
    if (!nv) return exhi_err(err, EXH_ERR_NOMEM, name, n, -1, "out of memory");
    s->v = nv;
    s->cap = nc;
  }
  char *key = key_room(s, key_len);
  if (!key) return exhi_err(err, EXH_ERR_NOMEM, name, n, -1, "out of memory");
  memcpy(key, keybuf, key_len);
  s->v[s->n++] = (exhi_diff_host){.key = key, .off = off, .key_len = (uint32_t)key_len,
                                  .len = (uint32_t)len, .exposed = exposed, .answered = answered};
  return EXH_OK;
}

/* Sorts s and keeps the last record of each key. */
static void sort_unique(exhi_diff_set *s) {
  /* qsort must not be given NULL, even for no elements (C17 7.22.5). */
  if (s->n < 2) return;
  qsort(s->v, s->n, sizeof *s->v, cmp_host);
  size_t w = 0;
  for (size_t r = 0; r < s->n; r++) {
    if (r + 1 < s->n && !key_cmp(s->v[r].key, s->v[r].key_len, s->v[r + 1].key, s->v[r + 1].key_len)) {
      s->duplicates++;
      continue;
    }
    s->v[w++] = s->v[r];
  }
  s->n = w;
}

int exhi_diff_load(exhi_diff_set *s, FILE *fp, FILE *spool, const char *name, exh_error *err) {
  char *buf = malloc(READ_BUF), *keybuf = malloc(KEY_BUF);
  if (!buf || !keybuf) {
    free(buf);
    free(keybuf);
    return exhi_err(err, EXH_ERR_NOMEM, name, 0, -1, "out of memory");
  }
  /* buf[pos, have) is unread; buf[0] is at offset base in the file. */
  size_t pos = 0, have = 0;
  uint64_t base = 0;
  long long n = 0;
  bool eof = false;
  int rc = EXH_OK;
  while (rc == EXH_OK) {
    char *nl = memchr(buf + pos, '\n', have - pos);
    if (!nl && !eof && have - pos <= EXHI_DIFF_LINE_MAX) {
      memmove(buf, buf + pos, have - pos);
      base += pos;
      have -= pos;
      pos = 0;
      size_t got = fread(buf + have, 1, READ_BUF - have, fp);
      if (got && spool && fwrite(buf + have, 1, got, spool) != got) {
        rc = exhi_err(err, EXH_ERR_IO, name, n, -1, "cannot write the temporary copy");
        break;
      }
      have += got;
      if (!got) {
        if (ferror(fp)) rc = exhi_err(err, EXH_ERR_IO, name, n, -1, "read error");
        eof = true;
      }
      continue;
    }
    size_t len = (nl ? (size_t)(nl - buf) : have) - pos;
    if (!nl && !len) break; /* the end, after a newline */
    n++;
    if (len > EXHI_DIFF_LINE_MAX) {
      rc = exhi_err(err, EXH_ERR_LIMIT, name, n, -1, "longer than %u bytes", EXHI_DIFF_LINE_MAX);
      break;
    }
    if (len && !(len == 1 && buf[pos] == '\r'))
      rc = add_line(s, buf + pos, len, base + pos, keybuf, name, n, err);
    pos += len + (nl != NULL);
  }
  free(buf);
  free(keybuf);
  if (rc == EXH_OK) sort_unique(s);
  return rc;
}

void exhi_diff_clear(exhi_diff_set *s) {
  for (exhi_diff_chunk *c = s->keys, *next; c; c = next) {
    next = c->next;
    free(c);
  }
  free(s->v);
  memset(s, 0, sizeof *s);
}

/* Whether parsed record o has h's key; without building it (no buffer). */
static bool has_key(const json_t *o, const exhi_diff_host *h) {
  const json_t *ip = json_object_get(o, "ip"), *dom = json_object_get(o, "domain");
  if (!json_is_string(ip)) return false;
  size_t ip_len = json_string_length(ip), dom_len = json_is_string(dom) ? json_string_length(dom) : 0;
  char port[24];
  int port_len = snprintf(port, sizeof port, "%lld", (long long)json_integer_value(json_object_get(o, "port")));
  const char *k = h->key;
  return h->key_len == ip_len + 1 + (size_t)port_len + 1 + dom_len && !memcmp(k, json_string_value(ip), ip_len) &&
         !k[ip_len] && !memcmp(k + ip_len + 1, port, (size_t)port_len) && !k[ip_len + 1 + (size_t)port_len] &&
         (!dom_len || !memcmp(k + ip_len + 1 + (size_t)port_len + 1, json_string_value(dom), dom_len));
}

int exhi_diff_record(FILE *fp, const char *name, const exhi_diff_host *h, json_t **rec, exh_error *err) {
  *rec = NULL;
  unsigned long long off = h->off;
  if (h->len > EXHI_DIFF_LINE_MAX || off > INT64_MAX)
    return exhi_err(err, EXH_ERR_IO, name, 0, -1, "cannot go back to the record at byte %llu", off);
  char *buf = malloc(h->len ? h->len : 1);
  if (!buf) return exhi_err(err, EXH_ERR_NOMEM, name, 0, -1, "out of memory");
  /* One pread where there is a descriptor (a file: no seek, no refill of
   * the stream's buffer); a memory stream (the fuzz target) seeks. */
  int fd = fileno(fp);
  size_t got = 0;
  bool failed = false;
  if (fd >= 0) {
    while (got < h->len) {
      ssize_t r = pread(fd, buf + got, h->len - got, (off_t)(off + got));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) {
        failed = r < 0;
        break;
      }
      got += (size_t)r;
    }
  } else if (fseeko(fp, (off_t)off, SEEK_SET)) {
    failed = true;
  } else {
    got = fread(buf, 1, h->len, fp);
    failed = ferror(fp);
  }
  int rc = EXH_OK;
  json_t *o = NULL;
  if (got != h->len) {
    rc = exhi_err(err, EXH_ERR_IO, name, 0, -1, "the record at byte %llu cannot be read again%s", off,
                  failed ? "" : ": the file is shorter than when it was read");
  } else {
    json_error_t je;
    o = json_loadb(buf, h->len, 0, &je);
    if (!o || !has_key(o, h))
      rc = exhi_err(err, EXH_ERR_PARSE, name, 0, -1,
                    "the record at byte %llu is not the one read before: the file changed", off);
  }
  free(buf);
  if (rc == EXH_OK) *rec = o;
  else json_decref(o);
  return rc;
}

int exhi_diff_compare(const exhi_diff_set *a, const exhi_diff_set *b, exhi_diff_counts *c,
                      exhi_diff_fn fn, void *ctx) {
  memset(c, 0, sizeof *c);
  size_t x = 0, y = 0;
  while (x < a->n || y < b->n) {
    int cmp = x >= a->n   ? 1
              : y >= b->n ? -1
                          : key_cmp(a->v[x].key, a->v[x].key_len, b->v[y].key, b->v[y].key_len);
    const exhi_diff_host *o = cmp <= 0 ? &a->v[x] : NULL, *n = cmp >= 0 ? &b->v[y] : NULL;
    if (o && o->exposed) c->old_exposed++;
    if (n && n->exposed) c->new_exposed++;
    const char *change = NULL;
    if (o && o->exposed) {
      if (n && n->exposed) change = "still_exposed", c->still++;
      else if (n && n->answered) change = "fixed", c->fixed++;
      else change = "gone", c->gone++;
    } else if (n && n->exposed) {
      change = "newly_exposed", c->newly++;
    }
    if (fn && change) {
      int rc = fn(change, o, n, ctx);
      if (rc) return rc;
    }
    if (cmp <= 0) x++;
    if (cmp >= 0) y++;
  }
  return 0;
}
