-- metrics(since, until, only_type) and forecast() on a scripted history (test clock), every figure
-- checked against a hand calculation written next to it.
CREATE EXTENSION orchestrator;
\i sql/helpers/error_of.sql
SET orchestrator.test_now = '2026-05-04 10:00:00+00';
SELECT (orchestrator.configure('{"daily_budget_usd": 10}')).daily_budget_usd;
SELECT orchestrator.register_api('gemini', 10) > 0 AS registered;
SELECT orchestrator.register_workflow_type('a', batch_max => 2, max_attempts => 1,
                                           estimated_cost_usd => 0.5, daily_budget_usd => 5) > 0 AS registered;
SELECT orchestrator.register_workflow_type('b', max_attempts => 1) > 0 AS registered;
SELECT orchestrator.set_workflow_type_apis('a', '{"gemini": 2}');

-- 10:00: 7 tasks of a, 2 of b, and one of b that may run from 10:30.
SELECT cardinality(orchestrator.enqueue_batch('a', '[{}, {}, {}, {}, {}, {}, {}]')) AS enqueued;
SELECT cardinality(orchestrator.enqueue_batch('b', '[{}, {}]')) AS enqueued;
SELECT orchestrator.enqueue('b', '{}', run_after => '2026-05-04 10:30:00+00') > 0 AS enqueued;
-- 10:00:05: B1 (one task of b, waited 5 s) runs 40 ms and reports $0.02.
SET orchestrator.test_now = '2026-05-04 10:00:05+00';
SELECT execution_id AS b1 FROM orchestrator.orchestrate_next_execution('w', 1, ARRAY['b']) \gset
SET orchestrator.test_now = '2026-05-04 10:00:05.04+00';
SELECT orchestrator.complete_execution(:b1, cost_usd => 0.02);
-- 10:01: A1 and A2, two tasks of a each (waited 60 s), 4 gemini calls each.
SET orchestrator.test_now = '2026-05-04 10:01:00+00';
SELECT execution_id AS a1 FROM orchestrator.orchestrate_next_execution('w', 1, ARRAY['a']) \gset
SELECT execution_id AS a2 FROM orchestrator.orchestrate_next_execution('w', 1, ARRAY['a']) \gset
-- A1 completes at 10:01:20 (ran 20 s, $0.30); A2 fails at 10:02:05 (ran 65 s, $0.05): its two
-- tasks have no attempt left and are dead-lettered.
SET orchestrator.test_now = '2026-05-04 10:01:20+00';
SELECT orchestrator.complete_execution(:a1, cost_usd => 0.30);
SET orchestrator.test_now = '2026-05-04 10:02:05+00';
SELECT orchestrator.fail_execution(:a2, 'boom', cost_usd => 0.05);
-- 10:03: B2 (the other ready task of b, waited 180 s) runs 2 s and reports $0.10.
SET orchestrator.test_now = '2026-05-04 10:03:00+00';
SELECT execution_id AS b2 FROM orchestrator.orchestrate_next_execution('w', 1, ARRAY['b']) \gset
SET orchestrator.test_now = '2026-05-04 10:03:02+00';
SELECT orchestrator.complete_execution(:b2, cost_usd => 0.10);
-- 10:04:30: A3 takes two more tasks of a and keeps running ($1.00 reserved, 4 gemini calls;
-- its lease extended to an hour).
SET orchestrator.test_now = '2026-05-04 10:04:30+00';
SELECT execution_id AS a3 FROM orchestrator.orchestrate_next_execution('w', 1, ARRAY['a']) \gset
SELECT orchestrator.heartbeat_execution(:a3, interval '1 hour') IS NOT NULL AS extended;
-- 10:05: a heartbeat rolls up the minutes before 10:05.
SET orchestrator.test_now = '2026-05-04 10:05:00+00';
SELECT orchestrator.tick() AS ran;

