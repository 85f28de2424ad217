/* fuzz/fuzz_statement.c — libFuzzer harness for the statement pipeline of POST /statements:
 * mg_json_parse → mg_xapi_validate_statement → profile → mg_xapi_prepare → keys → digest →
 * render (xapi/validate.h, xapi/profile.h, xapi/statement.h).
 *
 * Input: a statement as JSON text, optionally followed by a 0x01 byte and an Accept-Language
 * value for the canonical format (0x01 cannot occur in JSON text, so no statement is lost).
 * For each xAPI version under which the statement is valid, checked:
 *  - validation is deterministic (same result and error twice), honours the path prefix, and
 *    its error text is bounded, valid UTF-8 (validate.c promises callers can embed it in JSON);
 *  - key order does not matter: with every object's members reversed, validation (of any
 *    statement), the profile check and the comparison digest give the same answers;
 *  - profile: check and kind agree (a claimed, passing, non-voiding statement has a kind);
 *  - mg_xapi_compare_digest of the statement equals that of its deep copy;
 *  - after mg_xapi_prepare (id, stored, authority, version, timestamp completed) the statement
 *    is still valid for the same version and still passes the profile if it did before;
 *  - mg_xapi_keys_extract succeeds on it (ingest answers 500 if not), its cmp_hash is the
 *    digest, and its actor key is mg_xapi_agent_key(actor);
 *  - the digest does not depend on when the statement was stored: preparing the same statement
 *    at two stored times gives the same digest (this is what makes a re-post answer 204, not
 *    409). One known exception is skipped unless MG_FUZZ_STRICT is set in the environment: see
 *    the comment at same_digest_known_exception and fuzz/README.md;
 *  - profile error text is valid UTF-8 too;
 *  - storing and reading back (dump, parse) gives an equal statement that is still valid and
 *    has the same digest;
 *  - mg_xapi_render (of the prepared and of the received statement): exact is equal to the
 *    statement; ids and canonical are still valid statements and survive a dump/parse round
 *    trip; canonical has the same digest;
 *  - nothing above modifies the statement it was given as const;
 *  - the detectors' text extractor (detect/event.h, which reads every accepted statement) never
 *    crashes or reads outside the input, reads the same event twice, and, when the text is
 *    valid JSON that fits its scratch, extracts what the DOM reader extracts from the parsed
 *    value. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

#include "core/json.h"
#include "core/time.h"
#include "detect/event.h"
#include "xapi/profile.h"
#include "xapi/statement.h"
#include "xapi/validate.h"

/* Two stored times: 2024-03-01T08:30:00.000Z and 1 h 0 min 54.321 s later. */
#define STORED_A INT64_C(1709281800000000)
#define STORED_B INT64_C(1709285454321000)

static const char k_authority[] =
    "{\"objectType\":\"Agent\",\"name\":\"fuzz platform\",\"account\":"
    "{\"homePage\":\"https://lrs.example.org/platforms\",\"name\":\"fuzz-key\"}}";

static const char *const k_langs[] = {NULL, "", "zh-CN,zh;q=0.9,en;q=0.8", "fr-CA, *;q=0.1"};

static void check_error_text(const mg_xapi_error *e) {
  FUZZ_CHECK(fuzz_text_ok(e->path, sizeof e->path));
  FUZZ_CHECK(fuzz_text_ok(e->message, sizeof e->message));
}

/* Validates with "", NULL and "[3]" as path prefix and without an error struct; the answers
 * must agree. */
static int validate(const mg_json *stmt, mg_xapi_version v) {
  mg_xapi_error e1, e2, e3;
  int rc = mg_xapi_validate_statement(stmt, v, "", &e1);
  int rc2 = mg_xapi_validate_statement(stmt, v, NULL, &e2);
  int rc3 = mg_xapi_validate_statement(stmt, v, "[3]", &e3);
  FUZZ_CHECK(rc == MG_OK || rc == MG_EINVAL);
  FUZZ_CHECK(rc == rc2 && rc == rc3);
  FUZZ_CHECK(mg_xapi_validate_statement(stmt, v, "", NULL) == rc);
  if (rc) {
    check_error_text(&e1);
    check_error_text(&e3);
    FUZZ_CHECK(e1.message[0] != '\0');
    FUZZ_CHECK(strcmp(e1.path, e2.path) == 0 && strcmp(e1.message, e2.message) == 0);
    FUZZ_CHECK(strncmp(e3.path, "[3]", 3) == 0);
  }
  return rc;
}

