/* tests/privacy/test_privacy.c — consent records, evidence notes, the statement reduction, the
 * retention job at an injected clock, and the own-data export, over a real SQLite store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cases/case.h"
#include "core/arena.h"
#include "core/err.h"
#include "core/json.h"
#include "core/time.h"
#include "core/uuid.h"
#include "privacy/consent.h"
#include "privacy/export.h"
#include "privacy/retention.h"
#include "store/store.h"
#include "store/store_audit.h"
#include "store/store_auth.h"
#include "store/store_findings.h"
#include "store/store_int.h"
#include "store/store_privacy.h"
#include "store/store_registry.h"
#include "support.h"
#include "xapi/statement.h"

#define DAY_US (86400LL * 1000000LL)
#define T0 1767225600000000LL /* 2026-01-01T00:00:00Z */
#define HP "https://jw.example-univ.edu.cn"
#define EXT "https://moocguard.org/xapi/ext/"

static mg_store *open_store(const char *name) {
  char dir[512], url[600];
  mg_test_tmpdir(name, dir, sizeof dir);
  snprintf(url, sizeof url, "%s/lrs.db", dir);
  mg_store *s = NULL;
  assert_int_equal(mg_store_open(url, &s, NULL), MG_OK);
  return s;
}

static int64_t mk_univ(mg_store *s) {
  mg_reg_org o;
  memset(&o, 0, sizeof o);
  snprintf(o.kind, sizeof o.kind, "university");
  snprintf(o.code, sizeof o.code, "10001");
  snprintf(o.name, sizeof o.name, "示例大学");
  snprintf(o.province, sizeof o.province, "11");
  snprintf(o.home_page, sizeof o.home_page, HP);
  int64_t id = 0;
  assert_int_equal(mg_store_reg_org_create(s, &o, &id), MG_OK);
  return id;
}

static int64_t mk_student(mg_store *s, int64_t univ, const char *no, const char *name) {
  mg_reg_student st;
  memset(&st, 0, sizeof st);
  st.university_id = univ;
  snprintf(st.student_no, sizeof st.student_no, "%s", no);
  snprintf(st.name, sizeof st.name, "%s", name);
  int64_t id = 0;
  assert_int_equal(mg_store_reg_student_create(s, &st, &id), MG_OK);
  return id;
}

/* Stores one statement by student `no`, stored at stored_us, with the network extensions. */
static void put_stmt(mg_store *s, const char *id, const char *no, int64_t stored_us,
                     const char *ip) {
  mg_arena a;
  mg_arena_init(&a, 0, 1 << 24);
  char ts[MG_TIME_ISO_LEN], text[2048];
  mg_time_format_iso(stored_us, 3, ts);
  snprintf(text, sizeof text,
           "{\"id\":\"%s\",\"actor\":{\"objectType\":\"Agent\",\"account\":{\"homePage\":\"" HP
           "\",\"name\":\"%s\"}},\"verb\":{\"id\":\"https://w3id.org/xapi/video/verbs/played\"},"
           "\"object\":{\"id\":\"https://mooc.example.cn/video/1\"},\"context\":{\"extensions\":{"
           "\"" EXT "client-ip\":\"%s\",\"" EXT "device-id\":\"dev-9b2f\",\"" EXT
           "user-agent\":\"Mozilla/5.0\",\"" EXT "platform-code\":\"P01\"}},"
           "\"timestamp\":\"%s\",\"stored\":\"%s\",\"version\":\"2.0.0\"}",
           id, no, ip, ts, ts);
  mg_json *st = mg_json_parse(&a, text, strlen(text), 0, NULL);
  assert_non_null(st);
  mg_xapi_keys k;
  assert_int_equal(mg_xapi_keys_extract(st, &k), MG_OK);
  k.row.json = text;
  k.row.json_len = strlen(text);
  k.row.stored_us = stored_us;
  size_t bad = 0;
  assert_int_equal(mg_store_stmt_insert(s, &k.row, 1, NULL, &bad), MG_OK);
  mg_xapi_keys_free(&k);
  mg_arena_free(&a);
}

static char *get_stmt(mg_store *s, const char *id) {
  uint8_t u[16];
  assert_int_equal(mg_uuid_parse(id, u), MG_OK);
  char *json = NULL;
  size_t n = 0;
  assert_int_equal(mg_store_stmt_get(s, u, NULL, &json, &n), MG_OK);
  return json;
}

