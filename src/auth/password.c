#include "auth/password.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/err.h"

/* Passwords people pick first; those of 12+ characters matter, the rest fail on length. */
static const char *const k_common[] = {
    "123456789012", "1234567890123", "12345678901234", "password1234", "password12345",
    "Password1234", "Password@123", "Passw0rd1234", "P@ssw0rd1234", "P@ssword1234",
    "qwertyuiop12", "qwerty123456", "Qwerty123456", "1q2w3e4r5t6y", "1qaz2wsx3edc",
    "1qaz@WSX3edc", "1QAZ2wsx3EDC", "zaq12wsxcde3", "abc123456789", "Abc123456789",
    "Abc@12345678", "Admin@123456", "admin1234567", "Admin1234567", "administrator",
    "Administrator1", "iloveyou1234", "woaini1314520", "Woaini1314520", "changeme1234",
    "ChangeMe1234", "Welcome@1234", "welcome12345", "Welcome12345", "Moocguard123",
    "moocguard1234", "Moocguard@123", "letmein12345", "11111111111a", "aaaaaaaaaaa1",
};

int mg_auth_hash_cost_parse(const char *s, mg_auth_hash_cost *out) {
  if (s && !strcmp(s, "moderate")) *out = MG_AUTH_HASH_MODERATE;
  else if (s && !strcmp(s, "interactive")) *out = MG_AUTH_HASH_INTERACTIVE;
  else return MG_EINVAL;
  return MG_OK;
}

static int contains_ci(const char *hay, const char *needle) {
  size_t n = strlen(needle), h = strlen(hay);
  for (size_t i = 0; n && i + n <= h; i++)
    if (strncasecmp(hay + i, needle, n) == 0) return 1;
  return 0;
}

int mg_auth_password_policy(const char *password, const char *username, char *why,
                            size_t why_size) {
  size_t bytes = strlen(password), chars = 0;
  int lower = 0, upper = 0, digit = 0, other = 0;
  for (const unsigned char *p = (const unsigned char *)password; *p; p++) {
    if ((*p & 0xc0) != 0x80) chars++; /* count UTF-8 characters, not bytes */
    if (*p >= 'a' && *p <= 'z') lower = 1;
    else if (*p >= 'A' && *p <= 'Z') upper = 1;
    else if (*p >= '0' && *p <= '9') digit = 1;
    else if (*p < 0x20 || *p == 0x7f) {
      snprintf(why, why_size, "密码不能包含控制字符 / the password must not contain control characters");
      return MG_EINVAL;
    } else other = 1;
  }
  if (chars < MG_AUTH_PASSWORD_MIN) {
    snprintf(why, why_size, "密码至少 %d 个字符 / the password needs at least %d characters",
             MG_AUTH_PASSWORD_MIN, MG_AUTH_PASSWORD_MIN);
    return MG_EINVAL;
  }
  if (bytes > MG_AUTH_PASSWORD_MAX) {
    snprintf(why, why_size, "密码最多 %d 字节 / the password may have at most %d bytes",
             MG_AUTH_PASSWORD_MAX, MG_AUTH_PASSWORD_MAX);
    return MG_EINVAL;
  }
  if (lower + upper + digit + other < 3) {
    snprintf(why, why_size,
             "密码须包含小写字母、大写字母、数字、其他字符中的至少三类 / the password needs three "
             "of: lower case, upper case, digits, other characters");
    return MG_EINVAL;
  }
  if (username && *username && (strcasecmp(password, username) == 0 ||
                                (strlen(username) >= 3 && contains_ci(password, username)))) {
    snprintf(why, why_size, "密码不能包含用户名 / the password must not contain the user name");
    return MG_EINVAL;
  }
  for (size_t i = 0; i < sizeof k_common / sizeof k_common[0]; i++)
    if (strcasecmp(password, k_common[i]) == 0) {
      snprintf(why, why_size, "密码过于常见 / the password is too common");
      return MG_EINVAL;
    }
  return MG_OK;
}

static void limits(mg_auth_hash_cost cost, unsigned long long *ops, size_t *mem) {
  if (cost == MG_AUTH_HASH_INTERACTIVE) {
    *ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
    *mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
  } else {
    *ops = crypto_pwhash_OPSLIMIT_MODERATE;
    *mem = crypto_pwhash_MEMLIMIT_MODERATE;
  }
}

int mg_auth_password_hash(const char *password, mg_auth_hash_cost cost,
                          char out[MG_AUTH_HASH_MAX]) {
  _Static_assert(crypto_pwhash_STRBYTES <= MG_AUTH_HASH_MAX, "hash buffer");
  if (sodium_init() < 0) return MG_ECRYPTO;
  size_t len = strlen(password);
  if (len > MG_AUTH_PASSWORD_MAX) return MG_EINVAL;
  unsigned long long ops;
  size_t mem;
  limits(cost, &ops, &mem);
  if (crypto_pwhash_str_alg(out, password, len, ops, mem, crypto_pwhash_ALG_ARGON2ID13) != 0)
    return MG_ENOMEM; /* libsodium fails here only when it cannot get the memory */
  return MG_OK;
}

int mg_auth_password_verify(const char *hash, const char *password) {
  if (!hash || !*hash || !password) return 0;
  if (sodium_init() < 0) return 0;
  return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}

/* One dummy hash per cost, made on first use (a moderate one costs about a second). */
static char g_dummy[2][MG_AUTH_HASH_MAX];
static pthread_once_t g_dummy_once[2] = {PTHREAD_ONCE_INIT, PTHREAD_ONCE_INIT};

static void dummy_make(mg_auth_hash_cost cost) {
  unsigned char r[16];
  char pw[40];
  if (sodium_init() < 0) return;
  randombytes_buf(r, sizeof r);
  sodium_bin2hex(pw, sizeof pw, r, sizeof r);
  mg_auth_password_hash(pw, cost, g_dummy[cost]);
}
static void dummy_moderate(void) { dummy_make(MG_AUTH_HASH_MODERATE); }
static void dummy_interactive(void) { dummy_make(MG_AUTH_HASH_INTERACTIVE); }

void mg_auth_password_burn(const char *password, mg_auth_hash_cost cost) {
  int i = cost == MG_AUTH_HASH_INTERACTIVE;
  pthread_once(&g_dummy_once[i], i ? dummy_interactive : dummy_moderate);
  (void)mg_auth_password_verify(g_dummy[i], password);
}

int mg_auth_password_generate(char *out, size_t size) {
  static const char *const classes[4] = {"abcdefghijkmnpqrstuvwxyz", "ABCDEFGHJKLMNPQRSTUVWXYZ",
                                         "23456789", "-_.!@#%+="};
  const size_t n = 20;
  if (size < n + 1) return MG_EINVAL;
  if (sodium_init() < 0) return MG_ECRYPTO;
  for (;;) {
    int seen[4] = {0, 0, 0, 0};
    for (size_t i = 0; i < n; i++) {
      /* the class first, then a character of it: every class gets a fair share */
      uint32_t c = randombytes_uniform(4);
      const char *set = classes[c];
      out[i] = set[randombytes_uniform((uint32_t)strlen(set))];
      seen[c] = 1;
    }
    out[n] = '\0';
    if (seen[0] && seen[1] && seen[2] && seen[3]) return MG_OK;
  }
}
