/* tests/cases/test_case.c — the case state machine, sanctions, appeals, the student file and the
 * integrity tags, at the domain level over a real SQLite store. */
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
#include "cases/seal.h"
#include "core/err.h"
#include "crypto/crypto.h"
#include "store/store.h"
#include "store/store_cases.h"
#include "store/store_int.h"
#include "support.h"

#define DAY_US (86400LL * 1000000LL)
#define T0 1767225600000000LL /* 2026-01-01T00:00:00Z */
#define WINDOW (10 * DAY_US)

static const mg_case_actor ADMIN = {101, "admin_zhang", 0};
static const mg_case_actor ADMIN2 = {102, "admin_li", 0};
static const mg_case_actor STUDENT = {201, "stu_wang", 7001};
static const mg_case_actor OTHER_STUDENT = {202, "stu_zhao", 7002};

static mg_store *open_store(const char *name) {
  char dir[512], url[600];
  mg_test_tmpdir(name, dir, sizeof dir);
  snprintf(url, sizeof url, "%s/lrs.db", dir);
  mg_store *s = NULL;
  assert_int_equal(mg_store_open(url, &s, NULL), MG_OK);
  return s;
}

static int64_t add_item(mg_store *s, int64_t univ, int64_t student, int64_t finding) {
  mg_store_inbox_item it;
  memset(&it, 0, sizeof it);
  it.university_id = univ;
  it.platform_id = 31;
  it.course_id = 41;
  it.student_id = student;
  snprintf(it.registration, sizeof it.registration, "6a0e6f1e-7c56-4bd8-9a9b-2d0f5a1c%04u",
           (unsigned)(student % 10000) % 10000u);
  snprintf(it.source, sizeof it.source, "%s", finding ? "detector" : "teacher");
  it.finding_id = finding;
  snprintf(it.type, sizeof it.type, "course_brushing");
  snprintf(it.summary, sizeof it.summary, "playback rate 8x over 40 minutes");
  snprintf(it.reported_by, sizeof it.reported_by, "detector:rate");
  it.evidence = "{\"ips\":[\"203.0.113.7\"],\"devices\":[\"dev-1\"],\"rate\":8.0}";
  it.received_us = T0;
  int64_t id = 0;
  mg_case_err err;
  assert_int_equal(mg_cases_inbox_add(s, &it, &id, &err), MG_OK);
  return id;
}

static int64_t new_case(mg_store *s) {
  int64_t item = add_item(s, 11, STUDENT.student_id, 0);
  int64_t id = 0;
  mg_case_err err;
  assert_int_equal(mg_cases_open(s, &ADMIN, &item, 1, NULL, T0 + 1, &id, &err), MG_OK);
  return id;
}

/* Drives a fresh case into state st along the allowed path. */
static int64_t case_in(mg_store *s, mg_case_state st) {
  int64_t id = new_case(s);
  mg_case_err err;
  mg_sanction_kind w = MG_SANCTION_WARNING;
  if (st == MG_CASE_OPEN) return id;
  assert_int_equal(mg_cases_investigate(s, &ADMIN, id, "looking", T0 + 2, &err), MG_OK);
  if (st == MG_CASE_INVESTIGATING) return id;
  if (st == MG_CASE_DISMISSED) {
    assert_int_equal(mg_cases_decide(s, &ADMIN, id, 0, "honest look-alike", NULL, 0, WINDOW, T0 + 3,
                                     &err),
                     MG_OK);
    return id;
  }
  assert_int_equal(mg_cases_decide(s, &ADMIN, id, 1, "verified by logs", &w, 1, WINDOW, T0 + 3, &err),
                   MG_OK);
  if (st == MG_CASE_VERIFIED) return id;
  assert_int_equal(mg_cases_appeal(s, &STUDENT, id, "I was ill", T0 + 4, &err), MG_OK);
  if (st == MG_CASE_APPEALED) return id;
  assert_int_equal(mg_cases_decide_appeal(s, &ADMIN2, id, st == MG_CASE_APPEAL_UPHELD, "reviewed",
                                          T0 + 5, &err),
                   MG_OK);
  return id;
}

