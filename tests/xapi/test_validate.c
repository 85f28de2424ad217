/* tests/xapi/test_validate.c — xAPI statement validation, rule by rule.
 *
 * Statements are written with single quotes for readability; J() parses them with mg_json_parse
 * into an arena, as the LRS does. Every failing case asserts the return code, the exact reported
 * path and a word of the message. */
/* cmocka.h needs these four first */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* clang-format off */
#include <cmocka.h>
/* clang-format on */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/json.h"
#include "xapi/validate.h"

#define V1 MG_XAPI_V103
#define V2 MG_XAPI_V200

/* ---- building blocks (single-quoted JSON) ---- */

#define ACTOR "'actor':{'objectType':'Agent','name':'Li Lei','mbox':'mailto:lilei@example.edu.cn'}"
#define VERB                                                                                       \
  "'verb':{'id':'http://adlnet.gov/expapi/verbs/attended','display':{'en-US':'attended'}}"
#define OBJ "'object':{'objectType':'Activity','id':'http://example.com/course/1'}"
#define STMT(...) "{" ACTOR "," VERB "," OBJ __VA_ARGS__ "}"
#define WITH_ACTOR(a) "{'actor':" a "," VERB "," OBJ "}"
#define WITH_VERB(v) "{" ACTOR ",'verb':" v "," OBJ "}"
#define WITH_OBJECT(o) "{" ACTOR "," VERB ",'object':" o "}"
#define WITH_AUTHORITY(a) STMT(",'authority':" a)
#define WITH_CONTEXT(c) STMT(",'context':" c)
#define WITH_RESULT(r) STMT(",'result':" r)
#define WITH_DEF(d) WITH_OBJECT("{'id':'http://example.com/q/1','definition':" d "}")
#define SUB(...) WITH_OBJECT("{'objectType':'SubStatement'," ACTOR "," VERB "," OBJ __VA_ARGS__ "}")
#define ATTACH(...)                                                                                \
  STMT(",'attachments':[{'usageType':'http://adlnet.gov/expapi/attachments/signature',"            \
       "'display':{'en-US':'signature'},'contentType':'application/octet-stream',"                 \
       "'length':4235,'sha2':'"                                                                    \
       "672fa5fa658017f1b72d65036f13379c6ab05d4ab3b6664908d8acf0b6a0c634'" __VA_ARGS__ "}]")

static const char *const SHA1 = "cd9b00a5611f94eaa7b1661edab976068e364975";

static int g_assertions;

/* Parses single-quoted JSON into arena a (the parser copies the text there). */
static mg_json *J(mg_arena *a, const char *text) {
  size_t n = strlen(text);
  char *buf = malloc(n + 1);
  assert_non_null(buf);
  for (size_t i = 0; i <= n; i++) buf[i] = text[i] == '\'' ? '"' : text[i];
  mg_json_error je;
  mg_json *j = mg_json_parse(a, buf, n, MG_JSON_DECODE_ANY, &je);
  if (!j) print_error("bad test JSON (%s at %d:%d): %s\n", je.text, je.line, je.column, buf);
  free(buf);
  assert_non_null(j);
  return j;
}

static void ok_v(mg_xapi_version v, const char *text) {
  mg_arena a;
  mg_arena_init(&a, 0, 0);
  mg_json *j = J(&a, text);
  mg_xapi_error err;
  int rc = mg_xapi_validate_statement(j, v, "", &err);
  if (rc != MG_OK)
    print_error("unexpected rejection: %s: %s\n  in %s\n", err.path, err.message, text);
  assert_int_equal(rc, MG_OK);
  assert_string_equal(err.path, "");
  g_assertions += 2;
  mg_arena_free(&a);
}

/* Valid under both versions. */
static void ok(const char *text) {
  ok_v(V1, text);
  ok_v(V2, text);
}

static void bad_pv(mg_xapi_version v, const char *prefix, const char *text, const char *path,
                   const char *msg) {
  mg_arena a;
  mg_arena_init(&a, 0, 0);
  mg_json *j = J(&a, text);
  mg_xapi_error err;
  int rc = mg_xapi_validate_statement(j, v, prefix, &err);
  if (rc != MG_EINVAL || strcmp(err.path, path) != 0 || !strstr(err.message, msg))
    print_error("expected %s (\"%s\"), got rc=%d %s: %s\n  in %s\n", path, msg, rc, err.path,
                err.message, text);
  assert_int_equal(rc, MG_EINVAL);
  assert_string_equal(err.path, path);
  assert_non_null(strstr(err.message, msg));
  g_assertions += 3;
  mg_arena_free(&a);
}

static void bad_v(mg_xapi_version v, const char *text, const char *path, const char *msg) {
  bad_pv(v, "", text, path, msg);
}

/* Invalid under both versions, at the same place. */
static void bad(const char *text, const char *path, const char *msg) {
  bad_v(V1, text, path, msg);
  bad_v(V2, text, path, msg);
}

/* ---- the statement itself ---- */

static void test_statement_is_object(void **state) {
  (void)state;
  ok(STMT());
  bad("[]", "", "JSON object");
  bad("'just a string'", "", "JSON object");
  bad("null", "", "JSON object");
  bad_pv(V1, "[3]", "42", "[3]", "JSON object");
  mg_xapi_error err;
  assert_int_equal(mg_xapi_validate_statement(NULL, V1, NULL, &err), MG_EINVAL);
  assert_string_equal(err.path, "");
  assert_int_equal(mg_xapi_validate_statement(NULL, (mg_xapi_version)7, NULL, &err), MG_EINVAL);
  g_assertions += 3;
}

static void test_required_properties(void **state) {
  (void)state;
  ok(STMT());
  bad("{" VERB "," OBJ "}", "actor", "missing");
  bad("{" ACTOR "," OBJ "}", "verb", "missing");
  bad("{" ACTOR "," VERB "}", "object", "missing");
  bad("{}", "actor", "missing");
}

static void test_unknown_properties_everywhere(void **state) {
  (void)state;
  /* property names are case-sensitive: near-misses are unknown */
  bad(STMT(",'Actor':{'mbox':'mailto:a@example.com'}"), "Actor", "unknown property");
  bad(STMT(",'timeStamp':'2024-01-01T00:00:00Z'"), "timeStamp", "unknown property");
  bad(STMT(",'objectType':'StatementRef'"), "objectType", "unknown property");
  bad(WITH_ACTOR("{'mbox':'mailto:a@example.com','age':30}"), "actor.age", "unknown property");
  bad(WITH_ACTOR("{'account':{'homePage':'http://x.cn','name':'7','id':1}}"), "actor.account.id",
      "unknown");
  bad(WITH_ACTOR("{'objectType':'Group','member':[{'mbox':'mailto:a@example.com','x':1}]}"),
      "actor.member[0].x", "unknown");
  bad(WITH_VERB("{'id':'http://adlnet.gov/expapi/verbs/attended','name':'x'}"), "verb.name",
      "unknown");
  bad(WITH_OBJECT("{'id':'http://example.com/a','mbox':'mailto:a@example.com'}"), "object.mbox",
      "unknown");
  bad(WITH_DEF("{'title':{'en':'x'}}"), "object.definition.title", "unknown");
  bad(WITH_DEF("{'interactionType':'choice','choices':[{'id':'a','text':'A'}]}"),
      "object.definition.choices[0].text", "unknown");
  bad(WITH_RESULT("{'grade':'A'}"), "result.grade", "unknown");
  bad(WITH_RESULT("{'score':{'percent':90}}"), "result.score.percent", "unknown");
  bad(WITH_CONTEXT("{'location':'Beijing'}"), "context.location", "unknown");
  bad(WITH_CONTEXT("{'contextActivities':{'consequences':[]}}"),
      "context.contextActivities.consequences", "unknown");
  bad(WITH_CONTEXT("{'statement':{'objectType':'StatementRef',"
                   "'id':'8f87ccde-bb56-4c2e-ab83-44982ef22df0','x':1}}"),
      "context.statement.x", "unknown");
  bad(ATTACH(",'encoding':'base64'"), "attachments[0].encoding", "unknown");
  bad(SUB(",'extra':true"), "object.extra", "unknown");
  bad(WITH_OBJECT("{'objectType':'StatementRef','id':'8f87ccde-bb56-4c2e-ab83-44982ef22df0',"
                  "'verb':{}}"),
      "object.verb", "unknown");
  bad_v(V2,
        WITH_CONTEXT("{'contextAgents':[{'objectType':'contextAgent','agent':"
                     "{'mbox':'mailto:a@example.com'},'role':'x'}]}"),
        "context.contextAgents[0].role", "unknown");
  bad_v(V2,
        WITH_CONTEXT("{'contextGroups':[{'objectType':'contextGroup','group':"
                     "{'objectType':'Group','mbox':'mailto:g@example.com'},'size':1}]}"),
        "context.contextGroups[0].size", "unknown");
}

/* Sets obj[key] for a key of n bytes that may contain NUL. mg_json keys carry their length, but
 * the setter takes a C string: the member is added under a stand-in name, then given the real
 * key (a literal, which outlives the arena). MG_OK or the setter's error. */
static int set_key_n(mg_arena *a, mg_json *obj, const char *key, size_t n, mg_json *v) {
  static const char stand_in[] = "\x01stand-in";
  int rc = mg_json_object_set(a, obj, stand_in, v);
  if (rc) return rc;
  mg_json_member *m = &obj->u.members[obj->len - 1];
  if (strcmp(m->key, stand_in) != 0) return MG_EINVAL; /* it was not appended last */
  m->key = key;
  m->key_len = n;
  return MG_OK;
}

/* Setup steps that are not themselves under test. */
#define MUST(expr) assert_int_equal((expr), MG_OK)

/* The parser refuses NULs, but values built in code can carry them: a key or a formatted
 * string with an embedded NUL must not pass for the text before the NUL. */
