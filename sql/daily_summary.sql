-- The info-level daily summary: the first heartbeat of each budget day raises one alert with the
-- figures of the day before (from metrics()); the next day's summary supersedes it; a pass on
-- the same day raises nothing. The very first pass only remembers the day.
CREATE EXTENSION orchestrator;
SET orchestrator.test_now = '2026-03-02 10:00:00+00';
SELECT orchestrator.register_workflow_type('s', max_attempts => 1) > 0 AS registered;
CREATE FUNCTION pg_temp.summaries() RETURNS TABLE (id bigint, severity text, message text,
                                                   value numeric, threshold numeric,
                                                   raised_at timestamptz, resolved_at timestamptz)
    LANGUAGE sql AS $$
    SELECT id, severity, message, value, threshold, raised_at, resolved_at
      FROM orchestrator.alert WHERE condition = 'daily_summary' ORDER BY id $$;

-- The first pass ever: nothing is known of the day before, so no summary.
SELECT orchestrator.tick() AS ran;
SELECT summary_day FROM orchestrator.worker_state;
SELECT * FROM pg_temp.summaries();

-- 2026-03-02: two tasks enqueued at 10:00 and dispatched at 10:01 (each waited 60 s: bucket
-- [1 min, 2 min), reported as 120000 ms = 2 min). One runs 30 s ([30 s, 1 min): 60000) and
-- reports $0.04; the other fails after 65 s (120000) with $0.01 and is dead-lettered.
SELECT cardinality(orchestrator.enqueue_batch('s', '[{}, {}]')) AS enqueued;
SET orchestrator.test_now = '2026-03-02 10:01:00+00';
SELECT execution_id AS ok FROM orchestrator.orchestrate_next_execution('w', 1) \gset
SELECT execution_id AS bad FROM orchestrator.orchestrate_next_execution('w', 1) \gset
SET orchestrator.test_now = '2026-03-02 10:01:30+00';
SELECT orchestrator.complete_execution(:ok, cost_usd => 0.04);
SET orchestrator.test_now = '2026-03-02 10:02:05+00';
SELECT orchestrator.fail_execution(:bad, 'boom', cost_usd => 0.01);
-- later the same day: still no summary
SET orchestrator.test_now = '2026-03-02 10:05:00+00';
SELECT orchestrator.tick() AS ran;
SELECT * FROM pg_temp.summaries();

-- The first pass of 2026-03-03 summarizes 2026-03-02: 2 tasks finished, 1 succeeded (50.0%),
-- 2 executions, 1 failed, $0.05 spent, $0.05 / 2 = $0.0250 per task; p95 wait: both tasks in
-- 120000 -> 2 min; p95 run: 60000 and 120000, rank ceil(0.95 x 2) = 2 -> 120000 = 2 min.
-- Value: the 2 tasks finished, against the seed's 500 a day.
SET orchestrator.test_now = '2026-03-03 00:30:00+00';
SELECT orchestrator.tick() AS ran;
SELECT * FROM pg_temp.summaries();
SELECT details ->> 'day' AS day, details ->> 'since' AS since, details ->> 'until' AS until,
       details -> 'executions' AS executions, details -> 'tasks_succeeded' AS succeeded,
       details -> 'tasks_dead_lettered' AS dead, details -> 'success_rate' AS success_rate,
       details -> 'cost_usd' AS cost, details -> 'wait_p50_ms' AS wait_p50,
       details -> 'run_p50_ms' AS run_p50, details -> 'run_p99_ms' AS run_p99,
       details ? 'queue_ready' AS has_live_figures
  FROM orchestrator.alert WHERE condition = 'daily_summary';
-- The rules never resolve it; another pass the same day raises no second one.
SET orchestrator.test_now = '2026-03-03 00:31:00+00';
SELECT orchestrator.tick() AS ran;
SELECT orchestrator.tick() AS ran;
SELECT count(*) AS summaries, count(*) FILTER (WHERE resolved_at IS NULL) AS open
  FROM orchestrator.alert WHERE condition = 'daily_summary';
-- It can be acknowledged like any alert; health counts it, as info (status ok).
SELECT orchestrator.acknowledge_alert(id) AS acknowledged FROM orchestrator.alert
 WHERE condition = 'daily_summary';
SELECT component, status, value, details FROM orchestrator.get_system_health()
 WHERE component = 'alerts';

-- 2026-03-04: the summary of the quiet 2026-03-03 supersedes it (resolved when the new one is
-- raised); still one open.
SET orchestrator.test_now = '2026-03-04 09:00:00+00';
SELECT orchestrator.tick() AS ran;
SELECT * FROM pg_temp.summaries();

-- Budget days follow the configured start hour and time zone. Days moved to start at 06:00
-- Europe/Berlin (UTC+1 in March, so 05:00 UTC): the current day now began 2026-03-04 05:00 UTC,
-- and the day before it would overlap 2026-03-03, already summarized: the pass at 09:30 only
-- remembers the new day. A pass at 04:59 UTC on 2026-03-05 is still in it; the one at 05:00 UTC
-- summarizes 2026-03-04 (Berlin), 05:00 UTC to 05:00 UTC.
SELECT (orchestrator.configure('{"budget_day_start_hour": 6, "time_zone": "Europe/Berlin"}')).time_zone;
SET orchestrator.test_now = '2026-03-04 09:30:00+00';
SELECT orchestrator.tick() AS ran;
SET orchestrator.test_now = '2026-03-05 04:59:00+00';
SELECT orchestrator.tick() AS ran;
SELECT count(*) AS summaries, summary_day
  FROM orchestrator.alert, orchestrator.worker_state WHERE condition = 'daily_summary' GROUP BY 2;
SET orchestrator.test_now = '2026-03-05 05:00:00+00';
SELECT orchestrator.tick() AS ran;
SELECT message, details ->> 'since' AS since, details ->> 'until' AS until
  FROM orchestrator.alert WHERE condition = 'daily_summary' AND resolved_at IS NULL;

RESET orchestrator.test_now;
DROP EXTENSION orchestrator;
