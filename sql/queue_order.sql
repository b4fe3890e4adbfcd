-- Dispatch order on the test clock: score = priority x 10 + minutes waited since ready_at, +50
-- once a task has waited over 30 minutes; ties go to the longer wait, then the lower id. Also
-- run_after, the workflow_types filter, paused types, batch grouping and limited_by.
CREATE EXTENSION orchestrator;
-- This file is about the queue, not governance: lift the resource caps (20 connections,
-- 2048 MB) so that executions left running do not hold dispatch back.
SELECT (orchestrator.configure('{"max_db_connections": 100000, "max_memory_mb": 100000000}')).max_db_connections;

\i sql/helpers/error_of.sql

-- Enqueues a task whose payload is {"n": label}; returns the label.
CREATE FUNCTION pg_temp.add(type text, label text, priority int,
                            run_after timestamptz DEFAULT NULL) RETURNS text
    LANGUAGE plpgsql AS $$
BEGIN
    PERFORM orchestrator.enqueue(type, jsonb_build_object('n', label), priority,
                                 run_after => run_after);
    RETURN label;
END $$;

-- One dispatch call; one row per execution, in the order dispatched, with its tasks' labels
-- best first. Each execution is completed at once, so that no concurrency cap fills up.
CREATE FUNCTION pg_temp.dispatch(max_executions int DEFAULT 1, types text[] DEFAULT NULL)
    RETURNS TABLE (n bigint, workflow_type text, tasks text, batch_size int, limited_by text)
    LANGUAGE plpgsql AS $$
DECLARE
    e record;
BEGIN
    FOR e IN SELECT * FROM orchestrator.orchestrate_next_execution('worker-1', max_executions, types)
             WITH ORDINALITY x(execution_id, workflow_type, tasks, task_ids, batch_size, lease_expires_at,
                               model_tier, limited_by, webhook_url, n8n_workflow_id, parent_id, ord) LOOP
        PERFORM orchestrator.complete_execution(e.execution_id);
        n := e.ord;
        workflow_type := e.workflow_type;
        tasks := (SELECT string_agg(x.t -> 'payload' ->> 'n', ',' ORDER BY x.i)
                    FROM jsonb_array_elements(e.tasks) WITH ORDINALITY x(t, i));
        batch_size := e.batch_size;
        limited_by := e.limited_by;
        RETURN NEXT;
    END LOOP;
END $$;

SET orchestrator.test_now = '2026-01-05 10:00:00+00';
SELECT orchestrator.register_workflow_type('alpha') > 0 AS registered;

-- Nothing queued: no execution.
SELECT * FROM pg_temp.dispatch();

-- Priority: higher first; equal priority and ready_at: lower id (enqueue order) first.
SELECT pg_temp.add('alpha', 'a5', 5), pg_temp.add('alpha', 'b9', 9), pg_temp.add('alpha', 'c1', 1),
       pg_temp.add('alpha', 'd5', 5), pg_temp.add('alpha', 'e10', 10);
SELECT * FROM pg_temp.dispatch();
SELECT * FROM pg_temp.dispatch();
SELECT * FROM pg_temp.dispatch();
SELECT * FROM pg_temp.dispatch();
SELECT * FROM pg_temp.dispatch();
SELECT * FROM pg_temp.dispatch();

-- Aging below the step: priority 5 after 20 min (70) beats a fresh priority 6 (60) ...
SET orchestrator.test_now = '2026-01-05 10:00:00+00';
SELECT pg_temp.add('alpha', 'p5_old', 5);
SET orchestrator.test_now = '2026-01-05 10:20:00+00';
SELECT pg_temp.add('alpha', 'p6_fresh', 6);
SELECT * FROM pg_temp.dispatch();
SELECT * FROM pg_temp.dispatch();
-- ... but priority 5 after 5 min (55) loses to a fresh priority 6 (60).
SET orchestrator.test_now = '2026-01-05 10:30:00+00';
SELECT pg_temp.add('alpha', 'p5_5min', 5);
SET orchestrator.test_now = '2026-01-05 10:35:00+00';
SELECT pg_temp.add('alpha', 'p6_fresh', 6);
SELECT * FROM pg_temp.dispatch();
SELECT * FROM pg_temp.dispatch();

