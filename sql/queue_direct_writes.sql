-- Direct writes (docs/architecture.md, "Direct writes"): enqueue, the claim, the execution's
-- record and the callbacks read and write task and execution rows without statements. Their
-- index entries must be exactly those an INSERT or UPDATE would make. amcheck verifies it: every
-- row version is in every b-tree index that should hold it (heapallindexed), predicates and
-- expressions included, after a workload through every direct path in one backend, and after an
-- index (with an expression and a predicate) appears and goes away under that backend, which
-- has the other indexes' descriptions cached by then.
CREATE EXTENSION orchestrator;
CREATE EXTENSION amcheck;
SELECT (orchestrator.configure('{"max_db_connections": 100000, "max_memory_mb": 100000000}')).max_db_connections;
SET orchestrator.test_now = '2026-01-05 10:00:00+00';
SELECT orchestrator.register_workflow_type('w', batch_max => 3, lease_timeout => '1 minute') > 0 AS registered;

-- Every b-tree index of the two tables, checked against every row version.
CREATE FUNCTION pg_temp.check_indexes() RETURNS TABLE (index name, checked boolean)
    LANGUAGE sql AS $$
    SELECT c.relname, bt_index_check(c.oid, true)::text = ''
      FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
     WHERE i.indrelid IN ('orchestrator.task'::regclass, 'orchestrator.workflow_orchestration'::regclass)
       AND a.amname = 'btree'
     ORDER BY 1
$$;

