/* Tests for xapi/statement.c: completing, indexing, comparing and rendering statements. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/time.h"
#include "core/uuid.h"
#include "xapi/statement.h"

/* Every test's values live in this arena, set up and freed around each test. */
static mg_arena A;

static int arena_setup(void **state) {
  mg_arena_init(&A, 0, 0);
  return 0;
}

static int arena_teardown(void **state) {
  mg_arena_free(&A);
  return 0;
}

/* 2024-03-01T08:30:15.250Z */
#define STORED_US 1709281815250000LL
#define STORED_TXT "2024-03-01T08:30:15.250Z"

static mg_json *load_in(mg_arena *a, const char *text) {
  mg_json_error err;
  mg_json *j = mg_json_parse(a, text, strlen(text), 0, &err);
  if (!j) fprintf(stderr, "bad test JSON at %d:%d: %s\n", err.line, err.column, err.text);
  assert_non_null(j);
  return j;
}

static mg_json *load(const char *text) { return load_in(&A, text); }

static const char *get_str(const mg_json *root, const char *path) {
  /* dotted path; a numeric segment indexes an array */
  char buf[256];
  snprintf(buf, sizeof buf, "%s", path);
  const mg_json *cur = root;
  for (char *save = NULL, *seg = strtok_r(buf, ".", &save); seg; seg = strtok_r(NULL, ".", &save)) {
    if (mg_json_is_array(cur)) {
      char *end;
      long i = strtol(seg, &end, 10);
      assert_true(*end == '\0');
      cur = mg_json_array_get(cur, (size_t)i);
    } else {
      cur = mg_json_object_get(cur, seg);
    }
    if (!cur) return NULL;
  }
  return mg_json_string_value(cur);
}

static const mg_json *get(const mg_json *root, const char *path) {
  char buf[256];
  snprintf(buf, sizeof buf, "%s", path);
  const mg_json *cur = root;
  for (char *save = NULL, *seg = strtok_r(buf, ".", &save); seg && cur;
       seg = strtok_r(NULL, ".", &save)) {
    if (mg_json_is_array(cur)) {
      char *end;
      long i = strtol(seg, &end, 10);
      cur = mg_json_array_get(cur, (size_t)i);
    } else {
      cur = mg_json_object_get(cur, seg);
    }
  }
  return cur;
}

static size_t count_str(const char *const *arr, size_t n, const char *s) {
  size_t c = 0;
  for (size_t i = 0; i < n; i++)
    if (!strcmp(arr[i], s)) c++;
  return c;
}

static mg_json *authority_agent(mg_arena *a) {
  return load_in(a, "{\"objectType\":\"Agent\",\"name\":\"Platform A\","
                 "\"account\":{\"homePage\":\"https://lrs.example.cn\",\"name\":\"platform-a\"}}");
}

/* ---- prepare ---------------------------------------------------------------------------- */

static void test_prepare_v103_defaults(void **state) {
  mg_json *s = load("{\"actor\":{\"mbox\":\"mailto:a@example.org\"},"
                    "\"verb\":{\"id\":\"http://adlnet.gov/expapi/verbs/attended\"},"
                    "\"object\":{\"id\":\"http://example.org/act/1\"},"
                    "\"stored\":\"2001-01-01T00:00:00Z\","
                    "\"authority\":{\"mbox\":\"mailto:forged@example.org\"}}");
  mg_arena caller; /* the authority is the caller's, in an arena that outlives the statement */
  mg_arena_init(&caller, 0, 0);
  mg_json *auth = authority_agent(&caller);
  assert_int_equal(mg_xapi_prepare(&A, s, MG_XAPI_V103, STORED_US, auth), MG_OK);

  const char *id = get_str(s, "id");
  assert_non_null(id);
  uint8_t raw[16];
  char canon[MG_UUID_STR_LEN];
  assert_int_equal(mg_uuid_parse(id, raw), MG_OK);
  mg_uuid_format(raw, canon);
  assert_string_equal(id, canon);           /* lower-case canonical form */
  assert_int_equal(raw[6] >> 4, 4);         /* version 4 */
  assert_int_equal(raw[8] & 0xc0, 0x80);    /* RFC 4122 variant */

  assert_string_equal(get_str(s, "stored"), STORED_TXT);
  assert_string_equal(get_str(s, "timestamp"), STORED_TXT);
  assert_string_equal(get_str(s, "version"), "1.0.0");
  assert_ptr_equal(mg_json_object_get(s, "authority"), auth);
  /* linked, not copied (no refcounts): the caller's value is left exactly as it was */
  assert_int_equal(mg_json_object_size(auth), 3);
  assert_string_equal(get_str(auth, "name"), "Platform A");
  assert_string_equal(get_str(s, "authority.account.name"), "platform-a");
  mg_arena_free(&caller);
}

static void test_prepare_keeps_and_lowercases_id(void **state) {
  mg_json *s = load("{\"id\":\"9E1B5A2C-0F7D-4C3B-8A6E-1D2C3B4A5F60\",\"version\":\"1.0.3\","
                    "\"timestamp\":\"2024-02-29T23:59:59.999+08:00\","
                    "\"actor\":{\"mbox\":\"mailto:a@example.org\"},"
                    "\"verb\":{\"id\":\"http://adlnet.gov/expapi/verbs/attended\"},"
                    "\"object\":{\"id\":\"http://example.org/act/1\"}}");
  assert_int_equal(mg_xapi_prepare(&A, s, MG_XAPI_V103, STORED_US, NULL), MG_OK);
  assert_string_equal(get_str(s, "id"), "9e1b5a2c-0f7d-4c3b-8a6e-1d2c3b4a5f60");
  assert_string_equal(get_str(s, "version"), "1.0.3");
  /* 1.0.3 keeps a client's zone as sent */
  assert_string_equal(get_str(s, "timestamp"), "2024-02-29T23:59:59.999+08:00");
  /* no authority given: a client-supplied one is not kept */
  assert_null(mg_json_object_get(s, "authority"));

  s = load("{\"id\":\"not-a-uuid\",\"actor\":{},\"verb\":{},\"object\":{}}");
  assert_int_equal(mg_xapi_prepare(&A, s, MG_XAPI_V103, STORED_US, NULL), MG_EINVAL);
}

static void test_prepare_v200_version_and_utc(void **state) {
  static const struct {
    const char *in, *out;
  } cases[] = {
      {"2023-05-04T12:00:00-05:00", "2023-05-04T17:00:00Z"},          /* the ADL 2.0 suite case */
      {"2023-05-04T12:00:00.123456+08:00", "2023-05-04T04:00:00.123456Z"},
      {"2023-01-01T00:30:00.5+01:00", "2022-12-31T23:30:00.5Z"},      /* crosses a year */
      {"2024-02-28T20:15:07.1234567-05:30", "2024-02-29T01:45:07.1234567Z"}, /* leap day, 7 digits */
      {"2023-05-04T12:00:00.120+00:00", "2023-05-04T12:00:00.120Z"},
      {"2023-05-04t12:00:00.120z", "2023-05-04T12:00:00.120Z"},
      {"2023-05-04T17:00:00.000Z", "2023-05-04T17:00:00.000Z"},        /* already UTC */
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char text[512];
    int n = snprintf(text, sizeof text,
                     "{\"actor\":{\"mbox\":\"mailto:a@example.org\"},"
                     "\"verb\":{\"id\":\"http://adlnet.gov/expapi/verbs/attended\"},"
                     "\"object\":{\"id\":\"http://example.org/act/1\"},\"timestamp\":\"%s\"}",
                     cases[i].in);
    assert_true(n > 0 && (size_t)n < sizeof text);
    mg_json *s = load(text);
    assert_non_null(s);
    assert_int_equal(mg_xapi_prepare(&A, s, MG_XAPI_V200, STORED_US, NULL), MG_OK);
    assert_string_equal(get_str(s, "timestamp"), cases[i].out);
    assert_string_equal(get_str(s, "version"), "2.0.0");
    assert_string_equal(get_str(s, "stored"), STORED_TXT);
    /* same instant before and after */
    mg_timestamp a, b;
    assert_int_equal(mg_time_parse_iso(cases[i].in, 1, &a), MG_OK);
    assert_int_equal(mg_time_parse_iso(cases[i].out, 1, &b), MG_OK);
    assert_true(a.us == b.us);
  }
}

