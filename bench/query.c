/* bench/query.c — latency of typical filtered GET /xapi/statements queries over HTTP.
 *
 * Against a running server (--url/--key/--secret) or one it starts (--launch --bin, on --store
 * PATH or a new temporary store), optionally after pushing --build N generated statements. It
 * then samples the store with a few GETs spread over its stored-time range to learn which agents,
 * verbs, activities, courses and registrations exist, so it works on any store, including one
 * built by another tool. Each query type runs --iterations times with different parameters on
 * one keep-alive connection; it prints p50/p90/p99/max latency and the rows returned. */
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>

#include "core/time.h"
#include "gen.h"

typedef struct sample {
  char *agent;    /* agent query parameter (JSON) */
  char *verb;
  char *object;   /* object activity id, or NULL */
  char *course;   /* grouping[0] (course) or parent[0] id, or NULL */
  char *reg;      /* registration, or NULL */
  char *stored;
} sample;

typedef struct samples {
  sample *v;
  size_t n, cap;
} samples;

enum { Q_RECENT, Q_AGENT, Q_AGENT_VERB, Q_ACTIVITY, Q_RELATED, Q_REG, Q_VERB_SINCE, Q_ASC, Q_MORE, Q_N };
static const char *const q_names[Q_N] = {"recent (no filter)", "agent",        "agent+verb",
                                         "activity",           "activity+related_activities",
                                         "registration",       "verb+since",   "agent ascending",
                                         "more (next page)"};
static const char *const q_keys[Q_N] = {"recent", "agent", "agent_verb", "activity", "activity_related",
                                        "registration", "verb_since", "agent_ascending", "more"};

typedef struct qstat {
  int64_t *lat;
  size_t n, cap;
  long long rows, empty, errors;
  long long rows_min, rows_max;
} qstat;

static char *dup_str(const char *s) {
  if (!s) return NULL;
  size_t n = strlen(s) + 1;
  char *p = malloc(n);
  if (p) memcpy(p, s, n);
  return p;
}

static void sample_free(sample *s) {
  free(s->agent);
  free(s->verb);
  free(s->object);
  free(s->course);
  free(s->reg);
  free(s->stored);
}

/* The agent query parameter for an actor: its objectType and inverse functional identifier. */
static char *agent_param(json_t *actor) {
  json_t *o = json_object();
  if (!o) return NULL;
  json_object_set_new(o, "objectType", json_string("Agent"));
  static const char *const ifis[] = {"mbox", "mbox_sha1sum", "openid", "account"};
  int found = 0;
  for (size_t i = 0; i < 4; i++) {
    json_t *v = json_object_get(actor, ifis[i]);
    if (v) {
      json_object_set(o, ifis[i], v);
      found = 1;
    }
  }
  char *text = found ? json_dumps(o, JSON_COMPACT) : NULL;
  json_decref(o);
  return text;
}

static const char *first_id(json_t *ca, const char *kind) {
  json_t *a = json_object_get(ca, kind);
  if (json_is_object(a)) return json_string_value(json_object_get(a, "id"));
  return json_string_value(json_object_get(json_array_get(a, 0), "id"));
}

static int samples_add(samples *ss, json_t *st) {
  json_t *actor = json_object_get(st, "actor");
  const char *verb = json_string_value(json_object_get(json_object_get(st, "verb"), "id"));
  const char *stored = json_string_value(json_object_get(st, "stored"));
  if (!actor || !verb || !stored) return MG_OK; /* groups without IFI and the like: skip */
  char *agent = agent_param(actor);
  if (!agent) return MG_OK;
  if (ss->n == ss->cap) {
    size_t cap = ss->cap ? ss->cap * 2 : 256;
    sample *p = realloc(ss->v, cap * sizeof *p);
    if (!p) {
      free(agent);
      return MG_ENOMEM;
    }
    ss->v = p;
    ss->cap = cap;
  }
  sample *s = &ss->v[ss->n];
  memset(s, 0, sizeof *s);
  s->agent = agent;
  json_t *obj = json_object_get(st, "object");
  const char *ot = json_string_value(json_object_get(obj, "objectType"));
  if (!ot || !strcmp(ot, "Activity")) s->object = dup_str(json_string_value(json_object_get(obj, "id")));
  json_t *ctx = json_object_get(st, "context");
  json_t *ca = json_object_get(ctx, "contextActivities");
  const char *course = first_id(ca, "grouping");
  if (!course) course = first_id(ca, "parent");
  s->course = dup_str(course);
  s->reg = dup_str(json_string_value(json_object_get(ctx, "registration")));
  s->verb = dup_str(verb);
  s->stored = dup_str(stored);
  if (!s->verb || !s->stored) {
    sample_free(s);
    return MG_ENOMEM;
  }
  ss->n++;
  return MG_OK;
}

