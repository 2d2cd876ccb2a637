/*
 * exhunt check's reports: text for people (verdict and actions first, one
 * screen for the common case, details below) and JSON lines (every finding
 * through the JSON-lines writer, then one summary object per server).
 * Everything that came from the evidence goes through the escaping writers.
 */
#include "check.h"

#include <errno.h>
#include <jansson.h>
#include <string.h>

/* Findings shown in the text report before "... N more (--format jsonl)". */
#define TEXT_MAX_FINDINGS 200
/* Incident steps shown in the text report. */
#define TEXT_MAX_STEPS 40
/* A step's message in the incident, in bytes: one terminal line or two. */
#define STEP_MESSAGE_MAX 160

static void put(FILE *fp, const char *s) { exhi_fputs_safe(fp, s ? s : ""); }

static const char *c_on(unsigned flags, const char *code) { return (flags & EXH_OUT_COLOR) ? code : ""; }

#define RED "\033[31m"
#define YELLOW "\033[33m"
#define GREEN "\033[32m"
#define BOLD "\033[1m"
#define RESET "\033[0m"

static const char *comp_color(int c) {
  return c >= EXH_COMP_EXPLOITED ? RED : c == EXH_COMP_NONE_FOUND ? GREEN : YELLOW;
}

static void update_line(FILE *fp, const exh_check_result *r) {
  const exh_assessment *a = r->assessment;
  char b[64] = "";
  if (r->have_build) exh_build_format(&r->build.build, b, sizeof b);
  if (!r->have_build) {
    fputs(r->build_error[0] ? "unknown: ExSetup.exe could not be read: " : "unknown: Bin/ExSetup.exe not found", fp);
    if (r->build_error[0]) put(fp, r->build_error);
    return;
  }
  fprintf(fp, "%s: %s", exh_check_update_name(r->update),
          a && a->release ? a->release->name : a && a->product ? a->product : "build");
  fprintf(fp, " (%s)", b);
  if (a && r->update == EXH_UPDATE_UNPATCHED) {
    fprintf(fp, ", %zu open CVE%s", a->n_open, a->n_open == 1 ? "" : "s");
    const char *seen[16];
    size_t ns = 0;
    for (size_t i = 0; i < a->n_open && ns < 16; i++) {
      const char *cp = a->open[i].campaign;
      int dup = !cp || !*cp;
      for (size_t k = 0; k < ns && !dup; k++) dup = !strcmp(seen[k], cp);
      if (!dup) seen[ns++] = cp;
    }
    for (size_t k = 0; k < ns; k++) fprintf(fp, "%s%s", k ? ", " : " (", seen[k]);
    if (ns) fputc(')', fp);
  } else if (r->update == EXH_UPDATE_UNKNOWN && a) {
    fputs(": the update level cannot be told from this build", fp);
  }
}

static void src_line(FILE *fp, const exh_check_result *r, size_t s) {
  const exhi_src_def *sd = &exhi_src_defs[s];
  const exhi_src_found *sf = &r->disc.src[s];
  fprintf(fp, "  %-8s %-46s ", sf->n_paths ? "found" : "missing", sd->label);
  if (!sf->n_paths) {
    fprintf(fp, "(%s)\n", sd->why);
    return;
  }
  if (sd->kind == EXHI_SRC_LOGS) {
    fprintf(fp, "%zu log file%s, %llu lines", sf->log_files, sf->log_files == 1 ? "" : "s",
            (unsigned long long)sf->lines);
    if (sf->first_seen[0]) fprintf(fp, ", %.10s to %.10s", sf->first_seen, sf->last_seen);
    if (sf->files > sf->log_files)
      fprintf(fp, " (%llu files in all)", (unsigned long long)sf->files);
  } else {
    fprintf(fp, "%llu file%s", (unsigned long long)sf->files, sf->files == 1 ? "" : "s");
    if (sd->kind == EXHI_SRC_BUILD && r->have_build) {
      char b[64];
      exh_build_format(&r->build.build, b, sizeof b);
      fprintf(fp, ", build %s", b);
    }
  }
  if (sf->n_paths > 1) fprintf(fp, " in %zu places", sf->n_paths);
  fputc('\n', fp);
}

/* One incident: its span, addresses, indicators, why its steps are one, and
 * its timeline. */
