/* privacy/consent.h — the student's separate consent to face verification (PIPL art. 29, 15).
 *
 * Face-verification results are biometric-derived sensitive personal information; no law makes
 * them necessary, so processing them needs the student's separate consent. Students grant or
 * withdraw it here against a versioned notice text (中文 first, English available); every grant and
 * withdrawal is a new, append-only record with the notice version and digest, time and client IP,
 * so the state at the moment of any face check can be shown. Detectors keep reading face results
 * (the platform did the check), but evidence built from them is flagged "no consent on record"
 * when there was none then: see docs/privacy.md for how a case decision treats it.
 * Functions take part in the caller's open store transaction; the caller audits and commits. */
#ifndef MG_PRIVACY_CONSENT_H
#define MG_PRIVACY_CONSENT_H

#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/json.h"
#include "store/store.h"
#include "store/store_privacy.h"

#define MG_PRIVACY_FACE "face"

/* A consent notice: the text a student reads before granting. Versions are part of the code
 * (a new text is a release), so what a record's version means never changes. */
typedef struct mg_privacy_notice {
  const char *version;
  const char *text_zh;
  const char *text_en;
} mg_privacy_notice;

/* The current face-verification notice (static). */
const mg_privacy_notice *mg_privacy_face_notice(void);
/* A notice by version, NULL if unknown (older versions stay known for existing records). */
const mg_privacy_notice *mg_privacy_face_notice_find(const char *version);
/* SHA-256 (hex) of the notice as shown: text_zh, a newline, text_en. */
void mg_privacy_notice_digest(const mg_privacy_notice *n, char out[65]);

/* Records a grant (granted = 1, notice_version must be the current notice's) or a withdrawal
 * (granted = 0, notice_version NULL or the current one) for student_id by user_id from
 * client_ip at now_us. *out (may be NULL) gets the record written. MG_EINVAL with *why (static
 * text, "notice_version ...") for a wrong version; MG_EEXISTS when it changes nothing (already
 * granted under the current notice / nothing to withdraw): no record is written. */
int mg_privacy_face_consent_set(mg_store *s, int64_t student_id, int64_t user_id, int granted,
                                const char *notice_version, const char *client_ip,
                                int64_t now_us, mg_store_consent *out, const char **why);

/* The state at at_us: *granted 1 when the newest record then is a grant; *rec (may be NULL) gets
 * that record (id 0 when there is none). */
int mg_privacy_face_consent_at(mg_store *s, int64_t student_id, int64_t at_us, int *granted,
                               mg_store_consent *rec);

/* True when evidence (any JSON text: rule names, statement verbs, keys) concerns face checks. */
int mg_privacy_mentions_face(const char *json_text);

/* The consent note that goes with face-check evidence about student_id at at_us, in arena a:
 * {"on_record": bool, "state": "granted"|"withdrawn"|"none", "notice_version", "recorded_at",
 *  "flag": "no_consent_on_record" (only when not granted), "note_zh", "note"}. */
int mg_privacy_face_evidence_note(mg_store *s, int64_t student_id, int64_t at_us, mg_arena *a,
                                  mg_json **out);

/* For evidence JSON text that mentions face checks: a malloc'd copy with member "face_consent"
 * (the note above) added to the top-level object; *out NULL when the evidence does not concern
 * face checks or is not an object (then nothing is to be added). */
int mg_privacy_annotate_evidence(mg_store *s, int64_t student_id, int64_t at_us,
                                 const char *evidence, char **out);

#endif
