/* The detection engine: state tables, rules and finding emission. See detect.h and
 * docs/detection.md (every threshold below is explained there). */
#include "detect/detect.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "detect/hmap_int.h"
#include "detect/personfit_int.h"

/* ---- small containers ------------------------------------------------------------------- */

/* A growable array of fixed-size records with a free list (index 0 is never used, so 0 = none). */
typedef struct pool {
  char *p;
  size_t size, n, cap;
  uint32_t *freel;
  size_t nfree, capfree;
} pool;

static void pool_init(pool *pl, size_t size) {
  memset(pl, 0, sizeof *pl);
  pl->size = size;
  pl->n = 1;
}

static void *pool_at(const pool *pl, uint32_t i) { return pl->p + (size_t)i * pl->size; }

static int pool_alloc(pool *pl, uint32_t *out) {
  if (pl->nfree) {
    *out = pl->freel[--pl->nfree];
  } else {
    if (pl->n >= pl->cap) {
      size_t ncap = pl->cap ? pl->cap * 2 : 256;
      char *np = realloc(pl->p, ncap * pl->size);
      if (!np) return MG_ENOMEM;
      pl->p = np;
      pl->cap = ncap;
    }
    *out = (uint32_t)pl->n++;
  }
  memset(pool_at(pl, *out), 0, pl->size);
  return MG_OK;
}

static int pool_release(pool *pl, uint32_t i) {
  if (pl->nfree >= pl->capfree) {
    size_t nc = pl->capfree ? pl->capfree * 2 : 64;
    uint32_t *nf = realloc(pl->freel, nc * sizeof *nf);
    if (!nf) return MG_ENOMEM;
    pl->freel = nf;
    pl->capfree = nc;
  }
  pl->freel[pl->nfree++] = i;
  return MG_OK;
}

static void pool_free(pool *pl) {
  free(pl->p);
  free(pl->freel);
  memset(pl, 0, sizeof *pl);
}

/* ---- rules ------------------------------------------------------------------------------- */

enum sig {
  /* 刷课 */
  S_SPEED, S_CONCURRENT, S_FIRST_NEAR_END, S_UNREACHED, S_UNWATCHED, S_CADENCE, S_AUTORESUME, S_FIXED_PAUSE,
  S_MUTED, S_PINNED, S_NOINPUT, S_HIDDEN, S_CRON, S_NIGHT, S_POPUP, S_NODWELL, S_TASK_GAPS,
  S_SHARED_DEVICE, S_DUP_POSTS,
  S_INPUT_EVERY, S_UNATTENDED,
  /* 替课 */
  S_NOVEL_STUDY, S_FACE_FAIL_STUDY, S_FACE_SLOW, S_FACE_OTHER_DEVICE, S_WORKER_DEVICE,
  S_CAPTURE_REUSE_STUDY, S_FACE_UNMET,
  /* 刷考 */
  S_ITEM_FAST, S_ITEM_CONSTANT, S_ITEM_POP_FAST, S_SAME_WRONG, S_HARVEST, S_SCORE_JUMP,
  S_ANSWER_COPY, S_CROSS_HARVEST,
  S_PERSON_MISFIT, S_TIME_FLAT, /* personfit.c */
  S_BANK_GAP, S_BANK_ERRORS,    /* personfit.c, with the known answer bank */
  S_ITEM_CONSTANT_ALL, S_PACE_SHIFT, S_FAST_TWINS,
  S_FAST_FLAT,                  /* personfit.c */
  /* 替考 */
  S_EXAM_NOVEL, S_EXAM_FACE_FAIL, S_EXAM_FACE_SLOW, S_CAPTURE_REUSE, S_CAMERA_MISSING,
  S_CAMERA_SHARED, S_EXAM_FARM,
  S_EXAM_FACE_UNLIKE, S_EXAM_FACE_LOW,
  S_COUNT_
};

typedef struct sigdef {
  const char *name;
  mg_detect_type type;
  double threshold; /* the value at which the rule starts to count */
  const char *unit;
  const char *group;
  const char *zh, *en;
} sigdef;

#define CB MG_DETECT_COURSE_BRUSHING
#define PS MG_DETECT_PROXY_STUDY
#define EB MG_DETECT_EXAM_BRUSHING
#define PE MG_DETECT_PROXY_EXAM

static const sigdef k_sig[S_COUNT_] = {
    [S_SPEED] = {"speed_over_cap", CB, 25, "s", "this video session vs the video's own max-speed cap",
                 "视频进度推进快于平台允许的最高倍速（服务器接收时间计），超出部分为无法观看的视频秒数",
                 "video position advanced faster than the video's maximum allowed speed (by server receive time); value = seconds of video that could not have been watched"},
    [S_CONCURRENT] = {"concurrent_playback", CB, 3, "videos", "the same account's other open video sessions",
                      "同一账号同时有多个视频在推进播放",
                      "several videos of the same account were advancing at the same time; value = videos advancing at once"},
    [S_FIRST_NEAR_END] = {"first_report_near_end", CB, 1, "videos", "this video session",
                          "视频会话的第一条进度报告就接近结尾（无拖动、非离线），随后即完成",
                          "the first progress report of a video session was already near the end (no seek, not offline) and the video was then completed"},
    [S_UNREACHED] = {"completion_unreached", CB, 0.5, "share of the threshold", "this enrolment's own viewing of the video",
                      "视频被标记完成，但此前从未以可能的速度播放到完成所需位置",
                      "a video was completed although its playback never plausibly reached the completion point; value = share of the required position reached"},
    [S_UNWATCHED] = {"completion_without_viewing", CB, 600, "s", "this enrolment's own viewing history",
                     "已完成视频的时长远超实际可观看时长",
                     "videos counted complete exceed what the viewing history could cover; value = seconds of completed video never watched"},
    [S_CADENCE] = {"heartbeat_cadence", CB, 0.6, "TV distance", "the platform's native heartbeat-interval distribution",
                   "心跳间隔分布与该平台原生客户端明显不同",
                   "heartbeat intervals are distributed unlike the platform's native client; value = total-variation distance"},
    [S_AUTORESUME] = {"auto_resume", CB, 0.6, "share of pauses", "this enrolment's pauses vs the platform's share of quick resumes",
                      "暂停后几乎总在两秒内自动恢复播放，次数远超该平台学生的常见比例",
                      "pauses almost always resumed within 2 s, far more often than the platform's students do by chance"},
    [S_FIXED_PAUSE] = {"fixed_length_pauses", CB, 0.8, "share of pauses", "this enrolment's pauses",
                       "暂停时长高度一致（真实暂停长短不一）", "pauses of nearly identical length (real pauses are heavy-tailed)"},
    [S_MUTED] = {"muted_throughout", CB, 0.97, "share of heartbeats", "this enrolment; rule off where common on the platform",
                 "几乎全部播放为静音", "muted for almost all playback"},
    [S_PINNED] = {"speed_pinned_at_cap", CB, 0.97, "share of heartbeats", "this enrolment; rule off where common on the platform",
                  "播放倍速始终固定在上限", "playback speed pinned at the cap"},
    [S_NOINPUT] = {"no_interaction", CB, 0.9, "share of heartbeats", "this enrolment; rule off where common on the platform",
                   "长时间播放期间没有任何输入操作", "no user input during hours of playback"},
    [S_HIDDEN] = {"background_playback", CB, 0.9, "share of heartbeats", "this enrolment; rule off where common on the platform",
                  "播放时页面几乎总在后台", "page in the background during almost all playback"},
    [S_CRON] = {"cron_like_starts", CB, 4, "min (circular s.d.)", "this enrolment's daily first sessions",
                "每天开始学习的时刻精确到分钟一致", "study starts at the same minute every day; value = circular standard deviation in minutes"},
    [S_NIGHT] = {"night_runs", CB, 0.8, "share of heartbeats", "this enrolment; rule off where common on the platform",
                 "大部分播放发生在凌晨 1–5 点", "most playback between 01:00 and 05:00 local time"},
    [S_POPUP] = {"popup_constant_time", CB, 0.8, "share of pop-up questions", "this enrolment's pop-up questions from the first instant one on",
                 "自第一次秒答起，视频弹题几乎都在 3 秒内作答", "from the first instant answer on, pop-up questions answered within 3 s almost every time"},
    [S_NODWELL] = {"reading_without_dwell", CB, 0.8, "share of pages", "this enrolment's page visits from the first instant one on",
                   "自第一次秒退起，文档/页面几乎都没有停留即离开", "from the first instant exit on, documents and pages left with almost no dwell time"},
    [S_TASK_GAPS] = {"constant_task_gaps", CB, 0.7, "share of gaps", "this enrolment's task completions",
                     "任务点以恒定间隔依次完成", "task points completed one after another at constant gaps"},
    [S_SHARED_DEVICE] = {"multi_account_device", CB, 3, "accounts", "all accounts seen on the device",
                         "该账号的学习主要在一台同时被多个账号使用的设备上进行",
                         "most of this account's study ran on a device that several accounts used"},
    [S_DUP_POSTS] = {"duplicated_posts", CB, 2, "posts", "posts of other accounts in the same course",
                     "讨论帖与其他账号的帖子几乎相同", "discussion posts nearly identical to other accounts' posts"},
    [S_INPUT_EVERY] = {"input_on_every_report", CB, 0.95, "share of heartbeats", "this enrolment; rule off where common on the platform",
                       "几乎每条播放报告都带有输入操作，暂停时也不例外（鼠标抖动器）",
                       "input reported on almost every playback report, pauses included (a mouse jiggler)"},
    [S_UNATTENDED] = {"unattended_sessions", CB, 2, "sessions", "this enrolment's video sessions (or study days) of >= 10 reports; rule off where common on the platform",
                      "多个视频会话（或学习日）无人值守：静音或后台且从无输入，或每条报告都有输入",
                      "several video sessions (or days of study) nobody attended: muted or hidden with no input at all, or input on every single report"},
    [S_NOVEL_STUDY] = {"identity_break", PS, 20, "statements", "the student's own device, network and client history",
                       "学习突然出现在该学生从未使用过的设备和网络上",
                       "study suddenly came from a device and network this student had never used"},
    [S_FACE_FAIL_STUDY] = {"face_check_failed", PS, 1, "checks", "the student's enrolled photo",
                           "学习过程人脸核验未通过（比对不符）", "face checks during study failed as a mismatch"},
    [S_FACE_SLOW] = {"face_check_slow", PS, 90, "s", "time from prompt to completion",
                     "人脸核验从发起到完成耗时过长", "face checks took minutes from prompt to completion"},
    [S_FACE_OTHER_DEVICE] = {"face_check_other_device", PS, 1, "checks", "the student's own devices",
                             "人脸核验在一台陌生设备上完成", "face checks completed on a device the student never used"},
    [S_WORKER_DEVICE] = {"worker_device", PS, 3, "accounts", "all accounts seen on the device",
                         "本账号的部分学习在一台被多个账号使用的陌生设备上进行",
                         "part of this account's study ran on an unfamiliar device that several other accounts used"},
    [S_CAPTURE_REUSE_STUDY] = {"face_capture_reused", PS, 2, "accounts", "face captures of all accounts",
                               "同一人脸采集记录出现在多个账号", "the same face capture appears for several accounts"},
    [S_FACE_UNMET] = {"face_checks_unmet", PS, 3, "checks", "face-check outcomes of the platform's students (binomial tail)",
                      "学习中的人脸核验多次未通过、无人应答或数分钟后才完成（可能在别处代为核验），次数远超本平台学生的常见比例",
                      "study face checks repeatedly failed, went unanswered or were completed only minutes later (perhaps relayed), far more often than the platform's students' checks do; value = such checks"},
    [S_ITEM_FAST] = {"answers_below_reading_time", EB, 0.6, "share of items", "each item's reading time (stem length)",
                     "多数题目作答用时短于读题所需时间且正确率高",
                     "most items answered faster than the stem can be read, with high accuracy"},
    [S_ITEM_CONSTANT] = {"constant_time_per_item", EB, 0.15, "coefficient of variation", "this attempt's items",
                         "每题用时几乎相同，与题目长短无关", "nearly the same time on every item, regardless of length"},
    [S_ITEM_POP_FAST] = {"faster_than_population", EB, 0.3, "ratio to item median", "all students' times on the same items",
                         "作答速度远快于其他学生同题用时且正确率高",
                         "items answered far faster than other students took on the same items, with high accuracy"},
    [S_SAME_WRONG] = {"identical_wrong_answers", EB, 3, "items", "other accounts' attempts at the same assessment",
                      "与其他账号有多道相同的错误答案", "several identical wrong answers shared with another account"},
    [S_HARVEST] = {"harvest_then_submit", EB, 60, "min", "earlier attempts at the same assessment on the same device",
                   "同一设备上另一账号（或前一次作答）刚答过该卷，随后本次高分提交",
                   "another account (or an earlier attempt) answered the same assessment on this device shortly before this high-scoring attempt"},
    [S_SCORE_JUMP] = {"score_above_coursework", EB, 0.35, "accuracy gap", "this enrolment's coursework accuracy",
                      "考试正确率远高于平时作业/测验", "exam accuracy far above the student's coursework accuracy"},
    [S_ANSWER_COPY] = {"answer_vector_copied", EB, 3, "shared wrong answers", "recent attempts of other accounts at the same assessment",
                       "与另一账号的答案几乎逐题相同，包括相同的错误答案",
                       "answers nearly identical item by item to another account's, including the same wrong answers"},
    [S_PERSON_MISFIT] = {"person_misfit", EB, -2.0, "robust z of lz* against all students (with z time, sum <= -6)",
                         "all students' answers to the same items (each item's p-value, >= 20 answers)",
                         "答对了多数同学答错的难题、却答错了几乎人人答对的易题：按同题全体答题者的通过率，任何能力水平都难以出现这种作答模式（个人拟合统计量 lz* 相对全体的 z 值，越负越罕见）",
                         "hard items (few students solve them) answered right while easy items (nearly everyone solves them) were answered wrong: a pattern improbable at any ability, judged against all students' pass rates on the same items (person-fit lz* as a z against all students; more negative is rarer)"},
    [S_TIME_FLAT] = {"time_ignores_item", EB, -2.0, "robust z of the time/item correlation against all students",
                     "every student's correlation of own time with the items' usual time",
                     "每题用时与该题通常所需时间无关（像是每题查一次答案），而其他同学的用时随题目难易变化",
                     "time per item does not follow how long each item usually takes (like one lookup per item), while other students' times do"},
    [S_BANK_GAP] = {"bank_answer_gap", EB, 0, "p (one-sided)",
                     "the enrolment's own answers to other items of the same difficulty (population p-values), and every student's statistic",
                     "收录于已知题库的题目正确率远高于同等难度的其他题目（按同题全体答题者的通过率衡量），像是照题库作答",
                     "items found in a known answer bank answered right far more often than other items of the same difficulty (judged by all students' pass rates on the same items), as if answered from the bank; value = one-sided p"},
    [S_BANK_ERRORS] = {"bank_errors_reproduced", EB, 0, "p (one-sided)",
                       "each item's wrong answers from all students, at the enrolment's own ability",
                       "在已知题库答案有误的题目上，多次给出与题库完全相同的错误答案，诚实作答几乎不会如此巧合",
                       "on items where the known answer bank is wrong, the bank's exact wrong answer was given repeatedly, more often than honest errors at this ability would coincide with it; value = one-sided p"},
    [S_CROSS_HARVEST] = {"cross_account_harvest", EB, 60, "min", "other accounts' attempts at the same assessment shortly before",
                         "另一账号快速乱答后，本账号随即在其他设备上全对提交（多次同一对账号）",
                         "another account guessed through the assessment in seconds, then this account submitted full marks from another device within the hour (same pair repeatedly)"},
    [S_ITEM_CONSTANT_ALL] = {"constant_time_across_attempts", EB, 0.10, "s.d. of ln(time) within attempts", "this enrolment's items, each against its own attempt's mean, over at least 3 attempts and 20 items",
                             "多次作答中，每次作答内各题用时都几乎相同，与题目长短、难易无关（脚本）",
                             "over several attempts, every item within an attempt took nearly the same time, whatever its length or difficulty (a script); value = pooled within-attempt standard deviation of ln(time), about the coefficient of variation"},
    [S_PACE_SHIFT] = {"exam_pace_unlike_coursework", EB, 0.35, "ratio of paces", "this enrolment's own coursework pace, both relative to all students on the same items",
                      "考试答题速度（相对其他学生）远快于本人平时作业/测验的速度，且正确率不低于平时",
                      "the exam was answered far faster (relative to other students) than this student's own coursework, with accuracy at least as high; value = exam pace / coursework pace"},
    [S_FAST_TWINS] = {"fast_identical_attempts", EB, 0.5, "pace (time / population's)", "other accounts' attempts at the same assessment within 30 min",
                      "与另一账号在半小时内提交了逐题几乎相同的答案，且两人用时都不到其他学生的一半",
                      "answers nearly identical item by item to another account's, submitted within half an hour, both in under half the time other students took; value = minutes apart"},
    [S_FAST_FLAT] = {"course_fast_flat", EB, 0.5, "time / usual time over the course",
                     "all students' times on the same items (>= 20 answers each) and every student's time/item correlation",
                     "整门课的作答用时（几何平均）不到其他学生同题用时的一半，正确率不低于 70%，且每题用时与题目难易无关（稳健 z 不高于 -1.5；像每题查一次答案：搜题或拍照识题）",
                     "over the whole course, items answered in at most half the time other students took on the same items (geometric mean), at least 70 % right, with time that does not follow the item (robust z at most -1.5; one lookup per item: search or OCR)"},
    [S_EXAM_NOVEL] = {"exam_identity_novel", PE, 0.3, "novelty", "the student's own study devices, networks and clients",
                      "考试所用设备/网络/客户端在该学生的学习记录中从未出现",
                      "the exam ran on a device, network or client never seen in the student's studying"},
    [S_EXAM_FACE_FAIL] = {"exam_face_failed", PE, 1, "checks", "the student's enrolled photo",
                          "考试人脸核验未通过或相似度过低", "exam face check failed or scored near the threshold"},
    [S_EXAM_FACE_SLOW] = {"exam_face_slow_or_elsewhere", PE, 90, "s", "the exam's own device and prompt time",
                          "考试人脸核验耗时过长或在其他设备完成", "exam face check slow or completed on another device"},
    [S_CAPTURE_REUSE] = {"exam_face_capture_reused", PE, 2, "accounts", "face captures of all accounts",
                         "同一人脸采集记录出现在多个考生的考试中", "the same face capture appears in several students' exams"},
    [S_CAMERA_MISSING] = {"second_camera_missing", PE, 1, "cameras", "the exam's camera rule",
                          "双机位要求的摄像头未全部接入", "fewer cameras connected than the exam requires"},
    [S_CAMERA_SHARED] = {"second_camera_shared", PE, 2, "accounts", "second cameras of all exams",
                         "第二机位设备同时出现在其他考生的考试中", "the second-camera device also served other students' exams"},
    [S_EXAM_FACE_UNLIKE] = {"exam_face_narrow_after_fail", PE, 2, "narrow passes", "the exam's own face checks and their threshold",
                             "考试人脸核验先比对不符，之后每次都仅以极小差距（阈值 +0.05 以内）通过",
                             "an exam face check failed as a mismatch, then every later check passed only just (within 0.05 of the threshold); value = narrow passes"},
    [S_EXAM_FACE_LOW] = {"exam_face_low", PE, 3.5, "z (combined over the exam's checks)",
                               "the student's own passed study face checks (every student's exam-versus-study difference); without three of them, every student's passed exam checks",
                               "考试人脸核验虽通过，但相似度明显低于本人平时学习中的核验（无平时记录时：明显低于全体考生的考试核验）",
                               "exam face checks passed, but scored well below the student's own study-time checks (without three of those: well below every student's exam checks); value = combined z"},
    [S_EXAM_FARM] = {"exam_farm", PE, 2, "accounts", "exams started on the same device",
                     "同一设备先后参加了多名学生的考试", "one device sat several students' exams"},
};

