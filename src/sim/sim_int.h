/* sim/sim_int.h — private to src/sim: random numbers, the internal world, event records.
 *
 * Behaviour code (behave.c) turns each enrolment's day into compact event records; sim.c sorts a
 * day's records by the platforms' receive time and render.c turns each into statement JSON just
 * before it is handed to the sink, so the term is never held in memory as text. */
#ifndef MG_SIM_SIM_INT_H
#define MG_SIM_SIM_INT_H

#include <math.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"
#include "sim/sim.h"
#include "xapi/profile.h"

/* ---- deterministic randomness ---------------------------------------------------------------- */
static inline uint64_t sim_mix(uint64_t x) { /* splitmix64 finaliser */
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}
static inline uint64_t sim_hash(uint64_t a, uint64_t b, uint64_t c) {
  return sim_mix(a ^ sim_mix(b * 0x100000001b3ULL ^ sim_mix(c + 0x51ed27ULL)));
}
typedef struct sim_rng {
  uint64_t s;
} sim_rng;
static inline sim_rng sim_rng_at(uint64_t a, uint64_t b, uint64_t c) {
  sim_rng r = {sim_hash(a, b, c)};
  return r;
}
static inline uint64_t sim_next(sim_rng *r) {
  r->s += 0x9e3779b97f4a7c15ULL;
  uint64_t x = r->s;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}
static inline double sim_u(sim_rng *r) { return (double)(sim_next(r) >> 11) * 0x1.0p-53; }
static inline double sim_range(sim_rng *r, double a, double b) { return a + (b - a) * sim_u(r); }
static inline int sim_int(sim_rng *r, int lo, int hi) { /* inclusive */
  return lo + (int)(sim_next(r) % (uint64_t)(hi - lo + 1));
}
static inline int sim_chance(sim_rng *r, double p) { return sim_u(r) < p; }
static inline double sim_normal(sim_rng *r) {
  double u1 = sim_u(r), u2 = sim_u(r);
  if (u1 < 1e-300) u1 = 1e-300;
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}
static inline double sim_lognormal(sim_rng *r, double median, double sigma) {
  return median * exp(sigma * sim_normal(r));
}
static inline double sim_exp(sim_rng *r, double mean) { return -mean * log(1.0 - sim_u(r)); }

#define SIM_US 1000000LL
#define SIM_DAY_US (86400LL * SIM_US)
#define SIM_TZ_US (8LL * 3600 * SIM_US) /* all clients and platforms run on Beijing time */

/* ---- devices and networks -------------------------------------------------------------------- */
enum { DEV_LAPTOP, DEV_PHONE, DEV_TABLET, DEV_HEADLESS };

typedef struct sim_device {
  uint64_t raw;    /* raw install id; device-id = hash of platform code + raw */
  uint16_t ua;     /* index into the user-agent table */
  uint8_t kind;
  int32_t skew_ms; /* client clock minus true time */
} sim_device;

typedef struct sim_city {
  const char *name;
  const char *province;
  uint32_t broadband; /* a /16 of residential broadband in the city (host order) */
  uint32_t mobile;    /* a /16 of the mobile carrier's pool in the city */
} sim_city;

/* ---- the internal world ---------------------------------------------------------------------- */
typedef struct sim_course_int {
  int first_item_exam; /* index of the first exam item */
  int chapter_first_video[32];
  int chapter_videos[32];
  int64_t chapter_due_us[32];
  int n_topics;        /* discussion topics */
} sim_course_int;

typedef struct sim_univ_int {
  int city;
  uint32_t nat_ip;
} sim_univ_int;

typedef struct sim_student_int {
  int home_city;   /* where the student is when not on campus */
  float ability;   /* N(0,1) */
  uint32_t laptop; /* device indices */
  uint32_t phone;
  uint32_t home_ip;
  uint32_t roommate; /* a student of the same university whose laptop is sometimes borrowed */
  uint8_t habits;    /* HB_* bits: look-alike habits of plain honest students */
} sim_student_int;

enum { HB_RARE_PAUSE = 1, HB_NIGHT_OWL = 2, HB_VPN = 4, HB_HOTSPOT = 8, HB_TRAVELLER = 16 };

/* A misconduct scheme shared by several enrolments (operator, worker, exam farm). */
typedef struct sim_group {
  uint8_t family;
  uint8_t variant;
  uint32_t device;   /* the shared device */
  uint32_t device2;
  uint32_t ip;       /* datacenter or worker address */
  int city;
  int members;
  int course;
  uint32_t lead;     /* enrolment of rank 0 (the harvesting account, the ring's source) */
  char id[24];       /* operator id as labelled */
} sim_group;

/* Variants per family (names in world.c, k_variants; docs/simulator.md describes each). */
enum { BF_RATE_FORGE, BF_INSTANT, BF_SPEED_HACK, BF_PARALLEL, BF_OVERCAP, BF_TAIL_JUMP, BF_BACKDATED, BF_PARTIAL,
       BF_N };
enum { BB_JITTER_UNIFORM, BB_CRON, BB_THRESHOLD, BB_AUTO_RESUME, BB_JITTER_LOGNORMAL, BB_POISSON, BB_HUMANIZED,
       BB_NATIVE_NIGHT, BB_N };
enum { BO_LOCKSTEP, BO_QUEUE, BO_CLOUD_FARM, BO_RANDOM_DELAY, BO_RESIDENTIAL_PROXY, BO_PHONE_FARM, BO_VPN_EXIT,
       BO_HOME_STUDIO, BO_N };
enum { PS_WORKER_DEVICE, PS_FACE_RELAY, PS_SHARED_WORKER, PS_REMOTE_DESKTOP, PS_CLASSMATE, PS_CITY_SPOOF, PS_OFFICE,
       PS_LIVENESS_SPOOF, PS_N };
