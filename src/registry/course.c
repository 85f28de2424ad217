/* registry/course.c — recommendation, submission, review, publication and freshness. */
#include "registry/course.h"

#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "registry/org.h"

static const char *const KINDS[3] = {"content", "ideology", "quality"};
static const char *const KINDS_ZH[3] = {"内容审查", "意识形态审查", "质量审查"};

static int store_fail(mg_registry_why *why, int rc) {
  return mg_registry_refuse(why, rc, "store_error", "存储错误 / store error: %s", mg_strerror(rc));
}

static int check_not_future(const char *field, const char *date, int64_t now_us,
                            mg_registry_why *why) {
  int rc = mg_registry_check_date(field, date, why);
  if (rc) return rc;
  int64_t days = 0;
  mg_registry_days_since(date, now_us, &days);
  if (days < 0)
    return mg_registry_refuse(why, MG_EINVAL, "invalid_field",
                              "%s：不能晚于今天 / %s is in the future", field, field);
  return MG_OK;
}

int mg_registry_recommend(mg_store *s, const mg_reg_recommendation *r, const char *by,
                          int64_t now_us, int64_t *id, mg_registry_why *why) {
  mg_reg_org u;
  mg_reg_platform p;
  int rc = mg_registry_university_get(s, r->university_id, &u, why);
  if (rc) return rc;
  rc = mg_store_reg_platform_get(s, r->platform_id, &p);
  if (rc == MG_ENOTFOUND)
    return mg_registry_refuse(why, rc, "platform_not_found", "平台不存在 / no platform with id %lld",
                              (long long)r->platform_id);
  if (rc) return store_fail(why, rc);
  if ((rc = mg_registry_check_text("title", r->title, 255, 0, why)) ||
      (rc = mg_registry_check_text("lead_teacher", r->lead_teacher, 127, 0, why)) ||
      (rc = mg_registry_check_text("letter_no", r->letter_no, 63, 0, why)))
    return rc;
  mg_reg_recommendation row = *r;
  snprintf(row.recommended_by, sizeof row.recommended_by, "%s", by);
  row.recommended_us = now_us;
  row.course_id = 0;
  rc = mg_store_reg_rec_create(s, &row, id);
  return rc ? store_fail(why, rc) : MG_OK;
}

int mg_registry_course_submit(mg_store *s, const mg_reg_course *c, const char *by, int64_t now_us,
                              int64_t *id, mg_registry_why *why) {
  if (c->recommendation_id <= 0)
    return mg_registry_refuse(why, MG_ECONFLICT, "recommendation_required",
                              "未经高校审查并正式推荐的课程不得受理（第12条）/ a course needs a "
                              "university's recommendation: recommendation_id is required");
  mg_reg_recommendation r;
  int rc = mg_store_reg_rec_get(s, c->recommendation_id, &r);
  if (rc == MG_ENOTFOUND)
    return mg_registry_refuse(why, MG_ECONFLICT, "recommendation_required",
                              "高校推荐不存在 / no recommendation %lld",
                              (long long)c->recommendation_id);
  if (rc) return store_fail(why, rc);
  if (r.platform_id != c->platform_id)
    return mg_registry_refuse(why, MG_ECONFLICT, "recommendation_mismatch",
                              "该推荐是给另一平台的 / recommendation %lld was made to platform %lld, "
                              "not %lld",
                              (long long)r.id, (long long)r.platform_id, (long long)c->platform_id);
  if (r.course_id)
    return mg_registry_refuse(why, MG_ECONFLICT, "recommendation_used",
                              "该推荐已用于课程 %lld / recommendation %lld is already used by "
                              "course %lld",
                              (long long)r.course_id, (long long)r.id, (long long)r.course_id);
  mg_reg_course row = *c;
  if (!row.title[0]) snprintf(row.title, sizeof row.title, "%s", r.title);
  if (!row.lead_teacher[0]) snprintf(row.lead_teacher, sizeof row.lead_teacher, "%s", r.lead_teacher);
  if ((rc = mg_registry_check_code("code", row.code, why)) ||
      (rc = mg_registry_check_text("title", row.title, 255, 0, why)) ||
      (rc = mg_registry_check_text("lead_teacher", row.lead_teacher, 127, 0, why)) ||
      (rc = mg_registry_check_text("iri", row.iri, 500, 0, why)) ||
      (rc = check_not_future("content_updated", row.content_updated, now_us, why)))
    return rc;
  if (strncmp(row.iri, "https://", 8) && strncmp(row.iri, "http://", 7))
    return mg_registry_refuse(why, MG_EINVAL, "invalid_field",
                              "iri：应为 http(s) IRI / iri must be an http(s) IRI");
  row.university_id = r.university_id;
  snprintf(row.status, sizeof row.status, "reviewing");
  snprintf(row.submitted_by, sizeof row.submitted_by, "%s", by);
  row.submitted_us = now_us;
  rc = mg_store_reg_course_create(s, &row, id);
  if (rc == MG_EEXISTS)
    return mg_registry_refuse(why, rc, "course_exists",
                              "课程代码或 IRI 已存在 / a course with code '%s' on this platform or "
                              "with this iri exists",
                              row.code);
  if (rc == MG_ECONFLICT)
    return mg_registry_refuse(why, rc, "recommendation_used", "该推荐已被使用 / recommendation used");
  return rc ? store_fail(why, rc) : MG_OK;
}