static void write_incident(FILE *fp, const exh_check_result *r, size_t idx) {
  const exhi_incident *in = &r->inc[idx];
  char a[40], b[40];
  exhi_format_time_ms(in->first_ms, a, sizeof a);
  exhi_format_time_ms(in->last_ms >= 0 ? in->last_ms : in->first_ms, b, sizeof b);
  if (r->n_inc > 1) fprintf(fp, "\nIncident %zu of %zu: ", idx + 1, r->n_inc);
  else fputs("\nIncident: ", fp);
  fprintf(fp, "%s to %s", in->first_ms >= 0 ? a : "?", in->last_ms >= 0 ? b : "?");
  if (in->n_ips) {
    fputs(", from ", fp);
    for (size_t i = 0; i < in->n_ips; i++) {
      if (i) fputs(", ", fp);
      put(fp, in->ips[i]);
    }
  }
  if (in->actors[0]) {
    fputs("; indicators: ", fp);
    put(fp, in->actors);
  }
  fputc('\n', fp);
  if (r->n_inc > 1) {
    char why[200];
    exhi_incident_joined(in->joined, why, sizeof why);
    fprintf(fp, "  (%s)\n", why);
  }
  for (size_t i = 0; i < in->n_steps && i < TEXT_MAX_STEPS; i++) {
    const exhi_cf *c = &r->f[in->steps[i]];
    /* A file several rules flagged is one step. */
    if (c->from == EXHI_FROM_FILES && i > 0) {
      const exhi_cf *p = &r->f[in->steps[i - 1]];
      if (p->from == EXHI_FROM_FILES && p->f.path && c->f.path && !strcmp(p->f.path, c->f.path)) continue;
    }
    char t[40] = "time unknown           ";
    if (c->f.event_time_ms >= 0) exhi_format_time_ms(c->f.event_time_ms, t, sizeof t);
    fprintf(fp, "  %s  ", t);
    put(fp, c->f.rule_name);
    fputs(": ", fp);
    if (c->from == EXHI_FROM_FILES) {
      fputs("on disk ", fp);
      put(fp, c->f.path);
      for (size_t k = i + 1; k < in->n_steps; k++) {
        const exhi_cf *n = &r->f[in->steps[k]];
        if (n->from != EXHI_FROM_FILES || !n->f.path || strcmp(n->f.path, c->f.path)) break;
        fputs("; ", fp);
        put(fp, n->f.rule_name);
      }
    } else {
      /* One line per step: the whole message is in the findings below. */
      char m[STEP_MESSAGE_MAX + 4];
      size_t ml = exhi_strlcpy(m, c->f.message, STEP_MESSAGE_MAX + 1);
      if (ml > STEP_MESSAGE_MAX) {
        size_t cut = STEP_MESSAGE_MAX;
        while (cut > 0 && ((unsigned char)m[cut] & 0xC0) == 0x80) cut--; /* whole UTF-8 characters */
        memcpy(m + cut, "...", 4);
      }
      put(fp, m);
    }
    fputc('\n', fp);
  }
  if (in->n_steps > TEXT_MAX_STEPS) fprintf(fp, "  ... %zu more steps\n", in->n_steps - TEXT_MAX_STEPS);
}