/* ---- consent -------------------------------------------------------------------------------- */

static void consent_records(void **state) {
  (void)state;
  mg_store *s = open_store("privacy-consent");
  int64_t univ = mk_univ(s), stu = mk_student(s, univ, "2023001", "王芳");
  const mg_privacy_notice *n = mg_privacy_face_notice();
  const char *why = NULL;
  mg_store_consent rec;
  /* a grant must name the current notice */
  assert_int_equal(mg_privacy_face_consent_set(s, stu, 9, 1, NULL, "10.1.2.3", T0, &rec, &why),
                   MG_EINVAL);
  assert_non_null(why);
  assert_int_equal(mg_privacy_face_consent_set(s, stu, 9, 1, "face-1999", "10.1.2.3", T0, &rec, &why),
                   MG_EINVAL);
  /* nothing to withdraw yet */
  assert_int_equal(mg_privacy_face_consent_set(s, stu, 9, 0, NULL, "10.1.2.3", T0, &rec, &why),
                   MG_EEXISTS);
  assert_int_equal(mg_privacy_face_consent_set(s, stu, 9, 1, n->version, "10.1.2.3", T0 + DAY_US,
                                               &rec, &why),
                   MG_OK);
  assert_true(rec.id > 0 && rec.granted);
  char dg[65];
  mg_privacy_notice_digest(n, dg);
  assert_string_equal(rec.notice_digest, dg);
  assert_string_equal(rec.client_ip, "10.1.2.3");
  assert_int_equal(mg_privacy_face_consent_set(s, stu, 9, 1, n->version, "10.1.2.3", T0 + 2 * DAY_US,
                                               &rec, &why),
                   MG_EEXISTS); /* no second record */
  assert_int_equal(mg_privacy_face_consent_set(s, stu, 9, 0, NULL, "10.9.9.9", T0 + 10 * DAY_US,
                                               &rec, &why),
                   MG_OK);
  int g = -1;
  mg_store_consent at;
  assert_int_equal(mg_privacy_face_consent_at(s, stu, T0, &g, &at), MG_OK);
  assert_int_equal(g, 0);
  assert_int_equal(at.id, 0);
  assert_int_equal(mg_privacy_face_consent_at(s, stu, T0 + 5 * DAY_US, &g, &at), MG_OK);
  assert_int_equal(g, 1);
  assert_int_equal(mg_privacy_face_consent_at(s, stu, T0 + 11 * DAY_US, &g, &at), MG_OK);
  assert_int_equal(g, 0);
  assert_true(at.id > 0 && !at.granted);
  assert_string_equal(at.client_ip, "10.9.9.9");
  /* append-only: the table refuses UPDATE and DELETE */
  sqlite3 *db = NULL;
  assert_int_equal(mg_store_sqlite_gov_acquire(s, &db), MG_OK);
  assert_int_not_equal(sqlite3_exec(db, "UPDATE privacy_consents SET granted = 1", NULL, NULL, NULL),
                       SQLITE_OK);
  assert_int_not_equal(sqlite3_exec(db, "DELETE FROM privacy_consents", NULL, NULL, NULL), SQLITE_OK);
  mg_store_sqlite_gov_release(s);

  /* evidence notes */
  char *out = NULL;
  assert_int_equal(mg_privacy_annotate_evidence(s, stu, T0 + 5 * DAY_US, "{\"rate\":8}", &out), MG_OK);
  assert_null(out); /* not about face checks */
  assert_int_equal(mg_privacy_annotate_evidence(s, stu, T0 + 5 * DAY_US,
                                                "{\"rules\":[\"exam_face_failed\"]}", &out),
                   MG_OK);
  assert_non_null(out);
  assert_non_null(strstr(out, "\"face_consent\":{\"on_record\":true,\"state\":\"granted\""));
  assert_null(strstr(out, "no_consent_on_record"));
  free(out);
  assert_int_equal(mg_privacy_annotate_evidence(s, stu, T0 + 20 * DAY_US,
                                                "{\"rules\":[\"exam_face_failed\"]}", &out),
                   MG_OK);
  assert_non_null(strstr(out, "\"state\":\"withdrawn\""));
  assert_non_null(strstr(out, "\"flag\":\"no_consent_on_record\""));
  free(out);

  /* the case inbox stores face evidence with the note, for a student never asked */
  int64_t other = mk_student(s, univ, "2023002", "李明");
  mg_store_inbox_item it;
  memset(&it, 0, sizeof it);
  it.university_id = univ;
  it.student_id = other;
  snprintf(it.source, sizeof it.source, "teacher");
  snprintf(it.type, sizeof it.type, "proxy_exam");
  snprintf(it.summary, sizeof it.summary, "face check failed at exam start");
  snprintf(it.reported_by, sizeof it.reported_by, "teacher.zhang");
  it.evidence = "{\"face_failed\":2}";
  it.received_us = T0;
  int64_t item = 0;
  mg_case_err err;
  assert_int_equal(mg_cases_inbox_add(s, &it, &item, &err), MG_OK);
  mg_store_inbox_item got;
  char *ev = NULL;
  assert_int_equal(mg_store_inbox_get(s, item, &got, &ev), MG_OK);
  assert_non_null(strstr(ev, "\"face_failed\":2"));
  assert_non_null(strstr(ev, "\"state\":\"none\""));
  assert_non_null(strstr(ev, "no_consent_on_record"));
  free(ev);
  mg_store_close(s);
}

