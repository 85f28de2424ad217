/* The one capability table. One row per granted (capability, role); absent means denied.
 * Sections per area; each area's helper fills its own section. Rules checked by
 * tests/auth/test_capability.c: no role holds capabilities of two of the three administrator
 * roles, administrators hold nothing outside the auth/system/audit areas (so no learning data),
 * and nobody can write or delete the audit log. */
#include "auth/capability.h"

#include <pthread.h>
#include <string.h>

#define R(cap, role, scope) {cap, MG_ROLE_##role, MG_SCOPE_##scope}
/* Capabilities every signed-in person has over their own account. */
#define SELF_ALL(cap)                                                                     \
  R(cap, REGULATOR, SELF), R(cap, UNIV_ADMIN, SELF), R(cap, RESP_TEACHER, SELF),         \
      R(cap, LEAD_TEACHER, SELF), R(cap, STUDENT, SELF), R(cap, PLATFORM_OPERATOR, SELF), \
      R(cap, SYS_ADMIN, SELF), R(cap, SEC_ADMIN, SELF), R(cap, AUDIT_ADMIN, SELF)

static const mg_auth_cap_row k_table[] = {
    /* ---- auth: one's own session and credentials ------------------------------------- */
    SELF_ALL("auth.session"),         /* GET /auth/me, POST /auth/logout */
    SELF_ALL("auth.password.change"), /* POST /auth/password */
    SELF_ALL("auth.totp.enrol"),      /* POST /auth/totp/enrol, /auth/totp/verify */

    /* ---- admin: accounts and roles (security administrator only) --------------------- */
    R("user.create", SEC_ADMIN, ALL),
    R("user.list", SEC_ADMIN, ALL),
    R("user.disable", SEC_ADMIN, ALL),
    R("user.reset_password", SEC_ADMIN, ALL),
    R("user.unlock", SEC_ADMIN, ALL),
    R("role.assign", SEC_ADMIN, ALL),

    /* ---- admin: running the system (system administrator only) ----------------------- */
    R("system.config.read", SYS_ADMIN, ALL),
    R("system.status", SYS_ADMIN, ALL),

    /* ---- admin: the audit log (audit administrator only; nobody writes or deletes) --- */
    R("audit.read", AUDIT_ADMIN, ALL),
    R("audit.verify", AUDIT_ADMIN, ALL),
    R("audit.export", AUDIT_ADMIN, ALL),

    /* ---- registry (organisations, platforms, courses, offerings) --------------------- */
    /* Regulators hold province scope; one without a province is the ministry and the
     * registry handlers widen it to national (api/registry_api.c). The directory (orgs,
     * platforms, course catalogue, pledge text) is readable by every non-administrator. */
    R("org.read", REGULATOR, ALL), R("org.read", UNIV_ADMIN, ALL), R("org.read", RESP_TEACHER, ALL),
    R("org.read", LEAD_TEACHER, ALL), R("org.read", STUDENT, ALL),
    R("org.read", PLATFORM_OPERATOR, ALL),
    R("org.create", REGULATOR, PROVINCE),
    R("org.update", REGULATOR, PROVINCE),
    R("platform.read", REGULATOR, ALL), R("platform.read", UNIV_ADMIN, ALL),
    R("platform.read", RESP_TEACHER, ALL), R("platform.read", LEAD_TEACHER, ALL),
    R("platform.read", STUDENT, ALL), R("platform.read", PLATFORM_OPERATOR, ALL),
    R("platform.create", REGULATOR, PROVINCE),
    R("platform.file", REGULATOR, PROVINCE), R("platform.file", PLATFORM_OPERATOR, ORG),
    R("platform.set_status", REGULATOR, PROVINCE),
    R("platform.switch", REGULATOR, PROVINCE),
    R("platform.credential", REGULATOR, PROVINCE), R("platform.credential", PLATFORM_OPERATOR, ORG),
    R("course.read", REGULATOR, ALL), R("course.read", UNIV_ADMIN, ALL),
    R("course.read", RESP_TEACHER, ALL), R("course.read", LEAD_TEACHER, ALL),
    R("course.read", STUDENT, ALL), R("course.read", PLATFORM_OPERATOR, ALL),
    R("course.recommend", UNIV_ADMIN, ORG),
    R("course.submit", PLATFORM_OPERATOR, ORG),
    R("course.review", PLATFORM_OPERATOR, ORG),
    R("course.publish", PLATFORM_OPERATOR, ORG),
    R("course.update", PLATFORM_OPERATOR, ORG),
    R("offering.read", REGULATOR, PROVINCE), R("offering.read", UNIV_ADMIN, ORG),
    R("offering.read", RESP_TEACHER, ORG), R("offering.read", PLATFORM_OPERATOR, ORG),
    R("offering.create", UNIV_ADMIN, ORG),
    R("roster.import", UNIV_ADMIN, ORG),
    R("roster.read", REGULATOR, PROVINCE), R("roster.read", UNIV_ADMIN, ORG),
    R("roster.read", RESP_TEACHER, ORG), R("roster.read", PLATFORM_OPERATOR, ORG),
    R("roster.read", STUDENT, SELF),
    R("pledge.read", REGULATOR, ALL), R("pledge.read", UNIV_ADMIN, ALL),
    R("pledge.read", RESP_TEACHER, ALL), R("pledge.read", LEAD_TEACHER, ALL),
    R("pledge.read", STUDENT, ALL), R("pledge.read", PLATFORM_OPERATOR, ALL),
    R("pledge.publish", REGULATOR, PROVINCE),
    R("pledge.sign", STUDENT, SELF),
    R("exam.read", REGULATOR, PROVINCE), R("exam.read", UNIV_ADMIN, ORG),
    R("exam.read", RESP_TEACHER, ORG), R("exam.read", PLATFORM_OPERATOR, ORG),
    R("exam.plan", UNIV_ADMIN, ORG), R("exam.plan", RESP_TEACHER, ORG),
    R("exam.submit", PLATFORM_OPERATOR, ORG),
    R("exam.supervise", UNIV_ADMIN, ORG), R("exam.supervise", RESP_TEACHER, ORG),
    R("exam.finalise", UNIV_ADMIN, ORG), R("exam.finalise", RESP_TEACHER, ORG),

    /* ---- findings (integrity detection results) -------------------------------------- */
    /* Evidence for a person to judge: the university (its administrators and responsible
     * teachers) for its students, a platform for what it reported, regulators by province
     * (the ministry nationally; student numbers, addresses and devices masked). Students see
     * none: a case opened by their university shows them its evidence (cases.read). */
    R("findings.read", REGULATOR, PROVINCE), R("findings.read", UNIV_ADMIN, ORG),
    R("findings.read", RESP_TEACHER, ORG), R("findings.read", PLATFORM_OPERATOR, ORG),
    R("findings.evidence", REGULATOR, PROVINCE), R("findings.evidence", UNIV_ADMIN, ORG),
    R("findings.evidence", RESP_TEACHER, ORG), R("findings.evidence", PLATFORM_OPERATOR, ORG),

    /* ---- known answer banks (the centre's crawl of public answer-bank sites) -------------- */
    /* Regulators keep it (national data: the same item circulates everywhere); the detectors
     * read it from the store, so no other role needs it. */
    R("banks.read", REGULATOR, ALL), R("banks.write", REGULATOR, ALL),

    /* ---- cases (investigation and appeal workflow) ----------------------------------- */
    /* The university decides (cl. 10); the regulator reads and refers; students see, answer
     * and appeal their own cases; teachers and platforms report into the inbox (cl. 14). */
    R("cases.inbox.read", REGULATOR, PROVINCE),
    R("cases.inbox.read", UNIV_ADMIN, ORG),
    R("cases.inbox.read", RESP_TEACHER, ORG),
    R("cases.report", RESP_TEACHER, ORG),
    R("cases.report", LEAD_TEACHER, ORG),
    R("cases.report", PLATFORM_OPERATOR, ORG),
    R("cases.read", REGULATOR, PROVINCE),
    R("cases.read", UNIV_ADMIN, ORG),
    R("cases.read", RESP_TEACHER, ORG),
    R("cases.read", STUDENT, SELF),
    R("cases.open", UNIV_ADMIN, ORG),
    R("cases.investigate", UNIV_ADMIN, ORG),
    R("cases.decide", UNIV_ADMIN, ORG),
    R("cases.sanction", UNIV_ADMIN, ORG),
    R("cases.respond", STUDENT, SELF),
    R("cases.appeal", STUDENT, SELF),
    R("cases.appeal_decide", UNIV_ADMIN, ORG),
    R("cases.refer", REGULATOR, PROVINCE),
    R("cases.refer", UNIV_ADMIN, ORG),
    R("cases.student_file", UNIV_ADMIN, ORG),
    R("cases.student_file", STUDENT, SELF),

    /* ---- credit (credit recognition) -------------------------------------------------- */
    /* Regulator rows in cases, credit and notices are PROVINCE: a provincial department sees
     * its province's universities; a regulator without a province (the ministry) is widened to
     * national by the handlers (api/cases_api.c), as the registry does. */
    R("credit.compute", UNIV_ADMIN, ORG),
    R("credit.export", REGULATOR, PROVINCE),
    R("credit.export", UNIV_ADMIN, ORG),
    R("credit.read", UNIV_ADMIN, ORG),
    R("credit.read", STUDENT, SELF),

    /* ---- notices (regulator notices and rectification) ------------------------------- */
    R("notices.read", UNIV_ADMIN, ORG),
    R("notices.read", STUDENT, SELF),
    R("notices.flagged", REGULATOR, PROVINCE),
    R("notices.flagged", UNIV_ADMIN, ORG),
    R("notices.flagged", RESP_TEACHER, ORG),

    /* ---- privacy: a student's own personal information (PIPL art. 29, 45) -------------- */
    R("self.export", STUDENT, SELF),  /* GET /me/export */
    R("self.consent", STUDENT, SELF), /* GET/POST/DELETE /me/consents/face */
    R("report.read", REGULATOR, PROVINCE),
    R("report.issue", REGULATOR, PROVINCE),
};
#define N_ROWS (sizeof k_table / sizeof k_table[0])