static void test_embedded_nul(void **state) {
  (void)state;
  mg_xapi_error err;
  mg_arena a;
  mg_arena_init(&a, 0, 0);
  mg_json *j = J(&a, STMT());
  assert_int_equal(set_key_n(&a, j, "version\0x", 9, mg_json_string(&a, "1.0.0")), 0);
  assert_int_equal(mg_xapi_validate_statement(j, V1, "", &err), MG_EINVAL);
  assert_string_equal(err.path, "version");
  assert_non_null(strstr(err.message, "unknown property"));
  j = J(&a, STMT());
  MUST(mg_json_object_set(&a, j, "timestamp",
                          mg_json_stringn(&a, "2024-03-01T08:30:00Z\0junk", 25)));
  assert_int_equal(mg_xapi_validate_statement(j, V2, "", &err), MG_EINVAL);
  assert_string_equal(err.path, "timestamp");
  MUST(mg_json_object_set(&a, j, "timestamp", mg_json_string(&a, "2024-03-01T08:30:00Z")));
  MUST(mg_json_object_set(&a, j, "id",
                          mg_json_stringn(&a, "fd41c918-b88b-4b20-a0a5-a4c32391aaa0\0", 37)));
  assert_int_equal(mg_xapi_validate_statement(j, V2, "", &err), MG_EINVAL);
  assert_string_equal(err.path, "id");
  MUST(mg_json_object_del(j, "id"));
  MUST(mg_json_object_set(&a, mg_json_object_get(j, "object"), "objectType",
                          mg_json_stringn(&a, "Activity\0!", 10)));
  assert_int_equal(mg_xapi_validate_statement(j, V2, "", &err), MG_EINVAL);
  assert_string_equal(err.path, "object.objectType");
  mg_arena_free(&a);
  g_assertions += 10;
}

/* ---- id ---- */

static void test_id_uuid(void **state) {
  (void)state;
  ok(STMT(",'id':'fd41c918-b88b-4b20-a0a5-a4c32391aaa0'"));
  ok(STMT(",'id':'FD41C918-B88B-4B20-A0A5-A4C32391AAA0'")); /* upper case */
  ok(STMT(",'id':'6fa459ea-ee8a-11ca-8c4e-0800200c9a66'")); /* version 1 */
  ok(STMT(",'id':'018f4c6e-7a3b-7cde-9f01-23456789abcd'")); /* version 7 (RFC 9562) */
  bad(STMT(",'id':'AA97B177-9383-4934-8543-0F91A7A028368'"), "id", "UUID");
  bad(STMT(",'id':'MA97B177-9383-4934-8543-0F91A7A02836'"), "id", "UUID");
  bad(STMT(",'id':'fd41c918b88b4b20a0a5a4c32391aaa0'"), "id", "UUID");
  bad(STMT(",'id':''"), "id", "UUID");
  bad(STMT(",'id':12345"), "id", "not a number");
  bad(STMT(",'id':{'key':'x'}"), "id", "not an object");
  bad(STMT(",'id':null"), "id", "not null");
  bad(STMT(",'id':'fd41c918-b88b-4b20-c0a5-a4c32391aaa0'"), "id", "variant"); /* variant 110 */
  bad(STMT(",'id':'fd41c918-b88b-4b20-20a5-a4c32391aaa0'"), "id", "variant"); /* NCS variant */
  bad(STMT(",'id':'00000000-0000-0000-0000-000000000000'"), "id", "variant"); /* nil */
  bad(STMT(",'id':'fd41c918-b88b-0b20-a0a5-a4c32391aaa0'"), "id", "version"); /* version 0 */
  bad(STMT(",'id':'fd41c918-b88b-fb20-a0a5-a4c32391aaa0'"), "id", "version"); /* version 15 */
}

/* ---- actor: agents ---- */

static void test_agent_ifis(void **state) {
  (void)state;
  char buf[512];
  ok(WITH_ACTOR("{'mbox':'mailto:xapi@adlnet.gov'}")); /* objectType optional */
  ok(WITH_ACTOR("{'objectType':'Agent','mbox':'mailto:张三@北京大学.cn'}"));
  snprintf(buf, sizeof buf, WITH_ACTOR("{'mbox_sha1sum':'%s'}"), SHA1);
  ok(buf);
  ok(WITH_ACTOR("{'mbox_sha1sum':'CD9B00A5611F94EAA7B1661EDAB976068E364975'}"));
  ok(WITH_ACTOR("{'openid':'http://openid.example.org/12345'}"));
  ok(WITH_ACTOR("{'name':'王芳','account':{'homePage':'https://www.xuetangx.com','name':'u1'}}"));
  bad(WITH_ACTOR("{'objectType':'Agent','name':'nobody'}"), "actor", "exactly one");
  bad(WITH_ACTOR("{}"), "actor", "exactly one");
  snprintf(buf, sizeof buf, WITH_ACTOR("{'mbox':'mailto:a@example.com','mbox_sha1sum':'%s'}"),
           SHA1);
  bad(buf, "actor", "exactly one");
  bad(WITH_ACTOR("{'mbox':'mailto:a@example.com','openid':'http://openid.example.org/1'}"), "actor",
      "exactly one");
  bad(WITH_ACTOR("{'openid':'http://o.example.org/1','account':{'homePage':'http://x.cn',"
                 "'name':'1'}}"),
      "actor", "exactly one");
  /* mbox */
  bad(WITH_ACTOR("{'mbox':'xapi@adlnet.gov'}"), "actor.mbox", "mailto");
  bad(WITH_ACTOR("{'mbox':'mailto:should.fail.com'}"), "actor.mbox", "email address");
  bad(WITH_ACTOR("{'mbox':'mailto:@example.com'}"), "actor.mbox", "email address");
  bad(WITH_ACTOR("{'mbox':'mailto:a@'}"), "actor.mbox", "email address");
  bad(WITH_ACTOR("{'mbox':'mailto:a b@example.com'}"), "actor.mbox", "mailto");
  bad(WITH_ACTOR("{'mbox':12345}"), "actor.mbox", "not a number");
  /* mbox_sha1sum */
  bad(WITH_ACTOR("{'mbox_sha1sum':'cd9b00a5611f94eaa7b1661edab976068e36497'}"),
      "actor.mbox_sha1sum", "40 hexadecimal");
  bad(WITH_ACTOR("{'mbox_sha1sum':'zd9b00a5611f94eaa7b1661edab976068e364975'}"),
      "actor.mbox_sha1sum", "40 hexadecimal");
  bad(WITH_ACTOR("{'mbox_sha1sum':12345}"), "actor.mbox_sha1sum", "not a number");
  /* openid */
  bad(WITH_ACTOR("{'openid':'open.id.com/testUser'}"), "actor.openid", "scheme");
  bad(WITH_ACTOR("{'openid':'ab=c://should.fail.com'}"), "actor.openid", "scheme");
  /* account */
  bad(WITH_ACTOR("{'account':{'name':'u1'}}"), "actor.account.homePage", "missing");
  bad(WITH_ACTOR("{'account':{'homePage':'http://x.cn'}}"), "actor.account.name", "missing");
  bad(WITH_ACTOR("{'account':{'homePage':'homePage.com/testUser','name':'1'}}"),
      "actor.account.homePage", "scheme");
  bad(WITH_ACTOR("{'account':{'homePage':'http://x.cn','name':{'key':'x'}}}"), "actor.account.name",
      "not an object");
  bad(WITH_ACTOR("{'account':'u1'}"), "actor.account", "not a string");
  /* name, objectType */
  bad(WITH_ACTOR("{'name':123,'mbox':'mailto:a@example.com'}"), "actor.name", "string");
  bad(WITH_ACTOR("{'name':null,'mbox':'mailto:a@example.com'}"), "actor.name", "not null");
  bad(WITH_ACTOR("{'objectType':'agent','mbox':'mailto:a@example.com'}"), "actor.objectType",
      "\"Agent\" or \"Group\"");
  bad(WITH_ACTOR(
          "{'objectType':'\\\"objectType\\\": \\\"Agent\\\"','mbox':'mailto:a@example.com'}"),
      "actor.objectType", "\"Agent\" or \"Group\"");
  bad(WITH_ACTOR("{'objectType':123,'mbox':'mailto:a@example.com'}"), "actor.objectType",
      "not a number");
  bad(WITH_ACTOR("{'objectType':'Agent','mbox':'mailto:a@example.com','member':[]}"),
      "actor.member", "only a Group");
  bad(WITH_ACTOR("'mailto:a@example.com'"), "actor", "Agent or Group");
}

/* ---- actor: groups ---- */

static void test_groups(void **state) {
  (void)state;
  char buf[512];
  ok(WITH_ACTOR("{'objectType':'Group','name':'Team A','mbox':'mailto:team@example.com'}"));
  snprintf(buf, sizeof buf, WITH_ACTOR("{'objectType':'Group','mbox_sha1sum':'%s'}"), SHA1);
  ok(buf);
  ok(WITH_ACTOR("{'objectType':'Group','openid':'http://openid.example.org/g'}"));
  ok(WITH_ACTOR("{'objectType':'Group','account':{'homePage':'http://x.cn','name':'g'},"
                "'member':[]}"));
  ok(WITH_ACTOR("{'objectType':'Group','member':[{'mbox':'mailto:a@example.com'},"
                "{'objectType':'Agent','openid':'http://o.example.org/b'}]}"));
  bad(WITH_ACTOR("{'objectType':'Group','name':'anonymous'}"), "actor.member", "list its members");
  bad(WITH_ACTOR("{'objectType':'Group','member':[]}"), "actor.member", "at least one");
  bad(WITH_ACTOR("{'objectType':'Group','member':{'mbox':'mailto:a@example.com'}}"), "actor.member",
      "array");
  bad(WITH_ACTOR("{'objectType':'Group','member':[{'mbox':'mailto:a@example.com'},"
                 "{'objectType':'Group','mbox':'mailto:g@example.com'}]}"),
      "actor.member[1].objectType", "not a Group");
  bad(WITH_ACTOR("{'objectType':'Group','member':[{'mbox':'mailto:a@example.com'},"
                 "{'mbox':'a@example.com'}]}"),
      "actor.member[1].mbox", "mailto");
  bad(WITH_ACTOR("{'objectType':'Group','member':['mailto:a@example.com']}"), "actor.member[0]",
      "Agent object");
  bad(WITH_ACTOR("{'objectType':'Group','mbox':'mailto:t@example.com',"
                 "'openid':'http://o.example.org/g'}"),
      "actor", "exactly one");
  bad(WITH_ACTOR("{'objectType':'group','mbox':'mailto:t@example.com'}"), "actor.objectType",
      "\"Group\"");
}