static void test_prepare_context_activities_and_substatement(void **state) {
  mg_json *s = load(
      "{\"actor\":{\"mbox\":\"mailto:a@example.org\"},\"verb\":{\"id\":\"http://v/1\"},"
      "\"object\":{\"objectType\":\"SubStatement\",\"actor\":{\"mbox\":\"mailto:b@example.org\"},"
      "  \"verb\":{\"id\":\"http://v/2\"},\"object\":{\"id\":\"http://a/2\"},"
      "  \"timestamp\":\"2023-05-04T12:00:00-05:00\","
      "  \"context\":{\"contextActivities\":{\"parent\":{\"id\":\"http://a/sub-parent\"}}}},"
      "\"context\":{\"contextActivities\":{\"parent\":{\"id\":\"http://a/p\"},"
      "  \"grouping\":[{\"id\":\"http://a/g\"}]}}}");
  assert_int_equal(mg_xapi_prepare(&A, s, MG_XAPI_V200, STORED_US, NULL), MG_OK);
  assert_true(mg_json_is_array(get(s, "context.contextActivities.parent")));
  assert_string_equal(get_str(s, "context.contextActivities.parent.0.id"), "http://a/p");
  assert_string_equal(get_str(s, "context.contextActivities.grouping.0.id"), "http://a/g");
  assert_int_equal(mg_json_array_size(get(s, "context.contextActivities.grouping")), 1);
  assert_string_equal(get_str(s, "object.context.contextActivities.parent.0.id"),
                      "http://a/sub-parent");
  assert_string_equal(get_str(s, "object.timestamp"), "2023-05-04T17:00:00Z");
}

/* ---- agent keys ------------------------------------------------------------------------- */

static void expect_key(const char *agent_json, int rc, const char *key) {
  mg_json *a = load(agent_json);
  mg_buf b;
  mg_buf_init(&b, 4096);
  assert_int_equal(mg_buf_adds(&b, "leftover"), MG_OK); /* the key replaces what was there */
  assert_int_equal(mg_xapi_agent_key(a, &b), rc);
  assert_string_equal(b.data, key);
  mg_buf_free(&b);
}

static void test_agent_key_kinds(void **state) {
  expect_key("{\"mbox\":\"mailto:Li.Wei@Example.EDU.cn\"}", MG_OK, "mbox:mailto:Li.Wei@example.edu.cn");
  expect_key("{\"objectType\":\"Agent\",\"mbox\":\"MAILTO:li.wei@example.edu.cn\"}", MG_OK,
             "mbox:mailto:li.wei@example.edu.cn");
  expect_key("{\"mbox_sha1sum\":\"CD9B00A5611F94EAA7B1661EDAB976068E364975\"}", MG_OK,
             "mbox_sha1sum:cd9b00a5611f94eaa7b1661edab976068e364975");
  expect_key("{\"openid\":\"http://openid.example.org/Li\"}", MG_OK,
             "openid:http://openid.example.org/Li");
  expect_key("{\"name\":\"x\",\"account\":{\"homePage\":\"https://moocs.example.cn\",\"name\":\"2021001\"}}",
             MG_OK, "account:https://moocs.example.cn\x1f" "2021001");
  /* identified group: keyed by its own IFI, not its members */
  expect_key("{\"objectType\":\"Group\",\"mbox\":\"mailto:team@example.org\","
             "\"member\":[{\"mbox\":\"mailto:m@example.org\"}]}",
             MG_OK, "mbox:mailto:team@example.org");
  /* anonymous group: no key */
  expect_key("{\"objectType\":\"Group\",\"member\":[{\"mbox\":\"mailto:m@example.org\"}]}",
             MG_EINVAL, "");
  expect_key("{\"account\":{\"homePage\":\"https://moocs.example.cn\"}}", MG_EINVAL, "");
}

/* ---- keys ------------------------------------------------------------------------------- */

static const char *FULL_STMT =
    "{\"id\":\"5d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d\","
    "\"actor\":{\"objectType\":\"Group\",\"name\":\"Study group\","
    "  \"account\":{\"homePage\":\"https://moocs.example.cn\",\"name\":\"g-17\"},"
    "  \"member\":[{\"mbox\":\"mailto:s1@example.cn\"},{\"mbox\":\"mailto:s2@example.cn\"}]},"
    "\"verb\":{\"id\":\"http://adlnet.gov/expapi/verbs/completed\",\"display\":{\"en-US\":\"completed\"}},"
    "\"object\":{\"id\":\"http://moocs.example.cn/course/c1/video/7\",\"objectType\":\"Activity\"},"
    "\"result\":{\"score\":{\"scaled\":0.85},\"duration\":\"PT12M3.5S\"},"
    "\"context\":{\"registration\":\"0A1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D\","
    "  \"instructor\":{\"objectType\":\"Group\",\"member\":[{\"mbox\":\"mailto:t1@example.cn\"},"
    "     {\"mbox\":\"mailto:s1@example.cn\"}]},"
    "  \"team\":{\"objectType\":\"Group\",\"mbox\":\"mailto:team@example.cn\","
    "     \"member\":[{\"account\":{\"homePage\":\"https://moocs.example.cn\",\"name\":\"u9\"}}]},"
    "  \"contextAgents\":[{\"objectType\":\"contextAgent\",\"agent\":{\"mbox\":\"mailto:ta@example.cn\"},"
    "     \"relevantTypes\":[\"http://example.org/types/ta\"]}],"
    "  \"contextGroups\":[{\"objectType\":\"contextGroup\",\"group\":{\"objectType\":\"Group\","
    "     \"openid\":\"http://openid.example.cn/cohort\",\"member\":[{\"mbox\":\"mailto:c1@example.cn\"}]}}],"
    "  \"contextActivities\":{\"parent\":{\"id\":\"http://moocs.example.cn/course/c1\"},"
    "     \"grouping\":[{\"id\":\"http://moocs.example.cn/program/p\"},"
    "                   {\"id\":\"http://moocs.example.cn/course/c1\"}],"
    "     \"category\":[{\"id\":\"http://example.org/profile/video\"}],"
    "     \"other\":[{\"id\":\"http://moocs.example.cn/course/c1/video/7\"}]}},"
    "\"timestamp\":\"2024-03-01T16:00:00.125+08:00\","
    "\"stored\":\"2024-03-01T08:30:15.250Z\","
    "\"authority\":{\"objectType\":\"Group\",\"member\":["
    "  {\"account\":{\"homePage\":\"https://lrs.example.cn\",\"name\":\"platform-a\"}},"
    "  {\"mbox\":\"mailto:s2@example.cn\"}]},"
    "\"version\":\"2.0.0\"}";

static void test_keys_every_location(void **state) {
  mg_json *s = load(FULL_STMT);
  mg_xapi_keys k;
  assert_int_equal(mg_xapi_keys_extract(s, &k), MG_OK);
  const mg_store_stmt *r = &k.row;

  uint8_t id[16];
  assert_int_equal(mg_uuid_parse("5d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d", id), MG_OK);
  assert_memory_equal(r->id, id, 16);
  assert_true(r->stored_us == STORED_US);
  assert_true(r->timestamp_us == 1709280000125000LL); /* 08:00:00.125Z */
  assert_string_equal(r->actor_key, "account:https://moocs.example.cn\x1fg-17");
  assert_string_equal(r->verb_id, "http://adlnet.gov/expapi/verbs/completed");
  assert_string_equal(r->object_activity_id, "http://moocs.example.cn/course/c1/video/7");
  assert_null(r->object_agent_key);
  assert_false(r->has_object_ref);
  assert_false(r->is_voiding);
  assert_true(r->has_registration);
  assert_int_equal(mg_uuid_parse("0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", id), MG_OK);
  assert_memory_equal(r->registration, id, 16);

  static const char *const agents[] = {
      "account:https://moocs.example.cn\x1fg-17",  /* actor */
      "mbox:mailto:s1@example.cn",                 /* actor member, instructor member */
      "mbox:mailto:s2@example.cn",                 /* actor member, authority member */
      "mbox:mailto:t1@example.cn",                 /* instructor (anonymous group) member */
      "mbox:mailto:team@example.cn",               /* team */
      "account:https://moocs.example.cn\x1fu9",    /* team member */
      "mbox:mailto:ta@example.cn",                 /* contextAgents */
      "openid:http://openid.example.cn/cohort",    /* contextGroups */
      "mbox:mailto:c1@example.cn",                 /* contextGroups member */
      "account:https://lrs.example.cn\x1fplatform-a", /* authority member */
  };
  size_t na = sizeof agents / sizeof *agents;
  assert_int_equal(r->n_related_agents, na);
  for (size_t i = 0; i < na; i++) assert_int_equal(count_str(r->related_agents, na, agents[i]), 1);
  assert_ptr_equal(r->actor_key, r->related_agents[0]);

  static const char *const acts[] = {
      "http://moocs.example.cn/course/c1/video/7", "http://moocs.example.cn/course/c1",
      "http://moocs.example.cn/program/p", "http://example.org/profile/video"};
  size_t nt = sizeof acts / sizeof *acts;
  assert_int_equal(r->n_related_activities, nt);
  for (size_t i = 0; i < nt; i++)
    assert_int_equal(count_str(r->related_activities, nt, acts[i]), 1);
  assert_string_equal(r->related_activities[0], "http://moocs.example.cn/course/c1/video/7");

  uint8_t d[32];
  assert_int_equal(mg_xapi_compare_digest(s, d), MG_OK);
  assert_memory_equal(r->cmp_hash, d, 32);
  mg_xapi_keys_free(&k);
  assert_null(k.agents);
  assert_int_equal(k.n_agents, 0);
}

