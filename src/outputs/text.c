/* Reports people read: aligned, one screen for the common case, colour only
 * when the caller says the output is a terminal. Every string that came
 * from evidence goes through exhi_fputs_safe. */
#include "../findings/findings.h"
#include "output.h"

#include <string.h>
#include <time.h>

#define WIDTH 78

enum { C_RESET, C_BOLD, C_RED, C_YELLOW, C_GREEN, C_DIM };

static const char *col(const exh_output *o, int c) {
  static const char *const seq[] = {"\033[0m", "\033[1m", "\033[1;31m", "\033[33m", "\033[32m", "\033[2m"};
  return (o->flags & EXH_OUT_COLOR) ? seq[c] : "";
}

static void put(exh_output *o, const char *s) { exhi_fputs_safe(o->fp, s); }

static void label(exh_output *o, const char *l) { fprintf(o->fp, "  %-12s ", l); }

static void rel_line(exh_output *o, const exh_release *r) {
  char b[64];
  exh_build_format(&r->build, b, sizeof b);
  put(o, r->name);
  fprintf(o->fp, " (%s%s%s%s%s)", r->kb, r->kb[0] ? ", " : "", b, r->released[0] ? ", " : "",
          r->released);
}

/* Prints ids after an indent, wrapped at WIDTH. */
static void wrap_ids(exh_output *o, const char *lead, const exh_open_cve *v, size_t n,
                     const char *campaign) {
  int indent = 6 + 15;
  fprintf(o->fp, "      %-14s ", lead);
  int x = indent;
  bool first = true;
  for (size_t i = 0; i < n; i++) {
    bool mine = campaign ? (v[i].campaign && strcmp(v[i].campaign, campaign) == 0)
                         : !(v[i].campaign && v[i].campaign[0]);
    if (!mine) continue;
    int len = (int)strlen(v[i].id);
    if (!first && x + 1 + len > WIDTH) {
      fprintf(o->fp, "\n%*s", indent, "");
      x = indent;
    } else if (!first) {
      fputc(' ', o->fp);
      x++;
    }
    put(o, v[i].id);
    x += len;
    first = false;
  }
  fputc('\n', o->fp);
}

/* One group of open CVEs: by campaign first, then the rest. */
static void group(exh_output *o, const exh_open_cve *v, size_t n) {
  const char *done[16];
  size_t nd = 0;
  for (size_t i = 0; i < n; i++) {
    const char *c = v[i].campaign;
    if (!c || !*c) continue;
    bool seen = false;
    for (size_t j = 0; j < nd; j++) seen |= strcmp(done[j], c) == 0;
    if (seen || nd == EXHI_ARRAY_LEN(done)) continue;
    done[nd++] = c;
    fputs(col(o, C_RED), o->fp);
    wrap_ids(o, c, v, n, c);
    fputs(col(o, C_RESET), o->fp);
  }
  bool other = false;
  for (size_t i = 0; i < n; i++) other |= !(v[i].campaign && v[i].campaign[0]);
  if (other) wrap_ids(o, nd ? "others" : "", v, n, NULL);
}

static int days_between(const char *a, const char *b) {
  struct tm ta = {0}, tb = {0};
  if (sscanf(a, "%d-%d-%d", &ta.tm_year, &ta.tm_mon, &ta.tm_mday) != 3 ||
      sscanf(b, "%d-%d-%d", &tb.tm_year, &tb.tm_mon, &tb.tm_mday) != 3)
    return 0;
  ta.tm_year -= 1900; ta.tm_mon -= 1;
  tb.tm_year -= 1900; tb.tm_mon -= 1;
  return (int)((timegm(&tb) - timegm(&ta)) / 86400);
}

/* Prints a paragraph wrapped at WIDTH: the first line after `first`, the
 * rest indented by `indent` columns. */
static void para(exh_output *o, const char *first, int indent, const char *text) {
  fputs(first, o->fp);
  int x = (int)strlen(first);
  const char *p = text;
  bool first_word = true;
  while (*p) {
    while (*p == ' ') p++;
    const char *w = p;
    while (*p && *p != ' ') p++;
    int len = (int)(p - w);
    if (!len) break;
    if (!first_word) {
      if (x + 1 + len > WIDTH) {
        fprintf(o->fp, "\n%*s", indent, "");
        x = indent;
      } else {
        fputc(' ', o->fp);
        x++;
      }
    }
    first_word = false;
    char word[512];
    snprintf(word, sizeof word, "%.*s", len, w);
    put(o, word);
    x += len;
  }
  fputc('\n', o->fp);
}

