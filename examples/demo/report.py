"""What the demo prints: a progress line while the workload runs, the final report, and the
governance invariants of test/stress/checks.sql over this run (psql runs that file once).

Figures come from the raw tables, scoped to this run (demo.enqueued, executions dispatched since
it started), so they are exact; orchestrator.metrics() gives the budget, and its rollups (one
row per complete minute, written by the heartbeat) would lag a run this short.
"""
import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHECKS_SQL = os.path.join(ROOT, "test", "stress", "checks.sql")

PROGRESS_SQL = """
SELECT count(*) FILTER (WHERE t.state = 'queued'),
       count(*) FILTER (WHERE t.state = 'running'),
       count(*) FILTER (WHERE t.state = 'succeeded'),
       count(*) FILTER (WHERE t.state = 'dead_letter'),
       (SELECT count(*) FROM orchestrator.workflow_orchestration e
         WHERE e.created_at >= %(since)s AND e.workflow_type <> 'orchestrator'
           AND e.status = 'failed'),
       (SELECT m.budget_spent_usd FROM orchestrator.metrics(now() - interval '1 minute', now()) m
         WHERE m.workflow_type IS NULL),
       (SELECT coalesce(sum(e.cost_usd), 0) FROM orchestrator.workflow_orchestration e
         WHERE e.created_at >= %(since)s AND e.workflow_type <> 'orchestrator'),
       (SELECT string_agg(b.kind || ':' || b.name || ' ' || b.state, ', ' ORDER BY b.name)
          FROM orchestrator.breaker b WHERE b.state <> 'closed'),
       (SELECT string_agg(a.name, ', ' ORDER BY a.name) FROM orchestrator.api a
         WHERE a.paused_until > clock_timestamp())
  FROM demo.enqueued q JOIN orchestrator.task t ON t.id = q.task_id
"""


def progress_line(conn, since, elapsed, budget):
    with conn.cursor() as cur:
        cur.execute(PROGRESS_SQL, {"since": since})
        queued, running, done, dead, failed, _, spent, breakers, paused = cur.fetchone()
    conn.commit()
    return (f"  +{elapsed:5.1f}s  queued {queued:4}  running {running:3}  done {done:4}"
            f"  failed executions {failed:3}  dead letters {dead:3}"
            f"  spend ${spent:.4f} of ${budget:.2f}"
            f"  breakers: {breakers or 'all closed'}"
            f"{'  paused: ' + paused if paused else ''}")


# Per workflow type (and in all, workflow_type NULL): this run's tasks and executions.
TYPES_SQL = """
WITH run_task AS (
    SELECT t.*, q.workflow_type FROM demo.enqueued q JOIN orchestrator.task t ON t.id = q.task_id),
run_ex AS (
    SELECT e.* FROM orchestrator.workflow_orchestration e
     WHERE e.created_at >= %(since)s AND e.workflow_type <> 'orchestrator'),
first_dispatch AS (
    SELECT u.task_id, min(e.created_at) AS at FROM run_ex e, unnest(e.task_ids) u(task_id)
     GROUP BY u.task_id),
tasks AS (
    SELECT t.workflow_type, count(*) AS enqueued,
           count(*) FILTER (WHERE t.state = 'succeeded') AS done,
           count(*) FILTER (WHERE t.state = 'succeeded' AND t.attempts > 1) AS done_after_retry,
           count(*) FILTER (WHERE t.state = 'dead_letter') AS dead,
           count(*) FILTER (WHERE t.state = 'queued' AND t.attempts > 0) AS retry_pending,
           count(*) FILTER (WHERE t.state = 'queued' AND t.attempts = 0) AS never_dispatched,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM f.at - t.created_at)) AS wait_p50,
           percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM f.at - t.created_at)) AS wait_p95
      FROM run_task t LEFT JOIN first_dispatch f ON f.task_id = t.id
     GROUP BY ROLLUP (t.workflow_type)),
executions AS (
    SELECT e.workflow_type, count(*) AS executions,
           count(*) FILTER (WHERE e.status = 'failed') AS failed,
           coalesce(sum(e.cost_usd), 0) AS cost,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM e.finished_at - e.created_at)) AS run_p50,
           percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM e.finished_at - e.created_at)) AS run_p95
      FROM run_ex e GROUP BY ROLLUP (e.workflow_type))
SELECT t.workflow_type, t.enqueued, t.done, t.done_after_retry, t.dead, t.retry_pending,
       t.never_dispatched, t.wait_p50, t.wait_p95, coalesce(x.executions, 0),
       coalesce(x.failed, 0), coalesce(x.cost, 0), x.run_p50, x.run_p95
  FROM tasks t LEFT JOIN executions x ON x.workflow_type IS NOT DISTINCT FROM t.workflow_type
 ORDER BY t.workflow_type NULLS LAST
"""

COUNTS_SQL = {
    "limited_by": """
        SELECT e.limited_by, count(*) FROM orchestrator.workflow_orchestration e
         WHERE e.created_at >= %(since)s AND e.workflow_type <> 'orchestrator'
         GROUP BY 1 ORDER BY 2 DESC, 1""",
    "model_tier": """
        SELECT e.model_tier, count(*) FROM orchestrator.workflow_orchestration e
         WHERE e.created_at >= %(since)s AND e.workflow_type <> 'orchestrator'
         GROUP BY 1 ORDER BY 2 DESC, 1""",
    "pauses": """
        SELECT p.api || ' (retry-after ' || extract(epoch FROM p.retry_after)::integer || ' s)',
               count(*)
          FROM demo.pause_log p GROUP BY 1 ORDER BY 1""",
    "failures": """
        SELECT coalesce(e.error, 'every task failed for good'), count(*)
          FROM orchestrator.workflow_orchestration e
         WHERE e.created_at >= %(since)s AND e.workflow_type <> 'orchestrator'
           AND e.status = 'failed'
         GROUP BY 1 ORDER BY 2 DESC, 1""",
    "dead_letters": """
        SELECT coalesce(t.dead_letter_reason, '-') || ': ' || coalesce(t.last_error, '-'), count(*)
          FROM demo.enqueued q JOIN orchestrator.task t ON t.id = q.task_id
         WHERE t.state = 'dead_letter' GROUP BY 1 ORDER BY 2 DESC, 1""",
}