static void test_keys_substatement(void **state) {
  mg_json *s = load(
      "{\"id\":\"11111111-2222-4333-8444-555555555555\",\"stored\":\"" STORED_TXT "\","
      "\"timestamp\":\"" STORED_TXT "\","
      "\"actor\":{\"mbox\":\"mailto:teacher@example.cn\"},"
      "\"verb\":{\"id\":\"http://example.org/verbs/planned\"},"
      "\"object\":{\"objectType\":\"SubStatement\","
      "  \"actor\":{\"objectType\":\"Group\",\"member\":[{\"mbox\":\"mailto:s1@example.cn\"}]},"
      "  \"verb\":{\"id\":\"http://adlnet.gov/expapi/verbs/attempted\"},"
      "  \"object\":{\"objectType\":\"Agent\",\"mbox_sha1sum\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"},"
      "  \"context\":{\"instructor\":{\"mbox\":\"mailto:teacher@example.cn\"},"
      "    \"contextAgents\":[{\"objectType\":\"contextAgent\",\"agent\":{\"openid\":\"http://id.example.cn/x\"}}],"
      "    \"contextGroups\":[{\"objectType\":\"contextGroup\",\"group\":{\"objectType\":\"Group\","
      "       \"member\":[{\"mbox\":\"mailto:s3@example.cn\"}]}}],"
      "    \"contextActivities\":{\"parent\":[{\"id\":\"http://a/sub-parent\"}],"
      "       \"category\":{\"id\":\"http://a/sub-cat\"}}}},"
      "\"context\":{\"contextActivities\":{\"parent\":[{\"id\":\"http://a/sub-parent\"}]}}}");
  mg_xapi_keys k;
  assert_int_equal(mg_xapi_keys_extract(s, &k), MG_OK);
  const mg_store_stmt *r = &k.row;
  assert_string_equal(r->actor_key, "mbox:mailto:teacher@example.cn");
  assert_null(r->object_activity_id);
  assert_null(r->object_agent_key); /* the object is a SubStatement, not an agent */
  assert_false(r->has_registration);
  static const char *const agents[] = {
      "mbox:mailto:teacher@example.cn", "mbox:mailto:s1@example.cn",
      "mbox_sha1sum:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "openid:http://id.example.cn/x",
      "mbox:mailto:s3@example.cn"};
  size_t na = sizeof agents / sizeof *agents;
  assert_int_equal(r->n_related_agents, na);
  for (size_t i = 0; i < na; i++) assert_int_equal(count_str(r->related_agents, na, agents[i]), 1);
  assert_int_equal(r->n_related_activities, 2);
  assert_int_equal(count_str(r->related_activities, 2, "http://a/sub-parent"), 1);
  assert_int_equal(count_str(r->related_activities, 2, "http://a/sub-cat"), 1);
  mg_xapi_keys_free(&k);
}

static void test_keys_voiding_and_object_agent(void **state) {
  mg_json *s = load("{\"id\":\"11111111-2222-4333-8444-555555555555\",\"stored\":\"" STORED_TXT "\","
                    "\"timestamp\":\"" STORED_TXT "\",\"actor\":{\"mbox\":\"mailto:a@example.cn\"},"
                    "\"verb\":{\"id\":\"" MG_XAPI_VERB_VOIDED "\"},"
                    "\"object\":{\"objectType\":\"StatementRef\",\"id\":\"AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE\"}}");
  mg_xapi_keys k;
  assert_int_equal(mg_xapi_keys_extract(s, &k), MG_OK);
  uint8_t ref[16];
  assert_int_equal(mg_uuid_parse("aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee", ref), MG_OK);
  assert_true(k.row.is_voiding);
  assert_true(k.row.has_object_ref);
  assert_memory_equal(k.row.object_ref, ref, 16);
  assert_int_equal(k.row.n_related_activities, 0);
  mg_xapi_keys_free(&k);

  /* voided verb on an activity is not voiding */
  s = load("{\"id\":\"11111111-2222-4333-8444-555555555555\",\"stored\":\"" STORED_TXT "\","
           "\"timestamp\":\"" STORED_TXT "\",\"actor\":{\"mbox\":\"mailto:a@example.cn\"},"
           "\"verb\":{\"id\":\"" MG_XAPI_VERB_VOIDED "\"},\"object\":{\"id\":\"http://a/1\"}}");
  assert_int_equal(mg_xapi_keys_extract(s, &k), MG_OK);
  assert_false(k.row.is_voiding);
  assert_false(k.row.has_object_ref);
  mg_xapi_keys_free(&k);

  /* a StatementRef with another verb is not voiding */
  s = load("{\"id\":\"11111111-2222-4333-8444-555555555555\",\"stored\":\"" STORED_TXT "\","
           "\"timestamp\":\"" STORED_TXT "\",\"actor\":{\"mbox\":\"mailto:a@example.cn\"},"
           "\"verb\":{\"id\":\"http://example.org/verbs/liked\"},"
           "\"object\":{\"objectType\":\"StatementRef\",\"id\":\"aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee\"}}");
  assert_int_equal(mg_xapi_keys_extract(s, &k), MG_OK);
  assert_false(k.row.is_voiding);
  assert_true(k.row.has_object_ref);
  mg_xapi_keys_free(&k);

  /* the object is the actor itself (differently cased domain): one related agent */
  s = load("{\"id\":\"11111111-2222-4333-8444-555555555555\",\"stored\":\"" STORED_TXT "\","
           "\"timestamp\":\"" STORED_TXT "\",\"actor\":{\"mbox\":\"mailto:a@Example.CN\"},"
           "\"verb\":{\"id\":\"http://example.org/verbs/reflected\"},"
           "\"object\":{\"objectType\":\"Agent\",\"mbox\":\"mailto:a@example.cn\"}}");
  assert_int_equal(mg_xapi_keys_extract(s, &k), MG_OK);
  assert_int_equal(k.row.n_related_agents, 1);
  assert_string_equal(k.row.actor_key, "mbox:mailto:a@example.cn");
  assert_string_equal(k.row.object_agent_key, "mbox:mailto:a@example.cn");
  assert_null(k.row.object_activity_id);
  mg_xapi_keys_free(&k);

  /* anonymous-group actor, agent object: no actor key, the object key survives */
  s = load("{\"id\":\"11111111-2222-4333-8444-555555555555\",\"stored\":\"" STORED_TXT "\","
           "\"timestamp\":\"" STORED_TXT "\",\"actor\":{\"objectType\":\"Group\",\"member\":["
           "{\"mbox\":\"mailto:b@example.cn\"},{\"mbox\":\"mailto:c@example.cn\"}]},"
           "\"verb\":{\"id\":\"http://example.org/verbs/met\"},"
           "\"object\":{\"objectType\":\"Agent\",\"mbox\":\"mailto:c@example.cn\"}}");
  assert_int_equal(mg_xapi_keys_extract(s, &k), MG_OK);
  assert_null(k.row.actor_key);
  assert_string_equal(k.row.object_agent_key, "mbox:mailto:c@example.cn");
  assert_int_equal(k.row.n_related_agents, 2);
  mg_xapi_keys_free(&k);
}

