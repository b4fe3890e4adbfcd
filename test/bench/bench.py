#!/usr/bin/env python3
"""The orchestrator benchmark, run by test/bench/run.sh against a server it started.

Contenders, measured side by side on the same server at every (batch, clients) point, in
interleaved rounds (BENCH_ROUNDS, default 3) that together last BENCH_SECONDS:
  orchestrator       enqueue / orchestrate_next_execution / complete_execution
  plain_skip_locked  a plain table: INSERT / UPDATE ... FOR UPDATE SKIP LOCKED / UPDATE
  plain_plpgsql      the same plain queue behind three PL/pgSQL functions
  ceiling            one single-row UPDATE by primary key: what the server commits per second

One pgbench transaction-script is one cycle: enqueue B tasks, dispatch up to B of them,
complete what was dispatched -- three statements, each its own transaction (autocommit).
Then: the time of one dispatch call with 1k / 100k / 1M tasks queued.

Standard library only. Raw pgbench output goes to WORKDIR/raw, the scripts to WORKDIR/scripts.
"""
import argparse
import datetime
import os
import platform
import re
import subprocess
import sys
import time

# ---------------------------------------------------------------------------------------------
# Settings

QUICK = os.environ.get("BENCH_QUICK", "0") == "1"


def env_list(name, default):
    return [int(x) for x in os.environ.get(name, default).split()]


SECONDS = int(os.environ.get("BENCH_SECONDS", "3" if QUICK else "15"))
DEPTH_SECONDS = int(os.environ.get("BENCH_DEPTH_SECONDS", "3" if QUICK else "10"))
CLIENTS = env_list("BENCH_CLIENTS", "1 4 8")
BATCHES = env_list("BENCH_BATCHES", "1 10")
DEPTHS = env_list("BENCH_DEPTHS", "1000 100000 1000000")
BACKLOG = 1000          # queued before every throughput point, so dispatch never finds it empty
LOAD_CHUNK = 10000      # tasks per enqueue_batch / INSERT when filling the queue for depths
CEILING_ROWS = 1000
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
DB = "bench"

CONTENDERS = ["orchestrator", "plain_skip_locked", "plain_plpgsql"]
TABLE = {"plain_skip_locked": "bench_plain.job", "plain_plpgsql": "bench_plpgsql.job"}
BASELINE = "plain_skip_locked"

# The same payloads on every side: one small object per task.
PAYLOAD = '{"n": 1}'
PAYLOADS = {b: "[" + ", ".join('{"n": %d}' % i for i in range(1, b + 1)) + "]" for b in (1, 10)}

# ---------------------------------------------------------------------------------------------
# SQL: the plain queue, its PL/pgSQL wrapper and the ceiling table

# {s}: bench_plain for plain_skip_locked, bench_plpgsql for plain_plpgsql (a table each).
PLAIN_SCHEMA = """
CREATE SCHEMA {s};
CREATE TABLE {s}.job (
    id bigserial PRIMARY KEY,
    priority smallint NOT NULL DEFAULT 5,
    state text NOT NULL DEFAULT 'queued',
    payload jsonb NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    locked_by text,
    locked_at timestamptz,
    finished_at timestamptz
);
CREATE INDEX job_queued ON {s}.job (priority, id) WHERE state = 'queued';

CREATE FUNCTION {s}.enqueue(payload jsonb, priority integer DEFAULT 5) RETURNS bigint
    LANGUAGE plpgsql AS $$
DECLARE
    new_id bigint;
BEGIN
    INSERT INTO {s}.job (payload, priority) VALUES (payload, priority) RETURNING id INTO new_id;
    RETURN new_id;
END $$;

CREATE FUNCTION {s}.enqueue_batch(payloads jsonb, priority integer DEFAULT 5)
    RETURNS bigint[] LANGUAGE plpgsql AS $$
DECLARE
    ids bigint[];
BEGIN
    WITH ins AS (
        INSERT INTO {s}.job (payload, priority)
        SELECT p.value, enqueue_batch.priority FROM jsonb_array_elements(payloads) p
        RETURNING id)
    SELECT array_agg(id) INTO ids FROM ins;
    RETURN ids;
END $$;

CREATE FUNCTION {s}.dequeue(worker text, max_jobs integer DEFAULT 1)
    RETURNS TABLE (id bigint, payload jsonb) LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY
    UPDATE {s}.job j
       SET state = 'running', locked_by = worker, locked_at = now(), attempts = j.attempts + 1
     WHERE j.id IN (SELECT q.id FROM {s}.job q WHERE q.state = 'queued'
                     ORDER BY q.priority, q.id LIMIT max_jobs FOR UPDATE SKIP LOCKED)
    RETURNING j.id, j.payload;
END $$;

CREATE FUNCTION {s}.complete(ids bigint[]) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    n integer;
BEGIN
    UPDATE {s}.job j SET state = 'done', finished_at = now()
     WHERE j.id = ANY (ids) AND j.state = 'running';
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END $$;
"""

