/* 刷考 from answer patterns and times that no ability explains: see personfit_int.h and
 * docs/detection.md (rules person_misfit, time_ignores_item, bank_answer_gap,
 * bank_errors_reproduced, course_fast_flat). */
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

#define PF_BANK_MIN 8 /* known-bank and other items each before the bank gap is judged */
#define PF_MIN_POP 200 /* enrolments judged before a population centre and spread mean anything */
/* bank rules (ln p): the gap and the bank errors together (Fisher) <= 1 %, and with the time rule's
 * z <= 1e-4 (1e-6 in the sweeps before the end of the input, while p-values still move) */
#define PF_BANK_LNP_OWN (-4.6052)
#define PF_BANK_LNP (-9.2103)
#define PF_BANK_LNP_PARTIAL (-13.8155)

/* thresholds (docs/detection.md says why): robust z against everyone's, each at most −2 and
 * together at most −6 (combined one-sided normal tail 1.1·10⁻⁹ were they normal; the honest
 * tails are heavier); −8 in the sweeps before the end of the input, while item p-values and
 * usual times still move with every new answer */
#define PF_Z_EACH (-2.0)
#define PF_Z_SUM (-6.0)
#define PF_Z_SUM_PARTIAL (-8.0)

/* fast and flat: the whole course answered in at most half the usual time on the same items
 * (geometric mean; ln 0.5), at least 70 % right, with time that does not follow the item (time z
 * at most −1.5; −2 in the partial sweeps, while usual times still move) */
#define PF_FAST_Z (-1.5)
#define PF_FAST_Z_PARTIAL (-2.0)
#define PF_FAST_PACE (-0.6931)
#define PF_FAST_ACC 0.7

#define PF_NAME 40 /* tail of an item's IRI kept for the evidence text */

typedef struct pf_item {
  uint64_t key;
  uint32_t n, ok, nt;
  uint32_t bank;     /* the known bank's answer (response hash), if in_bank */
  uint32_t nbw;      /* wrong answers equal to the bank's answer (> 0: the bank is wrong here) */
  uint8_t in_bank;   /* a known answer bank carries the item */
  double slt; /* sum of ln(seconds) */
  char name[PF_NAME];
} pf_item;

typedef struct pf_ans {
  uint32_t item; /* index in items */
  uint32_t resp; /* response hash (low bits) */
  float dur;
  uint8_t ok;
  uint8_t exam;  /* stratum: exam 1, coursework 0 */
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
  float bz;        /* last z of the known-bank accuracy gap, NAN if not judged */
  float blam;      /* honest expectation of bank errors reproduced */
  uint8_t bk;      /* bank errors reproduced */
  uint8_t bflag;   /* bank rules already reported */
  uint8_t fflag;   /* fast-and-flat rule already reported */
  float pace;      /* mean ln(time / the population's usual time) over the time rule's items, NAN if not judged */
  float acc;       /* share of its graded answers right */
  char *detail_zh, *detail_en; /* which items misfit, once flagged */
  char *bdetail_zh, *bdetail_en; /* the bank evidence, once flagged */
  char *fdetail_zh, *fdetail_en; /* the fast-and-flat evidence, once flagged */
  uint16_t slot_seq[PF_ATT];
  uint8_t att_id[PF_ATT][16];
  int64_t att_ts[PF_ATT];
} pf_enrol;

