#!/usr/bin/env bash
# The n8n kind of the test command: real n8n runs the workflows of examples/n8n
# against the extension in the running test server, with their HTTP nodes
# pointed at a simulated AI API on loopback, and SQL checks what they did.
#
# Setup: installs n8n into ORCH_N8N_DIR (kept between runs), makes n8n's state
# database, imports the credentials and every workflow file with n8n's CLI.
# Phase 1, the CLI: `n8n execute` runs the master (its manual entry) until the
# queue is drained, the orchestrator's clock (orchestrator.test_now) moving past
# retry backoffs between runs; checks.sql checks tasks, costs and the 429 pause.
# Phase 2, the server: `n8n start` with the master active; a NOTIFY on
# orchestrator_dispatch wakes its Postgres Trigger; a callback arrives after a
# 1-second lease, the run fails, and n8n's error workflow must hand back what it
# claimed (checks_crash.sql). The CLI cannot run error workflows, hence a server.
#
# Prints "ok" / "not ok" lines and writes "PASSED FAILED" to WORK/counts.
# Environment: ORCH_BIN (the server's bin dir), ORCH_DBHOST (socket dir),
# ORCH_PORT, ORCH_N8N_DIR (n8n install), ORCH_N8N_WORK (scratch dir, wiped).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BIN=${ORCH_BIN:?} DBHOST=${ORCH_DBHOST:?} PORT=${ORCH_PORT:?}
N8N_DIR=${ORCH_N8N_DIR:?} WORK=${ORCH_N8N_WORK:?}
DB=orchestrator_n8n
STATE_DB=n8n_state
MASTER_ID=OrchMasterFlow01
MAX_RUNS=6
N8N_PID=
NODE=

# shellcheck source=test/n8n/lib.sh
source "$HERE/lib.sh"

finish() {
    if [ -n "$N8N_PID" ]; then stop_pid "$N8N_PID"; fi
    if [ -n "$SIM_PID" ]; then stop_pid "$SIM_PID"; fi
    echo "$PASSED $FAILED" >"$WORK/counts"
}
trap finish EXIT

install() {
    local start=$SECONDS version rc=0
    NODE=$(bash "$HERE/install_n8n.sh" "$N8N_DIR" 2>"$WORK/install.log") || rc=$?
    if [ "$rc" = 77 ]; then
        cat "$WORK/install.log"
        echo "$(tail -n 1 "$WORK/install.log")" >"$WORK/skipped"
        return 77
    fi
    [ "$rc" = 0 ] || { cat "$WORK/install.log"; return 1; }
    version=$("$NODE" "$N8N_DIR/node_modules/n8n/bin/n8n" --version) || return 1
    echo "  n8n $version on node $("$NODE" -v), ready in $((SECONDS - start)) s"
}

# A new orchestrator database, set up by SETUP_SQL.
new_orchestrator_db() { # SETUP_SQL
    psql_db postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" &&
        psql_db "$DB" -f "$1" >>"$WORK/setup.log"
}

# The shipped credentials file with this server's values in place of the placeholders.
write_credentials() {
    /usr/bin/python3 - "$ROOT/examples/n8n/credentials.json" "$WORK/credentials.json" \
        "$DBHOST" "$PORT" "$DB" <<'EOF'
import json, sys
source, target, host, port, db = sys.argv[1:]
creds = json.load(open(source))
creds[0]["data"].update(host=host, port=int(port), database=db, user="postgres",
                        password="", ssl="disable", allowUnauthorizedCerts=False)
json.dump(creds, open(target, "w"), indent=2)
EOF
}

import_all() {
    psql_db postgres -c "DROP DATABASE IF EXISTS $STATE_DB" -c "CREATE DATABASE $STATE_DB" &&
        write_credentials || return 1
    if ! { n8n import:credentials --input="$WORK/credentials.json" &&
        n8n import:workflow --separate --input="$ROOT/examples/n8n/workflows"; } >"$WORK/import.log" 2>&1; then
        tail -n 30 "$WORK/import.log"
        return 1
    fi
}

