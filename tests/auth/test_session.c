/* Logins, lockout, session timeouts, TOTP replay and what the database holds, on a real SQLite
 * store with the clock driven by the test. */
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "auth/password.h"
#include "auth/session.h"
#include "auth/totp.h"
#include "auth/user.h"
#include "core/err.h"
#include "crypto/keyring.h"
#include "store/store_auth.h"
#include "support.h"

#define SEC 1000000LL
#define T0 (1700000000LL * SEC)
#define PW "Lattice-Quartz-42"

typedef struct fx {
  char dir[512], db[600];
  mg_store *s;
  mg_auth_policy p;
  int64_t uid;
} fx;

static int setup(void **state) {
  static int n;
  fx *f = calloc(1, sizeof *f);
  char name[64];
  snprintf(name, sizeof name, "auth-session-%d", n++);
  mg_test_tmpdir(name, f->dir, sizeof f->dir);
  snprintf(f->db, sizeof f->db, "%s/s.db", f->dir);
  assert_int_equal(mg_store_open(f->db, &f->s, NULL), MG_OK);
  f->p = (mg_auth_policy){.idle_s = 1800, .absolute_s = 43200, .lockout_failures = 5,
                          .lockout_s = 900, .cost = MG_AUTH_HASH_INTERACTIVE};
  char hash[MG_AUTH_HASH_MAX], why[256];
  assert_int_equal(mg_auth_password_hash(PW, f->p.cost, hash), MG_OK);
  mg_auth_user_new nu = {.username = "li.wei", .display_name = "李伟", .role = "univ_admin",
                         .org_id = 3, .province = "11"};
  mg_store_user u;
  assert_int_equal(mg_auth_user_prepare(&nu, hash, 0, T0, &u, why, sizeof why), MG_OK);
  assert_int_equal(mg_store_user_create(f->s, &u, &f->uid), MG_OK);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fx *f = *state;
  mg_store_close(f->s);
  free(f);
  return 0;
}

static int login(fx *f, const char *user, const char *pw, const char *totp, int64_t now,
                 mg_auth_session_out *out) {
  mg_auth_login in = {user, pw, totp, 0, "127.0.0.1", now};
  return mg_auth_login_run(f->s, &f->p, &in, out, NULL);
}

static void login_and_session(void **state) {
  fx *f = *state;
  mg_auth_session_out o;
  mg_store_session s;
  mg_store_user u;
  assert_int_equal(login(f, "li.wei", PW, NULL, T0, &o), MG_OK);
  assert_int_equal(strlen(o.token), 43); /* 256 bits, base64url */
  assert_int_equal(strlen(o.csrf), 43);
  assert_string_not_equal(o.token, o.csrf);
  assert_int_equal(o.session.mfa, 0);
  assert_int_equal(mg_auth_session_check(f->s, &f->p, o.token, T0 + SEC, &s, &u, NULL), MG_OK);
  assert_string_equal(u.username, "li.wei");
  assert_string_equal(s.csrf, o.csrf);
  assert_int_equal(mg_auth_session_check(f->s, &f->p, "not-a-token", T0, &s, &u, NULL), MG_EAUTH);
  /* unknown user and wrong password give the same answer */
  assert_int_equal(login(f, "nobody", PW, NULL, T0, &o), MG_EAUTH);
  assert_int_equal(login(f, "li.wei", "wrong-Password-1", NULL, T0, &o), MG_EAUTH);
}

static void lockout_after_five_failures(void **state) {
  fx *f = *state;
  mg_auth_session_out o, keep;
  mg_store_session s;
  mg_store_user u;
  assert_int_equal(login(f, "li.wei", PW, NULL, T0, &keep), MG_OK);
  int locked = 0;
  for (int i = 0; i < 5; i++) {
    mg_auth_login in = {"li.wei", "Wrong-password-9", NULL, 0, NULL, T0 + i * SEC};
    assert_int_equal(mg_auth_login_run(f->s, &f->p, &in, &o, &locked), MG_EAUTH);
    assert_int_equal(locked, i == 4);
  }
  assert_int_equal(mg_store_user_get(f->s, "li.wei", &u), MG_OK);
  assert_int_equal(u.status, MG_USER_LOCKED);
  assert_int_equal(u.locked_until_us, T0 + 4 * SEC + 900 * SEC);
  /* the correct password is refused while locked, and the old session ended */
  assert_int_equal(login(f, "li.wei", PW, NULL, T0 + 10 * SEC, &o), MG_EAUTH);
  assert_int_equal(login(f, "li.wei", PW, NULL, T0 + 903 * SEC, &o), MG_EAUTH);
  assert_int_equal(mg_auth_session_check(f->s, &f->p, keep.token, T0 + 10 * SEC, &s, &u, NULL),
                   MG_EAUTH);
  /* after the lock time it opens again, and the count starts afresh */
  assert_int_equal(login(f, "li.wei", PW, NULL, T0 + 905 * SEC, &o), MG_OK);
  assert_int_equal(mg_store_user_get(f->s, "li.wei", &u), MG_OK);
  assert_int_equal(u.status, MG_USER_ACTIVE);
  assert_int_equal(u.failed_count, 0);
  /* four failures and a success do not lock */
  for (int i = 0; i < 4; i++)
    assert_int_equal(login(f, "li.wei", "Wrong-password-9", NULL, T0 + 910 * SEC, &o), MG_EAUTH);
  assert_int_equal(login(f, "li.wei", PW, NULL, T0 + 911 * SEC, &o), MG_OK);
  assert_int_equal(login(f, "li.wei", "Wrong-password-9", NULL, T0 + 912 * SEC, &o), MG_EAUTH);
  assert_int_equal(login(f, "li.wei", PW, NULL, T0 + 913 * SEC, &o), MG_OK);
}

