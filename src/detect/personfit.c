/* 刷考 from answer patterns and times that no ability explains: see personfit_int.h and
 * docs/detection.md (rules person_misfit and time_ignores_item). */
#include "detect/personfit_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "detect/hmap_int.h"

#define PF_MAX_ANS 128 /* answers kept per enrolment: a course's quizzes and exam fit */
#define PF_ATT 16      /* attempt submissions remembered per enrolment, for evidence */
#define PF_ITEM_MIN 20 /* answers before an item's p-value or usual time is used */
#define PF_MIN_ITEMS 15 /* items with a population p-value before a pattern is judged */
#define PF_MIN_TIMED 15 /* timed items before a time/item correlation is judged */

#define PF_MIN_POP 200 /* enrolments judged before a population centre and spread mean anything */

/* thresholds (docs/detection.md says why): robust z against everyone's, each at most −2 and
 * together at most −6 (combined one-sided normal tail 1.1·10⁻⁹ were they normal; the honest
 * tails are heavier); −8 in the sweeps before the end of the input, while item p-values and
 * usual times still move with every new answer */
#define PF_Z_EACH (-2.0)
#define PF_Z_SUM (-6.0)
#define PF_Z_SUM_PARTIAL (-8.0)

#define PF_NAME 40 /* tail of an item's IRI kept for the evidence text */

typedef struct pf_item {
  uint64_t key;
  uint32_t n, ok, nt;
  double slt; /* sum of ln(seconds) */
  char name[PF_NAME];
} pf_item;

typedef struct pf_ans {
  uint32_t item; /* index in items */
  float dur;
  uint8_t ok;
  uint8_t slot;  /* attempt slot of the submission that holds it */
  uint16_t seq;  /* that attempt's sequence number (slot reused when it differs) */
} pf_ans;

typedef struct pf_enrol {
  pf_ans *a;
  uint16_t n, cap;
  uint16_t att_seq;
  uint8_t dirty;
  float tz_fisher; /* last atanh(r) of the time rule, NAN if not judged */
  float lz;        /* last lz*, NAN if not judged */
  float hard_gain; /* accuracy minus the population's p-value on the harder half of its items */
  uint16_t tz_n;
  int8_t worst;    /* attempt slot that misfits most, -1 none */
  char *detail_zh, *detail_en; /* which items misfit, once flagged */
  uint16_t slot_seq[PF_ATT];
  uint8_t att_id[PF_ATT][16];
  int64_t att_ts[PF_ATT];
} pf_enrol;

struct mg_detect_pf {
  hmap ix; /* item hash -> index in items */
  pf_item *items;
  size_t nitems, capitems;
  pf_enrol **en; /* by engine enrolment index */
  size_t nen;
  uint32_t *dirty; /* enrolments changed since the last sweep */
  size_t ndirty, capdirty;
  size_t bytes_ans;
};

int mg_detect_pf_new(mg_detect_pf **out) {
  *out = calloc(1, sizeof **out);
  return *out ? MG_OK : MG_ENOMEM;
}

void mg_detect_pf_free(mg_detect_pf *p) {
  if (!p) return;
  for (size_t i = 0; i < p->nen; i++)
    if (p->en[i]) {
      free(p->en[i]->detail_zh);
      free(p->en[i]->detail_en);
      free(p->en[i]->a);
      free(p->en[i]);
    }
  free(p->en);
  hm_free(&p->ix);
  free(p->items);
  free(p->dirty);
  free(p);
}

size_t mg_detect_pf_bytes(const mg_detect_pf *p) {
  if (!p) return 0;
  size_t b = sizeof *p + p->ix.cap * 12 + p->capitems * sizeof(pf_item) + p->nen * sizeof(pf_enrol *) +
             p->capdirty * 4 + p->bytes_ans;
  return b;
}

/* ---- items ------------------------------------------------------------------------------ */

/* Index of an item, created on first sight; -1 on allocation failure. */
static long item_index(mg_detect_pf *p, uint64_t key) {
  if (!key) key = 1;
  uint32_t *have = hm_get(&p->ix, key);
  if (have) return (long)*have;
  if (p->nitems >= p->capitems) {
    size_t nc = p->capitems ? p->capitems * 2 : 1024;
    pf_item *ni = realloc(p->items, nc * sizeof *ni);
    if (!ni) return -1;
    p->items = ni;
    p->capitems = nc;
  }
  pf_item *it = &p->items[p->nitems];
  memset(it, 0, sizeof *it);
  it->key = key;
  if (hm_put(&p->ix, key, (uint32_t)p->nitems)) return -1;
  return (long)p->nitems++;
}

