-- History retention: each heartbeat deletes finished tasks and executions older than the
-- configured retention, at most 1,000 of each per pass. Dead letters, queued and running work
-- stay whatever their age.
CREATE EXTENSION orchestrator;
\i sql/helpers/error_of.sql
SET orchestrator.test_now = '2026-02-02 12:00:00+00';
SELECT orchestrator.register_workflow_type('hist', batch_max => 10, max_attempts => 1) > 0 AS registered;

SELECT task_retention, execution_retention FROM orchestrator.config;
SELECT pg_temp.error_of($$SELECT orchestrator.configure('{"task_retention": "10 minutes"}')$$);
SELECT pg_temp.error_of($$SELECT orchestrator.configure('{"execution_retention": "1 day"}')$$);
SELECT pg_temp.error_of($$SELECT orchestrator.configure('{"task_retention": "forever"}')$$);
SELECT (orchestrator.configure('{"task_retention": "2 days", "execution_retention": "3 days"}')).task_retention;

-- On day 0: 10 tasks succeed, 5 fail for good (dead letters), 3 are cancelled, 4 stay queued.
CREATE FUNCTION pg_temp.batch(n integer) RETURNS jsonb LANGUAGE sql AS
    $$SELECT jsonb_agg(jsonb_build_object('n', i)) FROM generate_series(1, n) i$$;
SELECT cardinality(orchestrator.enqueue_batch('hist', pg_temp.batch(10))) AS enqueued;
SELECT orchestrator.complete_execution(execution_id) FROM orchestrator.orchestrate_next_execution('w', 1);
SELECT cardinality(orchestrator.enqueue_batch('hist', pg_temp.batch(5))) AS enqueued;
SELECT orchestrator.fail_execution(e.execution_id, 'bad input', retryable => false)
  FROM orchestrator.orchestrate_next_execution('w', 1) e;
SELECT orchestrator.cancel_task(id) FROM unnest(orchestrator.enqueue_batch('hist', pg_temp.batch(3))) id;
SELECT cardinality(orchestrator.enqueue_batch('hist', pg_temp.batch(4))) AS enqueued;
SELECT orchestrator.pause_workflow_type('hist'); -- the queued ones stay queued
CREATE FUNCTION pg_temp.counts() RETURNS TABLE (kind text, n bigint) LANGUAGE sql AS $$
    SELECT t.state, count(*) FROM orchestrator.task t GROUP BY 1
    UNION ALL SELECT 'executions', count(*) FROM orchestrator.workflow_orchestration
    UNION ALL SELECT 'transitions', count(*) FROM orchestrator.worker_transition
    ORDER BY 1 $$;
SELECT * FROM pg_temp.counts();

-- A day later nothing is old enough.
SET orchestrator.test_now = '2026-02-03 12:00:00+00';
SELECT orchestrator.tick() AS ran;
SELECT * FROM pg_temp.counts();

-- Two days and a minute later the finished tasks go (not the dead letters, not the queued);
-- the executions and day 1's transitions stay (three days).
SET orchestrator.test_now = '2026-02-04 12:01:00+00';
SELECT orchestrator.tick() AS ran;
SELECT * FROM pg_temp.counts();

-- Three days later the executions and day 1's transitions go too.
SET orchestrator.test_now = '2026-02-06 12:01:00+00';
SELECT orchestrator.tick() AS ran;
SELECT * FROM pg_temp.counts();

-- At most 1,000 of each per pass: 2,500 old succeeded tasks take three passes (written
-- directly: only their age and state matter here).
INSERT INTO orchestrator.task (workflow_type_id, priority, state, payload, created_at, ready_at,
                               finished_at)
SELECT w.id, 5, 'succeeded', '{}', orchestrator.now() - interval '5 days',
       orchestrator.now() - interval '5 days', orchestrator.now() - interval '5 days'
  FROM orchestrator.workflow_type w, generate_series(1, 2500) WHERE w.name = 'hist';
SELECT orchestrator.tick() AS ran;
SELECT count(*) FILTER (WHERE state = 'succeeded') AS succeeded_left FROM orchestrator.task;
SELECT orchestrator.tick() AS ran;
SELECT count(*) FILTER (WHERE state = 'succeeded') AS succeeded_left FROM orchestrator.task;
SELECT orchestrator.tick() AS ran;
SELECT count(*) FILTER (WHERE state = 'succeeded') AS succeeded_left FROM orchestrator.task;

RESET orchestrator.test_now;
DROP EXTENSION orchestrator;
