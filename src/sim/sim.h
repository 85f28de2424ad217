/* sim/sim.h — a simulated university term on Chinese credit-course platforms (issue #4).
 *
 * mg_sim_run builds a world (universities, platforms, courses, students, enrolments), lets honest
 * students of several kinds study through a term and injects misconduct of the six families of
 * 教高〔2022〕1号 clause 13 (刷课 as three tool families, 替课, 刷考, 替考). It streams the result
 * as profile-conformant xAPI statements (docs/profile.md) in approximately chronological order
 * (by the platforms' receive time, with late offline syncs, delayed pushes and a few re-posted
 * duplicates), and one ground-truth label per enrolment. Output is a pure function of the config:
 * the same config gives the same bytes. Memory is bounded by a few days of activity plus a small
 * record per enrolment, never by the length of the term. See docs/simulator.md. */
#ifndef MG_SIM_SIM_H
#define MG_SIM_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/* Honest cohorts and the look-alikes that detectors must not flag; MG_SIM_ATTACKED otherwise. */
typedef enum mg_sim_cohort {
  MG_SIM_HONEST = 0,
  MG_SIM_HONEST_NAT,           /* all traffic from the campus NAT address shared by thousands */
  MG_SIM_HONEST_FAST_VIEWER,   /* watches at 1.25x-2x, within the platform's cap */
  MG_SIM_HONEST_CRAMMER,       /* studies in long sessions just before deadlines */
  MG_SIM_HONEST_MULTIDEVICE,   /* phone and laptop, sometimes both open */
  MG_SIM_HONEST_OFFLINE,       /* app offline mode: events synced later in bursts */
  MG_SIM_HONEST_STUDY_GROUP,   /* classmates studying and submitting together */
  MG_SIM_HONEST_DAILY30,       /* habitual 30 minutes a day at the same time */
  MG_SIM_HONEST_STRONG,        /* fast, strong students */
  MG_SIM_ATTACKED,
  MG_SIM_COHORT_COUNT
} mg_sim_cohort;

/* Misconduct families; brush_* = 刷课, proxy_study = 替课, exam_brush = 刷考, proxy_exam = 替考. */
typedef enum mg_sim_family {
  MG_SIM_BRUSH_FORGED = 0, /* forged progress requests */
  MG_SIM_BRUSH_BOT,        /* automated player at or below the cap */
  MG_SIM_BRUSH_OPERATOR,   /* paid service running many accounts */
  MG_SIM_PROXY_STUDY,      /* someone else studies in the account */
  MG_SIM_EXAM_BRUSH,       /* scripted / bank answers */
  MG_SIM_PROXY_EXAM,       /* someone else sits the exam */
  MG_SIM_FAMILY_COUNT
} mg_sim_family;

/* "honest", "honest_nat", ... "attacked"; "brush_forged", ... Static storage; "?" if out of range. */
const char *mg_sim_cohort_name(mg_sim_cohort c);
const char *mg_sim_family_name(mg_sim_family f);
/* The regulation's word for a family: "刷课", "替课", "刷考", "替考". */
const char *mg_sim_family_regulation(mg_sim_family f);
/* Reverse lookups; MG_OK or MG_EINVAL. */
int mg_sim_cohort_parse(const char *s, mg_sim_cohort *out);
int mg_sim_family_parse(const char *s, mg_sim_family *out);

/* Variants: the distinct tool behaviours of each family, named in the labels ("rate_forge",
 * "cron_runner" ...; names are unique across families). Static storage; "?" if out of range. */
#define MG_SIM_MAX_VARIANTS 16
int mg_sim_variant_count(mg_sim_family f);
const char *mg_sim_variant_name(mg_sim_family f, int variant);
/* A variant name to its family and index; MG_OK or MG_EINVAL. */
int mg_sim_variant_parse(const char *s, mg_sim_family *family, int *variant);