/* ---- state -------------------------------------------------------------------------------- */

#define WIN 8           /* playback points kept per open video session for late arrivals */
#define NDEV 4          /* devices / networks remembered per enrolment */
#define HB_BINS 32      /* heartbeat intervals: 4 s bins, 0–128 s */
#define PAUSE_BINS 16   /* pause lengths: bins of 1/2 octave from 0.5 s */
#define DEV_ACTORS 8    /* accounts listed per device (more are counted) */
#define ATT_ITEMS 48    /* items kept per open attempt */
#define HISTORY_MIN 40  /* study statements before novelty means anything */

typedef struct info { /* an enrolment's identity text, for findings */
  char reg[64], student[128], university[256], course[256], platform[64];
} info;

typedef struct slot { uint64_t h; uint32_t n; uint16_t first; uint16_t pad; } slot;

typedef struct enrol {
  uint64_t reg, actor, platform;
  info *txt;
  uint32_t sig;          /* index in d->sigs (0: no rule has fired) */
  uint32_t plat;         /* index in d->plats */
  int64_t last_ts;
  uint8_t pf_on;         /* a study face mismatch waits for its retry window (read on every statement) */
  /* video */
  float watch_s, claimed_s, max_sess_excess;
  uint16_t completions, near_end;
  uint32_t hb_n, hb_muted, hb_pinned, hb_noinput, hb_input_known, hb_hidden, hb_vis_known, hb_night;
  uint8_t hb_hist[HB_BINS];
  uint8_t pause_hist[PAUSE_BINS];
  uint16_t pauses, autoresume;
  /* daily first session start, circular statistics */
  int32_t last_day;
  uint16_t days;
  float start_c, start_s;
  /* pages, tasks, pop-ups, coursework vs exam */
  uint16_t pages, nodwell, tasks, task_same, popups, popup_fast;
  uint16_t pages_from, popups_from; /* since the first instant page / pop-up (a tool taking over) */
  float last_task_gap;
  int64_t last_task_ts;
  uint16_t cw_items, cw_correct, ex_items, ex_correct;
  uint64_t last_assess; float last_assess_acc;
  float last_assess_fast;      /* share of the last attempt's items answered faster than readable */
  float it_ss;                 /* Σ squared deviation of ln(item time) from its attempt's mean */
  uint16_t it_df, it_att;      /* its degrees of freedom; attempts (scripts: time unlike the item) */
  float cw_lr;                 /* Σ ln(item time / population's) over coursework items */
  uint16_t cw_lr_n;
  uint8_t guess_retakes;       /* assessments retaken perfectly right after a guess-through */
  uint8_t fx_fail, fx_pass, fx_narrow; /* exam face checks: failed; passed; passed narrowly */
  uint8_t fx_k;                /* exam face checks compared with own study checks or everyone's exam checks */
  uint16_t fs_n;               /* passed study face checks with a score */
  float fs_mean;               /* their mean score (Welford; the squared deviations go to the pool) */
  float fx_zsum;               /* Σ z of those checks below the baseline (exam_face_low) */
  /* identity history */
  uint32_t study_n;
  slot dev[NDEV], net[NDEV], uaf[NDEV];
  uint16_t novel_n, novel_net_n, novel_ua_n;
  uint16_t dup_posts;
  uint8_t emitted;       /* bit per type */
  uint8_t offline_seen;  /* the enrolment uses offline mode: its playback may be synced late */
  uint8_t last_hb_id[16];
  uint32_t hb_input_any; /* heartbeats that reported some input */
  uint16_t att_sess, att_unattended; /* sessions of >= 10 reports; of them, unattended ones */
  /* the same per local day (a tool's day of short sessions has few reports in each) */
  int32_t ad_day;
  uint16_t ad_hb, ad_in_known, ad_in_any, ad_muted, ad_vis_known, ad_hidden;
  uint16_t att_days, att_days_un;
  uint16_t fc_n, fc_unmet;  /* study face checks judged; of them failed, unanswered or late */
  int32_t fc_day1;          /* local day + 1 of the first unmet check (0: none) */
  uint8_t fc_days2;         /* an unmet check on another day as well */
  uint8_t pf_fam;           /* the pending mismatch (pf_on) was on a familiar device */
  uint8_t pf_id[16];
  int64_t pf_ts, lp_ts;     /* that failure; the last passed study check */
  uint64_t pf_dev, lp_dev;
} enrol;

typedef struct sigrec {
  float strength[S_COUNT_], value[S_COUNT_];
  int64_t ts[S_COUNT_];
  uint8_t id[S_COUNT_][16];
  uint8_t has_id[S_COUNT_];
} sigrec;

typedef struct pt {
  int64_t recv, ts;
  float in, out;
  uint8_t kind, offline;
  uint8_t id[16];
} pt;

typedef struct vsess {
  uint64_t key, actor, video, reg, device;
  uint32_t enrol;
  float cap, length, threshold;
  float reach;            /* furthest position reached at a possible speed (or by a seek) */
  float own;              /* the same, counted from this session's first report wherever it was */
  float claim;            /* completion claimed: the position it needs (0: none pending) */
  int64_t claim_ts;
  uint8_t claim_id[16];
  int64_t touched;
  pt win[WIN];
  uint8_t nwin, seeked, first_set, closed;
  float first_in; int64_t first_recv; int first_offline;
  uint8_t first_known;    /* the first report resumed where this enrolment's viewing had reached */
  /* committed state at win[0] */
  float credit0, excess0, watch0;
  struct run { float low, play, clow, cplay; uint8_t ok, paused; } run0; /* the current continuous run (run_step) */
  float run_max;          /* largest run excess so far (s of video beyond cap and jitter) */
  /* what has been added to the enrolment so far */
  float rep_excess, rep_watch;
  int64_t adv_lo, adv_hi; /* last interval in which the position advanced (recv) */
  float adv_rate;         /* media seconds per second in it */
  /* attendance of this session, classified when it closes */
  uint16_t hb, hb_in_known, hb_in_any, hb_muted, hb_vis_known, hb_hidden;
} vsess;

typedef struct actor {
  uint64_t key;
  uint32_t open[8];
  uint8_t nopen;
  float conc_s;     /* seconds of over-cap concurrent playback on conc_day */
  float multi_s;    /* seconds with three or more videos advancing */
  int64_t conc_day;
} actor;

typedef struct device {
  uint64_t key;
  uint16_t n_actors, n_exam_actors, n_sec_actors;
  uint64_t actors[DEV_ACTORS];
  uint32_t enrols[DEV_ACTORS];
  uint64_t exam_actors[4], sec_actors[4];
  uint32_t exam_enrols[4], sec_enrols[4];
  uint64_t last_assess, last_assess_actor;
  int64_t last_assess_ts;
} device;

typedef struct item {
  double sum_ln;
  uint32_t n;
  uint32_t graded, wrong; /* accounts' graded answers to the item; of them wrong */
  double wrong_sq;        /* Σ over wrong responses of (accounts that gave it)² */
} item;

typedef struct aitem { uint64_t item; float dur; uint32_t resp; int8_t success; uint16_t chars; } aitem;

typedef struct attempt {
  uint64_t key, assess, device, actor;
  uint32_t enrol;
  uint8_t akind, n, finished;
  int64_t start_ts, touched, last_ts;
  uint8_t last_id[16];
  aitem it[ATT_ITEMS];
} attempt;

typedef struct face {
  uint64_t key;
  uint32_t enrol;
  int64_t prompt_ts, result_ts;
  uint64_t prompt_dev, result_dev;
  uint8_t have_prompt, have_result, exam, failed, judged;
  uint8_t absent;  /* failed as no face or unanswered: nobody faced the camera */
  uint8_t passed, liveness;
  uint8_t counted; /* in the enrolment's face-check fit: 1 met, 2 unmet */
  float score, thr;
} face;

typedef struct plat {
  uint64_t key;
  uint64_t hist[HB_BINS], n;
  double pause_n, resume_n; /* pauses and quick resumes of all its enrolments (last sweep) */
  uint8_t off[S_COUNT_]; /* rule switched off: too common on this platform to mean anything */
  uint32_t fc_n, fc_unmet; /* study face checks of enrolments that are not outliers themselves */
  double page_n, page_nd;   /* pages and instant pages, pop-ups and instant answers, of the */
  double pop_n, pop_fast;   /* enrolments whose own share does not fire (last sweep) */
} plat;

typedef struct owner { uint64_t actor; uint32_t enrol; uint32_t pad; } owner;

struct closed_ent { uint32_t si; uint64_t key; int64_t at; };
/* a completion claim judged later because the enrolment's offline playback may still arrive */
struct claim_ent { uint32_t enrol; uint64_t vkey; float need, reach; int64_t ts; uint8_t id[16]; };

struct mg_detect {
  struct closed_ent *closed; /* ring of closed video sessions */
  size_t nclosed, capclosed, closed_head;
  struct claim_ent *claims; /* FIFO of deferred completion claims */
  size_t nclaims, capclaims, claims_head;
  mg_detect_config cfg;
  mg_detect_sink sink;
  void *ud;
  hmap enrol_ix, sess_ix, actor_ix, dev_ix, item_ix, att_ix, face_ix, plat_ix, capture_ix,
      wrong_ix, post_ix, devact_ix, vid_ix;
  pool enrols, sigs, sess, actors, devs, items, atts, faces, plats, owners;
  hmap seen[2];
  int64_t now_recv, max_ts, next_sweep;
  mg_detect_stats st;
  mg_detect_finding f; /* scratch for the sink */
  int rc;              /* first sink error */
  struct exam_x *ex;   /* 刷考 cross-account answer history (lazily created) */
  mg_detect_pf *pf;    /* 刷考 person fit and item-time fit (personfit.c) */
  uint8_t hold;        /* set_sig records without emitting (a personfit judgement in progress) */
  int held;            /* the last rule recorded meanwhile */
  double fw_m2, fw_df; /* pooled within-student spread of study face scores */
  double fz_sum, fz_sq, fz_n; /* every exam check's z against its student's own study checks */
  double fp_sum, fp_sq, fp_n; /* every passed exam check's score */
};

/* ---- helpers ------------------------------------------------------------------------------- */

const char *mg_detect_type_name(mg_detect_type t) {
  static const char *n[] = {"course_brushing", "proxy_study", "exam_brushing", "proxy_exam"};
  return (unsigned)t < MG_DETECT_TYPE_COUNT_ ? n[t] : NULL;
}

const char *mg_detect_type_name_zh(mg_detect_type t) {
  static const char *n[] = {"刷课", "替课", "刷考", "替考"};
  return (unsigned)t < MG_DETECT_TYPE_COUNT_ ? n[t] : NULL;
}

int mg_detect_type_parse(const char *s, mg_detect_type *out) {
  for (int t = 0; t < MG_DETECT_TYPE_COUNT_; t++)
    if (s && !strcmp(s, mg_detect_type_name((mg_detect_type)t))) {
      *out = (mg_detect_type)t;
      return MG_OK;
    }
  return MG_EINVAL;
}

void mg_detect_config_defaults(mg_detect_config *c) {
  c->threshold = 1.0;
  c->sweep_every_us = 24LL * 3600 * 1000000;
  c->dedupe_generation = 1u << 20;
  c->idle_us = 4LL * 3600 * 1000000;
}

static void copy_str(char *dst, size_t size, mg_detect_str s) {
  size_t n = s.n < size - 1 ? s.n : size - 1;
  if (s.p) memcpy(dst, s.p, n);
  dst[s.p ? n : 0] = 0;
  mg_utf8_trim_tail(dst);
}

static enrol *E(mg_detect *d, uint32_t i) { return pool_at(&d->enrols, i); }


/* The local (China Standard Time) day number and minute of day of an instant. */
static int64_t local_day(int64_t us) { return (us / 1000000 + 8 * 3600) / 86400; }
static int local_minute(int64_t us) { return (int)(((us / 1000000 + 8 * 3600) % 86400) / 60); }

static double sig_score(const sigrec *r, mg_detect_type t) {
  double s = 0;
  for (int i = 0; i < S_COUNT_; i++)
    if (k_sig[i].type == t) s += r->strength[i];
  return s;
}

static void add_evidence(mg_detect_finding *f, const uint8_t id[16]) {
  for (size_t i = 0; i < f->n_evidence; i++)
    if (!memcmp(f->evidence[i], id, 16)) return;
  if (f->n_evidence < MG_DETECT_MAX_EVIDENCE) memcpy(f->evidence[f->n_evidence++], id, 16);
}

/* Appends a detail text (either may be NULL) to the finding's explanations at *zl / *el. */
static void explain_add(mg_detect_finding *f, size_t *zl, size_t *el, const char *xz, const char *xe) {
  int w = xz ? snprintf(f->explain_zh + *zl, sizeof f->explain_zh - *zl, "%s", xz) : 0;
  if (w > 0 && (size_t)w < sizeof f->explain_zh - *zl) *zl += (size_t)w;
  w = xe ? snprintf(f->explain_en + *el, sizeof f->explain_en - *el, "%s", xe) : 0;
  if (w > 0 && (size_t)w < sizeof f->explain_en - *el) *el += (size_t)w;
}

