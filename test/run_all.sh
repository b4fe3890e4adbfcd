#!/usr/bin/env bash
# The test command: installs what is missing, builds, runs the unit tests, then
# runs the regression, isolation and TAP tests against a throwaway server
# installed under tmp_check/. Its last line is always "N passed, M failed".
#
# Environment: ORCH_TEST_PORT (default 54329); REGRESS / ISOLATION override
# the Makefile's lists (set to "" to skip a kind); SKIP_UNIT=1, SKIP_TAP=1,
# SKIP_OBSERVABILITY=1 (the promtool and Chromium checks of the export and dashboard),
# SKIP_N8N=1; ORCH_N8N_DIR (default tmp_check/n8n) keeps the n8n install; SKIP_DEMO=1 (the demo's
# workload driver), ORCH_DEMO_TEST_SECONDS (its duration here, default 45; shorter runs may end
# before a breaker recovers).
set -euo pipefail
umask 022

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=test/lib.sh
source "$ROOT/test/lib.sh"
# promtool parses the Prometheus export; Chromium renders the dashboard.
REQUIRED_PACKAGES+=(prometheus chromium python3)
# The demo's workload driver (examples/demo/drive.py) uses psycopg2.
REQUIRED_PACKAGES+=(python3-psycopg2)

PORT=${ORCH_TEST_PORT:-54329}
CHECK=$ROOT/tmp_check
INSTALL=$CHECK/install
BIN=$INSTALL$PG_LIBDIR/bin
PGXS_TEST=$INSTALL$PG_LIBDIR/lib/pgxs/src/test
DATA=$CHECK/data
LOGDIR=$CHECK/log
SOCK=$CHECK/sock
DBHOST=$SOCK

TOTAL_PASSED=0
TOTAL_FAILED=0
SUMMARY=()
SERVER_STARTED=0

# Adds one kind's counts to the totals and the summary table.
record() { # KIND PASSED FAILED
    TOTAL_PASSED=$((TOTAL_PASSED + $2))
    TOTAL_FAILED=$((TOTAL_FAILED + $3))
    SUMMARY+=("$(printf '%-12s %4d passed, %d failed' "$1" "$2" "$3")")
}

