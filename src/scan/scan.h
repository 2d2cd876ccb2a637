/*
 * exhunt scan: internal API of the network scanner (the "exhi_scan_" tier).
 * Data flows one way: targets -> engine (HTTP over libcurl) -> responses ->
 * parsers (this file's exhi_scan_parse_*) -> verdict (exh_assess) -> host
 * record (JSON line). docs: README.md "exhunt scan".
 */
#ifndef EXHUNT_SCAN_H
#define EXHUNT_SCAN_H

#include "core/internal.h"

#include <jansson.h>

#include <stdbool.h>
#include <stdint.h>

/* ---- limits ------------------------------------------------------------ */

/* One input line (a target, a zgrab2 CSV row, a masscan list row): real
 * lines are < 100 bytes; 4 KiB keeps a hostile file from growing a line. */
#define EXHI_SCAN_LINE_MAX 4096
/* A DNS name is at most 253 bytes (RFC 1035). */
#define EXHI_SCAN_NAME_MAX 253
/* A zgrab2 TAG: free text a job runner carries through; 64 bytes is plenty. */
#define EXHI_SCAN_TAG_MAX 64
/* Target entries (an address, a range or a name each). Ranges are not
 * expanded, so 16 Mi entries is a very large input list (zmap output for
 * a whole port of the IPv4 Internet is ~ 10 M lines) in ~ 600 MiB at most. */
#define EXHI_SCAN_MAX_SPECS (16u << 20)
/* One range: an IPv6 range is scanned address by address, so a /96 (2^32)
 * is the largest that makes sense; the same bound holds for IPv4 /0. */
#define EXHI_SCAN_MAX_RANGE (UINT64_C(1) << 32)
/* All targets together: 2^40 positions keeps the permutation's domain
 * (next power of two, <= 2^41) well inside 64-bit arithmetic. */
#define EXHI_SCAN_MAX_TARGETS (UINT64_C(1) << 40)
/* Blocklist / allow entries. */
#define EXHI_SCAN_MAX_NETS 100000

/* ---- address policy: blocklist, --allow, --only ------------------------ */

typedef struct exhi_net {
  uint8_t family; /* 4 or 6 */
  uint8_t prefix; /* bits */
  uint8_t addr[16];
} exhi_net;

typedef struct exhi_scan_policy {
  exhi_net *block; size_t nblock, capblock; /* never scanned ... */
  exhi_net *allow; size_t nallow, capallow; /* ... unless also here (--allow) */
  exhi_net *only;  size_t nonly, caponly;   /* if any: nothing outside them (--only) */
} exhi_scan_policy;

/* Parses "a.b.c.d/n", "v6::/n" or a bare address (/32, /128). */
int exhi_net_parse(const char *text, exhi_net *out, exh_error *err);
/* Adds the lines of a blocklist file (zmap's format) to p->block. name
 * names the source in errors. */
int exhi_scan_policy_load(exhi_scan_policy *p, const char *text, size_t len,
                          const char *name, exh_error *err);
int exhi_scan_policy_add(exhi_scan_policy *p, int which /* 0 block 1 allow 2 only */,
                         const exhi_net *n, exh_error *err);
/* The built-in blocklist (data/scan-blocklist.conf), NUL-terminated. */
extern const char exhi_scan_default_blocklist[];
/* NULL when the address may be scanned; otherwise why not ("blocklist",
 * "outside --only"). family 4: addr[0..3]; 6: addr[0..15]. */
const char *exhi_scan_policy_check(const exhi_scan_policy *p, int family, const uint8_t *addr);
void exhi_scan_policy_clear(exhi_scan_policy *p);

/* ---- targets ----------------------------------------------------------- */

/* One input entry: an address range (count >= 1 addresses from addr), or
 * a host name (family 0, count 1) that is resolved when scanned. */
