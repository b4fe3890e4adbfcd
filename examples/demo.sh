#!/usr/bin/env bash
# Quick start: installs what is missing, builds, installs the extension into
# the system's PostgreSQL 15, and runs a local server with it preloaded. Then it
# runs the orchestrator live: examples/demo/drive.py drives the four workflows of
# the preset through the SQL API against a simulated AI API, prints progress and
# ends with a report and the governance checks.
# A second run reuses that server (starting it if stopped, restarting it when
# the library changed). The server is left running; the end says how to stop it.
#
# Environment: ORCH_DEMO_DIR (default /var/lib/postgresql/orchestrator-demo),
# ORCH_DEMO_PORT (default 54330), ORCH_DEMO_SECONDS (workload duration, default
# 90; 0 skips the workload).
set -euo pipefail
umask 022

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=test/lib.sh
source "$ROOT/test/lib.sh"
# The workload driver's PostgreSQL client library.
REQUIRED_PACKAGES+=(python3-psycopg2)

DEMO_DIR=${ORCH_DEMO_DIR:-/var/lib/postgresql/orchestrator-demo}
DATA=$DEMO_DIR/data
PORT=${ORCH_DEMO_PORT:-54330}
DB=orchestrator_demo
WORKLOAD_SECONDS=${ORCH_DEMO_SECONDS:-90}
BIN=$PG_LIBDIR/bin
LIBRARY=$PG_LIBDIR/lib/orchestrator.so

psql_demo() { # ARGS... (as postgres, over the demo's socket)
    as_postgres "$BIN/psql" -X -v ON_ERROR_STOP=1 -h "$DEMO_DIR" -p "$PORT" "$@"
}

checksum() { sha256sum "$1" 2>/dev/null | cut -d' ' -f1 || true; }

# Builds and installs system-wide; sets LIBRARY_CHANGED=1 when the .so changed.
LIBRARY_CHANGED=0
build_and_install() {
    log "Building"
    make -s -j2
    log "Installing into $PG_LIBDIR"
    local before
    before=$(checksum "$LIBRARY")
    as_root make -s install
    if [ "$before" != "$(checksum "$LIBRARY")" ]; then LIBRARY_CHANGED=1; fi
}

init_cluster() {
    log "Creating a cluster in $DATA"
    make_postgres_dir "$DEMO_DIR" 0755
    as_postgres "$BIN/initdb" -D "$DATA" -U postgres --auth-local=peer \
        --auth-host=scram-sha-256 --locale=C.UTF-8 -E UTF8 >"$DEMO_DIR/initdb.log" \
        || { cat "$DEMO_DIR/initdb.log"; exit 1; }
    as_postgres tee -a "$DATA/postgresql.conf" >/dev/null <<EOF

# Added by examples/demo.sh
port = $PORT
listen_addresses = 'localhost'
unix_socket_directories = '$DEMO_DIR'
shared_preload_libraries = 'orchestrator'
EOF
}

# The workload's checks order reservations and releases by commit time where start times leave it
# open (test/stress/checks.sql): on, with a restart, in clusters made before it was set.
enable_commit_timestamps() {
    if as_postgres grep -q "^track_commit_timestamp" "$DATA/postgresql.conf"; then
        return
    fi
    log "Setting track_commit_timestamp = on"
    echo "track_commit_timestamp = on" | as_postgres tee -a "$DATA/postgresql.conf" >/dev/null
    if cluster_running "$BIN" "$DATA"; then
        as_postgres "$BIN/pg_ctl" restart -D "$DATA" -l "$DEMO_DIR/server.log" -m fast -w >/dev/null
    fi
}

# Starts the server, or restarts it when the installed library changed.
ensure_running() { # LIBRARY_CHANGED(0/1)
    if cluster_running "$BIN" "$DATA"; then
        if [ "$1" = 1 ]; then
            log "The library changed: restarting the server"
            as_postgres "$BIN/pg_ctl" restart -D "$DATA" -l "$DEMO_DIR/server.log" -m fast -w >/dev/null
        else
            log "Reusing the running server"
        fi
    else
        log "Starting the server"
        start_cluster "$BIN" "$DATA" "$DEMO_DIR/server.log"
    fi
    wait_ready "$BIN" "$DEMO_DIR" "$PORT" || die "the server at port $PORT does not answer"
}

# Prints 't' when the function (a regprocedure signature) exists.
function_exists() {
    psql_demo -d "$DB" -A -t -c "SELECT to_regprocedure('$1') IS NOT NULL"
}