static int write_text(const exh_check_result *r, FILE *fp, unsigned fl) {
  fprintf(fp, "%s== ", c_on(fl, BOLD));
  put(fp, r->name);
  fprintf(fp, "%s  (", c_on(fl, RESET));
  put(fp, r->root);
  fputs(")\n", fp);
  fprintf(fp, "  Compromise  %s%s%s", c_on(fl, comp_color(r->compromise)),
          exh_check_compromise_name(r->compromise), c_on(fl, RESET));
  if (r->reason[0]) {
    fputs(": ", fp);
    put(fp, r->reason);
  } else if (r->compromise == EXH_COMP_UNKNOWN) {
    fputs(": nothing found, but missing ", fp);
    put(fp, r->missing);
  } else if (r->compromise == EXH_COMP_NONE_FOUND) {
    fputs(" in the sources read (below)", fp);
  }
  fprintf(fp, "\n  Update      %s", c_on(fl, r->update == EXH_UPDATE_PATCHED ? GREEN : r->update == EXH_UPDATE_UNPATCHED ? RED : YELLOW));
  update_line(fp, r);
  fprintf(fp, "%s\n", c_on(fl, RESET));

  if (r->n_acts) fputs("\nWhat to do now:\n", fp);
  for (size_t i = 0; i < r->n_acts; i++) {
    fprintf(fp, "  %zu. ", i + 1);
    put(fp, r->acts[i].text);
    fputc('\n', fp);
    for (size_t k = 0; k < r->acts[i].n_items; k++) {
      fputs("       ", fp);
      put(fp, r->acts[i].items[k]);
      fputc('\n', fp);
    }
  }

  for (size_t n = 0; r->incident && n < r->n_inc; n++) write_incident(fp, r, n);

  fputs("\nEvidence read:\n", fp);
  for (size_t s = 0; s < exhi_src_count; s++) src_line(fp, r, s);
  fprintf(fp, "  %llu files read (%.1f MB), %llu log lines", (unsigned long long)r->files.files,
          (double)r->files.bytes / 1e6, (unsigned long long)r->logs.lines);
  if (r->files.files_left) /* read once, by the log hunt: not hashed or scanned again */
    fprintf(fp, " in %llu log files read by the log rules only",
            (unsigned long long)r->files.files_left);
  fputc('\n', fp);

  size_t shown = 0, total = 0;
  for (size_t i = 0; i < r->n_f; i++) total += r->f[i].f.severity >= EXH_SEV_LOW;
  if (total) fprintf(fp, "\nFindings (%zu):\n", total);
  exh_output *o;
  if (exh_output_new("text", fp, fl & EXH_OUT_COLOR, -1, &o, NULL) != EXH_OK) return EXH_ERR_NOMEM;
  for (int sev = EXH_SEV_CRITICAL; sev >= EXH_SEV_LOW; sev--)
    for (size_t i = 0; i < r->n_f; i++)
      if (r->f[i].f.severity == sev && shown++ < TEXT_MAX_FINDINGS) exh_output_finding(o, &r->f[i].f);
  exh_output_free(o);
  if (shown > TEXT_MAX_FINDINGS)
    fprintf(fp, "... %zu more findings: --format jsonl lists them all\n", shown - TEXT_MAX_FINDINGS);
  if (r->dropped_f) fprintf(fp, "%zu findings beyond %d were counted, not kept\n", r->dropped_f, EXHI_CHECK_MAX_FINDINGS);
  if (r->n_errors) {
    fprintf(fp, "\nCould not be read (%zu):\n", r->n_errors);
    for (size_t i = 0; i < r->n_errors_kept && i < 20; i++) {
      fputs("  ", fp);
      put(fp, r->errors[i]);
      fputc('\n', fp);
    }
  }
  fputc('\n', fp);
  return EXH_OK;
}

/* ---- JSON lines ---------------------------------------------------------------- */

static json_t *jstr(const char *s) {
  char buf[8192];
  return json_string(exhi_utf8_sanitize(s ? s : "", buf, sizeof buf));
}

static json_t *jtime(int64_t ms) {
  if (ms < 0) return json_null();
  char t[40];
  exhi_format_time_ms(ms, t, sizeof t);
  return json_string(t);
}

static json_t *step_json(const exhi_cf *c) {
  json_t *st = json_object();
  json_object_set_new(st, "@timestamp", jtime(c->f.event_time_ms));
  json_object_set_new(st, "rule_id", jstr(c->f.rule_id));
  json_object_set_new(st, "message", jstr(c->f.message));
  json_object_set_new(st, "path", jstr(c->f.path));
  return st;
}

static json_t *incident_json(const exh_check_result *r, const exhi_incident *in) {
  json_t *o = json_object();
  json_object_set_new(o, "first_seen", jtime(in->first_ms));
  json_object_set_new(o, "last_seen", jtime(in->last_ms));
  json_t *ips = json_array();
  for (size_t i = 0; i < in->n_ips; i++) json_array_append_new(ips, jstr(in->ips[i]));
  json_object_set_new(o, "source_ips", ips);
  json_object_set_new(o, "indicators", jstr(in->actors));
  char why[200];
  exhi_incident_joined(in->joined, why, sizeof why);
  json_object_set_new(o, "joined_by", jstr(why));
  json_t *steps = json_array();
  for (size_t i = 0; i < in->n_steps; i++) json_array_append_new(steps, step_json(&r->f[in->steps[i]]));
  json_object_set_new(o, "steps", steps);
  return o;
}

