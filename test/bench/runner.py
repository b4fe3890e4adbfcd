"""Running SQL and pgbench against the benchmark server, and reading what they print.

Standard library only. Raw pgbench output goes to WORKDIR/raw, scripts to WORKDIR/scripts,
per-transaction logs (pgbench --log) to WORKDIR/txlog.
"""
import datetime
import glob
import math
import os
import re
import subprocess
import sys

from settings import DB


def progress(msg):
    print(f"  [{datetime.datetime.now():%H:%M:%S}] {msg}", file=sys.stderr, flush=True)


def percentile(sorted_values, p):
    """Nearest rank."""
    return sorted_values[max(0, math.ceil(p / 100 * len(sorted_values)) - 1)]


def summary(values_ms):
    """n, p50, p90, p99, max of a list of milliseconds (None when empty)."""
    xs = sorted(values_ms)
    if not xs:
        return None
    return {"n": len(xs), "p50": percentile(xs, 50), "p90": percentile(xs, 90),
            "p99": percentile(xs, 99), "max": xs[-1]}


class Server:
    def __init__(self, bindir, host, port, workdir, server_log):
        self.bindir, self.host, self.port = bindir, host, port
        self.server_log = server_log
        self.dirs = {d: os.path.join(workdir, d) for d in ("raw", "scripts", "txlog")}
        for d in self.dirs.values():
            os.makedirs(d, exist_ok=True)
        self.conn = ["-h", host, "-p", str(port), "-U", "postgres"]
        self.log_pos = 0
        self.notes = []  # odd things seen, for the report

    def psql(self, sql, db=DB):
        """Runs SQL (statements one by one, each its own transaction); returns stdout."""
        cmd = [os.path.join(self.bindir, "psql"), "-X", "-q", "-A", "-t",
               "-v", "ON_ERROR_STOP=1", *self.conn, "-d", db, "-f", "-"]
        p = subprocess.run(cmd, input="SET client_min_messages = warning;\n" + sql,
                           capture_output=True, text=True)
        if p.returncode != 0:
            sys.exit(f"psql failed ({p.returncode}):\n{sql[:2000]}\n{p.stderr}")
        return p.stdout.strip()

    def psql_async(self, sql, appname):
        """Starts psql on SQL in the background (application_name APPNAME); returns the Popen."""
        cmd = [os.path.join(self.bindir, "psql"), "-X", "-q", "-A", "-t",
               "-v", "ON_ERROR_STOP=1", *self.conn, "-d", DB, "-c", sql]
        return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                text=True, env={**os.environ, "PGAPPNAME": appname})

    def row(self, sql):
        """The first row of SQL's result, as a list of strings."""
        return self.psql(sql).split("\n")[0].split("|")

    def server_log_since_last(self):
        """New server-log lines worth a look (errors, lock waits) since the last call."""
        try:
            with open(self.server_log, "rb") as f:
                f.seek(self.log_pos)
                text = f.read().decode("utf-8", "replace")
                self.log_pos = f.tell()
        except OSError:
            return []
        keys = ("ERROR", "FATAL", "PANIC", "WARNING", "still waiting", "deadlock")
        return [l for l in text.splitlines() if any(k in l for k in keys)]

    def pgbench_command(self, name, script, clients, seconds=None, per_client=None,
                        per_statement=False, txlog=False, rate=None, progress_s=None):
        """Writes the script to WORKDIR/scripts/NAME.sql; returns the pgbench command line."""
        path = os.path.join(self.dirs["scripts"], name + ".sql")
        with open(path, "w") as f:
            f.write(script)
        cmd = [os.path.join(self.bindir, "pgbench"), "-n", "-f", path, "-M", "prepared",
               "-c", str(clients), "-j", str(clients)]
        cmd += ["-T", str(seconds)] if per_client is None else ["-t", str(per_client)]
        if per_statement:
            cmd.append("-r")
        if txlog:
            for old in glob.glob(self.txlog_prefix(name) + ".*"):
                os.remove(old)
            cmd += ["--log", "--log-prefix", self.txlog_prefix(name)]
        if rate:
            cmd += ["--rate", f"{rate:.1f}"]
        if progress_s:
            cmd += ["-P", str(progress_s)]
        return cmd + [*self.conn, DB]

    def txlog_prefix(self, name):
        return os.path.join(self.dirs["txlog"], name)

    def pgbench(self, name, script, clients, seconds=None, per_client=None, per_statement=False,
                txlog=False, sync=None, progress_s=None):
        """Runs pgbench (for SECONDS, or PER_CLIENT transactions per client) with
        synchronous_commit = SYNC if given; returns what parse_pgbench() reads, plus rc,
        aborted clients, server-log lines of note, the transaction latencies (txlog, a
        summary() in ms) and the per-interval tps (progress_s)."""
        cmd = self.pgbench_command(name, script, clients, seconds, per_client, per_statement,
                                   txlog, progress_s=progress_s)
        env = dict(os.environ)
        if sync:
            env["PGOPTIONS"] = f"-c synchronous_commit={sync}"
        self.server_log_since_last()
        p = subprocess.run(cmd, capture_output=True, text=True, env=env)
        with open(os.path.join(self.dirs["raw"], name + ".txt"), "w") as f:
            f.write(("PGOPTIONS=" + env["PGOPTIONS"] + " " if sync else "") + "$ "
                    + " ".join(cmd) + "\n\n" + p.stdout + "\n--- stderr ---\n" + p.stderr)
        r = parse_pgbench(p.stdout)
        r["rc"] = p.returncode
        r["aborted"] = len(re.findall(r"client \d+ aborted", p.stderr))
        if txlog:
            r["txlog"] = summary(read_txlog(self.txlog_prefix(name)))
        if progress_s:
            r["intervals"] = [float(x) for x in re.findall(r"progress: [\d.]+ s, ([\d.]+) tps",
                                                           p.stderr)]
        log = self.server_log_since_last()
        if p.returncode != 0 or r["aborted"] or "tps" not in r:
            self.notes.append(f"{name}: pgbench exit {p.returncode}, {r['aborted']} client(s) "
                              f"aborted; stderr: {p.stderr.strip()[:400]}")
        if log:
            self.notes.append(f"{name}: {len(log)} server-log line(s) of note, first: "
                              f"{log[0][:300]}")
        return r


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


def read_txlog(prefix):
    """Transaction latencies in ms from pgbench --log files PREFIX.* (one per thread): each line
    is `client_id transaction_no time_us script_no epoch_s epoch_us`."""
    ms = []
    for path in glob.glob(prefix + ".*"):
        with open(path) as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 3 and parts[2].isdigit():
                    ms.append(int(parts[2]) / 1000)
    return ms
