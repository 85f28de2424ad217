/* privacy/export.c — the student's own-data export (see export.h). */
#include "privacy/export.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/time.h"
#include "core/uuid.h"
#include "privacy/consent.h"
#include "store/store_auth.h"
#include "store/store_cases.h"
#include "store/store_findings.h"
#include "store/store_privacy.h"
#include "store/store_registry.h"
#include "xapi/statement.h"

typedef struct ctx {
  mg_store *s;
  mg_arena *a;
  int64_t student_id;
  mg_json *arr; /* the list a callback appends to */
  int64_t last_seq;
  size_t n;
} ctx;

static int put(ctx *x, mg_json *o, const char *k, mg_json *v) {
  return v ? mg_json_object_set(x->a, o, k, v) : MG_ENOMEM;
}
static int put_str(ctx *x, mg_json *o, const char *k, const char *v) {
  return put(x, o, k, mg_json_string(x->a, v ? v : ""));
}
static int put_int(ctx *x, mg_json *o, const char *k, int64_t v) {
  return put(x, o, k, mg_json_integer(x->a, v));
}
static int put_bool(ctx *x, mg_json *o, const char *k, int v) {
  return put(x, o, k, v ? mg_json_true() : mg_json_false());
}
static int put_time(ctx *x, mg_json *o, const char *k, int64_t us) {
  if (!us) return put(x, o, k, mg_json_null());
  char t[MG_TIME_ISO_LEN];
  mg_time_format_iso(us, 3, t);
  return put_str(x, o, k, t);
}
/* Stored JSON text (ours, valid) as a value; invalid text is kept as a string. */
static int put_raw(ctx *x, mg_json *o, const char *k, const char *text) {
  if (!text || !*text) return put(x, o, k, mg_json_null());
  mg_json *v = mg_json_parse(x->a, text, strlen(text), MG_JSON_DECODE_ANY, NULL);
  return v ? put(x, o, k, v) : put_str(x, o, k, text);
}
static int append(ctx *x, mg_json *o) { return mg_json_array_append(x->a, x->arr, o); }

/* ---- registry ---------------------------------------------------------------------------- */

static int on_pledge(void *ud, const mg_reg_pledge *p) {
  ctx *x = ud;
  mg_json *o = mg_json_object(x->a);
  if (!o) return MG_ENOMEM;
  int rc = put_str(x, o, "version", p->version);
  if (!rc) rc = put_str(x, o, "signed_by", p->signed_by);
  if (!rc) rc = put_str(x, o, "signed_ip", p->signed_ip);
  if (!rc) rc = put_time(x, o, "signed_at", p->signed_us);
  return rc ? rc : append(x, o);
}

typedef struct enrol_list {
  mg_reg_enrolment *e;
  size_t n, cap;
} enrol_list;

static int on_enrol(void *ud, const mg_reg_enrolment *e) {
  enrol_list *l = ud;
  if (l->n == l->cap) return MG_ETOOBIG;
  l->e[l->n++] = *e;
  return MG_OK;
}

