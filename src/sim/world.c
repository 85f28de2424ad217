/* The simulated world: places, networks, universities, platforms, courses with their videos and
 * question banks, students and their devices, enrolments with cohorts and misconduct schemes.
 * Names are invented (no real university's identity service is addressed). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "sim/sim_int.h"

#define IP4(a, b) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16))

const sim_city mg_sim_cities[] = {
    {"北京", "北京", IP4(123, 112), IP4(223, 104)}, {"上海", "上海", IP4(116, 228), IP4(223, 166)},
    {"广州", "广东", IP4(113, 108), IP4(120, 229)}, {"深圳", "广东", IP4(119, 123), IP4(120, 230)},
    {"南京", "江苏", IP4(58, 213), IP4(112, 2)},    {"无锡", "江苏", IP4(58, 214), IP4(112, 3)},
    {"杭州", "浙江", IP4(115, 236), IP4(112, 17)},  {"武汉", "湖北", IP4(111, 172), IP4(223, 76)},
    {"成都", "四川", IP4(171, 88), IP4(223, 87)},   {"西安", "陕西", IP4(113, 140), IP4(117, 136)},
    {"长沙", "湖南", IP4(175, 8), IP4(223, 152)},   {"济南", "山东", IP4(119, 162), IP4(112, 224)},
    {"郑州", "河南", IP4(171, 8), IP4(117, 158)},   {"合肥", "安徽", IP4(60, 166), IP4(112, 26)},
    {"福州", "福建", IP4(59, 57), IP4(112, 47)},    {"昆明", "云南", IP4(116, 52), IP4(39, 130)},
    {"哈尔滨", "黑龙江", IP4(221, 208), IP4(112, 100)}, {"兰州", "甘肃", IP4(61, 178), IP4(117, 184)},
    {"南宁", "广西", IP4(180, 140), IP4(120, 239)}, {"重庆", "重庆", IP4(183, 230), IP4(223, 85)},
};
const int mg_sim_n_cities = (int)(sizeof mg_sim_cities / sizeof mg_sim_cities[0]);

/* Datacenter and VPN ranges used by operators, workers and some honest students. Prefixes are
 * ranges publicly registered to these providers when this table was written (illustrative; the
 * simulator only needs them to be consistent with world.json "networks"). */
static const struct {
  uint32_t base;
  int len;
  uint32_t asn;
  const char *org;
  int kind;
} k_dc[] = {
    {IP4(47, 92), 14, 37963, "Alibaba Cloud (阿里云)", NET_CLOUD},
    {IP4(47, 100), 14, 37963, "Alibaba Cloud (阿里云)", NET_CLOUD},
    {IP4(139, 224), 16, 37963, "Alibaba Cloud (阿里云)", NET_CLOUD},
    {IP4(119, 29), 16, 45090, "Tencent Cloud (腾讯云)", NET_CLOUD},
    {IP4(121, 36), 16, 55990, "Huawei Cloud (华为云)", NET_CLOUD},
    {IP4(180, 76), 16, 38365, "Baidu Cloud (百度智能云)", NET_CLOUD},
    {IP4(8, 210), 16, 45102, "Alibaba Cloud Hong Kong (VPN exits)", NET_VPN},
    {IP4(45, 76), 16, 20473, "Vultr (VPN exits)", NET_VPN},
    {IP4(128, 199), 16, 14061, "DigitalOcean (VPN exits)", NET_VPN},
    {IP4(139, 180), 16, 20473, "Vultr Singapore (VPN exits)", NET_VPN},
};
#define N_DC ((int)(sizeof k_dc / sizeof k_dc[0]))

uint32_t mg_sim_pick_ip(sim_rng *r, int kind) {
  int idx[N_DC], n = 0;
  for (int i = 0; i < N_DC; i++)
    if (k_dc[i].kind == kind) idx[n++] = i;
  int k = idx[sim_int(r, 0, n - 1)];
  uint32_t host = (uint32_t)sim_next(r) & ((1u << (32 - k_dc[k].len)) - 1);
  if ((host & 255) == 0 || (host & 255) == 255) host ^= 7;
  return k_dc[k].base | host;
}