static void rel_str(const exh_release *r, char *buf, size_t size) {
  char b[64];
  exh_build_format(&r->build, b, sizeof b);
  snprintf(buf, size, "%s (%s%s%s%s%s)", r->name, r->kb, r->kb[0] ? ", " : "", b,
           r->released[0] ? ", " : "", r->released);
}

static void step(exh_output *o, int *n, const char *text) {
  char first[16];
  snprintf(first, sizeof first, "    %d. ", ++*n);
  para(o, first, 7, text);
}

static void actions(exh_output *o, const exh_assessment *a) {
  int n = 0;
  char t[2048], r1[512], r2[512];
  fprintf(o->fp, "\n  %sWhat to do%s\n", col(o, C_BOLD), col(o, C_RESET));
  size_t nfix = a->n_open - a->n_unfixable;
  if (a->level == EXH_LEVEL_NOT_ASSESSED) {
    if (a->product)
      snprintf(t, sizeof t, "%s has no build table in exhunt: its update level cannot be told.",
               a->product);
    else
      snprintf(t, sizeof t, "Check the build: it is not a known Exchange Server version.");
    step(o, &n, t);
  }
  if (a->precision == EXH_PRECISION_CU && a->level != EXH_LEVEL_NOT_ASSESSED) {
    step(o, &n, "Read the installed build from Bin\\ExSetup.exe: run `exhunt assess PATH` "
                "on the file, the install folder or the mounted system volume.");
    if (nfix) {
      rel_str(a->min_update, r1, sizeof r1);
      snprintf(t, sizeof t, "Unless it is at least %s, install that update.", r1);
      step(o, &n, t);
    }
  } else if (nfix) {
    char camp[256];
    exhi_campaigns(a->open, nfix, camp, sizeof camp);
    rel_str(a->min_update, r1, sizeof r1);
    snprintf(t, sizeof t, "Install %s now: it closes %zu of the %zu open CVEs%s%s%s.", r1, nfix,
             a->n_open, camp[0] ? " (" : "", camp, camp[0] ? ")" : "");
    step(o, &n, t);
  }
  if (a->support == EXH_SUPPORT_ENDED) {
    char lead[128] = "";
    if (a->n_unfixable)
      snprintf(lead, sizeof lead, "%zu CVEs have no update for %s, and ", a->n_unfixable,
               a->cu ? a->cu->cu : "this build");
    if (a->target) {
      rel_str(a->target, r1, sizeof r1);
      snprintf(t, sizeof t, "%s%s is out of support since %s: move to %s at its latest update, %s, "
               "or decommission the server.", lead, a->product, a->support_end, a->target_product, r1);
    } else {
      snprintf(t, sizeof t, "%s%s is out of support since %s: move to a supported version, or "
               "decommission the server.", lead, a->product, a->support_end);
    }
    step(o, &n, t);
    if (a->latest_in_product && a->target && a->latest_in_product != a->target &&
        a->latest_in_cu != a->latest_in_product && a->release != a->latest_in_product) {
      rel_str(a->latest_in_product, r2, sizeof r2);
      snprintf(t, sizeof t, "Until then, the last update of %s is %s.", a->product, r2);
      para(o, "       ", 7, t);
    }
  } else if (a->n_unfixable && a->latest_in_product) {
    rel_str(a->latest_in_product, r1, sizeof r1);
    snprintf(t, sizeof t, "%s never got the fix for %zu CVEs: upgrade to %s.",
             a->cu ? a->cu->cu : "This build", a->n_unfixable, r1);
    step(o, &n, t);
  }
  if (a->level == EXH_LEVEL_NONE_OPEN && a->support != EXH_SUPPORT_ENDED) {
    if (a->release && a->release == a->latest_in_product) {
      step(o, &n, "Nothing to install: this is the newest release in exhunt's tables.");
    } else if (a->latest_in_product) {
      rel_str(a->latest_in_product, r1, sizeof r1);
      snprintf(t, sizeof t, "No CVE in exhunt's tables is open. Stay current: the newest release is %s.", r1);
      step(o, &n, t);
    }
  }
}

