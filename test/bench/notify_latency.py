#!/usr/bin/env python3
"""Dispatch-hint latency, run by test/bench/run.sh after bench.py on the same server.

From the commit of `SELECT orchestrator.enqueue('bench_off', '{"n": 1}')` to the arrival, at a
LISTEN client, of the background worker's NOTIFY on orchestrator_dispatch announcing that type.
One connection LISTENs (autocommit; select() on its socket, poll(), notifies); another
(autocommit) enqueues and starts the clock when the call returns, the commit being acknowledged
then. The next hint for the probe's type that the listener receives after that moment stops it;
none within LOST_AFTER seconds counts as lost. Each enqueue waits SPACING after the previous
hint, the listener drained, so each times one wake-up of the worker; after its hint the task is
dispatched and completed, so every hint counts one ready task.

Baseline, interleaved with it (hint, baseline, hint, ...): `SELECT pg_notify('bench_baseline',
'x')` by the enqueuing session itself (autocommit), received by the same listener: PostgreSQL's
own NOTIFY delivery. The difference is what the worker's wake-up adds.

Twice: idle, then under load: pgbench runs orchestrator_on's batch-1 cycle (workflow type
bench, every policy) at LOAD_FRACTION of the peak cycles/s bench.py measured for it
(pgbench --rate, as many clients as at the peak), so the worker reacts to the load's enqueues
too; their hints name type bench and are counted apart.

orchestrator.hint_interval is set to 0 for the measurement (ALTER SYSTEM + pg_reload_conf())
and reset afterwards. The figures go into the results JSON (key "notify") that report.py
renders. Needs psycopg2 (Debian: python3-psycopg2).
"""
import argparse
import json
import os
import select
import signal
import subprocess
import sys
import time

try:
    import psycopg2
    import psycopg2.extensions
except ImportError:
    sys.exit(f"notify_latency.py needs psycopg2, which {sys.executable} does not find "
             "(Debian: apt-get install python3-psycopg2, for /usr/bin/python3)")

import contenders as K
import settings as S
from runner import Server, summary

WARMUP = 10          # untimed rounds of each kind first
SPACING = 0.020      # s between a hint's arrival and the next enqueue
LOST_AFTER = 2.0     # s without the awaited notification: lost
HINT_CHANNEL = "orchestrator_dispatch"
BASE_CHANNEL = "bench_baseline"
PROBE = "orchestrator_off"           # the probe's contender: its type's hints are timed
LOAD = "orchestrator_on"             # the background load's contender
PROBE_TYPE = K.TYPE[PROBE]
ENQUEUE_SQL = f"SELECT orchestrator.enqueue('{PROBE_TYPE}', '{{\"n\": 1}}')"
DRAIN_SQL = ("SELECT execution_id FROM orchestrator.orchestrate_next_execution('bench', 10, "
             f"ARRAY['{PROBE_TYPE}'])")
BASELINE_SQL = f"SELECT pg_notify('{BASE_CHANNEL}', 'x')"


def connect(args):
    conn = psycopg2.connect(host=args.host, port=args.port, user="postgres", dbname=S.DB,
                            application_name="notify_latency")
    conn.set_isolation_level(psycopg2.extensions.ISOLATION_LEVEL_AUTOCOMMIT)
    return conn


def query(conn, sql, params=None):
    with conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall() if cur.description else []


class Listener:
    def __init__(self, conn):
        self.conn = conn
        query(conn, f"LISTEN {HINT_CHANNEL}")
        query(conn, f"LISTEN {BASE_CHANNEL}")

    def receive(self, timeout):
        """Notifications that arrive within timeout seconds (0: only those already here), each
        as (perf_counter() when read, Notify)."""
        if timeout > 0:
            select.select([self.conn], [], [], timeout)
        self.conn.poll()
        now = time.perf_counter()
        got = [(now, n) for n in self.conn.notifies]
        del self.conn.notifies[:]
        return got


def worker_pid(conn):
    rows = query(conn, "SELECT pid FROM pg_stat_activity WHERE backend_type = 'orchestrator worker'"
                       " AND datname = current_database()")
    return rows[0][0] if rows else None


def set_hint_interval(args, conn, value):
    """ALTER SYSTEM (value None: RESET) and reload; waits until new sessions see it, by which
    time the postmaster has passed the SIGHUP on to the worker. Returns the value seen (ms)."""
    if value is None:
        query(conn, "ALTER SYSTEM RESET orchestrator.hint_interval")
    else:
        query(conn, f"ALTER SYSTEM SET orchestrator.hint_interval = {int(value)}")
    query(conn, "SELECT pg_reload_conf()")
    sql = "SELECT setting, boot_val FROM pg_settings WHERE name = 'orchestrator.hint_interval'"
    for _ in range(100):
        probe = connect(args)
        try:
            seen, boot = query(probe, sql)[0]
        finally:
            probe.close()
        if seen == (boot if value is None else str(int(value))):
            time.sleep(0.1)  # the worker handles the SIGHUP at the top of its loop
            break
        time.sleep(0.05)
    return seen


