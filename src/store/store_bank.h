/* store/store_bank.h — the known answer-bank registry (issue #4, docs/profile.md "Known answer
 * banks").
 *
 * One row per item IRI (the object.id of item-answered statements) with the answer a public
 * answer bank gives for it and where it was found. Written by `moocguard bank import` and
 * POST /api/v1/banks/items (each change with its audit record, in the caller's transaction), read
 * by the detectors at start. SQLite implementation in sqlite_bank.c, on the governance connection
 * (store_int.h): a call joins the calling thread's open transaction (mg_store_tx_begin), else
 * commits by itself. Errors: MG_EINVAL, MG_ENOTFOUND, MG_ESTORE, MG_EBUSY. */
#ifndef MG_STORE_STORE_BANK_H
#define MG_STORE_STORE_BANK_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define MG_STORE_BANK_IRI_MAX 512    /* bytes of an item IRI */
#define MG_STORE_BANK_ANSWER_MAX 512 /* bytes of an answer */
#define MG_STORE_BANK_SOURCE_MAX 128 /* bytes of a source name */

typedef struct mg_store_bank_item {
  char item_iri[MG_STORE_BANK_IRI_MAX + 1];
  char answer[MG_STORE_BANK_ANSWER_MAX + 1];
  char source[MG_STORE_BANK_SOURCE_MAX + 1];
  char added_by[64];
  int64_t created_us, updated_us;
} mg_store_bank_item;

/* What mg_store_bank_put did. */
typedef enum mg_store_bank_change {
  MG_STORE_BANK_UNCHANGED = 0, /* the same answer and source were already there */
  MG_STORE_BANK_INSERTED,
  MG_STORE_BANK_UPDATED        /* the answer or source changed (created_us kept) */
} mg_store_bank_change;

/* Inserts the item or updates its answer, source, added_by and updated_us (= now_us). Fields are
 * truncated to the struct's sizes by the caller's checks, not here. *change may be NULL. */
int mg_store_bank_put(mg_store *s, const mg_store_bank_item *it, int64_t now_us, mg_store_bank_change *change);
/* One item by IRI; MG_ENOTFOUND if unknown. */
int mg_store_bank_get(mg_store *s, const char *item_iri, mg_store_bank_item *out);
/* Items in IRI order after after_iri (NULL or "": from the start), at most limit (0: all). *more
 * (may be NULL) is set when more rows follow. The callback returns MG_OK to go on. */
int mg_store_bank_list(mg_store *s, const char *after_iri, size_t limit,
                       int (*cb)(void *ud, const mg_store_bank_item *it), void *ud, int *more);
/* Number of items. */
int mg_store_bank_count(mg_store *s, int64_t *out);

#endif
