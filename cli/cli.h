/* The exhunt command line: a thin layer over libexhunt. */
#ifndef EXHUNT_CLI_H
#define EXHUNT_CLI_H

#include "exhunt.h"

#include <stdint.h>

/* Exit status, as grep, yara and clamscan use it. */
enum { EXIT_CLEAN = 0, EXIT_FINDINGS = 1, EXIT_ERROR = 2 };

typedef struct cli_command {
  const char *name;
  const char *summary;
  int (*run)(int argc, char **argv);
} cli_command;

int cmd_assess(int argc, char **argv);
int cmd_files(int argc, char **argv);
int cmd_ioc(int argc, char **argv);
int cmd_logs(int argc, char **argv);
int cmd_scan(int argc, char **argv);
int cmd_check(int argc, char **argv);

/* A size as users write it: "512", "64K", "500M", "16G" (binary units);
 * 0, negative and overflowing sizes are refused. 0 on success, else -1. */
int cli_parse_size(const char *s, uint64_t *out);

/* The root among roots[0..n) that holds the file store (the indicator
 * store), or NULL: recording sightings there would write into the evidence.
 * Both sides resolved with realpath; a store that does not exist yet is in
 * none. */
const char *cli_store_in_evidence(const char *store, char **roots, int n);

/* Colour on stdout: --color=auto|always|never, honouring NO_COLOR. */
int cli_parse_color(const char *arg, int *mode);
int cli_use_color(int mode, int fd);

#endif