const char *const mg_sim_user_agents[] = {
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/108.0.5359.95 Safari/537.36 QIHU 360SE",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:123.0) Gecko/20100101 Firefox/123.0",
    /* phones: the platforms' own apps */
    "StudyApp/5.12.0 (Android 14; Xiaomi 23127PN0CC) okhttp/4.12.0",
    "StudyApp/5.11.3 (Android 13; HUAWEI NOH-AN00) okhttp/4.9.3",
    "StudyApp/5.12.0 (iOS 17.3.1; iPhone15,2) CFNetwork/1494.0.7 Darwin/23.4.0",
    "StudyApp/5.10.8 (Android 12; OPPO PEGM00) okhttp/4.9.3",
    "StudyApp/5.12.1 (HarmonyOS 4.0; HUAWEI ALN-AL00) okhttp/4.12.0",
    /* tablets */
    "StudyApp/5.12.0 (iPadOS 17.2; iPad13,16) CFNetwork/1490.0.4 Darwin/23.2.0",
    /* automation */
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/121.0.6167.85 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36",
    "okhttp/3.12.1",
    "python-requests/2.31.0",
};
const int mg_sim_n_user_agents = (int)(sizeof mg_sim_user_agents / sizeof mg_sim_user_agents[0]);
enum { UA_LAPTOP0 = 0, UA_LAPTOPS = 5, UA_PHONE0 = 5, UA_PHONES = 5, UA_TABLET = 10, UA_HEADLESS = 11,
       UA_SPOOF = 12, UA_OKHTTP = 13, UA_PYREQ = 14 };

static const struct {
  const char *slug, *name, *city;
} k_univ[] = {
    {"jnlg", "江南理工大学", "无锡"},   {"hbsf", "华北师范学院", "北京"},   {"dhjt", "东海交通大学", "上海"},
    {"lnky", "岭南科技大学", "广州"},   {"pcdx", "鹏城大学", "深圳"},       {"jlsf", "金陵师范大学", "南京"},
    {"xhgy", "西湖工业大学", "杭州"},   {"jhdx", "江汉大学", "武汉"},       {"scly", "蜀川理工学院", "成都"},
    {"cajt", "长安交通学院", "西安"},   {"xjsf", "湘江师范学院", "长沙"},   {"qlkj", "齐鲁科技大学", "济南"},
    {"zygy", "中原工业大学", "郑州"},   {"hfxy", "庐州学院", "合肥"},       {"mjdx", "闽江大学", "福州"},
    {"dcdx", "滇池大学", "昆明"},       {"bjgy", "北疆工业大学", "哈尔滨"}, {"lzjt", "陇原交通大学", "兰州"},
    {"ybdx", "邕北大学", "南宁"},       {"bylg", "巴渝理工大学", "重庆"},
};
#define N_UNIV_NAMES ((int)(sizeof k_univ / sizeof k_univ[0]))

static const struct {
  const char *code, *name, *host;
  double cap, hb, threshold;
} k_plat[] = {
    {"cn-zhixing-mooc", "知行慕课 Zhixing MOOC", "https://www.zhixing-mooc.example.cn", 2.0, 30.0, 0.9},
    {"cn-xuehai-online", "学海在线 Xuehai Online", "https://www.xuehai.example.cn", 1.5, 60.0, 1.0},
    {"cn-yunke-tang", "云课堂 Yunke Tang", "https://ke.yunketang.example.cn", 1.25, 30.0, 0.95},
    {"cn-qiming-edu", "启明学堂 Qiming Edu", "https://www.qiming-edu.example.cn", 2.0, 45.0, 0.8},
    {"cn-boya-class", "博雅课堂 Boya Class", "https://boya.example.cn", 1.5, 20.0, 0.9},
    {"cn-tianyuan-mooc", "天元慕课 Tianyuan MOOC", "https://mooc.tianyuan.example.cn", 1.25, 40.0, 1.0},
};
#define N_PLAT_NAMES ((int)(sizeof k_plat / sizeof k_plat[0]))

static const struct {
  const char *slug, *title;
} k_course[] = {
    {"DS", "数据结构"},           {"CALC", "高等数学"},         {"LA", "线性代数"},
    {"PROB", "概率论与数理统计"}, {"ENG", "大学英语"},         {"HIST", "中国近现代史纲要"},
    {"MAO", "毛泽东思想和中国特色社会主义理论体系概论"},        {"ETH", "思想道德与法治"},
    {"PSY", "大学生心理健康"},    {"CAREER", "职业生涯规划"},   {"CPP", "C语言程序设计"},
    {"PY", "Python程序设计"},     {"OS", "操作系统"},           {"NET", "计算机网络"},
    {"DB", "数据库系统原理"},     {"ML", "机器学习导论"},       {"ECON", "经济学原理"},
    {"ACC", "会计学基础"},        {"LAW", "法律基础"},          {"ART", "艺术鉴赏"},
    {"MUS", "音乐欣赏"},          {"LIT", "中国古代文学"},      {"PHYS", "大学物理"},
    {"CHEM", "大学化学"},         {"BIO", "生命科学导论"},      {"ENV", "环境保护概论"},
    {"SAFE", "大学生安全教育"},   {"INNO", "创新创业基础"},     {"TCM", "中医养生学"},
    {"PHIL", "哲学导论"},
};
#define N_COURSE_NAMES ((int)(sizeof k_course / sizeof k_course[0]))

static const char *const k_topics[] = {"基本概念", "核心原理", "典型方法", "案例分析", "综合应用",
                                       "常见误区", "历史与发展", "前沿进展", "实验与实践", "习题讲解"};

