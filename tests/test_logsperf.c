/* Tests of the fast paths of `exhunt logs`: mapped reading of plain files
 * (window boundaries, a line across them, over-long lines, a file that
 * shrinks while it is read) against the buffered reader as the reference,
 * and the partial split of W3C candidate lines against the full split. */
#include "t.h"

#include "detectors/hscache.h"
#include "detectors/logrules.h"

#include <stdlib.h>
#include <unistd.h>

static char dir[] = "/tmp/exhunt-logsperf-XXXXXX";

static void write_file(const char *path, const char *data, size_t len) {
  FILE *f = fopen(path, "wb");
  CHECK(f != NULL);
  if (!f) return;
  CHECK_INT(fwrite(data, 1, len, f), len);
  fclose(f);
}

/* Every block a source hands out, concatenated; blocks must end at a line
 * end (but for a cut line or the end of input). */
static char *read_all(exhi_logsrc *src, size_t *total, size_t *blocks, size_t *not_at_eol,
                      int *rc) {
  size_t cap = 1 << 20, n = 0;
  char *all = malloc(cap);
  const char *b;
  size_t len;
  *blocks = *not_at_eol = 0;
  exh_error e;
  while ((*rc = exhi_logsrc_next(src, &b, &len, &e)) == EXH_OK && len) {
    if (n + len > cap) {
      while (n + len > cap) cap *= 2;
      all = realloc(all, cap);
    }
    memcpy(all + n, b, len);
    n += len;
    (*blocks)++;
    if (b[len - 1] != '\n') (*not_at_eol)++;
  }
  *total = n;
  return all;
}

/* The same bytes through the mapped reader (a file) and the buffered one
 * (memory) give the same blocks' contents and the same cut lines. */
static void same_as_buffered(const char *name, const char *data, size_t len, size_t want_cut) {
  char path[256];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  write_file(path, data, len);
  exh_error e;
  exhi_logsrc *a, *b;
  CHECK_INT(exhi_logsrc_open(path, &a, &e), EXH_OK);
  CHECK_INT(exhi_logsrc_open_mem(name, data, len, &b, &e), EXH_OK);
  size_t na, nb, ba, bb, ea, eb;
  int ra, rb;
  char *xa = read_all(a, &na, &ba, &ea, &ra), *xb = read_all(b, &nb, &bb, &eb, &rb);
  CHECK_INT(ra, EXH_OK);
  CHECK_INT(rb, EXH_OK);
  if (!want_cut) {
    CHECK_INT(na, nb);
    CHECK(na == nb && memcmp(xa, xb, na) == 0);
  } else {
    /* How much of a cut line is kept depends on where the reader's block
     * began (both keep more than EXHI_LOG_LINE_MAX): compare around it. */
    CHECK(na > EXHI_LOG_LINE_MAX && nb > EXHI_LOG_LINE_MAX);
    CHECK(memcmp(xa, data, 4096) == 0 && memcmp(xb, data, 4096) == 0);
    CHECK(na >= 4096 && memcmp(xa + na - 11, data + len - 11, 11) == 0 && xa[na - 12] == data[len - 13]);
    CHECK(nb >= 4096 && memcmp(xb + nb - 11, data + len - 11, 11) == 0 && xb[nb - 12] == data[len - 13]);
  }
  CHECK_INT(exhi_logsrc_cut_lines(a), want_cut);
  CHECK_INT(exhi_logsrc_cut_lines(b), want_cut);
  CHECK_INT(ea, eb);
  if (getenv("T_VERBOSE")) fprintf(stderr, "%s: %zu bytes, %zu/%zu blocks\n", name, na, ba, bb);
  CHECK(ba >= 1);
  free(xa);
  free(xb);
  exhi_logsrc_free(a);
  exhi_logsrc_free(b);
  unlink(path);
}