CEILING_SCHEMA = f"""
CREATE SCHEMA bench_ceiling;
CREATE TABLE bench_ceiling.counter (id integer PRIMARY KEY, n bigint NOT NULL DEFAULT 0);
INSERT INTO bench_ceiling.counter (id) SELECT g FROM generate_series(1, {CEILING_ROWS}) g;
"""

PLAIN_DEQUEUE_SQL = (
    "UPDATE bench_plain.job j"
    "   SET state = 'running', locked_by = 'bench', locked_at = now(), attempts = j.attempts + 1"
    " WHERE j.id IN (SELECT q.id FROM bench_plain.job q WHERE q.state = 'queued'"
    "                 ORDER BY q.priority, q.id LIMIT {k} FOR UPDATE SKIP LOCKED)"
    " RETURNING j.id, j.payload")


def cycle_script(contender, batch):
    """One pgbench transaction-script = one cycle; each statement commits on its own."""
    payload = PAYLOAD if batch == 1 else PAYLOADS[batch]
    if contender == "orchestrator":
        enqueue = (f"SELECT orchestrator.enqueue('bench', '{payload}', 5);" if batch == 1 else
                   f"SELECT orchestrator.enqueue_batch('bench', '{payload}', 5);")
        return "\n".join([
            enqueue,
            # An aggregate always returns one row, so \gset works when nothing was dispatched.
            "SELECT coalesce(max(execution_id), 0) AS eid, coalesce(sum(batch_size), 0) AS n,",
            "       coalesce(jsonb_agg(tasks), '[]') AS tasks",
            f"  FROM orchestrator.orchestrate_next_execution('bench', 1)",
            "\\gset",
            "\\if :eid > 0",
            "SELECT orchestrator.complete_execution(:eid);",
            "\\endif",
            ""])
    if contender == "plain_skip_locked":
        enqueue = (f"INSERT INTO bench_plain.job (payload, priority) VALUES ('{payload}', 5);"
                   if batch == 1 else
                   "INSERT INTO bench_plain.job (payload, priority)"
                   f" SELECT p.value, 5 FROM jsonb_array_elements('{payload}') p;")
        return "\n".join([
            enqueue,
            f"WITH d AS ({PLAIN_DEQUEUE_SQL.format(k=batch)})",
            "SELECT coalesce(array_agg(d.id), '{}') AS ids, count(*) AS n,",
            "       coalesce(jsonb_agg(jsonb_build_object('id', d.id, 'payload', d.payload)), '[]') AS tasks",
            "  FROM d",
            "\\gset",
            "\\if :n > 0",
            "UPDATE bench_plain.job SET state = 'done', finished_at = now()"
            " WHERE id = ANY (CAST(:ids AS bigint[])) AND state = 'running';",
            "\\endif",
            ""])
    if contender == "plain_plpgsql":
        enqueue = (f"SELECT bench_plpgsql.enqueue('{payload}', 5);" if batch == 1 else
                   f"SELECT bench_plpgsql.enqueue_batch('{payload}', 5);")
        return "\n".join([
            enqueue,
            "SELECT coalesce(array_agg(d.id), '{}') AS ids, count(*) AS n,",
            "       coalesce(jsonb_agg(jsonb_build_object('id', d.id, 'payload', d.payload)), '[]') AS tasks",
            f"  FROM bench_plpgsql.dequeue('bench', {batch}) d",
            "\\gset",
            "\\if :n > 0",
            "SELECT bench_plpgsql.complete(CAST(:ids AS bigint[]));",
            "\\endif",
            ""])
    if contender == "ceiling":
        return "\n".join([
            f"\\set id random(1, {CEILING_ROWS})",
            "UPDATE bench_ceiling.counter SET n = n + 1 WHERE id = :id;",
            ""])
    raise ValueError(contender)


