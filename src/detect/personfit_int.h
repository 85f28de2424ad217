/* detect/personfit_int.h — 刷考 from answer patterns that no ability explains (private to detect/).
 *
 * A student who answers from a circulating answer bank or a search engine gets the items that
 * circulate right whatever their difficulty and the rest near chance; search takes about the same
 * time per item whatever the item. Neither is visible in one attempt against constants, but both
 * are against the population: each item's p-value (share of students who got it right) and its
 * usual time come from everyone's answers, and each enrolment's answers are then judged as a whole.
 *
 *  - person fit (lz*, Snijders 2001) under a Rasch model whose item difficulties are the
 *    population's p-values: hard items right and easy ones wrong in a pattern improbable for any
 *    ability; judged only for enrolments that score at or above the population (ability >= 0), so
 *    a weak student's lucky guesses are not the rule's business;
 *  - with a known answer bank (the centre's partial crawl, mg_detect_pf_bank): accuracy on the
 *    known-bank items against other items of the same difficulty (an efficient score, per stratum
 *    coursework/exam), and the bank's own wrong answers given against the honest expectation
 *    (Poisson tail), combined with the time rule by Fisher's method (docs/detection.md);
 *  - time that ignores the item: the correlation, over the enrolment's items, of its time on each
 *    item with the population's usual time on that item, compared with the same correlation of
 *    everyone else (robust z on Fisher's z scale, per item count);
 *  - fast and flat (a lookup per item: search, OCR): the whole course answered in at most half
 *    the population's usual time on the same items, mostly right, with time that ignores the
 *    item (rule course_fast_flat, MG_DETECT_PF_FAST).
 *
 * The engine (engine.c) owns one mg_detect_pf, hands it each finished graded attempt and asks it to
 * judge at its population sweeps; results come back through a callback. Memory: one small record
 * per answered item (population), up to PF_MAX_ANS answers per enrolment. Not thread-safe. */
#ifndef MG_DETECT_PERSONFIT_INT_H
#define MG_DETECT_PERSONFIT_INT_H

#include <stddef.h>
#include <stdint.h>

typedef struct mg_detect_pf mg_detect_pf;

/* One graded answer of a finished attempt. */
typedef struct mg_detect_pf_resp {
  uint64_t item;  /* item IRI hash */
  uint32_t resp;  /* low 32 bits of the response hash (mg_detect_hash of result.response) */
  float dur;      /* seconds on the item (<= 0: unknown) */
  int8_t success; /* 0/1 */
  uint8_t exam;   /* answered in an exam (1) or coursework (0): judged in separate strata */
} mg_detect_pf_resp;

/* Which judgement the callback reports. */
typedef enum mg_detect_pf_rule {
  MG_DETECT_PF_MISFIT = 0,
  MG_DETECT_PF_TIME_FLAT,
  MG_DETECT_PF_BANK_GAP,    /* value: robust z of the known-bank accuracy gap */
  MG_DETECT_PF_BANK_ERRORS, /* value: one-sided p of the bank errors reproduced */
  MG_DETECT_PF_FAST,        /* fast and flat; value: the enrolment's time / the population's usual time (geometric mean) */
  MG_DETECT_PF_END          /* after the rules of one judgement of one enrolment (strength 0) */
} mg_detect_pf_rule;

/* Called for an enrolment whose answers fail a rule (then once with MG_DETECT_PF_END when all rules
 * of that judgement were reported, so that they are weighed together). value: lz* (misfit) or the robust z of its
 * time/item correlation (time_flat); strength per docs/detection.md; id/ts: the submission of an
 * attempt holding the most surprising answers (NULL if none is remembered). */
typedef void (*mg_detect_pf_flag)(void *ud, uint32_t enrol, mg_detect_pf_rule rule, double strength,
                                  double value, const uint8_t *id, int64_t ts);

/* MG_OK or MG_ENOMEM; *out is owned by the caller (mg_detect_pf_free). */
int mg_detect_pf_new(mg_detect_pf **out);
void mg_detect_pf_free(mg_detect_pf *p);

/* Records the graded answers of one finished attempt of enrolment `enrol` (a non-zero index the
 * engine keeps stable); id/ts: its submission (or last) statement. A later answer to the same
 * item by the same enrolment (a retake) replaces the earlier one. MG_OK or MG_ENOMEM. */
int mg_detect_pf_attempt(mg_detect_pf *p, uint32_t enrol, const mg_detect_pf_resp *r, size_t n,
                         const uint8_t id[16], int64_t ts);

/* Records that a known answer bank carries `item` with the answer whose hash is `resp` (low 32
 * bits of mg_detect_hash). A later call for the same item replaces the answer. MG_OK or MG_ENOMEM. */
int mg_detect_pf_bank(mg_detect_pf *p, uint64_t item, uint32_t resp);
/* Items with a known bank answer. */
size_t mg_detect_pf_bank_items(const mg_detect_pf *p);

/* Remembers the tail of an item's IRI (first sight only) for the evidence text. MG_OK or MG_ENOMEM. */
int mg_detect_pf_item_name(mg_detect_pf *p, uint64_t item, const char *iri, size_t n);

/* Evidence text of a flagged enrolment (which hard items right, which easy ones wrong, with the
 * population's p-values, and the tail probability; for the bank rules, the accuracies on known-bank
 * and other items and the bank errors reproduced), Chinese (zh != 0) or English; NULL if none.
 * Owned by p; valid until the next sweep. */
const char *mg_detect_pf_detail(const mg_detect_pf *p, uint32_t ei, int zh);

/* The same for the bank rules (bank_answer_gap, bank_errors_reproduced). */
const char *mg_detect_pf_bank_detail(const mg_detect_pf *p, uint32_t ei, int zh);
/* The fast-and-flat evidence (items, pace against everyone's, accuracy, time z); NULL if none.
 * Owned by p. */
const char *mg_detect_pf_fast_detail(const mg_detect_pf *p, uint32_t ei, int zh);

/* Judges the enrolments whose answers changed since the last call (all of them when all != 0)
 * against the population as it stands. MG_OK or MG_ENOMEM. */
int mg_detect_pf_sweep(mg_detect_pf *p, int all, mg_detect_pf_flag flag, void *ud);

/* Bytes held. */
size_t mg_detect_pf_bytes(const mg_detect_pf *p);

#endif