int mg_detect_pf_item_name(mg_detect_pf *p, uint64_t item, const char *iri, size_t n) {
  if (!iri || !n) return MG_OK;
  long ii = item_index(p, item);
  if (ii < 0) return MG_ENOMEM;
  pf_item *it = &p->items[ii];
  if (it->name[0]) return MG_OK;
  /* the last path segment is what tells items apart; keep at most its tail */
  size_t b = n;
  while (b > 0 && iri[b - 1] != '/') b--;
  if (n - b >= PF_NAME) b = n - (PF_NAME - 1);
  while (b < n && ((unsigned char)iri[b] & 0xC0) == 0x80) b++; /* not inside a UTF-8 sequence */
  memcpy(it->name, iri + b, n - b);
  it->name[n - b] = 0;
  return MG_OK;
}

const char *mg_detect_pf_detail(const mg_detect_pf *p, uint32_t ei, int zh) {
  if (!p || ei >= p->nen || !p->en[ei]) return NULL;
  return zh ? p->en[ei]->detail_zh : p->en[ei]->detail_en;
}

/* ---- answers ----------------------------------------------------------------------------- */

static pf_enrol *enrol_rec(mg_detect_pf *p, uint32_t ei) {
  if (ei >= p->nen) {
    size_t nn = p->nen ? p->nen : 1024;
    while (nn <= ei) nn *= 2;
    pf_enrol **ne = realloc(p->en, nn * sizeof *ne);
    if (!ne) return NULL;
    memset(ne + p->nen, 0, (nn - p->nen) * sizeof *ne);
    p->en = ne;
    p->nen = nn;
  }
  if (!p->en[ei]) {
    p->en[ei] = calloc(1, sizeof(pf_enrol));
    if (!p->en[ei]) return NULL;
    p->en[ei]->tz_fisher = NAN;
    p->en[ei]->lz = NAN;
    p->en[ei]->worst = -1;
    p->bytes_ans += sizeof(pf_enrol);
  }
  return p->en[ei];
}

int mg_detect_pf_attempt(mg_detect_pf *p, uint32_t ei, const mg_detect_pf_resp *r, size_t n,
                         const uint8_t id[16], int64_t ts) {
  if (!ei || !n) return MG_OK;
  pf_enrol *e = enrol_rec(p, ei);
  if (!e) return MG_ENOMEM;
  uint16_t seq = ++e->att_seq;
  uint8_t slot = (uint8_t)(seq % PF_ATT);
  e->slot_seq[slot] = seq;
  memcpy(e->att_id[slot], id, 16);
  e->att_ts[slot] = ts;
  for (size_t i = 0; i < n; i++) {
    if (r[i].success < 0) continue;
    long ii = item_index(p, r[i].item);
    if (ii < 0) return MG_ENOMEM;
    pf_item *it = &p->items[ii];
    it->n++;
    it->ok += r[i].success > 0;
    if (r[i].dur > 0) {
      it->nt++;
      it->slt += log(r[i].dur);
    }
    size_t k = 0;
    while (k < e->n && e->a[k].item != (uint32_t)ii) k++;
    if (k == e->n) {
      if (e->n >= PF_MAX_ANS) continue;
      if (e->n >= e->cap) {
        uint16_t nc = e->cap ? (uint16_t)(e->cap * 2) : 16;
        if (nc > PF_MAX_ANS) nc = PF_MAX_ANS;
        pf_ans *na = realloc(e->a, nc * sizeof *na);
        if (!na) return MG_ENOMEM;
        p->bytes_ans += (size_t)(nc - e->cap) * sizeof *na;
        e->a = na;
        e->cap = nc;
      }
      e->n++;
    }
    pf_ans *a = &e->a[k];
    a->item = (uint32_t)ii;
    a->dur = r[i].dur;
    a->ok = r[i].success > 0;
    a->slot = slot;
    a->seq = seq;
  }
  if (!e->dirty) {
    if (p->ndirty >= p->capdirty) {
      size_t nc = p->capdirty ? p->capdirty * 2 : 1024;
      uint32_t *nd = realloc(p->dirty, nc * sizeof *nd);
      if (!nd) return MG_ENOMEM;
      p->dirty = nd;
      p->capdirty = nc;
    }
    p->dirty[p->ndirty++] = ei;
    e->dirty = 1;
  }
  return MG_OK;
}

/* ---- judging ----------------------------------------------------------------------------- */

