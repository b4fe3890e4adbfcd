-- Bad input: every error path of the queue's functions, with its SQLSTATE, message, detail and
-- hint; and nothing changes (the tables are byte-for-byte the same before and after).
CREATE EXTENSION orchestrator;
-- This file is about the queue, not governance: lift the resource caps (20 connections,
-- 2048 MB) so that executions left running do not hold dispatch back.
SELECT (orchestrator.configure('{"max_db_connections": 100000, "max_memory_mb": 100000000}')).max_db_connections;

\i sql/helpers/error_of.sql

-- error_of with task and execution ids replaced by N.
CREATE FUNCTION pg_temp.e(sql text) RETURNS text LANGUAGE sql AS $$
    SELECT regexp_replace(pg_temp.error_of($1), '([Tt]ask|execution) [0-9]+', '\1 N', 'g')
$$;

-- Row counts, and a digest of every row, of the three tables.
CREATE FUNCTION pg_temp.tables() RETURNS TABLE (tasks bigint, executions bigint, types bigint, digest text)
    LANGUAGE sql AS $$
    SELECT (SELECT count(*) FROM orchestrator.task), (SELECT count(*) FROM orchestrator.workflow_orchestration),
           (SELECT count(*) FROM orchestrator.workflow_type),
           md5(coalesce((SELECT string_agg(t::text, '|' ORDER BY t.id) FROM orchestrator.task t), '')
               || coalesce((SELECT string_agg(x::text, '|' ORDER BY x.id) FROM orchestrator.workflow_orchestration x), '')
               || coalesce((SELECT string_agg(w::text, '|' ORDER BY w.id) FROM orchestrator.workflow_type w), ''))
$$;

-- Some state to leave untouched: two types, queued tasks, a running execution of two tasks, a
-- finished one and a dead letter.
SET orchestrator.test_now = '2026-01-05 10:00:00+00';
SELECT orchestrator.register_workflow_type('mail', batch_max => 2) > 0 AS registered,
       orchestrator.register_workflow_type('idle') > 0 AS registered;
SELECT cardinality(orchestrator.enqueue_batch('mail', '[{"n": 1}, {"n": 2}]')) AS enqueued;
SELECT execution_id AS done FROM orchestrator.orchestrate_next_execution('w') \gset
SELECT orchestrator.complete_execution(:done);
SELECT cardinality(orchestrator.enqueue_batch('mail', '[{"n": 3}, {"n": 4}]')) AS enqueued;
SELECT execution_id AS dead FROM orchestrator.orchestrate_next_execution('w') \gset
SELECT orchestrator.fail_execution(:dead, 'bad', retryable => false);
SELECT cardinality(orchestrator.enqueue_batch('mail', '[{"n": 5}, {"n": 6}]')) AS enqueued;
SELECT execution_id AS running, task_ids[1] AS t1, task_ids[2] AS t2
  FROM orchestrator.orchestrate_next_execution('w') \gset
SELECT cardinality(orchestrator.enqueue_batch('mail', '[{"n": 7}]', idempotency_keys => '{k7}')) AS enqueued;
SELECT tasks, executions, types FROM pg_temp.tables();
SELECT digest AS before FROM pg_temp.tables() \gset