static void emit(mg_detect *d, uint32_t ei, mg_detect_type t, int decisive) {
  enrol *e = E(d, ei);
  sigrec *r = pool_at(&d->sigs, e->sig);
  mg_detect_finding *f = &d->f;
  memset(f, 0, offsetof(mg_detect_finding, explain_zh));
  f->explain_zh[0] = f->explain_en[0] = 0;
  f->type = t;
  f->score = sig_score(r, t);
  f->threshold = d->cfg.threshold;
  f->reg_hash = e->reg;
  f->actor_hash = e->actor;
  if (e->txt) {
    snprintf(f->registration, sizeof f->registration, "%s", e->txt->reg);
    snprintf(f->student, sizeof f->student, "%s", e->txt->student);
    snprintf(f->university, sizeof f->university, "%s", e->txt->university);
    snprintf(f->course, sizeof f->course, "%s", e->txt->course);
    snprintf(f->platform, sizeof f->platform, "%s", e->txt->platform);
  }
  f->decisive_ts_us = r->ts[decisive] ? r->ts[decisive] : e->last_ts;
  f->found_at_us = d->now_recv;
  if (r->has_id[decisive]) add_evidence(f, r->id[decisive]);
  mg_buf th;
  mg_buf_init(&th, sizeof f->thresholds - 1);
  mg_buf_addc(&th, '{');
  size_t zl = 0, el = 0, rl = 0, gl = 0;
  for (int i = 0; i < S_COUNT_; i++) {
    if (k_sig[i].type != t || r->strength[i] <= 0) continue;
    if (r->has_id[i]) add_evidence(f, r->id[i]);
    int w = snprintf(f->rules + rl, sizeof f->rules - rl, "%s%s", rl ? "+" : "", k_sig[i].name);
    if (w > 0 && (size_t)w < sizeof f->rules - rl) rl += (size_t)w;
    if (!strstr(f->group, k_sig[i].group)) {
      w = snprintf(f->group + gl, sizeof f->group - gl, "%s%s", gl ? "; " : "", k_sig[i].group);
      if (w > 0 && (size_t)w < sizeof f->group - gl) gl += (size_t)w;
    }
    mg_buf_addf(&th, "%s\"%s\":{\"value\":%.4g,\"threshold\":%.4g,\"strength\":%.2f,\"unit\":\"%s\"}",
                th.len > 1 ? "," : "", k_sig[i].name, r->value[i], k_sig[i].threshold,
                r->strength[i], k_sig[i].unit);
    w = snprintf(f->explain_zh + zl, sizeof f->explain_zh - zl, "%s%s（观测值 %.3g，阈值 %.3g %s）",
                 zl ? "；" : "", k_sig[i].zh, r->value[i], k_sig[i].threshold, k_sig[i].unit);
    if (w > 0 && (size_t)w < sizeof f->explain_zh - zl) zl += (size_t)w;
    w = snprintf(f->explain_en + el, sizeof f->explain_en - el, "%s%s (value %.3g, threshold %.3g %s)",
                 el ? "; " : "", k_sig[i].en, r->value[i], k_sig[i].threshold, k_sig[i].unit);
    if (w > 0 && (size_t)w < sizeof f->explain_en - el) el += (size_t)w;
  }
  if (t == MG_DETECT_EXAM_BRUSHING && d->pf) {
    /* what personfit.c measured for its rules: accuracies on known-bank and other items and the
     * bank errors reproduced; the course-wide pace, accuracy and time z; the items that make the
     * pattern improbable */
    if (r->strength[S_BANK_GAP] > 0 || r->strength[S_BANK_ERRORS] > 0)
      explain_add(f, &zl, &el, mg_detect_pf_bank_detail(d->pf, ei, 1), mg_detect_pf_bank_detail(d->pf, ei, 0));
    if (r->strength[S_FAST_FLAT] > 0)
      explain_add(f, &zl, &el, mg_detect_pf_fast_detail(d->pf, ei, 1), mg_detect_pf_fast_detail(d->pf, ei, 0));
    if (r->strength[S_PERSON_MISFIT] > 0)
      explain_add(f, &zl, &el, mg_detect_pf_detail(d->pf, ei, 1), mg_detect_pf_detail(d->pf, ei, 0));
  }
  mg_buf_addc(&th, '}');
  snprintf(f->thresholds, sizeof f->thresholds, "%s", th.data ? th.data : "{}");
  mg_buf_free(&th);
  mg_utf8_trim_tail(f->explain_zh);
  mg_utf8_trim_tail(f->explain_en);
  mg_utf8_trim_tail(f->group);
  e->emitted |= (uint8_t)(1u << t);
  d->st.findings++;
  if (d->sink) {
    int rc = d->sink(d->ud, f);
    if (rc && !d->rc) d->rc = rc;
  }
}

/* Raises rule s of enrolment ei to strength (never lowers it) and emits when the type's score
 * reaches the threshold. id/ts: the statement that showed it (NULL for population sweeps). */
static void set_sig(mg_detect *d, uint32_t ei, int s, double strength, double value,
                    const uint8_t *id, int64_t ts) {
  if (!ei || strength <= 0) return;
  enrol *e = E(d, ei);
  if (!e->sig) {
    uint32_t si;
    if (pool_alloc(&d->sigs, &si)) { d->rc = d->rc ? d->rc : MG_ENOMEM; return; }
    e = E(d, ei);
    e->sig = si;
  }
  sigrec *r = pool_at(&d->sigs, e->sig);
  if (strength > 1) strength = 1;
  if (strength <= r->strength[s]) {
    if (strength == r->strength[s] && value > r->value[s]) r->value[s] = (float)value;
    return;
  }
  r->strength[s] = (float)strength;
  r->value[s] = (float)value;
  if (id) {
    memcpy(r->id[s], id, 16);
    r->has_id[s] = 1;
    r->ts[s] = ts;
  } else if (!r->has_id[s]) {
    if (e->hb_n) { memcpy(r->id[s], e->last_hb_id, 16); r->has_id[s] = 1; }
    r->ts[s] = e->last_ts;
  }
  mg_detect_type t = k_sig[s].type;
  if (d->hold) { d->held = s; return; } /* one judgement's rules are set together, then judged */
  if (!(e->emitted & (1u << t)) && sig_score(r, t) >= d->cfg.threshold - 1e-9) emit(d, ei, t, s);
}

static double sig_get(mg_detect *d, uint32_t ei, int s) {
  enrol *e = E(d, ei);
  if (!e->sig) return 0;
  return ((sigrec *)pool_at(&d->sigs, e->sig))->strength[s];
}

/* ---- lookups ------------------------------------------------------------------------------ */

#define LOOKUP(name, type, ix, pl)                                                   \
  static uint32_t name(mg_detect *d, uint64_t key, int create) {                   \
    uint32_t *p = hm_get(&d->ix, key);                                              \
    if (p) return *p;                                                               \
    if (!create || !key) return 0;                                                  \
    uint32_t i;                                                                     \
    if (pool_alloc(&d->pl, &i) || hm_put(&d->ix, key, i)) {                         \
      d->rc = d->rc ? d->rc : MG_ENOMEM;                                            \
      return 0;                                                                     \
    }                                                                               \
    ((type *)pool_at(&d->pl, i))->key = key;                                        \
    return i;                                                                       \
  }

LOOKUP(actor_get, actor, actor_ix, actors)
LOOKUP(dev_get, device, dev_ix, devs)
LOOKUP(plat_get, plat, plat_ix, plats)
LOOKUP(face_get, face, face_ix, faces)

static uint32_t item_get(mg_detect *d, uint64_t key, int create) {
  uint32_t *p = hm_get(&d->item_ix, key);
  if (p) return *p;
  if (!create) return 0;
  uint32_t i;
  if (pool_alloc(&d->items, &i) || hm_put(&d->item_ix, key, i)) return 0;
  return i;
}

static uint32_t enrol_get(mg_detect *d, const mg_detect_event *ev) {
  uint32_t *p = hm_get(&d->enrol_ix, ev->reg);
  if (p) return *p;
  uint32_t i;
  info *t = calloc(1, sizeof *t);
  if (!t || pool_alloc(&d->enrols, &i) || hm_put(&d->enrol_ix, ev->reg, i)) {
    free(t);
    d->rc = d->rc ? d->rc : MG_ENOMEM;
    return 0;
  }
  enrol *e = E(d, i);
  e->reg = ev->reg;
  e->actor = ev->actor;
  e->platform = ev->platform;
  e->plat = plat_get(d, ev->platform ? ev->platform : 1, 1);
  e->last_day = -1;
  copy_str(t->reg, sizeof t->reg, ev->s_reg);
  copy_str(t->student, sizeof t->student, ev->s_name);
  copy_str(t->university, sizeof t->university, ev->s_home);
  copy_str(t->course, sizeof t->course, ev->s_course);
  copy_str(t->platform, sizeof t->platform, ev->s_platform);
  e->txt = t;
  d->st.enrolments++;
  return i;
}

/* Counts h in a small history; returns the slot (NULL when full and absent). */
static slot *hist_touch(slot *sl, uint64_t h, uint32_t at) {
  if (!h) return NULL;
  for (int i = 0; i < NDEV; i++) {
    if (sl[i].h == h) { sl[i].n++; return &sl[i]; }
    if (!sl[i].h) {
      sl[i].h = h;
      sl[i].n = 1;
      sl[i].first = (uint16_t)(at > 65535 ? 65535 : at);
      return &sl[i];
    }
  }
  return NULL;
}

static const slot *hist_find(const slot *sl, uint64_t h) {
  for (int i = 0; i < NDEV; i++)
    if (sl[i].h == h) return &sl[i];
  return NULL;
}

/* A device met with an account. Every (device, account) pair is remembered, so the count of
 * accounts per device is exact however many there are; the first few are also listed. */
static void device_touch(mg_detect *d, uint64_t key, uint64_t actor_key, uint32_t ei) {
  uint64_t pair = ((key * 0x9e3779b97f4a7c15ull) ^ (actor_key + 0x632be59bd9b4e019ull)) | 1;
  if (hm_get(&d->devact_ix, pair)) return;
  uint32_t di = dev_get(d, key, 1);
  if (!di) return;
  if (hm_put(&d->devact_ix, pair, di)) { d->rc = d->rc ? d->rc : MG_ENOMEM; return; }
  device *v = pool_at(&d->devs, di);
  if (v->n_actors < DEV_ACTORS) {
    v->actors[v->n_actors] = actor_key;
    v->enrols[v->n_actors] = ei;
  }
  if (v->n_actors < 65535) v->n_actors++;
}

/* ---- video sessions ------------------------------------------------------------------------ */

typedef struct pairres { float excess, watch, credit; } pairres;

/* The allowance for one step between two playback reports: the cap over the elapsed server time
 * (the client clock when either report was recorded offline), 5 % and 2 s of slack for rounding,
 * plus credit left over from earlier slow steps (at most 15 s at the cap), which absorbs network
 * jitter in received-at. */
static pairres step(const vsess *s, const pt *a, const pt *b, float credit) {
  pairres r = {0, 0, credit};
  double dt = (a->offline || b->offline) ? (b->ts - a->ts) / 1e6 : (b->recv - a->recv) / 1e6;
  if (dt < 0) dt = 0;
  double cap = s->cap > 0 ? s->cap : 2.0;
  double avail = cap * 1.05 * dt + 2.0 + credit;
  double adv = (double)b->in - (double)a->out;
  if (a->kind == MG_XAPI_KIND_VIDEO_PAUSED) adv = adv > 0 ? adv : 0; /* resumed where it was */
  if (adv < 0) adv = 0;
  double use = adv < avail ? adv : avail;
  r.excess = (float)(adv - use);
  r.watch = (float)use;
  double left = avail - use - 2.0;
  double lim = cap * 15.0;
  r.credit = (float)(left < 0 ? 0 : left > lim ? lim : left);
  return r;
}

/* The same physics over a whole continuous run of playback (from the first report or a seek,
 * without seek, offline report or backward step): over any stretch of a run, position gained <=
 * cap x time playing (paused time excluded), plus one allowance for receive jitter (the largest
 * credit a single step may carry, 15 s at the cap, plus 2 s). Unlike the per-step sum it adds no
 * slack per report, so a player driven steadily past the cap shows by the end of one video. The
 * run keeps the lowest (position - cap x play time) seen, so the stretch judged is the worst one.
 *
 * The run is also timed by the client's own clock (`timestamp`), which has no network jitter: a
 * player cannot advance faster than the cap by the clock of the machine it runs on. A step's
 * client time is never taken as shorter than its receive time less RUN_CLIENT_SLACK_S, so a client
 * clock stepped backwards (or stamps bunched at sending) cannot make honest playback look fast by
 * more than cap x that slack per step; stamps stretched to look slow are what the receive-time
 * run is for. Only 2 s of allowance (position and timestamp rounding) then.
 * Returns the excess after b (<= 0: within the cap), the larger of the two clocks'. */
#define RUN_CLIENT_SLACK_S 2.0
static float run_step(const vsess *s, const pt *a, const pt *b, struct run *r) {
  double cap = (s->cap > 0 ? s->cap : 2.0) * 1.05;
  if (!r->ok) *r = (struct run){a->out, 0, a->out, 0, 1, 0};
  /* paused from a pause until the next play (reports in between do not resume it) */
  if (a->kind == MG_XAPI_KIND_VIDEO_PAUSED) r->paused = 1;
  if (a->kind == MG_XAPI_KIND_VIDEO_PLAYED) r->paused = 0;
  if (a->offline || b->offline || b->kind == MG_XAPI_KIND_VIDEO_SEEKED || b->in < a->out - 0.5f ||
      b->recv < a->recv || (r->paused && b->in > a->out + 0.5f)) {
    *r = (struct run){b->out, 0, b->out, 0, 1, 0};
    return 0;
  }
  if (!r->paused) {
    double dr = (b->recv - a->recv) / 1e6, dc = (b->ts - a->ts) / 1e6;
    if (dc < dr - RUN_CLIENT_SLACK_S) dc = dr - RUN_CLIENT_SLACK_S;
    if (dc < 0) dc = 0;
    r->play += (float)dr;
    r->cplay += (float)dc;
  }
  double v = (double)b->in - cap * r->play, vc = (double)b->in - cap * r->cplay;
  double ex = v - r->low - (2.0 + 15.0 * cap / 1.05), exc = vc - r->clow - 2.0;
  if (v < r->low) r->low = (float)v;
  if (vc < r->clow) r->clow = (float)vc;
  return (float)(exc > ex ? exc : ex);
}

/* Heartbeat intervals and pauses are learned only from committed (ordered) steps. */
static void commit_step(mg_detect *d, vsess *s, const pt *a, const pt *b) {
  enrol *e = E(d, s->enrol);
  double gap = (b->ts - a->ts) / 1e6;
  if (gap < 0) return;
  if (a->kind == MG_XAPI_KIND_VIDEO_HEARTBEAT && b->kind == MG_XAPI_KIND_VIDEO_HEARTBEAT &&
      !a->offline && !b->offline) {
    int bin = (int)(gap / 4.0);
    if (bin >= HB_BINS) bin = HB_BINS - 1;
    if (e->hb_hist[bin] == 255)
      for (int i = 0; i < HB_BINS; i++) e->hb_hist[i] /= 2;
    e->hb_hist[bin]++;
    plat *p = pool_at(&d->plats, e->plat);
    p->hist[bin]++;
    p->n++;
  }
  if (a->kind == MG_XAPI_KIND_VIDEO_PAUSED && b->kind == MG_XAPI_KIND_VIDEO_PLAYED) {
    int bin = gap < 0.5 ? 0 : (int)(2.0 * log2(gap / 0.5)) + 1;
    if (bin >= PAUSE_BINS) bin = PAUSE_BINS - 1;
    if (e->pause_hist[bin] == 255)
      for (int i = 0; i < PAUSE_BINS; i++) e->pause_hist[i] /= 2;
    e->pause_hist[bin]++;
    if (e->pauses < 65535) e->pauses++;
    if (gap < 2.0 && e->autoresume < 65535) e->autoresume++;
  }
}

/* The furthest position of a video an enrolment reached at a possible speed, across sessions. */
static uint64_t video_key(const vsess *s) {
  return ((s->video * 0x9e3779b97f4a7c15ull) ^ (s->reg * 0xc2b2ae3d27d4eb4full)) | 1;
}

static float video_reach(mg_detect *d, const vsess *s) {
  uint32_t *p = s->video ? hm_get(&d->vid_ix, video_key(s)) : NULL;
  float f = 0;
  if (p) memcpy(&f, p, sizeof f);
  return f;
}

static void video_reach_raise(mg_detect *d, const vsess *s, float reach) {
  if (!s->video || reach <= video_reach(d, s)) return;
  uint32_t v;
  memcpy(&v, &reach, sizeof v);
  if (hm_put(&d->vid_ix, video_key(s), v)) d->rc = d->rc ? d->rc : MG_ENOMEM;
}

/* 60 s of step excess, or 30 s over one continuous run beyond its jitter allowance: a minute
 * (half a minute past the largest receive delay tolerated) of video no one can have watched. */
static void speed_judge(mg_detect *d, const vsess *s, float excess, float run_max, const mg_detect_event *ev) {
  enrol *e = E(d, s->enrol);
  if (excess > e->max_sess_excess) e->max_sess_excess = excess;
  if (excess < 30 && run_max < 30) return;
  double strength = excess >= 60 || run_max >= 30 ? 1.0 : 0.4;
  set_sig(d, s->enrol, S_SPEED, strength, excess > run_max ? excess : run_max, ev ? ev->id : NULL,
          ev ? ev->ts_us : 0);
}

static void sess_eval(mg_detect *d, uint32_t si, const mg_detect_event *ev) {
  vsess *s = pool_at(&d->sess, si);
  float credit = s->credit0, excess = s->excess0, watch = s->watch0;
  float before = video_reach(d, s), reach = s->reach, own = s->own;
  struct run run = s->run0;
  float run_max = s->run_max, judged = excess, judged_run = run_max;
  /* the session's first report counts as reached when it resumes where the video had been
   * reached before (or was recorded offline, judged on the client clock) */
  if (s->nwin && s->win[0].recv == s->first_recv &&
      (s->win[0].offline || s->win[0].in <= before + 30.0f) && s->win[0].in > reach)
    reach = s->win[0].in;
  if (s->nwin && s->win[0].recv == s->first_recv) s->first_known = s->win[0].in <= before + 30.0f;
  if (s->nwin && s->win[0].recv == s->first_recv && s->win[0].in > own) own = s->win[0].in;
  for (int i = 1; i < s->nwin; i++) {
    const pt *a = &s->win[i - 1], *b = &s->win[i];
    pairres r = step(s, a, b, credit);
    credit = r.credit;
    excess += r.excess;
    watch += r.watch;
    float rx = run_step(s, a, b, &run);
    if (rx > run_max) run_max = rx;
    /* a pause at a new position may be where a seek landed whose own statement (same client
     * time) is still on its way: the last step into a pause is judged once the next report is in */
    if (i < s->nwin - 1 || b->kind != MG_XAPI_KIND_VIDEO_PAUSED) { judged = excess; judged_run = run_max; }
    if (a->out <= reach + 30.0f || a->offline) {
      float at = r.excess <= 0 ? b->in : a->out + r.watch;
      if (at > reach) reach = at;
    }
    if (a->out <= own + 30.0f) {
      float at = r.excess <= 0 ? b->in : a->out + r.watch;
      if (at > own) own = at;
    }
    if (b->kind == MG_XAPI_KIND_VIDEO_SEEKED && b->out > reach && b->in <= reach + 30.0f) reach = b->out;
  }
  s->reach = reach;
  s->own = own;
  video_reach_raise(d, s, reach);
  enrol *e = E(d, s->enrol);
  e->watch_s += watch - s->rep_watch;
  s->rep_watch = watch;
  s->rep_excess = excess;
  speed_judge(d, s, judged, judged_run, ev);
}

