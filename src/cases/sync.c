/* cases/sync.c — findings → inbox items (see sync.h). */
#include "cases/sync.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "core/arena.h"
#include "core/err.h"
#include "core/json.h"
#include "core/log.h"
#include "core/time.h"
#include "core/uuid.h"
#include "detect/detect.h"
#include "store/store_registry.h"

#define SYNC_ACTOR "system"

static int fail(mg_case_err *err, int rc, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(mg_case_err *err, int rc, const char *code, const char *fmt, ...) {
  if (err) {
    snprintf(err->code, sizeof err->code, "%s", code);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
  }
  return rc;
}

/* Appends text as a JSON string member "key":"text". */
static int jstr(mg_buf *b, const char *key, const char *text) {
  int rc = mg_buf_addf(b, ",\"%s\":\"", key);
  if (!rc) rc = mg_buf_add_json_str(b, text, strlen(text));
  if (!rc) rc = mg_buf_addc(b, '"');
  return rc;
}

/* Appends "key":<raw> when raw is JSON of the expected kind (our detector's own output), else
 * the text as a string so the evidence stays a valid object whatever the row holds. */
static int jraw(mg_buf *b, const char *key, const char *raw, int want_array) {
  mg_arena a;
  mg_arena_init(&a, 0, 1 << 20);
  mg_json *j = mg_json_parse(&a, raw, strlen(raw), 0, NULL);
  int ok = want_array ? mg_json_is_array(j) : mg_json_is_object(j);
  mg_arena_free(&a);
  if (!ok) return jstr(b, key, raw);
  return mg_buf_addf(b, ",\"%s\":%s", key, raw);
}

int mg_cases_finding_evidence(const mg_store_finding *f, mg_buf *summary, mg_buf *evidence) {
  mg_detect_type t;
  const char *zh = mg_detect_type_parse(f->type, &t) == MG_OK ? mg_detect_type_name_zh(t) : "";
  char decisive[MG_TIME_ISO_LEN], found[MG_TIME_ISO_LEN];
  mg_time_format_iso(f->decisive_ts_us, 3, decisive);
  mg_time_format_iso(f->found_at_us, 3, found);
  int rc = mg_buf_addf(summary, "%s %s：得分 %.2f（阈值 %.2f），规则 %s / score %.2f (threshold %.2f), "
                       "rules %s",
                       zh, f->type, f->score, f->threshold, f->rules, f->score, f->threshold,
                       f->rules);
  if (!rc) rc = mg_buf_addf(evidence, "{\"finding_id\":%lld", (long long)f->id);
  if (!rc) rc = jstr(evidence, "type", f->type);
  if (!rc) rc = jstr(evidence, "type_zh", zh);
  if (!rc) rc = mg_buf_addf(evidence, ",\"score\":%.4f,\"threshold\":%.4f", f->score, f->threshold);
  if (!rc) rc = jstr(evidence, "rules", f->rules);
  if (!rc) rc = jraw(evidence, "thresholds", f->thresholds, 0);
  if (!rc) rc = jstr(evidence, "comparison", f->comparison);
  if (!rc) rc = jraw(evidence, "statements", f->evidence, 1);
  if (!rc) rc = jstr(evidence, "explain_zh", f->explain_zh);
  if (!rc) rc = jstr(evidence, "explain_en", f->explain_en);
  if (!rc) rc = jstr(evidence, "decisive_at", decisive);
  if (!rc) rc = jstr(evidence, "found_at", found);
  if (!rc) rc = jstr(evidence, "account", f->student);
  if (!rc) rc = jstr(evidence, "home_page", f->university);
  if (!rc) rc = jstr(evidence, "course", f->course);
  if (!rc) rc = jstr(evidence, "platform", f->platform);
  if (!rc)
    rc = jstr(evidence, "note",
              "检测结果仅供人工核查，未自动给予任何处分 / detector evidence for review by a person; "
              "no sanction has been applied");
  if (!rc) rc = mg_buf_addc(evidence, '}');
  return rc;
}

/* Fills the registry ids of the item from the finding. MG_ENOTFOUND when the university or the
 * student is unknown. */
static int resolve(mg_store *s, const mg_store_finding *f, mg_store_inbox_item *it) {
  uint8_t reg[16];
  mg_reg_enrolment e;
  if (mg_uuid_parse(f->registration, reg) == MG_OK) {
    int rc = mg_store_reg_enrolment_by_registration(s, reg, &e);
    if (rc == MG_OK) {
      mg_reg_offering o;
      mg_reg_course c;
      if ((rc = mg_store_reg_offering_get(s, e.offering_id, &o))) return rc;
      it->university_id = o.university_id;
      it->student_id = e.student_id;
      it->course_id = o.course_id;
      if (mg_store_reg_course_get(s, o.course_id, &c) == MG_OK) it->platform_id = c.platform_id;
      uint8_t canon[16];
      mg_uuid_parse(f->registration, canon);
      mg_uuid_format(canon, it->registration);
      return MG_OK;
    }
    if (rc != MG_ENOTFOUND) return rc;
  }
  /* Not an enrolment the registry knows: the account's university and student number. */
  mg_reg_org u;
  int rc = mg_store_reg_org_by_home_page(s, f->university, &u);
  if (rc) return rc;
  mg_reg_student st;
  if ((rc = mg_store_reg_student_find(s, u.id, f->student, &st))) return rc;
  it->university_id = u.id;
  it->student_id = st.id;
  mg_reg_course c;
  if (mg_store_reg_course_by_iri(s, f->course, &c) == MG_OK) {
    it->course_id = c.id;
    it->platform_id = c.platform_id;
  }
  return MG_OK;
}

static int audit(mg_store *s, const char *action, int64_t item_id, const char *before,
                 const char *after) {
  char oid[32];
  snprintf(oid, sizeof oid, "%lld", (long long)item_id);
  mg_audit_event ev = {
      .actor = SYNC_ACTOR,
      .role = SYNC_ACTOR,
      .action = action,
      .object_type = "inbox_item",
      .object_id = oid,
      .before = before,
      .before_len = before ? strlen(before) : 0,
      .after = after,
      .after_len = after ? strlen(after) : 0,
  };
  return mg_audit_append(s, &ev, NULL);
}

/* Inside the transaction: import or update. */
static int sync_tx(mg_store *s, const mg_store_finding *f, mg_sync_outcome *outcome,
                   int64_t *item_id, mg_case_err *err) {
  mg_buf sum, ev;
  mg_buf_init(&sum, MG_CASES_TEXT_MAX - 1);
  mg_buf_init(&ev, 1 << 20);
  char *old_ev = NULL;
  int rc = mg_cases_finding_evidence(f, &sum, &ev);
  if (rc) {
    rc = fail(err, rc, "invalid", "finding %lld: its evidence does not fit", (long long)f->id);
    goto out;
  }
  mg_store_inbox_item cur;
  rc = mg_store_inbox_by_finding(s, f->id, &cur, &old_ev);
  if (rc == MG_ENOTFOUND) {
    mg_store_inbox_item it;
    memset(&it, 0, sizeof it);
    if ((rc = resolve(s, f, &it)) == MG_ENOTFOUND) {
      *outcome = MG_SYNC_UNRESOLVED;
      rc = MG_OK;
      goto out;
    }
    if (rc) {
      rc = fail(err, rc, "store", "finding %lld: the registry could not be read", (long long)f->id);
      goto out;
    }
    snprintf(it.source, sizeof it.source, "detector");
    snprintf(it.type, sizeof it.type, "%s", f->type);
    snprintf(it.summary, sizeof it.summary, "%s", sum.data);
    snprintf(it.reported_by, sizeof it.reported_by, "detector");
    it.finding_id = f->id;
    it.evidence = ev.data;
    it.received_us = f->created_us > 0 ? f->created_us : mg_time_now_us();
    if ((rc = mg_cases_inbox_add(s, &it, item_id, err))) goto out;
    if ((rc = audit(s, "cases.inbox.import", *item_id, NULL, ev.data)))
      rc = fail(err, rc, "store", "the import could not be audited");
    *outcome = MG_SYNC_IMPORTED;
    goto out;
  }
  if (rc) {
    rc = fail(err, rc, "store", "finding %lld: the inbox could not be read", (long long)f->id);
    goto out;
  }
  *item_id = cur.id;
  if (!strcmp(old_ev ? old_ev : "", ev.data) && !strcmp(cur.summary, sum.data)) {
    *outcome = MG_SYNC_UNCHANGED;
    goto out;
  }
  mg_store_case k;
  memset(&k, 0, sizeof k);
  if (cur.case_id) {
    if ((rc = mg_store_case_get(s, cur.case_id, &k))) {
      rc = fail(err, rc, "store", "case %lld could not be read", (long long)cur.case_id);
      goto out;
    }
    if (strcmp(k.state, "open") && strcmp(k.state, "investigating")) {
      *outcome = MG_SYNC_FROZEN;
      goto out;
    }
  }
  if ((rc = mg_store_inbox_update(s, cur.id, sum.data, ev.data))) {
    rc = fail(err, rc, "store", "inbox item %lld could not be updated", (long long)cur.id);
    goto out;
  }
  if (cur.case_id) {
    mg_store_case_event e;
    memset(&e, 0, sizeof e);
    e.case_id = k.id;
    e.at_us = mg_time_now_us();
    snprintf(e.actor, sizeof e.actor, SYNC_ACTOR);
    snprintf(e.action, sizeof e.action, "evidence_updated");
    snprintf(e.from_state, sizeof e.from_state, "%s", k.state);
    snprintf(e.to_state, sizeof e.to_state, "%s", k.state);
    snprintf(e.note, sizeof e.note,
             "检测结果重新评分：得分 %.2f，规则 %s / finding %lld re-scored: score %.2f, rules %s",
             f->score, f->rules, (long long)f->id, f->score, f->rules);
    if ((rc = mg_store_case_event_add(s, &e))) {
      rc = fail(err, rc, "store", "the case timeline could not be written");
      goto out;
    }
  }
  if ((rc = audit(s, "cases.inbox.rescore", cur.id, old_ev, ev.data)))
    rc = fail(err, rc, "store", "the update could not be audited");
  *outcome = MG_SYNC_UPDATED;
out:
  free(old_ev);
  mg_buf_free(&sum);
  mg_buf_free(&ev);
  return rc;
}

int mg_cases_sync_finding(mg_store *s, const mg_store_finding *f, mg_sync_outcome *outcome,
                          int64_t *item_id, mg_case_err *err) {
  if (!s || !f || f->id <= 0) return fail(err, MG_EINVAL, "invalid", "no stored finding");
  mg_sync_outcome o = MG_SYNC_UNCHANGED;
  int64_t id = 0;
  int rc = mg_store_tx_begin(s);
  if (rc) return fail(err, rc, "store", "the store is busy");
  rc = sync_tx(s, f, &o, &id, err);
  if (rc || o == MG_SYNC_UNCHANGED || o == MG_SYNC_FROZEN || o == MG_SYNC_UNRESOLVED)
    mg_store_tx_rollback(s);
  else if ((rc = mg_store_tx_commit(s)))
    fail(err, rc, "store", "the inbox change could not be committed");
  if (rc) return rc;
  if (outcome) *outcome = o;
  if (item_id) *item_id = o == MG_SYNC_UNRESOLVED ? 0 : id;
  return MG_OK;
}

typedef struct sync_walk {
  mg_store *s;
  mg_sync_stats *st;
  mg_store_finding *rows; /* one page, copied out so no store lock is held while syncing */
  size_t n;
} sync_walk;

static int collect(void *ud, const mg_store_finding *f) {
  sync_walk *w = ud;
  w->rows[w->n++] = *f;
  return MG_OK;
}

#define SYNC_PAGE 64

int mg_cases_sync_findings(mg_store *s, int64_t after_id, mg_sync_stats *st) {
  if (!s) return MG_EINVAL;
  sync_walk w = {s, st, calloc(SYNC_PAGE, sizeof(mg_store_finding)), 0};
  if (!w.rows) return MG_ENOMEM;
  int rc = MG_OK, more = 1;
  int64_t last = after_id;
  while (more && !rc) {
    mg_store_finding_filter flt;
    memset(&flt, 0, sizeof flt);
    flt.after_id = last;
    flt.limit = SYNC_PAGE;
    w.n = 0;
    if ((rc = mg_store_finding_list(s, &flt, collect, &w, &more, &last))) break;
    if (!w.n) break;
    for (size_t i = 0; i < w.n && !rc; i++) {
      mg_sync_outcome o;
      mg_case_err e = {"", ""};
      rc = mg_cases_sync_finding(s, &w.rows[i], &o, NULL, &e);
      if (rc) {
        char id[32];
        snprintf(id, sizeof id, "%lld", (long long)w.rows[i].id);
        mg_log(MG_LOG_ERROR, "cases.sync.failed", "finding", id, "error", e.message, NULL);
        break;
      }
      if (!st) continue;
      switch (o) {
      case MG_SYNC_IMPORTED: st->imported++; break;
      case MG_SYNC_UPDATED: st->updated++; break;
      case MG_SYNC_UNCHANGED: st->unchanged++; break;
      case MG_SYNC_FROZEN: st->frozen++; break;
      case MG_SYNC_UNRESOLVED: st->unresolved++; break;
      }
    }
  }
  free(w.rows);
  return rc;
}