static void digest(const mg_json *stmt, uint8_t out[32]) {
  FUZZ_CHECK(mg_xapi_compare_digest(stmt, out) == MG_OK);
}

/* The one case where the digest legitimately (by its documented rule) depends on the stored
 * time: statement.c drops "timestamp" from the digest when its text equals "stored" ("the LRS
 * filled it in"). A client timestamp that happens to equal the stored text (same millisecond,
 * same spelling; in 2.0 after conversion to UTC) is then dropped for one posting and kept for
 * a re-post, so an identical re-post gets 409. Reported to the lead; skipped unless
 * MG_FUZZ_STRICT so that the fuzzer keeps looking for other differences. */
static int same_digest_known_exception(const mg_json *original, const mg_json *prepared) {
  const mg_json *ts = mg_json_object_get(prepared, "timestamp");
  const mg_json *st = mg_json_object_get(prepared, "stored");
  return mg_json_object_get(original, "timestamp") && mg_json_is_string(ts) &&
         mg_json_is_string(st) && ts->len == st->len && memcmp(ts->u.str, st->u.str, ts->len) == 0;
}

static void check_keys(const mg_json *prepared, int64_t stored_us) {
  mg_xapi_keys k;
  uint8_t d[32];
  int rc = mg_xapi_keys_extract(prepared, &k);
  FUZZ_CHECK(rc == MG_OK);
  digest(prepared, d);
  FUZZ_CHECK(memcmp(k.row.cmp_hash, d, 32) == 0);
  FUZZ_CHECK(k.row.stored_us == stored_us);
  FUZZ_CHECK(k.row.verb_id != NULL &&
             strcmp(k.row.verb_id, mg_json_string_value(mg_json_object_get(
                                       mg_json_object_get(prepared, "verb"), "id"))) == 0);
  /* the key indexed for the actor is the key ?agent= queries look up */
  mg_buf kb;
  mg_buf_init(&kb, 1 << 20);
  int krc = mg_xapi_agent_key(mg_json_object_get(prepared, "actor"), &kb);
  if (krc == MG_OK) {
    FUZZ_CHECK(k.row.actor_key != NULL && strcmp(k.row.actor_key, kb.data) == 0);
  } else {
    FUZZ_CHECK(k.row.actor_key == NULL); /* an anonymous Group has no key */
  }
  mg_buf_free(&kb);
  for (size_t i = 0; i < k.n_agents; i++) FUZZ_CHECK(k.agents[i] != NULL);
  for (size_t i = 0; i < k.n_activities; i++) FUZZ_CHECK(k.activities[i] != NULL);
  mg_xapi_keys_free(&k);
}