-- enqueue ------------------------------------------------------------------------------------
SELECT pg_temp.e($$SELECT orchestrator.enqueue(NULL, '{}')$$);
SELECT pg_temp.e($$SELECT orchestrator.enqueue('', '{}')$$);
SELECT pg_temp.e($$SELECT orchestrator.enqueue(' 	', '{}')$$);
SELECT pg_temp.e($$SELECT orchestrator.enqueue(repeat('m', 64), '{}')$$);
SELECT pg_temp.e($$SELECT orchestrator.enqueue('nosuchtype', '{}')$$);
SELECT pg_temp.e($$SELECT orchestrator.enqueue('nosuchtype', '{}', idempotency_key => 'k7')$$);
SELECT pg_temp.e($$SELECT orchestrator.enqueue('mail', NULL)$$);
SELECT pg_temp.e($$SELECT orchestrator.enqueue('mail', '{}', NULL)$$);
SELECT pg_temp.e($$SELECT orchestrator.enqueue('mail', '{}', 0)$$);
SELECT pg_temp.e($$SELECT orchestrator.enqueue('mail', '{}', 11)$$);
SELECT pg_temp.e($$SELECT orchestrator.enqueue('mail', '{}', -2147483648)$$);
SELECT pg_temp.e($$SELECT orchestrator.enqueue('mail', '{not json')$$);
SELECT pg_temp.e($$SELECT orchestrator.enqueue('mail', '{}', idempotency_key => '')$$);
SELECT pg_temp.e($$SELECT orchestrator.enqueue('mail', '{}', idempotency_key => '  ')$$);
SELECT pg_temp.e($$SELECT orchestrator.enqueue('mail', '{}', idempotency_key => repeat('k', 513))$$);
SELECT pg_temp.e($$SELECT orchestrator.enqueue('mail', '{}', run_after => 'infinity')$$);
SELECT pg_temp.e($$SELECT orchestrator.enqueue('mail', '{}', run_after => '-infinity')$$);
SELECT pg_temp.e($$SELECT orchestrator.enqueue('mail', '{}', parent_execution_id => 999999)$$);
SELECT pg_temp.e($$SELECT orchestrator.enqueue('mail', '{}', estimated_cost_usd => -0.01)$$);
SELECT pg_temp.e($$SELECT orchestrator.enqueue('mail', '{}', estimated_cost_usd => 'NaN')$$);
SELECT pg_temp.e($$SELECT orchestrator.enqueue('mail', '{}', max_queue_wait => '0')$$);
SELECT pg_temp.e($$SELECT orchestrator.enqueue('mail', '{}', max_queue_wait => '-1 minute')$$);
-- payload over orchestrator.max_payload_bytes
SET orchestrator.max_payload_bytes = 1024;
SELECT pg_temp.e($$SELECT orchestrator.enqueue('mail', jsonb_build_object('text', repeat('x', 2000)))$$);
RESET orchestrator.max_payload_bytes;

-- enqueue_batch ------------------------------------------------------------------------------
SELECT pg_temp.e($$SELECT orchestrator.enqueue_batch(NULL, '[{}]')$$);
SELECT pg_temp.e($$SELECT orchestrator.enqueue_batch('', '[{}]')$$);
SELECT pg_temp.e($$SELECT orchestrator.enqueue_batch('nosuchtype', '[{}]')$$);
SELECT pg_temp.e($$SELECT orchestrator.enqueue_batch('mail', NULL)$$);
SELECT pg_temp.e($$SELECT orchestrator.enqueue_batch('mail', '{"n": 1}')$$);
SELECT pg_temp.e($$SELECT orchestrator.enqueue_batch('mail', '"[]"')$$);
SELECT pg_temp.e($$SELECT orchestrator.enqueue_batch('mail', 'null')$$);
SELECT pg_temp.e($$SELECT orchestrator.enqueue_batch('mail', '[]')$$);
SELECT pg_temp.e($$SELECT orchestrator.enqueue_batch('mail', (SELECT jsonb_agg(i) FROM generate_series(1, 10001) i))$$);
SELECT pg_temp.e($$SELECT orchestrator.enqueue_batch('mail', '[{}]', 0)$$);
SELECT pg_temp.e($$SELECT orchestrator.enqueue_batch('mail', '[{}]', 11)$$);
SELECT pg_temp.e($$SELECT orchestrator.enqueue_batch('mail', '[{}, {}]', idempotency_keys => '{a}')$$);
SELECT pg_temp.e($$SELECT orchestrator.enqueue_batch('mail', '[{}]', idempotency_keys => '{a, b}')$$);
SELECT pg_temp.e($$SELECT orchestrator.enqueue_batch('mail', '[{}]', idempotency_keys => '{""}')$$);
SELECT pg_temp.e($$SELECT orchestrator.enqueue_batch('mail', '[{}]', idempotency_keys => ARRAY[repeat('k', 513)])$$);
SELECT pg_temp.e($$SELECT orchestrator.enqueue_batch('mail', '[{}]', run_after => 'infinity')$$);
SELECT pg_temp.e($$SELECT orchestrator.enqueue_batch('mail', '[{}]', parent_execution_id => 999999)$$);
SELECT pg_temp.e($$SELECT orchestrator.enqueue_batch('mail', '[{}]', estimated_cost_usd => -1)$$);
SELECT pg_temp.e($$SELECT orchestrator.enqueue_batch('mail', '[{}]', max_queue_wait => '0')$$);
SET orchestrator.max_payload_bytes = 1024;
SELECT pg_temp.e($$SELECT orchestrator.enqueue_batch('mail', jsonb_build_array('{}'::jsonb, jsonb_build_object('text', repeat('x', 2000))))$$);
-- Larger together than the limit, each within it: accepted (then removed again).
SELECT cardinality(orchestrator.enqueue_batch('mail', jsonb_build_array(
    jsonb_build_object('text', repeat('x', 700)), jsonb_build_object('text', repeat('y', 700))))) AS accepted;
