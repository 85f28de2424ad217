/* Behaviour: what one enrolment does on one day, as event records. Honest students and tools are
 * the same player model with different knobs (cadence, speed, pauses, volume, answers), so that
 * an attack differs from a look-alike only where the real tools differ (docs/simulator.md maps
 * each knob to its row of attacks.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim_int.h"

typedef struct style {
  double speed;     /* true playback rate */
  double speed_rep; /* what the client claims */
  int hb_mode;      /* 0 native rhythm, 1 uniform jitter U(a,b), 2 forged: every a..b seconds,
                     * 3 lognormal around a (sigma b), 4 Poisson (exponential gaps, mean a) */
  double hb_a, hb_b;
  double forge_adv; /* forged: media seconds claimed per report */
  float volume;
  int hidden, low_quality;
  int no_input;     /* 0 honest, 1 none at all, 2 a mouse jiggler (1-3 events per report) */
  int pause_mode;   /* 0 honest heavy-tailed, 1 auto-resume after ~1 s, 2 fixed periodic, 3 none,
                     * 4 imitated: lognormal around pause_len, about every pause_every seconds */
  double pause_every, pause_len;
  double stop_frac; /* > 0: stop and complete at this fraction */
  int popup_mode;   /* 0 honest, 1 constant-time script */
  int seeks;
  int face_mode;    /* 0 own face, 1 worker fails, 2 relayed to the student's phone, 3 remote
                     * desktop (the student must come to the camera), 4 photo/video replay */
  int dec_complete; /* the misconduct is provable at the first completion */
} style;

typedef struct ctx {
  sim *S;
  uint32_t ei;
  sim_enr *E;
  const mg_sim_course *c;
  const sim_course_int *ci;
  const mg_sim_platform *p;
  sim_student_int *si;
  sim_rng r;   /* behaviour */
  sim_rng nr;  /* network noise */
  sim_client *cl;
  int64_t t;   /* true time now */
  int64_t sync_next;
  style st;
  int mis_slot; /* which misconduct the current activity realises, -1 none */
  float seg[64];
  int nseg;
  int hold_quiz;      /* stop before quizzes (they are taken in a scheduled harvesting session) */
  int burst;          /* new clients push their reports in one burst (backdated forgery) */
  double partial_q;   /* share of videos a partial brusher forges */
  int partial_slot;
  int32_t ring;       /* answer ring (group index) for ANS_RING */
  float face_lo, face_hi; /* impostor's score range for checks during the exam */
} ctx;

/* ---- records ------------------------------------------------------------------------------- */
static sim_ev *ev_new(ctx *x, int kind) {
  sim *S = x->S;
  if (S->oom) return NULL;
  if (S->n_ev == S->cap_ev) {
    size_t nc = S->cap_ev ? S->cap_ev * 2 : 65536;
    sim_ev *ne = realloc(S->ev, nc * sizeof *ne);
    if (!ne) {
      S->oom = 1;
      return NULL;
    }
    S->ev = ne;
    S->cap_ev = nc;
  }
  sim_ev *v = &S->ev[S->n_ev++];
  memset(v, 0, sizeof *v);
  v->kind = (uint8_t)kind;
  v->enrol = x->ei;
  v->nonce = ((uint64_t)x->ei << 32) | x->E->counter++;
  v->cl = x->cl;
  v->i1 = -1;
  v->obj = -1;
  if (x->cl) {
    const sim_device *d = &S->dev[x->cl->device];
    v->ts = x->t + (int64_t)d->skew_ms * 1000;
    if (x->cl->offline || x->cl->burst) {
      x->sync_next += 8000 + (int64_t)(sim_u(&x->nr) * 30000);
      v->recv = x->sync_next;
    } else {
      v->recv = x->t + (int64_t)sim_lognormal(&x->nr, 120000.0, 0.5);
    }
    v->key = v->recv + x->cl->late_us;
  } else {
    v->ts = v->recv = v->key = x->t;
  }
  return v;
}

static void decisive(ctx *x, const sim_ev *v) {
  if (!v || x->mis_slot < 0) return;
  sim_mis *m = &x->E->mis[x->mis_slot];
  if (!m->dec_nonce) {
    m->dec_nonce = v->nonce;
    m->dec_us = v->key; /* when moocguard has it: a platform may push a client's reports late */
  }
}
/* Another account's misconduct made provable by this statement (the harvesting account when the
 * answers it revealed are submitted; an operator's first account when the second logs in). */
static void decisive_other(sim *S, uint32_t enr, int fam, const sim_ev *v) {
  if (!v || enr >= S->n_enr) return;
  sim_enr *E = &S->e[enr];
  for (int k = 0; k < E->n_mis; k++)
    if (E->mis[k].family == fam && !E->mis[k].dec_nonce) {
      E->mis[k].dec_nonce = v->nonce;
      E->mis[k].dec_us = v->key;
    }
}

static sim_client *client_new(ctx *x, uint32_t device, uint32_t ip, int offline) {
  sim *S = x->S;
  sim_client *cl = mg_arena_calloc(&S->day_arena[S->day & 3], sizeof *cl);
  if (!cl) {
    S->oom = 1;
    return NULL;
  }
  cl->enrol = x->ei;
  cl->device = device;
  cl->ip = ip;
  cl->v6 = S->dev[device].kind == DEV_PHONE && !offline && sim_chance(&x->nr, 0.3);
  cl->offline = (uint8_t)offline;
  cl->csid = sim_next(&x->nr);
  cl->burst = (uint8_t)x->burst;
  if (sim_chance(&x->nr, S->cfg.late_push_rate)) cl->late_us = (int64_t)sim_range(&x->nr, 300, 7200) * SIM_US;
  return cl;
}

/* ---- text ---------------------------------------------------------------------------------- */
/* Seconds with up to 3 decimals, trailing zeros dropped ("212.5"); no printf on this hot path. */
static size_t fmt3(char *dst, float v) {
  long long m = (long long)((double)(v < 0 ? 0 : v) * 1000.0 + 0.5);
  char t[24];
  int k = 0;
  long long ip = m / 1000;
  do {
    t[k++] = (char)('0' + ip % 10);
    ip /= 10;
  } while (ip);
  size_t n = 0;
  while (k) dst[n++] = t[--k];
  int f = (int)(m % 1000);
  if (f) {
    dst[n++] = '.';
    dst[n++] = (char)('0' + f / 100);
    dst[n++] = (char)('0' + f / 10 % 10);
    dst[n++] = (char)('0' + f % 10);
    while (dst[n - 1] == '0') n--;
  }
  return n;
}
static const char *segments(ctx *x, float upto) {
  char buf[2048];
  size_t n = 0;
  buf[0] = '\0';
  for (int i = 0; i + 1 < x->nseg + 1 && n < sizeof buf - 64; i += 2) {
    float a = x->seg[i], b = i + 1 < x->nseg ? x->seg[i + 1] : upto;
    if (b < a) b = a;
    if (n) memcpy(buf + n, "[,]", 3), n += 3;
    n += fmt3(buf + n, a);
    memcpy(buf + n, "[.]", 3), n += 3;
    n += fmt3(buf + n, b);
  }
  char *s = mg_arena_strndup(&x->S->day_arena[x->S->day & 3], buf, n);
  if (!s) x->S->oom = 1;
  return s ? s : "";
}
static void seg_open(ctx *x, float at) {
  if (x->nseg % 2 == 0 && x->nseg < 62) x->seg[x->nseg++] = at;
}
static void seg_close(ctx *x, float at) {
  if (x->nseg % 2 == 1) x->seg[x->nseg++] = at;
}

/* ---- login / logout ------------------------------------------------------------------------ */
static void login(ctx *x, int method) {
  sim_ev *v = ev_new(x, MG_XAPI_KIND_SESSION_LOGIN);
  if (v) v->sub = (uint8_t)method;
  x->t += (int64_t)sim_range(&x->r, 2, 25) * SIM_US;
}
static void logout(ctx *x, int64_t began) {
  sim_ev *v = ev_new(x, MG_XAPI_KIND_SESSION_LOGOUT);
  if (v) v->f[0] = (float)((double)(x->t - began) / SIM_US);
}

/* ---- face checks --------------------------------------------------------------------------- */
static void face_check(ctx *x, int purpose, int parent_video, int exam, float score, int fail, int64_t delay,
                       sim_client *capture) {
  sim_ev *p = ev_new(x, MG_XAPI_KIND_FACE_PROMPTED);
  if (!p) return;
  uint64_t check = p->nonce;
  p->ref = check;
  p->sub = (uint8_t)purpose;
  p->obj = parent_video;
  p->flags = (uint16_t)(exam ? EVF_PARENT_EXAM : parent_video >= 0 ? EVF_PARENT_VIDEO : 0);
  uint16_t flags = p->flags; /* the next ev_new may move the event array: p dies with it */
  int64_t t0 = x->t;
  x->t += delay;
  sim_client *keep = x->cl;
  if (capture) x->cl = capture;
  sim_ev *v = ev_new(x, fail >= 0 ? MG_XAPI_KIND_FACE_FAILED : MG_XAPI_KIND_FACE_PASSED);
  x->cl = keep;
  if (!v) return;
  v->ref = check;
  v->sub = (uint8_t)purpose;
  v->obj = parent_video;
  v->flags = flags;
  v->f[0] = score;
  v->f[1] = (float)((double)(x->t - t0) / SIM_US);
  v->i1 = fail;
  if (x->st.face_mode) decisive(x, v);
  x->t += (int64_t)sim_range(&x->r, 1, 4) * SIM_US;
}

static float own_face_score(ctx *x) {
  double s = 0.9 + sim_normal(&x->r) * 0.035;
  return (float)(s > 0.995 ? 0.995 : s);
}