/* ---- statement reduction -------------------------------------------------------------------- */

static void reduce(const char *in, const char *expect_sub, int expect_changed) {
  mg_arena a;
  mg_arena_init(&a, 0, 1 << 20);
  char *out = NULL;
  size_t n = 0;
  int changed = -1;
  assert_int_equal(mg_privacy_reduce_statement(&a, in, strlen(in), &out, &n, &changed), MG_OK);
  assert_int_equal(changed, expect_changed);
  if (expect_changed) {
    assert_non_null(out);
    assert_null(strstr(out, "device-id"));
    assert_null(strstr(out, "user-agent"));
    if (expect_sub && !strstr(out, expect_sub)) fail_msg("%s lacks %s", out, expect_sub);
  } else {
    assert_null(out);
  }
  mg_arena_free(&a);
}

static void statement_reduction(void **state) {
  (void)state;
  reduce("{\"context\":{\"extensions\":{\"" EXT "client-ip\":\"223.104.63.18\",\"" EXT
         "device-id\":\"d\",\"" EXT "user-agent\":\"u\",\"x\":1}}}",
         "\"" EXT "client-ip\":\"223.104.63.0\",\"x\":1", 1);
  reduce("{\"context\":{\"extensions\":{\"" EXT "client-ip\":\"2408:8207:1851:b2c0::1\"}}}",
         "\"2408:8207:1851::\"", 1);
  reduce("{\"context\":{\"extensions\":{\"" EXT "client-ip\":\"not an ip\"}}}",
         "\"" EXT "client-ip\":\"\"", 1);
  /* already reduced, or nothing to reduce: unchanged */
  reduce("{\"context\":{\"extensions\":{\"" EXT "client-ip\":\"223.104.63.0\"}}}", NULL, 0);
  reduce("{\"verb\":{\"id\":\"x\"}}", NULL, 0);
  /* a SubStatement's own context too */
  reduce("{\"object\":{\"objectType\":\"SubStatement\",\"context\":{\"extensions\":{\"" EXT
         "device-id\":\"d\"}}}}",
         "\"extensions\":{}", 1);
}

/* ---- retention ------------------------------------------------------------------------------ */

static int64_t mk_user(mg_store *s, const char *name) {
  mg_store_user u;
  memset(&u, 0, sizeof u);
  snprintf(u.username, sizeof u.username, "%s", name);
  snprintf(u.role, sizeof u.role, "student");
  snprintf(u.password_hash, sizeof u.password_hash, "$argon2id$v=19$m=65536,t=2,p=1$x$y");
  u.password_changed_us = T0;
  u.created_us = T0;
  int64_t id = 0;
  assert_int_equal(mg_store_user_create(s, &u, &id), MG_OK);
  return id;
}

static void mk_session(mg_store *s, int64_t uid, uint8_t tag, int64_t created, int64_t seen) {
  mg_store_session x;
  memset(&x, 0, sizeof x);
  memset(x.token_hash, tag, sizeof x.token_hash);
  x.user_id = uid;
  snprintf(x.csrf, sizeof x.csrf, "c%u", tag);
  x.created_us = created;
  x.last_seen_us = seen;
  snprintf(x.client_ip, sizeof x.client_ip, "10.0.0.%u", tag);
  assert_int_equal(mg_store_session_create(s, &x), MG_OK);
}