static char *wstr(sim *S, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *wstr(sim *S, const char *fmt, ...) {
  char tmp[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n < 0) n = 0;
  if ((size_t)n >= sizeof tmp) n = (int)sizeof tmp - 1;
  char *p = mg_arena_strndup(&S->warena, tmp, (size_t)n);
  if (!p) S->oom = 1;
  return p ? p : (char *)"";
}

static void *walloc(sim *S, size_t n) {
  void *p = mg_arena_calloc(&S->warena, n ? n : 1);
  if (!p) S->oom = 1;
  return p;
}

uint32_t mg_sim_device_new(sim *S, uint8_t kind, uint64_t h) {
  if (S->n_dev == S->cap_dev) {
    size_t nc = S->cap_dev ? S->cap_dev * 2 : 1024;
    sim_device *nd = realloc(S->dev, nc * sizeof *nd);
    if (!nd) {
      S->oom = 1;
      return 0;
    }
    S->dev = nd;
    S->cap_dev = nc;
  }
  sim_rng r = {h};
  sim_device *d = &S->dev[S->n_dev];
  d->raw = sim_next(&r);
  d->kind = kind;
  switch (kind) {
    case DEV_LAPTOP: d->ua = (uint16_t)(UA_LAPTOP0 + sim_int(&r, 0, UA_LAPTOPS - 1)); break;
    case DEV_PHONE: d->ua = (uint16_t)(UA_PHONE0 + sim_int(&r, 0, UA_PHONES - 1)); break;
    case DEV_TABLET: d->ua = UA_TABLET; break;
    default: d->ua = (uint16_t)(UA_HEADLESS + sim_int(&r, 0, 3)); break;
  }
  /* most clocks are NTP-synced to within a second; some are minutes off */
  double skew = sim_normal(&r) * 400.0;
  if (sim_chance(&r, 0.05)) skew = sim_normal(&r) * 90000.0;
  d->skew_ms = (int32_t)skew;
  return (uint32_t)S->n_dev++;
}

static const char *const k_bank_wrong[] = {"a", "b", "c", "d"};

/* Items: per chapter quiz items, then exam items. Stems vary in length (reading time). */
static void build_items(sim *S, mg_sim_course *c, sim_course_int *ci, const char *slug, uint64_t h) {
  int n_quiz = c->chapters * c->items_per_quiz;
  int n = n_quiz + c->exam_items;
  mg_sim_item *it = walloc(S, sizeof *it * (size_t)n);
  if (!it) return;
  sim_rng r = {h};
  for (int i = 0; i < n; i++) {
    int ch = i < n_quiz ? i / c->items_per_quiz + 1 : sim_int(&r, 1, c->chapters);
    double u = sim_u(&r);
    it[i].interaction = u < 0.55 ? "choice" : u < 0.75 ? "true-false" : u < 0.92 ? "fill-in" : "long-fill-in";
    const char *topic = k_topics[sim_int(&r, 0, 9)];
    int pad = sim_int(&r, 0, 3);
    static const char *const pads[] = {"", "（请结合本章内容作答）",
                                       "已知题干所给条件成立，并假设其余条件不变，",
                                       "下列说法中，请选出与课程讲授内容一致、且在一般情形下都成立的一项："};
    it[i].stem = wstr(S, "第%d章%s：%s关于“%s”的第%d个要点，下列哪一项描述是正确的？", ch,
                      i < n_quiz ? "测验" : "考试", pads[pad], topic, i % 7 + 1);
    it[i].iri = wstr(S, "%s/item/%s-Q%04d", S->plat[c->platform].home, slug, i + 1);
    it[i].difficulty = sim_normal(&r) * 0.9;
    it[i].in_public_bank = sim_chance(&r, i < n_quiz ? 0.8 : 0.55);
    if (!strcmp(it[i].interaction, "choice")) {
      it[i].correct = k_bank_wrong[sim_int(&r, 0, 3)];
    } else if (!strcmp(it[i].interaction, "true-false")) {
      it[i].correct = sim_chance(&r, 0.5) ? "true" : "false";
    } else if (!strcmp(it[i].interaction, "fill-in")) {
      it[i].correct = wstr(S, "%s%d", topic, i % 5 + 1);
    } else {
      it[i].correct = "";
    }
    /* the banks are wrong on some items, and every bank user inherits the same wrong answer */
    it[i].bank_answer = it[i].correct;
    if (it[i].in_public_bank && sim_chance(&r, 0.12)) {
      if (!strcmp(it[i].interaction, "choice"))
        it[i].bank_answer = k_bank_wrong[(strchr("abcd", it[i].correct[0]) - "abcd" + 1) % 4];
      else if (!strcmp(it[i].interaction, "true-false"))
        it[i].bank_answer = it[i].correct[0] == 't' ? "false" : "true";
    }
  }
  c->items = it;
  c->n_items = (size_t)n;
  ci->first_item_exam = n_quiz;
}

static int build_courses(sim *S) {
  int nc = S->cfg.courses;
  S->course = walloc(S, sizeof *S->course * (size_t)nc);
  S->coursei = walloc(S, sizeof *S->coursei * (size_t)nc);
  if (S->oom) return MG_ENOMEM;
  int64_t start = S->cfg.term_start_us;
  int weeks = S->cfg.weeks;
  for (int i = 0; i < nc; i++) {
    sim_rng r = sim_rng_at(S->cfg.seed, 0xC0, (uint64_t)i);
    mg_sim_course *c = &S->course[i];
    sim_course_int *ci = &S->coursei[i];
    c->platform = i % (int)S->w.n_platforms;
    int ti = i % N_COURSE_NAMES;
    int run = i / N_COURSE_NAMES;
    const char *home = S->plat[c->platform].home;
    char slug[32];
    snprintf(slug, sizeof slug, "%s%d%02d", k_course[ti].slug, 101 + run, i % 100);
    c->iri = wstr(S, "%s/course/%s", home, slug);
    c->title = run ? wstr(S, "%s（%d）", k_course[ti].title, run + 1) : k_course[ti].title;
    c->offering_iri = wstr(S, "%s/offering/term-%lld", c->iri, (long long)(start / SIM_DAY_US));
    c->offering_title = wstr(S, "%s（本学期）", c->title);
    /* a 1-2 credit online course: a chapter a week or so, but the last weeks are for review */
    int maxch = weeks - 3 < 8 ? weeks - 3 : 8;
    if (maxch < 2) maxch = 2;
    c->chapters = sim_int(&r, maxch / 2 > 2 ? maxch / 2 : 2, maxch);
    c->items_per_quiz = sim_int(&r, 3, 6);
    c->exam_items = sim_int(&r, 12, 25);
    mg_sim_video *v = walloc(S, sizeof *v * (size_t)(c->chapters * 3));
    if (!v) return MG_ENOMEM;
    int nv = 0;
    for (int ch = 1; ch <= c->chapters; ch++) {
      int k = sim_int(&r, 1, 2);
      ci->chapter_first_video[ch - 1] = nv;
      ci->chapter_videos[ch - 1] = k;
      /* deadline: end of the chapter's week plus one (Sunday 23:59) */
      int due_week = (ch * (weeks - 2)) / c->chapters;
      if (due_week < 1) due_week = 1;
      ci->chapter_due_us[ch - 1] = start + (int64_t)due_week * 7 * SIM_DAY_US - 60 * SIM_US;
      for (int j = 0; j < k; j++, nv++) {
        double len = sim_lognormal(&r, 400.0, 0.45);
        if (len < 120) len = 120 + sim_u(&r) * 60;
        if (len > 2400) len = 2400 - sim_u(&r) * 300;
        v[nv].length = (double)(int64_t)(len * 100) / 100.0;
        v[nv].chapter = ch;
        v[nv].iri = wstr(S, "%s/video/ch%02d-%02d", c->iri, ch, j + 1);
        v[nv].title = wstr(S, "%d.%d %s", ch, j + 1, k_topics[(ch + j) % 10]);
      }
    }
    c->videos = v;
    c->n_videos = (size_t)nv;
    ci->n_topics = 3 + c->chapters;
    build_items(S, c, ci, slug, sim_hash(S->cfg.seed, 0x17E, (uint64_t)i));
    /* exam window opens in the last week, on a weekday morning, for three days */
    c->exam_start_us = start + (int64_t)(weeks - 1) * 7 * SIM_DAY_US +
                       (int64_t)sim_int(&r, 0, 1) * SIM_DAY_US +
                       (int64_t)sim_int(&r, 8, 14) * 3600 * SIM_US; /* term_start is local midnight */
  }
  S->exam_window_us = 3 * SIM_DAY_US;
  return S->oom ? MG_ENOMEM : MG_OK;
}

static int new_group(sim *S, uint8_t family, uint8_t variant, int course, uint64_t h) {
  sim_group *ng = realloc(S->grp, (S->n_grp + 1) * sizeof *ng);
  if (!ng) {
    S->oom = 1;
    return -1;
  }
  S->grp = ng;
  sim_group *g = &S->grp[S->n_grp];
  memset(g, 0, sizeof *g);
  sim_rng r = {h};
  g->family = family;
  g->variant = variant;
  g->course = course;
  g->city = sim_int(&r, 0, mg_sim_n_cities - 1);
  g->ip = mg_sim_cities[g->city].broadband | (uint32_t)sim_int(&r, 256, 65000);
  if (family == MG_SIM_BRUSH_OPERATOR) {
    /* cloud hosts (Alibaba / Tencent / Huawei / Baidu cloud), a VPN, or the operator's home */
    if (variant == BO_VPN_EXIT)
      g->ip = mg_sim_pick_ip(&r, NET_VPN);
    else if (variant != BO_HOME_STUDIO && variant != BO_RESIDENTIAL_PROXY && variant != BO_PHONE_FARM)
      g->ip = mg_sim_pick_ip(&r, NET_CLOUD);
    int headless = variant == BO_LOCKSTEP || variant == BO_QUEUE || variant == BO_CLOUD_FARM || variant == BO_RANDOM_DELAY;
    int kind = variant == BO_PHONE_FARM ? DEV_PHONE : headless ? DEV_HEADLESS : DEV_LAPTOP;
    g->device = mg_sim_device_new(S, (uint8_t)kind, sim_next(&r));
    g->device2 = mg_sim_device_new(S, variant == BO_CLOUD_FARM ? DEV_HEADLESS : (uint8_t)(kind == DEV_HEADLESS ? DEV_LAPTOP : kind),
                                   sim_next(&r));
  } else {
    if (family == MG_SIM_PROXY_STUDY && variant == PS_OFFICE) g->ip = mg_sim_cities[g->city].broadband | 4242;
    g->device = mg_sim_device_new(S, sim_chance(&r, 0.7) ? DEV_LAPTOP : DEV_PHONE, sim_next(&r));
    g->device2 = mg_sim_device_new(S, DEV_PHONE, sim_next(&r));
  }
  static const char *const pre[MG_SIM_FAMILY_COUNT] = {"forge", "bot", "op", "worker", "bank", "farm"};
  snprintf(g->id, sizeof g->id, "%s-%04zu", pre[family], S->n_grp + 1);
  return (int)S->n_grp++;
}

static double lookalike_total(const mg_sim_config *c) {
  double t = 0;
  for (int i = MG_SIM_HONEST_NAT; i < MG_SIM_ATTACKED; i++) t += c->lookalike_rate[i];
  return t;
}

/* Enrolments: students take courses of the platforms their university subscribes to. */
static int build_enrolments(sim *S) {
  const mg_sim_config *cfg = &S->cfg;
  size_t cap = (size_t)((double)cfg->students * cfg->enrolments_per_student * 1.3) + 16;
  S->e = calloc(cap, sizeof *S->e);
  S->enrol = calloc(cap, sizeof *S->enrol);
  if (!S->e || !S->enrol) return MG_ENOMEM;
  size_t n = 0;
  for (int s = 0; s < cfg->students && n < cap; s++) {
    sim_rng r = sim_rng_at(cfg->seed, 0xE0, (uint64_t)s);
    double m = cfg->enrolments_per_student;
    int k = (int)m;
    if (sim_u(&r) < m - k) k++;
    if (k < 1) k = 1;
    if (k > cfg->courses) k = cfg->courses;
    int taken[16];
    int nt = 0;
    for (int j = 0; j < k && j < 16 && n < cap; j++) {
      int c = -1;
      for (int tries = 0; tries < 8 && c < 0; tries++) {
        /* popular general-education courses draw more students (Zipf-like) */
        double u = sim_u(&r);
        int cand = (int)((double)cfg->courses * u * u);
        if (cand >= cfg->courses) cand = cfg->courses - 1;
        int dup = 0;
        for (int t = 0; t < nt; t++) dup |= taken[t] == cand;
        if (!dup) c = cand;
      }
      if (c < 0) continue;
      taken[nt++] = c;
      S->e[n].student = (uint32_t)s;
      S->e[n].course = (uint32_t)c;
      S->e[n].study_group = -1;
      S->e[n].extra_dev = UINT32_MAX;
      S->e[n].mis[0].group = S->e[n].mis[1].group = -1;
      n++;
    }
  }
  S->n_enr = n;
  /* cohorts */
  double la = lookalike_total(cfg);
  for (size_t i = 0; i < n; i++) {
    sim_enr *e = &S->e[i];
    sim_rng r = sim_rng_at(cfg->seed, 0xC047, i);
    double u = sim_u(&r) * (la > 1 ? la : 1);
    e->cohort = MG_SIM_HONEST;
    for (int c = MG_SIM_HONEST_NAT; c < MG_SIM_ATTACKED; c++) {
      /* a study group forms around one seed student and recruits about three classmates */
      double rate = cfg->lookalike_rate[c] * (c == MG_SIM_HONEST_STUDY_GROUP ? 0.25 : 1.0);
      if (u < rate) {
        e->cohort = (uint8_t)c;
        break;
      }
      u -= rate;
    }
    if (e->cohort == MG_SIM_HONEST_MULTIDEVICE)
      e->extra_dev = mg_sim_device_new(S, sim_chance(&r, 0.5) ? DEV_TABLET : DEV_LAPTOP, sim_next(&r));
  }
  /* study groups: consecutive honest enrolments of one course and university form groups */
  for (size_t i = 0; i < n; i++) {
    sim_enr *e = &S->e[i];
    if (e->cohort != MG_SIM_HONEST_STUDY_GROUP || e->study_group >= 0) continue;
    e->study_group = (int32_t)i;
    int want = 2 + (int)(sim_hash(cfg->seed, 0x56, i) % 3);
    for (size_t j = i + 1; j < n && want > 0 && j < i + 4000; j++) {
      sim_enr *f = &S->e[j];
      if (f->course != e->course || f->study_group >= 0 || f->cohort >= MG_SIM_ATTACKED) continue;
      if (S->stud[f->student].university != S->stud[e->student].university) continue;
      f->cohort = MG_SIM_HONEST_STUDY_GROUP;
      f->study_group = (int32_t)i;
      want--;
    }
  }
  /* misconduct: per family, pick enrolments; group families recruit several accounts. Variants
   * are dealt round-robin from a random start over the ones not held out, so that every
   * variant shows up once a family has as many schemes as variants. */
  for (int fam = 0; fam < MG_SIM_FAMILY_COUNT; fam++) {
    double rate = cfg->attack_rate[fam];
    int nv = mg_sim_variant_count((mg_sim_family)fam), allowed[MG_SIM_MAX_VARIANTS], na = 0;
    for (int v = 0; v < nv; v++)
      if (!(cfg->variants_off[fam] >> v & 1)) allowed[na++] = v;
    if (rate <= 0 || na == 0) continue;
    size_t target = (size_t)(rate * (double)n + 0.5);
    if (target == 0) target = 1;
    size_t got = 0;
    sim_rng r = sim_rng_at(cfg->seed, 0xA77, (uint64_t)fam);
    int deal = sim_int(&r, 0, na - 1);
    for (int guard = 0; got < target && guard < (int)(n * 4 + 100); guard++) {
      size_t i = (size_t)(sim_next(&r) % n);
      sim_enr *e = &S->e[i];
      int second = e->cohort == MG_SIM_ATTACKED;
      if (second && (e->n_mis >= 2 || !sim_chance(&r, 0.15))) continue;
      if (second && e->mis[0].family == fam) continue;
      if (!second && e->study_group >= 0) continue;
      uint8_t var = (uint8_t)allowed[deal++ % na];
      int grp = -1, members = 1, same_course = 0;
      if (fam == MG_SIM_BRUSH_OPERATOR) {
        members = var == BO_HOME_STUDIO ? sim_int(&r, 5, 8) : sim_int(&r, 5, 40);
      } else if (fam == MG_SIM_PROXY_STUDY && (var == PS_SHARED_WORKER || var == PS_OFFICE)) {
        members = var == PS_OFFICE ? sim_int(&r, 5, 15) : sim_int(&r, 3, 8);
      } else if (fam == MG_SIM_PROXY_EXAM && (var == PE_FARM || var == PE_FARM_SHARED_PHONE)) {
        members = sim_int(&r, 3, 8);
      } else if (fam == MG_SIM_EXAM_BRUSH && (var == EB_CROSS_HARVEST || var == EB_ANSWER_RING)) {
        members = var == EB_CROSS_HARVEST ? sim_int(&r, 2, 4) : sim_int(&r, 3, 6);
        same_course = 1;
      }
      if (members > 1 || fam == MG_SIM_PROXY_STUDY || fam == MG_SIM_PROXY_EXAM) {
        grp = new_group(S, (uint8_t)fam, var, (int)e->course, sim_next(&r));
        if (grp < 0) return MG_ENOMEM;
        S->grp[grp].lead = (uint32_t)i;
      }
      /* recruit: the first account is i; the others are further accounts, same course first */
      size_t j = i;
      for (int m = 0; m < members && got < target; m++) {
        sim_enr *f = &S->e[j];
        if (m > 0) {
          size_t tries = 0, limit = same_course ? 20000 : 200;
          do {
            j = (j + 1 + (sim_next(&r) % 7)) % n;
            f = &S->e[j];
            tries++;
          } while (tries < n && (f->cohort == MG_SIM_ATTACKED || f->study_group >= 0 ||
                                 (tries < limit && f->course != e->course)));
          if (tries >= n || (same_course && f->course != e->course)) break;
        }
        if (f->n_mis >= 2) break;
        sim_mis *ms = &f->mis[f->n_mis++];
        ms->family = (uint8_t)fam;
        ms->variant = var;
        ms->group = grp;
        ms->rank = m;
        f->cohort = MG_SIM_ATTACKED;
        /* an anti-detect browser profile per account; a farm laptop per exam */
        if ((fam == MG_SIM_BRUSH_OPERATOR && var == BO_RESIDENTIAL_PROXY) ||
            (fam == MG_SIM_PROXY_EXAM && var == PE_FARM_SHARED_PHONE))
          f->extra_dev = mg_sim_device_new(S, DEV_LAPTOP, sim_next(&r));
        got++;
        if (grp >= 0) S->grp[grp].members = m + 1;
      }
    }
  }
  /* the public view */
  for (size_t i = 0; i < n; i++) {
    sim_rng r = sim_rng_at(cfg->seed, 0x4E6, i);
    uint64_t a = sim_next(&r), b = sim_next(&r);
    char id[40];
    uint8_t u[16];
    for (int k = 0; k < 8; k++) u[k] = (uint8_t)(a >> (8 * k)), u[8 + k] = (uint8_t)(b >> (8 * k));
    u[6] = (uint8_t)((u[6] & 0x0f) | 0x50); /* like a v5 of the platform's enrolment id */
    u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);
    snprintf(id, sizeof id, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13],
             u[14], u[15]);
    S->enrol[i].registration = wstr(S, "%s", id);
    S->enrol[i].student = (int)S->e[i].student;
    S->enrol[i].course = (int)S->e[i].course;
  }
  return S->oom ? MG_ENOMEM : MG_OK;
}

