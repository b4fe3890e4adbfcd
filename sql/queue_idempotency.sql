-- Idempotency keys: enqueueing the same key again returns the first task's id and adds nothing
-- (enqueue and enqueue_batch alike); keys are per workflow type; enqueue_batch returns the ids
-- in input order.
CREATE EXTENSION orchestrator;
-- This file is about the queue, not governance: lift the resource caps (20 connections,
-- 2048 MB) so that executions left running do not hold dispatch back.
SELECT (orchestrator.configure('{"max_db_connections": 100000, "max_memory_mb": 100000000}')).max_db_connections;

\i sql/helpers/error_of.sql

-- The payload label of each id, in the array's order.
CREATE FUNCTION pg_temp.labels(ids bigint[]) RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(coalesce(t.payload ->> 'n', '?'), ',' ORDER BY i.ord)
      FROM unnest($1) WITH ORDINALITY i(id, ord)
      LEFT JOIN orchestrator.task t ON t.id = i.id
$$;

SET orchestrator.test_now = '2026-01-05 10:00:00+00';
SELECT orchestrator.register_workflow_type('mail') > 0 AS registered,
       orchestrator.register_workflow_type('sms') > 0 AS registered;

-- enqueue: the same key returns the first id; the second payload and priority are ignored.
SELECT orchestrator.enqueue('mail', '{"n": "first"}', 5, idempotency_key => 'order-1') AS first_id \gset
SELECT orchestrator.enqueue('mail', '{"n": "second"}', 9, idempotency_key => 'order-1') = :first_id AS same_id;
SELECT orchestrator.enqueue('mail', '{"n": "third"}', idempotency_key => 'order-1') = :first_id AS same_id;
SELECT count(*) AS tasks, min(payload ->> 'n') AS payload, min(priority) AS priority
  FROM orchestrator.task WHERE idempotency_key = 'order-1';
-- without a key every call adds a task
SELECT orchestrator.enqueue('mail', '{"n": "nokey"}') <> orchestrator.enqueue('mail', '{"n": "nokey"}') AS different_ids;
SELECT count(*) AS nokey_tasks FROM orchestrator.task WHERE payload ->> 'n' = 'nokey';
-- keys are case- and byte-exact
SELECT orchestrator.enqueue('mail', '{"n": "upper"}', idempotency_key => 'ORDER-1') <> :first_id AS different_id;

-- Another type may use the same key: it is a different task.
SELECT orchestrator.enqueue('sms', '{"n": "sms-first"}', idempotency_key => 'order-1') AS sms_id \gset
SELECT :sms_id <> :first_id AS different_id;
SELECT orchestrator.enqueue('sms', '{"n": "sms-again"}', idempotency_key => 'order-1') = :sms_id AS same_sms_id;
SELECT w.name, t.payload ->> 'n' AS payload FROM orchestrator.task t
  JOIN orchestrator.workflow_type w ON w.id = t.workflow_type_id
 WHERE t.idempotency_key = 'order-1' ORDER BY 1;

-- The key still holds after the task ran and finished: a replayed webhook adds nothing.
SELECT execution_id AS e FROM orchestrator.orchestrate_next_execution('w', 1, ARRAY['sms']) \gset
SELECT orchestrator.complete_execution(:e);
SELECT orchestrator.enqueue('sms', '{"n": "sms-replayed"}', idempotency_key => 'order-1') = :sms_id AS same_sms_id;
SELECT state, payload ->> 'n' AS payload FROM orchestrator.task WHERE id = :sms_id;
SELECT count(*) AS sms_tasks FROM orchestrator.task t JOIN orchestrator.workflow_type w ON w.id = t.workflow_type_id
 WHERE w.name = 'sms';

-- enqueue_batch returns ids in input order, one per payload.
SELECT orchestrator.enqueue_batch('mail', '[{"n": "b1"}, {"n": "b2"}, {"n": "b3"}, {"n": "b4"}, {"n": "b5"}]') AS ids \gset
SELECT cardinality(:'ids'::bigint[]) AS count, pg_temp.labels(:'ids') AS labels,
       (SELECT bool_and(id > 0) FROM unnest(:'ids'::bigint[]) id) AS all_ids;
