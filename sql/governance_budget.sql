-- The daily budget: dispatch reserves the estimated cost (the type's, or a task's own), completion
-- settles the actual cost, failure releases the reservation. Past 80% the model tier is economy
-- and batches are halved; at the limit nothing is dispatched, except critical tasks when a reserve
-- is kept for them. Per-type budgets, raises for the rest of the budget day (audited), and the
-- budget day in a time zone, across DST changes.
CREATE EXTENSION orchestrator;
SET TimeZone = 'UTC';

-- The governance tests' shared helpers (run from the repository root, as the test command does).
\i sql/helpers/governance_helpers.sql

-- The reservation, status and cost of every execution of a type, oldest first.
CREATE FUNCTION pg_temp.ledger(type text)
    RETURNS TABLE (batch_size int, status text, reserved_cost_usd numeric, cost_usd numeric,
                   model_tier text, limited_by text)
    LANGUAGE sql AS $$
    SELECT batch_size, status, reserved_cost_usd, cost_usd, model_tier, limited_by
      FROM orchestrator.workflow_orchestration WHERE workflow_type = $1 ORDER BY id
$$;

-- Day 1 (budget day from 00:00 UTC): a $100 budget; 'gen' tasks cost $1 by the type's estimate,
-- 'pricey' tasks carry their own estimate of $3. Executions hold no connections or memory.
SELECT pg_temp.at('2026-03-02 10:00:00+00') IS NOT NULL AS clock_set;
SELECT daily_budget_usd, budget_soft_ratio, critical_priority, critical_reserve_usd
  FROM orchestrator.configure('{"daily_budget_usd": 100}');
SELECT orchestrator.register_workflow_type('gen', batch_max => 10, estimated_cost_usd => 1,
           db_connections => 0, memory_mb => 0) > 0 AS registered;
SELECT orchestrator.register_workflow_type('pricey', batch_max => 10, estimated_cost_usd => 1,
           db_connections => 0, memory_mb => 0) > 0 AS registered;
SELECT pg_temp.fill('gen', 100);
SELECT count(orchestrator.enqueue('pricey', '{}', estimated_cost_usd => 3)) AS enqueued
  FROM generate_series(1, 20);

-- $10 reserved; completing it at an actual $70 leaves $70 spent and nothing reserved.
SELECT * FROM pg_temp.d(1, '{gen}');
SELECT orchestrator.complete_execution(pg_temp.last('gen'), cost_usd => 70);
-- 70 < 80: a standard batch of 10 (now 80 committed: 70 spent + 10 reserved).
SELECT * FROM pg_temp.d(1, '{gen}');
-- 80 >= 80% of 100: economy tier, half the batch.
SELECT * FROM pg_temp.d(1, '{gen}');
-- Failing that execution releases its $5; completing the other at $2 instead of the $10
-- reserved settles the actual: 72 committed, below the threshold again.
SELECT orchestrator.fail_execution(pg_temp.last('gen'), 'boom');
SELECT orchestrator.complete_execution(pg_temp.last('gen'), cost_usd => 2);
SELECT * FROM pg_temp.d(1, '{gen}');
-- 82 committed: $18 left. pricey: the type's estimate allows the soft batch of 5 and the tasks'
-- own $3 fit (15 <= 18).
SELECT * FROM pg_temp.d(1, '{pricey}');
-- $3 left: by the type's $1 estimate 3 tasks, but one task's own $3 uses it all: limited by budget.
SELECT * FROM pg_temp.d(1, '{pricey}');
-- At the limit: nothing for anyone.
SELECT * FROM pg_temp.d(10);
SELECT * FROM pg_temp.ledger('gen');
SELECT * FROM pg_temp.ledger('pricey');
-- Everything running finishes at no cost: 72 spent, $28 left, 72 < 80: standard once, then
-- economy halves until the budget is reached (82, 87, 92, 97).
SELECT count(orchestrator.complete_execution(id, cost_usd => 0)) AS completed
  FROM orchestrator.workflow_orchestration WHERE status = 'running' AND workflow_type <> 'orchestrator';
SELECT * FROM pg_temp.d(1, '{gen}');
SELECT * FROM pg_temp.d(1, '{gen}');
SELECT * FROM pg_temp.d(1, '{gen}');
SELECT * FROM pg_temp.d(1, '{gen}');
SELECT count(orchestrator.complete_execution(id, cost_usd => 0)) AS completed
  FROM orchestrator.workflow_orchestration WHERE status = 'running' AND workflow_type <> 'orchestrator';

