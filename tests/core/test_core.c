/* Unit tests for src/core: buffers, errors, time, UUIDs, config. */
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/err.h"
#include "core/time.h"
#include "core/uuid.h"
#include "support.h"

static void buf_grows_and_stays_terminated(void **state) {
  (void)state;
  mg_buf b;
  mg_buf_init(&b, 1000);
  for (int i = 0; i < 100; i++) assert_int_equal(mg_buf_addf(&b, "%d,", i % 10), MG_OK);
  assert_int_equal(b.len, 200);
  assert_int_equal(b.data[b.len], '\0');
  assert_memory_equal(b.data, "0,1,2,", 6);
  mg_buf_reset(&b);
  assert_int_equal(b.len, 0);
  assert_string_equal(b.data, "");
  mg_buf_free(&b);
}

static void buf_refuses_past_max_and_is_unchanged(void **state) {
  (void)state;
  mg_buf b;
  mg_buf_init(&b, 8);
  assert_int_equal(mg_buf_adds(&b, "12345678"), MG_OK);
  assert_int_equal(mg_buf_adds(&b, "9"), MG_ETOOBIG);
  assert_string_equal(b.data, "12345678");
  assert_int_equal(mg_buf_addf(&b, "%s", "x"), MG_ETOOBIG);
  assert_int_equal(b.len, 8);
  char *s = mg_buf_take(&b);
  assert_string_equal(s, "12345678");
  assert_null(b.data);
  free(s);
  /* SIZE_MAX-ish requests must not wrap around */
  mg_buf_init(&b, 16);
  assert_int_equal(mg_buf_add(&b, "x", (size_t)-1), MG_ETOOBIG);
  mg_buf_free(&b);
}

static void buf_json_escapes(void **state) {
  (void)state;
  mg_buf b;
  mg_buf_init(&b, 100);
  const char in[] = "a\"b\\c\n\x01é";
  assert_int_equal(mg_buf_add_json_str(&b, in, strlen(in)), MG_OK);
  assert_string_equal(b.data, "a\\\"b\\\\c\\n\\u0001é");
  mg_buf_free(&b);
}

static void utf8_tail_is_trimmed(void **state) {
  (void)state;
  char a[] = "key '\xe4\xb8";        /* 中 cut after 2 of 3 bytes */
  mg_utf8_trim_tail(a);
  assert_string_equal(a, "key '");
  char b[] = "ok \xe4\xb8\xad";       /* complete 中 stays */
  mg_utf8_trim_tail(b);
  assert_string_equal(b, "ok \xe4\xb8\xad");
  char c[] = "x\xf0\x9f\x98";         /* 4-byte emoji cut after 3 */
  mg_utf8_trim_tail(c);
  assert_string_equal(c, "x");
  char d[] = "\xc3";                  /* lone lead byte */
  mg_utf8_trim_tail(d);
  assert_string_equal(d, "");
  char e[] = "plain";
  mg_utf8_trim_tail(e);
  assert_string_equal(e, "plain");
}

static void err_table_names(void **state) {
  (void)state;
  assert_string_equal(mg_err_name(MG_ENOTFOUND), "MG_ENOTFOUND");
  assert_string_equal(mg_strerror(MG_ECONFLICT), "conflict");
  assert_string_equal(mg_strerror(MG_OK), "ok");
  assert_string_equal(mg_strerror(12345), "unknown error");
  assert_true(MG_ENOMEM < 0 && MG_ECORRUPT < 0);
}

static void time_parses_and_formats(void **state) {
  (void)state;
  mg_timestamp t;
  assert_int_equal(mg_time_parse_iso("1970-01-01T00:00:00Z", 0, &t), MG_OK);
  assert_int_equal(t.us, 0);
  assert_true(t.has_tz);
  assert_int_equal(mg_time_parse_iso("2022-02-11T08:30:15.123456+08:00", 0, &t), MG_OK);
  char out[MG_TIME_ISO_LEN];
  mg_time_format_iso(t.us, 6, out);
  assert_string_equal(out, "2022-02-11T00:30:15.123456Z");
  mg_time_format_iso(t.us, 3, out);
  assert_string_equal(out, "2022-02-11T00:30:15.123Z");
  assert_int_equal(t.offset_min, 480);
  assert_int_equal(t.frac_digits, 6);
  /* leap day, offsets without colon, negative zero */
  assert_int_equal(mg_time_parse_iso("2024-02-29T12:00:00-0530", 0, &t), MG_OK);
  assert_int_equal(t.offset_min, -330);
  assert_int_equal(mg_time_parse_iso("2024-02-29T12:00:00-00:00", 0, &t), MG_OK);
  assert_true(t.negative_zero);
  assert_int_equal(mg_time_parse_iso("2024-02-29T12:00:00", 0, &t), MG_OK);
  assert_false(t.has_tz);
  /* rejected */
  assert_int_equal(mg_time_parse_iso("2023-02-29T12:00:00Z", 0, &t), MG_EINVAL);
  assert_int_equal(mg_time_parse_iso("2023-13-01T12:00:00Z", 0, &t), MG_EINVAL);
  assert_int_equal(mg_time_parse_iso("2023-01-01 12:00:00Z", 0, &t), MG_EINVAL);
  assert_int_equal(mg_time_parse_iso("2023-01-01 12:00:00Z", 1, &t), MG_OK);
  assert_int_equal(mg_time_parse_iso("01/01/2015", 1, &t), MG_EINVAL);
  assert_int_equal(mg_time_parse_iso("2023-01-01T12:00:00Zjunk", 1, &t), MG_EINVAL);
  assert_int_equal(mg_time_parse_iso("2023-01-01T25:00:00Z", 1, &t), MG_EINVAL);
  assert_int_equal(mg_time_parse_iso("", 1, &t), MG_EINVAL);
  char http[40];
  mg_time_format_http(784111777LL * 1000000, http);
  assert_string_equal(http, "Sun, 06 Nov 1994 08:49:37 GMT");
}