DEPTH_CHECK = {  # run once before each depth point: the dispatch must find a task
    "orchestrator": "BEGIN;\nSELECT count(*) FROM orchestrator.orchestrate_next_execution('bench', 1);"
                    "\nROLLBACK;\n",
    "plain_skip_locked": f"BEGIN;\nWITH d AS ({PLAIN_DEQUEUE_SQL.format(k=1)}) SELECT count(*) FROM d;"
                         "\nROLLBACK;\n",
    "plain_plpgsql": "BEGIN;\nSELECT count(*) FROM bench_plpgsql.dequeue('bench', 1);\nROLLBACK;\n",
}


def depth_script(contender):
    """One dispatch of one task inside a transaction that rolls back: the depth stays put."""
    if contender == "orchestrator":
        dispatch = "SELECT * FROM orchestrator.orchestrate_next_execution('bench', 1);"
    elif contender == "plain_skip_locked":
        dispatch = PLAIN_DEQUEUE_SQL.format(k=1) + ";"
    elif contender == "plain_plpgsql":
        dispatch = "SELECT * FROM bench_plpgsql.dequeue('bench', 1);"
    else:
        raise ValueError(contender)
    return "\n".join(["BEGIN;", dispatch, "ROLLBACK;", ""])


# ---------------------------------------------------------------------------------------------
# Running things