/* One study-time face check as the current style dictates. */
static void study_face(ctx *x, int purpose, int video) {
  if (x->st.face_mode == 1) {
    int fail = sim_chance(&x->r, 0.5) ? FF_MISMATCH : FF_TIMEOUT;
    int64_t d = fail == FF_TIMEOUT ? 180 * SIM_US : (int64_t)sim_range(&x->r, 8, 40) * SIM_US;
    face_check(x, purpose, video, 0, fail == FF_MISMATCH ? (float)sim_range(&x->r, 0.2, 0.6) : 0.0f, fail, d,
               NULL);
  } else if (x->st.face_mode == 3) {
    /* remote desktop: the camera is the student's own, but the student is elsewhere */
    if (sim_chance(&x->r, 0.55)) {
      int fail = sim_chance(&x->r, 0.5) ? FF_NO_FACE : FF_TIMEOUT;
      face_check(x, purpose, video, 0, 0.0f, fail, fail == FF_TIMEOUT ? 180 * SIM_US : (int64_t)sim_range(&x->r, 10, 60) * SIM_US,
                 NULL);
    } else {
      face_check(x, purpose, video, 0, own_face_score(x), -1, (int64_t)sim_range(&x->r, 60, 170) * SIM_US, NULL);
    }
  } else if (x->st.face_mode == 4) {
    /* a photo or recorded clip held to the camera: liveness catches some, the rest pass narrowly */
    if (sim_chance(&x->r, 0.6))
      face_check(x, purpose, video, 0, (float)sim_range(&x->r, 0.7, 0.9), FF_LIVENESS, (int64_t)sim_range(&x->r, 8, 30) * SIM_US,
                 NULL);
    face_check(x, purpose, video, 0, (float)sim_range(&x->r, 0.8, 0.86), -1, (int64_t)sim_range(&x->r, 8, 40) * SIM_US, NULL);
  } else if (x->st.face_mode == 2) {
    /* the worker messages the student, who verifies on their own phone minutes later */
    sim_client *phone = client_new(x, x->si->phone, x->si->home_ip, 0);
    if (!phone) return;
    face_check(x, purpose, video, 0, own_face_score(x), -1, (int64_t)sim_range(&x->r, 150, 900) * SIM_US, phone);
  } else {
    int slow = sim_chance(&x->r, 0.05);
    int64_t d = (int64_t)(sim_lognormal(&x->r, slow ? 60 : 9, 0.5) * SIM_US);
    if (sim_chance(&x->r, 0.03)) /* bad light, glasses: honest failures happen, then a retry passes */
      face_check(x, purpose, video, 0, (float)sim_range(&x->r, 0.55, 0.79), FF_MISMATCH, d, NULL);
    face_check(x, purpose, video, 0, own_face_score(x), -1, d, NULL);
  }
}

/* ---- answering ----------------------------------------------------------------------------- */
typedef enum {
  ANS_HONEST, ANS_SCRIPT, ANS_BANK, ANS_HARVEST, ANS_EXPERT,
  ANS_BANK_ERR, /* bank answers, some wrong on purpose, time that imitates reading */
  ANS_OCR,      /* screenshot -> search/AI: flat time, high accuracy on every item */
  ANS_SCOUT,    /* quick guesses to reveal the answer key */
  ANS_KEY,      /* the revealed key, typed in */
  ANS_RING,     /* the answer ring's shared answers */
  ANS_REMOTE    /* an expert through a remote-desktop link (input lag) */
} ans_mode;

static double reading_s(const mg_sim_item *it) { return (double)strlen(it->stem) / 3.0 / 9.0; }

static const char *wrong_with(sim_rng *r, const mg_sim_item *it) {
  static const char *const ch[] = {"a", "b", "c", "d"};
  if (!strcmp(it->interaction, "choice")) {
    const char *w = ch[sim_int(r, 0, 3)];
    return strcmp(w, it->correct) ? w : ch[(w[0] - 'a' + 1) % 4];
  }
  if (!strcmp(it->interaction, "true-false")) return it->correct[0] == 't' ? "false" : "true";
  return sim_chance(r, 0.3) ? "" : "不确定";
}
static const char *wrong_answer(ctx *x, const mg_sim_item *it) { return wrong_with(&x->r, it); }

static const char *const k_ai_text =
    "该问题可以从以下几个方面理解：首先，明确相关基本概念及其适用条件；其次，结合典型方法进行分析，注意关键步骤之间的逻辑关系；"
    "最后，联系实际应用场景加以总结。综上所述，正确理解本章内容需要理论与实践相结合。";

/* Answers item i; returns 1 if correct. */
static int answer(ctx *x, int item, int kind, uint64_t attempt, int assess, int attempt_no, ans_mode mode,
                  float ability) {
  const mg_sim_item *it = &x->c->items[item];
  int open = !strcmp(it->interaction, "long-fill-in");
  double p = 1.0 / (1.0 + exp(-(1.7 * ((double)ability - it->difficulty) + 0.8)));
  double dur;
  const char *resp;
  int ok;
  switch (mode) {
    case ANS_SCRIPT:
    case ANS_HARVEST:
    case ANS_BANK:
      if (mode == ANS_BANK)
        dur = sim_range(&x->r, 6, 25); /* search time, unrelated to the item */
      else
        dur = x->st.hb_a + sim_normal(&x->r) * 0.15;
      if (it->in_public_bank) {
        resp = it->bank_answer;
      } else {
        resp = sim_chance(&x->r, 0.3) ? it->correct : wrong_answer(x, it);
      }
      if (mode == ANS_HARVEST && attempt_no == 1) resp = wrong_answer(x, it);
      if (mode == ANS_HARVEST && attempt_no > 1) resp = it->correct;
      break;
    case ANS_BANK_ERR:
      dur = reading_s(it) * sim_range(&x->r, 0.8, 1.3) + sim_range(&x->r, 3, 12);
      resp = it->in_public_bank ? it->bank_answer : sim_chance(&x->r, 0.3) ? it->correct : wrong_answer(x, it);
      if (sim_chance(&x->r, 0.18)) resp = wrong_answer(x, it); /* so the score does not look perfect */
      if (open) resp = k_ai_text;
      break;
    case ANS_OCR:
      dur = sim_range(&x->r, 7, 16);
      resp = open ? k_ai_text : sim_chance(&x->r, 0.88) ? it->correct : wrong_answer(x, it);
      break;
    case ANS_SCOUT:
      dur = sim_range(&x->r, 1, 4);
      resp = sim_chance(&x->r, 0.25) ? it->correct : wrong_answer(x, it);
      break;
    case ANS_KEY:
      dur = sim_range(&x->r, 2.5, 9);
      resp = open ? k_ai_text : it->correct;
      break;
    case ANS_RING: {
      /* the ring's source posts answers in the group chat; members copy nearly all of them */
      sim_rng gr = sim_rng_at(x->S->cfg.seed, 0x819 + (uint64_t)x->ring, (uint64_t)item);
      const char *shared = sim_chance(&gr, 0.9) ? it->correct : wrong_with(&gr, it);
      dur = sim_range(&x->r, 3, 15);
      resp = open ? k_ai_text : sim_chance(&x->r, 0.95) ? shared : wrong_answer(x, it);
      break;
    }
    default: {
      double think = sim_lognormal(&x->r, 8.0 + 10.0 * (it->difficulty + 2), 0.55);
      if (mode == ANS_EXPERT || x->E->cohort == MG_SIM_HONEST_STRONG) think *= 0.55;
      if (open) think += sim_range(&x->r, 60, 400);
      if (mode == ANS_REMOTE) think = think * 0.55 + sim_range(&x->r, 1, 3); /* remote input lag */
      dur = reading_s(it) * sim_range(&x->r, 0.9, 1.4) + think;
      if (mode == ANS_EXPERT || mode == ANS_REMOTE) p = 0.93;
      resp = sim_chance(&x->r, p) ? it->correct : wrong_answer(x, it);
      if (x->E->cohort == MG_SIM_HONEST_STUDY_GROUP && kind == AK_QUIZ && mode == ANS_HONEST && sim_chance(&x->r, 0.5)) {
        /* study groups compare answers: half the items come from the group, right or wrong */
        sim_rng gr = sim_rng_at(x->S->cfg.seed, 0x5A0 + (uint64_t)x->E->study_group, (uint64_t)item);
        resp = sim_chance(&gr, 0.8) ? it->correct : wrong_with(&gr, it);
      }
      if (open) resp = "根据课程内容，我的理解是：该问题需要结合本章的基本概念和典型方法分析，具体步骤见课件。";
    }
  }
  if (dur < 0.4) dur = 0.4;
  x->t += (int64_t)(dur * SIM_US);
  ok = !open && !strcmp(resp, it->correct);
  sim_ev *v = ev_new(x, open ? MG_XAPI_KIND_ITEM_ANSWERED_OPEN : MG_XAPI_KIND_ITEM_ANSWERED);
  if (!v) return ok;
  v->obj = item;
  v->s = resp;
  v->ref = attempt;
  v->sub = (uint8_t)kind;
  v->i1 = assess;
  v->i2 = attempt_no;
  v->f[0] = (float)dur;
  if (ok) v->flags |= EVF_SUCCESS;
  x->t += (int64_t)sim_range(&x->r, 0.3, 2.5) * SIM_US;
  return ok;
}