-- The 30-minute step. Priority 3 after 29 min (59) loses to a fresh priority 8 (80).
SET orchestrator.test_now = '2026-01-05 11:00:00+00';
SELECT pg_temp.add('alpha', 'p3_29min', 3);
SET orchestrator.test_now = '2026-01-05 11:29:00+00';
SELECT pg_temp.add('alpha', 'p8_fresh', 8);
SELECT * FROM pg_temp.dispatch();
SELECT * FROM pg_temp.dispatch();
-- Exactly 30 min is not yet "over 30 minutes" (60 < 80).
SET orchestrator.test_now = '2026-01-05 12:00:00+00';
SELECT pg_temp.add('alpha', 'p3_30min', 3);
SET orchestrator.test_now = '2026-01-05 12:30:00+00';
SELECT pg_temp.add('alpha', 'p8_fresh', 8);
SELECT * FROM pg_temp.dispatch();
SELECT * FROM pg_temp.dispatch();
-- One second later it is (30 + 30.02 + 50 = 110.02 > 80).
SET orchestrator.test_now = '2026-01-05 13:00:00+00';
SELECT pg_temp.add('alpha', 'p3_30min1s', 3);
SET orchestrator.test_now = '2026-01-05 13:30:01+00';
SELECT pg_temp.add('alpha', 'p8_fresh', 8);
SELECT * FROM pg_temp.dispatch();
SELECT * FROM pg_temp.dispatch();
-- Priority 3 after 31 min (111) beats a fresh priority 8 (80), and even a fresh 10 (100).
SET orchestrator.test_now = '2026-01-05 14:00:00+00';
SELECT pg_temp.add('alpha', 'p3_31min', 3);
SET orchestrator.test_now = '2026-01-05 14:31:00+00';
SELECT pg_temp.add('alpha', 'p8_fresh', 8), pg_temp.add('alpha', 'p10_fresh', 10);
SELECT * FROM pg_temp.dispatch();
SELECT * FROM pg_temp.dispatch();
SELECT * FROM pg_temp.dispatch();

-- Ties: priority 4 after 10 min and a fresh priority 5 both score 50: the longer wait goes first,
-- whatever the enqueue order.
SET orchestrator.test_now = '2026-01-05 15:00:00+00';
SELECT pg_temp.add('alpha', 'p4_10min', 4);
SET orchestrator.test_now = '2026-01-05 15:10:00+00';
SELECT pg_temp.add('alpha', 'p5_fresh', 5);
SELECT * FROM pg_temp.dispatch();
SELECT * FROM pg_temp.dispatch();

-- run_after in the future: not dispatched until due, then aged from that time (not from enqueue).
SET orchestrator.test_now = '2026-01-05 16:00:00+00';
SELECT pg_temp.add('alpha', 'later', 7, run_after => '2026-01-05 16:10:00+00');
SELECT pg_temp.add('alpha', 'past_run_after', 1, run_after => '2026-01-05 15:00:00+00');
SELECT t.payload ->> 'n' AS task, t.ready_at - orchestrator.now() AS ready_in
  FROM orchestrator.task t WHERE t.state = 'queued' ORDER BY t.id;
-- a run_after in the past means now
SELECT * FROM pg_temp.dispatch();
SELECT * FROM pg_temp.dispatch();
SET orchestrator.test_now = '2026-01-05 16:09:59+00';
SELECT * FROM pg_temp.dispatch();
SET orchestrator.test_now = '2026-01-05 16:10:00+00';
SELECT pg_temp.add('alpha', 'p7_fresh', 7);
-- due now: ready_at 16:10, so it ties with a fresh priority 7 and wins on id
SELECT * FROM pg_temp.dispatch();
SELECT * FROM pg_temp.dispatch();

-- Every task was dispatched once, on its first attempt, in its own execution (and completed).
SELECT count(*) AS succeeded, count(*) FILTER (WHERE attempts = 1) AS first_attempt,
       count(DISTINCT execution_id) AS executions, count(dispatched_at) AS dispatched
  FROM orchestrator.task WHERE state = 'succeeded';
SELECT count(*) AS queued FROM orchestrator.task WHERE state = 'queued';

