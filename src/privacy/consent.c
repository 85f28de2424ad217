/* privacy/consent.c — face-verification consent records and evidence notes (see consent.h). */
#include "privacy/consent.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/time.h"

static const mg_privacy_notice k_face_notices[] = {
    {"face-2025-1",
     "人脸核验个人信息处理告知：为核实在线课程学习与考试是否由学生本人完成（教高〔2022〕1号），"
     "课程平台在学习和考试过程中对你进行人脸核验，并将核验结果（是否通过、相似度、失败原因、"
     "采集记录编号）发送给学校的学分课程监测系统。人脸图像和特征模板不发送、不保存。核验结果用于"
     "发现替课、替考等行为，由学校工作人员人工认定，保存至课程学分认定完成且相关案件和申诉期结束，"
     "最长为课程结束后一年。你可以随时撤回同意；撤回后不再处理你的人脸核验结果，学校将提供其他身份"
     "核验方式（如现场监考），撤回不影响撤回前的处理。",
     "Notice on face verification: to confirm that online coursework and exams are done by you "
     "(Jiao Gao [2022] No. 1), the course platform verifies your face during study and exams and "
     "sends the result (pass/fail, similarity score, failure reason, capture id) to the "
     "university's credit-course monitoring system. Face images and templates are neither sent "
     "nor kept. Results are used to detect proxy study and proxy exams, always judged by a "
     "person, and kept until the course credit is final and any case and appeal period has "
     "ended, at most one year after the course. You may withdraw consent at any time; your face "
     "results are then no longer processed and the university offers another way to verify "
     "your identity (e.g. an invigilated exam). Withdrawal does not affect earlier processing."},
};
#define N_NOTICES (sizeof k_face_notices / sizeof k_face_notices[0])

const mg_privacy_notice *mg_privacy_face_notice(void) { return &k_face_notices[N_NOTICES - 1]; }

const mg_privacy_notice *mg_privacy_face_notice_find(const char *version) {
  if (!version) return NULL;
  for (size_t i = 0; i < N_NOTICES; i++)
    if (!strcmp(k_face_notices[i].version, version)) return &k_face_notices[i];
  return NULL;
}

