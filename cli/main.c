#include "cli.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Subcommands that exist; mitigate is added here when it is built, not before. */
static const cli_command commands[] = {
    {"assess", "Exchange build -> update level, open CVEs, the update to install", cmd_assess},
    {"files", "web shells, ransomware, dumps and staged archives on disk (YARA, hashes)", cmd_files},
    {"ioc", "indicator store: import, pull, list, lookup, stats, export sightings", cmd_ioc},
    {"logs", "hunt exploitation in Exchange and IIS logs (ProxyLogon, ProxyShell, ...)", cmd_logs},
    {"scan", "fingerprint Exchange builds across address ranges over HTTPS", cmd_scan},
    {"check", "a server's evidence -> patched? attacked? what to do now (verdict, actions)", cmd_check},
};

static void usage(FILE *fp) {
  fprintf(fp,
          "usage: exhunt COMMAND [OPTIONS] ...\n"
          "\n"
          "exhunt checks on-premises Microsoft Exchange servers: is it patched, was it\n"
          "attacked, what to do now.\n"
          "\n"
          "Commands:\n");
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    fprintf(fp, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf(fp,
          "\n"
          "Run 'exhunt COMMAND --help' for a command's options.\n"
          "Exit status: 0 nothing found, 1 findings, 2 error.\n");
}

static int version(void) {
  exh_kb *kb;
  exh_error err;
  printf("exhunt %s\n", EXH_VERSION);
  if (exh_kb_load(NULL, &kb, &err) != EXH_OK) {
    fprintf(stderr, "exhunt: built-in tables: %s\n", err.text);
    return EXIT_ERROR;
  }
  exh_kb_info info;
  exh_kb_get_info(kb, &info);
  printf("built-in tables: %zu releases (newest %s), %zu CVEs in %zu fix rows, %zu products\n",
         info.releases, info.newest_release, info.cves, info.cve_rows, info.products);
  exh_kb_free(kb);
  return EXIT_CLEAN;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return EXIT_ERROR;
  }
  const char *cmd = argv[1];
  if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
    if (argc > 2 && strcmp(cmd, "help") == 0) {
      for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[2], commands[i].name)) {
          char help_opt[] = "--help";
          char *sub[] = {argv[2], help_opt, NULL};
          return commands[i].run(2, sub);
        }
    }
    usage(stdout);
    return EXIT_CLEAN;
  }
  if (!strcmp(cmd, "-V") || !strcmp(cmd, "--version") || !strcmp(cmd, "version")) return version();
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (!strcmp(cmd, commands[i].name)) return commands[i].run(argc - 1, argv + 1);
  fprintf(stderr, "exhunt: unknown command '");
  for (const char *p = cmd; *p && p - cmd < 64; p++)
    fputc((unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p, stderr);
  fprintf(stderr, "'. Commands that exist:");
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    fprintf(stderr, " %s", commands[i].name);
  fprintf(stderr, "\nRun 'exhunt --help' for more.\n");
  return EXIT_ERROR;
}

int cli_parse_size(const char *s, uint64_t *out) {
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || end == s || *s == '-') return -1;
  unsigned shift = 0;
  if (*end == 'k' || *end == 'K') shift = 10, end++;
  else if (*end == 'm' || *end == 'M') shift = 20, end++;
  else if (*end == 'g' || *end == 'G') shift = 30, end++;
  if (*end || v == 0 || v > (UINT64_MAX >> shift)) return -1;
  *out = (uint64_t)v << shift;
  return 0;
}

int cli_parse_color(const char *arg, int *mode) {
  if (!strcmp(arg, "auto")) *mode = 0;
  else if (!strcmp(arg, "always")) *mode = 1;
  else if (!strcmp(arg, "never")) *mode = 2;
  else return -1;
  return 0;
}

int cli_use_color(int mode, int fd) {
  if (mode == 1) return 1;
  if (mode == 2) return 0;
  const char *nc = getenv("NO_COLOR");
  if (nc && *nc) return 0; /* no-color.org: any non-empty value */
  const char *term = getenv("TERM");
  if (term && !strcmp(term, "dumb")) return 0;
  return isatty(fd);
}

const char *cli_store_in_evidence(const char *store, char **roots, int n) {
  char *rs = realpath(store, NULL);
  if (!rs) return NULL;
  const char *hit = NULL;
  for (int i = 0; i < n && !hit; i++) {
    char *rr = realpath(roots[i], NULL);
    if (!rr) continue;
    size_t l = strlen(rr);
    if (!strcmp(rr, rs) || (!strncmp(rr, rs, l) && (rs[l] == '/' || !strcmp(rr, "/"))))
      hit = roots[i];
    free(rr);
  }
  free(rs);
  return hit;
}