static int count_events_cb(void *ud, const mg_store_case_event *e) {
  (void)e;
  (*(int *)ud)++;
  return MG_OK;
}

static int count_events(mg_store *s, int64_t id) {
  int n = 0;
  assert_int_equal(mg_store_case_events(s, id, count_events_cb, &n), MG_OK);
  return n;
}

/* Runs action a on case id (the right actor for it). */
static int run_action(mg_store *s, int64_t id, mg_case_action a, mg_case_err *err) {
  mg_sanction_kind w = MG_SANCTION_WARNING;
  switch (a) {
    case MG_CASE_INVESTIGATE: return mg_cases_investigate(s, &ADMIN, id, NULL, T0 + 10, err);
    case MG_CASE_DISMISS:
      return mg_cases_decide(s, &ADMIN, id, 0, "no", NULL, 0, WINDOW, T0 + 10, err);
    case MG_CASE_VERIFY:
      return mg_cases_decide(s, &ADMIN, id, 1, "yes", &w, 1, WINDOW, T0 + 10, err);
    case MG_CASE_APPEAL: return mg_cases_appeal(s, &STUDENT, id, "grounds", T0 + 10, err);
    case MG_CASE_UPHOLD: return mg_cases_decide_appeal(s, &ADMIN2, id, 1, "ok", T0 + 10, err);
    case MG_CASE_REJECT: return mg_cases_decide_appeal(s, &ADMIN2, id, 0, "no", T0 + 10, err);
    default: return MG_EINVAL;
  }
}

static void test_table(void **state) {
  (void)state;
  /* The allowed transitions, written out independently of case.c's table. */
  static const int allowed[MG_CASE_STATE_COUNT_][MG_CASE_ACTION_COUNT_] = {
      [MG_CASE_OPEN] = {[MG_CASE_INVESTIGATE] = MG_CASE_INVESTIGATING + 1},
      [MG_CASE_INVESTIGATING] = {[MG_CASE_DISMISS] = MG_CASE_DISMISSED + 1,
                                 [MG_CASE_VERIFY] = MG_CASE_VERIFIED + 1},
      [MG_CASE_VERIFIED] = {[MG_CASE_APPEAL] = MG_CASE_APPEALED + 1},
      [MG_CASE_APPEALED] = {[MG_CASE_UPHOLD] = MG_CASE_APPEAL_UPHELD + 1,
                            [MG_CASE_REJECT] = MG_CASE_APPEAL_REJECTED + 1},
  };
  int n_allowed = 0;
  for (int st = 0; st < MG_CASE_STATE_COUNT_; st++)
    for (int a = 0; a < MG_CASE_ACTION_COUNT_; a++) {
      mg_case_state to = MG_CASE_STATE_COUNT_;
      int rc = mg_case_transition((mg_case_state)st, (mg_case_action)a, &to);
      if (allowed[st][a]) {
        assert_int_equal(rc, MG_OK);
        assert_int_equal(to, allowed[st][a] - 1);
        n_allowed++;
      } else {
        assert_int_equal(rc, MG_ECONFLICT);
      }
    }
  assert_int_equal(n_allowed, 6);
  mg_case_state p;
  for (int st = 0; st < MG_CASE_STATE_COUNT_; st++) {
    assert_int_equal(mg_case_state_parse(mg_case_state_name((mg_case_state)st), &p), MG_OK);
    assert_int_equal(p, st);
  }
  assert_int_equal(mg_case_state_parse("closed", &p), MG_EINVAL);
}

/* Every (state, action) pair through the domain: allowed ones move the case and add one timeline
 * row; forbidden ones are refused with invalid_transition and leave state and timeline alone. */