/* ---- verb ---- */

static void test_verb(void **state) {
  (void)state;
  ok(WITH_VERB("{'id':'http://adlnet.gov/expapi/verbs/completed'}"));
  ok(WITH_VERB("{'id':'http://adlnet.gov/expapi/verbs/completed','display':{}}"));
  ok(WITH_VERB("{'id':'https://w3id.org/xapi/video/verbs/played','display':"
               "{'zh-CN':'播放','zh-Hant-TW':'播放','en':'played'}}"));
  bad(WITH_VERB("{'display':{'en-US':'attended'}}"), "verb.id", "missing");
  bad(WITH_VERB("{'id':'adlnet.gov/expapi/verbs/attended'}"), "verb.id", "scheme");
  bad(WITH_VERB("{'id':'ab=c://should.fail.com'}"), "verb.id", "scheme");
  bad(WITH_VERB("{'id':42}"), "verb.id", "not a number");
  bad(WITH_VERB("'http://adlnet.gov/expapi/verbs/attended'"), "verb", "not a string");
  bad(WITH_VERB("{'id':'http://adlnet.gov/expapi/verbs/attended','display':'attended'}"),
      "verb.display", "language map");
  bad(WITH_VERB("{'id':'http://adlnet.gov/expapi/verbs/attended','display':12345}"), "verb.display",
      "language map");
  bad(WITH_VERB("{'id':'http://adlnet.gov/expapi/verbs/attended','display':"
                "{'en-US':'attended','something':'besucht'}}"),
      "verb.display", "\"something\"");
  bad(WITH_VERB("{'id':'http://adlnet.gov/expapi/verbs/attended','display':{'en-US':null}}"),
      "verb.display.en-US", "not null");
  bad(WITH_VERB("{'id':'http://adlnet.gov/expapi/verbs/attended','display':{'en-US':1}}"),
      "verb.display.en-US", "string");
}

static void test_voiding(void **state) {
  (void)state;
  ok("{" ACTOR ",'verb':{'id':'http://adlnet.gov/expapi/verbs/voided','display':"
     "{'en-US':'voided'}},'object':{'objectType':'StatementRef',"
     "'id':'8f87ccde-bb56-4c2e-ab83-44982ef22df0'}}");
  bad("{" ACTOR ",'verb':{'id':'http://adlnet.gov/expapi/verbs/voided'}," OBJ "}", "object",
      "StatementRef");
  bad("{" ACTOR ",'verb':{'id':'http://adlnet.gov/expapi/verbs/voided'},'object':"
      "{'objectType':'Agent','mbox':'mailto:a@example.com'}}",
      "object", "StatementRef");
}

/* ---- object: activity ---- */

static void test_activity(void **state) {
  (void)state;
  ok(WITH_OBJECT("{'id':'http://example.com/a'}")); /* objectType defaults to Activity */
  ok(WITH_OBJECT("{'objectType':'Activity','id':'http://example.com/a','definition':{}}"));
  ok(WITH_OBJECT("{'id':'https://www.icourse163.org/课程/高等数学/第一章','definition':{"
                 "'name':{'zh-CN':'高等数学','en-US':'Calculus'},"
                 "'description':{'zh-Hans-CN':'第一章 函数与极限'},"
                 "'type':'http://adlnet.gov/expapi/activities/lesson',"
                 "'moreInfo':'https://www.icourse163.org/learn/PKU-1001?tid=1#/learn/content',"
                 "'extensions':{'http://example.com/ext/学分':2}}}"));
  bad(WITH_OBJECT("{'objectType':'Activity'}"), "object.id", "missing");
  bad(WITH_OBJECT("{'id':'www.example.com/meetings/occurances/34534'}"), "object.id", "scheme");
  bad(WITH_OBJECT("{'id':'http://example.com/has space'}"), "object.id", "scheme");
  bad(WITH_OBJECT("{'id':null}"), "object.id", "not null");
  bad(WITH_OBJECT("{'objectType':'activity','id':'http://example.com/a'}"), "object.objectType",
      "\"Activity\"");
  bad(WITH_OBJECT("{'objectType':'Person','id':'http://example.com/a'}"), "object.objectType",
      "\"Activity\"");
  bad(WITH_OBJECT("{'objectType':7,'id':'http://example.com/a'}"), "object.objectType", "string");
  bad(WITH_OBJECT("'http://example.com/a'"), "object", "not a string");
  bad(WITH_DEF("'a lesson'"), "object.definition", "not a string");
  bad(WITH_DEF("{'name':'a lesson'}"), "object.definition.name", "language map");
  bad(WITH_DEF("{'name':{'en-US':'x','de':null}}"), "object.definition.name.de", "not null");
  bad(WITH_DEF("{'description':{'zh-z-aaa-z-bbb':'x'}}"), "object.definition.description",
      "language tag");
  bad(WITH_DEF("{'type':'adlnet.gov/expapi/activities/meeting'}"), "object.definition.type",
      "scheme");
  bad(WITH_DEF("{'moreInfo':'virtualmeeting.example.com/345256'}"), "object.definition.moreInfo",
      "scheme");
  bad(WITH_DEF("{'extensions':{'not.valid.com/extension':1234}}"), "object.definition.extensions",
      "not.valid.com/extension");
  bad(WITH_DEF("{'extensions':'none'}"), "object.definition.extensions", "object");
}

/* ---- object: interaction activities ---- */

static void test_interactions(void **state) {
  (void)state;
  ok(WITH_DEF("{'interactionType':'true-false','correctResponsesPattern':['true']}"));
  ok(WITH_DEF("{'interactionType':'choice','correctResponsesPattern':['golf[,]tetris'],"
              "'choices':[{'id':'golf','description':{'en-US':'Golf Example'}},{'id':'tetris'}]}"));
  ok(WITH_DEF("{'interactionType':'fill-in','correctResponsesPattern':['Bob']}"));
  ok(WITH_DEF("{'interactionType':'long-fill-in','correctResponsesPattern':[]}"));
  ok(WITH_DEF("{'interactionType':'matching','correctResponsesPattern':['ben[.]3'],"
              "'source':[{'id':'ben'}],'target':[{'id':'3'}]}"));
  ok(WITH_DEF("{'interactionType':'performance','steps':[{'id':'pong'},{'id':'dg'}]}"));
  ok(WITH_DEF("{'interactionType':'sequencing','choices':[{'id':'a'},{'id':'b'}]}"));
  ok(WITH_DEF("{'interactionType':'likert','scale':[{'id':'likert_0','description':"
              "{'sr-Latn-RS':'x'}},{'id':'likert_1'}]}"));
  ok(WITH_DEF("{'interactionType':'numeric','correctResponsesPattern':['4[:]']}"));
  ok(WITH_DEF("{'interactionType':'other','correctResponsesPattern':['(35.9,-86.8)']}"));
  bad(WITH_DEF("{'interactionType':'Choice'}"), "object.definition.interactionType",
      "not an interaction type");
  bad(WITH_DEF("{'interactionType':'essay'}"), "object.definition.interactionType",
      "not an interaction type");
  bad(WITH_DEF("{'interactionType':12345}"), "object.definition.interactionType", "string");
  bad(WITH_DEF("{'interactionType':'fill-in','correctResponsesPattern':'Bob'}"),
      "object.definition.correctResponsesPattern", "array");
  bad(WITH_DEF("{'interactionType':'numeric','correctResponsesPattern':['4',5]}"),
      "object.definition.correctResponsesPattern[1]", "string");
  bad(WITH_DEF("{'correctResponsesPattern':['true']}"), "object.definition.correctResponsesPattern",
      "interactionType");
  bad(WITH_DEF("{'choices':[{'id':'a'}]}"), "object.definition.choices", "interactionType");
  bad(WITH_DEF("{'interactionType':'true-false','choices':[{'id':'a'}]}"),
      "object.definition.choices", "not allowed");
  bad(WITH_DEF("{'interactionType':'choice','scale':[{'id':'a'}]}"), "object.definition.scale",
      "not allowed");
  bad(WITH_DEF("{'interactionType':'likert','source':[{'id':'a'}]}"), "object.definition.source",
      "not allowed");
  bad(WITH_DEF("{'interactionType':'performance','target':[{'id':'a'}]}"),
      "object.definition.target", "not allowed");
  bad(WITH_DEF("{'interactionType':'matching','steps':[{'id':'a'}]}"), "object.definition.steps",
      "not allowed");
  bad(WITH_DEF("{'interactionType':'choice','choices':{'id':'a'}}"), "object.definition.choices",
      "array");
  bad(WITH_DEF("{'interactionType':'choice','choices':[{'description':{'en':'A'}}]}"),
      "object.definition.choices[0].id", "missing");
  bad(WITH_DEF("{'interactionType':'choice','choices':[{'id':1}]}"),
      "object.definition.choices[0].id", "string");
  bad(WITH_DEF("{'interactionType':'choice','choices':['a']}"), "object.definition.choices[0]",
      "component");
  bad(WITH_DEF("{'interactionType':'likert','scale':[{'id':'a','description':{'xx-yy-zz':'A'}}]}"),
      "object.definition.scale[0].description", "language tag");
  bad(WITH_DEF("{'interactionType':'choice','choices':[{'id':'a'},{'id':'b'},{'id':'a'}]}"),
      "object.definition.choices[2].id", "duplicate");
  bad(WITH_DEF("{'interactionType':'matching','source':[{'id':'a'}],'target':[{'id':'x'},"
               "{'id':'x'}]}"),
      "object.definition.target[1].id", "duplicate");
}