/* An attempt at a quiz (assess = chapter index) or the exam (assess = -1). */
static long attempt(ctx *x, int kind, int assess, int attempt_no, ans_mode mode, float ability,
                    uint32_t cam2, int cams) {
  sim_ev *s = ev_new(x, kind == AK_EXAM ? MG_XAPI_KIND_EXAM_STARTED : MG_XAPI_KIND_ATTEMPT_STARTED);
  if (!s) return -1;
  uint64_t att = s->nonce;
  s->ref = att;
  s->sub = (uint8_t)kind;
  s->obj = assess;
  s->i1 = attempt_no;
  s->i2 = kind == AK_EXAM ? (int32_t)cam2 : -1;
  s->f[0] = (float)cams;
  int64_t t0 = x->t;
  int first, n;
  if (kind == AK_EXAM) {
    first = x->ci->first_item_exam;
    n = x->c->exam_items;
  } else if (kind == AK_POPUP) {
    first = (assess * 7) % x->ci->first_item_exam;
    n = 1;
  } else {
    first = assess * x->c->items_per_quiz;
    n = x->c->items_per_quiz;
  }
  x->t += (int64_t)sim_range(&x->r, 1, 6) * SIM_US;
  int right = 0, gradable = 0;
  for (int i = 0; i < n; i++) {
    int item = first + i;
    if (kind == AK_EXAM && i == n / 2 && x->st.face_mode == 0 && sim_chance(&x->r, 0.6))
      face_check(x, FP_EXAM_RANDOM, -1, 1, x->face_hi > 0 ? (float)sim_range(&x->r, x->face_lo, x->face_hi) : own_face_score(x),
                 -1, (int64_t)sim_range(&x->r, 4, 15) * SIM_US, NULL);
    right += answer(x, item, kind, att, assess, attempt_no, mode, ability);
    gradable += strcmp(x->c->items[item].interaction, "long-fill-in") != 0;
  }
  sim_ev *v = ev_new(x, MG_XAPI_KIND_ATTEMPT_SUBMITTED);
  if (!v) return -1;
  v->ref = att;
  v->sub = (uint8_t)kind;
  v->obj = assess;
  v->f[0] = (float)((double)(x->t - t0) / SIM_US);
  v->f[1] = (float)right;
  v->f[2] = (float)(gradable ? gradable : 1);
  if (right * 10 >= gradable * 6) v->flags |= EVF_SUCCESS;
  return (long)(x->S->n_ev - 1);
}

/* ---- video --------------------------------------------------------------------------------- */
static sim_ev *vev(ctx *x, int kind, int vid, uint64_t session) {
  sim_ev *v = ev_new(x, kind);
  if (!v) return NULL;
  v->obj = vid;
  v->ref = session;
  v->f[2] = (float)x->st.speed_rep;
  v->f[3] = x->st.volume;
  v->flags |= x->st.hidden ? EVF_HIDDEN : EVF_VISIBLE;
  if (x->st.low_quality) v->flags |= EVF_QUALITY_LOW;
  return v;
}

static double hb_gap(ctx *x) {
  const style *st = &x->st;
  switch (st->hb_mode) {
    case 1: return sim_range(&x->r, st->hb_a, st->hb_b);
    case 2: return sim_range(&x->r, st->hb_a, st->hb_b);
    case 3: return sim_lognormal(&x->r, st->hb_a, st->hb_b);
    case 4: return 0.5 + sim_exp(&x->r, st->hb_a);
    default: {
      /* the native player: its timer plus event-loop delay and occasional throttling */
      double g = x->p->heartbeat_s * (1.0 + sim_normal(&x->r) * 0.01) + sim_exp(&x->r, 0.25);
      if (st->hidden || sim_chance(&x->r, 0.02)) g += sim_exp(&x->r, 2.0);
      return g;
    }
  }
}

/* Plays video E->vnext from E->vpos until it is complete or `until` passes. Returns 1 if the video
 * was completed. */
static int watch(ctx *x, int64_t until) {
  sim_enr *E = x->E;
  if (E->vnext >= x->c->n_videos) return 0;
  int vid = E->vnext;
  double len = x->c->videos[vid].length;
  double thr = x->p->completion_threshold;
  style *st = &x->st;
  sim_ev *init = vev(x, MG_XAPI_KIND_VIDEO_INITIALIZED, vid, 0);
  if (!init) return 0;
  uint64_t sess = init->nonce;
  init->ref = sess;
  int64_t vstart = x->t;
  x->t += (int64_t)(sim_range(&x->r, 0.6, 3.0) * SIM_US);
  double pos = E->vpos, cov = E->vcov;
  x->nseg = 0;
  if (cov > 1) {
    x->seg[0] = 0;
    x->seg[1] = (float)cov;
    x->nseg = 2;
  }
  if (pos >= len - 1) pos = 0;
  sim_ev *v = vev(x, MG_XAPI_KIND_VIDEO_PLAYED, vid, sess);
  if (v) v->f[0] = (float)pos;
  seg_open(x, (float)pos);
  if (st->speed_rep != 1.0 && st->hb_mode == 0) {
    x->t += (int64_t)(sim_range(&x->r, 2, 20) * SIM_US);
    v = vev(x, MG_XAPI_KIND_VIDEO_INTERACTED, vid, sess);
    if (v) v->f[0] = (float)pos;
  }
  if (st->face_mode && sim_chance(&x->r, 0.5)) study_face(x, FP_STUDY_START, vid);
  int completed = 0, hbs = 0, popup_done = vid % 2 == 1;
  double next_pause = st->pause_mode == 2 ? st->pause_every : 0;
  double since_pause = 0;
  double stop_at = st->stop_frac > 0 ? len * st->stop_frac : len;
  int face_done = 0;
  while (x->t < until && !x->S->oom) {
    double gap = hb_gap(x);
    double adv = st->hb_mode == 2 ? st->forge_adv * sim_range(&x->r, 0.9, 1.1) : gap * st->speed;
    int at_end = 0;
    if (pos + adv >= stop_at) {
      double need = stop_at - pos;
      gap = st->hb_mode == 2 ? gap : need / st->speed;
      adv = need;
      at_end = 1;
    }
    x->t += (int64_t)(gap * SIM_US);
    pos += adv;
    cov += adv;
    if (cov > len) cov = len;
    E->vplayed += (float)gap;
    v = vev(x, MG_XAPI_KIND_VIDEO_HEARTBEAT, vid, sess);
    if (!v) return 0;
    v->f[0] = (float)pos;
    v->f[1] = (float)(cov / len > 1 ? 1 : cov / len);
    v->i1 = st->no_input == 1 ? 0 : st->no_input == 2 ? sim_int(&x->r, 1, 3)
                                                       : (sim_chance(&x->r, 0.7) ? 0 : sim_int(&x->r, 1, 12));
    hbs++;
    if (x->mis_slot >= 0 && hbs == 3 && st->hb_mode == 2) decisive(x, v);
    if (!completed && cov >= thr * len - 0.01) {
      sim_ev *c = vev(x, MG_XAPI_KIND_VIDEO_COMPLETED, vid, sess);
      if (!c) return 0;
      seg_close(x, (float)pos);
      c->f[0] = (float)pos;
      c->f[1] = (float)(cov / len > 1 ? 1 : cov / len);
      c->f[2] = (float)st->speed_rep;
      c->f[3] = E->vplayed;
      c->s = segments(x, (float)pos);
      seg_open(x, (float)pos);
      completed = 1;
      if (st->dec_complete) decisive(x, c);
    }
    if (at_end) break;
    /* pop-up question halfway through some videos */
    if (!popup_done && pos > len * 0.5) {
      popup_done = 1;
      v = vev(x, MG_XAPI_KIND_VIDEO_PAUSED, vid, sess);
      seg_close(x, (float)pos);
      if (v) {
        v->f[0] = (float)pos;
        v->f[1] = (float)(cov / len);
        v->s = segments(x, (float)pos);
      }
      ans_mode m = st->popup_mode ? ANS_SCRIPT : ANS_HONEST;
      double keep = st->hb_a;
      if (st->popup_mode) st->hb_a = sim_range(&x->r, 1.0, 2.0);
      attempt(x, AK_POPUP, vid, 1, m, x->si->ability, 0, 0);
      st->hb_a = keep;
      v = vev(x, MG_XAPI_KIND_VIDEO_PLAYED, vid, sess);
      if (v) v->f[0] = (float)pos;
      seg_open(x, (float)pos);
    }
    if (!face_done && st->face_mode && pos > len * 0.3) {
      face_done = 1;
      study_face(x, FP_STUDY_RANDOM, vid);
    } else if (!face_done && pos > len * 0.3 && sim_chance(&x->r, 0.01)) {
      face_done = 1;
      study_face(x, FP_STUDY_RANDOM, vid);
    }
    /* pauses */
    since_pause += gap;
    int pause = 0;
    double plen = 0;
    if (st->pause_mode == 0 && sim_chance(&x->r, gap / (x->si->habits & HB_RARE_PAUSE ? 3000.0 : 600.0))) {
      pause = 1;
      plen = sim_lognormal(&x->r, 25.0, 1.4);
    } else if (st->pause_mode == 4 && sim_chance(&x->r, gap / st->pause_every)) {
      pause = 1; /* a humanised bot: pauses of plausible length, but from one narrow distribution */
      plen = sim_lognormal(&x->r, st->pause_len, 0.6);
    } else if (st->pause_mode == 1 && sim_chance(&x->r, gap / 900.0)) {
      pause = 1; /* the tool notices the pause (focus loss, pop-up) and clicks play again */
      plen = sim_range(&x->r, 0.8, 1.4);
    } else if (st->pause_mode == 2 && since_pause >= next_pause) {
      pause = 1;
      plen = st->pause_len;
    }
    if (pause) {
      since_pause = 0;
      v = vev(x, MG_XAPI_KIND_VIDEO_PAUSED, vid, sess);
      seg_close(x, (float)pos);
      if (v) {
        v->f[0] = (float)pos;
        v->f[1] = (float)(cov / len);
        v->s = segments(x, (float)pos);
      }
      if (plen > 1800) break; /* walked away: the page closes */
      x->t += (int64_t)(plen * SIM_US);
      v = vev(x, MG_XAPI_KIND_VIDEO_PLAYED, vid, sess);
      if (v) v->f[0] = (float)pos;
      seg_open(x, (float)pos);
    }
    /* seeks: skipping a known part, or going back to re-watch */
    if (st->seeks && sim_chance(&x->r, gap / 1500.0)) {
      double to = sim_chance(&x->r, 0.6) ? pos + sim_range(&x->r, 10, 60) : pos - sim_range(&x->r, 10, 90);
      if (to < 0) to = 0;
      if (to > len - 5) to = len - 5;
      x->t += (int64_t)(sim_range(&x->r, 0.5, 3) * SIM_US);
      v = vev(x, MG_XAPI_KIND_VIDEO_SEEKED, vid, sess);
      seg_close(x, (float)pos);
      if (v) {
        v->f[0] = (float)pos;
        v->f[1] = (float)to;
      }
      if (to > pos) cov -= 0; /* a forward skip leaves a hole: coverage does not grow */
      pos = to;
      seg_open(x, (float)pos);
    }
  }
  if (pos >= stop_at - 0.01 && !completed && st->stop_frac > 0) {
    /* the tool stops at its threshold; the platform's rule may or may not count it */
  }
  seg_close(x, (float)pos);
  v = vev(x, MG_XAPI_KIND_VIDEO_PAUSED, vid, sess);
  if (v) {
    v->f[0] = (float)pos;
    v->f[1] = (float)(cov / len > 1 ? 1 : cov / len);
    v->s = segments(x, (float)pos);
  }
  x->t += (int64_t)(sim_range(&x->r, 0.5, 8) * SIM_US);
  v = vev(x, MG_XAPI_KIND_VIDEO_TERMINATED, vid, sess);
  if (v) {
    v->f[0] = (float)pos;
    v->f[1] = (float)(cov / len > 1 ? 1 : cov / len);
    v->f[3] = (float)((double)(x->t - vstart) / SIM_US);
    v->s = segments(x, (float)pos);
  }
  x->t += (int64_t)(sim_range(&x->r, 2, 30) * SIM_US);
  if (completed || cov >= thr * len - 0.01) {
    E->vnext++;
    E->vpos = E->vcov = E->vplayed = 0;
    return 1;
  }
  E->vpos = (float)pos;
  E->vcov = (float)cov;
  return 0;
}

