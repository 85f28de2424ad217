/* detect/detect.h — streaming misconduct detection over profile statements (issue #4).
 *
 * One engine (mg_detect) is fed every accepted statement, live after each durable batch or in a
 * replay of stored history, and calls a sink with findings: 刷课 course_brushing, 替课
 * proxy_study, 刷考 exam_brushing, 替考 proxy_exam. Each finding names the rules that fired with
 * their thresholds, the comparison group, a score against a documented operating threshold, the
 * statements that are its evidence, and a short explanation in Chinese and English. The rules,
 * their thresholds and why are in docs/detection.md.
 *
 * State is kept per enrolment (a few hundred bytes), per open video session and attempt (freed
 * when they close or idle out), per device, address and item (cross-account keys), so memory
 * follows active enrolments, not history. Reasoning is on the statements' own clocks (timestamp,
 * received-at), never on arrival time; late statements are merged into a small per-session window
 * sorted by receive time, and a statement id seen before is ignored. Population-relative rules
 * (a platform's own heartbeat cadence, how rare a feature is on that platform) run in sweeps: one
 * per day of statement time and one at mg_detect_flush.
 *
 * Not thread-safe: one engine per thread (partition statements by student to scale out). */
#ifndef MG_DETECT_DETECT_H
#define MG_DETECT_DETECT_H

#include <stddef.h>
#include <stdint.h>

#include "detect/event.h"

typedef enum mg_detect_type {
  MG_DETECT_COURSE_BRUSHING = 0, /* 刷课 */
  MG_DETECT_PROXY_STUDY,         /* 替课 */
  MG_DETECT_EXAM_BRUSHING,       /* 刷考 */
  MG_DETECT_PROXY_EXAM,          /* 替考 */
  MG_DETECT_TYPE_COUNT_
} mg_detect_type;

/* "course_brushing" ...; NULL for an out-of-range value. */
const char *mg_detect_type_name(mg_detect_type t);
/* "刷课" ... */
const char *mg_detect_type_name_zh(mg_detect_type t);
/* Parses a type name; MG_OK or MG_EINVAL. */
int mg_detect_type_parse(const char *s, mg_detect_type *out);

#define MG_DETECT_MAX_EVIDENCE 8

/* One finding. All text is NUL-terminated and owned by the struct (valid during the sink call;
 * copy what you keep). */
typedef struct mg_detect_finding {
  mg_detect_type type;
  double score;              /* sum of the strengths of the rules that fired (each 0–1) */
  double threshold;          /* operating threshold the score crossed */
  char rules[256];           /* fired rules, '+'-joined: "speed_over_cap+concurrent_playback" */
  char thresholds[768];      /* JSON object: rule → {"value": v, "threshold": t, "unit": u} */
  char group[256];           /* comparison groups of the fired rules */
  char registration[64];     /* enrolment UUID as sent */
  char student[128];         /* account name (学号) */
  char university[256];      /* account homePage */
  char course[256];          /* course IRI */
  char platform[64];         /* platform-code */
  uint64_t reg_hash, actor_hash;
  int64_t decisive_ts_us;    /* timestamp of the statement whose rule made the score cross */
  int64_t found_at_us;       /* stream time at emission: latest received-at seen */
  size_t n_evidence;
  uint8_t evidence[MG_DETECT_MAX_EVIDENCE][16]; /* statement ids, decisive first */
  char explain_zh[1536];
  char explain_en[1536];
} mg_detect_finding;

/* Called once per (enrolment, type) when its score first reaches the threshold. Return MG_OK; any
 * other value is passed back from the mg_detect_feed* / flush call that emitted the finding. */
typedef int (*mg_detect_sink)(void *ud, const mg_detect_finding *f);

typedef struct mg_detect_config {
  double threshold;          /* operating threshold on a type's score (default 1.0) */
  int64_t sweep_every_us;    /* statement time between population sweeps (default 24 h) */
  size_t dedupe_generation;  /* statement ids remembered per generation; two are kept (1M) */
  int64_t idle_us;           /* a video session or attempt untouched this long is closed (4 h) */
} mg_detect_config;

void mg_detect_config_defaults(mg_detect_config *c);

typedef struct mg_detect mg_detect;

/* Creates an engine. cfg may be NULL (defaults). The sink may be NULL (findings only counted).
 * MG_OK or MG_ENOMEM; *out owns the engine (mg_detect_free). */
int mg_detect_new(const mg_detect_config *cfg, mg_detect_sink sink, void *ud, mg_detect **out);
void mg_detect_free(mg_detect *d);

/* Feeds one extracted statement. Non-profile statements and repeats of a seen id are ignored. */
int mg_detect_feed(mg_detect *d, const mg_detect_event *ev);
/* Extracts and feeds one statement's JSON text (mg_detect_event_parse); unparsable text is
 * counted and skipped (MG_OK). */
int mg_detect_feed_json(mg_detect *d, const char *json, size_t len);
/* End of input: closes open sessions and attempts and runs a final sweep. Feeding may continue
 * afterwards (a live engine flushes at shutdown only). */
int mg_detect_flush(mg_detect *d);

/* Known answer bank (the monitoring centre's crawl of public answer-bank sites and apps, see
 * docs/profile.md "Known answer banks"): item IRI (the object.id of item-answered statements) and the
 * answer the bank gives, compared with result.response as sent. Load before feeding (answers judged
 * earlier were not compared with it); a repeated item replaces its answer. The 刷考 rules
 * bank_answer_gap and bank_errors_reproduced use it. MG_OK, MG_EINVAL or MG_ENOMEM. */
int mg_detect_bank_add(mg_detect *d, const char *item_iri, size_t item_len, const char *answer,
                       size_t answer_len);

struct mg_store;
/* Adds every item of the store's known-bank registry (store_bank.h) with mg_detect_bank_add;
 * *n (may be NULL): items new to the engine. MG_OK or the store's error. (live.c) */
int mg_detect_bank_load(mg_detect *d, struct mg_store *s, size_t *n);

typedef struct mg_detect_stats {
  uint64_t fed, ignored, duplicates, unparsable, findings;
  uint64_t bank_items;       /* items with a known bank answer (mg_detect_bank_add) */
  uint64_t enrolments, sessions_open, devices, ips, items, actors;
  size_t bytes;              /* memory held by the engine's tables */
  size_t enrol_bytes;        /* sizeof per-enrolment state */
} mg_detect_stats;

void mg_detect_get_stats(const mg_detect *d, mg_detect_stats *out);

/* ---- findings out (findings.c) ---------------------------------------------------------- */

struct mg_store_finding;
/* Fills a store row from a finding (created_us = now_us). */
void mg_detect_finding_to_store(const mg_detect_finding *f, int64_t now_us,
                                struct mg_store_finding *out);
/* Appends the finding as one JSON object (the API's and `detect --json`'s form) to out. */
int mg_detect_finding_json(const mg_detect_finding *f, mg_buf *out);

#endif
