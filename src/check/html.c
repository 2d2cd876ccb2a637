/*
 * exhunt check --html: one self-contained page (inline CSS, no scripts, no
 * external assets) with the verdict of every server at the top, then per
 * server the actions, the incident timeline, the evidence read and the
 * findings. Everything from the evidence is escaped for HTML, and control
 * bytes are shown as \xNN as in the terminal.
 */
#include "check.h"

#include <errno.h>
#include <string.h>

/* Findings listed per server in the page (all are in --format jsonl). */
#define HTML_MAX_FINDINGS 1000

static void esc(FILE *fp, const char *s) {
  if (!s) return;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    switch (*p) {
    case '&': fputs("&amp;", fp); break;
    case '<': fputs("&lt;", fp); break;
    case '>': fputs("&gt;", fp); break;
    case '"': fputs("&quot;", fp); break;
    case '\'': fputs("&#39;", fp); break;
    default:
      if (*p < 0x20 || *p == 0x7f) fprintf(fp, "\\x%02x", *p);
      else fputc(*p, fp);
    }
  }
}

static const char *comp_class(int c) {
  return c >= EXH_COMP_EXPLOITED ? "bad" : c == EXH_COMP_NONE_FOUND ? "good" : "warn";
}

static const char *update_class(int u) {
  return u == EXH_UPDATE_PATCHED ? "good" : u == EXH_UPDATE_UNPATCHED ? "bad" : "warn";
}

static void time_cell(FILE *fp, int64_t ms) {
  char t[40] = "";
  if (ms >= 0) exhi_format_time_ms(ms, t, sizeof t);
  fputs(t[0] ? t : "&ndash;", fp);
}

static void server_section(FILE *fp, const exh_check_result *r, size_t idx) {
  fprintf(fp, "<section id=\"s%zu\"><h2>", idx);
  esc(fp, r->name);
  fputs(" <small>", fp);
  esc(fp, r->root);
  fputs("</small></h2>\n<p class=\"verdict\">", fp);
  fprintf(fp, "Compromise: <b class=\"%s\">%s</b>", comp_class(r->compromise),
          exh_check_compromise_name(r->compromise));
  if (r->reason[0]) {
    fputs(": ", fp);
    esc(fp, r->reason);
  } else if (r->compromise == EXH_COMP_UNKNOWN) {
    fputs(": nothing found, but missing ", fp);
    esc(fp, r->missing);
  }
  fprintf(fp, "<br>Update: <b class=\"%s\">%s</b>", update_class(r->update), exh_check_update_name(r->update));
  if (r->have_build) {
    char b[64];
    exh_build_format(&r->build.build, b, sizeof b);
    fputs(": ", fp);
    if (r->assessment && r->assessment->release) esc(fp, r->assessment->release->name);
    fprintf(fp, " (%s)", b);
    if (r->assessment && r->update == EXH_UPDATE_UNPATCHED)
      fprintf(fp, ", %zu open CVEs", r->assessment->n_open);
  } else {
    fputs(": Bin/ExSetup.exe not read", fp);
  }
  fputs("</p>\n", fp);
  if (r->n_acts) {
    fputs("<h3>What to do now</h3>\n<ol class=\"actions\">\n", fp);
    for (size_t i = 0; i < r->n_acts; i++) {
      fputs("<li>", fp);
      esc(fp, r->acts[i].text);
      if (r->acts[i].n_items) {
        fputs("<ul>", fp);
        for (size_t k = 0; k < r->acts[i].n_items; k++) {
          fputs("<li><code>", fp);
          esc(fp, r->acts[i].items[k]);
          fputs("</code></li>", fp);
        }
        fputs("</ul>", fp);
      }
      fputs("<div class=\"src\">Source: ", fp);
      esc(fp, r->acts[i].source);
      fputs("</div></li>\n", fp);
    }
    fputs("</ol>\n", fp);
  }
  for (size_t n = 0; r->incident && n < r->n_inc; n++) {
    const exhi_incident *in = &r->inc[n];
    if (r->n_inc > 1) fprintf(fp, "<h3>Incident %zu of %zu</h3>\n<p>", n + 1, r->n_inc);
    else fputs("<h3>Incident</h3>\n<p>", fp);
    time_cell(fp, in->first_ms);
    fputs(" to ", fp);
    time_cell(fp, in->last_ms);
    if (in->n_ips) {
      fputs("; from ", fp);
      for (size_t i = 0; i < in->n_ips; i++) {
        if (i) fputs(", ", fp);
        fputs("<code>", fp);
        esc(fp, in->ips[i]);
        fputs("</code>", fp);
      }
    }
    if (in->actors[0]) {
      fputs("; indicators: ", fp);
      esc(fp, in->actors);
    }
    if (r->n_inc > 1) {
      char why[200];
      exhi_incident_joined(in->joined, why, sizeof why);
      fputs(" <small>(", fp);
      esc(fp, why);
      fputs(")</small>", fp);
    }
    fputs("</p>\n<table><tr><th>time</th><th>what</th><th>where</th></tr>\n", fp);
    for (size_t i = 0; i < in->n_steps; i++) {
      const exhi_cf *c = &r->f[in->steps[i]];
      fputs("<tr><td>", fp);
      time_cell(fp, c->f.event_time_ms);
      fputs("</td><td><b>", fp);
      esc(fp, c->f.rule_name);
      fputs("</b><br>", fp);
      esc(fp, c->f.message);
      fputs("</td><td><code>", fp);
      esc(fp, c->f.path);
      if (c->f.line > 0) fprintf(fp, ":%lld", (long long)c->f.line);
      fputs("</code></td></tr>\n", fp);
    }
    fputs("</table>\n", fp);
  }
  fputs("<h3>Evidence read</h3>\n<table><tr><th>source</th><th></th><th>files</th><th>log lines</th>"
        "<th>from</th><th>to</th></tr>\n", fp);
  for (size_t s = 0; s < exhi_src_count; s++) {
    const exhi_src_def *sd = &exhi_src_defs[s];
    const exhi_src_found *sf = &r->disc.src[s];
    fprintf(fp, "<tr class=\"%s\"><td>", sf->n_paths ? "found" : "missing");
    esc(fp, sd->label);
    fprintf(fp, "</td><td>%s</td><td>%llu</td>", sf->n_paths ? "found" : "missing",
            (unsigned long long)sf->files);
    if (sd->kind == EXHI_SRC_LOGS && sf->n_paths) {
      fprintf(fp, "<td>%llu</td><td>", (unsigned long long)sf->lines);
      esc(fp, sf->first_seen);
      fputs("</td><td>", fp);
      esc(fp, sf->last_seen);
      fputs("</td>", fp);
    } else {
      fputs("<td></td><td></td><td>", fp);
      if (!sf->n_paths) esc(fp, sd->why);
      fputs("</td>", fp);
    }
    fputs("</tr>\n", fp);
  }
  fputs("</table>\n", fp);
  size_t shown = 0;
  for (size_t i = 0; i < r->n_f; i++) shown += r->f[i].f.severity >= EXH_SEV_LOW;
  if (shown) {
    fprintf(fp, "<h3>Findings (%zu)</h3>\n<table><tr><th>severity</th><th>finding</th><th>where</th></tr>\n",
            shown);
    size_t n = 0;
    for (int sev = EXH_SEV_CRITICAL; sev >= EXH_SEV_LOW; sev--)
      for (size_t i = 0; i < r->n_f; i++) {
        const exh_finding *f = &r->f[i].f;
        if (f->severity != sev || n++ >= HTML_MAX_FINDINGS) continue;
        fprintf(fp, "<tr><td class=\"sev%d\">%s</td><td><b>", sev, exh_severity_name(sev));
        esc(fp, f->rule_name);
        fputs("</b><br>", fp);
        esc(fp, f->message);
        if (f->action) {
          fputs("<br><i>", fp);
          esc(fp, f->action);
          fputs("</i>", fp);
        }
        fputs("</td><td><code>", fp);
        esc(fp, f->path);
        if (f->line > 0) fprintf(fp, ":%lld", (long long)f->line);
        if (f->sha256) {
          fputs("<br>sha256 ", fp);
          esc(fp, f->sha256);
        }
        fputs("</code></td></tr>\n", fp);
      }
    fputs("</table>\n", fp);
    if (n > HTML_MAX_FINDINGS)
      fprintf(fp, "<p>%zu more findings: --format jsonl lists them all.</p>\n", n - HTML_MAX_FINDINGS);
  }
  fputs("</section>\n", fp);
}

