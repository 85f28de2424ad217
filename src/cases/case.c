/* cases/case.c — the case state machine and the steps that move a case through it. */
#include "cases/case.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cases/seal.h"
#include "core/arena.h"
#include "core/err.h"
#include "core/json.h"
#include "core/time.h"
#include "core/uuid.h"
#include "privacy/consent.h"

static const char *const STATE_NAMES[MG_CASE_STATE_COUNT_] = {
    "open", "investigating", "dismissed", "verified", "appealed", "appeal_upheld",
    "appeal_rejected"};
static const char *const ACTION_NAMES[MG_CASE_ACTION_COUNT_] = {
    "investigate", "dismiss", "verify", "appeal", "uphold", "reject"};

/* The transitions, all of them: anything absent is refused. */
static const struct {
  mg_case_state from;
  mg_case_action action;
  mg_case_state to;
} TRANSITIONS[] = {
    {MG_CASE_OPEN, MG_CASE_INVESTIGATE, MG_CASE_INVESTIGATING},
    {MG_CASE_INVESTIGATING, MG_CASE_DISMISS, MG_CASE_DISMISSED},
    {MG_CASE_INVESTIGATING, MG_CASE_VERIFY, MG_CASE_VERIFIED},
    {MG_CASE_VERIFIED, MG_CASE_APPEAL, MG_CASE_APPEALED},
    {MG_CASE_APPEALED, MG_CASE_UPHOLD, MG_CASE_APPEAL_UPHELD},
    {MG_CASE_APPEALED, MG_CASE_REJECT, MG_CASE_APPEAL_REJECTED},
};

static const char *const SANCTION_NAMES[MG_SANCTION_COUNT_] = {
    "cancel_grade", "warning", "serious_warning", "demerit", "probation", "expulsion"};
static const char *const SANCTION_ZH[MG_SANCTION_COUNT_] = {
    "取消课程成绩", "警告", "严重警告", "记过", "留校察看", "开除学籍"};

static const char *const TYPES[] = {"course_brushing", "proxy_study", "exam_brushing",
                                    "proxy_exam", "answer_leak"};
static const char *const TYPES_ZH[] = {"刷课", "替课", "刷考", "替考", "传播考试内容及答案"};
static const char *const SOURCES[] = {"detector", "platform", "teacher"};

const char *mg_case_state_name(mg_case_state s) {
  return (unsigned)s < MG_CASE_STATE_COUNT_ ? STATE_NAMES[s] : "?";
}

int mg_case_state_parse(const char *name, mg_case_state *out) {
  for (int i = 0; name && i < MG_CASE_STATE_COUNT_; i++)
    if (!strcmp(name, STATE_NAMES[i])) {
      *out = (mg_case_state)i;
      return MG_OK;
    }
  return MG_EINVAL;
}

const char *mg_case_action_name(mg_case_action a) {
  return (unsigned)a < MG_CASE_ACTION_COUNT_ ? ACTION_NAMES[a] : "?";
}

int mg_case_transition(mg_case_state from, mg_case_action a, mg_case_state *to) {
  for (size_t i = 0; i < sizeof TRANSITIONS / sizeof TRANSITIONS[0]; i++)
    if (TRANSITIONS[i].from == from && TRANSITIONS[i].action == a) {
      if (to) *to = TRANSITIONS[i].to;
      return MG_OK;
    }
  return MG_ECONFLICT;
}

const char *mg_sanction_name(mg_sanction_kind k) {
  return (unsigned)k < MG_SANCTION_COUNT_ ? SANCTION_NAMES[k] : "?";
}
const char *mg_sanction_name_zh(mg_sanction_kind k) {
  return (unsigned)k < MG_SANCTION_COUNT_ ? SANCTION_ZH[k] : "?";
}
int mg_sanction_parse(const char *name, mg_sanction_kind *out) {
  for (int i = 0; name && i < MG_SANCTION_COUNT_; i++)
    if (!strcmp(name, SANCTION_NAMES[i])) {
      *out = (mg_sanction_kind)i;
      return MG_OK;
    }
  return MG_EINVAL;
}

static const char *type_zh(const char *type) {
  for (size_t i = 0; i < sizeof TYPES / sizeof TYPES[0]; i++)
    if (!strcmp(type, TYPES[i])) return TYPES_ZH[i];
  return type;
}

static int one_of(const char *s, const char *const *set, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!strcmp(s, set[i])) return 1;
  return 0;
}

