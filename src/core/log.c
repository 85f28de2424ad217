#include "core/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/time.h"

static mg_log_level g_level = MG_LOG_INFO;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;

void mg_log_set_level(mg_log_level lvl) { g_level = lvl; }

int mg_log_parse_level(const char *s, mg_log_level *out) {
  static const char *names[] = {"debug", "info", "warn", "error"};
  for (int i = 0; i < 4; i++)
    if (strcmp(s, names[i]) == 0) {
      *out = (mg_log_level)i;
      return MG_OK;
    }
  return MG_EINVAL;
}

static void add_value(mg_buf *b, const char *v) {
  if (!v) v = "";
  int plain = *v != '\0';
  for (const char *p = v; *p; p++)
    if (*p == ' ' || *p == '"' || *p == '=' || (unsigned char)*p < 0x20) plain = 0;
  if (plain) {
    mg_buf_adds(b, v);
    return;
  }
  mg_buf_addc(b, '"');
  mg_buf_add_json_str(b, v, strlen(v));
  mg_buf_addc(b, '"');
}

void mg_log(mg_log_level lvl, const char *event, ...) {
  static const char *names[] = {"debug", "info", "warn", "error"};
  if (lvl < g_level) return;
  char ts[MG_TIME_ISO_LEN];
  mg_time_format_iso(mg_time_now_us(), 3, ts);
  mg_buf b;
  mg_buf_init(&b, 16384);
  mg_buf_addf(&b, "ts=%s level=%s event=%s", ts, names[lvl], event);
  va_list ap;
  va_start(ap, event);
  for (;;) {
    const char *k = va_arg(ap, const char *);
    if (!k) break;
    const char *v = va_arg(ap, const char *);
    mg_buf_addc(&b, ' ');
    mg_buf_adds(&b, k);
    mg_buf_addc(&b, '=');
    add_value(&b, v);
  }
  va_end(ap);
  mg_buf_addc(&b, '\n');
  if (b.data) {
    pthread_mutex_lock(&g_lock);
    fwrite(b.data, 1, b.len, stderr);
    pthread_mutex_unlock(&g_lock);
  }
  mg_buf_free(&b);
}