-- ... also when the payloads are not in id-friendly order and include duplicates and non-objects
SELECT pg_temp.labels(orchestrator.enqueue_batch('mail',
           '[{"n": "z"}, {"n": "a"}, {"n": "m"}, {"n": "a"}, {"n": "k"}]')) AS labels;
SELECT orchestrator.enqueue_batch('mail', '[1, "two", [3], null, {"n": "five"}]') AS ids \gset
SELECT t.payload FROM unnest(:'ids'::bigint[]) WITH ORDINALITY i(id, ord)
  JOIN orchestrator.task t ON t.id = i.id ORDER BY i.ord;

-- enqueue_batch with keys: known keys return their first id, new ones add tasks, NULL keys are
-- unkeyed, all in input order.
SELECT orchestrator.enqueue('mail', '{"n": "k2-original"}', idempotency_key => 'k2') AS k2_id \gset
SELECT orchestrator.enqueue_batch('mail', '[{"n": "k1"}, {"n": "k2-dup"}, {"n": "unkeyed-1"}, {"n": "k3"}, {"n": "unkeyed-2"}, {"n": "order-1-dup"}]',
                                  idempotency_keys => ARRAY['k1', 'k2', NULL, 'k3', NULL, 'order-1']) AS ids \gset
SELECT pg_temp.labels(:'ids') AS labels;
SELECT (:'ids'::bigint[])[2] = :k2_id AS k2_kept, (:'ids'::bigint[])[6] = :first_id AS order_1_kept,
       (SELECT count(DISTINCT id) FROM unnest(:'ids'::bigint[]) id) AS distinct_ids;
-- the same batch again adds only the unkeyed tasks, and returns the keyed ids unchanged
SELECT orchestrator.enqueue_batch('mail', '[{"n": "k1-again"}, {"n": "k2-again"}, {"n": "unkeyed-3"}, {"n": "k3-again"}, {"n": "unkeyed-4"}, {"n": "order-1-again"}]',
                                  idempotency_keys => ARRAY['k1', 'k2', NULL, 'k3', NULL, 'order-1']) AS ids2 \gset
SELECT pg_temp.labels(:'ids2') AS labels;
SELECT (:'ids2'::bigint[])[1] = (:'ids'::bigint[])[1] AS k1, (:'ids2'::bigint[])[2] = (:'ids'::bigint[])[2] AS k2,
       (:'ids2'::bigint[])[3] <> (:'ids'::bigint[])[3] AS new_unkeyed,
       (:'ids2'::bigint[])[4] = (:'ids'::bigint[])[4] AS k3,
       (:'ids2'::bigint[])[6] = (:'ids'::bigint[])[6] AS order_1;
-- a key repeated inside one batch: one task, its id at both positions
SELECT pg_temp.labels(orchestrator.enqueue_batch('mail', '[{"n": "rep-a"}, {"n": "rep-b"}, {"n": "rep-c"}]',
                                                 idempotency_keys => ARRAY['rep', 'other', 'rep'])) AS labels;
SELECT count(*) AS rep_tasks FROM orchestrator.task WHERE idempotency_key = 'rep';
-- a batch key known to another type only is new here
SELECT pg_temp.labels(orchestrator.enqueue_batch('sms', '[{"n": "sms-k1"}]', idempotency_keys => ARRAY['k1'])) AS labels;
-- single enqueue sees keys a batch created
SELECT pg_temp.labels(ARRAY[orchestrator.enqueue('mail', '{"n": "late"}', idempotency_key => 'k3')]) AS labels;

-- Everything above, counted: no duplicate task for any (type, key).
SELECT count(*) AS keyed_tasks, count(DISTINCT (workflow_type_id, idempotency_key)) AS distinct_keys
  FROM orchestrator.task WHERE idempotency_key IS NOT NULL;
SELECT w.name, count(*) AS tasks FROM orchestrator.task t
  JOIN orchestrator.workflow_type w ON w.id = t.workflow_type_id GROUP BY 1 ORDER BY 1;

RESET orchestrator.test_now;
DROP EXTENSION orchestrator;
