#!/usr/bin/env bash
# fuzz/run.sh — runs every libFuzzer harness (or the ones named) for a time or a number of
# executions each, then prints one line per harness: exit status, executions, executions per
# second, coverage, and the crash artifact if any. Exits non-zero if any harness crashed,
# leaked, timed out or failed to start.
#
#   fuzz/run.sh [-t SECONDS | -T TOTAL | -n RUNS] [-B BINDIR] [-w WORKDIR] [-j JOBS] [-b] [TARGET...]
#
#   -t SECONDS  fuzz each harness this long (default 120)
#   -T TOTAL    instead, share TOTAL seconds evenly among the harnesses (at least 10 s each;
#               with -j, among the parallel slots): a fixed budget however many harnesses exist
#   -n RUNS     instead, this many executions each; -n 0 only replays the seed corpus
#               (fuzz/corpus/<target>/, including the regress-* reproducers): a quick check
#   -B BINDIR   where fuzz_<target> binaries are (default: build/fuzz if it holds them, else
#               $TMPDIR/moocguard-fuzz/bin); missing binaries are built there with clang
#   -b          rebuild the binaries with clang even if present (direct commands, no CMake)
#   -w WORKDIR  working corpora, logs and crash artifacts (default $TMPDIR/moocguard-fuzz/work);
#               the seed corpora under fuzz/corpus/ are only read, never written
#   -j JOBS     harnesses run in parallel (default 1)
#   TARGET      json statement multipart jws agent_param time router csv audit (default: all)
#
# Extra libFuzzer flags can be passed in MG_FUZZ_FLAGS, e.g. MG_FUZZ_FLAGS="-use_value_profile=1".
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
ALL_TARGETS="json statement multipart jws agent_param time router csv audit"
TMP=${TMPDIR:-/tmp}/moocguard-fuzz
SECONDS_EACH=120
RUNS=""
BINDIR=""
WORK="$TMP/work"
JOBS=1
REBUILD=0
TOTAL=""

usage() { sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }

while getopts "t:T:n:B:w:j:bh" opt; do
  case $opt in
  t) SECONDS_EACH=$OPTARG ;;
  T) TOTAL=$OPTARG ;;
  n) RUNS=$OPTARG ;;
  B) BINDIR=$OPTARG ;;
  w) WORK=$OPTARG ;;
  j) JOBS=$OPTARG ;;
  b) REBUILD=1 ;;
  *) usage ;;
  esac
done
shift $((OPTIND - 1))
TARGETS=${*:-$ALL_TARGETS}
for t in $TARGETS; do
  case " $ALL_TARGETS " in *" $t "*) ;; *) echo "unknown target: $t" >&2; usage ;; esac
done
if [ -n "$TOTAL" ]; then
  count=$(echo $TARGETS | wc -w)
  SECONDS_EACH=$(( TOTAL * JOBS / count ))
  [ "$SECONDS_EACH" -lt 10 ] && SECONDS_EACH=10
  echo "budget ${TOTAL}s: ${SECONDS_EACH}s for each of $count harnesses"
fi

if [ -z "$BINDIR" ]; then
  BINDIR="$TMP/bin"
  if [ -x "$ROOT/build/fuzz/fuzz_json" ] && [ "$REBUILD" = 0 ]; then BINDIR="$ROOT/build/fuzz"; fi
fi
mkdir -p "$BINDIR" "$WORK" || exit 1

# The harnesses need the core and xapi units, the HTTP router and the CSV reader; fuzz_audit also
# the store (with its migrations embedded as the main build does), the audit log and the keyring.
build() {
  local t=$1 s="$ROOT/src" extra=""
  local lib="$s/core/arena.c $s/core/buf.c $s/core/err.c $s/core/json.c $s/core/time.c
             $s/core/uuid.c $s/core/log.c $s/xapi/validate.c $s/xapi/profile.c
             $s/xapi/statement.c $s/xapi/multipart.c $s/xapi/jws.c $s/xapi/version.c
             $s/http/router.c $s/registry/csv.c"
  if [ "$t" = audit ]; then
    cmake -DDIR="$s/store/migrations/sqlite" -DOUT="$BINDIR/sqlite_migrations.c" \
      -DSYMBOL=mg_store_sqlite_migrations -P "$ROOT/cmake/embed_migrations.cmake" || return 1
    extra="$s/store/*.c $s/audit/*.c $s/crypto/*.c $BINDIR/sqlite_migrations.c -lsqlite3"
  fi
  echo "building fuzz_$t in $BINDIR"
  # shellcheck disable=SC2086
  clang -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -DMG_VERSION='"fuzz"' \
    -Wall -Wextra -Wshadow -Wformat=2 -Wno-unused-parameter -Werror \
    -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
    -I"$s" -I"$HERE" "$HERE/fuzz_$t.c" $lib $extra \
    -ljansson -lsodium -lcrypto -lpthread -lm -o "$BINDIR/fuzz_$t"
}

for t in $TARGETS; do
  if [ "$REBUILD" = 1 ] || [ ! -x "$BINDIR/fuzz_$t" ]; then
    build "$t" || { echo "build of fuzz_$t failed" >&2; exit 1; }
  fi
done

dict_for() {
  case $1 in
  json) echo "$HERE/dict/json.dict" ;;
  multipart) echo "$HERE/dict/multipart.dict" ;;
  time) echo "$HERE/dict/time.dict" ;;
  router) echo "$HERE/dict/http.dict" ;;
  csv) echo "$HERE/dict/csv.dict" ;;
  audit) echo "$HERE/dict/audit.dict" ;;
  *) echo "$HERE/dict/xapi.dict" ;;
  esac
}

run_one() {
  local t=$1 corpus="$WORK/corpus/$t" art="$WORK/artifacts/$t/" log="$WORK/$t.log"
  local dict limit
  mkdir -p "$corpus" "$art"
  dict=$(dict_for "$t")
  if [ -n "$RUNS" ]; then limit="-runs=$RUNS"; else limit="-max_total_time=$SECONDS_EACH"; fi
  # new inputs go to the working corpus (first directory); the seeds are read from the second
  # shellcheck disable=SC2086
  "$BINDIR/fuzz_$t" $limit -timeout=25 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$art" -dict="$dict" ${MG_FUZZ_FLAGS:-} "$corpus" "$HERE/corpus/$t" \
    >"$log" 2>&1
  echo $? >"$WORK/$t.rc"
}

if [ "$JOBS" -le 1 ]; then
  for t in $TARGETS; do
    echo "fuzzing $t ..."
    run_one "$t"
  done
else
  for t in $TARGETS; do
    while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n; done
    echo "fuzzing $t ..."
    run_one "$t" &
  done
  wait
fi

status=0
printf '\n%-12s %6s %12s %9s %7s %8s  %s\n' harness exit execs "exec/s" cov ft artifact
for t in $TARGETS; do
  log="$WORK/$t.log"
  rc=$(cat "$WORK/$t.rc" 2>/dev/null || echo 1)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  covline=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1)
  cov=$(echo "$covline" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
  ft=$(echo "$covline" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
  crash=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
  printf '%-12s %6s %12s %9s %7s %8s  %s\n' "$t" "$rc" "${execs:--}" "${speed:--}" "${cov:--}" \
    "${ft:--}" "${crash:-}"
  if [ "$rc" != 0 ]; then
    status=1
    grep -E 'invariant failed|ERROR: |SUMMARY: |runtime error' "$log" | head -5 | sed 's/^/    /'
  fi
done
echo "logs: $WORK/<target>.log"
exit $status