static void test_keys_dedup_large(void **state) {
  /* 300 category activities over 50 distinct ids and 200 members over 40 distinct agents take
   * the sorting path; first occurrences and their order must survive. */
  mg_json *s = load("{\"id\":\"11111111-2222-4333-8444-555555555555\",\"stored\":\"" STORED_TXT "\","
                    "\"timestamp\":\"" STORED_TXT "\",\"actor\":{\"objectType\":\"Group\","
                    "\"mbox\":\"mailto:m7@example.cn\",\"member\":[]},"
                    "\"verb\":{\"id\":\"http://example.org/verbs/x\"},\"object\":{\"id\":\"http://a/7\"},"
                    "\"context\":{\"contextActivities\":{\"category\":[]}}}");
  mg_json *cat = (mg_json *)get(s, "context.contextActivities.category");
  mg_json *mem = (mg_json *)get(s, "actor.member");
  char buf[64];
  for (int i = 0; i < 300; i++) {
    snprintf(buf, sizeof buf, "http://a/%d", (i * 7) % 50);
    mg_json *o = mg_json_object(&A);
    assert_non_null(o);
    assert_int_equal(mg_json_object_set(&A, o, "id", mg_json_string(&A, buf)), 0);
    assert_int_equal(mg_json_array_append(&A, cat, o), 0);
  }
  for (int i = 0; i < 200; i++) {
    snprintf(buf, sizeof buf, "mailto:m%d@example.cn", (i * 3) % 40);
    mg_json *o = mg_json_object(&A);
    assert_non_null(o);
    assert_int_equal(mg_json_object_set(&A, o, "mbox", mg_json_string(&A, buf)), 0);
    assert_int_equal(mg_json_array_append(&A, mem, o), 0);
  }
  mg_xapi_keys k;
  assert_int_equal(mg_xapi_keys_extract(s, &k), MG_OK);
  assert_int_equal(k.row.n_related_activities, 50);
  assert_int_equal(k.row.n_related_agents, 40);
  for (int i = 0; i < 50; i++) {
    snprintf(buf, sizeof buf, "http://a/%d", i);
    assert_int_equal(count_str(k.row.related_activities, 50, buf), 1);
  }
  for (int i = 0; i < 40; i++) {
    snprintf(buf, sizeof buf, "mbox:mailto:m%d@example.cn", i);
    assert_int_equal(count_str(k.row.related_agents, 40, buf), 1);
  }
  assert_string_equal(k.row.related_activities[0], "http://a/7");  /* the object, first */
  assert_string_equal(k.row.related_activities[1], "http://a/0");  /* first category entry */
  assert_string_equal(k.row.related_activities[2], "http://a/14"); /* (2*7)%50, 7 was a dup */
  assert_string_equal(k.row.actor_key, "mbox:mailto:m7@example.cn");
  assert_ptr_equal(k.row.actor_key, k.row.related_agents[0]);
  assert_string_equal(k.row.related_agents[1], "mbox:mailto:m0@example.cn");
  mg_xapi_keys_free(&k);
}

static void test_keys_rejects_unprepared(void **state) {
  mg_json *s = load("{\"actor\":{\"mbox\":\"mailto:a@example.cn\"},\"verb\":{\"id\":\"http://v\"},"
                    "\"object\":{\"id\":\"http://a\"}}");
  mg_xapi_keys k;
  assert_int_equal(mg_xapi_keys_extract(s, &k), MG_EINVAL);
  assert_null(k.agents);
  assert_int_equal(mg_xapi_prepare(&A, s, MG_XAPI_V103, STORED_US, NULL), MG_OK);
  assert_int_equal(mg_xapi_keys_extract(s, &k), MG_OK);
  assert_true(k.row.timestamp_us == STORED_US);
  mg_xapi_keys_free(&k);
}

/* ---- digest ----------------------------------------------------------------------------- */

static void digest_of(const char *text, uint8_t out[32]) {
  mg_json *s = load(text);
  assert_int_equal(mg_xapi_compare_digest(s, out), MG_OK);
}

static void expect_same(const char *a, const char *b) {
  uint8_t x[32], y[32];
  digest_of(a, x);
  digest_of(b, y);
  if (memcmp(x, y, 32)) fprintf(stderr, "expected equal:\n  %s\n  %s\n", a, b);
  assert_memory_equal(x, y, 32);
}

static void expect_differ(const char *a, const char *b) {
  uint8_t x[32], y[32];
  digest_of(a, x);
  digest_of(b, y);
  if (!memcmp(x, y, 32)) fprintf(stderr, "expected different:\n  %s\n  %s\n", a, b);
  assert_memory_not_equal(x, y, 32);
}

#define BASE_HEAD                                                                             \
  "\"actor\":{\"objectType\":\"Agent\",\"name\":\"Li Wei\",\"mbox\":\"mailto:li@example.cn\"},"  \
  "\"verb\":{\"id\":\"http://adlnet.gov/expapi/verbs/scored\",\"display\":{\"en-US\":\"scored\"}},"

static void test_digest_equalities(void **state) {
  const char *a =
      "{\"id\":\"5d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d\"," BASE_HEAD
      "\"object\":{\"objectType\":\"Activity\",\"id\":\"http://moocs.example.cn/quiz/3\","
      "  \"definition\":{\"name\":{\"en-US\":\"Quiz 3\"}}},"
      "\"result\":{\"score\":{\"scaled\":0.5,\"raw\":5,\"max\":10},\"success\":true,"
      "  \"duration\":\"PT1M2.1234S\"},"
      "\"context\":{\"registration\":\"0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d\",\"language\":\"zh-CN\","
      "  \"team\":{\"objectType\":\"Group\",\"member\":[{\"mbox\":\"mailto:x@example.cn\"},"
      "    {\"name\":\"Y\",\"account\":{\"homePage\":\"https://h.cn\",\"name\":\"y\"}}]},"
      "  \"contextActivities\":{\"parent\":[{\"id\":\"http://moocs.example.cn/course/1\"}]},"
      "  \"extensions\":{\"http://ext.example.cn/ip\":\"10.0.0.1\",\"http://ext.example.cn/n\":{\"b\":1,\"a\":2}}},"
      "\"timestamp\":\"2024-03-01T16:00:00.125+08:00\","
      "\"stored\":\"2024-03-01T08:30:15.250Z\",\"version\":\"1.0.0\","
      "\"authority\":{\"mbox\":\"mailto:lrs@example.cn\"}}";
  /* keys reordered everywhere, timestamp in UTC, other stored/authority/version, upper-case
   * UUIDs, the optional objectTypes left out, members reordered, verb display and activity
   * definition changed, domain case, 1.0 for 1, duration beyond 0.01 s, single activity form */
  const char *b =
      "{\"timestamp\":\"2024-03-01T08:00:00.125Z\",\"version\":\"1.0.3\","
      "\"authority\":{\"account\":{\"homePage\":\"https://x\",\"name\":\"other\"}},"
      "\"stored\":\"2025-01-01T00:00:00.000Z\","
      "\"context\":{\"extensions\":{\"http://ext.example.cn/n\":{\"a\":2,\"b\":1.0},"
      "    \"http://ext.example.cn/ip\":\"10.0.0.1\"},"
      "  \"contextActivities\":{\"parent\":{\"objectType\":\"Activity\",\"id\":\"http://moocs.example.cn/course/1\"}},"
      "  \"team\":{\"member\":[{\"account\":{\"name\":\"y\",\"homePage\":\"https://h.cn\"},\"name\":\"Y\"},"
      "    {\"objectType\":\"Agent\",\"mbox\":\"mailto:x@EXAMPLE.cn\"}],\"objectType\":\"Group\"},"
      "  \"language\":\"zh-cn\",\"registration\":\"0A1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D\"},"
      "\"result\":{\"duration\":\"PT1M2.12S\",\"success\":true,\"score\":{\"max\":10.0,\"raw\":5,\"scaled\":0.50}},"
      "\"object\":{\"id\":\"http://moocs.example.cn/quiz/3\",\"definition\":{\"name\":{\"zh-CN\":\"测验 3\"}}},"
      "\"verb\":{\"display\":{\"zh-CN\":\"得分\"},\"id\":\"http://adlnet.gov/expapi/verbs/scored\"},"
      "\"actor\":{\"mbox\":\"MAILTO:li@Example.CN\",\"name\":\"Li Wei\"},"
      "\"id\":\"5D1C2B3A-4E5F-4A6B-8C7D-9E0F1A2B3C4D\"}";
  expect_same(a, b);

  /* numbers are compared by value: -0.0 == 0, 2.50 == 2.5, 3.0 == 3 */
  expect_same("{\"actor\":{\"mbox\":\"mailto:a@x.cn\"},\"verb\":{\"id\":\"http://v\"},\"object\":{\"id\":\"http://a\"},"
              "\"result\":{\"score\":{\"raw\":-0.0,\"min\":2.50,\"max\":3.0}}}",
              "{\"actor\":{\"mbox\":\"mailto:a@x.cn\"},\"verb\":{\"id\":\"http://v\"},\"object\":{\"id\":\"http://a\"},"
              "\"result\":{\"score\":{\"raw\":0,\"min\":2.5,\"max\":3}}}");

  /* attachments: language tags and sha2 hex are case-insensitive; context.statement's UUID too;
   * timestamps compare to the millisecond (the LRS may truncate beyond it) */
  expect_same("{\"actor\":{\"mbox\":\"mailto:a@x.cn\"},\"verb\":{\"id\":\"http://v\"},\"object\":{\"id\":\"http://a\"},"
              "\"timestamp\":\"2024-03-01T08:00:00.1251Z\","
              "\"context\":{\"statement\":{\"objectType\":\"StatementRef\",\"id\":\"aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee\"}},"
              "\"attachments\":[{\"usageType\":\"http://u\",\"display\":{\"zh-CN\":\"x\",\"en-US\":\"y\"},"
              "\"contentType\":\"text/plain\",\"length\":1,\"sha2\":\"abcdef\"}]}",
              "{\"actor\":{\"mbox\":\"mailto:a@x.cn\"},\"verb\":{\"id\":\"http://v\"},\"object\":{\"id\":\"http://a\"},"
              "\"timestamp\":\"2024-03-01T08:00:00.125999Z\","
              "\"context\":{\"statement\":{\"objectType\":\"StatementRef\",\"id\":\"AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE\"}},"
              "\"attachments\":[{\"usageType\":\"http://u\",\"display\":{\"EN-us\":\"y\",\"zh-cn\":\"x\"},"
              "\"contentType\":\"text/plain\",\"length\":1,\"sha2\":\"ABCDEF\"}]}");
  /* objects with many keys (sorted another way than small ones) */
  {
    mg_json *x1 = load("{\"actor\":{\"mbox\":\"mailto:a@x.cn\"},\"verb\":{\"id\":\"http://v\"},\"object\":{\"id\":\"http://a\"},"
                       "\"context\":{\"extensions\":{}}}");
    mg_json *x2 = mg_json_deep_copy(&A, x1);
    mg_json *e1 = (mg_json *)get(x1, "context.extensions"), *e2 = (mg_json *)get(x2, "context.extensions");
    char key[64];
    for (int i = 0; i < 30; i++) {
      snprintf(key, sizeof key, "http://ext.example.cn/k%02d", i);
      assert_int_equal(mg_json_object_set(&A, e1, key, mg_json_integer(&A, i)), 0);
      snprintf(key, sizeof key, "http://ext.example.cn/k%02d", 29 - i);
      assert_int_equal(mg_json_object_set(&A, e2, key, mg_json_integer(&A, 29 - i)), 0);
    }
    uint8_t h1[32], h2[32];
    assert_int_equal(mg_xapi_compare_digest(x1, h1), MG_OK);
    assert_int_equal(mg_xapi_compare_digest(x2, h2), MG_OK);
    assert_memory_equal(h1, h2, 32);
    assert_int_equal(
        mg_json_object_set(&A, e2, "http://ext.example.cn/k07", mg_json_integer(&A, 70)), 0);
    assert_int_equal(mg_xapi_compare_digest(x2, h2), MG_OK);
    assert_memory_not_equal(h1, h2, 32);
  }

  /* with and without id (the LRS may assign it) */
  expect_same("{" BASE_HEAD "\"object\":{\"id\":\"http://a/1\"}}",
              "{\"id\":\"5d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d\"," BASE_HEAD
              "\"object\":{\"id\":\"http://a/1\"}}");

  /* a timestamp the LRS filled in (equal to stored) is not compared: two retries of a
   * statement without timestamp, prepared at different times, are the same statement */
  mg_json *s1 = load("{\"id\":\"5d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d\"," BASE_HEAD
                     "\"object\":{\"id\":\"http://a/1\"}}");
  mg_json *s2 = mg_json_deep_copy(&A, s1);
  assert_int_equal(mg_xapi_prepare(&A, s1, MG_XAPI_V103, STORED_US, NULL), MG_OK);
  assert_int_equal(mg_xapi_prepare(&A, s2, MG_XAPI_V200, STORED_US + 5000000, NULL), MG_OK);
  uint8_t x[32], y[32];
  assert_int_equal(mg_xapi_compare_digest(s1, x), MG_OK);
  assert_int_equal(mg_xapi_compare_digest(s2, y), MG_OK);
  assert_memory_equal(x, y, 32);
}

