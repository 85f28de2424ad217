/* 刷考 person fit and item-time fit (src/detect/personfit.c) on hand-made sequences.
 *
 * A class of 240 students answers three 12-item quizzes. Honest answers follow each student's
 * ability against each item's difficulty (right with probability σ(1.7(ability − difficulty) + 0.8))
 * and honest times follow the item (harder items take longer). Against that population:
 *  - an answer-bank user (right on the items that circulate, whatever their difficulty, wrong on
 *    the rest; about the same lookup time on every item) is found with person_misfit and
 *    time_ignores_item;
 *  - a search user (right on almost every item, the errors on easy items, flat time) is found;
 *  - an OCR/search tool (mostly right, errors at random, one quick lookup per item: a third of the
 *    usual time, whatever the item) is found by course_fast_flat,
 *    while a very fast strong student (a third of the usual time, but following the item) is not;
 * and the closest honest look-alikes stay clean: fast strong students (time still follows the
 * item), a study group whose members share answers on half the items (misfit, honest time), a
 * weak student who guesses fast (flat time, but no better than everyone on the hard items), and
 * a crammer (lower ability, honest time). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/err.h"
#include "seq.h"

#define NSTUD 240
#define NQUIZ 3
#define NITEM 12

#define COLLECT_CAP 256
#include "collect.h"

#include "rng.h"

static void answer(seq *q, const who *w, const char *att, const char *item, int64_t t, double dur, int ok,
                   const char *resp) {
  char res[200], ext[200], oid[128];
  snprintf(res, sizeof res, "\"response\":\"%s\",\"success\":%s,\"duration\":\"PT%.1fS\"", resp,
           ok ? "true" : "false", dur);
  snprintf(ext, sizeof ext, "\"" X "attempt-id\":\"%s\",\"" X "assessment-kind\":\"quiz\"", att);
  snprintf(oid, sizeof oid, "https://mooc.example.cn/item/%s", item);
  st(q, w, V_ANSWERED, T_ITEM, oid, t, t + 100,
     "\"interactionType\":\"choice\",\"description\":{\"zh-CN\":\"下列哪一项描述是正确的？\"}", res, ext);
}

static void submit(seq *q, const who *w, const char *att, const char *assess, int64_t t) {
  char ext[200], oid[128];
  snprintf(ext, sizeof ext, "\"" X "attempt-id\":\"%s\",\"" X "assessment-kind\":\"quiz\"", att);
  snprintf(oid, sizeof oid, "https://mooc.example.cn/quiz/%s", assess);
  st(q, w, V_COMPLETED, T_ASSESS, oid, t, t + 100, NULL, "\"completion\":true,\"duration\":\"PT10M\"", ext);
}

typedef enum style {
  HONEST, STRONG_FAST, STUDY_GROUP, GUESSER, CRAMMER, BANK, SEARCH, OCR, VERY_FAST
} style;

static double difficulty(int quiz, int i) {
  /* spread from easy to hard, interleaved so that every quiz has both */
  int k = quiz * NITEM + i;
  return -1.6 + 3.2 * ((k * 7) % (NQUIZ * NITEM)) / (NQUIZ * NITEM - 1.0);
}

/* One student's three quizzes, one a week. */
static void student(seq *q, int n, style sty, double ability, uint64_t *rs) {
  who w;
  char dev[32];
  snprintf(dev, sizeof dev, "dev-pf-%d", n);
  who_init(&w, 5000 + n, dev, "10.77.0.1", NULL);
  for (int quiz = 0; quiz < NQUIZ; quiz++) {
    int64_t t = T0 + quiz * 7LL * 86400000 + n * 60000LL;
    char att[32], assess[16];
    snprintf(att, sizeof att, "att-pf-%d-%d", n, quiz);
    snprintf(assess, sizeof assess, "pfq%d", quiz);
    for (int i = 0; i < NITEM; i++) {
      double d = difficulty(quiz, i);
      int k = quiz * NITEM + i;
      char item[16];
      snprintf(item, sizeof item, "pf%d", k);
      double p = 1 / (1 + exp(-(1.7 * (ability - d) + 0.8)));
      double usual = 20 * exp(0.35 * d); /* harder items take longer */
      double dur = usual * exp(0.45 * normal(rs));
      int ok = rnd(rs) < p;
      const char *resp = ok ? "a" : (rnd(rs) < 0.5 ? "b" : "c");
      switch (sty) {
        case STRONG_FAST: dur *= 0.5; break;
        case STUDY_GROUP:
          /* half the items come from the group's shared sheet: right 80 % whatever the item */
          if (k % 2 == 0) ok = ((k * 37 + n / 4) % 10) < 8, resp = ok ? "a" : "b";
          break;
        case GUESSER: dur = 4 + 2 * rnd(rs), ok = rnd(rs) < 0.25, resp = ok ? "a" : "b"; break;
        case CRAMMER: break;
        case BANK: /* the items that circulate (4 in 5, any difficulty) right; lookup time */
          ok = ((k * 7) % (NQUIZ * NITEM)) % 5 != 2 ? 1 : rnd(rs) < 0.3; /* misses spread over difficulty */
          resp = ok ? "a" : "b";
          dur = 6 + 19 * rnd(rs);
          break;
        case OCR: /* a screenshot-and-search tool: mostly right, errors at random, one quick lookup per item */
          ok = rnd(rs) < 0.88;
          resp = ok ? "a" : "b";
          dur = 5 + 5 * rnd(rs);
          break;
        case VERY_FAST: dur *= 0.3; break; /* a third of everyone's time, still following the item */
        case SEARCH: /* right nearly always; its few errors fall anywhere */
          ok = (k * 11) % 9 != 4;
          resp = ok ? "a" : "b";
          dur = 7 + 9 * rnd(rs);
          break;
        default: break;
      }
      answer(q, &w, att, item, t + i * 40000, dur, ok, resp);
    }
    submit(q, &w, att, assess, t + NITEM * 40000 + 1000);
  }
}