typedef struct exhi_spec {
  uint64_t count;
  uint8_t family; /* 0 name, 4, 6 */
  uint8_t addr[16];
  uint16_t port;  /* 0: the scan's --port */
  char *domain;   /* SNI and Host (zgrab2 DOMAIN, or the name); owned, may be NULL */
  char *tag;      /* zgrab2 TAG; owned, may be NULL */
} exhi_spec;

typedef struct exhi_targets {
  exhi_spec *specs;
  uint64_t *first; /* first[i]: index of specs[i]'s first address */
  size_t n, cap;
  uint64_t total;
  uint64_t digest; /* of every entry, in order: a resume file's identity */
} exhi_targets;

/* One concrete target. */
typedef struct exhi_target {
  uint8_t family;
  uint8_t addr[16];
  char ip[48];        /* text form; "" for a name not yet resolved */
  uint16_t port;
  const char *domain; /* borrowed from the exhi_targets, or NULL */
  const char *tag;    /* borrowed, or NULL */
} exhi_target;

/*
 * Adds one line of input. Accepted shapes: an address, a CIDR range, a
 * host name, "IP,DOMAIN,TAG,PORT" (zgrab2; fields after IP optional),
 * masscan -oL ("open tcp 443 1.2.3.4 1614000000"), masscan/nmap
 * "Discovered open port 443/tcp on 1.2.3.4", zmap csv ("saddr" header
 * skipped, first field). Blank lines and '#' comments are skipped.
 * where/line name the input in errors.
 */
int exhi_targets_add_line(exhi_targets *t, const char *line, const char *where,
                          long long lineno, exh_error *err);
/* Finishes (prefix sums); call once all lines are added. */
int exhi_targets_seal(exhi_targets *t, exh_error *err);
/* The target at index i (0 <= i < total). default_port fills port 0. */
void exhi_targets_get(const exhi_targets *t, uint64_t i, uint16_t default_port,
                      exhi_target *out);
void exhi_targets_clear(exhi_targets *t);

/* ---- order and shards -------------------------------------------------- */

/*
 * A keyed permutation of [0, n): the same seed gives the same order on
 * every machine, so "--shard i/k" splits one scan over k machines without
 * coordination: shard i takes positions i, i+k, i+2k, ... of the order.
 */
typedef struct exhi_perm {
  uint64_t n;
  unsigned bits;  /* domain 2^bits >= n */
  uint64_t keys[6];
} exhi_perm;

void exhi_perm_init(exhi_perm *p, uint64_t n, uint64_t seed);
/* The target index at position pos (< n). */
uint64_t exhi_perm_at(const exhi_perm *p, uint64_t pos);

/* ---- response parsers (every input is attacker-controlled) -------------- */

/* Header values kept: a build string is < 32 bytes, a back-end FQDN < 256,
 * a Location a URL we only report (2 KiB, as browsers keep them sane). */
#define EXHI_SCAN_VALUE_MAX 256
#define EXHI_SCAN_LOCATION_MAX 2048
/* Header lines counted per response; beyond this the rest are ignored
 * (curl already caps a header block at 100 KiB). */
#define EXHI_SCAN_MAX_HEADERS 200

typedef struct exhi_scan_resp {
  int status;                               /* HTTP status, 0 if none yet */
  unsigned nheaders;
  bool has_owa_version, has_be_target, has_location;
  char owa_version[EXHI_SCAN_VALUE_MAX];    /* X-OWA-Version */
  char be_target[EXHI_SCAN_VALUE_MAX];      /* X-CalculatedBETarget */
  char location[EXHI_SCAN_LOCATION_MAX];    /* Location */
} exhi_scan_resp;

/* Feeds one raw header line (with or without CRLF) as curl hands them over.
 * A status line ("HTTP/1.1 302 Found") starts a new response. */
void exhi_scan_header_line(exhi_scan_resp *r, const char *line, size_t len);

/* The exporttool ClickOnce manifest: the version attribute of its
 * <assemblyIdentity> (4 parts: the exact build). EXH_ERR_NOTFOUND if none. */
int exhi_scan_manifest_build(const char *xml, size_t len, exh_build *out, exh_error *err);

