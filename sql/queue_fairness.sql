-- Weighted fair share between workflow types (stride scheduling, per backend): types with ready
-- work share dispatches by weight whatever their tasks' priorities; a type back from idle gets
-- no catch-up burst; a type whose oldest task has waited over 30 minutes is served first.
CREATE EXTENSION orchestrator;
-- This file is about the queue, not governance: lift the resource caps (20 connections,
-- 2048 MB) so that executions left running do not hold dispatch back.
SELECT (orchestrator.configure('{"max_db_connections": 100000, "max_memory_mb": 100000000}')).max_db_connections;

\i sql/helpers/error_of.sql

-- Enqueues n tasks of a type in one call; returns how many ids came back.
CREATE FUNCTION pg_temp.fill(type text, n int, priority int DEFAULT 5) RETURNS int
    LANGUAGE sql AS $$
    SELECT cardinality(orchestrator.enqueue_batch($1,
        (SELECT jsonb_agg(jsonb_build_object('i', i)) FROM generate_series(1, $2) i), $3))
$$;

-- Dispatches `calls` times with max_executions => 1 and records the type of each execution;
-- each execution is completed at once (no concurrency cap fills up). Returns the calls made.
CREATE TEMP TABLE picks (round text, seq int, workflow_type text);
CREATE FUNCTION pg_temp.run(round text, calls int) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    picked text;
    execution bigint;
BEGIN
    FOR i IN 1 .. calls LOOP
        picked := NULL;
        execution := NULL;
        SELECT e.workflow_type, e.execution_id INTO picked, execution
          FROM orchestrator.orchestrate_next_execution('fair-worker', 1) e;
        IF execution IS NOT NULL THEN
            PERFORM orchestrator.complete_execution(execution);
        END IF;
        INSERT INTO picks VALUES (round, i, coalesce(picked, '(none)'));
    END LOOP;
    RETURN calls;
END $$;

-- Each type's count, its target share of the round, and whether it is within 10% of it.
CREATE FUNCTION pg_temp.shares(round text, targets jsonb)
    RETURNS TABLE (workflow_type text, dispatched bigint, target numeric, within_10_percent boolean)
    LANGUAGE sql AS $$
    SELECT k.key, coalesce(c.n, 0), round(k.value::numeric * r.total, 1),
           abs(coalesce(c.n, 0) - k.value::numeric * r.total) <= 0.1 * k.value::numeric * r.total
      FROM jsonb_each_text($2) k
      CROSS JOIN (SELECT count(*) AS total FROM picks p WHERE p.round = $1) r
      LEFT JOIN (SELECT p.workflow_type, count(*) AS n FROM picks p WHERE p.round = $1
                  GROUP BY 1) c ON c.workflow_type = k.key
     ORDER BY k.key
$$;

SET orchestrator.test_now = '2026-01-05 10:00:00+00';

-- Weights 3:1, equal priorities, plenty of work for both: 1,000 dispatches split 750/250.
SELECT orchestrator.register_workflow_type('heavy', weight => 3) > 0 AS registered,
       orchestrator.register_workflow_type('light', weight => 1) > 0 AS registered;
SELECT pg_temp.fill('heavy', 1000) AS heavy, pg_temp.fill('light', 1000) AS light;
SELECT pg_temp.run('3:1', 1000);
SELECT * FROM pg_temp.shares('3:1', '{"heavy": 0.75, "light": 0.25}');
-- and the share holds over any stretch, not just in total: every 100 dispatches
SELECT min(n) AS min_heavy_per_100, max(n) AS max_heavy_per_100
  FROM (SELECT (seq - 1) / 100 AS block, count(*) FILTER (WHERE workflow_type = 'heavy') AS n
          FROM picks WHERE round = '3:1' GROUP BY 1) b;
SELECT orchestrator.cancel_tasks(workflow_type => 'heavy') AS cancelled_heavy,
       orchestrator.cancel_tasks(workflow_type => 'light') AS cancelled_light;

