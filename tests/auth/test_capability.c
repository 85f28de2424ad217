/* The capability table: role names, MFA roles, separation of the three administrators, no
 * learning data for administrators, nobody writes or deletes the audit log. */
#include <string.h>

#include "auth/capability.h"
#include "support.h"

static int is_admin(mg_role r) {
  return r == MG_ROLE_SYS_ADMIN || r == MG_ROLE_SEC_ADMIN || r == MG_ROLE_AUDIT_ADMIN;
}

/* Capabilities every role has over its own account; not an administrator's duty. */
static int is_self_cap(const char *cap) { return strncmp(cap, "auth.", 5) == 0; }

static void role_names_round_trip(void **state) {
  (void)state;
  for (int r = MG_ROLE_NONE + 1; r < MG_ROLE_COUNT_; r++) {
    const char *n = mg_auth_role_name((mg_role)r);
    assert_string_not_equal(n, "none");
    assert_int_equal(mg_auth_role_parse(n), r);
  }
  assert_int_equal(mg_auth_role_parse("root"), MG_ROLE_NONE);
  assert_int_equal(mg_auth_role_parse(NULL), MG_ROLE_NONE);
  assert_string_equal(mg_auth_role_name(MG_ROLE_COUNT_), "none");
  assert_string_equal(mg_auth_role_name(MG_ROLE_SEC_ADMIN), "sec_admin");
}

static void mfa_roles(void **state) {
  (void)state;
  assert_true(mg_auth_role_needs_mfa(MG_ROLE_REGULATOR));
  assert_true(mg_auth_role_needs_mfa(MG_ROLE_UNIV_ADMIN));
  assert_true(mg_auth_role_needs_mfa(MG_ROLE_SYS_ADMIN));
  assert_true(mg_auth_role_needs_mfa(MG_ROLE_SEC_ADMIN));
  assert_true(mg_auth_role_needs_mfa(MG_ROLE_AUDIT_ADMIN));
  assert_false(mg_auth_role_needs_mfa(MG_ROLE_STUDENT));
  assert_false(mg_auth_role_needs_mfa(MG_ROLE_RESP_TEACHER));
}

/* 三权分立: collect each administrator's own duties (their non-self capabilities); no role may
 * hold capabilities from two of those sets. */
static void three_admins_separate(void **state) {
  (void)state;
  size_t n;
  const mg_auth_cap_row *t = mg_auth_cap_table(&n);
  static const mg_role admins[3] = {MG_ROLE_SYS_ADMIN, MG_ROLE_SEC_ADMIN, MG_ROLE_AUDIT_ADMIN};
  int duties[3] = {0, 0, 0};
  for (int r = MG_ROLE_NONE + 1; r < MG_ROLE_COUNT_; r++) {
    int holds[3] = {0, 0, 0};
    for (size_t i = 0; i < n; i++) {
      if ((int)t[i].role != r || is_self_cap(t[i].capability)) continue;
      for (int a = 0; a < 3; a++)
        if (mg_auth_cap_scope(admins[a], t[i].capability) != MG_SCOPE_NONE) holds[a] = 1;
    }
    int sets = holds[0] + holds[1] + holds[2];
    if (sets > 1) fail_msg("role %s holds duties of %d administrator roles", mg_auth_role_name(r), sets);
    for (int a = 0; a < 3; a++)
      if (r == (int)admins[a]) duties[a] = holds[a];
  }
  for (int a = 0; a < 3; a++) assert_true(duties[a]); /* each administrator has some duty */
}

/* Administrators run the system, accounts and the audit log; they never see learning data, so
 * every capability they hold is in those areas. */
static void admins_hold_no_learning_data(void **state) {
  (void)state;
  static const char *const admin_areas[] = {"auth.", "user.", "role.", "system.", "audit.",
                                            "key.", NULL};
  size_t n;
  const mg_auth_cap_row *t = mg_auth_cap_table(&n);
  for (size_t i = 0; i < n; i++) {
    if (!is_admin(t[i].role)) continue;
    int ok = 0;
    for (int a = 0; admin_areas[a]; a++) ok |= strncmp(t[i].capability, admin_areas[a], strlen(admin_areas[a])) == 0;
    if (!ok)
      fail_msg("administrator role %s holds %s, outside the administrative areas",
               mg_auth_role_name(t[i].role), t[i].capability);
  }
  assert_int_equal(mg_auth_cap_scope(MG_ROLE_SYS_ADMIN, "statement.read"), MG_SCOPE_NONE);
}