static const char *const k_role_names[MG_ROLE_COUNT_] = {
    [MG_ROLE_NONE] = "none",
    [MG_ROLE_REGULATOR] = "regulator",
    [MG_ROLE_UNIV_ADMIN] = "univ_admin",
    [MG_ROLE_RESP_TEACHER] = "resp_teacher",
    [MG_ROLE_LEAD_TEACHER] = "lead_teacher",
    [MG_ROLE_STUDENT] = "student",
    [MG_ROLE_PLATFORM_OPERATOR] = "platform_operator",
    [MG_ROLE_SYS_ADMIN] = "sys_admin",
    [MG_ROLE_SEC_ADMIN] = "sec_admin",
    [MG_ROLE_AUDIT_ADMIN] = "audit_admin",
};

const char *mg_auth_role_name(mg_role r) {
  return r > MG_ROLE_NONE && r < MG_ROLE_COUNT_ ? k_role_names[r] : "none";
}

mg_role mg_auth_role_parse(const char *name) {
  if (!name) return MG_ROLE_NONE;
  for (int r = MG_ROLE_NONE + 1; r < MG_ROLE_COUNT_; r++)
    if (strcmp(name, k_role_names[r]) == 0) return (mg_role)r;
  return MG_ROLE_NONE;
}

int mg_auth_role_needs_mfa(mg_role r) {
  return r == MG_ROLE_REGULATOR || r == MG_ROLE_UNIV_ADMIN || r == MG_ROLE_SYS_ADMIN ||
         r == MG_ROLE_SEC_ADMIN || r == MG_ROLE_AUDIT_ADMIN;
}

