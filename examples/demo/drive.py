#!/usr/bin/python3
"""The demo's live workload: the four workflows of preset 'n8n-content' driven through the
orchestrator's SQL API for --seconds, then a report and the governance invariants.

Enqueuers add tasks of each type at a realistic rate (above what the APIs' rate limits let
through, so rate limiting shows); workers claim executions with orchestrate_next_execution, call
a simulated AI API (test/n8n/ai_api_sim.py, in this process) that is slow, fails some calls,
answers some with 429 + Retry-After and has a scheduled outage of openai, and report back with
complete_execution (cost, API calls, per-task failures) or fail_execution (API name, retry-after).
Short breaker cooldowns and a budget for the run (orchestrator.configure) make the breakers, the
429 pauses and the budget act within the run; the settings it changed are restored at the end.

The connection comes from libpq's environment (PGHOST, PGPORT, PGDATABASE, PGUSER); the
extension must exist in that database. Prints "ok - ..." / "not ok - ..." lines last and exits
non-zero when any is "not ok": an invariant failed, no task was done, no breaker opened and
recovered, or no 429 paused an API. Needs psycopg2 (Debian: python3-psycopg2).
"""
import argparse
import os
import sys
import threading
import time

try:
    import psycopg2
except ImportError:
    sys.exit(f"drive.py needs psycopg2, which {sys.executable} does not find "
             "(Debian: apt-get install python3-psycopg2, for /usr/bin/python3)")

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "test", "n8n"))
import ai_api_sim  # noqa: E402  (the one simulated AI API, shared with the n8n test)
import clients  # noqa: E402
import report  # noqa: E402

# Tasks per second per type: together above the preset's gemini 60/min (80/min asked) and
# openai 50/min (61/min asked). Each type starts with BACKLOG_S seconds' worth queued at once,
# more than the APIs' bursts, so rate limits bind from the start.
ARRIVALS = {"content_pipeline": 0.5, "seo_monitor": 0.6, "revenue_optimizer": 0.4,
            "intelligence_engine": 0.12}
BACKLOG_S = 15


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=90, help="workload duration")
    parser.add_argument("--workers", type=int, default=6)
    parser.add_argument("--budget", type=float, default=None,
                        help="USD this run may commit (default: $0.25 + $0.005 per second of workload, so "
                             "the soft threshold and then the limit are reached late in the run)")
    parser.add_argument("--progress", type=float, default=5, help="seconds between lines")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--psql", default="psql", help="psql, to run test/stress/checks.sql")
    return parser.parse_args()


def one_row(conn, sql, params=None):
    with conn.cursor() as cur:
        cur.execute(sql, params)
        row = cur.fetchone()
    conn.commit()
    return row


def saved_settings(conn):
    return one_row(conn, """
        SELECT c.daily_budget_usd, c.breaker_failure_threshold, c.breaker_cooldown::text,
               (SELECT w.max_concurrent FROM orchestrator.workflow_type w
                 WHERE w.name = 'intelligence_engine')
          FROM orchestrator.config c""")


def restore_settings(conn, saved):
    conn.rollback()  # after a failure midway
    budget, threshold, cooldown, max_concurrent = saved
    one_row(conn, "SELECT 1 FROM orchestrator.configure(jsonb_build_object("
                  "'daily_budget_usd', %s::numeric, 'breaker_failure_threshold', %s,"
                  " 'breaker_cooldown', %s::text))", (budget, threshold, cooldown))
    if one_row(conn, "SELECT count(*) FROM orchestrator.workflow_type"
                     " WHERE name = 'intelligence_engine'")[0]:
        one_row(conn, "SELECT 1 FROM orchestrator.alter_workflow_type('intelligence_engine',"
                      " jsonb_build_object('max_concurrent', %s::integer))", (max_concurrent,))


def setup(conn, cooldown_s, budget):
    with open(os.path.join(HERE, "setup.sql")) as f:
        sql = f.read()
    with conn.cursor() as cur:
        cur.execute(sql, {"cooldown": f"{cooldown_s} seconds", "budget": budget})
    conn.commit()
    calls = {}
    with conn.cursor() as cur:
        cur.execute("SELECT w.name, a.name, n.calls_per_task FROM orchestrator.workflow_type w"
                    "  JOIN orchestrator.workflow_type_api n ON n.workflow_type_id = w.id"
                    "  JOIN orchestrator.api a ON a.id = n.api_id ORDER BY 1, 2")
        for workflow_type, api, n in cur.fetchall():
            calls.setdefault(workflow_type, []).append((api, n))
    conn.commit()
    return calls