static void test_digest_differences(void **state) {
  const char *base = "{" BASE_HEAD "\"object\":{\"id\":\"http://a/1\"},"
                     "\"result\":{\"score\":{\"scaled\":0.5},\"duration\":\"PT3.25S\"},"
                     "\"timestamp\":\"2024-03-01T08:00:00.125Z\"}";
  expect_same(base, base);
  expect_differ(base, "{" BASE_HEAD "\"object\":{\"id\":\"http://a/1\"},"
                      "\"result\":{\"score\":{\"scaled\":0.51},\"duration\":\"PT3.25S\"},"
                      "\"timestamp\":\"2024-03-01T08:00:00.125Z\"}");
  expect_differ(base, "{" BASE_HEAD "\"object\":{\"id\":\"http://a/1\"},"
                      "\"result\":{\"score\":{\"scaled\":0.5},\"duration\":\"PT3.26S\"},"
                      "\"timestamp\":\"2024-03-01T08:00:00.125Z\"}");
  /* the event time moved by 1 ms: a real change (integrity!) */
  expect_differ(base, "{" BASE_HEAD "\"object\":{\"id\":\"http://a/1\"},"
                      "\"result\":{\"score\":{\"scaled\":0.5},\"duration\":\"PT3.25S\"},"
                      "\"timestamp\":\"2024-03-01T08:00:00.126Z\"}");
  /* other activity, other verb, other actor name, local part case of mbox, IRI case */
  expect_differ(base, "{" BASE_HEAD "\"object\":{\"id\":\"http://a/2\"},"
                      "\"result\":{\"score\":{\"scaled\":0.5},\"duration\":\"PT3.25S\"},"
                      "\"timestamp\":\"2024-03-01T08:00:00.125Z\"}");
  expect_differ(base, "{" BASE_HEAD "\"object\":{\"id\":\"HTTP://a/1\"},"
                      "\"result\":{\"score\":{\"scaled\":0.5},\"duration\":\"PT3.25S\"},"
                      "\"timestamp\":\"2024-03-01T08:00:00.125Z\"}");
  expect_differ("{\"actor\":{\"mbox\":\"mailto:li@example.cn\",\"name\":\"Li\"},\"verb\":{\"id\":\"http://v\"},"
                "\"object\":{\"id\":\"http://a\"}}",
                "{\"actor\":{\"mbox\":\"mailto:li@example.cn\",\"name\":\"Lee\"},\"verb\":{\"id\":\"http://v\"},"
                "\"object\":{\"id\":\"http://a\"}}");
  expect_differ("{\"actor\":{\"mbox\":\"mailto:li@example.cn\"},\"verb\":{\"id\":\"http://v\"},"
                "\"object\":{\"id\":\"http://a\"}}",
                "{\"actor\":{\"mbox\":\"mailto:Li@example.cn\"},\"verb\":{\"id\":\"http://v\"},"
                "\"object\":{\"id\":\"http://a\"}}");
  expect_differ("{\"actor\":{\"mbox\":\"mailto:li@example.cn\"},\"verb\":{\"id\":\"http://v\"},"
                "\"object\":{\"id\":\"http://a\"}}",
                "{\"actor\":{\"mbox\":\"mailto:li@example.cn\"},\"verb\":{\"id\":\"http://v/2\"},"
                "\"object\":{\"id\":\"http://a\"}}");
  /* a group losing a member, and an Agent object vs a Group object with the same IFI */
  expect_differ("{\"actor\":{\"objectType\":\"Group\",\"member\":[{\"mbox\":\"mailto:a@x.cn\"},"
                "{\"mbox\":\"mailto:b@x.cn\"}]},\"verb\":{\"id\":\"http://v\"},\"object\":{\"id\":\"http://a\"}}",
                "{\"actor\":{\"objectType\":\"Group\",\"member\":[{\"mbox\":\"mailto:a@x.cn\"}]},"
                "\"verb\":{\"id\":\"http://v\"},\"object\":{\"id\":\"http://a\"}}");
  expect_differ("{\"actor\":{\"mbox\":\"mailto:a@x.cn\"},\"verb\":{\"id\":\"http://v\"},"
                "\"object\":{\"objectType\":\"Agent\",\"mbox\":\"mailto:b@x.cn\"}}",
                "{\"actor\":{\"mbox\":\"mailto:a@x.cn\"},\"verb\":{\"id\":\"http://v\"},"
                "\"object\":{\"objectType\":\"Group\",\"mbox\":\"mailto:b@x.cn\"}}");
  /* an extension value, an attachment */
  expect_differ("{\"actor\":{\"mbox\":\"mailto:a@x.cn\"},\"verb\":{\"id\":\"http://v\"},"
                "\"object\":{\"id\":\"http://a\"},\"context\":{\"extensions\":{\"http://e\":[1,2]}}}",
                "{\"actor\":{\"mbox\":\"mailto:a@x.cn\"},\"verb\":{\"id\":\"http://v\"},"
                "\"object\":{\"id\":\"http://a\"},\"context\":{\"extensions\":{\"http://e\":[2,1]}}}");
  expect_differ("{\"actor\":{\"mbox\":\"mailto:a@x.cn\"},\"verb\":{\"id\":\"http://v\"},\"object\":{\"id\":\"http://a\"}}",
                "{\"actor\":{\"mbox\":\"mailto:a@x.cn\"},\"verb\":{\"id\":\"http://v\"},\"object\":{\"id\":\"http://a\"},"
                "\"attachments\":[{\"usageType\":\"http://u\",\"display\":{\"en\":\"x\"},\"contentType\":\"text/plain\","
                "\"length\":1,\"sha2\":\"ab\"}]}");
  /* an explicit timestamp is compared even when the other copy's equals its own stored */
  expect_differ("{\"actor\":{\"mbox\":\"mailto:a@x.cn\"},\"verb\":{\"id\":\"http://v\"},\"object\":{\"id\":\"http://a\"},"
                "\"timestamp\":\"2024-03-01T08:00:00.000Z\",\"stored\":\"2024-03-01T08:00:00.000Z\"}",
                "{\"actor\":{\"mbox\":\"mailto:a@x.cn\"},\"verb\":{\"id\":\"http://v\"},\"object\":{\"id\":\"http://a\"},"
                "\"timestamp\":\"2024-03-01T07:00:00.000Z\",\"stored\":\"2024-03-01T08:00:00.000Z\"}");
  /* a SubStatement timestamp is the client's even when it equals the outer stored: it is not
   * dropped as if the LRS had filled it in */
  expect_differ("{\"actor\":{\"mbox\":\"mailto:a@x.cn\"},\"verb\":{\"id\":\"http://v\"},\"stored\":\"2024-03-01T08:00:00.000Z\","
                "\"object\":{\"objectType\":\"SubStatement\",\"actor\":{\"mbox\":\"mailto:b@x.cn\"},\"verb\":{\"id\":\"http://v\"},"
                "\"object\":{\"id\":\"http://a\"},\"timestamp\":\"2024-03-01T08:00:00.000Z\"}}",
                "{\"actor\":{\"mbox\":\"mailto:a@x.cn\"},\"verb\":{\"id\":\"http://v\"},\"stored\":\"2024-03-01T08:00:00.000Z\","
                "\"object\":{\"objectType\":\"SubStatement\",\"actor\":{\"mbox\":\"mailto:b@x.cn\"},\"verb\":{\"id\":\"http://v\"},"
                "\"object\":{\"id\":\"http://a\"}}}");
  /* SubStatement contents count */
  expect_differ("{\"actor\":{\"mbox\":\"mailto:a@x.cn\"},\"verb\":{\"id\":\"http://v\"},\"object\":{"
                "\"objectType\":\"SubStatement\",\"actor\":{\"mbox\":\"mailto:b@x.cn\"},\"verb\":{\"id\":\"http://v\"},"
                "\"object\":{\"id\":\"http://a\"},\"result\":{\"completion\":true}}}",
                "{\"actor\":{\"mbox\":\"mailto:a@x.cn\"},\"verb\":{\"id\":\"http://v\"},\"object\":{"
                "\"objectType\":\"SubStatement\",\"actor\":{\"mbox\":\"mailto:b@x.cn\"},\"verb\":{\"id\":\"http://v\"},"
                "\"object\":{\"id\":\"http://a\"},\"result\":{\"completion\":false}}}");
}