mg_scope mg_auth_cap_scope(mg_role r, const char *capability) {
  if (!capability || r <= MG_ROLE_NONE || r >= MG_ROLE_COUNT_) return MG_SCOPE_NONE;
  for (size_t i = 0; i < N_ROWS; i++)
    if (k_table[i].role == r && strcmp(k_table[i].capability, capability) == 0)
      return k_table[i].scope;
  return MG_SCOPE_NONE;
}

const mg_auth_cap_row *mg_auth_cap_table(size_t *n) {
  *n = N_ROWS;
  return k_table;
}

/* Distinct names in table order, computed once (the table is constant). */
static const char *g_names[N_ROWS + 1];
static size_t g_n_names;
static pthread_once_t g_names_once = PTHREAD_ONCE_INIT;

static void names_init(void) {
  for (size_t i = 0; i < N_ROWS; i++) {
    size_t j = 0;
    while (j < g_n_names && strcmp(g_names[j], k_table[i].capability) != 0) j++;
    if (j == g_n_names) g_names[g_n_names++] = k_table[i].capability;
  }
  g_names[g_n_names] = NULL;
}

const char *const *mg_auth_cap_names(size_t *n) {
  pthread_once(&g_names_once, names_init);
  *n = g_n_names;
  return g_names;
}
