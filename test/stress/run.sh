#!/usr/bin/env bash
# The governance stress test: builds the extension, installs it into a temporary tree
# (tmp_check/stress/install), starts a server of its own (port 54350, data under
# tmp_check/stress), loads the n8n-content preset with a small budget that binds during the run,
# enqueues a backlog and runs pgbench (8 clients) whose script dispatches and answers with
# simulated callbacks: completions (some partial, some reporting the API calls really made),
# failures, HTTP 429s and abandoned executions left to expire. Then test/stress/checks.sql proves
# over the recorded executions that every limit held. Exits non-zero when an invariant failed.
#
#   bash test/stress/run.sh
#
# Environment: STRESS_SECONDS (pgbench duration, default 60), STRESS_CLIENTS (8),
# STRESS_TASKS (backlog, 20000), STRESS_BUDGET (global daily budget in USD, 1.5),
# STRESS_TYPE_BUDGET (content_pipeline's daily budget in USD, 0.5), STRESS_PORT (54350),
# STRESS_SEED (pgbench random seed, default: time), STRESS_SKIP_BUILD=1 (reuse the tree),
# STRESS_KEEP=1 (leave the server running at the end).
# Output: pgbench's report, the counts and the checks; raw logs under tmp_check/stress/.
set -euo pipefail
umask 022

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
# shellcheck source=test/lib.sh
source "$ROOT/test/lib.sh"

PORT=${STRESS_PORT:-54350}
SECONDS_TO_RUN=${STRESS_SECONDS:-60}
CLIENTS=${STRESS_CLIENTS:-8}
TASKS=${STRESS_TASKS:-20000}
BUDGET=${STRESS_BUDGET:-1.5}
TYPE_BUDGET=${STRESS_TYPE_BUDGET:-0.5}
SEED=${STRESS_SEED:-time}
LEASE='10 seconds'

STRESS_DIR=$ROOT/tmp_check/stress
INSTALL=$STRESS_DIR/install
BIN=$INSTALL$PG_LIBDIR/bin
DATA=$STRESS_DIR/data
LOGDIR=$STRESS_DIR/log
SOCK=$STRESS_DIR/sock
DBHOST=$SOCK
DB=stress
SERVER_STARTED=0

