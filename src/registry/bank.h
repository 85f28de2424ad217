/* registry/bank.h — the known answer-bank registry (issue #4; docs/profile.md "Known answer banks").
 *
 * The monitoring centre and the platforms crawl public answer-bank sites and apps and record which
 * items circulate there (by the item's activity IRI, the object.id the platforms send in
 * item-answered statements) and the answer the bank gives, right or wrong. The 刷考 detectors
 * compare students' answers with it (detect.h mg_detect_bank_add). These functions check the input
 * and write through store_bank.h; they open no transaction themselves, so the caller commits the
 * change together with its audit record (mg_registry_bank_audit). */
#ifndef MG_REGISTRY_BANK_H
#define MG_REGISTRY_BANK_H

#include <stddef.h>
#include <stdint.h>

#include "registry/registry.h"
#include "store/store_bank.h"

/* Checks one item: item_iri an absolute IRI (scheme "://", no spaces) of at most
 * MG_STORE_BANK_IRI_MAX bytes, answer non-empty (at most MG_STORE_BANK_ANSWER_MAX), source optional
 * (at most MG_STORE_BANK_SOURCE_MAX); all valid UTF-8 without control characters. MG_OK or
 * MG_EINVAL with why filled. */
int mg_registry_bank_check(const char *item_iri, const char *answer, const char *source, mg_registry_why *why);

/* Checks and stores one item (insert or replace its answer). *change may be NULL. */
int mg_registry_bank_put(mg_store *s, const char *item_iri, const char *answer, const char *source,
                         const char *by, int64_t now_us, mg_store_bank_change *change, mg_registry_why *why);

/* The audit record of a change to the bank registry: action "bank.import" (a file: after = the
 * file's bytes, of which the log keeps the digest) or "bank.put" (one item: object_id = its IRI,
 * after = "answer\tsource"). by/role: who did it. */
int mg_registry_bank_audit(mg_store *s, const char *action, const char *by, const char *role, const char *object_id,
                           const void *after, size_t after_len, const char *source_ip, int64_t now_us);

#endif