static void person(char *out, size_t size, int n) { snprintf(out, size, "2023%06d", 5000 + n); }

static void bank_and_search_found_lookalikes_clean(void **state) {
  (void)state;
  got g;
  memset(&g, 0, sizeof g);
  mg_detect *d;
  assert_int_equal(mg_detect_new(NULL, sink, &g, &d), MG_OK);
  seq q = {.d = d};
  uint64_t rs = 12345;
  /* students 0..9 are the ones judged below; the rest is the honest population */
  style who_is[NSTUD];
  double ab[NSTUD];
  for (int n = 0; n < NSTUD; n++) {
    who_is[n] = HONEST;
    ab[n] = normal(&rs) * 0.8;
  }
  who_is[0] = BANK, ab[0] = 0;
  who_is[1] = BANK, ab[1] = -0.5;
  who_is[2] = SEARCH, ab[2] = 0;
  who_is[3] = STRONG_FAST, ab[3] = 2.0;
  who_is[4] = STRONG_FAST, ab[4] = 1.5;
  for (int n = 5; n < 9; n++) who_is[n] = STUDY_GROUP, ab[n] = 0.3;
  who_is[9] = GUESSER, ab[9] = -1;
  who_is[10] = CRAMMER, ab[10] = -0.8;
  who_is[11] = OCR, ab[11] = -0.5;
  who_is[12] = VERY_FAST, ab[12] = 1.8;
  /* interleave: the population answers around the judged students */
  for (int n = NSTUD - 1; n >= 0; n--) student(&q, n, who_is[n], ab[n], &rs);
  assert_int_equal(mg_detect_flush(d), MG_OK);
  char s[32];
  for (int n = 0; n <= 2; n++) {
    person(s, sizeof s, n);
    const mg_detect_finding *f = find(&g, s, MG_DETECT_EXAM_BRUSHING);
    if (!f) {
      fail_msg("bank/search user %d not found", n);
      abort();
    }
    assert_non_null(strstr(f->rules, "person_misfit"));
    assert_non_null(strstr(f->rules, "time_ignores_item"));
    assert_true(f->score >= 1.0);
    assert_true(f->n_evidence >= 1);
    assert_non_null(strstr(f->thresholds, "\"person_misfit\""));
    assert_non_null(strstr(f->explain_zh, "难题"));
    /* the evidence names the items and their population p-values */
    assert_non_null(strstr(f->explain_zh, "答对的难题 pf"));
    assert_non_null(strstr(f->explain_zh, "全体通过率"));
    assert_non_null(strstr(f->explain_en, "easy items answered wrong pf"));
    assert_non_null(strstr(f->explain_en, "one-sided probability"));
  }
  for (int n = 3; n <= 10; n++) {
    person(s, sizeof s, n);
    const mg_detect_finding *fl = find(&g, s, MG_DETECT_EXAM_BRUSHING);
    if (fl) fail_msg("look-alike %d (style %d) flagged: %s", n, (int)who_is[n], fl->rules);
  }
  /* fast and flat: everything in a third of the usual time, mostly right, time unlike the item */
  person(s, sizeof s, 11);
  const mg_detect_finding *fo = find(&g, s, MG_DETECT_EXAM_BRUSHING);
  if (!fo) fail_msg("OCR/search user not found");
  assert_non_null(strstr(fo->rules, "course_fast_flat"));
  assert_non_null(strstr(fo->thresholds, "\"course_fast_flat\""));
  /* the evidence gives the course-wide pace, the accuracy and the time z */
  assert_non_null(strstr(fo->explain_zh, "道计时题的用时为其他学生同题常规用时的"));
  assert_non_null(strstr(fo->explain_en, "time against each item's usual time z"));
  person(s, sizeof s, 12);
  if (find(&g, s, MG_DETECT_EXAM_BRUSHING)) fail_msg("very fast strong student (time follows the item) flagged");
  /* and the honest population */
  int honest_flagged = 0;
  for (int n = 13; n < NSTUD; n++) {
    person(s, sizeof s, n);
    honest_flagged += find(&g, s, MG_DETECT_EXAM_BRUSHING) != NULL;
  }
  assert_int_equal(honest_flagged, 0);
  mg_detect_free(d);
  seq_free(&q);
}

/* Too small a population (fewer than 200 judged enrolments, items with fewer than 20 answers):
 * the same bank pattern is not judged at all, rather than against noise. */
static void small_population_not_judged(void **state) {
  (void)state;
  got g;
  memset(&g, 0, sizeof g);
  mg_detect *d;
  assert_int_equal(mg_detect_new(NULL, sink, &g, &d), MG_OK);
  seq q = {.d = d};
  uint64_t rs = 777;
  for (int n = 60; n >= 0; n--) student(&q, n, n == 0 ? BANK : HONEST, n == 0 ? 0 : normal(&rs) * 0.8, &rs);
  assert_int_equal(mg_detect_flush(d), MG_OK);
  char s[32];
  person(s, sizeof s, 0);
  const mg_detect_finding *f = find(&g, s, MG_DETECT_EXAM_BRUSHING);
  assert_true(!f || !strstr(f->rules, "person_misfit"));
  mg_detect_free(d);
  seq_free(&q);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(bank_and_search_found_lookalikes_clean),
      cmocka_unit_test(small_population_not_judged),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