cleanup() {
    if [ "$SERVER_STARTED" = 1 ]; then
        stop_cluster "$BIN" "$DATA"
        SERVER_STARTED=0
    fi
    if [ "$DBHOST" != "$SOCK" ]; then rm -rf "$DBHOST"; fi
    restore_traverse
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# One run at a time per build tree: a second one would wipe the first's server.
take_lock() {
    mkdir -p "$CHECK"
    exec 9>"$CHECK/.lock"
    if ! flock -n 9; then
        echo "another test run is using $CHECK"
        echo "0 passed, 1 failed"
        exit 1
    fi
}

build() {
    log "Building"
    make -j2 2>&1 | tee "$CHECK/build.log"
}

# Runs `make unit` and records gtest's own counts.
run_unit() {
    log "Unit tests (make unit)"
    local rc=0 passed failed
    make unit 2>&1 | tee "$CHECK/unit.log" || rc=$?
    passed=$(sed -nE 's/^\[  PASSED  \] ([0-9]+) tests?\..*/\1/p' "$CHECK/unit.log" | tail -n 1)
    failed=$(sed -nE 's/^\[  FAILED  \] ([0-9]+) tests?, listed below.*/\1/p' "$CHECK/unit.log" | tail -n 1)
    passed=${passed:-0} failed=${failed:-0}
    if [ "$rc" != 0 ] && [ "$failed" = 0 ]; then
        echo "make unit failed (exit $rc) without a gtest failure count: counted as 1 failure"
        failed=1
    fi
    record unit "$passed" "$failed"
}

# Copies the Debian PostgreSQL install into tmp_check/install and installs the
# extension there. The server finds its lib and share dirs relative to its
# own executable, so a server started from $BIN loads only this tree.
install_temp() {
    log "Installing into $INSTALL"
    rm -rf "$INSTALL"
    mkdir -p "$INSTALL$PG_LIBDIR" "$INSTALL$PG_SHAREDIR" || return 1
    cp -a "$PG_LIBDIR/." "$INSTALL$PG_LIBDIR/" || return 1
    cp -a "$PG_SHAREDIR/." "$INSTALL$PG_SHAREDIR/" || return 1
    # Drop any copy the demo installed system-wide, so only this build is tested.
    rm -rf "$INSTALL$PG_LIBDIR"/lib/orchestrator.so "$INSTALL$PG_LIBDIR"/lib/bitcode/orchestrator* \
        "$INSTALL$PG_SHAREDIR"/extension/orchestrator*
    make install DESTDIR="$INSTALL" >"$CHECK/install.log" 2>&1 \
        || { cat "$CHECK/install.log"; return 1; }
    # Released versions' install scripts and the fake versions of the upgrade test (test only).
    make install-upgrade-fixtures DESTDIR="$INSTALL" >>"$CHECK/install.log" 2>&1 \
        || { cat "$CHECK/install.log"; return 1; }
    local libdir
    libdir=$("$BIN/pg_config" --pkglibdir)
    [ "$libdir" = "$INSTALL$PG_LIBDIR/lib" ] \
        || { echo "temp install resolves its libdir to $libdir, not the temp tree"; return 1; }
}

# initdb + start as postgres, with the library preloaded and test/test.conf
# included. Listens on a unix socket only, in a directory of its own.
start_server() {
    log "Starting a test server on port $PORT"
    grant_postgres_traverse "$CHECK" || return 1
    rm -rf "$DATA" "$LOGDIR" "$SOCK"
    make_postgres_dir "$DATA" 0700 && make_postgres_dir "$LOGDIR" 0755 || return 1
    # A unix socket path is limited to 107 bytes; a deep checkout gets one in /tmp.
    if [ ${#SOCK} -gt 80 ]; then
        DBHOST=$(mktemp -d /tmp/orchestrator-sock.XXXXXX) || return 1
        make_postgres_dir "$DBHOST" 0755 || return 1
    else
        make_postgres_dir "$SOCK" 0755 || return 1
    fi

    as_postgres "$BIN/initdb" -D "$DATA" -U postgres --auth=trust --no-locale -E UTF8 -N \
        >"$LOGDIR/initdb.log" 2>&1 || { cat "$LOGDIR/initdb.log"; return 1; }
    local conf
    conf=$(
        cat <<EOF

# Added by test/run_all.sh
port = $PORT
listen_addresses = ''
unix_socket_directories = '$DBHOST'
max_connections = 50
fsync = off
shared_preload_libraries = 'orchestrator'
log_line_prefix = '%m [%p] %q%a '
# The demo workload's checks (test/stress/checks.sql) order by commit time where start times
# leave it open.
track_commit_timestamp = on
EOF
    )
    if [ -f "$ROOT/test/test.conf" ]; then
        cp "$ROOT/test/test.conf" "$CHECK/test.conf"
        as_postgres cp "$CHECK/test.conf" "$DATA/test.conf"
        conf+=$'\n'"include 'test.conf'"
    fi
    printf '%s\n' "$conf" | as_postgres tee -a "$DATA/postgresql.conf" >/dev/null || return 1

    SERVER_STARTED=1
    start_cluster "$BIN" "$DATA" "$LOGDIR/server.log" || return 1
    wait_ready "$BIN" "$DBHOST" "$PORT" || { tail -n 50 "$LOGDIR/server.log"; return 1; }
    # Belt and braces: the running server must use the temp tree's libraries.
    local libdir
    libdir=$("$BIN/psql" -X -A -t -h "$DBHOST" -p "$PORT" -U postgres -d postgres \
        -c "SELECT setting FROM pg_config WHERE name = 'PKGLIBDIR'")
    [ "$libdir" = "$INSTALL$PG_LIBDIR/lib" ] \
        || { echo "the server uses $libdir, not the temp tree"; return 1; }
}

# Prints a Makefile variable's value, or the environment's override.
list_tests() { # VAR
    if [ -n "${!1+set}" ]; then
        echo "${!1}"
    else
        make -s --no-print-directory "print-$1"
    fi
}

# Runs a pg_regress-style driver against the running server and records its
# per-test ok / FAILED lines. No --use-existing: that flag would also skip
# (re)creating the test database, which each run needs fresh.
run_regress_driver() { # KIND DRIVER OUTDIR DBNAME INPUTDIR TESTS...
    local kind=$1 driver=$2 outdir=$3 dbname=$4 inputdir=$5
    shift 5
    local rc=0 passed failed
    rm -rf "$outdir"
    mkdir -p "$outdir"
    "$driver" --bindir="$BIN" --host="$DBHOST" --port="$PORT" \
        --user=postgres --dbname="$dbname" --inputdir="$inputdir" --outputdir="$outdir" \
        "$@" 2>&1 | tee "$outdir/run.log" || rc=$?
    passed=$(grep -cE '^(test +| +)?[^ ]+ +\.\.\. +(ok|failed \(ignored\))( |$)' "$outdir/run.log" || true)
    failed=$(grep -cE '^(test +| +)?[^ ]+ +\.\.\. +FAILED( |$)' "$outdir/run.log" || true)
    # A driver that aborts midway never reports the tests it did not reach.
    if [ "$rc" != 0 ] && [ $((passed + failed)) -lt $# ]; then
        echo "$kind driver exited $rc before reporting every test: the missing ones count as failed"
        failed=$(($# - passed))
    fi
    if [ "$rc" != 0 ] && [ "$failed" = 0 ]; then failed=1; fi
    if [ -s "$outdir/regression.diffs" ]; then
        echo "---- head of $outdir/regression.diffs ----"
        head -n 80 "$outdir/regression.diffs"
    fi
    record "$kind" "$passed" "$failed"
}

run_regress() {
    local tests
    tests=$(list_tests REGRESS) || { record regress 0 1; return; }
    [ -n "${tests// /}" ] || { echo "(no regression tests listed)"; return; }
    log "Regression tests"
    # shellcheck disable=SC2086
    run_regress_driver regress "$PGXS_TEST/regress/pg_regress" "$CHECK/regress" \
        contrib_regression "$ROOT" $tests
}

run_isolation() {
    local tests
    tests=$(list_tests ISOLATION) || { record isolation 0 1; return; }
    [ -n "${tests// /}" ] || { echo "(no isolation specs listed)"; return; }
    log "Isolation tests"
    # shellcheck disable=SC2086
    run_regress_driver isolation "$PGXS_TEST/isolation/pg_isolation_regress" "$CHECK/isolation" \
        isolation_regression "$ROOT/test/isolation" $tests
}

# Replays test/observability/history.sql (a scripted day on the test clock) into a database of
# its own, for the promtool and dashboard checks. Prints the psql command to query it.
observability_db() {
    local psql=(env PGOPTIONS="-c client_min_messages=warning" "$BIN/psql" -X -q -v ON_ERROR_STOP=1
                -h "$DBHOST" -p "$PORT" -U postgres)
    "${psql[@]}" -d postgres -c "DROP DATABASE IF EXISTS observability_check" \
        -c "CREATE DATABASE observability_check" >/dev/null || return 1
    "${psql[@]}" -d observability_check -f "$ROOT/test/observability/history.sql" \
        >"$CHECK/observability/history.out" 2>&1 \
        || { tail -n 20 "$CHECK/observability/history.out"; return 1; }
}

# Asks the scripted history's database one value; the clock stays where the history left it.
observability_query() { # SQL
    "$BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h "$DBHOST" -p "$PORT" -U postgres \
        -d observability_check -c "SET orchestrator.test_now = '2026-06-02 00:07:00+00'" -c "$1"
}

# The Prometheus export of the scripted history, parsed by promtool (Debian's prometheus), and
# every metric family it declares has at least one sample.
run_promtool() {
    log "Prometheus export (promtool check metrics)"
    local out=$CHECK/observability/metrics.prom passed=0 failed=0 family missing=""
    if observability_query "SELECT orchestrator.prometheus_metrics()" >"$out"; then
        if promtool check metrics <"$out"; then
            echo "ok - promtool parses $out"
            passed=$((passed + 1))
        else
            echo "not ok - promtool rejects $out"
            failed=$((failed + 1))
        fi
        for family in $(sed -nE 's/^# TYPE ([a-z_]+) .*/\1/p' "$out"); do
            grep -qE "^${family}(_bucket|_sum|_count)?[{ ]" "$out" || missing+=" $family"
        done
        if [ -z "$missing" ] && grep -q '^# TYPE' "$out"; then
            echo "ok - every metric family has samples ($(grep -c '^# TYPE' "$out") families)"
            passed=$((passed + 1))
        else
            echo "not ok - metric families without samples:${missing:- (no families at all)}"
            failed=$((failed + 1))
        fi
    else
        echo "not ok - prometheus_metrics() failed"
        failed=2
    fi
    record promtool "$passed" "$failed"
}

# The dashboard of the scripted history in headless Chromium (Debian's chromium): no console
# message, every chart present with data, and a screenshot at tmp_check/dashboard/dashboard.png.
run_dashboard() {
    log "Dashboard in headless Chromium"
    local dir=$CHECK/dashboard passed failed
    rm -rf "$dir"
    mkdir -p "$dir"
    if ! observability_query "SELECT orchestrator.dashboard_html()" >"$dir/dashboard.html"; then
        echo "not ok - dashboard_html() failed"
        record dashboard 0 1
        return
    fi
    python3 "$ROOT/test/observability/check_dashboard.py" "$dir/dashboard.html" "$dir" \
        | tee "$dir/check.log" || true
    passed=$(grep -c '^ok - ' "$dir/check.log" || true)
    failed=$(grep -c '^not ok - ' "$dir/check.log" || true)
    [ $((passed + failed)) -gt 0 ] || failed=1
    record dashboard "$passed" "$failed"
}

run_observability() {
    mkdir -p "$CHECK/observability"
    log "Scripted history for the Prometheus and dashboard checks"
    if ! observability_db; then
        echo "the scripted history (test/observability/history.sql) failed"
        record promtool 0 1
        record dashboard 0 1
        return
    fi
    run_promtool
    run_dashboard
}

# Runs test/t/*.pl as postgres through TAP::Harness, the way PostgreSQL's
# prove_check does, and counts assertions. A test file that dies, exits
# non-zero or misses its plan without a failed assertion counts as 1 failure.
run_tap() {
    compgen -G "$ROOT/test/t/*.pl" >/dev/null || { echo "(no TAP tests)"; return; }
    log "TAP tests"
    local tapdir=$CHECK/tap
    rm -rf "$tapdir"
    make_postgres_dir "$tapdir" 0755
    grant_postgres_traverse "$ROOT/test/t"
    local rc=0
    # shellcheck disable=SC2016 # the perl program is single-quoted on purpose
    (cd "$ROOT/test" && runas_postgres_here env \
        PATH="$BIN:$PATH" \
        PERL5LIB="$INSTALL$PG_LIBDIR/lib/pgxs/src/test/perl${PERL5LIB:+:$PERL5LIB}" \
        PG_REGRESS="$PGXS_TEST/regress/pg_regress" \
        TESTDIR="$tapdir" TESTDATADIR="$tapdir/data" PG_TEST_PORT_DIR="$tapdir" \
        top_builddir="$ROOT" COUNTS="$tapdir/counts" \
        perl -MTAP::Harness -e '
            my $agg = TAP::Harness->new({ verbosity => 0, timer => 1, color => 0 })
                ->runtests(sort glob "t/*.pl");
            my ($passed, $failed) = (0, 0);
            for my $parser ($agg->parsers) {
                my @ok = $parser->passed;
                my @bad = $parser->failed;
                $passed += @ok;
                my $bad = @bad;
                $bad = 1 if !$bad && $parser->has_problems;
                $failed += $bad;
            }
            open my $fh, ">", $ENV{COUNTS} or die "$ENV{COUNTS}: $!";
            print $fh "$passed $failed\n";
            exit($agg->all_passed ? 0 : 1);
        ') || rc=$?
    local passed=0 failed=0
    [ -s "$tapdir/counts" ] && read -r passed failed <"$tapdir/counts"
    if [ "$rc" != 0 ] && [ "$failed" = 0 ]; then failed=1; fi
    if [ "$failed" != 0 ]; then
        echo "TAP logs: $tapdir/tmp_check/log/"
    fi
    record tap "$passed" "$failed"
}

# Runs examples/n8n in real n8n against the running server (test/n8n/run.sh)
# and records its checks. n8n is installed from the npm registry on first use.
run_n8n() {
    log "n8n tests (examples/n8n in n8n)"
    local work=$CHECK/n8n-run rc=0 passed=0 failed=0
    ORCH_BIN="$BIN" ORCH_DBHOST="$DBHOST" ORCH_PORT="$PORT" \
        ORCH_N8N_DIR="${ORCH_N8N_DIR:-$CHECK/n8n}" ORCH_N8N_WORK="$work" \
        bash "$ROOT/test/n8n/run.sh" || rc=$?
    [ -s "$work/counts" ] && read -r passed failed <"$work/counts"
    if [ -s "$work/skipped" ] && [ "$rc" = 0 ]; then
        SUMMARY+=("n8n          SKIPPED: $(cat "$work/skipped")")
        return
    fi
    if [ "$rc" != 0 ] && [ "$failed" = 0 ]; then failed=1; fi
    if [ "$failed" != 0 ]; then echo "n8n logs: $work/"; fi
    record n8n "$passed" "$failed"
}

# Runs the demo's workload driver (examples/demo/drive.py) for ORCH_DEMO_TEST_SECONDS (45) in a
# database of its own and records its checks: every governance invariant of
# test/stress/checks.sql held, tasks were done, rate limits cut batches, a 429 paused an API, a
# breaker opened and recovered. Recovery needs a probe to succeed after openai's outage, and a
# probe fails when any of its calls draws one of the simulated API's random errors: in 30 s
# runs, where the outage ends at 14 s, two or three probes sometimes all failed and the breaker
# was still open at the end; 45 s leaves 28 s after the outage instead of 16.
run_demo() {
    local seconds=${ORCH_DEMO_TEST_SECONDS:-45} dir=$CHECK/demo passed failed
    log "Demo workload (examples/demo/drive.py, $seconds s)"
    rm -rf "$dir"
    mkdir -p "$dir"
    local psql=(env PGOPTIONS="-c client_min_messages=warning" "$BIN/psql" -X -q -v ON_ERROR_STOP=1
                -h "$DBHOST" -p "$PORT" -U postgres)
    if ! "${psql[@]}" -d postgres -c "DROP DATABASE IF EXISTS demo_check" \
            -c "CREATE DATABASE demo_check" >/dev/null \
        || ! "${psql[@]}" -d demo_check -c "CREATE EXTENSION orchestrator" >/dev/null; then
        echo "not ok - the demo's database could not be made"
        record demo 0 1
        return
    fi
    PGHOST="$DBHOST" PGPORT="$PORT" PGUSER=postgres PGDATABASE=demo_check \
        /usr/bin/python3 "$ROOT/examples/demo/drive.py" --seconds "$seconds" --psql "$BIN/psql" \
        2>&1 | tee "$dir/drive.log" || true
    passed=$(grep -c '^ok - ' "$dir/drive.log" || true)
    failed=$(grep -c '^not ok - ' "$dir/drive.log" || true)
    # A driver that died before its checks printed nothing to count.
    [ $((passed + failed)) -gt 0 ] || failed=1
    record demo "$passed" "$failed"
}

# Like as_postgres, but keeps the current directory (prove needs it).
runas_postgres_here() {
    if [ "$(id -un)" = postgres ]; then "$@"
    elif is_root; then runuser -u postgres -- "$@"
    else sudo -n -u postgres -- "$@"
    fi
}

main() {
    ensure_packages || { echo "0 passed, 1 failed"; exit 1; }
    take_lock

    local built=1
    build || { built=0; record build 0 1; }
    [ "${SKIP_UNIT:-0}" = 1 ] || run_unit

    if [ "$built" = 1 ]; then
        if ! install_temp; then
            record install 0 1
        elif ! start_server; then
            record server 0 1
        else
            run_regress
            run_isolation
            [ "${SKIP_OBSERVABILITY:-0}" = 1 ] || run_observability
            [ "${SKIP_N8N:-0}" = 1 ] || run_n8n
            [ "${SKIP_DEMO:-0}" = 1 ] || run_demo
            log "Stopping the test server"
            stop_cluster "$BIN" "$DATA"
            SERVER_STARTED=0
            [ "${SKIP_TAP:-0}" = 1 ] || run_tap
        fi
    fi

    log "Summary"
    printf '  %s\n' "${SUMMARY[@]}"
    cleanup
    echo "$TOTAL_PASSED passed, $TOTAL_FAILED failed"
    [ "$TOTAL_FAILED" = 0 ]
}

main "$@"