/* Long component lists take the hashed duplicate check. */
static void test_interaction_many_components(void **state) {
  (void)state;
  static const char head[] = "{" ACTOR "," VERB ",'object':{'id':'http://example.com/q/1',"
                             "'definition':{'interactionType':'choice','choices':[";
  static const char tail[] = "]}}}";
  size_t cap = sizeof head + sizeof tail + 3000 * 16;
  char *buf = malloc(cap);
  assert_non_null(buf);
  /* 500 components fit the stack table; 3000 need an allocated one */
  static const int sizes[] = {500, 3000};
  for (int k = 0; k < 2; k++)
    for (int dup = 0; dup < 2; dup++) {
      size_t n = (size_t)snprintf(buf, cap, "%s", head);
      for (int i = 0; i < sizes[k]; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%s{'id':'c%d'}", i ? "," : "",
                              dup && i == 437 ? 12 : i);
      snprintf(buf + n, cap - n, "%s", tail);
      if (dup)
        bad(buf, "object.definition.choices[437].id", "duplicate");
      else
        ok(buf);
    }
  free(buf);
}

/* ---- object: agent, group, statement ref, substatement ---- */

static void test_object_agent_group(void **state) {
  (void)state;
  ok(WITH_OBJECT("{'objectType':'Agent','mbox':'mailto:teacher@example.edu.cn'}"));
  ok(WITH_OBJECT("{'objectType':'Group','name':'Group','mbox':'mailto:g@example.com'}"));
  ok(WITH_OBJECT("{'objectType':'Group','member':[{'mbox':'mailto:a@example.com'}]}"));
  /* without objectType the object is an Activity, so agent properties are unknown */
  bad(WITH_OBJECT("{'name':'xAPI mbox','mbox':'mailto:xapi@adlnet.gov'}"), "object.name",
      "unknown");
  bad(WITH_OBJECT("{'objectType':'Agent'}"), "object", "exactly one");
  bad(WITH_OBJECT("{'objectType':'Agent','mbox':'mailto:a@example.com','id':'x'}"), "object.id",
      "unknown");
  bad(WITH_OBJECT("{'objectType':'Group'}"), "object.member", "list its members");
}

static void test_statement_ref(void **state) {
  (void)state;
  ok(WITH_OBJECT("{'objectType':'StatementRef','id':'8f87ccde-bb56-4c2e-ab83-44982ef22df0'}"));
  bad(WITH_OBJECT("{'objectType':'StatementRef'}"), "object.id", "missing");
  bad(WITH_OBJECT("{'objectType':'StatementRef','id':'should fail'}"), "object.id", "UUID");
  bad(WITH_OBJECT("{'objectType':'StatementRef','id':12345}"), "object.id", "not a number");
  bad(WITH_OBJECT("{'objectType':'statementref','id':'8f87ccde-bb56-4c2e-ab83-44982ef22df0'}"),
      "object.objectType", "\"StatementRef\"");
}

static void test_substatement(void **state) {
  (void)state;
  ok(SUB());
  ok(SUB(",'timestamp':'2099-01-01T00:00:00.000Z','result':{'success':true},"
         "'context':{'platform':'moodle','revision':'2'}"));
  ok(WITH_OBJECT("{'objectType':'SubStatement'," ACTOR "," VERB ",'object':{'objectType':"
                 "'StatementRef','id':'8f87ccde-bb56-4c2e-ab83-44982ef22df0'}}"));
  bad(SUB(",'id':'fd41c918-b88b-4b20-a0a5-a4c32391aaa0'"), "object.id", "must not have");
  bad(SUB(",'stored':'2024-01-01T00:00:00Z'"), "object.stored", "must not have");
  bad(SUB(",'version':'1.0.0'"), "object.version", "must not have");
  bad(SUB(",'authority':{'mbox':'mailto:a@example.com'}"), "object.authority", "must not have");
  bad(WITH_OBJECT("{'objectType':'SubStatement'," ACTOR "," VERB ",'object':"
                  "{'objectType':'SubStatement'," ACTOR "," VERB "," OBJ "}}"),
      "object.object.objectType", "must not contain a SubStatement");
  bad(WITH_OBJECT("{'objectType':'SubStatement'," VERB "," OBJ "}"), "object.actor", "missing");
  bad(WITH_OBJECT("{'objectType':'SubStatement'," ACTOR "," OBJ "}"), "object.verb", "missing");
  bad(WITH_OBJECT("{'objectType':'SubStatement'," ACTOR "," VERB "}"), "object.object", "missing");
  bad(WITH_OBJECT("{'objectType':'substatement'," ACTOR "," VERB "," OBJ "}"), "object.objectType",
      "\"SubStatement\"");
  /* a SubStatement is validated like a statement */
  bad(WITH_OBJECT("{'objectType':'SubStatement','actor':{'mbox':'x'}," VERB "," OBJ "}"),
      "object.actor.mbox", "mailto");
  bad(WITH_OBJECT("{'objectType':'SubStatement'," ACTOR ",'verb':{'id':'x'}," OBJ "}"),
      "object.verb.id", "scheme");
  bad(SUB(",'timestamp':'yesterday'"), "object.timestamp", "timestamp");
  bad(SUB(",'result':{'score':{'scaled':2}}"), "object.result.score.scaled", "between");
  bad(WITH_OBJECT("{'objectType':'SubStatement'," ACTOR "," VERB ",'object':{'objectType':"
                  "'Agent','mbox':'mailto:a@example.com'},'context':{'revision':'1'}}"),
      "object.context.revision", "only allowed");
}

/* ---- result ---- */

static void test_result(void **state) {
  (void)state;
  ok(WITH_RESULT("{}"));
  ok(WITH_RESULT("{'score':{'scaled':0.95,'raw':95,'min':0,'max':100},'success':true,"
                 "'completion':false,'response':'我们同意了','duration':'PT1H0M0S',"
                 "'extensions':{'http://example.com/ext/x':null}}"));
  ok(WITH_RESULT("{'score':{'scaled':-1}}"));
  ok(WITH_RESULT("{'score':{'scaled':1,'raw':-5}}"));
  ok(WITH_RESULT("{'score':{'raw':0,'min':0,'max':0.5}}"));
  ok(WITH_RESULT("{'score':{'raw':100,'max':100}}"));
  bad(WITH_RESULT("'passed'"), "result", "not a string");
  bad(WITH_RESULT("{'score':{'scaled':1.0001}}"), "result.score.scaled", "between -1 and 1");
  bad(WITH_RESULT("{'score':{'scaled':-1.5}}"), "result.score.scaled", "between -1 and 1");
  bad(WITH_RESULT("{'score':{'raw':101,'min':0,'max':100}}"), "result.score.raw", "greater");
  bad(WITH_RESULT("{'score':{'raw':-1,'min':0}}"), "result.score.raw", "less than min");
  bad(WITH_RESULT("{'score':{'min':10,'max':10}}"), "result.score.min", "less than max");
  bad(WITH_RESULT("{'score':{'min':10,'max':5}}"), "result.score.min", "less than max");
  bad(WITH_RESULT("{'score':{'scaled':0.95,'raw':95,'min':0,'max':'100'}}"), "result.score.max",
      "number");
  bad(WITH_RESULT("{'score':{'raw':'one hundred'}}"), "result.score.raw", "number");
  bad(WITH_RESULT("{'score':95}"), "result.score", "score object");
  bad(WITH_RESULT("{'success':'true'}"), "result.success", "boolean");
  bad(WITH_RESULT("{'completion':'false'}"), "result.completion", "boolean");
  bad(WITH_RESULT("{'completion':1}"), "result.completion", "boolean");
  bad(WITH_RESULT("{'response':42}"), "result.response", "string");
  bad(WITH_RESULT("{'extensions':{'example.com/extension/wrong':1234}}"), "result.extensions",
      "not an absolute IRI");
}

static void test_duration(void **state) {
  (void)state;
  static const char *const good[] = {"PT1H0M0.1S",           "PT4H35M59.14S", "PT16559.14S",
                                     "P3Y1M29DT4H35M59.14S", "P3Y",           "P4W",
                                     "P1DT12H36M0.12567S",   "PT0S",          "P0D"};
  static const char *const worse[] = {"should fail",
                                      "PA1H0M0S",
                                      "P4W1D",
                                      "P1Y4W",
                                      "P",
                                      "PT",
                                      "1H",
                                      "PT1H30",
                                      "P1H",
                                      "T1H",
                                      "PT1.5H30M",
                                      "pt1h",
                                      "P0001-02-03T04:05:06"};
  char buf[512];
  for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
    snprintf(buf, sizeof buf, WITH_RESULT("{'duration':'%s'}"), good[i]);
    ok(buf);
  }
  for (size_t i = 0; i < sizeof worse / sizeof *worse; i++) {
    snprintf(buf, sizeof buf, WITH_RESULT("{'duration':'%s'}"), worse[i]);
    bad(buf, "result.duration", "duration");
  }
  bad(WITH_RESULT("{'duration':12345}"), "result.duration", "not a number");
  bad(WITH_RESULT("{'duration':{'key':'invalid'}}"), "result.duration", "not an object");
}

/* ---- context ---- */