class Bench:
    def __init__(self, args):
        self.args = args
        self.raw_dir = os.path.join(args.workdir, "raw")
        self.script_dir = os.path.join(args.workdir, "scripts")
        os.makedirs(self.raw_dir, exist_ok=True)
        os.makedirs(self.script_dir, exist_ok=True)
        self.conn = ["-h", args.host, "-p", str(args.port), "-U", "postgres"]
        self.log_pos = 0
        self.notes = []  # odd things seen, for the report

    def psql(self, sql, db=DB):
        """Runs SQL (statements one by one, each its own transaction); returns stdout."""
        cmd = [os.path.join(self.args.bindir, "psql"), "-X", "-q", "-A", "-t",
               "-v", "ON_ERROR_STOP=1", *self.conn, "-d", db, "-f", "-"]
        p = subprocess.run(cmd, input="SET client_min_messages = warning;\n" + sql,
                           capture_output=True, text=True)
        if p.returncode != 0:
            sys.exit(f"psql failed ({p.returncode}):\n{sql[:2000]}\n{p.stderr}")
        return p.stdout.strip()

    def server_log_since_last(self):
        """New server-log lines worth a look (errors, lock waits) since the last call."""
        try:
            with open(self.args.server_log, "rb") as f:
                f.seek(self.log_pos)
                text = f.read().decode("utf-8", "replace")
                self.log_pos = f.tell()
        except OSError:
            return []
        keys = ("ERROR", "FATAL", "PANIC", "WARNING", "still waiting", "deadlock")
        return [l for l in text.splitlines() if any(k in l for k in keys)]

    def pgbench(self, name, script, clients, seconds, per_statement=False):
        path = os.path.join(self.script_dir, name + ".sql")
        with open(path, "w") as f:
            f.write(script)
        cmd = [os.path.join(self.args.bindir, "pgbench"), "-n", "-f", path,
               "-c", str(clients), "-j", str(clients), "-T", str(seconds), "-M", "prepared",
               *(["-r"] if per_statement else []), *self.conn, DB]
        self.server_log_since_last()
        p = subprocess.run(cmd, capture_output=True, text=True)
        with open(os.path.join(self.raw_dir, name + ".txt"), "w") as f:
            f.write("$ " + " ".join(cmd) + "\n\n" + p.stdout + "\n--- stderr ---\n" + p.stderr)
        r = parse_pgbench(p.stdout)
        r["rc"] = p.returncode
        r["aborted"] = len(re.findall(r"client \d+ aborted", p.stderr))
        r["log"] = self.server_log_since_last()
        if p.returncode != 0 or r["aborted"] or "tps" not in r:
            self.notes.append(f"{name}: pgbench exit {p.returncode}, {r['aborted']} client(s) "
                              f"aborted; stderr: {p.stderr.strip()[:400]}")
        if r["log"]:
            self.notes.append(f"{name}: {len(r['log'])} server-log line(s) of note, first: "
                              f"{r['log'][0][:300]}")
        return r

    # --- resetting ---------------------------------------------------------------------------

    def reset(self, batch):
        """Empties every contender's tables (TRUNCATE ... RESTART IDENTITY) and sets the
        orchestrator's one workflow type 'bench' to batch_max BATCH. The extension is created
        once, at the start: re-creating it would read the extension script again, and another
        checkout's `make install` may have replaced it by then (it happened)."""
        self.psql("DROP SCHEMA IF EXISTS bench_plain CASCADE;\n"
                  "DROP SCHEMA IF EXISTS bench_plpgsql CASCADE;\n"
                  "DROP SCHEMA IF EXISTS bench_ceiling CASCADE;\n"
                  "TRUNCATE orchestrator.task, orchestrator.workflow_orchestration RESTART IDENTITY;\n"
                  "SELECT orchestrator.alter_workflow_type('bench', jsonb_build_object("
                  f"'batch_min', 1, 'batch_max', {batch}));\n"
                  + PLAIN_SCHEMA.format(s="bench_plain") + PLAIN_SCHEMA.format(s="bench_plpgsql")
                  + CEILING_SCHEMA)

    def settle(self):
        self.psql("VACUUM ANALYZE;\nCHECKPOINT;\n")

    def queued(self, contender):
        if contender == "orchestrator":
            return int(self.psql("SELECT count(*) FROM orchestrator.task WHERE state = 'queued'"))
        return int(self.psql(f"SELECT count(*) FROM {TABLE[contender]} WHERE state = 'queued'"))

    def fill(self, contender, depth):
        """Adds tasks until DEPTH are queued, LOAD_CHUNK per statement (each its own transaction)."""
        missing = depth - self.queued(contender)
        stmts = []
        while missing > 0:
            n = min(missing, LOAD_CHUNK)
            if contender == "orchestrator":
                stmts.append("SELECT orchestrator.enqueue_batch('bench', (SELECT jsonb_agg("
                             f"jsonb_build_object('n', g)) FROM generate_series(1, {n}) g), 5);")
            else:
                stmts.append(f"INSERT INTO {TABLE[contender]} (payload, priority) SELECT "
                             f"jsonb_build_object('n', g), 5 FROM generate_series(1, {n}) g;")
            missing -= n
        if stmts:
            self.psql("\n".join(stmts) + "\n")

    def counts(self, contender):
        """(tasks completed, tasks still running, executions dispatched or None) so far."""
        if contender == "orchestrator":
            row = self.psql(
                "SELECT count(*) FILTER (WHERE state = 'succeeded'),"
                "       count(*) FILTER (WHERE state = 'running'),"
                "       (SELECT count(*) FROM orchestrator.workflow_orchestration"
                "         WHERE workflow_type = 'bench')"
                "  FROM orchestrator.task")
            done, running, executions = (int(x) for x in row.split("|"))
            return done, running, executions
        if contender == "ceiling":
            return 0, 0, None
        row = self.psql("SELECT count(*) FILTER (WHERE state = 'done'),"
                        f"       count(*) FILTER (WHERE state = 'running') FROM {TABLE[contender]}")
        done, running = (int(x) for x in row.split("|"))
        return done, running, None

    # --- the measurements --------------------------------------------------------------------

    def throughput(self):
        """Every (batch, clients) point: all contenders side by side, in ROUNDS interleaved
        rounds of SECONDS / ROUNDS each, so a slow patch of the machine hits them all."""
        results, ceiling = [], []
        round_s = max(1, round(SECONDS / ROUNDS))
        for batch in BATCHES:
            for clients in CLIENTS:
                contenders = CONTENDERS + (["ceiling"] if batch == BATCHES[0] else [])
                self.reset(batch)
                for c in CONTENDERS:
                    self.fill(c, BACKLOG)
                self.settle()
                acc = {c: [] for c in contenders}
                for rnd in range(1, ROUNDS + 1):
                    for c in contenders:
                        before = self.counts(c)
                        name = f"cycle_{c}_b{batch}_c{clients}_r{rnd}"
                        r = self.pgbench(name, cycle_script(c, batch), clients, round_s,
                                         per_statement=True)
                        after = self.counts(c)
                        r["done"] = after[0] - before[0]
                        r["running"] = after[1]
                        r["executions"] = None if after[2] is None else after[2] - before[2]
                        acc[c].append(r)
                for c in contenders:
                    r = combine(acc[c])
                    r.update(contender=c, batch=batch, clients=clients)
                    name = f"cycle_{c}_b{batch}_c{clients}"
                    if c == "ceiling":
                        ceiling.append(r)
                        progress(f"{name}: {r['tps']:.1f} tx/s (rounds {r['spread']})")
                        continue
                    txns = r["transactions"]
                    r["tasks_per_cycle"] = r["done"] / txns if txns else 0.0
                    r["tasks_per_s"] = r["tps"] * r["tasks_per_cycle"]
                    if r["running"]:
                        self.notes.append(f"{name}: {r['running']} task(s) still running after "
                                          "the run")
                    if r["executions"] is not None and r["executions"] < txns:
                        self.notes.append(f"{name}: {txns - r['executions']} of {txns} dispatches "
                                          "returned nothing")
                    if txns and abs(r["tasks_per_cycle"] - batch) > 0.01:
                        self.notes.append(f"{name}: {r['tasks_per_cycle']:.3f} tasks per cycle, "
                                          f"not {batch}")
                    results.append(r)
                    progress(f"{name}: {r['tps']:.1f} cycles/s, {r['tasks_per_s']:.1f} tasks/s "
                             f"(rounds {r['spread']})")
        return results, ceiling

    def depth(self):
        """Mean time of one dispatch call with DEPTHS tasks queued (1 client, rolled back)."""
        out = {}  # (contender, depth) -> ms
        loads = {c: 0.0 for c in CONTENDERS}  # seconds to fill the queue to the largest depth
        self.reset(1)
        for depth in DEPTHS:
            for c in CONTENDERS:
                t0 = time.monotonic()
                self.fill(c, depth)
                loads[c] += time.monotonic() - t0
            self.settle()
            for c in CONTENDERS:
                got = self.queued(c)
                if got != depth:
                    self.notes.append(f"depth {depth}: {got} tasks queued for {c}")
                if self.psql(DEPTH_CHECK[c]) != "1":
                    self.notes.append(f"depth {depth}: a {c} dispatch did not return exactly "
                                      "one task")
                name = f"depth_{c}_{depth}"
                r = self.pgbench(name, depth_script(c), 1, DEPTH_SECONDS, per_statement=True)
                lat = r.get("statements", [])  # BEGIN, dispatch, ROLLBACK
                out[(c, depth)] = lat[1][0] if len(lat) >= 2 else None
                progress(f"{name}: dispatch {out[(c, depth)]} ms")
        return out, loads