static int fail(mg_case_err *err, int rc, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(mg_case_err *err, int rc, const char *code, const char *fmt, ...) {
  if (err) {
    snprintf(err->code, sizeof err->code, "%s", code);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    mg_utf8_trim_tail(err->message);
  }
  return rc;
}

/* Copies required text into a fixed field; refuses empty or oversized text rather than cutting. */
static int take_text(char *dst, size_t size, const char *src, int required, const char *what,
                     mg_case_err *err) {
  size_t n = src ? strlen(src) : 0;
  if (required && n == 0) return fail(err, MG_EINVAL, "invalid", "%s is required", what);
  if (n >= size)
    return fail(err, MG_EINVAL, "invalid", "%s is too long (%zu bytes, at most %zu)", what, n,
                size - 1);
  memcpy(dst, src ? src : "", n);
  dst[n] = '\0';
  return MG_OK;
}

static int load(mg_store *s, int64_t id, mg_store_case *c, mg_case_state *st, mg_case_err *err) {
  int rc = mg_cases_get(s, id, c, err);
  if (rc) return rc;
  if (mg_case_state_parse(c->state, st))
    return fail(err, MG_ECORRUPT, "integrity", "case %lld has an unknown state '%s'",
                (long long)id, c->state);
  return MG_OK;
}

/* Applies action a to c in the table, or explains the refusal. */
static int step(mg_store_case *c, mg_case_state from, mg_case_action a, mg_case_state *to,
                mg_case_err *err) {
  if (mg_case_transition(from, a, to))
    return fail(err, MG_ECONFLICT, "invalid_transition",
                "case %lld is %s: '%s' is not allowed in that state", (long long)c->id,
                mg_case_state_name(from), mg_case_action_name(a));
  snprintf(c->state, sizeof c->state, "%s", mg_case_state_name(*to));
  return MG_OK;
}

static int event(mg_store *s, const mg_store_case *c, const mg_case_actor *who, const char *action,
                 const char *from, const char *note, int64_t now_us) {
  mg_store_case_event e;
  memset(&e, 0, sizeof e);
  e.case_id = c->id;
  e.at_us = now_us;
  e.actor_user = who->user_id;
  snprintf(e.actor, sizeof e.actor, "%s", who->name ? who->name : "");
  snprintf(e.action, sizeof e.action, "%s", action);
  snprintf(e.from_state, sizeof e.from_state, "%s", from);
  snprintf(e.to_state, sizeof e.to_state, "%s", c->state);
  snprintf(e.note, sizeof e.note, "%s", note ? note : "");
  mg_utf8_trim_tail(e.note);
  return mg_store_case_event_add(s, &e);
}

/* ---- integrity --------------------------------------------------------------------------- */

static void canon_field(mg_buf *b, int *rc, const char *name, const char *v) {
  /* name=len:value\n — the length makes the encoding unambiguous whatever the value holds. */
  if (!*rc) *rc = mg_buf_addf(b, "%s=%zu:", name, strlen(v));
  if (!*rc) *rc = mg_buf_adds(b, v);
  if (!*rc) *rc = mg_buf_addc(b, '\n');
}

static void canon_int(mg_buf *b, int *rc, const char *name, int64_t v) {
  char t[32];
  snprintf(t, sizeof t, "%lld", (long long)v);
  canon_field(b, rc, name, t);
}

int mg_cases_canonical(const mg_store_case *c, const mg_store_appeal *ap, mg_buf *out) {
  if (!c || !out) return MG_EINVAL;
  int rc = mg_buf_adds(out, "moocguard.case-decision.v1\n");
  canon_int(out, &rc, "id", c->id);
  canon_int(out, &rc, "university", c->university_id);
  canon_int(out, &rc, "student", c->student_id);
  canon_field(out, &rc, "registration", c->registration);
  canon_field(out, &rc, "type", c->type);
  canon_field(out, &rc, "state", c->state);
  canon_int(out, &rc, "decided_by_user", c->decided_by_user);
  canon_field(out, &rc, "decided_by", c->decided_by);
  canon_int(out, &rc, "decided_us", c->decided_us);
  canon_field(out, &rc, "reason", c->decision_reason);
  canon_int(out, &rc, "appeal_deadline_us", c->appeal_deadline_us);
  if (ap && ap->outcome[0]) {
    canon_field(out, &rc, "appeal.outcome", ap->outcome);
    canon_int(out, &rc, "appeal.decided_by_user", ap->decided_by_user);
    canon_int(out, &rc, "appeal.decided_us", ap->decided_us);
    canon_field(out, &rc, "appeal.reason", ap->reason);
  }
  return rc;
}

/* Tags c's decision (and appeal decision, once there is one). Undecided cases carry no tag. */
static int seal_case(mg_store *s, mg_store_case *c, const mg_store_appeal *ap) {
  if (!c->decided_us) {
    c->mac[0] = '\0';
    return MG_OK;
  }
  mg_buf b;
  mg_buf_init(&b, 1 << 16);
  int rc = mg_cases_canonical(c, ap, &b);
  if (!rc) rc = mg_cases_seal(s, "case.decision", b.data, b.len, c->mac, sizeof c->mac);
  mg_buf_free(&b);
  return rc;
}

int mg_cases_get(mg_store *s, int64_t case_id, mg_store_case *out, mg_case_err *err) {
  int rc = mg_store_case_get(s, case_id, out);
  if (rc == MG_ENOTFOUND)
    return fail(err, rc, "not_found", "case %lld does not exist", (long long)case_id);
  if (rc) return fail(err, rc, "store", "case %lld could not be read", (long long)case_id);
  if (!out->decided_us) return MG_OK;
  mg_store_appeal ap, *app = NULL;
  rc = mg_store_appeal_get(s, case_id, &ap);
  if (rc == MG_OK) app = &ap;
  else if (rc != MG_ENOTFOUND) return fail(err, rc, "store", "appeal of case %lld unreadable",
                                           (long long)case_id);
  mg_buf b;
  mg_buf_init(&b, 1 << 16);
  rc = mg_cases_canonical(out, app, &b);
  if (!rc) rc = mg_cases_seal_check(s, "case.decision", b.data, b.len, out->mac);
  mg_buf_free(&b);
  if (rc == MG_ECORRUPT)
    return fail(err, rc, "integrity",
                "case %lld: the stored decision does not match its integrity tag",
                (long long)case_id);
  if (rc) return fail(err, rc, "integrity", "case %lld: integrity check failed (%s)",
                      (long long)case_id, mg_strerror(rc));
  return MG_OK;
}

/* ---- notices ----------------------------------------------------------------------------- */

/* A notice about a case to the student or the university; body is a small JSON object. */
static int notify(mg_store *s, const mg_store_case *c, const char *recipient_kind,
                  int64_t recipient_id, const char *kind, const char *title, const char *detail,
                  int64_t now_us) {
  mg_buf b;
  mg_buf_init(&b, 1 << 16);
  char deadline[MG_TIME_ISO_LEN] = "";
  if (c->appeal_deadline_us) mg_time_format_iso(c->appeal_deadline_us, 3, deadline);
  int rc = mg_buf_addf(&b, "{\"case_id\":%lld,\"state\":\"%s\",\"type\":\"%s\",\"student_id\":%lld,"
                           "\"registration\":\"",
                       (long long)c->id, c->state, c->type, (long long)c->student_id);
  if (!rc) rc = mg_buf_add_json_str(&b, c->registration, strlen(c->registration));
  if (!rc) rc = mg_buf_adds(&b, "\",\"detail\":\"");
  if (!rc) rc = mg_buf_add_json_str(&b, detail, strlen(detail));
  if (!rc) rc = mg_buf_addf(&b, "\",\"appeal_deadline\":%s%s%s}", deadline[0] ? "\"" : "",
                            deadline[0] ? deadline : "null", deadline[0] ? "\"" : "");
  if (!rc) {
    mg_store_notice n;
    memset(&n, 0, sizeof n);
    snprintf(n.recipient_kind, sizeof n.recipient_kind, "%s", recipient_kind);
    n.recipient_id = recipient_id;
    snprintf(n.kind, sizeof n.kind, "%s", kind);
    n.case_id = c->id;
    snprintf(n.title, sizeof n.title, "%s", title);
    mg_utf8_trim_tail(n.title);
    n.body = b.data;
    n.created_us = now_us;
    rc = mg_store_notice_add(s, &n, NULL);
  }
  mg_buf_free(&b);
  return rc;
}

/* ---- steps ------------------------------------------------------------------------------- */

int mg_cases_inbox_add(mg_store *s, const mg_store_inbox_item *it, int64_t *id_out,
                       mg_case_err *err) {
  if (!s || !it) return fail(err, MG_EINVAL, "invalid", "no item");
  if (!one_of(it->source, SOURCES, 3))
    return fail(err, MG_EINVAL, "invalid", "source '%s' is not detector, platform or teacher",
                it->source);
  if (!one_of(it->type, TYPES, sizeof TYPES / sizeof TYPES[0]))
    return fail(err, MG_EINVAL, "invalid",
                "type '%s' is not one of course_brushing, proxy_study, exam_brushing, "
                "proxy_exam, answer_leak",
                it->type);
  if (it->university_id <= 0 || it->student_id <= 0)
    return fail(err, MG_EINVAL, "invalid", "university_id and student_id are required");
  if (!strcmp(it->source, "detector") && it->finding_id <= 0)
    return fail(err, MG_EINVAL, "invalid", "a detector item names its finding_id");
  if (!it->summary[0]) return fail(err, MG_EINVAL, "invalid", "summary is required");
  if (!it->reported_by[0]) return fail(err, MG_EINVAL, "invalid", "reported_by is required");
  uint8_t reg[16];
  if (it->registration[0] && mg_uuid_parse(it->registration, reg))
    return fail(err, MG_EINVAL, "invalid", "registration '%s' is not a UUID", it->registration);
  /* Evidence must be a JSON object: the console and the referral package read it. */
  mg_arena a;
  mg_arena_init(&a, 0, 1 << 24);
  mg_json_error je;
  mg_json *ev = it->evidence ? mg_json_parse(&a, it->evidence, strlen(it->evidence), 0, &je) : NULL;
  int is_obj = mg_json_is_object(ev);
  mg_arena_free(&a);
  if (!is_obj) return fail(err, MG_EINVAL, "invalid", "evidence must be a JSON object");
  mg_store_inbox_item copy = *it;
  if (!copy.received_us) copy.received_us = mg_time_now_us();
  /* face-check evidence carries the student's consent state (privacy/consent.h) */
  char *noted = NULL;
  int rc = mg_privacy_annotate_evidence(s, it->student_id, copy.received_us, it->evidence, &noted);
  if (rc) return fail(err, rc, "store", "the consent record could not be read");
  if (noted) copy.evidence = noted;
  rc = mg_store_inbox_add(s, &copy, id_out);
  free(noted);
  if (rc == MG_EEXISTS)
    return fail(err, rc, "conflict", "finding %lld is already in the inbox",
                (long long)it->finding_id);
  if (rc) return fail(err, rc, "store", "the inbox item could not be stored");
  return MG_OK;
}

int mg_cases_open(mg_store *s, const mg_case_actor *who, const int64_t *items, size_t n,
                  const char *service_note, int64_t now_us, int64_t *case_id, mg_case_err *err) {
  if (!s || !who || !case_id) return fail(err, MG_EINVAL, "invalid", "bad call");
  if (!items || n == 0) return fail(err, MG_EINVAL, "invalid", "items: at least one inbox item");
  if (n > 1000) return fail(err, MG_EINVAL, "invalid", "items: at most 1000 inbox items");
  mg_store_case c;
  memset(&c, 0, sizeof c);
  for (size_t i = 0; i < n; i++) {
    mg_store_inbox_item it;
    int rc = mg_store_inbox_get(s, items[i], &it, NULL);
    if (rc == MG_ENOTFOUND)
      return fail(err, rc, "not_found", "items[%zu]: inbox item %lld does not exist", i,
                  (long long)items[i]);
    if (rc) return fail(err, rc, "store", "items[%zu]: unreadable", i);
    if (it.case_id)
      return fail(err, MG_ECONFLICT, "conflict", "items[%zu]: inbox item %lld is already in case %lld",
                  i, (long long)items[i], (long long)it.case_id);
    if (i == 0) {
      c.university_id = it.university_id;
      c.platform_id = it.platform_id;
      c.course_id = it.course_id;
      c.student_id = it.student_id;
      snprintf(c.registration, sizeof c.registration, "%s", it.registration);
      snprintf(c.type, sizeof c.type, "%s", it.type);
    } else if (it.university_id != c.university_id || it.student_id != c.student_id) {
      return fail(err, MG_EINVAL, "invalid",
                  "items[%zu]: a case covers one student of one university; item %lld is "
                  "another's",
                  i, (long long)items[i]);
    }
  }
  int rc = take_text(c.service_note, sizeof c.service_note, service_note, 0, "service_note", err);
  if (rc) return rc;
  c.service_involved = c.service_note[0] != '\0';
  snprintf(c.state, sizeof c.state, "%s", mg_case_state_name(MG_CASE_OPEN));
  c.opened_by_user = who->user_id;
  if ((rc = take_text(c.opened_by, sizeof c.opened_by, who->name, 1, "actor name", err))) return rc;
  c.opened_us = c.updated_us = now_us;
  if ((rc = mg_store_case_insert(s, &c, case_id)))
    return fail(err, rc, "store", "the case could not be stored");
  c.id = *case_id;
  for (size_t i = 0; i < n; i++) {
    rc = mg_store_inbox_attach(s, items[i], c.id);
    if (rc == MG_ECONFLICT)
      return fail(err, rc, "conflict", "items[%zu]: inbox item %lld is listed twice or taken", i,
                  (long long)items[i]);
    if (rc) return fail(err, rc, "store", "items[%zu]: could not be attached", i);
  }
  if ((rc = event(s, &c, who, "open", "", NULL, now_us)))
    return fail(err, rc, "store", "the timeline could not be written");
  return MG_OK;
}

int mg_cases_investigate(mg_store *s, const mg_case_actor *who, int64_t case_id, const char *note,
                         int64_t now_us, mg_case_err *err) {
  mg_store_case c;
  mg_case_state from, to;
  int rc = load(s, case_id, &c, &from, err);
  if (rc) return rc;
  if ((rc = step(&c, from, MG_CASE_INVESTIGATE, &to, err))) return rc;
  char n[MG_CASES_TEXT_MAX];
  if ((rc = take_text(n, sizeof n, note, 0, "note", err))) return rc;
  c.investigator_user = who->user_id;
  if ((rc = take_text(c.investigator, sizeof c.investigator, who->name, 1, "actor name", err)))
    return rc;
  c.updated_us = now_us;
  if ((rc = mg_store_case_update(s, &c)))
    return fail(err, rc, rc == MG_ECONFLICT ? "conflict" : "store",
                "case %lld changed meanwhile; reload it", (long long)case_id);
  if ((rc = event(s, &c, who, "investigate", mg_case_state_name(from), n, now_us)))
    return fail(err, rc, "store", "the timeline could not be written");
  return MG_OK;
}

/* Writes one sanction of a verified case and its file entry. */
static int sanction(mg_store *s, const mg_store_case *c, const mg_case_actor *who,
                    mg_sanction_kind k, const char *reason, int64_t now_us, mg_case_err *err) {
  mg_store_sanction x;
  memset(&x, 0, sizeof x);
  x.case_id = c->id;
  x.student_id = c->student_id;
  snprintf(x.kind, sizeof x.kind, "%s", mg_sanction_name(k));
  int rc = take_text(x.reason, sizeof x.reason, reason, 1, "reason", err);
  if (rc) return rc;
  x.decided_by_user = who->user_id;
  snprintf(x.decided_by, sizeof x.decided_by, "%s", who->name);
  x.decided_us = now_us;
  int64_t sid = 0;
  rc = mg_store_sanction_add(s, &x, &sid);
  if (rc == MG_EEXISTS)
    return fail(err, MG_ECONFLICT, "conflict", "case %lld already has the sanction %s",
                (long long)c->id, mg_sanction_name(k));
  if (rc) return fail(err, rc, "store", "the sanction could not be stored");
  mg_store_file_entry e;
  memset(&e, 0, sizeof e);
  e.student_id = c->student_id;
  e.university_id = c->university_id;
  e.case_id = c->id;
  e.sanction_id = sid;
  snprintf(e.kind, sizeof e.kind, "%s", x.kind);
  snprintf(e.text, sizeof e.text, "%s（%s）：案件 %lld，%s / %s (case %lld)", mg_sanction_name_zh(k),
           type_zh(c->type), (long long)c->id, x.kind, c->type, (long long)c->id);
  e.recorded_us = now_us;
  if ((rc = mg_store_file_add(s, &e, NULL)))
    return fail(err, rc, "store", "the student file entry could not be stored");
  return MG_OK;
}

int mg_cases_decide(mg_store *s, const mg_case_actor *who, int64_t case_id, int verified,
                    const char *reason, const mg_sanction_kind *kinds, size_t n_kinds,
                    int64_t appeal_window_us, int64_t now_us, mg_case_err *err) {
  mg_store_case c;
  mg_case_state from, to;
  int rc = load(s, case_id, &c, &from, err);
  if (rc) return rc;
  if ((rc = step(&c, from, verified ? MG_CASE_VERIFY : MG_CASE_DISMISS, &to, err))) return rc;
  if ((rc = take_text(c.decision_reason, sizeof c.decision_reason, reason, 1, "reason", err)))
    return rc;
  if (appeal_window_us <= 0)
    return fail(err, MG_EINVAL, "invalid", "the appeal window must be positive");
  /* The disciplinary level: at most one, and none for a dismissal. */
  int level = -1;
  for (size_t i = 0; i < n_kinds; i++) {
    if ((unsigned)kinds[i] >= MG_SANCTION_COUNT_)
      return fail(err, MG_EINVAL, "invalid", "sanctions[%zu]: unknown kind", i);
    if (!verified)
      return fail(err, MG_EINVAL, "invalid", "sanctions[%zu]: a dismissed case has no sanctions",
                  i);
    if (kinds[i] == MG_SANCTION_CANCEL_GRADE) continue;
    if (level >= 0 && (int)kinds[i] != level)
      return fail(err, MG_EINVAL, "invalid",
                  "sanctions[%zu]: at most one disciplinary level (%s and %s given)", i,
                  mg_sanction_name((mg_sanction_kind)level), mg_sanction_name(kinds[i]));
    level = (int)kinds[i];
  }
  c.decided_by_user = who->user_id;
  if ((rc = take_text(c.decided_by, sizeof c.decided_by, who->name, 1, "actor name", err)))
    return rc;
  c.decided_us = now_us;
  c.appeal_deadline_us = verified ? now_us + appeal_window_us : 0;
  c.updated_us = now_us;
  if ((rc = seal_case(s, &c, NULL))) return fail(err, rc, "integrity", "the decision could not be sealed");
  if ((rc = mg_store_case_update(s, &c)))
    return fail(err, rc, rc == MG_ECONFLICT ? "conflict" : "store",
                "case %lld changed meanwhile; reload it", (long long)case_id);
  if (verified) {
    if ((rc = sanction(s, &c, who, MG_SANCTION_CANCEL_GRADE, c.decision_reason, now_us, err)))
      return rc;
    if (level >= 0 &&
        (rc = sanction(s, &c, who, (mg_sanction_kind)level, c.decision_reason, now_us, err)))
      return rc;
  }
  if ((rc = event(s, &c, who, verified ? "verify" : "dismiss", mg_case_state_name(from),
                  c.decision_reason, now_us)))
    return fail(err, rc, "store", "the timeline could not be written");
  char title[256];
  snprintf(title, sizeof title, "%s：%s / Case %lld %s", verified ? "违规查实" : "不予认定",
           type_zh(c.type), (long long)c.id, verified ? "verified" : "dismissed");
  if ((rc = notify(s, &c, "student", c.student_id, "case_decision", title, c.decision_reason,
                   now_us)) ||
      (rc = notify(s, &c, "university", c.university_id, "case_decision", title,
                   c.decision_reason, now_us)))
    return fail(err, rc, "store", "the notices could not be written");
  return MG_OK;
}

typedef struct level_scan {
  int found;
  char kind[24];
} level_scan;

static int level_row(void *ud, const mg_store_sanction *x) {
  level_scan *lv = ud;
  if (strcmp(x->kind, "cancel_grade") && !x->revoked_us) {
    lv->found = 1;
    snprintf(lv->kind, sizeof lv->kind, "%s", x->kind);
  }
  return MG_OK;
}

int mg_cases_add_sanction(mg_store *s, const mg_case_actor *who, int64_t case_id,
                          mg_sanction_kind kind, const char *reason, int64_t now_us,
                          mg_case_err *err) {
  mg_store_case c;
  mg_case_state st;
  int rc = load(s, case_id, &c, &st, err);
  if (rc) return rc;
  if (st != MG_CASE_VERIFIED)
    return fail(err, MG_ECONFLICT, "no_case_decision",
                "case %lld is %s: a sanction needs a verified case decision that is not under "
                "appeal",
                (long long)case_id, c.state);
  if ((unsigned)kind >= MG_SANCTION_COUNT_)
    return fail(err, MG_EINVAL, "invalid", "unknown sanction kind");
  if (kind != MG_SANCTION_CANCEL_GRADE) {
    /* One disciplinary level per case: a different one would be a new decision. */
    level_scan lv = {0, ""};
    if ((rc = mg_store_sanction_list(s, case_id, 0, level_row, &lv)))
      return fail(err, rc, "store", "sanctions of case %lld unreadable", (long long)case_id);
    if (lv.found)
      return fail(err, MG_ECONFLICT, "conflict",
                  "case %lld already has the disciplinary sanction %s (one level per case)",
                  (long long)case_id, lv.kind);
  }
  if ((rc = sanction(s, &c, who, kind, reason, now_us, err))) return rc;
  if ((rc = event(s, &c, who, "sanction", c.state, mg_sanction_name(kind), now_us)))
    return fail(err, rc, "store", "the timeline could not be written");
  return MG_OK;
}

int mg_cases_respond(mg_store *s, const mg_case_actor *who, int64_t case_id, const char *text,
                     int64_t now_us, mg_case_err *err) {
  mg_store_case c;
  mg_case_state st;
  int rc = load(s, case_id, &c, &st, err);
  if (rc) return rc;
  if (who->student_id != c.student_id)
    return fail(err, MG_EFORBIDDEN, "forbidden", "only the case's student may respond");
  if (st != MG_CASE_OPEN && st != MG_CASE_INVESTIGATING && st != MG_CASE_VERIFIED)
    return fail(err, MG_ECONFLICT, "invalid_transition",
                "case %lld is %s: responses are taken while it is open, investigating or verified",
                (long long)case_id, c.state);
  mg_store_case_response r;
  memset(&r, 0, sizeof r);
  r.case_id = case_id;
  r.author_user = who->user_id;
  if ((rc = take_text(r.author, sizeof r.author, who->name, 1, "actor name", err))) return rc;
  if ((rc = take_text(r.text, sizeof r.text, text, 1, "text", err))) return rc;
  r.at_us = now_us;
  if ((rc = mg_store_case_response_add(s, &r, NULL)))
    return fail(err, rc, "store", "the response could not be stored");
  if ((rc = event(s, &c, who, "respond", c.state, NULL, now_us)))
    return fail(err, rc, "store", "the timeline could not be written");
  return MG_OK;
}

int mg_cases_appeal(mg_store *s, const mg_case_actor *who, int64_t case_id, const char *grounds,
                    int64_t now_us, mg_case_err *err) {
  mg_store_case c;
  mg_case_state from, to;
  int rc = load(s, case_id, &c, &from, err);
  if (rc) return rc;
  if (who->student_id != c.student_id)
    return fail(err, MG_EFORBIDDEN, "forbidden", "only the case's student may appeal");
  if ((rc = step(&c, from, MG_CASE_APPEAL, &to, err))) return rc;
  if (now_us > c.appeal_deadline_us) {
    char dl[MG_TIME_ISO_LEN];
    mg_time_format_iso(c.appeal_deadline_us, 3, dl);
    return fail(err, MG_ECONFLICT, "appeal_window_closed",
                "case %lld: the appeal window closed at %s", (long long)case_id, dl);
  }
  mg_store_appeal a;
  memset(&a, 0, sizeof a);
  a.case_id = case_id;
  a.filed_by_user = who->user_id;
  if ((rc = take_text(a.filed_by, sizeof a.filed_by, who->name, 1, "actor name", err))) return rc;
  if ((rc = take_text(a.grounds, sizeof a.grounds, grounds, 1, "grounds", err))) return rc;
  a.filed_us = now_us;
  c.updated_us = now_us;
  if ((rc = seal_case(s, &c, NULL))) return fail(err, rc, "integrity", "the case could not be sealed");
  if ((rc = mg_store_case_update(s, &c)))
    return fail(err, rc, rc == MG_ECONFLICT ? "conflict" : "store",
                "case %lld changed meanwhile; reload it", (long long)case_id);
  rc = mg_store_appeal_add(s, &a, NULL);
  if (rc == MG_EEXISTS)
    return fail(err, MG_ECONFLICT, "conflict", "case %lld already has an appeal", (long long)case_id);
  if (rc) return fail(err, rc, "store", "the appeal could not be stored");
  if ((rc = event(s, &c, who, "appeal", mg_case_state_name(from), a.grounds, now_us)))
    return fail(err, rc, "store", "the timeline could not be written");
  char title[256];
  snprintf(title, sizeof title, "学生申诉：案件 %lld / Appeal filed on case %lld", (long long)c.id,
           (long long)c.id);
  if ((rc = notify(s, &c, "university", c.university_id, "appeal_filed", title, a.grounds, now_us)))
    return fail(err, rc, "store", "the notice could not be written");
  return MG_OK;
}

int mg_cases_decide_appeal(mg_store *s, const mg_case_actor *who, int64_t case_id, int upheld,
                           const char *reason, int64_t now_us, mg_case_err *err) {
  mg_store_case c;
  mg_case_state from, to;
  int rc = load(s, case_id, &c, &from, err);
  if (rc) return rc;
  if ((rc = step(&c, from, upheld ? MG_CASE_UPHOLD : MG_CASE_REJECT, &to, err))) return rc;
  if (who->user_id == c.decided_by_user)
    return fail(err, MG_EFORBIDDEN, "same_person",
                "case %lld was decided by %s; the appeal must be decided by another person",
                (long long)case_id, c.decided_by);
  mg_store_appeal a;
  if ((rc = mg_store_appeal_get(s, case_id, &a)))
    return fail(err, rc == MG_ENOTFOUND ? MG_ECORRUPT : rc, "integrity",
                "case %lld is appealed but has no appeal record", (long long)case_id);
  snprintf(a.outcome, sizeof a.outcome, "%s", upheld ? "upheld" : "rejected");
  a.decided_by_user = who->user_id;
  if ((rc = take_text(a.decided_by, sizeof a.decided_by, who->name, 1, "actor name", err))) return rc;
  if ((rc = take_text(a.reason, sizeof a.reason, reason, 1, "reason", err))) return rc;
  a.decided_us = now_us;
  c.updated_us = now_us;
  if ((rc = seal_case(s, &c, &a))) return fail(err, rc, "integrity", "the case could not be sealed");
  if ((rc = mg_store_case_update(s, &c)))
    return fail(err, rc, rc == MG_ECONFLICT ? "conflict" : "store",
                "case %lld changed meanwhile; reload it", (long long)case_id);
  if ((rc = mg_store_appeal_decide(s, &a)))
    return fail(err, rc, "conflict", "the appeal of case %lld is already decided", (long long)case_id);
  if (upheld) {
    char note[512];
    snprintf(note, sizeof note, "申诉成立，处分撤销 / appeal upheld, sanction revoked (case %lld)",
             (long long)case_id);
    if ((rc = mg_store_sanction_revoke_case(s, case_id, now_us, note)))
      return fail(err, rc, "store", "the sanctions could not be revoked");
  }
  if ((rc = event(s, &c, who, upheld ? "uphold" : "reject", mg_case_state_name(from), a.reason,
                  now_us)))
    return fail(err, rc, "store", "the timeline could not be written");
  char title[256];
  snprintf(title, sizeof title, "申诉%s：案件 %lld / Appeal %s on case %lld",
           upheld ? "成立" : "驳回", (long long)c.id, upheld ? "upheld" : "rejected",
           (long long)c.id);
  if ((rc = notify(s, &c, "student", c.student_id, "appeal_decision", title, a.reason, now_us)) ||
      (rc = notify(s, &c, "university", c.university_id, "appeal_decision", title, a.reason,
                   now_us)))
    return fail(err, rc, "store", "the notices could not be written");
  return MG_OK;
}

typedef struct misconduct_scan {
  int found;
  int64_t case_id;
} misconduct_scan;

static int misconduct_row(void *ud, const mg_store_case *c) {
  misconduct_scan *m = ud;
  if (!strcmp(c->state, "verified") || !strcmp(c->state, "appealed") ||
      !strcmp(c->state, "appeal_rejected")) {
    m->found = 1;
    m->case_id = c->id;
  }
  return MG_OK;
}

int mg_cases_misconduct(mg_store *s, const char *registration, int *found, int64_t *case_id) {
  if (!s || !registration || !*registration || !found) return MG_EINVAL;
  misconduct_scan m = {0, 0};
  mg_store_case_filter f = {0, 0, NULL, registration};
  int rc = mg_store_case_list(s, &f, misconduct_row, &m);
  if (rc) return rc;
  *found = m.found;
  if (case_id) *case_id = m.case_id;
  return MG_OK;
}