enum { EB_SCRIPT, EB_BANK, EB_HARVEST, EB_BANK_ERRORS, EB_CROSS_HARVEST, EB_ANSWER_RING, EB_OCR_SEARCH, EB_N };
enum { PE_NOVEL_DEVICE, PE_FARM, PE_MISSING_CAMERA, PE_REMOTE_DESKTOP, PE_VIRTUAL_CAMERA, PE_FARM_SHARED_PHONE,
       PE_HOME_STAND_IN, PE_N };

typedef struct sim_mis {
  uint8_t family;
  uint8_t variant;
  int32_t group;     /* sim_group index or -1 */
  int32_t rank;      /* position in the group */
  uint64_t dec_nonce;
  int64_t dec_us;
} sim_mis;

/* Per-enrolment state carried from day to day. */
typedef struct sim_enr {
  uint32_t student;
  uint32_t course;
  uint8_t cohort;
  uint8_t n_mis;
  uint8_t exam_done;
  uint8_t dropped;
  sim_mis mis[2];
  int32_t study_group; /* -1 or group key */
  uint16_t vnext;      /* next video to complete */
  uint16_t quizzes;    /* chapters whose quiz is submitted */
  uint16_t docs;       /* chapters whose reading is done */
  float vpos, vcov, vplayed; /* position, covered and played seconds in video vnext */
  uint32_t counter;    /* statements created (nonce source) */
  uint64_t emitted;
  uint32_t extra_dev;  /* second own device (multidevice) or UINT32_MAX */
  uint32_t seg_from;   /* start of the played segment in progress (ms) */
} sim_enr;

/* One login session of one client: everything the client context of a statement needs. */
typedef struct sim_client {
  uint32_t enrol;
  uint32_t device;
  uint32_t ip;
  uint8_t v6;
  uint8_t offline;
  uint64_t csid;
  int64_t late_us;     /* extra delay before the platform pushes this client's statements */
  int64_t sync_us;     /* offline clients: when the burst is received */
  uint8_t burst;       /* reports received in a burst at sync_us without the offline flag (forged) */
} sim_client;

/* One statement to be. f/i/s fields are per kind, see render.c. */
typedef struct sim_ev {
  int64_t ts;      /* client timestamp */
  int64_t recv;    /* received-at */
  int64_t key;     /* stream order */
  const sim_client *cl; /* NULL for platform-produced records */
  uint64_t nonce;  /* statement id */
  uint64_t ref;    /* video session / attempt / face check / post */
  uint32_t enrol;
  uint32_t seq;
  uint8_t kind;    /* mg_xapi_kind */
  uint8_t sub;
  uint16_t flags;
  int32_t obj;
  int32_t i1, i2;
  float f[4];
  const char *s;
} sim_ev;

enum { /* sim_ev.flags */
  EVF_VISIBLE = 1,
  EVF_HIDDEN = 2,
  EVF_SUCCESS = 4,
  EVF_DUP = 8,
  EVF_PARENT_VIDEO = 16, /* face / popup parent is a video (obj2 = video) */
  EVF_PARENT_EXAM = 32,
  EVF_FULLSCREEN = 64,
  EVF_QUALITY_LOW = 128,
  EVF_LATE_SEQ = 256
};
enum { AK_POPUP, AK_QUIZ, AK_HOMEWORK, AK_EXAM };
enum { LM_PASSWORD, LM_SMS, LM_QR, LM_SSO, LM_TOKEN, LM_FACE };
enum { FP_STUDY_START, FP_STUDY_RANDOM, FP_EXAM_START, FP_EXAM_RANDOM, FP_EXAM_END };
enum { FF_MISMATCH, FF_NO_FACE, FF_MULTIPLE, FF_LIVENESS, FF_TIMEOUT, FF_CANCELLED };

typedef struct sim {
  mg_sim_config cfg;
  mg_arena warena; /* the world's strings and tables */
  mg_sim_world w;
  mg_sim_university *univ;
  mg_sim_platform *plat;
  mg_sim_course *course;
  mg_sim_student *stud;
  mg_sim_enrolment *enrol;
  sim_univ_int *univi;
  sim_course_int *coursei;
  sim_student_int *studi;
  sim_enr *e;
  size_t n_enr;
  sim_device *dev;
  size_t n_dev, cap_dev;
  sim_group *grp;
  size_t n_grp;
  mg_sim_network *net;
  size_t n_net;
  int days;
  int64_t exam_window_us;
  /* the day being generated */
  mg_arena day_arena[4];
  int day;
  sim_ev *ev;
  size_t n_ev, cap_ev;
  int oom;
} sim;

extern const sim_city mg_sim_cities[];
extern const int mg_sim_n_cities;
extern const char *const mg_sim_user_agents[];
extern const int mg_sim_n_user_agents;

/* world.c: the address plan */
enum { NET_CLOUD, NET_VPN };
uint32_t mg_sim_pick_ip(sim_rng *r, int kind); /* a host address in a cloud or VPN range */
/* world.c */
int mg_sim_world_build(sim *S);
void mg_sim_world_free(sim *S);
uint32_t mg_sim_device_new(sim *S, uint8_t kind, uint64_t h);
/* behave.c: appends the records of enrolment e's activity that starts on S->day. */
void mg_sim_behave_day(sim *S, uint32_t e);
/* render.c */
int mg_sim_render(const sim *S, const sim_ev *ev, mg_buf *out);
void mg_sim_uuid(uint64_t seed, uint64_t nonce, char out[40]);
void mg_sim_format_ts(int64_t us, char out[40]);

#endif