/* Everything that happens to a statement valid under version v. */
static void pipeline(mg_arena *a, const mg_json *stmt, mg_xapi_version v, const char *lang) {
  mg_xapi_error pe, pe2;
  uint8_t d0[32], d1[32], da[32], db[32];

  /* profile */
  int claims = mg_xapi_profile_claims(stmt);
  int prc = mg_xapi_profile_check(stmt, &pe);
  FUZZ_CHECK(prc == MG_OK || prc == MG_EINVAL);
  FUZZ_CHECK(mg_xapi_profile_check(stmt, NULL) == prc);
  FUZZ_CHECK(mg_xapi_profile_check(stmt, &pe2) == prc);
  mg_xapi_kind kind = mg_xapi_profile_kind(stmt);
  FUZZ_CHECK(mg_xapi_profile_kind_name(kind) != NULL);
  if (!claims) FUZZ_CHECK(prc == MG_OK && kind == MG_XAPI_KIND_NONE);
  const char *verb = mg_json_string_value(mg_json_object_get(mg_json_object_get(stmt, "verb"), "id"));
  if (claims && prc == MG_OK && strcmp(verb, MG_XAPI_VERB_VOIDED) != 0)
    FUZZ_CHECK(kind != MG_XAPI_KIND_NONE);
  if (prc) {
    FUZZ_CHECK(memchr(pe.path, '\0', sizeof pe.path) && memchr(pe.message, '\0', sizeof pe.message));
    /* known defect: profile.c cuts client text (a long non-ASCII verb IRI) inside a UTF-8
     * sequence when the message is truncated */
    FUZZ_CHECK(fuzz_text_ok(pe.path, sizeof pe.path) &&
                      fuzz_text_ok(pe.message, sizeof pe.message));
    FUZZ_CHECK(strcmp(pe.path, pe2.path) == 0 && strcmp(pe.message, pe2.message) == 0);
  }

  /* digest of the statement and of its deep copy; key order does not count */
  mg_json *copy = mg_json_deep_copy(a, stmt);
  FUZZ_CHECK(copy != NULL);
  digest(stmt, d0);
  digest(copy, d1);
  FUZZ_CHECK(memcmp(d0, d1, 32) == 0);
  mg_json *rev = fuzz_reversed(a, stmt);
  digest(rev, d1);
  FUZZ_CHECK(memcmp(d0, d1, 32) == 0);
  FUZZ_CHECK(mg_xapi_profile_check(rev, NULL) == prc);
  FUZZ_CHECK(mg_xapi_profile_kind(rev) == kind);

  /* prepare at two stored times */
  mg_json *auth = mg_json_parse(a, k_authority, sizeof k_authority - 1, 0, NULL);
  FUZZ_CHECK(auth != NULL);
  mg_json *pa = mg_json_deep_copy(a, stmt), *pb = mg_json_deep_copy(a, stmt);
  FUZZ_CHECK(pa && pb);
  FUZZ_CHECK(mg_xapi_prepare(a, pa, v, STORED_A, auth) == MG_OK);
  FUZZ_CHECK(mg_xapi_prepare(a, pb, v, STORED_B, NULL) == MG_OK);
  FUZZ_CHECK(validate(pa, v) == MG_OK);
  FUZZ_CHECK(validate(pb, v) == MG_OK);
  if (prc == MG_OK) {
    FUZZ_CHECK(mg_xapi_profile_check(pa, NULL) == MG_OK);
    FUZZ_CHECK(mg_xapi_profile_kind(pa) == kind);
  }
  check_keys(pa, STORED_A);
  check_keys(pb, STORED_B);
  digest(pa, da);
  digest(pb, db);
  if (fuzz_strict() || (!same_digest_known_exception(stmt, pa) &&
                      !same_digest_known_exception(stmt, pb)))
    FUZZ_CHECK(memcmp(da, db, 32) == 0);

  /* stored and read back */
  mg_json *back = fuzz_roundtrip(a, pa);
  FUZZ_CHECK(validate(back, v) == MG_OK);
  digest(back, d1);
  FUZZ_CHECK(memcmp(da, d1, 32) == 0);

  /* GET formats, on the stored form */
  mg_json *ex = mg_xapi_render(a, pa, MG_XAPI_FORMAT_EXACT, lang);
  FUZZ_CHECK(ex != NULL && mg_json_equal(ex, pa) && fuzz_same_text(ex, pa));
  mg_json *ids = mg_xapi_render(a, pa, MG_XAPI_FORMAT_IDS, lang);
  FUZZ_CHECK(ids != NULL);
  FUZZ_CHECK(validate(fuzz_roundtrip(a, ids), v) == MG_OK);
  mg_json *canon = mg_xapi_render(a, pa, MG_XAPI_FORMAT_CANONICAL, lang);
  FUZZ_CHECK(canon != NULL);
  FUZZ_CHECK(validate(fuzz_roundtrip(a, canon), v) == MG_OK);
  /* canonical only drops language map entries: the digest ignores them */
  digest(canon, d1);
  FUZZ_CHECK(memcmp(da, d1, 32) == 0);

  /* the formats of the statement as received (single contextActivities, no id...) */
  static const mg_xapi_format formats[] = {MG_XAPI_FORMAT_IDS, MG_XAPI_FORMAT_CANONICAL};
  for (size_t i = 0; i < 2; i++) {
    mg_json *r = mg_xapi_render(a, stmt, formats[i], lang);
    FUZZ_CHECK(r != NULL);
    FUZZ_CHECK(validate(fuzz_roundtrip(a, r), v) == MG_OK);
  }

  /* nothing above changed what it was given as const */
  FUZZ_CHECK(fuzz_same_text(stmt, copy));
}