DELETE FROM orchestrator.task WHERE length(payload ->> 'text') = 700
RETURNING pg_column_size(payload) BETWEEN 700 AND 1024 AS within_limit;
RESET orchestrator.max_payload_bytes;

-- orchestrate_next_execution -----------------------------------------------------------------
SELECT pg_temp.e($$SELECT * FROM orchestrator.orchestrate_next_execution(NULL)$$);
SELECT pg_temp.e($$SELECT * FROM orchestrator.orchestrate_next_execution('')$$);
SELECT pg_temp.e($$SELECT * FROM orchestrator.orchestrate_next_execution('  ')$$);
SELECT pg_temp.e($$SELECT * FROM orchestrator.orchestrate_next_execution(repeat('w', 201))$$);
SELECT pg_temp.e($$SELECT * FROM orchestrator.orchestrate_next_execution('w', NULL)$$);
SELECT pg_temp.e($$SELECT * FROM orchestrator.orchestrate_next_execution('w', 0)$$);
SELECT pg_temp.e($$SELECT * FROM orchestrator.orchestrate_next_execution('w', -1)$$);
SELECT pg_temp.e($$SELECT * FROM orchestrator.orchestrate_next_execution('w', 1001)$$);

-- complete_execution -------------------------------------------------------------------------
SELECT pg_temp.e($$SELECT orchestrator.complete_execution(NULL)$$);
SELECT pg_temp.e($$SELECT orchestrator.complete_execution(999999)$$);
SELECT pg_temp.e(format('SELECT orchestrator.complete_execution(%s)', :done));
SELECT pg_temp.e(format('SELECT orchestrator.complete_execution(%s, cost_usd => -1)', :running));
SELECT pg_temp.e(format('SELECT orchestrator.complete_execution(%s, cost_usd => %L)', :running, 'NaN'));
SET orchestrator.max_payload_bytes = 1024;
SELECT pg_temp.e(format('SELECT orchestrator.complete_execution(%s, jsonb_build_object(%L, repeat(%L, 2000)))', :running, 'r', 'x'));
RESET orchestrator.max_payload_bytes;
-- bad task_outcomes
SELECT pg_temp.e(format('SELECT orchestrator.complete_execution(%s, task_outcomes => %L)', :running, '{"task_id": 1}'));
SELECT pg_temp.e(format('SELECT orchestrator.complete_execution(%s, task_outcomes => %L)', :running, '"failed"'));
SELECT pg_temp.e(format('SELECT orchestrator.complete_execution(%s, task_outcomes => %L)', :running, '[{"status": "failed"}]'));
SELECT pg_temp.e(format('SELECT orchestrator.complete_execution(%s, task_outcomes => %L)', :running, '[42]'));
SELECT pg_temp.e(format('SELECT orchestrator.complete_execution(%s, task_outcomes => %L)', :running, '[{"task_id": 999999, "status": "failed"}]'));
SELECT pg_temp.e(format('SELECT orchestrator.complete_execution(%s, task_outcomes => %L)', :running,
    jsonb_build_array(jsonb_build_object('task_id', (SELECT min(id) FROM orchestrator.task WHERE state = 'queued'), 'status', 'failed'))));