BREAKER_EVENTS_SQL = """
SELECT b.kind || ':' || b.name, b.from_state, b.to_state,
       extract(epoch FROM b.at - %(since)s), b.cause
  FROM orchestrator.breaker_event b WHERE b.at >= %(since)s ORDER BY b.id
"""

BUDGET_SQL = """
SELECT m.budget_spent_usd, m.budget_reserved_usd, m.budget_limit_usd
  FROM orchestrator.metrics(now() - interval '1 minute', now()) m WHERE m.workflow_type IS NULL
"""


def query(conn, sql, since):
    with conn.cursor() as cur:
        cur.execute(sql, {"since": since})
        rows = cur.fetchall()
    conn.commit()
    return rows


def seconds(value):
    return "-" if value is None else f"{value:.2f} s"


def listing(rows):
    return ", ".join(f"{name} {n}" for name, n in rows) or "none"


def final_report(conn, since, elapsed, run_budget):
    """Prints the report; returns the figures the driver's own checks need."""
    types = query(conn, TYPES_SQL, since)
    counts = {name: query(conn, sql, since) for name, sql in COUNTS_SQL.items()}
    events = query(conn, BREAKER_EVENTS_SQL, since)
    spent_today, reserved, limit = query(conn, BUDGET_SQL, since)[0]
    total = types[-1]
    (_, enqueued, done, after_retry, dead, retry_pending, never, wait_p50, wait_p95,
     executions, failed, cost, run_p50, run_p95) = total
    finished = done + dead

    print(f"\n==> Report: {elapsed:.0f} s of workload")
    print(f"{'workflow type':<20} {'enqueued':>8} {'done':>5} {'dead':>5} {'retry':>6}"
          f" {'queued':>6} {'execs':>6} {'failed':>6} {'cost $':>9}"
          f" {'wait p50/p95 s':>15} {'run p50/p95 s':>14}")
    for (name, enq, dn, _, dd, rp, nv, wp50, wp95, ex, fl, cs, rp50, rp95) in types:
        print(f"{name or 'all':<20} {enq:>8} {dn:>5} {dd:>5} {rp:>6} {nv:>6} {ex:>6} {fl:>6}"
              f" {cs:>9.4f} {fmt_pair(wp50, wp95):>15} {fmt_pair(rp50, rp95):>14}")
    print(f"Tasks done:        {done} of {enqueued} enqueued ({retry_pending} waiting for a retry,"
          f" {never} still queued, {dead} dead letters)")
    print(f"Throughput:        {done / elapsed * 60:.1f} tasks/min done; {executions} executions")
    print(f"Latency:           enqueue -> first dispatch p50 {seconds(wait_p50)}, p95 {seconds(wait_p95)};"
          f" dispatch -> done p50 {seconds(run_p50)}, p95 {seconds(run_p95)}")
    rate = f"{done / finished * 100:.1f}%" if finished else "-"
    print(f"Success rate:      {rate} of the {finished} tasks that finished"
          f" ({after_retry} succeeded after a retry; retries wait 1 min +-30 s)")
    per_task = f"${cost / done:.4f}" if done else "-"
    print(f"Cost:              ${cost:.4f} spent by this run, {per_task} per task done"
          f" (seed target < $0.10); this run's budget ${run_budget:.2f};"
          f" today ${spent_today:.4f} spent + ${reserved:.4f} reserved of ${limit:.2f}")
    print(f"Model tiers:       {listing(counts['model_tier'])}")
    print(f"Batches cut by:    {listing(counts['limited_by'])}")
    print(f"HTTP 429 pauses:   {listing(counts['pauses'])}")
    print(f"Failed executions: {listing(counts['failures'])}")
    opened = sum(1 for e in events if e[2] == "open")
    recovered = sum(1 for e in events if e[2] == "closed")
    print(f"Breakers:          opened {opened} times, recovered {recovered} times")
    for name, from_state, to_state, at, cause in events:
        print(f"  +{at:5.1f}s {name}: {from_state} -> {to_state} ({cause})")
    print(f"Dead letters:      {dead}{': ' + listing(counts['dead_letters']) if dead else ''}")
    return {"done": done, "opened": opened, "recovered": recovered,
            "pauses": sum(n for _, n in counts["pauses"]),
            "rate_limited": sum(n for by, n in counts["limited_by"] if by and by.startswith("api:"))}


def fmt_pair(a, b):
    return "-" if a is None else f"{a:.1f} / {b:.1f}"


def run_checks(psql, since):
    """Runs test/stress/checks.sql over this run; prints its output; returns its ok / not ok
    lines (no lines when it did not run)."""
    print("\n==> Rate-limit, budget, cap and task invariants (test/stress/checks.sql)")
    result = subprocess.run([psql, "-X", "-q", "-v", "harness=demo", "-v", f"since={since}",
                             "-f", CHECKS_SQL], capture_output=True, text=True)
    lines = result.stdout.splitlines()
    table = [line for line in lines if not line.startswith(("ok - ", "not ok - "))]
    print("\n".join(table))
    if result.returncode != 0:
        print(result.stderr.strip())
        return ["not ok - test/stress/checks.sql ran to its end"]
    return [line for line in lines if line.startswith(("ok - ", "not ok - "))]