void mg_privacy_notice_digest(const mg_privacy_notice *n, char out[65]) {
  crypto_hash_sha256_state st;
  unsigned char d[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_init(&st);
  crypto_hash_sha256_update(&st, (const unsigned char *)n->text_zh, strlen(n->text_zh));
  crypto_hash_sha256_update(&st, (const unsigned char *)"\n", 1);
  crypto_hash_sha256_update(&st, (const unsigned char *)n->text_en, strlen(n->text_en));
  crypto_hash_sha256_final(&st, d);
  sodium_bin2hex(out, 65, d, sizeof d);
}

int mg_privacy_face_consent_at(mg_store *s, int64_t student_id, int64_t at_us, int *granted,
                               mg_store_consent *rec) {
  mg_store_consent c;
  int rc = mg_store_consent_at(s, student_id, MG_PRIVACY_FACE, at_us, &c);
  if (rc == MG_ENOTFOUND) {
    memset(&c, 0, sizeof c);
    rc = MG_OK;
  }
  if (rc) return rc;
  *granted = c.id > 0 && c.granted;
  if (rec) *rec = c;
  return MG_OK;
}

int mg_privacy_face_consent_set(mg_store *s, int64_t student_id, int64_t user_id, int granted,
                                const char *notice_version, const char *client_ip,
                                int64_t now_us, mg_store_consent *out, const char **why) {
  static const char *dummy;
  if (!why) why = &dummy;
  *why = NULL;
  if (!s || student_id <= 0) {
    *why = "no student record is linked to this account";
    return MG_EINVAL;
  }
  const mg_privacy_notice *cur = mg_privacy_face_notice();
  if (granted && (!notice_version || strcmp(notice_version, cur->version))) {
    *why = notice_version && mg_privacy_face_notice_find(notice_version)
               ? "notice_version names an earlier notice: read and accept the current one"
               : "notice_version must name the current notice (GET /me/consents/face)";
    return MG_EINVAL;
  }
  if (!granted && notice_version && strcmp(notice_version, cur->version)) {
    *why = "notice_version, when given, must name the current notice";
    return MG_EINVAL;
  }
  int now_granted = 0;
  mg_store_consent last;
  int rc = mg_privacy_face_consent_at(s, student_id, INT64_MAX, &now_granted, &last);
  if (rc) return rc;
  if (granted && now_granted && !strcmp(last.notice_version, cur->version)) {
    *why = "consent under the current notice is already on record";
    return MG_EEXISTS;
  }
  if (!granted && !now_granted) {
    *why = "there is no consent on record to withdraw";
    return MG_EEXISTS;
  }
  mg_store_consent c;
  memset(&c, 0, sizeof c);
  c.student_id = student_id;
  c.user_id = user_id;
  snprintf(c.purpose, sizeof c.purpose, "%s", MG_PRIVACY_FACE);
  c.granted = granted ? 1 : 0;
  snprintf(c.notice_version, sizeof c.notice_version, "%s", cur->version);
  mg_privacy_notice_digest(cur, c.notice_digest);
  snprintf(c.client_ip, sizeof c.client_ip, "%s", client_ip ? client_ip : "");
  /* records are ordered by time: one made in the same microsecond as the last still comes after */
  c.at_us = now_us > last.at_us ? now_us : last.at_us + 1;
  if ((rc = mg_store_consent_add(s, &c, &c.id))) return rc;
  if (out) *out = c;
  return MG_OK;
}

int mg_privacy_mentions_face(const char *json_text) {
  return json_text && (strstr(json_text, "face") || strstr(json_text, "人脸"));
}

static int set_str(mg_arena *a, mg_json *o, const char *k, const char *v) {
  mg_json *j = mg_json_string(a, v);
  return j ? mg_json_object_set(a, o, k, j) : MG_ENOMEM;
}

int mg_privacy_face_evidence_note(mg_store *s, int64_t student_id, int64_t at_us, mg_arena *a,
                                  mg_json **out) {
  *out = NULL;
  int granted = 0;
  mg_store_consent c;
  int rc = mg_privacy_face_consent_at(s, student_id, at_us, &granted, &c);
  if (rc) return rc;
  mg_json *o = mg_json_object(a);
  if (!o) return MG_ENOMEM;
  char t[MG_TIME_ISO_LEN];
  rc = mg_json_object_set(a, o, "on_record", granted ? mg_json_true() : mg_json_false());
  if (!rc) rc = set_str(a, o, "state", !c.id ? "none" : granted ? "granted" : "withdrawn");
  if (!rc && c.id) rc = set_str(a, o, "notice_version", c.notice_version);
  if (!rc && c.id) {
    mg_time_format_iso(c.at_us, 3, t);
    rc = set_str(a, o, "recorded_at", t);
  }
  if (!rc && !granted) {
    rc = set_str(a, o, "flag", "no_consent_on_record");
    if (!rc)
      rc = set_str(a, o, "note_zh",
                   c.id ? "该生当时已撤回人脸核验同意：人脸核验结果不得作为认定依据"
                        : "无人脸核验同意记录：人脸核验结果不得作为认定依据");
    if (!rc)
      rc = set_str(a, o, "note",
                   c.id ? "the student had withdrawn consent to face verification then: face "
                          "results must not support a decision"
                        : "no consent on record: face results must not support a decision");
  }
  if (rc) return rc;
  *out = o;
  return MG_OK;
}

int mg_privacy_annotate_evidence(mg_store *s, int64_t student_id, int64_t at_us,
                                 const char *evidence, char **out) {
  *out = NULL;
  if (!evidence || !mg_privacy_mentions_face(evidence)) return MG_OK;
  mg_arena a;
  mg_arena_init(&a, 0, (size_t)1 << 24);
  int rc = MG_OK;
  mg_json *ev = mg_json_parse(&a, evidence, strlen(evidence), 0, NULL);
  mg_json *note = NULL;
  if (!mg_json_is_object(ev)) goto out;
  if ((rc = mg_privacy_face_evidence_note(s, student_id, at_us, &a, &note))) goto out;
  if ((rc = mg_json_object_set(&a, ev, "face_consent", note))) goto out;
  size_t n = 0;
  char *text = mg_json_dumps(&a, ev, &n);
  if (!text || !(*out = malloc(n + 1))) {
    rc = MG_ENOMEM;
    goto out;
  }
  memcpy(*out, text, n + 1);
out:
  mg_arena_free(&a);
  return rc;
}
