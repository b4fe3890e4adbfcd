#!/usr/bin/env python3
"""Dispatch-hint latency, run by test/bench/run.sh after bench.py on the same server.

From the commit of `SELECT orchestrator.enqueue('bench', '{"n": 1}')` to the arrival, at a
LISTEN client, of the background worker's NOTIFY on orchestrator_dispatch. One connection
LISTENs (autocommit; select() on its socket, poll(), notifies); another (autocommit) enqueues
and starts the clock when the call returns, the commit being acknowledged then. The next hint
the listener receives after that moment stops it; none within LOST_AFTER seconds counts as
lost. Each enqueue waits SPACING after the previous hint, the listener drained, so each times
one wake-up of the worker; after its hint the task is dispatched and completed, so every hint
counts one ready task.

Baseline, interleaved with it (hint, baseline, hint, ...): `SELECT pg_notify('bench_baseline',
'x')` by the enqueuing session itself (autocommit), received by the same listener: PostgreSQL's
own NOTIFY delivery. The difference is what the worker's wake-up adds.

orchestrator.hint_interval is set to 0 for the measurement (ALTER SYSTEM + pg_reload_conf())
and reset afterwards. The section goes into the report before its "## Notes" (or at its end),
and to stdout. Needs psycopg2 (Debian: python3-psycopg2).
"""
import argparse
import json
import math
import os
import select
import sys
import time

try:
    import psycopg2
    import psycopg2.extensions
except ImportError:
    sys.exit(f"notify_latency.py needs psycopg2, which {sys.executable} does not find "
             "(Debian: apt-get install python3-psycopg2, for /usr/bin/python3)")

QUICK = os.environ.get("BENCH_QUICK", "0") == "1"
N = int(os.environ.get("BENCH_LATENCY_N", "200" if QUICK else "1000"))
WARMUP = 10          # untimed rounds of each kind first
SPACING = 0.020      # s between a hint's arrival and the next enqueue
LOST_AFTER = 2.0     # s without the awaited notification: lost
HINT_CHANNEL = "orchestrator_dispatch"
BASE_CHANNEL = "bench_baseline"
TYPE = "bench"
ENQUEUE_SQL = "SELECT orchestrator.enqueue('bench', '{\"n\": 1}')"
BASELINE_SQL = "SELECT pg_notify('bench_baseline', 'x')"
HEADING = "## Dispatch hint latency"


