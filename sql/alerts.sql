-- Alerts: the heartbeat's MONITORING step (here tick(), on the test clock) raises an alert for
-- each rule that holds, keeps one open alert per condition, and resolves it when the condition is
-- gone. Rules and thresholds: SPEC "Alerts" (core/alerts.hpp).
CREATE EXTENSION orchestrator;
\i sql/helpers/error_of.sql
SET orchestrator.test_now = '2026-03-02 10:00:00+00';
SELECT (orchestrator.configure('{"max_db_connections": 100000, "max_memory_mb": 100000000}')).max_db_connections;
SELECT orchestrator.register_workflow_type('work', batch_max => 1, max_concurrent => 1000,
                                           estimated_cost_usd => 1) > 0 AS registered;
SELECT orchestrator.register_api('gemini', 10) > 0 AS registered;
CREATE FUNCTION pg_temp.open_alerts() RETURNS TABLE (condition text, severity text, message text,
                                                     value numeric, threshold numeric, raised_at timestamptz)
    LANGUAGE sql AS $$
    SELECT condition, severity, message, round(value, 3), round(threshold, 3), raised_at
      FROM orchestrator.list_alerts() ORDER BY condition $$;

-- A quiet system: nothing.
SELECT orchestrator.tick() AS ran;
SELECT * FROM pg_temp.open_alerts();

-- Silence: nothing ran for three minutes (the last liveness record is the tick at 10:00).
SET orchestrator.test_now = '2026-03-02 10:03:00+00';
SELECT orchestrator.tick() AS ran;
SELECT * FROM pg_temp.open_alerts();
-- the next pass, a minute later, finds the orchestrator alive again: resolved
SET orchestrator.test_now = '2026-03-02 10:04:00+00';
SELECT orchestrator.tick() AS ran;
SELECT * FROM pg_temp.open_alerts();
SELECT condition, raised_at, resolved_at FROM orchestrator.list_alerts(include_resolved => true);

-- Queue depth over 500, an API over 80% of its limit in the last minute, an execution running
-- longer than 5 minutes, an error rate over 10% of at least 20 attempts, the budget reached.
SELECT cardinality(orchestrator.enqueue_batch('work', (SELECT jsonb_agg(jsonb_build_object('n', n)) FROM generate_series(1, 530) n))) AS enqueued;
-- 20 executions at 10:04, 3 of which fail: 15%; each spent $1
SELECT count(*) FILTER (WHERE CASE WHEN n <= 3
                              THEN orchestrator.fail_execution(e.execution_id, 'boom', cost_usd => 1)
                              ELSE orchestrator.complete_execution(e.execution_id, cost_usd => 1) END = 'failed') AS failed
  FROM generate_series(1, 20) n, LATERAL orchestrator.orchestrate_next_execution('w' || n, 1) e;
-- one long execution, dispatched at 10:04
SELECT execution_id AS long_running FROM orchestrator.orchestrate_next_execution('w', 1) \gset
SELECT orchestrator.heartbeat_execution(:long_running, interval '1 hour') IS NOT NULL AS extended;
-- (a pass at 10:09: it reports the five silent minutes since 10:04, and the next pass, at 10:10,
-- resolves that)
SET orchestrator.test_now = '2026-03-02 10:09:00+00';
SELECT orchestrator.tick() AS ran;
-- 9 calls on gemini (limit 10 a minute) by executions started at 10:09:30
SET orchestrator.test_now = '2026-03-02 10:09:30+00';
SELECT count(orchestrator.complete_execution(e.execution_id, api_calls => '{"gemini": 3}'))
  FROM generate_series(1, 3) n, LATERAL orchestrator.orchestrate_next_execution('g' || n, 1) e;
-- $24 spent or reserved today ($20 reported by the callbacks at 10:04, $3 by the three
-- executions above, which reported no cost and so spent their reservation, and $1 reserved by
-- the long execution) against a budget now lowered to $24
SELECT (orchestrator.configure('{"daily_budget_usd": 24}')).daily_budget_usd;
SET orchestrator.test_now = '2026-03-02 10:10:00+00';
SELECT orchestrator.tick() AS ran;
SELECT * FROM pg_temp.open_alerts();
-- still holding a pass later: still one open alert each, none raised again
SELECT orchestrator.tick() AS ran;
SELECT condition, count(*) FROM orchestrator.alert GROUP BY 1 ORDER BY 1;

-- Acknowledging: once; unknown and null ids are refused.
SELECT orchestrator.acknowledge_alert(id) AS acknowledged FROM orchestrator.alert WHERE condition = 'queue_depth';
SELECT orchestrator.acknowledge_alert(id) AS again FROM orchestrator.alert WHERE condition = 'queue_depth';
SELECT pg_temp.error_of('SELECT orchestrator.acknowledge_alert(999999)');
SELECT pg_temp.error_of('SELECT orchestrator.acknowledge_alert(NULL)');
SELECT condition, acknowledged_at, acknowledged_by IS NOT NULL AS by_someone FROM orchestrator.list_alerts()
 WHERE acknowledged_at IS NOT NULL;
SELECT action, target FROM orchestrator.audit_log WHERE action = 'acknowledge_alert';

-- The conditions go away: the queue drained to 100, the long execution done, a day later
-- (a new budget day; the failures and API calls are out of their windows).
SELECT orchestrator.cancel_tasks(workflow_type => 'work') > 0 AS cancelled;
SELECT cardinality(orchestrator.enqueue_batch('work', (SELECT jsonb_agg(jsonb_build_object('n', n)) FROM generate_series(1, 100) n))) AS enqueued;
SELECT orchestrator.complete_execution(:long_running);
SET orchestrator.test_now = '2026-03-03 10:10:00+00';
SELECT orchestrator.tick() AS ran; -- silent for a day: raised
SET orchestrator.test_now = '2026-03-03 10:11:00+00';
SELECT orchestrator.tick() AS ran;
-- Only the daily summary of 2026-03-02 is open (info; raised by the first pass of 2026-03-03,
-- which first rolled up the minute 10:10 of 2026-03-02): 24 executions (the 20 at 10:04, 3 of
-- them failed, the 3 at 10:09:30, the long one at 10:10), 21 tasks succeeded (17 + 3 + 1; the 3
-- failed ones went back to the queue and were cancelled), $24 ($20 reported, $3 + $1 of spent
-- reservations), $24 / 21 = $1.1429 a task. Waits: 18 tasks dispatched at once ([0, 10 ms)),
-- the 3 at 10:09:30 after 5.5 min ([5, 10 min)): p95 = 20th of 21 -> 10 min. Runs: 23 at once,
-- the long one 6 min: p95 = 23rd of 24 -> 10 ms.
SELECT * FROM pg_temp.open_alerts();
SELECT condition, raised_at, resolved_at FROM orchestrator.list_alerts(true) ORDER BY id;

RESET orchestrator.test_now;
DROP EXTENSION orchestrator;
