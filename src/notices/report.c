/* notices/report.c — the periodic report (通报) and the flagged-students list. */
#include "notices/report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/err.h"
#include "core/json.h"
#include "core/time.h"
#include "store/store_cases.h"

/* One organisation's counts in the current (0) and previous (1) period. */
typedef struct tally {
  int64_t id;
  int64_t flagged[2], verified[2];
  mg_report_org info[2];
  int ranked;
  double rate[2], vrate[2];
} tally;

typedef struct tallies {
  tally *v;
  size_t n, cap;
} tallies;

typedef struct collect {
  tallies *univ, *plat;
  int period;
} collect;

static int tally_add(tallies *t, int64_t id, int period, int64_t flagged, int64_t verified) {
  if (t->n == t->cap) {
    size_t cap = t->cap ? t->cap * 2 : 64;
    tally *v = realloc(t->v, cap * sizeof *v);
    if (!v) return MG_ENOMEM;
    t->v = v;
    t->cap = cap;
  }
  tally *x = &t->v[t->n++];
  memset(x, 0, sizeof *x);
  x->id = id;
  x->flagged[period] = flagged;
  x->verified[period] = verified;
  return MG_OK;
}

static int count_row(void *ud, const mg_store_case_count *c) {
  collect *k = ud;
  /* flagged_students is distinct per (university, platform): a student flagged on two platforms
   * counts once for each, which is what each platform's rate should see. */
  int rc = tally_add(k->univ, c->university_id, k->period, c->flagged_students, c->verified_students);
  if (!rc && c->platform_id > 0)
    rc = tally_add(k->plat, c->platform_id, k->period, c->flagged_students, c->verified_students);
  return rc;
}

static int by_id(const void *a, const void *b) {
  const tally *x = a, *y = b;
  return x->id < y->id ? -1 : x->id > y->id;
}

/* Sorts by id and folds rows of the same organisation together. */
static void fold(tallies *t) {
  if (!t->n) return;
  if (t->n > 1) qsort(t->v, t->n, sizeof *t->v, by_id); /* v may be NULL when empty */
  size_t w = 0;
  for (size_t r = 1; r < t->n; r++) {
    if (t->v[r].id == t->v[w].id) {
      for (int p = 0; p < 2; p++) {
        t->v[w].flagged[p] += t->v[r].flagged[p];
        t->v[w].verified[p] += t->v[r].verified[p];
      }
    } else {
      t->v[++w] = t->v[r];
    }
  }
  t->n = w + 1;
}

static double per1000(int64_t n, int64_t enrol) {
  return enrol > 0 ? (double)n * 1000.0 / (double)enrol : 0.0;
}

static int by_rate(const void *a, const void *b) {
  const tally *x = a, *y = b;
  if (x->ranked != y->ranked) return y->ranked - x->ranked;
  if (x->rate[0] != y->rate[0]) return x->rate[0] > y->rate[0] ? -1 : 1;
  if (x->vrate[0] != y->vrate[0]) return x->vrate[0] > y->vrate[0] ? -1 : 1;
  return x->id < y->id ? -1 : x->id > y->id;
}

/* Rates are rounded to 0.01 per 1,000: the report is read by people. */
static int add_rate(mg_buf *b, const char *key, double v) {
  return mg_buf_addf(b, "\"%s\":%.2f", key, v);
}

static int json_str(mg_buf *b, const char *s) {
  int rc = mg_buf_addc(b, '"');
  if (!rc) rc = mg_buf_add_json_str(b, s, strlen(s));
  if (!rc) rc = mg_buf_addc(b, '"');
  return rc;
}

