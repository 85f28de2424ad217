/* bench/ingest.c — HTTP load generator for POST /xapi/statements.
 *
 * Pushes batches of realistic statements (bench/gen.h; shaped like docs/profile-examples) over N
 * keep-alive HTTP/1.1 connections and prints sustained statements/s, requests/s, per-request
 * latency percentiles, errors and bytes/s. Request bodies are rendered before the timed phase;
 * during it a client only copies a body and stamps fresh statement ids into it, so the client
 * costs little CPU on a box it shares with the server. `--launch --bin build/moocguard` starts
 * the server on a temporary store itself. See bench/README.md. */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/resource.h>

#include "gen.h"

typedef struct body {
  char *data;
  size_t len;
  size_t *id_off; /* offset of each statement's id text */
  size_t n;
} body;

typedef struct shared {
  bh_target t;
  body *bodies;
  size_t n_bodies;
  size_t max_len;
  double t_measure;   /* end of warmup */
  double t_end;       /* end of the measured phase (seconds mode), else 0 */
  long long budget;   /* statements to send in the measured phase (statements mode), else -1 */
  atomic_llong claimed;
  atomic_ullong id_counter;
  uint64_t nonce;
  atomic_int error_printed;
  int check_ids;
} shared;

typedef struct worker {
  shared *sh;
  int idx;
  pthread_t th;
  int64_t *lat;
  size_t n_lat, cap_lat;
  long long stmts, reqs, errors, bytes;
  double last_done;
  char *send;
} worker;

static void report_error_once(shared *sh, const char *what, int status, const char *bodytext) {
  int expected = 0;
  if (!atomic_compare_exchange_strong(&sh->error_printed, &expected, 1)) return;
  fprintf(stderr, "bench_ingest: first error: %s", what);
  if (status) fprintf(stderr, " (HTTP %d)", status);
  if (bodytext) fprintf(stderr, ": %.2000s", bodytext);
  fputc('\n', stderr);
}

static int record(worker *w, int64_t us) {
  if (w->n_lat == w->cap_lat) {
    size_t cap = w->cap_lat ? w->cap_lat * 2 : 4096;
    int64_t *p = realloc(w->lat, cap * sizeof *p);
    if (!p) return MG_ENOMEM;
    w->lat = p;
    w->cap_lat = cap;
  }
  w->lat[w->n_lat++] = us;
  return MG_OK;
}

static void *worker_main(void *arg) {
  worker *w = arg;
  shared *sh = w->sh;
  bh_conn c;
  bh_conn_init(&c, &sh->t);
  size_t k = (size_t)w->idx;
  for (;; k++) {
    double now = bh_now();
    if (sh->t_end > 0 && now >= sh->t_end) break;
    const body *b = &sh->bodies[k % sh->n_bodies];
    int measured = now >= sh->t_measure;
    if (sh->budget >= 0 && measured) {
      long long before = atomic_fetch_add(&sh->claimed, (long long)b->n);
      if (before >= sh->budget) break;
    }
    /* fresh ids: a re-posted id with the same content would be a cheap no-op for the server */
    memcpy(w->send, b->data, b->len);
    uint64_t base = atomic_fetch_add(&sh->id_counter, b->n);
    char id[37], first[37];
    for (size_t i = 0; i < b->n; i++) {
      gen_uuid_text(sh->nonce, base + i, id);
      memcpy(w->send + b->id_off[i], id, 36);
      if (!i) memcpy(first, id, sizeof first);
    }
    double t0 = bh_now();
    int rc = bh_request(&c, "POST", "/xapi/statements", "application/json", w->send, b->len);
    double t1 = bh_now();
    int in_window = t1 >= sh->t_measure && (sh->t_end <= 0 || t1 <= sh->t_end);
    int ok = rc == MG_OK && c.status == 200;
    if (ok && sh->check_ids && !strstr(c.body.data, first)) {
      ok = 0;
      report_error_once(sh, "200 response without the posted statement ids", 200, c.body.data);
    } else if (!ok) {
      if (rc) report_error_once(sh, mg_strerror(rc), 0, NULL);
      else report_error_once(sh, "non-200 response", c.status, c.body.data);
    }
    if (in_window) {
      w->reqs++;
      w->bytes += (long long)b->len;
      if (ok) {
        w->stmts += (long long)b->n;
        if (record(w, (int64_t)((t1 - t0) * 1e6))) break;
      } else {
        w->errors++;
      }
      w->last_done = t1;
    }
    if (rc) usleep(10000); /* transport failure: do not spin */
  }
  bh_conn_free(&c);
  return NULL;
}

