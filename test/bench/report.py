#!/usr/bin/env python3
"""Turns the benchmark's results JSON (bench.py, then notify_latency.py) into the markdown
report and its PNG charts (gnuplot, pngcairo), written next to each other; the JSON is copied
beside them as latest.json. Standard library only; gnuplot from Debian's gnuplot-nox.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

import contenders as K

COMMITS = K.COMMITS_PER_CYCLE


def fmt(x, digits=1):
    return "n/a" if x is None else f"{x:,.{digits}f}"


def ratio(a, b, digits=2):
    return fmt(a / b, digits) if a is not None and b else "n/a"


def mib(n):
    return f"{n / 2**20:,.1f}"


def table(header, rows, align=None):
    """A markdown table; ALIGN: one character per column, l or r (default: l then r...)."""
    align = align or "l" + "r" * (len(header) - 1)
    out = ["| " + " | ".join(header) + " |",
           "|" + "|".join("---" if a == "l" else "---:" for a in align) + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return out


# ---------------------------------------------------------------------------------------------
# Charts


class Charts:
    """Line charts drawn by gnuplot into DIR; each chart() returns the PNG's file name, or None
    when gnuplot is missing or fails (noted)."""

    def __init__(self, directory, notes):
        self.dir, self.notes = directory, notes
        self.gnuplot = shutil.which("gnuplot")
        for old in os.listdir(directory):  # charts of an earlier run's points
            if old.endswith(".png"):
                os.remove(os.path.join(directory, old))
        if not self.gnuplot:
            notes.append("gnuplot is not installed (Debian: gnuplot-nox): no charts")

    def chart(self, name, title, xlabel, ylabel, series, logx=False, xtics=None):
        """SERIES: [(label, [(x, y), ...], dashed)]; writes NAME.png."""
        series = [(label, [(x, y) for x, y in pts if y is not None], dashed)
                  for label, pts, dashed in series]
        series = [s for s in series if s[1]]
        if not self.gnuplot or not series:
            return None
        png = name + ".png"
        lines = ["set terminal pngcairo size 900,560 font 'sans,10' noenhanced",
                 f"set output '{os.path.join(self.dir, png)}'",
                 f"set title {json.dumps(title)}", f"set xlabel {json.dumps(xlabel)}",
                 f"set ylabel {json.dumps(ylabel)}", "set grid", "set key outside right top",
                 "set yrange [0:*]"]
        if logx:
            lines.append("set logscale x 10")
        if xtics:
            lines.append("set xtics (" + ", ".join(f"'{x}' {x}" for x in xtics) + ")")
        for i, (_, pts, _) in enumerate(series):
            lines.append(f"$d{i} << EOD")
            lines += [f"{x} {y}" for x, y in pts]
            lines.append("EOD")
        plots = [f"$d{i} using 1:2 with linespoints lw 2 pt 7 ps 0.8"
                 + (" dt 2" if dashed else "") + f" title {json.dumps(label)}"
                 for i, (label, _, dashed) in enumerate(series)]
        lines.append("plot " + ", \\\n     ".join(plots))
        with tempfile.NamedTemporaryFile("w", suffix=".gp", delete=False) as f:
            f.write("\n".join(lines) + "\n")
        p = subprocess.run([self.gnuplot, f.name], capture_output=True, text=True)
        os.unlink(f.name)
        if p.returncode != 0:
            self.notes.append(f"gnuplot failed on {png}: {p.stderr.strip()[:300]}")
            return None
        return png


# ---------------------------------------------------------------------------------------------
# Sections


class Report:
    def __init__(self, results, charts):
        self.r, self.charts = results, charts
        self.set = results["settings"]
        self.L = []

    def add(self, *lines):
        self.L += lines

    def image(self, png, alt):
        if png:
            self.add(f"![{alt}]({png})", "")

    # --- throughput --------------------------------------------------------------------------

    def ceiling_of(self, sync, clients):
        for c in self.r["throughput"][sync]["ceiling"]:
            if c["clients"] == clients:
                return c["tps"]
        return None

    def base_of(self, sync, batch, clients):
        for p in self.r["throughput"][sync]["points"]:
            if (p["contender"], p["batch"], p["clients"]) == (K.BASELINE, batch, clients):
                return p["tps"]
        return None

    def ratios(self, p):
        """(x plain, x ceiling) of one throughput point."""
        ceil = self.ceiling_of(p["sync"], p["clients"])
        return (ratio(p["tps"], self.base_of(p["sync"], p["batch"], p["clients"])),
                ratio(p["tps"], ceil / COMMITS if ceil else None))

    def summary(self):
        modes = self.r.get("throughput")
        if not modes:
            return
        sync = next(iter(modes))
        rows = []
        for p in modes[sync]["points"]:
            if p["contender"] in K.ORCHESTRATORS:
                rows.append([p["contender"], p["batch"], p["clients"], fmt(p["tps"]),
                             *self.ratios(p)])
        self.add(f"## Summary (synchronous_commit = {sync})", "",
                 "The orchestrator's cycles/s as a multiple of the plain SKIP LOCKED queue's at "
                 "the same point, and of the ceiling's commit rate divided by the "
                 f"{COMMITS} commits a cycle needs. Every figure is in the sections below.", "")
        self.add(*table(["contender", "batch", "clients", "cycles/s", "x plain", "x ceiling"],
                        rows, "lrrrrr"), "")

    def sustained(self):
        """The long runs that no VACUUM interrupts: the sustained step's points, then the
        snapshot step's run without a snapshot and the bloat step's 1,000,000 tasks."""
        s = self.set
        rows = []
        points = self.r.get("sustained") or []
        base = {(d["batch"], d["clients"]): d["tps"] for d in points
                if d["contender"] == K.BASELINE}
        for d in points:
            if d["contender"] in K.ORCHESTRATORS:
                rows.append([d["contender"], d["batch"], d["clients"],
                             f"{s['SUSTAINED_SECONDS']} s (sustained step)", fmt(d["tps"]),
                             "cycles/s", ratio(d["tps"], base.get((d["batch"], d["clients"]))),
                             "/".join(f"{x:.0f}" for x in d["intervals"]),
                             "/".join(f"{x:.0f}" for x in next(
                                 (b["intervals"] for b in points
                                  if b["contender"] == K.BASELINE and b["batch"] == d["batch"]
                                  and b["clients"] == d["clients"]), []))])
        snap = {d["contender"]: d for d in self.r.get("snapshot") or [] if not d["held"]}
        if K.BASELINE in snap:
            for c in K.ORCHESTRATORS:
                if c in snap:
                    rows.append([c, s["SNAPSHOT_BATCH"], s["SNAPSHOT_CLIENTS"],
                                 f"{s['SNAPSHOT_SECONDS']} s (snapshot step, none held)",
                                 fmt(snap[c]["tps"]), "cycles/s",
                                 ratio(snap[c]["tps"], snap[K.BASELINE]["tps"]), "", ""])
        bloat = {c: v[-1] for c, v in (self.r.get("bloat") or {}).items() if v}
        rate = {c: b["tasks"] / b["seconds"] for c, b in bloat.items() if b["seconds"]}
        if K.BASELINE in rate:
            for c in K.ORCHESTRATORS:
                if c in rate:
                    rows.append([c, s["BLOAT_BATCH"], s["BLOAT_CLIENTS"],
                                 f"{bloat[c]['tasks']:,} tasks (bloat step)", fmt(rate[c]),
                                 "tasks/s", ratio(rate[c], rate[K.BASELINE]), "", ""])
        if not rows:
            return
        step = (f"The sustained step runs each contender alone for {s['SUSTAINED_SECONDS']} s "
                f"per point from emptied, vacuumed tables with {s['BACKLOG']:,} queued, "
                "synchronous_commit on, only autovacuum (server defaults) running meanwhile; "
                if points else "")
        self.add("## Sustained runs (no VACUUM between the points)", "",
                 "The throughput step starts every point from emptied, vacuumed tables and "
                 "runs 5-second rounds, so the dead index entries that claimed tasks leave "
                 "never pile up there. A queue in service runs for hours between vacuums. "
                 + step + ("the" if step else "The") + " snapshot step's run without a "
                 "snapshot and the bloat step's 1,000,000 tasks are such runs too. x plain: "
                 "against plain_skip_locked in the "
                 "same step and point. Intervals: pgbench -P's cycles/s per sixth of the run.",
                 "")
        self.add(*table(["contender", "batch", "clients", "run", "rate", "unit", "x plain",
                         "intervals", "plain's intervals"], rows, "lrrlrlrll"), "")

    def throughput(self):
        modes = self.r.get("throughput")
        if not modes:
            return
        s = self.set
        self.add("## Throughput: enqueue, dispatch, complete", "",
                 "One cycle = one pgbench transaction-script: enqueue B tasks, dispatch up to B, "
                 "complete what was dispatched; three statements, each its own transaction, on "
                 "every side (`contenders.py` has the scripts). At B = 10 every side enqueues the "
                 "10 tasks with one statement (orchestrator: `enqueue_batch` of a 10-element "
                 "array; plain: one 10-row `INSERT ... SELECT` from the same array). Each point "
                 f"starts from emptied tables with {s['BACKLOG']:,} tasks queued in each "
                 "contender's own tables, vacuumed and checkpointed; then the contenders run in "
                 f"{s['ROUNDS']} interleaved rounds of {max(1, round(s['SECONDS'] / s['ROUNDS']))}"
                 " s (A B C A B C ...) so a slow patch of the shared machine hits them all; "
                 "`rounds` lists each round's cycles/s (the spread is the noise). tasks/s = "
                 "cycles/s x tasks completed per cycle, counted in the database. x plain = "
                 "cycles/s / plain_skip_locked's cycles/s at the same point; x ceiling = "
                 f"cycles/s / (ceiling tx/s at the same client count / {COMMITS}). "
                 "synchronous_commit is set per pgbench session (PGOPTIONS). The phase columns "
                 "are each statement's mean time (pgbench -r), commit included.", "")
        for sync, data in modes.items():
            self.add(f"### synchronous_commit = {sync}", "")
            rows = []
            for p in data["points"]:
                rows.append([p["batch"], p["clients"], p["contender"], fmt(p["tps"]),
                             fmt(p["tasks_per_s"]), fmt(p["tasks_per_cycle"], 2),
                             *self.ratios(p), fmt(p["latency_ms"], 2), p["errors"],
                             *(fmt(x, 2) for x in p["phases_ms"]), p["spread"]])
            self.add(*table(["batch", "clients", "contender", "cycles/s", "tasks/s",
                             "tasks/cycle", "x plain", "x ceiling", "latency ms", "errors",
                             "enqueue ms", "dispatch ms", "complete ms", "rounds"], rows,
                            "rrlrrrrrrrrrrl"), "")
            self.add("Ceiling: `UPDATE bench_ceiling.counter SET n = n + 1 WHERE id = "
                     f"random(1, {K.CEILING_ROWS})`, one statement per transaction, in the "
                     f"rounds of the batch-{data['points'][0]['batch'] if data['points'] else 1} "
                     f"points; a cycle is {COMMITS} commits, so cycles/s can reach about "
                     f"1/{COMMITS} of it.", "")
            self.add(*table(["clients", "tx/s", f"tx/s / {COMMITS}", "latency ms", "rounds"],
                            [[c["clients"], fmt(c["tps"]), fmt(c["tps"] / COMMITS),
                              fmt(c["latency_ms"], 2), c["spread"]] for c in data["ceiling"]],
                            "rrrrl"),
                     "")
            for batch in sorted({p["batch"] for p in data["points"]}):
                series = []
                for c in K.CONTENDERS:
                    series.append((c, [(p["clients"], p["tps"]) for p in data["points"]
                                       if p["contender"] == c and p["batch"] == batch], False))
                series.append((f"ceiling tx/s / {COMMITS}",
                               [(c["clients"], c["tps"] / COMMITS) for c in data["ceiling"]],
                               True))
                png = self.charts.chart(
                    f"throughput_sync_{sync}_b{batch}",
                    f"Cycles/s against clients, batch {batch}, synchronous_commit = {sync}",
                    "clients", "cycles/s", series,
                    xtics=sorted({p["clients"] for p in data["points"]}))
                self.image(png, f"cycles/s against clients, batch {batch}, sync {sync}")

    # --- latencies ---------------------------------------------------------------------------

    def dispatch(self):
        rows_in = self.r.get("dispatch")
        if not rows_in:
            return
        self.add("## Dispatch call latency", "",
                 f"{self.set['DISPATCH_N']:,} dispatch-only transactions per point and "
                 "contender (pgbench -t, -M prepared, synchronous_commit on), each one dispatch "
                 "statement committed on its own, timed one by one by pgbench --log (the "
                 "client's view: round trip and commit included). The queue holds enough for "
                 "each dispatch to claim a full batch; what is claimed stays running until the "
                 "contender's run ends. orchestrator: `orchestrate_next_execution('bench', 1, "
                 "ARRAY[type])`, one execution of up to batch_max tasks; plain: the `UPDATE ... "
                 "WHERE id IN (SELECT ... LIMIT B FOR UPDATE SKIP LOCKED) RETURNING`; "
                 "plain_plpgsql: the same in a function; ceiling: its single-row UPDATE, for "
                 "scale. x plain: p50 / plain_skip_locked's p50.", "")
        base = {(d["batch"], d["clients"]): d.get("p50") for d in rows_in
                if d["contender"] == K.BASELINE}
        rows = [[d["batch"], d["clients"], d["contender"], fmt(d.get("tps")),
                 fmt(d.get("p50"), 3), fmt(d.get("p90"), 3), fmt(d.get("p99"), 3),
                 fmt(d.get("max"), 2), ratio(d.get("p50"), base.get((d["batch"], d["clients"])))]
                for d in rows_in]
        self.add(*table(["batch", "clients", "contender", "dispatches/s", "p50 ms", "p90 ms",
                         "p99 ms", "max ms", "x plain (p50)"], rows, "rrlrrrrrr"), "")

    def notify(self):
        n = self.r.get("notify")
        if not n:
            return
        load = n.get("load")
        self.add("## Dispatch hint latency", "",
                 "From the commit of `SELECT orchestrator.enqueue('" + n.get("probe_type", "?")
                 + "', '{\"n\": 1}')` (autocommit; the clock starts when the call returns, the "
                 "commit acknowledged) to the arrival of the background worker's NOTIFY on "
                 "`orchestrator_dispatch` for that type at a LISTEN client (another connection, "
                 f"psycopg2, select() on its socket). The worker ran the whole benchmark "
                 f"({n.get('settings')}); for this step only orchestrator.hint_interval = 0 "
                 "(ALTER SYSTEM, reset after). Each enqueue comes "
                 f"{n.get('spacing_ms', 0):.0f} ms after the previous notification arrived; its "
                 "task is then dispatched and completed, so each hint counts one ready task. "
                 "Baseline, interleaved: `SELECT pg_notify('bench_baseline', 'x')` by the "
                 "enqueuing session itself: PostgreSQL's own NOTIFY delivery. Lost: nothing "
                 f"within {n.get('lost_after_s', 0):.0f} s. {n.get('warmup', 0)} untimed rounds "
                 "first.", "")
        if load:
            self.add(f"Under load: pgbench ran orchestrator_on's batch-1 cycle (type "
                     f"`{n.get('load_type')}`, every policy) with --rate "
                     f"{load['target']:,.0f} cycles/s (50% of its peak, {load['peak']:,.0f} "
                     f"cycles/s at {load['clients']} clients with synchronous_commit on) from "
                     f"{load['clients']} clients; it achieved {load['achieved']:,.0f} cycles/s "
                     "(tasks completed, counted in the database). The worker reacts to the "
                     f"load's enqueues too: {n.get('load_hints', 0):,} hints for the load's type "
                     "arrived meanwhile and were set aside.", "")
        rows = []
        for what, label in (("idle", "idle"), ("loaded", "at 50% of peak load")):
            if what not in n:
                continue
            for key, name in (("hint", "worker hint (enqueue commit -> orchestrator_dispatch)"),
                              ("baseline", "baseline (pg_notify by the sender)")):
                s = n[what][key] or {}
                rows.append([name, label, s.get("n", 0), fmt(s.get("p50"), 2),
                             fmt(s.get("p90"), 2), fmt(s.get("p99"), 2), fmt(s.get("max"), 2),
                             n[what]["lost"][key], n[what]["extra"][key]])
        self.add(*table(["measurement", "load", "n", "p50 ms", "p90 ms", "p99 ms", "max ms",
                         "lost", "extra"], rows, "llrrrrrrr"), "")
        self.add("Extra: notifications of that kind that arrived while nobody waited for one. "
                 "Under load the worker also wakes for the load's commits, so it can announce a "
                 "probe task again before the probe has dispatched it.", "")

    # --- resources ---------------------------------------------------------------------------

    def wal(self):
        rows_in = self.r.get("wal")
        if not rows_in:
            return
        self.add("## WAL per task", "",
                 "`pg_current_wal_insert_lsn()` before and after "
                 f"{self.set['WAL_CYCLES']:,} cycles from 1 client (synchronous_commit on), "
                 "after emptied tables, a backlog, VACUUM ANALYZE, CHECKPOINT and a warm-up of "
                 f"{2 * self.set['BACKLOG']:,} tasks (at least 200 cycles), so the pages the "
                 "measured cycles touch were already written once since the checkpoint and "
                 "full-page images do not dominate; FPIs and records are pg_stat_wal's counts "
                 "over the window (cluster-wide, flushed when a backend exits, so approximate). "
                 "Everything written in the window counts: the background worker's reactions "
                 "to enqueues and any autovacuum run. The ceiling's row is per transaction. "
                 "x plain: bytes/task / plain_skip_locked's.", "")
        base = {d["batch"]: d["bytes"] / d["tasks"] for d in rows_in
                if d["contender"] == K.BASELINE and d["tasks"]}
        rows = []
        for d in rows_in:
            per_task = d["bytes"] / d["tasks"] if d["tasks"] else None
            per_cycle = d["bytes"] / d["cycles"] if d["cycles"] else None
            rows.append([d["contender"], d["batch"], f"{d['cycles']:,}", f"{d['tasks']:,}",
                         fmt(per_cycle, 0), fmt(per_task, 0),
                         ratio(per_task, base.get(d["batch"])) if d["contender"] != K.CEILING
                         else "", fmt(d["records"] / d["cycles"], 1) if d["cycles"] else "n/a",
                         f"{d['fpi']:,}"])
        self.add(*table(["contender", "batch", "cycles", "tasks", "bytes/cycle", "bytes/task",
                         "x plain", "records/cycle", "FPIs"], rows, "lrrrrrrrr"), "")

    def instructions(self):
        d = self.r.get("instructions")
        if not d:
            return
        short, long_ = d["cycles"]
        self.add("## Instructions per cycle (callgrind)", "",
                 "User-space instructions of one backend per cycle, counted by "
                 "`valgrind --tool=callgrind` (`instructions.py`): a copy of this run's cluster, "
                 "stopped, run by `postgres --single` from emptied tables with "
                 f"{self.set['BACKLOG']:,} queued and vacuumed, the cycle's three statements "
                 f"prepared and executed {short} and then {long_} times; per cycle = the "
                 f"difference / {long_ - short}. Unlike cycles/s this does not move with the "
                 "machine's load, so it compares builds exactly; it leaves out the kernel "
                 "(sockets, WAL writes, fsync), cache misses and waits. x plain: instructions "
                 "/ plain_skip_locked's (below 1: less work).", "")
        base = {x["batch"]: x["per_cycle"] for x in d["rows"] if x["contender"] == K.BASELINE}
        rows = [[x["contender"], x["batch"], f"{x['per_cycle'] / 1000:,.0f}k",
                 f"{x['per_cycle'] / x['batch'] / 1000:,.0f}k",
                 ratio(x["per_cycle"], base.get(x["batch"]))] for x in d["rows"]]
        self.add(*table(["contender", "batch", "per cycle", "per task", "x plain"], rows,
                        "lrrrr"), "")

    def depth(self):
        d = self.r.get("depth")
        if not d:
            return
        depths = sorted({int(k) for v in d["ms"].values() for k in v})
        s = self.set
        self.add("## Dispatch time against queue depth", "",
                 "Mean time of one dispatch of one task (pgbench -r, 1 client, "
                 f"{s['DEPTH_SECONDS']} s): `BEGIN; dispatch; ROLLBACK;`, so the depth stays "
                 "constant; the dispatch statements as above with batch 1. The queue is filled "
                 f"with {s['LOAD_CHUNK']:,} tasks per statement (orchestrator: `enqueue_batch`), "
                 "then VACUUM ANALYZE.", "")
        rows = []
        for c, by_depth in d["ms"].items():
            vals = [by_depth.get(str(x)) for x in depths]
            rows.append([c, *(fmt(v, 3) for v in vals),
                         ratio(vals[-1], vals[0]) if len(vals) > 1 else "n/a",
                         fmt(d["load_seconds"].get(c))])
        self.add(*table(["contender", *(f"{x:,} queued (ms)" for x in depths),
                         f"{depths[-1]:,} / {depths[0]:,}", f"seconds to queue {depths[-1]:,}"],
                        rows), "")
        png = self.charts.chart(
            "dispatch_depth", "Dispatch time against queue depth", "tasks queued",
            "ms per dispatch", [(c, [(int(k), v) for k, v in sorted(by.items(),
                                                                    key=lambda kv: int(kv[0]))],
                                 False) for c, by in d["ms"].items()],
            logx=True, xtics=depths)
        self.image(png, "dispatch time against queue depth")

    def bloat(self):
        b = self.r.get("bloat")
        if not b:
            return
        s = self.set
        self.add(f"## Dead tuples and size after {s['BLOAT_CYCLES']:,} cycles", "",
                 f"{s['BLOAT_CYCLES']:,} tasks taken through the whole cycle (enqueue, dispatch, "
                 f"complete), as {s['BLOAT_CYCLES'] // s['BLOAT_BATCH']:,} batch-"
                 f"{s['BLOAT_BATCH']} cycles from {s['BLOAT_CLIENTS']} clients, synchronous_commit "
                 "on, autovacuum on with the server's defaults, starting from emptied tables. "
                 "Nothing deletes finished tasks during the run (the orchestrator's retention "
                 "prunes after days; the plain queue keeps its `done` rows), so live rows grow "
                 "with the tasks; the question is what comes on top. Live and dead tuples are "
                 "pg_stat_user_tables' estimates; sizes are pg_relation_size (heap), "
                 "pg_indexes_size and pg_total_relation_size (with TOAST).", "")
        rows = []
        for c, samples in b.items():
            if not samples:
                continue
            last = samples[-1]
            for rel, t in last["tables"].items():
                rows.append([c, rel, f"{t['live']:,}", f"{t['dead']:,}", mib(t["heap_bytes"]),
                             mib(t["index_bytes"]), mib(t["total_bytes"]),
                             fmt(t["total_bytes"] / last["tasks"], 0), t["autovacuums"]])
            total = sum(t["total_bytes"] for t in last["tables"].values())
            rows.append([c, "**all**", "", "", "", "", f"**{mib(total)}**",
                         f"**{fmt(total / last['tasks'], 0)}**",
                         f"{last['tasks']:,} tasks in {last['seconds']:.0f} s"])
        self.add(*table(["contender", "table", "live", "dead", "heap MiB", "indexes MiB",
                         "total MiB", "bytes/task", "autovacuums"], rows, "llrrrrrrr"), "")
        series = []
        for c, samples in b.items():
            series.append((f"{c} total", [(x["tasks"], sum(t["total_bytes"] for t in
                                                          x["tables"].values()) / 2**20)
                                          for x in samples], False))
        png = self.charts.chart("bloat_size", "Tables + indexes against tasks processed",
                                "tasks through the cycle", "MiB", series)
        self.image(png, "size against tasks processed")
        series = [(f"{c} dead tuples", [(x["tasks"], sum(t["dead"] for t in
                                                         x["tables"].values()))
                                        for x in samples], False) for c, samples in b.items()]
        png = self.charts.chart("bloat_dead", "Dead tuples against tasks processed",
                                "tasks through the cycle", "dead tuples (estimate)", series)
        self.image(png, "dead tuples against tasks processed")

    def snapshot(self):
        rows_in = self.r.get("snapshot")
        if not rows_in:
            return
        s = self.set
        self.add(f"## Throughput with a snapshot held open for {s['SNAPSHOT_SECONDS']} s", "",
                 f"Batch {s['SNAPSHOT_BATCH']}, {s['SNAPSHOT_CLIENTS']} clients, "
                 f"{s['SNAPSHOT_SECONDS']} s per run, each run from emptied, vacuumed tables "
                 f"with {s['BACKLOG']:,} queued. Without: nothing else runs. With: another "
                 "session runs `BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM` "
                 "the contender's table, then `pg_sleep` for the whole run, so no row version "
                 "dead since its snapshot can be removed. Intervals: pgbench -P's cycles/s per "
                 "interval; dead: n_dead_tup at the end.", "")
        by = {(d["contender"], d["held"]): d for d in rows_in}
        rows = []
        for c in dict.fromkeys(d["contender"] for d in rows_in):
            off, on = by.get((c, False)), by.get((c, True))
            if not off or not on:
                continue
            rows.append([c, fmt(off["tps"]), fmt(on["tps"]), ratio(on["tps"], off["tps"]),
                         "/".join(f"{x:.0f}" for x in off["intervals"]),
                         "/".join(f"{x:.0f}" for x in on["intervals"]),
                         f"{off['dead']:,}", f"{on['dead']:,}"])
        self.add(*table(["contender", "cycles/s without", "cycles/s with", "with / without",
                         "intervals without", "intervals with", "dead without", "dead with"],
                        rows, "lrrrllrr"), "")

    # --- the whole ---------------------------------------------------------------------------

    def render(self):
        r, s = self.r, self.set
        quick = " (BENCH_QUICK=1)" if r.get("quick") else ""
        self.add("# orchestrator benchmark", "")
        self.add(*(f"- {line}" for line in r["machine"]))
        self.add(f"- Load average (1/5/15 min) before: {r.get('load_before')}; after: "
                 f"{r.get('load_after')}. Other work may share this machine, so figures are "
                 "noisy.",
                 f"- Whole run {r.get('elapsed_s', 0) / 60:.1f} min{quick}, not counting the "
                 "hint latency step; steps: " + ", ".join(s["STEPS"]) + ".",
                 "- Contenders (`test/bench/contenders.py`): **orchestrator_off**, governance "
                 "off: workflow type `bench_off` declares no API, has no type budget, no "
                 "max_concurrent, no estimated cost, needs no connections or memory, so no "
                 "rate limit, budget or cap has anything to count; **orchestrator_on**, every "
                 "policy active at limits too high to bind: type `bench` calls API `bench_api` "
                 "once per task (1,000,000 calls/min), costs $0.000001 per task against the "
                 "daily and its own type budget, needs 1 connection and 128 MB against the "
                 "caps, max_concurrent 100,000, breakers closed; **plain_skip_locked**, a plain "
                 "table with a partial index on queued rows, `FOR UPDATE SKIP LOCKED`; "
                 "**plain_plpgsql**, the same behind PL/pgSQL functions; **ceiling**, a "
                 "single-row UPDATE by primary key. Both orchestrator types share one database "
                 "and its background worker; each dispatcher names its type "
                 "(`workflow_types => ARRAY[...]`). A note below says if any limit cut a batch.",
                 "")
        self.summary()
        self.sustained()
        self.throughput()
        self.dispatch()
        self.notify()
        self.wal()
        self.instructions()
        self.depth()
        self.bloat()
        self.snapshot()
        notes = r.get("notes", []) + (r.get("notify") or {}).get("notes", []) + self.charts.notes
        self.add("## Notes", "")
        self.add(*([f"- {n}" for n in notes] or [
            "- Nothing odd: no pgbench errors, no aborted clients, no errors or lock waits in "
            "the server log, every cycle completed a full batch, no limit cut a batch, every "
            "hint arrived from the worker."]))
        p = r.get("paths", {})
        self.add("", f"Raw pgbench output: `{p.get('raw')}`; scripts: `{p.get('scripts')}`; "
                 f"transaction logs: `{p.get('txlog')}`; server log: `{p.get('server_log')}`; "
                 "the figures: `latest.json` next to this file.")
        return "\n".join(self.L) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", required=True, help="the JSON of bench.py and notify_latency.py")
    ap.add_argument("--report", required=True, help="the markdown file; charts go beside it")
    args = ap.parse_args()
    with open(args.results) as f:
        results = json.load(f)
    out_dir = os.path.dirname(os.path.abspath(args.report))
    os.makedirs(out_dir, exist_ok=True)
    text = Report(results, Charts(out_dir, [])).render()
    with open(args.report, "w") as f:
        f.write(text)
    shutil.copyfile(args.results, os.path.join(out_dir, "latest.json"))
    print(text)


if __name__ == "__main__":
    sys.exit(main())