static void sess_commit_front(mg_detect *d, vsess *s) {
  if (s->nwin >= 2) {
    pairres r = step(s, &s->win[0], &s->win[1], s->credit0);
    s->credit0 = r.credit;
    s->excess0 += r.excess;
    s->watch0 += r.watch;
    float rx = run_step(s, &s->win[0], &s->win[1], &s->run0);
    if (rx > s->run_max) s->run_max = rx;
    commit_step(d, s, &s->win[0], &s->win[1]);
  }
  memmove(&s->win[0], &s->win[1], (size_t)(s->nwin - 1) * sizeof s->win[0]);
  s->nwin--;
}

#define CLOSED_LINGER_US (10LL * 60 * 1000000)

/* Closed sessions wait in a FIFO until CLOSED_LINGER_US of statement time has passed. */
static void sess_close(mg_detect *d, uint32_t si);
static void claim_judge(mg_detect *d, uint32_t si);

static void closed_push(mg_detect *d, uint32_t si, int64_t at) {
  if (d->nclosed == d->capclosed) {
    size_t nc = d->capclosed ? d->capclosed * 2 : 256;
    struct closed_ent *n = malloc(nc * sizeof *n);
    if (!n) { sess_close(d, si); return; }
    for (size_t i = 0; i < d->nclosed; i++) n[i] = d->closed[(d->closed_head + i) % d->capclosed];
    free(d->closed);
    d->closed = n;
    d->capclosed = nc;
    d->closed_head = 0;
  }
  vsess *s = pool_at(&d->sess, si);
  d->closed[(d->closed_head + d->nclosed) % d->capclosed] = (struct closed_ent){si, s->key, at};
  d->nclosed++;
}

static void closed_expire(mg_detect *d, int all) {
  while (d->nclosed) {
    struct closed_ent *c = &d->closed[d->closed_head];
    if (!all && d->max_ts - c->at < CLOSED_LINGER_US) break;
    vsess *s = pool_at(&d->sess, c->si);
    if (s->key == c->key && s->closed) sess_close(d, c->si);
    d->closed_head = (d->closed_head + 1) % d->capclosed;
    d->nclosed--;
  }
}

static void actor_drop_session(mg_detect *d, uint64_t actor_key, uint32_t si) {
  uint32_t ai = actor_get(d, actor_key, 0);
  if (!ai) return;
  actor *a = pool_at(&d->actors, ai);
  for (int i = 0; i < a->nopen; i++)
    if (a->open[i] == si) {
      a->open[i] = a->open[--a->nopen];
      return;
    }
}

/* Reports nobody attended: no input on any of >= 10 reports while muted or in the background,
 * or input on every one of them (a jiggler moves the mouse on a timer, through pauses too). A
 * present viewer touches the input now and then, not never and not always. 1 unattended, 0
 * attended, -1 too few reports with input known. */
static int unattended(unsigned hb, unsigned in_known, unsigned in_any, unsigned muted,
                      unsigned vis_known, unsigned hidden) {
  if (in_known < 10) return -1;
  int silent = in_any == 0 && (muted >= 0.9 * hb || (vis_known >= 10 && hidden >= 0.9 * vis_known));
  return silent || in_any == in_known;
}

/* Judged per session because a tool that takes over part of a term is diluted in
 * whole-enrolment shares. */
static void sess_attendance(mg_detect *d, const vsess *s) {
  if (!s->enrol) return;
  int u = unattended(s->hb, s->hb_in_known, s->hb_in_any, s->hb_muted, s->hb_vis_known, s->hb_hidden);
  enrol *e = E(d, s->enrol);
  if (u < 0 || !e->reg || e->att_sess == 65535) return;
  e->att_sess++;
  if (u) e->att_unattended++;
}

/* The current local day's reports, judged like one session when the day is over. */
static int day_attendance(const enrol *e) {
  return unattended(e->ad_hb, e->ad_in_known, e->ad_in_any, e->ad_muted, e->ad_vis_known, e->ad_hidden);
}

static void sess_close(mg_detect *d, uint32_t si) {
  vsess *s = pool_at(&d->sess, si);
  sess_attendance(d, s);
  while (s->nwin > 1) sess_commit_front(d, s);
  speed_judge(d, s, s->excess0, s->run_max, NULL); /* a last step into a pause waited for this */
  claim_judge(d, si);
  s = pool_at(&d->sess, si);
  if (!s->closed) actor_drop_session(d, s->actor, si);
  hm_del(&d->sess_ix, s->key);
  s->key = 0;
  pool_release(&d->sess, si);
  d->st.sessions_open--;
}

/* Concurrency: the interval [lo, hi] in which this session advanced, against the last advancing
 * interval of the account's other open sessions. */
static void concurrency(mg_detect *d, uint32_t si, int64_t lo, int64_t hi, double rate,
                        const mg_detect_event *ev) {
  vsess *s = pool_at(&d->sess, si);
  uint32_t ai = actor_get(d, s->actor, 1);
  if (!ai) return;
  actor *a = pool_at(&d->actors, ai);
  int found = 0, n_over = 0, n_dev = 1;
  uint64_t devs[8] = {s->device};
  double sum = rate, overlap = 0;
  for (int i = 0; i < a->nopen; i++) {
    if (a->open[i] == si) { found = 1; continue; }
    vsess *o = pool_at(&d->sess, a->open[i]);
    int64_t l = lo > o->adv_lo ? lo : o->adv_lo, h = hi < o->adv_hi ? hi : o->adv_hi;
    /* the other session advanced during at least half of this step */
    if (h > l && (h - l) * 2 >= hi - lo) {
      sum += o->adv_rate;
      overlap = (h - l) / 1e6;
      n_over++;
      int seen = 0;
      for (int k = 0; k < n_dev; k++) seen |= devs[k] == o->device;
      if (!seen && n_dev < 8) devs[n_dev++] = o->device;
    }
  }
  if (!found && a->nopen < 8) a->open[a->nopen++] = si;
  s->adv_lo = lo;
  s->adv_hi = hi;
  s->adv_rate = (float)rate;
  if (overlap <= 0) return;
  /* several videos advancing at once on the same device (three or more, at least two more
   * than its devices), or five at once anywhere: a student with a phone, a tablet and a laptop
   * each playing something has one video per screen */
  int videos = n_over + 1;
  if ((videos >= 3 && videos - n_dev >= 2) || videos >= 5) {
    a->multi_s += (float)overlap;
    if (a->multi_s >= 20) set_sig(d, s->enrol, S_CONCURRENT, 1.0, videos, ev->id, ev->ts_us);
    return;
  }
  double cap = s->cap > 0 ? s->cap : 2.0;
  /* two videos: summed rate over the cap (and over 2x): weak, the multi-device look-alike */
  if (sum <= 1.05 * (cap > 2.0 ? cap : 2.0)) return;
  int64_t day = local_day(ev->ts_us);
  if (day != a->conc_day) { a->conc_day = day; a->conc_s = 0; }
  a->conc_s += (float)overlap;
  if (a->conc_s >= 300) set_sig(d, s->enrol, S_CONCURRENT, a->conc_s >= 900 ? 0.4 : 0.3, 2, ev->id, ev->ts_us);
}

/* A completion claimed in a session that has ended: did this enrolment ever play the video up to
 * the completion point at a possible speed, in this session or an earlier one (a seek counts)? */
#define OFFLINE_WAIT_US (36LL * 3600 * 1000000) /* offline playback is synced within 30 h */

static float vkey_reach(mg_detect *d, uint64_t vkey) {
  uint32_t *p = hm_get(&d->vid_ix, vkey);
  float f = 0;
  if (p) memcpy(&f, p, sizeof f);
  return f;
}

static void claim_decide(mg_detect *d, uint32_t ei, float need, float covered, const uint8_t *id,
                         int64_t ts) {
  if (covered < 0.25f * need && need - covered >= 60)
    set_sig(d, ei, S_UNREACHED, 1.0, covered / need, id, ts);
}

static void claim_judge(mg_detect *d, uint32_t si) {
  vsess *s = pool_at(&d->sess, si);
  if (!s->claim || s->seeked) { s->claim = 0; return; }
  float need = s->claim, before = video_reach(d, s);
  float covered = s->reach > before ? s->reach : before;
  s->claim = 0;
  if (covered >= 0.25f * need) return;
  /* a session that resumed mid-video and then played on at a possible speed to the completion
   * point shows a viewer; the playback before the resume (an offline session not yet synced, the
   * first one of this enrolment) may still be on its way, so it waits like an offline claim */
  int resumed = s->first_in >= 30 && s->first_in < need && s->own >= need;
  if (!E(d, s->enrol)->offline_seen && !resumed) {
    claim_decide(d, s->enrol, need, covered, s->claim_id, s->claim_ts);
    return;
  }
  if (d->nclaims == d->capclaims) {
    size_t nc = d->capclaims ? d->capclaims * 2 : 64;
    struct claim_ent *n = malloc(nc * sizeof *n);
    if (!n) { d->rc = d->rc ? d->rc : MG_ENOMEM; return; }
    for (size_t i = 0; i < d->nclaims; i++) n[i] = d->claims[(d->claims_head + i) % d->capclaims];
    free(d->claims);
    d->claims = n;
    d->capclaims = nc;
    d->claims_head = 0;
  }
  struct claim_ent *c = &d->claims[(d->claims_head + d->nclaims) % d->capclaims];
  *c = (struct claim_ent){s->enrol, video_key(s), need, covered, s->claim_ts, {0}};
  memcpy(c->id, s->claim_id, 16);
  d->nclaims++;
}

/* Deferred claims whose offline wait is over (all at flush). */
static void claims_expire(mg_detect *d, int all) {
  while (d->nclaims) {
    struct claim_ent *c = &d->claims[d->claims_head];
    if (!all && d->max_ts - c->ts < OFFLINE_WAIT_US) break;
    struct claim_ent x = *c;
    d->claims_head = (d->claims_head + 1) % d->capclaims;
    d->nclaims--;
    float later = vkey_reach(d, x.vkey);
    claim_decide(d, x.enrol, x.need, later > x.reach ? later : x.reach, x.id, x.ts);
  }
}

static void on_video(mg_detect *d, uint32_t ei, const mg_detect_event *ev) {
  enrol *e = E(d, ei);
  if (!ev->vsess) return;
  uint32_t *p = hm_get(&d->sess_ix, ev->vsess), si;
  if (p) {
    si = *p;
  } else {
    if (pool_alloc(&d->sess, &si) || hm_put(&d->sess_ix, ev->vsess, si)) { d->rc = MG_ENOMEM; return; }
    vsess *n = pool_at(&d->sess, si);
    n->key = ev->vsess;
    n->actor = ev->actor;
    n->video = ev->object;
    n->device = ev->device;
    n->reg = ev->reg;
    n->enrol = ei;
    d->st.sessions_open++;
  }
  vsess *s = pool_at(&d->sess, si);
  s->touched = d->max_ts;
  if (ev->has & MG_DEV_HAS_MAX_SPEED) s->cap = (float)ev->max_speed;
  if (ev->has & MG_DEV_HAS_LENGTH) s->length = (float)ev->length;
  if (ev->has & MG_DEV_HAS_THRESHOLD) s->threshold = (float)ev->threshold;

  if (ev->kind == MG_XAPI_KIND_VIDEO_INITIALIZED) {
    int64_t day = local_day(ev->ts_us);
    if (day != e->last_day) { /* the first video of a local day: when does this student start? */
      e->last_day = (int32_t)day;
      double ang = local_minute(ev->ts_us) * (2 * M_PI / 1440.0);
      e->start_c += (float)cos(ang);
      e->start_s += (float)sin(ang);
      if (e->days < 65535) e->days++;
    }
  }
  if (ev->kind == MG_XAPI_KIND_VIDEO_HEARTBEAT) {
    double cap = s->cap > 0 ? s->cap : 2.0;
    e->hb_n++;
    if ((ev->has & MG_DEV_HAS_VOLUME) && ev->volume <= 0.001) e->hb_muted++;
    if ((ev->has & MG_DEV_HAS_SPEED) && cap > 1.0 && ev->speed >= cap - 1e-6) e->hb_pinned++;
    if (ev->input_count >= 0) { e->hb_input_known++; if (ev->input_count == 0) e->hb_noinput++; }
    if (ev->input_count > 0) e->hb_input_any++;
    if (s->hb < 65535) {
      s->hb++;
      if (ev->input_count >= 0) { s->hb_in_known++; if (ev->input_count > 0) s->hb_in_any++; }
      if ((ev->has & MG_DEV_HAS_VOLUME) && ev->volume <= 0.001) s->hb_muted++;
      if (ev->visible >= 0) { s->hb_vis_known++; if (!ev->visible) s->hb_hidden++; }
    }
    if (ev->visible >= 0) { e->hb_vis_known++; if (!ev->visible) e->hb_hidden++; }
    int64_t day = local_day(ev->ts_us);
    if (ev->offline != 1 && day >= e->ad_day) { /* late or offline reports are left out */
      if (day != e->ad_day) {
        int u = day_attendance(e);
        if (u >= 0 && e->att_days < 65535) { e->att_days++; e->att_days_un += (uint16_t)u; }
        e->ad_day = (int32_t)day;
        e->ad_hb = e->ad_in_known = e->ad_in_any = e->ad_muted = e->ad_vis_known = e->ad_hidden = 0;
      }
      if (e->ad_hb < 65535) {
        e->ad_hb++;
        if (ev->input_count >= 0) { e->ad_in_known++; if (ev->input_count > 0) e->ad_in_any++; }
        if ((ev->has & MG_DEV_HAS_VOLUME) && ev->volume <= 0.001) e->ad_muted++;
        if (ev->visible >= 0) { e->ad_vis_known++; if (!ev->visible) e->ad_hidden++; }
      }
    }
    int m = local_minute(ev->ts_us);
    if (m >= 60 && m < 300) e->hb_night++;
    memcpy(e->last_hb_id, ev->id, 16);
  }

  int has_point = (ev->has & MG_DEV_HAS_TIME) || ev->kind == MG_XAPI_KIND_VIDEO_SEEKED;
  if (has_point && ev->kind != MG_XAPI_KIND_VIDEO_INITIALIZED) {
    pt np = {.recv = ev->recv_us, .ts = ev->ts_us, .kind = (uint8_t)ev->kind,
             .offline = ev->offline == 1};
    memcpy(np.id, ev->id, 16);
    if (ev->kind == MG_XAPI_KIND_VIDEO_SEEKED) {
      np.in = (float)((ev->has & MG_DEV_HAS_TIME_FROM) ? ev->time_from : ev->time);
      np.out = (float)((ev->has & MG_DEV_HAS_TIME_TO) ? ev->time_to : ev->time);
      s->seeked = 1;
    } else {
      np.in = np.out = (float)ev->time;
    }
    if (!s->first_set || np.recv < s->first_recv) {
      s->first_set = 1;
      s->first_recv = np.recv;
      s->first_in = ev->kind == MG_XAPI_KIND_VIDEO_SEEKED ? 0 : np.in;
      s->first_offline = np.offline;
    }
    /* insert sorted by receive time (late arrivals merge into the window) */
    int pos = s->nwin;
    while (pos > 0 && s->win[pos - 1].recv > np.recv) pos--;
    /* reports sent within moments of each other may arrive in either order: within 2 s of
     * arrival the client's own order (`timestamp`) decides, or a report at a seek's origin that
     * arrives just after the seek would look like a jump of the position */
    while (pos > 0 && s->win[pos - 1].ts > np.ts && np.recv - s->win[pos - 1].recv < 2000000 &&
           !np.offline && !s->win[pos - 1].offline)
      pos--;
    /* a player stamps a seek and the report it causes (a pause at the target) with the same
     * client time and may send them in either order: the seek goes first, or the report at the
     * target would look like a jump of the position */
    if (np.kind == MG_XAPI_KIND_VIDEO_SEEKED) {
      while (pos > 0 && s->win[pos - 1].ts == np.ts && np.recv - s->win[pos - 1].recv < 2000000 &&
             s->win[pos - 1].kind != MG_XAPI_KIND_VIDEO_SEEKED)
        pos--;
    } else {
      while (pos < s->nwin && s->win[pos].kind == MG_XAPI_KIND_VIDEO_SEEKED && s->win[pos].ts == np.ts &&
             s->win[pos].recv - np.recv < 2000000)
        pos++;
    }
    if (pos == 0 && s->nwin == WIN) {
      /* older than everything kept: too late to order; counted as seen, nothing more */
    } else {
      if (s->nwin == WIN) {
        sess_commit_front(d, s);
        pos--;
      }
      memmove(&s->win[pos + 1], &s->win[pos], (size_t)(s->nwin - pos) * sizeof s->win[0]);
      s->win[pos] = np;
      s->nwin++;
      sess_eval(d, si, ev);
      s = pool_at(&d->sess, si);
      if (pos == s->nwin - 1 && pos > 0) {
        const pt *a = &s->win[pos - 1], *b = &s->win[pos];
        if (b->in - a->out > 1.0f && a->kind != MG_XAPI_KIND_VIDEO_PAUSED && !b->offline &&
            !a->offline && b->recv > a->recv)
          concurrency(d, si, a->recv, b->recv, (b->in - a->out) / ((b->recv - a->recv) / 1e6), ev);
      }
    }
  }
  s = pool_at(&d->sess, si);
  e = E(d, ei);
  if (ev->kind == MG_XAPI_KIND_VIDEO_COMPLETED) {
    double len = s->length > 0 ? s->length : ev->length;
    double thr = s->threshold > 0 ? s->threshold : (ev->has & MG_DEV_HAS_THRESHOLD) ? ev->threshold : 1.0;
    if (thr < 0.5) thr = 0.5;
    if (e->completions < 65535) e->completions++;
    e->claimed_s += (float)(len * thr);
    if (s->first_set && !s->seeked && !s->first_offline && !s->first_known && len > 60 &&
        s->first_in >= 0.85 * len) {
      if (e->near_end < 65535) e->near_end++;
      set_sig(d, ei, S_FIRST_NEAR_END, e->near_end >= 3 ? 0.5 : 0.3, e->near_end, ev->id, ev->ts_us);
    }
    /* judged when the session ends (terminated, or closed idle): the platform may count a
     * completion early from playback it syncs later in the same session */
    if (!s->seeked && !s->first_offline && ev->offline != 1 && len * thr >= 60 && !s->claim) {
      s->claim = (float)(len * thr);
      s->claim_ts = ev->ts_us;
      memcpy(s->claim_id, ev->id, 16);
      if (s->closed) claim_judge(d, si);
    }
    e = E(d, ei);
    double deficit = e->claimed_s - 1.05 * e->watch_s;
    if (deficit >= 600 && e->claimed_s >= 1.5 * e->watch_s) {
      double strength = (deficit >= 1200 && e->claimed_s >= 2 * e->watch_s) ? 1.0 : 0.5;
      set_sig(d, ei, S_UNWATCHED, strength, deficit, ev->id, ev->ts_us);
    }
  }
  if (ev->kind == MG_XAPI_KIND_VIDEO_TERMINATED && !s->closed) {
    /* kept a while for statements of this session that arrive after its end */
    s->closed = 1;
    claim_judge(d, si);
    s = pool_at(&d->sess, si);
    actor_drop_session(d, s->actor, si);
    closed_push(d, si, ev->recv_us > ev->ts_us ? ev->recv_us : ev->ts_us);
  }
}

