/* A grouped hit -> an exh_finding: the sentence, the evidence fields, what
 * to do. Wording only; the hunt decided what was found. */
#include "log_findings.h"
#include "../detectors/logioc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void exhi_hit_clear(exhi_hit *h) {
  if (!h) return;
  free(h->key);
  free(h->detail);
  for (size_t i = 0; i < h->n_fields; i++) free((void *)(uintptr_t)h->fields[i].value);
  memset(h, 0, sizeof *h);
}

static const char *field(const exhi_hit *h, const char *name) {
  for (size_t i = 0; i < h->n_fields; i++)
    if (!strcmp(h->fields[i].name, name)) return h->fields[i].value;
  return NULL;
}

static const char *action_for(const exhi_lr_rule *r, int outcome) {
  if (r->ioc && r->n_success)
    return "Look for the file on disk and in the OAB and virtual directory settings (exhunt "
           "files); look at everything this client did on the server.";
  if (r->ioc) return "Look at everything this client did on the server; block it at the edge.";
  if (outcome == EXHI_OUTCOME_EXPLOITED)
    return "Treat the server as compromised: isolate it, look for web shells (exhunt files), "
           "reset credentials, then rebuild or clean and patch.";
  if (outcome == EXHI_OUTCOME_ATTEMPTED && !r->n_cves)
    return "Check that the page does not exist on disk (exhunt files) and where the client "
           "came from.";
  if (outcome == EXHI_OUTCOME_ATTEMPTED)
    return "Make sure the server has the update that closes these CVEs (exhunt assess); "
           "look for a successful request from the same client.";
  return "Check whether this was expected; if not, investigate the server.";
}

