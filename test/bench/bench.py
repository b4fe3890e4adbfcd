#!/usr/bin/env python3
"""The orchestrator benchmark's measurements, run by test/bench/run.sh against a server it started.

The contenders and their scripts are in contenders.py, the settings in settings.py. Steps
(BENCH_STEPS, in this order; notify is notify_latency.py's, instructions instructions.py's):

  throughput  cycles/s of every contender at every (synchronous_commit, batch, clients) point,
              in interleaved rounds, with the ceiling next to them
  dispatch    dispatch call latency p50/p99: dispatch-only transactions timed one by one
  wal         WAL bytes per task over a fixed number of cycles, after a checkpoint and a warm-up
  depth       the time of one dispatch with 1k / 100k / 1M tasks queued
  bloat       dead tuples and table + index size after BENCH_BLOAT_CYCLES tasks went through
  snapshot    cycles/s while another session holds a snapshot open, against cycles/s without
  sustained   cycles/s over long runs that no VACUUM interrupts, at every (batch, clients) point

Everything measured goes to a JSON file (--results) that notify_latency.py adds to and
report.py turns into the markdown report and its charts. Standard library only.
"""
import argparse
import datetime
import json
import math
import os
import platform
import re
import subprocess
import time

import contenders as K
import settings as S
from runner import Server, progress


