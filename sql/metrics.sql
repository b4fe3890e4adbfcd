-- Per-minute metric rollups: the heartbeat's MONITORING step sums what finished in each minute
-- per workflow type, with latency histograms (bucket bounds in core/latency.hpp: ... 10 s, 30 s,
-- 1 min, 2 min ...; array position i + 1 holds bucket i). A scripted history on the test clock,
-- checked against figures worked out by hand.
CREATE EXTENSION orchestrator;
SET orchestrator.test_now = '2026-05-04 10:00:00+00';
SELECT orchestrator.register_workflow_type('m', batch_max => 2, max_attempts => 1) > 0 AS registered;
\i sql/helpers/first_two_executions.sql

-- 10:05: the pass rolls up every finished minute.
SET orchestrator.test_now = '2026-05-04 10:05:00+00';
SELECT orchestrator.tick() AS ran;
SELECT minute, workflow_type, executions, executions_failed, tasks_succeeded, tasks_dead_lettered,
       cost_usd, array_length(run_ms, 1) AS buckets,
       (SELECT array_agg(ARRAY[i - 1, run_ms[i]]) FROM generate_subscripts(run_ms, 1) i WHERE run_ms[i] > 0) AS run_buckets,
       (SELECT array_agg(ARRAY[i - 1, wait_ms[i]]) FROM generate_subscripts(wait_ms, 1) i WHERE wait_ms[i] > 0) AS wait_buckets
  FROM orchestrator.metric_minute ORDER BY minute;
SELECT metrics_rolled_up_to FROM orchestrator.worker_state;

-- A second pass in the same minute recomputes the same figures (no double counting).
SELECT orchestrator.tick() AS ran;
SELECT count(*) AS rows, sum(executions) AS executions, sum(tasks_succeeded) AS succeeded
  FROM orchestrator.metric_minute;

-- Rollups are kept for metric_retention (at least 2 days), long after executions are pruned.
SELECT (orchestrator.configure('{"execution_retention": "2 days", "task_retention": "1 hour", "metric_retention": "3 days"}')).metric_retention;
SET orchestrator.test_now = '2026-05-06 12:00:00+00';
SELECT orchestrator.tick() AS ran;
SELECT (SELECT count(*) FROM orchestrator.workflow_orchestration) AS executions_left,
       (SELECT count(*) FROM orchestrator.metric_minute) AS rollups_left;
-- three days after 10:01:30: the 10:01 minute goes, the 10:02 one stays
SET orchestrator.test_now = '2026-05-07 10:01:30+00';
SELECT orchestrator.tick() AS ran;
SELECT minute FROM orchestrator.metric_minute ORDER BY minute;

RESET orchestrator.test_now;
DROP EXTENSION orchestrator;