static void lock_after_expiry_counts_afresh(void **state) {
  fx *f = *state;
  mg_auth_session_out o;
  for (int i = 0; i < 5; i++) login(f, "li.wei", "Wrong-password-9", NULL, T0, &o);
  /* lock ran out; five new failures lock it again */
  for (int i = 0; i < 5; i++)
    assert_int_equal(login(f, "li.wei", "Wrong-password-9", NULL, T0 + 1000 * SEC, &o), MG_EAUTH);
  assert_int_equal(login(f, "li.wei", PW, NULL, T0 + 1001 * SEC, &o), MG_EAUTH);
}

static void disabled_user_refused(void **state) {
  fx *f = *state;
  mg_auth_session_out o;
  mg_store_session s;
  mg_store_user u;
  assert_int_equal(login(f, "li.wei", PW, NULL, T0, &o), MG_OK);
  assert_int_equal(mg_store_user_get(f->s, "li.wei", &u), MG_OK);
  u.status = MG_USER_DISABLED;
  assert_int_equal(mg_store_user_update(f->s, &u), MG_OK);
  assert_int_equal(mg_auth_session_check(f->s, &f->p, o.token, T0 + SEC, &s, &u, NULL), MG_EAUTH);
  assert_int_equal(login(f, "li.wei", PW, NULL, T0, &o), MG_EAUTH);
}

static void idle_and_absolute_timeouts(void **state) {
  fx *f = *state;
  mg_auth_session_out o;
  mg_store_session s;
  mg_store_user u;
  int expired = 0;
  /* idle: activity every 29 minutes keeps it alive ... */
  assert_int_equal(login(f, "li.wei", PW, NULL, T0, &o), MG_OK);
  int64_t t = T0;
  for (int i = 0; i < 5; i++) {
    t += 1740 * SEC;
    assert_int_equal(mg_auth_session_check(f->s, &f->p, o.token, t, &s, &u, &expired), MG_OK);
  }
  /* ... 30 minutes and a second of silence ends it, for good */
  assert_int_equal(mg_auth_session_check(f->s, &f->p, o.token, t + 1801 * SEC, &s, &u, &expired),
                   MG_EAUTH);
  assert_true(expired);
  assert_int_equal(mg_auth_session_check(f->s, &f->p, o.token, t + SEC, &s, &u, &expired), MG_EAUTH);
  assert_false(expired);
  /* absolute: busy all day still ends after 12 hours */
  assert_int_equal(login(f, "li.wei", PW, NULL, T0, &o), MG_OK);
  for (t = T0 + 1200 * SEC; t <= T0 + 43200 * SEC; t += 1200 * SEC)
    assert_int_equal(mg_auth_session_check(f->s, &f->p, o.token, t, &s, &u, NULL), MG_OK);
  assert_int_equal(mg_auth_session_check(f->s, &f->p, o.token, T0 + 43201 * SEC, &s, &u, &expired),
                   MG_EAUTH);
  assert_true(expired);
}

