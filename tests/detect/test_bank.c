/* 刷考 with a known answer bank (bank_answer_gap, bank_errors_reproduced in src/detect/personfit.c).
 *
 * A class of 240 students answers four 12-item quizzes. Four items in five circulate in a public
 * answer bank, which is wrong on some of them (it gives "b" where "a" is right); the monitoring
 * centre's crawl knows most, not all, of the circulating items (mg_detect_bank_add). Honest answers
 * follow each student's ability against each item's difficulty (right with probability
 * σ(1.7(ability − difficulty) + 0.8)); honest wrong answers are b, c or d alike; honest times
 * follow the item. Against that population:
 *  - a bank user whose time looks honest (it imitates reading) is found by the bank rules alone:
 *    right on the known bank items whatever their difficulty, near chance on the others, and the
 *    bank's own wrong answers reproduced;
 *  - without the crawl the same user is not found by them (the rules need the known bank);
 * and the honest look-alikes stay clean: a strong student right on nearly everything (bank or
 * not), a weak student, and a student whose few errors are exactly the bank's wrong answers
 * (a shared misconception, on three items). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/err.h"
#include "seq.h"

#define NSTUD 240
#define NQUIZ 4
#define NITEM 12
#define NALL (NQUIZ * NITEM)

#define COLLECT_CAP 256
#include "collect.h"

#include "rng.h"

static void item_iri(char *out, size_t size, int k) { snprintf(out, size, "https://mooc.example.cn/item/bk%d", k); }

static void answer(seq *q, const who *w, const char *att, int k, int64_t t, double dur, int ok, const char *resp) {
  char res[200], ext[200], oid[128];
  snprintf(res, sizeof res, "\"response\":\"%s\",\"success\":%s,\"duration\":\"PT%.1fS\"", resp,
           ok ? "true" : "false", dur);
  snprintf(ext, sizeof ext, "\"" X "attempt-id\":\"%s\",\"" X "assessment-kind\":\"quiz\"", att);
  item_iri(oid, sizeof oid, k);
  st(q, w, V_ANSWERED, T_ITEM, oid, t, t + 100,
     "\"interactionType\":\"choice\",\"description\":{\"zh-CN\":\"下列哪一项描述是正确的？\"}", res, ext);
}

static void submit(seq *q, const who *w, const char *att, int quiz, int64_t t) {
  char ext[200], oid[128];
  snprintf(ext, sizeof ext, "\"" X "attempt-id\":\"%s\",\"" X "assessment-kind\":\"quiz\"", att);
  snprintf(oid, sizeof oid, "https://mooc.example.cn/quiz/bq%d", quiz);
  st(q, w, V_COMPLETED, T_ASSESS, oid, t, t + 100, NULL, "\"completion\":true,\"duration\":\"PT10M\"", ext);
}

/* the item's difficulty, spread from easy to hard and interleaved over the quizzes */
static double difficulty(int k) { return -1.6 + 3.2 * ((k * 7) % NALL) / (NALL - 1.0); }
static int circulates(int k) { return k % 5 != 2; }
static int bank_wrong(int k) { return circulates(k) && k % 8 == 3; } /* the bank says "b"; "a" is right */
static int crawled(int k) { return circulates(k) && k % 10 != 9; }  /* the centre knows most of them */

typedef enum style { HONEST, BANK, STRONG, WEAK, MISCONCEPTION } style;

static void student(seq *q, int n, style sty, double ability, uint64_t *rs) {
  who w;
  char dev[32];
  snprintf(dev, sizeof dev, "dev-bk-%d", n);
  who_init(&w, 7000 + n, dev, "10.78.0.1", NULL);
  static const char *const wrong[] = {"b", "c", "d"};
  for (int quiz = 0; quiz < NQUIZ; quiz++) {
    int64_t t = T0 + quiz * 7LL * 86400000 + n * 60000LL;
    char att[32];
    snprintf(att, sizeof att, "att-bk-%d-%d", n, quiz);
    for (int i = 0; i < NITEM; i++) {
      int k = quiz * NITEM + i;
      double d = difficulty(k);
      double p = 1 / (1 + exp(-(1.7 * (ability - d) + 0.8)));
      double dur = 20 * exp(0.35 * d) * exp(0.45 * normal(rs)); /* honest: follows the item */
      int ok = rnd(rs) < p;
      const char *resp = ok ? "a" : wrong[(int)(rnd(rs) * 3) % 3];
      switch (sty) {
        case BANK: /* the bank's answer where the item circulates; a guess elsewhere */
          if (circulates(k)) ok = !bank_wrong(k), resp = ok ? "a" : "b";
          else ok = rnd(rs) < 0.3, resp = ok ? "a" : wrong[(int)(rnd(rs) * 3) % 3];
          break;
        case STRONG: /* right on everything but two hard items */
          ok = k != 5 && k != 41, resp = ok ? "a" : "c";
          break;
        case MISCONCEPTION: /* right on everything but three items where the bank is wrong too */
          ok = !(k == 3 || k == 11 || k == 19), resp = ok ? "a" : "b";
          break;
        default: break;
      }
      answer(q, &w, att, k, t + i * 40000, dur, ok, resp);
    }
    submit(q, &w, att, quiz, t + NITEM * 40000 + 1000);
  }
}

