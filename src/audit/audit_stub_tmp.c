/* TEMPORARY — delete when the real audit module (src/audit/audit.c, helper "audit") is merged.
 * Lets the auth/api work build and run before then. It keeps nothing: it only logs each event.
 * The symbols are weak so that, should both be present for a moment, the real ones win. */
#include <stdatomic.h>

#include "audit/audit.h"
#include "core/err.h"
#include "core/log.h"

static atomic_llong g_seq;

__attribute__((weak)) int mg_audit_append(mg_store *s, const mg_audit_event *ev, int64_t *seq_out) {
  (void)s;
  if (!ev || !ev->actor || !ev->role || !ev->action || !ev->object_type) return MG_EINVAL;
  long long seq = atomic_fetch_add(&g_seq, 1) + 1;
  if (seq_out) *seq_out = seq;
  mg_log(MG_LOG_DEBUG, "audit.stub", "actor", ev->actor, "role", ev->role, "action", ev->action,
         "object", ev->object_type, "id", ev->object_id ? ev->object_id : "-", NULL);
  return MG_OK;
}

__attribute__((weak)) int mg_audit_alarm(void) { return 0; }