/* The fields of two extracted events that must agree (pointers into the text aside); the name
 * of the first that does not goes to *which. */
static const char *g_which;
static int same_field(int eq, const char *name) {
  if (!eq && !g_which) g_which = name;
  return eq;
}
static int same_event(const mg_detect_event *a, const mg_detect_event *b) {
  g_which = NULL;
#define F(f) same_field(a->f == b->f || (a->f != a->f && b->f != b->f), #f) /* NaN equals NaN */
  return F(kind) && F(id_h) && F(ts_us) && F(recv_us) && F(has) && F(actor) && F(reg) &&
         F(course) && F(offering) && F(platform) && F(object) && F(parent) && F(device) &&
         F(ip) && F(ip_net) && F(ua) && F(ua_family) && F(csess) && F(vsess) && F(attempt) &&
         F(capture) && F(post) && F(response) && F(cam_dev[0]) && F(cam_dev[1]) &&
         F(client_seq) && F(time) && F(time_from) && F(time_to) && F(progress) && F(length) &&
         F(speed) && F(max_speed) && F(volume) && F(threshold) && F(duration) && F(score) &&
         F(face_threshold) && F(input_count) && F(attempt_number) && F(camera_count) &&
         F(cameras_required) && F(desc_chars) && F(success) && F(completion) && F(offline) &&
         F(visible) && F(akind) && F(login) && F(face_failure) && F(face_purpose) && F(n_cams) &&
         same_field(!memcmp(a->id, b->id, 16), "id");
#undef F
}

static void check_event(const uint8_t *json, size_t len, const mg_json *stmt) {
  static mg_detect_event e1, e2, e3;
  /* a copy of exactly len bytes: ASan sees any read past the text */
  char *t = malloc(len ? len : 1);
  FUZZ_CHECK(t != NULL);
  if (len) memcpy(t, json, len);
  int r1 = mg_detect_event_parse(t, len, &e1);
  int r2 = mg_detect_event_parse(t, len, &e2);
  FUZZ_CHECK(r1 == r2);
  if (r1 == MG_OK) {
    FUZZ_CHECK(same_event(&e1, &e2));
    if (stmt && stmt->type == MG_JSON_OBJECT && len < sizeof e1.scratch &&
        mg_detect_event_from_json(stmt, &e3) == MG_OK && !same_event(&e1, &e3)) {
      fprintf(stderr, "text and DOM extraction differ in %s (kind %d/%d, has %x/%x)\n", g_which,
              e1.kind, e3.kind, e1.has, e3.has);
      FUZZ_CHECK(0);
    }
  }
  free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  mg_arena a;
  const uint8_t *json, *tail;
  size_t json_len, tail_len;
  char *lang_buf = NULL;
  const char *lang;

  fuzz_split(data, size, 0x01, &json, &json_len, &tail, &tail_len);
  if (tail) {
    lang_buf = fuzz_cstr(tail, tail_len);
    if (!lang_buf) return 0;
    lang = lang_buf;
  } else {
    lang = k_langs[size % (sizeof k_langs / sizeof *k_langs)];
  }

  fuzz_arena_init(&a);
  mg_json *stmt = mg_json_parse(&a, (const char *)json, json_len, MG_JSON_DECODE_ANY, NULL);
  if (stmt) {
    mg_json *orig = mg_json_deep_copy(&a, stmt);
    FUZZ_CHECK(orig != NULL);
    static const mg_xapi_version versions[] = {MG_XAPI_V103, MG_XAPI_V200};
    mg_json *rev = fuzz_reversed(&a, stmt);
    for (size_t i = 0; i < 2; i++) {
      int rc = validate(stmt, versions[i]);
      /* which violation is reported first may depend on key order; whether there is one not */
      FUZZ_CHECK(mg_xapi_validate_statement(rev, versions[i], NULL, NULL) == rc);
      if (rc == MG_OK) pipeline(&a, stmt, versions[i], lang);
      /* the profile functions must cope with anything, valid or not */
      (void)mg_xapi_profile_check(stmt, NULL);
      (void)mg_xapi_profile_kind(stmt);
    }
    FUZZ_CHECK(fuzz_same_text(stmt, orig));
  }
  check_event(json, json_len, stmt);
  mg_arena_free(&a);
  free(lang_buf);
  return 0;
}