typedef struct mg_sim_config {
  uint64_t seed;
  int universities;          /* 1..200 */
  int platforms;             /* 1..12 */
  int courses;               /* course catalogue size across platforms, 1..5000 */
  int students;              /* 1..50,000,000 */
  double enrolments_per_student; /* mean courses a student takes this term, 1..8 */
  int weeks;                 /* term length, 4..30 */
  int64_t term_start_us;     /* first day of the term, local midnight (UTC+8) in epoch us */
  /* Share of enrolments attacked by each family (an attacked enrolment may carry a second
   * family); operator groups are drawn so that about that share of enrolments is in one. */
  double attack_rate[MG_SIM_FAMILY_COUNT];
  /* Share of enrolments in each honest look-alike cohort (index = mg_sim_cohort; entries for
   * MG_SIM_HONEST and MG_SIM_ATTACKED are ignored: plain honest is what remains). */
  double lookalike_rate[MG_SIM_COHORT_COUNT];
  double duplicate_rate;     /* share of statements re-posted later with the same id and bytes */
  double late_push_rate;     /* share of client sessions whose statements the platform pushes late */
  int progress_every_days;   /* sink->progress after every N simulated days (0 = every day) */
  /* Held-out variants: bit v of variants_off[f] excludes variant v of family f. A family whose
   * variants are all excluded gets no misconduct. Set with mg_sim_config_variants. */
  uint32_t variants_off[MG_SIM_FAMILY_COUNT];
} mg_sim_config;

/* Defaults: seed 1, 12 universities, 4 platforms, 60 courses, 5000 students x 2.4 courses (about
 * 12,000 enrolments, ~3 M statements), 16 weeks from 2024-09-02, ~3 % of enrolments attacked. */
void mg_sim_config_default(mg_sim_config *cfg);
/* Applies a variant selection, a comma-separated list of variant or family names:
 * "-name" excludes, "name" or "+name" includes; if any term includes, everything not included
 * is excluded ("cron_runner,exam_farm" = only those two; "-cron_runner,-exam_farm" = all but
 * those; "proxy_exam" = only that family's variants). MG_EINVAL with the unknown name in err. */
int mg_sim_config_variants(mg_sim_config *cfg, const char *spec, char *err, size_t errsize);
/* Checks ranges; on failure returns MG_EINVAL and writes what is wrong into err (may be NULL). */
int mg_sim_config_check(const mg_sim_config *cfg, char *err, size_t errsize);

/* ---- the world (valid during the world callback and until mg_sim_run returns) ------------- */
typedef struct mg_sim_university {
  const char *code;      /* "u10612" */
  const char *name;      /* "江南理工大学" */
  const char *province;  /* "江苏" */
  const char *city;      /* "无锡" */
  const char *home_page; /* identity homePage, e.g. "https://ids.jnlg.edu.cn" */
  const char *nat_ip;    /* the campus NAT address most on-campus traffic leaves from */
} mg_sim_university;

typedef struct mg_sim_platform {
  const char *code;      /* registry code, "cn-zhixing-mooc" */
  const char *name;      /* context.platform, "知行慕课 Zhixing MOOC" */
  const char *home;      /* platform IRI, the object of session statements */
  double max_speed;      /* speed cap (1.25, 1.5, 2) */
  double heartbeat_s;    /* the native client's nominal heartbeat period */
  double completion_threshold;
} mg_sim_platform;

typedef struct mg_sim_video {
  const char *iri;
  const char *title;
  double length;         /* seconds */
  int chapter;           /* 1-based */
} mg_sim_video;

typedef struct mg_sim_item {
  const char *iri;           /* stable across students and attempts */
  const char *stem;          /* object.definition.description */
  const char *interaction;   /* "choice", "true-false", "fill-in", "long-fill-in" */
  const char *correct;       /* correct response ("" for open items) */
  double difficulty;         /* -2 (easy) .. 2 (hard), IRT-like */
  int in_public_bank;        /* the item (with its answer) circulates in public answer banks */
  const char *bank_answer;   /* the answer the banks give (sometimes wrong) */
} mg_sim_item;

typedef struct mg_sim_course {
  const char *iri;
  const char *title;
  const char *offering_iri;   /* this term's run */
  const char *offering_title;
  int platform;               /* index into platforms */
  int chapters;
  const mg_sim_video *videos;
  size_t n_videos;
  const mg_sim_item *items;   /* quiz items first (items_per_quiz per chapter), then the exam's */
  size_t n_items;
  int items_per_quiz;
  int exam_items;
  int64_t exam_start_us;      /* opening of the final exam window */
} mg_sim_course;

typedef struct mg_sim_student {
  const char *name;           /* student number (学号) */
  int university;
} mg_sim_student;

typedef struct mg_sim_enrolment {
  const char *registration;   /* UUID */
  int student;
  int course;                 /* the offering is the course's offering_iri */
} mg_sim_enrolment;          /* (no cohort here: ground truth is only in the labels) */

