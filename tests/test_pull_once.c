/* libcurl's global initialisation runs once per process, however many
 * threads pull at once: curl_global_init is not thread-safe on every
 * libcurl (before 7.84, or without atomics), so two pulls must never both
 * call it. The table entry is swapped for a counting one that holds its
 * first caller until a second arrives, so that two pulls racing to
 * initialise both get there (it lets go after 2 s: a second that never
 * comes is the outcome wanted). */
#define _GNU_SOURCE
#include "t.h"

#include "exhunt.h"
#include "core/dl_curl.h" /* curl_global_init names the table's entry */

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

static atomic_int init_calls;
static CURLcode (*real_global_init)(long);

static CURLcode counting_global_init(long flags) {
  atomic_fetch_add(&init_calls, 1);
  for (int i = 0; i < 2000 && atomic_load(&init_calls) < 2; i++)
    nanosleep(&(struct timespec){0, 1000000}, NULL);
  return real_global_init(flags);
}

static char tmpdir[] = "/tmp/exhunt-test-pull-once.XXXXXX";
static pthread_barrier_t start;

typedef struct puller {
  char db[256];
  int rc;
  exh_error err;
} puller;

static void *pull(void *arg) {
  puller *p = arg;
  exh_ioc_store *s = NULL;
  p->rc = exh_ioc_store_open(p->db, 0, &s, &p->err);
  pthread_barrier_wait(&start);
  if (p->rc) return NULL;
  /* Nothing listens on the discard port of the loopback: refused at once.
   * What is counted happens before the request. */
  exh_ioc_pull_opts o = {.timeout_s = 10};
  exh_ioc_pull_result res;
  p->rc = exh_ioc_pull(s, "http://127.0.0.1:9/feed.csv", &o, &res, &p->err);
  exh_ioc_store_close(s);
  return NULL;
}

int main(void) {
  if (!mkdtemp(tmpdir)) {
    perror("mkdtemp");
    return 1;
  }
  exh_error e;
  if (exhi_dl_curl(&e) != EXH_OK) {
    /* libcurl4 is in scripts/install-deps; without it nothing can race. */
    printf("skipped: %s\n", e.text);
    return 77;
  }
  real_global_init = curl_global_init;
  curl_global_init = counting_global_init;
  puller p[2];
  pthread_t th[2];
  pthread_barrier_init(&start, NULL, 2);
  for (int i = 0; i < 2; i++) {
    memset(&p[i], 0, sizeof p[i]);
    snprintf(p[i].db, sizeof p[i].db, "%s/store%d.sqlite", tmpdir, i);
    CHECK_INT(pthread_create(&th[i], NULL, pull, &p[i]), 0);
  }
  for (int i = 0; i < 2; i++) pthread_join(th[i], NULL);
  pthread_barrier_destroy(&start);
  CHECK(atomic_load(&init_calls) <= 1);
  for (int i = 0; i < 2; i++) {
    /* Both got as far as the request: the refused connection. */
    CHECK_INT(p[i].rc, EXH_ERR_IO);
    CHECK_CONTAINS(p[i].err.text, "127.0.0.1");
  }
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  if (system(cmd) != 0) t_failed++;
  return t_done("pull-once");
}