/* Forged progress: no player at all, just requests. */
static void forge_video(ctx *x, int variant) {
  sim_enr *E = x->E;
  int vid = E->vnext;
  if (vid >= (int)x->c->n_videos) return;
  double len = x->c->videos[vid].length;
  x->st.hb_mode = 2;
  x->st.seeks = 0;
  x->st.pause_mode = 3;
  x->st.popup_mode = 1;
  x->st.no_input = 1;
  if (variant == BF_TAIL_JUMP) {
    /* the request claims the position and the played segments just short of the end at once */
    sim_ev *init = vev(x, MG_XAPI_KIND_VIDEO_INITIALIZED, vid, 0);
    if (!init) return;
    uint64_t sess = init->ref = init->nonce;
    x->t += (int64_t)(sim_range(&x->r, 0.5, 3) * SIM_US);
    sim_ev *v = vev(x, MG_XAPI_KIND_VIDEO_PLAYED, vid, sess);
    if (v) v->f[0] = 0;
    double at = len * sim_range(&x->r, 0.9, 0.97);
    x->nseg = 2;
    x->seg[0] = 0;
    x->seg[1] = (float)at;
    int reports = sim_int(&x->r, 1, 3);
    sim_ev *c = NULL;
    for (int i = 0; i < reports; i++) {
      x->t += (int64_t)(x->p->heartbeat_s * sim_range(&x->r, 0.05, 1.0) * SIM_US);
      at += i ? x->p->heartbeat_s * 0.5 : 0;
      if (at > len) at = len;
      v = vev(x, MG_XAPI_KIND_VIDEO_HEARTBEAT, vid, sess);
      if (!v) return;
      v->f[0] = (float)at;
      v->f[1] = (float)(at / len);
      v->i1 = 0;
    }
    x->seg[1] = (float)at;
    if (at >= x->p->completion_threshold * len - 0.01) {
      c = vev(x, MG_XAPI_KIND_VIDEO_COMPLETED, vid, sess);
      if (!c) return;
      c->f[0] = (float)at;
      c->f[1] = (float)(at / len);
      c->f[3] = (float)((double)(x->t - init->ts) / SIM_US);
      c->s = segments(x, (float)at);
      decisive(x, c);
    } else {
      decisive(x, v);
    }
    x->t += (int64_t)(sim_range(&x->r, 0.3, 3) * SIM_US);
    sim_ev *t = vev(x, MG_XAPI_KIND_VIDEO_TERMINATED, vid, sess);
    if (t) {
      t->f[0] = (float)at;
      t->f[1] = (float)(at / len);
      t->s = segments(x, (float)at);
    }
    E->vnext++;
    E->vpos = E->vcov = E->vplayed = 0;
    return;
  }
  if (variant == BF_INSTANT) { /* instant completion */
    sim_ev *init = vev(x, MG_XAPI_KIND_VIDEO_INITIALIZED, vid, 0);
    if (!init) return;
    init->ref = init->nonce;
    x->t += (int64_t)(sim_range(&x->r, 0.5, 4) * SIM_US);
    x->nseg = 2;
    x->seg[0] = 0;
    x->seg[1] = (float)len;
    uint64_t sess0 = init->nonce;
    sim_ev *c = vev(x, MG_XAPI_KIND_VIDEO_COMPLETED, vid, sess0);
    if (!c) return;
    c->f[0] = (float)len;
    c->f[1] = 1;
    c->f[3] = (float)sim_range(&x->r, 1, 5);
    c->s = segments(x, (float)len);
    decisive(x, c);
    const char *segs = c->s;
    uint64_t sess = c->ref;
    x->t += (int64_t)(sim_range(&x->r, 0.2, 2) * SIM_US);
    sim_ev *t = vev(x, MG_XAPI_KIND_VIDEO_TERMINATED, vid, sess);
    if (t) {
      t->f[0] = (float)len;
      t->f[1] = 1;
      t->s = segs;
    }
    E->vnext++;
    E->vpos = E->vcov = E->vplayed = 0;
    return;
  }
  x->st.hb_a = sim_range(&x->r, 0.5, 1.5);
  x->st.hb_b = x->st.hb_a + sim_range(&x->r, 0.1, 2.0);
  x->st.forge_adv = sim_range(&x->r, 30, 90);
  watch(x, x->t + 3600 * SIM_US);
}

/* ---- reading, tasks, discussion ------------------------------------------------------------ */
static void read_chapter(ctx *x, int ch, int no_dwell) {
  double dwell = no_dwell ? sim_range(&x->r, 0.8, 3) : sim_lognormal(&x->r, 240, 0.7);
  x->t += (int64_t)(dwell * SIM_US);
  sim_ev *v = ev_new(x, MG_XAPI_KIND_PAGE_VIEWED);
  if (v) {
    v->obj = ch;
    v->f[0] = (float)dwell;
    v->i1 = no_dwell ? 0 : sim_int(&x->r, 3, 80);
    v->flags |= EVF_VISIBLE;
  }
  x->t += (int64_t)(sim_range(&x->r, 0.05, 0.5) * SIM_US);
  v = ev_new(x, MG_XAPI_KIND_TASK_COMPLETED);
  if (v) {
    v->obj = ch;
    v->f[0] = (float)dwell;
  }
  x->E->docs = (uint16_t)(ch + 1);
  x->t += (int64_t)(sim_range(&x->r, 2, 40) * SIM_US);
}

static const char *const k_posts[] = {
    "这一章的例题讲得很清楚，但是课后第二题我还是没想明白，有同学能讲讲思路吗？",
    "老师讲的这个方法和教材上的不太一样，考试的时候两种写法都可以吗？",
    "分享一下我的笔记：先理解基本概念，再看典型例题，最后自己推导一遍。",
    "视频第8分钟左右那个结论是怎么得出来的？我反复看了几遍。",
    "同意楼上的说法，补充一点：注意边界条件。",
    "这部分内容和上学期学的知识联系很紧，建议先复习一下。",
    "请问本章测验的截止时间是周日晚上吗？",
    "我觉得这一节最难的是把理论和实际问题对应起来。",
};
static const char *const k_quota_posts[] = {
    "学习了本章内容，收获很大，老师讲得非常好，受益匪浅。",
    "通过本节课的学习，我对相关知识有了更深入的理解，今后要继续努力。",
    "课程内容丰富，讲解清晰，对我的专业学习很有帮助。",
};

static void discuss(ctx *x, const char *text, int commented) {
  sim_ev *v = ev_new(x, commented ? MG_XAPI_KIND_DISCUSSION_COMMENTED : MG_XAPI_KIND_DISCUSSION_POSTED);
  if (!v) return;
  v->s = text;
  v->obj = (int32_t)(sim_next(&x->r) % (uint64_t)x->ci->n_topics);
  v->ref = v->nonce;
  x->t += (int64_t)(sim_range(&x->r, 5, 60) * SIM_US);
}

/* ---- a study session ----------------------------------------------------------------------- */
static int videos_of_chapter_done(ctx *x, int ch) {
  return x->E->vnext >= x->ci->chapter_first_video[ch] + x->ci->chapter_videos[ch];
}