/* A network in the world's address plan (world.json "networks"): what an address's owner is. */
typedef struct mg_sim_network {
  const char *prefix;    /* "47.92.0.0/14" */
  uint32_t asn;
  const char *org;       /* "Alibaba Cloud (阿里云)" */
  const char *kind;      /* "residential", "mobile", "cernet", "cloud", "vpn" */
  const char *city;      /* for residential and mobile pools; "" otherwise */
} mg_sim_network;

typedef struct mg_sim_world {
  const mg_sim_university *universities;
  size_t n_universities;
  const mg_sim_platform *platforms;
  size_t n_platforms;
  const mg_sim_course *courses;
  size_t n_courses;
  const mg_sim_student *students;
  size_t n_students;
  const mg_sim_enrolment *enrolments;
  size_t n_enrolments;
  int64_t term_start_us;
  int64_t term_end_us;
  const mg_sim_network *networks; /* the address plan every client address comes from */
  size_t n_networks;
} mg_sim_world;

/* ---- labels ---------------------------------------------------------------------------------- */
typedef struct mg_sim_misconduct {
  mg_sim_family family;
  const char *variant;            /* short name of the tool behaviour, e.g. "rate_forge" */
  const char *operator_id;        /* shared by all accounts one operator / worker / farm ran; "" if none */
  char decisive_statement_id[40]; /* the statement after which the misconduct is provable */
  int64_t decisive_us;            /* its timestamp (server receive time), epoch us */
} mg_sim_misconduct;

typedef struct mg_sim_label {
  const char *registration;
  const char *student_home_page;
  const char *student_name;
  const char *university_code;
  const char *platform_code;
  const char *course_iri;
  mg_sim_cohort cohort;
  const mg_sim_misconduct *misconduct; /* n_misconduct entries; none for honest cohorts */
  size_t n_misconduct;
  uint64_t statements;                 /* statements emitted for this enrolment (with duplicates) */
} mg_sim_label;

typedef struct mg_sim_progress {
  int day, days;            /* simulated days done / total */
  uint64_t statements;      /* emitted so far */
  uint64_t enrolments;
} mg_sim_progress;

/* Callbacks; any may be NULL. A non-zero return from world/statement/label stops the run, and
 * mg_sim_run returns that value. json is compact JSON, not NUL-terminated beyond len (it is, in
 * fact, NUL-terminated, but rely on len); it is valid only during the call. */
typedef struct mg_sim_sink {
  void *ud;
  int (*world)(void *ud, const mg_sim_world *w);
  int (*statement)(void *ud, const char *json, size_t len);
  int (*label)(void *ud, const mg_sim_label *l);
  void (*progress)(void *ud, const mg_sim_progress *p);
} mg_sim_sink;

/* Runs the term. Returns MG_OK, MG_EINVAL for a bad config, MG_ENOMEM, or a sink's non-zero
 * return. Labels come after the last statement of the run, one per enrolment, in enrolment order. */
int mg_sim_run(const mg_sim_config *cfg, const mg_sim_sink *sink);

/* The monitoring centre's crawl of the public answer banks (docs/profile.md "Known answer banks"):
 * each auto-graded item that circulates (in_public_bank) is known with probability `known`, drawn
 * from its own stream of (seed, course, item), so a world always gives the same crawl and the
 * behaviour streams are untouched. fn gets the item IRI, the bank's answer (sometimes wrong) and a
 * source name; it never learns who used a bank. A non-zero return from fn stops and is returned. */
#define MG_SIM_BANK_KNOWN 0.7 /* share of the circulating items a crawl finds (eval, simulate) */
typedef int (*mg_sim_bank_fn)(void *ud, const char *item_iri, const char *answer, const char *source);
int mg_sim_bank_crawl(const mg_sim_world *w, uint64_t seed, double known, mg_sim_bank_fn fn, void *ud);

/* Appends one label as a compact JSON object (one labels.ndjson line, without the newline). */
int mg_sim_label_json(const mg_sim_label *l, mg_buf *out);
/* Appends the world as JSON (world.json): universities, platforms, courses with videos and
 * question bank, offerings, students and enrolments. Large for big worlds. */
int mg_sim_world_json(const mg_sim_world *w, mg_buf *out);

#endif