static void test_mapped_reader(void) {
  /* Lines of varying length over more than three windows: a line always
   * straddles a window end somewhere; the last line has no line end. */
  size_t len = 3 * ((size_t)EXHI_LOG_BLOCK + EXHI_LOG_LINE_MAX) + 12345, n = 0;
  char *data = malloc(len + 200);
  for (unsigned i = 0; n < len; i++) {
    int w = snprintf(data + n, 200, "2021-03-03 00:00:%02u line %u %.*s\n", i % 60, i,
                     (int)(i * 7 % 150), "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
    n += (size_t)w;
  }
  data[n - 1] = 'z'; /* no final line end */
  same_as_buffered("windows.log", data, n, 0);

  /* A line longer than EXHI_LOG_LINE_MAX + a block, in the middle: cut once,
   * the lines after it whole. */
  size_t big = (size_t)EXHI_LOG_BLOCK + 2 * EXHI_LOG_LINE_MAX + 77;
  char *l = malloc(big + 64);
  memcpy(l, "first\n", 6);
  memset(l + 6, 'a', big);
  memcpy(l + 6 + big, "\nafter\nlast\n", 12);
  same_as_buffered("long.log", l, big + 18, 1);
  free(l);

  /* One byte, one line without its end, an empty file. */
  same_as_buffered("one.log", "x", 1, 0);
  same_as_buffered("nl.log", "\n", 1, 0);
  char path[256];
  snprintf(path, sizeof path, "%s/empty.log", dir);
  write_file(path, "", 0);
  exh_error e;
  exhi_logsrc *s;
  CHECK_INT(exhi_logsrc_open(path, &s, &e), EXH_OK);
  const char *b;
  size_t blen = 99;
  CHECK_INT(exhi_logsrc_next(s, &b, &blen, &e), EXH_OK);
  CHECK_INT(blen, 0);
  exhi_logsrc_free(s);
  unlink(path);

  /* A file that shrinks while it is read: no crash (SIGBUS), an error
   * naming the file. */
  snprintf(path, sizeof path, "%s/shrinks.log", dir);
  write_file(path, data, n);
  CHECK_INT(exhi_logsrc_open(path, &s, &e), EXH_OK);
  CHECK_INT(exhi_logsrc_next(s, &b, &blen, &e), EXH_OK);
  CHECK(blen > (size_t)EXHI_LOG_BLOCK);
  CHECK_INT(truncate(path, 4096), 0);
  unsigned long sum = 0;
  for (size_t i = 0; i < blen; i++) sum += (unsigned char)b[i]; /* faults past 4096 */
  CHECK(sum > 0);
  /* The guard mapped zeros over what the file lost. */
  CHECK_INT(b[blen - 1], 0);
  CHECK_INT(b[100], data[100]);
  int rc = exhi_logsrc_next(s, &b, &blen, &e);
  CHECK_INT(rc, EXH_ERR_IO);
  CHECK_CONTAINS(e.text, "shrank");
  CHECK_CONTAINS(e.text, "shrinks.log");
  exhi_logsrc_free(s);

  /* Shrunk between two blocks (not under a mapping): the same error. */
  write_file(path, data, n);
  CHECK_INT(exhi_logsrc_open(path, &s, &e), EXH_OK);
  CHECK_INT(exhi_logsrc_next(s, &b, &blen, &e), EXH_OK);
  CHECK_INT(truncate(path, 100), 0);
  rc = EXH_OK;
  while ((rc = exhi_logsrc_next(s, &b, &blen, &e)) == EXH_OK && blen) {
  }
  CHECK_INT(rc, EXH_ERR_IO);
  exhi_logsrc_free(s);

  /* A file that grows while it is read (a live log): read to its new end. */
  write_file(path, "a\nb\n", 4);
  CHECK_INT(exhi_logsrc_open(path, &s, &e), EXH_OK);
  CHECK_INT(exhi_logsrc_next(s, &b, &blen, &e), EXH_OK);
  CHECK(blen == 4 && memcmp(b, "a\nb\n", 4) == 0);
  FILE *f = fopen(path, "ab");
  fputs("c\n", f);
  fclose(f);
  CHECK_INT(exhi_logsrc_next(s, &b, &blen, &e), EXH_OK);
  CHECK(blen == 2 && memcmp(b, "c\n", 2) == 0);
  CHECK_INT(exhi_logsrc_next(s, &b, &blen, &e), EXH_OK);
  CHECK_INT(blen, 0);
  exhi_logsrc_free(s);
  /* Rotated (emptied) after it was read whole: nothing was lost. */
  write_file(path, "a\nb\n", 4);
  CHECK_INT(exhi_logsrc_open(path, &s, &e), EXH_OK);
  CHECK_INT(exhi_logsrc_next(s, &b, &blen, &e), EXH_OK);
  CHECK_INT(blen, 4);
  CHECK_INT(truncate(path, 0), 0);
  CHECK_INT(exhi_logsrc_next(s, &b, &blen, &e), EXH_OK);
  CHECK_INT(blen, 0);
  exhi_logsrc_free(s);
  unlink(path);
  free(data);
}

/* The first columns of a partial split equal the full split's. */
/* The CSV split looks for commas 64 bytes at a time: the fields it gives
 * are those of a plain byte-by-byte reading (RFC 4180 quoting, "" inside
 * quotes, a malformed tail after a closing quote dropped, at most
 * EXHI_LOG_MAX_FIELDS fields), for random rows of fields of every length
 * around the 64-byte looks, quoted or not, empty or not; and a split of
 * the first columns alone binds them alike (partial when the row has
 * more). */
typedef struct reffield {
  size_t a, len;
  int escaped;
} reffield;

static size_t ref_split_csv(const char *line, size_t len, reffield *out) {
  size_t i = 0, n = 0;
  for (;;) {
    if (n == EXHI_LOG_MAX_FIELDS) break;
    reffield *v = &out[n++];
    v->escaped = 0;
    if (i < len && line[i] == '"') {
      size_t a = ++i;
      while (i < len && !(line[i] == '"' && !(i + 1 < len && line[i + 1] == '"'))) {
        if (line[i] == '"') v->escaped = 1, i++;
        i++;
      }
      v->a = a;
      v->len = i - a;
      if (i < len) i++;
      while (i < len && line[i] != ',') i++;
    } else {
      size_t a = i;
      while (i < len && line[i] != ',') i++;
      v->a = a;
      v->len = i - a;
    }
    if (i >= len) break;
    i++;
  }
  return n;
}

static void test_split_csv_same(void) {
  exhi_logschema *s = calloc(1, sizeof *s);
  exhi_logrec *r = calloc(1, sizeof *r);
  static reffield want[EXHI_LOG_MAX_FIELDS];
  exhi_logschema_init(s);
  const char *fields = "#Fields: DateTime,RequestId,UrlStem,AnchorMailbox,UserAgent";
  exhi_logschema_header(s, fields, strlen(fields));
  CHECK_INT(s->syntax, EXHI_SYN_CSV);
  static char line[8192];
  unsigned seed = 4242;
  size_t rows = 0, bad = 0, bad_head = 0, quoted = 0;
  for (int round = 0; round < 3000; round++) {
    size_t o = 0;
    seed = seed * 1103515245u + 12345u;
    int nf = 1 + (int)((seed >> 16) % 90); /* past the field bound too */
    for (int f = 0; f < nf && o + 300 < sizeof line; f++) {
      if (f) line[o++] = ',';
      seed = seed * 1103515245u + 12345u;
      unsigned r2 = seed >> 16, flen = r2 % 7 == 0 ? (r2 >> 3) % 140 : (r2 >> 3) % 12;
      int q = r2 % 13 == 0;
      quoted += (size_t)q;
      if (q) line[o++] = '"';
      for (unsigned k = 0; k < flen; k++) {
        seed = seed * 1103515245u + 12345u;
        unsigned c = (seed >> 16) % 40;
        line[o++] = c == 0 && q ? '"' : c == 1 && q ? ',' : (char)('a' + c % 26);
        if (c == 0 && q) line[o++] = '"'; /* "" inside quotes */
      }
      if (q) {
        line[o++] = '"';
        if (r2 % 5 == 0) line[o++] = 'z'; /* malformed: dropped */
      }
    }
    /* Some rows end inside an open quote. */
    if (round % 17 == 0) line[o++] = '"';
    rows++;
    size_t nw = ref_split_csv(line, o, want);
    exhi_logrec_split(r, s, line, o);
    int same = r->nvals == nw;
    for (size_t i = 0; same && i < nw; i++)
      same = r->v[i].p == line + want[i].a && r->v[i].len == want[i].len &&
             r->v[i].escaped == (unsigned)want[i].escaped;
    bad += !same;
    /* The first columns alone: bound as in the whole split; a row split
     * whole is not partial. */
    static const size_t heads[] = {0, 1, 5, 16, 30, 80};
    for (size_t h = 0; h < sizeof heads / sizeof *heads; h++) {
      exhi_logrec_split_upto(r, s, line, o, heads[h]);
      size_t upto = heads[h] < nw ? heads[h] : nw;
      int ok = r->nvals >= upto && (r->partial || r->nvals == nw) && (upto == nw || r->partial);
      for (size_t i = 0; ok && i < upto; i++)
        ok = r->v[i].p == line + want[i].a && r->v[i].len == want[i].len;
      bad_head += !ok;
    }
  }
  CHECK_INT((long long)bad, 0);
  CHECK_INT((long long)bad_head, 0);
  CHECK(rows == 3000 && quoted > 1000);
  free(s);
  free(r);
}

static void test_split_upto(void) {
  exhi_logschema *s = calloc(1, sizeof *s);
  exhi_logrec *full = calloc(1, sizeof *full), *part = calloc(1, sizeof *part);
  exhi_logschema_init(s);
  const char *fields = "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port "
                       "cs-username c-ip cs(User-Agent) cs(Referer) sc-status";
  exhi_logschema_header(s, fields, strlen(fields));
  const char *lines[] = {
      "2021-03-03 00:51:30 10.0.0.5 GET /owa/auth/x.aspx - 443 - 10.1.1.1 Mozilla/5.0 - 200\r\n",
      /* a user agent with spaces: columns after it bound from the end */
      "2021-03-03 00:51:30 10.0.0.5 GET /owa/auth/y.aspx q=1 443 bob 10.1.1.2 Mozilla 5.0 (x) - 404",
      /* short line */
      "2021-03-03 00:51:30 10.0.0.5",
      "  2021-03-03   00:51:30  10.0.0.5  POST  /ecp/auth/TimeoutLogoff.aspx  -  443",
  };
  for (size_t i = 0; i < sizeof lines / sizeof *lines; i++) {
    exhi_logrec_split(full, s, lines[i], strlen(lines[i]));
    CHECK_INT(full->partial, 0);
    for (size_t ncols = 0; ncols <= 13; ncols++) {
      exhi_logrec_split_upto(part, s, lines[i], strlen(lines[i]), ncols);
      size_t upto = ncols < full->nvals ? ncols : full->nvals;
      CHECK(part->nvals >= upto);
      int same = 1;
      for (size_t c = 0; c < upto; c++)
        same &= part->v[c].len == full->v[c].len && part->v[c].p == full->v[c].p;
      CHECK(same);
      /* Past the user agent a partial split would bind the wrong values:
       * the whole line is split then. */
      if (ncols > 9) CHECK_INT(part->partial, 0);
      if (!part->partial) CHECK_INT(part->nvals, full->nvals);
    }
  }
  free(s);
  free(full);
  free(part);
}

/* The columns a rule set reads: the highest bound column + 1. */
static void test_cols_needed(void) {
  const char *rule = "id: t1\ntitle: t\nlogsource:\n  category: webserver\n"
                     "detection:\n  a:\n    url.path|contains: '/x'\n  b:\n    user.name|re: '.'\n"
                     "  condition: a and not b\n";
  exh_error e;
  exhi_lr *lr;
  CHECK_INT(exhi_lr_load_text("t.yml", rule, strlen(rule), &lr, &e), EXH_OK);
  exhi_lr_scan *sc;
  CHECK_INT(exhi_lr_scan_new(lr, &sc, &e), EXH_OK);
  exhi_logschema *s = calloc(1, sizeof *s);
  exhi_logschema_init(s);
  const char *f1 = "#Fields: date time cs-uri-stem c-ip cs-username cs(User-Agent)";
  exhi_logschema_header(s, f1, strlen(f1));
  CHECK_INT(s->kind, EXHI_LOG_IIS);
  CHECK_INT(exhi_lr_cols_needed(sc, s, EXHI_LR_ALL), 5);
  /* The layout changes mid-file: the binding follows. */
  const char *f2 = "#Fields: date time cs-username c-ip cs-uri-stem";
  exhi_logschema_header(s, f2, strlen(f2));
  CHECK_INT(exhi_lr_cols_needed(sc, s, EXHI_LR_ALL), 5);
  const char *f3 = "#Fields: cs-uri-stem date time";
  exhi_logschema_header(s, f3, strlen(f3));
  CHECK_INT(exhi_lr_cols_needed(sc, s, EXHI_LR_ALL), 1);
  CHECK_INT(exhi_lr_cols_needed(sc, s, 0), 0);
  free(s);
  exhi_lr_scan_free(sc);
  exhi_lr_free(lr);
}

/* Lines the prefilter hands on for a rule with one url.path regex. */
static char pf_got[1024];
static const char *pf_block;
static int on_cand(void *ctx, size_t a, size_t b, uint64_t rules) {
  (void)ctx, (void)rules;
  if (pf_block[a] == '#') return 0;
  size_t n = strlen(pf_got);
  snprintf(pf_got + n, sizeof pf_got - n, "%.*s;", (int)(b - a), pf_block + a);
  return 0;
}

static const char *candidates_det(const char *detection, const char *lines);

static const char *candidates(const char *re, const char *lines) {
  char det[512];
  snprintf(det, sizeof det, "  a:\n    url.path|re|i: '%s'\n  condition: a\n", re);
  return candidates_det(det, lines);
}

/* Candidate lines for a webserver rule with this detection block. */
static const char *candidates_det(const char *detection, const char *lines) {
  char rule[1024];
  snprintf(rule, sizeof rule,
           "id: t1\ntitle: t\nlogsource:\n  category: webserver\ndetection:\n%s", detection);
  exh_error e;
  exhi_lr *lr;
  pf_got[0] = '\0';
  if (exhi_lr_load_text("t.yml", rule, strlen(rule), &lr, &e) != EXH_OK) {
    fprintf(stderr, "%s\n", e.text);
    return "(load failed)";
  }
  exhi_lr_scan *sc;
  exhi_lr_scan_new(lr, &sc, &e);
  pf_block = lines;
  /* An IIS kind with no bound columns: literals count anywhere. */
  exhi_logschema sch;
  exhi_logschema_init(&sch);
  sch.kind = EXHI_LOG_IIS;
  CHECK_INT(exhi_lr_prefilter(sc, &sch, lines, strlen(lines), on_cand, NULL, &e), EXH_OK);
  exhi_lr_scan_free(sc);
  exhi_lr_free(lr);
  return pf_got;
}

/* Regexes are prefiltered by a literal factor every match must contain
 * (faster than the regex in prefilter mode) only when the regex is plain
 * enough to be sure; an optional or alternative piece is never required. */
static void test_regex_factors(void) {
  CHECK_STR(candidates("^/(owa/auth|ecp/auth|aspnet_client)/.*\\.(aspx|ashx|asmx)$",
                       "GET /ASPNET_CLIENT/x.ASPX 200\nGET /owa/service.svc 200\n"
                       "GET /ecp/auth/a.ashx 200\nGET /aspnet_clients/x.aspx\n"),
            "GET /ASPNET_CLIENT/x.ASPX 200;GET /ecp/auth/a.ashx 200;");
  /* An optional group: the line without it is still a candidate. */
  CHECK_STR(candidates("^(abcd)?efgh$", "x efgh y\nx zzzz y\n"), "x efgh y;");
  CHECK_STR(candidates("^(?:abcd)?efgh$", "x efgh y\n"), "x efgh y;");
  /* A top-level alternative: either side. */
  CHECK_STR(candidates("wxyz|qrst", "a qrst\nb wxyz\nc none\n"), "a qrst;b wxyz;");
  /* Quantified literals and classes: the regex itself prefilters. */
  CHECK_STR(candidates("abcde?fgh", "1 abcdfgh\n2 abcdefgh\n3 abc\n"), "1 abcdfgh;2 abcdefgh;");
  CHECK_STR(candidates("[xy]abcd{1,2}e", "1 yabcdde\n2 abcde\n"), "1 yabcdde;");
  CHECK_STR(candidates("(ab)+cdefg", "1 ababcdefg\n2 cdefg\n"), "1 ababcdefg;");
  /* Gaps: the longest required piece either side. */
  CHECK_STR(candidates("ab.*cdefg", "1 ab--cdefg\n2 abcdef\n3 CDEFG\n"), "1 ab--cdefg;3 CDEFG;");
  CHECK_STR(candidates("\\\\OAB\\\\.+tmp", "1 C:\\OAB\\x.tmp\n2 OAB\n"),
            "1 C:\\OAB\\x.tmp;");
  /* Both pieces between the gap are required: a line with only one of
   * them is no candidate (the stylesheet under /owa/auth/), one with both
   * is, wherever the second stands (the query string). */
  CHECK_STR(candidates("^/(owa/auth|ecp/auth|aspnet_client)/.*\\.(aspx|ashx|asmx)$",
                       "1 /owa/auth/15.1/themes/logon.css - 200\n2 /owa/auth/x.aspx - 200\n"
                       "3 /owa/auth/a.css x=.ASHX 200\n4 /ews/exchange.asmx - 200\n"),
            "2 /owa/auth/x.aspx - 200;3 /owa/auth/a.css x=.ASHX 200;");
  /* Pieces under 4 bytes are not worth a scan: only the long one counts. */
  CHECK_STR(candidates("abcdef.*xy", "1 abcdef\n2 xy\n"), "1 abcdef;");
  /* A selection whose patterns must all match: each is required... */
  CHECK_STR(candidates_det("  a:\n    '|contains': 'webshell.aspx'\n"
                           "    '|re|i': 'powershell.*webshell\\.aspx.*@'\n"
                           "  condition: a\n",
                           "1 /x/webshell.aspx - 200\n"
                           "2 /x/webshell.aspx @x/PowerShell&e=webshell.aspx%3f@x\n"
                           "3 /powershell - 200\n"),
            "2 /x/webshell.aspx @x/PowerShell&e=webshell.aspx%3f@x;");
  /* ...except keyword literals inside requests every client makes (most
   * lines of a busy server): the rule's rarer literal is enough. */
  CHECK_STR(candidates_det("  a:\n    '|contains': 'autodiscover.json'\n"
                           "    '|re|i': 'powershell.*autodiscover\\.json.*@'\n"
                           "  condition: a\n",
                           "1 /autodiscover/autodiscover.json - 200\n"
                           "2 /autodiscover/autodiscover.json @x/PowerShell&e=autodiscover.json%3f@x\n"
                           "3 /powershell - 200\n"),
            "2 /autodiscover/autodiscover.json @x/PowerShell&e=autodiscover.json%3f@x;"
            "3 /powershell - 200;");
  /* A rule with nothing but common literals keeps them. */
  CHECK_STR(candidates_det("  a:\n    '|contains': 'autodiscover.json'\n  condition: a\n",
                           "1 /autodiscover/autodiscover.json - 200\n3 /powershell - 200\n"),
            "1 /autodiscover/autodiscover.json - 200;");
  /* A literal under 4 bytes is no group of its own when the rule has a
   * longer one: '@' would make nearly every line a candidate. */
  CHECK_STR(candidates_det("  a:\n    '|contains|all':\n      - '@'\n      - 'abcdef'\n"
                           "  condition: a\n",
                           "1 x@y\n2 abcdef\n3 none\n"),
            "2 abcdef;");
  /* Either side of an or: one required group made of both. */
  CHECK_STR(candidates_det("  a:\n    url.path|contains: 'alpha.aspx'\n"
                           "  b:\n    url.query|contains: 'beta.ashx'\n"
                           "  condition: a or b\n",
                           "1 alpha.aspx\n2 beta.ashx\n3 gamma\n"),
            "1 alpha.aspx;2 beta.ashx;");
}

/* ---- column checks of W3C candidates ------------------------------------ */

/* Candidates of the built-in rules among the lines (after a #Fields line),
 * each given as "n;" (its index). */
static char col_got[4096];
static const char *col_block;
static size_t col_starts[64], col_n;
static int on_col(void *ctx, size_t a, size_t b, uint64_t rules) {
  (void)ctx, (void)b, (void)rules;
  if (col_block[a] == '#') return 0;
  for (size_t i = 0; i < col_n; i++)
    if (col_starts[i] == a) {
      size_t n = strlen(col_got);
      snprintf(col_got + n, sizeof col_got - n, "%zu;", i);
    }
  return 0;
}

static const char *col_candidates(exhi_lr_scan *sc, exhi_logschema *sch, const char *fields,
                                  const char *const *lines, size_t n) {
  static char block[16384];
  size_t o = (size_t)snprintf(block, sizeof block, "%s\n", fields);
  exhi_logschema_init(sch);
  exhi_logschema_header(sch, fields, strlen(fields));
  col_n = 0;
  for (size_t i = 0; i < n && o < sizeof block; i++) {
    col_starts[col_n++] = o;
    o += (size_t)snprintf(block + o, sizeof block - o, "%s\n", lines[i]);
  }
  col_block = block;
  col_got[0] = '\0';
  exh_error e;
  CHECK_INT(exhi_lr_prefilter(sc, sch, block, strlen(block), on_col, NULL, &e), EXH_OK);
  return col_got;
}

static int any_hit(void *ctx, size_t rule, const char *detail) {
  (void)rule, (void)detail;
  (*(int *)ctx)++;
  return 0;
}

/* The built-in rules, a scan of them and an empty schema, for the tests
 * that follow (freed by builtin_scan_free). */
static exhi_logschema *builtin_scan(exhi_lr **lr, exhi_lr_scan **sc) {
  exh_error e;
  CHECK_INT(exhi_lr_load(1, NULL, 0, NULL, lr, &e), EXH_OK);
  CHECK_INT(exhi_lr_scan_new(*lr, sc, &e), EXH_OK);
  exhi_logschema *sch = calloc(1, sizeof *sch);
  CHECK(sch != NULL);
  return sch;
}

/* IIS's default fields bound in sch; the #Fields line. */
static const char *iis_schema(exhi_logschema *sch) {
  static const char fields[] = "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port "
                               "cs-username c-ip cs(User-Agent) cs(Referer) sc-status";
  exhi_logschema_init(sch);
  exhi_logschema_header(sch, fields, strlen(fields));
  return fields;
}

static void builtin_scan_free(exhi_lr *lr, exhi_lr_scan *sc, exhi_logschema *sch) {
  free(sch);
  exhi_lr_scan_free(sc);
  exhi_lr_free(lr);
}

/* In IIS logs a rule's literals count only in the column its field is
 * bound to, and a column whose whole value a `not` selection of the rule
 * matches (a known-good page) makes no candidate: the common requests for
 * logon.aspx, TimeoutLogoff.aspx and autodiscover.json are not split. */
static void test_columns(void) {
  exh_error e;
  exhi_lr *lr;
  exhi_lr_scan *sc;
  exhi_logschema *sch = builtin_scan(&lr, &sc);
  const char *iis = "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port "
                    "cs-username c-ip cs(User-Agent) cs(Referer) sc-status";
  const char *lines[] = {
      /* 0: known-good pages: no candidate */
      "2021-03-03 01:00:00 10.0.0.5 GET /owa/auth/logon.aspx - 443 - 1.2.3.4 UA - 200",
      "2021-03-03 01:00:00 10.0.0.5 GET /ecp/auth/TimeoutLogoff.aspx - 443 - 1.2.3.4 UA - 200",
      "2021-03-03 01:00:00 10.0.0.5 GET /owa/auth/15.1.2507/themes/errorFE.aspx - 443 - 1.2.3.4 UA - 200",
      /* 3: a shell: a candidate */
      "2021-03-03 01:00:00 10.0.0.5 POST /owa/auth/x1.aspx - 443 - 1.2.3.4 UA - 200",
      /* 4: a shell behind a query naming a known-good page (no evasion) */
      "2021-03-03 01:00:00 10.0.0.5 POST /aspnet_client/s.aspx p=/owa/auth/logon.aspx 443 - 1.2.3.4 UA - 200",
      /* 5: the shell's path only in the user agent and the referer: no candidate */
      "2021-03-03 01:00:00 10.0.0.5 GET /owa/ - 443 - 1.2.3.4 /owa/auth/x.aspx /ecp/auth/y.aspx 200",
      /* 6: a shell whose referer is a known-good page */
      "2021-03-03 01:00:00 10.0.0.5 GET /ecp/auth/y.aspx - 443 - 1.2.3.4 UA /owa/auth/logon.aspx 200",
      /* 7: autodiscover.json with a plain query: no candidate */
      "2021-03-03 01:00:00 10.0.0.5 GET /autodiscover/autodiscover.json Email=a%40b.c&Protocol=ActiveSync 443 - 1.2.3.4 UA - 200",
      /* 8: ProxyShell: a candidate */
      "2021-03-03 01:00:00 10.0.0.5 GET /autodiscover/autodiscover.json @evil.com/mapi/nspi/?&Email=autodiscover/autodiscover.json%3F@evil.com 443 - 1.2.3.4 UA - 200",
      /* 9: back-end path in the stem, autodiscover.json nowhere near: no candidate */
      "2021-03-03 01:00:00 10.0.0.5 POST /EWS/Exchange.asmx - 443 - 1.2.3.4 UA - 200",
      /* 10: a shell's name in an upper-case known-good spelling is still known-good */
      "2021-03-03 01:00:00 10.0.0.5 GET /OWA/AUTH/LOGON.ASPX - 443 - 1.2.3.4 UA - 200",
      /* 11: several spaces between columns are one separator */
      "2021-03-03 01:00:00 10.0.0.5 POST  /owa/auth/x2.aspx - 443 - 1.2.3.4 UA - 200",
      /* 12: a CR inside the stem is part of the value the rule sees (the
       * reader splits on spaces only): "logon.aspx" before it is no veto */
      "2021-03-03 01:00:00 10.0.0.5 POST /owa/auth/logon.aspx\r.x.aspx - 443 - 1.2.3.4 UA - 200",
  };
  size_t n = sizeof lines / sizeof *lines;
  CHECK_STR(col_candidates(sc, sch, iis, lines, n), "3;4;6;8;11;12;");
  {
    /* ...and the rule does match it whole. */
    exhi_logrec *r12 = calloc(1, sizeof *r12);
    int hits = 0;
    exhi_logrec_split(r12, sch, lines[12], strlen(lines[12]));
    CHECK_INT(exhi_lr_eval(sc, r12, EXHI_LR_ALL, any_hit, &hits, &e), EXH_OK);
    CHECK(hits > 0);
    free(r12);
  }
  /* A CRLF line end is no part of the last column: a known-good page there
   * is still vetoed. */
  const char *last = "#Fields: date time s-ip cs-method cs-uri-stem";
  const char *l3[] = {
      "2021-03-03 01:00:00 10.0.0.5 GET /owa/auth/logon.aspx\r",
      "2021-03-03 01:00:00 10.0.0.5 GET /owa/auth/x.aspx\r",
  };
  CHECK_STR(col_candidates(sc, sch, last, l3, 2), "1;");
  /* The path after the user agent: the reader may shift it (a user agent
   * with spaces), so no column check; every literal counts. */
  const char *late = "#Fields: date time cs(User-Agent) cs-uri-stem cs-uri-query";
  const char *l2[] = {
      "2021-03-03 01:00:00 UA /owa/auth/logon.aspx -",
      "2021-03-03 01:00:00 UA /owa/ /owa/auth/x.aspx",
  };
  CHECK_STR(col_candidates(sc, sch, late, l2, 2), "0;1;");

  /* Soundness, on many made-up lines: every line a rule matches when it is
   * evaluated whole is a candidate. Tokens are drawn from known-good and
   * hostile values, in every column. */
  static const char *const tok[] = {
      "/owa/auth/logon.aspx", "/owa/auth/x.aspx", "/ecp/auth/TimeoutLogoff.aspx",
      "/aspnet_client/a.ashx", "/autodiscover/autodiscover.json", "-",
      "Email=autodiscover/autodiscover.json%3f@x.com", "/mapi/nspi/?&Email=a", "/EWS/Exchange.asmx",
      "CORP\\user", "powershell", "/owa/auth/logoff.aspx", "x=/owa/auth/q.aspx", "200", "302",
      "/owa/auth/15.1/logon.aspx", "/ecp/auth/timeoutlogoff.aspx", "autodiscover.json?@x.com/powershell",
  };
  size_t nt = sizeof tok / sizeof *tok;
  exhi_logschema_init(sch);
  exhi_logschema_header(sch, iis, strlen(iis));
  exhi_logrec *rec = calloc(1, sizeof *rec);
  unsigned seed = 12345;
  size_t matched = 0, missed = 0;
  for (int round = 0; round < 4000; round++) {
    char line[1024];
    size_t o = (size_t)snprintf(line, sizeof line, "2021-03-03 01:00:00 10.0.0.5 GET");
    for (int c = 0; c < 8; c++) {
      seed = seed * 1103515245u + 12345u;
      o += (size_t)snprintf(line + o, sizeof line - o, " %s", tok[(seed >> 16) % nt]);
    }
    line[o++] = '\n';
    line[o] = '\0';
    int hits = 0;
    exhi_logrec_split(rec, sch, line, o);
    CHECK_INT(exhi_lr_eval(sc, rec, EXHI_LR_ALL, any_hit, &hits, &e), EXH_OK);
    if (!hits) continue;
    matched++;
    col_block = line;
    col_got[0] = '\0';
    col_starts[0] = 0;
    col_n = 1;
    CHECK_INT(exhi_lr_prefilter(sc, sch, line, o, on_col, NULL, &e), EXH_OK);
    if (strcmp(col_got, "0;")) {
      missed++;
      fprintf(stderr, "not a candidate but matches: %s", line);
    }
  }
  CHECK(matched > 100);
  CHECK_INT(missed, 0);
  free(rec);
  builtin_scan_free(lr, sc, sch);
}

/* Column mode reads W3C lines column by column (a memo per value, query
 * strings looked at only when a rule still needs them); the checks per
 * raw hit are the reference. Both must pick the same lines for the same
 * rules, on made-up lines with every odd spacing: several spaces, CRs
 * inside and at the end, missing and empty columns, values longer than
 * the memo keeps, upper case, the values the vetoes accept. */
static char cand_got[2][1 << 16];
static size_t cand_len[2];
/* When set: the scan and block of the running prefilter, whose line
 * numbers (exhi_lr_prefilter_line_no) are checked against the newlines
 * before each line, counted on from the last candidate's. */
static exhi_lr_scan *num_scan;
static const char *num_block;
static size_t num_at, num_seen, num_given;
static int on_cand_rules(void *ctx, size_t a, size_t b, uint64_t rules) {
  int which = *(int *)ctx;
  (void)b;
  size_t k = num_scan ? exhi_lr_prefilter_line_no(num_scan) : SIZE_MAX;
  if (k != SIZE_MAX) {
    if (a < num_at) num_at = num_seen = 0;
    for (; num_at < a; num_at++) num_seen += num_block[num_at] == '\n';
    CHECK_INT((long long)k, (long long)num_seen);
    num_given++;
  }
  size_t n = cand_len[which];
  if (n + 48 < sizeof cand_got[which])
    cand_len[which] += (size_t)snprintf(cand_got[which] + n, sizeof cand_got[which] - n,
                                        "%zu:%llx;", a, (unsigned long long)rules);
  return 0;
}

static void test_colmode_same(void) {
  exh_error e;
  exhi_lr *lr;
  exhi_lr_scan *sc;
  exhi_logschema *sch = builtin_scan(&lr, &sc);
  static const char *const fields[] = {
      "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip "
      "cs(User-Agent) cs(Referer) sc-status",
      /* the query before the path, the user name first */
      "#Fields: cs-username date time cs-uri-query cs-method cs-uri-stem c-ip cs(User-Agent) "
      "sc-status",
  };
  static const char *const tok[] = {
      "/owa/auth/logon.aspx", "/owa/auth/x.aspx", "/ecp/auth/TimeoutLogoff.aspx",
      "/aspnet_client/a.ashx", "/autodiscover/autodiscover.json", "-", "",
      "Email=autodiscover/autodiscover.json%3f@x.com", "/mapi/nspi/?&Email=a", "/EWS/Exchange.asmx",
      "CORP\\user", "powershell", "/owa/auth/logoff.aspx", "x=/owa/auth/q.aspx", "200",
      "/OWA/AUTH/LOGON.ASPX", "/ecp/auth/timeoutlogoff.aspx", "autodiscover.json?@x.com/powershell",
      "/owa/auth/logon.aspx\r", "\r", "/owa/auth/logon.aspx\r.x.aspx", "X-Rps-CAT=abc",
      "/PowerShell/autodiscover.json@a", "a.aspx", "/owa/auth/", "ServerInfo~a/b",
      "/owa/auth/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/logon.aspx",
  };
  size_t nt = sizeof tok / sizeof *tok;
  static char block[1 << 18];
  unsigned seed = 777;
  size_t lines_total = 0, cands = 0;
  for (size_t fi = 0; fi < 2; fi++) {
    for (int round = 0; round < 20; round++) {
      size_t o = (size_t)snprintf(block, sizeof block, "%s\n", fields[fi]);
      exhi_logschema_init(sch);
      exhi_logschema_header(sch, fields[fi], strlen(fields[fi]));
      while (o + 2048 < sizeof block / 2) {
        seed = seed * 1103515245u + 12345u;
        int ncol = 2 + (int)((seed >> 16) % 12);
        for (int c = 0; c < ncol; c++) {
          seed = seed * 1103515245u + 12345u;
          unsigned r = seed >> 16;
          if (c) o += (size_t)snprintf(block + o, sizeof block - o, r % 11 ? " " : "   ");
          if (c == 0 && r % 211 == 0) {
            /* a comment line mid-block: lines held back for their query
             * are passed on before it */
            o += (size_t)snprintf(block + o, sizeof block - o, "#Software: test");
            break;
          }
          if (r % 97 == 0) {
            /* longer than the memo keeps, ending in a known-good page */
            for (int k = 0; k < 20; k++) o += (size_t)snprintf(block + o, sizeof block - o, "/owa/auth");
            o += (size_t)snprintf(block + o, sizeof block - o, "/logon.aspx");
          } else {
            o += (size_t)snprintf(block + o, sizeof block - o, "%s", tok[(r >> 3) % nt]);
          }
        }
        seed = seed * 1103515245u + 12345u;
        o += (size_t)snprintf(block + o, sizeof block - o, (seed >> 16) % 5 ? "\n" : "\r\n");
        lines_total++;
      }
      /* Every fourth round, the memo has one slot: every value is
       * compared with the last one, byte by byte. */
      exhi_lr_scan_memo_bits(sc, round % 4 == 3 ? 0 : 10);
      /* Half the blocks end without a line end. */
      if (round % 2 && o && block[o - 1] == '\n') o--;
      /* Column mode (its AVX2 walk where the CPU has it, then its SSE2
       * walk, then the AVX2 walk without its fast path) against the
       * checks per hit. */
      int differs = 0;
      for (int walk = 0; walk < 3 && !differs; walk++) {
        exhi_lr_scan_walk_avx2(sc, walk != 1);
        exhi_lr_scan_colmode_fast(sc, walk != 2);
        for (int which = 0; which < 2; which++) {
          exhi_lr_scan_colmode(sc, which == 0);
          cand_len[which] = 0;
          cand_got[which][0] = '\0';
          CHECK_INT(exhi_lr_prefilter(sc, sch, block, o, on_cand_rules, &which, &e), EXH_OK);
        }
        differs = strcmp(cand_got[0], cand_got[1]) != 0;
        if (differs)
          fprintf(stderr, "column mode (%s walk) %s\nper hit     %s\n",
                  walk == 1 ? "SSE2" : walk ? "AVX2, no fast path," : "AVX2", cand_got[0], cand_got[1]);
      }
      exhi_lr_scan_walk_avx2(sc, 1);
      exhi_lr_scan_colmode_fast(sc, 1);
      if (differs) {
        CHECK(0);
        break;
      }
      for (const char *p = cand_got[0]; (p = strchr(p, ';')); p++) cands++;
    }
  }
  exhi_lr_scan_colmode(sc, 1);
  exhi_lr_scan_memo_bits(sc, 10);
  CHECK(lines_total > 20000);
  CHECK(cands > 1000); /* not only the preambles */
  builtin_scan_free(lr, sc, sch);
}

/* Column mode holds back lines whose query string is not in its memo
 * until a batch of them is scanned at once (8192 lines or 256 KiB of
 * values): a block far larger than a batch, with candidates of both kinds
 * between the lines held back, gives the candidates, in order, that the
 * checks per raw hit give. */
typedef struct candlist {
  size_t n, a[8192];
  uint64_t r[8192];
} candlist;
static int on_candlist(void *ctx, size_t a, size_t b, uint64_t rules) {
  candlist *l = ctx;
  (void)b;
  if (l->n < 8192) {
    l->a[l->n] = a;
    l->r[l->n] = rules;
  }
  l->n++;
  return 0;
}

static void test_colmode_batches(void) {
  exh_error e;
  exhi_lr *lr;
  exhi_lr_scan *sc;
  exhi_logschema *sch = builtin_scan(&lr, &sc);
  const char *fields = iis_schema(sch);
  size_t cap = 6u << 20, o = 0, want = 0;
  char *block = malloc(cap);
  o += (size_t)snprintf(block, cap, "%s\n", fields);
  for (unsigned i = 0; o + 4096 < cap; i++) {
    const char *stem = "/autodiscover/autodiscover.json", *user = "-";
    char query[400];
    /* Queries of every length up to ~330 bytes, each unique. */
    int pad = (int)(i * 7919u % 300u);
    snprintf(query, sizeof query, "Email=user%u%%40corp.example&p=%.*s", i, pad,
             "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
             "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
             "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
             "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    if (i % 37 == 5) {
      /* ProxyShell's query: held back, then a candidate */
      snprintf(query, sizeof query, "Email=autodiscover/autodiscover.json%%3f@x%u.com/mapi/nspi", i);
      want++;
    } else if (i % 101 == 7) {
      stem = "/owa/auth/x.aspx"; /* a web shell: a candidate at once */
      want++;
    } else if (i % 41 == 6) {
      /* ProxyShell's back end past the query's first 64 bytes */
      snprintf(query, sizeof query, "p=%.*s/mapi/emsmdb", 60 + (int)(i % 90),
               "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
               "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
      want++;
    } else if (i % 53 == 3) {
      /* a query without any back end's literal: no candidate */
      snprintf(query, sizeof query, "x=/autodiscover/autodiscover.xml&y=/mapi/%u", i);
    } else if (i % 59 == 4) {
      /* with a user name: a candidate all the same (the rule checks it) */
      user = "CORP\\u";
      snprintf(query, sizeof query, "a=autodiscover.json?@x%u.com", i);
      want++;
    }
    o += (size_t)snprintf(block + o, cap - o,
                          "2021-03-03 01:01:44 10.0.0.5 GET %s %s 443 %s 10.1.2.3 UA/1 - 200\r\n",
                          stem, query, user);
    if (i % 20011 == 20010) o += (size_t)snprintf(block + o, cap - o, "#Date: 2021-03-03\n");
  }
  static candlist got[4];
  /* Column mode's AVX2 walk (where the CPU has it), per hit, the SSE2
   * walk, the AVX2 walk without its fast path. */
  for (int which = 0; which < 4; which++) {
    exhi_lr_scan_colmode(sc, which != 1);
    exhi_lr_scan_walk_avx2(sc, which != 2);
    exhi_lr_scan_colmode_fast(sc, which != 3);
    got[which].n = 0;
    CHECK_INT(exhi_lr_prefilter(sc, sch, block, o, on_candlist, &got[which], &e), EXH_OK);
  }
  exhi_lr_scan_colmode(sc, 1);
  exhi_lr_scan_walk_avx2(sc, 1);
  exhi_lr_scan_colmode_fast(sc, 1);
  for (int which = 2; which < 4; which++) {
    CHECK_INT((long long)got[which].n, (long long)got[1].n);
    for (size_t i = 0; i < got[which].n && i < 8192; i++)
      if (got[which].a[i] != got[1].a[i] || got[which].r[i] != got[1].r[i]) {
        CHECK(0);
        break;
      }
  }
  /* Every line is held back but those wanted and the preambles. */
  CHECK(o > (4u << 20));
  CHECK_INT((long long)got[0].n, (long long)got[1].n);
  size_t pre = 0;
  for (size_t i = 0; i < got[0].n && i < 8192; i++) {
    pre += block[got[0].a[i]] == '#';
    if (got[0].a[i] != got[1].a[i] || got[0].r[i] != got[1].r[i]) {
      fprintf(stderr, "candidate %zu: column mode %zu:%llx, per hit %zu:%llx\n", i, got[0].a[i],
              (unsigned long long)got[0].r[i], got[1].a[i], (unsigned long long)got[1].r[i]);
      CHECK(0);
      break;
    }
  }
  CHECK_INT((long long)(got[0].n - pre), (long long)want);
  CHECK(pre >= 2);
  free(block);
  builtin_scan_free(lr, sc, sch);
}

/* Column mode remembers each value's bits in a slot chosen by its length,
 * first and last eight bytes; values alike there share a slot, and only a
 * comparison of every byte tells them apart. Pairs of paths that differ
 * in one byte, one a candidate of the web shell rule and the other not,
 * one after the other many times: in the middle (the same slot always),
 * in the first or the last eight bytes (the same slot with a memo of one
 * slot); and the same bytes ending the line or not (a CR ends the path
 * only at the line's end, and a logon page is no candidate: the memo
 * tells a line's last column from others). Column mode, with and without
 * its fast path, gives exactly the candidates. */
static void test_colmode_memo_alike(void) {
  exh_error e;
  exhi_lr *lr;
  exhi_lr_scan *sc;
  exhi_logschema *sch = builtin_scan(&lr, &sc);
  const char *fields = iis_schema(sch);
  size_t cap = 1u << 20, o = 0;
  char *block = malloc(cap);
  static candlist want, got;
  want.n = 0;
  o += (size_t)snprintf(block, cap, "%s\n", fields);
  want.a[want.n++] = 0; /* the preamble */
  static const char as[] = "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghij";
  for (int rep = 0; rep < 4; rep++) {
    for (int fam = 0; fam < 4; fam++) {
      for (int k = 0; k < 56; k++) {
        for (int side = 0; side < 2; side++) {
          char path[160];
          int cand;
          if (fam == 0) {
            /* differ at byte 10 + k: "/x/logon.aspx" is the logon page */
            snprintf(path, sizeof path, "/owa/auth/%.*s%clogon.aspx", k, as, side ? 'q' : '/');
            cand = side;
          } else if (fam == 1) {
            /* differ in the last byte */
            snprintf(path, sizeof path, "/owa/auth/%.*s.asp%c", k, as, side ? 'y' : 'x');
            cand = !side;
          } else if (fam == 2) {
            /* differ in one of the first eight bytes */
            snprintf(path, sizeof path, "/owa/auth/%d.aspx", k);
            if (side) path[k % 8] = 'Q';
            cand = !side;
          } else {
            /* a logon page's path and a CR, ending the line or not */
            snprintf(path, sizeof path, "/owa/auth/%.*s/logon.aspx\r", k, as);
            cand = side;
          }
          if (cand && want.n < 8192) want.a[want.n++] = o;
          if (fam == 3 && !side)
            o += (size_t)snprintf(block + o, cap - o, "2021-03-03 01:01:44 10.0.0.5 GET %s\n", path);
          else
            o += (size_t)snprintf(block + o, cap - o,
                                  "2021-03-03 01:01:44 10.0.0.5 GET %s - 443 - 10.1.2.3 "
                                  "Mozilla/5.0+(Windows+NT+10.0;+Win64;+x64)+AppleWebKit/537.36 - "
                                  "200\r\n",
                                  path);
        }
      }
    }
  }
  for (int which = 0; which < 5; which++) {
    /* column mode with and without its fast path, a memo of one slot
     * and of all, then the checks per hit */
    exhi_lr_scan_memo_bits(sc, which & 2 ? 10 : 0);
    exhi_lr_scan_colmode_fast(sc, which & 1);
    exhi_lr_scan_colmode(sc, which < 4);
    got.n = 0;
    CHECK_INT(exhi_lr_prefilter(sc, sch, block, o, on_candlist, &got, &e), EXH_OK);
    CHECK_INT((long long)got.n, (long long)want.n);
    size_t differ = 0;
    for (size_t i = 0; i < got.n && i < want.n; i++) differ += got.a[i] != want.a[i];
    CHECK_INT((long long)differ, 0);
  }
  exhi_lr_scan_memo_bits(sc, 10);
  exhi_lr_scan_colmode_fast(sc, 1);
  exhi_lr_scan_colmode(sc, 1);
  free(block);
  builtin_scan_free(lr, sc, sch);
}

/* A rule of keywords and columns (a keyword anywhere, the path, then the
 * query), with the built-in rules: on a line with its keyword, the path's
 * bits leave the rule a chance only with the query's, which column mode
 * reads then; on a line without, the path's memo entry says at once that
 * no rule can match.
 * Column mode, with and without its fast path, gives the candidates the
 * checks per hit give. */
static void test_colmode_keyword_and_columns(void) {
  static const char rule[] =
      "title: t\nid: t.kwcols\nlogsource:\n  category: webserver\ndetection:\n"
      "  kw:\n    '|contains': 'zzkeyword'\n"
      "  path:\n    url.path|contains: '/owa/'\n"
      "  query:\n    url.query|contains: 'qqqq'\n"
      "  condition: kw and path and query\n";
  exh_error e;
  exhi_lr *lr;
  exhi_lr_scan *sc;
  /* With the built-in rules: the web shell rule's path is read on every
   * line (the fast path's first column). */
  char rdir[] = "/tmp/exhunt-kwcols-XXXXXX", path[64];
  CHECK(mkdtemp(rdir) != NULL);
  snprintf(path, sizeof path, "%s/kwcols.yml", rdir);
  FILE *fp = fopen(path, "w");
  CHECK(fp != NULL);
  fputs(rule, fp);
  fclose(fp);
  const char *dirs[] = {rdir};
  CHECK_INT(exhi_lr_load(1, dirs, 1, NULL, &lr, &e), EXH_OK);
  remove(path);
  rmdir(rdir);
  CHECK_INT(exhi_lr_scan_new(lr, &sc, &e), EXH_OK);
  exhi_logschema *sch = calloc(1, sizeof *sch);
  const char *fields = iis_schema(sch);
  size_t cap = 1u << 18, o = 0, want = 0;
  char *block = malloc(cap);
  o += (size_t)snprintf(block, cap, "%s\n", fields);
  for (unsigned i = 0; o + 1024 < cap; i++) {
    int kw = i % 3 == 0, owa = i % 2 == 0, q = i % 5 < 2;
    want += (size_t)(kw && owa && q);
    o += (size_t)snprintf(block + o, cap - o,
                          "2021-03-03 01:01:44 10.0.0.5 GET %s %s 443 - 10.1.2.3 "
                          "Mozilla/5.0+(Windows+NT+10.0;+Win64;+x64)+%s - 200\r\n",
                          owa ? "/owa/service.svc" : "/ews/exchange.asmx", q ? "a=qqqq" : "a=b",
                          kw ? "zzkeyword" : "AppleWebKit");
  }
  static candlist got[3];
  for (int which = 0; which < 3; which++) {
    exhi_lr_scan_colmode(sc, which != 2);
    exhi_lr_scan_colmode_fast(sc, which == 0);
    got[which].n = 0;
    CHECK_INT(exhi_lr_prefilter(sc, sch, block, o, on_candlist, &got[which], &e), EXH_OK);
  }
  exhi_lr_scan_colmode(sc, 1);
  exhi_lr_scan_colmode_fast(sc, 1);
  CHECK(want > 100);
  for (int which = 0; which < 3; which++) {
    /* the preamble, then the lines with all three */
    CHECK_INT((long long)got[which].n, (long long)want + 1);
    size_t differ = 0;
    for (size_t i = 0; i < got[which].n && i < 8192; i++) differ += got[which].a[i] != got[2].a[i];
    CHECK_INT((long long)differ, 0);
  }
  free(block);
  free(sch);
  exhi_lr_scan_free(sc);
  exhi_lr_free(lr);
}

/* The prefilter finds a kind's literals with litscan where it can (and
 * counts the block's lines in the same pass); vectorscan is the reference.
 * Made-up HttpProxy rows with the built-in rules' literals in every case,
 * cut, doubled and glued together, '#' at and after line starts, CRLF,
 * blocks ending mid-line: the same candidates with the same rules, and a
 * line count equal to the newlines (none given by vectorscan). */
static void test_litscan_same(void) {
  exh_error e;
  exhi_lr *lr;
  exhi_lr_scan *sc;
  exhi_logschema *sch = builtin_scan(&lr, &sc);
  static const char hdr[] =
      "#Log-type: HttpProxy Logs\n#Fields: DateTime,RequestId,UrlStem,UrlQuery,AnchorMailbox,"
      "TargetServerVersion,AuthenticatedUser,UserAgent,HttpStatus\n";
  static const char *const tok[] = {
      "ServerInfo~a]@x/ecp/y.js?", "serverinfo~LOCALHOST/x", "ServerInfo", "~", "Server Info~",
      "ServerInfo~x/ecp/DDI/DDIService.svc/SetObject?ResetVirtualDirectory#",
      "virtualdirectory#", "VirtualDirectory", "/PowerShell", "/owa/a@b.c/powershell",
      "/powershel", "autodiscover.json", "AUTODISCOVER.JSON?@x", "autodiscover.jso", "#", "##",
      "15.01.2507.035", "user@corp.example", "ClientInfo", "200", "", "\"a,b\"", "Ser", "verInfo~",
  };
  size_t nt = sizeof tok / sizeof *tok;
  static char block[1 << 15]; /* its candidates fit cand_got */
  unsigned seed = 4242;
  size_t cands = 0;
  int checked_lines = 0;
  for (int round = 0; round < 160; round++) {
    size_t o = (size_t)snprintf(block, sizeof block, "%s", hdr);
    exhi_logschema_init(sch);
    exhi_logschema_header(sch, "#Log-type: HttpProxy Logs", 25);
    exhi_logschema_header(sch, hdr + 26, strlen(hdr + 26) - 1);
    while (o + 1024 < sizeof block) {
      seed = seed * 1103515245u + 12345u;
      int ncol = 1 + (int)((seed >> 16) % 10);
      if ((seed >> 8) % 29 == 0) block[o++] = '#';
      for (int c = 0; c < ncol; c++) {
        seed = seed * 1103515245u + 12345u;
        unsigned r = seed >> 16;
        if (c) block[o++] = r % 7 ? ',' : ' ';
        /* glued: a token right after the last one, no separator */
        if (c && r % 13 == 0) o--;
        o += (size_t)snprintf(block + o, sizeof block - o, "%s", tok[(r >> 4) % nt]);
      }
      seed = seed * 1103515245u + 12345u;
      o += (size_t)snprintf(block + o, sizeof block - o, (seed >> 16) % 4 ? "\n" : "\r\n");
    }
    if (round % 2 && block[o - 1] == '\n') o--;
    size_t nl = 0;
    for (size_t i = 0; i < o; i++) nl += block[i] == '\n';
    size_t ends[2];
    num_scan = sc;
    num_block = block;
    for (int which = 0; which < 2; which++) {
      num_at = num_seen = 0;
      exhi_lr_scan_litscan(sc, which == 0);
      cand_len[which] = 0;
      cand_got[which][0] = '\0';
      CHECK_INT(exhi_lr_prefilter(sc, sch, block, o, on_cand_rules, &which, &e), EXH_OK);
      ends[which] = exhi_lr_prefilter_line_ends(sc);
    }
    CHECK(cand_len[0] + 64 < sizeof cand_got[0]);
    if (strcmp(cand_got[0], cand_got[1])) {
      fprintf(stderr, "litscan    %.300s\nvectorscan %.300s\n", cand_got[0], cand_got[1]);
      CHECK(0);
      break;
    }
    /* On a CPU without AVX2 vectorscan serves both ways. */
    if (ends[0] != SIZE_MAX) {
      CHECK_INT((long long)ends[0], (long long)nl);
      checked_lines++;
    }
    CHECK(ends[1] == SIZE_MAX);
    for (const char *q = cand_got[0]; (q = strchr(q, ';')); q++) cands++;
  }
  exhi_lr_scan_litscan(sc, 1);
  num_scan = NULL;
  /* With litscan every candidate came numbered (none without). */
  CHECK(num_given > 2000 || !__builtin_cpu_supports("avx2"));
  CHECK(cands > 2000);
  CHECK(checked_lines == 160 || !__builtin_cpu_supports("avx2"));
  builtin_scan_free(lr, sc, sch);
}

/* A cache file's bytes as hscache.c writes them: magic, key length,
 * database length, key, serialised database. */
static unsigned char *cache_bytes(const char *key, const char *ser, size_t sl, size_t *len) {
  uint64_t kl = strlen(key), dl = sl;
  *len = 24 + kl + dl;
  unsigned char *b = malloc(*len);
  memcpy(b, "EXHSDB1", 8);
  memcpy(b + 8, &kl, 8);
  memcpy(b + 16, &dl, 8);
  memcpy(b + 24, key, kl);
  memcpy(b + 24 + kl, ser, sl);
  return b;
}

/* Only a whole file stored under the same key gives a database; every
 * damage reads as "not cached". */
static void test_cache_decode(void) {
  const char *expr[] = {"ServerInfo~", "autodiscover\\.json"};
  unsigned flags[] = {HS_FLAG_CASELESS, HS_FLAG_CASELESS}, ids[] = {1, 2};
  hs_database_t *db = NULL;
  hs_compile_error_t *ce = NULL;
  CHECK_INT(hs_compile_multi(expr, flags, ids, 2, HS_MODE_BLOCK, NULL, &db, &ce), HS_SUCCESS);
  char *ser = NULL;
  size_t sl = 0;
  CHECK_INT(hs_serialize_database(db, &ser, &sl), HS_SUCCESS);
  hs_free_database(db);
  size_t len;
  unsigned char *b = cache_bytes("rule-set-key", ser, sl, &len);
  hs_database_t *got = exhi_hs_cache_decode(b, len, "rule-set-key", 12);
  CHECK(got != NULL);
  hs_free_database(got);
  CHECK(exhi_hs_cache_decode(b, len, "rule-set-kez", 12) == NULL);   /* another rule set */
  CHECK(exhi_hs_cache_decode(b, len, "rule-set-ke", 11) == NULL);    /* another key length */
  CHECK(exhi_hs_cache_decode(b, len - 1, "rule-set-key", 12) == NULL); /* cut short */
  CHECK(exhi_hs_cache_decode(b, 23, "rule-set-key", 12) == NULL);    /* not even a header */
  b[24 + 12 + sl / 2] ^= 0x20;                                       /* the database damaged */
  CHECK(exhi_hs_cache_decode(b, len, "rule-set-key", 12) == NULL);
  b[24 + 12 + sl / 2] ^= 0x20;
  uint64_t huge = UINT64_MAX - 23; /* key length + header wraps to a small size */
  memcpy(b + 8, &huge, 8);
  CHECK(exhi_hs_cache_decode(b, len, "rule-set-key", 12) == NULL);
  free(b);
  free(ser);
}

int main(void) {
  test_cache_decode();
  if (!mkdtemp(dir)) {
    perror("mkdtemp");
    return 1;
  }
  test_mapped_reader();
  test_split_upto();
  test_cols_needed();
  test_regex_factors();
  test_columns();
  test_split_csv_same();
  test_colmode_same();
  test_colmode_batches();
  test_colmode_memo_alike();
  test_colmode_keyword_and_columns();
  test_litscan_same();
  rmdir(dir);
  return t_done("logsperf");
}
