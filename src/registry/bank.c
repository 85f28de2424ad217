/* The known answer-bank registry: input checks and the audit record; see bank.h. */
#include "registry/bank.h"

#include <stdio.h>
#include <string.h>

#include "audit/audit.h"
#include "core/err.h"

int mg_registry_bank_check(const char *item_iri, const char *answer, const char *source, mg_registry_why *why) {
  int rc;
  if ((rc = mg_registry_check_text("item_iri", item_iri, MG_STORE_BANK_IRI_MAX, 0, why)) ||
      (rc = mg_registry_check_text("answer", answer, MG_STORE_BANK_ANSWER_MAX, 0, why)) ||
      (rc = mg_registry_check_text("source", source, MG_STORE_BANK_SOURCE_MAX, 1, why)))
    return rc;
  /* the IRI the platforms send as object.id: absolute, no spaces */
  const char *sep = strstr(item_iri, "://");
  if (!sep || sep == item_iri || strchr(item_iri, ' '))
    return mg_registry_refuse(why, MG_EINVAL, "invalid_field",
                              "item_iri：须为绝对 IRI（如 https://平台/item/...）/ item_iri must be an absolute IRI "
                              "(https://platform/item/...), as sent in object.id");
  return MG_OK;
}

int mg_registry_bank_put(mg_store *s, const char *item_iri, const char *answer, const char *source,
                         const char *by, int64_t now_us, mg_store_bank_change *change, mg_registry_why *why) {
  int rc = mg_registry_bank_check(item_iri, answer, source, why);
  if (rc) return rc;
  mg_store_bank_item it;
  memset(&it, 0, sizeof it);
  snprintf(it.item_iri, sizeof it.item_iri, "%s", item_iri);
  snprintf(it.answer, sizeof it.answer, "%s", answer);
  snprintf(it.source, sizeof it.source, "%s", source ? source : "");
  snprintf(it.added_by, sizeof it.added_by, "%s", by ? by : "");
  rc = mg_store_bank_put(s, &it, now_us, change);
  return rc ? mg_registry_refuse(why, rc, "store_error", "%s", mg_strerror(rc)) : MG_OK;
}

int mg_registry_bank_audit(mg_store *s, const char *action, const char *by, const char *role, const char *object_id,
                           const void *after, size_t after_len, const char *source_ip, int64_t now_us) {
  mg_audit_event ev = {.actor = by, .role = role, .action = action, .object_type = "bank_item",
                       .object_id = object_id, .after = after, .after_len = after_len,
                       .source_ip = source_ip, .at_us = now_us};
  return mg_audit_append(s, &ev, NULL);
}