/* Renders n bodies of batch statements each; statement numbers run on across bodies. */
static int render_pool(const gen_world *world, body *bodies, size_t n, size_t batch, size_t *max_len) {
  int rc = MG_OK;
  mg_buf b;
  mg_buf_init(&b, (size_t)1 << 31);
  for (size_t k = 0; k < n && !rc; k++) {
    body *bd = &bodies[k];
    bd->n = batch;
    bd->id_off = malloc(batch * sizeof *bd->id_off);
    rc = bd->id_off ? mg_buf_addc(&b, '[') : MG_ENOMEM;
    for (size_t i = 0; i < batch && !rc; i++) {
      if (i) rc = mg_buf_addc(&b, ',');
      bd->id_off[i] = b.len + 7; /* after {"id":" */
      if (!rc) rc = gen_statement(world, (uint64_t)(k * batch + i), &b);
    }
    if (!rc) rc = mg_buf_addc(&b, ']');
    if (rc) break;
    bd->len = b.len;
    if (b.len > *max_len) *max_len = b.len;
    bd->data = mg_buf_take(&b);
    if (!bd->data) rc = MG_ENOMEM;
  }
  mg_buf_free(&b);
  return rc;
}

/* --dump N: the first N statements of the world as NDJSON (for inspection or `moocguard import`). */
static int dump_statements(long long n, uint64_t seed, uint32_t students, uint32_t courses, int lean) {
  gen_world world;
  gen_world_init(&world, seed, students, courses);
  world.lean = lean;
  mg_buf b;
  mg_buf_init(&b, 1 << 20);
  int rc = MG_OK;
  for (long long i = 0; i < n && !rc; i++) {
    mg_buf_reset(&b);
    rc = gen_statement(&world, (uint64_t)i, &b);
    if (!rc && (fwrite(b.data, 1, b.len, stdout) != b.len || putchar('\n') == EOF)) rc = MG_EIO;
  }
  mg_buf_free(&b);
  return rc ? 1 : 0;
}

static void usage(FILE *out) {
  fprintf(out,
          "usage: bench_ingest [--url http://127.0.0.1:8080 --key K --secret S | --launch --bin PATH]\n"
          "                    [--clients N] [--batch N] [--seconds S | --statements N] [--warmup S]\n"
          "                    [--students N] [--courses N] [--seed N] [--pool N] [--store PATH]\n"
          "                    [--server-args \"--threads 4 ...\"] [--keep] [--no-check-ids] [--lean] [--json]\n"
          "       bench_ingest --dump N [--seed N --students N --courses N]\n\n"
          "Pushes realistic xAPI statements to POST /xapi/statements and prints sustained\n"
          "statements/s, requests/s, latency percentiles per request, errors and bytes/s.\n"
          "  --clients N      concurrent keep-alive connections (8)\n"
          "  --batch N        statements per request (100)\n"
          "  --seconds S      measured phase length (20), or --statements N to send N statements\n"
          "  --warmup S       unmeasured warm-up before the measured phase (3)\n"
          "  --pool N         pre-rendered request bodies (max(64, 4 x clients))\n"
          "  --students N / --courses N / --seed N   the generated world (50000 / 2000 / 1)\n"
          "  --launch         start `BIN serve` on a new temporary store (or --store PATH),\n"
          "                   create a credential, run, then SIGTERM it; --keep keeps the dir\n"
          "  --server-args S  extra flags for `moocguard serve`, separated by spaces\n"
          "  --lean           steady-state statements (≈1 KB: no names, displays or descriptions,\n"
          "                   as bench/gen.h describes) instead of full ones (≈2.6 KB)\n"
          "  --json           one JSON object on stdout instead of text\n"
          "  --dump N         print the first N generated statements as NDJSON and exit\n");
}