static void test_context(void **state) {
  (void)state;
  ok(WITH_CONTEXT("{}"));
  ok(WITH_CONTEXT(
      "{'registration':'ec531277-b57b-4c15-8d91-d292c5b2b8f7',"
      "'instructor':{'name':'Teacher','mbox':'mailto:t@example.edu.cn'},"
      "'team':{'objectType':'Group','member':[{'mbox':'mailto:s@example.edu.cn'}]},"
      "'revision':'rev_10_3_2','platform':'学堂在线','language':'zh-CN',"
      "'statement':{'objectType':'StatementRef','id':'6690e6c9-3ef0-4ed3-8b37-7f3964730bee'},"
      "'extensions':{'http://example.com/ext/课堂':{'room':'A101'}}}"));
  ok(WITH_CONTEXT("{'instructor':{'objectType':'Group','mbox':'mailto:teachers@example.com'}}"));
  ok(WITH_CONTEXT("{'language':'cmn'}"));
  bad(WITH_CONTEXT("'somewhere'"), "context", "not a string");
  bad(WITH_CONTEXT("{'registration':'ec531277'}"), "context.registration", "UUID");
  bad(WITH_CONTEXT("{'registration':null}"), "context.registration", "not null");
  bad(WITH_CONTEXT("{'registration':12345}"), "context.registration", "not a number");
  bad(WITH_CONTEXT("{'instructor':'Mr Wang'}"), "context.instructor", "Agent or Group");
  bad(WITH_CONTEXT("{'instructor':{'name':'Mr Wang'}}"), "context.instructor", "exactly one");
  bad(WITH_CONTEXT("{'team':{'mbox':'mailto:a@example.com'}}"), "context.team.objectType",
      "missing");
  bad(WITH_CONTEXT("{'team':{'objectType':'Agent','mbox':'mailto:a@example.com'}}"),
      "context.team.objectType", "Group");
  bad(WITH_CONTEXT("{'team':{'objectType':'Group'}}"), "context.team.member", "list its members");
  bad(WITH_CONTEXT("{'revision':12}"), "context.revision", "string");
  bad(WITH_CONTEXT("{'platform':{'name':'x'}}"), "context.platform", "string");
  bad(WITH_CONTEXT("{'language':'something'}"), "context.language", "language tag");
  bad(WITH_CONTEXT("{'language':12345}"), "context.language", "string");
  bad(WITH_CONTEXT("{'statement':{'id':'6690e6c9-3ef0-4ed3-8b37-7f3964730bee'}}"),
      "context.statement.objectType", "missing");
  bad(WITH_CONTEXT("{'statement':{'objectType':'statementref',"
                   "'id':'6690e6c9-3ef0-4ed3-8b37-7f3964730bee'}}"),
      "context.statement.objectType", "StatementRef");
  bad(WITH_CONTEXT("{'statement':{'objectType':'StatementRef','id':'x'}}"), "context.statement.id",
      "UUID");
  bad(WITH_CONTEXT("{'extensions':{'example.com/extension/wrong':1234}}"), "context.extensions",
      "not an absolute IRI");
}

/* revision and platform only when the object is an Activity */
static void test_context_revision_platform(void **state) {
  (void)state;
  ok(STMT(",'context':{'revision':'r2','platform':'MOOC'}"));
  ok(WITH_OBJECT("{'id':'http://example.com/a'}")); /* base */
  ok("{" ACTOR "," VERB ",'object':{'id':'http://example.com/a'},'context':{'platform':'x'}}");
  /* the object is not an Activity: an Agent, a StatementRef, a SubStatement, a Group */
  static const char *const objs[] = {
      "{'objectType':'Agent','mbox':'mailto:b@example.com'}",
      "{'objectType':'StatementRef','id':'8f87ccde-bb56-4c2e-ab83-44982ef22df0'}",
      "{'objectType':'SubStatement'," ACTOR "," VERB "," OBJ "}",
      "{'objectType':'Group','mbox':'mailto:g@example.com'}"};
  static const char *const props[] = {"revision", "platform"};
  char buf[1024], path[64];
  for (size_t o = 0; o < 4; o++)
    for (size_t p = 0; p < 2; p++) {
      snprintf(buf, sizeof buf, "{" ACTOR "," VERB ",'object':%s,'context':{'%s':'x'}}", objs[o],
               props[p]);
      snprintf(path, sizeof path, "context.%s", props[p]);
      bad(buf, path, "only allowed when the statement's object is an Activity");
    }
}

static void test_context_activities(void **state) {
  (void)state;
  ok(WITH_CONTEXT("{'contextActivities':{'parent':{'id':'http://example.com/course'}}}"));
  ok(WITH_CONTEXT("{'contextActivities':{'parent':[{'id':'http://example.com/course'}],"
                  "'grouping':[{'objectType':'Activity','id':'http://example.com/program'}],"
                  "'category':[{'id':'https://w3id.org/xapi/cmi5/context/categories/cmi5',"
                  "'definition':{'type':'http://adlnet.gov/expapi/activities/profile'}}],"
                  "'other':[]}}"));
  bad(WITH_CONTEXT("{'contextActivities':'http://example.com/course'}"),
      "context.contextActivities", "contextActivities object");
  bad(WITH_CONTEXT("{'contextActivities':{'parent':'http://example.com/course'}}"),
      "context.contextActivities.parent", "Activity object or an array");
  bad(WITH_CONTEXT("{'contextActivities':{'grouping':[{'id':'http://example.com/a'},"
                   "'http://example.com/b']}}"),
      "context.contextActivities.grouping[1]", "Activity object");
  bad(WITH_CONTEXT("{'contextActivities':{'category':[{'objectType':'Agent',"
                   "'id':'http://example.com/a'}]}}"),
      "context.contextActivities.category[0].objectType", "\"Activity\"");
  bad(WITH_CONTEXT("{'contextActivities':{'other':{'id':'example.com/a'}}}"),
      "context.contextActivities.other.id", "scheme");
  /* with a batch prefix: the path from the brief */
  bad_pv(V1, "[3]", WITH_CONTEXT("{'contextActivities':{'parent':[{'definition':{}}]}}"),
         "[3].context.contextActivities.parent[0].id", "missing");
  bad_pv(V2, "[3]",
         WITH_CONTEXT("{'contextActivities':{'parent':[{'id':'http://x.cn/a'},"
                      "{'id':'x.cn/b'}]}}"),
         "[3].context.contextActivities.parent[1].id", "scheme");
}

/* 2.0 contextAgents / contextGroups, unknown in 1.0.3 */
static void test_context_agents_groups(void **state) {
  (void)state;
  const char *agents =
      WITH_CONTEXT("{'contextAgents':[{'objectType':'contextAgent','agent':{'objectType':"
                   "'Agent','mbox':'mailto:ta@example.edu.cn'},'relevantTypes':"
                   "['https://example.com/xapi/roles/teaching-assistant']},"
                   "{'objectType':'contextAgent','agent':{'openid':'http://o.example.org/1'}}]}");
  const char *groups =
      WITH_CONTEXT("{'contextGroups':[{'objectType':'contextGroup','group':{'objectType':"
                   "'Group','mbox':'mailto:team-1@example.com','member':[{'mbox':"
                   "'mailto:p1@example.com'}]},'relevantTypes':['https://example.com/team/a']}]}");
  ok_v(V2, agents);
  ok_v(V2, groups);
  ok_v(V2, WITH_CONTEXT("{'contextAgents':[],'contextGroups':[]}"));
  bad_v(V1, agents, "context.contextAgents", "unknown property");
  bad_v(V1, groups, "context.contextGroups", "unknown property");
  bad_v(V2, WITH_CONTEXT("{'contextAgents':{'objectType':'contextAgent'}}"),
        "context.contextAgents", "array");
  bad_v(V2,
        WITH_CONTEXT("{'contextAgents':[{'objectType':'Should fail','agent':"
                     "{'mbox':'mailto:a@example.com'}}]}"),
        "context.contextAgents[0].objectType", "\"contextAgent\"");
  bad_v(V2, WITH_CONTEXT("{'contextAgents':[{'agent':{'mbox':'mailto:a@example.com'}}]}"),
        "context.contextAgents[0].objectType", "missing");
  bad_v(V2, WITH_CONTEXT("{'contextAgents':[{'objectType':'contextAgent'}]}"),
        "context.contextAgents[0].agent", "missing");
  bad_v(V2,
        WITH_CONTEXT("{'contextAgents':[{'objectType':'contextAgent','agent':"
                     "{'key':'Should fail'}}]}"),
        "context.contextAgents[0].agent.key", "unknown");
  bad_v(V2,
        WITH_CONTEXT("{'contextAgents':[{'objectType':'contextAgent','agent':"
                     "{'objectType':'Group','mbox':'mailto:g@example.com'}}]}"),
        "context.contextAgents[0].agent.objectType", "not a Group");
  bad_v(V2,
        WITH_CONTEXT("{'contextAgents':[{'objectType':'contextAgent','agent':"
                     "{'mbox':'mailto:a@example.com'},'relevantTypes':[]}]}"),
        "context.contextAgents[0].relevantTypes", "at least one");
  bad_v(V2,
        WITH_CONTEXT("{'contextAgents':[{'objectType':'contextAgent','agent':"
                     "{'mbox':'mailto:a@example.com'},'relevantTypes':['abc']}]}"),
        "context.contextAgents[0].relevantTypes[0]", "scheme");
  bad_v(V2,
        WITH_CONTEXT("{'contextGroups':[{'objectType':'contextAgent','group':"
                     "{'objectType':'Group','mbox':'mailto:g@example.com'}}]}"),
        "context.contextGroups[0].objectType", "\"contextGroup\"");
  bad_v(V2,
        WITH_CONTEXT("{'contextGroups':[{'objectType':'contextGroup','group':"
                     "{'mbox':'mailto:g@example.com'}}]}"),
        "context.contextGroups[0].group.objectType", "missing");
  bad_v(V2,
        WITH_CONTEXT("{'contextGroups':[{'objectType':'contextGroup','group':"
                     "{'objectType':'Group','mbox':'mailto:g@example.com'},"
                     "'relevantTypes':'https://example.com/team/a'}]}"),
        "context.contextGroups[0].relevantTypes", "array");
  bad_v(V2, SUB(",'context':{'contextGroups':[{'objectType':'contextGroup'}]}"),
        "object.context.contextGroups[0].group", "missing");
}

/* ---- timestamp and stored ---- */

