/* Findings leaving the engine: as store rows and as JSON. */
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "core/time.h"
#include "detect/detect.h"
#include "store/store_findings.h"

static void uuid_text(const uint8_t id[16], char out[37]) {
  static const char hx[] = "0123456789abcdef";
  int j = 0;
  for (int i = 0; i < 16; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out[j++] = '-';
    out[j++] = hx[id[i] >> 4];
    out[j++] = hx[id[i] & 15];
  }
  out[j] = 0;
}

static void evidence_json(const mg_detect_finding *f, char *out, size_t size) {
  size_t n = 0;
  out[n++] = '[';
  for (size_t i = 0; i < f->n_evidence && n + 42 < size; i++) {
    char u[37];
    uuid_text(f->evidence[i], u);
    n += (size_t)snprintf(out + n, size - n, "%s\"%s\"", i ? "," : "", u);
  }
  out[n++] = ']';
  out[n] = 0;
}

void mg_detect_finding_to_store(const mg_detect_finding *f, int64_t now_us, mg_store_finding *o) {
  memset(o, 0, sizeof *o);
  snprintf(o->type, sizeof o->type, "%s", mg_detect_type_name(f->type));
  snprintf(o->registration, sizeof o->registration, "%s", f->registration);
  snprintf(o->student, sizeof o->student, "%s", f->student);
  snprintf(o->university, sizeof o->university, "%s", f->university);
  snprintf(o->course, sizeof o->course, "%s", f->course);
  snprintf(o->platform, sizeof o->platform, "%s", f->platform);
  o->score = f->score;
  o->threshold = f->threshold;
  snprintf(o->rules, sizeof o->rules, "%s", f->rules);
  snprintf(o->thresholds, sizeof o->thresholds, "%s", f->thresholds);
  snprintf(o->comparison, sizeof o->comparison, "%s", f->group);
  evidence_json(f, o->evidence, sizeof o->evidence);
  snprintf(o->explain_zh, sizeof o->explain_zh, "%s", f->explain_zh);
  snprintf(o->explain_en, sizeof o->explain_en, "%s", f->explain_en);
  o->decisive_ts_us = f->decisive_ts_us;
  o->found_at_us = f->found_at_us;
  o->created_us = now_us;
  snprintf(o->status, sizeof o->status, "open");
}

static int kv(mg_buf *b, const char *k, const char *v, int comma) {
  int rc = mg_buf_addf(b, "%s\"%s\":\"", comma ? "," : "", k);
  if (!rc) rc = mg_buf_add_json_str(b, v, strlen(v));
  if (!rc) rc = mg_buf_addc(b, '"');
  return rc;
}

int mg_detect_finding_json(const mg_detect_finding *f, mg_buf *out) {
  char dts[MG_TIME_ISO_LEN], fts[MG_TIME_ISO_LEN], ev[8 * 40 + 4];
  mg_time_format_iso(f->decisive_ts_us, 3, dts);
  mg_time_format_iso(f->found_at_us, 3, fts);
  evidence_json(f, ev, sizeof ev);
  int rc = mg_buf_addc(out, '{');
  if (!rc) rc = kv(out, "type", mg_detect_type_name(f->type), 0);
  if (!rc) rc = kv(out, "type_zh", mg_detect_type_name_zh(f->type), 1);
  if (!rc) rc = mg_buf_addf(out, ",\"score\":%.3f,\"threshold\":%.3f", f->score, f->threshold);
  if (!rc) rc = kv(out, "rules", f->rules, 1);
  if (!rc) rc = mg_buf_addf(out, ",\"thresholds\":%s", f->thresholds);
  if (!rc) rc = kv(out, "comparison", f->group, 1);
  if (!rc) rc = kv(out, "registration", f->registration, 1);
  if (!rc) rc = kv(out, "student", f->student, 1);
  if (!rc) rc = kv(out, "university", f->university, 1);
  if (!rc) rc = kv(out, "course", f->course, 1);
  if (!rc) rc = kv(out, "platform", f->platform, 1);
  if (!rc) rc = kv(out, "decisive_timestamp", dts, 1);
  if (!rc) rc = kv(out, "found_at", fts, 1);
  if (!rc) rc = mg_buf_addf(out, ",\"evidence\":%s", ev);
  if (!rc) rc = kv(out, "explanation_zh", f->explain_zh, 1);
  if (!rc) rc = kv(out, "explanation_en", f->explain_en, 1);
  if (!rc) rc = mg_buf_addc(out, '}');
  return rc;
}