-- The figures, rounded for display: rates and money to 6 places, forecast times to the second.
CREATE FUNCTION pg_temp.metrics(since timestamptz, until timestamptz, only_type text DEFAULT NULL)
    RETURNS TABLE (workflow_type text, executions bigint, failed bigint, succeeded bigint,
                   dead bigint, executions_per_hour numeric, tasks_per_hour numeric,
                   success_rate numeric, wait_p50 float8, wait_p95 float8, wait_p99 float8,
                   run_p50 float8, run_p95 float8, run_p99 float8, cost_usd numeric,
                   cost_per_task numeric, cost_per_day numeric, ready bigint, waiting bigint,
                   running bigint, oldest_ready_s numeric, api jsonb, spent numeric,
                   reserved numeric, budget numeric, budget_use numeric, arrivals_h numeric,
                   completions_h numeric, drain_s numeric, burn_h numeric, exhausted_s numeric,
                   rolled_up_to timestamptz)
    LANGUAGE sql AS $$
    SELECT m.workflow_type, m.executions, m.executions_failed, m.tasks_succeeded,
           m.tasks_dead_lettered, round(m.executions_per_hour, 6), round(m.tasks_per_hour, 6),
           round(m.success_rate, 6), m.wait_p50_ms, m.wait_p95_ms, m.wait_p99_ms, m.run_p50_ms,
           m.run_p95_ms, m.run_p99_ms, m.cost_usd, round(m.cost_per_task_usd, 6),
           round(m.cost_per_day_usd, 6), m.queue_ready, m.queue_waiting, m.running,
           m.oldest_ready_seconds, m.api_utilization, m.budget_spent_usd, m.budget_reserved_usd,
           m.budget_limit_usd, round(m.budget_utilization, 6),
           round(m.arrivals_per_hour::numeric, 6), round(m.completions_per_hour::numeric, 6),
           round(m.drain_seconds::numeric), round(m.burn_usd_per_hour::numeric, 6),
           round(m.budget_exhausted_seconds::numeric), m.rolled_up_to
      FROM orchestrator.metrics(since, until, only_type) m $$;

-- Window 10:00-11:00 (1 hour), read at 10:05 from the rollups of 10:00-10:04.
--
-- Executions finished: B1, A1, A2, B2 = 4 (a: 2, b: 2), failed: A2 = 1 (a: 1).
-- Tasks succeeded: A1's 2 + B1's 1 + B2's 1 = 4 (a: 2, b: 2); dead-lettered: A2's 2 (a: 2).
-- Per hour: executions 4 (a 2, b 2), tasks 6 (a 4, b 2). Success rate 4/6 = 0.666667
-- (a 2/4 = 0.5, b 2/2 = 1).
-- Waits (enqueue -> dispatch), bucket bounds 10 s, 30 s, 1 min, 2 min, 5 min:
--   A1, A2 tasks 60 s x 4 -> [1 min, 2 min) reported as 120000; B1 5 s -> [5 s, 10 s): 10000;
--   B2 180 s -> [2 min, 5 min): 300000.
--   all (6): 10000 x1, 120000 x4, 300000 x1. Nearest rank: p50 = 3rd -> 120000,
--     p95 = ceil(5.7) = 6th -> 300000, p99 = ceil(5.94) = 6th -> 300000.
--   a (4): all 120000. b (2): p50 = 1st -> 10000, p95 = p99 = 2nd -> 300000.
-- Runs (dispatch -> done): B1 40 ms -> [25, 50): 50; B2 2 s -> [1 s, 2.5 s): 2500;
--   A1 20 s -> [10 s, 30 s): 30000; A2 65 s -> [1 min, 2 min): 120000.
--   all (4): p50 = 2nd -> 2500, p95 = ceil(3.8) = 4th -> 120000, p99 = 4th -> 120000.
--   a: 30000, 120000: p50 = 1st -> 30000, p95 = p99 = 2nd -> 120000.
--   b: 50, 2500: p50 -> 50, p95 = p99 -> 2500.
-- Cost: 0.02 + 0.30 + 0.05 + 0.10 = $0.47 (a 0.35, b 0.12); per task 0.47/6 = 0.078333
--   (a 0.35/4 = 0.0875, b 0.12/2 = 0.06); per day x24: 11.28 (a 8.40, b 2.88).
-- Queue now (10:05): a has 1 ready since 10:00 (300 s) and 2 running (A3); b has 1 waiting for
--   10:30.
-- API: gemini calls by executions started in the window: A1 4 + A2 4 (10:01) + A3 4 (10:04)
--   = 12 of 10/min x 60 min: 0.02; the peak minute, 10:01, has 8 of 10: 0.8. b makes none.
-- Budget today: spent $0.47, reserved $1.00 (A3: 2 x $0.50) of $10: 0.147. a: $0.35 spent and
--   $1.00 reserved of its own $5: 0.27. b has no budget of its own.
-- Forecasts at 10:05: the last complete minute is 10:04 (k = 0), 10:00 is k = 4. Weight
--   w(k) = 2^(-k/15): w0 = 1, w1 = 0.954842, w2 = 0.911722, w3 = 0.870551, w4 = 0.831238.
--   S = sum of w(k), k = 0..59 = (1 - 2^-4) / (1 - 2^(-1/15)) = 20.760259. Rate per hour =
--   60 x sum(w(k) x count(k)) / S.
--   arrivals (all at 10:00): a 7 w4 -> 16.816742, b 3 w4 -> 7.207175, all 24.023917.
--   completions (tasks): a 2 w3 (A1) + 2 w2 (A2) -> 10.302028; b w4 (B1) + w1 (B2) -> 5.162015;
--     all 15.464043. Arrivals outpace completions everywhere: no drain time (NULL).
--   burn: a 0.30 w3 + 0.05 w2 -> 0.886553 $/h; b 0.02 w4 + 0.10 w1 -> 0.324010; all 1.210564.
--   budget left: all 10 - 0.47 - 1.00 = 8.53 -> 8.53 / 1.210564 h = 25367 s;
--     a 5 - 0.35 - 1.00 = 3.65 -> 3.65 / 0.886553 h = 14821 s; b: no budget, NULL.
\x on
SELECT * FROM pg_temp.metrics('2026-05-04 10:00+00', '2026-05-04 11:00+00');
\x off