static void test_every_pair(void **state) {
  (void)state;
  mg_store *s = open_store("cases-pairs");
  for (int st = 0; st < MG_CASE_STATE_COUNT_; st++)
    for (int a = 0; a < MG_CASE_ACTION_COUNT_; a++) {
      int64_t id = case_in(s, (mg_case_state)st);
      mg_store_case before, after;
      mg_case_err err;
      assert_int_equal(mg_cases_get(s, id, &before, &err), MG_OK);
      assert_string_equal(before.state, mg_case_state_name((mg_case_state)st));
      int events = count_events(s, id);
      mg_case_state to;
      int allowed = mg_case_transition((mg_case_state)st, (mg_case_action)a, &to) == MG_OK;
      assert_int_equal(mg_store_tx_begin(s), MG_OK);
      memset(&err, 0, sizeof err);
      int rc = run_action(s, id, (mg_case_action)a, &err);
      if (rc) mg_store_tx_rollback(s);
      else assert_int_equal(mg_store_tx_commit(s), MG_OK);
      assert_int_equal(mg_cases_get(s, id, &after, &err), MG_OK);
      if (allowed) {
        assert_int_equal(rc, MG_OK);
        assert_string_equal(after.state, mg_case_state_name(to));
        assert_int_equal(count_events(s, id), events + 1);
      } else {
        assert_int_equal(rc, MG_ECONFLICT);
        assert_string_equal(err.code, "invalid_transition");
        assert_non_null(strstr(err.message, mg_case_action_name((mg_case_action)a)));
        assert_string_equal(after.state, before.state);
        assert_int_equal(after.version, before.version);
        assert_int_equal(count_events(s, id), events);
      }
    }
  mg_store_close(s);
}

typedef struct sanctions_seen {
  int n, revoked;
  char kinds[8][24];
} sanctions_seen;

static int sanction_cb(void *ud, const mg_store_sanction *x) {
  sanctions_seen *v = ud;
  if (v->n < 8) snprintf(v->kinds[v->n], sizeof v->kinds[0], "%s", x->kind);
  v->n++;
  if (x->revoked_us) v->revoked++;
  return MG_OK;
}

static int file_cb(void *ud, const mg_store_file_entry *e) {
  sanctions_seen *v = ud;
  if (v->n < 8) snprintf(v->kinds[v->n], sizeof v->kinds[0], "%s", e->kind);
  v->n++;
  if (e->revoked_us) v->revoked++;
  return MG_OK;
}

static int notice_cb(void *ud, const mg_store_notice *n) {
  (void)n;
  (*(int *)ud)++;
  return MG_OK;
}

static void test_verify_sanctions_file_and_notices(void **state) {
  (void)state;
  mg_store *s = open_store("cases-verify");
  int64_t id = case_in(s, MG_CASE_VERIFIED);
  sanctions_seen v = {0};
  assert_int_equal(mg_store_sanction_list(s, id, 0, sanction_cb, &v), MG_OK);
  assert_int_equal(v.n, 2);
  assert_string_equal(v.kinds[0], "cancel_grade");
  assert_string_equal(v.kinds[1], "warning");
  sanctions_seen f = {0};
  assert_int_equal(mg_store_file_list(s, STUDENT.student_id, file_cb, &f), MG_OK);
  assert_int_equal(f.n, 2);
  int student_notices = 0, univ_notices = 0;
  assert_int_equal(mg_store_notice_list(s, "student", STUDENT.student_id, notice_cb, &student_notices),
                   MG_OK);
  assert_int_equal(mg_store_notice_list(s, "university", 11, notice_cb, &univ_notices), MG_OK);
  assert_int_equal(student_notices, 1);
  assert_int_equal(univ_notices, 1);
  mg_store_case c;
  mg_case_err err;
  assert_int_equal(mg_cases_get(s, id, &c, &err), MG_OK);
  assert_int_equal(c.appeal_deadline_us, T0 + 3 + WINDOW);
  assert_int_equal(c.decided_by_user, ADMIN.user_id);
  assert_true(!strncmp(c.mac, "mgm1.", 5)); /* the crypto unit's record MAC */
  assert_int_equal(mg_crypto_mac_verify("case.decision", "x", 1, c.mac), MG_ECORRUPT);
  int found = 0;
  int64_t cid = 0;
  assert_int_equal(mg_cases_misconduct(s, c.registration, &found, &cid), MG_OK);
  assert_true(found);
  assert_int_equal(cid, id);

  /* A second disciplinary level is a new decision, not an addition. */
  assert_int_equal(mg_cases_add_sanction(s, &ADMIN, id, MG_SANCTION_DEMERIT, "more", T0 + 6, &err),
                   MG_ECONFLICT);
  assert_string_equal(err.code, "conflict");
  /* Two levels in one decision are refused. */
  int64_t id2 = case_in(s, MG_CASE_INVESTIGATING);
  mg_sanction_kind two[] = {MG_SANCTION_WARNING, MG_SANCTION_EXPULSION};
  assert_int_equal(mg_cases_decide(s, &ADMIN, id2, 1, "r", two, 2, WINDOW, T0 + 3, &err), MG_EINVAL);
  assert_non_null(strstr(err.message, "at most one disciplinary level"));
  /* Sanctions on a dismissal are refused. */
  assert_int_equal(mg_cases_decide(s, &ADMIN, id2, 0, "r", two, 1, WINDOW, T0 + 3, &err), MG_EINVAL);
  /* A reason is required. */
  assert_int_equal(mg_cases_decide(s, &ADMIN, id2, 1, "", NULL, 0, WINDOW, T0 + 3, &err), MG_EINVAL);
  assert_non_null(strstr(err.message, "reason"));
  mg_store_close(s);
}

