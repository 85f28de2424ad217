/* Password policy, argon2id hashes, generated passwords. */
#include <string.h>

#include "auth/password.h"
#include "core/err.h"
#include "support.h"

static void policy(void **state) {
  (void)state;
  char why[256];
  assert_int_equal(mg_auth_password_policy("Short1!", "alice", why, sizeof why), MG_EINVAL);
  assert_non_null(strstr(why, "12"));
  assert_int_equal(mg_auth_password_policy("alllowercaseletters", "alice", why, sizeof why), MG_EINVAL);
  assert_int_equal(mg_auth_password_policy("lowerUPPERonly", "alice", why, sizeof why), MG_EINVAL);
  assert_non_null(strstr(why, "three"));
  assert_int_equal(mg_auth_password_policy("lowerUPPER1234", "alice", why, sizeof why), MG_OK);
  assert_int_equal(mg_auth_password_policy("lower-upper-12", "alice", why, sizeof why), MG_OK);
  /* the user name, whole or inside, in any case */
  assert_int_equal(mg_auth_password_policy("Zhangwei_2024", "zhangwei", why, sizeof why), MG_EINVAL);
  assert_non_null(strstr(why, "user name"));
  assert_int_equal(mg_auth_password_policy("Teacher.Li.12345", "teacher.li.12345", why, sizeof why),
                   MG_EINVAL);
  /* common passwords */
  assert_int_equal(mg_auth_password_policy("P@ssw0rd1234", "alice", why, sizeof why), MG_EINVAL);
  assert_non_null(strstr(why, "common"));
  assert_int_equal(mg_auth_password_policy("1qaz@WSX3edc", "alice", why, sizeof why), MG_EINVAL);
  /* characters, not bytes: 10 characters (28 bytes) are too few, 12 are enough */
  assert_int_equal(mg_auth_password_policy("学分互认网课Ab12", "alice", why, sizeof why), MG_EINVAL);
  assert_int_equal(mg_auth_password_policy("学分互认网课Ab1234", "alice", why, sizeof why), MG_OK);
  assert_int_equal(mg_auth_password_policy("Tab\there12345", "alice", why, sizeof why), MG_EINVAL);
  char longpw[200];
  memset(longpw, 'a', sizeof longpw - 1);
  longpw[sizeof longpw - 1] = '\0';
  longpw[0] = 'A';
  longpw[1] = '1';
  assert_int_equal(mg_auth_password_policy(longpw, "alice", why, sizeof why), MG_EINVAL);
}

static void hash_and_verify(void **state) {
  (void)state;
  char h1[MG_AUTH_HASH_MAX], h2[MG_AUTH_HASH_MAX];
  assert_int_equal(mg_auth_password_hash("Correct-Horse-9", MG_AUTH_HASH_INTERACTIVE, h1), MG_OK);
  assert_int_equal(mg_auth_password_hash("Correct-Horse-9", MG_AUTH_HASH_INTERACTIVE, h2), MG_OK);
  assert_true(strncmp(h1, "$argon2id$", 10) == 0);
  assert_null(strstr(h1, "Correct-Horse-9"));
  assert_string_not_equal(h1, h2); /* salted */
  assert_true(mg_auth_password_verify(h1, "Correct-Horse-9"));
  assert_false(mg_auth_password_verify(h1, "Correct-Horse-8"));
  assert_false(mg_auth_password_verify("", "Correct-Horse-9"));
  assert_false(mg_auth_password_verify("$argon2id$garbage", "x"));
  mg_auth_hash_cost c;
  assert_int_equal(mg_auth_hash_cost_parse("moderate", &c), MG_OK);
  assert_int_equal(c, MG_AUTH_HASH_MODERATE);
  assert_int_equal(mg_auth_hash_cost_parse("cheap", &c), MG_EINVAL);
  mg_auth_password_burn("anything", MG_AUTH_HASH_INTERACTIVE); /* must not crash */
}

static void generated_passwords_meet_policy(void **state) {
  (void)state;
  char a[32], b[32], why[256];
  for (int i = 0; i < 200; i++) {
    assert_int_equal(mg_auth_password_generate(a, sizeof a), MG_OK);
    assert_int_equal(strlen(a), 20);
    if (mg_auth_password_policy(a, "secadmin", why, sizeof why) != MG_OK) fail_msg("%s: %s", a, why);
  }
  assert_int_equal(mg_auth_password_generate(b, sizeof b), MG_OK);
  assert_string_not_equal(a, b);
  assert_int_equal(mg_auth_password_generate(b, 10), MG_EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(policy),
      cmocka_unit_test(hash_and_verify),
      cmocka_unit_test(generated_passwords_meet_policy),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