static void audit_log_is_read_only(void **state) {
  (void)state;
  size_t n;
  const mg_auth_cap_row *t = mg_auth_cap_table(&n);
  for (size_t i = 0; i < n; i++) {
    if (strncmp(t[i].capability, "audit.", 6) != 0) continue;
    assert_int_equal(t[i].role, MG_ROLE_AUDIT_ADMIN);
    const char *verb = t[i].capability + 6;
    if (strcmp(verb, "read") && strcmp(verb, "verify") && strcmp(verb, "export"))
      fail_msg("audit capability %s would change the audit log", t[i].capability);
  }
  for (int r = MG_ROLE_NONE; r < MG_ROLE_COUNT_; r++) {
    assert_int_equal(mg_auth_cap_scope((mg_role)r, "audit.write"), MG_SCOPE_NONE);
    assert_int_equal(mg_auth_cap_scope((mg_role)r, "audit.delete"), MG_SCOPE_NONE);
  }
}

static void user_admin_is_security_admin_only(void **state) {
  (void)state;
  static const char *const caps[] = {"user.create", "user.list", "user.disable",
                                     "user.reset_password", "user.unlock", "role.assign", NULL};
  for (int c = 0; caps[c]; c++)
    for (int r = MG_ROLE_NONE; r < MG_ROLE_COUNT_; r++)
      assert_int_equal(mg_auth_cap_scope((mg_role)r, caps[c]) != MG_SCOPE_NONE,
                       r == MG_ROLE_SEC_ADMIN);
  assert_int_equal(mg_auth_cap_scope(MG_ROLE_SYS_ADMIN, "system.status"), MG_SCOPE_ALL);
  assert_int_equal(mg_auth_cap_scope(MG_ROLE_SEC_ADMIN, "system.status"), MG_SCOPE_NONE);
  assert_int_equal(mg_auth_cap_scope(MG_ROLE_AUDIT_ADMIN, "audit.read"), MG_SCOPE_ALL);
  assert_int_equal(mg_auth_cap_scope(MG_ROLE_SEC_ADMIN, "audit.read"), MG_SCOPE_NONE);
  assert_int_equal(mg_auth_cap_scope(MG_ROLE_NONE, "auth.session"), MG_SCOPE_NONE);
  assert_int_equal(mg_auth_cap_scope(MG_ROLE_STUDENT, "no.such.thing"), MG_SCOPE_NONE);
  assert_int_equal(mg_auth_cap_scope(MG_ROLE_STUDENT, NULL), MG_SCOPE_NONE);
}

static void table_is_well_formed(void **state) {
  (void)state;
  size_t n, k;
  const mg_auth_cap_row *t = mg_auth_cap_table(&n);
  const char *const *names = mg_auth_cap_names(&k);
  assert_true(n > 0 && k > 0 && k <= n);
  assert_null(names[k]);
  for (size_t i = 0; i < n; i++) {
    assert_true(t[i].role > MG_ROLE_NONE && t[i].role < MG_ROLE_COUNT_);
    assert_true(t[i].scope > MG_SCOPE_NONE && t[i].scope <= MG_SCOPE_ALL);
    for (size_t j = i + 1; j < n; j++) /* one row per (capability, role) */
      assert_false(t[i].role == t[j].role && !strcmp(t[i].capability, t[j].capability));
    size_t m = 0;
    while (m < k && strcmp(names[m], t[i].capability)) m++;
    assert_true(m < k);
  }
  for (size_t a = 0; a < k; a++)
    for (size_t b = a + 1; b < k; b++) assert_string_not_equal(names[a], names[b]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(role_names_round_trip),
      cmocka_unit_test(mfa_roles),
      cmocka_unit_test(three_admins_separate),
      cmocka_unit_test(admins_hold_no_learning_data),
      cmocka_unit_test(audit_log_is_read_only),
      cmocka_unit_test(user_admin_is_security_admin_only),
      cmocka_unit_test(table_is_well_formed),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
