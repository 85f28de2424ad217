#include "auth/user.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sodium.h>
#include <unistd.h>

#include "auth/capability.h"
#include "audit/audit.h"
#include "auth/password.h"
#include "core/err.h"
#include "core/log.h"
#include "core/time.h"

int mg_auth_username_valid(const char *u) {
  size_t n = u ? strlen(u) : 0;
  if (n < 1 || n > 63) return 0;
  for (size_t i = 0; i < n; i++) {
    char c = u[i];
    int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '@' && c != '-'))) return 0;
  }
  return 1;
}

static int copy_field(char *dst, size_t size, const char *src, const char *field, char *why,
                      size_t why_size) {
  src = src ? src : "";
  if (strlen(src) >= size) {
    snprintf(why, why_size, "%s 过长（最多 %zu 字节）/ %s is longer than %zu bytes", field,
             size - 1, field, size - 1);
    return MG_EINVAL;
  }
  memcpy(dst, src, strlen(src) + 1);
  return MG_OK;
}

int mg_auth_user_prepare(const mg_auth_user_new *n, const char *password_hash, int must_change,
                         int64_t now_us, mg_store_user *u, char *why, size_t why_size) {
  memset(u, 0, sizeof *u);
  if (!mg_auth_username_valid(n->username)) {
    snprintf(why, why_size,
             "username 须为 1–63 个字母、数字或 ._@-，以字母或数字开头 / username must be 1-63 "
             "of letters, digits and ._@-, starting with a letter or digit");
    return MG_EINVAL;
  }
  if (mg_auth_role_parse(n->role) == MG_ROLE_NONE) {
    snprintf(why, why_size, "未知角色 / role '%.*s' is unknown", mg_utf8_prefix(n->role ? n->role : "", 40),
             n->role ? n->role : "");
    return MG_EINVAL;
  }
  if (n->org_id < 0 || n->student_id < 0) {
    snprintf(why, why_size, "org_id 与 student_id 不能为负 / org_id and student_id must not be negative");
    return MG_EINVAL;
  }
  int rc;
  if ((rc = copy_field(u->username, sizeof u->username, n->username, "username", why, why_size)) ||
      (rc = copy_field(u->display_name, sizeof u->display_name, n->display_name, "display_name",
                       why, why_size)) ||
      (rc = copy_field(u->role, sizeof u->role, n->role, "role", why, why_size)) ||
      (rc = copy_field(u->org_kind, sizeof u->org_kind, n->org_kind, "org_kind", why, why_size)) ||
      (rc = copy_field(u->province, sizeof u->province, n->province, "province", why, why_size)) ||
      (rc = copy_field(u->password_hash, sizeof u->password_hash, password_hash, "password_hash",
                       why, why_size)))
    return rc;
  u->org_id = n->org_id;
  u->student_id = n->student_id;
  u->status = MG_USER_ACTIVE;
  u->must_change = must_change ? 1 : 0;
  u->password_changed_us = now_us;
  u->created_us = now_us;
  return MG_OK;
}

static int set_str(mg_arena *a, mg_json *o, const char *k, const char *v) {
  mg_json *s = mg_json_string(a, v);
  return s ? mg_json_object_set(a, o, k, s) : MG_ENOMEM;
}

static int set_int(mg_arena *a, mg_json *o, const char *k, int64_t v) {
  mg_json *i = mg_json_integer(a, v);
  return i ? mg_json_object_set(a, o, k, i) : MG_ENOMEM;
}

static int set_time(mg_arena *a, mg_json *o, const char *k, int64_t us) {
  if (!us) return mg_json_object_set(a, o, k, mg_json_null());
  char iso[MG_TIME_ISO_LEN];
  mg_time_format_iso(us, 3, iso);
  return set_str(a, o, k, iso);
}