/* Works through the course in order until `until`: videos, then the chapter's reading and quiz. */
static void study(ctx *x, int64_t until, ans_mode quiz_mode, int forge_variant, int task_runner) {
  sim_enr *E = x->E;
  while (x->t < until && !x->S->oom) {
    int ch = E->quizzes;
    if (ch >= x->c->chapters) break;
    if (x->t < x->ci->chapter_due_us[ch] - 14 * SIM_DAY_US) break; /* not released yet */
    if (!videos_of_chapter_done(x, ch)) {
      double u = (double)(sim_hash(x->S->cfg.seed, x->ei, E->vnext) >> 11) * 0x1.0p-53;
      if (forge_variant >= 0) {
        forge_video(x, forge_variant);
      } else if (x->partial_q > 0 && (u < x->partial_q || !E->mis[x->partial_slot].dec_nonce)) {
        /* a partial brusher forges some videos and watches the rest; the first it reaches is
         * always forged, so that a student who stops after a few videos is not labelled for a
         * forgery that never happened */
        style keep = x->st;
        int slot = x->mis_slot;
        x->mis_slot = x->partial_slot;
        forge_video(x, u < x->partial_q * 0.3 ? BF_INSTANT : BF_RATE_FORGE);
        x->mis_slot = slot;
        x->st = keep;
      } else {
        watch(x, until);
      }
      continue;
    }
    if (E->docs <= ch) read_chapter(x, ch, task_runner);
    if (x->t >= until || x->hold_quiz) break;
    int attempts = quiz_mode == ANS_HARVEST ? 2 : 1;
    for (int a = 1; a <= attempts; a++) {
      long sub = attempt(x, AK_QUIZ, ch, a, quiz_mode, x->si->ability, 0, 0);
      if (sub >= 0 && quiz_mode != ANS_HONEST && quiz_mode != ANS_EXPERT && x->mis_slot >= 0 && a == attempts)
        decisive(x, &x->S->ev[sub]);
      x->t += (int64_t)(sim_range(&x->r, 20, 240) * SIM_US);
    }
    E->quizzes++;
  }
}

/* ---- planning ------------------------------------------------------------------------------ */
static int mis_index(const sim_enr *E, int fam) {
  for (int i = 0; i < E->n_mis; i++)
    if (E->mis[i].family == fam) return i;
  return -1;
}

static void style_honest(ctx *x) {
  style *st = &x->st;
  memset(st, 0, sizeof *st);
  st->speed = 1.0;
  double cap = x->p->max_speed;
  sim_rng pr = sim_rng_at(x->S->cfg.seed, 0x5EED, x->ei); /* stable per enrolment */
  if (x->E->cohort == MG_SIM_HONEST_FAST_VIEWER || x->E->cohort == MG_SIM_HONEST_STRONG ||
      sim_chance(&pr, 0.15)) {
    static const double sp[] = {1.25, 1.5, 2.0};
    st->speed = sp[sim_int(&pr, 0, 2)];
    if (st->speed > cap) st->speed = cap;
  }
  /* half the fast viewers simply pick the fastest setting the player offers: exactly the cap */
  if (x->E->cohort == MG_SIM_HONEST_FAST_VIEWER && sim_chance(&pr, 0.5)) st->speed = cap;
  if (x->E->cohort == MG_SIM_HONEST_CRAMMER) st->speed = cap;
  st->speed_rep = st->speed;
  st->volume = (float)(sim_chance(&pr, 0.08) ? 0.0 : sim_range(&pr, 0.3, 1.0)); /* library: muted */
  st->seeks = 1;
}

static uint32_t campus_or_home(ctx *x, int64_t t) {
  sim *S = x->S;
  uint32_t nat = S->univi[S->stud[x->E->student].university].nat_ip;
  if (x->E->cohort == MG_SIM_HONEST_NAT || x->E->cohort == MG_SIM_HONEST_STUDY_GROUP) return nat;
  int wd = (int)(((t - S->cfg.term_start_us) / SIM_DAY_US) % 7);
  return (wd < 5 && sim_chance(&x->r, 0.55)) ? nat : x->si->home_ip;
}

static uint32_t any_host(sim_rng *r, uint32_t pool16) { return pool16 | (uint32_t)sim_int(r, 256, 65000); }

static void session_study(ctx *x, int64_t start, double minutes, uint32_t device, uint32_t ip, int offline,
                          int method, ans_mode qm, int forge_variant, int task_runner) {
  sim_client *cl = client_new(x, device, ip, offline);
  if (!cl) return;
  x->cl = cl;
  x->t = start;
  if (offline) {
    cl->sync_us = start + (int64_t)(minutes * 60 + sim_range(&x->r, 1800, 30 * 3600)) * SIM_US;
    x->sync_next = cl->sync_us;
  } else if (cl->burst) { /* the whole fabricated history is sent a few minutes after its end */
    cl->sync_us = start + (int64_t)(minutes * 60 + sim_range(&x->r, 300, 1500)) * SIM_US;
    x->sync_next = cl->sync_us;
  }
  login(x, method);
  study(x, start + (int64_t)(minutes * 60 * SIM_US), qm, forge_variant, task_runner);
  if (sim_chance(&x->r, 0.04)) discuss(x, k_posts[sim_int(&x->r, 0, 7)], sim_chance(&x->r, 0.6));
  if (sim_chance(&x->r, 0.6)) logout(x, start);
}

/* When (local hour) a student tends to study. */
static double pref_hour(sim_rng *pr) {
  double u = sim_u(pr);
  if (u < 0.6) return sim_range(pr, 19, 22.5);
  if (u < 0.8) return sim_range(pr, 14, 17);
  if (u < 0.92) return sim_range(pr, 8.5, 11);
  return sim_range(pr, 22.5, 24.5);
}

static int64_t day_start(const sim *S) { return S->cfg.term_start_us + (int64_t)S->day * SIM_DAY_US; }

static void last_own_decisive(ctx *x) {
  sim *S = x->S;
  if (S->n_ev && S->ev[S->n_ev - 1].enrol == x->ei) decisive(x, &S->ev[S->n_ev - 1]);
}

/* The exam (and anything brushing it). */
static void exam(ctx *x) {
  sim *S = x->S;
  sim_enr *E = x->E;
  int pe = mis_index(E, MG_SIM_PROXY_EXAM), eb = mis_index(E, MG_SIM_EXAM_BRUSH);
  sim_rng pr = sim_rng_at(S->cfg.seed, 0xE4A, x->ei);
  double when = sim_u(&pr) < 0.55 ? sim_range(&pr, 0, 4 * 3600) : sim_range(&pr, 0, S->exam_window_us / SIM_US - 3 * 3600);
  uint32_t dev = x->si->laptop, cam2 = x->si->phone;
  uint32_t ip = campus_or_home(x, x->c->exam_start_us);
  int cams = 2;
  float fscore = own_face_score(x);
  int fail_first = 0, borderline = 0;
  ans_mode mode = ANS_HONEST;
  float ability = x->si->ability;
  int method = LM_SSO;
  x->mis_slot = -1;
  x->st.face_mode = 0;
  x->face_lo = x->face_hi = 0;
  if (pe >= 0) {
    const sim_mis *m = &E->mis[pe];
    const sim_group *g = &S->grp[m->group];
    x->mis_slot = pe;
    mode = ANS_EXPERT;
    ability = 1.5f;
    method = LM_PASSWORD;
    switch (m->variant) {
      case PE_REMOTE_DESKTOP: /* the student's own laptop and face; someone else at the controls */
        if (sim_chance(&pr, 0.6)) /* from a place the laptop was never used: a hotel, a relative's */
          ip = sim_chance(&pr, 0.5) ? any_host(&pr, mg_sim_cities[sim_int(&pr, 0, mg_sim_n_cities - 1)].broadband)
                                    : any_host(&pr, mg_sim_cities[x->si->home_city].mobile);
        mode = ANS_REMOTE;
        method = LM_TOKEN;
        break;
      case PE_HOME_STAND_IN: /* a relative or friend at the student's home, on the student's laptop */
        ip = x->si->home_ip;
        ability = 1.0f;
        fail_first = 1;
        borderline = 1;
        method = LM_TOKEN;
        break;
      default:
        dev = g->device;
        ip = g->ip;
        cam2 = g->device2;
        fscore = (float)sim_range(&x->r, 0.55, 0.84);
        fail_first = fscore < 0.8f;
        if (fail_first) fscore = (float)sim_range(&x->r, 0.8, 0.86);
        x->face_lo = 0.6f, x->face_hi = 0.86f;
        break;
    }
    if (m->variant == PE_FARM || m->variant == PE_FARM_SHARED_PHONE) /* back to back in the window */
      when = 3600.0 * 2.2 * m->rank + sim_range(&x->r, 0, 600);
    if (m->variant == PE_FARM_SHARED_PHONE && E->extra_dev != UINT32_MAX) dev = E->extra_dev; /* the phone stays */
    if (m->variant == PE_MISSING_CAMERA) cams = 1;
    if (m->variant == PE_VIRTUAL_CAMERA) { /* one stream offered as both cameras; a face model scores narrowly */
      cam2 = dev;
      borderline = 1;
    }
    if (borderline) {
      fscore = (float)sim_range(&x->r, 0.8, 0.845);
      x->face_lo = 0.8f, x->face_hi = 0.845f;
    }
  } else if (eb >= 0) {
    const sim_mis *m = &E->mis[eb];
    x->mis_slot = eb;
    switch (m->variant) {
      case EB_SCRIPT: mode = ANS_SCRIPT; break;
      case EB_BANK_ERRORS: mode = ANS_BANK_ERR; break;
      case EB_OCR_SEARCH: mode = ANS_OCR; break;
      case EB_CROSS_HARVEST: mode = ANS_HONEST; x->mis_slot = -1; break; /* it harvested the quizzes */
      case EB_ANSWER_RING: {
        const sim_group *g = &S->grp[m->group];
        sim_rng gr = sim_rng_at(S->cfg.seed, 0x819, (uint64_t)m->group);
        mode = ANS_RING;
        x->ring = m->group;
        when = sim_range(&gr, 0, S->exam_window_us / SIM_US - 6 * 3600) + 60.0 * sim_range(&x->r, 1, 12) * m->rank;
        (void)g;
        break;
      }
      default: mode = ANS_BANK; break;
    }
    x->st.hb_a = sim_range(&x->r, 2, 6);
  }
  if (pe < 0 && sim_chance(&x->r, 0.02)) cams = 1; /* honest: the phone stand fell over */
  if (x->E->cohort == MG_SIM_HONEST_CRAMMER) ability -= 0.2f;
  int64_t start = x->c->exam_start_us + (int64_t)(when * SIM_US);
  if (start < day_start(S) || start >= day_start(S) + SIM_DAY_US) return; /* not today */
  sim_client *cl = client_new(x, dev, ip, 0);
  if (!cl) return;
  x->cl = cl;
  x->t = start;
  login(x, method);
  if (fail_first)
    face_check(x, FP_EXAM_START, -1, 1, (float)sim_range(&x->r, 0.5, 0.78), FF_MISMATCH,
               (int64_t)sim_range(&x->r, 5, 20) * SIM_US, NULL);
  face_check(x, FP_EXAM_START, -1, 1, fscore, -1, (int64_t)sim_range(&x->r, 5, 20) * SIM_US, NULL);
  long subi = attempt(x, AK_EXAM, -1, 1, mode, ability, cams > 1 ? cam2 : UINT32_MAX, cams);
  if (pe >= 0 && E->mis[pe].variant != PE_REMOTE_DESKTOP) {
    /* provable at the start: a device, address, camera set or face never seen for this student */
    for (size_t i = S->n_ev; i-- > 0;)
      if (S->ev[i].enrol == x->ei && S->ev[i].kind == MG_XAPI_KIND_EXAM_STARTED) {
        decisive(x, &S->ev[i]);
        break;
      }
  } else if (x->mis_slot >= 0 && subi >= 0) {
    const sim_mis *m = &E->mis[x->mis_slot];
    if (m->family == MG_SIM_EXAM_BRUSH && m->variant == EB_ANSWER_RING) {
      /* a ring is provable once two members' answers match: the second submission */
      if (m->rank >= 1) {
        decisive(x, &S->ev[subi]);
        decisive_other(S, S->grp[m->group].lead, MG_SIM_EXAM_BRUSH, &S->ev[subi]);
      }
    } else {
      decisive(x, &S->ev[subi]);
    }
  }
  face_check(x, FP_EXAM_END, -1, 1, x->face_hi > 0 ? (float)sim_range(&x->r, x->face_lo, x->face_hi) : own_face_score(x), -1,
             (int64_t)sim_range(&x->r, 4, 12) * SIM_US, NULL);
  logout(x, start);
  /* the platform releases grades two days after the window closes */
  if (subi >= 0) {
    sim_ev sub = S->ev[subi];
    x->cl = NULL;
    x->t = x->c->exam_start_us + S->exam_window_us + 2 * SIM_DAY_US + (int64_t)sim_range(&x->r, 0, 3600) * SIM_US;
    sim_ev *sc = ev_new(x, MG_XAPI_KIND_ATTEMPT_SCORED);
    if (sc) {
      sc->ref = sub.ref;
      sc->sub = AK_EXAM;
      sc->f[1] = sub.f[1];
      sc->f[2] = sub.f[2];
      sc->flags = sub.flags & EVF_SUCCESS;
    }
  }
  E->exam_done = 1;
}

