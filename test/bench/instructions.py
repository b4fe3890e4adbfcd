#!/usr/bin/env python3
"""CPU instructions per cycle, counted by callgrind: the benchmark's one figure without noise.

Cycles/s on a shared 2-core machine move by 10-20% from round to round, more than most changes
to the hot path. An instruction count does not: the same cycles on a copy of the same cluster
count the same to within a fraction of a percent, so two builds (or two contenders) compare
exactly. It counts user-space instructions of one backend only: not the kernel's (sockets, WAL
writes, fsync), not cache misses, not waiting; a lower count is less work, not by itself a
shorter cycle.

For each contender and batch: a copy of the benchmark's stopped cluster, run by `postgres
--single` under `valgrind --tool=callgrind` on what bench.py's points start from (emptied
tables, BACKLOG queued, VACUUM ANALYZE), then the three prepared statements of the cycle
(contenders.prepared_cycle_sql), SHORT times and again LONG times. Instructions per cycle =
(count(LONG) - count(SHORT)) / (LONG - SHORT): the setup, the backend's start and its first
cycles (plans, caches) cancel out. Adds "instructions" to the results JSON.

Run by run.sh after the other steps (BENCH_STEPS has "instructions"), with the server stopped.
"""
import argparse
import json
import os
import re
import shutil
import subprocess

import contenders as K
import settings as S
from runner import progress

CONTENDERS = ["orchestrator_on", "plain_skip_locked"]
SHORT, LONG = 50, 250


def as_postgres(cmd):
    return cmd if os.geteuid() != 0 else ["runuser", "-u", "postgres", "--"] + cmd


def session_input(contender, batch, cycles):
    """What the single-user backend reads, with -j: a command ends with a semicolon and an
    empty line, so the setup (the plain queue's PL/pgSQL bodies included) goes as a few
    multi-statement commands and every prepared statement and EXECUTE as one of its own."""
    setup = K.reset_sql(batch) + K.fill_sql(contender, S.BACKLOG)
    prepare, cycle = K.prepared_cycle_sql(contender, batch)
    return (setup + "\n" + "VACUUM ANALYZE;\n\n" + prepare.replace(";\n", ";\n\n")
            + cycle.replace(";\n", ";\n\n") * cycles)


def count(args, contender, batch, cycles):
    """Instructions of one single-user session on a fresh copy of the cluster."""
    work = os.path.join(args.workdir, f"{contender}_b{batch}_{cycles}")
    data = os.path.join(work, "data")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    shutil.copytree(args.data, data, symlinks=True)
    for stale in ("postmaster.pid", "postmaster.opts"):
        if os.path.exists(os.path.join(data, stale)):
            os.remove(os.path.join(data, stale))
    out = os.path.join(work, "callgrind.out")
    with open(os.path.join(work, "input.sql"), "w") as f:
        f.write(session_input(contender, batch, cycles))
    if os.geteuid() == 0:
        subprocess.run(["chown", "-R", "postgres:postgres", work], check=True)
    with open(os.path.join(work, "input.sql")) as stdin, \
            open(os.path.join(work, "output.txt"), "w") as stdout:
        subprocess.run(as_postgres([
            "valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
            os.path.join(args.bindir, "postgres"), "--single", "-j", "-D", data,
            "-c", "autovacuum=off", "-c", "synchronous_commit=off", args.db]),
            stdin=stdin, stdout=stdout, stderr=subprocess.STDOUT, check=True, cwd="/")
    with open(os.path.join(work, "output.txt")) as f:
        errors = [line.strip() for line in f if " ERROR: " in line]
    if errors:
        raise SystemExit(f"{contender} batch {batch}: {errors[0]} (see {work}/output.txt)")
    with open(out) as f:
        total = next(int(m.group(1)) for m in map(re.compile(r"^totals: (\d+)").match, f) if m)
    shutil.rmtree(data)
    return total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bindir", required=True)
    ap.add_argument("--data", required=True, help="the benchmark's cluster, stopped")
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--db", default=S.DB)
    ap.add_argument("--results", required=True, help="the JSON to add the figures to")
    args = ap.parse_args()
    out = []
    for batch in S.BATCHES:
        for c in CONTENDERS:
            short, long_ = (count(args, c, batch, n) for n in (SHORT, LONG))
            per_cycle = (long_ - short) / (LONG - SHORT)
            out.append({"contender": c, "batch": batch, "per_cycle": per_cycle})
            progress(f"instructions_{c}_b{batch}: {per_cycle / 1000:,.0f}k per cycle")
    with open(args.results) as f:
        results = json.load(f)
    results["instructions"] = {"rows": out, "cycles": [SHORT, LONG]}
    with open(args.results, "w") as f:
        json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