int main(int argc, char **argv) {
  const char *url = "http://127.0.0.1:8080", *key = NULL, *secret = NULL, *bin = NULL, *store = NULL;
  const char *server_args = NULL;
  long clients = 8, batch = 100, pool = 0, students = 50000, courses = 2000, seed = 1;
  double seconds = 20, warmup = 3;
  long long statements = -1;
  long long dump = -1;
  int launch = 0, json = 0, keep = 0, check_ids = 1, lean = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    long lv;
    int bad = 0;
#define OPT(name) (!strcmp(a, name) && (v ? (i++, 1) : (bad = 1, 0)))
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      usage(stdout);
      return 0;
    } else if (!strcmp(a, "--launch")) launch = 1;
    else if (!strcmp(a, "--json")) json = 1;
    else if (!strcmp(a, "--keep")) keep = 1;
    else if (!strcmp(a, "--lean")) lean = 1;
    else if (!strcmp(a, "--no-check-ids")) check_ids = 0;
    else if (OPT("--url")) url = v;
    else if (OPT("--key")) key = v;
    else if (OPT("--secret")) secret = v;
    else if (OPT("--bin")) bin = v;
    else if (OPT("--store")) store = v;
    else if (OPT("--server-args")) server_args = v;
    else if (OPT("--clients")) bad = bh_parse_long(v, 1, 1024, &clients) != MG_OK;
    else if (OPT("--batch")) bad = bh_parse_long(v, 1, 100000, &batch) != MG_OK;
    else if (OPT("--pool")) bad = bh_parse_long(v, 1, 1000000, &pool) != MG_OK;
    else if (OPT("--students")) bad = bh_parse_long(v, 1, 100000000, &students) != MG_OK;
    else if (OPT("--courses")) bad = bh_parse_long(v, 1, 10000000, &courses) != MG_OK;
    else if (OPT("--seed")) bad = bh_parse_long(v, 0, 2147483647, &seed) != MG_OK;
    else if (OPT("--seconds")) bad = bh_parse_double(v, 0.1, 86400, &seconds) != MG_OK;
    else if (OPT("--warmup")) bad = bh_parse_double(v, 0, 3600, &warmup) != MG_OK;
    else if (OPT("--dump")) {
      bad = bh_parse_long(v, 0, 2000000000L, &lv) != MG_OK;
      dump = lv;
    } else if (OPT("--statements")) {
      bad = bh_parse_long(v, 1, 2000000000L, &lv) != MG_OK;
      statements = lv;
    } else bad = 1;