/* cross_harvest: the day before a quiz is due, the harvesting account (rank 0) guesses through
 * it to reveal the key, and the others submit the key minutes later. */
static void harvest_session(ctx *x, const sim_mis *m, int slot) {
  sim *S = x->S;
  sim_enr *E = x->E;
  int64_t d0 = day_start(S);
  int last = -1;
  for (int ch = E->quizzes; ch < x->c->chapters && x->ci->chapter_due_us[ch] < d0 + 2 * SIM_DAY_US; ch++) last = ch;
  if (last < 0) return;
  sim_rng gr = sim_rng_at(S->cfg.seed, 0x4A2 + (uint64_t)m->group, (uint64_t)S->day);
  double h = sim_range(&gr, 12.3, 13.5) + (m->rank ? sim_range(&gr, 0.05, 0.25) * m->rank : 0);
  sim_client *cl = client_new(x, x->si->laptop, campus_or_home(x, d0), 0);
  if (!cl) return;
  x->cl = cl;
  x->t = d0 + (int64_t)(h * 3600 * SIM_US);
  int64_t began = x->t;
  x->mis_slot = slot;
  login(x, LM_TOKEN);
  for (int ch = E->quizzes; ch <= last; ch++) {
    long sub = attempt(x, AK_QUIZ, ch, 1, m->rank ? ANS_KEY : ANS_SCOUT, x->si->ability, 0, 0);
    if (sub >= 0 && m->rank) {
      decisive(x, &S->ev[sub]);
      decisive_other(S, S->grp[m->group].lead, MG_SIM_EXAM_BRUSH, &S->ev[sub]);
    }
    x->t += (int64_t)(sim_range(&x->r, 10, 60) * SIM_US);
    E->quizzes++;
  }
  logout(x, began);
  x->mis_slot = -1;
}

/* 刷课 by an operator: every account does what the operator's script does, shifted. */
static void operator_day(ctx *x, int slot, ans_mode qm) {
  sim *S = x->S;
  sim_enr *E = x->E;
  const sim_mis *m = &E->mis[slot];
  const sim_group *g = &S->grp[m->group];
  int64_t d0 = day_start(S);
  sim_rng gr = sim_rng_at(S->cfg.seed, 0x0B5 + (uint64_t)m->group, (uint64_t)S->day);
  sim_rng ar = sim_rng_at(S->cfg.seed, 0xACC + (uint64_t)x->ei, (uint64_t)S->day); /* this account's */
  if (S->day < 7 || !sim_chance(&gr, 0.5)) return;
  int v = g->variant;
  double start_h = sim_range(&gr, 0, 6);
  switch (v) {
    case BO_QUEUE: start_h += 1.2 * m->rank; break;
    case BO_RANDOM_DELAY: start_h += sim_range(&ar, 0, 5); break;
    case BO_RESIDENTIAL_PROXY: start_h += sim_range(&ar, 0, 1.5); break;
    case BO_PHONE_FARM: start_h += 1.5 * (m->rank / 2) + sim_range(&ar, 0, 0.1); break;
    case BO_VPN_EXIT: start_h += 0.4 * m->rank; break;
    case BO_HOME_STUDIO: start_h = 9 + sim_range(&gr, 0, 1.5) + 1.7 * m->rank + sim_range(&ar, 0, 0.4); break;
    default: start_h += 0.05 * m->rank; break;
  }
  int lockstep = v != BO_RANDOM_DELAY && v != BO_HOME_STUDIO;
  x->r = lockstep ? sim_rng_at(S->cfg.seed, 0x0B6 + (uint64_t)m->group, (uint64_t)S->day) : ar;
  x->mis_slot = slot;
  style *st = &x->st;
  st->speed = st->speed_rep = x->p->max_speed;
  st->hb_mode = v == BO_PHONE_FARM || v == BO_HOME_STUDIO ? 0 : 1; /* real players there, own timers elsewhere */
  st->hb_a = x->p->heartbeat_s * 0.9;
  st->hb_b = x->p->heartbeat_s * 1.3;
  st->volume = 0;
  st->hidden = 1;
  st->no_input = 1;
  st->low_quality = 1;
  st->pause_mode = 3;
  st->seeks = 0;
  st->popup_mode = 1;
  uint32_t dev = m->rank % 3 == 2 ? g->device2 : g->device, ip = g->ip;
  switch (v) {
    case BO_RESIDENTIAL_PROXY: /* an anti-detect browser profile per account, a new exit each time */
      if (E->extra_dev != UINT32_MAX) dev = E->extra_dev;
      ip = any_host(&ar, mg_sim_cities[sim_int(&ar, 0, mg_sim_n_cities - 1)].broadband);
      break;
    case BO_PHONE_FARM: /* a rack of phones on rotating 4G */
      dev = m->rank % 2 ? g->device2 : g->device;
      ip = any_host(&ar, mg_sim_cities[g->city].mobile);
      break;
    case BO_VPN_EXIT: {
      sim_rng vr = sim_rng_at(S->cfg.seed, 0x7E1 + (uint64_t)m->group, (uint64_t)S->day);
      ip = mg_sim_pick_ip(&vr, NET_VPN);
      break;
    }
    case BO_HOME_STUDIO: dev = m->rank % 2 ? g->device2 : g->device; break;
    default: break;
  }
  sim_client *cl = client_new(x, dev, ip, 0);
  if (!cl) return;
  x->cl = cl;
  x->t = d0 + (int64_t)(start_h * 3600 * SIM_US);
  login(x, LM_PASSWORD);
  int shared_device = v != BO_RESIDENTIAL_PROXY;
  if (shared_device && m->rank >= 1 && S->ev[S->n_ev - 1].enrol == x->ei) {
    decisive(x, &S->ev[S->n_ev - 1]); /* the second account on the operator's device */
    decisive_other(S, g->lead, MG_SIM_BRUSH_OPERATOR, &S->ev[S->n_ev - 1]);
  }
  study(x, x->t + (int64_t)(sim_range(&gr, 60, 150) * 60 * SIM_US), qm == ANS_HONEST ? ANS_SCRIPT : qm, -1, 1);
  if (sim_chance(&gr, 0.3)) discuss(x, k_quota_posts[sim_int(&gr, 0, 2)], 1);
  if (!shared_device && m->rank >= 1 && S->n_ev && S->ev[S->n_ev - 1].enrol == x->ei) {
    /* no shared device or address: the copied script is the evidence, once a second run is on record */
    decisive(x, &S->ev[S->n_ev - 1]);
    decisive_other(S, g->lead, MG_SIM_BRUSH_OPERATOR, &S->ev[S->n_ev - 1]);
  }
}