/* GET target; parses the body into *doc (caller decrefs). Returns MG_OK only on 200 + JSON. */
static int get_json(bh_conn *c, const char *target, json_t **doc, double *ms) {
  double t0 = bh_now();
  int rc = bh_request(c, "GET", target, NULL, NULL, 0);
  double t1 = bh_now();
  if (ms) *ms = (t1 - t0) * 1e3;
  *doc = NULL;
  if (rc) return rc;
  if (c->status != 200) return MG_EINVAL;
  *doc = json_loadb(c->body.data, c->body.len, 0, NULL);
  return *doc ? MG_OK : MG_EINVAL;
}

static void print_http_error(const char *what, bh_conn *c, int rc) {
  if (rc == MG_EINVAL && c->status != 200)
    fprintf(stderr, "bench_query: %s: HTTP %d: %.1000s\n", what, c->status, c->body.data ? c->body.data : "");
  else
    fprintf(stderr, "bench_query: %s: %s\n", what, mg_strerror(rc));
}

/* Learns what the store holds: the oldest and newest statement, then `points` pages spread evenly
 * over the stored-time range between them. */
static int sample_store(bh_conn *c, int points, int per_page, samples *ss) {
  json_t *doc = NULL;
  char target[512];
  int rc = get_json(c, "/xapi/statements?limit=1&ascending=true", &doc, NULL);
  if (rc) {
    print_http_error("sampling", c, rc);
    return rc;
  }
  const char *first = json_string_value(json_object_get(json_array_get(json_object_get(doc, "statements"), 0), "stored"));
  mg_timestamp t_first, t_last;
  int have_first = first && mg_time_parse_iso(first, 0, &t_first) == MG_OK;
  json_decref(doc);
  rc = get_json(c, "/xapi/statements?limit=1", &doc, NULL);
  if (rc) {
    print_http_error("sampling", c, rc);
    return rc;
  }
  const char *last = json_string_value(json_object_get(json_array_get(json_object_get(doc, "statements"), 0), "stored"));
  int have_last = last && mg_time_parse_iso(last, 0, &t_last) == MG_OK;
  json_decref(doc);
  if (!have_first || !have_last) {
    fprintf(stderr, "bench_query: the store is empty (use --build N)\n");
    return MG_ENOTFOUND;
  }
  for (int p = 0; p < points; p++) {
    int64_t at = t_first.us - 1000 + (t_last.us - t_first.us) / points * p;
    char iso[MG_TIME_ISO_LEN];
    mg_time_format_iso(at, 6, iso);
    mg_buf q;
    mg_buf_init(&q, 4096);
    rc = mg_buf_adds(&q, "/xapi/statements?ascending=true&limit=");
    if (!rc) rc = mg_buf_addf(&q, "%d&since=", per_page);
    if (!rc) rc = bh_urlenc(&q, iso);
    if (!rc) snprintf(target, sizeof target, "%s", q.data);
    mg_buf_free(&q);
    if (rc) return rc;
    rc = get_json(c, target, &doc, NULL);
    if (rc) {
      print_http_error("sampling", c, rc);
      return rc;
    }
    json_t *arr = json_object_get(doc, "statements");
    for (size_t i = 0; i < json_array_size(arr) && !rc; i++) rc = samples_add(ss, json_array_get(arr, i));
    json_decref(doc);
    if (rc) return rc;
  }
  return ss->n ? MG_OK : MG_ENOTFOUND;
}