static void test_sanction_needs_decision(void **state) {
  (void)state;
  mg_store *s = open_store("cases-sanction");
  static const mg_case_state refused[] = {MG_CASE_OPEN, MG_CASE_INVESTIGATING, MG_CASE_DISMISSED,
                                          MG_CASE_APPEALED, MG_CASE_APPEAL_UPHELD,
                                          MG_CASE_APPEAL_REJECTED};
  for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
    int64_t id = case_in(s, refused[i]);
    sanctions_seen before = {0}, after = {0};
    assert_int_equal(mg_store_sanction_list(s, id, 0, sanction_cb, &before), MG_OK);
    mg_case_err err;
    assert_int_equal(
        mg_cases_add_sanction(s, &ADMIN, id, MG_SANCTION_SERIOUS_WARNING, "x", T0 + 9, &err),
        MG_ECONFLICT);
    assert_string_equal(err.code, "no_case_decision");
    assert_int_equal(mg_store_sanction_list(s, id, 0, sanction_cb, &after), MG_OK);
    assert_int_equal(after.n, before.n);
  }
  /* On a verified case without a level, one may be added. */
  int64_t id = case_in(s, MG_CASE_INVESTIGATING);
  mg_case_err err;
  assert_int_equal(mg_cases_decide(s, &ADMIN, id, 1, "grade only", NULL, 0, WINDOW, T0 + 3, &err),
                   MG_OK);
  assert_int_equal(mg_cases_add_sanction(s, &ADMIN, id, MG_SANCTION_DEMERIT, "x", T0 + 9, &err),
                   MG_OK);
  sanctions_seen v = {0};
  assert_int_equal(mg_store_sanction_list(s, id, 0, sanction_cb, &v), MG_OK);
  assert_int_equal(v.n, 2);
  assert_string_equal(v.kinds[1], "demerit");
  mg_store_close(s);
}