SELECT pg_temp.e(format('SELECT orchestrator.complete_execution(%s, task_outcomes => %L)', :running,
    jsonb_build_array(jsonb_build_object('task_id', :t1, 'status', 'failed'), jsonb_build_object('task_id', :t1, 'status', 'succeeded'))));
SELECT pg_temp.e(format('SELECT orchestrator.complete_execution(%s, task_outcomes => %L)', :running,
    jsonb_build_array(jsonb_build_object('task_id', :t1, 'status', 'done'))));
SELECT pg_temp.e(format('SELECT orchestrator.complete_execution(%s, task_outcomes => %L)', :running,
    jsonb_build_array(jsonb_build_object('task_id', :t1, 'status', 'failed'), jsonb_build_object('task_id', :t2, 'status', 42))));
SELECT pg_temp.e(format('SELECT orchestrator.complete_execution(%s, task_outcomes => %L)', :running, '[{"task_id": "abc"}]'));
SELECT pg_temp.e(format('SELECT orchestrator.complete_execution(%s, task_outcomes => %L)', :running, '[{"task_id": 1.5}]'));
SELECT pg_temp.e(format('SELECT orchestrator.complete_execution(%s, task_outcomes => %L)', :running,
    jsonb_build_array(jsonb_build_object('task_id', :t1, 'status', 'failed', 'retryable', 'maybe'))));

-- fail_execution, heartbeat_execution, expire_executions --------------------------------------
SELECT pg_temp.e($$SELECT orchestrator.fail_execution(NULL, 'x')$$);
SELECT pg_temp.e($$SELECT orchestrator.fail_execution(999999, 'x')$$);
SELECT pg_temp.e(format('SELECT orchestrator.fail_execution(%s, %L)', :done, 'x'));
SELECT pg_temp.e(format('SELECT orchestrator.fail_execution(%s, %L)', :running, ''));
SELECT pg_temp.e(format('SELECT orchestrator.fail_execution(%s, %L, NULL)', :running, 'x'));
SELECT pg_temp.e($$SELECT orchestrator.heartbeat_execution(NULL)$$);
SELECT pg_temp.e($$SELECT orchestrator.heartbeat_execution(999999)$$);
SELECT pg_temp.e(format('SELECT orchestrator.heartbeat_execution(%s)', :done));
SELECT pg_temp.e(format('SELECT orchestrator.heartbeat_execution(%s, %L)', :running, '0'));
SELECT pg_temp.e(format('SELECT orchestrator.heartbeat_execution(%s, %L)', :running, '-5 minutes'));
SELECT pg_temp.e($$SELECT orchestrator.expire_executions(NULL)$$);
SELECT pg_temp.e($$SELECT orchestrator.expire_executions(0)$$);

-- register_workflow_type ---------------------------------------------------------------------
SELECT pg_temp.e($$SELECT orchestrator.register_workflow_type(NULL)$$);
SELECT pg_temp.e($$SELECT orchestrator.register_workflow_type('')$$);
SELECT pg_temp.e($$SELECT orchestrator.register_workflow_type('Mail')$$);
SELECT pg_temp.e($$SELECT orchestrator.register_workflow_type('1mail')$$);
SELECT pg_temp.e($$SELECT orchestrator.register_workflow_type('mail-2')$$);
SELECT pg_temp.e($$SELECT orchestrator.register_workflow_type('orchestrator')$$);
SELECT pg_temp.e($$SELECT orchestrator.register_workflow_type(repeat('m', 64))$$);
SELECT pg_temp.e($$SELECT orchestrator.register_workflow_type('mail')$$);
SELECT pg_temp.e($$SELECT orchestrator.register_workflow_type('t', weight => 0)$$);
SELECT pg_temp.e($$SELECT orchestrator.register_workflow_type('t', weight => 1001)$$);
SELECT pg_temp.e($$SELECT orchestrator.register_workflow_type('t', weight => NULL)$$);
SELECT pg_temp.e($$SELECT orchestrator.register_workflow_type('t', batch_min => 0)$$);
SELECT pg_temp.e($$SELECT orchestrator.register_workflow_type('t', batch_max => 1001)$$);
SELECT pg_temp.e($$SELECT orchestrator.register_workflow_type('t', batch_min => 5, batch_max => 4)$$);
SELECT pg_temp.e($$SELECT orchestrator.register_workflow_type('t', lease_timeout => '0')$$);
SELECT pg_temp.e($$SELECT orchestrator.register_workflow_type('t', lease_timeout => '25 hours')$$);
SELECT pg_temp.e($$SELECT orchestrator.register_workflow_type('t', max_attempts => 0)$$);
SELECT pg_temp.e($$SELECT orchestrator.register_workflow_type('t', max_attempts => 101)$$);
SELECT pg_temp.e($$SELECT orchestrator.register_workflow_type('t', max_concurrent => 0)$$);
SELECT pg_temp.e($$SELECT orchestrator.register_workflow_type('t', max_queue_wait => '0')$$);
SELECT pg_temp.e($$SELECT orchestrator.register_workflow_type('t', max_queue_wait => '-1 hour')$$);
SELECT pg_temp.e($$SELECT orchestrator.register_workflow_type('t', estimated_cost_usd => -1)$$);
SELECT pg_temp.e($$SELECT orchestrator.register_workflow_type('t', estimated_cost_usd => 'NaN')$$);
SELECT pg_temp.e($$SELECT orchestrator.register_workflow_type('t', webhook_url => repeat('u', 2001))$$);
SELECT pg_temp.e($$SELECT orchestrator.register_workflow_type('t', n8n_workflow_id => repeat('i', 201))$$);