-- Day 2: the spend starts from 0. A $20 budget keeping $10 for critical tasks (priority >= 9).
SELECT pg_temp.at('2026-03-03 10:00:00+00') IS NOT NULL AS clock_set;
SELECT orchestrator.budget_day_start();
SELECT daily_budget_usd, critical_priority, critical_reserve_usd
  FROM orchestrator.configure('{"daily_budget_usd": 20, "critical_priority": 9, "critical_reserve_usd": 10}');
SELECT orchestrator.register_workflow_type('ops', batch_max => 8, estimated_cost_usd => 1,
           db_connections => 0, memory_mb => 0) > 0 AS registered;
SELECT pg_temp.fill('ops', 30);
-- Ordinary work may use $10: 8, then 2.
SELECT * FROM pg_temp.d(1, '{ops}');
SELECT * FROM pg_temp.d(1, '{ops}');
SELECT * FROM pg_temp.d(1, '{ops}');
-- Critical tasks still go through, and only they.
SELECT pg_temp.fill('ops', 3, 10), pg_temp.fill('ops', 2, 9);
SELECT * FROM pg_temp.d(1, '{ops}');
SELECT jsonb_path_query_array(tasks, '$[*].priority') AS priorities
  FROM orchestrator.workflow_orchestration x
 CROSS JOIN LATERAL (SELECT jsonb_agg(jsonb_build_object('priority', t.priority) ORDER BY t.priority DESC) AS tasks
                       FROM orchestrator.task t WHERE t.id = ANY (x.task_ids)) p
 WHERE x.id = pg_temp.last('ops');
SELECT * FROM pg_temp.d(1, '{ops}');
-- Raising the global budget by $10 and $2.50 for the rest of the day (audited): $32.50 - 15
-- committed - 10 reserve = 7.50: 7 more ordinary tasks.
SELECT orchestrator.raise_budget(10);
SELECT orchestrator.raise_budget(2.5);
SELECT * FROM pg_temp.d(1, '{ops}');
SELECT action, target, old_value, new_value FROM orchestrator.audit_log
 WHERE action = 'raise_budget' ORDER BY id;
SELECT budget_raise_usd, budget_raise_day FROM orchestrator.config;
SELECT count(orchestrator.complete_execution(id, cost_usd => 0)) AS completed
  FROM orchestrator.workflow_orchestration WHERE status = 'running' AND workflow_type <> 'orchestrator';

-- Day 3: the raise has ended: ordinary work has $10 again (8 + 2), not $22.50.
SELECT pg_temp.at('2026-03-04 00:00:00+00') IS NOT NULL AS clock_set;
SELECT * FROM pg_temp.d(1, '{ops}');
SELECT * FROM pg_temp.d(1, '{ops}');
SELECT * FROM pg_temp.d(1, '{ops}');
SELECT orchestrator.raise_budget(1) AS raise_today;

-- A type's own budget limits only that type. Budget back to $1000, no critical reserve.
SELECT daily_budget_usd, critical_priority, critical_reserve_usd
  FROM orchestrator.configure('{"daily_budget_usd": 1000, "critical_priority": 11, "critical_reserve_usd": 0}');
SELECT orchestrator.register_workflow_type('capped', batch_max => 10, estimated_cost_usd => 1,
           daily_budget_usd => 3, db_connections => 0, memory_mb => 0) > 0 AS registered;
SELECT pg_temp.fill('capped', 30);
SELECT * FROM pg_temp.d(1, '{capped}');
SELECT * FROM pg_temp.d(1, '{capped}');
SELECT * FROM pg_temp.d(1, '{gen}');
-- Settled at $0.50 the type has $2.50 left: 2 tasks.
SELECT orchestrator.complete_execution(pg_temp.last('capped'), cost_usd => 0.5);
SELECT * FROM pg_temp.d(1, '{capped}');
SELECT * FROM pg_temp.d(1, '{capped}');
-- Its raise: $4 more for today.
SELECT orchestrator.raise_budget(4, 'capped');
SELECT * FROM pg_temp.d(1, '{capped}');
SELECT * FROM pg_temp.d(1, '{capped}');
SELECT budget_raise_usd, budget_raise_day FROM orchestrator.workflow_type WHERE name = 'capped';
SELECT action, target, old_value, new_value FROM orchestrator.audit_log
 WHERE action = 'raise_budget' AND target = 'capped';