int exhi_hit_emit(exh_output *o, const exhi_lr *lr, const exhi_hit *h, const char *path,
                  const exhi_hit_followup *via, int timeline) {
  const exhi_lr_rule *r = exhi_hit_rule(lr, h->rule);
  char first[40] = "", last[40] = "", success[40] = "", count[32], failed[32], succeeded[32];
  char msg[3072];
  if (h->first_ms >= 0) exhi_format_time_ms(h->first_ms, first, sizeof first);
  if (h->last_ms >= 0) exhi_format_time_ms(h->last_ms, last, sizeof last);
  if (h->success_ms >= 0) exhi_format_time_ms(h->success_ms, success, sizeof success);
  snprintf(count, sizeof count, "%llu", (unsigned long long)h->count);
  snprintf(failed, sizeof failed, "%llu", (unsigned long long)h->failed);
  snprintf(succeeded, sizeof succeeded, "%llu", (unsigned long long)h->succeeded);
  /* Failed and succeeded say something only where a hit is judged. */
  int judged = !timeline && (h->failed || h->succeeded);
  const char *ip = field(h, "source.ip");
  const char *url = field(h, "url.path");
  const char *status = field(h, "http.response.status_code");
  size_t n = 0;
  n += (size_t)snprintf(msg + n, sizeof msg - n, "%s", exhi_outcome_name(h->outcome));
  if (timeline || h->count == 1) {
    n += (size_t)snprintf(msg + n, sizeof msg - n, ": %s", first[0] ? first : "time unknown");
  } else {
    n += (size_t)snprintf(msg + n, sizeof msg - n, ": %s times, %s to %s", count,
                          first[0] ? first : "?", last[0] ? last : "?");
  }
  if (judged && h->count > 1 && n < sizeof msg)
    n += (size_t)snprintf(msg + n, sizeof msg - n, " (%s failed, %s succeeded)", failed, succeeded);
  if (judged && h->succeeded && h->count > 1 && n < sizeof msg)
    n += (size_t)snprintf(msg + n, sizeof msg - n, "; first success %s, line %lld",
                          success[0] ? success : "at an unknown time", (long long)h->line);
  if (ip && n < sizeof msg) n += (size_t)snprintf(msg + n, sizeof msg - n, ", from %.64s", ip);
  if (url && n < sizeof msg) n += (size_t)snprintf(msg + n, sizeof msg - n, ", %.300s", url);
  if (status && n < sizeof msg) n += (size_t)snprintf(msg + n, sizeof msg - n, " -> %.16s", status);
  if (h->detail && n < sizeof msg)
    n += (size_t)snprintf(msg + n, sizeof msg - n, "; indicator %.600s", h->detail);
  const exhi_lr_rule *vr = via ? exhi_hit_rule(lr, via->hit->rule) : NULL;
  const char *vurl = via ? field(via->hit, "url.path") : NULL;
  const char *vstatus = via ? field(via->hit, "http.response.status_code") : NULL;
  char vline[32] = "";
  if (via) snprintf(vline, sizeof vline, "%lld", (long long)via->hit->line);
  if (via && n < sizeof msg) {
    /* What made the chain a success: the analyst goes there next. */
    n += (size_t)snprintf(msg + n, sizeof msg - n, "; followed by %.200s at %s (%.600s:%s",
                          vr->title, success[0] ? success : "an unknown time", via->path, vline);
    if (vurl && n < sizeof msg) n += (size_t)snprintf(msg + n, sizeof msg - n, ", %.300s", vurl);
    if (vstatus && n < sizeof msg)
      n += (size_t)snprintf(msg + n, sizeof msg - n, " -> %.16s", vstatus);
    if (n < sizeof msg) n += (size_t)snprintf(msg + n, sizeof msg - n, ")");
  }
  const exh_ioc *ioc = h->ioc;
  if (ioc && n < sizeof msg) {
    /* Who said so, first: a responder weighs a hit by its source. */
    n += (size_t)snprintf(msg + n, sizeof msg - n, "; indicator %s %.300s from %.100s",
                          exh_ioc_type_name(ioc->type), ioc->value,
                          ioc->source[0] ? ioc->source : "an unnamed source");
    if (ioc->actor[0] && n < sizeof msg)
      n += (size_t)snprintf(msg + n, sizeof msg - n, ", actor %.100s", ioc->actor);
    if (ioc->report[0] && n < sizeof msg)
      n += (size_t)snprintf(msg + n, sizeof msg - n, ", report %.200s", ioc->report);
  }
  const char *image = field(h, "process.executable"), *parent = field(h, "process.parent.executable");
  const char *group = field(h, "group.name"), *host = field(h, "host.name");
  if (h->kind == EXHI_LOG_EVTX) {
    if (host && n < sizeof msg) n += (size_t)snprintf(msg + n, sizeof msg - n, ", on %.100s", host);
    if (image && n < sizeof msg)
      n += (size_t)snprintf(msg + n, sizeof msg - n, ", %.200s%s%.200s", parent ? parent : "",
                            parent ? " started " : "", image);
    const char *cmd = field(h, "process.command_line");
    if (cmd && n < sizeof msg) n += (size_t)snprintf(msg + n, sizeof msg - n, ": %.300s", cmd);
    if (group && n < sizeof msg) n += (size_t)snprintf(msg + n, sizeof msg - n, ", group %.200s", group);
    const char *ev = field(h, "winlog.event_id"), *ch = field(h, "winlog.channel");
    if (ev && n < sizeof msg)
      snprintf(msg + n, sizeof msg - n, " (event %.10s, %.80s)", ev, ch ? ch : "?");
  } else if (!url && !ip && n < sizeof msg) {
    const char *orig = field(h, "event.original");
    if (orig) snprintf(msg + n, sizeof msg - n, ": %.400s", orig);
  }

  exh_field fields[EXHI_HIT_FIELDS + 30];
  size_t nf = 0;
  for (size_t i = 0; i < h->n_fields; i++) fields[nf++] = h->fields[i];
  fields[nf++] = (exh_field){"exhunt.outcome", exhi_outcome_name(h->outcome)};
  fields[nf++] = (exh_field){"exhunt.count", count};
  if (first[0]) fields[nf++] = (exh_field){"exhunt.first_seen", first};
  if (last[0]) fields[nf++] = (exh_field){"exhunt.last_seen", last};
  if (judged || via) {
    fields[nf++] = (exh_field){"exhunt.failed", failed};
    fields[nf++] = (exh_field){"exhunt.succeeded", succeeded};
    if (success[0]) fields[nf++] = (exh_field){"exhunt.first_success", success};
  }
  if (via) {
    fields[nf++] = (exh_field){"exhunt.followup.rule", vr->id};
    fields[nf++] = (exh_field){"exhunt.followup.path", via->path};
    fields[nf++] = (exh_field){"exhunt.followup.line", vline};
    if (vurl) fields[nf++] = (exh_field){"exhunt.followup.url", vurl};
    if (vstatus) fields[nf++] = (exh_field){"exhunt.followup.status", vstatus};
    const char *vip = field(via->hit, "source.ip");
    if (vip) fields[nf++] = (exh_field){"exhunt.followup.source_ip", vip};
  }
  if (h->server[0] && !field(h, "host.name")) fields[nf++] = (exh_field){"host.name", h->server};
  fields[nf++] = (exh_field){"exhunt.log_kind", exhi_logkind_name(h->kind)};
  if (h->detail) fields[nf++] = (exh_field){"threat.indicator.description", h->detail};
  fields[nf++] = (exh_field){"log.file.path", path};
  char conf[16];
  if (ioc) {
    fields[nf++] = (exh_field){"threat.indicator.name", ioc->value};
    fields[nf++] = (exh_field){"threat.indicator.type", exh_ioc_type_name(ioc->type)};
    fields[nf++] = (exh_field){"threat.indicator.provider", ioc->source};
    if (ioc->report[0]) fields[nf++] = (exh_field){"exhunt.indicator.report", ioc->report};
    if (ioc->description[0])
      fields[nf++] = (exh_field){"threat.indicator.description", ioc->description};
    if (ioc->first_seen[0]) fields[nf++] = (exh_field){"threat.indicator.first_seen", ioc->first_seen};
    if (ioc->last_seen[0]) fields[nf++] = (exh_field){"threat.indicator.last_seen", ioc->last_seen};
    if (ioc->confidence >= 0) {
      snprintf(conf, sizeof conf, "%d", ioc->confidence);
      fields[nf++] = (exh_field){"threat.indicator.confidence", conf};
    }
    if (h->ioc_field) fields[nf++] = (exh_field){"exhunt.indicator.field", h->ioc_field};
  }

  exh_finding f = {0};
  f.rule_id = r->id;
  f.rule_name = r->title;
  /* A failed attempt is a step lower than the rule's own severity. */
  f.severity = r->severity;
  if (h->outcome == EXHI_OUTCOME_ATTEMPTED && f.severity > EXH_SEV_LOW) f.severity--;
  f.confidence = h->outcome == EXHI_OUTCOME_EXPLOITED ? 90 : 70;
  f.cves = (const char *const *)r->cves;
  f.n_cves = r->n_cves;
  f.attack = (const char *const *)r->attack;
  f.n_attack = r->n_attack;
  f.event_time_ms = h->first_ms;
  f.path = path;
  f.line = h->line;
  f.offset = -1;
  f.fields = fields;
  f.n_fields = nf;
  f.message = msg;
  f.action = action_for(r, h->outcome);
  if (ioc && ioc->actor[0]) f.actor = ioc->actor;
  return exh_output_finding(o, &f);
}