static json_t *summary(const exh_check_result *r) {
  json_t *root = json_object();
  char now[40];
  exhi_format_time_ms(exhi_now_ms(), now, sizeof now);
  json_object_set_new(root, "@timestamp", json_string(now));
  json_t *ev = json_object();
  json_object_set_new(ev, "kind", json_string("state"));
  json_object_set_new(ev, "module", json_string("exhunt"));
  json_object_set_new(ev, "dataset", json_string("exhunt.check"));
  json_object_set_new(ev, "created", json_string(now));
  json_object_set_new(root, "event", ev);
  json_t *host = json_object();
  json_object_set_new(host, "name", jstr(r->name));
  json_object_set_new(root, "host", host);
  char msg[1400];
  snprintf(msg, sizeof msg, "%s: compromise %s, update %s", r->name,
           exh_check_compromise_name(r->compromise), exh_check_update_name(r->update));
  json_object_set_new(root, "message", jstr(msg));

  json_t *x = json_object();
  json_object_set_new(x, "evidence_path", jstr(r->root));
  json_t *v = json_object();
  json_object_set_new(v, "compromise", json_string(exh_check_compromise_name(r->compromise)));
  json_object_set_new(v, "update", json_string(exh_check_update_name(r->update)));
  json_object_set_new(v, "reason", jstr(r->reason));
  json_object_set_new(v, "missing", jstr(r->missing));
  json_object_set_new(x, "verdict", v);
  const exh_assessment *a = r->assessment;
  if (r->have_build) {
    char b[64];
    exh_build_format(&r->build.build, b, sizeof b);
    json_object_set_new(x, "build", json_string(b));
  }
  if (a) {
    json_object_set_new(x, "release", a->release ? jstr(a->release->name) : json_null());
    if (a->min_update) {
      json_t *fix = json_object();
      json_object_set_new(fix, "name", jstr(a->min_update->name));
      json_object_set_new(fix, "kb", jstr(a->min_update->kb));
      char b[64];
      exh_build_format(&a->min_update->build, b, sizeof b);
      json_object_set_new(fix, "build", json_string(b));
      json_object_set_new(x, "fix", fix);
    }
    json_t *ids = json_array();
    for (size_t i = 0; i < a->n_open; i++) json_array_append_new(ids, jstr(a->open[i].id));
    json_t *vul = json_object();
    json_object_set_new(vul, "id", ids);
    json_object_set_new(root, "vulnerability", vul);
  }
  json_t *srcs = json_array();
  for (size_t s = 0; s < exhi_src_count; s++) {
    const exhi_src_found *sf = &r->disc.src[s];
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(exhi_src_defs[s].id));
    json_object_set_new(o, "name", json_string(exhi_src_defs[s].label));
    json_object_set_new(o, "found", json_boolean(sf->n_paths > 0));
    json_t *paths = json_array();
    for (size_t p = 0; p < sf->n_paths && p < EXHI_SRC_MAX_PATHS; p++) json_array_append_new(paths, jstr(sf->paths[p]));
    json_object_set_new(o, "paths", paths);
    json_object_set_new(o, "files", json_integer((json_int_t)sf->files));
    if (exhi_src_defs[s].kind == EXHI_SRC_LOGS) {
      json_object_set_new(o, "log_files", json_integer((json_int_t)sf->log_files));
      json_object_set_new(o, "lines", json_integer((json_int_t)sf->lines));
      json_object_set_new(o, "first_seen", sf->first_seen[0] ? json_string(sf->first_seen) : json_null());
      json_object_set_new(o, "last_seen", sf->last_seen[0] ? json_string(sf->last_seen) : json_null());
    }
    json_array_append_new(srcs, o);
  }
  json_object_set_new(x, "sources", srcs);
  if (r->incident) {
    json_t *inc = json_object();
    json_object_set_new(inc, "first_seen", jtime(r->first_ms));
    json_object_set_new(inc, "last_seen", jtime(r->last_ms));
    json_t *ips = json_array();
    for (size_t i = 0; i < r->n_ips; i++) json_array_append_new(ips, jstr(r->ips[i]));
    json_object_set_new(inc, "source_ips", ips);
    json_object_set_new(inc, "indicators", jstr(r->actors));
    json_t *steps = json_array();
    for (size_t i = 0; i < r->n_steps; i++) {
      const exhi_cf *c = &r->f[r->steps[i]];
      json_t *st = json_object();
      json_object_set_new(st, "@timestamp", jtime(c->f.event_time_ms));
      json_object_set_new(st, "rule_id", jstr(c->f.rule_id));
      json_object_set_new(st, "message", jstr(c->f.message));
      json_object_set_new(st, "path", jstr(c->f.path));
      json_array_append_new(steps, st);
    }
    json_object_set_new(inc, "steps", steps);
    json_object_set_new(x, "incident", inc);
    /* The same steps split by what joins them (one entry when they are one story). */
    json_t *incs = json_array();
    for (size_t n = 0; n < r->n_inc; n++) json_array_append_new(incs, incident_json(r, &r->inc[n]));
    json_object_set_new(x, "incidents", incs);
  }
  json_t *acts = json_array();
  for (size_t i = 0; i < r->n_acts; i++) {
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(r->acts[i].id));
    json_object_set_new(o, "text", jstr(r->acts[i].text));
    json_t *items = json_array();
    for (size_t k = 0; k < r->acts[i].n_items; k++) json_array_append_new(items, jstr(r->acts[i].items[k]));
    json_object_set_new(o, "items", items);
    json_object_set_new(o, "source", jstr(r->acts[i].source));
    json_array_append_new(acts, o);
  }
  json_object_set_new(x, "actions", acts);
  size_t nf = 0;
  for (size_t i = 0; i < r->n_f; i++) nf += r->f[i].f.severity >= EXH_SEV_LOW;
  json_object_set_new(x, "findings", json_integer((json_int_t)nf));
  json_object_set_new(x, "errors", json_integer((json_int_t)r->n_errors));
  json_object_set_new(root, "exhunt", x);
  return root;
}

