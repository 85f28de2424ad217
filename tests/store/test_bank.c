/* store/bank and registry/bank: the known answer-bank registry keeps one row per item IRI, tells
 * an insert from a replacement from a repeat, pages in IRI order, and refuses bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "registry/bank.h"
#include "store/store_bank.h"
#include "support.h"

static mg_store *open_store(const char *name) {
  char dir[512], path[700];
  mg_test_tmpdir(name, dir, sizeof dir);
  snprintf(path, sizeof path, "%s/store.db", dir);
  unlink(path);
  mg_store *s;
  assert_int_equal(mg_store_open(path, &s, NULL), MG_OK);
  return s;
}

static int collect(void *ud, const mg_store_bank_item *it) {
  char *out = ud;
  size_t n = strlen(out);
  snprintf(out + n, 1024 - n, "%s=%s;", strrchr(it->item_iri, '/') + 1, it->answer);
  return MG_OK;
}

static void put_get_list(void **state) {
  (void)state;
  mg_store *s = open_store("bank-store");
  mg_store_bank_item it, got;
  memset(&it, 0, sizeof it);
  snprintf(it.item_iri, sizeof it.item_iri, "https://mooc.example.cn/item/Q2");
  snprintf(it.answer, sizeof it.answer, "b");
  snprintf(it.source, sizeof it.source, "site:tiku.example");
  snprintf(it.added_by, sizeof it.added_by, "cli");
  mg_store_bank_change ch;
  assert_int_equal(mg_store_bank_put(s, &it, 1000, &ch), MG_OK);
  assert_int_equal(ch, MG_STORE_BANK_INSERTED);
  assert_int_equal(mg_store_bank_put(s, &it, 2000, &ch), MG_OK);
  assert_int_equal(ch, MG_STORE_BANK_UNCHANGED);
  snprintf(it.answer, sizeof it.answer, "c"); /* the bank corrected its answer */
  assert_int_equal(mg_store_bank_put(s, &it, 3000, &ch), MG_OK);
  assert_int_equal(ch, MG_STORE_BANK_UPDATED);
  assert_int_equal(mg_store_bank_get(s, it.item_iri, &got), MG_OK);
  assert_string_equal(got.answer, "c");
  assert_string_equal(got.source, "site:tiku.example");
  assert_int_equal(got.created_us, 1000);
  assert_int_equal(got.updated_us, 3000);
  assert_int_equal(mg_store_bank_get(s, "https://mooc.example.cn/item/none", &got), MG_ENOTFOUND);
  /* an answer with quotes and SQL in it is only ever a bound value */
  snprintf(it.item_iri, sizeof it.item_iri, "https://mooc.example.cn/item/Q1");
  snprintf(it.answer, sizeof it.answer, "x'); DROP TABLE bank_items; --");
  assert_int_equal(mg_store_bank_put(s, &it, 4000, &ch), MG_OK);
  snprintf(it.item_iri, sizeof it.item_iri, "https://mooc.example.cn/item/Q3");
  snprintf(it.answer, sizeof it.answer, "true");
  assert_int_equal(mg_store_bank_put(s, &it, 4000, &ch), MG_OK);
  int64_t n = 0;
  assert_int_equal(mg_store_bank_count(s, &n), MG_OK);
  assert_int_equal(n, 3);
  char out[1024] = "";
  int more = 0;
  assert_int_equal(mg_store_bank_list(s, NULL, 2, collect, out, &more), MG_OK);
  assert_string_equal(out, "Q1=x'); DROP TABLE bank_items; --;Q2=c;");
  assert_int_equal(more, 1);
  out[0] = 0;
  assert_int_equal(mg_store_bank_list(s, "https://mooc.example.cn/item/Q2", 2, collect, out, &more), MG_OK);
  assert_string_equal(out, "Q3=true;");
  assert_int_equal(more, 0);
  memset(&it, 0, sizeof it);
  assert_int_equal(mg_store_bank_put(s, &it, 1, NULL), MG_EINVAL); /* no IRI */
  mg_store_close(s);
}

static void registry_checks_input(void **state) {
  (void)state;
  mg_registry_why why;
  assert_int_equal(mg_registry_bank_check("https://mooc.example.cn/item/Q1", "a", NULL, &why), MG_OK);
  assert_int_equal(mg_registry_bank_check("https://mooc.example.cn/item/Q1", "a", "app:搜题", &why), MG_OK);
  assert_int_equal(mg_registry_bank_check("Q1", "a", NULL, &why), MG_EINVAL);
  assert_string_equal(why.code, "invalid_field");
  assert_int_equal(mg_registry_bank_check("https://mooc.example.cn/item/Q 1", "a", NULL, &why), MG_EINVAL);
  assert_int_equal(mg_registry_bank_check("https://mooc.example.cn/item/Q1", "", NULL, &why), MG_EINVAL);
  assert_non_null(strstr(why.message, "answer"));
  assert_int_equal(mg_registry_bank_check("https://mooc.example.cn/item/Q1", "a\x01", NULL, &why), MG_EINVAL);
  char big[MG_STORE_BANK_ANSWER_MAX + 2];
  memset(big, 'x', sizeof big - 1);
  big[sizeof big - 1] = 0;
  assert_int_equal(mg_registry_bank_check("https://mooc.example.cn/item/Q1", big, NULL, &why), MG_EINVAL);
  mg_store *s = open_store("bank-registry");
  mg_store_bank_change ch;
  assert_int_equal(mg_registry_bank_put(s, "https://mooc.example.cn/item/Q9", "d", "", "regulator1", 5, &ch, &why),
                   MG_OK);
  assert_int_equal(ch, MG_STORE_BANK_INSERTED);
  assert_int_equal(mg_registry_bank_put(s, "bad", "d", "", "regulator1", 5, &ch, &why), MG_EINVAL);
  int64_t n = 0;
  assert_int_equal(mg_store_bank_count(s, &n), MG_OK);
  assert_int_equal(n, 1);
  mg_store_close(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(put_get_list),
      cmocka_unit_test(registry_checks_input),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