/* Person fit of one enrolment: lz* (Snijders 2001) at the ability that best explains its score,
 * under a Rasch model whose item difficulties are the population's p-values. With w_i = θ − b_i
 * and c the information-weighted mean of w, lz* = Σ (u_i − P_i)(w_i − c) / sqrt(Σ P_iQ_i(w_i − c)²):
 * getting harder items right and easier items wrong than the ability explains makes it negative.
 * Returns 0 if too few items with a p-value; *theta: the ability (0 = the population's typical
 * student); *worst: the attempt slot contributing most to the misfit. */
static int cmp_b(const void *x, const void *y) {
  double a = *(const double *)x, b = *(const double *)y;
  return a < b ? -1 : a > b;
}

static int person_fit(const mg_detect_pf *p, const pf_enrol *e, double *lz, double *theta, int *worst,
                      double *hard_gain, int *items) {
  double b[PF_MAX_ANS];
  uint8_t u[PF_MAX_ANS];
  int m = 0, right = 0;
  int idx[PF_MAX_ANS];
  for (int k = 0; k < e->n; k++) {
    const pf_item *it = &p->items[e->a[k].item];
    if (it->n < PF_ITEM_MIN) continue;
    double pv = (it->ok + 0.5) / (it->n + 1.0);
    if (pv < 0.02) pv = 0.02;
    if (pv > 0.98) pv = 0.98;
    b[m] = -log(pv / (1 - pv));
    u[m] = e->a[k].ok;
    idx[m] = k;
    right += u[m];
    m++;
  }
  if (m < PF_MIN_ITEMS) return 0;
  *items = m;
  /* the harder half of its items (above the median difficulty): right more often than everyone? */
  {
    double sb[PF_MAX_ANS];
    memcpy(sb, b, (size_t)m * sizeof *b);
    qsort(sb, (size_t)m, sizeof *sb, cmp_b);
    double bm = sb[m / 2], gain = 0;
    int nh = 0;
    for (int i = 0; i < m; i++)
      if (b[i] >= bm) { gain += u[i] - 1 / (1 + exp(b[i])); nh++; }
    *hard_gain = nh ? gain / nh : 0;
  }
  /* ability: maximum a posteriori with a wide prior N(0, 3²), finite for all-right patterns */
  double th = 0;
  for (int it = 0; it < 30; it++) {
    double g = -th / 9.0, h = -1.0 / 9.0;
    for (int i = 0; i < m; i++) {
      double P = 1 / (1 + exp(b[i] - th));
      g += u[i] - P;
      h -= P * (1 - P);
    }
    double step = g / h;
    if (step > 2) step = 2;
    if (step < -2) step = -2;
    th -= step;
    if (fabs(step) < 1e-6) break;
  }
  double spq = 0, spqw = 0;
  for (int i = 0; i < m; i++) {
    double P = 1 / (1 + exp(b[i] - th));
    spq += P * (1 - P);
    spqw += P * (1 - P) * (th - b[i]);
  }
  double c = spq > 0 ? spqw / spq : 0, num = 0, var = 0;
  double contrib[PF_ATT] = {0};
  for (int i = 0; i < m; i++) {
    double P = 1 / (1 + exp(b[i] - th)), w = th - b[i] - c;
    double t = (u[i] - P) * w;
    num += t;
    var += P * (1 - P) * w * w;
    const pf_ans *a = &e->a[idx[i]];
    if (e->slot_seq[a->slot] == a->seq) contrib[a->slot] += t;
  }
  (void)right;
  if (var <= 1e-9) return 0;
  *lz = num / sqrt(var);
  *theta = th;
  int wi = -1;
  for (int s = 0; s < PF_ATT; s++)
    if (contrib[s] < 0 && (wi < 0 || contrib[s] < contrib[wi])) wi = s;
  *worst = wi;
  return 1;
}