/* ---- --build: push N generated statements first ---- */

typedef struct builder {
  const bh_target *t;
  const gen_world *world;
  long long total;
  long batch;
  atomic_llong next;
  atomic_llong done;
  atomic_llong errors;
  atomic_int printed;
} builder;

static void *build_main(void *arg) {
  builder *bd = arg;
  bh_conn c;
  bh_conn_init(&c, bd->t);
  mg_buf b;
  mg_buf_init(&b, (size_t)1 << 30);
  for (;;) {
    long long from = atomic_fetch_add(&bd->next, bd->batch);
    if (from >= bd->total) break;
    long long to = from + bd->batch > bd->total ? bd->total : from + bd->batch;
    mg_buf_reset(&b);
    int rc = mg_buf_addc(&b, '[');
    for (long long i = from; i < to && !rc; i++) {
      if (i > from) rc = mg_buf_addc(&b, ',');
      if (!rc) rc = gen_statement(bd->world, (uint64_t)i, &b);
    }
    if (!rc) rc = mg_buf_addc(&b, ']');
    if (!rc) rc = bh_request(&c, "POST", "/xapi/statements", "application/json", b.data, b.len);
    if (!rc && c.status == 200) {
      atomic_fetch_add(&bd->done, to - from);
      continue;
    }
    atomic_fetch_add(&bd->errors, 1);
    int expected = 0;
    if (atomic_compare_exchange_strong(&bd->printed, &expected, 1)) {
      if (rc) fprintf(stderr, "bench_query: build: %s\n", mg_strerror(rc));
      else fprintf(stderr, "bench_query: build: HTTP %d: %.1000s\n", c.status, c.body.data);
    }
    if (rc) usleep(10000);
  }
  mg_buf_free(&b);
  bh_conn_free(&c);
  return NULL;
}

static int build_store(const bh_target *t, const gen_world *world, long long n, long clients, long batch,
                       int quiet) {
  builder bd;
  memset(&bd, 0, sizeof bd);
  bd.t = t;
  bd.world = world;
  bd.total = n;
  bd.batch = batch;
  pthread_t th[64];
  int started = 0;
  double t0 = bh_now();
  for (long i = 0; i < clients && i < 64; i++) {
    if (pthread_create(&th[i], NULL, build_main, &bd)) break;
    started++;
  }
  double last_print = t0;
  while (atomic_load(&bd.next) < bd.total) {
    usleep(200000);
    double now = bh_now();
    if (!quiet && now - last_print >= 10) {
      long long d = atomic_load(&bd.done);
      fprintf(stderr, "bench_query: build: %lld / %lld statements, %.0f statements/s\n", d, n,
              (double)d / (now - t0));
      last_print = now;
    }
  }
  for (int i = 0; i < started; i++) pthread_join(th[i], NULL);
  double s = bh_now() - t0;
  long long d = atomic_load(&bd.done);
  if (!quiet)
    fprintf(stderr, "bench_query: build: %lld statements in %.1f s (%.0f statements/s), %lld failed requests\n",
            d, s, (double)d / (s > 0 ? s : 1e-9), (long long)atomic_load(&bd.errors));
  return started ? (atomic_load(&bd.errors) ? MG_EIO : MG_OK) : MG_EIO;
}

/* ---- the query types ---- */

static int add_param(mg_buf *q, const char *name, const char *value) {
  int rc = mg_buf_addf(q, "%s%s=", q->data && strchr(q->data, '?') ? "&" : "?", name);
  return rc ? rc : bh_urlenc(q, value);
}