static void person(char *out, size_t size, int n) { snprintf(out, size, "2023%06d", 7000 + n); }

static void crawl(mg_detect *d) {
  for (int k = 0; k < NALL; k++) {
    if (!crawled(k)) continue;
    char iri[128];
    item_iri(iri, sizeof iri, k);
    const char *ans = bank_wrong(k) ? "b" : "a";
    assert_int_equal(mg_detect_bank_add(d, iri, strlen(iri), ans, strlen(ans)), MG_OK);
  }
  mg_detect_stats st_;
  mg_detect_get_stats(d, &st_);
  int known = 0;
  for (int k = 0; k < NALL; k++) known += crawled(k);
  assert_int_equal((int)st_.bank_items, known);
}

/* Runs the class; with_bank: the crawl is loaded first. */
static void run(got *g, int with_bank) {
  mg_detect *d = engine(g);
  if (with_bank) crawl(d);
  seq q = {.d = d};
  uint64_t rs = 4242;
  style sty[NSTUD];
  double ab[NSTUD];
  for (int n = 0; n < NSTUD; n++) sty[n] = HONEST, ab[n] = normal(&rs) * 0.8;
  sty[0] = BANK, ab[0] = 0;
  sty[1] = BANK, ab[1] = -0.8;
  sty[2] = STRONG, ab[2] = 2.5;
  sty[3] = WEAK, ab[3] = -1.8;
  sty[4] = MISCONCEPTION, ab[4] = 0.5;
  for (int n = NSTUD - 1; n >= 0; n--) student(&q, n, sty[n], ab[n], &rs);
  assert_int_equal(mg_detect_flush(d), MG_OK);
  mg_detect_free(d);
  seq_free(&q);
}

static void bank_user_found_lookalikes_clean(void **state) {
  (void)state;
  static got g;
  run(&g, 1);
  char s[32];
  for (int n = 0; n <= 1; n++) {
    person(s, sizeof s, n);
    const mg_detect_finding *f = must_find(&g, s, MG_DETECT_EXAM_BRUSHING);
    assert_non_null(strstr(f->rules, "bank_answer_gap"));
    if (!strstr(f->rules, "bank_errors_reproduced")) fail_msg("%s: %s / %s", f->rules, f->thresholds, f->explain_en);
    assert_null(strstr(f->rules, "person_misfit")); /* the time looks honest: not the pair rule */
    assert_true(f->score >= 1.0);
    assert_true(f->n_evidence >= 1);
    assert_non_null(strstr(f->thresholds, "\"bank_answer_gap\""));
    assert_non_null(strstr(f->explain_zh, "已知题库题"));
    assert_non_null(strstr(f->explain_zh, "照抄题库错误答案"));
    assert_non_null(strstr(f->explain_en, "known-bank items right"));
    assert_non_null(strstr(f->explain_en, "expected from honest errors"));
    assert_non_null(strstr(f->group, "same difficulty"));
  }
  for (int n = 2; n <= 4; n++) {
    person(s, sizeof s, n);
    if (find(&g, s, MG_DETECT_EXAM_BRUSHING)) fail_msg("look-alike %d flagged", n);
  }
  int honest_flagged = 0;
  for (int n = 5; n < NSTUD; n++) {
    person(s, sizeof s, n);
    honest_flagged += find(&g, s, MG_DETECT_EXAM_BRUSHING) != NULL;
  }
  assert_int_equal(honest_flagged, 0);
}

/* The rules judge against the known bank only: without the crawl the same user is not found by
 * them (and the bank rules never fire). */
static void without_crawl_not_found(void **state) {
  (void)state;
  static got g;
  run(&g, 0);
  char s[32];
  person(s, sizeof s, 0);
  const mg_detect_finding *f = find(&g, s, MG_DETECT_EXAM_BRUSHING);
  assert_true(!f || !strstr(f->rules, "bank_"));
  for (int i = 0; i < g.n && i < COLLECT_CAP; i++) assert_null(strstr(g.f[i].rules, "bank_"));
}

static void bank_add_checks_arguments(void **state) {
  (void)state;
  got g;
  mg_detect *d = engine(&g);
  assert_int_equal(mg_detect_bank_add(d, NULL, 0, "a", 1), MG_EINVAL);
  assert_int_equal(mg_detect_bank_add(d, "https://x/item/1", 16, NULL, 0), MG_EINVAL);
  assert_int_equal(mg_detect_bank_add(d, "https://x/item/1", 16, "a", 1), MG_OK);
  assert_int_equal(mg_detect_bank_add(d, "https://x/item/1", 16, "b", 1), MG_OK); /* replaces */
  mg_detect_stats st_;
  mg_detect_get_stats(d, &st_);
  assert_int_equal((int)st_.bank_items, 1);
  mg_detect_free(d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(bank_user_found_lookalikes_clean),
      cmocka_unit_test(without_crawl_not_found),
      cmocka_unit_test(bank_add_checks_arguments),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