/* cmp_hash is persisted, so the comparable form's encoding must never change. The constants
 * below were computed with the jansson-based implementation this one replaced (same statement
 * texts), before the port: a statement stored then must still compare equal now. */
static const char *PIN_STMT =
    "{\"id\":\"9E1B5A2C-0F7D-4C3B-8A6E-1D2C3B4A5F60\","
    "\"actor\":{\"objectType\":\"Group\",\"name\":\"学习小组 \\\"A\\\"\",\"mbox\":\"MAILTO:Team.Lead@Example.EDU.cn\","
    "  \"member\":[{\"openid\":\"http://openid.example.cn/Zed\"},"
    "    {\"objectType\":\"Agent\",\"mbox_sha1sum\":\"CD9B00A5611F94EAA7B1661EDAB976068E364975\"},"
    "    {\"name\":\"Wang\",\"account\":{\"homePage\":\"https://ids.example.edu.cn\",\"name\":\"2021001\"}}]},"
    "\"verb\":{\"id\":\"http://adlnet.gov/expapi/verbs/answered\",\"display\":{\"en-US\":\"answered\",\"zh-CN\":\"回答\"}},"
    "\"object\":{\"objectType\":\"SubStatement\","
    "  \"actor\":{\"mbox\":\"mailto:Li.Wei@EXAMPLE.cn\"},"
    "  \"verb\":{\"id\":\"http://adlnet.gov/expapi/verbs/attempted\"},"
    "  \"object\":{\"id\":\"http://moocs.example.cn/quiz/9\",\"definition\":{\"name\":{\"en\":\"Q9\"},"
    "     \"interactionType\":\"choice\",\"choices\":[{\"id\":\"a\",\"description\":{\"en\":\"A\"}}]}},"
    "  \"timestamp\":\"2024-03-01T16:00:00.5+08:00\","
    "  \"result\":{\"duration\":\"PT0.123S\"},"
    "  \"context\":{\"contextActivities\":{\"parent\":{\"id\":\"http://moocs.example.cn/course/9\"}},"
    "     \"registration\":\"AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE\"}},"
    "\"result\":{\"score\":{\"scaled\":0.8525,\"raw\":-3,\"min\":-5.0,\"max\":1e2},"
    "  \"success\":true,\"completion\":false,\"response\":\"a[,]b\",\"duration\":\"PT1H2M3.456789S\","
    "  \"extensions\":{\"http://ext.example.cn/n\":null,\"http://ext.example.cn/arr\":[1,[2.5,[]],{}],"
    "    \"http://ext.example.cn/big\":9007199254740993,\"http://ext.example.cn/small\":1.5e-7,"
    "    \"http://ext.example.cn/neg0\":-0.0,\"http://ext.example.cn/int\":-12345678901234567,"
    "    \"http://ext.example.cn/huge\":1.7976931348623157e308,\"http://ext.example.cn/tiny\":4.9e-324,"
    "    \"http://ext.example.cn/2p53\":9007199254740992.0,\"http://ext.example.cn/frac\":0.1,"
    "    \"http://ext.example.cn/esc\":\"\\u00e9\\n\\t\\\"\\\\\\/\\ud83d\\ude00\","
    "    \"http://ext.example.cn/键\":\"值\",\"http://ext.example.cn/Z\":true,\"http://ext.example.cn/a\":false}},"
    "\"context\":{\"registration\":\"0A1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D\",\"language\":\"ZH-cn\","
    "  \"platform\":\"Example MOOC\",\"revision\":\"r2\","
    "  \"instructor\":{\"name\":\"Teacher\",\"mbox\":\"mailto:T@Example.cn\"},"
    "  \"team\":{\"objectType\":\"Group\",\"member\":[{\"mbox\":\"mailto:z@x.cn\"},{\"mbox\":\"mailto:a@X.cn\"}]},"
    "  \"contextActivities\":{\"parent\":[{\"id\":\"http://moocs.example.cn/course/1\",\"objectType\":\"Activity\","
    "      \"definition\":{\"name\":{\"en\":\"C1\"}}}],"
    "    \"grouping\":{\"id\":\"http://moocs.example.cn/program/p\"},"
    "    \"category\":[{\"id\":\"https://w3id.org/xapi/video\"}],\"other\":[]},"
    "  \"contextAgents\":[{\"objectType\":\"contextAgent\",\"agent\":{\"mbox\":\"mailto:TA@EXAMPLE.cn\"},"
    "    \"relevantTypes\":[\"http://t/ta\"]}],"
    "  \"contextGroups\":[{\"objectType\":\"contextGroup\",\"group\":{\"objectType\":\"Group\","
    "    \"member\":[{\"openid\":\"http://o/2\"},{\"openid\":\"http://o/1\"}]},\"relevantTypes\":[\"http://t/g\"]}],"
    "  \"statement\":{\"objectType\":\"StatementRef\",\"id\":\"11111111-2222-4333-8444-55555555555A\"},"
    "  \"extensions\":{\"http://ext.example.cn/ip\":\"10.0.0.1\"}},"
    "\"timestamp\":\"2024-03-01T16:00:00.125+08:00\","
    "\"stored\":\"2024-03-01T08:30:15.250Z\",\"version\":\"2.0.0\","
    "\"authority\":{\"objectType\":\"Agent\",\"account\":{\"homePage\":\"https://lrs\",\"name\":\"p\"}},"
    "\"attachments\":[{\"usageType\":\"http://adlnet.gov/expapi/attachments/signature\","
    "  \"display\":{\"EN-us\":\"Signature\",\"zh-CN\":\"签名\",\"en-GB\":\"Sig\"},"
    "  \"description\":{\"en-US\":\"JWS\"},\"contentType\":\"application/octet-stream\","
    "  \"length\":4235,\"sha2\":\"672FA5FA658017F1B72D65036F13379C6AB05D4AB3B6664908D8ACF0B6A0C634\","
    "  \"fileUrl\":\"https://files.example.cn/sig\"}]}";