class Bench:
    def __init__(self, server):
        self.s = server

    # --- state between points ----------------------------------------------------------------

    def settle(self):
        self.s.psql("VACUUM ANALYZE;\nCHECKPOINT;\n")

    def queued(self, contender):
        return int(self.s.psql(K.queued_sql(contender)))

    def prepare(self, batch, contenders, extra=0):
        """Empty tables, BACKLOG + EXTRA tasks queued for each of CONTENDERS, vacuumed and
        checkpointed."""
        self.s.psql(K.reset_sql(batch))
        for c in contenders:
            if c != K.CEILING:
                self.s.psql(K.fill_sql(c, S.BACKLOG + extra))
        self.settle()

    def counts(self, contender):
        """(tasks completed, tasks running, executions or None, executions a limit cut)."""
        if contender == K.CEILING:
            return 0, 0, None, 0
        done, running, executions, limited = self.s.row(K.counts_sql(contender))
        return int(done), int(running), int(executions) if executions else None, int(limited)

    def check_cycles(self, name, r, batch):
        """Notes a point whose cycles did not all dispatch and complete a full batch, or whose
        batches a governance limit cut."""
        txns = r["transactions"]
        if r["running"]:
            self.s.notes.append(f"{name}: {r['running']} task(s) still running after the run")
        if r["executions"] is not None and r["executions"] < txns:
            self.s.notes.append(f"{name}: {txns - r['executions']} of {txns} dispatches "
                                "returned nothing")
        if r["limited"]:
            self.s.notes.append(f"{name}: a limit cut {r['limited']} execution(s) "
                                "(limited_by other than batch_max or queue)")
        if txns and abs(r["done"] / txns - batch) > 0.01:
            self.s.notes.append(f"{name}: {r['done'] / txns:.3f} tasks per cycle, not {batch}")

    def run_cycles(self, name, contender, batch, clients, **pgbench_args):
        """Runs pgbench on the contender's cycle script; adds done / running / executions /
        limited, counted in the database around the run."""
        before = self.counts(contender)
        r = self.s.pgbench(name, K.cycle_script(contender, batch), clients, **pgbench_args)
        after = self.counts(contender)
        r["done"] = after[0] - before[0]
        r["running"] = after[1]
        r["executions"] = None if after[2] is None else after[2] - before[2]
        r["limited"] = after[3] - before[3]
        return r

    # --- the steps ---------------------------------------------------------------------------

    def throughput(self, sync):
        """Every (batch, clients) point with synchronous_commit = SYNC: the contenders side by
        side in ROUNDS interleaved rounds of SECONDS / ROUNDS each (A B C A B C ...), so a slow
        patch of the machine hits them all; the ceiling in the rounds of the first batch."""
        points, ceiling = [], []
        round_s = max(1, round(S.SECONDS / S.ROUNDS))
        for batch in S.BATCHES:
            for clients in S.CLIENTS:
                who = K.CONTENDERS + ([K.CEILING] if batch == S.BATCHES[0] else [])
                self.prepare(batch, K.CONTENDERS)
                acc = {c: [] for c in who}
                for rnd in range(1, S.ROUNDS + 1):
                    for c in who:
                        acc[c].append(self.run_cycles(
                            f"cycle_{sync}_{c}_b{batch}_c{clients}_r{rnd}", c, batch, clients,
                            seconds=round_s, per_statement=True, sync=sync))
                for c in who:
                    r = combine(acc[c])
                    r.update(contender=c, batch=batch, clients=clients, sync=sync)
                    name = f"cycle_{sync}_{c}_b{batch}_c{clients}"
                    if c == K.CEILING:
                        ceiling.append(r)
                        progress(f"{name}: {r['tps']:.1f} tx/s (rounds {r['spread']})")
                        continue
                    self.check_cycles(name, r, batch)
                    txns = r["transactions"]
                    r["tasks_per_cycle"] = r["done"] / txns if txns else 0.0
                    r["tasks_per_s"] = r["tps"] * r["tasks_per_cycle"]
                    points.append(r)
                    progress(f"{name}: {r['tps']:.1f} cycles/s, {r['tasks_per_s']:.1f} tasks/s "
                             f"(rounds {r['spread']})")
        return {"points": points, "ceiling": ceiling}

    def dispatch(self):
        """Dispatch call latency: DISPATCH_N dispatch-only transactions per point and contender
        (pgbench -t, --log: each transaction is the one dispatch statement and its commit). The
        queue holds enough for every dispatch to find a full batch; what is claimed stays
        running until the contender's run ends, then it is completed in one statement."""
        out = []
        for batch in S.BATCHES:
            for clients in S.CLIENTS:
                per_client = math.ceil(S.DISPATCH_N / clients)
                total = per_client * clients
                self.prepare(batch, K.CONTENDERS, extra=total * batch)
                for c in K.CONTENDERS + [K.CEILING]:
                    name = f"dispatch_{c}_b{batch}_c{clients}"
                    before = self.counts(c)
                    r = self.s.pgbench(name, K.dispatch_script(c, batch), clients,
                                       per_client=per_client, txlog=True)
                    claimed = self.counts(c)[1] - before[1]
                    if c != K.CEILING and claimed != total * batch:
                        self.s.notes.append(f"{name}: {claimed} tasks claimed by {total} "
                                            f"dispatches of {batch}")
                    self.s.psql(K.release_sql(c))
                    lat = r.get("txlog") or {}
                    out.append({"contender": c, "batch": batch, "clients": clients,
                                "tps": r.get("tps"), **lat})
                    progress(f"{name}: p50 {lat.get('p50', 0):.3f} ms, p99 "
                             f"{lat.get('p99', 0):.3f} ms, {r.get('tps', 0):.0f}/s")
        return out

    def wal(self):
        """WAL bytes per task: pg_current_wal_insert_lsn() around WAL_CYCLES cycles (1 client),
        after a CHECKPOINT and a warm-up of 2 x BACKLOG tasks, so the pages the measured cycles
        touch were written once since the checkpoint and full-page images are rare (pg_stat_wal
        counts those that remain). Everything the server writes in the window counts: the
        background worker's reactions and autovacuum included."""
        out = []
        stat = "SELECT pg_current_wal_insert_lsn(), wal_records, wal_fpi FROM pg_stat_wal"
        for batch in S.BATCHES:
            for c in K.CONTENDERS + ([K.CEILING] if batch == S.BATCHES[0] else []):
                self.prepare(batch, [c])
                warm = max(200, math.ceil(2 * S.BACKLOG / batch))
                self.s.pgbench(f"wal_warm_{c}_b{batch}", K.cycle_script(c, batch), 1,
                               per_client=warm)
                lsn, records, fpi = self.s.row(stat)
                r = self.run_cycles(f"wal_{c}_b{batch}", c, batch, 1, per_client=S.WAL_CYCLES)
                nbytes, records2, fpi2 = self.s.row(
                    f"SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '{lsn}'),"
                    " wal_records, wal_fpi FROM pg_stat_wal")
                cycles = r.get("transactions", 0)
                if c != K.CEILING:
                    self.check_cycles(f"wal_{c}_b{batch}", r, batch)
                tasks = r["done"] if c != K.CEILING else cycles
                row = {"contender": c, "batch": batch, "cycles": cycles, "tasks": tasks,
                       "bytes": int(float(nbytes)), "records": int(records2) - int(records),
                       "fpi": int(fpi2) - int(fpi)}
                out.append(row)
                progress(f"wal {c} b{batch}: {row['bytes'] / max(1, tasks):.0f} bytes/task, "
                         f"{row['fpi']} FPIs")
        return out

    def fill_to(self, contender, depth):
        missing = depth - self.queued(contender)
        if missing > 0:
            self.s.psql(K.fill_sql(contender, missing))

    def depth(self):
        """Mean time of one dispatch call with DEPTHS tasks queued (1 client, rolled back)."""
        out = {c: {} for c in K.CONTENDERS}
        loads = {c: 0.0 for c in K.CONTENDERS}  # seconds to fill the queue to the largest depth
        self.s.psql(K.reset_sql(1))
        for depth in S.DEPTHS:
            for c in K.CONTENDERS:
                t0 = time.monotonic()
                self.fill_to(c, depth)
                loads[c] += time.monotonic() - t0
            self.settle()
            for c in K.CONTENDERS:
                got = self.queued(c)
                if got != depth:
                    self.s.notes.append(f"depth {depth}: {got} tasks queued for {c}")
                if self.s.psql(K.depth_check_sql(c)) != "1":
                    self.s.notes.append(f"depth {depth}: a {c} dispatch did not return exactly "
                                        "one task")
                name = f"depth_{c}_{depth}"
                r = self.s.pgbench(name, K.depth_script(c), 1, seconds=S.DEPTH_SECONDS,
                                   per_statement=True)
                lat = r.get("statements", [])  # BEGIN, dispatch, ROLLBACK
                out[c][str(depth)] = lat[1][0] if len(lat) >= 2 else None
                progress(f"{name}: dispatch {out[c][str(depth)]} ms")
        return {"ms": out, "load_seconds": loads}

    def table_stats(self, contender):
        """Per relation: live and dead tuples (pg_stat_user_tables), heap, index and total
        bytes, autovacuum runs."""
        rels = ", ".join(f"'{t}'::regclass" for t in K.tables(contender))
        text = self.s.psql(
            "SELECT s.schemaname || '.' || s.relname, s.n_live_tup, s.n_dead_tup,"
            "       pg_relation_size(s.relid), pg_indexes_size(s.relid),"
            "       pg_total_relation_size(s.relid), s.autovacuum_count"
            f"  FROM pg_stat_user_tables s WHERE s.relid IN ({rels}) ORDER BY 1")
        keys = ("live", "dead", "heap_bytes", "index_bytes", "total_bytes", "autovacuums")
        return {line.split("|")[0]: dict(zip(keys, map(int, line.split("|")[1:])))
                for line in text.splitlines()}

    def bloat(self):
        """BLOAT_CYCLES tasks through the whole cycle in batch-10 cycles from BLOAT_CLIENTS
        clients, autovacuum on (the server's defaults); the tables' stats sampled BLOAT_SAMPLES
        times on the way. synchronous_commit off: what is written does not change, only how
        long the step waits on fsync."""
        out = {}
        txns = max(1, S.BLOAT_CYCLES // S.BLOAT_BATCH)
        chunk = max(1, math.ceil(txns / S.BLOAT_SAMPLES / S.BLOAT_CLIENTS))
        for c in S.BLOAT_CONTENDERS:
            self.prepare(S.BLOAT_BATCH, [c])
            samples, start, done = [], time.monotonic(), 0
            for i in range(1, S.BLOAT_SAMPLES + 1):
                r = self.run_cycles(f"bloat_{c}_{i}", c, S.BLOAT_BATCH, S.BLOAT_CLIENTS,
                                    per_client=chunk, sync="off")
                self.check_cycles(f"bloat_{c}_{i}", r, S.BLOAT_BATCH)
                done += r["done"]
                samples.append({"tasks": done, "seconds": time.monotonic() - start,
                                "tables": self.table_stats(c)})
            out[c] = samples
            last = samples[-1] if samples else {"tables": {}, "tasks": 0, "seconds": 0}
            total = sum(t["total_bytes"] for t in last["tables"].values())
            progress(f"bloat {c}: {last['tasks']} tasks in {last['seconds']:.0f} s, "
                     f"{total / 2**20:.1f} MiB")
        return out

    def snapshot(self):
        """Cycles/s for SNAPSHOT_SECONDS without, then with, another session holding a snapshot:
        BEGIN ISOLATION LEVEL REPEATABLE READ, one read of the contender's table, pg_sleep.
        Each run starts from emptied, vacuumed tables."""
        out = []
        appname = "bench_snapshot"
        for c in S.SNAPSHOT_CONTENDERS:
            for held in (False, True):
                self.prepare(S.SNAPSHOT_BATCH, [c])
                holder = None
                if held:
                    holder = self.s.psql_async(
                        "BEGIN ISOLATION LEVEL REPEATABLE READ; "
                        f"{K.snapshot_read_sql(c)}; SELECT pg_sleep({S.SNAPSHOT_SECONDS + 60}); "
                        "COMMIT;", appname)
                    if not self.wait_for_snapshot(appname):
                        self.s.notes.append(f"snapshot {c}: the holding session had no snapshot")
                name = f"snapshot_{c}_{'held' if held else 'none'}"
                r = self.run_cycles(name, c, S.SNAPSHOT_BATCH, S.SNAPSHOT_CLIENTS,
                                    seconds=S.SNAPSHOT_SECONDS,
                                    progress_s=max(1, S.SNAPSHOT_SECONDS // 6))
                self.check_cycles(name, r, S.SNAPSHOT_BATCH)
                stats = self.table_stats(c)
                if holder:
                    self.s.psql("SELECT pg_cancel_backend(pid) FROM pg_stat_activity"
                                f" WHERE application_name = '{appname}'")
                    holder.wait()
                out.append({"contender": c, "held": held, "tps": r.get("tps"),
                            "intervals": r.get("intervals", []),
                            "dead": sum(t["dead"] for t in stats.values())})
                progress(f"{name}: {r.get('tps', 0):.1f} cycles/s, intervals "
                         f"{'/'.join(f'{x:.0f}' for x in r.get('intervals', []))}")
        return out

    def sustained(self):
        """Cycles/s of each contender alone for SUSTAINED_SECONDS at every (batch, clients)
        point, from emptied, vacuumed tables with BACKLOG queued; only autovacuum runs meanwhile,
        so the dead row versions and index entries of the cycles pile up as in service."""
        out = []
        for batch in S.SUSTAINED_BATCHES:
            for clients in S.SUSTAINED_CLIENTS:
                for c in S.SUSTAINED_CONTENDERS:
                    self.prepare(batch, [c])
                    name = f"sustained_{c}_b{batch}_c{clients}"
                    r = self.run_cycles(name, c, batch, clients, seconds=S.SUSTAINED_SECONDS,
                                        progress_s=max(1, S.SUSTAINED_SECONDS // 6))
                    self.check_cycles(name, r, batch)
                    out.append({"contender": c, "batch": batch, "clients": clients,
                                "tps": r.get("tps"), "intervals": r.get("intervals", [])})
                    progress(f"{name}: {r.get('tps', 0):.1f} cycles/s, intervals "
                             f"{'/'.join(f'{x:.0f}' for x in r.get('intervals', []))}")
        return out

    def wait_for_snapshot(self, appname):
        for _ in range(100):
            if self.s.psql("SELECT count(*) FROM pg_stat_activity WHERE application_name = "
                           f"'{appname}' AND backend_xmin IS NOT NULL") == "1":
                return True
            time.sleep(0.1)
        return False


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
        "errors": sum(r.get("failed", 0) + r.get("aborted", 0) + (1 if r["rc"] else 0)
                      for r in rounds),
        "done": sum(r["done"] for r in rounds),
        "running": rounds[-1]["running"],
        "executions": (None if rounds[0]["executions"] is None
                       else sum(r["executions"] for r in rounds)),
        "limited": sum(r["limited"] for r in rounds),
        "spread": "/".join(f"{r.get('tps', 0):.0f}" for r in rounds),
    }
    # Mean ms of the SQL statements of a cycle (enqueue, dispatch, complete), weighted.
    phases = []
    for r in rounds:
        sql = [s[0] for s in r.get("statements", []) if not s[2].lstrip().startswith("\\")]
        phases.append((sql + [None] * 3)[:3])
    out["phases_ms"] = []
    for i in range(3):
        rows = [(p[i], r.get("transactions", 0)) for p, r in zip(phases, rounds)
                if p[i] is not None]
        w = sum(t for _, t in rows)
        out["phases_ms"].append(sum(x * t for x, t in rows) / w if w else None)
    return out


def machine(server):
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")),
                       cpu)
    except OSError:
        pass
    mem = "unknown"
    try:
        with open("/proc/meminfo") as f:
            kb = int(re.search(r"MemTotal:\s+(\d+)", f.read()).group(1))
            mem = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, AttributeError):
        pass
    version = server.psql("SELECT version()", db="postgres")
    config = server.psql(
        "SELECT string_agg(name || ' = ' || current_setting(name), ', ' ORDER BY name)"
        "  FROM pg_settings WHERE name IN ('shared_buffers', 'max_connections',"
        "  'synchronous_commit', 'fsync', 'wal_level', 'max_wal_size', 'autovacuum',"
        "  'autovacuum_naptime', 'shared_preload_libraries', 'full_page_writes',"
        "  'wal_sync_method', 'orchestrator.worker_role', 'orchestrator.database',"
        "  'orchestrator.hint_interval', 'orchestrator.heartbeat_interval')", db="postgres")
    ext = server.psql("SELECT default_version FROM pg_available_extensions"
                      " WHERE name = 'orchestrator'", db="postgres")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    try:
        commit = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", root, "status", "--porcelain",
                                "--untracked-files=no"], capture_output=True, text=True).stdout
        commit += " (with uncommitted changes)" if dirty.strip() else ""
    except OSError:
        commit = "unknown"
    return [
        f"Date: {datetime.datetime.now():%Y-%m-%d %H:%M}; commit {commit}",
        f"Machine: {os.cpu_count()} CPUs (nproc), {cpu}, {mem} RAM; {platform.platform()}",
        version,
        f"Server: {config}",
        f"orchestrator extension version {ext}, installed system-wide by run.sh",
    ]


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bindir", required=True)
    ap.add_argument("--host", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--server-log", required=True)
    ap.add_argument("--results", required=True, help="the JSON file to write")
    args = ap.parse_args()

    server = Server(args.bindir, args.host, args.port, args.workdir, args.server_log)
    b = Bench(server)
    # run.sh creates it before the restart that starts the worker, which connects to it.
    if server.psql(f"SELECT count(*) FROM pg_database WHERE datname = '{S.DB}'",
                   db="postgres") == "0":
        server.psql(f"CREATE DATABASE {S.DB};", db="postgres")
    server.psql(K.SETUP_SQL)

    results = {"machine": machine(server), "quick": S.QUICK, "load_before": loadavg(),
               "settings": {k: getattr(S, k) for k in dir(S) if k.isupper()},
               "paths": {**server.dirs, "server_log": args.server_log}}
    start = time.monotonic()
    if "throughput" in S.STEPS:
        results["throughput"] = {sync: b.throughput(sync) for sync in S.SYNC_MODES}
    steps = {"dispatch": b.dispatch, "wal": b.wal, "depth": b.depth, "bloat": b.bloat,
             "snapshot": b.snapshot, "sustained": b.sustained}
    for step, run in steps.items():
        if step in S.STEPS:
            progress(f"step {step}")
            results[step] = run()
    results.update(elapsed_s=time.monotonic() - start, load_after=loadavg(),
                   notes=server.notes)
    os.makedirs(os.path.dirname(os.path.abspath(args.results)), exist_ok=True)
    with open(args.results, "w") as f:
        json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