static int enrolment_json(ctx *x, const mg_reg_enrolment *e, mg_json **out) {
  mg_json *o = mg_json_object(x->a);
  if (!o) return MG_ENOMEM;
  char reg[MG_UUID_STR_LEN];
  mg_uuid_format(e->registration, reg);
  int rc = put_str(x, o, "registration", reg);
  if (!rc) rc = put_bool(x, o, "active", e->active);
  if (!rc) rc = put_time(x, o, "enrolled_at", e->created_us);
  mg_reg_offering off;
  if (!rc && mg_store_reg_offering_get(x->s, e->offering_id, &off) == MG_OK) {
    mg_json *of = mg_json_object(x->a);
    rc = of ? MG_OK : MG_ENOMEM;
    if (!rc) rc = put_int(x, of, "id", off.id);
    if (!rc) rc = put_str(x, of, "term", off.term);
    if (!rc) rc = put_str(x, of, "iri", off.iri);
    if (!rc) rc = put(x, of, "credits", mg_json_real(x->a, off.credits_tenths / 10.0));
    mg_reg_course c;
    if (!rc && mg_store_reg_course_get(x->s, off.course_id, &c) == MG_OK) {
      rc = put_str(x, of, "course_title", c.title);
      if (!rc) rc = put_str(x, of, "course_iri", c.iri);
    }
    if (!rc) rc = put(x, o, "offering", of);
  }
  mg_json *pl = mg_json_array(x->a);
  if (!rc && !pl) rc = MG_ENOMEM;
  if (!rc) {
    mg_json *keep = x->arr;
    x->arr = pl;
    rc = mg_store_reg_pledge_list(x->s, e->id, on_pledge, x);
    x->arr = keep;
  }
  if (!rc) rc = put(x, o, "pledges", pl);
  char r[MG_UUID_STR_LEN];
  mg_uuid_format(e->registration, r);
  mg_store_credit_decision d;
  char *reasons = NULL;
  if (!rc) {
    int c = mg_store_credit_latest(x->s, r, &d, &reasons);
    if (c == MG_OK) {
      mg_json *cd = mg_json_object(x->a);
      rc = cd ? MG_OK : MG_ENOMEM;
      if (!rc) rc = put_bool(x, cd, "eligible", d.eligible);
      if (!rc) rc = put(x, cd, "credits", mg_json_real(x->a, d.credits));
      if (!rc) rc = put(x, cd, "grade", d.has_grade ? mg_json_real(x->a, d.grade) : mg_json_null());
      if (!rc) rc = put_raw(x, cd, "reasons", reasons);
      if (!rc) rc = put_str(x, cd, "rules_version", d.rules_version);
      if (!rc) rc = put_str(x, cd, "decided_by", d.decided_by);
      if (!rc) rc = put_time(x, cd, "decided_at", d.decided_us);
      if (!rc) rc = put(x, o, "credit_decision", cd);
    } else if (c == MG_ENOTFOUND) {
      rc = put(x, o, "credit_decision", mg_json_null());
    } else {
      rc = c;
    }
    free(reasons);
  }
  *out = rc ? NULL : o;
  return rc;
}

/* ---- statements -------------------------------------------------------------------------- */

static int on_stmt(void *ud, int64_t seq, const char *json, size_t len) {
  ctx *x = ud;
  mg_json *v = mg_json_parse(x->a, json, len, 0, NULL);
  if (!v) return MG_ECORRUPT;
  x->last_seq = seq;
  x->n++;
  return append(x, v);
}

/* ---- findings and cases ------------------------------------------------------------------ */

static int on_finding(void *ud, const mg_store_finding *f) {
  ctx *x = ud;
  mg_json *o = mg_json_object(x->a);
  if (!o) return MG_ENOMEM;
  int rc = put_int(x, o, "id", f->id);
  if (!rc) rc = put_str(x, o, "type", f->type);
  if (!rc) rc = put_str(x, o, "registration", f->registration);
  if (!rc) rc = put_str(x, o, "course", f->course);
  if (!rc) rc = put_str(x, o, "platform", f->platform);
  if (!rc) rc = put(x, o, "score", mg_json_real(x->a, f->score));
  if (!rc) rc = put(x, o, "threshold", mg_json_real(x->a, f->threshold));
  if (!rc) rc = put_str(x, o, "rules", f->rules);
  if (!rc) rc = put_raw(x, o, "thresholds", f->thresholds);
  if (!rc) rc = put_str(x, o, "comparison", f->comparison);
  if (!rc) rc = put_raw(x, o, "evidence", f->evidence);
  if (!rc) rc = put_str(x, o, "explain_zh", f->explain_zh);
  if (!rc) rc = put_str(x, o, "explain_en", f->explain_en);
  if (!rc) rc = put_time(x, o, "decisive_at", f->decisive_ts_us);
  if (!rc) rc = put_time(x, o, "found_at", f->found_at_us);
  if (!rc) rc = put_str(x, o, "status", f->status);
  if (!rc && mg_privacy_mentions_face(f->rules)) {
    mg_json *note = NULL;
    rc = mg_privacy_face_evidence_note(x->s, x->student_id, f->decisive_ts_us, x->a, &note);
    if (!rc) rc = put(x, o, "face_consent", note);
  }
  return rc ? rc : append(x, o);
}

static int on_event(void *ud, const mg_store_case_event *e) {
  ctx *x = ud;
  mg_json *o = mg_json_object(x->a);
  if (!o) return MG_ENOMEM;
  int rc = put_time(x, o, "at", e->at_us);
  if (!rc) rc = put_str(x, o, "actor", e->actor);
  if (!rc) rc = put_str(x, o, "action", e->action);
  if (!rc) rc = put_str(x, o, "from", e->from_state);
  if (!rc) rc = put_str(x, o, "to", e->to_state);
  if (!rc) rc = put_str(x, o, "note", e->note);
  return rc ? rc : append(x, o);
}

