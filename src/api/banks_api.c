/* api/banks_api.c — GET/POST /api/v1/banks/items; see banks_api.h. */
#include "api/banks_api.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/time.h"
#include "registry/bank.h"

#define BANK_POST_MAX 1000 /* items per POST; larger crawls go through `moocguard bank import` */

static mg_arena *pool(mg_api_call *c) { return &c->req->pool; }

static void reply_buf(mg_api_call *c, int status, const mg_buf *b) {
  mg_json *j = b->data ? mg_json_parse(pool(c), b->data, b->len, MG_JSON_DECODE_ANY, NULL) : NULL;
  if (!j) {
    mg_api_fail(c, 500, "internal", "could not build the response");
    return;
  }
  mg_api_reply(c, status, j);
}

static int item_json(mg_buf *b, const mg_store_bank_item *it) {
  char t1[MG_TIME_ISO_LEN], t2[MG_TIME_ISO_LEN];
  mg_time_format_iso(it->created_us, 3, t1);
  mg_time_format_iso(it->updated_us, 3, t2);
  const char *kv[][2] = {{"item_iri", it->item_iri}, {"answer", it->answer}, {"source", it->source},
                         {"added_by", it->added_by}, {"created_at", t1}, {"updated_at", t2}};
  int rc = mg_buf_addc(b, '{');
  for (size_t i = 0; i < sizeof kv / sizeof kv[0] && !rc; i++) {
    rc = mg_buf_addf(b, "%s\"%s\":\"", i ? "," : "", kv[i][0]);
    if (!rc) rc = mg_buf_add_json_str(b, kv[i][1], strlen(kv[i][1]));
    if (!rc) rc = mg_buf_addc(b, '"');
  }
  return rc ? rc : mg_buf_addc(b, '}');
}

typedef struct list_ctx {
  mg_buf *b;
  size_t n;
  char last[MG_STORE_BANK_IRI_MAX + 1];
} list_ctx;

static int list_row(void *ud, const mg_store_bank_item *it) {
  list_ctx *x = ud;
  int rc = x->n++ ? mg_buf_addc(x->b, ',') : MG_OK;
  if (!rc) rc = item_json(x->b, it);
  snprintf(x->last, sizeof x->last, "%s", it->item_iri);
  return rc;
}

static void h_list(mg_api_call *c, void *ud) {
  (void)ud;
  const char *s = mg_api_query(c, "limit"), *after = mg_api_query(c, "after"), *iri = mg_api_query(c, "item_iri");
  long limit = 100;
  if (s) {
    char *end;
    errno = 0;
    limit = strtol(s, &end, 10);
    if (errno || end == s || *end || limit < 1 || limit > 500) {
      mg_api_fail(c, 400, "invalid_parameter", "query: limit must be 1..500");
      return;
    }
  }
  mg_buf b;
  mg_buf_init(&b, (size_t)16 << 20);
  int rc;
  if (iri) { /* one item */
    mg_store_bank_item it;
    rc = mg_store_bank_get(c->store, iri, &it);
    if (rc) {
      mg_buf_free(&b);
      mg_api_fail_err(c, rc, "bank item");
      return;
    }
    rc = mg_buf_adds(&b, "{\"items\":[");
    if (!rc) rc = item_json(&b, &it);
    if (!rc) rc = mg_buf_adds(&b, "],\"more\":false,\"next_after\":null}");
  } else {
    list_ctx x = {&b, 0, ""};
    int more = 0;
    rc = mg_buf_adds(&b, "{\"items\":[");
    if (!rc) rc = mg_store_bank_list(c->store, after, (size_t)limit, list_row, &x, &more);
    if (!rc && more) {
      rc = mg_buf_adds(&b, "],\"more\":true,\"next_after\":\"");
      if (!rc) rc = mg_buf_add_json_str(&b, x.last, strlen(x.last));
      if (!rc) rc = mg_buf_adds(&b, "\"}");
    } else if (!rc) {
      rc = mg_buf_adds(&b, "],\"more\":false,\"next_after\":null}");
    }
  }
  if (rc) mg_api_fail_err(c, rc, "bank items");
  else reply_buf(c, 200, &b);
  mg_buf_free(&b);
}