/* ---- identity ------------------------------------------------------------------------------ */

static void on_study_identity(mg_detect *d, uint32_t ei, const mg_detect_event *ev) {
  enrol *e = E(d, ei);
  uint32_t at = e->study_n++;
  slot *dv = hist_touch(e->dev, ev->device, at);
  slot *nt = hist_touch(e->net, ev->ip_net, at);
  slot *ua = hist_touch(e->uaf, ev->ua_family, at);
  if (ev->device) device_touch(d, ev->device, ev->actor, ei);
  e = E(d, ei);
  /* a device first seen after the history was established, or one beyond the few remembered */
  int novel_dev = ev->device && (!dv || dv->first >= HISTORY_MIN);
  int novel_net = ev->ip_net && (!nt || nt->first >= HISTORY_MIN);
  int novel_ua = ev->ua_family && (!ua || ua->first >= HISTORY_MIN);
  if (novel_dev) {
    e->novel_n++;
    if (novel_net) e->novel_net_n++;
    if (novel_ua) e->novel_ua_n++;
    if (e->novel_net_n >= 20) {
      double strength = 0.35 + (e->novel_ua_n >= 20 ? 0.1 : 0);
      set_sig(d, ei, S_NOVEL_STUDY, strength, e->novel_net_n, ev->id, ev->ts_us);
    }
  }
}

static int known_device(const enrol *e, uint64_t dev) {
  const slot *s = hist_find(e->dev, dev);
  return s && s->first < HISTORY_MIN;
}

/* ---- faces --------------------------------------------------------------------------------- */

#define RETRY_US (180 * 1000000LL) /* a retry within 3 minutes on the same device clears a mismatch */

static void fail_apply(mg_detect *d, uint32_t ei, int s, int familiar, int exam, const uint8_t *id, int64_t ts) {
  double prev = sig_get(d, ei, s);
  double one = familiar ? 0.25 : exam ? 0.6 : 0.4;
  set_sig(d, ei, s, prev > 0 ? (familiar ? 0.4 : 1.0) : one, prev > 0 ? 2 : 1, id, ts);
}

/* A study mismatch not cleared by a retry in time counts now. */
static void fail_settle(mg_detect *d, uint32_t ei) {
  enrol *e = E(d, ei);
  if (!e->pf_on) return;
  e->pf_on = 0;
  uint8_t id[16];
  memcpy(id, e->pf_id, 16);
  fail_apply(d, ei, S_FACE_FAIL_STUDY, e->pf_fam, 0, id, e->pf_ts);
}

/* A look-alike stand-in fails the exam face check as a mismatch, then scrapes through every
 * later check just above the threshold; a student who failed in bad light passes normally after. */
static void face_narrow(mg_detect *d, uint32_t ei, const face *f, const uint8_t *id, int64_t ts) {
  enrol *e = E(d, ei);
  if (!f->exam) return;
  if (f->failed) {
    if (e->fx_fail < 255) e->fx_fail++;
  } else if (f->score > 0 && f->thr > 0) {
    if (e->fx_pass < 255) e->fx_pass++;
    if (f->score < f->thr + 0.05 && e->fx_narrow < 255) e->fx_narrow++;
  }
  if (e->fx_fail >= 1 && e->fx_pass >= 2 && e->fx_narrow == e->fx_pass)
    set_sig(d, ei, S_EXAM_FACE_UNLIKE, 0.75, e->fx_pass, id, ts);
}

/* A passed study check's score joins the student's own baseline (and the pooled within-student
 * spread: how much one person's scores vary from check to check). */
static void own_face_add(mg_detect *d, enrol *e, float score) {
  if (e->fs_n >= 65535) return;
  double delta = score - e->fs_mean;
  e->fs_n++;
  e->fs_mean += (float)(delta / e->fs_n);
  double inc = delta * (score - e->fs_mean);
  if (e->fs_n >= 2) {
    d->fw_m2 += inc;
    d->fw_df += 1;
  }
}

/* A passed exam check against the student's own passed study checks or, for a student without
 * three of them, against every student's passed exam checks. A stand-in who resembles the student
 * passes, but lower than the student's own face scores. Against the own baseline, each z is taken
 * against every student's exam-versus-study z (the exam's camera and light may differ for
 * everyone; after 200 exam checks), never narrower than one. The exam's checks are combined
 * (Σz/√k). */
#define FACE_OWN_MIN 3     /* own study checks before the baseline means anything */
#define FACE_WITHIN_DF 100 /* pooled degrees of freedom before the spread is used */
#define FACE_POP_MIN 200   /* exam checks before the population's offset and spread are used */
static void exam_face_low(mg_detect *d, uint32_t ei, float score, int narrow, const uint8_t *id, int64_t ts) {
  enrol *e = E(d, ei);
  double z;
  /* a pass within 0.03 of the threshold is weak evidence by itself; a low score is one
   * observation, so once it counts as low the narrow pass is not counted again */
  if (narrow && sig_get(d, ei, S_EXAM_FACE_LOW) <= 0) set_sig(d, ei, S_EXAM_FACE_FAIL, 0.3, 1, id, ts);
  e = E(d, ei);
  int own = e->fs_n >= FACE_OWN_MIN && d->fw_df >= FACE_WITHIN_DF;
  double pm = d->fp_n > 0 ? d->fp_sum / d->fp_n : 0, pv = d->fp_n > 0 ? d->fp_sq / d->fp_n - pm * pm : 0;
  int pop = d->fp_n >= FACE_POP_MIN;
  d->fp_sum += score;
  d->fp_sq += (double)score * score;
  d->fp_n += 1;
  if (own) {
    double sw = sqrt(d->fw_m2 / d->fw_df);
    if (sw < 0.005) sw = 0.005;
    z = (e->fs_mean - score) / (sw * sqrt(1.0 + 1.0 / e->fs_n));
    double mu = 0, sd = 1;
    if (d->fz_n >= FACE_POP_MIN) {
      mu = d->fz_sum / d->fz_n;
      double var = d->fz_sq / d->fz_n - mu * mu;
      sd = var > 1 ? sqrt(var) : 1;
    }
    d->fz_sum += z;
    d->fz_sq += z * z;
    d->fz_n += 1;
    z = (z - mu) / sd;
  } else if (pop) {
    double sd = sqrt(pv > 0 ? pv : 0);
    if (sd < 0.005) sd = 0.005;
    z = (pm - score) / sd;
  } else {
    return;
  }
  if (e->fx_k >= 255) return;
  e->fx_k++;
  e->fx_zsum += (float)z;
  double zc = e->fx_zsum / sqrt((double)e->fx_k);
  /* one-sided 2.3e-4 at 3.5; by itself never a finding (a tired face at the exam): it needs the
   * exam's own context (a new device and network) to reach one */
  if (zc < 3.5) return;
  /* the face evidence of the exam's passed checks is 0.5 in all (a narrow pass or a failure
   * already counted is part of it) */
  double st = 0.5 - sig_get(d, ei, S_EXAM_FACE_FAIL);
  if (st > 0) set_sig(d, ei, S_EXAM_FACE_LOW, st, zc, id, ts);
}

static void face_judge(mg_detect *d, face *f, const uint8_t *id, int64_t ts) {
  uint32_t ei = f->enrol;
  if (!ei || !f->have_result) return;
  if (!f->judged) face_narrow(d, ei, f, id, ts);
  enrol *e = E(d, ei);
  if (f->failed && !f->judged) {
    int s = f->exam ? S_EXAM_FACE_FAIL : S_FACE_FAIL_STUDY;
    int familiar = f->result_dev && known_device(e, f->result_dev);
    if (f->exam || f->liveness) {
      fail_apply(d, ei, s, familiar, f->exam, id, ts);
    } else if (!(f->result_dev && e->lp_dev == f->result_dev && e->lp_ts >= f->result_ts &&
                 e->lp_ts - f->result_ts <= RETRY_US)) {
      /* a mismatch that the same device clears at the retry is bad light, not a stranger (a
       * worker cannot pass; liveness failures are not excused: a spoof is retried until it
       * passes): judged when the retry window has passed without a pass */
      fail_settle(d, ei);
      e = E(d, ei);
      e->pf_on = 1;
      e->pf_fam = (uint8_t)familiar;
      e->pf_ts = f->result_ts;
      e->pf_dev = f->result_dev;
      memcpy(e->pf_id, id, 16);
    }
  } else if (f->passed && !f->judged && !f->exam) {
    if (f->score > 0) own_face_add(d, e, f->score);
    if (e->pf_on && f->result_dev == e->pf_dev && f->result_ts >= e->pf_ts && f->result_ts - e->pf_ts <= RETRY_US)
      e->pf_on = 0;
    if (f->result_ts >= e->lp_ts) {
      e->lp_ts = f->result_ts;
      e->lp_dev = f->result_dev;
    }
  } else if (!f->failed && !f->judged && f->exam && f->thr > 0 && f->score > 0) {
    exam_face_low(d, ei, f->score, f->score < f->thr + 0.03, id, ts);
  }
  f->judged = 1;
  if (f->have_prompt) {
    double delay = (f->result_ts - f->prompt_ts) / 1e6;
    int other = f->result_dev && f->result_dev != f->prompt_dev && !known_device(e, f->result_dev);
    if (f->exam) {
      if (delay >= 90 || other)
        set_sig(d, ei, S_EXAM_FACE_SLOW, (delay >= 90 && other) ? 0.6 : 0.4, delay, id, ts);
    } else {
      if (delay >= 90) {
        double prev = sig_get(d, ei, S_FACE_SLOW);
        set_sig(d, ei, S_FACE_SLOW, prev > 0 ? 0.5 : 0.3, delay, id, ts);
      }
      /* prompted on an unfamiliar device, completed on another one: the worker passed the check
       * to the student (a student's own new phone prompts and completes on itself) */
      int prompt_novel = f->prompt_dev && !known_device(e, f->prompt_dev);
      if (f->result_dev && f->result_dev != f->prompt_dev && (other || prompt_novel))
        set_sig(d, ei, S_FACE_OTHER_DEVICE, prompt_novel ? 0.5 : 0.4, 1, id, ts);
    }
  }
}

/* P(X >= k) for X ~ Binomial(n, p), summed from the k-th term (n is a few hundred at most);
 * used by face_checks_unmet and auto_resume. */
static double binom_tail(unsigned n, unsigned k, double p) {
  if (!k) return 1;
  if (k > n || p <= 0) return 0;
  if (p >= 1) return 1;
  double lt = k * log(p) + (n - k) * log1p(-p);
  for (unsigned i = 1; i <= k; i++) lt += log((double)(n - k + i) / i);
  double t = exp(lt), sum = 0;
  for (unsigned j = k; j <= n && t > 0; j++) {
    sum += t;
    t *= (double)(n - j) / (j + 1) * p / (1 - p);
  }
  return sum > 1 ? 1 : sum;
}

/* An enrolment counts in its platform's face-check rate unless it is an outlier itself (at
 * least 3 checks, most unmet), so a few proxied accounts do not raise the yardstick. */
static void fc_share(plat *p, const enrol *e, int sign) {
  if (e->fc_n >= 3 && 2 * e->fc_unmet > e->fc_n) return;
  p->fc_n += (uint32_t)(sign * e->fc_n);
  p->fc_unmet += (uint32_t)(sign * e->fc_unmet);
}

/* Person-fit of the study face checks: a check is unmet when it failed with a face that was not
 * the student's or with nobody in front of the camera, went unanswered, or was completed only
 * after 90 s (the worker has to reach the student). Honest students fail now and then (light,
 * glasses) and retry at once; the question is whether this account's unmet checks are more
 * than the platform's own rate could produce. */
static void face_fit(mg_detect *d, face *f, const uint8_t *id, int64_t ts) {
  if (f->exam || !f->enrol || !f->have_result) return;
  int unmet = f->failed || f->absent || (f->have_prompt && f->result_ts - f->prompt_ts >= 90 * 1000000LL);
  if (f->counted == 2 || (f->counted == 1 && !unmet)) return;
  enrol *e = E(d, f->enrol);
  plat *p = pool_at(&d->plats, e->plat);
  fc_share(p, e, -1);
  if (!f->counted && e->fc_n < 65535) e->fc_n++;
  if (unmet && e->fc_unmet < e->fc_n) {
    e->fc_unmet++;
    int32_t day = (int32_t)local_day(f->result_ts) + 1;
    if (!e->fc_day1) e->fc_day1 = day;
    else if (e->fc_day1 != day) e->fc_days2 = 1;
  }
  fc_share(p, e, +1);
  f->counted = unmet ? 2 : 1;
  if (!unmet || e->fc_unmet < 3 || !e->fc_days2) return;
  /* the platform's rate, shrunk towards 1 in 10 while it has few checks, and never below 1 in
   * 20: a yardstick that honest students' bad days cannot make too strict */
  double p0 = (p->fc_unmet + 2.0) / (p->fc_n + 20.0);
  if (p0 < 0.05) p0 = 0.05;
  double tail = binom_tail(e->fc_n, e->fc_unmet, p0);
  /* 0.5 at a tail of 1e-4, rising with the evidence (-log10 of the tail) to 0.7 at 1e-7 */
  double strength = tail <= 1e-4 ? 0.5 + 0.2 * (-log10(tail > 1e-300 ? tail : 1e-300) - 4) / 3 : 0;
  if (strength > (e->fc_unmet >= 4 ? 0.7 : 0.6)) strength = e->fc_unmet >= 4 ? 0.7 : 0.6;
  set_sig(d, f->enrol, S_FACE_UNMET, strength, e->fc_unmet, id, ts);
}

static void on_face(mg_detect *d, uint32_t ei, const mg_detect_event *ev) {
  uint32_t fi = face_get(d, ev->object, 1);
  if (!fi) return;
  face *f = pool_at(&d->faces, fi);
  f->enrol = ei;
  int exam_purpose = ev->face_purpose >= 3 || (!ev->face_purpose && ev->attempt);
  if (ev->kind == MG_XAPI_KIND_FACE_PROMPTED) {
    f->have_prompt = 1;
    f->prompt_ts = ev->ts_us;
    f->prompt_dev = ev->device;
    f->exam |= (uint8_t)exam_purpose;
  } else {
    f->have_result = 1;
    f->result_ts = ev->ts_us;
    f->result_dev = ev->device;
    f->exam |= (uint8_t)exam_purpose;
    f->failed = ev->kind == MG_XAPI_KIND_FACE_FAILED &&
                (ev->face_failure == MG_DEV_FF_MISMATCH || ev->face_failure == MG_DEV_FF_MULTIPLE ||
                 ev->face_failure == MG_DEV_FF_LIVENESS);
    f->passed = ev->kind == MG_XAPI_KIND_FACE_PASSED;
    f->liveness = ev->kind == MG_XAPI_KIND_FACE_FAILED && ev->face_failure == MG_DEV_FF_LIVENESS;
    f->absent = ev->kind == MG_XAPI_KIND_FACE_FAILED &&
                (ev->face_failure == MG_DEV_FF_NO_FACE || ev->face_failure == MG_DEV_FF_TIMEOUT);
    f->score = (ev->has & MG_DEV_HAS_SCORE) ? (float)ev->score : 0;
    f->thr = (ev->has & MG_DEV_HAS_FACE_THRESHOLD) ? (float)ev->face_threshold : 0;
    if (ev->capture) {
      uint32_t *o = hm_get(&d->capture_ix, ev->capture);
      if (!o) {
        uint32_t oi;
        if (!pool_alloc(&d->owners, &oi) && !hm_put(&d->capture_ix, ev->capture, oi)) {
          owner *w = pool_at(&d->owners, oi);
          w->actor = ev->actor;
          w->enrol = ei;
        }
      } else {
        owner *w = pool_at(&d->owners, *o);
        if (w->actor != ev->actor) {
          int s = f->exam ? S_CAPTURE_REUSE : S_CAPTURE_REUSE_STUDY;
          set_sig(d, ei, s, 1.0, 2, ev->id, ev->ts_us);
          w = pool_at(&d->owners, *o);
          set_sig(d, w->enrol, s, 1.0, 2, ev->id, ev->ts_us);
        }
      }
    }
  }
  f = pool_at(&d->faces, fi);
  if (f->have_result && (f->have_prompt || ev->kind != MG_XAPI_KIND_FACE_PROMPTED)) {
    int was = f->judged;
    face copy = *f;
    face_judge(d, &copy, ev->id, ev->ts_us);
    face_fit(d, &copy, ev->id, ev->ts_us);
    f = pool_at(&d->faces, fi);
    f->judged = copy.judged;
    f->counted = copy.counted;
    (void)was;
    if (f->have_prompt && f->have_result) { /* both halves seen: done */
      hm_del(&d->face_ix, f->key);
      f->key = 0;
      pool_release(&d->faces, fi);
    }
  }
}

