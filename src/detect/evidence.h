/* detect/evidence.h — one student's evidence timeline, for the person who reviews a finding.
 *
 * Built from the student's stored statements (an xAPI query by agent through the store, oldest
 * first): video sessions with the speed over time (media position advanced ÷ server receive
 * time, as the speed rule measures it), devices, addresses and their network prefixes (IPv4 /16,
 * IPv6 /48, the prefixes the identity rules compare), face checks, and answered items with their
 * timings and correctness. Labels are Chinese first, with English. Personal data the viewer does
 * not need is masked (options below). City and ASN are not derived: moocguard has no such table. */
#ifndef MG_DETECT_EVIDENCE_H
#define MG_DETECT_EVIDENCE_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "store/store.h"

typedef struct mg_detect_evidence_opts {
  int mask_student;       /* student number shown as 2023****23 */
  int mask_ip;            /* addresses shown as their network prefix only */
  int mask_device;        /* device ids shortened to their first 12 characters */
  int64_t platform_id;    /* only statements pushed by this platform (0 = all) */
  size_t max_statements;  /* statements read at most (0 = 50,000); more → "truncated": true */
} mg_detect_evidence_opts;

/* Appends the timeline of the student (account homePage, name) as one JSON object to out:
 * {"student": {...}, "labels": {...}, "statements", "truncated", "sessions": [...],
 *  "devices": [...], "addresses": [...], "networks": [...], "face_checks": [...],
 *  "items": [...]} (docs/api.md). MG_OK, MG_ENOMEM, MG_EINVAL, or a store error. */
int mg_detect_evidence_build(mg_store *s, const char *home_page, const char *student_no,
                             const mg_detect_evidence_opts *opts, mg_buf *out);

/* "2023****23": the first 4 and last 2 characters of a student number kept (shorter ones: all
 * but the first character masked). Writes into out (size >= 2). */
void mg_detect_mask_student(const char *s, char *out, size_t size);

#endif