def combine(rounds):
    """One contender's rounds at one point, summed; statement latencies weighted by rounds'
    transactions. spread: the rounds' cycles/s, to show the noise."""
    txns = sum(r.get("transactions", 0) for r in rounds)
    busy = sum(r.get("transactions", 0) / r["tps"] for r in rounds if r.get("tps"))
    out = {
        "transactions": txns,
        "tps": txns / busy if busy else 0.0,
        "latency_ms": (sum(r.get("latency_ms", 0) * r.get("transactions", 0) for r in rounds)
                       / txns if txns else None),
        "failed": sum(r.get("failed", 0) for r in rounds),
        "aborted": sum(r.get("aborted", 0) for r in rounds),
        "rc": max(r["rc"] for r in rounds),
        "done": sum(r.get("done", 0) for r in rounds),
        "running": rounds[-1].get("running", 0),
        "executions": (None if rounds[0].get("executions") is None
                       else sum(r["executions"] for r in rounds)),
        "spread": "/".join(f"{r.get('tps', 0):.0f}" for r in rounds),
    }
    n = max(len(r.get("statements", [])) for r in rounds)
    stmts = []
    for i in range(n):
        rows = [(r["statements"][i], r.get("transactions", 0)) for r in rounds
                if len(r.get("statements", [])) > i]
        w = sum(t for _, t in rows)
        stmts.append((sum(s[0] * t for s, t in rows) / w if w else 0.0,
                      sum(s[1] for s, _ in rows), rows[0][0][2]))
    out["statements"] = stmts
    return out