static void test_timestamps(void **state) {
  (void)state;
  static const char *const both_ok[] = {"2024-03-01T08:30:00.000Z", "2008-09-15T15:53:00.601+00:00",
                                        "2024-03-01T16:30:00+08:00", "1776-07-04T16:00:45.123456Z",
                                        "2099-12-31T23:59:59Z"};
  static const char *const v1_only[] = {"2024-03-01T08:30:00", "2024-03-01T16:30:00+0800",
                                        "2024-03-01T16:30:00+08", "2024-03-01T16:30Z"};
  static const char *const v2_only[] = {"2024-03-01 08:30:00Z", "2024-03-01t08:30:00z"};
  static const char *const both_bad[] = {"should fail",
                                         "01/011/2015",
                                         "2008-09-15T15:53:00.601-00",
                                         "2008-09-15T15:53:00.601-0000",
                                         "2008-09-15T15:53:00.601-00:00",
                                         "2024-02-30T00:00:00Z",
                                         "2024-03-01T25:00:00Z",
                                         "2024-03-01",
                                         "2024-03-01T08:30:00.Z",
                                         ""};
  char buf[512];
  const char *const props[] = {"timestamp", "stored"};
  for (size_t p = 0; p < 2; p++) {
    for (size_t i = 0; i < sizeof both_ok / sizeof *both_ok; i++) {
      snprintf(buf, sizeof buf, STMT(",'%s':'%s'"), props[p], both_ok[i]);
      ok(buf);
    }
    for (size_t i = 0; i < sizeof v1_only / sizeof *v1_only; i++) {
      snprintf(buf, sizeof buf, STMT(",'%s':'%s'"), props[p], v1_only[i]);
      ok_v(V1, buf);
      bad_v(V2, buf, props[p], "RFC 3339");
    }
    for (size_t i = 0; i < sizeof v2_only / sizeof *v2_only; i++) {
      snprintf(buf, sizeof buf, STMT(",'%s':'%s'"), props[p], v2_only[i]);
      ok_v(V2, buf);
      bad_v(V1, buf, props[p], "ISO 8601");
    }
    for (size_t i = 0; i < sizeof both_bad / sizeof *both_bad; i++) {
      snprintf(buf, sizeof buf, STMT(",'%s':'%s'"), props[p], both_bad[i]);
      bad(buf, props[p], "");
    }
    snprintf(buf, sizeof buf, STMT(",'%s':1709281800"), props[p]);
    bad(buf, props[p], "not a number");
  }
  bad(STMT(",'timestamp':'2008-09-15T15:53:00.601-00:00'"), "timestamp", "-00:00");
  bad_v(V2, STMT(",'timestamp':'2024-03-01T24:00:00Z'"), "timestamp", "hour 24");
}

/* ---- version ---- */

static void test_version(void **state) {
  (void)state;
  ok(STMT(",'version':'1.0'"));
  ok(STMT(",'version':'1.0.0'"));
  ok(STMT(",'version':'1.0.3'"));
  ok(STMT(",'version':'1.0.9'"));
  ok_v(V2, STMT(",'version':'2.0.0'"));
  ok_v(V2, STMT(",'version':'2.0'"));
  ok_v(V2, STMT(",'version':'2.0.12'"));
  bad_v(V1, STMT(",'version':'2.0.0'"), "version", "1.0.x");
  bad(STMT(",'version':'should fail'"), "version", "");
  bad(STMT(",'version':'0.9.9'"), "version", "");
  bad(STMT(",'version':'1.1.0'"), "version", "");
  bad(STMT(",'version':'1.0.'"), "version", "");
  bad(STMT(",'version':'1.0.x'"), "version", "");
  bad(STMT(",'version':'3.0.0'"), "version", "");
  bad(STMT(",'version':1.0"), "version", "not a number");
}

/* ---- authority ---- */

static void test_authority(void **state) {
  (void)state;
  ok(WITH_AUTHORITY("{'objectType':'Agent','name':'LMS','mbox':'mailto:lms@example.edu.cn'}"));
  ok(WITH_AUTHORITY("{'account':{'homePage':'http://lrs.example.cn','name':'client-7'}}"));
  ok(WITH_AUTHORITY("{'objectType':'Group','member':[{'account':{'homePage':"
                    "'http://example.com/xAPI/OAuth/Token','name':'oauth_consumer_x75db'}},"
                    "{'mbox':'mailto:bob@example.com'}]}"));
  bad(WITH_AUTHORITY("{'objectType':'Agent'}"), "authority", "exactly one");
  bad(WITH_AUTHORITY("'admin'"), "authority", "Agent or Group");
  bad(WITH_AUTHORITY("{'objectType':'Group','name':'xAPI Group','mbox':"
                     "'mailto:xapigroup@example.com','member':[{'mbox':'mailto:a@example.com'},"
                     "{'mbox':'mailto:b@example.com'}]}"),
      "authority", "anonymous");
  bad(WITH_AUTHORITY("{'objectType':'Group','member':[{'mbox':'mailto:bob@example.com'}]}"),
      "authority.member", "exactly two");
  bad(WITH_AUTHORITY("{'objectType':'Group','member':[{'mbox':'mailto:a@example.com'},"
                     "{'mbox':'mailto:b@example.com'},{'mbox':'mailto:c@example.com'}]}"),
      "authority.member", "exactly two");
  bad(WITH_AUTHORITY("{'objectType':'Group','name':'Group Anonymous'}"), "authority.member",
      "list its members");
  bad(WITH_AUTHORITY("{'objectType':'Group','member':[{'mbox':'mailto:a@example.com'},"
                     "{'objectType':'Group','mbox':'mailto:g@example.com'}]}"),
      "authority.member[1].objectType", "not a Group");
}

/* ---- attachments ---- */

static void test_attachments(void **state) {
  (void)state;
  ok(STMT(",'attachments':[]"));
  ok(ATTACH());
  ok(ATTACH(",'description':{'zh-CN':'签名'},'fileUrl':'https://files.example.cn/签名.png'"));
  bad(STMT(",'attachments':{'usageType':'http://example.com/u'}"), "attachments", "array");
  bad(STMT(",'attachments':[12345]"), "attachments[0]", "attachment object");
  bad(STMT(",'attachments':['should fail']"), "attachments[0]", "attachment object");
  bad(STMT(",'attachments':[{'display':{'en-US':'x'},'contentType':'text/plain','length':1,"
           "'sha2':'495395e777cd98da653df9615d09c0fd6bb2f8d4788394cd53c56a3bfdcd848a'}]"),
      "attachments[0].usageType", "missing");
  bad(STMT(
          ",'attachments':[{'usageType':'http://example.com/u','contentType':'text/plain',"
          "'length':1,'sha2':'495395e777cd98da653df9615d09c0fd6bb2f8d4788394cd53c56a3bfdcd848a'}]"),
      "attachments[0].display", "missing");
  bad(STMT(",'attachments':[{'usageType':'http://example.com/u','display':{},'length':1,"
           "'sha2':'495395e777cd98da653df9615d09c0fd6bb2f8d4788394cd53c56a3bfdcd848a'}]"),
      "attachments[0].contentType", "missing");
  bad(STMT(",'attachments':[{'usageType':'http://example.com/u','display':{},"
           "'contentType':'text/plain',"
           "'sha2':'495395e777cd98da653df9615d09c0fd6bb2f8d4788394cd53c56a3bfdcd848a'}]"),
      "attachments[0].length", "missing");
  bad(STMT(",'attachments':[{'usageType':'http://example.com/u','display':{},"
           "'contentType':'text/plain','length':1}]"),
      "attachments[0].sha2", "missing");
  /* ATTACH already carries every required field; these duplicate one to break it, so build
   * the broken variants by hand */
  bad(STMT(
          ",'attachments':[{'usageType':'should fail','display':{},'contentType':'text/plain',"
          "'length':1,'sha2':'495395e777cd98da653df9615d09c0fd6bb2f8d4788394cd53c56a3bfdcd848a'}]"),
      "attachments[0].usageType", "scheme");
  bad(STMT(",'attachments':[{'usageType':'http://example.com/u','display':'sig',"
           "'contentType':'text/plain','length':1,"
           "'sha2':'495395e777cd98da653df9615d09c0fd6bb2f8d4788394cd53c56a3bfdcd848a'}]"),
      "attachments[0].display", "language map");
  bad(ATTACH(",'description':12345"), "attachments[0].description", "language map");
  bad(ATTACH(",'fileUrl':'over.there.com/file.txt'"), "attachments[0].fileUrl", "scheme");
  bad(STMT(",'attachments':[{'usageType':'http://example.com/u','display':{},"
           "'contentType':12345,'length':1,"
           "'sha2':'495395e777cd98da653df9615d09c0fd6bb2f8d4788394cd53c56a3bfdcd848a'}]"),
      "attachments[0].contentType", "string");
  bad(STMT(",'attachments':[{'usageType':'http://example.com/u','display':{},"
           "'contentType':'plain text','length':1,"
           "'sha2':'495395e777cd98da653df9615d09c0fd6bb2f8d4788394cd53c56a3bfdcd848a'}]"),
      "attachments[0].contentType", "media type");
  bad(STMT(",'attachments':[{'usageType':'http://example.com/u','display':{},"
           "'contentType':'text/plain','length':'27',"
           "'sha2':'495395e777cd98da653df9615d09c0fd6bb2f8d4788394cd53c56a3bfdcd848a'}]"),
      "attachments[0].length", "integer");
  bad(STMT(",'attachments':[{'usageType':'http://example.com/u','display':{},"
           "'contentType':'text/plain','length':2.5,"
           "'sha2':'495395e777cd98da653df9615d09c0fd6bb2f8d4788394cd53c56a3bfdcd848a'}]"),
      "attachments[0].length", "integer");
  bad(STMT(",'attachments':[{'usageType':'http://example.com/u','display':{},"
           "'contentType':'text/plain','length':-1,"
           "'sha2':'495395e777cd98da653df9615d09c0fd6bb2f8d4788394cd53c56a3bfdcd848a'}]"),
      "attachments[0].length", "negative");
  bad(STMT(",'attachments':[{'usageType':'http://example.com/u','display':{},"
           "'contentType':'text/plain','length':1,'sha2':12345}]"),
      "attachments[0].sha2", "string");
  bad(STMT(",'attachments':[{'usageType':'http://example.com/u','display':{},"
           "'contentType':'text/plain','length':1,'sha2':'not-a-hash'}]"),
      "attachments[0].sha2", "SHA-2");
}

/* ---- extensions and language maps ---- */