static const char *prefix_str(sim *S, uint32_t a, int len) {
  return wstr(S, "%u.%u.%u.%u/%d", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255, len);
}

/* The address plan in world.json: who owns each range any client address comes from. North
 * China's fixed lines are mostly China Unicom's, the south's China Telecom's. */
static int build_networks(sim *S) {
  size_t cap = (size_t)mg_sim_n_cities * 2 + (size_t)S->cfg.universities + N_DC;
  S->net = walloc(S, sizeof *S->net * cap);
  if (!S->net) return MG_ENOMEM;
  size_t n = 0;
  for (int c = 0; c < mg_sim_n_cities; c++) {
    const sim_city *ct = &mg_sim_cities[c];
    int unicom = !strcmp(ct->province, "北京") || !strcmp(ct->province, "山东") || !strcmp(ct->province, "河南") ||
                 !strcmp(ct->province, "黑龙江");
    S->net[n++] = (mg_sim_network){prefix_str(S, ct->broadband, 16), unicom ? 4837u : 4134u,
                                   unicom ? "China Unicom (中国联通)" : "China Telecom (中国电信)", "residential", ct->name};
    S->net[n++] = (mg_sim_network){prefix_str(S, ct->mobile, 16), 9808u, "China Mobile (中国移动)", "mobile", ct->name};
  }
  for (int u = 0; u < S->cfg.universities; u++)
    S->net[n++] = (mg_sim_network){prefix_str(S, S->univi[u].nat_ip & 0xffffff00u, 24), 4538u,
                                   "CERNET (中国教育和科研计算机网)", "cernet", mg_sim_cities[S->univi[u].city].name};
  for (int i = 0; i < N_DC; i++)
    S->net[n++] = (mg_sim_network){prefix_str(S, k_dc[i].base, k_dc[i].len), k_dc[i].asn, k_dc[i].org,
                                   k_dc[i].kind == NET_CLOUD ? "cloud" : "vpn", ""};
  S->n_net = n;
  S->w.networks = S->net;
  S->w.n_networks = n;
  return S->oom ? MG_ENOMEM : MG_OK;
}