# True when n8n lists every workflow file's id.
all_workflows_listed() {
    n8n list:workflow >"$WORK/list.log" 2>&1 || return 1
    local file id missing=0
    for file in "$ROOT"/examples/n8n/workflows/*.json; do
        id=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$file")
        grep -q "^$id|" "$WORK/list.log" || { echo "  workflow $id is not in n8n"; missing=1; }
    done
    [ "$missing" = 0 ]
}

open_tasks() {
    psql_db "$DB" -A -t -c "SELECT count(*) FROM orchestrator.task WHERE state IN ('queued', 'running')"
}

# Runs the master once with the CLI; RUN 1 uses the real clock, later runs jump 20 minutes each.
run_master() { # RUN
    local run=$1 start=$SECONDS rc=0 at
    if [ "$run" -gt 1 ]; then
        at=$(psql_db "$DB" -A -t -c "SELECT now() + interval '$((20 * (run - 1))) minutes'")
        psql_db postgres -c "ALTER DATABASE $DB SET orchestrator.test_now = '$at'"
    fi
    n8n execute --id="$MASTER_ID" >"$WORK/master-$run.log" 2>&1 || rc=$?
    echo "  master run $run: exit $rc, $((SECONDS - start)) s, $(open_tasks) tasks open"
    [ "$rc" = 0 ] || tail -n 30 "$WORK/master-$run.log"
    return "$rc"
}

# Runs the master until no task is queued or running (at most MAX_RUNS times).
drain_queue() {
    local run
    for ((run = 2; run <= MAX_RUNS; run++)); do
        [ "$(open_tasks)" = 0 ] && return 0
        run_master "$run" || return 1
    done
    [ "$(open_tasks)" = 0 ]
}

# checks.sql, fed with what the simulated API charged and how many 429s it sent.
cli_checks() {
    local stats cost n429
    stats=$(sim_stats) || { check "the simulated API answers /stats" false; return; }
    echo "  simulated API: $stats"
    read -r cost n429 < <(/usr/bin/python3 -c '
import json, sys
s = json.loads(sys.argv[1])
price = {"gemini": 0.004, "openai": 0.006}
ok = sum(n * price[k.split(":")[0]] for k, n in s["answers"].items() if k.endswith(":200"))
print(f"{ok:.6f}", sum(n for k, n in s["answers"].items() if k.endswith(":429")))' "$stats")
    psql_db postgres -c "ALTER DATABASE $DB RESET orchestrator.test_now"
    sql_checks "$HERE/checks.sql" -v sim_cost="$cost" -v sim_429="$n429"
}

phase_cli() {
    check "the orchestrator database is set up" new_orchestrator_db "$HERE/setup.sql" || return
    check "the simulated AI API listens on loopback" start_simulator || return
    check "n8n imports the credentials and every workflow" import_all || return
    check "n8n lists every imported workflow" all_workflows_listed
    check "the first master run succeeds" run_master 1
    check "later master runs drain the queue" drain_queue
    cli_checks
}

# Starts `n8n start` with the master active; true once n8n says it activated it.
start_n8n_server() {
    n8n update:workflow --id="$MASTER_ID" --active=true >>"$WORK/server.log" 2>&1 || return 1
    local -a N8N_ARGV
    N8N_HTTP_PORT=$(free_port) n8n_argv
    # exec: the pid is n8n's own, so stopping it stops n8n
    (exec "${N8N_ARGV[@]}" start >>"$WORK/server.log" 2>&1) &
    N8N_PID=$!
    local i
    for ((i = 0; i < 120; i++)); do
        grep -q "Activated workflow \"orchestrator: master\"" "$WORK/server.log" && return 0
        kill -0 "$N8N_PID" 2>/dev/null || break
        sleep 1
    done
    tail -n 30 "$WORK/server.log"
    return 1
}

# Sends a dispatch hint and waits until the run it wakes has claimed and nothing is left running.
wake_master() {
    psql_db "$DB" -A -t -c "SELECT pg_notify('orchestrator_dispatch', '{\"test\": \"n8n\"}')" >/dev/null
    local i claimed running
    for ((i = 0; i < 90; i++)); do
        sleep 1
        read -r claimed running < <(psql_db "$DB" -A -t -F ' ' -c "
            SELECT count(*), count(*) FILTER (WHERE status = 'running')
              FROM orchestrator.workflow_orchestration WHERE workflow_type <> 'orchestrator'")
        if [ "$claimed" -ge 3 ] && [ "$running" = 0 ]; then
            echo "  the woken run ended in ${i} s"
            return 0
        fi
    done
    echo "  after 90 s: $claimed claimed, $running running"
    tail -n 30 "$WORK/server.log"
    return 1
}

phase_server() {
    check "a new orchestrator database with a 1-second content_pipeline lease" \
        new_orchestrator_db "$HERE/setup_crash.sql" || return
    check "a slow simulated AI API (1.2 s per call)" \
        start_simulator --delay 1.2 --rate-limit-call 0 --fail-every 1000000000 || return
    check "n8n starts with the master active" start_n8n_server || return
    check "a NOTIFY on orchestrator_dispatch runs the master, and the error workflow ends it" wake_master
    stop_pid "$N8N_PID"
    N8N_PID=
    sql_checks "$HERE/checks_crash.sql"
}

main() {
    rm -rf "$WORK"
    mkdir -p "$WORK"
    local rc=0
    install || rc=$?
    [ "$rc" = 77 ] && return 0 # skipped: nothing counted, the reason is in $WORK/skipped
    check "n8n is installed" test "$rc" = 0 || return
    phase_cli
    phase_server
}

main || true
[ "$FAILED" = 0 ]