class Probe:
    """The listener, the enqueuing sender, and what arrived that nobody waited for."""

    def __init__(self, args, pid):
        self.listener = Listener(connect(args))
        self.sender = connect(args)
        self.pid = pid
        self.stray = {"hint": 0, "baseline": 0, "load": 0}
        self.foreign, self.odd_payloads = 0, []

    def file(self, n):
        """Counts a notification nobody waited for."""
        if n.channel != HINT_CHANNEL:
            self.stray["baseline"] += 1
        elif self.hint_type(n) == PROBE_TYPE:
            self.stray["hint"] += 1
        else:
            self.stray["load"] += 1  # a hint for the load's type

    @staticmethod
    def hint_type(n):
        try:
            return json.loads(n.payload).get("workflow_type")
        except ValueError:
            return None

    def drain(self):
        for _, n in self.listener.receive(0):
            self.file(n)

    def one(self, sql, wanted, ms):
        """Sends SQL; appends to MS the time until a notification WANTED accepts arrives.
        Returns False if none came within LOST_AFTER."""
        time.sleep(SPACING)
        self.drain()
        query(self.sender, sql)
        t0 = time.perf_counter()
        deadline = t0 + LOST_AFTER
        while True:
            left = deadline - time.perf_counter()
            if left <= 0:
                return False
            found = None
            for t, n in self.listener.receive(left):
                if found is None and wanted(n):
                    found = (t, n)
                else:
                    self.file(n)
            if found:
                t, n = found
                ms.append((t - t0) * 1000)
                if n.channel == HINT_CHANNEL:
                    self.check_hint(n)
                return True

    def check_hint(self, n):
        if n.pid != self.pid:
            self.foreign += 1
        try:
            if json.loads(n.payload).get("ready") != 1:
                self.odd_payloads.append(n.payload)
        except ValueError:
            self.odd_payloads.append(n.payload)

    def run(self, count):
        """WARMUP + COUNT rounds of (hint, baseline); returns the two series' summaries and
        lost counts."""
        is_hint = lambda n: n.channel == HINT_CHANNEL and self.hint_type(n) == PROBE_TYPE
        is_base = lambda n: n.channel == BASE_CHANNEL
        hint, base, lost = [], [], {"hint": 0, "baseline": 0}
        stray = dict(self.stray)
        for i in range(WARMUP + count):
            record = i >= WARMUP
            got = self.one(ENQUEUE_SQL, is_hint, hint if record else [])
            lost["hint"] += record and not got
            # Dispatches and completes the one task, outside the timed part.
            for (eid,) in query(self.sender, DRAIN_SQL):
                query(self.sender, "SELECT orchestrator.complete_execution(%s)", (eid,))
            got = self.one(BASELINE_SQL, is_base, base if record else [])
            lost["baseline"] += record and not got
        self.drain()
        extra = {k: self.stray[k] - stray[k] for k in ("hint", "baseline")}
        return {"hint": summary(hint), "baseline": summary(base), "lost": lost, "extra": extra}

    def close(self):
        self.listener.conn.close()
        self.sender.close()


def peak_load(results):
    """(peak cycles/s, clients) of the load's contender at batch 1 with synchronous_commit on
    (the server's setting), from bench.py's throughput step; None if it did not run."""
    modes = results.get("throughput", {})
    mode = modes.get("on") or next(iter(modes.values()), None)
    points = [p for p in (mode or {}).get("points", [])
              if p["contender"] == LOAD and p["batch"] == 1 and p.get("tps")]
    if not points:
        return None
    best = max(points, key=lambda p: p["tps"])
    return best["tps"], best["clients"]


class BackgroundLoad:
    """pgbench running LOAD's batch-1 cycle at RATE cycles/s until stop()."""

    def __init__(self, args, server, rate, clients):
        self.server = server
        self.rate, self.clients = rate, clients
        self.admin = connect(args)
        query(self.admin, K.fill_sql(LOAD, S.BACKLOG))
        cmd = self.server.pgbench_command("notify_load", K.cycle_script(LOAD, 1), clients,
                                          seconds=3600, rate=rate)
        self.out = open(os.path.join(self.server.dirs["raw"], "notify_load.txt"), "w")
        self.out.write("$ " + " ".join(cmd) + "\n\n")
        self.out.flush()
        self.done0 = self.done()
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdout=self.out, stderr=subprocess.STDOUT)
        time.sleep(2)  # connected and at its rate

    def done(self):
        return query(self.admin, "SELECT count(*) FROM orchestrator.task t JOIN "
                                 "orchestrator.workflow_type w ON w.id = t.workflow_type_id"
                                 f" WHERE w.name = '{K.TYPE[LOAD]}' AND t.state = 'succeeded'")[0][0]

    def stop(self):
        """Stops pgbench; returns the achieved cycles/s (tasks completed, counted in the
        database, over the time it ran) and whether it was still running when stopped."""
        alive = self.proc.poll() is None
        rate = (self.done() - self.done0) / (time.monotonic() - self.t0)
        if alive:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.out.close()
        self.admin.close()
        return rate, alive