/* ---- exams and attempts ------------------------------------------------------------------- */

static void on_exam_start(mg_detect *d, uint32_t ei, const mg_detect_event *ev) {
  enrol *e = E(d, ei);
  if (e->study_n >= HISTORY_MIN / 2) {
    double nov = 0;
    if (ev->device && !hist_find(e->dev, ev->device)) nov += 0.3;
    if (ev->ip_net && !hist_find(e->net, ev->ip_net)) nov += 0.2;
    if (ev->ua_family && !hist_find(e->uaf, ev->ua_family)) nov += 0.1;
    if (nov >= 0.3) set_sig(d, ei, S_EXAM_NOVEL, nov, nov, ev->id, ev->ts_us);
  }
  if (ev->cameras_required > 0 && ev->camera_count >= 0 && ev->camera_count < ev->cameras_required)
    set_sig(d, ei, S_CAMERA_MISSING, 0.3, ev->cameras_required - ev->camera_count, ev->id, ev->ts_us);
  /* exam farm: one device starting several students' exams */
  if (ev->device) {
    uint32_t di = dev_get(d, ev->device, 1);
    if (di) {
      device *v = pool_at(&d->devs, di);
      int known = 0;
      for (int i = 0; i < v->n_exam_actors && i < 4; i++) known |= v->exam_actors[i] == ev->actor;
      if (!known && v->n_exam_actors < 65535) {
        if (v->n_exam_actors < 4) {
          v->exam_actors[v->n_exam_actors] = ev->actor;
          v->exam_enrols[v->n_exam_actors] = ei;
        }
        v->n_exam_actors++;
      }
      if (v->n_exam_actors >= 2) {
        double strength = v->n_exam_actors >= 3 ? 0.8 : 0.5;
        int n = v->n_exam_actors;
        uint32_t list[4];
        int m = n < 4 ? n : 4;
        for (int i = 0; i < m; i++) list[i] = v->exam_enrols[i];
        for (int i = 0; i < m; i++) set_sig(d, list[i], S_EXAM_FARM, strength, n, ev->id, ev->ts_us);
        if (!known && n > 4) set_sig(d, ei, S_EXAM_FARM, strength, n, ev->id, ev->ts_us);
      }
    }
  }
  /* a second camera serving several students */
  if (ev->cam_dev[1]) {
    uint32_t di = dev_get(d, ev->cam_dev[1] ^ 0x5ec0dull, 1);
    if (di) {
      device *v = pool_at(&d->devs, di);
      int known = 0;
      for (int i = 0; i < v->n_sec_actors && i < 4; i++) known |= v->sec_actors[i] == ev->actor;
      if (!known) {
        if (v->n_sec_actors < 4) {
          v->sec_actors[v->n_sec_actors] = ev->actor;
          v->sec_enrols[v->n_sec_actors] = ei;
        }
        v->n_sec_actors++;
      }
      if (v->n_sec_actors >= 2) {
        int m = v->n_sec_actors < 4 ? v->n_sec_actors : 4, n = v->n_sec_actors;
        uint32_t list[4];
        for (int i = 0; i < m; i++) list[i] = v->sec_enrols[i];
        for (int i = 0; i < m; i++) set_sig(d, list[i], S_CAMERA_SHARED, 0.6, n, ev->id, ev->ts_us);
      }
    }
  }
}

static uint32_t att_get(mg_detect *d, const mg_detect_event *ev, uint32_t ei) {
  uint32_t *p = hm_get(&d->att_ix, ev->attempt);
  if (p) return *p;
  uint32_t ai;
  if (pool_alloc(&d->atts, &ai) || hm_put(&d->att_ix, ev->attempt, ai)) { d->rc = MG_ENOMEM; return 0; }
  attempt *a = pool_at(&d->atts, ai);
  a->key = ev->attempt;
  a->enrol = ei;
  a->actor = ev->actor;
  a->akind = ev->akind;
  a->start_ts = ev->ts_us;
  return ai;
}

/* ---- 刷考 across accounts: recent answer vectors per assessment ---------------------------- */

#define AREC 24 /* recent attempts kept per assessment: a ring starts minutes apart, a study group hours */

typedef struct arec {
  uint64_t actor, device;
  uint32_t enrol;
  int64_t end;
  float acc, mean, pace; /* pace: time ÷ the population's on the same items (0 unknown) */
  uint8_t n;
  uint32_t ih[ATT_ITEMS], resp[ATT_ITEMS];
  int8_t ok[ATT_ITEMS];
} arec;

typedef struct ahist { uint8_t n, head; arec r[AREC]; } ahist;

struct exam_x {
  hmap ix;    /* assessment → ahist */
  pool hist;
  hmap pairs; /* (harvester, submitter) → assessments seen harvested */
  hmap resp;  /* (item, wrong response) → accounts that gave it */
};

static void exam_x_free(struct exam_x *x) {
  if (!x) return;
  hm_free(&x->ix);
  hm_free(&x->pairs);
  hm_free(&x->resp);
  pool_free(&x->hist);
  free(x);
}

static uint64_t resp_key(uint64_t it, uint32_t resp) {
  uint64_t k = (it ^ ((uint64_t)resp << 17)) * 0x9e3779b97f4a7c15ull;
  return (k ^ k >> 29) | 1;
}

/* Compares a finished attempt with other accounts' recent attempts at the same assessment, then
 * remembers it. acc/mean: this attempt's accuracy and mean seconds per item. */
static void exam_x_judge(mg_detect *d, uint32_t ai, double acc, double mean, double pace, double pace_any,
                         int known) {
  attempt *a = pool_at(&d->atts, ai);
  if (!a->assess || a->n < 3) return;
  if (!d->ex) {
    d->ex = calloc(1, sizeof *d->ex);
    if (!d->ex) { d->rc = MG_ENOMEM; return; }
    pool_init(&d->ex->hist, sizeof(ahist));
  }
  struct exam_x *x = d->ex;
  uint32_t *p = hm_get(&x->ix, a->assess), hi;
  if (p) hi = *p;
  else if (pool_alloc(&x->hist, &hi) || hm_put(&x->ix, a->assess, hi)) { d->rc = MG_ENOMEM; return; }
  ahist *h = pool_at(&x->hist, hi);
  uint32_t ei = a->enrol;
  /* per item of this attempt: the population's error rate, and the chance that two wrong answers
   * to it are the same one (Σ share² over its wrong responses: 1 for true/false) */
  double iu[ATT_ITEMS], iq[ATT_ITEMS];
  for (int i = 0; i < a->n && h->n; i++) {
    uint32_t ii = item_get(d, a->it[i].item, 0);
    const item *m = ii ? pool_at(&d->items, ii) : NULL;
    iu[i] = m ? (m->wrong + 1.0) / (m->graded + 2.0) : 0.5;
    iq[i] = m && m->wrong >= 10 ? m->wrong_sq / ((double)m->wrong * m->wrong) : 0.5;
  }
  for (int k = 0; k < h->n; k++) {
    arec *r = &h->r[k];
    if (r->actor == a->actor) continue;
    /* answer vectors: items in common, identical responses, identical wrong responses */
    int common = 0, same = 0, sw = 0, wa = 0, wr = 0;
    double ua = 0, pw[ATT_ITEMS], pq[ATT_ITEMS]; /* items' error rates, same-wrong chances */
    int np = 0;
    for (int i = 0; i < a->n; i++) {
      if (a->it[i].success < 0) continue;
      uint32_t ih = (uint32_t)(a->it[i].item >> 32);
      int j = i < r->n && r->ih[i] == ih ? i : -1; /* same order is the usual case */
      for (int q = 0; j < 0 && q < r->n; q++)
        if (r->ih[q] == ih) j = q;
      if (j < 0 || r->ok[j] < 0) continue;
      common++;
      pw[np] = iu[i];
      pq[np] = iq[i];
      ua += pw[np++];
      if (!a->it[i].success) wa++;
      if (!r->ok[j]) wr++;
      if (r->resp[j] == a->it[i].resp) {
        same++;
        if (!a->it[i].success) sw++;
      }
    }
    /* expected identical wrong answers of two independent students with these error counts:
     * each one's errors spread over the items in proportion to the items' error rates */
    double lam = 0;
    for (int q = 0; q < np && ua > 0; q++) {
      double pa = pw[q] * wa / ua, pb = pw[q] * wr / ua;
      lam += (pa > 0.99 ? 0.99 : pa) * (pb > 0.99 ? 0.99 : pb) * pq[q];
    }
    double tail = 0, term = exp(-lam);
    for (int t = 0; t < sw; t++) { tail += term; term *= lam / (t + 1); }
    double ev = tail >= 1 ? 0 : -log1p(-tail); /* -ln P(X >= sw), X ~ Poisson(lam) */
    int wmax = wa > wr ? wa : wr;
    /* ≥ 6 shared wrong answers, or fewer that independent students with these error counts
     * would share with probability < 1 % (e^-4.6) */
    if (common >= 8 && same >= 0.9 * common && sw >= 0.6 * wmax &&
        ((sw >= 6 && same >= 0.95 * common) || (sw >= 3 && ev >= 4.6))) {
      /* weak: honest students share wrong answers on hard items (one common distractor) */
      double strength = 0.5;
      uint32_t other = r->enrol;
      set_sig(d, ei, S_ANSWER_COPY, strength, sw, a->last_id, a->last_ts);
      set_sig(d, other, S_ANSWER_COPY, strength, sw, a->last_id, a->last_ts);
      a = pool_at(&d->atts, ai);
      h = pool_at(&x->hist, hi);
      r = &h->r[k];
    }
    /* harvest then submit across accounts: a guess-through minutes before a full mark elsewhere */
    double gap = (a->last_ts - r->end) / 6e7;
    /* twins: the same answers, item by item, submitted within half an hour, both at under half
     * the population's time: one answer sheet typed in twice (a ring, a shared search) */
    if (common >= 8 && same >= 0.9 * common && gap >= 0 && gap <= 30 && pace > 0 && pace < 0.5 &&
        r->pace > 0 && r->pace < 0.5) {
      set_sig(d, ei, S_FAST_TWINS, 0.5, gap, a->last_id, a->last_ts);
      set_sig(d, r->enrol, S_FAST_TWINS, 0.5, gap, a->last_id, a->last_ts);
      a = pool_at(&d->atts, ai);
      h = pool_at(&x->hist, hi);
      r = &h->r[k];
    }
    /* the submitter types a revealed key: under half the population's time on the same items (or
     * under 10 s an item where the population is not known yet); a classmate who works through
     * the quiz after a prolific guesser is not a submitter */
    int keyed = pace_any > 0 ? pace_any < 0.5 : mean > 0 && mean < 10.0;
    if (known >= 3 && acc >= 0.95 && keyed && r->acc < 0.6 && r->mean > 0 && r->mean < 5.0 && gap >= 0 && gap <= 60 &&
        (!a->device || !r->device || a->device != r->device)) {
      uint64_t pk = (r->actor * 0x9e3779b97f4a7c15ull) ^ (a->actor + 0x7f4a7c15ull) ^ (a->assess << 1);
      pk |= 1;
      uint64_t pairk = ((r->actor * 0x9e3779b97f4a7c15ull) ^ a->actor) | 1;
      /* count each pair once per assessment */
      if (!hm_get(&x->pairs, pk)) {
        uint32_t *c = hm_get(&x->pairs, pairk);
        uint32_t cnt = (c ? *c : 0) + 1;
        if (hm_put(&x->pairs, pk, 1) || hm_put(&x->pairs, pairk, cnt)) { d->rc = MG_ENOMEM; return; }
        double strength = cnt >= 2 ? 1.0 : 0.35; /* once can be chance near a deadline */
        uint32_t other = r->enrol;
        set_sig(d, ei, S_CROSS_HARVEST, strength, gap, a->last_id, a->last_ts);
        set_sig(d, other, S_CROSS_HARVEST, strength, gap, a->last_id, a->last_ts);
        a = pool_at(&d->atts, ai);
        h = pool_at(&x->hist, hi);
      }
    }
  }
  /* the population's errors per item, after judging this attempt against them */
  for (int i = 0; i < a->n; i++) {
    if (a->it[i].success < 0) continue;
    uint32_t before = 0;
    if (!a->it[i].success) {
      uint64_t k = resp_key(a->it[i].item, a->it[i].resp);
      uint32_t *c = hm_get(&x->resp, k);
      before = c ? *c : 0;
      if (hm_put(&x->resp, k, before + 1)) { d->rc = MG_ENOMEM; return; }
    }
    uint32_t ii = item_get(d, a->it[i].item, 1);
    if (!ii) return;
    item *m = pool_at(&d->items, ii);
    m->graded++;
    if (!a->it[i].success) { m->wrong++; m->wrong_sq += 2.0 * before + 1; } /* (c+1)² − c² */
    a = pool_at(&d->atts, ai);
    h = pool_at(&x->hist, hi);
  }
  /* remember this attempt in the ring */
  arec *r = h->n < AREC ? &h->r[h->n++] : &h->r[h->head];
  if (h->n == AREC && r == &h->r[h->head]) h->head = (uint8_t)((h->head + 1) % AREC);
  r->actor = a->actor;
  r->device = a->device;
  r->enrol = ei;
  r->end = a->last_ts;
  r->acc = (float)acc;
  r->mean = (float)mean;
  r->pace = (float)pace;
  r->n = a->n;
  for (int i = 0; i < a->n; i++) {
    r->ih[i] = (uint32_t)(a->it[i].item >> 32);
    r->resp[i] = a->it[i].resp;
    r->ok[i] = a->it[i].success;
  }
}

/* Hands a finished graded attempt to the person-fit judge (personfit.c). */
static void pf_attempt(mg_detect *d, uint32_t ai) {
  attempt *a = pool_at(&d->atts, ai);
  mg_detect_pf_resp r[ATT_ITEMS];
  size_t n = 0;
  for (int i = 0; i < a->n; i++) {
    if (a->it[i].success < 0) continue;
    r[n].item = a->it[i].item;
    r[n].resp = a->it[i].resp;
    r[n].dur = a->it[i].dur;
    r[n].success = a->it[i].success;
    r[n].exam = a->akind == MG_DEV_AK_EXAM;
    n++;
  }
  if (d->pf && mg_detect_pf_attempt(d->pf, a->enrol, r, n, a->last_id, a->last_ts)) d->rc = d->rc ? d->rc : MG_ENOMEM;
}

static void pf_flag(void *ud, uint32_t ei, mg_detect_pf_rule rule, double strength, double value,
                    const uint8_t *id, int64_t ts) {
  static const int s[] = {S_PERSON_MISFIT, S_TIME_FLAT, S_BANK_GAP, S_BANK_ERRORS, S_FAST_FLAT};
  mg_detect *d = ud;
  if (rule == MG_DETECT_PF_END) {
    /* all rules of the judgement are in: the finding (if any) names every one of them */
    int held = d->hold ? d->held : -1;
    d->hold = 0;
    if (held < 0 || !ei) return;
    enrol *e = E(d, ei);
    if (!e->sig) return;
    mg_detect_type t = k_sig[held].type;
    if (!(e->emitted & (1u << t)) && sig_score(pool_at(&d->sigs, e->sig), t) >= d->cfg.threshold - 1e-9)
      emit(d, ei, t, held);
    return;
  }
  if (!d->hold) d->held = -1;
  d->hold = 1;
  set_sig(d, ei, s[rule], strength, value, id, ts);
}

int mg_detect_bank_add(mg_detect *d, const char *item_iri, size_t item_len, const char *answer, size_t answer_len) {
  if (!d || !item_iri || !item_len || !answer) return MG_EINVAL;
  return mg_detect_pf_bank(d->pf, mg_detect_hash(item_iri, item_len), (uint32_t)mg_detect_hash(answer, answer_len));
}