-- One round: 6 tasks one by one over several priorities and 6 in a batch, all dispatched in
-- executions of up to 3 within the same statement as their callbacks (each callback sees the
-- dispatch's writes): even executions complete, odd ones fail and their tasks are retried.
CREATE FUNCTION pg_temp.round(r int) RETURNS TABLE (enqueued bigint, executions bigint, completed bigint)
    LANGUAGE plpgsql AS $$
BEGIN
    enqueued := (SELECT count(orchestrator.enqueue('w', jsonb_build_object('i', r * 100 + i), 1 + i % 10))
                   FROM generate_series(1, 6) i)
                + cardinality(orchestrator.enqueue_batch('w',
                      (SELECT jsonb_agg(jsonb_build_object('b', r * 100 + i)) FROM generate_series(1, 6) i), 7));
    SELECT count(*), count(*) FILTER (WHERE s = 'completed') INTO executions, completed
      FROM (SELECT CASE WHEN e.execution_id % 2 = 0 THEN orchestrator.complete_execution(e.execution_id)
                        ELSE orchestrator.fail_execution(e.execution_id, 'boom') END AS s
              FROM orchestrator.orchestrate_next_execution('w1', 100) e) x;
    RETURN NEXT;
END $$;

SELECT * FROM pg_temp.round(1);
SELECT * FROM pg_temp.check_indexes();

-- An index with an expression and a predicate appears under this backend.
CREATE INDEX task_payload_i ON orchestrator.task ((payload ->> 'i')) WHERE priority > 5;
SET orchestrator.test_now = '2026-01-05 10:30:00+00'; -- the retries are due
SELECT * FROM pg_temp.round(2);
-- An execution that expires: its end and its task's retry are written by the expiry.
SELECT orchestrator.enqueue('w', '{"i": 999}', 9) > 0 AS enqueued;
SELECT count(*) AS dispatched FROM orchestrator.orchestrate_next_execution('w1', 100);
SET orchestrator.test_now = '2026-01-05 10:32:00+00';
SELECT orchestrator.expire_executions() >= 1 AS expired;
SELECT * FROM pg_temp.check_indexes();
-- The new index answers as a scan of the table does.
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM orchestrator.task WHERE payload ->> 'i' > '' AND priority > 5;
SELECT count(*) AS by_index FROM orchestrator.task WHERE payload ->> 'i' > '' AND priority > 5;
RESET enable_seqscan;
RESET enable_bitmapscan;
SELECT count(*) AS by_table FROM orchestrator.task WHERE (payload ->> 'i') > '' AND priority + 0 > 5;

-- It goes away again: the writes no longer touch it.
DROP INDEX orchestrator.task_payload_i;
SET orchestrator.test_now = '2026-01-05 11:30:00+00';
SELECT * FROM pg_temp.round(3);
SELECT * FROM pg_temp.check_indexes();

-- A payload stored out of line (TOAST) is handed out whole by the dispatch, which copies it
-- before the task's new version is written, and keeps it through that version and the next.
SELECT orchestrator.enqueue('w', jsonb_build_object('big', (SELECT string_agg(md5(i::text), '')
                                                            FROM generate_series(1, 3000) i)), 10)
       AS big \gset
SELECT e.execution_id AS big_execution, md5(e.tasks -> 0 -> 'payload' ->> 'big') =
       md5((SELECT string_agg(md5(i::text), '') FROM generate_series(1, 3000) i)) AS handed_out_whole
  FROM orchestrator.orchestrate_next_execution('w1', 1) e \gset
SELECT :'handed_out_whole' AS handed_out_whole;
SELECT orchestrator.complete_execution(:big_execution);
SELECT state, pg_column_size(payload) > 2000 AS out_of_line_size,
       md5(payload ->> 'big') = md5((SELECT string_agg(md5(i::text), '') FROM generate_series(1, 3000) i)) AS kept
  FROM orchestrator.task WHERE id = :big;
SELECT * FROM pg_temp.check_indexes();

-- Every task and execution is accounted for: 38 tasks enqueued, each succeeded, dead-lettered
-- after its third failure or queued for a retry (none running, none lost); every execution
-- finished (15 completed: 10 executions and the 5 passes).
SELECT status, count(*) FROM orchestrator.workflow_orchestration GROUP BY 1 ORDER BY 1;
SELECT state, count(*) FROM orchestrator.task GROUP BY 1 ORDER BY 1;

-- Two columns of one type swap names under this backend, which has every column's position
-- remembered by then: the writes follow the names, not the positions they had.
BEGIN;
ALTER TABLE orchestrator.task RENAME COLUMN dispatched_at TO swapping;
ALTER TABLE orchestrator.task RENAME COLUMN stale_at TO dispatched_at;
ALTER TABLE orchestrator.task RENAME COLUMN swapping TO stale_at;
SELECT orchestrator.enqueue('w', '{"i": 1000}', 10) AS swapped \gset
SELECT count(*) AS dispatched FROM orchestrator.orchestrate_next_execution('w1', 1);
SELECT state, dispatched_at = '2026-01-05 11:30:00+00' AS dispatched_at_set, stale_at IS NULL AS no_stale_at
  FROM orchestrator.task WHERE id = :swapped;
ROLLBACK;

-- The dispatch writes the task list in jsonb's stored form itself: byte for byte what
-- PostgreSQL makes of the same values (record_image_eq compares stored bytes), for payloads of every
-- kind (objects, arrays, bare scalars) and for more than 32 tasks (every 32nd entry of a jsonb
-- container holds an offset, not a length).
BEGIN;
SELECT orchestrator.register_workflow_type('many', batch_max => 40) > 0 AS registered;
SELECT cardinality(orchestrator.enqueue_batch('many', (SELECT jsonb_agg(p ORDER BY k) FROM (
           SELECT i AS k, jsonb_build_object('i', i, 'nested', jsonb_build_object(
                      'n', i * 1.5, 'list', jsonb_build_array(i, repeat('x', i), null, i % 2 = 0))) AS p
             FROM generate_series(1, 30) i
           UNION ALL
           SELECT 30 + k, p FROM unnest(ARRAY['"text"', '12.50', 'true', 'false', 'null', '{}', '[]',
                                              '[1, "two", {"three": 3}]', '-7']::jsonb[])
                                 WITH ORDINALITY u(p, k)) q), 4)) AS enqueued;
CREATE TEMP TABLE handed_out AS
    SELECT * FROM orchestrator.orchestrate_next_execution('w1', 1, ARRAY['many']);
SELECT e.batch_size, jsonb_array_length(e.tasks) AS handed_out,
       record_image_eq(ROW(e.tasks), ROW((SELECT jsonb_agg(jsonb_build_object(
                                                  'task_id', t.id, 'payload', t.payload,
                                                  'priority', t.priority, 'attempt', t.attempts)
                                              ORDER BY u.o)
                                            FROM unnest(e.task_ids) WITH ORDINALITY u(id, o)
                                            JOIN orchestrator.task t ON t.id = u.id))) AS same_bytes,
       e.tasks -> 32 AS thirty_third, e.tasks -> 38 -> 'payload' AS last_payload
  FROM handed_out e;
ROLLBACK;

-- The completion finds each task where the dispatch recorded its running version
-- (task_versions), reading no index for it: the primary key is not scanned.
BEGIN;
SELECT orchestrator.register_workflow_type('hinted', batch_max => 3) > 0 AS registered;
SELECT cardinality(orchestrator.enqueue_batch('hinted', '[{"h": 1}, {"h": 2}, {"h": 3}]', 2)) AS enqueued;
SELECT execution_id AS hinted FROM orchestrator.orchestrate_next_execution('w1', 1, ARRAY['hinted']) \gset
SELECT cardinality(e.task_versions) AS recorded,
       e.task_versions = (SELECT array_agg(t.ctid ORDER BY u.o)
                            FROM unnest(e.task_ids) WITH ORDINALITY u(id, o)
                            JOIN orchestrator.task t ON t.id = u.id) AS where_they_are
  FROM orchestrator.workflow_orchestration e WHERE e.id = :hinted;
SELECT pg_stat_get_xact_numscans('orchestrator.task_pkey'::regclass) AS scans_before \gset
SELECT orchestrator.complete_execution(:hinted);
SELECT pg_stat_get_xact_numscans('orchestrator.task_pkey'::regclass) - :scans_before AS key_lookups;
SELECT state, count(*) FROM orchestrator.task WHERE execution_id = :hinted GROUP BY 1;
ROLLBACK;

-- A recorded place that no longer holds the task's visible version sends the completion to the
-- primary key, with the same outcome: a task changed since the dispatch (its version moved), a
-- place holding another task's version, one past the table's end, an invalid one, none at all.
BEGIN;
SELECT orchestrator.register_workflow_type('hinted', batch_max => 4) > 0 AS registered;
SELECT cardinality(orchestrator.enqueue_batch('hinted', '[{"h": 1}, {"h": 2}, {"h": 3}, {"h": 4}]', 2)) AS enqueued;
SELECT execution_id AS misled, task_ids AS misled_tasks
  FROM orchestrator.orchestrate_next_execution('w1', 1, ARRAY['hinted']) \gset
UPDATE orchestrator.task SET last_error = 'changed after the dispatch' WHERE id = (:'misled_tasks'::bigint[])[1];
UPDATE orchestrator.workflow_orchestration
   SET task_versions = ARRAY[task_versions[1], task_versions[3], '(4294967294,1)', '(0,0)']::tid[]
 WHERE id = :misled;
SELECT pg_stat_get_xact_numscans('orchestrator.task_pkey'::regclass) AS scans_before \gset
SELECT orchestrator.complete_execution(:misled);
SELECT pg_stat_get_xact_numscans('orchestrator.task_pkey'::regclass) - :scans_before AS key_lookups;
SELECT state, count(*) FROM orchestrator.task WHERE execution_id = :misled GROUP BY 1;
SELECT orchestrator.enqueue('hinted', '{"h": 5}', 2) > 0 AS enqueued;
SELECT execution_id AS unrecorded FROM orchestrator.orchestrate_next_execution('w1', 1, ARRAY['hinted']) \gset
UPDATE orchestrator.workflow_orchestration SET task_versions = NULL WHERE id = :unrecorded;
SELECT orchestrator.complete_execution(:unrecorded);
SELECT state FROM orchestrator.task WHERE execution_id = :unrecorded;
ROLLBACK;

-- An exclusion constraint added to a table is checked by these writes as a statement's would
-- check it (here: one running execution per worker).
CREATE EXTENSION btree_gist;
BEGIN;
ALTER TABLE orchestrator.workflow_orchestration
    ADD CONSTRAINT one_per_worker EXCLUDE USING gist (worker_id WITH =) WHERE (status = 'running');
SELECT cardinality(orchestrator.enqueue_batch('w', '[{"x": 1}, {"x": 2}, {"x": 3}, {"x": 4}]', 3)) AS enqueued;
SELECT batch_size FROM orchestrator.orchestrate_next_execution('solo', 1);
SELECT batch_size FROM orchestrator.orchestrate_next_execution('solo', 1);
ROLLBACK;
DROP EXTENSION btree_gist;

RESET orchestrator.test_now;
DROP EXTENSION orchestrator;
DROP EXTENSION amcheck;