/* POST {"items": [{"item_iri", "answer", "source"?}, ...]}: all or nothing, one audit record. */
static void h_post(mg_api_call *c, void *ud) {
  (void)ud;
  const mg_json *items = c->body ? mg_json_object_get(c->body, "items") : NULL;
  size_t n = mg_json_array_size(items);
  if (!mg_json_is_array(items) || n == 0 || n > BANK_POST_MAX) {
    mg_api_fail(c, 400, "invalid_body",
                "请求体应为 {\"items\": [...]}（1–%d 项）/ the body must be {\"items\": [...]} with 1..%d items",
                BANK_POST_MAX, BANK_POST_MAX);
    return;
  }
  mg_registry_why why;
  for (size_t i = 0; i < n; i++) {
    const mg_json *o = mg_json_array_get(items, i);
    const char *iri = mg_json_string_value(mg_json_object_get(o, "item_iri"));
    const char *ans = mg_json_string_value(mg_json_object_get(o, "answer"));
    const mg_json *sj = mg_json_object_get(o, "source");
    const char *src = mg_json_string_value(sj);
    memset(&why, 0, sizeof why);
    if (!mg_json_is_object(o) || (sj && !src) || mg_registry_bank_check(iri, ans, src, &why)) {
      mg_api_fail(c, 400, "invalid_field", "items[%zu]: %s", i,
                  why.message[0] ? why.message : "应为对象 / must be an object with string fields");
      return;
    }
  }
  int64_t now = mg_time_now_us();
  long counts[3] = {0, 0, 0};
  int rc = mg_store_tx_begin(c->store);
  if (rc) {
    mg_api_fail_err(c, rc, "transaction");
    return;
  }
  for (size_t i = 0; i < n && !rc; i++) {
    const mg_json *o = mg_json_array_get(items, i);
    mg_store_bank_change ch = MG_STORE_BANK_UNCHANGED;
    rc = mg_registry_bank_put(c->store, mg_json_string_value(mg_json_object_get(o, "item_iri")),
                              mg_json_string_value(mg_json_object_get(o, "answer")),
                              mg_json_string_value(mg_json_object_get(o, "source")), c->who->username, now, &ch,
                              &why);
    if (!rc) counts[ch]++;
  }
  if (rc) {
    mg_store_tx_rollback(c->store);
    mg_api_fail_err(c, rc, "bank items");
    return;
  }
  if (mg_api_audit(c, NULL, "bank_item", NULL, NULL, c->body)) {
    mg_store_tx_rollback(c->store);
    mg_api_fail(c, 503, "audit_unavailable",
                "审计日志无法写入，操作已拒绝 / the audit log cannot be written, so the change was refused");
    return;
  }
  rc = mg_store_tx_commit(c->store);
  if (rc) {
    mg_api_fail_err(c, rc, "commit");
    return;
  }
  mg_buf b;
  mg_buf_init(&b, 256);
  rc = mg_buf_addf(&b, "{\"items\":%zu,\"inserted\":%ld,\"replaced\":%ld,\"unchanged\":%ld}", n,
                   counts[MG_STORE_BANK_INSERTED], counts[MG_STORE_BANK_UPDATED], counts[MG_STORE_BANK_UNCHANGED]);
  if (rc) mg_api_fail_err(c, rc, "reply");
  else reply_buf(c, counts[MG_STORE_BANK_INSERTED] ? 201 : 200, &b);
  mg_buf_free(&b);
}

int mg_banks_api_register(mg_api *api) {
  int rc;
  if ((rc = mg_api_route(api, "GET", "/banks/items", "banks.read", h_list, NULL))) return rc;
  return mg_api_route(api, "POST", "/banks/items", "banks.write", h_post, NULL);
}