static int text_assessment(exh_output *o, const char *input, const exh_input_build *in,
                           const exh_assessment *a) {
  char b[64], camp[256] = "";
  exh_build_format(&a->build, b, sizeof b);
  if (a->n_open) exhi_campaigns(a->open, a->n_open, camp, sizeof camp);
  if (o->flags & EXH_OUT_BRIEF) {
    static const char *const lv[] = {"no open CVE", "UNPATCHED", "update level unknown", "not assessed"};
    put(o, input);
    fputs("  ", o->fp);
    fputs(b, o->fp);
    fputs("  ", o->fp);
    if (a->release) put(o, a->release->name);
    else if (a->cu) {
      put(o, a->cu->name);
      fputs(a->precision == EXH_PRECISION_CU ? " (CU only)" : " (unknown update)", o->fp);
    } else put(o, a->product ? a->product : "unknown product");
    fputs("  ", o->fp);
    fputs(lv[a->level], o->fp);
    if (a->n_open) {
      fprintf(o->fp, ": %zu open", a->n_open);
      if (camp[0]) {
        fputs(" incl. ", o->fp);
        fputs(camp, o->fp);
      }
    }
    if (a->min_update && a->precision == EXH_PRECISION_EXACT) {
      fputs("  install ", o->fp);
      put(o, a->min_update->name);
      if (a->min_update->kb[0]) fprintf(o->fp, " %s", a->min_update->kb);
    }
    if (a->support == EXH_SUPPORT_ENDED) fprintf(o->fp, "  out of support since %s", a->support_end);
    fputc('\n', o->fp);
    return EXH_OK;
  }

  if (o->count > 1) fputc('\n', o->fp);
  fprintf(o->fp, "%s", col(o, C_BOLD));
  put(o, input);
  fprintf(o->fp, "%s\n", col(o, C_RESET));
  label(o, "Build");
  fprintf(o->fp, "%s (%s)\n", b, a->precision == EXH_PRECISION_EXACT ? "exact" : "CU level only");
  if (in && (in->path[0] || in->detail[0])) {
    char t[4400];
    snprintf(t, sizeof t, "%s%s%s", in->path, in->path[0] && in->detail[0] ? ": " : "", in->detail);
    para(o, "  Read from    ", 15, t);
  }
  label(o, "Product");
  put(o, a->product ? a->product : "unknown: not an Exchange Server version exhunt knows");
  fputc('\n', o->fp);
  if (a->cu) {
    label(o, "CU");
    put(o, a->cu->cu);
    if (a->cu->released[0]) fprintf(o->fp, ", released %s", a->cu->released);
    fputc('\n', o->fp);
  }
  if (a->level != EXH_LEVEL_NOT_ASSESSED) {
    char t[1024], r[512];
    if (a->release) {
      rel_str(a->release, r, sizeof r);
      snprintf(t, sizeof t, "%s%s", r, a->release->update[0] ? "" : ": the CU as released, no update");
      para(o, "  Installed    ", 15, t);
    } else if (a->precision == EXH_PRECISION_CU) {
      fprintf(o->fp, "  Installed    %supdate level unknown%s: only the CU is known\n", col(o, C_YELLOW),
              col(o, C_RESET));
    } else {
      fprintf(o->fp, "  Installed    %snot in exhunt's tables%s%s\n", col(o, C_YELLOW), col(o, C_RESET),
              a->newer_than_table ? ", newer than every known build" : "");
      if (a->nearest_below) {
        rel_str(a->nearest_below, r, sizeof r);
        snprintf(t, sizeof t, "nearest below: %s", r);
        para(o, "               ", 15, t);
      }
      if (a->nearest_above) {
        rel_str(a->nearest_above, r, sizeof r);
        snprintf(t, sizeof t, "nearest above: %s", r);
        para(o, "               ", 15, t);
      }
    }
  }
  if (a->product) {
    label(o, "Support");
    if (a->support == EXH_SUPPORT_ENDED)
      fprintf(o->fp, "%sended %s%s\n", col(o, C_RED), a->support_end, col(o, C_RESET));
    else
      fprintf(o->fp, "supported%s%s\n", a->support_end[0] ? " until " : "", a->support_end);
  }
  if (a->latest_in_cu && a->precision == EXH_PRECISION_EXACT) {
    char t[1024], r[512];
    if (a->release == a->latest_in_cu) {
      snprintf(t, sizeof t, "yes, the newest release for %s%s", a->cu->cu,
               a->release == a->latest_in_product ? " and for the product" : "");
    } else {
      rel_str(a->latest_in_cu, r, sizeof r);
      snprintf(t, sizeof t, "no: newest for %s is %s", a->cu->cu, r);
    }
    para(o, "  Latest       ", 15, t);
  }
  label(o, "Verdict");
  switch (a->level) {
  case EXH_LEVEL_UNPATCHED:
    fprintf(o->fp, "%sUNPATCHED%s: %zu open CVE%s", col(o, C_RED), col(o, C_RESET), a->n_open,
            a->n_open == 1 ? "" : "s");
    break;
  case EXH_LEVEL_NONE_OPEN:
    fprintf(o->fp, "%sno open CVE%s in exhunt's tables", col(o, C_GREEN), col(o, C_RESET));
    break;
  case EXH_LEVEL_UNKNOWN:
    fprintf(o->fp, "%sUPDATE LEVEL UNKNOWN%s: %zu CVE%s open if no update was installed", col(o, C_YELLOW),
            col(o, C_RESET), a->n_open, a->n_open == 1 ? "" : "s");
    if (a->n_unfixable) fprintf(o->fp, ",\n               %zu of them open whatever the update", a->n_unfixable);
    break;
  default:
    fprintf(o->fp, "%snot assessed%s", col(o, C_YELLOW), col(o, C_RESET));
  }
  if (camp[0]) fprintf(o->fp, "\n               including %s%s%s", col(o, C_RED), camp, col(o, C_RESET));
  if (a->support == EXH_SUPPORT_ENDED) fprintf(o->fp, "\n               %sout of support%s", col(o, C_RED), col(o, C_RESET));
  fputc('\n', o->fp);

  if (a->n_open) {
    fprintf(o->fp, "\n  %sOpen CVEs, by the update that closes them%s\n", col(o, C_BOLD), col(o, C_RESET));
    size_t nfix = a->n_open - a->n_unfixable;
    for (size_t i = 0; i < nfix;) {
      size_t j = i;
      while (j < nfix && a->open[j].fix == a->open[i].fix) j++;
      fputs("    ", o->fp);
      rel_line(o, a->open[i].fix);
      fputc('\n', o->fp);
      group(o, a->open + i, j - i);
      i = j;
    }
    if (a->n_unfixable) {
      fprintf(o->fp, "    No update for %s: a later CU is needed\n", a->cu ? a->cu->cu : "this build");
      group(o, a->open + nfix, a->n_unfixable);
    }
  }
  actions(o, a);
  if (a->note[0]) {
    char t[512];
    snprintf(t, sizeof t, "%s.", a->note);
    fputc('\n', o->fp);
    para(o, "  Note: ", 8, t);
  }
  if (a->tables_date[0] && days_between(a->tables_date, a->as_of) > 120) {
    char t[256];
    snprintf(t, sizeof t, "exhunt's tables end with a release of %s; newer updates may exist "
             "(--data DIR reads newer tables).", a->tables_date);
    para(o, "  Note: ", 8, t);
  }
  return EXH_OK;
}