mg_json *mg_auth_user_json(mg_arena *a, const mg_store_user *u, int64_t now_us) {
  mg_json *o = mg_json_object(a);
  if (!o) return NULL;
  int locked = u->status == MG_USER_LOCKED && u->locked_until_us > now_us;
  const char *status = u->status == MG_USER_DISABLED ? "disabled" : locked ? "locked" : "active";
  if (set_int(a, o, "id", u->id) || set_str(a, o, "username", u->username) ||
      set_str(a, o, "display_name", u->display_name) || set_str(a, o, "role", u->role) ||
      set_int(a, o, "org_id", u->org_id) || set_str(a, o, "org_kind", u->org_kind) ||
      set_str(a, o, "province", u->province) || set_int(a, o, "student_id", u->student_id) ||
      set_str(a, o, "status", status) || set_int(a, o, "failed_count", u->failed_count) ||
      set_time(a, o, "locked_until", locked ? u->locked_until_us : 0) ||
      mg_json_object_set(a, o, "must_change_password",
                         u->must_change ? mg_json_true() : mg_json_false()) ||
      mg_json_object_set(a, o, "totp_enabled", u->totp_enabled ? mg_json_true() : mg_json_false()) ||
      set_time(a, o, "password_changed", u->password_changed_us) ||
      set_time(a, o, "created", u->created_us))
    return NULL;
  return o;
}

int mg_auth_bootstrap(mg_store *s, const mg_config *cfg, FILE *err, int *created) {
  int64_t n = 0;
  char pw[32] = "", hash[MG_AUTH_HASH_MAX], why[256];
  mg_auth_hash_cost cost;
  mg_store_user u;
  int fd = -1, rc;
  if (created) *created = 0;
  if ((rc = mg_auth_hash_cost_parse(cfg->password_hash, &cost))) {
    fprintf(err, "moocguard: password-hash must be moderate or interactive\n");
    return rc;
  }
  if ((rc = mg_store_user_count(s, &n)) || n > 0) return rc;
  if ((rc = mg_auth_password_generate(pw, sizeof pw)) ||
      (rc = mg_auth_password_hash(pw, cost, hash)))
    goto out;
  mg_auth_user_new nu = {.username = "secadmin",
                         .display_name = "安全管理员 Security administrator",
                         .role = "sec_admin"};
  if ((rc = mg_auth_user_prepare(&nu, hash, 1, mg_time_now_us(), &u, why, sizeof why))) goto out;
  if (cfg->first_admin_file[0]) {
    /* O_EXCL: never overwrite (or follow a planted link to) an existing file */
    fd = open(cfg->first_admin_file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
    if (fd < 0) {
      fprintf(err, "moocguard: cannot create %s: %s\n", cfg->first_admin_file, strerror(errno));
      rc = MG_EIO;
      goto out;
    }
  }
  if ((rc = mg_store_tx_begin(s))) goto out;
  /* re-count inside the transaction: two processes starting at once make one administrator */
  int64_t id = 0;
  char ids[24];
  if ((rc = mg_store_user_count(s, &n)) || n > 0 || (rc = mg_store_user_create(s, &u, &id))) {
    mg_store_tx_rollback(s);
    goto out;
  }
  snprintf(ids, sizeof ids, "%lld", (long long)id);
  mg_audit_event ev = {.actor = "system", .role = "system", .action = "user.create",
                       .object_type = "user", .object_id = ids, .after = u.username,
                       .after_len = strlen(u.username)};
  if ((rc = mg_audit_append(s, &ev, NULL))) {
    mg_store_tx_rollback(s);
    goto out;
  }
  if ((rc = mg_store_tx_commit(s))) goto out;
  if (fd >= 0) {
    char line[128];
    int len = snprintf(line, sizeof line, "username=secadmin\npassword=%s\n", pw);
    if (write(fd, line, (size_t)len) != len || fsync(fd) != 0) {
      fprintf(err, "moocguard: writing %s failed: %s\n", cfg->first_admin_file, strerror(errno));
      rc = MG_EIO;
      goto out;
    }
    fprintf(err, "首个安全管理员 secadmin 已创建，初始密码写入 %s / first security administrator "
                 "'secadmin' created; its password is in %s\n",
            cfg->first_admin_file, cfg->first_admin_file);
  } else {
    fprintf(err,
            "\n首个安全管理员已创建（仅显示一次，首次登录须修改密码）/ first security "
            "administrator created (shown once; must be changed at first login):\n"
            "  username: secadmin\n  password: %s\n\n",
            pw);
  }
  fflush(err);
  mg_log(MG_LOG_WARN, "auth.bootstrap", "user", "secadmin", "role", "sec_admin", NULL);
  if (created) *created = 1;
out:
  if (fd >= 0) close(fd);
  sodium_memzero(pw, sizeof pw);
  return rc;
}