-- alter_workflow_type ------------------------------------------------------------------------
SELECT pg_temp.e($$SELECT orchestrator.alter_workflow_type('mail', NULL)$$);
SELECT pg_temp.e($$SELECT orchestrator.alter_workflow_type('mail', '[]')$$);
SELECT pg_temp.e($$SELECT orchestrator.alter_workflow_type('mail', '{"name": "post"}')$$);
SELECT pg_temp.e($$SELECT orchestrator.alter_workflow_type('mail', '{"paused": true, "id": 9, "weight": 2}')$$);
SELECT pg_temp.e($$SELECT orchestrator.alter_workflow_type('nosuchtype', '{"weight": 2}')$$);
SELECT pg_temp.e($$SELECT orchestrator.alter_workflow_type(NULL, '{"weight": 2}')$$);
SELECT pg_temp.e($$SELECT orchestrator.alter_workflow_type('mail', '{"weight": "heavy"}')$$);
SELECT pg_temp.e($$SELECT orchestrator.alter_workflow_type('mail', '{"weight": 1.5}')$$);
SELECT pg_temp.e($$SELECT orchestrator.alter_workflow_type('mail', '{"lease_timeout": "soon"}')$$);
SELECT pg_temp.e($$SELECT orchestrator.alter_workflow_type('mail', '{"weight": 0}')$$);
SELECT pg_temp.e($$SELECT orchestrator.alter_workflow_type('mail', '{"weight": null}')$$);
SELECT pg_temp.e($$SELECT orchestrator.alter_workflow_type('mail', '{"batch_min": 3}')$$);
SELECT pg_temp.e($$SELECT orchestrator.alter_workflow_type('mail', '{"max_attempts": 0}')$$);

-- pause, resume, remove, presets -------------------------------------------------------------
SELECT pg_temp.e($$SELECT orchestrator.pause_workflow_type('nosuchtype')$$);
SELECT pg_temp.e($$SELECT orchestrator.resume_workflow_type('nosuchtype')$$);
SELECT pg_temp.e($$SELECT orchestrator.pause_workflow_type(NULL)$$);
SELECT pg_temp.e($$SELECT orchestrator.remove_workflow_type('nosuchtype')$$);
SELECT pg_temp.e($$SELECT orchestrator.remove_workflow_type('mail')$$);
SELECT pg_temp.e($$SELECT * FROM orchestrator.apply_preset('nope')$$);
SELECT pg_temp.e($$SELECT * FROM orchestrator.apply_preset(NULL)$$);