def parse_pgbench(text):
    r = {}
    m = re.search(r"number of transactions actually processed: (\d+)", text)
    if m:
        r["transactions"] = int(m.group(1))
    m = re.search(r"number of failed transactions: (\d+)", text)
    r["failed"] = int(m.group(1)) if m else 0
    m = re.search(r"latency average = ([\d.]+) ms", text)
    if m:
        r["latency_ms"] = float(m.group(1))
    m = re.search(r"tps = ([\d.]+) \(without initial connection time\)", text)
    if m:
        r["tps"] = float(m.group(1))
    stmts = []
    after = text.split("statement latencies in milliseconds", 1)
    if len(after) == 2:
        for line in after[1].splitlines()[1:]:
            m = re.match(r"\s+([\d.]+)\s+(\d+)\s+(.*)$", line)
            if m:
                stmts.append((float(m.group(1)), int(m.group(2)), m.group(3)))
    r["statements"] = stmts
    return r


def phase_latencies(r):
    """Mean ms of the SQL statements of a cycle: enqueue, dispatch, complete."""
    sql = [s[0] for s in r.get("statements", []) if not s[2].lstrip().startswith("\\")]
    return (sql + [None] * 3)[:3]


def progress(msg):
    print(f"  [{datetime.datetime.now():%H:%M:%S}] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# The report


def machine(b):
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = "unknown"
    try:
        with open("/proc/meminfo") as f:
            kb = int(re.search(r"MemTotal:\s+(\d+)", f.read()).group(1))
            mem = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, AttributeError):
        pass
    version = b.psql("SELECT version()", db="postgres")
    settings = b.psql(
        "SELECT string_agg(name || ' = ' || current_setting(name), ', ' ORDER BY name)"
        "  FROM pg_settings WHERE name IN ('shared_buffers', 'max_connections',"
        "  'synchronous_commit', 'fsync', 'wal_level', 'max_wal_size', 'autovacuum',"
        "  'shared_preload_libraries', 'full_page_writes', 'wal_sync_method',"
        "  'orchestrator.worker_role', 'orchestrator.database', 'orchestrator.hint_interval',"
        "  'orchestrator.heartbeat_interval')", db="postgres")
    ext = b.psql("SELECT default_version FROM pg_available_extensions WHERE name = 'orchestrator'",
                 db="postgres")
    try:
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        commit = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", root, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        commit += " (with uncommitted changes)" if dirty else ""
    except OSError:
        commit = "unknown"
    return [
        f"- Date: {datetime.datetime.now():%Y-%m-%d %H:%M}; commit {commit}",
        f"- Machine: {os.cpu_count()} CPUs (nproc), {cpu}, {mem} RAM; {platform.platform()}",
        f"- {version}",
        f"- Server: {settings}",
        f"- orchestrator extension version {ext}, installed system-wide by run.sh",
        "- Each point empties the tables (TRUNCATE ... RESTART IDENTITY); the extension is "
        "created once per run. Slow lock waits are logged (log_lock_waits = on, "
        "deadlock_timeout = 1s) and "
        "reported below with any errors the server logged.",
    ]


