/* core/log.h — structured log lines.
 *
 * One line per event on stderr, logfmt style: `ts=... level=info event=http.request k=v ...`, so
 * operators can grep and machines can parse. Values with spaces or quotes are quoted. */
#ifndef MG_CORE_LOG_H
#define MG_CORE_LOG_H

typedef enum mg_log_level { MG_LOG_DEBUG, MG_LOG_INFO, MG_LOG_WARN, MG_LOG_ERROR } mg_log_level;

/* Lines below this level are dropped. Default MG_LOG_INFO. */
void mg_log_set_level(mg_log_level lvl);
/* Parses "debug", "info", "warn", "error". MG_OK or MG_EINVAL. */
int mg_log_parse_level(const char *s, mg_log_level *out);
/* Writes one line: the event name, then alternating key, value C strings ending with NULL.
 * Example: mg_log(MG_LOG_INFO, "serve.start", "listen", addr, "store", path, NULL); */
void mg_log(mg_log_level lvl, const char *event, ...);

#endif