static void test_extensions(void **state) {
  (void)state;
  ok(WITH_DEF("{'extensions':{}}"));
  ok(WITH_DEF("{'extensions':{'http://example.com/ex':null}}"));
  ok(WITH_DEF("{'extensions':{'http://example.com/ex':''}}"));
  ok(WITH_DEF("{'extensions':{'http://example.com/ex':{}}}"));
  ok(WITH_DEF("{'extensions':{'urn:x-moocguard:face-match':[0.97,{'model':null}]}}"));
  ok(WITH_RESULT("{'extensions':{'http://example.com/ex':[]}}"));
  ok(WITH_CONTEXT("{'extensions':{'https://w3id.org/xapi/cmi5/context/extensions/sessionid':"
                  "'s-1'}}"));
  bad(WITH_DEF("{'extensions':{'should fail':1}}"), "object.definition.extensions", "should fail");
  bad(WITH_RESULT("{'extensions':[]}"), "result.extensions", "object");
  bad(WITH_CONTEXT("{'extensions':null}"), "context.extensions", "not null");
}

static void test_language_maps(void **state) {
  (void)state;
  ok(WITH_VERB("{'id':'http://adlnet.gov/expapi/verbs/attended','display':{'de':'besucht',"
               "'zh-Hant':'出席','sr-Cyrl':'пријавио','es-419':'asistió','ase':'x',"
               "'zh-yue-HK':'出席','de-CH-1901':'x','en-US-x-twain':'x','x-klingon':'x',"
               "'i-klingon':'x','en-GB-oed':'x'}}"));
  bad(WITH_VERB("{'id':'http://adlnet.gov/expapi/verbs/attended','display':{'a12345':'x'}}"),
      "verb.display", "a12345");
  bad(WITH_VERB("{'id':'http://adlnet.gov/expapi/verbs/attended','display':{'':'x'}}"),
      "verb.display", "language tag");
  bad(WITH_VERB("{'id':'http://adlnet.gov/expapi/verbs/attended','display':['attended']}"),
      "verb.display", "language map");
}

static void test_language_tag_function(void **state) {
  (void)state;
  static const char *const good[] = {"en",
                                     "en-US",
                                     "zh-CN",
                                     "zh-Hans",
                                     "zh-Hans-CN",
                                     "zh-Hant-TW",
                                     "cmn",
                                     "cmn-Hans-CN",
                                     "yue-HK",
                                     "zh-yue",
                                     "sr-Latn-RS",
                                     "es-419",
                                     "de-CH-1901",
                                     "sl-rozaj-biske",
                                     "de-DE-u-co-phonebk",
                                     "en-a-bbb-x-a-ccc",
                                     "x-whatever",
                                     "qaa-Qaaa-QM-x-southern",
                                     "i-klingon",
                                     "EN-gb-OED",
                                     "art-lojban",
                                     "zh-min-nan",
                                     "tlh",
                                     "ase",
                                     "hy-Latn-IT-arevela",
                                     "de-Latn-DE-1996",
                                     "en-US-u-islamcal",
                                     "zh-CN-a-myext-x-private",
                                     "az-Arab-x-AZE-derbend"};
  static const char *const worse[] = {"",
                                      "something",
                                      "a12345",
                                      "s-something",
                                      "en-something-AU",
                                      "zh-z-aaa-z-bbb-c-ccc",
                                      "de-419-DE",
                                      "a-DE",
                                      "ar-a-aaa-b-bbb-a-ccc",
                                      "en--US",
                                      "en-",
                                      "-en",
                                      "en_US",
                                      "x-",
                                      "en-x",
                                      "i-notgrandfathered",
                                      "de-1996-1996",
                                      "en-US-abcdefghi",
                                      "e",
                                      "en-a",
                                      "en-a-b",
                                      "12",
                                      "en US",
                                      "zh-\xe4\xb8\xad"};
  for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
    if (!mg_xapi_valid_language_tag(good[i])) print_error("should be valid: %s\n", good[i]);
    assert_true(mg_xapi_valid_language_tag(good[i]));
    g_assertions++;
  }
  for (size_t i = 0; i < sizeof worse / sizeof *worse; i++) {
    if (mg_xapi_valid_language_tag(worse[i])) print_error("should be invalid: %s\n", worse[i]);
    assert_false(mg_xapi_valid_language_tag(worse[i]));
    g_assertions++;
  }
  assert_false(mg_xapi_valid_language_tag(NULL));
  g_assertions++;
}

static void test_iri_function(void **state) {
  (void)state;
  static const char *const good[] = {"http://adlnet.gov/expapi/verbs/attended",
                                     "https://例子.测试/课程/第一章?学期=2024#第3节",
                                     "urn:uuid:6fa459ea-ee8a-11ca-8c4e-0800200c9a66",
                                     "mailto:a@example.com",
                                     "tag:example.com,2024:x",
                                     "http://example.com/a%20b",
                                     "x-custom+scheme.1:anything",
                                     "http://[::1]:8080/p",
                                     "http://example.com/path/../p"};
  static const char *const worse[] = {"",
                                      "www.example.com/meetings/occurances/34534",
                                      "ab=c://should.fail.com",
                                      ":nothing",
                                      "1http://x",
                                      "http:",
                                      "http://ex ample.com",
                                      "http://example.com/<script>",
                                      "http://example.com/a%2",
                                      "http://example.com/a%zz",
                                      "http://x/#a#b",
                                      "http://x/\t",
                                      "http://x/{y}",
                                      "http://x/a\\b",
                                      "should fail",
                                      "课程:1"};
  for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
    if (!mg_xapi_valid_iri(good[i])) print_error("should be valid: %s\n", good[i]);
    assert_true(mg_xapi_valid_iri(good[i]));
    g_assertions++;
  }
  for (size_t i = 0; i < sizeof worse / sizeof *worse; i++) {
    if (mg_xapi_valid_iri(worse[i])) print_error("should be invalid: %s\n", worse[i]);
    assert_false(mg_xapi_valid_iri(worse[i]));
    g_assertions++;
  }
  assert_false(mg_xapi_valid_iri(NULL));
  g_assertions++;
}

/* Wrong JSON types in places not covered above. */
static void test_wrong_types(void **state) {
  (void)state;
  bad(WITH_ACTOR("[{'mbox':'mailto:a@example.com'}]"), "actor", "not an array");
  bad(WITH_ACTOR("null"), "actor", "not null");
  bad(WITH_VERB("null"), "verb", "not null");
  bad(WITH_OBJECT("null"), "object", "not null");
  bad(WITH_OBJECT("[]"), "object", "not an array");
  bad(WITH_RESULT("null"), "result", "not null");
  bad(WITH_CONTEXT("[]"), "context", "not an array");
  bad(STMT(",'attachments':null"), "attachments", "not null");
  bad(WITH_DEF("{'name':{'en':true}}"), "object.definition.name.en", "not a boolean");
  bad(WITH_RESULT("{'score':{'scaled':true}}"), "result.score.scaled", "not a boolean");
  bad(WITH_RESULT("{'score':{'min':null}}"), "result.score.min", "not null");
  bad(WITH_OBJECT("{'objectType':'Group','member':null,'mbox':'mailto:g@example.com'}"),
      "object.member", "not null");
}

/* ---- realistic statements ---- */

#define FULL_CORE                                                                                      \
  "'id':'3fa85f64-5717-4562-b3fc-2c963f66afa6',"                                                       \
  "'actor':{'objectType':'Agent','name':'张伟','account':{'homePage':'https://sso.pku.edu.cn',"      \
  "'name':'2301210456'}},"                                                                             \
  "'verb':{'id':'http://adlnet.gov/expapi/verbs/answered','display':{'en-US':'answered',"              \
  "'zh-CN':'回答'}},"                                                                                \
  "'object':{'objectType':'Activity','id':'https://mooc.example.edu.cn/课程/高数/测验/3/题/7'," \
  "'definition':{'name':{'zh-CN':'第7题','en-US':'Question 7'},"                                     \
  "'description':{'zh-CN':'下列哪个函数在 x=0 处连续？'},"                                  \
  "'type':'http://adlnet.gov/expapi/activities/cmi.interaction',"                                      \
  "'interactionType':'choice','correctResponsesPattern':['b'],"                                        \
  "'choices':[{'id':'a','description':{'zh-CN':'1/x'}},{'id':'b','description':"                       \
  "{'zh-CN':'sin x'}},{'id':'c','description':{'zh-CN':'|x|/x'}}],"                                    \
  "'extensions':{'https://mooc.example.edu.cn/ext/difficulty':0.4}}},"                                 \
  "'result':{'score':{'scaled':1,'raw':5,'min':0,'max':5},'success':true,'completion':true,"           \
  "'response':'b','duration':'PT1M12.5S',"                                                             \
  "'extensions':{'https://moocguard.cn/xapi/ext/proctoring':{'faceMatch':0.98,'tabSwitches':0}}},"     \
  "'timestamp':'2024-05-20T10:15:30.123+08:00',"                                                       \
  "'stored':'2024-05-20T02:15:31.000Z',"                                                               \
  "'authority':{'objectType':'Agent','name':'学堂在线','mbox':'mailto:lrs-client@xuetangx.com'},"  \
  "'attachments':[{'usageType':'http://adlnet.gov/expapi/attachments/signature',"                      \
  "'display':{'en-US':'Signature'},'contentType':'application/octet-stream','length':4235,"            \
  "'sha2':'672fa5fa658017f1b72d65036f13379c6ab05d4ab3b6664908d8acf0b6a0c634'}],"

#define FULL_CONTEXT_103                                                                           \
  "'context':{'registration':'ec531277-b57b-4c15-8d91-d292c5b2b8f7',"                              \
  "'instructor':{'name':'李老师','mbox':'mailto:li@math.pku.edu.cn'},"                          \
  "'team':{'objectType':'Group','name':'第三小组','member':[{'mbox':'mailto:a@pku.edu.cn'},"   \
  "{'mbox_sha1sum':'cd9b00a5611f94eaa7b1661edab976068e364975'}]},"                                 \
  "'contextActivities':{'parent':[{'id':'https://mooc.example.edu.cn/课程/高数/测验/3'}],"   \
  "'grouping':[{'id':'https://mooc.example.edu.cn/课程/高数'}],"                               \
  "'category':[{'id':'https://w3id.org/xapi/cmi5/context/categories/moveon'}]},"                   \
  "'revision':'2024春','platform':'moocguard 1.0','language':'zh-Hans-CN',"                       \
  "'statement':{'objectType':'StatementRef','id':'6690e6c9-3ef0-4ed3-8b37-7f3964730bee'},"         \
  "'extensions':{'https://moocguard.cn/xapi/ext/session':'9f1c'}"

