-- The audit log: every configuration change and every manual action writes one row with who
-- (session_user), when (the orchestrator's clock) and the old and new values. A refused call
-- writes nothing.
CREATE EXTENSION orchestrator;
\i sql/helpers/error_of.sql
SET orchestrator.test_now = '2026-04-01 09:00:00+00';

-- configuration
SELECT (orchestrator.configure('{"daily_budget_usd": 50}')).daily_budget_usd;
SELECT orchestrator.register_api('gemini', 60) > 0 AS registered;
SELECT (orchestrator.alter_api('gemini', '{"burst": 30}')).burst;
SELECT orchestrator.resume_api('gemini');
SELECT orchestrator.register_workflow_type('t', max_attempts => 1) > 0 AS registered;
SELECT (orchestrator.alter_workflow_type('t', '{"weight": 3, "daily_budget_usd": 10}')).weight;
SELECT orchestrator.set_workflow_type_apis('t', '{"gemini": 2}');
SELECT orchestrator.pause_workflow_type('t');
SELECT orchestrator.resume_workflow_type('t');
SELECT orchestrator.raise_budget(5);
SELECT orchestrator.raise_budget(2, 't');
SELECT (orchestrator.set_schedule('t', '15 minutes')).every;
SELECT orchestrator.set_schedule('t', NULL) IS NULL AS removed;
-- manual actions on tasks: cancel one, cancel by filter, retry and discard dead letters
SELECT orchestrator.enqueue('t', '{"n": 1}') AS t1 \gset
SELECT cardinality(orchestrator.enqueue_batch('t', '[{"n": 2}, {"n": 3}, {"n": 4}, {"n": 5}]')) AS enqueued;
SELECT orchestrator.cancel_task(:t1);
SELECT orchestrator.cancel_tasks(payload_contains => '{"n": 2}');
SELECT count(orchestrator.fail_execution(e.execution_id, 'boom', retryable => false))
  FROM generate_series(1, 3) n, LATERAL orchestrator.orchestrate_next_execution('w' || n, 1) e;
SELECT orchestrator.retry_dead_letters(task_id => (SELECT min(task_id) FROM orchestrator.dead_letters));
SELECT orchestrator.discard_dead_letters(workflow_type => 't');
-- an alert acknowledged (the queue is deep enough for one)
SELECT cardinality(orchestrator.enqueue_batch('t', (SELECT jsonb_agg(jsonb_build_object('n', n)) FROM generate_series(1, 501) n))) AS enqueued;
SELECT orchestrator.tick() AS ran;
SELECT orchestrator.acknowledge_alert(id) FROM orchestrator.alert WHERE condition = 'queue_depth';
-- removing a type (its tasks cancelled first; that is audited too)
SELECT orchestrator.cancel_tasks(workflow_type => 't') AS cancelled;
SELECT orchestrator.remove_workflow_type('t');

-- Refused calls change nothing and write nothing.
SELECT count(*) AS audited FROM orchestrator.audit_log \gset
SELECT pg_temp.error_of($$SELECT orchestrator.configure('{"daily_budget_usd": -1}')$$);
SELECT pg_temp.error_of($$SELECT orchestrator.pause_workflow_type('nope')$$);
SELECT pg_temp.error_of($$SELECT orchestrator.retry_dead_letters(task_id => 999999)$$);
SELECT pg_temp.error_of($$SELECT orchestrator.raise_budget(0)$$);
SELECT count(*) - :audited AS written_by_refused_calls FROM orchestrator.audit_log;

-- The log: who (session_user), when, and for each changed field its old and new value (the
-- whole value when one side is missing or nothing differs; long task id lists by their length).
-- Every call above has its row: configure, register_api, alter_api, resume_api,
-- register_workflow_type, alter_workflow_type, set_workflow_type_apis, pause/resume_workflow_type,
-- raise_budget (global, type), set_schedule (set, removed), cancel_task, cancel_tasks (filter),
-- retry_dead_letters (one task), discard_dead_letters (a type), acknowledge_alert, cancel_tasks
-- (a type), remove_workflow_type (the whole removed row).
CREATE FUNCTION pg_temp.shown(v jsonb) RETURNS jsonb LANGUAGE sql AS $$
    SELECT CASE WHEN jsonb_array_length(v -> 'task_ids') > 5
                THEN v - 'task_ids' || jsonb_build_object('task_ids', jsonb_array_length(v -> 'task_ids') || ' ids')
                ELSE v END $$;
CREATE FUNCTION pg_temp.changed(a jsonb, b jsonb) RETURNS jsonb LANGUAGE sql AS $$
    SELECT jsonb_object_agg(k, a -> k) FROM jsonb_object_keys(a) k
     WHERE a -> k IS DISTINCT FROM b -> k AND k NOT IN ('created_at', 'updated_at') $$;
SELECT id, at, actor = session_user AS by_session_user, action, target,
       pg_temp.shown(coalesce(pg_temp.changed(old_value, new_value), old_value)) AS old,
       pg_temp.shown(coalesce(pg_temp.changed(new_value, old_value), new_value)) AS new
  FROM orchestrator.audit_log ORDER BY id;

RESET orchestrator.test_now;
DROP EXTENSION orchestrator;
