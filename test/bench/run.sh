#!/usr/bin/env bash
# The benchmark: builds and installs the extension system-wide, starts a server of its own
# (port 54340, data under tmp_check/bench) with the background worker running, then:
#   test/bench/bench.py           throughput (synchronous_commit on and off), dispatch latency,
#                                 WAL per task, dispatch time by queue depth, dead tuples and
#                                 size, throughput with a snapshot held open -> a JSON file
#   test/bench/notify_latency.py  dispatch-hint latency, idle and at 50% of peak load -> same JSON
#   test/bench/instructions.py    instructions per cycle (callgrind), the server stopped -> same JSON
#   test/bench/report.py          test/bench/results/latest.md, its PNG charts (gnuplot) and
#                                 latest.json
# and stops the server.
#
#   bash test/bench/run.sh                 # about 60 minutes on 2 cores
#   BENCH_QUICK=1 bash test/bench/run.sh   # a smoke test, about 6 minutes
#
# Time of a full run, by step (2 cores): throughput ~34 min (18 with synchronous_commit on,
# 16 off), dispatch ~1 min, wal ~1.5 min, depth ~3 min, bloat ~5.5 min (1,000,000 tasks, 2
# contenders), snapshot ~5 min, sustained ~13 min, hint latency ~3 min, instructions ~6 min;
# the build ~1 min.
# Narrow it with:
#   BENCH_STEPS ("throughput dispatch wal depth bloat snapshot sustained notify instructions"),
#   BENCH_SYNC_MODES ("on off"; the first is the headline), BENCH_SECONDS (per throughput point, 30; 3 quick),
#   BENCH_ROUNDS (interleaved rounds per point, 6; 3 quick), BENCH_CLIENTS ("1 4 8"), BENCH_BATCHES
#   ("1 10"), BENCH_DISPATCH_N (timed dispatches per point, 3000; 600 quick), BENCH_WAL_CYCLES
#   (3000; 500 quick), BENCH_DEPTH_SECONDS (10; 3 quick), BENCH_DEPTHS ("1000 100000 1000000";
#   quick "1000 100000"), BENCH_BLOAT_CYCLES (tasks through the cycle, 1000000; 50000 quick),
#   BENCH_BLOAT_CLIENTS (4), BENCH_BLOAT_SAMPLES (10; 4 quick), BENCH_BLOAT_CONTENDERS and
#   BENCH_SNAPSHOT_CONTENDERS ("orchestrator_on plain_skip_locked"), BENCH_SNAPSHOT_SECONDS (60;
#   10 quick), BENCH_SNAPSHOT_CLIENTS (4), BENCH_SNAPSHOT_BATCH (1), BENCH_SUSTAINED_SECONDS
#   (60; 10 quick), BENCH_SUSTAINED_CLIENTS ("1 4 8"; quick "4"), BENCH_SUSTAINED_BATCHES
#   ("1 10"), BENCH_SUSTAINED_CONTENDERS ("orchestrator_on plain_skip_locked"), BENCH_LATENCY_N (enqueues
#   timed for the hint latency, 1000; 200 quick); and BENCH_PORT (54340), BENCH_SKIP_BUILD=1
#   (use the extension already installed), BENCH_REPORT (the markdown file, default
#   test/bench/results/latest.md; charts and latest.json go beside it). settings.py reads them.
# Raw pgbench output, scripts, transaction logs, the JSON and the server log stay under
# tmp_check/bench/.
set -euo pipefail
umask 022

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
# shellcheck source=test/lib.sh
source "$ROOT/test/lib.sh"
# notify_latency.py's LISTEN client; charts; instructions.py's counter
REQUIRED_PACKAGES+=(python3-psycopg2 gnuplot-nox valgrind)

PORT=${BENCH_PORT:-54340}
BENCH_DIR=$ROOT/tmp_check/bench
DATA=$BENCH_DIR/data
SOCK=$BENCH_DIR/sock
LOGDIR=$BENCH_DIR/log
BIN=$PG_LIBDIR/bin
SERVER_STARTED=0
DB=bench # bench.py's database, the one the worker serves
WORKER_ROLE=orchestrator_pulse