typedef struct latest_ctx {
  mg_reg_review *latest;
  int *has;
} latest_ctx;

static int take_latest(void *ud, const mg_reg_review *r) {
  latest_ctx *lc = ud;
  for (int k = 0; k < 3; k++)
    if (!strcmp(r->kind, KINDS[k])) {
      lc->latest[k] = *r; /* oldest first: the last one seen wins */
      lc->has[k] = 1;
    }
  return MG_OK;
}

int mg_registry_course_review_state(mg_store *s, int64_t course_id, mg_reg_review latest[3],
                                    int has[3]) {
  memset(has, 0, 3 * sizeof *has);
  latest_ctx lc = {latest, has};
  return mg_store_reg_review_list(s, course_id, take_latest, &lc);
}

static int get_course(mg_store *s, int64_t id, mg_reg_course *c, mg_registry_why *why) {
  int rc = mg_store_reg_course_get(s, id, c);
  if (rc == MG_ENOTFOUND)
    return mg_registry_refuse(why, rc, "course_not_found", "课程不存在 / no course with id %lld",
                              (long long)id);
  return rc ? store_fail(why, rc) : MG_OK;
}

int mg_registry_course_review(mg_store *s, int64_t course_id, const char *kind,
                              const char *verdict, const char *opinion, const char *reviewer,
                              int64_t now_us, char status[16], mg_registry_why *why) {
  mg_reg_course c;
  int rc = get_course(s, course_id, &c, why);
  if (rc) return rc;
  int k;
  for (k = 0; k < 3; k++)
    if (kind && !strcmp(kind, KINDS[k])) break;
  if (k == 3)
    return mg_registry_refuse(why, MG_EINVAL, "invalid_field",
                              "kind：应为 content、ideology 或 quality / kind must be \"content\", "
                              "\"ideology\" or \"quality\"");
  if (!verdict || (strcmp(verdict, "pass") && strcmp(verdict, "fail")))
    return mg_registry_refuse(why, MG_EINVAL, "invalid_field",
                              "verdict：应为 pass 或 fail / verdict must be \"pass\" or \"fail\"");
  if ((rc = mg_registry_check_text("opinion", opinion, 1000, 0, why))) return rc;
  if (strcmp(c.status, "reviewing"))
    return mg_registry_refuse(why, MG_ECONFLICT, "course_not_in_review",
                              "课程状态为 %s，不在审查中 / course %lld is %s, not in review",
                              c.status, (long long)c.id, c.status);
  mg_reg_review r;
  memset(&r, 0, sizeof r);
  r.course_id = course_id;
  snprintf(r.kind, sizeof r.kind, "%s", kind);
  snprintf(r.verdict, sizeof r.verdict, "%s", verdict);
  snprintf(r.reviewer, sizeof r.reviewer, "%s", reviewer);
  snprintf(r.opinion, sizeof r.opinion, "%s", opinion);
  r.reviewed_us = now_us;
  if ((rc = mg_store_reg_review_add(s, &r, NULL))) return store_fail(why, rc);
  mg_reg_review latest[3];
  int has[3];
  if ((rc = mg_registry_course_review_state(s, course_id, latest, has))) return store_fail(why, rc);
  const char *next = "approved";
  for (int j = 0; j < 3; j++) {
    if (has[j] && !strcmp(latest[j].verdict, "fail")) {
      next = "rejected";
      break;
    }
    if (!has[j]) next = "reviewing";
  }
  if (strcmp(next, c.status) && (rc = mg_store_reg_course_set_status(s, course_id, next)))
    return store_fail(why, rc);
  if (status) snprintf(status, 16, "%s", next);
  return MG_OK;
}

