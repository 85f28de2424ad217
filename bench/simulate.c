/* bench/simulate.c — how fast the term simulator generates and renders statements, and how much
 * memory it holds. Usage: bench_simulate [students] [seed]. The sink only counts bytes, so the
 * figure is generation + rendering, without disk. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "core/err.h"
#include "core/time.h"
#include "sim/sim.h"

typedef struct counter {
  unsigned long long n, bytes, labels;
} counter;

static int on_stmt(void *ud, const char *json, size_t len) {
  counter *c = ud;
  (void)json;
  c->n++;
  c->bytes += len;
  return 0;
}
static int on_label(void *ud, const mg_sim_label *l) {
  (void)l;
  ((counter *)ud)->labels++;
  return 0;
}

int main(int argc, char **argv) {
  mg_sim_config cfg;
  mg_sim_config_default(&cfg);
  if (argc > 1) cfg.students = (int)strtol(argv[1], NULL, 10);
  if (argc > 2) cfg.seed = (uint64_t)strtoull(argv[2], NULL, 10);
  if (mg_sim_config_check(&cfg, NULL, 0) != MG_OK) {
    fprintf(stderr, "usage: bench_simulate [students 1..50000000] [seed]\n");
    return 2;
  }
  counter c = {0, 0, 0};
  mg_sim_sink sink = {&c, NULL, on_stmt, on_label, NULL};
  int64_t t0 = mg_time_mono_us();
  int rc = mg_sim_run(&cfg, &sink);
  double s = (double)(mg_time_mono_us() - t0) / 1e6;
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  if (rc != MG_OK) {
    fprintf(stderr, "simulate failed: %s\n", mg_strerror(rc));
    return 1;
  }
  printf("students %d, enrolments %llu, statements %llu (%.0f per enrolment), %.0f bytes each\n", cfg.students,
         c.labels, c.n, (double)c.n / (double)(c.labels ? c.labels : 1), (double)c.bytes / (double)(c.n ? c.n : 1));
  /* the host is shared: statements per CPU second is the figure that does not depend on the load */
  double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
               (double)ru.ru_stime.tv_usec / 1e6;
  printf("%.2f s wall, %.2f s CPU: %.0f statements/s wall, %.0f per CPU second, %.1f MB/s of JSON, peak RSS %.0f MB\n",
         s, cpu, (double)c.n / s, cpu > 0 ? (double)c.n / cpu : 0.0, (double)c.bytes / s / 1e6,
         (double)ru.ru_maxrss / 1024.0);
  return 0;
}