static int64_t mk_finding(mg_store *s, const char *reg, const char *type, int64_t created) {
  mg_store_finding f;
  memset(&f, 0, sizeof f);
  snprintf(f.type, sizeof f.type, "%s", type);
  snprintf(f.registration, sizeof f.registration, "%s", reg);
  snprintf(f.student, sizeof f.student, "2023001");
  snprintf(f.university, sizeof f.university, HP);
  snprintf(f.rules, sizeof f.rules, "exam_face_failed");
  snprintf(f.evidence, sizeof f.evidence, "[]");
  f.created_us = f.found_at_us = f.decisive_ts_us = created;
  int64_t id = 0;
  assert_int_equal(mg_store_finding_put(s, &f, &id, NULL), MG_OK);
  return id;
}

static int64_t count_rows(mg_store *s, const char *sql) {
  sqlite3 *db = NULL;
  assert_int_equal(mg_store_sqlite_gov_acquire(s, &db), MG_OK);
  sqlite3_stmt *st = NULL;
  assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  int64_t n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  mg_store_sqlite_gov_release(s);
  return n;
}

static int64_t audit_count(mg_store *s, const char *action) {
  char sql[200];
  snprintf(sql, sizeof sql, "SELECT count(*) FROM audit_log WHERE action = '%s'", action);
  return count_rows(s, sql);
}

static int count_cb(void *ud, int64_t seq, const char *json, size_t len) {
  (void)seq;
  (void)json;
  (void)len;
  (*(int *)ud)++;
  return MG_OK;
}