def connect(args):
    conn = psycopg2.connect(host=args.host, port=args.port, user="postgres", dbname=args.dbname,
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


class Series:
    def __init__(self, name):
        self.name = name
        self.ms = []
        self.lost = 0


def percentile(sorted_ms, p):
    """Nearest rank."""
    return sorted_ms[max(0, math.ceil(p / 100 * len(sorted_ms)) - 1)]


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


def measure(args):
    notes = []
    log_pos = None
    try:
        log_pos = os.path.getsize(args.server_log) if args.server_log else None
    except OSError:
        pass

    admin = connect(args)
    pid = worker_pid(admin)
    if pid is None:
        return None, None, [f"no orchestrator worker is connected to database {args.dbname}: "
                            "nothing measured (see orchestrator.worker_role in the server log)"]
    # bench.py's depth step leaves 1M tasks queued; start empty and checkpointed, as its points do.
    query(admin, "TRUNCATE orchestrator.task, orchestrator.workflow_orchestration RESTART IDENTITY")
    query(admin, "ANALYZE orchestrator.task")
    query(admin, "CHECKPOINT")

    listener = Listener(connect(args))
    sender = connect(args)
    hint, base = Series("worker hint"), Series("baseline")
    stray = {"hint": 0, "other": 0}   # notifications nobody waited for
    odd_payloads, foreign = [], 0

    def settle_then_drain():
        time.sleep(SPACING)
        for _, n in listener.receive(0):
            stray["hint" if n.channel == HINT_CHANNEL else "other"] += 1

    def one(series, sql, channel, record):
        nonlocal foreign
        settle_then_drain()
        query(sender, sql)
        t0 = time.perf_counter()
        deadline = t0 + LOST_AFTER
        while True:
            left = deadline - time.perf_counter()
            if left <= 0:
                if record:
                    series.lost += 1
                return False
            found = None
            for t, n in listener.receive(left):
                if found is None and n.channel == channel:
                    found = (t, n)
                else:
                    stray["hint" if n.channel == HINT_CHANNEL else "other"] += 1
            if found:
                t, n = found
                if record:
                    series.ms.append((t - t0) * 1000)
                if channel == HINT_CHANNEL:
                    if n.pid != pid:
                        foreign += 1
                    try:
                        p = json.loads(n.payload)
                        if p.get("workflow_type") != TYPE or p.get("ready") != 1:
                            odd_payloads.append(n.payload)
                    except ValueError:
                        odd_payloads.append(n.payload)
                return True

    def drain_queue():
        """Dispatches and completes what is queued (the one task), outside the timed part."""
        for (eid,) in query(sender, "SELECT execution_id FROM "
                                    "orchestrator.orchestrate_next_execution('bench', 10)"):
            query(sender, "SELECT orchestrator.complete_execution(%s)", (eid,))

    seen = set_hint_interval(args, admin, 0)
    if seen != "0":
        notes.append(f"orchestrator.hint_interval did not become 0 (it is {seen})")
    try:
        for i in range(WARMUP + N):
            record = i >= WARMUP
            one(hint, ENQUEUE_SQL, HINT_CHANNEL, record)
            drain_queue()
            one(base, BASELINE_SQL, BASE_CHANNEL, record)
    finally:
        set_hint_interval(args, admin, None)

    time.sleep(0.2)
    for _, n in listener.receive(0):
        stray["hint" if n.channel == HINT_CHANNEL else "other"] += 1
    left = query(admin, "SELECT count(*) FROM orchestrator.task WHERE state <> 'succeeded'")[0][0]
    pid_after = worker_pid(admin)

    if stray["hint"]:
        notes.append(f"{stray['hint']} hint(s) arrived that no enqueue was waiting for "
                     "(a late hint, or more than one per wake-up)")
    if stray["other"]:
        notes.append(f"{stray['other']} baseline notification(s) arrived unawaited")
    if foreign:
        notes.append(f"{foreign} hint(s) came from a process other than the worker (pid {pid})")
    if odd_payloads:
        notes.append(f"{len(odd_payloads)} hint(s) with an unexpected payload, first: "
                     f"{odd_payloads[0]}")
    if left:
        notes.append(f"{left} task(s) not completed at the end")
    if pid_after != pid:
        notes.append(f"the worker's pid changed during the step ({pid} -> {pid_after}): "
                     "it restarted")
    if log_pos is not None:
        try:
            with open(args.server_log, "rb") as f:
                f.seek(log_pos)
                text = f.read().decode("utf-8", "replace")
            keys = ("ERROR", "FATAL", "PANIC", "WARNING", "failed")
            lines = [l for l in text.splitlines() if any(k in l for k in keys)]
            if lines:
                notes.append(f"{len(lines)} server-log line(s) of note, first: {lines[0][:300]}")
        except OSError:
            pass
    settings = query(admin, "SELECT string_agg(name || ' = ' || current_setting(name), ', '"
                            " ORDER BY name) FROM pg_settings WHERE name IN"
                            " ('orchestrator.worker_role', 'orchestrator.database',"
                            " 'orchestrator.heartbeat_interval', 'synchronous_commit')")[0][0]
    for c in (listener.conn, sender, admin):
        c.close()
    return (hint, base), settings, notes


def section(series, settings, notes):
    L = [HEADING, "",
         "From the commit of `SELECT orchestrator.enqueue('bench', '{\"n\": 1}')` (autocommit; "
         "the clock starts when the call returns, the commit acknowledged) to the arrival of the "
         f"background worker's NOTIFY on `{HINT_CHANNEL}` at a LISTEN client (another "
         "connection, psycopg2, select() on its socket). "
         f"The worker ran the whole benchmark ({settings}); for this step only "
         "orchestrator.hint_interval = 0 (ALTER SYSTEM, reset after). "
         "The tasks are emptied and checkpointed first; each enqueue comes "
         f"{SPACING * 1000:.0f} ms after the previous notification arrived, so each times one "
         "wake-up; its task is then dispatched and completed, so each hint counts one ready "
         "task. Baseline, interleaved with it: `SELECT pg_notify('bench_baseline', 'x')` sent "
         "by the enqueuing session itself (autocommit) to the same listener: PostgreSQL's own "
         "NOTIFY delivery; the difference is the worker's wake-up (its latch, its transactions, "
         f"the commit that sends the hint). Lost: nothing within {LOST_AFTER:.0f} s. "
         f"{WARMUP} untimed rounds first." + (" (BENCH_QUICK=1)" if QUICK else ""), ""]
    if series:
        L += ["| measurement | n | p50 ms | p90 ms | p99 ms | max ms | lost |",
              "|---|---:|---:|---:|---:|---:|---:|"]
        for s, what in zip(series, ("worker hint (enqueue commit -> orchestrator_dispatch)",
                                    "baseline (pg_notify by the sender)")):
            xs = sorted(s.ms)
            if xs:
                L.append(f"| {what} | {len(xs)} | " + " | ".join(
                    f"{percentile(xs, p):.2f}" for p in (50, 90, 99)) +
                         f" | {xs[-1]:.2f} | {s.lost} |")
            else:
                L.append(f"| {what} | 0 | n/a | n/a | n/a | n/a | {s.lost} |")
    L += [""]
    L += [f"- {n}" for n in notes] or ["- Nothing odd: one hint per enqueue, all from the "
                                        "worker, none lost, nothing in the server log."]
    return "\n".join(L) + "\n"


def insert(report_path, text):
    """Puts the section before the report's "## Notes", or at its end."""
    try:
        with open(report_path) as f:
            old = f.read()
    except OSError:
        old = ""
    at = old.find("\n## Notes\n")
    new = (old[:at + 1] + text + "\n" + old[at + 1:]) if at >= 0 else (
        old + ("\n" if old and not old.endswith("\n\n") else "") + text)
    os.makedirs(os.path.dirname(os.path.abspath(report_path)), exist_ok=True)
    with open(report_path, "w") as f:
        f.write(new)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--dbname", default="bench")
    ap.add_argument("--server-log")
    ap.add_argument("--report", required=True)
    args = ap.parse_args()

    series, settings, notes = measure(args)
    text = section(series, settings or "not running", notes)
    insert(args.report, text)
    print(text)
    if series is None:
        sys.exit(1)


if __name__ == "__main__":
    main()