/* The OWA logon page: is it Exchange, and the build path (3 parts on 2013+,
 * 4 on 2010: the precision follows the parts). found is false when the page
 * has no versioned path. */
typedef struct exhi_scan_page {
  bool is_owa, found;
  exh_build build;
} exhi_scan_page;
void exhi_scan_logon_page(const char *html, size_t len, exhi_scan_page *out);

/* A header value that must be an exact build ("15.2.721.2"); false if not. */
bool exhi_scan_exact_build(const char *text, exh_build *out);

/* ---- engine: many hosts in flight over libcurl's multi-socket API ------- */

/* What is kept of a response body: the logon page is 30-60 KiB and the
 * exporttool manifest ~ 10 KiB; 128 KiB per host in flight bounds memory
 * at concurrency x 128 KiB whatever a server sends. */
#define EXHI_SCAN_BODY_MAX (128u << 10)
/* Hosts in flight at most: each holds a socket and a body buffer. */
#define EXHI_SCAN_MAX_CONCURRENCY 20000
/* Redirects followed, on the same host only (never to another one). */
#define EXHI_SCAN_MAX_REDIRECTS 3
#define EXHI_SCAN_MAX_ERRORS 4

enum exhi_probe_result {
  EXHI_PROBE_NOT_RUN = 0,
  EXHI_PROBE_VULNERABLE = 1,     /* X-CalculatedBETarget names localhost */
  EXHI_PROBE_NOT_VULNERABLE = 2, /* an answer without it */
  EXHI_PROBE_ABORTED = 3,        /* the server dropped the request: a URL
                                    Rewrite mitigation does exactly that */
  EXHI_PROBE_ERROR = 4           /* timeout, TLS or connection failure */
};

typedef struct exhi_scan_opts {
  uint16_t port;           /* default port */
  bool plain_http;         /* http:// instead of https:// */
  unsigned concurrency;    /* hosts in flight */
  double rate;             /* hosts started per second; 0: no limit */
  long timeout_ms;         /* per request, connection included */
  unsigned retries;        /* extra attempts after a connection failure */
  const char *user_agent;
  bool probe_proxylogon;   /* opt-in cookie check (detections.md §3) */
} exhi_scan_opts;

/* Everything learnt about one host. */
typedef struct exhi_scan_result {
  exhi_target t;
  uint64_t index;          /* the target's index (resume log) */
  int64_t time_ms;         /* when the scan of the host began */
  bool blocked;            /* the address policy refused it */
  bool connected;          /* a TCP connection was made */
  bool tls;                /* a TLS session was set up */
  char tls_subject[EXHI_SCAN_VALUE_MAX], tls_issuer[EXHI_SCAN_VALUE_MAX];
  char tls_not_after[32];  /* RFC 3339, or "" */
  int http_status;         /* of the logon page (after same-host redirects) */
  char redirect[EXHI_SCAN_LOCATION_MAX]; /* a redirect not followed (other host) */
  bool is_exchange;
  exhi_scan_page page;     /* the logon page's markers and build path */
  bool header_exact;       /* X-OWA-Version gave an exact build */
  exh_build header_build;
  bool manifest_exact;     /* the exporttool manifest did */
  exh_build manifest_build;
  int probe;               /* enum exhi_probe_result */
  char probe_detail[EXHI_SCAN_VALUE_MAX];
  unsigned requests;       /* HTTP requests sent */
  unsigned nerrors;
  char errors[EXHI_SCAN_MAX_ERRORS][EXHI_SCAN_VALUE_MAX];
} exhi_scan_result;

/* Called once per host, in completion order; a non-zero return stops the
 * scan (a write error). */
typedef int (*exhi_scan_done_fn)(const exhi_scan_result *r, void *user);
/* Asked before a target is started; true skips it (resume). */
typedef bool (*exhi_scan_skip_fn)(uint64_t index, void *user);

typedef struct exhi_scan_stats {
  uint64_t scanned, skipped_done, skipped_policy, interrupted;
} exhi_scan_stats;