static void retention_job(void **state) {
  (void)state;
  mg_store *s = open_store("privacy-retention");
  int64_t univ = mk_univ(s), stu = mk_student(s, univ, "2023001", "王芳");
  int64_t now = T0 + 400 * DAY_US;
  /* sessions: one idle too long, one past its absolute limit, one alive */
  int64_t uid = mk_user(s, "stu.wang");
  mk_session(s, uid, 1, now - 3600LL * 1000000, now - 3600LL * 1000000); /* idle 1 h > 30 min */
  mk_session(s, uid, 2, now - 13 * 3600LL * 1000000, now - 60LL * 1000000); /* 13 h > 12 h */
  mk_session(s, uid, 3, now - 600LL * 1000000, now - 60LL * 1000000);
  /* findings: dismissed long ago, covered by a case dismissed long ago, open, recently dismissed */
  int64_t f1 = mk_finding(s, "r-1", "proxy_exam", T0);
  int64_t f2 = mk_finding(s, "r-2", "proxy_exam", T0);
  int64_t f3 = mk_finding(s, "r-3", "proxy_exam", T0);
  int64_t f4 = mk_finding(s, "r-4", "proxy_exam", now - 10 * DAY_US);
  sqlite3 *db = NULL;
  assert_int_equal(mg_store_sqlite_gov_acquire(s, &db), MG_OK);
  char sql[200];
  snprintf(sql, sizeof sql, "UPDATE findings SET status = 'dismissed' WHERE id IN (%lld, %lld)",
           (long long)f1, (long long)f4);
  assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
  mg_store_sqlite_gov_release(s);
  mg_store_inbox_item it;
  memset(&it, 0, sizeof it);
  it.university_id = univ;
  it.student_id = stu;
  it.finding_id = f2;
  snprintf(it.source, sizeof it.source, "detector");
  snprintf(it.type, sizeof it.type, "proxy_exam");
  snprintf(it.summary, sizeof it.summary, "s");
  snprintf(it.reported_by, sizeof it.reported_by, "detector");
  it.evidence = "{\"n\":1}";
  it.received_us = T0;
  int64_t item = 0, cid = 0;
  mg_case_err err;
  mg_case_actor admin = {5, "admin.li", 0};
  assert_int_equal(mg_cases_inbox_add(s, &it, &item, &err), MG_OK);
  assert_int_equal(mg_cases_open(s, &admin, &item, 1, NULL, T0 + 1, &cid, &err), MG_OK);
  assert_int_equal(mg_cases_investigate(s, &admin, cid, "look", T0 + 2, &err), MG_OK);
  assert_int_equal(mg_cases_decide(s, &admin, cid, 0, "look-alike", NULL, 0, DAY_US, T0 + 3, &err),
                   MG_OK);
  /* statements: two stored over a year ago, one recent */
  put_stmt(s, "11111111-1111-4111-8111-111111111111", "2023001", T0, "223.104.63.18");
  put_stmt(s, "22222222-2222-4222-8222-222222222222", "2023001", T0 + DAY_US, "2408:8207:1851:b2c0::1");
  put_stmt(s, "33333333-3333-4333-8333-333333333333", "2023001", now - 30 * DAY_US, "223.104.63.18");

  mg_privacy_retention_opts o = {1800, 43200, 365, 365, 1, "system"}; /* batch 1: paging too */
  mg_privacy_retention_report r;
  /* options out of range are refused */
  mg_privacy_retention_opts bad = o;
  bad.network_days = 7;
  assert_int_equal(mg_privacy_retention_run(s, &bad, now, 0, &r, NULL, NULL), MG_EINVAL);

  /* dry run: reports, changes nothing, is audited */
  assert_int_equal(mg_privacy_retention_run(s, &o, now, 1, &r, NULL, NULL), MG_OK);
  assert_int_equal(r.sessions, 2);
  assert_int_equal(r.findings, 2);
  assert_int_equal(r.statements_checked, 2);
  assert_int_equal(r.statements_reduced, 2);
  assert_int_equal(count_rows(s, "SELECT count(*) FROM sessions"), 3);
  assert_int_equal(count_rows(s, "SELECT count(*) FROM findings"), 4);
  char *j = get_stmt(s, "11111111-1111-4111-8111-111111111111");
  assert_non_null(strstr(j, "223.104.63.18"));
  free(j);
  assert_true(audit_count(s, "retention.dry_run") >= 3);
  assert_int_equal(audit_count(s, "retention.run"), 0);

  /* the run */
  assert_int_equal(mg_privacy_retention_run(s, &o, now, 0, &r, NULL, NULL), MG_OK);
  assert_int_equal(r.sessions, 2);
  assert_int_equal(r.findings, 2);
  assert_int_equal(r.statements_reduced, 2);
  assert_int_equal(count_rows(s, "SELECT count(*) FROM sessions"), 1);
  snprintf(sql, sizeof sql, "SELECT count(*) FROM findings WHERE id IN (%lld, %lld)", (long long)f3,
           (long long)f4);
  assert_int_equal(count_rows(s, sql), 2); /* open and recently dismissed stay */
  assert_int_equal(count_rows(s, "SELECT count(*) FROM findings"), 2);
  assert_int_equal(count_rows(s, "SELECT count(*) FROM case_inbox"), 1); /* the case keeps its copy */
  j = get_stmt(s, "11111111-1111-4111-8111-111111111111");
  assert_non_null(strstr(j, "\"" EXT "client-ip\":\"223.104.63.0\""));
  assert_null(strstr(j, "device-id"));
  assert_null(strstr(j, "user-agent"));
  assert_non_null(strstr(j, "platform-code")); /* the rest is kept */
  free(j);
  j = get_stmt(s, "22222222-2222-4222-8222-222222222222");
  assert_non_null(strstr(j, "\"2408:8207:1851::\""));
  free(j);
  j = get_stmt(s, "33333333-3333-4333-8333-333333333333");
  assert_non_null(strstr(j, "223.104.63.18")); /* too young */
  assert_non_null(strstr(j, "device-id"));
  free(j);
  int64_t runs = audit_count(s, "retention.run");
  assert_true(runs >= 4); /* sessions, findings, and each statement batch that changed */
  /* the reduced statement is still found by its actor */
  mg_store_query q;
  memset(&q, 0, sizeof q);
  q.agent_key = "account:" HP "\x1f" "2023001";
  int more = 0;
  int64_t last = 0, snap = 0;
  int n = 0;
  assert_int_equal(mg_store_stmt_query(s, &q, count_cb, &n, &more, &last, &snap), MG_OK);
  assert_int_equal(n, 3);

  /* a second run finds nothing more: the cursor remembers the statements done */
  assert_int_equal(mg_privacy_retention_run(s, &o, now + DAY_US, 0, &r, NULL, NULL), MG_OK);
  assert_int_equal(r.sessions, 1); /* the last session has now expired too */
  assert_int_equal(r.findings, 0);
  assert_int_equal(r.statements_reduced, 0);
  assert_int_equal(r.statements_checked, 0);
  /* the audit log is untouched by retention: every record still verifies */
  assert_true(count_rows(s, "SELECT count(*) FROM audit_log") > runs);
  mg_buf b;
  mg_buf_init(&b, 4096);
  assert_int_equal(mg_privacy_retention_json(&r, &b), MG_OK);
  assert_non_null(strstr(b.data, "\"sessions_deleted\":1"));
  mg_buf_free(&b);
  mg_store_close(s);
}