static int section(mg_buf *b, const char *name, tallies *t, int is_platform,
                   const mg_report_params *p, mg_report_org_fn org, void *ud) {
  int64_t len = p->to_us - p->from_us;
  size_t keep = 0;
  for (size_t i = 0; i < t->n; i++) {
    tally *x = &t->v[i];
    int rc = org(ud, is_platform, x->id, p->from_us, p->to_us, &x->info[0]);
    if (!rc) rc = org(ud, is_platform, x->id, p->from_us - len, p->from_us, &x->info[1]);
    if (rc) return rc;
    if (!is_platform && p->province && strcmp(x->info[0].province, p->province)) continue;
    if (x->flagged[0] == 0 && x->verified[0] == 0) continue; /* only in the previous period */
    for (int q = 0; q < 2; q++) {
      x->rate[q] = per1000(x->flagged[q], x->info[q].enrolments);
      x->vrate[q] = per1000(x->verified[q], x->info[q].enrolments);
    }
    x->ranked = x->info[0].enrolments >= p->min_enrolments && x->info[0].enrolments > 0;
    t->v[keep++] = *x;
  }
  t->n = keep;
  if (t->n > 1) qsort(t->v, t->n, sizeof *t->v, by_rate);
  int rc = mg_buf_addf(b, ",\"%s\":[", name);
  for (size_t i = 0; !rc && i < t->n; i++) {
    tally *x = &t->v[i];
    rc = mg_buf_addf(b, "%s{\"rank\":", i ? "," : "");
    if (!rc) rc = x->ranked ? mg_buf_addf(b, "%zu", i + 1) : mg_buf_adds(b, "null");
    if (!rc) rc = mg_buf_addf(b, ",\"id\":%lld,\"name\":", (long long)x->id);
    if (!rc) rc = json_str(b, x->info[0].name);
    if (!rc) rc = mg_buf_adds(b, ",\"province\":");
    if (!rc) rc = json_str(b, x->info[0].province);
    if (!rc) rc = mg_buf_addf(b, ",\"enrolments\":%lld,\"flagged_students\":%lld,"
                                 "\"verified_students\":%lld,",
                              (long long)x->info[0].enrolments, (long long)x->flagged[0],
                              (long long)x->verified[0]);
    if (!rc) rc = add_rate(b, "flagged_per_1000", x->rate[0]);
    if (!rc) rc = mg_buf_addc(b, ',');
    if (!rc) rc = add_rate(b, "verified_per_1000", x->vrate[0]);
    if (!rc) rc = mg_buf_addf(b, ",\"previous\":{\"enrolments\":%lld,\"flagged_students\":%lld,"
                                 "\"verified_students\":%lld,",
                              (long long)x->info[1].enrolments, (long long)x->flagged[1],
                              (long long)x->verified[1]);
    if (!rc) rc = add_rate(b, "flagged_per_1000", x->rate[1]);
    if (!rc) rc = mg_buf_addc(b, ',');
    if (!rc) rc = add_rate(b, "verified_per_1000", x->vrate[1]);
    /* Trend of the flagged rate; "new" when there is nothing to compare with. */
    const char *trend = "flat";
    double change = x->rate[0] - x->rate[1];
    if (x->info[1].enrolments <= 0 || (x->flagged[1] == 0 && x->verified[1] == 0)) trend = "new";
    else if (change > 0.005) trend = "up";
    else if (change < -0.005) trend = "down";
    if (!rc) rc = mg_buf_addf(b, "},\"trend\":\"%s\",", trend);
    if (!rc) rc = add_rate(b, "change_per_1000", !strcmp(trend, "new") ? 0.0 : change);
    if (!rc) rc = mg_buf_addc(b, '}');
  }
  if (!rc) rc = mg_buf_addc(b, ']');
  return rc;
}