static int on_response(void *ud, const mg_store_case_response *r) {
  ctx *x = ud;
  mg_json *o = mg_json_object(x->a);
  if (!o) return MG_ENOMEM;
  int rc = put_time(x, o, "at", r->at_us);
  if (!rc) rc = put_str(x, o, "author", r->author);
  if (!rc) rc = put_str(x, o, "text", r->text);
  return rc ? rc : append(x, o);
}

static int on_item(void *ud, const mg_store_inbox_item *it) {
  ctx *x = ud;
  mg_json *o = mg_json_object(x->a);
  if (!o) return MG_ENOMEM;
  int rc = put_int(x, o, "id", it->id);
  if (!rc) rc = put_str(x, o, "source", it->source);
  if (!rc) rc = put_str(x, o, "type", it->type);
  if (!rc) rc = put_str(x, o, "summary", it->summary);
  if (!rc) rc = put_str(x, o, "reported_by", it->reported_by);
  if (!rc) rc = put_time(x, o, "received_at", it->received_us);
  if (!rc) rc = put_raw(x, o, "evidence", it->evidence);
  return rc ? rc : append(x, o);
}

/* Runs a list function into a new array stored as o[k]. */
#define LIST_INTO(x, o, k, call)                                                               \
  do {                                                                                         \
    mg_json *arr_ = mg_json_array((x)->a), *keep_ = (x)->arr;                                  \
    if (!arr_) return MG_ENOMEM;                                                               \
    (x)->arr = arr_;                                                                           \
    int r_ = (call);                                                                           \
    (x)->arr = keep_;                                                                          \
    if (r_ || (r_ = put((x), (o), (k), arr_))) return r_;                                      \
  } while (0)

static int on_case(void *ud, const mg_store_case *k) {
  ctx *x = ud;
  mg_json *o = mg_json_object(x->a);
  if (!o) return MG_ENOMEM;
  int rc = put_int(x, o, "id", k->id);
  if (!rc) rc = put_str(x, o, "registration", k->registration);
  if (!rc) rc = put_str(x, o, "type", k->type);
  if (!rc) rc = put_str(x, o, "state", k->state);
  if (!rc) rc = put_str(x, o, "opened_by", k->opened_by);
  if (!rc) rc = put_time(x, o, "opened_at", k->opened_us);
  if (!rc) rc = put_str(x, o, "investigator", k->investigator);
  if (!rc) rc = put_str(x, o, "decided_by", k->decided_by);
  if (!rc) rc = put_time(x, o, "decided_at", k->decided_us);
  if (!rc) rc = put_str(x, o, "decision_reason", k->decision_reason);
  if (!rc) rc = put_time(x, o, "appeal_deadline", k->appeal_deadline_us);
  if (rc) return rc;
  LIST_INTO(x, o, "evidence", mg_store_inbox_of_case(x->s, k->id, on_item, x));
  LIST_INTO(x, o, "timeline", mg_store_case_events(x->s, k->id, on_event, x));
  LIST_INTO(x, o, "responses", mg_store_case_responses(x->s, k->id, on_response, x));
  mg_store_appeal ap;
  int r = mg_store_appeal_get(x->s, k->id, &ap);
  if (r == MG_OK) {
    mg_json *a = mg_json_object(x->a);
    if (!a) return MG_ENOMEM;
    rc = put_time(x, a, "filed_at", ap.filed_us);
    if (!rc) rc = put_str(x, a, "grounds", ap.grounds);
    if (!rc) rc = put_str(x, a, "outcome", ap.outcome);
    if (!rc) rc = put_str(x, a, "decided_by", ap.decided_by);
    if (!rc) rc = put_time(x, a, "decided_at", ap.decided_us);
    if (!rc) rc = put_str(x, a, "reason", ap.reason);
    if (!rc) rc = put(x, o, "appeal", a);
  } else if (r == MG_ENOTFOUND) {
    rc = put(x, o, "appeal", mg_json_null());
  } else {
    rc = r;
  }
  return rc ? rc : append(x, o);
}

static int on_sanction(void *ud, const mg_store_sanction *sn) {
  ctx *x = ud;
  mg_json *o = mg_json_object(x->a);
  if (!o) return MG_ENOMEM;
  int rc = put_int(x, o, "case_id", sn->case_id);
  if (!rc) rc = put_str(x, o, "kind", sn->kind);
  if (!rc) rc = put_str(x, o, "reason", sn->reason);
  if (!rc) rc = put_str(x, o, "decided_by", sn->decided_by);
  if (!rc) rc = put_time(x, o, "decided_at", sn->decided_us);
  if (!rc) rc = put_time(x, o, "revoked_at", sn->revoked_us);
  return rc ? rc : append(x, o);
}

