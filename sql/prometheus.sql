-- prometheus_metrics(): the Prometheus text exposition format of a scripted history on the test
-- clock, checked against figures worked out by hand; the counters stay put when old rollups are
-- pruned; label values are escaped. (promtool parses a richer history in test/run_all.sh.)
CREATE EXTENSION orchestrator;
SET orchestrator.test_now = '2026-05-04 10:00:00+00';
SELECT orchestrator.register_api('gemini', 60, 10) > 0 AS registered;
SELECT orchestrator.register_workflow_type('m', batch_max => 2, max_attempts => 1) > 0 AS registered;
SELECT orchestrator.set_workflow_type_apis('m', '{"gemini": 1}');
\i sql/helpers/first_two_executions.sql
-- 10:04: three more tasks: one ready since 10:04, one running (dispatched 10:04:30), one waiting
-- until noon. gemini's breaker is written open (only its state matters here).
SET orchestrator.test_now = '2026-05-04 10:04:00+00';
SELECT cardinality(orchestrator.enqueue_batch('m', '[{"n": 5}, {"n": 6}]')) AS enqueued;
SELECT orchestrator.enqueue('m', '{"n": 7}', run_after => '2026-05-04 12:00:00+00') > 0 AS enqueued;
SET orchestrator.test_now = '2026-05-04 10:04:30+00';
SELECT (orchestrator.alter_workflow_type('m', '{"batch_max": 1}')).batch_max;
SELECT count(*) AS dispatched FROM orchestrator.orchestrate_next_execution('w', 1);
INSERT INTO orchestrator.breaker (kind, name, state, consecutive_failures, opened_at, updated_at)
VALUES ('api', 'gemini', 'open', 5, orchestrator.now(), orchestrator.now());

-- 10:05: a pass rolls up 10:01 and 10:02. By hand:
--   executions_total 2, failures 1, tasks succeeded 2 and dead-lettered 2, cost 0.35;
--   execution duration: le=30 and above count A (1), le=120 and above A and B (2);
--   _sum 20 + 65 = 85 s, _count 2;
--   task wait: 4 tasks at 60 s, counted from le=120 on; _sum 240 s, _count 4;
--   queue: ready 1 (waited 60 s), waiting 1, running 1, dead_letter 2; 1 execution running;
--   budget today: spent 0.35, reserved 0 (m costs nothing by default), limit 500;
--   gemini: 1 call planned in the last minute (the 10:04:30 execution), limit 60, burst 10,
--   breaker open (2) after 5 failures; m's breaker closed (0) with B's failure counted (1);
--   the pass's liveness and the rollups at 10:05 (1777889100); no alert open.
SET orchestrator.test_now = '2026-05-04 10:05:00+00';
SELECT orchestrator.tick() AS ran;
SELECT line FROM regexp_split_to_table(orchestrator.prometheus_metrics(), E'\n') line;

-- Two days later, with metric_retention at 2 days: the first pass adds the 10:01 and 10:02
-- rollups (older than a day) to metric_total, the second prunes them (a rollup is pruned only
-- once it is in the totals; the one left is 10:30's); every counter and histogram keeps its
-- value.
SELECT (orchestrator.configure('{"metric_retention": "2 days"}')).metric_retention;
SET orchestrator.test_now = '2026-05-06 10:30:00+00';
SELECT orchestrator.tick() AS ran;
SELECT count(*) AS rollups_left, (SELECT metrics_totaled_to FROM orchestrator.worker_state) AS totaled_to
  FROM orchestrator.metric_minute;
SET orchestrator.test_now = '2026-05-06 10:31:00+00';
SELECT orchestrator.tick() AS ran;
SELECT count(*) AS rollups_left FROM orchestrator.metric_minute;
SELECT workflow_type, executions, executions_failed, tasks_succeeded, tasks_dead_lettered, cost_usd,
       run_ms_sum, wait_ms_sum FROM orchestrator.metric_total;
SELECT line FROM regexp_split_to_table(orchestrator.prometheus_metrics(), E'\n') line
 WHERE line ~ '^orchestrator_(executions_total|execution_failures_total|tasks_finished_total|cost_usd_total)'
    OR line ~ '^orchestrator_execution_duration_seconds_(sum|count|bucket\{le="(30|120)")';

-- (The pass at 10:30 expired the execution dispatched two days before, at 10:04:30: its task,
-- with no attempt left, is a third dead letter. The execution itself is not counted: rollups
-- count executions created at most a day before the minute they finished in.)

-- Label values are escaped: backslash, double quote and line feed.
SELECT orchestrator._prometheus_escape(E'a\\b"c\nd') AS escaped;
INSERT INTO orchestrator.alert (condition, severity, message, raised_at)
VALUES (E'odd "name" \\ with\na line feed', 'info', 'x', orchestrator.now());
SELECT line FROM regexp_split_to_table(orchestrator.prometheus_metrics(), E'\n') line
 WHERE line LIKE 'orchestrator_alert%';

RESET orchestrator.test_now;
DROP EXTENSION orchestrator;