int mg_notices_report_json(mg_store *s, const mg_report_params *p, mg_report_org_fn org, void *ud,
                           mg_buf *out) {
  if (!s || !p || !org || !out || p->to_us <= p->from_us || p->min_enrolments < 0)
    return MG_EINVAL;
  int64_t len = p->to_us - p->from_us;
  tallies univ = {0}, plat = {0};
  collect k = {&univ, &plat, 0};
  int rc = mg_store_case_counts(s, p->from_us, p->to_us, count_row, &k);
  k.period = 1;
  if (!rc) rc = mg_store_case_counts(s, p->from_us - len, p->from_us, count_row, &k);
  if (rc) goto out;
  fold(&univ);
  fold(&plat);
  char from[MG_TIME_ISO_LEN], to[MG_TIME_ISO_LEN], pfrom[MG_TIME_ISO_LEN], gen[MG_TIME_ISO_LEN];
  mg_time_format_iso(p->from_us, 3, from);
  mg_time_format_iso(p->to_us, 3, to);
  mg_time_format_iso(p->from_us - len, 3, pfrom);
  mg_time_format_iso(p->generated_us ? p->generated_us : mg_time_now_us(), 3, gen);
  rc = mg_buf_addf(out,
                   "{\"format\":\"moocguard.report.v1\",\"title\":\"高校在线开放课程异常学习行为通报\","
                   "\"title_en\":\"Report on abnormal learning behaviour in credit-bearing online "
                   "courses\",\"period\":{\"from\":\"%s\",\"to\":\"%s\"},"
                   "\"previous_period\":{\"from\":\"%s\",\"to\":\"%s\"},\"generated_at\":\"%s\","
                   "\"min_enrolments\":%lld,\"province\":",
                   from, to, pfrom, from, gen, (long long)p->min_enrolments);
  if (!rc) rc = p->province ? json_str(out, p->province) : mg_buf_adds(out, "null");
  if (!rc)
    rc = mg_buf_adds(out, ",\"basis\":\"flagged: students with an item in the university's inbox "
                          "received in the period; verified: students with a case verified in "
                          "the period and not overturned on appeal; rates per 1,000 enrolments; "
                          "organisations below min_enrolments are listed without a rank\"");
  if (!rc) rc = section(out, "universities", &univ, 0, p, org, ud);
  if (!rc) rc = section(out, "platforms", &plat, 1, p, org, ud);
  if (!rc) rc = mg_buf_addc(out, '}');
out:
  free(univ.v);
  free(plat.v);
  return rc;
}

/* ---- HTML -------------------------------------------------------------------------------- */

static int html_text(mg_buf *b, const char *s) {
  int rc = MG_OK;
  for (const char *p = s ? s : ""; !rc && *p; p++) {
    switch (*p) {
      case '<': rc = mg_buf_adds(b, "&lt;"); break;
      case '>': rc = mg_buf_adds(b, "&gt;"); break;
      case '&': rc = mg_buf_adds(b, "&amp;"); break;
      case '"': rc = mg_buf_adds(b, "&quot;"); break;
      case '\'': rc = mg_buf_adds(b, "&#39;"); break;
      default: rc = mg_buf_addc(b, *p);
    }
  }
  return rc;
}

static const char *jstr(const mg_json *o, const char *k) {
  const char *v = mg_json_string_value(mg_json_object_get(o, k));
  return v ? v : "";
}

/* A number member as written in the JSON (so rates print exactly as reported). */
static int html_num(mg_buf *b, const mg_json *o, const char *k) {
  const mg_json *v = mg_json_object_get(o, k);
  if (mg_json_is_number(v)) return mg_buf_add(b, v->u.num.text, v->u.num.text_len);
  return mg_buf_adds(b, "—");
}

static const char *trend_mark(const char *t) {
  if (!strcmp(t, "up")) return "↑ 上升 up";
  if (!strcmp(t, "down")) return "↓ 下降 down";
  if (!strcmp(t, "flat")) return "→ 持平 flat";
  return "新出现 new";
}