static void attempt_finish(mg_detect *d, uint32_t ai) {
  attempt *a = pool_at(&d->atts, ai);
  uint32_t ei = a->enrol;
  enrol *e = E(d, ei);
  int n = 0, known = 0, correct = 0, fast = 0, popn = 0;
  double sum = 0, sq = 0, popz = 0, sl = 0, sl2 = 0; /* sl, sl2: Σ ln(time), Σ ln(time)² */
  for (int i = 0; i < a->n; i++) {
    aitem *it = &a->it[i];
    if (it->dur <= 0) continue;
    n++;
    sum += it->dur;
    sq += (double)it->dur * it->dur;
    double lt = log(it->dur);
    sl += lt;
    sl2 += lt * lt;
    if (it->success >= 0) { known++; correct += it->success; }
    double read = it->chars ? it->chars / 20.0 + 1.0 : 2.0;
    if (read < 1.5) read = 1.5;
    if (it->dur < read) fast++;
    uint32_t ii = item_get(d, it->item, 0);
    if (ii) {
      item *m = pool_at(&d->items, ii);
      if (m->n >= 20) { popz += lt - m->sum_ln / m->n; popn++; }
    }
  }
  double acc = known ? (double)correct / known : 0;
  if (a->akind == MG_DEV_AK_POPUP) {
    for (int i = 0; i < a->n; i++) {
      if (a->it[i].dur <= 0) continue;
      if (e->popups < 65535) e->popups++;
      if (a->it[i].dur < 3.0 && e->popup_fast < 65535) e->popup_fast++;
      if (e->popup_fast && e->popups_from < 65535) e->popups_from++;
    }
    if (e->popups_from >= 3 && e->popup_fast >= 0.8 * e->popups_from)
      set_sig(d, ei, S_POPUP, 0.4, (double)e->popup_fast / e->popups_from, a->last_id, a->last_ts);
  } else if (a->akind == MG_DEV_AK_EXAM || a->akind == MG_DEV_AK_QUIZ || a->akind == MG_DEV_AK_HOMEWORK) {
    if (a->akind == MG_DEV_AK_EXAM) { e->ex_items += (uint16_t)known; e->ex_correct += (uint16_t)correct; }
    else { e->cw_items += (uint16_t)known; e->cw_correct += (uint16_t)correct; }
    if (n >= 5 && (double)fast / n >= 0.6 && acc >= 0.7)
      set_sig(d, ei, S_ITEM_FAST, 0.6, (double)fast / n, a->last_id, a->last_ts);
    if (n >= 8) {
      double mean = sum / n, var = sq / n - mean * mean, cv = mean > 0 ? sqrt(var > 0 ? var : 0) / mean : 0;
      if (cv < 0.15) set_sig(d, ei, S_ITEM_CONSTANT, mean < 15 ? 0.6 : 0.4, cv, a->last_id, a->last_ts);
    }
    if (popn >= 5) {
      double ratio = exp(popz / popn);
      if (ratio < 0.3 && acc >= 0.7) set_sig(d, ei, S_ITEM_POP_FAST, 0.5, ratio, a->last_id, a->last_ts);
    }
    e = E(d, ei);
    /* a retake that jumps from poor to near-perfect, fast; or right after a guess-through (answers
     * faster than readable revealed the key). The same on two assessments is a habit, not luck. */
    if (a->assess && e->last_assess == a->assess && e->last_assess_acc < 0.6 && acc >= 0.95) {
      int guess = known >= 3 && e->last_assess_fast >= 0.6f;
      if (guess && e->guess_retakes < 255) e->guess_retakes++;
      if (guess || (n >= 5 && (double)fast / n >= 0.4))
        set_sig(d, ei, S_HARVEST, e->guess_retakes >= 2 ? 1.0 : 0.6, 0, a->last_id, a->last_ts);
    }
    e = E(d, ei);
    e->last_assess = a->assess;
    e->last_assess_acc = (float)acc;
    e->last_assess_fast = n ? (float)fast / n : 0;
    /* item time within each attempt, pooled over the attempts: a person's time follows the item,
     * a script's does not, even when its pace changes from one session to the next */
    if (n >= 2) {
      double ss = sl2 - sl * sl / n;
      e->it_ss += (float)(ss > 0 ? ss : 0);
      e->it_df = (uint16_t)(e->it_df + n - 1 > 65535 ? 65535 : e->it_df + n - 1);
      if (e->it_att < 65535) e->it_att++;
      double sd = sqrt(e->it_ss / e->it_df);
      if (e->it_df + e->it_att >= 20 && e->it_att >= 3 && sd < 0.10) /* 20 items, 3 attempts */
        set_sig(d, ei, S_ITEM_CONSTANT_ALL, 0.8, sd, a->last_id, a->last_ts);
      e = E(d, ei);
    }
    /* exam pace against the student's own coursework pace, both relative to the population */
    if (a->akind != MG_DEV_AK_EXAM && popn > 0) {
      e->cw_lr += (float)popz;
      e->cw_lr_n = (uint16_t)(e->cw_lr_n + popn > 65535 ? 65535 : e->cw_lr_n + popn);
    } else if (a->akind == MG_DEV_AK_EXAM && popn >= 5 && e->cw_lr_n >= 10) {
      double shift = exp(popz / popn - e->cw_lr / e->cw_lr_n);
      double cwacc = e->cw_items ? (double)e->cw_correct / e->cw_items : 0;
      if (shift < 0.35 && acc >= 0.6 && acc >= cwacc - 0.15)
        set_sig(d, ei, S_PACE_SHIFT, 0.5, shift, a->last_id, a->last_ts);
      e = E(d, ei);
    }
    /* identical wrong answers across accounts */
    uint64_t sig = 0;
    int wrong = 0;
    for (int i = 0; i < a->n; i++)
      if (a->it[i].success == 0) {
        sig += (a->it[i].item * 0x9e3779b97f4a7c15ull) ^ ((uint64_t)a->it[i].resp << 1);
        wrong++;
      }
    if (wrong >= 4 && a->assess) {
      sig = (sig ^ a->assess) | 1;
      uint32_t *o = hm_get(&d->wrong_ix, sig);
      if (!o) {
        uint32_t oi;
        if (!pool_alloc(&d->owners, &oi) && !hm_put(&d->wrong_ix, sig, oi)) {
          owner *w = pool_at(&d->owners, oi);
          w->actor = a->actor;
          w->enrol = ei;
        }
      } else {
        owner *w = pool_at(&d->owners, *o);
        if (w->actor != a->actor) {
          double strength = 0.3; /* honest students share whole wrong sets on true/false and blank items */
          uint32_t other = w->enrol;
          set_sig(d, ei, S_SAME_WRONG, strength, wrong, a->last_id, a->last_ts);
          set_sig(d, other, S_SAME_WRONG, strength, wrong, a->last_id, a->last_ts);
        }
      }
    }
    a = pool_at(&d->atts, ai);
    /* harvest: the same assessment answered on this device by another account shortly before */
    if (a->device && a->assess) {
      uint32_t di = dev_get(d, a->device, 1);
      if (di) {
        device *v = pool_at(&d->devs, di);
        if (v->last_assess == a->assess && v->last_assess_actor != a->actor && acc >= 0.8) {
          double gap = (a->start_ts - v->last_assess_ts) / 6e7;
          if (gap >= -60 && gap <= 60) set_sig(d, ei, S_HARVEST, 0.7, gap < 0 ? -gap : gap, a->last_id, a->last_ts);
          v = pool_at(&d->devs, di);
        }
        a = pool_at(&d->atts, ai);
        v->last_assess = a->assess;
        v->last_assess_actor = a->actor;
        v->last_assess_ts = a->last_ts;
      }
    }
    e = E(d, ei);
    if (e->ex_items >= 10 && e->cw_items >= 10) {
      double gap = (double)e->ex_correct / e->ex_items - (double)e->cw_correct / e->cw_items;
      if (gap >= 0.35) set_sig(d, ei, S_SCORE_JUMP, 0.4, gap, a->last_id, a->last_ts);
    }
    exam_x_judge(d, ai, acc, n ? sum / n : 0, popn >= 5 ? exp(popz / popn) : 0, popn ? exp(popz / popn) : 0, known);
    pf_attempt(d, ai);
  }
  a = pool_at(&d->atts, ai);
  /* the population's time on each item, after judging this attempt against it */
  for (int i = 0; i < a->n; i++) {
    if (a->it[i].dur <= 0) continue;
    uint32_t ii = item_get(d, a->it[i].item, 1);
    if (!ii) continue;
    item *m = pool_at(&d->items, ii);
    m->sum_ln += log(a->it[i].dur);
    m->n++;
  }
  a = pool_at(&d->atts, ai);
  hm_del(&d->att_ix, a->key);
  a->key = 0;
  pool_release(&d->atts, ai);
}

static void on_attempt(mg_detect *d, uint32_t ei, const mg_detect_event *ev) {
  if (!ev->attempt) return;
  uint32_t ai = att_get(d, ev, ei);
  if (!ai) return;
  attempt *a = pool_at(&d->atts, ai);
  a->touched = d->max_ts;
  if (ev->akind) a->akind = ev->akind;
  if (ev->kind == MG_XAPI_KIND_EXAM_STARTED || ev->kind == MG_XAPI_KIND_ATTEMPT_STARTED) {
    a->start_ts = ev->ts_us;
    a->assess = ev->object;
    a->device = ev->device;
  } else if (ev->kind == MG_XAPI_KIND_ITEM_ANSWERED || ev->kind == MG_XAPI_KIND_ITEM_ANSWERED_OPEN) {
    if (!a->assess) a->assess = ev->parent;
    if (!a->device) a->device = ev->device;
    if (d->pf && ev->kind == MG_XAPI_KIND_ITEM_ANSWERED && mg_detect_pf_item_name(d->pf, ev->object, ev->s_object.p, ev->s_object.n))
      d->rc = d->rc ? d->rc : MG_ENOMEM;
    if (ev->ts_us < a->start_ts || !a->start_ts) a->start_ts = ev->ts_us;
    int k = 0;
    while (k < a->n && a->it[k].item != ev->object) k++;
    if (k == a->n) {
      if (a->n >= ATT_ITEMS) return;
      a->n++;
    } else if (ev->ts_us < a->last_ts) {
      return; /* an older save of an answer already replaced */
    }
    aitem *it = &a->it[k];
    it->item = ev->object;
    it->dur = (ev->has & MG_DEV_HAS_DURATION) ? (float)ev->duration : 0;
    it->resp = (uint32_t)ev->response;
    it->success = ev->kind == MG_XAPI_KIND_ITEM_ANSWERED ? ev->success : -1;
    it->chars = (uint16_t)(ev->desc_chars > 65535 ? 65535 : ev->desc_chars);
    if (ev->ts_us >= a->last_ts) { a->last_ts = ev->ts_us; memcpy(a->last_id, ev->id, 16); }
  } else if (ev->kind == MG_XAPI_KIND_ATTEMPT_SUBMITTED) {
    if (!a->assess) a->assess = ev->object;
    if (ev->ts_us >= a->last_ts) { a->last_ts = ev->ts_us; memcpy(a->last_id, ev->id, 16); }
    attempt_finish(d, ai);
  }
}

/* ---- pages, tasks, posts ------------------------------------------------------------------ */

static void on_page(mg_detect *d, uint32_t ei, const mg_detect_event *ev) {
  enrol *e = E(d, ei);
  if (!(ev->has & MG_DEV_HAS_DURATION)) return;
  if (e->pages < 65535) e->pages++;
  if (ev->duration < 3.0 && e->nodwell < 65535) e->nodwell++;
  if (e->nodwell && e->pages_from < 65535) e->pages_from++;
}

static void on_task(mg_detect *d, uint32_t ei, const mg_detect_event *ev) {
  enrol *e = E(d, ei);
  if (e->last_task_ts && ev->ts_us > e->last_task_ts) {
    float gap = (float)((ev->ts_us - e->last_task_ts) / 1e6);
    if (e->last_task_gap > 0 && fabsf(gap - e->last_task_gap) < 1.5f && gap < 900 && e->task_same < 65535)
      e->task_same++;
    e->last_task_gap = gap;
  }
  if (ev->ts_us > e->last_task_ts) e->last_task_ts = ev->ts_us;
  if (e->tasks < 65535) e->tasks++;
}

/* Near-duplicate posts: min-hashes of character 3-grams in 4 bands of 2; a band shared with
 * another account's post in the same course within a day marks both. Short posts ("同意") are
 * too common to mean anything and are skipped. */
static void on_post(mg_detect *d, uint32_t ei, const mg_detect_event *ev) {
  const char *s = ev->s_response.p;
  size_t n = ev->s_response.n;
  if (!s) return;
  /* code point starts */
  size_t starts[512];
  size_t m = 0;
  for (size_t i = 0; i < n && m < 512; i++)
    if (((unsigned char)s[i] & 0xC0) != 0x80) starts[m++] = i;
  if (m < 12) return;
  uint64_t mins[8];
  for (int k = 0; k < 8; k++) mins[k] = UINT64_MAX;
  for (size_t i = 0; i + 3 <= m; i++) {
    size_t end = i + 3 < m ? starts[i + 3] : n;
    uint64_t h = mg_detect_hash(s + starts[i], end - starts[i]);
    for (int k = 0; k < 8; k++) {
      uint64_t x = (h ^ (0x9e3779b97f4a7c15ull * (uint64_t)(k + 1))) * 0xff51afd7ed558ccdull;
      x ^= x >> 29;
      if (x < mins[k]) mins[k] = x;
    }
  }
  enrol *e = E(d, ei);
  for (int b = 0; b < 4; b++) {
    uint64_t band = mg_detect_hash(&mins[2 * b], 16) ^ ((uint64_t)b << 56) ^ ev->course;
    band |= 1;
    uint32_t *o = hm_get(&d->post_ix, band);
    if (!o) {
      uint32_t oi;
      if (!pool_alloc(&d->owners, &oi) && !hm_put(&d->post_ix, band, oi)) {
        owner *w = pool_at(&d->owners, oi);
        w->actor = ev->actor;
        w->enrol = ei;
      }
      continue;
    }
    owner *w = pool_at(&d->owners, *o);
    if (w->actor == ev->actor) continue;
    uint32_t other = w->enrol;
    e = E(d, ei);
    if (e->dup_posts < 65535) e->dup_posts++;
    enrol *oe = E(d, other);
    if (oe->dup_posts < 65535) oe->dup_posts++;
    set_sig(d, ei, S_DUP_POSTS, e->dup_posts >= 3 ? 0.2 : 0.1, e->dup_posts, ev->id, ev->ts_us);
    oe = E(d, other);
    set_sig(d, other, S_DUP_POSTS, oe->dup_posts >= 3 ? 0.2 : 0.1, oe->dup_posts, ev->id, ev->ts_us);
    break;
  }
}

/* ---- sweeps -------------------------------------------------------------------------------- */

enum { F_CADENCE, F_AUTORESUME, F_FIXED_PAUSE, F_MUTED, F_PINNED, F_NOINPUT, F_HIDDEN, F_CRON,
       F_NIGHT, F_POPUP, F_NODWELL, F_TASK, F_INPUT_EVERY, F_UNATTENDED, F_NFEAT };

static const int k_feat_sig[F_NFEAT] = {S_CADENCE, S_AUTORESUME, S_FIXED_PAUSE, S_MUTED, S_PINNED,
                                        S_NOINPUT, S_HIDDEN, S_CRON, S_NIGHT, S_POPUP, S_NODWELL,
                                        S_TASK_GAPS, S_INPUT_EVERY, S_UNATTENDED};
/* strength of each weak behavioural rule; no single one reaches the threshold */
static const double k_feat_w[F_NFEAT] = {0.5, 0.4, 0.3, 0.25, 0.2, 0.3, 0.4, 0.25, 0.2, 0.4, 0.4, 0.4, 0.3, 0.3};

/* Feature values of an enrolment; NAN where there is too little data to judge. */
static void features(mg_detect *d, const enrol *e, double out[F_NFEAT]) {
  for (int i = 0; i < F_NFEAT; i++) out[i] = NAN;
  const plat *p = pool_at(&d->plats, e->plat);
  unsigned hn = 0;
  for (int i = 0; i < HB_BINS; i++) hn += e->hb_hist[i];
  if (hn >= 30 && p->n >= 1000) {
    double tv = 0;
    for (int i = 0; i < HB_BINS; i++) tv += fabs((double)e->hb_hist[i] / hn - (double)p->hist[i] / p->n);
    out[F_CADENCE] = tv / 2;
  }
  if (e->pauses >= 5) {
    out[F_AUTORESUME] = (double)e->autoresume / e->pauses;
    /* few pauses: a share of 0.6 is chance unless it is improbable at the platform's own rate */
    if (out[F_AUTORESUME] >= 0.6 && p->pause_n >= 1000 &&
        binom_tail(e->pauses, e->autoresume, p->resume_n / p->pause_n) > 1e-4)
      out[F_AUTORESUME] = 0;
    unsigned pn = 0, mx = 0;
    for (int i = 0; i < PAUSE_BINS; i++) { pn += e->pause_hist[i]; if (e->pause_hist[i] > mx) mx = e->pause_hist[i]; }
    /* concentration in one half-octave bin, ignoring instant resumes (counted above) */
    unsigned mx2 = 0, pn2 = pn - e->pause_hist[0] - e->pause_hist[1] - e->pause_hist[2];
    for (int i = 3; i < PAUSE_BINS; i++) if (e->pause_hist[i] > mx2) mx2 = e->pause_hist[i];
    if (pn2 >= 5) out[F_FIXED_PAUSE] = (double)mx2 / pn2;
    (void)mx;
  }
  if (e->hb_n >= 30) {
    out[F_MUTED] = (double)e->hb_muted / e->hb_n;
    out[F_PINNED] = (double)e->hb_pinned / e->hb_n;
    if (e->hb_n >= 60) out[F_NIGHT] = (double)e->hb_night / e->hb_n;
    if (e->hb_input_known >= 30) {
      out[F_NOINPUT] = (double)e->hb_noinput / e->hb_input_known;
      out[F_INPUT_EVERY] = (double)e->hb_input_any / e->hb_input_known;
    }
    if (e->hb_vis_known >= 30) out[F_HIDDEN] = (double)e->hb_hidden / e->hb_vis_known;
  }
  if (e->days >= 7) {
    double r = sqrt((double)e->start_c * e->start_c + (double)e->start_s * e->start_s) / e->days;
    if (r > 1) r = 1;
    double sd = r > 0 ? sqrt(-2 * log(r)) * 1440 / (2 * M_PI) : 1440;
    out[F_CRON] = sd;
  }
  /* shares from the first instant one on: a tool that takes over after an honest start is not
   * diluted by the pages and pop-ups its student handled before */
  if (e->popups >= 3) out[F_POPUP] = e->popups_from >= 3 ? (double)e->popup_fast / e->popups_from : 0;
  if (e->pages >= 4) out[F_NODWELL] = e->pages_from >= 4 ? (double)e->nodwell / e->pages_from : 0;
  if (e->tasks >= 8) out[F_TASK] = (double)e->task_same / (e->tasks - 2);
  /* counts only when at least 30 % of the sessions were unattended (a tool that took over) */
  if (e->att_sess >= 1) out[F_UNATTENDED] = e->att_unattended >= 0.3 * e->att_sess ? e->att_unattended : 0;
  /* the same counted per local day (the day in progress included): a tool's short sessions */
  int u = day_attendance(e);
  unsigned days = e->att_days + (u >= 0), un = e->att_days_un + (u > 0);
  if (days >= 1) {
    double v = un >= 0.3 * days ? un : 0;
    if (isnan(out[F_UNATTENDED]) || v > out[F_UNATTENDED]) out[F_UNATTENDED] = v;
  }
}