-- The share is by weight, not by priority: the light type's tasks all have priority 10, the
-- heavy type's priority 1.
SELECT pg_temp.fill('heavy', 500, 1) AS heavy, pg_temp.fill('light', 500, 10) AS light;
SELECT pg_temp.run('3:1 mixed priorities', 400);
SELECT * FROM pg_temp.shares('3:1 mixed priorities', '{"heavy": 0.75, "light": 0.25}');
SELECT orchestrator.cancel_tasks(workflow_type => 'heavy') AS cancelled_heavy,
       orchestrator.cancel_tasks(workflow_type => 'light') AS cancelled_light;

-- Three types, weights 5:3:2, over 1,000 dispatches.
SELECT orchestrator.register_workflow_type('five', weight => 5) > 0 AS registered,
       orchestrator.register_workflow_type('three', weight => 3) > 0 AS registered,
       orchestrator.register_workflow_type('two', weight => 2) > 0 AS registered;
SELECT pg_temp.fill('five', 1000) AS five, pg_temp.fill('three', 1000) AS three,
       pg_temp.fill('two', 1000) AS two;
SELECT pg_temp.run('5:3:2', 1000);
SELECT * FROM pg_temp.shares('5:3:2', '{"five": 0.5, "three": 0.3, "two": 0.2}');

-- A type runs out of work: the others take its share, nothing is dispatched for it.
SELECT orchestrator.cancel_tasks(workflow_type => 'two') AS cancelled_two;
SELECT pg_temp.run('5:3', 400);
SELECT * FROM pg_temp.shares('5:3', '{"five": 0.625, "three": 0.375}');
-- Back from idle it gets its share again, with no catch-up burst for the time it was away:
-- in its first 20 dispatches it gets its 20%, not all of them.
SELECT pg_temp.fill('two', 100) AS two;
SELECT pg_temp.run('two is back', 20);
SELECT * FROM pg_temp.shares('two is back', '{"five": 0.5, "three": 0.3, "two": 0.2}');
SELECT string_agg(left(workflow_type, 2), ' ' ORDER BY seq) AS first_20
  FROM picks WHERE round = 'two is back';
SELECT orchestrator.cancel_tasks(workflow_type => 'five') AS cancelled_five,
       orchestrator.cancel_tasks(workflow_type => 'three') AS cancelled_three,
       orchestrator.cancel_tasks(workflow_type => 'two') AS cancelled_two;

-- Starvation overrides the weights. 'big' (weight 1000) and 'small' (weight 1) each get one
-- dispatch, which puts small 1,000 big dispatches behind.
SELECT orchestrator.register_workflow_type('big', weight => 1000) > 0 AS registered,
       orchestrator.register_workflow_type('small', weight => 1) > 0 AS registered;
SET orchestrator.test_now = '2026-01-05 11:00:00+00';
SELECT pg_temp.fill('big', 1) AS big, pg_temp.fill('small', 1) AS small;
SELECT pg_temp.run('big and small', 2);
SELECT string_agg(workflow_type, ' ' ORDER BY seq) AS order FROM picks WHERE round = 'big and small';
SELECT pg_temp.fill('small', 1) AS small;
-- 30 minutes later small's task is not yet starving: big, with fresh work, goes first
SET orchestrator.test_now = '2026-01-05 11:30:00+00';
SELECT pg_temp.fill('big', 2) AS big;
SELECT pg_temp.run('at 30 min', 1);
SELECT workflow_type FROM picks WHERE round = 'at 30 min';
-- past 30 minutes it is, and small goes before big
SET orchestrator.test_now = '2026-01-05 11:30:01+00';
SELECT pg_temp.run('at 30 min 1 s', 2);
SELECT string_agg(workflow_type, ' ' ORDER BY seq) AS order FROM picks WHERE round = 'at 30 min 1 s';

-- Every dispatched task ran exactly once, in its own execution.
SELECT count(*) AS succeeded, count(DISTINCT execution_id) AS executions, max(attempts) AS max_attempts
  FROM orchestrator.task WHERE state = 'succeeded';
SELECT count(*) AS executions, count(*) FILTER (WHERE status = 'completed') AS completed
  FROM orchestrator.workflow_orchestration WHERE workflow_type <> 'orchestrator';

RESET orchestrator.test_now;
DROP EXTENSION orchestrator;
