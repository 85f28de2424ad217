/* registry/platform.c — filing, list status and the intake switch. */
#include "registry/platform.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/time.h"
#include "registry/org.h"

static int store_fail(mg_registry_why *why, int rc) {
  return mg_registry_refuse(why, rc, "store_error", "存储错误 / store error: %s", mg_strerror(rc));
}

/* Switch changes made in this process bump the generation so the LRS's cached view of the
 * switches (see intake check) is reloaded at once; changes by other processes show within
 * SWITCH_CACHE_US. */
static atomic_uint g_switch_gen;
static void switches_changed(void) { atomic_fetch_add(&g_switch_gen, 1); }

static int get_platform(mg_store *s, int64_t id, mg_reg_platform *p, mg_registry_why *why) {
  int rc = mg_store_reg_platform_get(s, id, p);
  if (rc == MG_ENOTFOUND)
    return mg_registry_refuse(why, rc, "platform_not_found", "平台不存在 / no platform with id %lld",
                              (long long)id);
  return rc ? store_fail(why, rc) : MG_OK;
}

int mg_registry_platform_create(mg_store *s, const mg_reg_org *o, int64_t now_us, int64_t *id,
                                mg_registry_why *why) {
  int rc;
  if ((rc = mg_registry_check_code("code", o->code, why)) ||
      (rc = mg_registry_check_text("name", o->name, 255, 0, why)))
    return rc;
  if (o->province[0] && (rc = mg_registry_check_province(o->province, why))) return rc;
  mg_reg_org row = *o;
  snprintf(row.kind, sizeof row.kind, "platform");
  row.home_page[0] = 0;
  row.created_us = now_us;
  rc = mg_store_reg_platform_create(s, &row, id);
  switches_changed(); /* a new platform id may reuse an old store's cache entry */
  if (rc == MG_EEXISTS)
    return mg_registry_refuse(why, rc, "org_exists", "平台代码已存在 / platform code '%s' exists",
                              o->code);
  return rc ? store_fail(why, rc) : MG_OK;
}

int mg_registry_platform_file(mg_store *s, int64_t id, int mlps_level, const char *filing_no,
                              const char *review_due, int64_t now_us, mg_registry_why *why) {
  mg_reg_platform p;
  int rc = get_platform(s, id, &p, why);
  if (rc) return rc;
  if (mlps_level > 5)
    return mg_registry_refuse(why, MG_EINVAL, "invalid_field",
                              "mlps_level：等级保护等级为 1 至 5 / mlps_level must be 1 to 5");
  if (mlps_level < 3)
    return mg_registry_refuse(why, MG_EINVAL, "mlps_below_3",
                              "mlps_level：提供学分课程的平台安全保护等级不应低于第三级（教高〔2022〕1号"
                              "第11条）/ a credit-course platform must be filed at MLPS level 3 "
                              "or above (got %d)",
                              mlps_level);
  if ((rc = mg_registry_check_text("filing_no", filing_no, 63, 0, why)) ||
      (rc = mg_registry_check_date("review_due", review_due, why)))
    return rc;
  rc = mg_store_reg_platform_set_filing(s, id, mlps_level, filing_no, review_due, now_us);
  return rc ? store_fail(why, rc) : MG_OK;
}

static int review_overdue(const mg_reg_platform *p, int64_t now_us, mg_registry_why *why) {
  int64_t days = 0;
  if (mg_registry_days_since(p->review_due, now_us, &days) == MG_OK && days > 0)
    return mg_registry_refuse(why, MG_ECONFLICT, "filing_review_overdue",
                              "平台 %s 年度备案审核已逾期（应于 %s 前）/ the annual filing review of "
                              "platform %s was due on %s",
                              p->org.code, p->review_due, p->org.code, p->review_due);
  return MG_OK;
}

int mg_registry_platform_set_status(mg_store *s, int64_t id, const char *status,
                                    const char *reason, const char *by, int64_t now_us,
                                    mg_registry_why *why) {
  mg_reg_platform p;
  int rc = get_platform(s, id, &p, why);
  if (rc) return rc;
  if (!status || (strcmp(status, "whitelist") && strcmp(status, "pending") &&
                  strcmp(status, "blacklist")))
    return mg_registry_refuse(why, MG_EINVAL, "invalid_field",
                              "status：应为 whitelist、pending 或 blacklist / status must be "
                              "\"whitelist\", \"pending\" or \"blacklist\"");
  if ((rc = mg_registry_check_text("reason", reason, 500, 0, why))) return rc;
  if (!strcmp(status, "whitelist")) {
    if (p.mlps_level < 3 || !p.filing_no[0])
      return mg_registry_refuse(why, MG_ECONFLICT, "platform_not_filed",
                                "平台未完成备案（等保三级及以上）不能进入白名单 / platform %s is not "
                                "filed at MLPS level 3 or above and cannot be whitelisted",
                                p.org.code);
    if ((rc = review_overdue(&p, now_us, why))) return rc;
  }
  rc = mg_store_reg_platform_set_status(s, id, status, reason, by, now_us);
  return rc ? store_fail(why, rc) : MG_OK;
}

