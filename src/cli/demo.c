/* `moocguard demo`: a generated, believable world (demo/demo.h) in DIR/moocguard.db, served on
 * 127.0.0.1, with a banner saying where to log in. The accounts' random passwords are printed
 * once and kept in DIR/logins.txt (0600) so that `--keep` can print them again. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/log.h"
#include "crypto/keyring.h"
#include "demo/demo.h"
#include "store/store.h"

static void usage(FILE *out) {
  fprintf(out,
          "usage: moocguard demo [--dir DIR] [--students N] [--seed N] [--weeks N] [--keep]\n"
          "                      [--prepare-only] [--json] [--quiet] [--port N] [--bind ADDR]\n"
          "                      [other settings of `moocguard serve --help`]\n\n"
          "Generates a demo world in DIR (default ./demo-data) and serves it on 127.0.0.1 until\n"
          "Ctrl-C: regulators, universities, platforms (whitelisted, pending, blacklisted), courses\n"
          "(approved, rejected, stale), offerings with exams, rosters with pledges, a simulated\n"
          "term of xAPI statements stored through the LRS ingest path and checked by the\n"
          "detectors, cases (open, investigating, dismissed, verified, appealed), credit\n"
          "decisions and a regulator report. One account per role gets a random password (and a\n"
          "TOTP secret where the role needs one); they are printed once and written to\n"
          "DIR/logins.txt (mode 0600). See docs/demo.md.\n\n"
          "  --dir DIR        where the store, its keys and logins.txt live\n"
          "  --students N     simulated students, 20..200000 (default 2000: about 3,000\n"
          "                   enrolments and 430,000 statements; about a minute on 2 cores)\n"
          "  --seed N         simulator seed (default 1)\n"
          "  --weeks N        term length in weeks, 4..30 (default 6)\n"
          "  --keep           reuse DIR's demo store and logins instead of generating anew\n"
          "  --prepare-only   generate (or --keep) and exit without serving\n"
          "  --json           print the summary (counts, accounts, credentials) as JSON\n"
          "  --quiet          no progress on stderr\n\n"
          "Exit codes: 0 ok, 1 failure, 2 usage.\n");
}

static int parse_int(const char *text, long long lo, long long hi, long long *out) {
  char *end;
  errno = 0;
  long long v = strtoll(text, &end, 10);
  if (!*text || *end || errno || v < lo || v > hi) return MG_EINVAL;
  *out = v;
  return MG_OK;
}

static int exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

/* Removes a previous demo store (the database and SQLite's side files). */
static void remove_store(const char *db) {
  static const char *const suffixes[] = {"", "-wal", "-shm", "-mgwriter"};
  for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
    char p[700];
    snprintf(p, sizeof p, "%s%s", db, suffixes[i]);
    unlink(p);
  }
}

static void json_str(mg_buf *b, const char *s) {
  mg_buf_addc(b, '"');
  mg_buf_add_json_str(b, s, strlen(s));
  mg_buf_addc(b, '"');
}