static int html_table(mg_buf *b, const mg_json *rows, const char *zh, const char *en) {
  int rc = mg_buf_adds(b, "<h2>");
  if (!rc) rc = html_text(b, zh);
  if (!rc) rc = mg_buf_adds(b, " <small>");
  if (!rc) rc = html_text(b, en);
  if (!rc) rc = mg_buf_adds(b,
      "</small></h2>\n<table>\n<thead><tr><th>排名<br><small>Rank</small></th>"
      "<th>名称<br><small>Name</small></th><th>省份<br><small>Province</small></th>"
      "<th>选课人次<br><small>Enrolments</small></th><th>异常学生<br><small>Flagged</small></th>"
      "<th>每千人异常<br><small>Flagged ‰</small></th><th>查实学生<br><small>Verified</small></th>"
      "<th>每千人查实<br><small>Verified ‰</small></th><th>上期每千人异常<br><small>Previous ‰</small></th>"
      "<th>趋势<br><small>Trend</small></th></tr></thead>\n<tbody>\n");
  if (!rc && mg_json_array_size(rows) == 0)
    rc = mg_buf_adds(b, "<tr><td colspan=\"10\">本期无异常 / none this period</td></tr>\n");
  size_t i;
  mg_json *r;
  mg_json_array_foreach(rows, i, r) {
    if (rc) break;
    const mg_json *rank = mg_json_object_get(r, "rank");
    const mg_json *prev = mg_json_object_get(r, "previous");
    rc = mg_buf_adds(b, "<tr><td>");
    if (!rc) rc = mg_json_is_integer(rank) ? html_num(b, r, "rank") : mg_buf_adds(b, "—");
    if (!rc) rc = mg_buf_addf(b, "</td><td>");
    if (!rc) rc = html_text(b, jstr(r, "name")[0] ? jstr(r, "name") : "");
    if (!rc) rc = mg_buf_addf(b, " <small>#%lld</small></td><td>",
                              (long long)mg_json_integer_value(mg_json_object_get(r, "id")));
    if (!rc) rc = html_text(b, jstr(r, "province"));
    if (!rc) rc = mg_buf_adds(b, "</td><td>");
    if (!rc) rc = html_num(b, r, "enrolments");
    if (!rc) rc = mg_buf_adds(b, "</td><td>");
    if (!rc) rc = html_num(b, r, "flagged_students");
    if (!rc) rc = mg_buf_adds(b, "</td><td>");
    if (!rc) rc = html_num(b, r, "flagged_per_1000");
    if (!rc) rc = mg_buf_adds(b, "</td><td>");
    if (!rc) rc = html_num(b, r, "verified_students");
    if (!rc) rc = mg_buf_adds(b, "</td><td>");
    if (!rc) rc = html_num(b, r, "verified_per_1000");
    if (!rc) rc = mg_buf_adds(b, "</td><td>");
    if (!rc) rc = html_num(b, prev, "flagged_per_1000");
    if (!rc) rc = mg_buf_adds(b, "</td><td>");
    if (!rc) rc = html_text(b, trend_mark(jstr(r, "trend")));
    if (!rc) rc = mg_buf_adds(b, "</td></tr>\n");
  }
  if (!rc) rc = mg_buf_adds(b, "</tbody>\n</table>\n");
  return rc;
}

int mg_notices_report_html(const char *json, size_t len, mg_buf *out) {
  if (!json || !out) return MG_EINVAL;
  mg_arena a;
  mg_arena_init(&a, 0, 64u << 20);
  int rc = MG_OK;
  mg_json *r = mg_json_parse(&a, json, len, 0, NULL);
  if (!r || strcmp(jstr(r, "format"), "moocguard.report.v1")) {
    rc = MG_EINVAL;
    goto out;
  }
  const mg_json *period = mg_json_object_get(r, "period");
  rc = mg_buf_adds(out,
                   "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n<title>");
  if (!rc) rc = html_text(out, jstr(r, "title"));
  if (!rc)
    rc = mg_buf_adds(out,
        "</title>\n<style>\nbody{font-family:\"Noto Serif CJK SC\",\"Songti SC\",serif;margin:2cm;}"
        "h1{text-align:center;font-size:20pt}h2{font-size:14pt;margin-top:1.5em}"
        "table{border-collapse:collapse;width:100%;font-size:10pt}"
        "th,td{border:1px solid #333;padding:4px 6px;text-align:right}"
        "td:nth-child(2),td:nth-child(3),td:nth-child(10){text-align:left}"
        "small{color:#555}.meta{text-align:center}"
        "@media print{body{margin:1cm}thead{display:table-header-group}tr{page-break-inside:avoid}}"
        "\n</style>\n</head>\n<body>\n<h1>");
  if (!rc) rc = html_text(out, jstr(r, "title"));
  if (!rc) rc = mg_buf_adds(out, "<br><small>");
  if (!rc) rc = html_text(out, jstr(r, "title_en"));
  if (!rc) rc = mg_buf_adds(out, "</small></h1>\n<p class=\"meta\">统计期间 Period: ");
  if (!rc) rc = html_text(out, jstr(period, "from"));
  if (!rc) rc = mg_buf_adds(out, " — ");
  if (!rc) rc = html_text(out, jstr(period, "to"));
  if (!rc) rc = mg_buf_adds(out, "；生成时间 Generated: ");
  if (!rc) rc = html_text(out, jstr(r, "generated_at"));
  if (!rc) rc = mg_buf_adds(out, "；排名最低选课人次 Minimum enrolments for a rank: ");
  if (!rc) rc = html_num(out, r, "min_enrolments");
  if (!rc) rc = mg_buf_adds(out, "</p>\n");
  if (!rc) rc = html_table(out, mg_json_object_get(r, "universities"), "一、异常学习行为集中的高校",
                           "Universities");
  if (!rc) rc = html_table(out, mg_json_object_get(r, "platforms"), "二、异常学习行为集中的平台",
                           "Platforms");
  if (!rc) rc = mg_buf_adds(out, "<p><small>口径 Basis: ");
  if (!rc) rc = html_text(out, jstr(r, "basis"));
  if (!rc) rc = mg_buf_adds(out, "</small></p>\n</body>\n</html>\n");
out:
  mg_arena_free(&a);
  return rc;
}