static int write_jsonl(const exh_check_result *r, FILE *fp) {
  exh_output *o;
  if (exh_output_new("jsonl", fp, 0, -1, &o, NULL) != EXH_OK) return EXH_ERR_NOMEM;
  int rc = EXH_OK;
  for (size_t i = 0; i < r->n_f && !rc; i++) rc = exh_output_finding(o, &r->f[i].f);
  for (size_t i = 0; i < r->n_cov && !rc; i++) rc = exh_output_finding(o, &r->cov[i].f);
  for (size_t i = 0; i < r->n_errors_kept && !rc; i++) {
    exh_error e = {.code = EXH_ERR_IO};
    exhi_strlcpy(e.text, r->errors[i], sizeof e.text);
    rc = exh_output_input_error(o, r->root, &e);
  }
  exh_output_free(o);
  if (rc) return rc;
  json_t *s = summary(r);
  if (!s) return EXH_ERR_NOMEM;
  if (json_dumpf(s, fp, JSON_COMPACT | JSON_PRESERVE_ORDER) || fputc('\n', fp) == EOF) rc = EXH_ERR_IO;
  json_decref(s);
  return rc;
}

int exh_check_write(const exh_check_result *r, const char *format, FILE *fp, unsigned flags,
                    exh_error *err) {
  int rc;
  if (!strcmp(format, "text")) rc = write_text(r, fp, flags);
  else if (!strcmp(format, "jsonl")) rc = write_jsonl(r, fp);
  else return exhi_err(err, EXH_ERR_INVALID, "--format", 0, -1, "unknown format \"%s\" (text, jsonl)", format);
  if (!rc && (fflush(fp) || ferror(fp))) rc = EXH_ERR_IO;
  if (rc) return exhi_err(err, rc, "output", 0, -1, "write failed: %s", strerror(errno));
  return EXH_OK;
}

int exh_check_write_table(const exh_check_result *const *r, size_t n, FILE *fp, exh_error *err) {
  fprintf(fp, "%-24s %-10s %-18s %8s  %s\n", "server", "update", "compromise", "findings", "first event");
  for (size_t i = 0; i < n; i++) {
    exh_check_summary s;
    exh_check_get_summary(r[i], &s);
    char name[80];
    exhi_escape_terminal(s.name, name, sizeof name);
    char t[40] = "-";
    if (s.first_ms >= 0) exhi_format_time_ms(s.first_ms, t, sizeof t);
    fprintf(fp, "%-24s %-10s %-18s %8zu  %s\n", name, exh_check_update_name(s.update),
            exh_check_compromise_name(s.compromise), s.findings, t);
  }
  if (fflush(fp) || ferror(fp)) return exhi_err(err, EXH_ERR_IO, "output", 0, -1, "write failed: %s", strerror(errno));
  return EXH_OK;
}