struct mg_detect_pf {
  hmap ix; /* item hash -> index in items */
  pf_item *items;
  size_t nitems, capitems;
  size_t nbank; /* items with a known bank answer */
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
      free(p->en[i]->bdetail_zh);
      free(p->en[i]->bdetail_en);
      free(p->en[i]->fdetail_zh);
      free(p->en[i]->fdetail_en);
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

const char *mg_detect_pf_bank_detail(const mg_detect_pf *p, uint32_t ei, int zh) {
  if (!p || ei >= p->nen || !p->en[ei]) return NULL;
  return zh ? p->en[ei]->bdetail_zh : p->en[ei]->bdetail_en;
}

const char *mg_detect_pf_fast_detail(const mg_detect_pf *p, uint32_t ei, int zh) {
  if (!p || ei >= p->nen || !p->en[ei]) return NULL;
  return zh ? p->en[ei]->fdetail_zh : p->en[ei]->fdetail_en;
}

int mg_detect_pf_bank(mg_detect_pf *p, uint64_t item, uint32_t resp) {
  long ii = item_index(p, item);
  if (ii < 0) return MG_ENOMEM;
  pf_item *it = &p->items[ii];
  if (!it->in_bank) p->nbank++;
  else if (it->bank != resp) it->nbw = 0; /* a corrected answer: its errors are counted afresh */
  it->in_bank = 1;
  it->bank = resp;
  return MG_OK;
}

size_t mg_detect_pf_bank_items(const mg_detect_pf *p) { return p ? p->nbank : 0; }

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
    p->en[ei]->pace = NAN;
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
    if (it->in_bank && !r[i].success && r[i].resp == it->bank) it->nbw++;
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
    a->resp = r[i].resp;
    a->exam = r[i].exam ? 1 : 0;
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

/* Rasch ability (maximum a posteriori, prior N(0, 3²)) from n answers u to items of difficulty b. */
static double rasch_theta(const double *b, const uint8_t *u, int n) {
  double th = 0;
  for (int it = 0; it < 30; it++) {
    double g = -th / 9.0, h = -1.0 / 9.0;
    for (int i = 0; i < n; i++) {
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
  return th;
}

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
  double th = rasch_theta(b, u, m);
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

/* Pearson correlation of ln(time on item) with the population's mean ln(time) on the item; *pace:
 * the mean of the first minus the second (ln of the geometric-mean ratio to the usual time). */
static int time_corr(const mg_detect_pf *p, const pf_enrol *e, double *r, int *n, double *pace) {
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
  *pace = (sy - sx) / m;
  return 1;
}

/* Known-bank fingerprint of one enrolment, per stratum (coursework, exam: a crammer or a stand-in
 * differs between them, and exams carry fewer bank items than quizzes). Items are known-bank (the
 * bank's answer is right: nobody who gave it was graded wrong), bank-wrong, or other.
 *  - gap: the efficient score for a shift of ability on known-bank items, at the ability that
 *    explains the known-bank and other items together: Σ_B (u − P) − I_B/I · Σ (u − P), variance
 *    I_B·I_N/I (I = Σ PQ); z > 0 when the bank items go better than the other items of the same
 *    difficulty would predict. Strata are summed.
 *  - errors: k = bank-wrong items answered with exactly the bank's wrong answer; an honest student
 *    gives it with probability Q(θ)·(its share among the population's wrong answers to the item),
 *    summed into λ (θ from the other items of the stratum, so the tested answers do not move it).
 * Returns 0 when too few known-bank and other items have p-values. */
static int bank_fit(const mg_detect_pf *p, const pf_enrol *e, double *z, int *k, double *lam, int *nb,
                    int *nn, int *rb, int *rn) {
  double b[PF_MAX_ANS];
  uint8_t u[PF_MAX_ANS], cls[PF_MAX_ANS]; /* 0 other, 1 known-bank, 2 bank-wrong */
  int kk = 0, tb = 0, tn = 0, okb = 0, okn = 0;
  double S = 0, V = 0, L = 0;
  for (int st = 0; st < 2; st++) {
    int m = 0, mw = 0;
    double bw[PF_MAX_ANS];
    uint32_t wi[PF_MAX_ANS];
    uint8_t wu[PF_MAX_ANS];
    for (int j = 0; j < e->n; j++) {
      const pf_ans *a = &e->a[j];
      const pf_item *it = &p->items[a->item];
      if (a->exam != st || it->n < PF_ITEM_MIN) continue;
      double pv = (it->ok + 0.5) / (it->n + 1.0);
      if (pv < 0.02) pv = 0.02;
      if (pv > 0.98) pv = 0.98;
      double bi = -log(pv / (1 - pv));
      if (it->in_bank && it->nbw) {
        bw[mw] = bi;
        wi[mw] = a->item;
        wu[mw++] = (uint8_t)(!a->ok && a->resp == it->bank);
        continue;
      }
      b[m] = bi;
      u[m] = a->ok;
      cls[m++] = it->in_bank;
    }
    double th = rasch_theta(b, u, m);
    double sb = 0, sa = 0, ib = 0, in = 0;
    for (int i = 0; i < m; i++) {
      double P = 1 / (1 + exp(b[i] - th));
      sa += u[i] - P;
      if (cls[i]) { sb += u[i] - P; ib += P * (1 - P); tb++; okb += u[i]; }
      else { in += P * (1 - P); tn++; okn += u[i]; }
    }
    if (ib > 0 && in > 0) {
      S += sb - ib / (ib + in) * sa;
      V += ib * in / (ib + in);
    }
    for (int i = 0; i < mw; i++) {
      const pf_item *it = &p->items[wi[i]];
      uint32_t nw = it->n - it->ok;
      double share = nw ? (double)it->nbw / nw : 0;
      L += (1 - 1 / (1 + exp(bw[i] - th))) * share;
      kk += wu[i];
    }
  }
  if (tb < PF_BANK_MIN || tn < PF_BANK_MIN || V <= 1e-9) return 0;
  *z = S / sqrt(V);
  *k = kk;
  *lam = L;
  *nb = tb, *nn = tn, *rb = okb, *rn = okn;
  return 1;
}

/* -ln P(X >= k), X ~ Poisson(lam), summed from k upwards (no cancellation); at most 50. */
static double poisson_ev(int k, double lam) {
  if (k <= 0) return 0;
  if (lam <= 1e-12) return 50;
  double lt = -lam + k * log(lam) - lgamma(k + 1.0), sum = 0, term = 1;
  for (int t = k; t < k + 200 && term > 1e-17 * sum; t++) {
    sum += term;
    term *= lam / (t + 1);
  }
  double ev = -(lt + log(sum));
  return ev < 0 ? 0 : ev > 50 ? 50 : ev;
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

/* Replaces the texts *zh and *en with copies of z and e; on allocation failure both are NULL. */
static int set_detail(char **zh, char **en, const char *z, const char *e) {
  free(*zh);
  free(*en);
  *zh = strdup(z);
  *en = strdup(e);
  if (*zh && *en) return MG_OK;
  free(*zh);
  free(*en);
  *zh = *en = NULL;
  return MG_ENOMEM;
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
  zh[zl_] = 0; /* a piece that did not fit is left out whole */
  en[el] = 0;
  return set_detail(&e->detail_zh, &e->detail_en, zh, en);
}

/* The bank evidence a person can check: accuracies on known-bank and other items, bank errors
 * reproduced against the honest expectation, and the tail probabilities. */
static int build_bank_detail(const mg_detect_pf *p, pf_enrol *e, double zr, double l1, double l2, double zt,
                             double lc) {
  double z;
  int k, nb, nn, rb, rn;
  double lam;
  if (!bank_fit(p, e, &z, &k, &lam, &nb, &nn, &rb, &rn)) return MG_OK;
  char zh[768], en[768];
  int w1 = snprintf(zh, sizeof zh,
                    "。题库比对：已知题库题 %d 道答对 %d 道（%.0f%%），其他题 %d 道答对 %d 道（%.0f%%），"
                    "按题目难度的差异 z %.1f（单侧概率 %.0e）；题库答案有误的题上照抄题库错误答案 %d 次，"
                    "诚实作答预期 %.1f 次（单侧概率 %.0e）；用时与题目的相关 z %.1f；合并概率约 %.0e",
                    nb, rb, 100.0 * rb / nb, nn, rn, 100.0 * rn / nn, zr, exp(l1), k, lam, exp(l2), zt, exp(lc));
  int w2 = snprintf(en, sizeof en,
                    ". Known bank: %d of %d known-bank items right (%.0f%%), %d of %d other items (%.0f%%), "
                    "difficulty-adjusted gap z %.1f (one-sided p %.0e); the bank's wrong answer given on %d "
                    "items where the bank is wrong, %.1f expected from honest errors (one-sided p %.0e)",
                    rb, nb, 100.0 * rb / nb, rn, nn, 100.0 * rn / nn, zr, exp(l1), k, lam, exp(l2));
  if (w1 < 0 || w2 < 0) return MG_OK;
  return set_detail(&e->bdetail_zh, &e->bdetail_en, zh, en);
}

/* The fast-and-flat evidence a person can check: items, pace against everyone's, accuracy, and
 * how little the time follows the item. */
static int build_fast_detail(pf_enrol *e, double zt) {
  char zh[512], en[512];
  int w1 = snprintf(zh, sizeof zh,
                    "。整门课 %u 道计时题的用时为其他学生同题常规用时的 %.0f%%（几何平均），正确率 %.0f%%；"
                    "每题用时与该题通常所需时间的相关 z %.1f（其他学生的用时随题目难易变化）",
                    (unsigned)e->tz_n, 100.0 * exp(e->pace), 100.0 * e->acc, zt);
  int w2 = snprintf(en, sizeof en,
                    ". Over the course, %u timed items took %.0f%% of the time other students took on the same "
                    "items (geometric mean), %.0f%% right; time against each item's usual time z %.1f (other "
                    "students' times follow the items)",
                    (unsigned)e->tz_n, 100.0 * exp(e->pace), 100.0 * e->acc, zt);
  if (w1 < 0 || w2 < 0) return MG_OK;
  return set_detail(&e->fdetail_zh, &e->fdetail_en, zh, en);
}

int mg_detect_pf_sweep(mg_detect_pf *p, int all, mg_detect_pf_flag flag, void *ud) {
  if (!p) return MG_OK;
  /* 1. refresh what changed */
  size_t njudge = all ? p->nen : p->ndirty;
  for (size_t j = 0; j < njudge; j++) {
    uint32_t ei = all ? (uint32_t)j : p->dirty[j];
    pf_enrol *e = ei < p->nen ? p->en[ei] : NULL;
    if (!e) continue;
    double r, lz, th, hg, pace;
    int n, worst, items;
    e->tz_fisher = NAN;
    e->pace = NAN;
    if (time_corr(p, e, &r, &n, &pace)) {
      if (r > 0.999) r = 0.999;
      if (r < -0.999) r = -0.999;
      e->tz_fisher = (float)atanh(r);
      e->tz_n = (uint16_t)n;
      e->pace = (float)pace;
    }
    e->bz = NAN;
    if (p->nbank) {
      double bz, lam;
      int k, nb, nn, rb, rn;
      if (bank_fit(p, e, &bz, &k, &lam, &nb, &nn, &rb, &rn)) {
        e->bz = (float)bz;
        e->bk = (uint8_t)(k > 255 ? 255 : k);
        e->blam = (float)lam;
      }
    }
    {
      int ok = 0;
      for (int k = 0; k < e->n; k++) ok += e->a[k].ok;
      e->acc = e->n ? (float)ok / e->n : 0;
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
  /* the bank gap's centre and spread (model misfit shifts and widens it for everyone alike) */
  double bc = NAN, bs = NAN;
  {
    size_t nb = 0;
    for (size_t i = 0; i < p->nen; i++) nb += p->en[i] && !isnan(p->en[i]->bz);
    if (nb >= PF_MIN_POP) {
      double *w = nb > nmax ? malloc(nb * sizeof *w) : v;
      if (!w) { free(v); return MG_ENOMEM; }
      size_t k = 0;
      for (size_t i = 0; i < p->nen; i++)
        if (p->en[i] && !isnan(p->en[i]->bz)) w[k++] = p->en[i]->bz;
      centre_spread(w, nb, &bc, &bs);
      if (bs < 1) bs = 1; /* never narrower than the sampling noise alone */
      if (w != v) free(w);
    }
  }
  free(v);
  /* 3. judge */
  for (size_t j = 0; j < njudge; j++) {
    uint32_t ei = all ? (uint32_t)j : p->dirty[j];
    pf_enrol *e = ei < p->nen ? p->en[ei] : NULL;
    if (!e) continue;
    e->dirty = 0;
    if (!isnan(e->bz) && !isnan(bc) && !e->bflag) {
      double zr = (e->bz - bc) / bs;
      double l1 = log(0.5 * erfc(zr / sqrt(2.0)) + 1e-300); /* ln p: the gap */
      double l2 = -poisson_ev(e->bk, e->blam);              /* ln p: bank errors reproduced */
      double lb = l1 + l2 + log(1 - (l1 + l2));             /* Fisher's combination, 4 d.f. */
      /* a lookup takes about the same time whatever the item: the time rule's z, one-sided */
      double zt_ = (!isnan(e->tz_fisher) && !isnan(tc)) ? (e->tz_fisher - tc) * sqrt(e->tz_n - 3.0) / ts_ : NAN;
      double l3 = isnan(zt_) ? 0 : log(0.5 * erfc(-zt_ / sqrt(2.0)) + 1e-300);
      double l = l1 + l2 + l3, lc_ = isnan(zt_) ? lb : l + log(1 - l + l * l / 2); /* 6 d.f. */
      /* the bank evidence must be unusual by itself: time alone has honest look-alikes */
      if (lb <= PF_BANK_LNP_OWN && lc_ <= (all ? PF_BANK_LNP : PF_BANK_LNP_PARTIAL)) {
        int worst = e->att_seq % PF_ATT;
        const uint8_t *id = e->slot_seq[worst] ? e->att_id[worst] : NULL;
        int64_t ts = e->slot_seq[worst] ? e->att_ts[worst] : 0;
        /* each rule gets its share of the evidence (shares under 5 % are not named); together
         * they make one finding */
        double sh[3] = {l1 / l, l2 / l, l3 / l}, tot = 0;
        for (int q = 0; q < 3; q++) tot += sh[q] >= 0.05 ? sh[q] : 0;
        if (build_bank_detail(p, e, zr, l1, l2, zt_, lc_)) return MG_ENOMEM;
        e->bflag = 1;
        /* shares rounded up to hundredths (and a little over), so they sum to at least 1 in float */
        for (int q = 0; q < 3; q++) sh[q] = sh[q] >= 0.05 ? ceil(100 * sh[q] / tot) / 100 + 1e-3 : 0;
        if (sh[0] > 0) flag(ud, ei, MG_DETECT_PF_BANK_GAP, sh[0], exp(l1), id, ts);
        if (sh[1] > 0) flag(ud, ei, MG_DETECT_PF_BANK_ERRORS, sh[1], exp(l2), id, ts);
        if (sh[2] > 0) flag(ud, ei, MG_DETECT_PF_TIME_FLAT, sh[2], zt_, id, ts);
        flag(ud, ei, MG_DETECT_PF_END, 0, 0, NULL, 0);
      }
    }
    double zt = (!isnan(e->tz_fisher) && !isnan(tc)) ? (e->tz_fisher - tc) * sqrt(e->tz_n - 3.0) / ts_ : NAN;
    /* a lookup per item: everything answered far faster than other students took on the same
     * items, mostly right, with time that does not follow the item. Fast strong students are
     * fast where items are easy and slower where they are hard; a search or OCR tool is not. */
    if (!e->fflag && !isnan(zt) && !isnan(e->pace) && zt <= (all ? PF_FAST_Z : PF_FAST_Z_PARTIAL) &&
        e->pace <= PF_FAST_PACE && e->acc >= PF_FAST_ACC) {
      int worst = e->att_seq % PF_ATT;
      const uint8_t *id = e->slot_seq[worst] ? e->att_id[worst] : NULL;
      int64_t ts = e->slot_seq[worst] ? e->att_ts[worst] : 0;
      if (build_fast_detail(e, zt)) return MG_ENOMEM;
      e->fflag = 1;
      flag(ud, ei, MG_DETECT_PF_FAST, 1.0, exp(e->pace), id, ts);
      flag(ud, ei, MG_DETECT_PF_END, 0, 0, NULL, 0);
    }
    if (isnan(e->lz) || isnan(lc)) continue;
    double zl = (e->lz - lc) / ls;
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
      flag(ud, ei, MG_DETECT_PF_END, 0, 0, NULL, 0);
    }
  }
  p->ndirty = 0;
  return MG_OK;
}
