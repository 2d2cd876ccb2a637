/*
 * YARA for `exhunt files`: the bundled rules (rules/yara/, built into the
 * library) and the user's --yara files compiled once into read-only rule
 * sets shared by every thread; one scanner per thread.
 */
#ifndef EXHUNT_FILES_YARA_H
#define EXHUNT_FILES_YARA_H

#include "rules.h"

/* A user rule folder holds a few hundred files at most (signature-base has
 * ~700); the bound keeps a wrong --yara / from reading a whole disk. */
#define EXHI_YARA_MAX_DIR_FILES 4096
/* CPU time one file may take in one rule set: the bundled rules scan
 * 128 MiB in well under a second; a user rule with a pathological regex on
 * a hostile file must not stall the scan. The file is reported instead. */
#define EXHI_YARA_SCAN_TIMEOUT_S 60
/* Compiled sets: the sources in one, each compiled file in its own. */
#define EXHI_YARA_MAX_SETS 64

typedef struct exhi_yara exhi_yara;
typedef struct exhi_yara_scanner exhi_yara_scanner;

int exhi_yara_new(const char *const *paths, size_t n, bool builtin, exhi_yara **out,
                  exh_error *err);
void exhi_yara_free(exhi_yara *y);
size_t exhi_yara_rule_count(const exhi_yara *y);
/* Rule i across the sets in scan order (NULL past the end); *ident and
 * *ns get its YARA identifier and namespace. */
const exhi_rule *exhi_yara_rule_at(const exhi_yara *y, size_t i, const char **ident,
                                   const char **ns);
/* Whether the bundled rules run behind the literal prefilter. */
bool exhi_yara_gated(const exhi_yara *y);

int exhi_yara_scanner_new(const exhi_yara *y, exhi_yara_scanner **out, exh_error *err);
void exhi_yara_scanner_free(exhi_yara_scanner *s);

/* One matching rule: its finding info, YARA identifier and namespace, and
 * the offset of its first string match (-1 when it matched on a condition
 * alone). Borrowed for the duration of the call. */
typedef struct exhi_yara_match {
  const exhi_rule *rule;
  const char *identifier, *ns;
  int64_t offset;
} exhi_yara_match;

/* Scans buf with every rule set, calling on_match per matching rule in
 * rule order. name is for errors. */
int exhi_yara_scan(exhi_yara_scanner *s, const char *name, const unsigned char *buf, size_t len,
                   void (*on_match)(void *ctx, const exhi_yara_match *m), void *ctx,
                   exh_error *err);

#endif