/* ---- export --------------------------------------------------------------------------------- */

static int has_key(const mg_json *v, const char *needle) {
  if (mg_json_is_object(v)) {
    const char *k;
    mg_json *m;
    mg_json_object_foreach((mg_json *)v, k, m) {
      if (strstr(k, needle) && strcmp(k, "face_templates")) return 1;
      if (has_key(m, needle)) return 1;
    }
  } else if (mg_json_is_array(v)) {
    for (size_t i = 0; i < mg_json_array_size(v); i++)
      if (has_key(mg_json_array_get(v, i), needle)) return 1;
  }
  return 0;
}

static void own_data_export(void **state) {
  (void)state;
  mg_store *s = open_store("privacy-export");
  int64_t univ = mk_univ(s), stu = mk_student(s, univ, "2023001", "王芳");
  mk_student(s, univ, "2023002", "李明");
  int64_t uid = mk_user(s, "stu.wang");
  put_stmt(s, "11111111-1111-4111-8111-111111111111", "2023001", T0, "223.104.63.18");
  put_stmt(s, "22222222-2222-4222-8222-222222222222", "2023002", T0, "223.104.63.19");
  put_stmt(s, "33333333-3333-4333-8333-333333333333", "2023001", T0 + 1, "223.104.63.18");
  mk_finding(s, "r-1", "proxy_exam", T0);
  const char *why;
  assert_int_equal(mg_privacy_face_consent_set(s, stu, uid, 1, mg_privacy_face_notice()->version,
                                               "10.1.1.1", T0 + DAY_US, NULL, &why),
                   MG_OK);
  mg_arena a;
  mg_arena_init(&a, 0, 1 << 26);
  mg_json *doc = NULL;
  assert_int_equal(mg_privacy_export(s, stu, uid, 0, T0 + 2 * DAY_US, &a, &doc), MG_OK);
  char *text = mg_json_dumps(&a, doc, NULL);
  assert_non_null(text);
  mg_json *sts = mg_json_object_get(doc, "statements");
  assert_int_equal(mg_json_array_size(sts), 2); /* own statements only, in full */
  assert_non_null(strstr(text, "11111111-1111-4111-8111-111111111111"));
  assert_non_null(strstr(text, "33333333-3333-4333-8333-333333333333"));
  assert_null(strstr(text, "22222222-2222-4222-8222-222222222222"));
  assert_non_null(strstr(text, "223.104.63.18")); /* unmasked: it is their own data */
  assert_true(mg_json_is_null(mg_json_object_get(doc, "statements_next")));
  assert_string_equal(mg_json_string_value(mg_json_object_get(
                          mg_json_object_get(doc, "student"), "name")),
                      "王芳");
  mg_json *fs = mg_json_object_get(doc, "findings");
  assert_int_equal(mg_json_array_size(fs), 1);
  /* the finding predates the consent: flagged */
  mg_json *fc = mg_json_object_get(mg_json_array_get(fs, 0), "face_consent");
  assert_string_equal(mg_json_string_value(mg_json_object_get(fc, "flag")), "no_consent_on_record");
  assert_int_equal(mg_json_array_size(mg_json_object_get(doc, "consents")), 1);
  assert_true(mg_json_is_false(mg_json_object_get(mg_json_object_get(doc, "face_templates"), "held")));
  /* never credentials or templates */
  assert_false(has_key(doc, "template"));
  assert_false(has_key(doc, "password_hash"));
  assert_false(has_key(doc, "totp_secret"));
  assert_null(strstr(text, "$argon2id$"));
  /* paging from a cursor */
  assert_int_equal(mg_privacy_export(s, stu, uid, 1, T0 + 2 * DAY_US, &a, &doc), MG_OK);
  assert_int_equal(mg_json_array_size(mg_json_object_get(doc, "statements")), 1);
  assert_int_equal(mg_privacy_export(s, 999, uid, 0, T0, &a, &doc), MG_ENOTFOUND);
  mg_arena_free(&a);
  mg_store_close(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(consent_records),
      cmocka_unit_test(statement_reduction),
      cmocka_unit_test(retention_job),
      cmocka_unit_test(own_data_export),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