/* 刷课 by a bot driving a player at or below the cap. */
static void bot_day(ctx *x, int slot, ans_mode qm, sim_rng *pr) {
  sim *S = x->S;
  const sim_mis *m = &x->E->mis[slot];
  int64_t d0 = day_start(S);
  int v = m->variant;
  style *st = &x->st;
  x->mis_slot = slot;
  st->speed = st->speed_rep = v == BB_JITTER_UNIFORM ? x->p->max_speed : v == BB_NATIVE_NIGHT ? 1.0 : sim_range(pr, 1.0, x->p->max_speed);
  st->volume = 0;
  st->no_input = 1;
  st->seeks = 0;
  st->popup_mode = 1;
  st->hidden = sim_chance(pr, 0.7);
  st->pause_mode = v == BB_AUTO_RESUME ? 1 : 3;
  switch (v) {
    case BB_JITTER_UNIFORM:
      st->hb_mode = 1;
      st->hb_a = sim_range(pr, 10, 30);
      st->hb_b = st->hb_a + sim_range(pr, 5, 60);
      break;
    case BB_JITTER_LOGNORMAL: /* its own timer, jittered multiplicatively */
      st->hb_mode = 3;
      st->hb_a = sim_range(pr, 10, 90);
      st->hb_b = sim_range(pr, 0.05, 0.35);
      break;
    case BB_POISSON:
      st->hb_mode = 4;
      st->hb_a = sim_range(pr, 15, 60);
      break;
    case BB_HUMANIZED: /* a real player, visible, a little sound, mouse jiggles and believable pauses */
      st->volume = (float)sim_range(pr, 0.1, 0.5);
      st->no_input = 2;
      st->hidden = 0;
      st->pause_mode = 4;
      st->pause_every = sim_range(pr, 300, 1200);
      st->pause_len = sim_range(pr, 8, 40);
      break;
    case BB_NATIVE_NIGHT: st->hidden = 1; break;
    case BB_THRESHOLD:
      st->stop_frac = x->p->completion_threshold + sim_range(pr, 0.005, 0.02);
      if (st->stop_frac > 1) st->stop_frac = 0.995;
      break;
    default: break;
  }
  double cron_h = sim_int(pr, 0, 23) + sim_int(pr, 0, 3) * 0.25;
  static const double lens[] = {25, 30, 60, 120, 240};
  double len = lens[sim_int(pr, 0, 4)];
  uint32_t dev = sim_chance(pr, 0.5) ? x->si->laptop : x->si->phone;
  double h;
  if (v == BB_CRON) {
    h = cron_h + sim_range(&x->r, 0, 0.01);
  } else if (v == BB_NATIVE_NIGHT) { /* left running overnight on the student's laptop */
    if (!sim_chance(&x->r, 0.8)) return;
    h = sim_range(&x->r, 0, 2);
    len = sim_range(&x->r, 240, 420);
    dev = x->si->laptop;
  } else {
    if (!sim_chance(&x->r, 0.6)) return;
    h = sim_range(&x->r, 0, 24);
  }
  session_study(x, d0 + (int64_t)(h * 3600 * SIM_US), len, dev, campus_or_home(x, d0), 0, LM_TOKEN,
                qm == ANS_HONEST ? ANS_SCRIPT : qm, -1, 1);
  /* provable once one full unattended session is on record */
  last_own_decisive(x);
}

/* 刷课 by forged requests, after an honest start. */
static void forge_day(ctx *x, int slot, ans_mode qm, sim_rng *pr, double days_left) {
  sim *S = x->S;
  sim_enr *E = x->E;
  const sim_mis *m = &E->mis[slot];
  if (!sim_chance(&x->r, days_left < 3 ? 0.7 : 0.25)) return;
  x->mis_slot = slot;
  int64_t d0 = day_start(S);
  double h = sim_range(&x->r, 0, 24);
  int64_t st0 = d0 + (int64_t)(h * 3600 * SIM_US);
  uint32_t ei = x->ei;
  switch (m->variant) {
    case BF_SPEED_HACK: { /* a real player forced to 3-16x */
      static const double sp[] = {3, 4, 8, 10, 16};
      x->st.speed = x->st.speed_rep = sp[sim_int(pr, 0, 4)];
      x->st.seeks = 0;
      session_study(x, st0, 90, x->si->laptop, x->si->home_ip, 0, LM_TOKEN, qm, -1, 0);
      for (size_t i = S->n_ev; i-- > 0 && S->ev[i].enrol == ei;)
        if (S->ev[i].kind == MG_XAPI_KIND_VIDEO_HEARTBEAT) {
          decisive(x, &S->ev[i]);
          break;
        }
      break;
    }
    case BF_OVERCAP: /* the page script runs the player at 1.3-2x the cap and reports the cap */
      x->st.speed = x->p->max_speed * sim_range(pr, 1.3, 2.0);
      x->st.speed_rep = x->p->max_speed;
      x->st.dec_complete = 1;
      session_study(x, st0, sim_range(&x->r, 30, 120), x->si->laptop, campus_or_home(x, st0), 0, LM_TOKEN, qm, -1, 0);
      break;
    case BF_BACKDATED: /* a fabricated 1x history with the native rhythm, posted in one burst */
      x->st.seeks = 0;
      x->st.speed = x->st.speed_rep = 1.0;
      x->st.no_input = 1;
      x->burst = 1;
      session_study(x, st0, sim_range(&x->r, 40, 180), x->si->laptop, x->si->home_ip, 0, LM_TOKEN, qm, -1, 1);
      x->burst = 0;
      last_own_decisive(x);
      break;
    case BF_PARALLEL: { /* many videos at once, each at a plausible pace */
      sim_client *cl = client_new(x, x->si->laptop, x->si->home_ip, 0);
      if (!cl) return;
      x->cl = cl;
      x->t = st0;
      login(x, LM_TOKEN);
      int k = sim_int(&x->r, 4, 16);
      int64_t t0 = x->t, end = t0;
      x->st.no_input = 1;
      x->st.pause_mode = 3;
      x->st.seeks = 0;
      x->st.popup_mode = 1;
      /* provable once three of the videos have each reported advancing: the latest of their
       * first progress reports (a `played` alone shows a video opened, not played) */
      size_t dec = SIZE_MAX; /* an index: S->ev moves as it grows */
      for (int i = 0; i < k && E->vnext < x->c->n_videos; i++) {
        x->t = t0 + (int64_t)(sim_range(&x->r, 0.1, 1.5) * SIM_US) * i;
        x->st.speed = x->st.speed_rep = x->p->max_speed;
        size_t from = S->n_ev;
        watch(x, t0 + 3 * 3600 * SIM_US);
        if (x->t > end) end = x->t;
        for (size_t j = from; i < 3 && j < S->n_ev; j++)
          if (S->ev[j].enrol == ei && S->ev[j].kind == MG_XAPI_KIND_VIDEO_HEARTBEAT) {
            if (dec == SIZE_MAX || S->ev[j].key > S->ev[dec].key) dec = j;
            break;
          }
        if (dec != SIZE_MAX && (i == 2 || (i == 1 && (i + 1 >= k || E->vnext >= x->c->n_videos))))
          decisive(x, &S->ev[dec]);
      }
      x->t = end;
      logout(x, st0);
      break;
    }
    default: /* rate_forge, instant_complete, tail_jump: requests, no player */
      session_study(x, st0, 45, x->si->laptop, x->si->home_ip, 0, LM_TOKEN, qm, (int)m->variant, 1);
      break;
  }
}

/* 替课: someone else studies in the account. */
static void proxy_study_day(ctx *x, int slot, ans_mode qm) {
  sim *S = x->S;
  sim_enr *E = x->E;
  const sim_mis *m = &E->mis[slot];
  const sim_group *g = &S->grp[m->group];
  int64_t d0 = day_start(S);
  x->mis_slot = slot;
  int v = m->variant;
  x->st.face_mode = v == PS_FACE_RELAY || v == PS_CITY_SPOOF ? 2 : v == PS_REMOTE_DESKTOP ? 3 : v == PS_LIVENESS_SPOOF ? 4 : 1;
  double h = sim_range(&x->r, 9, 23);
  if (v == PS_SHARED_WORKER) h = 9 + 2.5 * (m->rank % 5);
  if (v == PS_OFFICE) h = 9 + 1.3 * (m->rank % 8) + sim_range(&x->r, 0, 0.3);
  if (v == PS_REMOTE_DESKTOP) h = sim_range(&x->r, 9, 17); /* the worker's office hours */
  int method = sim_chance(&x->r, 0.5) ? LM_QR : LM_PASSWORD;
  uint32_t dev = g->device, ip = g->ip;
  switch (v) {
    case PS_REMOTE_DESKTOP: /* 向日葵/ToDesk into the student's own laptop: same device, same network */
      dev = x->si->laptop;
      ip = campus_or_home(x, d0);
      method = LM_TOKEN;
      x->st.pause_mode = 3;
      x->st.seeks = 0;
      break;
    case PS_CLASSMATE: { /* a classmate logs in with the password, on their own laptop, on campus */
      const sim_student_int *mate = &S->studi[x->si->roommate];
      dev = x->si->roommate != E->student ? mate->laptop : g->device;
      ip = sim_chance(&x->r, 0.6) ? S->univi[S->stud[E->student].university].nat_ip : mate->home_ip;
      method = LM_PASSWORD;
      break;
    }
    case PS_CITY_SPOOF: /* a residential proxy in the student's own city */
      ip = any_host(&x->r, mg_sim_cities[x->si->home_city].broadband);
      break;
    case PS_OFFICE: dev = m->rank % 3 == 2 ? g->device2 : g->device; break;
    default: break;
  }
  size_t from = S->n_ev;
  session_study(x, d0 + (int64_t)(h * 3600 * SIM_US), sim_range(&x->r, 90, 200), dev, ip, 0, method, qm, -1, 0);
  /* no face check came up: a whole session from the worker's device and city is the evidence */
  if (S->n_ev > from) last_own_decisive(x);
}