static void time_durations(void **state) {
  (void)state;
  double s;
  assert_int_equal(mg_time_parse_duration("PT1H30M", &s), MG_OK);
  assert_true(s == 5400.0);
  assert_int_equal(mg_time_parse_duration("PT0.5S", &s), MG_OK);
  assert_true(s == 0.5);
  assert_int_equal(mg_time_parse_duration("P1DT2H", &s), MG_OK);
  assert_true(s == 93600.0);
  assert_int_equal(mg_time_parse_duration("P2W", &s), MG_OK);
  assert_true(s == 1209600.0);
  assert_int_equal(mg_time_parse_duration("P4W1D", &s), MG_EINVAL);
  assert_int_equal(mg_time_parse_duration("P1Y4W", &s), MG_EINVAL);
  assert_int_equal(mg_time_parse_duration("P1WT1H", &s), MG_EINVAL);
  assert_int_equal(mg_time_parse_duration("P", &s), MG_EINVAL);
  assert_int_equal(mg_time_parse_duration("PT", &s), MG_EINVAL);
  assert_int_equal(mg_time_parse_duration("1H", &s), MG_EINVAL);
  assert_int_equal(mg_time_parse_duration("PT1M1H", &s), MG_EINVAL);
  assert_int_equal(mg_time_parse_duration("PT1.5M3S", &s), MG_EINVAL);
  assert_int_equal(mg_time_parse_duration("P1H", &s), MG_EINVAL);
}

static void uuid_roundtrip(void **state) {
  (void)state;
  uint8_t a[16], b[16];
  char s[MG_UUID_STR_LEN];
  mg_uuid_v4(a);
  assert_int_equal(a[6] >> 4, 4);
  assert_int_equal(a[8] & 0xc0, 0x80);
  mg_uuid_format(a, s);
  assert_int_equal(strlen(s), 36);
  assert_int_equal(mg_uuid_parse(s, b), MG_OK);
  assert_memory_equal(a, b, 16);
  assert_int_equal(mg_uuid_parse("FD41C918-B88B-4B20-A0A5-A4C32391AAA0", b), MG_OK);
  mg_uuid_format(b, s);
  assert_string_equal(s, "fd41c918-b88b-4b20-a0a5-a4c32391aaa0");
  assert_int_equal(mg_uuid_parse("fd41c918b88b4b20a0a5a4c32391aaa0", b), MG_EINVAL);
  assert_int_equal(mg_uuid_parse("fd41c918-b88b-4b20-a0a5-a4c32391aaa0x", b), MG_EINVAL);
  assert_int_equal(mg_uuid_parse("gd41c918-b88b-4b20-a0a5-a4c32391aaa0", b), MG_EINVAL);
}

static void config_layers(void **state) {
  (void)state;
  char dir[512], path[600], err[256];
  mg_test_tmpdir("config", dir, sizeof dir);
  snprintf(path, sizeof path, "%s/m.conf", dir);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs("# comment\nport = 9000\nthreads=4\nstore = /tmp/x.db # trailing\n", f);
  fclose(f);
  mg_config c;
  mg_config_defaults(&c);
  assert_int_equal(c.port, 8080);
  setenv("MOOCGUARD_THREADS", "8", 1);
  char *argv[] = {"serve", "--config", path, "--port=9100", "--access-log", "--log-level", "warn",
                  NULL};
  int rest = 0;
  assert_int_equal(mg_config_load(&c, 7, argv, &rest, err, sizeof err), MG_OK);
  assert_int_equal(rest, 7);
  assert_int_equal(c.port, 9100);   /* flag beats file */
  assert_int_equal(c.threads, 8);   /* env beats file */
  assert_string_equal(c.store, "/tmp/x.db");
  assert_int_equal(c.access_log, 1);
  assert_string_equal(c.log_level, "warn");
  unsetenv("MOOCGUARD_THREADS");
  char *bad[] = {"serve", "--port", "eighty", NULL};
  mg_config_defaults(&c);
  assert_int_equal(mg_config_load(&c, 3, bad, &rest, err, sizeof err), MG_EINVAL);
  assert_non_null(strstr(err, "port"));
  char *unknown[] = {"serve", "--nope", "1", NULL};
  assert_int_equal(mg_config_load(&c, 3, unknown, &rest, err, sizeof err), MG_EINVAL);
  assert_non_null(strstr(err, "--nope"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(buf_grows_and_stays_terminated),
      cmocka_unit_test(buf_refuses_past_max_and_is_unchanged),
      cmocka_unit_test(buf_json_escapes),
      cmocka_unit_test(utf8_tail_is_trimmed),
      cmocka_unit_test(err_table_names),
      cmocka_unit_test(time_parses_and_formats),
      cmocka_unit_test(time_durations),
      cmocka_unit_test(uuid_roundtrip),
      cmocka_unit_test(config_layers),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
