-- The opening of the metrics tests' history (type 'm', batch_max 2, max_attempts 1, the clock at
-- 2026-05-04 10:00): four tasks; at 10:01 executions :a and :b take two each (every task waited
-- 60 s: bucket [1 min, 2 min), position 13); :a completes at 10:01:20 after 20 s (bucket [10 s,
-- 30 s), position 11) costing $0.30; :b fails at 10:02:05 after 65 s (position 13) costing $0.05,
-- and its two tasks, with no attempt left, become dead letters.
SELECT cardinality(orchestrator.enqueue_batch('m', '[{"n": 1}, {"n": 2}, {"n": 3}, {"n": 4}]')) AS enqueued;
SET orchestrator.test_now = '2026-05-04 10:01:00+00';
SELECT execution_id AS a FROM orchestrator.orchestrate_next_execution('w', 1) \gset
SELECT execution_id AS b FROM orchestrator.orchestrate_next_execution('w', 1) \gset
SET orchestrator.test_now = '2026-05-04 10:01:20+00';
SELECT orchestrator.complete_execution(:a, cost_usd => 0.30);
SET orchestrator.test_now = '2026-05-04 10:02:05+00';
SELECT orchestrator.fail_execution(:b, 'boom', cost_usd => 0.05);