/* Builds the target of query type k from sample s. MG_ENOTFOUND if s lacks what k needs. */
static int make_query(int k, const sample *s, long limit, mg_buf *q) {
  mg_buf_reset(q);
  int rc = mg_buf_adds(q, "/xapi/statements");
  if (rc) return rc;
  switch (k) {
  case Q_RECENT:
    break;
  case Q_AGENT:
    rc = add_param(q, "agent", s->agent);
    break;
  case Q_AGENT_VERB:
    rc = add_param(q, "agent", s->agent);
    if (!rc) rc = add_param(q, "verb", s->verb);
    break;
  case Q_ACTIVITY:
    if (!s->object) return MG_ENOTFOUND;
    rc = add_param(q, "activity", s->object);
    break;
  case Q_RELATED:
  case Q_MORE:
    if (!s->course) return MG_ENOTFOUND;
    rc = add_param(q, "activity", s->course);
    if (!rc) rc = add_param(q, "related_activities", "true");
    break;
  case Q_REG:
    if (!s->reg) return MG_ENOTFOUND;
    rc = add_param(q, "registration", s->reg);
    break;
  case Q_VERB_SINCE:
    rc = add_param(q, "verb", s->verb);
    if (!rc) rc = add_param(q, "since", s->stored);
    break;
  case Q_ASC:
    rc = add_param(q, "agent", s->agent);
    if (!rc) rc = add_param(q, "ascending", "true");
    break;
  default:
    return MG_EINVAL;
  }
  if (!rc) rc = mg_buf_addf(q, "%slimit=%ld", strchr(q->data, '?') ? "&" : "?", limit);
  return rc;
}

static int qstat_add(qstat *st, int64_t us, long long rows) {
  if (st->n == st->cap) {
    size_t cap = st->cap ? st->cap * 2 : 256;
    int64_t *p = realloc(st->lat, cap * sizeof *p);
    if (!p) return MG_ENOMEM;
    st->lat = p;
    st->cap = cap;
  }
  st->lat[st->n++] = us;
  if (st->n == 1 || rows < st->rows_min) st->rows_min = rows;
  if (rows > st->rows_max) st->rows_max = rows;
  st->rows += rows;
  if (!rows) st->empty++;
  return MG_OK;
}

/* Runs one GET, counting rows; on success *more_out (may be NULL) gets a malloc'd `more` URL or
 * NULL. Returns MG_OK, or an error already counted in st. */
static int timed_get(bh_conn *c, const char *target, qstat *st, char **more_out, int *printed) {
  json_t *doc = NULL;
  double ms;
  if (more_out) *more_out = NULL;
  int rc = get_json(c, target, &doc, &ms);
  if (rc) {
    st->errors++;
    if (!*printed) {
      print_http_error(target, c, rc);
      *printed = 1;
    }
    return rc;
  }
  long long rows = (long long)json_array_size(json_object_get(doc, "statements"));
  const char *more = json_string_value(json_object_get(doc, "more"));
  if (more_out && more && *more) {
    /* `more` may be absolute (http://host/...) or relative to the server root */
    const char *p = more;
    if (!strncmp(p, "http://", 7) || !strncmp(p, "https://", 8)) {
      p = strchr(strstr(p, "//") + 2, '/');
      if (!p) p = "/";
    }
    size_t pl = strlen(c->t->prefix);
    if (pl && !strncmp(p, c->t->prefix, pl)) p += pl;
    *more_out = dup_str(p);
  }
  json_decref(doc);
  return qstat_add(st, (int64_t)(ms * 1000), rows);
}

static void usage(FILE *out) {
  fprintf(out,
          "usage: bench_query [--url http://127.0.0.1:8080 --key K --secret S | --launch --bin PATH [--store PATH]]\n"
          "                   [--build N [--clients N] [--batch N]] [--iterations N] [--limit N] [--pages N]\n"
          "                   [--samples N] [--seed N --students N --courses N] [--server-args \"...\"] [--keep] [--json]\n\n"
          "Measures GET /xapi/statements latency for typical filters: no filter, agent, agent+verb,\n"
          "activity, activity+related_activities (a course), registration, verb+since, agent ascending,\n"
          "and following `more` links.\n"
          "  --launch           start `BIN serve` on --store PATH (an existing store) or a new temporary one\n"
          "  --build N          first push N generated statements (--clients 4, --batch 1000)\n"
          "  --iterations N     queries per type, each with different parameters (200)\n"
          "  --limit N          page size asked for (100)\n"
          "  --pages N          `more` links followed per paging walk (5)\n"
          "  --samples N        sampling GETs spread over the stored-time range (40, 200 statements each)\n"
          "  --json             one JSON object on stdout instead of a table\n");
}

