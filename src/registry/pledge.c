/* registry/pledge.c — pledge texts and signatures. */
#include "registry/pledge.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "core/uuid.h"
#include "registry/org.h"

static int store_fail(mg_registry_why *why, int rc) {
  return mg_registry_refuse(why, rc, "store_error", "存储错误 / store error: %s", mg_strerror(rc));
}

static int check_version(const char *v, mg_registry_why *why) {
  size_t n = v ? strlen(v) : 0;
  int ok = n >= 1 && n <= 31;
  for (size_t i = 0; ok && i < n; i++) {
    char c = v[i];
    ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' ||
         c == '-' || c == '_';
  }
  return ok ? MG_OK
            : mg_registry_refuse(why, MG_EINVAL, "invalid_field",
                                 "version：1 至 31 位字母、数字、. - _ / version must be 1 to 31 "
                                 "letters, digits, '.', '-' or '_'");
}

int mg_registry_pledge_publish(mg_store *s, const char *version, const char *body, const char *by,
                               int64_t now_us, mg_registry_why *why) {
  int rc;
  if ((rc = check_version(version, why))) return rc;
  /* the body may hold line breaks: check it line by line as text */
  if (!body || !*body || strlen(body) > 20000)
    return mg_registry_refuse(why, MG_EINVAL, "invalid_field",
                              "body：必填，最多 20000 字节 / body is required, at most 20000 bytes");
  for (const char *p = body; *p;) {
    const char *nl = strchr(p, '\n');
    size_t n = nl ? (size_t)(nl - p) : strlen(p);
    char line[20001];
    memcpy(line, p, n);
    line[n] = 0;
    if (n && line[n - 1] == '\r') line[n - 1] = 0;
    if (line[0] && (rc = mg_registry_check_text("body", line, 20000, 1, why))) return rc;
    p += n + (nl ? 1 : 0);
  }
  unsigned char dg[crypto_hash_sha256_BYTES];
  char hex[65];
  crypto_hash_sha256(dg, (const unsigned char *)body, strlen(body));
  sodium_bin2hex(hex, sizeof hex, dg, sizeof dg);
  rc = mg_store_reg_pledge_text_create(s, version, body, hex, by, now_us);
  if (rc == MG_EEXISTS)
    return mg_registry_refuse(why, rc, "pledge_version_exists",
                              "承诺书版本 %s 已存在，已发布的文本不能修改 / pledge version %s exists; a "
                              "published text never changes",
                              version, version);
  return rc ? store_fail(why, rc) : MG_OK;
}

int mg_registry_enrolment_find(mg_store *s, const char *registration, mg_reg_enrolment *out,
                               mg_registry_why *why) {
  uint8_t reg[16];
  if (!registration || strlen(registration) != 36 || mg_uuid_parse(registration, reg) != MG_OK)
    return mg_registry_refuse(why, MG_EINVAL, "invalid_field",
                              "registration：应为 UUID / registration must be a UUID");
  int rc = mg_store_reg_enrolment_by_registration(s, reg, out);
  if (rc == MG_ENOTFOUND)
    return mg_registry_refuse(why, rc, "enrolment_not_found",
                              "选课记录不存在 / no enrolment with registration %s", registration);
  return rc ? store_fail(why, rc) : MG_OK;
}

int mg_registry_pledge_sign(mg_store *s, const mg_reg_enrolment *e, const char *version,
                            const char *by, const char *ip, int64_t now_us, mg_reg_pledge *p,
                            mg_registry_why *why) {
  mg_reg_pledge_text t;
  int rc;
  if (!e->active)
    return mg_registry_refuse(why, MG_ECONFLICT, "enrolment_inactive",
                              "该选课记录已退选 / this enrolment was dropped from the roster");
  if (version && *version) {
    if ((rc = check_version(version, why))) return rc;
    rc = mg_store_reg_pledge_text_get(s, version, &t);
  } else {
    rc = mg_store_reg_pledge_text_latest(s, &t);
  }
  if (rc == MG_ENOTFOUND)
    return mg_registry_refuse(why, MG_ECONFLICT, "pledge_version_unknown",
                              "承诺书版本不存在 / no pledge text %s%s is published",
                              version && *version ? "version " : "", version ? version : "");
  if (rc) return store_fail(why, rc);
  mg_reg_pledge row;
  memset(&row, 0, sizeof row);
  row.enrolment_id = e->id;
  snprintf(row.version, sizeof row.version, "%s", t.version);
  mg_store_reg_pledge_text_clear(&t);
  snprintf(row.signed_by, sizeof row.signed_by, "%s", by);
  snprintf(row.signed_ip, sizeof row.signed_ip, "%s", ip && *ip ? ip : "-");
  row.signed_us = now_us;
  rc = mg_store_reg_pledge_sign(s, &row, &row.id);
  if (rc == MG_EEXISTS)
    return mg_registry_refuse(why, rc, "pledge_already_signed",
                              "已签署承诺书版本 %s / pledge version %s is already signed for this "
                              "enrolment",
                              row.version, row.version);
  if (rc) return store_fail(why, rc);
  if (p) *p = row;
  return MG_OK;
}