void mg_sim_behave_day(sim *S, uint32_t ei) {
  sim_enr *E = &S->e[ei];
  ctx x;
  memset(&x, 0, sizeof x);
  x.S = S;
  x.ei = ei;
  x.E = E;
  x.c = &S->course[E->course];
  x.ci = &S->coursei[E->course];
  x.p = &S->plat[x.c->platform];
  x.si = &S->studi[E->student];
  x.r = sim_rng_at(S->cfg.seed, ((uint64_t)ei << 16) | 1, (uint64_t)S->day);
  x.nr = sim_rng_at(S->cfg.seed, ((uint64_t)ei << 16) | 2, (uint64_t)S->day);
  x.mis_slot = -1;
  x.ring = -1;
  int64_t d0 = day_start(S);
  sim_rng pr = sim_rng_at(S->cfg.seed, 0x9A7, ei); /* this enrolment's habits */
  double diligence = sim_range(&pr, 0.12, 0.45);
  double hour = pref_hour(&pr);
  double sess_min = sim_lognormal(&pr, 40, 0.4);
  int drop_after = sim_chance(&pr, 0.04) && !E->n_mis ? sim_int(&pr, 1, 6) : 99;
  /* exam days */
  if (!E->exam_done && x.c->exam_start_us < d0 + SIM_DAY_US && x.c->exam_start_us + S->exam_window_us > d0 &&
      E->quizzes < drop_after)
    exam(&x);
  x.mis_slot = -1;
  x.face_lo = x.face_hi = 0;
  if (E->quizzes >= x.c->chapters || E->quizzes >= drop_after) return;
  if (d0 >= x.c->exam_start_us) return;
  int ch = E->quizzes;
  int64_t due = x.ci->chapter_due_us[ch];
  double days_left = (double)(due - d0) / SIM_DAY_US;
  int wd = S->day % 7;

  int bf = mis_index(E, MG_SIM_BRUSH_FORGED), bb = mis_index(E, MG_SIM_BRUSH_BOT),
      bo = mis_index(E, MG_SIM_BRUSH_OPERATOR), ps = mis_index(E, MG_SIM_PROXY_STUDY),
      eb = mis_index(E, MG_SIM_EXAM_BRUSH);
  ans_mode qm = ANS_HONEST;
  if (eb >= 0) {
    switch (E->mis[eb].variant) {
      case EB_HARVEST: qm = ANS_HARVEST; break;
      case EB_SCRIPT: qm = ANS_SCRIPT; break;
      case EB_BANK_ERRORS: qm = ANS_BANK_ERR; break;
      case EB_OCR_SEARCH: qm = ANS_OCR; break;
      case EB_CROSS_HARVEST: x.hold_quiz = 1; break;
      case EB_ANSWER_RING: break; /* coursework is their own; the exam is not */
      default: qm = ANS_BANK; break;
    }
  }
  style_honest(&x);
  if (eb >= 0 && E->mis[eb].variant == EB_CROSS_HARVEST && days_left <= 2) {
    harvest_session(&x, &E->mis[eb], eb);
    style_honest(&x);
    if (E->quizzes >= x.c->chapters) return;
    ch = E->quizzes;
    days_left = (double)(x.ci->chapter_due_us[ch] - d0) / SIM_DAY_US;
  }

  if (bo >= 0) {
    operator_day(&x, bo, qm);
    return;
  }
  if (bb >= 0 && S->day >= 3) {
    bot_day(&x, bb, qm, &pr);
    return;
  }
  if (bf >= 0 && E->mis[bf].variant != BF_PARTIAL && E->quizzes >= (int)(E->mis[bf].variant % 2) &&
      d0 >= x.ci->chapter_due_us[ch] - 14 * SIM_DAY_US) {
    /* after an honest start, the rest of the course is brushed in a few sittings */
    forge_day(&x, bf, qm, &pr, days_left);
    return;
  }
  if (bf >= 0 && E->mis[bf].variant == BF_PARTIAL) {
    x.partial_q = sim_range(&pr, 0.2, 0.6);
    x.partial_slot = bf;
  }
  if (ps >= 0 && E->quizzes >= 1 && d0 >= x.ci->chapter_due_us[ch] - 14 * SIM_DAY_US &&
      sim_chance(&x.r, days_left < 4 ? 0.6 : 0.3)) {
    proxy_study_day(&x, ps, qm);
    return;
  }

  /* honest planning (and the honest parts of attacked enrolments) */
  double p = diligence * (days_left <= 2 ? 2.2 : days_left <= 5 ? 1.2 : 0.7);
  if (ps >= 0 && E->quizzes >= 1) p *= 0.3;
  if (wd >= 5) p *= 0.8;
  double start_h = hour + sim_normal(&x.r) * 0.7;
  double minutes = sim_lognormal(&x.r, sess_min, 0.45);
  int study_today = sim_chance(&x.r, p);
  int cohort = E->cohort;
  if (cohort == MG_SIM_HONEST_CRAMMER) {
    study_today = days_left <= 1.5;
    start_h = sim_range(&x.r, 20.5, 23.5);
    minutes = sim_range(&x.r, 120, 260);
  } else if (cohort == MG_SIM_HONEST_DAILY30) {
    study_today = 1;
    start_h = hour + sim_normal(&x.r) * 0.05;
    minutes = 30 + sim_normal(&x.r) * 1.0;
  } else if (cohort == MG_SIM_HONEST_STUDY_GROUP) {
    sim_rng gr = sim_rng_at(S->cfg.seed, 0x6A0 + (uint64_t)E->study_group, (uint64_t)S->day);
    study_today = sim_chance(&gr, diligence + 0.1);
    start_h = sim_range(&gr, 14, 21) + sim_range(&x.r, 0, 0.1);
    minutes = sim_range(&gr, 60, 120);
    if (!study_today && sim_chance(&x.r, 0.5 * p)) study_today = 1, start_h = hour;
  } else if ((x.si->habits & HB_NIGHT_OWL) && sim_chance(&x.r, 0.5)) {
    start_h = sim_range(&x.r, 23.5, 26.5); /* after midnight, sometimes for hours */
    minutes *= sim_range(&x.r, 1, 2.5);
  }
  if (!study_today) return;
  if (minutes < 8) minutes = 8;
  int64_t st0 = d0 + (int64_t)(start_h * 3600 * SIM_US);
  int use_phone = sim_chance(&x.r, 0.3);
  int offline = cohort == MG_SIM_HONEST_OFFLINE && sim_chance(&x.r, 0.6);
  if (offline) use_phone = 1;
  uint32_t dev = use_phone ? x.si->phone : x.si->laptop;
  uint32_t ip = campus_or_home(&x, st0);
  uint32_t nat = S->univi[S->stud[E->student].university].nat_ip;
  if (use_phone && ip != nat) ip = any_host(&x.r, mg_sim_cities[x.si->home_city].mobile);
  /* habits that share traits with attacks: a laptop on a phone hotspot, a VPN, a trip, a
   * dorm mate's laptop */
  if (!use_phone && ip != nat && (x.si->habits & HB_HOTSPOT) && sim_chance(&x.r, 0.3))
    ip = any_host(&x.r, mg_sim_cities[x.si->home_city].mobile);
  if ((x.si->habits & HB_VPN) && !offline && sim_chance(&x.r, 0.25)) ip = mg_sim_pick_ip(&x.r, NET_VPN);
  if ((x.si->habits & HB_TRAVELLER) && wd >= 5 && sim_chance(&x.r, 0.4)) {
    const sim_city *away = &mg_sim_cities[sim_int(&x.r, 0, mg_sim_n_cities - 1)];
    ip = any_host(&x.r, use_phone ? away->mobile : away->broadband);
  }
  if (!use_phone && x.si->roommate != E->student && sim_chance(&x.r, 0.015)) dev = S->studi[x.si->roommate].laptop;
  int method = sim_chance(&x.r, 0.8) ? LM_TOKEN : sim_chance(&x.r, 0.5) ? LM_SSO : LM_QR;
  if (cohort == MG_SIM_HONEST_MULTIDEVICE && E->extra_dev != UINT32_MAX && sim_chance(&x.r, 0.5)) {
    /* a phone session starts a video and leaves it paused while the laptop carries on */
    sim_enr save = *E;
    session_study(&x, st0, 6, x.si->phone, mg_sim_cities[x.si->home_city].mobile | 77, 0, LM_TOKEN, qm, -1, 0);
    E->vnext = save.vnext, E->vpos = save.vpos, E->vcov = save.vcov, E->quizzes = save.quizzes, E->docs = save.docs;
    st0 += (int64_t)(sim_range(&x.r, 60, 300) * SIM_US);
    dev = E->extra_dev;
  }
  session_study(&x, st0, minutes, dev, ip, offline, method, qm, -1, 0);
}