-- A window of one minute, 10:01-10:02: only A1 finished in it (B1 finished at 10:00, A2 at
-- 10:02). 1 execution and 2 tasks in 1/60 hour: 60 and 120 per hour; $0.30 x 24 x 60 = $432 a
-- day; waits 2 x 120000, run 30000. only_type returns that type's row alone.
SELECT workflow_type, executions, succeeded, dead, executions_per_hour, tasks_per_hour,
       wait_p50, wait_p99, run_p50, run_p99, cost_usd, cost_per_day, api
  FROM pg_temp.metrics('2026-05-04 10:01+00', '2026-05-04 10:02+00', 'a');
-- A window with nothing in it: zero counts, no percentiles, no cost per task.
SELECT workflow_type, executions, tasks_per_hour, success_rate, wait_p50, run_p99, cost_usd,
       cost_per_task, cost_per_day
  FROM pg_temp.metrics('2026-05-03 10:00+00', '2026-05-03 12:00+00');

-- 10:20: A3 completes ($0.40; ran 15.5 min -> [10 min, 30 min): 1800000; its tasks waited
-- 270 s -> 300000). At 10:21, before any heartbeat, the window's figures still stop at 10:05
-- (rolled_up_to) while queue, budget and forecasts are current.
SET orchestrator.test_now = '2026-05-04 10:20:00+00';
SELECT orchestrator.complete_execution(:a3, cost_usd => 0.40);
SET orchestrator.test_now = '2026-05-04 10:21:00+00';
-- Forecasts at 10:21: 10:20 is k = 0, 10:03 k = 17, 10:02 k = 18, 10:01 k = 19, 10:00 k = 20;
--   w17 = 0.455861, w18 = 0.435275, w19 = 0.415619, w20 = 0.396850.
--   a: arrivals 7 w20 -> 8.028662; completions 2 w19 + 2 w18 + 2 w0 -> 10.698677; backlog 1
--     (ready) drains at 10.698677 - 8.028662 = 2.670015 an hour: 1 / 2.670015 h = 1348 s.
--     burn 0.30 w19 + 0.05 w18 + 0.40 w0 -> 1.579314; budget left 5 - 0.75 = 4.25:
--     4.25 / 1.579314 h = 9688 s.
--   b: arrivals 3 w20 -> 3.440855; completions w20 + w17 -> 2.464453: not draining (NULL);
--     backlog 1 (waiting); burn 0.02 w20 + 0.10 w17 -> 0.154689.
--   all: arrivals 11.469518, completions 13.163130, backlog 2: 2 / 1.693613 h = 4251 s;
--     burn 1.734003; left 10 - 0.87 = 9.13: 9.13 / 1.734003 h = 18955 s.
-- Budget at 10:21: $0.87 spent, nothing reserved: 0.087 of $10; a $0.75 of $5: 0.15.
SELECT workflow_type, round(arrivals_per_hour::numeric, 6) AS arrivals_h,
       round(completions_per_hour::numeric, 6) AS completions_h, backlog,
       round(drain_seconds::numeric) AS drain_s, round(burn_usd_per_hour::numeric, 6) AS burn_h,
       budget_left_usd, round(budget_exhausted_seconds::numeric) AS exhausted_s
  FROM orchestrator.forecast() ORDER BY workflow_type NULLS FIRST;