static void test_appeal_rules(void **state) {
  (void)state;
  mg_store *s = open_store("cases-appeal");
  mg_case_err err;
  /* After the window. */
  int64_t id = case_in(s, MG_CASE_VERIFIED);
  assert_int_equal(mg_cases_appeal(s, &STUDENT, id, "late", T0 + 3 + WINDOW + 1, &err), MG_ECONFLICT);
  assert_string_equal(err.code, "appeal_window_closed");
  mg_store_case c;
  assert_int_equal(mg_cases_get(s, id, &c, &err), MG_OK);
  assert_string_equal(c.state, "verified");
  /* On the last instant of the window it is accepted. */
  assert_int_equal(mg_cases_appeal(s, &STUDENT, id, "in time", T0 + 3 + WINDOW, &err), MG_OK);
  /* Another student cannot appeal someone's case. */
  int64_t id2 = case_in(s, MG_CASE_VERIFIED);
  assert_int_equal(mg_cases_appeal(s, &OTHER_STUDENT, id2, "x", T0 + 4, &err), MG_EFORBIDDEN);
  assert_string_equal(err.code, "forbidden");
  /* The decider of the case cannot decide the appeal. */
  assert_int_equal(mg_cases_appeal(s, &STUDENT, id2, "x", T0 + 4, &err), MG_OK);
  assert_int_equal(mg_cases_decide_appeal(s, &ADMIN, id2, 0, "mine", T0 + 5, &err), MG_EFORBIDDEN);
  assert_string_equal(err.code, "same_person");
  assert_int_equal(mg_cases_get(s, id2, &c, &err), MG_OK);
  assert_string_equal(c.state, "appealed");
  /* Upheld by another person: sanctions and file entries revoked, kept, and no misconduct. */
  assert_int_equal(mg_cases_decide_appeal(s, &ADMIN2, id2, 1, "evidence was a campus NAT", T0 + 6,
                                          &err),
                   MG_OK);
  sanctions_seen v = {0};
  assert_int_equal(mg_store_sanction_list(s, id2, 0, sanction_cb, &v), MG_OK);
  assert_int_equal(v.n, 2);
  assert_int_equal(v.revoked, 2);
  assert_int_equal(mg_cases_get(s, id2, &c, &err), MG_OK);
  assert_string_equal(c.state, "appeal_upheld");
  int found = 1;
  /* id (appealed, pending) shares the registration: misconduct still stands through it. */
  assert_int_equal(mg_cases_misconduct(s, c.registration, &found, NULL), MG_OK);
  assert_true(found);
  /* Responses: only the student, only in open/investigating/verified. */
  int64_t id3 = case_in(s, MG_CASE_INVESTIGATING);
  assert_int_equal(mg_cases_respond(s, &STUDENT, id3, "I watched it on my phone", T0 + 3, &err), MG_OK);
  assert_int_equal(mg_cases_respond(s, &OTHER_STUDENT, id3, "x", T0 + 3, &err), MG_EFORBIDDEN);
  assert_int_equal(mg_cases_respond(s, &STUDENT, id2, "x", T0 + 7, &err), MG_ECONFLICT);
  mg_store_close(s);
}

static void test_open_rules(void **state) {
  (void)state;
  mg_store *s = open_store("cases-open");
  mg_case_err err;
  int64_t a = add_item(s, 11, 7001, 501);
  int64_t b = add_item(s, 12, 7001, 502);  /* other university */
  int64_t c = add_item(s, 11, 7009, 503);  /* other student */
  int64_t id = 0;
  int64_t ab[] = {a, b}, ac[] = {a, c}, missing[] = {999};
  assert_int_equal(mg_cases_open(s, &ADMIN, ab, 2, NULL, T0, &id, &err), MG_EINVAL);
  assert_non_null(strstr(err.message, "items[1]"));
  assert_int_equal(mg_cases_open(s, &ADMIN, ac, 2, NULL, T0, &id, &err), MG_EINVAL);
  assert_int_equal(mg_cases_open(s, &ADMIN, missing, 1, NULL, T0, &id, &err), MG_ENOTFOUND);
  assert_int_equal(mg_cases_open(s, &ADMIN, NULL, 0, NULL, T0, &id, &err), MG_EINVAL);
  assert_int_equal(mg_cases_open(s, &ADMIN, &a, 1, "代刷 service 'xx网课'", T0, &id, &err), MG_OK);
  mg_store_case k;
  assert_int_equal(mg_cases_get(s, id, &k, &err), MG_OK);
  assert_int_equal(k.service_involved, 1);
  assert_int_equal(k.university_id, 11);
  assert_string_equal(k.mac, ""); /* undecided: no tag yet */
  int64_t id2 = 0;
  assert_int_equal(mg_cases_open(s, &ADMIN, &a, 1, NULL, T0, &id2, &err), MG_ECONFLICT);
  assert_non_null(strstr(err.message, "already in case"));
  /* Inbox validation. */
  mg_store_inbox_item it;
  memset(&it, 0, sizeof it);
  it.university_id = 11;
  it.student_id = 1;
  snprintf(it.source, sizeof it.source, "platform");
  snprintf(it.type, sizeof it.type, "speeding");
  snprintf(it.summary, sizeof it.summary, "s");
  snprintf(it.reported_by, sizeof it.reported_by, "p");
  it.evidence = "{}";
  assert_int_equal(mg_cases_inbox_add(s, &it, NULL, &err), MG_EINVAL);
  assert_non_null(strstr(err.message, "speeding"));
  snprintf(it.type, sizeof it.type, "proxy_exam");
  it.evidence = "[1]";
  assert_int_equal(mg_cases_inbox_add(s, &it, NULL, &err), MG_EINVAL);
  assert_non_null(strstr(err.message, "evidence"));
  it.evidence = "{\"a\":1}";
  snprintf(it.registration, sizeof it.registration, "not-a-uuid");
  assert_int_equal(mg_cases_inbox_add(s, &it, NULL, &err), MG_EINVAL);
  it.registration[0] = '\0';
  assert_int_equal(mg_cases_inbox_add(s, &it, NULL, &err), MG_OK);
  /* A finding lands once. */
  mg_store_inbox_item dup;
  assert_int_equal(mg_store_inbox_get(s, a, &dup, NULL), MG_OK);
  dup.evidence = "{}";
  assert_int_equal(mg_cases_inbox_add(s, &dup, NULL, &err), MG_EEXISTS);
  mg_store_close(s);
}