static void hex32(const uint8_t d[32], char out[65]) {
  static const char hx[] = "0123456789abcdef";
  for (int i = 0; i < 32; i++) {
    out[2 * i] = hx[d[i] >> 4];
    out[2 * i + 1] = hx[d[i] & 15];
  }
  out[64] = '\0';
}

static void test_digest_pinned(void **state) {
  uint8_t d[32];
  char hex[65];
  digest_of(PIN_STMT, d);
  hex32(d, hex);
  assert_string_equal(hex, "f66dcd512a875d9d944f39398cfb88f4a5960329edf1ef8f842cc646bd6f3ad8");
  digest_of(FULL_STMT, d);
  hex32(d, hex);
  assert_string_equal(hex, "f402edbbc2b4888ced0598363ea9531204d33f1a81c06c4fa56dea9d49dd8f6a");

  /* the digest does not depend on where the values live or how they were built: the same
   * statement parsed into another arena, and a deep copy, give the same bytes */
  mg_arena other;
  mg_arena_init(&other, 0, 0);
  mg_json *s = load_in(&other, PIN_STMT);
  mg_json *copy = mg_json_deep_copy(&A, s);
  assert_non_null(copy);
  assert_int_equal(mg_xapi_compare_digest(s, d), MG_OK);
  hex32(d, hex);
  assert_string_equal(hex, "f66dcd512a875d9d944f39398cfb88f4a5960329edf1ef8f842cc646bd6f3ad8");
  mg_arena_free(&other);
  assert_int_equal(mg_xapi_compare_digest(copy, d), MG_OK);
  hex32(d, hex);
  assert_string_equal(hex, "f66dcd512a875d9d944f39398cfb88f4a5960329edf1ef8f842cc646bd6f3ad8");
}

/* Each thread hashes with its own cached context: concurrent digests of one (read-only)
 * statement all come out as the pinned bytes, and the contexts are freed as the threads end
 * (LeakSanitizer checks that). */
#define DIGEST_THREADS 4
#define DIGEST_ROUNDS 200

static void *digest_worker(void *arg) {
  const mg_json *s = arg;
  uintptr_t bad = 0;
  for (int i = 0; i < DIGEST_ROUNDS; i++) {
    uint8_t d[32];
    char hex[65];
    if (mg_xapi_compare_digest(s, d) != MG_OK) {
      bad++;
      continue;
    }
    hex32(d, hex);
    if (strcmp(hex, "f66dcd512a875d9d944f39398cfb88f4a5960329edf1ef8f842cc646bd6f3ad8")) bad++;
  }
  return (void *)bad;
}

static void test_digest_threads(void **state) {
  mg_json *s = load(PIN_STMT);
  pthread_t th[DIGEST_THREADS];
  for (int i = 0; i < DIGEST_THREADS; i++)
    assert_int_equal(pthread_create(&th[i], NULL, digest_worker, s), 0);
  for (int i = 0; i < DIGEST_THREADS; i++) {
    void *bad = (void *)1;
    assert_int_equal(pthread_join(th[i], &bad), 0);
    assert_true(bad == NULL);
  }
}

/* ---- formats ---------------------------------------------------------------------------- */

static void test_format_parse(void **state) {
  mg_xapi_format f = MG_XAPI_FORMAT_IDS;
  assert_int_equal(mg_xapi_format_parse("exact", &f), MG_OK);
  assert_int_equal(f, MG_XAPI_FORMAT_EXACT);
  assert_int_equal(mg_xapi_format_parse("ids", &f), MG_OK);
  assert_int_equal(f, MG_XAPI_FORMAT_IDS);
  assert_int_equal(mg_xapi_format_parse("canonical", &f), MG_OK);
  assert_int_equal(f, MG_XAPI_FORMAT_CANONICAL);
  assert_int_equal(mg_xapi_format_parse("Exact", &f), MG_EINVAL);
  assert_int_equal(mg_xapi_format_parse("", &f), MG_EINVAL);
  assert_int_equal(mg_xapi_format_parse(NULL, &f), MG_EINVAL);
}

/* Modelled on the ADL suite's format test (XAPI-00168..171): an identified Group actor, a
 * SubStatement whose actor is an Agent and whose object is an Activity with a full definition. */
static const char *RENDER_STMT =
    "{\"id\":\"5d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d\","
    "\"actor\":{\"objectType\":\"Group\",\"name\":\"Group Identified\",\"mbox\":\"mailto:group@adlnet.gov\","
    "  \"member\":[{\"name\":\"M\",\"mbox\":\"mailto:m@adlnet.gov\"}]},"
    "\"verb\":{\"id\":\"http://adlnet.gov/expapi/verbs/attended\",\"display\":{\"en-GB\":\"attended\",\"en-US\":\"attended\"}},"
    "\"object\":{\"objectType\":\"SubStatement\","
    "  \"actor\":{\"objectType\":\"Agent\",\"name\":\"xAPI mbox\",\"mbox\":\"mailto:xapi@adlnet.gov\"},"
    "  \"verb\":{\"id\":\"http://adlnet.gov/expapi/verbs/reported\",\"display\":{\"en-US\":\"reported\",\"ja-JP\":\"報告した\",\"en-GB\":\"reported\"}},"
    "  \"object\":{\"objectType\":\"Activity\",\"id\":\"http://www.example.com/unicode/1\","
    "    \"definition\":{\"name\":{\"en\":\"Other\",\"en-GB\":\"attended\",\"en-US\":\"attended\",\"zh-Hans-CN\":\"出席\"},"
    "      \"description\":{\"en-US\":\"On this map\",\"en-GB\":\"On this map (GB)\"},"
    "      \"type\":\"http://adlnet.gov/expapi/activities/cmi.interaction\",\"interactionType\":\"choice\","
    "      \"correctResponsesPattern\":[\"a\"],"
    "      \"choices\":[{\"id\":\"a\",\"description\":{\"en-US\":\"A\",\"en-GB\":\"A (GB)\",\"de\":\"A (de)\"}}],"
    "      \"extensions\":{\"http://example.com/ext\":{\"name\":{\"en-US\":\"kept\",\"fr\":\"gardé\"}}}}}},"
    "\"context\":{\"instructor\":{\"objectType\":\"Group\",\"member\":["
    "    {\"objectType\":\"Agent\",\"name\":\"T\",\"account\":{\"homePage\":\"https://h.cn\",\"name\":\"t\"}}]},"
    "  \"contextActivities\":{\"category\":[{\"id\":\"http://a/cat\",\"definition\":{\"name\":{\"en-US\":\"Cat\",\"en-GB\":\"Cat GB\"}}}]},"
    "  \"contextAgents\":[{\"objectType\":\"contextAgent\",\"agent\":{\"name\":\"TA\",\"mbox\":\"mailto:ta@x.cn\"},"
    "    \"relevantTypes\":[\"http://t/ta\"]}]},"
    "\"result\":{\"score\":{\"scaled\":1}},"
    "\"attachments\":[{\"usageType\":\"http://u\",\"display\":{\"en-US\":\"A\",\"en-GB\":\"B\"},"
    "  \"contentType\":\"text/plain\",\"length\":1,\"sha2\":\"ab\"}],"
    "\"authority\":{\"objectType\":\"Agent\",\"name\":\"P\",\"account\":{\"homePage\":\"https://lrs\",\"name\":\"p\"}}}";

static void test_render_exact(void **state) {
  mg_json *s = load(RENDER_STMT);
  mg_json *r = mg_xapi_render(&A, s, MG_XAPI_FORMAT_EXACT, "en-GB");
  assert_non_null(r);
  assert_ptr_not_equal(r, s);
  assert_true(mg_json_equal(r, s));
  /* a deep copy: changing it leaves the statement alone */
  mg_json *actor = mg_json_object_get(r, "actor");
  assert_ptr_not_equal(actor, mg_json_object_get(s, "actor"));
  assert_int_equal(mg_json_object_set(&A, actor, "name", mg_json_string(&A, "changed")), MG_OK);
  assert_false(mg_json_equal(r, s));
  assert_string_equal(get_str(s, "actor.name"), "Group Identified");
}