/*
 * Scans positions shard, shard+nshards, ... of perm over targets, at most
 * opts->concurrency hosts at a time. Every connection goes through the
 * policy check (also for names and redirects). *stop set to non-zero (a
 * signal handler) stops starting hosts; hosts in flight then finish.
 */
int exhi_scan_run(const exhi_targets *t, const exhi_perm *perm, uint64_t shard, uint64_t nshards,
                  const exhi_scan_policy *policy, const exhi_scan_opts *opts,
                  exhi_scan_skip_fn skip, exhi_scan_done_fn done, void *user,
                  volatile int *stop, exhi_scan_stats *stats, exh_error *err);

/* ---- verdict and record -------------------------------------------------- */

typedef struct exhi_scan_verdict {
  bool has_build;
  exh_build build;
  int precision;            /* enum exh_precision */
  const char *source;       /* "x-owa-version", "exporttool", "logon-page" */
  bool disagree;            /* two sources gave different builds (a load balancer) */
  exh_assessment *a;        /* owned; NULL without a build */
  /* "patched" / "unpatched" (exact build); "patched" / "vulnerable" /
   * "undetermined" (CU only: CU released after every fix / CU never fixed /
   * CU fixed by an update we cannot see); "unknown" (Exchange, no build or a
   * build exhunt has no table for); NULL: not Exchange. */
  const char *level;
  const char *proxylogon;   /* the same scale for the ProxyLogon CVEs only */
  bool exposed;             /* level unpatched/vulnerable, or the probe said vulnerable */
} exhi_scan_verdict;

int exhi_scan_verdict_of(const exhi_scan_result *r, const exh_kb *kb, const char *as_of,
                         exhi_scan_verdict *v, exh_error *err);
void exhi_scan_verdict_clear(exhi_scan_verdict *v);
struct exhi_geo_info; /* below */
/* Writes the host as one JSON object and a newline; geo may be NULL. */
int exhi_scan_record_write(FILE *fp, const exhi_scan_result *r, const exhi_scan_verdict *v,
                           const struct exhi_geo_info *geo);
const char *exhi_probe_name(int probe);

/* ---- resume: an append-only completion log beside the output ------------- */

/* A resume log line: "INDEX OFFSET\n"; the header names the scan. */
#define EXHI_RESUME_LINE_MAX 128

typedef struct exhi_resume {
  FILE *log;
  FILE *out;            /* the output, opened for appending */
  uint64_t *set;        /* open-addressing set of done indexes (+1; 0 empty) */
  size_t cap, n;
  unsigned since_sync;
} exhi_resume;

/*
 * Opens (or creates) the log at path for the scan named by identity, and
 * the output file it belongs to. On an existing log: reads the completed
 * indexes, cuts the output back to the end of the last logged record (a
 * record written after it was not logged, so it is scanned again: nothing
 * twice, nothing lost) and opens it for appending.
 */
int exhi_resume_open(exhi_resume *r, const char *path, const char *output, uint64_t identity,
                     exh_error *err);
/* The reading half of exhi_resume_open: adds the indexes logged in f (a
 * log named path in errors) to r's set. *good_end: the bytes up to the last
 * whole line (a line cut short, by a crash, ends the log there); *out_end:
 * the output's size the last entry logged. Errors: another scan's log, or a
 * line that is not "INDEX OFFSET" with offsets never shrinking. r's set is
 * the caller's either way (exhi_resume_close, or free(r->set)). */
int exhi_resume_read(exhi_resume *r, FILE *f, const char *path, uint64_t identity,
                     long long *good_end, long long *out_end, exh_error *err);
bool exhi_resume_done(const exhi_resume *r, uint64_t index);
/* After a record was written to r->out: logs it. Every 256 records, and at
 * close, output and log are fsync'd, the output first. */
int exhi_resume_commit(exhi_resume *r, uint64_t index, exh_error *err);
int exhi_resume_close(exhi_resume *r, exh_error *err);