cleanup() {
    if [ "$SERVER_STARTED" = 1 ]; then
        log "Stopping the benchmark server"
        stop_cluster "$BIN" "$DATA"
        SERVER_STARTED=0
    fi
    if [ "$SOCK" != "$BENCH_DIR/sock" ]; then rm -rf "$SOCK"; fi
    restore_traverse
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# One benchmark at a time per build tree: a second one would wipe the first's server.
take_lock() {
    mkdir -p "$BENCH_DIR"
    exec 8>"$BENCH_DIR/.lock"
    flock -n 8 || die "another benchmark is using $BENCH_DIR"
}

build_and_install() {
    ensure_packages
    if [ "${BENCH_SKIP_BUILD:-0}" = 1 ]; then
        log "BENCH_SKIP_BUILD=1: using the installed extension"
        return
    fi
    log "Building and installing the extension system-wide"
    make -s
    as_root make -s install
}

start_server() {
    log "Starting the benchmark server on port $PORT"
    # A server left behind by an interrupted run would hold the port and the data dir.
    if [ -f "$DATA/postmaster.pid" ]; then stop_cluster "$BIN" "$DATA"; fi
    grant_postgres_traverse "$BENCH_DIR"
    rm -rf "$DATA" "$LOGDIR" "$BENCH_DIR/sock"
    make_postgres_dir "$DATA" 0700
    make_postgres_dir "$LOGDIR" 0755
    # A unix socket path is limited to 107 bytes; a deep checkout gets one in /tmp.
    if [ ${#SOCK} -gt 80 ]; then
        SOCK=$(mktemp -d /tmp/orchestrator-bench.XXXXXX)
    fi
    make_postgres_dir "$SOCK" 0755

    as_postgres "$BIN/initdb" -D "$DATA" -U postgres --auth=trust --no-locale -E UTF8 \
        >"$LOGDIR/initdb.log" 2>&1 || { cat "$LOGDIR/initdb.log"; return 1; }
    as_postgres tee -a "$DATA/postgresql.conf" >/dev/null <<CONF

# Added by test/bench/run.sh
port = $PORT
listen_addresses = ''
unix_socket_directories = '$SOCK'
shared_preload_libraries = 'orchestrator'
shared_buffers = 512MB
max_connections = 50
fsync = on
# bench.py sets synchronous_commit = off per session where it measures that.
synchronous_commit = on
# Checkpoints are taken between points (CHECKPOINT), not by WAL volume inside one.
max_wal_size = 4GB
log_lock_waits = on
log_line_prefix = '%m [%p] %q%a '
# The background worker serves the benchmark database. Its heartbeat (a whole pass) runs at its
# start and then not again in a run; it reacts to enqueue commits at most once per
# orchestrator.hint_interval (default 100 ms; notify_latency.py sets 0 while it measures).
orchestrator.database = '$DB'
orchestrator.heartbeat_interval = '24h'
CONF
    SERVER_STARTED=1
    start_cluster "$BIN" "$DATA" "$LOGDIR/server.log"
    wait_ready "$BIN" "$SOCK" "$PORT" || { tail -n 50 "$LOGDIR/server.log"; return 1; }

    # The worker connects at server start as orchestrator.worker_role (a postmaster setting) to
    # orchestrator.database: both must exist by then. bench.py uses the database made here.
    "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$SOCK" -p "$PORT" -U postgres -d postgres \
        -c "CREATE ROLE $WORKER_ROLE LOGIN SUPERUSER" -c "CREATE DATABASE $DB"
    echo "orchestrator.worker_role = '$WORKER_ROLE'" \
        | as_postgres tee -a "$DATA/postgresql.conf" >/dev/null
    log "Restarting the benchmark server with the orchestrator worker"
    stop_cluster "$BIN" "$DATA"
    start_cluster "$BIN" "$DATA" "$LOGDIR/server.log"
    wait_ready "$BIN" "$SOCK" "$PORT" || { tail -n 50 "$LOGDIR/server.log"; return 1; }
}

take_lock
build_and_install
start_server
RESULTS=$BENCH_DIR/results.json
REPORT=${BENCH_REPORT:-$ROOT/test/bench/results/latest.md}
rm -f "$RESULTS"
log "Running the benchmark"
python3 "$ROOT/test/bench/bench.py" --bindir "$BIN" --host "$SOCK" --port "$PORT" \
    --workdir "$BENCH_DIR" --server-log "$LOGDIR/server.log" --results "$RESULTS"
if [[ " ${BENCH_STEPS:-notify} " == *" notify "* ]]; then
    log "Measuring the dispatch hint latency"
    # The interpreter python3-psycopg2 is for (a python3 earlier on PATH may not see it).
    /usr/bin/python3 "$ROOT/test/bench/notify_latency.py" --bindir "$BIN" --host "$SOCK" \
        --port "$PORT" --workdir "$BENCH_DIR" --server-log "$LOGDIR/server.log" \
        --results "$RESULTS"
fi
if [[ " ${BENCH_STEPS:-instructions} " == *" instructions "* ]]; then
    log "Counting instructions per cycle (callgrind, on copies of the stopped cluster)"
    stop_cluster "$BIN" "$DATA"
    SERVER_STARTED=0
    python3 "$ROOT/test/bench/instructions.py" --bindir "$BIN" --data "$DATA" \
        --workdir "$BENCH_DIR/instructions" --results "$RESULTS"
fi
log "Writing the report"
python3 "$ROOT/test/bench/report.py" --results "$RESULTS" --report "$REPORT"
