-- The dispatcher finds work by index, never by scanning or sorting the queue: claim cost must
-- not grow with queue depth. The claim itself is no statement: it walks task_ready directly in
-- index order (lock_queued in src/functions/dispatch.cpp, through pg/table_writer), so it has no
-- plan to show, and the second half of this test checks it, with every real dispatch statement,
-- through the backend's scan counters. The statement below is a copy of heads_statement in
-- dispatch.cpp, with the same parameter types, parsed with the same search_path (pg_catalog,
-- pg_temp) and planned generically, as the server caches it.
--
-- KEEP IT IDENTICAL TO dispatch.cpp: when the statement there changes, change it here too (SQL
-- cannot read the C++ source, so this test cannot notice the drift by itself).
CREATE EXTENSION orchestrator;
-- This file is about the queue, not governance: lift the resource caps (20 connections,
-- 2048 MB) so that executions left running do not hold dispatch back.
SELECT (orchestrator.configure('{"max_db_connections": 100000, "max_memory_mb": 100000000}')).max_db_connections;

\i sql/helpers/error_of.sql

-- A queue of 20,000 ready tasks over four types and ten priorities, and 5,000 finished ones.
SET orchestrator.test_now = '2026-01-05 10:00:00+00';
SELECT count(orchestrator.register_workflow_type(name, batch_max => 10)) AS types
  FROM unnest(ARRAY['t1', 't2', 't3', 't4']) name;
DO $$
BEGIN
    FOR minute IN 0 .. 49 LOOP
        PERFORM set_config('orchestrator.test_now',
                           (timestamptz '2026-01-05 09:00:00+00' + minute * interval '1 minute')::text, false);
        FOR type_no IN 1 .. 4 LOOP
            FOR priority IN 1 .. 10 LOOP
                PERFORM orchestrator.enqueue_batch('t' || type_no,
                    (SELECT jsonb_agg(jsonb_build_object('m', minute, 'i', i)) FROM generate_series(1, 10) i),
                    priority);
            END LOOP;
        END LOOP;
    END LOOP;
END $$;
SET orchestrator.test_now = '2026-01-05 10:00:00+00';
-- and 5,000 of another type that ran already (set directly: only the history matters here)
SELECT orchestrator.register_workflow_type('t0') > 0 AS registered;
SELECT cardinality(orchestrator.enqueue_batch('t0',
           (SELECT jsonb_agg(jsonb_build_object('i', i)) FROM generate_series(1, 5000) i))) AS enqueued;
UPDATE orchestrator.task t SET state = 'succeeded', finished_at = orchestrator.now()
  FROM orchestrator.workflow_type w WHERE w.id = t.workflow_type_id AND w.name = 't0';
SELECT w.name, w.id, t.state, count(*) FROM orchestrator.task t
  JOIN orchestrator.workflow_type w ON w.id = t.workflow_type_id GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;
ANALYZE orchestrator.task;

SET search_path = pg_catalog, pg_temp;
SET plan_cache_mode = force_generic_plan;

-- heads_statement: ($1 int4[], $2 int4[], $3 timestamptz[], $4 timestamptz): each (type,
-- priority) level from its ready floor (here none yet: -infinity)
PREPARE heads(integer[], integer[], timestamptz[], timestamptz) AS
SELECT l.type_id, l.priority, h.ready_at
  FROM unnest($1::integer[], $2::integer[], $3::timestamptz[]) l(type_id, priority, floor)
 CROSS JOIN LATERAL (SELECT t.ready_at FROM orchestrator.task t
                      WHERE t.workflow_type_id = l.type_id AND t.priority = l.priority
                        AND t.state = 'queued' AND t.ready_at >= l.floor AND t.ready_at <= $4
                      ORDER BY t.ready_at LIMIT 1) h;
SELECT array_agg(t ORDER BY t, p) AS types, array_agg(p ORDER BY t, p) AS priorities,
       array_agg(timestamptz '-infinity') AS floors
  FROM generate_series(1, 4) t, generate_series(1, 10) p \gset

EXPLAIN (COSTS OFF)
EXECUTE heads(:'types', :'priorities', :'floors', '2026-01-05 10:00:00+00');

-- The same, as a check that does not depend on the plan's layout: every scan of task is an
-- index scan on task_ready, and there is no Sort anywhere.
CREATE FUNCTION pg_temp.plan_nodes(statement text)
    RETURNS TABLE (index_scans_on_task_ready bigint, other_scans_of_task bigint, sorts bigint)
    LANGUAGE plpgsql AS $$
DECLARE
    plan jsonb;
BEGIN
    EXECUTE 'EXPLAIN (COSTS OFF, FORMAT JSON) ' || statement INTO plan;
    RETURN QUERY
    WITH RECURSIVE node(n) AS (
        SELECT plan -> 0 -> 'Plan'
        UNION ALL
        SELECT c FROM node, jsonb_array_elements(node.n -> 'Plans') c
    )
    SELECT count(*) FILTER (WHERE n ->> 'Relation Name' = 'task' AND n ->> 'Index Name' = 'task_ready'
                              AND n ->> 'Node Type' IN ('Index Scan', 'Index Only Scan')),
           count(*) FILTER (WHERE n ->> 'Relation Name' = 'task'
                              AND coalesce(n ->> 'Index Name', '') <> 'task_ready'),
           count(*) FILTER (WHERE n ->> 'Node Type' IN ('Sort', 'Incremental Sort'))
      FROM node;