SELECT workflow_type, executions, ready, running, spent, reserved, budget_use, arrivals_h,
       completions_h, drain_s, burn_h, exhausted_s, rolled_up_to
  FROM pg_temp.metrics('2026-05-04 10:00+00', '2026-05-04 11:00+00');
-- get_system_health shows the same forecasts in the queue, type and budget rows.
SELECT component, details - 'ready' - 'waiting' - 'running' - 'oldest_ready_seconds' - 'paused'
       - 'queued' - 'weight' - 'batch' - 'day_started_at' - 'soft_threshold' AS forecast
  FROM orchestrator.get_system_health()
 WHERE component IN ('queue', 'workflow_type:a', 'workflow_type:b', 'budget') ORDER BY 1;
-- A heartbeat rolls up 10:05-10:20: a now has 3 executions (runs 30000, 120000, 1800000: p50 =
-- 2nd -> 120000, p95 = 3rd -> 1800000) and 6 finished tasks (waits 120000 x4, 300000 x2: p50 =
-- 3rd -> 120000, p95 = 6th -> 300000); all: 5 executions (runs 50, 2500, 30000, 120000, 1800000:
-- p50 = 3rd -> 30000, p95 = 5th -> 1800000), 8 tasks (waits 10000, 120000 x4, 300000 x3: p50 =
-- 4th -> 120000, p95 = 8th -> 300000), $0.87.
SELECT orchestrator.tick() AS ran;
SELECT workflow_type, executions, succeeded, dead, wait_p50, wait_p95, run_p50, run_p95, cost_usd,
       rolled_up_to
  FROM pg_temp.metrics('2026-05-04 10:00+00', '2026-05-04 11:00+00');

-- Bad input is refused and changes nothing.
SELECT pg_temp.error_of($$SELECT * FROM orchestrator.metrics('2026-05-04 11:00+00', '2026-05-04 10:00+00')$$);
SELECT pg_temp.error_of($$SELECT * FROM orchestrator.metrics('2026-05-04 10:00+00', '2026-05-04 10:00+00')$$);
SELECT pg_temp.error_of($$SELECT * FROM orchestrator.metrics(NULL, '2026-05-04 10:00+00')$$);
SELECT pg_temp.error_of($$SELECT * FROM orchestrator.metrics('-infinity', '2026-05-04 10:00+00')$$);
SELECT pg_temp.error_of($$SELECT * FROM orchestrator.metrics('2026-05-04 10:00+00', '2026-05-04 11:00+00', 'nope')$$);

-- latency_percentile: one rule (core/latency.hpp) for every caller. 50 durations in [50, 100) ms
-- (position 4), 45 in [500, 1000) ms (position 7), 5 in [5, 10) s (position 10): the 50th of 100
-- is in the first -> 100, the 95th (50 + 45) in the second -> 1000, the 96th in the third ->
-- 10000; an empty histogram has no percentile.
SELECT orchestrator.latency_percentile('{0,0,0,50,0,0,45,0,0,5,0,0,0,0,0,0,0,0}', 50) AS p50,
       orchestrator.latency_percentile('{0,0,0,50,0,0,45,0,0,5,0,0,0,0,0,0,0,0}', 95) AS p95,
       orchestrator.latency_percentile('{0,0,0,50,0,0,45,0,0,5,0,0,0,0,0,0,0,0}', 96) AS p96,
       orchestrator.latency_percentile('{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0}', 50) AS none;
SELECT pg_temp.error_of($$SELECT orchestrator.latency_percentile('{1,2,3}', 50)$$);
SELECT pg_temp.error_of($$SELECT orchestrator.latency_percentile('{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1}', 0)$$);
SELECT pg_temp.error_of($$SELECT orchestrator.latency_percentile('{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1}', 'NaN')$$);
SELECT pg_temp.error_of($$SELECT orchestrator.latency_percentile('{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,-1,1}', 50)$$);
SELECT pg_temp.error_of($$SELECT orchestrator.latency_percentile('{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,NULL,1}', 50)$$);
SELECT pg_temp.error_of($$SELECT orchestrator._ewma_per_hour('{1,-1}')$$);

RESET orchestrator.test_now;
DROP EXTENSION orchestrator;