static int on_file(void *ud, const mg_store_file_entry *e) {
  ctx *x = ud;
  mg_json *o = mg_json_object(x->a);
  if (!o) return MG_ENOMEM;
  int rc = put_int(x, o, "case_id", e->case_id);
  if (!rc) rc = put_str(x, o, "kind", e->kind);
  if (!rc) rc = put_str(x, o, "text", e->text);
  if (!rc) rc = put_time(x, o, "recorded_at", e->recorded_us);
  if (!rc) rc = put_time(x, o, "revoked_at", e->revoked_us);
  if (!rc) rc = put_str(x, o, "revoked_note", e->revoked_note);
  return rc ? rc : append(x, o);
}

static int on_notice(void *ud, const mg_store_notice *n) {
  ctx *x = ud;
  mg_json *o = mg_json_object(x->a);
  if (!o) return MG_ENOMEM;
  int rc = put_str(x, o, "kind", n->kind);
  if (!rc) rc = put_int(x, o, "case_id", n->case_id);
  if (!rc) rc = put_str(x, o, "title", n->title);
  if (!rc) rc = put_raw(x, o, "body", n->body);
  if (!rc) rc = put_time(x, o, "created_at", n->created_us);
  if (!rc) rc = put_time(x, o, "read_at", n->read_us);
  return rc ? rc : append(x, o);
}

static int on_consent(void *ud, const mg_store_consent *c) {
  ctx *x = ud;
  mg_json *o = mg_json_object(x->a);
  if (!o) return MG_ENOMEM;
  int rc = put_str(x, o, "purpose", c->purpose);
  if (!rc) rc = put_str(x, o, "action", c->granted ? "granted" : "withdrawn");
  if (!rc) rc = put_str(x, o, "notice_version", c->notice_version);
  if (!rc) rc = put_str(x, o, "notice_sha256", c->notice_digest);
  if (!rc) rc = put_str(x, o, "client_ip", c->client_ip);
  if (!rc) rc = put_time(x, o, "at", c->at_us);
  return rc ? rc : append(x, o);
}

/* ---- the document ------------------------------------------------------------------------- */

