-- Retries and the dead-letter queue: the backoff schedule and its jitter, max attempts with the
-- failure history, not-retryable failures, per-task outcomes, retrying and discarding dead
-- letters, stale tasks, cancelling, lease expiry with the execution id as fencing token, and
-- heartbeats.
CREATE EXTENSION orchestrator;
-- This file is about the queue, not governance: lift the resource caps (20 connections,
-- 2048 MB) so that executions left running do not hold dispatch back, and the breaker threshold
-- so that the many failures below do not open the types' breakers.
SELECT (orchestrator.configure('{"max_db_connections": 100000, "max_memory_mb": 100000000,
                                 "breaker_failure_threshold": 1000}')).max_db_connections;

\i sql/helpers/error_of.sql

-- error_of with task and execution ids replaced by N.
CREATE FUNCTION pg_temp.error_without_ids(sql text) RETURNS text LANGUAGE sql AS $$
    SELECT regexp_replace(pg_temp.error_of($1), '(task|execution) [0-9]+', '\1 N', 'g')
$$;

-- Moves the test clock to a computed time.
CREATE FUNCTION pg_temp.clock_to(at timestamptz) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('orchestrator.test_now',
                       to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00', false);
    RETURN orchestrator.now() = at;
END $$;

-- The task with payload {"n": label}.
CREATE FUNCTION pg_temp.task(label text) RETURNS orchestrator.task LANGUAGE sql AS $$
    SELECT t FROM orchestrator.task t WHERE t.payload ->> 'n' = $1
$$;

-- A task's state as the tests read it (no ids, no real timestamps).
CREATE FUNCTION pg_temp.show(label text)
    RETURNS TABLE (state text, attempts int, ready_in interval, last_error text, reason text,
                   failures int)
    LANGUAGE sql AS $$
    SELECT t.state, t.attempts, t.ready_at - orchestrator.now(), t.last_error,
           t.dead_letter_reason, jsonb_array_length(t.failures)
      FROM orchestrator.task t WHERE t.payload ->> 'n' = $1
$$;

SET orchestrator.test_now = '2026-01-05 10:00:00+00';
SET orchestrator.test_seed = 42;

---------------------------------------------------------------------------------------------
-- Backoff: attempt 1 fails -> ~1 min, attempt 2 fails -> ~2 min (each +-30 s), attempt 3 fails
-- -> dead letter (max_attempts 3), with every failure in its history.
SELECT orchestrator.register_workflow_type('flaky') > 0 AS registered;
SELECT orchestrator.enqueue('flaky', '{"n": "r1"}') > 0 AS enqueued;

SELECT execution_id AS e1 FROM orchestrator.orchestrate_next_execution('worker-a') \gset
SELECT orchestrator.fail_execution(:e1, 'boom 1');
SELECT state, attempts, ready_in BETWEEN '30 s' AND '90 s' AS ready_in_1min_30s, last_error,
       reason, failures FROM pg_temp.show('r1');
SELECT status, error, duration_ms FROM orchestrator.workflow_orchestration WHERE id = :e1;
-- not ready before its backoff has passed
SELECT pg_temp.clock_to((pg_temp.task('r1')).ready_at - interval '1 ms') AS moved;
SELECT count(*) AS dispatched FROM orchestrator.orchestrate_next_execution('worker-b');
SELECT pg_temp.clock_to((pg_temp.task('r1')).ready_at) AS moved;
SELECT execution_id AS e2, tasks -> 0 -> 'attempt' AS attempt
  FROM orchestrator.orchestrate_next_execution('worker-b') \gset
SELECT :attempt AS attempt;
SELECT orchestrator.fail_execution(:e2, 'boom 2');
SELECT state, attempts, ready_in BETWEEN '90 s' AND '150 s' AS ready_in_2min_30s, last_error,
       reason, failures FROM pg_temp.show('r1');
SELECT pg_temp.clock_to((pg_temp.task('r1')).ready_at) AS moved;
SELECT execution_id AS e3, tasks -> 0 -> 'attempt' AS attempt
  FROM orchestrator.orchestrate_next_execution('worker-c') \gset
SELECT :attempt AS attempt;
SELECT orchestrator.fail_execution(:e3, 'boom 3');
SELECT state, attempts, last_error, reason, failures FROM pg_temp.show('r1');
-- the history: one entry per attempt, oldest first, with its execution, worker, time and error
SELECT f.attempt, (f.execution_id = (ARRAY[:e1, :e2, :e3]::bigint[])[f.attempt]) AS right_execution,
       f.worker_id, f.error, f.at IS NOT NULL AS has_time
  FROM jsonb_to_recordset((pg_temp.task('r1')).failures)
       AS f(attempt int, execution_id bigint, worker_id text, at timestamptz, error text);
SELECT workflow_type, attempts, reason, last_error, jsonb_array_length(failures) AS failures,
       last_execution_id = :e3 AS last_execution, dead_lettered_at = orchestrator.now() AS dead_lettered_now
  FROM orchestrator.dead_letters WHERE payload ->> 'n' = 'r1';
-- a dead letter is not dispatched
SELECT count(*) AS dispatched FROM orchestrator.orchestrate_next_execution('worker-a');

-- The whole schedule with max_attempts 7: 1, 2, 4, 8, 16, 16 minutes, each within +-30 s.
SELECT orchestrator.register_workflow_type('patient', max_attempts => 7) > 0 AS registered;
SELECT orchestrator.enqueue('patient', '{"n": "p1"}') > 0 AS enqueued;
CREATE TEMP TABLE schedule (attempt int, delay interval);
DO $$
DECLARE
    e bigint;
    t orchestrator.task;
BEGIN
    FOR i IN 1 .. 7 LOOP
        SELECT x.execution_id INTO STRICT e
          FROM orchestrator.orchestrate_next_execution('worker-p', 1, ARRAY['patient']) x;
        PERFORM orchestrator.fail_execution(e, 'attempt ' || i || ' failed');
        t := pg_temp.task('p1');
        INSERT INTO schedule VALUES (i, CASE WHEN t.state = 'queued' THEN t.ready_at - orchestrator.now() END);
        IF t.state = 'queued' THEN
            PERFORM pg_temp.clock_to(t.ready_at);
        END IF;
    END LOOP;
END $$;
SELECT s.attempt, n.nominal, abs(extract(epoch FROM s.delay - n.nominal)) <= 30 AS within_30s
  FROM schedule s
  LEFT JOIN (VALUES (1, interval '1 min'), (2, '2 min'), (3, '4 min'), (4, '8 min'),
                    (5, '16 min'), (6, '16 min')) n(attempt, nominal) USING (attempt)
 ORDER BY s.attempt;
SELECT state, attempts, reason, failures FROM pg_temp.show('p1');

-- The jitter spreads over the whole +-30 s window: 60 first retries all land within 30..90 s,
-- not all on the same second, and reach both ends of the window.
SELECT orchestrator.register_workflow_type('jittery', max_attempts => 2, batch_max => 60) > 0 AS registered;
SELECT cardinality(orchestrator.enqueue_batch('jittery',
           (SELECT jsonb_agg(jsonb_build_object('j', i)) FROM generate_series(1, 60) i))) AS enqueued;
SELECT execution_id AS ej, batch_size FROM orchestrator.orchestrate_next_execution('worker-j', 1, ARRAY['jittery']) \gset
SELECT :batch_size AS batch_size;
SELECT orchestrator.fail_execution(:ej, 'rate limited');
SELECT count(*) AS retried,
       bool_and(ready_at - orchestrator.now() BETWEEN '30 s' AND '90 s') AS all_within,
       count(DISTINCT date_trunc('second', ready_at)) > 20 AS spread,
       min(ready_at - orchestrator.now()) < '40 s' AS reaches_low_end,
       max(ready_at - orchestrator.now()) > '80 s' AS reaches_high_end
  FROM orchestrator.task t JOIN orchestrator.workflow_type w ON w.id = t.workflow_type_id
 WHERE w.name = 'jittery' AND t.state = 'queued';
SELECT orchestrator.cancel_tasks(workflow_type => 'jittery') AS cancelled;

---------------------------------------------------------------------------------------------
-- Not retryable: straight to the dead-letter queue on the first attempt.
SET orchestrator.test_now = '2026-01-05 12:00:00+00';
SELECT orchestrator.enqueue('flaky', '{"n": "bad"}') > 0 AS enqueued;
SELECT execution_id AS e FROM orchestrator.orchestrate_next_execution('worker-a') \gset
SELECT orchestrator.fail_execution(:e, 'invalid payload', retryable => false);
SELECT state, attempts, last_error, reason, failures FROM pg_temp.show('bad');

---------------------------------------------------------------------------------------------
-- complete_execution with per-task outcomes: b1 succeeded with a result, b2 failed (retried),
-- b3 failed not retryable (dead letter), b4 unreported (succeeded).
SELECT orchestrator.register_workflow_type('batchy', batch_max => 4) > 0 AS registered;
SELECT cardinality(orchestrator.enqueue_batch('batchy',
           '[{"n": "b1"}, {"n": "b2"}, {"n": "b3"}, {"n": "b4"}]')) AS enqueued;
SELECT execution_id AS e, batch_size FROM orchestrator.orchestrate_next_execution('worker-a') \gset
SELECT :batch_size AS batch_size;
SET orchestrator.test_now = '2026-01-05 12:00:02.5+00';
SELECT orchestrator.complete_execution(:e, '{"summary": "3 of 4"}', 0.12, jsonb_build_array(
    jsonb_build_object('task_id', (pg_temp.task('b2')).id, 'status', 'failed', 'error', 'timeout'),
    jsonb_build_object('task_id', (pg_temp.task('b3')).id, 'status', 'failed', 'error', 'invalid',
                       'retryable', false),
    jsonb_build_object('task_id', (pg_temp.task('b1')).id, 'status', 'succeeded',
                       'result', '{"x": 1}'::jsonb)));
SELECT l.label, s.state, s.attempts, s.ready_in BETWEEN '30 s' AND '90 s' AS backoff, s.last_error,
       s.reason, s.failures, (pg_temp.task(l.label)).result,
       (pg_temp.task(l.label)).finished_at = orchestrator.now() AS finished_now
  FROM unnest(ARRAY['b1', 'b2', 'b3', 'b4']) l(label), pg_temp.show(l.label) s;
SELECT status, cost_usd, result, error, duration_ms, finished_at = orchestrator.now() AS finished_now
  FROM orchestrator.workflow_orchestration WHERE id = :e;
-- every task failed: the execution failed
SELECT pg_temp.clock_to((pg_temp.task('b2')).ready_at) AS moved;
SELECT execution_id AS e FROM orchestrator.orchestrate_next_execution('worker-a') \gset
SELECT orchestrator.complete_execution(:e, task_outcomes => jsonb_build_array(
    jsonb_build_object('task_id', (pg_temp.task('b2')).id, 'status', 'failed')));
SELECT state, attempts, last_error, reason, failures FROM pg_temp.show('b2');
SELECT status, cost_usd, result FROM orchestrator.workflow_orchestration WHERE id = :e;
-- every task succeeded (outcomes given or not): completed
SELECT orchestrator.enqueue('batchy', '{"n": "b5"}') > 0 AS enqueued;
SELECT execution_id AS e FROM orchestrator.orchestrate_next_execution('worker-a') \gset
SELECT orchestrator.complete_execution(:e, task_outcomes => jsonb_build_array(
    jsonb_build_object('task_id', (pg_temp.task('b5')).id, 'status', 'succeeded')));
SELECT state, attempts FROM pg_temp.show('b5');
SELECT orchestrator.enqueue('batchy', '{"n": "b6"}') > 0 AS enqueued;
SELECT execution_id AS e FROM orchestrator.orchestrate_next_execution('worker-a') \gset
SELECT orchestrator.complete_execution(:e);
SELECT state, attempts, (pg_temp.task('b6')).result FROM pg_temp.show('b6');
SELECT status, cost_usd, result, error FROM orchestrator.workflow_orchestration WHERE id = :e;

---------------------------------------------------------------------------------------------
-- Callbacks on a finished execution are refused (OR002) and change nothing; on one that never
-- existed (or on a dispatch pass, which is not an execution) P0002.
SELECT count(*) AS tasks, count(*) FILTER (WHERE state = 'queued') AS queued,
       count(*) FILTER (WHERE state = 'succeeded') AS succeeded,
       count(*) FILTER (WHERE state = 'dead_letter') AS dead
  FROM orchestrator.task \gset before_
SELECT pg_temp.error_without_ids(format('SELECT orchestrator.complete_execution(%s)', :e));
SELECT pg_temp.error_without_ids(format('SELECT orchestrator.fail_execution(%s, %L)', :e, 'late'));
SELECT pg_temp.error_without_ids(format('SELECT orchestrator.heartbeat_execution(%s)', :e));
SELECT pg_temp.error_without_ids(format('SELECT orchestrator.fail_execution(%s, %L)', :e1, 'late'));
SELECT pg_temp.error_without_ids('SELECT orchestrator.complete_execution(999999)');
SELECT pg_temp.error_without_ids('SELECT orchestrator.fail_execution(999999)');
SELECT pg_temp.error_without_ids('SELECT orchestrator.heartbeat_execution(999999)');
SELECT pg_temp.error_without_ids(format('SELECT orchestrator.complete_execution(%s)',
    (SELECT parent_id FROM orchestrator.workflow_orchestration WHERE id = :e)));
SELECT status, error FROM orchestrator.workflow_orchestration WHERE id IN (:e, :e1) ORDER BY id;
SELECT count(*) = :before_tasks AS same_tasks,
       count(*) FILTER (WHERE state = 'queued') = :before_queued AS same_queued,
       count(*) FILTER (WHERE state = 'succeeded') = :before_succeeded AS same_succeeded,
       count(*) FILTER (WHERE state = 'dead_letter') = :before_dead AS same_dead
  FROM orchestrator.task;
SELECT orchestrator.cancel_tasks(workflow_type => 'batchy') AS cancelled;

---------------------------------------------------------------------------------------------
-- Lease expiry: an execution not called back within its lease (5 min) is expired by
-- expire_executions, its tasks go to retry, and a late callback is refused with OR001.
SET orchestrator.test_now = '2026-01-05 13:00:00+00';
SELECT orchestrator.register_workflow_type('slow') > 0 AS registered;
SELECT orchestrator.enqueue('slow', '{"n": "s1"}') > 0 AS enqueued;
SELECT execution_id AS e FROM orchestrator.orchestrate_next_execution('worker-s') \gset
-- at the deadline itself the lease has not passed
SET orchestrator.test_now = '2026-01-05 13:05:00+00';
SELECT orchestrator.expire_executions() AS expired;
SELECT status FROM orchestrator.workflow_orchestration WHERE id = :e;
-- once it has passed, a callback is refused even before expire_executions ran ...
SET orchestrator.test_now = '2026-01-05 13:05:00.001+00';
SELECT pg_temp.error_without_ids(format('SELECT orchestrator.complete_execution(%s)', :e));
SELECT status FROM orchestrator.workflow_orchestration WHERE id = :e;
SELECT state, attempts FROM pg_temp.show('s1');
-- ... and expire_executions fails it and sends its task to retry
SELECT orchestrator.expire_executions() AS expired;
SELECT orchestrator.expire_executions() AS expired_again;
SELECT status, error, duration_ms FROM orchestrator.workflow_orchestration WHERE id = :e;
SELECT state, attempts, ready_in BETWEEN '30 s' AND '90 s' AS backoff, last_error, reason, failures
  FROM pg_temp.show('s1');
SELECT f.attempt, f.worker_id, f.error
  FROM jsonb_to_recordset((pg_temp.task('s1')).failures) AS f(attempt int, worker_id text, error text);
-- the late callbacks are refused and change nothing
SELECT pg_temp.error_without_ids(format('SELECT orchestrator.complete_execution(%s)', :e));
SELECT pg_temp.error_without_ids(format('SELECT orchestrator.fail_execution(%s, %L)', :e, 'late'));
SELECT pg_temp.error_without_ids(format('SELECT orchestrator.heartbeat_execution(%s)', :e));
SELECT status, error FROM orchestrator.workflow_orchestration WHERE id = :e;
SELECT state, attempts, last_error, failures FROM pg_temp.show('s1');
-- the retry is dispatched as attempt 2 under a new execution id
SELECT pg_temp.clock_to((pg_temp.task('s1')).ready_at) AS moved;
SELECT execution_id <> :e AS new_execution, execution_id AS e_retry, tasks -> 0 -> 'attempt' AS attempt
  FROM orchestrator.orchestrate_next_execution('worker-s') \gset
SELECT :'new_execution' AS new_execution, :attempt AS attempt;
SELECT orchestrator.complete_execution(:e_retry);
SELECT state, attempts, failures FROM pg_temp.show('s1');

---------------------------------------------------------------------------------------------
-- Heartbeats extend the lease: a callback after the original deadline but before the extended
-- one succeeds, and expire_executions leaves the execution alone.
SET orchestrator.test_now = '2026-01-05 14:00:00+00';
SELECT orchestrator.enqueue('slow', '{"n": "s2"}') > 0 AS enqueued;
SELECT execution_id AS e FROM orchestrator.orchestrate_next_execution('worker-s', 1, ARRAY['slow']) \gset
SELECT lease_expires_at - orchestrator.now() AS lease FROM orchestrator.workflow_orchestration WHERE id = :e;
SET orchestrator.test_now = '2026-01-05 14:04:00+00';
SELECT orchestrator.heartbeat_execution(:e) - orchestrator.now() AS new_lease;
SELECT lease_expires_at - '2026-01-05 14:00:00+00'::timestamptz AS lease_from_start
  FROM orchestrator.workflow_orchestration WHERE id = :e;
SET orchestrator.test_now = '2026-01-05 14:08:00+00';
SELECT orchestrator.expire_executions() AS expired;
-- extend_by sets the new deadline from now
SELECT orchestrator.heartbeat_execution(:e, '20 minutes') - orchestrator.now() AS new_lease;
SET orchestrator.test_now = '2026-01-05 14:27:00+00';
SELECT orchestrator.complete_execution(:e, '{"ok": true}');
SELECT status, duration_ms FROM orchestrator.workflow_orchestration WHERE id = :e;
SELECT state, attempts FROM pg_temp.show('s2');

---------------------------------------------------------------------------------------------
-- Retrying dead letters: one by id, then by type, then all; each comes back with a fresh
-- attempt count (its failure history is kept), ready now.
SET orchestrator.test_now = '2026-01-05 15:00:00+00';
SELECT workflow_type, count(*) FROM orchestrator.dead_letters GROUP BY 1 ORDER BY 1;
SELECT orchestrator.retry_dead_letters((pg_temp.task('r1')).id) AS retried;
SELECT state, attempts, ready_in, last_error, reason, failures FROM pg_temp.show('r1');
SELECT count(*) AS in_dead_letters FROM orchestrator.dead_letters WHERE payload ->> 'n' = 'r1';
-- dispatched again as attempt 1; a failure now retries instead of dead-lettering at once
SELECT execution_id AS e, tasks -> 0 -> 'attempt' AS attempt
  FROM orchestrator.orchestrate_next_execution('worker-a', 1, ARRAY['flaky']) \gset
SELECT :attempt AS attempt;
SELECT orchestrator.fail_execution(:e, 'boom 4');
SELECT state, attempts, ready_in BETWEEN '30 s' AND '90 s' AS backoff, failures FROM pg_temp.show('r1');
SELECT orchestrator.cancel_task((pg_temp.task('r1')).id) AS cancelled;
-- by type
SELECT orchestrator.retry_dead_letters(workflow_type => 'batchy') AS retried;
SELECT state, attempts, reason FROM pg_temp.show('b3');
SELECT orchestrator.retry_dead_letters(workflow_type => 'batchy') AS retried_again;
-- all
SELECT count(*) AS dead_letters FROM orchestrator.dead_letters;
SELECT orchestrator.retry_dead_letters() AS retried;
SELECT count(*) AS dead_letters FROM orchestrator.dead_letters;
SELECT l.label, s.state, s.attempts, s.ready_in, s.reason
  FROM unnest(ARRAY['bad', 'b3', 'p1']) l(label), pg_temp.show(l.label) s;

-- Discarding: one by id, by type, all. Discarded tasks leave the dead-letter view for good.
SELECT orchestrator.cancel_tasks(max_priority => 10) AS cancelled_all_queued;
SELECT orchestrator.enqueue('flaky', '{"n": "d1"}') > 0, orchestrator.enqueue('flaky', '{"n": "d2"}') > 0,
       orchestrator.enqueue('slow', '{"n": "d3"}') > 0;
DO $$
DECLARE
    e record;
BEGIN
    FOR e IN SELECT x.execution_id FROM orchestrator.orchestrate_next_execution('worker-d', 10) x LOOP
        PERFORM orchestrator.fail_execution(e.execution_id, 'poison', retryable => false);
    END LOOP;
END $$;
SELECT task_id = (pg_temp.task(payload ->> 'n')).id AS ok, workflow_type, payload ->> 'n' AS task, reason
  FROM orchestrator.dead_letters ORDER BY 3;
SELECT orchestrator.discard_dead_letters((pg_temp.task('d1')).id) AS discarded;
SELECT state FROM pg_temp.show('d1');
SELECT orchestrator.discard_dead_letters(workflow_type => 'slow') AS discarded;
SELECT orchestrator.discard_dead_letters() AS discarded;
SELECT count(*) AS dead_letters FROM orchestrator.dead_letters;
SELECT l.label, s.state FROM unnest(ARRAY['d1', 'd2', 'd3']) l(label), pg_temp.show(l.label) s;
-- a discarded task cannot be retried
SELECT pg_temp.error_without_ids(format('SELECT orchestrator.retry_dead_letters(%s)', (pg_temp.task('d2')).id));
SELECT orchestrator.retry_dead_letters() AS retried;

---------------------------------------------------------------------------------------------
-- Stale tasks: a task that waited longer than its type's max_queue_wait is not dispatched but
-- dead-lettered with that reason; fresh work behind it is dispatched in the same call.
SET orchestrator.test_now = '2026-01-05 16:00:00+00';
SELECT orchestrator.register_workflow_type('perishable', max_queue_wait => '10 minutes') > 0 AS registered;
SELECT orchestrator.enqueue('perishable', '{"n": "old"}') > 0 AS enqueued,
       orchestrator.enqueue('perishable', '{"n": "own_wait"}', max_queue_wait => '1 hour') > 0 AS enqueued;
SET orchestrator.test_now = '2026-01-05 16:05:00+00';
SELECT orchestrator.enqueue('perishable', '{"n": "young"}') > 0 AS enqueued;
-- waited exactly 10 minutes: not longer than the maximum, still dispatchable
SET orchestrator.test_now = '2026-01-05 16:10:00+00';
SELECT state, (pg_temp.task('old')).stale_at - (pg_temp.task('old')).created_at AS max_wait
  FROM pg_temp.show('old');
BEGIN;
SELECT tasks -> 0 -> 'payload' ->> 'n' AS task
  FROM orchestrator.orchestrate_next_execution('worker-p', 1, ARRAY['perishable']);
ROLLBACK;
SET orchestrator.test_now = '2026-01-05 16:10:00.001+00';
SELECT tasks -> 0 -> 'payload' ->> 'n' AS task
  FROM orchestrator.orchestrate_next_execution('worker-p', 1, ARRAY['perishable']);
SELECT l.label, s.state, s.attempts, s.reason, s.failures
  FROM unnest(ARRAY['old', 'own_wait', 'young']) l(label), pg_temp.show(l.label) s;
SELECT payload ->> 'n' AS task, reason, attempts, dead_lettered_at = orchestrator.now() AS dead_lettered_now
  FROM orchestrator.dead_letters WHERE workflow_type = 'perishable';
SELECT count(*) AS left_to_dispatch FROM orchestrator.orchestrate_next_execution('worker-p', 10, ARRAY['perishable']);

---------------------------------------------------------------------------------------------
-- Cancelling queued tasks: cancel_task on one (true, then false once it is no longer queued)
-- and cancel_tasks with filters that all must match.
SET orchestrator.test_now = '2026-01-05 17:00:00+00';
SELECT orchestrator.register_workflow_type('cancellable', batch_max => 1) > 0 AS registered;
SELECT cardinality(orchestrator.enqueue_batch('cancellable',
           '[{"n": "c1", "site": "a"}, {"n": "c2", "site": "b"}]', 2)) AS old_low;
SET orchestrator.test_now = '2026-01-05 17:30:00+00';
SELECT cardinality(orchestrator.enqueue_batch('cancellable',
           '[{"n": "c3", "site": "a"}, {"n": "c4", "site": "b"}]', 8)) AS new_high,
       cardinality(orchestrator.enqueue_batch('cancellable',
           '[{"n": "c5", "site": "a"}, {"n": "c6", "site": "b"}]', 3)) AS new_low,
       orchestrator.enqueue('flaky', '{"n": "c7", "site": "a"}', 1) > 0 AS other_type;
SELECT orchestrator.cancel_task((pg_temp.task('c6')).id) AS cancelled;
SELECT orchestrator.cancel_task((pg_temp.task('c6')).id) AS cancelled_again;
-- a running task cannot be cancelled this way (c3: priority 8 scores 80, the best)
SELECT tasks -> 0 -> 'payload' ->> 'n' AS running
  FROM orchestrator.orchestrate_next_execution('worker-c', 1, ARRAY['cancellable']);
SELECT orchestrator.cancel_task((pg_temp.task('c3')).id) AS cancelled_running;
SELECT orchestrator.cancel_task((pg_temp.task('d2')).id) AS cancelled_discarded;
SELECT pg_temp.error_without_ids('SELECT orchestrator.cancel_task(999999)');
-- filters combine: type and site a and priority <= 3 and created at least 20 minutes ago
SELECT orchestrator.cancel_tasks(workflow_type => 'cancellable', max_priority => 3,
                                 older_than => '20 minutes', payload_contains => '{"site": "a"}') AS cancelled;
SELECT l.label, s.state FROM unnest(ARRAY['c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7']) l(label),
       pg_temp.show(l.label) s;
SELECT orchestrator.cancel_tasks(payload_contains => '{"site": "a"}') AS cancelled;
SELECT l.label, s.state FROM unnest(ARRAY['c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7']) l(label),
       pg_temp.show(l.label) s;
SELECT orchestrator.cancel_tasks(max_priority => 2) AS cancelled;
SELECT (pg_temp.task('c2')).state, (pg_temp.task('c2')).finished_at = orchestrator.now() AS finished_now;
SELECT count(*) AS queued FROM orchestrator.task WHERE state = 'queued';

RESET orchestrator.test_now;
RESET orchestrator.test_seed;
DROP FUNCTION pg_temp.task(text);
DROP EXTENSION orchestrator;