static void print_json(const mg_demo_summary *m, const char *url, const char *dir, int built) {
  mg_buf b;
  mg_buf_init(&b, 1 << 20);
  mg_buf_addf(&b, "{\"url\":");
  json_str(&b, url);
  mg_buf_adds(&b, ",\"dir\":");
  json_str(&b, dir);
  mg_buf_addf(&b, ",\"generated\":%s", built ? "true" : "false");
  if (built)
    mg_buf_addf(&b,
                ",\"seconds\":%.1f,\"term\":\"%s\",\"world\":{\"provinces\":%lld,\"regulators\":%lld,"
                "\"universities\":%lld,\"platforms\":{\"whitelist\":%lld,\"pending\":%lld,"
                "\"blacklist\":%lld},\"courses\":{\"approved\":%lld,\"rejected\":%lld,"
                "\"stale\":%lld},\"offerings\":%lld,\"exams\":%lld,\"students\":%lld,"
                "\"enrolments\":%lld,\"pledges_signed\":%lld,\"pledges_unsigned\":%lld,"
                "\"results_final\":%lld,\"results_provisional\":%lld,\"statements\":%lld,"
                "\"attacked_enrolments\":%lld,\"findings\":%lld,\"inbox_items\":%lld,"
                "\"cases\":{\"open\":%lld,\"investigating\":%lld,\"dismissed\":%lld,"
                "\"verified\":%lld,\"appealed\":%lld,\"appeal_rejected\":%lld},\"sanctions\":%lld,"
                "\"credit\":{\"eligible\":%lld,\"refused\":%lld},\"report_id\":%lld}",
                m->seconds, m->term, (long long)m->provinces, (long long)m->regulators,
                (long long)m->universities, (long long)m->platforms_white,
                (long long)m->platforms_pending, (long long)m->platforms_black,
                (long long)m->courses_approved, (long long)m->courses_rejected,
                (long long)m->courses_stale, (long long)m->offerings, (long long)m->exams,
                (long long)m->students, (long long)m->enrolments, (long long)m->pledges_signed,
                (long long)m->pledges_unsigned, (long long)m->results_final,
                (long long)m->results_provisional, (long long)m->statements,
                (long long)m->attacked_enrolments, (long long)m->findings,
                (long long)m->inbox_items, (long long)m->cases_open,
                (long long)m->cases_investigating, (long long)m->cases_dismissed,
                (long long)m->cases_verified, (long long)m->cases_appealed,
                (long long)m->cases_appeal_rejected, (long long)m->sanctions,
                (long long)m->credit_eligible, (long long)m->credit_refused,
                (long long)m->report_id);
  mg_buf_adds(&b, ",\"logins\":[");
  for (size_t i = 0; i < m->n_logins; i++) {
    const mg_demo_login *L = &m->logins[i];
    mg_buf_addf(&b, "%s{\"role\":\"%s\",\"username\":", i ? "," : "", L->role);
    json_str(&b, L->username);
    mg_buf_adds(&b, ",\"password\":");
    json_str(&b, L->password);
    mg_buf_adds(&b, ",\"totp_secret\":");
    if (L->totp_b32[0]) json_str(&b, L->totp_b32);
    else mg_buf_adds(&b, "null");
    mg_buf_addc(&b, '}');
  }
  mg_buf_adds(&b, "],\"credentials\":[");
  for (size_t i = 0; i < m->n_creds; i++) {
    mg_buf_addf(&b, "%s{\"platform\":", i ? "," : "");
    json_str(&b, m->creds[i].platform_code);
    mg_buf_adds(&b, ",\"key\":");
    json_str(&b, m->creds[i].key);
    mg_buf_adds(&b, ",\"secret\":");
    json_str(&b, m->creds[i].secret);
    mg_buf_addc(&b, '}');
  }
  mg_buf_adds(&b, "],\"sample_registration\":");
  json_str(&b, m->sample_registration);
  mg_buf_adds(&b, "}\n");
  if (b.data) fputs(b.data, stdout);
  fflush(stdout);
  mg_buf_free(&b);
}