/* ---- flagged students of a university ------------------------------------------------------ */

typedef struct flag_row {
  int64_t student_id, case_id, items;
  unsigned types; /* bit per type index */
} flag_row;

typedef struct flag_ctx {
  mg_store *s;
  flag_row *v;
  size_t n, cap;
} flag_ctx;

static const char *const FLAG_TYPES[] = {"course_brushing", "proxy_study", "exam_brushing",
                                         "proxy_exam", "answer_leak"};

static int flag_item(void *ud, const mg_store_inbox_item *it) {
  flag_ctx *f = ud;
  flag_row *r = NULL;
  for (size_t i = 0; i < f->n; i++)
    if (f->v[i].student_id == it->student_id) r = &f->v[i];
  if (!r) {
    if (f->n == f->cap) {
      size_t cap = f->cap ? f->cap * 2 : 32;
      flag_row *v = realloc(f->v, cap * sizeof *v);
      if (!v) return MG_ENOMEM;
      f->v = v;
      f->cap = cap;
    }
    r = &f->v[f->n++];
    memset(r, 0, sizeof *r);
    r->student_id = it->student_id;
  }
  r->items++;
  if (it->case_id > r->case_id) r->case_id = it->case_id;
  for (unsigned t = 0; t < sizeof FLAG_TYPES / sizeof FLAG_TYPES[0]; t++)
    if (!strcmp(it->type, FLAG_TYPES[t])) r->types |= 1u << t;
  return MG_OK;
}

int mg_notices_flagged_json(mg_store *s, int64_t university_id, mg_buf *out) {
  if (!s || university_id <= 0 || !out) return MG_EINVAL;
  flag_ctx f = {s, NULL, 0, 0};
  int rc = mg_store_inbox_list(s, university_id, 0, flag_item, &f);
  if (!rc) rc = mg_buf_addf(out, "{\"university_id\":%lld,\"students\":[", (long long)university_id);
  for (size_t i = 0; !rc && i < f.n; i++) {
    flag_row *r = &f.v[i];
    rc = mg_buf_addf(out, "%s{\"student_id\":%lld,\"items\":%lld,\"types\":[", i ? "," : "",
                     (long long)r->student_id, (long long)r->items);
    int first = 1;
    for (unsigned t = 0; !rc && t < sizeof FLAG_TYPES / sizeof FLAG_TYPES[0]; t++)
      if (r->types & (1u << t)) {
        rc = mg_buf_addf(out, "%s\"%s\"", first ? "" : ",", FLAG_TYPES[t]);
        first = 0;
      }
    if (!rc) rc = mg_buf_adds(out, "],\"case_id\":");
    if (!rc && r->case_id) {
      mg_store_case c;
      rc = mg_store_case_get(s, r->case_id, &c);
      if (!rc) rc = mg_buf_addf(out, "%lld,\"case_state\":\"%s\"}", (long long)c.id, c.state);
    } else if (!rc) {
      rc = mg_buf_adds(out, "null,\"case_state\":null}");
    }
  }
  if (!rc) rc = mg_buf_adds(out, "]}");
  free(f.v);
  return rc;
}