#undef OPT
    if (bad) {
      fprintf(stderr, "bench_ingest: bad or incomplete option '%s'\n\n", a);
      usage(stderr);
      return 2;
    }
  }
  if (dump >= 0) return dump_statements(dump, (uint64_t)seed, (uint32_t)students, (uint32_t)courses, lean);
  if (launch && !bin) {
    fprintf(stderr, "bench_ingest: --launch needs --bin PATH (e.g. build/moocguard)\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);

  int code = 1;
  bh_server srv;
  memset(&srv, 0, sizeof srv);
  body *bodies = NULL;
  worker *ws = NULL;
  size_t n_bodies = pool > 0 ? (size_t)pool : (size_t)(clients * 4 > 64 ? clients * 4 : 64);
  shared sh;
  memset(&sh, 0, sizeof sh);
  char urlbuf[64];
  if (launch) {
    if (bh_launch(bin, store, server_args, &srv)) {
      fprintf(stderr, "bench_ingest: could not start %s (log: %s)\n", bin, srv.log);
      goto out;
    }
    snprintf(urlbuf, sizeof urlbuf, "http://127.0.0.1:%d", srv.port);
    url = urlbuf;
    key = srv.key;
    secret = srv.secret;
    if (!json) fprintf(stderr, "bench_ingest: server pid %d on %s, store %s\n", (int)srv.pid, url, srv.store);
  }
  if (bh_target_parse(url, key, secret, &sh.t)) {
    fprintf(stderr, "bench_ingest: bad --url '%s' (http://host[:port][/prefix])\n", url);
    goto out;
  }

  /* ---- pre-render the pool ---- */
  gen_world world;
  gen_world_init(&world, (uint64_t)seed, (uint32_t)students, (uint32_t)courses);
  world.lean = lean;
  bodies = calloc(n_bodies, sizeof *bodies);
  double g0 = bh_now();
  if (!bodies || render_pool(&world, bodies, n_bodies, (size_t)batch, &sh.max_len)) {
    fprintf(stderr, "bench_ingest: out of memory rendering the pool\n");
    goto out;
  }
  double gen_s = bh_now() - g0;
  double gen_rate = (double)(n_bodies * (size_t)batch) / (gen_s > 0 ? gen_s : 1e-9);
  size_t total_bytes = 0;
  for (size_t k = 0; k < n_bodies; k++) total_bytes += bodies[k].len;
  double avg_stmt = (double)total_bytes / (double)(n_bodies * (size_t)batch);

  /* ---- run ---- */
  sh.bodies = bodies;
  sh.n_bodies = n_bodies;
  sh.budget = statements;
  sh.check_ids = check_ids;
  uint64_t nonce_src[2] = {(uint64_t)time(NULL), (uint64_t)getpid()};
  sh.nonce = gen_mix(nonce_src[0] ^ gen_mix(nonce_src[1]) ^ (uint64_t)(bh_now() * 1e9));
  double load = bh_loadavg();
  double t_start = bh_now();
  sh.t_measure = t_start + warmup;
  sh.t_end = statements >= 0 ? 0 : sh.t_measure + seconds;
  ws = calloc((size_t)clients, sizeof *ws);
  if (!ws) goto out;
  int started = 0;
  for (long i = 0; i < clients; i++) {
    ws[i].sh = &sh;
    ws[i].idx = (int)i;
    ws[i].send = malloc(sh.max_len + 1);
    if (!ws[i].send || pthread_create(&ws[i].th, NULL, worker_main, &ws[i])) break;
    started++;
  }
  if (started < clients) {
    fprintf(stderr, "bench_ingest: could not start %ld client threads\n", clients);
    for (int i = 0; i < started; i++) pthread_join(ws[i].th, NULL);
    goto out;
  }
  bh_sleep(sh.t_measure - bh_now());
  struct rusage ru0, ru1;
  getrusage(RUSAGE_SELF, &ru0);
  double srv_cpu0 = srv.pid > 0 ? bh_proc_cpu(srv.pid) : -1;
  double m0 = bh_now();
  if (sh.t_end > 0) bh_sleep(sh.t_end - bh_now());
  /* sample CPU at the end of the window, before the stragglers finish */
  double srv_cpu1 = -1;
  if (sh.t_end > 0) {
    srv_cpu1 = srv.pid > 0 ? bh_proc_cpu(srv.pid) : -1;
    getrusage(RUSAGE_SELF, &ru1);
  }
  for (long i = 0; i < clients; i++) pthread_join(ws[i].th, NULL);
  if (sh.t_end <= 0) {
    srv_cpu1 = srv.pid > 0 ? bh_proc_cpu(srv.pid) : -1;
    getrusage(RUSAGE_SELF, &ru1);
  }

  /* ---- aggregate ---- */
  long long stmts = 0, reqs = 0, errors = 0, bytes = 0;
  size_t n_lat = 0;
  double last = m0;
  for (long i = 0; i < clients; i++) {
    stmts += ws[i].stmts;
    reqs += ws[i].reqs;
    errors += ws[i].errors;
    bytes += ws[i].bytes;
    n_lat += ws[i].n_lat;
    if (ws[i].last_done > last) last = ws[i].last_done;
  }
  double window = sh.t_end > 0 ? sh.t_end - sh.t_measure : last - sh.t_measure;
  if (window <= 0) window = 1e-9;
  int64_t *all = malloc((n_lat ? n_lat : 1) * sizeof *all);
  if (!all) goto out;
  size_t o = 0;
  for (long i = 0; i < clients; i++) {
    if (ws[i].n_lat) memcpy(all + o, ws[i].lat, ws[i].n_lat * sizeof *all);
    o += ws[i].n_lat;
  }
  if (n_lat) qsort(all, n_lat, sizeof *all, bh_cmp_i64);
  double p50 = (double)bh_quantile(all, n_lat, 0.50) / 1000, p90 = (double)bh_quantile(all, n_lat, 0.90) / 1000;
  double p99 = (double)bh_quantile(all, n_lat, 0.99) / 1000, pmax = n_lat ? (double)all[n_lat - 1] / 1000 : 0;
  free(all);
  double cpu_window = sh.t_end > 0 ? sh.t_end - m0 : last - m0;
  if (cpu_window <= 0) cpu_window = 1e-9;
  double client_cpu = ((double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) + (double)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec) / 1e6 +
                       (double)(ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) + (double)(ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) / 1e6) /
                      cpu_window;
  double server_cpu = srv_cpu0 >= 0 && srv_cpu1 >= 0 ? (srv_cpu1 - srv_cpu0) / cpu_window : -1;
  double sps = (double)stmts / window, rps = (double)reqs / window, bps = (double)bytes / window;
  /* CPU per statement is steadier than throughput on a shared box: it does not depend on how
   * much of the machine the server got */
  double srv_us = server_cpu >= 0 && stmts ? (srv_cpu1 - srv_cpu0) * 1e6 / (double)stmts : -1;

  if (json) {
    printf("{\"url\":\"%s\",\"clients\":%ld,\"batch\":%ld,\"warmup_s\":%.1f,\"window_s\":%.2f,"
           "\"statements\":%lld,\"requests\":%lld,\"errors\":%lld,\"statements_per_s\":%.0f,"
           "\"requests_per_s\":%.1f,\"bytes_per_s\":%.0f,\"avg_statement_bytes\":%.0f,"
           "\"latency_ms\":{\"p50\":%.2f,\"p90\":%.2f,\"p99\":%.2f,\"max\":%.2f},"
           "\"generator_statements_per_s\":%.0f,\"client_cpu_cores\":%.2f,\"server_cpu_cores\":%.2f,"
           "\"server_cpu_us_per_statement\":%.1f,\"loadavg_before\":%.2f}\n",
           url, clients, batch, warmup, window, stmts, reqs, errors, sps, rps, bps, avg_stmt, p50, p90,
           p99, pmax, gen_rate, client_cpu, server_cpu, srv_us, load);
  } else {
    printf("bench_ingest  url=%s clients=%ld batch=%ld warmup=%.1fs window=%.1fs load-before=%.2f\n", url,
           clients, batch, warmup, window, load);
    printf("pool          %zu bodies x %ld statements, %.0f bytes/statement, rendered at %.0f statements/s "
           "(1 thread)\n",
           n_bodies, batch, avg_stmt, gen_rate);
    printf("sustained     %.0f statements/s   %.1f requests/s   %.1f MB/s sent\n", sps, rps, bps / 1e6);
    printf("latency/req   p50 %.1f ms   p90 %.1f ms   p99 %.1f ms   max %.1f ms   (%zu requests)\n", p50, p90,
           p99, pmax, n_lat);
    printf("errors        %lld of %lld requests\n", errors, reqs);
    if (server_cpu >= 0)
      printf("cpu           client %.2f cores, server %.2f cores (of %ld), server %.0f us CPU/statement\n",
             client_cpu, server_cpu, sysconf(_SC_NPROCESSORS_ONLN), srv_us);
    else
      printf("cpu           client %.2f cores\n", client_cpu);
  }
  code = errors || !stmts ? 1 : 0;
out:
  if (ws) {
    for (long i = 0; i < clients; i++) {
      free(ws[i].lat);
      free(ws[i].send);
    }
    free(ws);
  }
  if (bodies) {
    for (size_t k = 0; k < n_bodies; k++) {
      free(bodies[k].data);
      free(bodies[k].id_off);
    }
    free(bodies);
  }
  if (launch) {
    if (keep) fprintf(stderr, "bench_ingest: kept %s\n", srv.dir);
    bh_stop(&srv, keep);
  }
  return code;
}