/* The banner: where to go, who to be, and two requests to try. */
static void banner(mg_buf *b, const mg_demo_summary *m, const char *url, const char *dir,
                   const char *logins, int built, int serving) {
  mg_buf_addf(b, "\n  moocguard demo %s\n\n", serving ? "is running / 演示系统已启动" : "is ready");
  if (built)
    mg_buf_addf(b,
                "  world     term %s: %lld universities in %lld provinces, %lld platforms "
                "(%lld whitelisted, %lld pending, %lld blacklisted),\n"
                "            %lld students, %lld enrolments, %lld statements, %lld findings, "
                "%lld cases, %lld credit decisions (built in %.0f s)\n\n",
                m->term, (long long)m->universities, (long long)m->provinces,
                (long long)(m->platforms_white + m->platforms_pending + m->platforms_black),
                (long long)m->platforms_white, (long long)m->platforms_pending,
                (long long)m->platforms_black, (long long)m->students, (long long)m->enrolments,
                (long long)m->statements, (long long)m->findings,
                (long long)(m->cases_open + m->cases_investigating + m->cases_dismissed +
                            m->cases_verified + m->cases_appealed + m->cases_appeal_rejected),
                (long long)(m->credit_eligible + m->credit_refused), m->seconds);
  mg_buf_addf(b, "  LRS       %s/xapi/        API  %s/api/v1/   (docs/api.md, docs/demo.md)\n",
              url, url);
  mg_buf_addf(b, "  store     %s/moocguard.db\n  logins    %s  (mode 0600; printed here once)\n\n",
              dir, logins);
  mg_buf_adds(b, "  accounts / 演示账户 (random passwords; TOTP = add the secret to an "
                 "authenticator app)\n");
  for (size_t i = 0; i < m->n_logins; i++) {
    const mg_demo_login *L = &m->logins[i];
    mg_buf_addf(b, "    %-18s %-20s %s%s%s\n", L->role, L->username, L->password,
                L->totp_b32[0] ? "  TOTP " : "", L->totp_b32);
  }
  if (m->n_creds) {
    const mg_demo_credential *c = &m->creds[0];
    mg_buf_addf(b, "\n  platform credential (%s): key %s  secret %s\n", c->platform_code, c->key,
                c->secret);
    mg_buf_addf(b, "  (%zu platforms have one each: see %s)\n\n", m->n_creds, logins);
    mg_buf_addf(b,
                "  try / 试一试:\n"
                "    curl -s %s/xapi/about\n"
                "    curl -s -u %s:%s -H 'X-Experience-API-Version: 2.0.0' \\\n"
                "         -H 'Content-Type: application/json' \\\n"
                "         --data-binary @docs/profile-examples/video-played.json %s/xapi/statements\n"
                "    curl -s -u %s:%s -H 'X-Experience-API-Version: 2.0.0' \\\n"
                "         '%s/xapi/statements?registration=%s&limit=3'\n",
                url, c->key, c->secret, url, c->key, c->secret, url, m->sample_registration);
  }
  for (size_t i = 0; i < m->n_logins; i++) {
    const mg_demo_login *L = &m->logins[i];
    if (strcmp(L->role, "resp_teacher")) continue;
    mg_buf_addf(b,
                "    curl -s -X POST %s/api/v1/auth/login -H 'Content-Type: application/json' \\\n"
                "         -d '{\"username\":\"%s\",\"password\":\"%s\",\"token_type\":\"bearer\"}'\n"
                "    (roles with TOTP add \"totp\":\"123456\", the code from the app)\n",
                url, L->username, L->password);
  }
  if (serving) mg_buf_adds(b, "\n  Ctrl-C stops it. `make demo` again regenerates; "
                              "`moocguard demo --keep` reuses this world.\n\n");
  else mg_buf_adds(b, "\n");
}