def simulated_api(seconds, seed):
    """The AI API: 0.1-0.5 s per call, 1% 503s, 0.5% 429s (Retry-After 5 s), 0.5% 400s; openai
    down (every call 503) from a fifth of the run for 15% of it (at least 8 s: long enough for
    3 failed executions while openai's rate limit lets few through), a 429 from gemini at 60%."""
    start, end = 0.2 * seconds, 0.2 * seconds + max(8.0, 0.15 * seconds)
    behaviour = ai_api_sim.Workload(seed, outages=[("openai", start, end)],
                                    forced_429s=[("gemini", 0.6 * seconds)])
    server = ai_api_sim.serve(behaviour)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"Simulated AI API on 127.0.0.1:{server.server_address[1]}: openai down from"
          f" +{start:.0f}s to +{end:.0f}s,"
          f" a 429 from gemini at +{0.6 * seconds:.0f}s")
    return server, behaviour


def start_clients(args, calls, api_port, run_id, seed):
    """Starts the enqueuers and the workers; returns them with their two stop signals."""
    stop_arrivals, stop_workers = threading.Event(), threading.Event()
    enqueuers = [clients.Enqueuer(t, rate, round(rate * BACKLOG_S), run_id, seed + i, stop_arrivals)
                 for i, (t, rate) in enumerate(ARRIVALS.items())]
    api = clients.AiApi(api_port)
    workers = [clients.Worker(i + 1, calls, api, stop_workers) for i in range(args.workers)]
    for thread in enqueuers + workers:
        thread.start()
    return enqueuers, workers, stop_arrivals, stop_workers


def run(args, conn, budget, seed):
    """Setup, the workload with its progress lines, the drain, the report and the invariants;
    returns the check lines."""
    cooldown_s = max(2, round(0.1 * args.seconds))
    calls = setup(conn, cooldown_s, budget)
    print(f"Workload: {args.seconds:.0f} s, {len(ARRIVALS)} enqueuers "
          f"({', '.join(f'{t} {r}/s' for t, r in ARRIVALS.items())}), {args.workers} workers;"
          f" budget ${budget:.2f} for the run, breakers open after 3 failures and retry after"
          f" {cooldown_s} s; seed {seed}")
    server, behaviour = simulated_api(args.seconds, seed)
    since = one_row(conn, "SELECT now()")[0]
    behaviour.start()
    started = time.monotonic()
    enqueuers, workers, stop_arrivals, stop_workers = start_clients(
        args, calls, server.server_address[1], int(time.time()), seed)
    deadline, next_line = started + args.seconds, started + args.progress
    while time.monotonic() < deadline:
        time.sleep(max(0.0, min(next_line, deadline) - time.monotonic()))
        if time.monotonic() >= next_line:
            print(report.progress_line(conn, since, time.monotonic() - started, budget), flush=True)
            next_line += args.progress
    print("  Arrivals stop; the workers finish what they hold", flush=True)
    stop_arrivals.set()
    stop_workers.set()
    for thread in enqueuers + workers:
        thread.join(120)
    elapsed = time.monotonic() - started
    print(report.progress_line(conn, since, elapsed, budget), flush=True)
    server.shutdown()

    figures = report.final_report(conn, since, elapsed, budget)
    results = report.run_checks(args.psql, since.isoformat())
    broken = [t for t in enqueuers + workers if t.error is not None or t.is_alive()]
    return results + [
        check(not broken, "every client ran to its end",
              "; ".join(f"{t.name}: {t.error or 'still running'}" for t in broken)),
        check(figures["done"] > 0, f"tasks done: {figures['done']}"),
        check(figures["rate_limited"] > 0,
              f"rate limits cut batches: {figures['rate_limited']} executions"),
        check(figures["pauses"] > 0, f"HTTP 429s paused an API: {figures['pauses']}"),
        check(figures["opened"] > 0 and figures["recovered"] > 0,
              f"breakers opened ({figures['opened']}) and recovered ({figures['recovered']})"),
    ]


def check(holds, what, detail=""):
    return f"{'ok' if holds else 'not ok'} - {what}{': ' + detail if detail else ''}"


def main():
    args = parse_args()
    budget = args.budget if args.budget is not None else round(0.25 + 0.005 * args.seconds, 2)
    seed = args.seed if args.seed is not None else int(time.time())
    conn = psycopg2.connect("", application_name="demo-driver")
    saved = saved_settings(conn)
    try:
        results = run(args, conn, budget, seed)
    finally:
        restore_settings(conn, saved)
    print("\n==> Checks")
    print("\n".join(results))
    failed = sum(1 for line in results if line.startswith("not ok"))
    print(f"demo checks: {len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
