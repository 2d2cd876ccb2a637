/* libFuzzer target: the rule parser (YAML tree, selections, modifiers,
 * conditions) and the compiler behind --rules. */
#include "detectors/logrules.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* Rules are pages of YAML; longer inputs only slow the regex compiler. */
  if (size > 4096) return 0;
  exh_error err;
  exhi_lr *lr;
  int rc = exhi_lr_load_text("fuzz.yml", (const char *)data, size, &lr, &err);
  if (rc != EXH_OK) {
    if (!memchr(err.text, '\0', sizeof err.text)) abort();
    return 0;
  }
  if (exhi_lr_count(lr) != 1) abort();
  const exhi_lr_rule *r = exhi_lr_rule_at(lr, 0);
  if (!r->id || !r->title || r->severity < 0 || r->severity > 4) abort();
  exhi_lr_free(lr);
  return 0;
}
