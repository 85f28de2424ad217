/* notices/report.h — the regulator's periodic report (通报) on where abnormal learning behaviour
 * concentrates (教高〔2022〕1号 cl. 16), and the university's list of flagged students (cl. 14).
 *
 * For a period [from, to) and the period of equal length before it, universities and platforms
 * are ranked by students flagged per 1,000 enrolments, with students whose misconduct was
 * verified per 1,000 and the change since the previous period. Rates on few enrolments say little,
 * so organisations below a minimum number of enrolments are listed but not ranked. Counts come
 * from the cases area (inbox items received, cases verified in the period and not overturned);
 * enrolments, names and provinces come from the registry through a callback, so this unit does
 * not depend on how the registry stores them. The JSON is the report of record; the HTML page is
 * a printable rendering of that JSON (Chinese first, English alongside). */
#ifndef MG_NOTICES_REPORT_H
#define MG_NOTICES_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "store/store.h"

/* What the registry knows about an organisation for a period. */
typedef struct mg_report_org {
  char name[128];      /* display name ("" if unknown) */
  char province[16];   /* province code ("" if unknown; platforms may have none) */
  int64_t enrolments;  /* enrolments active in the period (universities: their students';
                          platforms: on their offerings) */
} mg_report_org;

/* Fills *out for university (is_platform 0) or platform org_id over [from_us, to_us). Returning
 * non-zero stops the report with that error. */
typedef int (*mg_report_org_fn)(void *ud, int is_platform, int64_t org_id, int64_t from_us,
                                int64_t to_us, mg_report_org *out);

typedef struct mg_report_params {
  int64_t from_us, to_us;  /* the period; the previous one is [2 from - to, from) */
  int64_t min_enrolments;  /* rank only organisations with at least this many (e.g. 100) */
  const char *province;    /* only universities of this province (NULL = all); platforms are
                              national and always listed */
  int64_t generated_us;
} mg_report_params;

/* Builds the report as a JSON object into out. MG_EINVAL for an empty or inverted period. */
int mg_notices_report_json(mg_store *s, const mg_report_params *p, mg_report_org_fn org, void *ud,
                           mg_buf *out);

/* Renders a report JSON (as built above) as a standalone printable HTML page. MG_EINVAL when
 * json is not such a report. */
int mg_notices_report_html(const char *json, size_t len, mg_buf *out);

/* The flagged students of a university: its inbox items (with case id and state) as a JSON
 * object {"university_id":..., "students":[{"student_id", "items", "types", "case_id",
 * "case_state"}]}. */
int mg_notices_flagged_json(mg_store *s, int64_t university_id, mg_buf *out);

#endif
