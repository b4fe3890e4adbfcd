"""The benchmark's settings, from BENCH_* environment variables (see run.sh's header).

Shared by bench.py (the measurements), notify_latency.py (the hint latency) and report.py.
"""
import os

QUICK = os.environ.get("BENCH_QUICK", "0") == "1"


def _int(name, full, quick):
    return int(os.environ.get(name, str(quick if QUICK else full)))


def _words(name, full, quick=None):
    return os.environ.get(name, quick if QUICK and quick is not None else full).split()


def _ints(name, full, quick=None):
    return [int(x) for x in _words(name, full, quick)]


DB = "bench"

# Which measurements run, in this order (bench.py runs all but notify and instructions;
# notify_latency.py runs notify, instructions.py instructions).
STEPS = _words("BENCH_STEPS",
                "throughput dispatch wal depth bloat snapshot sustained notify instructions")

# Throughput: every (sync mode, batch, clients) point, contenders in interleaved rounds of 5 s.
# Six: on a shared 2-core machine single rounds of one contender spread by +-20%, and with three
# the same code's ratio at one point moved from 0.81 to 1.19 between runs.
SECONDS = _int("BENCH_SECONDS", 30, 3)
ROUNDS = _int("BENCH_ROUNDS", 6, 3)
CLIENTS = _ints("BENCH_CLIENTS", "1 4 8")
BATCHES = _ints("BENCH_BATCHES", "1 10")
# synchronous_commit for the throughput step, set per pgbench session (PGOPTIONS). The first is
# the headline; every other step runs with the server's setting, on.
SYNC_MODES = _words("BENCH_SYNC_MODES", "on off")

# Dispatch call latency: this many dispatches per (batch, clients) point and contender, each its
# own transaction, timed one by one (pgbench --log).
DISPATCH_N = _int("BENCH_DISPATCH_N", 3000, 600)

# WAL bytes per task: cycles measured (1 client) after a checkpoint and a warm-up.
WAL_CYCLES = _int("BENCH_WAL_CYCLES", 3000, 500)

# Dispatch time against queue depth.
DEPTH_SECONDS = _int("BENCH_DEPTH_SECONDS", 10, 3)
DEPTHS = _ints("BENCH_DEPTHS", "1000 100000 1000000", "1000 100000")

# Dead tuples and size: tasks taken through the whole cycle, in batch-10 cycles.
BLOAT_CYCLES = _int("BENCH_BLOAT_CYCLES", 1000000, 50000)
BLOAT_CLIENTS = _int("BENCH_BLOAT_CLIENTS", 4, 4)
BLOAT_BATCH = 10
BLOAT_SAMPLES = _int("BENCH_BLOAT_SAMPLES", 10, 4)
BLOAT_CONTENDERS = _words("BENCH_BLOAT_CONTENDERS", "orchestrator_on plain_skip_locked")

# Throughput while another session holds a snapshot open.
SNAPSHOT_SECONDS = _int("BENCH_SNAPSHOT_SECONDS", 60, 10)
SNAPSHOT_CLIENTS = _int("BENCH_SNAPSHOT_CLIENTS", 4, 4)
SNAPSHOT_BATCH = _int("BENCH_SNAPSHOT_BATCH", 1, 1)
SNAPSHOT_CONTENDERS = _words("BENCH_SNAPSHOT_CONTENDERS", "orchestrator_on plain_skip_locked")

# Sustained throughput: each contender alone for a long run from a vacuumed start, nothing
# vacuuming in between but autovacuum, at every (batch, clients) point.
SUSTAINED_SECONDS = _int("BENCH_SUSTAINED_SECONDS", 60, 10)
SUSTAINED_CLIENTS = _ints("BENCH_SUSTAINED_CLIENTS", "1 4 8", "4")
SUSTAINED_BATCHES = _ints("BENCH_SUSTAINED_BATCHES", "1 10")
SUSTAINED_CONTENDERS = _words("BENCH_SUSTAINED_CONTENDERS", "orchestrator_on plain_skip_locked")

# Dispatch hint latency: enqueues timed, idle and under background load.
LATENCY_N = _int("BENCH_LATENCY_N", 1000, 200)
LOAD_FRACTION = 0.5  # of the peak cycles/s measured by the throughput step

BACKLOG = 1000      # queued before every point, so dispatch never finds the queue empty
LOAD_CHUNK = 10000  # tasks per statement when filling a queue