int main(int argc, char **argv) {
  const char *url = "http://127.0.0.1:8080", *key = NULL, *secret = NULL, *bin = NULL, *store = NULL;
  const char *server_args = NULL;
  long clients = 4, batch = 1000, iterations = 200, limit = 100, pages = 5, points = 40;
  long students = 50000, courses = 2000, seed = 1;
  long long build = 0;
  int launch = 0, json = 0, keep = 0;
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
    else if (OPT("--url")) url = v;
    else if (OPT("--key")) key = v;
    else if (OPT("--secret")) secret = v;
    else if (OPT("--bin")) bin = v;
    else if (OPT("--store")) store = v;
    else if (OPT("--server-args")) server_args = v;
    else if (OPT("--clients")) bad = bh_parse_long(v, 1, 64, &clients) != MG_OK;
    else if (OPT("--batch")) bad = bh_parse_long(v, 1, 100000, &batch) != MG_OK;
    else if (OPT("--iterations")) bad = bh_parse_long(v, 1, 10000000, &iterations) != MG_OK;
    else if (OPT("--limit")) bad = bh_parse_long(v, 1, 100000, &limit) != MG_OK;
    else if (OPT("--pages")) bad = bh_parse_long(v, 1, 100000, &pages) != MG_OK;
    else if (OPT("--samples")) bad = bh_parse_long(v, 1, 10000, &points) != MG_OK;
    else if (OPT("--students")) bad = bh_parse_long(v, 1, 100000000, &students) != MG_OK;
    else if (OPT("--courses")) bad = bh_parse_long(v, 1, 10000000, &courses) != MG_OK;
    else if (OPT("--seed")) bad = bh_parse_long(v, 0, 2147483647, &seed) != MG_OK;
    else if (OPT("--build")) {
      bad = bh_parse_long(v, 1, 2000000000L, &lv) != MG_OK;
      build = lv;
    } else bad = 1;
#undef OPT
    if (bad) {
      fprintf(stderr, "bench_query: bad or incomplete option '%s'\n\n", a);
      usage(stderr);
      return 2;
    }
  }
  if (launch && !bin) {
    fprintf(stderr, "bench_query: --launch needs --bin PATH (e.g. build/moocguard)\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);

  int code = 1;
  bh_server srv;
  memset(&srv, 0, sizeof srv);
  samples ss = {NULL, 0, 0};
  qstat st[Q_N];
  memset(st, 0, sizeof st);
  bh_target t;
  bh_conn c;
  int conn_ready = 0;
  mg_buf q;
  mg_buf_init(&q, 1 << 20);
  char urlbuf[64];
  if (launch) {
    if (bh_launch(bin, store, server_args, &srv)) {
      fprintf(stderr, "bench_query: could not start %s (log: %s)\n", bin, srv.log);
      goto out;
    }
    snprintf(urlbuf, sizeof urlbuf, "http://127.0.0.1:%d", srv.port);
    url = urlbuf;
    key = srv.key;
    secret = srv.secret;
    if (!json) fprintf(stderr, "bench_query: server pid %d on %s, store %s\n", (int)srv.pid, url, srv.store);
  }
  if (bh_target_parse(url, key, secret, &t)) {
    fprintf(stderr, "bench_query: bad --url '%s' (http://host[:port][/prefix])\n", url);
    goto out;
  }
  if (build > 0) {
    gen_world world;
    gen_world_init(&world, (uint64_t)seed, (uint32_t)students, (uint32_t)courses);
    if (build_store(&t, &world, build, clients, batch, json)) goto out;
  }
  bh_conn_init(&c, &t);
  conn_ready = 1;
  if (sample_store(&c, (int)points, 200, &ss)) goto out;

  gen_rng r = {(uint64_t)seed * 7919 + 17};
  int printed = 0;
  double t_run = bh_now();
  for (int k = 0; k < Q_MORE; k++) {
    for (long it = 0, tries = 0; it < iterations && tries < iterations * 20; tries++) {
      const sample *s = &ss.v[gen_below(&r, (uint32_t)ss.n)];
      int rc = make_query(k, s, limit, &q);
      if (rc == MG_ENOTFOUND) continue;
      if (rc) goto out;
      it++;
      rc = timed_get(&c, q.data, &st[k], NULL, &printed);
      if (rc == MG_ENOMEM) goto out;
    }
  }
  /* paging: start a course query, then follow `more` up to --pages times; on a small store where
   * courses fit in one page, walk the unfiltered statement list instead */
  int fruitless = 0;
  for (long tries = 0; (long)st[Q_MORE].n < iterations && tries < iterations * 20; tries++) {
    const sample *s = &ss.v[gen_below(&r, (uint32_t)ss.n)];
    int rc = make_query(fruitless >= 20 ? Q_RECENT : Q_MORE, s, limit, &q);
    if (rc == MG_ENOTFOUND) continue;
    if (rc) goto out;
    qstat first;
    memset(&first, 0, sizeof first);
    char *more = NULL;
    rc = timed_get(&c, q.data, &first, &more, &printed);
    free(first.lat);
    st[Q_MORE].errors += first.errors;
    if (!rc && !more) fruitless++;
    for (long p = 0; !rc && more && p < pages && (long)st[Q_MORE].n < iterations; p++) {
      char *next = NULL;
      rc = timed_get(&c, more, &st[Q_MORE], &next, &printed);
      free(more);
      more = next;
    }
    free(more);
    if (rc == MG_ENOMEM) goto out;
  }
  double run_s = bh_now() - t_run;

  long long errors = 0;
  if (json) printf("{\"url\":\"%s\",\"limit\":%ld,\"samples\":%zu,\"queries\":{", url, limit, ss.n);
  else {
    printf("bench_query  url=%s  limit=%ld  %zu sampled statements  %.1f s\n", url, limit, ss.n, run_s);
    printf("%-28s %6s %9s %9s %9s %9s %9s %6s %6s\n", "query", "n", "p50 ms", "p90 ms", "p99 ms", "max ms",
           "avg rows", "empty", "errors");
  }
  for (int k = 0; k < Q_N; k++) {
    qstat *x = &st[k];
    if (x->n) qsort(x->lat, x->n, sizeof *x->lat, bh_cmp_i64);
    double p50 = (double)bh_quantile(x->lat, x->n, 0.5) / 1000, p90 = (double)bh_quantile(x->lat, x->n, 0.9) / 1000;
    double p99 = (double)bh_quantile(x->lat, x->n, 0.99) / 1000, mx = x->n ? (double)x->lat[x->n - 1] / 1000 : 0;
    double avg = x->n ? (double)x->rows / (double)x->n : 0;
    errors += x->errors;
    if (json)
      printf("%s\"%s\":{\"n\":%zu,\"p50_ms\":%.2f,\"p90_ms\":%.2f,\"p99_ms\":%.2f,\"max_ms\":%.2f,"
             "\"avg_rows\":%.1f,\"min_rows\":%lld,\"max_rows\":%lld,\"empty\":%lld,\"errors\":%lld}",
             k ? "," : "", q_keys[k], x->n, p50, p90, p99, mx, avg, x->rows_min, x->rows_max, x->empty, x->errors);
    else
      printf("%-28s %6zu %9.2f %9.2f %9.2f %9.2f %9.1f %6lld %6lld\n", q_names[k], x->n, p50, p90, p99, mx, avg,
             x->empty, x->errors);
  }
  if (json) printf("},\"errors\":%lld}\n", errors);
  code = errors ? 1 : 0;
out:
  for (int k = 0; k < Q_N; k++) free(st[k].lat);
  for (size_t i = 0; i < ss.n; i++) sample_free(&ss.v[i]);
  free(ss.v);
  mg_buf_free(&q);
  if (conn_ready) bh_conn_free(&c);
  if (launch) {
    if (keep) fprintf(stderr, "bench_query: kept %s\n", srv.dir);
    bh_stop(&srv, keep);
  }
  return code;
}
