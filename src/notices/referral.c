/* notices/referral.c — referral packages built from a case and its evidence. */
#include "notices/referral.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/err.h"
#include "core/json.h"
#include "core/time.h"
#include "crypto/crypto.h"
#include "store/store_cases.h"

static const struct {
  const char *code, *zh, *en;
} DEPARTMENTS[] = {
    {"cac", "网信部门", "Cyberspace Administration"},
    {"telecom", "电信主管部门", "Telecommunications authority"},
    {"police", "公安部门", "Public security"},
    {"samr", "市场监管部门", "Market regulation"},
};

static int fail(mg_case_err *err, int rc, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(mg_case_err *err, int rc, const char *code, const char *fmt, ...) {
  if (err) {
    snprintf(err->code, sizeof err->code, "%s", code);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
  }
  return rc;
}

/* A set of strings (JSON array) without repeats. */
static int add_unique(mg_arena *a, mg_json *set, const char *v) {
  size_t i;
  mg_json *x;
  mg_json_array_foreach(set, i, x) {
    if (!strcmp(mg_json_string_value(x), v)) return MG_OK;
  }
  mg_json *s = mg_json_string(a, v);
  return s ? mg_json_array_append(a, set, s) : MG_ENOMEM;
}

typedef struct harvest {
  mg_arena *a;
  mg_json *accounts, *devices, *ips;
} harvest;

static mg_json *bucket(harvest *h, const char *key) {
  static const char *const ip_keys[] = {"ip", "ips", "client_ip", "source_ip", "ip_address"};
  static const char *const dev_keys[] = {"device", "devices", "device_id", "device_ids"};
  static const char *const acct_keys[] = {"account", "accounts", "actor", "actors", "student",
                                          "students", "shared_accounts"};
  for (size_t i = 0; i < sizeof ip_keys / sizeof ip_keys[0]; i++)
    if (!strcmp(key, ip_keys[i])) return h->ips;
  for (size_t i = 0; i < sizeof dev_keys / sizeof dev_keys[0]; i++)
    if (!strcmp(key, dev_keys[i])) return h->devices;
  for (size_t i = 0; i < sizeof acct_keys / sizeof acct_keys[0]; i++)
    if (!strcmp(key, acct_keys[i])) return h->accounts;
  return NULL;
}

/* Collects string values (or arrays of strings) under known key names anywhere in v. */
static int collect(harvest *h, const mg_json *v, int depth) {
  if (depth > 32) return MG_OK;
  int rc = MG_OK;
  if (mg_json_is_object(v)) {
    const char *k;
    mg_json *x;
    mg_json_object_foreach(v, k, x) {
      if (rc) break;
      mg_json *set = bucket(h, k);
      if (set && mg_json_is_string(x)) {
        rc = add_unique(h->a, set, mg_json_string_value(x));
      } else if (set && mg_json_is_array(x)) {
        size_t i;
        mg_json *y;
        mg_json_array_foreach(x, i, y) {
          if (!rc && mg_json_is_string(y)) rc = add_unique(h->a, set, mg_json_string_value(y));
        }
      }
      if (!rc) rc = collect(h, x, depth + 1);
    }
  } else if (mg_json_is_array(v)) {
    size_t i;
    mg_json *y;
    mg_json_array_foreach(v, i, y) {
      if (!rc) rc = collect(h, y, depth + 1);
    }
  }
  return rc;
}

typedef struct items_ctx {
  harvest *h;
  mg_json *evidence;
  int rc;
} items_ctx;

static int item_row(void *ud, const mg_store_inbox_item *it) {
  items_ctx *c = ud;
  mg_arena *a = c->h->a;
  mg_json *ev = mg_json_parse(a, it->evidence, strlen(it->evidence), 0, NULL);
  if (!ev) return MG_ECORRUPT;
  int rc = collect(c->h, ev, 0);
  mg_json *o = mg_json_object(a);
  char at[MG_TIME_ISO_LEN];
  mg_time_format_iso(it->received_us, 3, at);
  if (!o) return MG_ENOMEM;
  if (!rc) rc = mg_json_object_set(a, o, "inbox_item", mg_json_integer(a, it->id));
  if (!rc) rc = mg_json_object_set(a, o, "source", mg_json_string(a, it->source));
  if (!rc && it->finding_id)
    rc = mg_json_object_set(a, o, "finding_id", mg_json_integer(a, it->finding_id));
  if (!rc) rc = mg_json_object_set(a, o, "type", mg_json_string(a, it->type));
  if (!rc) rc = mg_json_object_set(a, o, "summary", mg_json_string(a, it->summary));
  if (!rc) rc = mg_json_object_set(a, o, "received_at", mg_json_string(a, at));
  if (!rc) rc = mg_json_object_set(a, o, "evidence", ev);
  if (!rc) rc = mg_json_array_append(a, c->evidence, o);
  return rc;
}

int mg_notices_referral(mg_store *s, int64_t case_id, const char *department,
                        const char *created_by, int64_t now_us, mg_buf *package, int64_t *id_out,
                        char *digest, mg_case_err *err) {
  if (!s || !package || !created_by || !*created_by || strlen(created_by) >= MG_CASES_NAME_MAX)
    return fail(err, MG_EINVAL, "invalid", "bad call");
  int d = -1;
  for (int i = 0; i < 4; i++)
    if (department && !strcmp(department, DEPARTMENTS[i].code)) d = i;
  if (d < 0)
    return fail(err, MG_EINVAL, "invalid",
                "department '%.40s' is not one of cac, telecom, police, samr",
                department ? department : "");
  mg_store_case c;
  int rc = mg_cases_get(s, case_id, &c, err);
  if (rc) return rc;
  if (strcmp(c.state, "verified") && strcmp(c.state, "appealed") &&
      strcmp(c.state, "appeal_rejected"))
    return fail(err, MG_ECONFLICT, "not_referable",
                "case %lld is %s: only a verified case whose verdict stands can be referred",
                (long long)case_id, c.state);
  if (!c.service_involved)
    return fail(err, MG_ECONFLICT, "not_referable",
                "case %lld is not marked as involving a brushing service", (long long)case_id);
  mg_arena a;
  mg_arena_init(&a, 0, 64u << 20);
  harvest h = {&a, mg_json_array(&a), mg_json_array(&a), mg_json_array(&a)};
  mg_json *evidence = mg_json_array(&a), *root = mg_json_object(&a), *cs = mg_json_object(&a);
  char at[MG_TIME_ISO_LEN], decided[MG_TIME_ISO_LEN], dg[65];
  if (!h.accounts || !h.devices || !h.ips || !evidence || !root || !cs) {
    rc = fail(err, MG_ENOMEM, "store", "out of memory");
    goto out;
  }
  items_ctx ic = {&h, evidence, 0};
  if ((rc = mg_store_inbox_of_case(s, case_id, item_row, &ic))) {
    rc = fail(err, rc, "store", "the evidence of case %lld could not be read", (long long)case_id);
    goto out;
  }
  /* The case's own student account leads the account list. */
  char self[64];
  snprintf(self, sizeof self, "student:%lld", (long long)c.student_id);
  mg_json *accounts = mg_json_array(&a);
  if (!accounts || add_unique(&a, accounts, self)) goto oom;
  size_t i;
  mg_json *x;
  mg_json_array_foreach(h.accounts, i, x) {
    if (add_unique(&a, accounts, mg_json_string_value(x))) goto oom;
  }
  mg_time_format_iso(now_us, 3, at);
  mg_time_format_iso(c.decided_us, 3, decided);
#define SET(o, k, v)                                         \
  do {                                                       \
    mg_json *v_ = (v);                                       \
    if (!v_ || mg_json_object_set(&a, (o), (k), v_)) goto oom; \
  } while (0)
  SET(cs, "id", mg_json_integer(&a, c.id));
  SET(cs, "type", mg_json_string(&a, c.type));
  SET(cs, "state", mg_json_string(&a, c.state));
  SET(cs, "university_id", mg_json_integer(&a, c.university_id));
  SET(cs, "platform_id", mg_json_integer(&a, c.platform_id));
  SET(cs, "course_id", mg_json_integer(&a, c.course_id));
  SET(cs, "registration", mg_json_string(&a, c.registration));
  SET(cs, "service", mg_json_string(&a, c.service_note));
  SET(cs, "decided_at", mg_json_string(&a, decided));
  SET(cs, "decision_reason", mg_json_string(&a, c.decision_reason));
  SET(cs, "decision_tag", mg_json_string(&a, c.mac));
  SET(root, "format", mg_json_string(&a, "moocguard.referral.v1"));
  SET(root, "title", mg_json_string(&a, "“刷课”“替课”“刷考”“替考”线索移送材料"));
  SET(root, "department", mg_json_string(&a, DEPARTMENTS[d].code));
  SET(root, "department_name", mg_json_string(&a, DEPARTMENTS[d].zh));
  SET(root, "department_name_en", mg_json_string(&a, DEPARTMENTS[d].en));
  SET(root, "created_at", mg_json_string(&a, at));
  SET(root, "created_by", mg_json_string(&a, created_by));
  SET(root, "case", cs);
  SET(root, "accounts", accounts);
  SET(root, "devices", h.devices);
  SET(root, "ips", h.ips);
  SET(root, "evidence", evidence);
#undef SET
  size_t start = package->len;
  if ((rc = mg_json_dump(root, package))) {
    rc = fail(err, rc, "store", "the package is too large");
    goto out;
  }
  if ((rc = mg_sm3_hex(package->data + start, package->len - start, dg))) {
    rc = fail(err, rc, "store", "digest failed");
    goto out;
  }
  mg_store_referral r;
  memset(&r, 0, sizeof r);
  r.case_id = case_id;
  snprintf(r.department, sizeof r.department, "%s", DEPARTMENTS[d].code);
  snprintf(r.created_by, sizeof r.created_by, "%s", created_by);
  r.created_us = now_us;
  r.package = package->data + start;
  snprintf(r.digest, sizeof r.digest, "%s", dg);
  if ((rc = mg_store_referral_add(s, &r, id_out))) {
    rc = fail(err, rc, "store", "the referral could not be stored");
    goto out;
  }
  if (digest) memcpy(digest, dg, 65);
  rc = MG_OK;
  goto out;
oom:
  rc = fail(err, MG_ENOMEM, "store", "out of memory");
out:
  mg_arena_free(&a);
  return rc;
}