int mg_cli_demo(int argc, char **argv) {
  if (mg_cli_wants_help(argc, argv)) {
    usage(stdout);
    return MG_EXIT_OK;
  }
  mg_demo_options o;
  mg_demo_options_default(&o);
  const char *dir = "demo-data", *students = NULL, *seed = NULL, *weeks = NULL;
  int keep = mg_cli_take_flag(&argc, argv, "--keep");
  int prepare = mg_cli_take_flag(&argc, argv, "--prepare-only");
  int json = mg_cli_take_flag(&argc, argv, "--json");
  o.quiet = mg_cli_take_flag(&argc, argv, "--quiet");
  if (mg_cli_take_opt(&argc, argv, "--dir", &dir) < 0 ||
      mg_cli_take_opt(&argc, argv, "--students", &students) < 0 ||
      mg_cli_take_opt(&argc, argv, "--seed", &seed) < 0 ||
      mg_cli_take_opt(&argc, argv, "--weeks", &weeks) < 0) {
    fprintf(stderr, "moocguard demo: an option needs a value (see --help)\n");
    return MG_EXIT_USAGE;
  }
  long long v;
  if (students) {
    if (parse_int(students, 20, 200000, &v)) {
      fprintf(stderr, "moocguard demo: --students must be an integer from 20 to 200000\n");
      return MG_EXIT_USAGE;
    }
    o.students = (int)v;
  }
  if (seed) {
    if (parse_int(seed, 0, (long long)1 << 62, &v)) {
      fprintf(stderr, "moocguard demo: --seed must be a non-negative integer\n");
      return MG_EXIT_USAGE;
    }
    o.seed = (uint64_t)v;
  }
  if (weeks) {
    if (parse_int(weeks, 4, 30, &v)) {
      fprintf(stderr, "moocguard demo: --weeks must be an integer from 4 to 30\n");
      return MG_EXIT_USAGE;
    }
    o.weeks = (int)v;
  }
  if (!*dir) {
    fprintf(stderr, "moocguard demo: --dir must not be empty\n");
    return MG_EXIT_USAGE;
  }
  mg_config cfg;
  int code = mg_cli_load_config("demo", &cfg, argc, argv);
  if (code) return code;
  mg_log_level lvl;
  if (mg_log_parse_level(cfg.log_level, &lvl) == MG_OK) mg_log_set_level(lvl);
  if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
    fprintf(stderr, "moocguard demo: cannot create %s: %s\n", dir, strerror(errno));
    return MG_EXIT_FAIL;
  }
  char url[128], logins[600], keys[700];
  snprintf(url, sizeof url, "http://%s:%d", cfg.bind, cfg.port);
  if (strcmp(cfg.base_url, "") == 0 || strstr(cfg.base_url, "localhost") ||
      strstr(cfg.base_url, "127.0.0.1"))
    snprintf(cfg.base_url, sizeof cfg.base_url, "%s", url);
  o.base_url = cfg.base_url;
  if (cfg.appeal_window > 0) o.appeal_window_s = cfg.appeal_window;
  snprintf(cfg.store, sizeof cfg.store, "%s/moocguard.db", dir);
  snprintf(logins, sizeof logins, "%s/logins.txt", dir);

  mg_demo_summary *m = calloc(1, sizeof *m);
  if (!m) return MG_EXIT_FAIL;
  code = MG_EXIT_FAIL;
  int built = 0;
  if (keep && exists(cfg.store)) {
    int rc = mg_demo_logins_read(logins, m);
    if (rc) {
      fprintf(stderr, "moocguard demo: --keep: cannot read %s (%s); run without --keep to "
                      "generate a new world\n", logins,
              rc == MG_EFORBIDDEN ? "its mode lets others read it" : mg_strerror(rc));
      goto out;
    }
    if (!o.quiet) fprintf(stderr, "demo: reusing %s (--keep)\n", cfg.store);
  } else {
    if (keep && !o.quiet) fprintf(stderr, "demo: --keep: no store in %s yet, generating one\n", dir);
    remove_store(cfg.store);
    unlink(logins);
    int rc = mg_keyring_dir_for_store(cfg.store, keys, sizeof keys);
    if (!rc) rc = mg_keyring_init(keys, MG_KEYRING_CREATE);
    if (rc) {
      fprintf(stderr, "moocguard demo: key directory %s: %s\n", keys, mg_strerror(rc));
      goto out;
    }
    mg_store *s = NULL;
    rc = mg_store_open(cfg.store, &s, NULL);
    if (rc) {
      fprintf(stderr, "moocguard demo: cannot open %s: %s\n", cfg.store, mg_strerror(rc));
      goto out;
    }
    char err[600];
    rc = mg_demo_build(s, &o, m, err, sizeof err);
    mg_store_close(s);
    if (rc) {
      fprintf(stderr, "moocguard demo: generating the world failed: %s\n", err);
      goto out;
    }
    if ((rc = mg_demo_logins_write(logins, m))) {
      fprintf(stderr, "moocguard demo: cannot write %s: %s\n", logins, mg_strerror(rc));
      goto out;
    }
    built = 1;
  }
  if (json) print_json(m, url, dir, built);
  mg_buf b;
  mg_buf_init(&b, 1 << 20);
  banner(&b, m, url, dir, logins, built, !prepare);
  if (prepare) {
    if (!json && b.data) fputs(b.data, stdout);
    code = MG_EXIT_OK;
  } else {
    code = mg_cli_run_server(&cfg, json ? NULL : b.data);
  }
  mg_buf_free(&b);
out:
  free(m);
  return code;
}