static void raw_exec(mg_store *s, const char *sql) {
  sqlite3 *db = NULL;
  assert_int_equal(mg_store_sqlite_gov_acquire(s, &db), MG_OK);
  assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
  mg_store_sqlite_gov_release(s);
}

static void test_integrity(void **state) {
  (void)state;
  mg_store *s = open_store("cases-integrity");
  int64_t id = case_in(s, MG_CASE_APPEAL_REJECTED);
  mg_store_case c;
  mg_case_err err;
  assert_int_equal(mg_cases_get(s, id, &c, &err), MG_OK);
  char sql[256];
  /* Editing the decision in the database is detected on read... */
  snprintf(sql, sizeof sql, "UPDATE cases SET decision_reason = 'edited' WHERE id = %lld",
           (long long)id);
  raw_exec(s, sql);
  assert_int_equal(mg_cases_get(s, id, &c, &err), MG_ECORRUPT);
  assert_string_equal(err.code, "integrity");
  /* ...and no further step is taken on it. */
  assert_int_equal(mg_cases_add_sanction(s, &ADMIN, id, MG_SANCTION_WARNING, "x", T0, &err),
                   MG_ECORRUPT);
  /* So is editing the appeal decision. */
  int64_t id2 = case_in(s, MG_CASE_APPEAL_REJECTED);
  snprintf(sql, sizeof sql, "UPDATE case_appeals SET outcome = 'upheld' WHERE case_id = %lld",
           (long long)id2);
  raw_exec(s, sql);
  assert_int_equal(mg_cases_get(s, id2, &c, &err), MG_ECORRUPT);
  /* Tags depend on the domain. */
  char t1[MG_CASES_TAG_SIZE], t2[MG_CASES_TAG_SIZE];
  assert_int_equal(mg_cases_seal(s, "case", "abc", 3, t1, sizeof t1), MG_OK);
  assert_int_equal(mg_cases_seal(s, "credit", "abc", 3, t2, sizeof t2), MG_OK);
  assert_string_not_equal(t1, t2);
  assert_int_equal(mg_cases_seal_check(s, "case", "abc", 3, t1), MG_OK);
  assert_int_equal(mg_cases_seal_check(s, "case", "abd", 3, t1), MG_ECORRUPT);
  assert_int_equal(mg_cases_seal_check(s, "case", "abc", 3, ""), MG_ECORRUPT);
  mg_store_close(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_table),
      cmocka_unit_test(test_every_pair),
      cmocka_unit_test(test_verify_sanctions_file_and_notices),
      cmocka_unit_test(test_sanction_needs_decision),
      cmocka_unit_test(test_appeal_rules),
      cmocka_unit_test(test_open_rules),
      cmocka_unit_test(test_integrity),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