static int feat_fires(int f, double v) {
  if (isnan(v)) return 0;
  if (f == F_CRON) return v < k_sig[k_feat_sig[f]].threshold;
  return v >= k_sig[k_feat_sig[f]].threshold;
}

/* Study mismatches whose retry window has passed (all: at the end of the data). */
static void fails_settle_all(mg_detect *d, int all) {
  for (uint32_t i = 1; i < d->enrols.n; i++) {
    enrol *e = E(d, i);
    if (e->reg && e->pf_on && (all || d->max_ts - e->pf_ts > RETRY_US)) fail_settle(d, i);
  }
}

static void sweep(mg_detect *d, int all) {
  fails_settle_all(d, 0);
  if (d->pf && mg_detect_pf_sweep(d->pf, all, pf_flag, d)) d->rc = d->rc ? d->rc : MG_ENOMEM;
  /* 1. how common each weak rule is per platform: one that fires for more than 10 % of a
   *    platform's enrolments describes that platform's normal, not misconduct */
  size_t np = d->plats.n;
  uint32_t (*cnt)[F_NFEAT] = calloc(np, sizeof *cnt);
  uint32_t (*elig)[F_NFEAT] = calloc(np, sizeof *elig);
  if (!cnt || !elig) { free(cnt); free(elig); d->rc = d->rc ? d->rc : MG_ENOMEM; return; }
  for (uint32_t p = 1; p < np; p++) {
    plat *pl = pool_at(&d->plats, p);
    pl->pause_n = pl->resume_n = 0;
    pl->page_n = pl->page_nd = pl->pop_n = pl->pop_fast = 0;
  }
  for (uint32_t i = 1; i < d->enrols.n; i++) { /* each platform's own share of quick resumes */
    enrol *e = E(d, i);
    if (!e->reg) continue;
    plat *pl = pool_at(&d->plats, e->plat);
    pl->pause_n += e->pauses;
    pl->resume_n += e->autoresume;
  }
  for (uint32_t i = 1; i < d->enrols.n; i++) {
    enrol *e = E(d, i);
    if (!e->reg) continue;
    double v[F_NFEAT];
    features(d, e, v);
    for (int f = 0; f < F_NFEAT; f++) {
      if (isnan(v[f])) continue;
      elig[e->plat][f]++;
      cnt[e->plat][f] += (uint32_t)feat_fires(f, v[f]);
    }
    plat *pl = pool_at(&d->plats, e->plat);
    if (!feat_fires(F_NODWELL, v[F_NODWELL])) { pl->page_n += e->pages; pl->page_nd += e->nodwell; }
    if (!feat_fires(F_POPUP, v[F_POPUP])) { pl->pop_n += e->popups; pl->pop_fast += e->popup_fast; }
  }
  for (uint32_t p = 1; p < np; p++) {
    plat *pl = pool_at(&d->plats, p);
    for (int f = 0; f < F_NFEAT; f++)
      pl->off[k_feat_sig[f]] = elig[p][f] >= 50 && cnt[p][f] * 10 > elig[p][f];
  }
  free(cnt);
  free(elig);
  /* 2. weak behavioural rules */
  for (uint32_t i = 1; i < d->enrols.n; i++) {
    enrol *e = E(d, i);
    if (!e->reg) continue;
    double v[F_NFEAT];
    features(d, e, v);
    const plat *pl = pool_at(&d->plats, e->plat);
    for (int f = 0; f < F_NFEAT; f++) {
      if (!feat_fires(f, v[f]) || pl->off[k_feat_sig[f]]) continue;
      double w = k_feat_w[f];
      if (f == F_CADENCE && v[f] >= 0.8) w = 0.7;
      /* more independent observations, stronger evidence, judged against the platform's own
       * rate (its other enrolments' instant pages or pop-up answers, Laplace-smoothed so a
       * platform with none so far still has a rate): after the first instant one, how
       * improbable are the rest at that rate? A platform whose students often skip through
       * pages gets no extra weight from the same counts beyond the fixed step for 5 pop-ups or
       * 7 pages (honest shares on these two stay far below 0.8: p99.9 = 0 on dev seeds). */
      if (f == F_POPUP && e->popup_fast >= 5) w = 0.5;
      if (f == F_NODWELL && e->nodwell >= 7) w = 0.5;
      if (f == F_POPUP || f == F_NODWELL) {
        unsigned n = f == F_POPUP ? e->popups_from : e->pages_from;
        unsigned k = f == F_POPUP ? e->popup_fast : e->nodwell;
        double p0 = f == F_POPUP ? (pl->pop_fast + 1) / (pl->pop_n + 2) : (pl->page_nd + 1) / (pl->page_n + 2);
        double tail = n >= 1 && k >= 1 ? binom_tail(n - 1, k - 1, p0) : 1;
        double wb = k_feat_w[f] + (tail < 1e-6 ? 0.1 : 0) + (tail < 1e-9 ? 0.1 : 0);
        if (wb > w) w = wb;
      }
      /* dev seeds 1–3 (~14,000 honest enrolments): one honest enrolment had 2 such sessions,
       * none had 3; most bots have 3 or more */
      if (f == F_UNATTENDED) w = v[f] >= 5 ? 0.6 : v[f] >= 3 ? 0.5 : 0.3;
      set_sig(d, i, k_feat_sig[f], w, v[f], NULL, 0);
      e = E(d, i);
      pl = pool_at(&d->plats, e->plat);
    }
  }
  /* 3. devices used by several accounts: an operator's accounts study almost only there; a
   *    worker's device is an unfamiliar one in an account that also has its own. Judged per
   *    enrolment, so every account on a crowded device is judged, not only the first few. */
  for (uint32_t ei = 1; ei < d->enrols.n; ei++) {
    enrol *e = E(d, ei);
    if (!e->reg || !e->study_n) continue;
    int nact[NDEV] = {0}, maxn = 0, own = 0;
    uint32_t shared_n = 0;
    for (int k = 0; k < NDEV; k++) {
      if (!e->dev[k].h) continue;
      uint32_t di = dev_get(d, e->dev[k].h, 0);
      nact[k] = di ? ((const device *)pool_at(&d->devs, di))->n_actors : 1;
      if (nact[k] >= 3) {
        shared_n += e->dev[k].n;
        if (nact[k] > maxn) maxn = nact[k];
      } else if (e->dev[k].n >= e->study_n * 0.25) {
        own = 1;
      }
    }
    if (!maxn) continue;
    if (!own && shared_n >= 0.6 * e->study_n) {
      set_sig(d, ei, S_SHARED_DEVICE, maxn >= 5 ? 1.0 : maxn >= 4 ? 0.8 : 0.6, maxn, NULL, 0);
      continue;
    }
    for (int k = 0; own && k < NDEV; k++) {
      e = E(d, ei);
      if (nact[k] >= 3 && e->dev[k].first >= HISTORY_MIN / 2 && e->dev[k].n >= 10)
        set_sig(d, ei, S_WORKER_DEVICE, nact[k] >= 4 ? 0.6 : 0.5, nact[k], NULL, 0);
    }
  }
}

/* Closes video sessions and attempts untouched for idle_us of statement time. */
static void evict_idle(mg_detect *d, int all) {
  closed_expire(d, all);
  for (uint32_t i = 1; i < d->sess.n; i++) {
    vsess *s = pool_at(&d->sess, i);
    if (!s->key) continue;
    if (all || d->max_ts - s->touched > d->cfg.idle_us) {
      sess_close(d, i);
    }
  }
  for (uint32_t i = 1; i < d->atts.n; i++) {
    attempt *a = pool_at(&d->atts, i);
    if (!a->key) continue;
    if (all || d->max_ts - a->touched > d->cfg.idle_us) {
      attempt_finish(d, i);
    }
  }
}

/* ---- feeding -------------------------------------------------------------------------------- */

static int seen_before(mg_detect *d, uint64_t h) {
  if (hm_get(&d->seen[0], h) || hm_get(&d->seen[1], h)) return 1;
  if (d->seen[0].n >= d->cfg.dedupe_generation) {
    hm_free(&d->seen[1]);
    d->seen[1] = d->seen[0];
    memset(&d->seen[0], 0, sizeof d->seen[0]);
  }
  if (hm_put(&d->seen[0], h, 1)) d->rc = d->rc ? d->rc : MG_ENOMEM;
  return 0;
}

int mg_detect_feed(mg_detect *d, const mg_detect_event *ev) {
  d->rc = MG_OK;
  if (ev->kind == MG_XAPI_KIND_NONE) { d->st.ignored++; return MG_OK; }
  if (seen_before(d, ev->id_h)) { d->st.duplicates++; return d->rc; }
  d->st.fed++;
  if (ev->recv_us > d->now_recv) d->now_recv = ev->recv_us;
  if (ev->ts_us > d->max_ts) d->max_ts = ev->ts_us;
  if (!d->next_sweep) d->next_sweep = d->max_ts + d->cfg.sweep_every_us;
  if (d->max_ts >= d->next_sweep) {
    d->next_sweep = d->max_ts + d->cfg.sweep_every_us;
    evict_idle(d, 0);
    sweep(d, 0);
  }
  if (d->nclosed) closed_expire(d, 0);
  if (d->nclaims) claims_expire(d, 0);
  if (!ev->reg || !ev->actor) return d->rc; /* logins: not tied to an enrolment */
  uint32_t ei = enrol_get(d, ev);
  if (!ei) return d->rc;
  enrol *e = E(d, ei);
  if (ev->ts_us > e->last_ts) e->last_ts = ev->ts_us;
  if (ev->offline == 1) e->offline_seen = 1;
  if (e->pf_on && ev->ts_us - e->pf_ts > RETRY_US) fail_settle(d, ei);
  switch (ev->kind) {
    case MG_XAPI_KIND_VIDEO_INITIALIZED: case MG_XAPI_KIND_VIDEO_PLAYED:
    case MG_XAPI_KIND_VIDEO_PAUSED: case MG_XAPI_KIND_VIDEO_SEEKED:
    case MG_XAPI_KIND_VIDEO_HEARTBEAT: case MG_XAPI_KIND_VIDEO_INTERACTED:
    case MG_XAPI_KIND_VIDEO_COMPLETED: case MG_XAPI_KIND_VIDEO_TERMINATED:
      on_study_identity(d, ei, ev);
      on_video(d, ei, ev);
      break;
    case MG_XAPI_KIND_PAGE_VIEWED:
      on_study_identity(d, ei, ev);
      on_page(d, ei, ev);
      break;
    case MG_XAPI_KIND_TASK_COMPLETED:
      on_study_identity(d, ei, ev);
      on_task(d, ei, ev);
      break;
    case MG_XAPI_KIND_DISCUSSION_POSTED: case MG_XAPI_KIND_DISCUSSION_COMMENTED:
      on_study_identity(d, ei, ev);
      on_post(d, ei, ev);
      break;
    case MG_XAPI_KIND_EXAM_STARTED:
      on_exam_start(d, ei, ev);
      on_attempt(d, ei, ev);
      break;
    case MG_XAPI_KIND_ATTEMPT_STARTED: case MG_XAPI_KIND_ITEM_ANSWERED:
    case MG_XAPI_KIND_ITEM_ANSWERED_OPEN: case MG_XAPI_KIND_ATTEMPT_SUBMITTED:
      if (ev->akind != MG_DEV_AK_EXAM) on_study_identity(d, ei, ev);
      on_attempt(d, ei, ev);
      break;
    case MG_XAPI_KIND_FACE_PROMPTED: case MG_XAPI_KIND_FACE_PASSED: case MG_XAPI_KIND_FACE_FAILED:
      on_face(d, ei, ev);
      break;
    default:
      break;
  }
  return d->rc;
}

int mg_detect_feed_json(mg_detect *d, const char *json, size_t len) {
  static _Thread_local mg_detect_event ev;
  if (mg_detect_event_parse(json, len, &ev) != MG_OK) {
    d->st.unparsable++;
    return MG_OK;
  }
  return mg_detect_feed(d, &ev);
}

int mg_detect_flush(mg_detect *d) {
  d->rc = MG_OK;
  evict_idle(d, 1);
  claims_expire(d, 1);
  fails_settle_all(d, 1);
  sweep(d, 1);
  return d->rc;
}

/* ---- lifecycle ------------------------------------------------------------------------------ */

int mg_detect_new(const mg_detect_config *cfg, mg_detect_sink sink, void *ud, mg_detect **out) {
  mg_detect *d = calloc(1, sizeof *d);
  if (!d) return MG_ENOMEM;
  if (cfg) d->cfg = *cfg; else mg_detect_config_defaults(&d->cfg);
  if (d->cfg.threshold <= 0) d->cfg.threshold = 1.0;
  if (d->cfg.dedupe_generation < 1024) d->cfg.dedupe_generation = 1024;
  d->sink = sink;
  d->ud = ud;
  pool_init(&d->enrols, sizeof(enrol));
  pool_init(&d->sigs, sizeof(sigrec));
  pool_init(&d->sess, sizeof(vsess));
  pool_init(&d->actors, sizeof(actor));
  pool_init(&d->devs, sizeof(device));
  pool_init(&d->items, sizeof(item));
  pool_init(&d->atts, sizeof(attempt));
  pool_init(&d->faces, sizeof(face));
  pool_init(&d->plats, sizeof(plat));
  pool_init(&d->owners, sizeof(owner));
  if (mg_detect_pf_new(&d->pf)) { free(d); return MG_ENOMEM; }
  *out = d;
  return MG_OK;
}

void mg_detect_free(mg_detect *d) {
  if (!d) return;
  for (uint32_t i = 1; i < d->enrols.n; i++) free(E(d, i)->txt);
  hmap *maps[] = {&d->enrol_ix, &d->sess_ix, &d->actor_ix, &d->dev_ix, &d->item_ix, &d->att_ix,
                  &d->face_ix, &d->plat_ix, &d->capture_ix, &d->wrong_ix, &d->post_ix,
                  &d->devact_ix, &d->vid_ix, &d->seen[0], &d->seen[1]};
  for (size_t i = 0; i < sizeof maps / sizeof maps[0]; i++) hm_free(maps[i]);
  pool *pools[] = {&d->enrols, &d->sigs, &d->sess, &d->actors, &d->devs, &d->items, &d->atts,
                   &d->faces, &d->plats, &d->owners};
  for (size_t i = 0; i < sizeof pools / sizeof pools[0]; i++) pool_free(pools[i]);
  free(d->closed);
  free(d->claims);
  exam_x_free(d->ex);
  mg_detect_pf_free(d->pf);
  free(d);
}

void mg_detect_get_stats(const mg_detect *d, mg_detect_stats *out) {
  *out = d->st;
  out->bank_items = mg_detect_pf_bank_items(d->pf);
  out->devices = d->devs.n - 1;
  out->items = d->items.n - 1;
  out->actors = d->actors.n - 1;
  out->enrol_bytes = sizeof(enrol) + sizeof(info);
  const hmap *maps[] = {&d->enrol_ix, &d->sess_ix, &d->actor_ix, &d->dev_ix, &d->item_ix,
                        &d->att_ix, &d->face_ix, &d->plat_ix, &d->capture_ix, &d->wrong_ix,
                        &d->post_ix, &d->devact_ix, &d->vid_ix, &d->seen[0], &d->seen[1]};
  size_t b = 0;
  for (size_t i = 0; i < sizeof maps / sizeof maps[0]; i++) b += maps[i]->cap * 12;
  const pool *pools[] = {&d->enrols, &d->sigs, &d->sess, &d->actors, &d->devs, &d->items,
                         &d->atts, &d->faces, &d->plats, &d->owners};
  for (size_t i = 0; i < sizeof pools / sizeof pools[0]; i++)
    b += pools[i]->cap * pools[i]->size + pools[i]->capfree * 4;
  b += (d->enrols.n - 1) * sizeof(info);
  b += mg_detect_pf_bytes(d->pf);
  out->bytes = b;
}
