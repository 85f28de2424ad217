/* registry/registry.h — what every registry unit shares: refusals and input checks.
 *
 * The registry (issue #3) keeps who is who in credit-bearing online courses: regulators,
 * universities, platforms with their filing and list status, courses, offerings, rosters, pledges
 * and exams. Its functions check the rules of 教高〔2022〕1号 and then call store_registry.h; they
 * never open transactions themselves, so an HTTP handler can run one inside its own transaction
 * together with the audit record. A refusal comes back as a negative MG_E* code plus an
 * mg_registry_why naming a stable error code and a message saying what was wrong and where:
 * MG_EINVAL bad input (400), MG_ENOTFOUND (404), MG_ECONFLICT / MG_EEXISTS the state forbids it
 * (409), MG_EFORBIDDEN (403). */
#ifndef MG_REGISTRY_REGISTRY_H
#define MG_REGISTRY_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

typedef struct mg_registry_why {
  char code[40];      /* e.g. "platform_not_whitelisted" */
  char message[400];  /* what was wrong and where; Chinese first, then English */
} mg_registry_why;

/* Fills why (may be NULL) and returns err. */
int mg_registry_refuse(mg_registry_why *why, int err, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Text field checks: required non-empty (unless optional), at most max bytes, valid UTF-8 without
 * control characters. On failure fills why with code "invalid_field" naming field. */
int mg_registry_check_text(const char *field, const char *s, size_t max, int optional,
                           mg_registry_why *why);
/* A calendar date "YYYY-MM-DD" that exists. */
int mg_registry_check_date(const char *field, const char *s, mg_registry_why *why);
/* Days from date a ("YYYY-MM-DD") to the day of instant now_us (UTC); MG_EINVAL if a is bad. */
int mg_registry_days_since(const char *a, int64_t now_us, int64_t *days);
/* Today's date (UTC) of instant now_us as YYYY-MM-DD. */
void mg_registry_date_of(int64_t now_us, char out[11]);

/* Content older than this many days (since the course's last update) cannot be selected. The
 * setting "registry.max_content_age_days" overrides the default. */
#define MG_REGISTRY_MAX_CONTENT_AGE_DAYS 365
int mg_registry_max_content_age(mg_store *s, int64_t *days);

/* Masks for lists (personal data minimised): student numbers keep their first 4 and last 2
 * characters ("2023****23"); names keep their first character ("张*", "欧**"). out gets a
 * NUL-terminated string. */
void mg_registry_mask_student_no(const char *no, char *out, size_t size);
void mg_registry_mask_name(const char *name, char *out, size_t size);

#endif
