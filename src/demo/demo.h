/* demo/demo.h — a believable world for `moocguard demo` (issues #2, #3).
 *
 * mg_demo_build fills an empty store: the simulator's world (sim.h) becomes the registry
 * (regulators, universities, platforms with list status, courses in several review states,
 * offerings with exams, rosters with pledges), the simulated term's statements go through the
 * real ingest path (xapi/ingest.h) with one credential per platform and through the detectors
 * (findings), and then people act: exams are supervised and finalised, findings reach the
 * universities' inboxes, cases are opened and decided (open, investigating, dismissed, verified
 * with sanctions, appealed), credit decisions are taken and the regulator's report is issued.
 * It creates one account per role with a random password (TOTP enrolled for the roles that need
 * a second factor) and returns them once in the summary; only argon2id hashes are stored.
 *
 * The logins file (mg_demo_logins_write/read) is how a later `demo --keep` prints them again. */
#ifndef MG_DEMO_DEMO_H
#define MG_DEMO_DEMO_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

typedef struct mg_demo_options {
  uint64_t seed;          /* simulator seed (same seed: same world and statements) */
  int students;           /* 20..200000 */
  int weeks;              /* simulated term length, 4..30 */
  const char *base_url;   /* for the authority of stored statements */
  const char *hash_cost;  /* argon2id cost for the demo accounts: "moderate" / "interactive" */
  int64_t appeal_window_s; /* seconds, as the server's setting appeal-window */
  int quiet;              /* no progress on stderr */
} mg_demo_options;

void mg_demo_options_default(mg_demo_options *o);

#define MG_DEMO_MAX_LOGINS 16
#define MG_DEMO_MAX_CREDS 12

typedef struct mg_demo_login {
  char role[24];
  char username[64];
  char password[64];
  char display_name[128];
  char totp_b32[40];      /* "" for roles without a second factor */
} mg_demo_login;

typedef struct mg_demo_credential {
  char platform_code[64];
  char platform_name[128];
  char key[64];
  char secret[64];
} mg_demo_credential;

typedef struct mg_demo_summary {
  /* registry */
  int64_t provinces, regulators, universities;
  int64_t platforms_white, platforms_pending, platforms_black;
  int64_t courses_approved, courses_rejected, courses_stale;
  int64_t offerings, exams, students, enrolments, pledges_signed, pledges_unsigned;
  int64_t results_final, results_provisional;
  /* term */
  int64_t statements, attacked_enrolments;
  char term[32];
  /* detection and workflow */
  int64_t findings, inbox_items;
  int64_t cases_open, cases_investigating, cases_dismissed, cases_verified, cases_appealed,
      cases_appeal_rejected;
  int64_t sanctions, credit_eligible, credit_refused, report_id;
  double seconds;
  /* who can do what */
  mg_demo_login logins[MG_DEMO_MAX_LOGINS];
  size_t n_logins;
  mg_demo_credential creds[MG_DEMO_MAX_CREDS];
  size_t n_creds;
  char sample_registration[40]; /* an enrolment with statements, for the curl examples */
} mg_demo_summary;

/* Builds the world into store s (freshly created, nothing in it). The key directory of the store
 * must be loaded (crypto/keyring.h). On failure returns a negative MG_E* code and writes what
 * failed into err. */
int mg_demo_build(mg_store *s, const mg_demo_options *o, mg_demo_summary *out, char *err,
                  size_t errsize);

/* Writes the logins and credentials to path, creating it with mode 0600 (replacing any file). */
int mg_demo_logins_write(const char *path, const mg_demo_summary *sum);
/* Reads them back (counts are not kept). MG_ENOTFOUND if the file is absent, MG_EINVAL if
 * malformed, MG_EFORBIDDEN if its mode lets others read it. */
int mg_demo_logins_read(const char *path, mg_demo_summary *sum);

#endif