static void totp_enrol_verify_replay(void **state) {
  fx *f = *state;
  mg_auth_session_out o;
  mg_store_user u;
  char hex[41], b32[33], code[8];
  uint8_t key[20];
  uint32_t c;
  assert_int_equal(login(f, "li.wei", PW, NULL, T0, &o), MG_OK);
  /* nothing to verify yet */
  assert_int_equal(mg_auth_mfa_verify(f->s, &f->p, &o.session, "123456", T0, NULL), MG_EINVAL);
  assert_int_equal(mg_auth_totp_new_secret(hex, b32), MG_OK);
  assert_int_equal(mg_store_user_get(f->s, "li.wei", &u), MG_OK);
  snprintf(u.totp_pending, sizeof u.totp_pending, "%s", hex);
  assert_int_equal(mg_store_user_update(f->s, &u), MG_OK);
  assert_int_equal(mg_auth_totp_secret_decode(hex, key), MG_OK);
  mg_auth_totp_code(key, 20, T0 / SEC / 30, 6, &c);
  snprintf(code, sizeof code, "%06u", c);
  assert_int_equal(mg_auth_mfa_verify(f->s, &f->p, &o.session, code, T0, NULL), MG_OK);
  assert_int_equal(mg_store_user_get(f->s, "li.wei", &u), MG_OK);
  assert_true(u.totp_enabled);
  assert_string_equal(u.totp_secret, hex);
  assert_string_equal(u.totp_pending, "");
  mg_store_session s;
  assert_int_equal(mg_store_session_get(f->s, o.session.token_hash, &s), MG_OK);
  assert_int_equal(s.mfa, 1);
  /* the same code again (same step) is refused: at login and on verify */
  mg_auth_session_out o2;
  assert_int_equal(login(f, "li.wei", PW, code, T0 + 5 * SEC, &o2), MG_EAUTH);
  assert_int_equal(mg_auth_mfa_verify(f->s, &f->p, &o.session, code, T0 + 5 * SEC, NULL), MG_EAUTH);
  /* the next step's code logs in with the second factor passed */
  mg_auth_totp_code(key, 20, T0 / SEC / 30 + 1, 6, &c);
  snprintf(code, sizeof code, "%06u", c);
  assert_int_equal(login(f, "li.wei", PW, code, T0 + 31 * SEC, &o), MG_OK);
  assert_int_equal(o.session.mfa, 1);
  /* a wrong code counts towards the lockout */
  assert_int_equal(mg_store_user_get(f->s, "li.wei", &u), MG_OK);
  assert_int_equal(u.failed_count, 0);
  assert_int_equal(login(f, "li.wei", PW, "000000", T0 + 62 * SEC, &o), MG_EAUTH);
  assert_int_equal(mg_store_user_get(f->s, "li.wei", &u), MG_OK);
  assert_int_equal(u.failed_count, 1); /* the success before reset the count */
  assert_int_equal(u.totp_last_step, T0 / SEC / 30 + 1);
}

static const void *find_bytes(const void *hay, size_t n, const void *needle, size_t m) {
  for (size_t i = 0; m && i + m <= n; i++)
    if (memcmp((const char *)hay + i, needle, m) == 0) return (const char *)hay + i;
  return NULL;
}