int mg_privacy_export(mg_store *s, int64_t student_id, int64_t user_id, int64_t after_seq,
                      int64_t now_us, mg_arena *a, mg_json **out) {
  *out = NULL;
  if (!s || !a || student_id <= 0 || after_seq < 0) return MG_EINVAL;
  ctx x = {s, a, student_id, NULL, 0, 0};
  mg_reg_student st;
  int rc = mg_store_reg_student_get(s, student_id, &st);
  if (rc) return rc;
  mg_reg_org univ;
  memset(&univ, 0, sizeof univ);
  if ((rc = mg_store_reg_org_get(s, st.university_id, &univ)) && rc != MG_ENOTFOUND) return rc;

  mg_json *doc = mg_json_object(a), *o = mg_json_object(a);
  if (!doc || !o) return MG_ENOMEM;
  if ((rc = put_str(&x, doc, "format", "moocguard.personal-data-export/1"))) return rc;
  if ((rc = put_time(&x, doc, "generated_at", now_us))) return rc;
  if ((rc = put_int(&x, o, "id", st.id)) || (rc = put_str(&x, o, "student_no", st.student_no)) ||
      (rc = put_str(&x, o, "name", st.name)) ||
      (rc = put_int(&x, o, "university_id", st.university_id)) ||
      (rc = put_str(&x, o, "university", univ.name)) ||
      (rc = put(&x, doc, "student", o)))
    return rc;

  /* the account: what identifies and describes it, never credentials */
  mg_store_user u;
  if (user_id > 0 && mg_store_user_get_id(s, user_id, &u) == MG_OK) {
    mg_json *acc = mg_json_object(a);
    if (!acc) return MG_ENOMEM;
    if ((rc = put_str(&x, acc, "username", u.username)) ||
        (rc = put_str(&x, acc, "display_name", u.display_name)) ||
        (rc = put_str(&x, acc, "role", u.role)) ||
        (rc = put_str(&x, acc, "status", mg_store_user_status_name(u.status))) ||
        (rc = put_bool(&x, acc, "second_factor", u.totp_enabled)) ||
        (rc = put_time(&x, acc, "password_changed_at", u.password_changed_us)) ||
        (rc = put_time(&x, acc, "created_at", u.created_us)) || (rc = put(&x, doc, "account", acc)))
      return rc;
  }

  /* enrolments (with offering, pledges, credit decision) */
  enrol_list el = {NULL, 0, 1024};
  if (!(el.e = malloc(el.cap * sizeof *el.e))) return MG_ENOMEM;
  mg_json *ens = mg_json_array(a);
  rc = ens ? mg_store_reg_enrolment_of_student(s, student_id, on_enrol, &el) : MG_ENOMEM;
  for (size_t i = 0; !rc && i < el.n; i++) {
    mg_json *e = NULL;
    if (!(rc = enrolment_json(&x, &el.e[i], &e))) rc = mg_json_array_append(a, ens, e);
  }
  free(el.e);
  if (rc || (rc = put(&x, doc, "enrolments", ens))) return rc;

  /* learning statements, by the student's actor (account homePage + student number) */
  mg_json *sts = mg_json_array(a);
  if (!sts) return MG_ENOMEM;
  int more = 0;
  if (univ.home_page[0]) {
    mg_json *agent = mg_json_object(a), *acct = mg_json_object(a);
    if (!agent || !acct) return MG_ENOMEM;
    if ((rc = put_str(&x, acct, "homePage", univ.home_page)) ||
        (rc = put_str(&x, acct, "name", st.student_no)) || (rc = put(&x, agent, "account", acct)))
      return rc;
    mg_buf key;
    mg_buf_init(&key, 4096);
    rc = mg_xapi_agent_key(agent, &key);
    if (!rc) {
      mg_store_query q;
      memset(&q, 0, sizeof q);
      q.agent_key = key.data;
      q.ascending = 1;
      q.limit = MG_PRIVACY_EXPORT_STATEMENTS;
      q.after_seq = after_seq;
      int64_t last = 0, snap = 0;
      x.arr = sts;
      rc = mg_store_stmt_query(s, &q, on_stmt, &x, &more, &last, &snap);
    }
    mg_buf_free(&key);
    if (rc) return rc;
  }
  if ((rc = put(&x, doc, "statements", sts))) return rc;
  if ((rc = put(&x, doc, "statements_next",
                more ? mg_json_integer(a, x.last_seq) : mg_json_null())))
    return rc;

  /* findings about the student (by actor identity), then cases, sanctions, file, notices */
  mg_json *fs = mg_json_array(a);
  if (!fs) return MG_ENOMEM;
  if (univ.home_page[0]) {
    mg_store_finding_filter f;
    memset(&f, 0, sizeof f);
    f.university = univ.home_page;
    f.student = st.student_no;
    f.limit = 500;
    x.arr = fs;
    for (int m = 1; m;) {
      int64_t last_id = 0;
      if ((rc = mg_store_finding_list(s, &f, on_finding, &x, &m, &last_id))) return rc;
      f.after_id = last_id;
    }
  }
  if ((rc = put(&x, doc, "findings", fs))) return rc;
  mg_store_case_filter cf = {0, student_id, NULL, NULL};
  LIST_INTO(&x, doc, "cases", mg_store_case_list(s, &cf, on_case, &x));
  LIST_INTO(&x, doc, "sanctions", mg_store_sanction_list(s, 0, student_id, on_sanction, &x));
  LIST_INTO(&x, doc, "student_file", mg_store_file_list(s, student_id, on_file, &x));
  LIST_INTO(&x, doc, "notices", mg_store_notice_list(s, "student", student_id, on_notice, &x));
  LIST_INTO(&x, doc, "consents", mg_store_consent_list(s, student_id, MG_PRIVACY_FACE, on_consent, &x));

  /* face templates: never held, so nothing to export; say so */
  mg_json *ft = mg_json_object(a);
  if (!ft) return MG_ENOMEM;
  if ((rc = put_bool(&x, ft, "held", 0)) ||
      (rc = put_str(&x, ft, "note_zh", "本系统不接收、不保存人脸图像或人脸特征模板，只保存平台发送的核验结果")) ||
      (rc = put_str(&x, ft, "note", "moocguard neither receives nor keeps face images or "
                                    "templates, only the verification results platforms send")) ||
      (rc = put(&x, doc, "face_templates", ft)))
    return rc;
  *out = doc;
  return MG_OK;
}