/* ---- diff: two scans compared (exhunt scan diff) ------------------------- */

/* A host record of a previous scan: ours are < 4 KiB. */
#define EXHI_DIFF_LINE_MAX (64u << 10)

/* What the comparison keeps of a record: a national scan has millions, so
 * not the record itself (that is re-read by offset when listed), only its
 * key and verdict, about key_len + 32 bytes. */
typedef struct exhi_diff_host {
  /* ip, NUL, port in decimal, NUL, domain: the fields are JSON strings,
   * which hold no NUL (jansson refuses \u0000), so two different hosts
   * never share a key, whatever their length. Not NUL-terminated; points
   * into the set's key chunks. */
  const char *key;
  uint64_t off;     /* the line's offset in the file that was loaded */
  uint32_t key_len;
  uint32_t len;     /* the line's length, newline excluded */
  bool exposed, answered;
} exhi_diff_host;

typedef struct exhi_diff_chunk exhi_diff_chunk;

/* Hosts sorted by key once loaded, one per key; zero-initialise before the
 * first load. */
typedef struct exhi_diff_set {
  exhi_diff_host *v;
  size_t n, cap;
  /* Records dropped because a later one in the file has the same key (a
   * scan that met a host twice): the last record of a host counts. */
  uint64_t duplicates;
  exhi_diff_chunk *keys; /* where the keys live; owned */
} exhi_diff_set;

/* Reads fp's records (JSON lines as exhunt scan writes them; blank lines
 * skipped) into s, sorts them and keeps the last record of each host. name
 * names fp in errors. If spool is not NULL every byte read is also written
 * there, so that the offsets point into spool as well: a pipe's records can
 * be re-read from it. Fails on a line longer than EXHI_DIFF_LINE_MAX or not
 * a record with an "ip". Load one file per set (offsets are per file); s
 * holds what was read either way: exhi_diff_clear it. */
int exhi_diff_load(exhi_diff_set *s, FILE *fp, FILE *spool, const char *name, exh_error *err);
void exhi_diff_clear(exhi_diff_set *s);

/* Re-reads h's record from fp (the file it was loaded from, or its spool;
 * moves fp's position) and parses it into *rec (owned by the caller,
 * json_decref it). Fails, naming name and the offset, if the line there is
 * no longer that host's record (the file changed since it was loaded). */
int exhi_diff_record(FILE *fp, const char *name, const exhi_diff_host *h, json_t **rec, exh_error *err);

typedef struct exhi_diff_counts {
  uint64_t fixed, still, newly, gone, old_exposed, new_exposed;
} exhi_diff_counts;
/* change: "fixed", "still_exposed", "newly_exposed" or "gone"; old or new
 * is NULL when the host is in one scan only. A non-zero return stops the
 * walk and is returned by exhi_diff_compare. */
typedef int (*exhi_diff_fn)(const char *change, const exhi_diff_host *old,
                            const exhi_diff_host *new_, void *ctx);
/* Walks both sets in key order, counting into c and calling fn (may be
 * NULL) for every host that was or is exposed. Returns 0, or what fn
 * returned to stop it. */
int exhi_diff_compare(const exhi_diff_set *a, const exhi_diff_set *b, exhi_diff_counts *c,
                      exhi_diff_fn fn, void *ctx);

/* ---- geo: --geoip MaxMind databases (country, AS) ------------------------ */

/* A Country or City database and an ASN one: a few files at most. */
#define EXHI_GEO_MAX_DBS 4

typedef struct exhi_geo exhi_geo;
typedef struct exhi_geo_info {
  bool found;
  char country[8];   /* ISO 3166 code, "" if unknown */
  uint32_t asn;      /* 0 if unknown */
  char as_org[128];
} exhi_geo_info;

int exhi_geo_open(exhi_geo **out, const char *const *paths, size_t n, exh_error *err);
void exhi_geo_lookup(const exhi_geo *g, const char *ip, exhi_geo_info *out);
void exhi_geo_free(exhi_geo *g);

#endif
