/* auth/capability.h — roles and the one capability table (role × action × scope).
 *
 * Every /api/v1 route names a capability; the API layer asks this table, in one place, whether
 * the caller's role has it and with which data scope. The table lives in capability.c, one row
 * per (capability, role) that is granted; anything absent is denied. The three administrator
 * roles are separate (三权分立): the system administrator runs the system, the security
 * administrator manages accounts, roles and keys, the audit administrator reads the audit log;
 * none holds another's capabilities, and nobody can change or delete the audit log. */
#ifndef MG_AUTH_CAPABILITY_H
#define MG_AUTH_CAPABILITY_H

#include <stddef.h>

typedef enum mg_role {
  MG_ROLE_NONE = 0,
  MG_ROLE_REGULATOR,        /* ministry (national) or provincial education department */
  MG_ROLE_UNIV_ADMIN,       /* university academic-affairs office (教务处) */
  MG_ROLE_RESP_TEACHER,     /* responsible teacher of an offering (课程责任教师) */
  MG_ROLE_LEAD_TEACHER,     /* lead teacher of a course (主讲教师) */
  MG_ROLE_STUDENT,
  MG_ROLE_PLATFORM_OPERATOR,
  MG_ROLE_SYS_ADMIN,        /* 系统管理员 */
  MG_ROLE_SEC_ADMIN,        /* 安全管理员 */
  MG_ROLE_AUDIT_ADMIN,      /* 审计管理员 */
  MG_ROLE_COUNT_
} mg_role;

typedef enum mg_scope {
  MG_SCOPE_NONE = 0,  /* denied */
  MG_SCOPE_SELF,      /* the caller's own records */
  MG_SCOPE_ORG,       /* the caller's organisation (university, platform) */
  MG_SCOPE_PROVINCE,  /* organisations in the caller's province */
  MG_SCOPE_ALL,       /* everything (national) */
} mg_scope;

/* Stable role names used in the API and the audit log ("regulator", "univ_admin",
 * "resp_teacher", "lead_teacher", "student", "platform_operator", "sys_admin", "sec_admin",
 * "audit_admin"); "none" for MG_ROLE_NONE. */
const char *mg_auth_role_name(mg_role r);
/* Parses a role name; MG_ROLE_NONE if unknown. */
mg_role mg_auth_role_parse(const char *name);
/* Roles that must pass a TOTP second factor before any capability is granted. */
int mg_auth_role_needs_mfa(mg_role r);

/* The scope role has for capability; MG_SCOPE_NONE when not granted or unknown. */
mg_scope mg_auth_cap_scope(mg_role r, const char *capability);

/* The table, for generated tests and docs: row i of n. */
typedef struct mg_auth_cap_row {
  const char *capability;
  mg_role role;
  mg_scope scope;
} mg_auth_cap_row;
const mg_auth_cap_row *mg_auth_cap_table(size_t *n);
/* Every distinct capability name, for generated tests (each role denied each capability it
 * lacks). */
const char *const *mg_auth_cap_names(size_t *n);

#endif
