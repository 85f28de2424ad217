/* registry/org.c — checks and creation of organisations. */
#include "registry/org.h"

#include <stdio.h>
#include <string.h>

#include "core/err.h"

int mg_registry_check_code(const char *field, const char *code, mg_registry_why *why) {
  size_t n = code ? strlen(code) : 0;
  if (n == 0 || n > 63)
    return mg_registry_refuse(why, MG_EINVAL, "invalid_field",
                              "%s：1 至 63 个字符 / %s must be 1 to 63 characters", field, field);
  for (size_t i = 0; i < n; i++) {
    char c = code[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
          c == '_'))
      return mg_registry_refuse(why, MG_EINVAL, "invalid_field",
                                "%s：只能含字母、数字、- 和 _ / %s may hold only letters, digits, "
                                "'-' and '_'",
                                field, field);
  }
  return MG_OK;
}

int mg_registry_check_url(const char *field, const char *url, mg_registry_why *why) {
  int rc = mg_registry_check_text(field, url, 500, 0, why);
  if (rc) return rc;
  if ((strncmp(url, "https://", 8) && strncmp(url, "http://", 7)) || strchr(url, ' ') ||
      url[strlen(url) - 1] == '/')
    return mg_registry_refuse(why, MG_EINVAL, "invalid_field",
                              "%s：应为 http(s) 地址，末尾无 / / %s must be an http(s) URL "
                              "without a trailing '/'",
                              field, field);
  return MG_OK;
}

int mg_registry_check_province(const char *province, mg_registry_why *why) {
  int rc = mg_registry_check_text("province", province, 15, 0, why);
  if (!rc && strchr(province, ' '))
    rc = mg_registry_refuse(why, MG_EINVAL, "invalid_field",
                            "province：不能含空格 / province may not contain spaces");
  return rc;
}

static int check_org(const mg_reg_org *o, mg_registry_why *why) {
  int rc;
  int univ = !strcmp(o->kind, "university"), ministry = !strcmp(o->kind, "ministry");
  if (!univ && !ministry && strcmp(o->kind, "province"))
    return mg_registry_refuse(why, MG_EINVAL, "invalid_field",
                              "kind：应为 ministry、province 或 university / kind must be "
                              "\"ministry\", \"province\" or \"university\"");
  if ((rc = mg_registry_check_code("code", o->code, why)) ||
      (rc = mg_registry_check_text("name", o->name, 255, 0, why)))
    return rc;
  if (ministry ? o->province[0] != 0 : mg_registry_check_province(o->province, why) != 0)
    return mg_registry_refuse(why, MG_EINVAL, "invalid_field",
                              ministry ? "province：教育部无省份 / the ministry has no province"
                                       : "province：必填（省级行政区划代码）/ province (code) is "
                                         "required");
  if (univ) return mg_registry_check_url("home_page", o->home_page, why);
  if (o->home_page[0])
    return mg_registry_refuse(why, MG_EINVAL, "invalid_field",
                              "home_page：仅高校需要 / only universities have a home_page");
  return MG_OK;
}

int mg_registry_org_create(mg_store *s, const mg_reg_org *o, int64_t now_us, int64_t *id,
                           mg_registry_why *why) {
  int rc = check_org(o, why);
  if (rc) return rc;
  mg_reg_org row = *o;
  row.created_us = now_us;
  rc = mg_store_reg_org_create(s, &row, id);
  if (rc == MG_EEXISTS)
    return mg_registry_refuse(why, rc, "org_exists",
                              "机构代码或 homePage 已存在 / an organisation with code '%s' or "
                              "this home_page exists",
                              o->code);
  return rc ? mg_registry_refuse(why, rc, "store_error", "%s", mg_strerror(rc)) : MG_OK;
}

int mg_registry_org_update(mg_store *s, const mg_reg_org *o, mg_registry_why *why) {
  mg_reg_org cur;
  int rc = mg_store_reg_org_get(s, o->id, &cur);
  if (rc == MG_ENOTFOUND)
    return mg_registry_refuse(why, rc, "not_found", "机构不存在 / no organisation %lld",
                              (long long)o->id);
  if (rc) return mg_registry_refuse(why, rc, "store_error", "%s", mg_strerror(rc));
  mg_reg_org row = *o;
  snprintf(row.kind, sizeof row.kind, "%s", cur.kind);
  snprintf(row.code, sizeof row.code, "%s", cur.code);
  if (strcmp(cur.kind, "platform") && (rc = check_org(&row, why))) return rc;
  rc = mg_store_reg_org_update(s, &row);
  if (rc == MG_EEXISTS)
    return mg_registry_refuse(why, rc, "org_exists", "homePage 已被占用 / home_page is taken");
  return rc ? mg_registry_refuse(why, rc, "store_error", "%s", mg_strerror(rc)) : MG_OK;
}

int mg_registry_university_get(mg_store *s, int64_t id, mg_reg_org *out, mg_registry_why *why) {
  int rc = mg_store_reg_org_get(s, id, out);
  if (rc == MG_ENOTFOUND || (!rc && strcmp(out->kind, "university")))
    return mg_registry_refuse(why, MG_ENOTFOUND, "university_not_found",
                              "高校不存在 / no university with id %lld", (long long)id);
  return rc ? mg_registry_refuse(why, rc, "store_error", "%s", mg_strerror(rc)) : MG_OK;
}