def measure(args, results):
    notes = []
    server = Server(args.bindir, args.host, args.port, args.workdir, args.server_log)
    server.server_log_since_last()  # from here on

    admin = connect(args)
    pid = worker_pid(admin)
    if pid is None:
        return {"notes": [f"no orchestrator worker is connected to database {S.DB}: nothing "
                          "measured (see orchestrator.worker_role in the server log)"]}
    # bench.py leaves tasks queued; start empty and checkpointed, as its points do.
    query(admin, "TRUNCATE orchestrator.task, orchestrator.workflow_orchestration RESTART IDENTITY")
    query(admin, "ANALYZE orchestrator.task")
    query(admin, "CHECKPOINT")

    out = {"n": S.LATENCY_N, "warmup": WARMUP, "spacing_ms": SPACING * 1000,
           "lost_after_s": LOST_AFTER, "probe_type": PROBE_TYPE, "load_type": K.TYPE[LOAD]}
    probe = Probe(args, pid)
    seen = set_hint_interval(args, admin, 0)
    if seen != "0":
        notes.append(f"orchestrator.hint_interval did not become 0 (it is {seen})")
    try:
        out["idle"] = probe.run(S.LATENCY_N)
        peak = peak_load(results)
        if peak is None:
            notes.append("no peak cycles/s of orchestrator_on at batch 1 from the throughput "
                         "step: not measured under load")
        else:
            target = peak[0] * S.LOAD_FRACTION
            load = BackgroundLoad(args, server, target, peak[1])
            try:
                out["loaded"] = probe.run(S.LATENCY_N)
            finally:
                achieved, alive = load.stop()
            out["load"] = {"peak": peak[0], "clients": peak[1], "target": target,
                           "achieved": achieved}
            if not alive:
                notes.append("the background pgbench ended before the measurement did (see "
                             "raw/notify_load.txt)")
            if achieved < 0.9 * target:
                notes.append(f"the background load reached {achieved:.0f} cycles/s of the "
                             f"{target:.0f} asked")
    finally:
        set_hint_interval(args, admin, None)

    time.sleep(0.2)
    probe.drain()
    left = query(admin, "SELECT count(*) FROM orchestrator.task t JOIN orchestrator.workflow_type"
                        " w ON w.id = t.workflow_type_id WHERE w.name = %s AND t.state <> "
                        "'succeeded'", (PROBE_TYPE,))[0][0]
    pid_after = worker_pid(admin)
    if out["idle"]["extra"]["hint"]:
        notes.append(f"idle: {out['idle']['extra']['hint']} {PROBE_TYPE} hint(s) arrived that "
                     "no enqueue was waiting for (a late hint, or more than one per wake-up)")
    if probe.foreign:
        notes.append(f"{probe.foreign} hint(s) came from a process other than the worker "
                     f"(pid {pid})")
    if probe.odd_payloads:
        notes.append(f"{len(probe.odd_payloads)} hint(s) with an unexpected payload, first: "
                     f"{probe.odd_payloads[0]}")
    if left:
        notes.append(f"{left} probe task(s) not completed at the end")
    if pid_after != pid:
        notes.append(f"the worker's pid changed during the step ({pid} -> {pid_after}): "
                     "it restarted")
    # Stopping the background pgbench (SIGINT) makes the server log its lost connections.
    log = [l for l in server.server_log_since_last() if "connection to client lost" not in l]
    if log:
        notes.append(f"{len(log)} server-log line(s) of note, first: {log[0][:300]}")
    out["load_hints"] = probe.stray["load"]
    out["settings"] = query(admin, "SELECT string_agg(name || ' = ' || current_setting(name), "
                                   "', ' ORDER BY name) FROM pg_settings WHERE name IN"
                                   " ('orchestrator.worker_role', 'orchestrator.database',"
                                   " 'orchestrator.heartbeat_interval', 'synchronous_commit')")[0][0]
    probe.close()
    admin.close()
    out["notes"] = notes
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bindir", required=True)
    ap.add_argument("--host", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--server-log")
    ap.add_argument("--results", required=True, help="bench.py's JSON: read, and added to")
    args = ap.parse_args()

    with open(args.results) as f:
        results = json.load(f)
    results["notify"] = measure(args, results)
    with open(args.results, "w") as f:
        json.dump(results, f, indent=1)
    n = results["notify"]
    for what in ("idle", "loaded"):
        if what in n:
            h = n[what]["hint"] or {}
            print(f"hint latency {what}: p50 {h.get('p50', 0):.2f} ms, p99 {h.get('p99', 0):.2f} "
                  f"ms, lost {n[what]['lost']['hint']}", file=sys.stderr)
    if "idle" not in n:
        sys.exit(1)


if __name__ == "__main__":
    main()