-- cancel_task(s), retry/discard dead letters --------------------------------------------------
SELECT pg_temp.e($$SELECT orchestrator.cancel_task(NULL)$$);
SELECT pg_temp.e($$SELECT orchestrator.cancel_task(999999)$$);
SELECT pg_temp.e($$SELECT orchestrator.cancel_tasks()$$);
SELECT pg_temp.e($$SELECT orchestrator.cancel_tasks(NULL, NULL, NULL, NULL)$$);
SELECT pg_temp.e($$SELECT orchestrator.cancel_tasks(max_priority => 0)$$);
SELECT pg_temp.e($$SELECT orchestrator.cancel_tasks(max_priority => 11)$$);
SELECT pg_temp.e($$SELECT orchestrator.cancel_tasks(older_than => '-1 minute')$$);
SELECT pg_temp.e($$SELECT orchestrator.cancel_tasks(workflow_type => 'nosuchtype')$$);
SELECT pg_temp.e($$SELECT orchestrator.retry_dead_letters(999999)$$);
SELECT pg_temp.e(format('SELECT orchestrator.retry_dead_letters(%s)', :t1));
SELECT pg_temp.e($$SELECT orchestrator.retry_dead_letters(workflow_type => 'nosuchtype')$$);
SELECT pg_temp.e($$SELECT orchestrator.discard_dead_letters(999999)$$);
SELECT pg_temp.e($$SELECT orchestrator.discard_dead_letters(workflow_type => 'nosuchtype')$$);

-- Enqueue, dispatch and the callbacks write task and execution rows directly, without a
-- statement: a trigger on those tables would not fire, so a table with one is refused (0A000)
-- instead of being silently bypassed.
CREATE FUNCTION public.noop() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER audit BEFORE INSERT OR UPDATE ON orchestrator.task
    FOR EACH ROW EXECUTE FUNCTION public.noop();
SELECT pg_temp.e($$SELECT orchestrator.enqueue('mail', '{"n": 8}')$$);
SELECT pg_temp.e($$SELECT count(*) FROM orchestrator.orchestrate_next_execution('w')$$);
DROP TRIGGER audit ON orchestrator.task;
CREATE TRIGGER audit AFTER UPDATE ON orchestrator.workflow_orchestration
    FOR EACH STATEMENT EXECUTE FUNCTION public.noop();
SELECT pg_temp.e(format('SELECT orchestrator.complete_execution(%s)', :running));
DROP TRIGGER audit ON orchestrator.workflow_orchestration;
DROP FUNCTION public.noop();
-- A deferrable unique constraint is checked at the commit by a trigger: refused the same way.
ALTER TABLE orchestrator.task ADD CONSTRAINT one_payload UNIQUE (payload) DEFERRABLE;
SELECT pg_temp.e($$SELECT orchestrator.enqueue('mail', '{"n": 8}')$$);
ALTER TABLE orchestrator.task DROP CONSTRAINT one_payload;
-- A cost beyond the column's precision (numeric(14,6)) is refused as an UPDATE would refuse it.
SELECT pg_temp.e(format('SELECT orchestrator.complete_execution(%s, cost_usd => 123456789)', :running));

-- Nothing changed.
SELECT tasks, executions, types, digest = :'before' AS unchanged FROM pg_temp.tables();
SELECT status FROM orchestrator.workflow_orchestration WHERE id = :running;

-- The payload limit is per task: a batch of small payloads is fine even when the whole array is
-- larger than orchestrator.max_payload_bytes (each of these 20 payloads is about 120 bytes).
SET orchestrator.max_payload_bytes = 1024;
BEGIN;
SELECT orchestrator.enqueue('mail', jsonb_build_object('text', repeat('x', 900))) > 0 AS under_the_limit;
SELECT cardinality(orchestrator.enqueue_batch('mail',
           (SELECT jsonb_agg(jsonb_build_object('text', repeat('x', 100), 'i', i)) FROM generate_series(1, 20) i))) AS enqueued;
ROLLBACK;
RESET orchestrator.max_payload_bytes;

-- remove_workflow_type works once the type has no open tasks, and then its name is free again.
SELECT orchestrator.remove_workflow_type('idle') AS removed;
SELECT pg_temp.e($$SELECT orchestrator.remove_workflow_type('idle')$$);
SELECT orchestrator.register_workflow_type('idle') > 0 AS registered_again;

RESET orchestrator.test_now;
DROP EXTENSION orchestrator;