/* Pearson correlation of ln(time on item) with the population's mean ln(time) on the item. */
static int time_corr(const mg_detect_pf *p, const pf_enrol *e, double *r, int *n) {
  double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
  int m = 0;
  for (int k = 0; k < e->n; k++) {
    const pf_ans *a = &e->a[k];
    const pf_item *it = &p->items[a->item];
    if (a->dur <= 0 || it->nt < PF_ITEM_MIN) continue;
    double x = it->slt / it->nt, y = log(a->dur);
    sx += x, sy += y, sxx += x * x, syy += y * y, sxy += x * y;
    m++;
  }
  if (m < PF_MIN_TIMED) return 0;
  double vx = sxx - sx * sx / m, vy = syy - sy * sy / m, cxy = sxy - sx * sy / m;
  if (vx <= 1e-12 || vy <= 1e-12) {
    /* the items do not differ in usual time (nothing to follow), or every time is the same */
    if (vx <= 1e-12) return 0;
    *r = 0;
  } else {
    *r = cxy / sqrt(vx * vy);
  }
  *n = m;
  return 1;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *v, size_t n) {
  qsort(v, n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Median and robust spread (1.4826 × median absolute deviation) of the values v[0..n). */
static void centre_spread(double *v, size_t n, double *centre, double *spread) {
  *centre = median(v, n);
  for (size_t i = 0; i < n; i++) v[i] = fabs(v[i] - *centre);
  *spread = 1.4826 * median(v, n);
}

/* The evidence a person can check: the (up to) three hardest items answered right and the three
 * easiest answered wrong, with the population's p-values, and the combined tail probability. */
static int build_detail(const mg_detect_pf *p, pf_enrol *e, double zl, double zt) {
  int hard[3] = {-1, -1, -1}, easy[3] = {-1, -1, -1};
  for (int k = 0; k < e->n; k++) {
    const pf_item *it = &p->items[e->a[k].item];
    if (it->n < PF_ITEM_MIN) continue;
    double pv = (double)it->ok / it->n;
    int *list = e->a[k].ok ? hard : easy;
    for (int j = 0; j < 3; j++) {
      int cur = list[j];
      double cp = cur < 0 ? 0 : (double)p->items[e->a[cur].item].ok / p->items[e->a[cur].item].n;
      if (cur < 0 || (e->a[k].ok ? pv < cp : pv > cp)) {
        for (int m = 2; m > j; m--) list[m] = list[m - 1];
        list[j] = k;
        break;
      }
    }
  }
  char zh[640], en[640];
  size_t zl_ = 0, el = 0;
  double prob = 0.5 * erfc(-(zl + zt) / sqrt(2.0) / sqrt(2.0));
  int w = snprintf(zh, sizeof zh, "。个人拟合：答对的难题");
  if (w > 0) zl_ = (size_t)w;
  w = snprintf(en, sizeof en, ". Person fit: hard items answered right");
  if (w > 0) el = (size_t)w;
  for (int pass = 0; pass < 2; pass++) {
    const int *list = pass ? easy : hard;
    if (pass) {
      w = snprintf(zh + zl_, sizeof zh - zl_, "；答错的易题");
      if (w > 0 && (size_t)w < sizeof zh - zl_) zl_ += (size_t)w;
      w = snprintf(en + el, sizeof en - el, "; easy items answered wrong");
      if (w > 0 && (size_t)w < sizeof en - el) el += (size_t)w;
    }
    for (int j = 0; j < 3 && list[j] >= 0; j++) {
      const pf_item *it = &p->items[e->a[list[j]].item];
      double pv = 100.0 * it->ok / it->n;
      w = snprintf(zh + zl_, sizeof zh - zl_, "%s%s（全体通过率 %.0f%%）", j ? "、" : " ", it->name[0] ? it->name : "?", pv);
      if (w > 0 && (size_t)w < sizeof zh - zl_) zl_ += (size_t)w;
      w = snprintf(en + el, sizeof en - el, "%s%s (%.0f%% of all students right)", j ? ", " : " ", it->name[0] ? it->name : "?", pv);
      if (w > 0 && (size_t)w < sizeof en - el) el += (size_t)w;
    }
  }
  w = snprintf(zh + zl_, sizeof zh - zl_, "；z 拟合 %.1f、z 用时 %.1f，诚实作答出现两者同时如此的单侧概率约 %.0e", zl, zt, prob);
  if (w > 0 && (size_t)w < sizeof zh - zl_) zl_ += (size_t)w;
  w = snprintf(en + el, sizeof en - el, "; z misfit %.1f, z time %.1f, one-sided probability of both for an honest pattern about %.0e", zl, zt, prob);
  if (w > 0 && (size_t)w < sizeof en - el) el += (size_t)w;
  free(e->detail_zh);
  free(e->detail_en);
  e->detail_zh = malloc(zl_ + 1);
  e->detail_en = malloc(el + 1);
  if (!e->detail_zh || !e->detail_en) {
    free(e->detail_zh);
    free(e->detail_en);
    e->detail_zh = e->detail_en = NULL;
    return MG_ENOMEM;
  }
  memcpy(e->detail_zh, zh, zl_);
  e->detail_zh[zl_] = 0;
  memcpy(e->detail_en, en, el);
  e->detail_en[el] = 0;
  return MG_OK;
}

int mg_detect_pf_sweep(mg_detect_pf *p, int all, mg_detect_pf_flag flag, void *ud) {
  if (!p) return MG_OK;
  /* 1. refresh what changed */
  size_t njudge = all ? p->nen : p->ndirty;
  for (size_t j = 0; j < njudge; j++) {
    uint32_t ei = all ? (uint32_t)j : p->dirty[j];
    pf_enrol *e = ei < p->nen ? p->en[ei] : NULL;
    if (!e) continue;
    double r, lz, th, hg;
    int n, worst, items;
    e->tz_fisher = NAN;
    if (time_corr(p, e, &r, &n)) {
      if (r > 0.999) r = 0.999;
      if (r < -0.999) r = -0.999;
      e->tz_fisher = (float)atanh(r);
      e->tz_n = (uint16_t)n;
    }
    e->lz = NAN;
    if (person_fit(p, e, &lz, &th, &worst, &hg, &items)) {
      e->lz = (float)lz;
      e->hard_gain = (float)hg;
      e->worst = (int8_t)worst;
    }
  }
  /* 2. the population's centre and spread of both statistics */
  size_t nl = 0, nt = 0;
  for (size_t i = 0; i < p->nen; i++) {
    if (!p->en[i]) continue;
    nl += !isnan(p->en[i]->lz);
    nt += !isnan(p->en[i]->tz_fisher);
  }
  double lc = NAN, ls = NAN, tc = NAN, ts_ = NAN;
  size_t nmax = nl > nt ? nl : nt;
  double *v = nmax ? malloc(nmax * sizeof *v) : NULL;
  if (nmax && !v) return MG_ENOMEM;
  if (nl >= PF_MIN_POP) {
    size_t k = 0;
    for (size_t i = 0; i < p->nen; i++)
      if (p->en[i] && !isnan(p->en[i]->lz)) v[k++] = p->en[i]->lz;
    centre_spread(v, nl, &lc, &ls);
    if (ls < 0.25) ls = 0.25;
  }
  if (nt >= PF_MIN_POP) {
    size_t k = 0;
    for (size_t i = 0; i < p->nen; i++)
      if (p->en[i] && !isnan(p->en[i]->tz_fisher)) v[k++] = p->en[i]->tz_fisher;
    tc = median(v, nt);
    /* spread of the deviations, each on the scale of its own item count (sd 1/sqrt(n − 3)) */
    k = 0;
    for (size_t i = 0; i < p->nen; i++)
      if (p->en[i] && !isnan(p->en[i]->tz_fisher))
        v[k++] = fabs(p->en[i]->tz_fisher - tc) * sqrt(p->en[i]->tz_n - 3.0);
    ts_ = 1.4826 * median(v, nt);
    if (ts_ < 1) ts_ = 1; /* never narrower than sampling noise alone */
  }
  free(v);
  /* 3. judge */
  for (size_t j = 0; j < njudge; j++) {
    uint32_t ei = all ? (uint32_t)j : p->dirty[j];
    pf_enrol *e = ei < p->nen ? p->en[ei] : NULL;
    if (!e) continue;
    e->dirty = 0;
    if (isnan(e->lz) || isnan(lc)) continue;
    double zl = (e->lz - lc) / ls;
    double zt = (!isnan(e->tz_fisher) && !isnan(tc)) ? (e->tz_fisher - tc) * sqrt(e->tz_n - 3.0) / ts_ : NAN;
    /* a pattern that did not raise the score on the harder half of its items is not the rule's
     * business (a weak student guessing fits no model either) */
    if (e->hard_gain < 0) continue;
    int worst = e->worst >= 0 ? e->worst : e->att_seq % PF_ATT;
    const uint8_t *id = e->slot_seq[worst] ? e->att_id[worst] : NULL;
    int64_t ts = e->slot_seq[worst] ? e->att_ts[worst] : 0;
    /* both at once, never one alone: either alone has honest look-alikes (study groups share
     * answers and misfit; some students take the same time on everything) */
    if (zl <= PF_Z_EACH && zt <= PF_Z_EACH && zl + zt <= (all ? PF_Z_SUM : PF_Z_SUM_PARTIAL)) {
      if (build_detail(p, e, zl, zt)) return MG_ENOMEM;
      flag(ud, ei, MG_DETECT_PF_MISFIT, 0.5, zl, id, ts);
      flag(ud, ei, MG_DETECT_PF_TIME_FLAT, 0.5, zt, id, ts);
    }
  }
  p->ndirty = 0;
  return MG_OK;
}