def fmt(x, digits=1):
    return "n/a" if x is None else f"{x:,.{digits}f}"


def report(b, results, ceiling, depth, loads, load_before, load_after, elapsed):
    L = ["# orchestrator benchmark", ""]
    L += machine(b)
    L += [f"- Load average (1/5/15 min) before: {load_before}; after: {load_after}. Other test "
          "servers may share this machine, so figures are noisy.",
          f"- Duration: {SECONDS} s per throughput point, {DEPTH_SECONDS} s per depth point; "
          f"whole run {elapsed / 60:.1f} min" + (" (BENCH_QUICK=1)" if QUICK else ""),
          "", "## Throughput: enqueue, dispatch, complete", "",
          "One cycle = one pgbench transaction-script: enqueue B tasks, dispatch up to B, "
          "complete what was dispatched; three statements, each its own transaction. "
          "At B = 10 both sides enqueue the 10 tasks with one statement (orchestrator: "
          "`enqueue_batch` of a 10-element array; plain: one 10-row `INSERT ... SELECT` from "
          "the same array), so every cycle is three commits on every side. "
          f"Each point starts from emptied tables with {BACKLOG:,} tasks queued in each "
          "contender's own tables, vacuumed and checkpointed; then the contenders run in "
          f"{ROUNDS} interleaved rounds of {max(1, round(SECONDS / ROUNDS))} s (A B C A B C ...) "
          "so a slow patch of the shared machine hits them all; the figures are over all rounds "
          "and `rounds` lists each round's cycles/s (the spread is the noise). tasks/s = cycles/s x tasks completed per cycle (counted "
          "in the database). Ratio = tasks/s / plain_skip_locked's tasks/s at the same point.",
          "",
          "", "The last three columns are the mean time of each statement (pgbench -r), "
          "commit included; `latency ms` is the whole cycle's.", "",
          "| batch | clients | contender | cycles/s | tasks/s | tasks/cycle | ratio vs plain_skip_locked | latency ms | errors | enqueue ms | dispatch ms | complete ms | rounds |",
          "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    base = {(r["batch"], r["clients"]): r for r in results if r["contender"] == BASELINE}
    for r in results:
        ref = base.get((r["batch"], r["clients"]))
        ratio = (r["tasks_per_s"] / ref["tasks_per_s"]) if ref and ref["tasks_per_s"] else None
        errors = r.get("failed", 0) + r.get("aborted", 0) + (1 if r["rc"] else 0)
        L.append(f"| {r['batch']} | {r['clients']} | {r['contender']} | {fmt(r.get('tps'))} | "
                 f"{fmt(r['tasks_per_s'])} | {fmt(r['tasks_per_cycle'], 2)} | {fmt(ratio, 2)} | "
                 f"{fmt(r.get('latency_ms'), 2)} | {errors} | " +
                 " | ".join(fmt(x, 2) for x in phase_latencies(r)) + f" | {r['spread']} |")
    L += ["", "## Ceiling: single-row UPDATE by primary key", "",
          f"`UPDATE ... SET n = n + 1 WHERE id = random(1, {CEILING_ROWS})`, one statement per "
          "transaction: what this server commits per second. A cycle above is three commits, "
          "so cycles/s can reach about a third of this. Measured in the rounds of the "
          f"batch-{BATCHES[0]} points, next to the contenders.", "",
          "| clients | tx/s | latency ms | rounds |", "|---:|---:|---:|---|"]
    for r in ceiling:
        L.append(f"| {r['clients']} | {fmt(r.get('tps'))} | {fmt(r.get('latency_ms'), 2)} | "
                 f"{r['spread']} |")
    L += ["", "## Dispatch time vs queue depth", "",
          "Mean time of one dispatch of one task (pgbench -r, 1 client, "
          f"{DEPTH_SECONDS} s): `BEGIN; dispatch; ROLLBACK;` so the depth stays constant. "
          "orchestrator: `SELECT * FROM orchestrator.orchestrate_next_execution('bench', 1)` "
          "(one type, batch_max 1); plain_skip_locked: the `UPDATE ... WHERE id IN (SELECT ... "
          "LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING`; plain_plpgsql: the same in a function. "
          f"The queue is filled with {LOAD_CHUNK:,} tasks per statement (orchestrator: "
          "`enqueue_batch`), then VACUUM ANALYZE.", ""]
    hdr = "| contender | " + " | ".join(f"{d:,} queued (ms)" for d in DEPTHS)
    ratio_hdr = len(DEPTHS) >= 2
    if ratio_hdr:
        hdr += f" | {DEPTHS[-1]:,} / {DEPTHS[0]:,}"
    L += [hdr + f" | seconds to queue {DEPTHS[-1]:,} |",
          "|---|" + "---:|" * (len(DEPTHS) + (1 if ratio_hdr else 0) + 1)]
    for c in CONTENDERS:
        vals = [depth.get((c, d)) for d in DEPTHS]
        row = f"| {c} | " + " | ".join(fmt(v, 3) for v in vals)
        if ratio_hdr:
            row += " | " + (fmt(vals[-1] / vals[0], 2) if vals[0] and vals[-1] else "n/a")
        L.append(row + f" | {fmt(loads.get(c))} |")
    L += ["", "## Notes", ""]
    L += [f"- {n}" for n in b.notes] or ["- Nothing odd: no pgbench errors, no aborted clients, "
                                          "no errors or lock waits in the server log, every "
                                          "cycle completed a full batch."]
    L += ["", f"Raw pgbench output: `{b.raw_dir}`; scripts: `{b.script_dir}`; server log: "
          f"`{b.args.server_log}`."]
    return "\n".join(L) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bindir", required=True)
    ap.add_argument("--host", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--server-log", required=True)
    ap.add_argument("--report", required=True)
    args = ap.parse_args()

    b = Bench(args)
    # run.sh creates it before the restart that starts the worker, which connects to it.
    if b.psql(f"SELECT count(*) FROM pg_database WHERE datname = '{DB}'", db="postgres") == "0":
        b.psql(f"CREATE DATABASE {DB};", db="postgres")
    # Every policy is active, with limits set too high to bind: a rate-limited API the type
    # calls once per task, a per-task cost against the daily budget and a type budget, resource
    # needs against the global caps, concurrency caps and breakers.
    b.psql("CREATE EXTENSION orchestrator;\n"
           "SELECT orchestrator.register_api('bench_api', 1000000, 1000000);\n"
           "SELECT orchestrator.register_workflow_type('bench', 1, 1, 1,"
           " estimated_cost_usd => 0.000001, daily_budget_usd => 1000000, max_concurrent => 1000);\n"
           "SELECT orchestrator.set_workflow_type_apis('bench', '{\"bench_api\": 1}');\n"
           "SELECT orchestrator.configure('{\"daily_budget_usd\": 1000000,"
           " \"max_db_connections\": 100000, \"max_memory_mb\": 100000000}');\n")
    start = time.monotonic()
    load_before = open("/proc/loadavg").read().split()[:3]
    results, ceiling = b.throughput()
    depth, loads = b.depth()
    load_after = open("/proc/loadavg").read().split()[:3]
    text = report(b, results, ceiling, depth, loads, " ".join(load_before), " ".join(load_after),
                  time.monotonic() - start)
    os.makedirs(os.path.dirname(args.report), exist_ok=True)
    with open(args.report, "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