-- What a dispatch row carries: the lease (the type's lease_timeout), the model tier, the type's
-- webhook and n8n id, and the pass (an 'orchestrator' execution) as parent.
SELECT orchestrator.register_workflow_type('hooked', webhook_url => 'https://n8n.example/webhook/x',
                                           n8n_workflow_id => 'wf-42', lease_timeout => '90 seconds') > 0 AS registered;
SELECT pg_temp.add('hooked', 'h1', 5);
CREATE TEMP TABLE hooked AS SELECT * FROM orchestrator.orchestrate_next_execution('worker-9');
SELECT e.workflow_type, e.batch_size, e.lease_expires_at - orchestrator.now() AS lease,
       e.model_tier, e.limited_by, e.webhook_url, e.n8n_workflow_id
  FROM hooked e;
SELECT jsonb_array_length(e.tasks) AS tasks, e.tasks -> 0 -> 'payload' AS payload,
       e.tasks -> 0 -> 'priority' AS priority, e.tasks -> 0 -> 'attempt' AS attempt,
       (e.tasks -> 0 ->> 'task_id')::bigint = e.task_ids[1] AS task_id_matches
  FROM hooked e;
SELECT p.workflow_type AS parent_type, p.status AS parent_status, p.worker_id AS parent_worker,
       x.parent_id = p.id AS execution_row_parent, x.workflow_type, x.status AS execution_status,
       x.worker_id, x.task_ids = e.task_ids AS execution_task_ids, x.batch_size,
       x.lease_expires_at = e.lease_expires_at AS same_lease, x.model_tier, x.limited_by,
       t.state AS task_state, t.execution_id = x.id AS task_execution
  FROM hooked e
  JOIN orchestrator.workflow_orchestration p ON p.id = e.parent_id
  JOIN orchestrator.workflow_orchestration x ON x.id = e.execution_id
  JOIN orchestrator.task t ON t.id = e.task_ids[1];

-- workflow_types filter: only the listed types are dispatched.
SELECT orchestrator.register_workflow_type('beta') > 0 AS registered;
SET orchestrator.test_now = '2026-01-05 17:00:00+00';
SELECT pg_temp.add('alpha', 'alpha_1', 10), pg_temp.add('beta', 'beta_1', 1);
SELECT * FROM pg_temp.dispatch(5, ARRAY['beta']);
SELECT * FROM pg_temp.dispatch(5, ARRAY['beta']);
SELECT * FROM pg_temp.dispatch(5, ARRAY['nosuchtype']);
SELECT * FROM pg_temp.dispatch(5, '{}');
SELECT * FROM pg_temp.dispatch(5, ARRAY['beta', 'alpha']);

-- Paused types keep accepting tasks but are not dispatched, even when named in the filter.
SELECT orchestrator.pause_workflow_type('alpha');
SELECT pg_temp.add('alpha', 'alpha_paused', 10), pg_temp.add('beta', 'beta_2', 1);
SELECT * FROM pg_temp.dispatch(5);
SELECT * FROM pg_temp.dispatch(5, ARRAY['alpha']);
SELECT status, details ->> 'queued' AS queued FROM orchestrator.get_system_health()
 WHERE component = 'workflow_type:alpha';
SELECT orchestrator.resume_workflow_type('alpha');
SELECT * FROM pg_temp.dispatch(5);

-- One call may dispatch several executions; they share one pass as parent.
SELECT pg_temp.add('alpha', 'm1', 5), pg_temp.add('alpha', 'm2', 5), pg_temp.add('alpha', 'm3', 5);
SELECT count(*) AS executions, count(DISTINCT e.parent_id) AS passes,
       string_agg(e.tasks -> 0 -> 'payload' ->> 'n', ',' ORDER BY e.tasks -> 0 -> 'payload' ->> 'n') AS tasks
  FROM orchestrator.orchestrate_next_execution('worker-1', 10) e;
-- max_executions caps the executions of one call.
SELECT pg_temp.add('alpha', 'm4', 5), pg_temp.add('alpha', 'm5', 5), pg_temp.add('alpha', 'm6', 5);
SELECT * FROM pg_temp.dispatch(2);
SELECT * FROM pg_temp.dispatch(2);
-- the default lease is 5 minutes
SELECT DISTINCT lease_expires_at - started_at AS lease FROM orchestrator.workflow_orchestration
 WHERE workflow_type = 'alpha';

-- Batches: up to batch_max tasks per execution, best first; limited_by tells why it stopped.
SET orchestrator.test_now = '2026-01-05 18:00:00+00';
SELECT orchestrator.register_workflow_type('gamma', batch_max => 3) > 0 AS registered;
SELECT pg_temp.add('gamma', 'g2', 2), pg_temp.add('gamma', 'g9', 9), pg_temp.add('gamma', 'g5a', 5),
       pg_temp.add('gamma', 'g7', 7), pg_temp.add('gamma', 'g5b', 5);
SELECT * FROM pg_temp.dispatch();
SELECT * FROM pg_temp.dispatch();
SELECT * FROM pg_temp.dispatch();
-- the batch merges the levels by score: an aged priority 2 (20 + 31 + 50) before a fresh 10
SELECT pg_temp.add('gamma', 'g2_aged', 2);
SET orchestrator.test_now = '2026-01-05 18:31:00+00';
SELECT pg_temp.add('gamma', 'g10', 10), pg_temp.add('gamma', 'g1', 1), pg_temp.add('gamma', 'g6', 6);
SELECT * FROM pg_temp.dispatch(3);

-- batch_min: fewer ready tasks than batch_min are held back ...
SET orchestrator.test_now = '2026-01-05 19:00:00+00';
SELECT orchestrator.register_workflow_type('delta', batch_min => 3, batch_max => 4) > 0 AS registered;
SELECT pg_temp.add('delta', 'd1', 5), pg_temp.add('delta', 'd2', 5);
SELECT * FROM pg_temp.dispatch(5, ARRAY['delta']);
-- ... until there are enough
SELECT pg_temp.add('delta', 'd3', 5);
SELECT * FROM pg_temp.dispatch(5, ARRAY['delta']);
SELECT pg_temp.add('delta', 'd4', 5), pg_temp.add('delta', 'd5', 5), pg_temp.add('delta', 'd6', 5),
       pg_temp.add('delta', 'd7', 5), pg_temp.add('delta', 'd8', 5);
SELECT * FROM pg_temp.dispatch(5, ARRAY['delta']);
-- ... or until the oldest has waited over 30 minutes (starving): then a short batch goes.
SET orchestrator.test_now = '2026-01-05 19:30:00+00';
SELECT * FROM pg_temp.dispatch(5, ARRAY['delta']);
SET orchestrator.test_now = '2026-01-05 19:30:01+00';
SELECT * FROM pg_temp.dispatch(5, ARRAY['delta']);
SELECT count(*) AS left_queued FROM orchestrator.task WHERE state = 'queued';

RESET orchestrator.test_now;
DROP EXTENSION orchestrator;