int mg_sim_world_build(sim *S) {
  const mg_sim_config *cfg = &S->cfg;
  mg_arena_init(&S->warena, 1 << 20, 0);
  int nu = cfg->universities, np = cfg->platforms;
  S->univ = walloc(S, sizeof *S->univ * (size_t)nu);
  S->univi = walloc(S, sizeof *S->univi * (size_t)nu);
  S->plat = walloc(S, sizeof *S->plat * (size_t)np);
  if (S->oom) return MG_ENOMEM;
  for (int i = 0; i < nu; i++) {
    int k = i % N_UNIV_NAMES, run = i / N_UNIV_NAMES;
    mg_sim_university *u = &S->univ[i];
    int city = 0;
    for (int c = 0; c < mg_sim_n_cities; c++)
      if (!strcmp(mg_sim_cities[c].name, k_univ[k].city)) city = c;
    u->code = wstr(S, "u%05d", 10100 + i * 37 % 9000);
    u->name = run ? wstr(S, "%s（第%d校区）", k_univ[k].name, run + 1) : k_univ[k].name;
    u->city = mg_sim_cities[city].name;
    u->province = mg_sim_cities[city].province;
    u->home_page = run ? wstr(S, "https://ids.%s%d.edu.cn", k_univ[k].slug, run + 1)
                       : wstr(S, "https://ids.%s.edu.cn", k_univ[k].slug);
    /* the campus egress: one address for thousands behind the NAT (CERNET ranges) */
    S->univi[i].city = city;
    S->univi[i].nat_ip = IP4(202, 112 + (i % 100)) | (uint32_t)(10 + i % 200) << 8 | 1;
    char ip[20];
    uint32_t a = S->univi[i].nat_ip;
    snprintf(ip, sizeof ip, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
    u->nat_ip = wstr(S, "%s", ip);
  }
  for (int i = 0; i < np; i++) {
    int k = i % N_PLAT_NAMES, run = i / N_PLAT_NAMES;
    mg_sim_platform *p = &S->plat[i];
    p->code = run ? wstr(S, "%s-%d", k_plat[k].code, run + 1) : k_plat[k].code;
    p->name = k_plat[k].name;
    p->home = run ? wstr(S, "%s/p%d", k_plat[k].host, run + 1) : k_plat[k].host;
    p->max_speed = k_plat[k].cap;
    p->heartbeat_s = k_plat[k].hb;
    p->completion_threshold = k_plat[k].threshold;
  }
  S->w.universities = S->univ;
  S->w.n_universities = (size_t)nu;
  S->w.platforms = S->plat;
  S->w.n_platforms = (size_t)np;
  int rc = build_courses(S);
  if (rc) return rc;
  /* students and their own devices */
  size_t ns = (size_t)cfg->students;
  S->stud = calloc(ns, sizeof *S->stud);
  S->studi = calloc(ns, sizeof *S->studi);
  if (!S->stud || !S->studi) return MG_ENOMEM;
  /* student numbers are rendered on demand would save memory; names are short, keep them */
  for (size_t s = 0; s < ns; s++) {
    sim_rng r = sim_rng_at(cfg->seed, 0x57, s);
    int u = (int)(sim_next(&r) % (uint64_t)nu);
    S->stud[s].university = u;
    S->stud[s].name = wstr(S, "20%02d%03d%05zu", 21 + (int)(sim_next(&r) % 4), 100 + u, s);
    sim_student_int *si = &S->studi[s];
    si->ability = (float)sim_normal(&r);
    si->home_city = sim_chance(&r, 0.6) ? S->univi[u].city : sim_int(&r, 0, mg_sim_n_cities - 1);
    si->home_ip = mg_sim_cities[si->home_city].broadband | (uint32_t)sim_int(&r, 256, 65000);
    si->laptop = mg_sim_device_new(S, DEV_LAPTOP, sim_next(&r));
    si->phone = mg_sim_device_new(S, DEV_PHONE, sim_next(&r));
    if (S->oom) return MG_ENOMEM;
    /* habits that make honest students look like tools or impostors now and then */
    sim_rng hr = sim_rng_at(cfg->seed, 0x4AB, s);
    if (sim_chance(&hr, 0.15)) si->habits |= HB_RARE_PAUSE;
    if (sim_chance(&hr, 0.06)) si->habits |= HB_NIGHT_OWL;
    if (sim_chance(&hr, 0.03)) si->habits |= HB_VPN;
    if (sim_chance(&hr, 0.08)) si->habits |= HB_HOTSPOT;
    if (sim_chance(&hr, 0.05)) si->habits |= HB_TRAVELLER;
  }
  /* dorm mates: the previous student of the same university (students are spread over
   * universities at random, so this pairs strangers only in name) */
  {
    uint32_t *last = calloc((size_t)nu, sizeof *last);
    if (!last) return MG_ENOMEM;
    for (size_t s = 0; s < ns; s++) {
      int u = S->stud[s].university;
      S->studi[s].roommate = last[u] ? last[u] - 1 : (uint32_t)s;
      last[u] = (uint32_t)s + 1;
    }
    free(last);
  }
  S->w.courses = S->course;
  S->w.n_courses = (size_t)cfg->courses;
  S->w.students = S->stud;
  S->w.n_students = ns;
  rc = build_enrolments(S);
  if (rc) return rc;
  S->w.enrolments = S->enrol;
  S->w.n_enrolments = S->n_enr;
  S->w.term_start_us = cfg->term_start_us;
  if ((rc = build_networks(S))) return rc;
  S->days = cfg->weeks * 7 + 7; /* grading and late syncs run into the week after */
  S->w.term_end_us = cfg->term_start_us + (int64_t)S->days * SIM_DAY_US;
  return S->oom ? MG_ENOMEM : MG_OK;
}

void mg_sim_world_free(sim *S) {
  mg_arena_free(&S->warena);
  free(S->stud);
  free(S->studi);
  free(S->e);
  free(S->enrol);
  free(S->dev);
  free(S->grp);
}

int mg_sim_bank_crawl(const mg_sim_world *w, uint64_t seed, double known, mg_sim_bank_fn fn, void *ud) {
  static const char *const sources[] = {"sim-bank-site", "sim-bank-app"};
  for (size_t c = 0; c < w->n_courses; c++) {
    const mg_sim_course *co = &w->courses[c];
    for (size_t i = 0; i < co->n_items; i++) {
      const mg_sim_item *it = &co->items[i];
      if (!it->in_public_bank || !it->bank_answer || !it->bank_answer[0]) continue;
      sim_rng r = sim_rng_at(seed, 0xBA4C, ((uint64_t)c << 20) ^ i);
      if (!sim_chance(&r, known)) continue;
      int rc = fn(ud, it->iri, it->bank_answer, sources[sim_int(&r, 0, 1)]);
      if (rc) return rc;
    }
  }
  return MG_OK;
}
