-- get_system_health(): the rows for the heartbeat, the budget, each API, each breaker that is not
-- closed and the open alerts, on the test clock (the queue, type, dead-letter and database rows
-- are checked in queue_order).
CREATE EXTENSION orchestrator;
SET orchestrator.test_now = '2026-06-01 10:00:00+00';
SELECT (orchestrator.configure('{"daily_budget_usd": 10}')).daily_budget_usd;
SELECT orchestrator.register_api('gemini', 10) > 0 AS registered;
SELECT orchestrator.register_workflow_type('h', estimated_cost_usd => 1, max_concurrent => 100) > 0 AS registered;
SELECT orchestrator.set_workflow_type_apis('h', '{"gemini": 3}');
CREATE FUNCTION pg_temp.health() RETURNS TABLE (component text, status text, value numeric,
                                                threshold numeric, details jsonb)
    LANGUAGE sql AS $$
    SELECT h.component, h.status, h.value, h.threshold, h.details - 'alive_at' - 'pid'
      FROM orchestrator.get_system_health() h
     WHERE h.component NOT IN ('queue', 'dead_letters', 'database') AND h.component NOT LIKE 'workflow_type:%'
     ORDER BY 1 $$;

-- Nothing has run yet: the heartbeat was never seen (warning); all else ok.
SELECT * FROM pg_temp.health();

-- A pass; then 3 executions of one task: $3 reserved of $10, gemini at 9 of 10 calls (90%).
SELECT orchestrator.tick() AS ran;
SELECT cardinality(orchestrator.enqueue_batch('h', '[{}, {}, {}]')) AS enqueued;
SELECT count(*) FROM generate_series(1, 3) n, LATERAL orchestrator.orchestrate_next_execution('w' || n, 1) e;
SET orchestrator.test_now = '2026-06-01 10:00:30+00';
SELECT * FROM pg_temp.health();

-- Two complete, spending $4.50 in all: $5.50 with the third's reservation, under the soft
-- threshold ($8). Breakers written directly (only their state matters here): gemini's open, the
-- type's half-open.
SELECT count(orchestrator.complete_execution(e.id, cost_usd => 2.25))
  FROM (SELECT id FROM orchestrator.workflow_orchestration
         WHERE status = 'running' ORDER BY id LIMIT 2) e;
INSERT INTO orchestrator.breaker (kind, name, state, consecutive_failures, opened_at, updated_at)
VALUES ('api', 'gemini', 'open', 5, orchestrator.now(), orchestrator.now()),
       ('workflow_type', 'h', 'half_open', 5, orchestrator.now() - interval '6 minutes', orchestrator.now());
-- 10:03: a pass after three silent minutes raises worker_silent (and gemini's window has moved on)
-- The budget row forecasts: $4.50 reported in minute 10:00, the third complete minute before 10:03
-- (weight 2^(-2/15) = 0.911722; core/forecast.hpp, S = 20.760259 for 60 minutes):
-- 60 x 4.5 x 0.911722 / 20.760259 = $11.857514 an hour; $10 - $5.50 = $4.50 left lasts
-- 4.5 / 11.857514 h = 1366 s. (Before any cost was reported the burn is 0: never exhausted.)
SET orchestrator.test_now = '2026-06-01 10:03:00+00';
SELECT orchestrator.tick() AS ran;
SELECT * FROM pg_temp.health();

-- 10:05:30 with no pass since 10:03: silent for 150 s; the budget cut to $5 is exceeded.
SET orchestrator.test_now = '2026-06-01 10:05:30+00';
SELECT (orchestrator.configure('{"daily_budget_usd": 5}')).daily_budget_usd;
SELECT component, status, value, threshold FROM pg_temp.health()
 WHERE component IN ('worker', 'budget');
-- $5.50 of $6.50 (85%) is past the soft threshold (80%): a warning
SELECT (orchestrator.configure('{"daily_budget_usd": 6.5}')).daily_budget_usd;
SELECT component, status, value, threshold FROM pg_temp.health() WHERE component = 'budget';

RESET orchestrator.test_now;
DROP EXTENSION orchestrator;