static int text_finding(exh_output *o, const exh_finding *f) {
  static const int sevcol[] = {C_DIM, C_RESET, C_YELLOW, C_RED, C_RED};
  fprintf(o->fp, "%s%-8s%s ", col(o, sevcol[f->severity >= 0 && f->severity <= 4 ? f->severity : 0]),
          exh_severity_name(f->severity), col(o, C_RESET));
  put(o, f->rule_name);
  fputs(": ", o->fp);
  put(o, f->message);
  fputc('\n', o->fp);
  if (f->path) {
    fputs("         at ", o->fp);
    put(o, f->path);
    if (f->line > 0) fprintf(o->fp, ":%lld", (long long)f->line);
    fputc('\n', o->fp);
  }
  if (f->action) {
    fputs("         do: ", o->fp);
    put(o, f->action);
    fputc('\n', o->fp);
  }
  return EXH_OK;
}

static int text_input_error(exh_output *o, const char *input, const exh_error *e) {
  (void)input;
  if (o->flags & EXH_OUT_BRIEF) {
    put(o, input);
    fputs("  error: ", o->fp);
    put(o, e->text);
    fputc('\n', o->fp);
  }
  return EXH_OK;
}

const exhi_writer exhi_writer_text = {
    .name = "text",
    .help = "a report for people",
    .finding = text_finding,
    .assessment = text_assessment,
    .input_error = text_input_error,
};