static void test_full_statement(void **state) {
  (void)state;
  ok_v(V1, "{" FULL_CORE "'version':'1.0.3'," FULL_CONTEXT_103 "}}");
  ok_v(V2, "{" FULL_CORE "'version':'2.0.0'," FULL_CONTEXT_103
           ",'contextAgents':[{'objectType':'contextAgent','agent':{'mbox':"
           "'mailto:ta@pku.edu.cn'},'relevantTypes':['https://moocguard.cn/xapi/roles/ta']}],"
           "'contextGroups':[{'objectType':'contextGroup','group':{'objectType':'Group',"
           "'account':{'homePage':'https://sso.pku.edu.cn','name':'class-2024-3'}}}]}}");
  /* the 2.0 statement under 1.0.3: contextAgents is not a 1.0.3 property */
  bad_v(V1,
        "{" FULL_CORE FULL_CONTEXT_103
        ",'contextAgents':[{'objectType':'contextAgent','agent':{'mbox':"
        "'mailto:ta@pku.edu.cn'}}]}}",
        "context.contextAgents", "unknown property");
  /* and its version too */
  bad_v(V1, "{" FULL_CORE "'version':'2.0.0'," FULL_CONTEXT_103 "}}", "version", "1.0.x");
  /* one deep error in an otherwise valid statement, reported with the batch prefix */
  bad_pv(V2, "[17]",
         "{" FULL_CORE "'context':{'contextActivities':{'parent':[{'id':'https://x.cn/a'},"
         "{'id':'https://x.cn/b','definition':{'name':{'zh-CN':1}}}]}}}",
         "[17].context.contextActivities.parent[1].definition.name.zh-CN", "string");
}

static void test_agent_param(void **state) {
  (void)state;
  mg_xapi_error err;
  static const struct {
    const char *json, *path;
  } cases[] = {
      {"{'mbox':'mailto:a@example.com'}", NULL},
      {"{'objectType':'Agent','account':{'homePage':'http://x.cn','name':'1'}}", NULL},
      {"{'objectType':'Group','mbox':'mailto:g@example.com'}", NULL},
      {"{'objectType':'Group','openid':'http://o.example.org/g','member':[{'mbox':"
       "'mailto:a@example.com'}]}",
       NULL},
      {"{'objectType':'Group','member':[{'mbox':'mailto:a@example.com'}]}", "agent"},
      {"{'name':'no ifi'}", "agent"},
      {"{'mbox':'a@example.com'}", "agent.mbox"},
      {"{'account':{'name':'1'}}", "agent.account.homePage"},
      {"{'mbox':'mailto:a@example.com','openid':'http://o.example.org/1'}", "agent"},
      {"{'mbox':'mailto:a@example.com','extra':1}", "agent.extra"},
      {"true", "agent"},
      {"'mailto:a@example.com'", "agent"},
  };
  mg_arena a;
  mg_arena_init(&a, 0, 0);
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    mg_json *j = J(&a, cases[i].json);
    int rc = mg_xapi_validate_agent_param(j, V1, &err);
    assert_int_equal(rc, mg_xapi_validate_agent_param(j, V2, &err));
    if (cases[i].path) {
      assert_int_equal(rc, MG_EINVAL);
      assert_string_equal(err.path, cases[i].path);
      assert_true(err.message[0] != '\0');
    } else {
      if (rc) print_error("%s: %s %s\n", cases[i].json, err.path, err.message);
      assert_int_equal(rc, MG_OK);
    }
    g_assertions += 3;
    mg_arena_reset(&a);
  }
  mg_arena_free(&a);
  assert_int_equal(mg_xapi_validate_agent_param(NULL, V1, &err), MG_EINVAL);
  g_assertions++;
}

static void test_path_truncation_and_null_err(void **state) {
  (void)state;
  char key[400];
  memset(key, 'k', sizeof key - 1);
  key[sizeof key - 1] = '\0';
  mg_arena a;
  mg_arena_init(&a, 0, 0);
  mg_json *j = J(&a, STMT());
  mg_json *ctx = mg_json_object(&a);
  assert_non_null(ctx);
  MUST(mg_json_object_set(&a, ctx, key, mg_json_integer(&a, 1)));
  MUST(mg_json_object_set(&a, j, "context", ctx));
  mg_xapi_error err;
  assert_int_equal(mg_xapi_validate_statement(j, V1, "", &err), MG_EINVAL);
  /* the key does not fit in the path: the path stops at its parent and says so */
  assert_string_equal(err.path, "context...");
  assert_non_null(strstr(err.message, "unknown property"));
  assert_true(strlen(err.message) < sizeof err.message);
  /* a caller may pass no error struct */
  assert_int_equal(mg_xapi_validate_statement(j, V1, "", NULL), MG_EINVAL);
  /* a long prefix is cut, not overflowed */
  char prefix[300];
  memset(prefix, 'p', sizeof prefix - 1);
  prefix[sizeof prefix - 1] = '\0';
  j = J(&a, WITH_VERB("{}"));
  assert_int_equal(mg_xapi_validate_statement(j, V2, prefix, &err), MG_EINVAL);
  assert_true(strlen(err.path) < sizeof err.path);
  /* success clears a previous error */
  j = J(&a, STMT());
  assert_int_equal(mg_xapi_validate_statement(j, V2, "[0]", &err), MG_OK);
  assert_string_equal(err.path, "");
  assert_string_equal(err.message, "");
  mg_arena_free(&a);
  g_assertions += 9;
}

/* Puts s into a JSON string (as an error body would) and parses that back: the strict parser
 * refuses invalid UTF-8, so this returns s's copy only if s can go into JSON unchanged (NULL
 * otherwise). */
static const char *json_round_trip(mg_arena *a, const char *s) {
  mg_buf b;
  mg_buf_init(&b, 4096);
  const mg_json *back = NULL;
  if (mg_buf_addc(&b, '"') == MG_OK && mg_buf_add_json_str(&b, s, strlen(s)) == MG_OK &&
      mg_buf_addc(&b, '"') == MG_OK)
    back = mg_json_parse(a, b.data, b.len, MG_JSON_DECODE_ANY, NULL);
  mg_buf_free(&b);
  const char *t = mg_json_string_value(back);
  return t && strcmp(t, s) == 0 ? t : NULL;
}

/* Client text quoted in errors is clipped on a character boundary, so path and message can go
 * into a JSON error body unchanged (the parser refuses invalid UTF-8). */
static void test_error_text_is_utf8(void **state) {
  (void)state;
  char key[512];
  static const char ke[] = "课";                           /* 3 bytes in UTF-8 */
  for (int i = 0; i < 40; i++) memcpy(key + 3 * i, ke, 3); /* 120 bytes: clipped in the message */
  key[120] = '\0';
  mg_xapi_error err;
  mg_arena a;
  mg_arena_init(&a, 0, 0);
  mg_json *j = J(&a, STMT());
  mg_json *res = mg_json_object(&a);
  assert_non_null(res);
  MUST(mg_json_object_set(&a, res, key, mg_json_true()));
  MUST(mg_json_object_set(&a, j, "result", res));
  assert_int_equal(mg_xapi_validate_statement(j, V2, "", &err), MG_EINVAL);
  assert_non_null(strstr(err.message, "unknown property"));
  assert_non_null(strstr(err.message, "...\""));
  const char *m = json_round_trip(&a, err.message), *p = json_round_trip(&a, err.path);
  assert_non_null(m);
  assert_non_null(p);
  assert_string_equal(err.path, p);
  /* an objectType value of Chinese text, also clipped */
  char obj[1024];
  snprintf(obj, sizeof obj, "{\"objectType\":\"%s\",\"id\":\"http://x.cn/a\"}", key);
  j = J(&a, STMT());
  MUST(mg_json_object_set(&a, j, "object", J(&a, obj)));
  assert_int_equal(mg_xapi_validate_statement(j, V1, "", &err), MG_EINVAL);
  assert_string_equal(err.path, "object.objectType");
  m = json_round_trip(&a, err.message);
  assert_non_null(m);
  /* control: the check does catch a character cut in half */
  assert_null(json_round_trip(&a, "\xe8\xaf"));
  mg_arena_free(&a);
  g_assertions += 10;
}

static int report(void **state) {
  (void)state;
  print_message("validate: %d assertions\n", g_assertions);
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_statement_is_object),
      cmocka_unit_test(test_required_properties),
      cmocka_unit_test(test_unknown_properties_everywhere),
      cmocka_unit_test(test_embedded_nul),
      cmocka_unit_test(test_id_uuid),
      cmocka_unit_test(test_agent_ifis),
      cmocka_unit_test(test_groups),
      cmocka_unit_test(test_verb),
      cmocka_unit_test(test_voiding),
      cmocka_unit_test(test_activity),
      cmocka_unit_test(test_interactions),
      cmocka_unit_test(test_interaction_many_components),
      cmocka_unit_test(test_object_agent_group),
      cmocka_unit_test(test_statement_ref),
      cmocka_unit_test(test_substatement),
      cmocka_unit_test(test_result),
      cmocka_unit_test(test_duration),
      cmocka_unit_test(test_context),
      cmocka_unit_test(test_context_revision_platform),
      cmocka_unit_test(test_context_activities),
      cmocka_unit_test(test_context_agents_groups),
      cmocka_unit_test(test_timestamps),
      cmocka_unit_test(test_version),
      cmocka_unit_test(test_authority),
      cmocka_unit_test(test_attachments),
      cmocka_unit_test(test_extensions),
      cmocka_unit_test(test_language_maps),
      cmocka_unit_test(test_language_tag_function),
      cmocka_unit_test(test_iri_function),
      cmocka_unit_test(test_wrong_types),
      cmocka_unit_test(test_full_statement),
      cmocka_unit_test(test_agent_param),
      cmocka_unit_test(test_path_truncation_and_null_err),
      cmocka_unit_test(test_error_text_is_utf8),
  };
  return cmocka_run_group_tests(tests, NULL, report);
}