-- Raising a type without a budget of its own, or an unknown type, changes nothing.
SELECT pg_temp.e('SELECT orchestrator.raise_budget(4, ''gen'')');
SELECT pg_temp.e('SELECT orchestrator.raise_budget(4, ''nope'')');
SELECT count(orchestrator.complete_execution(id, cost_usd => 0)) AS completed
  FROM orchestrator.workflow_orchestration WHERE status = 'running' AND workflow_type <> 'orchestrator';
-- Day 4: the type's raise has ended: $3 again; settled at $3.
SELECT pg_temp.at('2026-03-05 00:00:01+00') IS NOT NULL AS clock_set;
SELECT * FROM pg_temp.d(1, '{capped}');
SELECT * FROM pg_temp.d(1, '{capped}');
SELECT orchestrator.complete_execution(pg_temp.last('capped'), cost_usd => 3);

-- Budget days in Berlin from 02:00 local time: at 00:30 UTC (01:30 in Berlin) the budget day
-- began 2026-03-04 01:00 UTC and the $3 spent at 00:00:01 UTC belong to it: nothing for capped.
-- At 01:00 UTC (02:00 in Berlin) a new budget day: $3 again.
SELECT time_zone, budget_day_start_hour
  FROM orchestrator.configure('{"time_zone": "Europe/Berlin", "budget_day_start_hour": 2}');
SELECT pg_temp.at('2026-03-05 00:30:00+00') IS NOT NULL AS clock_set;
SELECT orchestrator.budget_day_start();
SELECT * FROM pg_temp.d(1, '{capped}');
SELECT pg_temp.at('2026-03-05 01:00:00+00') IS NOT NULL AS clock_set;
SELECT orchestrator.budget_day_start();
SELECT * FROM pg_temp.d(1, '{capped}');

-- budget_day_start() values, from 06:00 local time (Berlin: UTC+1, UTC+2 in summer).
SELECT budget_day_start_hour FROM orchestrator.configure('{"budget_day_start_hour": 6}');
SELECT at, orchestrator.budget_day_start(at)
  FROM unnest(ARRAY['2026-03-03 04:59:59+00', '2026-03-03 05:00:00+00',
                    -- 2026-03-29: 02:00 CET becomes 03:00 CEST; that budget day has 23 hours
                    '2026-03-29 03:59:59+00', '2026-03-29 04:00:00+00',
                    '2026-07-01 03:59:59+00', '2026-07-01 04:00:00+00',
                    -- 2026-10-25: 03:00 CEST becomes 02:00 CET; that budget day has 25 hours
                    '2026-10-25 04:59:59+00', '2026-10-25 05:00:00+00',
                    '2026-10-26 04:59:59+00', '2026-10-26 05:00:00+00']::timestamptz[]) at;
-- From 02:00: a time that does not exist on 2026-03-29 (the day starts when it would have, 03:00
-- CEST) and happens twice on 2026-10-25 (the day starts at the first; the second starts nothing).
SELECT budget_day_start_hour FROM orchestrator.configure('{"budget_day_start_hour": 2}');
SELECT at, orchestrator.budget_day_start(at)
  FROM unnest(ARRAY['2026-03-29 00:59:59+00', '2026-03-29 01:00:00+00',
                    '2026-10-24 23:59:59+00', '2026-10-25 00:30:00+00',
                    '2026-10-25 01:30:00+00']::timestamptz[]) at;
-- Another zone and hour: New York from 00:00 (UTC-5, UTC-4 from 2026-03-08).
SELECT time_zone, budget_day_start_hour
  FROM orchestrator.configure('{"time_zone": "America/New_York", "budget_day_start_hour": 0}');
SELECT at, orchestrator.budget_day_start(at)
  FROM unnest(ARRAY['2026-03-08 04:59:59+00', '2026-03-08 05:00:00+00',
                    '2026-03-09 03:59:59+00', '2026-03-09 04:00:00+00']::timestamptz[]) at;

RESET orchestrator.test_now;
DROP EXTENSION orchestrator;