cleanup() {
    if [ "$SERVER_STARTED" = 1 ] && [ "${STRESS_KEEP:-0}" != 1 ]; then
        log "Stopping the stress server"
        stop_cluster "$BIN" "$DATA"
        SERVER_STARTED=0
    fi
    if [ "$DBHOST" != "$SOCK" ] && [ "${STRESS_KEEP:-0}" != 1 ]; then rm -rf "$DBHOST"; fi
    restore_traverse
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

take_lock() {
    mkdir -p "$STRESS_DIR"
    exec 7>"$STRESS_DIR/.lock"
    flock -n 7 || die "another stress run is using $STRESS_DIR"
}

# Like test/run_all.sh: a copy of the Debian PostgreSQL install with this build installed in it;
# the server finds its lib and share dirs relative to its own executable.
build_and_install() {
    if [ "${STRESS_SKIP_BUILD:-0}" = 1 ] && [ -x "$BIN/postgres" ]; then
        log "STRESS_SKIP_BUILD=1: using $INSTALL"
        return
    fi
    ensure_packages
    log "Building"
    make -s -j2 >"$STRESS_DIR/build.log" 2>&1 || { cat "$STRESS_DIR/build.log"; return 1; }
    log "Installing into $INSTALL"
    rm -rf "$INSTALL"
    mkdir -p "$INSTALL$PG_LIBDIR" "$INSTALL$PG_SHAREDIR"
    cp -a "$PG_LIBDIR/." "$INSTALL$PG_LIBDIR/"
    cp -a "$PG_SHAREDIR/." "$INSTALL$PG_SHAREDIR/"
    rm -rf "$INSTALL$PG_LIBDIR"/lib/orchestrator.so "$INSTALL$PG_LIBDIR"/lib/bitcode/orchestrator* \
        "$INSTALL$PG_SHAREDIR"/extension/orchestrator*
    make install DESTDIR="$INSTALL" >"$STRESS_DIR/install.log" 2>&1 \
        || { cat "$STRESS_DIR/install.log"; return 1; }
    [ "$("$BIN/pg_config" --pkglibdir)" = "$INSTALL$PG_LIBDIR/lib" ] \
        || die "the temporary tree resolves its libdir elsewhere"
}

start_server() {
    log "Starting the stress server on port $PORT"
    if [ -f "$DATA/postmaster.pid" ]; then stop_cluster "$BIN" "$DATA"; fi
    grant_postgres_traverse "$STRESS_DIR"
    rm -rf "$DATA" "$LOGDIR" "$SOCK"
    make_postgres_dir "$DATA" 0700
    make_postgres_dir "$LOGDIR" 0755
    if [ ${#SOCK} -gt 80 ]; then
        DBHOST=$(mktemp -d /tmp/orchestrator-stress.XXXXXX)
    fi
    make_postgres_dir "$DBHOST" 0755
    as_postgres "$BIN/initdb" -D "$DATA" -U postgres --auth=trust --no-locale -E UTF8 -N \
        >"$LOGDIR/initdb.log" 2>&1 || { cat "$LOGDIR/initdb.log"; return 1; }
    as_postgres tee -a "$DATA/postgresql.conf" >/dev/null <<CONF

# Added by test/stress/run.sh
port = $PORT
listen_addresses = ''
unix_socket_directories = '$DBHOST'
shared_preload_libraries = 'orchestrator'
max_connections = 50
shared_buffers = 256MB
fsync = off
log_line_prefix = '%m [%p] %q%a '
log_min_messages = warning
# checks.sql orders reservations and releases by commit time where start times leave it open
track_commit_timestamp = on
CONF
    SERVER_STARTED=1
    start_cluster "$BIN" "$DATA" "$LOGDIR/server.log"
    wait_ready "$BIN" "$DBHOST" "$PORT" || { tail -n 50 "$LOGDIR/server.log"; return 1; }
    local libdir
    libdir=$(psql_db postgres -At -c "SELECT setting FROM pg_config WHERE name = 'PKGLIBDIR'")
    [ "$libdir" = "$INSTALL$PG_LIBDIR/lib" ] || die "the server uses $libdir, not the temporary tree"
}

psql_db() { # DB ARGS...
    local db=$1
    shift
    "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$DBHOST" -p "$PORT" -U postgres -d "$db" "$@"
}

setup() {
    log "Creating the extension, the preset, the budget and a backlog of $TASKS tasks"
    psql_db postgres -c "CREATE DATABASE $DB"
    psql_db "$DB" -v budget="$BUDGET" -v type_budget="$TYPE_BUDGET" -v tasks="$TASKS" \
        -v lease="$LEASE" <<'SQL'
CREATE EXTENSION orchestrator;
SELECT count(*) AS preset_items FROM orchestrator.apply_preset('n8n-content');
-- A budget that binds within the run; the global caps stay at their defaults (20 connections,
-- 2048 MB). content_pipeline's own budget binds too, and intelligence_engine gets a per-type cap.
SELECT daily_budget_usd, max_db_connections, max_memory_mb
  FROM orchestrator.configure(jsonb_build_object('daily_budget_usd', :'budget'::numeric));
SELECT name, lease_timeout, daily_budget_usd, max_concurrent
  FROM orchestrator.alter_workflow_type('content_pipeline',
           jsonb_build_object('daily_budget_usd', :'type_budget'::numeric, 'lease_timeout', :'lease'));
SELECT w.name, w.lease_timeout, w.daily_budget_usd, w.max_concurrent
  FROM unnest(ARRAY['seo_monitor', 'revenue_optimizer']) n,
       LATERAL orchestrator.alter_workflow_type(n, jsonb_build_object('lease_timeout', :'lease')) w;
SELECT name, lease_timeout, daily_budget_usd, max_concurrent
  FROM orchestrator.alter_workflow_type('intelligence_engine',
           jsonb_build_object('lease_timeout', :'lease', 'max_concurrent', 2));

-- The harness's own bookkeeping: every task id enqueued, the callbacks' refusals.
CREATE SCHEMA stress;
CREATE TABLE stress.enqueued (task_id bigint PRIMARY KEY, during_run boolean NOT NULL);
CREATE TABLE stress.callback_error (
    at timestamptz NOT NULL DEFAULT clock_timestamp(), execution_id bigint, action text,
    sqlstate text, message text);
-- Every simulated HTTP 429: the API it named and when (the callback's clock).
CREATE TABLE stress.pause_log (execution_id bigint, api text, t timestamptz, retry_after interval);

-- A simulated n8n sub-workflow's callback. An error is recorded, not raised, so one refused
-- callback does not abort a pgbench client; checks.sql requires there be none.
CREATE FUNCTION stress.callback(action text, eid bigint, pick integer) RETURNS text
    LANGUAGE plpgsql AS $$
DECLARE
    reserved numeric;
    calls jsonb;
    first_task bigint;
    api text;
    outcome text;
BEGIN
    SELECT e.reserved_cost_usd, e.api_calls, e.task_ids[1] INTO reserved, calls, first_task
      FROM orchestrator.workflow_orchestration e WHERE e.id = eid;
    BEGIN
        IF action = 'complete' THEN
            -- actual cost below the estimate
            outcome := orchestrator.complete_execution(eid, jsonb_build_object('ok', true),
                round(reserved * (0.2 + 0.79 * random())::numeric, 6));
        ELSIF action = 'complete_calls' THEN
            -- reports the calls really made: at most those reserved
            outcome := orchestrator.complete_execution(eid, jsonb_build_object('ok', true),
                round(reserved * (0.2 + 0.79 * random())::numeric, 6), NULL,
                (SELECT jsonb_object_agg(j.key, floor(j.value::numeric * random())::int)
                   FROM jsonb_each(calls) j));
        ELSIF action = 'partial' THEN
            -- the batch's first task fails for good, the rest succeed
            outcome := orchestrator.complete_execution(eid, NULL,
                round(reserved * (0.2 + 0.79 * random())::numeric, 6),
                jsonb_build_array(jsonb_build_object('task_id', first_task, 'status', 'failed',
                                                     'error', 'bad input', 'retryable', false)));
        ELSIF action = 'fail' THEN
            outcome := orchestrator.fail_execution(eid, 'simulated failure', true, NULL, NULL,
                CASE WHEN pick % 2 = 0 THEN round(reserved * (0.5 * random())::numeric, 6) END);
        ELSIF action = 'rate_limited' THEN
            SELECT j.key INTO api FROM jsonb_each(calls) j ORDER BY j.key
             OFFSET pick % greatest(1, (SELECT count(*) FROM jsonb_each(calls))::int) LIMIT 1;
            outcome := orchestrator.fail_execution(eid, 'HTTP 429 Too Many Requests', true,
                coalesce(api, 'gemini'), interval '5 seconds');
            INSERT INTO stress.pause_log VALUES (eid, coalesce(api, 'gemini'), orchestrator.now(), interval '5 seconds');
        ELSE
            RAISE EXCEPTION 'unknown action %', action;
        END IF;
    EXCEPTION WHEN OTHERS THEN
        INSERT INTO stress.callback_error (execution_id, action, sqlstate, message)
        VALUES (eid, action, SQLSTATE, SQLERRM);
        outcome := 'error';
    END;
    RETURN outcome;
END $$;

-- The backlog: spread over the four types, random priorities, a quarter with a per-task cost.
INSERT INTO stress.enqueued (task_id, during_run)
SELECT orchestrator.enqueue(
           (ARRAY['content_pipeline', 'content_pipeline', 'content_pipeline', 'content_pipeline',
                  'seo_monitor', 'seo_monitor', 'seo_monitor',
                  'revenue_optimizer', 'revenue_optimizer', 'intelligence_engine'])[1 + (i % 10)],
           jsonb_build_object('item', i),
           1 + floor(random() * 10)::int,
           estimated_cost_usd => CASE WHEN i % 4 = 0 THEN round((0.01 + random() * 0.07)::numeric, 4) END),
       false
  FROM generate_series(1, :tasks) i;
SELECT count(*) AS backlog FROM stress.enqueued;
SQL
}

write_script() {
    cat >"$STRESS_DIR/client.sql" <<'PGB'
-- One step of a simulated n8n worker. Every statement is its own transaction.
\set roll random(1, 1000)
-- now and then, new work arrives (with a random priority)
\if :roll <= 30
\set kind random(1, 4)
\set prio random(1, 10)
INSERT INTO stress.enqueued (task_id, during_run) SELECT orchestrator.enqueue((ARRAY['content_pipeline', 'seo_monitor', 'revenue_optimizer', 'intelligence_engine'])[:kind], jsonb_build_object('client', :client_id), :prio), true;
\endif
-- now and then, the host's timer expires abandoned executions
\if :roll > 985
SELECT orchestrator.expire_executions() AS expired \gset
\endif
SELECT coalesce(e.execution_id, 0) AS eid, coalesce(e.workflow_type, '') AS wt, coalesce(e.batch_size, 0) AS bs FROM (SELECT 1) one LEFT JOIN LATERAL orchestrator.orchestrate_next_execution('w' || :client_id, 1) e ON true \gset
\if :eid > 0
\set work random(0, 2000)
\sleep :work ms
\set fate random(1, 100)
\set pick random(1, 1000)
\if :fate <= 10
SELECT stress.callback('fail', :eid, :pick) AS outcome \gset
\elif :fate <= 15
SELECT stress.callback('rate_limited', :eid, :pick) AS outcome \gset
\elif :fate <= 17
\set abandoned 1
\elif :fate <= 20
SELECT stress.callback('partial', :eid, :pick) AS outcome \gset
\elif :fate <= 50
SELECT stress.callback('complete_calls', :eid, :pick) AS outcome \gset
\else
SELECT stress.callback('complete', :eid, :pick) AS outcome \gset
\endif
\else
\sleep 5 ms
\endif
PGB
}

run_pgbench() {
    log "pgbench: $CLIENTS clients for $SECONDS_TO_RUN s"
    psql_db "$DB" -At -c "SELECT 'run started at ' || clock_timestamp()"
    local rc=0
    "$BIN/pgbench" -n -h "$DBHOST" -p "$PORT" -U postgres -c "$CLIENTS" -j 2 -T "$SECONDS_TO_RUN" \
        --random-seed="$SEED" -f "$STRESS_DIR/client.sql" -r -P 10 "$DB" \
        >"$STRESS_DIR/pgbench.log" 2>&1 || rc=$?
    cat "$STRESS_DIR/pgbench.log"
    [ "$rc" = 0 ] || die "pgbench exited $rc (a client aborted): see $STRESS_DIR/pgbench.log"
}

finish() {
    log "Letting the leases ($LEASE) run out, then expiring what is left"
    psql_db "$DB" -At -c "SELECT 'still running: ' || count(*) FROM orchestrator.workflow_orchestration WHERE status = 'running'"
    sleep 11
    local n
    for _ in 1 2 3 4 5; do
        n=$(psql_db "$DB" -At -c "SELECT orchestrator.expire_executions()")
        echo "expire_executions() -> $n"
        [ "$(psql_db "$DB" -At -c "SELECT count(*) FROM orchestrator.workflow_orchestration WHERE status = 'running'")" = 0 ] && return
        sleep 2
    done
    die "executions still running after expiry"
}

report_counts() {
    log "Counts"
    psql_db "$DB" <<'SQL'
\pset footer off
SELECT count(*) AS executions,
       count(*) FILTER (WHERE status = 'completed') AS completed,
       count(*) FILTER (WHERE status = 'partial') AS partial,
       count(*) FILTER (WHERE status = 'failed') AS failed,
       count(*) FILTER (WHERE status = 'failed' AND error LIKE 'HTTP 429%') AS http_429,
       count(*) FILTER (WHERE status = 'expired') AS expired,
       sum(batch_size) AS tasks_dispatched,
       min(created_at)::time(3) AS first_dispatch, max(created_at)::time(3) AS last_dispatch
  FROM orchestrator.workflow_orchestration WHERE workflow_type <> 'orchestrator';
SELECT workflow_type, count(*) AS executions, sum(batch_size) AS tasks,
       round(avg(batch_size), 2) AS avg_batch, sum(cost_usd) AS cost_usd,
       sum(reserved_cost_usd) AS reserved_usd
  FROM orchestrator.workflow_orchestration WHERE workflow_type <> 'orchestrator'
 GROUP BY 1 ORDER BY 1;
SELECT limited_by, count(*) AS executions
  FROM orchestrator.workflow_orchestration WHERE workflow_type <> 'orchestrator'
 GROUP BY 1 ORDER BY 2 DESC;
SELECT model_tier, count(*) AS executions
  FROM orchestrator.workflow_orchestration WHERE workflow_type <> 'orchestrator'
 GROUP BY 1 ORDER BY 1;
SELECT state, count(*) AS tasks FROM orchestrator.task GROUP BY 1 ORDER BY 1;
SELECT (SELECT count(*) FROM orchestrator.dead_letters) AS dead_letters,
       (SELECT count(*) FROM stress.enqueued WHERE during_run) AS enqueued_during_run,
       (SELECT count(*) FROM stress.callback_error) AS callback_errors,
       (SELECT count(*) FROM orchestrator.task WHERE attempts > 1) AS tasks_retried;
SELECT kind, name, from_state, to_state, at::time(3), cause FROM orchestrator.breaker_event ORDER BY id;
SELECT name, paused_until::time(3) FROM orchestrator.api ORDER BY 1;
-- Did the budgets bind? Committed = spent + reserved (running) as each dispatch saw it.
WITH at AS (
    SELECT d.created_at AS t, d.workflow_type,
           (SELECT coalesce(sum(r.reserved_cost_usd) FILTER (WHERE r.created_at <= d.created_at AND d.created_at < coalesce(r.finished_at, 'infinity')), 0)
                 + coalesce(sum(r.cost_usd) FILTER (WHERE r.finished_at <= d.created_at), 0)
              FROM orchestrator.workflow_orchestration r WHERE r.workflow_type <> 'orchestrator') AS used,
           (SELECT coalesce(sum(r.reserved_cost_usd) FILTER (WHERE r.created_at <= d.created_at AND d.created_at < coalesce(r.finished_at, 'infinity')), 0)
                 + coalesce(sum(r.cost_usd) FILTER (WHERE r.finished_at <= d.created_at), 0)
              FROM orchestrator.workflow_orchestration r WHERE r.workflow_type = 'content_pipeline') AS type_used
      FROM orchestrator.workflow_orchestration d WHERE d.workflow_type <> 'orchestrator')
SELECT 'global' AS budget, (SELECT daily_budget_usd FROM orchestrator.config) AS limit_usd,
       max(used) AS max_committed,
       (min(t) FILTER (WHERE used >= 0.9 * (SELECT daily_budget_usd FROM orchestrator.config)))::time(3) AS first_at_90pct,
       count(*) FILTER (WHERE used >= 0.9 * (SELECT daily_budget_usd FROM orchestrator.config)) AS dispatches_at_90pct
  FROM at
UNION ALL
SELECT 'content_pipeline', (SELECT daily_budget_usd FROM orchestrator.workflow_type WHERE name = 'content_pipeline'),
       max(type_used),
       (min(t) FILTER (WHERE type_used >= 0.9 * (SELECT daily_budget_usd FROM orchestrator.workflow_type WHERE name = 'content_pipeline')))::time(3),
       count(*) FILTER (WHERE workflow_type = 'content_pipeline' AND type_used >= 0.9 * (SELECT daily_budget_usd FROM orchestrator.workflow_type WHERE name = 'content_pipeline'))
  FROM at;
SQL
}

run_checks() {
    log "Checks (test/stress/checks.sql)"
    psql_db "$DB" -f "$ROOT/test/stress/checks.sql" | tee "$STRESS_DIR/checks.out"
    # checks.sql ends with the line "failed invariants: N".
    if ! grep -q '^failed invariants: 0$' "$STRESS_DIR/checks.out"; then
        echo "STRESS: an invariant FAILED (or the checks did not run)"
        return 1
    fi
    echo "STRESS: every invariant held"
}

take_lock
build_and_install
start_server
setup
write_script
run_pgbench
finish
report_counts
run_checks
