/* TOTP: the RFC 6238 appendix B vectors (SHA-1), the ±1 step window, malformed codes, base32. */
#include <stdio.h>
#include <string.h>

#include "auth/totp.h"
#include "core/err.h"
#include "support.h"

static const uint8_t k_key[] = "12345678901234567890"; /* RFC 6238 SHA-1 seed */

static void rfc6238_vectors(void **state) {
  (void)state;
  static const struct { int64_t t; uint32_t code8; } v[] = {
      {59, 94287082},          {1111111109, 7081804},   {1111111111, 14050471},
      {1234567890, 89005924},  {2000000000, 69279037},  {20000000000LL, 65353130},
  };
  for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
    uint32_t got;
    assert_int_equal(mg_auth_totp_code(k_key, 20, v[i].t / 30, 8, &got), MG_OK);
    assert_int_equal(got, v[i].code8);
    assert_int_equal(mg_auth_totp_code(k_key, 20, v[i].t / 30, 6, &got), MG_OK);
    assert_int_equal(got, v[i].code8 % 1000000);
  }
  uint32_t x;
  assert_int_equal(mg_auth_totp_code(k_key, 20, 1, 5, &x), MG_EINVAL);
}

static void window_and_replay(void **state) {
  (void)state;
  const int64_t now = 1111111111; /* step 37037037 */
  char code[8];
  int64_t step = 0;
  uint32_t c;
  for (int d = -2; d <= 2; d++) {
    assert_int_equal(mg_auth_totp_code(k_key, 20, now / 30 + d, 6, &c), MG_OK);
    snprintf(code, sizeof code, "%06u", c);
    int rc = mg_auth_totp_check(k_key, 20, code, now, 0, &step);
    if (d >= -1 && d <= 1) {
      assert_int_equal(rc, MG_OK);
      assert_int_equal(step, now / 30 + d);
    } else {
      assert_int_equal(rc, MG_EAUTH);
    }
  }
  /* a step already used (or an earlier one) is refused */
  assert_int_equal(mg_auth_totp_code(k_key, 20, now / 30, 6, &c), MG_OK);
  snprintf(code, sizeof code, "%06u", c);
  assert_int_equal(mg_auth_totp_check(k_key, 20, code, now, now / 30, &step), MG_EAUTH);
  assert_int_equal(mg_auth_totp_check(k_key, 20, code, now, now / 30 - 1, &step), MG_OK);
  assert_int_equal(mg_auth_totp_check(k_key, 20, "12345", now, 0, &step), MG_EAUTH);
  assert_int_equal(mg_auth_totp_check(k_key, 20, "1234567", now, 0, &step), MG_EAUTH);
  assert_int_equal(mg_auth_totp_check(k_key, 20, "12a456", now, 0, &step), MG_EAUTH);
  assert_int_equal(mg_auth_totp_check(k_key, 20, NULL, now, 0, &step), MG_EAUTH);
}

static void base32_and_secrets(void **state) {
  (void)state;
  char out[64];
  assert_int_equal(mg_auth_base32((const uint8_t *)"foobar", 6, out, sizeof out), MG_OK);
  assert_string_equal(out, "MZXW6YTBOI"); /* RFC 4648 test vector, unpadded */
  assert_int_equal(mg_auth_base32((const uint8_t *)"f", 1, out, sizeof out), MG_OK);
  assert_string_equal(out, "MY");
  assert_int_equal(mg_auth_base32((const uint8_t *)"foobar", 6, out, 5), MG_ETOOBIG);
  char hex[41], b32[33], hex2[41], b32_2[33];
  uint8_t key[MG_TOTP_SECRET_LEN];
  assert_int_equal(mg_auth_totp_new_secret(hex, b32), MG_OK);
  assert_int_equal(mg_auth_totp_new_secret(hex2, b32_2), MG_OK);
  assert_string_not_equal(hex, hex2);
  assert_int_equal(strlen(b32), 32);
  assert_int_equal(mg_auth_totp_secret_decode(hex, key), MG_OK);
  assert_int_equal(mg_auth_base32(key, sizeof key, out, sizeof out), MG_OK);
  assert_string_equal(out, b32);
  assert_int_equal(mg_auth_totp_secret_decode("abc", key), MG_EINVAL);
  assert_int_equal(mg_auth_totp_secret_decode("zz345678901234567890123456789012345678zz", key),
                   MG_EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(rfc6238_vectors),
      cmocka_unit_test(window_and_replay),
      cmocka_unit_test(base32_and_secrets),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