static void expect_json(const mg_json *got, const char *want_text) {
  mg_json *want = load(want_text);
  if (!mg_json_equal(got, want)) {
    char *g = got ? mg_json_dumps(&A, got, NULL) : NULL;
    fprintf(stderr, "got:  %s\nwant: %s\n", g ? g : "(null)", want_text);
  }
  assert_true(mg_json_equal(got, want));
}

static void test_render_ids(void **state) {
  mg_json *s = load(RENDER_STMT);
  mg_json *orig = mg_json_deep_copy(&A, s);
  mg_json *r = mg_xapi_render(&A, s, MG_XAPI_FORMAT_IDS, NULL);
  assert_non_null(r);
  assert_true(mg_json_equal(s, orig)); /* the input is untouched */

  /* identified group: objectType + IFI only (the suite accepts 1..2 properties) */
  expect_json(get(r, "actor"), "{\"objectType\":\"Group\",\"mbox\":\"mailto:group@adlnet.gov\"}");
  expect_json(get(r, "verb"), "{\"id\":\"http://adlnet.gov/expapi/verbs/attended\"}");
  /* SubStatement: agent keeps objectType + mbox (exactly 2), activity only its id (exactly 1) */
  expect_json(get(r, "object.actor"), "{\"objectType\":\"Agent\",\"mbox\":\"mailto:xapi@adlnet.gov\"}");
  expect_json(get(r, "object.verb"), "{\"id\":\"http://adlnet.gov/expapi/verbs/reported\"}");
  expect_json(get(r, "object.object"), "{\"id\":\"http://www.example.com/unicode/1\"}");
  assert_string_equal(get_str(r, "object.objectType"), "SubStatement");
  /* anonymous group: members reduced */
  expect_json(get(r, "context.instructor"),
              "{\"objectType\":\"Group\",\"member\":[{\"objectType\":\"Agent\","
              "\"account\":{\"homePage\":\"https://h.cn\",\"name\":\"t\"}}]}");
  expect_json(get(r, "context.contextActivities"), "{\"category\":[{\"id\":\"http://a/cat\"}]}");
  expect_json(get(r, "context.contextAgents"),
              "[{\"objectType\":\"contextAgent\",\"agent\":{\"mbox\":\"mailto:ta@x.cn\"},"
              "\"relevantTypes\":[\"http://t/ta\"]}]");
  expect_json(get(r, "authority"),
              "{\"objectType\":\"Agent\",\"account\":{\"homePage\":\"https://lrs\",\"name\":\"p\"}}");
  /* untouched parts */
  assert_string_equal(get_str(r, "id"), "5d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d");
  assert_true(mg_json_equal(get(r, "result"), get(s, "result")));
  assert_true(mg_json_equal(get(r, "attachments"), get(s, "attachments")));

  /* an Activity object of the statement itself, and an Agent object */
  mg_json *s2 = load("{\"actor\":{\"name\":\"n\",\"mbox_sha1sum\":\"cd9b00a5611f94eaa7b1661edab976068e364975\"},"
                     "\"verb\":{\"id\":\"http://v\",\"display\":{\"en\":\"v\"}},"
                     "\"object\":{\"objectType\":\"Agent\",\"name\":\"o\",\"openid\":\"http://o\"}}");
  r = mg_xapi_render(&A, s2, MG_XAPI_FORMAT_IDS, NULL);
  assert_non_null(r);
  expect_json(get(r, "actor"), "{\"mbox_sha1sum\":\"cd9b00a5611f94eaa7b1661edab976068e364975\"}");
  expect_json(get(r, "object"), "{\"objectType\":\"Agent\",\"openid\":\"http://o\"}");
}

static void test_render_canonical(void **state) {
  mg_json *s = load(RENDER_STMT);
  mg_json *orig = mg_json_deep_copy(&A, s);
  mg_json *r = mg_xapi_render(&A, s, MG_XAPI_FORMAT_CANONICAL, "en-GB");
  assert_non_null(r);
  assert_true(mg_json_equal(s, orig));
  /* XAPI-00169 with Accept-Language: en-GB */
  expect_json(get(r, "verb"), "{\"id\":\"http://adlnet.gov/expapi/verbs/attended\",\"display\":{\"en-GB\":\"attended\"}}");
  expect_json(get(r, "object.verb.display"), "{\"en-GB\":\"reported\"}");
  expect_json(get(r, "object.object.definition.name"), "{\"en-GB\":\"attended\"}");
  expect_json(get(r, "object.object.definition.description"), "{\"en-GB\":\"On this map (GB)\"}");
  expect_json(get(r, "object.object.definition.choices.0.description"), "{\"en-GB\":\"A (GB)\"}");
  expect_json(get(r, "context.contextActivities.category.0.definition.name"), "{\"en-GB\":\"Cat GB\"}");
  /* the rest of the definition, agents, groups, attachments and extensions stay exact */
  assert_string_equal(get_str(r, "object.object.definition.interactionType"), "choice");
  assert_true(mg_json_equal(get(r, "object.object.definition.extensions"),
                         get(s, "object.object.definition.extensions")));
  assert_true(mg_json_equal(get(r, "actor"), get(s, "actor")));
  assert_true(mg_json_equal(get(r, "object.actor"), get(s, "object.actor")));
  assert_true(mg_json_equal(get(r, "attachments"), get(s, "attachments")));

  static const struct {
    const char *accept, *name; /* expected key kept in object.object.definition.name */
  } cases[] = {
      {"zh-Hans-CN-x-mooc", "zh-Hans-CN"}, /* RFC 4647 lookup drops the private-use part */
      {"zh-Hans", "zh-Hans-CN"},            /* RFC 2616 prefix match */
      {"ja, en-GB;q=0.8", "en-GB"},         /* no ja: the next range */
      {"en-GB;q=0.3, en-US;q=0.9", "en-US"},/* q order, not header order */
      {"EN-gb", "en-GB"},                   /* tags compare case-insensitively */
      {"en-AU", "en"},                      /* truncation: en-AU -> en */
      {"fr;q=0, de", "en-US"},              /* nothing acceptable: fallback en-US */
      {"*", "en-US"},
      {"", "en-US"},
      {NULL, "en-US"},
      {";;;q=,,,=", "en-US"},               /* garbage is ignored */
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    r = mg_xapi_render(&A, s, MG_XAPI_FORMAT_CANONICAL, cases[i].accept);
    assert_non_null(r);
    const mg_json *name = get(r, "object.object.definition.name");
    if (mg_json_object_size(name) != 1 || !mg_json_object_get(name, cases[i].name))
      fprintf(stderr, "Accept-Language '%s': expected %s\n", cases[i].accept ? cases[i].accept : "(null)",
              cases[i].name);
    assert_int_equal(mg_json_object_size(name), 1);
    assert_non_null(mg_json_object_get(name, cases[i].name));
  }

  /* no English at all: the first entry; a single-entry map is left alone */
  s = load("{\"actor\":{\"mbox\":\"mailto:a@x.cn\"},\"verb\":{\"id\":\"http://v\",\"display\":{\"fr\":\"v\"}},"
           "\"object\":{\"id\":\"http://a\",\"definition\":{\"name\":{\"zh-CN\":\"课程\",\"de\":\"Kurs\"}}}}");
  r = mg_xapi_render(&A, s, MG_XAPI_FORMAT_CANONICAL, "ja");
  assert_non_null(r);
  expect_json(get(r, "object.definition.name"), "{\"zh-CN\":\"课程\"}");
  expect_json(get(r, "verb.display"), "{\"fr\":\"v\"}");
}

#define T(f) cmocka_unit_test_setup_teardown(f, arena_setup, arena_teardown)

int main(void) {
  const struct CMUnitTest tests[] = {
      T(test_prepare_v103_defaults),
      T(test_prepare_keeps_and_lowercases_id),
      T(test_prepare_v200_version_and_utc),
      T(test_prepare_context_activities_and_substatement),
      T(test_agent_key_kinds),
      T(test_keys_every_location),
      T(test_keys_substatement),
      T(test_keys_voiding_and_object_agent),
      T(test_keys_dedup_large),
      T(test_keys_rejects_unprepared),
      T(test_digest_equalities),
      T(test_digest_differences),
      T(test_digest_pinned),
      T(test_digest_threads),
      T(test_format_parse),
      T(test_render_exact),
      T(test_render_ids),
      T(test_render_canonical),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