int mg_registry_platform_selectable(const mg_reg_platform *p, int64_t now_us,
                                    mg_registry_why *why) {
  if (strcmp(p->status, "whitelist"))
    return mg_registry_refuse(why, MG_ECONFLICT, "platform_not_whitelisted",
                              "高校必须从列入白名单的平台上选用学分课程（第17条）；平台 %s 当前为 %s / "
                              "credit courses may be selected only from whitelisted platforms; "
                              "platform %s is %s",
                              p->org.code, p->status, p->org.code, p->status);
  return review_overdue(p, now_us, why);
}

int mg_registry_switch_stop(mg_store *s, const mg_reg_switch *w, const char *by, int64_t now_us,
                            int64_t *id, mg_registry_why *why) {
  mg_reg_platform p;
  int rc = get_platform(s, w->platform_id, &p, why);
  if (rc) return rc;
  mg_reg_switch row = *w;
  if (!strcmp(w->scope, "national")) {
    row.province[0] = 0;
    row.university_id = 0;
  } else if (!strcmp(w->scope, "province")) {
    if ((rc = mg_registry_check_province(w->province, why))) return rc;
    row.university_id = 0;
  } else if (!strcmp(w->scope, "university")) {
    mg_reg_org u;
    if ((rc = mg_registry_university_get(s, w->university_id, &u, why))) return rc;
    snprintf(row.province, sizeof row.province, "%s", u.province);
  } else {
    return mg_registry_refuse(why, MG_EINVAL, "invalid_field",
                              "scope：应为 national、province 或 university / scope must be "
                              "\"national\", \"province\" or \"university\"");
  }
  if ((rc = mg_registry_check_text("reason", w->reason, 500, 0, why))) return rc;
  snprintf(row.stopped_by, sizeof row.stopped_by, "%s", by);
  row.stopped_us = now_us;
  row.lifted_by[0] = 0;
  row.lifted_us = 0;
  rc = mg_store_reg_switch_add(s, &row, id);
  switches_changed();
  return rc ? store_fail(why, rc) : MG_OK;
}

int mg_registry_switch_lift(mg_store *s, int64_t platform_id, int64_t id, const char *by,
                            int64_t now_us, mg_registry_why *why) {
  mg_reg_switch w;
  int rc = mg_store_reg_switch_get(s, id, &w);
  if (rc == MG_ENOTFOUND || (!rc && w.platform_id != platform_id))
    return mg_registry_refuse(why, MG_ENOTFOUND, "switch_not_found",
                              "开关不存在 / platform %lld has no switch %lld", (long long)platform_id,
                              (long long)id);
  if (rc) return store_fail(why, rc);
  if (w.lifted_us)
    return mg_registry_refuse(why, MG_ECONFLICT, "switch_lifted",
                              "开关已解除 / switch %lld was already lifted", (long long)id);
  rc = mg_store_reg_switch_lift(s, id, by, now_us);
  switches_changed();
  return rc ? store_fail(why, rc) : MG_OK;
}

/* ---- intake check ------------------------------------------------------------------------ */

typedef struct sw_set {
  mg_reg_switch *w;
  int n, cap;
  int national; /* index + 1 of a national switch */
} sw_set;

static int collect_sw(void *ud, const mg_reg_switch *w) {
  sw_set *ss = ud;
  if (ss->n == ss->cap) {
    int cap = ss->cap ? 2 * ss->cap : 8;
    mg_reg_switch *nw = realloc(ss->w, (size_t)cap * sizeof *nw);
    if (!nw) return MG_ENOMEM;
    ss->w = nw;
    ss->cap = cap;
  }
  ss->w[ss->n++] = *w;
  if (!strcmp(w->scope, "national") && !ss->national) ss->national = ss->n;
  return MG_OK;
}

static const char *home_page_of(const mg_json *st) {
  const mg_json *acct = mg_json_object_get(mg_json_object_get(st, "actor"), "account");
  return mg_json_string_value(mg_json_object_get(acct, "homePage"));
}

static int check_statements(mg_store *s, const sw_set *ss, const mg_json *statements,
                            mg_registry_why *why);

/* The active switches of every platform, cached so that statement intake does not wait on the
 * governance connection (a long roster import holds it): one reload per generation change or
 * SWITCH_CACHE_US, done by one request while the others keep using the previous view. */
#define SWITCH_CACHE_US 1000000
static pthread_mutex_t g_cache_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
  const mg_store *s;
  unsigned gen;
  int64_t at_us;
  int loading;
  sw_set all;
} g_cache;

static int copy_platform(const sw_set *all, int64_t platform_id, sw_set *out) {
  for (int i = 0; i < all->n; i++)
    if (all->w[i].platform_id == platform_id && collect_sw(out, &all->w[i])) return MG_ENOMEM;
  return MG_OK;
}