END $$;
SELECT * FROM pg_temp.plan_nodes(format('EXECUTE heads(%L, %L, %L, %L)', :'types', :'priorities',
                                         :'floors', '2026-01-05 10:00:00+00'));

RESET plan_cache_mode;
RESET search_path;
DEALLOCATE heads;

-- The real statements: 30 dispatch calls (120 executions of 10 tasks) scan task only by index.
-- The backend's scan counters, read around each dispatch call (in one transaction, so they are
-- not flushed meanwhile), show no sequential scan of task at all. Each execution is completed
-- between calls, outside the measurement, so that no concurrency cap fills up.
CREATE TEMP TABLE measured (call int, executions int, tasks int, full_batches boolean,
                            seq_scans bigint, task_ready_scans bigint);
BEGIN;
DO $$
DECLARE
    seq0 bigint; ready0 bigint;
    ids bigint[]; sizes int[];
BEGIN
    FOR call_no IN 1 .. 30 LOOP
        seq0 := pg_stat_get_xact_numscans('orchestrator.task'::regclass);
        ready0 := pg_stat_get_xact_numscans('orchestrator.task_ready'::regclass);
        SELECT array_agg(e.execution_id), array_agg(e.batch_size) INTO ids, sizes
          FROM orchestrator.orchestrate_next_execution('plan-worker', 4) e;
        INSERT INTO measured VALUES (call_no, cardinality(ids),
            (SELECT sum(s) FROM unnest(sizes) s), (SELECT bool_and(s = 10) FROM unnest(sizes) s),
            pg_stat_get_xact_numscans('orchestrator.task'::regclass) - seq0,
            pg_stat_get_xact_numscans('orchestrator.task_ready'::regclass) - ready0);
        PERFORM orchestrator.complete_execution(id) FROM unnest(ids) id;
    END LOOP;
END $$;
COMMIT;
SELECT sum(executions) AS executions, sum(tasks) AS tasks, bool_and(full_batches) AS full_batches,
       sum(seq_scans) AS sequential_scans_of_task, bool_and(task_ready_scans > 0) AS used_task_ready
  FROM measured;
-- the dispatched tasks were each type's 300 best by score (10 x priority + minutes waited, +50
-- over 30 minutes; ties: longer wait, then lower id)
WITH ranked AS (
    SELECT t.workflow_type_id, t.state,
           row_number() OVER (PARTITION BY t.workflow_type_id
                              ORDER BY 10 * t.priority + extract(epoch FROM orchestrator.now() - t.ready_at) / 60
                                       + CASE WHEN orchestrator.now() - t.ready_at > interval '30 minutes' THEN 50 ELSE 0 END DESC,
                                       t.ready_at, t.id) AS rank
      FROM orchestrator.task t JOIN orchestrator.workflow_type w ON w.id = t.workflow_type_id
     WHERE t.state IN ('queued', 'succeeded') AND w.name <> 't0')
SELECT w.name, count(*) FILTER (WHERE r.state = 'succeeded') AS dispatched,
       count(*) FILTER (WHERE r.state = 'succeeded' AND r.rank <= 300) AS among_best_300
  FROM ranked r JOIN orchestrator.workflow_type w ON w.id = r.workflow_type_id GROUP BY 1 ORDER BY 1;

-- A bulk enqueue's tasks share one ready_at. task_ready keeps an entry per task (no
-- deduplication into posting lists, which a full leaf page would otherwise get), so the entry
-- of a claimed task is marked dead by the next scan that passes it and skipped from then on:
-- 30 dispatches of one task each, each its own transaction, from 1,000 such tasks read about
-- two entries each (the task claimed just before and the one they claim), not every task
-- claimed so far (about 465 in all).
SELECT orchestrator.register_workflow_type('bulk', batch_max => 1) > 0 AS registered;
SELECT cardinality(orchestrator.enqueue_batch('bulk',
           (SELECT jsonb_agg(jsonb_build_object('i', i)) FROM generate_series(1, 1000) i))) AS enqueued;
SELECT pg_stat_force_next_flush();
SELECT pg_stat_get_tuples_returned('orchestrator.task_ready'::regclass) AS entries_before \gset
DO $$
BEGIN
    FOR call_no IN 1 .. 30 LOOP
        PERFORM orchestrator.complete_execution(e.execution_id)
           FROM orchestrator.orchestrate_next_execution('bulk-worker', 1, ARRAY['bulk']) e;
        COMMIT;
    END LOOP;
END $$;
SELECT pg_stat_force_next_flush();
SELECT count(*) FILTER (WHERE t.state = 'succeeded') AS dispatched,
       pg_stat_get_tuples_returned('orchestrator.task_ready'::regclass) - :entries_before
           BETWEEN 30 AND 100 AS few_entries_read
  FROM orchestrator.task t JOIN orchestrator.workflow_type w ON w.id = t.workflow_type_id
 WHERE w.name = 'bulk';

RESET orchestrator.test_now;
DROP EXTENSION orchestrator;
