-- The seed's "Real-Time Dashboards" performance query (shared/seed/master-orchestrator-overview.md)
-- runs verbatim on the executions, with only the schema name added. Its NOW() is the real clock,
-- not the orchestrator's, so the scripted history is placed relative to it.
CREATE EXTENSION orchestrator;
SELECT orchestrator.register_workflow_type('seo_monitor', batch_max => 2) > 0 AS registered;
SELECT orchestrator.register_workflow_type('content_pipeline') > 0 AS registered;
-- pg_temp.at(ago) sets the test clock to a fixed base (the real time when the script starts)
-- minus `ago`, so durations come out exact.
SELECT set_config('dashboard.base', now()::text, false) IS NOT NULL AS base_set;
CREATE FUNCTION pg_temp.at(ago interval) RETURNS boolean LANGUAGE sql AS $$
    SELECT set_config('orchestrator.test_now',
                      (current_setting('dashboard.base')::timestamptz - ago)::text, false) IS NOT NULL $$;

-- 25 hours ago (outside the query's 24 hours): content_pipeline, 10 s, $0.50.
SELECT pg_temp.at('25 hours');
SELECT orchestrator.enqueue('content_pipeline', '{}') > 0 AS enqueued;
SELECT execution_id AS old FROM orchestrator.orchestrate_next_execution('w', 1) \gset
SELECT pg_temp.at(interval '25 hours' - interval '10 seconds');
SELECT orchestrator.complete_execution(:old, cost_usd => 0.50);
-- 2 hours ago: seo_monitor, one execution of 2 tasks running 3 s ($0.02) and one of 1 task
-- running 5 s ($0.01).
SELECT pg_temp.at('2 hours');
SELECT cardinality(orchestrator.enqueue_batch('seo_monitor', '[{}, {}, {}]')) AS enqueued;
SELECT execution_id AS s1 FROM orchestrator.orchestrate_next_execution('w', 1) \gset
SELECT execution_id AS s2 FROM orchestrator.orchestrate_next_execution('w', 1) \gset
SELECT pg_temp.at(interval '2 hours' - interval '3 seconds');
SELECT orchestrator.complete_execution(:s1, cost_usd => 0.02);
SELECT pg_temp.at(interval '2 hours' - interval '5 seconds');
SELECT orchestrator.complete_execution(:s2, cost_usd => 0.01);
-- 1 hour ago: content_pipeline, 30 s, $0.07.
SELECT pg_temp.at('1 hour');
SELECT orchestrator.enqueue('content_pipeline', '{}') > 0 AS enqueued;
SELECT execution_id AS c1 FROM orchestrator.orchestrate_next_execution('w', 1) \gset
SELECT pg_temp.at(interval '1 hour' - interval '30 seconds');
SELECT orchestrator.complete_execution(:c1, cost_usd => 0.07);
RESET orchestrator.test_now;

-- Expected by hand: content_pipeline 1 execution (the one 25 hours ago is out), 30000 ms, $0.07;
-- seo_monitor 2 executions, (3000 + 5000) / 2 = 4000 ms, $0.03; and the dispatcher's own rows
-- (workflow_type 'orchestrator', one per dispatch call that claimed work: 3 in the window),
-- which take no time (0 ms) and have no cost of their own. Sorted grouping (no hash) gives a stable order.
SET enable_hashagg = off;
SELECT 
  workflow_type,
  COUNT(*) as executions,
  AVG(duration_ms) as avg_latency,
  SUM(cost_usd) as total_cost
FROM orchestrator.workflow_orchestration 
WHERE created_at >= NOW() - INTERVAL '24 hours'
GROUP BY workflow_type;
RESET enable_hashagg;

DROP EXTENSION orchestrator;