/* The platform's active switches into *ss (caller frees ss->w). */
static int active_switches(mg_store *s, int64_t platform_id, sw_set *ss) {
  unsigned gen = atomic_load(&g_switch_gen);
  int64_t now = mg_time_mono_us();
  pthread_mutex_lock(&g_cache_mu);
  int fresh = g_cache.s == s && g_cache.gen == gen && now - g_cache.at_us < SWITCH_CACHE_US;
  int have = g_cache.s == s;
  if (fresh || (have && g_cache.loading)) { /* someone else is reloading: use what we have */
    int rc = copy_platform(&g_cache.all, platform_id, ss);
    pthread_mutex_unlock(&g_cache_mu);
    return rc;
  }
  g_cache.loading = 1;
  pthread_mutex_unlock(&g_cache_mu);

  sw_set all = {NULL, 0, 0, 0};
  int rc = mg_store_reg_switch_list(s, 0, 1, collect_sw, &all);
  pthread_mutex_lock(&g_cache_mu);
  g_cache.loading = 0;
  if (rc) {
    pthread_mutex_unlock(&g_cache_mu);
    free(all.w);
    return rc;
  }
  free(g_cache.all.w);
  g_cache.all = all;
  g_cache.s = s;
  g_cache.gen = gen; /* read before the query: a change meanwhile triggers another reload */
  g_cache.at_us = now;
  rc = copy_platform(&g_cache.all, platform_id, ss);
  pthread_mutex_unlock(&g_cache_mu);
  return rc;
}

int mg_registry_intake_check(mg_store *s, int64_t platform_id, const mg_json *statements,
                             mg_registry_why *why) {
  if (platform_id <= 0) return MG_OK;
  sw_set ss = {NULL, 0, 0, 0};
  int rc = active_switches(s, platform_id, &ss);
  if (rc == MG_ENOTSUP) rc = MG_OK; /* a backend without a registry has no switches */
  else if (rc) rc = store_fail(why, rc);
  else if (ss.national) {
    const mg_reg_switch *w = &ss.w[ss.national - 1];
    rc = mg_registry_refuse(why, MG_EFORBIDDEN, "platform_suspended",
                            "监管部门已停止本平台学分课程数据接入（全国，开关 %lld：%s）/ the "
                            "regulator has stopped this platform's credit-course intake "
                            "nationally (switch %lld)",
                            (long long)w->id, w->reason, (long long)w->id);
  } else if (ss.n) {
    rc = check_statements(s, &ss, statements, why);
  }
  free(ss.w);
  return rc;
}

static int check_statements(mg_store *s, const sw_set *ss, const mg_json *statements,
                            mg_registry_why *why) {
  int rc;
  int batch = mg_json_is_array(statements);
  size_t n = batch ? mg_json_array_size(statements) : 1;
  /* one lookup per distinct homePage; batches usually carry one or a few universities */
  enum { SEEN = 8 };
  const char *seen[SEEN];
  mg_reg_org seen_org[SEEN];
  int seen_found[SEEN];
  size_t n_seen = 0;
  for (size_t i = 0; i < n; i++) {
    const mg_json *st = batch ? mg_json_array_get(statements, i) : statements;
    const char *hp = home_page_of(st);
    if (!hp) continue;
    mg_reg_org u, *up = NULL;
    size_t k;
    for (k = 0; k < n_seen; k++)
      if (!strcmp(seen[k], hp)) break;
    if (k < n_seen) {
      up = seen_found[k] ? &seen_org[k] : NULL;
    } else {
      rc = mg_store_reg_org_by_home_page(s, hp, &u);
      if (rc && rc != MG_ENOTFOUND) return store_fail(why, rc);
      up = rc || strcmp(u.kind, "university") ? NULL : &u;
      if (n_seen < SEEN) {
        seen[n_seen] = hp;
        seen_found[n_seen] = up != NULL;
        if (up) seen_org[n_seen] = u;
        n_seen++;
      }
    }
    if (!up) continue;
    for (int j = 0; j < ss->n; j++) {
      const mg_reg_switch *w = &ss->w[j];
      int prov = !strcmp(w->scope, "province");
      int hit = (!strcmp(w->scope, "university") && w->university_id == up->id) ||
                (prov && !strcmp(w->province, up->province));
      if (!hit) continue;
      char where[32];
      if (batch) snprintf(where, sizeof where, "[%zu]", i);
      else snprintf(where, sizeof where, "statement");
      return mg_registry_refuse(
          why, MG_EFORBIDDEN, "platform_suspended",
          "监管部门已停止本平台在%s范围内的学分课程数据接入（开关 %lld：%s）/ the regulator has "
          "stopped this platform's credit-course intake for %s %s (switch %lld): %s.actor "
          "belongs to university %s",
          prov ? "本省" : "该校", (long long)w->id, w->reason, w->scope,
          prov ? w->province : up->code, (long long)w->id, where, up->code);
    }
  }
  return MG_OK;
}