setup_database() {
    log "Setting up database $DB"
    if [ "$(psql_demo -d postgres -A -t -c "SELECT count(*) FROM pg_database WHERE datname = '$DB'")" = 0 ]; then
        psql_demo -d postgres -q -c "CREATE DATABASE $DB"
    fi
    # A new build of the same version has no upgrade script to apply (the extension is not
    # released yet): the demo's extension is made anew from it, its history dropped.
    if [ "$LIBRARY_CHANGED" = 1 ]; then
        psql_demo -d "$DB" -q -c 'SET client_min_messages = warning' \
            -c 'DROP EXTENSION IF EXISTS orchestrator CASCADE'
    fi
    psql_demo -d "$DB" -q -c 'SET client_min_messages = warning' \
        -c 'CREATE EXTENSION IF NOT EXISTS orchestrator'
    # Move to the newly installed version when an upgrade script exists.
    psql_demo -d "$DB" -q -c 'ALTER EXTENSION orchestrator UPDATE' 2>/dev/null \
        || warn "ALTER EXTENSION orchestrator UPDATE failed; keeping the installed version"
    if [ "$(function_exists 'orchestrator.apply_preset(text)')" = t ]; then
        psql_demo -d "$DB" -c "SELECT orchestrator.apply_preset('n8n-content')"
    fi
    if [ "$(function_exists 'orchestrator.get_system_health()')" = t ]; then
        psql_demo -d "$DB" -c 'SELECT * FROM orchestrator.get_system_health()'
    else
        psql_demo -d "$DB" -c "SELECT extname, extversion FROM pg_extension WHERE extname = 'orchestrator'"
    fi
}

# The background worker connects as a role of its own (not the bootstrap superuser) to the demo
# database; both must exist before it starts, so the settings are added after they do, with a
# restart (once).
WORKER_ROLE=orchestrator_pulse
configure_worker() {
    if as_postgres grep -q "^orchestrator.worker_role" "$DATA/postgresql.conf"; then
        return
    fi
    log "Configuring the background worker (role $WORKER_ROLE, database $DB)"
    if [ "$(psql_demo -d postgres -A -t -c "SELECT count(*) FROM pg_roles WHERE rolname = '$WORKER_ROLE'")" = 0 ]; then
        psql_demo -d postgres -q -c "CREATE ROLE $WORKER_ROLE LOGIN SUPERUSER"
    fi
    printf "orchestrator.database = '%s'\norchestrator.worker_role = '%s'\n" "$DB" "$WORKER_ROLE" \
        | as_postgres tee -a "$DATA/postgresql.conf" >/dev/null
    as_postgres "$BIN/pg_ctl" restart -D "$DATA" -l "$DEMO_DIR/server.log" -m fast -w >/dev/null
    wait_ready "$BIN" "$DEMO_DIR" "$PORT" || die "the server at port $PORT does not answer"
}

# Waits (up to 30 s) for the worker's first heartbeat and shows its state.
show_worker() {
    local i
    for i in $(seq 1 60); do
        if [ "$(psql_demo -d "$DB" -A -t -c "SELECT alive_runner = 'worker' AND pass_finished_at IS NOT NULL FROM orchestrator.worker_state")" = t ]; then
            psql_demo -d "$DB" -c "SELECT state, pass_finished_at, alive_at, alive_runner FROM orchestrator.worker_state"
            return
        fi
        sleep 0.5
    done
    warn "the background worker has not beaten yet; see $DEMO_DIR/server.log"
}

# Runs the live workload as postgres (peer authentication over the demo's socket); postgres
# needs to reach the scripts in this checkout (the driver imports test/n8n/ai_api_sim.py and
# runs test/stress/checks.sql).
WORKLOAD_RC=0
run_workload() {
    if [ "$WORKLOAD_SECONDS" = 0 ]; then
        log "ORCH_DEMO_SECONDS=0: no workload"
        return
    fi
    log "Running the live workload for $WORKLOAD_SECONDS s (examples/demo/drive.py)"
    grant_postgres_traverse "$ROOT/examples/demo"
    grant_postgres_traverse "$ROOT/test/n8n"
    grant_postgres_traverse "$ROOT/test/stress"
    as_postgres env PGHOST="$DEMO_DIR" PGPORT="$PORT" PGDATABASE="$DB" PGUSER=postgres \
        /usr/bin/python3 "$ROOT/examples/demo/drive.py" --seconds "$WORKLOAD_SECONDS" \
        --psql "$BIN/psql" || WORKLOAD_RC=$?
    restore_traverse
    [ "$WORKLOAD_RC" = 0 ] || warn "the workload's checks failed (see above)"
}

main() {
    ensure_packages
    build_and_install
    as_postgres test -f "$DATA/PG_VERSION" || init_cluster
    enable_commit_timestamps
    ensure_running "$LIBRARY_CHANGED"
    setup_database
    configure_worker
    show_worker
    run_workload

    cat <<EOF

orchestrator is running.
  data directory: $DATA
  port:           $PORT (unix socket in $DEMO_DIR; TCP on localhost)
  server log:     $DEMO_DIR/server.log
Connect:
  sudo -u postgres psql -h $DEMO_DIR -p $PORT -d $DB
Stop:
  sudo -u postgres $BIN/pg_ctl stop -D $DATA
Run the workload again:
  sudo -u postgres env PGHOST=$DEMO_DIR PGPORT=$PORT PGDATABASE=$DB /usr/bin/python3 $ROOT/examples/demo/drive.py --psql $BIN/psql
EOF
    return "$WORKLOAD_RC"
}

main "$@"