int mg_registry_course_publish(mg_store *s, int64_t course_id, int online, mg_registry_why *why) {
  mg_reg_course c;
  int rc = get_course(s, course_id, &c, why);
  if (rc) return rc;
  int ok = online ? (!strcmp(c.status, "approved") || !strcmp(c.status, "offline"))
                  : !strcmp(c.status, "online");
  if (!ok)
    return mg_registry_refuse(why, MG_ECONFLICT, online ? "course_not_approved" : "course_not_online",
                              online ? "达不到基本规范要求（未通过三项审查）的课程不得上线（第12条）；课程状态为 "
                                       "%s / a course goes online only after passing review; "
                                       "course is %s"
                                     : "课程未上线（%s）/ the course is not online (%s)",
                              c.status, c.status);
  rc = mg_store_reg_course_set_status(s, course_id, online ? "online" : "offline");
  return rc ? store_fail(why, rc) : MG_OK;
}

int mg_registry_course_touch(mg_store *s, int64_t course_id, const char *date, int64_t now_us,
                             mg_registry_why *why) {
  mg_reg_course c;
  int rc = get_course(s, course_id, &c, why);
  if (rc) return rc;
  if ((rc = check_not_future("content_updated", date, now_us, why))) return rc;
  rc = mg_store_reg_course_set_updated(s, course_id, date);
  return rc ? store_fail(why, rc) : MG_OK;
}

int mg_registry_course_selectable(mg_store *s, const mg_reg_course *c, int64_t now_us,
                                  int64_t *age_days, mg_registry_why *why) {
  int64_t age = 0, max_age = 0;
  mg_registry_days_since(c->content_updated, now_us, &age);
  if (age_days) *age_days = age;
  if (strcmp(c->status, "approved") && strcmp(c->status, "online")) {
    mg_reg_review latest[3];
    int has[3];
    char missing[160] = "";
    size_t o = 0;
    if (mg_registry_course_review_state(s, c->id, latest, has) == MG_OK)
      for (int k = 0; k < 3; k++)
        if (!has[k] || strcmp(latest[k].verdict, "pass"))
          o += (size_t)snprintf(missing + o, o < sizeof missing ? sizeof missing - o : 0, "%s%s%s",
                                o ? "、" : "", KINDS_ZH[k], has[k] ? "未通过" : "未完成");
    return mg_registry_refuse(why, MG_ECONFLICT, "course_not_approved",
                              "课程未通过审查，不得选用（第2条）：%s / course %lld is %s and cannot "
                              "be selected until its content, ideology and quality reviews pass",
                              missing[0] ? missing : c->status, (long long)c->id, c->status);
  }
  mg_registry_max_content_age(s, &max_age);
  if (age > max_age)
    return mg_registry_refuse(why, MG_ECONFLICT, "course_stale",
                              "不得选用内容陈旧的课程（第2条）：内容最后更新于 %s，已 %lld 天（上限 %lld 天）/ "
                              "course content was last updated on %s, %lld days ago (limit %lld)",
                              c->content_updated, (long long)age, (long long)max_age,
                              c->content_updated, (long long)age, (long long)max_age);
  return MG_OK;
}