/* What a stolen database copy gives: no password, no token. */
static void database_holds_no_secrets(void **state) {
  fx *f = *state;
  mg_auth_session_out o;
  assert_int_equal(login(f, "li.wei", PW, NULL, T0, &o), MG_OK);
  sqlite3 *db;
  assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
  sqlite3_stmt *st;
  assert_int_equal(sqlite3_prepare_v2(db, "SELECT password_hash FROM users", -1, &st, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  const char *h = (const char *)sqlite3_column_text(st, 0);
  assert_true(strncmp(h, "$argon2id$", 10) == 0);
  assert_null(strstr(h, PW));
  sqlite3_finalize(st);
  assert_int_equal(sqlite3_prepare_v2(db, "SELECT token_hash FROM sessions", -1, &st, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  assert_int_equal(sqlite3_column_bytes(st, 0), 32);
  uint8_t want[32];
  mg_auth_token_hash(o.token, want);
  assert_memory_equal(sqlite3_column_blob(st, 0), want, 32);
  sqlite3_finalize(st);
  sqlite3_close(db);
  /* and no byte of the files is the password or the token */
  static const char *const suffix[] = {"", "-wal"};
  for (int i = 0; i < 2; i++) {
    char path[700];
    size_t len = 0;
    snprintf(path, sizeof path, "%s%s", f->db, suffix[i]);
    char *raw = mg_test_read_file(path, &len);
    if (!raw) continue;
    assert_null(find_bytes(raw, len, PW, strlen(PW)));
    assert_null(find_bytes(raw, len, o.token, strlen(o.token)));
    free(raw);
  }
}

/* With the key directory loaded, a TOTP secret is stored sealed (SM4 + HMAC-SM3), still verifies,
 * and a tampered token is refused. */
static void totp_secret_sealed_at_rest(void **state) {
  fx *f = *state;
  char keys[700], hex[41], b32[33], sealed[200], code[8];
  uint8_t key[20], back[20];
  uint32_t c;
  snprintf(keys, sizeof keys, "%s/keys", f->dir);
  assert_int_equal(mg_keyring_init(keys, MG_KEYRING_CREATE), MG_OK);
  assert_int_equal(mg_auth_totp_new_secret(hex, b32), MG_OK);
  assert_int_equal(mg_auth_totp_secret_seal(hex, sealed, sizeof sealed), MG_OK);
  assert_true(strncmp(sealed, "mgf1.", 5) == 0);
  assert_null(strstr(sealed, hex));
  assert_int_equal(mg_auth_totp_secret_decode(hex, key), MG_OK);
  assert_int_equal(mg_auth_totp_secret_unseal(sealed, back), MG_OK);
  assert_memory_equal(key, back, 20);
  assert_int_equal(mg_auth_totp_secret_seal(hex, sealed, 40), MG_ETOOBIG);
  assert_int_equal(mg_auth_totp_secret_seal(hex, sealed, sizeof sealed), MG_OK);
  char bad[200];
  snprintf(bad, sizeof bad, "%s", sealed);
  size_t n = strlen(bad);
  bad[n - 2] = bad[n - 2] == 'A' ? 'B' : 'A';
  assert_int_not_equal(mg_auth_totp_secret_unseal(bad, back), MG_OK);

  mg_auth_session_out o;
  mg_store_user u;
  assert_int_equal(login(f, "li.wei", PW, NULL, T0, &o), MG_OK);
  assert_int_equal(mg_store_user_get(f->s, "li.wei", &u), MG_OK);
  snprintf(u.totp_pending, sizeof u.totp_pending, "%s", sealed);
  assert_int_equal(mg_store_user_update(f->s, &u), MG_OK);
  mg_auth_totp_code(key, 20, T0 / SEC / 30, 6, &c);
  snprintf(code, sizeof code, "%06u", c);
  assert_int_equal(mg_auth_mfa_verify(f->s, &f->p, &o.session, code, T0, NULL), MG_OK);
  assert_int_equal(mg_store_user_get(f->s, "li.wei", &u), MG_OK);
  assert_string_equal(u.totp_secret, sealed);
  /* the hex never reached the database */
  static const char *const suffix[] = {"", "-wal"};
  for (int i = 0; i < 2; i++) {
    char path[700];
    size_t len = 0;
    snprintf(path, sizeof path, "%s%s", f->db, suffix[i]);
    char *raw = mg_test_read_file(path, &len);
    if (!raw) continue;
    assert_null(find_bytes(raw, len, hex, strlen(hex)));
    free(raw);
  }
  mg_keyring_shutdown();
}

static void store_rules(void **state) {
  fx *f = *state;
  mg_store_user u;
  char why[256];
  assert_int_equal(mg_store_user_get(f->s, "li.wei", &u), MG_OK);
  assert_int_equal(mg_store_user_create(f->s, &u, NULL), MG_EEXISTS);
  assert_int_equal(mg_store_user_get_id(f->s, 999, &u), MG_ENOTFOUND);
  assert_int_equal(mg_store_user_totp_use(f->s, f->uid, 10), MG_OK);
  assert_int_equal(mg_store_user_totp_use(f->s, f->uid, 10), MG_ECONFLICT);
  assert_int_equal(mg_store_user_totp_use(f->s, f->uid, 9), MG_ECONFLICT);
  assert_int_equal(mg_store_user_totp_use(f->s, f->uid, 11), MG_OK);
  int64_t n;
  assert_int_equal(mg_store_user_count(f->s, &n), MG_OK);
  assert_int_equal(n, 1);
  mg_auth_user_new bad = {.username = "-x", .role = "student"};
  assert_int_equal(mg_auth_user_prepare(&bad, "h", 0, T0, &u, why, sizeof why), MG_EINVAL);
  bad.username = "ok";
  bad.role = "king";
  assert_int_equal(mg_auth_user_prepare(&bad, "h", 0, T0, &u, why, sizeof why), MG_EINVAL);
  assert_non_null(strstr(why, "king"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(login_and_session, setup, teardown),
      cmocka_unit_test_setup_teardown(lockout_after_five_failures, setup, teardown),
      cmocka_unit_test_setup_teardown(lock_after_expiry_counts_afresh, setup, teardown),
      cmocka_unit_test_setup_teardown(disabled_user_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(idle_and_absolute_timeouts, setup, teardown),
      cmocka_unit_test_setup_teardown(totp_enrol_verify_replay, setup, teardown),
      cmocka_unit_test_setup_teardown(database_holds_no_secrets, setup, teardown),
      cmocka_unit_test_setup_teardown(totp_secret_sealed_at_rest, setup, teardown),
      cmocka_unit_test_setup_teardown(store_rules, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