int exh_check_write_html(const exh_check_result *const *r, size_t n, FILE *fp, exh_error *err) {
  char now[40];
  exhi_format_time_ms(exhi_now_ms(), now, sizeof now);
  fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
        "<title>exhunt check</title>\n<style>\n"
        "body{font:14px/1.45 system-ui,sans-serif;margin:2em;color:#111;max-width:72em}\n"
        "h1{font-size:1.6em}h2{border-top:2px solid #444;padding-top:.6em}h2 small{font-weight:normal;color:#555;font-size:.6em}\n"
        "table{border-collapse:collapse;width:100%;margin:.5em 0}td,th{border:1px solid #bbb;padding:.25em .5em;"
        "vertical-align:top;text-align:left;overflow-wrap:break-word}\n"
        ".bad{color:#b00020}.warn{color:#8a5a00}.good{color:#1b6e20}.verdict{font-size:1.15em}\n"
        ".sev4,.sev3{color:#b00020;font-weight:bold}.sev2{color:#8a5a00}tr.missing{color:#777}\n"
        ".src{color:#555;font-size:.85em}code{font-size:.9em;overflow-wrap:anywhere}\n"
        "@media print{body{margin:0;max-width:none}section{break-before:page}a{color:inherit}}\n"
        "</style></head><body>\n<h1>exhunt check</h1>\n", fp);
  fprintf(fp, "<p>Written %s by exhunt %s. Everything below comes from the evidence as read; "
              "exhunt changed nothing.</p>\n", now, EXH_VERSION);
  fputs("<table id=\"summary\"><tr><th>server</th><th>compromise</th><th>update</th><th>findings</th>"
        "<th>first event</th></tr>\n", fp);
  for (size_t i = 0; i < n; i++) {
    exh_check_summary s;
    exh_check_get_summary(r[i], &s);
    fprintf(fp, "<tr><td><a href=\"#s%zu\">", i);
    esc(fp, s.name);
    fprintf(fp, "</a></td><td class=\"%s\">%s</td><td class=\"%s\">%s</td><td>%zu</td><td>",
            comp_class(s.compromise), exh_check_compromise_name(s.compromise), update_class(s.update),
            exh_check_update_name(s.update), s.findings);
    time_cell(fp, s.first_ms);
    fputs("</td></tr>\n", fp);
  }
  fputs("</table>\n", fp);
  for (size_t i = 0; i < n; i++) server_section(fp, r[i], i);
  fputs("</body></html>\n", fp);
  if (fflush(fp) || ferror(fp))
    return exhi_err(err, EXH_ERR_IO, "--html", 0, -1, "write failed: %s", strerror(errno));
  return EXH_OK;
}
