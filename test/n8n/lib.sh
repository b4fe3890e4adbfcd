# shellcheck shell=bash disable=SC2034 # variables are used by run.sh
# Helpers of the n8n test (test/n8n/run.sh): the check counter, psql, the n8n
# CLI with the test's environment, and the simulated AI API. Source it.

PASSED=0
FAILED=0
SIM_PID=
SIM_PORT=

check() { # NAME COMMAND...: runs the command, counts it, and returns its status
    local name=$1
    shift
    if "$@"; then
        PASSED=$((PASSED + 1))
        echo "ok - $name"
    else
        FAILED=$((FAILED + 1))
        echo "not ok - $name"
        return 1
    fi
}

psql_db() { # DBNAME ARGS...
    local db=$1
    shift
    PGOPTIONS="-c client_min_messages=warning" "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$DBHOST" -p "$PORT" -U postgres -d "$db" "$@"
}

# The n8n CLI. Facts of this install: no task runners, the legacy expression
# engine (isolated-vm is not built), n8n's own state in PostgreSQL (no SQLite
# native module), and $env readable by the workflows (ORCHESTRATOR_AI_API_URL).
n8n_argv() { # fills the array N8N_ARGV with the command line up to n8n's own arguments
    N8N_ARGV=(env DB_TYPE=postgresdb DB_POSTGRESDB_HOST="$DBHOST" DB_POSTGRESDB_PORT="$PORT"
        DB_POSTGRESDB_DATABASE="$STATE_DB" DB_POSTGRESDB_USER=postgres DB_POSTGRESDB_PASSWORD=
        N8N_USER_FOLDER="$WORK/home" N8N_RUNNERS_ENABLED=false N8N_EXPRESSION_ENGINE=legacy
        N8N_DIAGNOSTICS_ENABLED=false N8N_VERSION_NOTIFICATIONS_ENABLED=false
        N8N_TEMPLATES_ENABLED=false N8N_PERSONALIZATION_ENABLED=false
        N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS=true N8N_BLOCK_ENV_ACCESS_IN_NODE=false
        N8N_LISTEN_ADDRESS=127.0.0.1 N8N_PORT="${N8N_HTTP_PORT:-5678}"
        GENERIC_TIMEZONE=UTC N8N_LOG_LEVEL=info
        ORCHESTRATOR_AI_API_URL="http://127.0.0.1:$SIM_PORT" ORCHESTRATOR_MAX_EXECUTIONS=10
        "$NODE" "$N8N_DIR/node_modules/n8n/bin/n8n")
}

n8n() { # ARGS...
    local -a N8N_ARGV
    n8n_argv
    "${N8N_ARGV[@]}" "$@"
}

# A free TCP port on loopback.
free_port() {
    /usr/bin/python3 -c '
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

stop_pid() { # PID: TERM, then KILL after 30 s
    local pid=$1 i
    kill "$pid" 2>/dev/null || return 0
    for ((i = 0; i < 60; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.5
    done
    kill -9 "$pid" 2>/dev/null || true
}

# Starts the simulated AI API (stopping one already started); sets SIM_PORT.
start_simulator() { # SIMULATOR ARGS...
    if [ -n "$SIM_PID" ]; then stop_pid "$SIM_PID"; fi
    rm -f "$WORK/sim.port"
    /usr/bin/python3 "$HERE/ai_api_sim.py" --port-file "$WORK/sim.port" --lifetime 840 "$@" \
        >>"$WORK/sim.log" 2>&1 &
    SIM_PID=$!
    local i
    for ((i = 0; i < 50; i++)); do
        [ -s "$WORK/sim.port" ] && { SIM_PORT=$(cat "$WORK/sim.port"); return 0; }
        sleep 0.1
    done
    return 1
}

sim_stats() {
    /usr/bin/python3 -c '
import sys, urllib.request
print(urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/stats", timeout=10).read().decode())
' "$SIM_PORT"
}

# Runs a checks file (rows "ok|name|found") and counts each row.
sql_checks() { # CHECKS_FILE PSQL_ARGS...
    local file=$1 out result name found
    shift
    out=$WORK/$(basename "$file" .sql).out
    psql_db "$DB" -A -t -F '|' "$@" -f "$file" >"$out" || { check "$(basename "$file") runs" false; return; }
    while IFS='|' read -r result name found; do
        check "$name ($found)" [ "$result" = ok ]
    done <"$out"
}
