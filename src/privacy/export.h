/* privacy/export.h — a student's copy of their own personal information (PIPL art. 45).
 *
 * One JSON document with everything moocguard holds about the student, in full (it is their own
 * data, so nothing is masked): the student record and account (never password hashes, TOTP
 * secrets or session tokens), enrolments with pledges and exam records, their learning
 * statements (by their xAPI actor, paged), the findings and cases about them with the evidence,
 * timeline, responses and appeal, sanctions, the student file, credit decisions, notices, and
 * their consent records. Face templates are never held (docs/privacy.md); the document says so
 * ("face_templates": {"held": false}) rather than exporting anything. Findings and case evidence
 * about face checks carry the consent note (privacy/consent.h). */
#ifndef MG_PRIVACY_EXPORT_H
#define MG_PRIVACY_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/json.h"
#include "store/store.h"

#define MG_PRIVACY_EXPORT_STATEMENTS 2000 /* statements per document; continue with after_seq */

/* Builds the export of student student_id for account user_id at now_us in arena a. Statements
 * are those whose actor is the student's account, ascending, after after_seq (0: from the
 * first), at most MG_PRIVACY_EXPORT_STATEMENTS; the document's "statements_next" names the
 * after_seq of the next page (null when complete). MG_ENOTFOUND: no such student. */
int mg_privacy_export(mg_store *s, int64_t student_id, int64_t user_id, int64_t after_seq,
                      int64_t now_us, mg_arena *a, mg_json **out);

#endif
