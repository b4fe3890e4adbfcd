-- The checks of test/t/006_crash_under_load.pl: what must hold in the orchestrator's tables after
-- the server was killed with SIGKILL in the middle of a load of enqueue, dispatch, complete and
-- fail, and restarted.
--
-- The test loads this file (psql -f) into its database before the load. It creates schema
-- crash_check with two tables the test fills and one function, crash_check.checks(phase), whose
-- rows are the checks: a name, the number of violations (each must be 0) and a sample of the
-- offending ids. The phases are cumulative:
--
--   'restart'  right after the restart (crash recovery), before the test changes anything (only
--              the background worker may have run):
--      * every enqueue the acknowledging client saw committed exists, with its payload and type;
--      * no task was completed twice: at most one completed (or partial) execution lists a task,
--        a task listed by a completed execution is succeeded with that execution as its latest,
--        and a succeeded task has exactly one such completion;
--      * no task was in two executions running at once (their start..finish spans, ends
--        included, do not overlap);
--      * a task's attempts are the executions that listed it, and every failed or expired
--        execution is in the failure history of each of its tasks;
--      * running tasks and running executions agree (dispatch and callbacks are atomic).
--   'expired'  once the background worker has expired the executions running at the crash:
--      * each of them is 'expired' with error 'lease expired', ended no earlier than its lease;
--      * each of their tasks has that expiry ('lease expired', the execution's id) in its failure
--        history, and was sent to retry (queued, attempts below max_attempts) or dead-lettered
--        (attempts at max_attempts, reason 'max attempts reached').
--   'drained'  once the test has dispatched and completed all that was left:
--      * every task is final (succeeded or dead_letter) and no execution is running;
--      * each task of an execution running at the crash was retried and succeeded in a later
--        execution, or was dead-lettered.
--
-- "Executions" are the rows of orchestrator.workflow_orchestration other than the dispatch-pass
-- rows (workflow_type 'orchestrator'), which list no tasks.

CREATE SCHEMA crash_check;

-- The enqueues the acknowledging client saw committed before the crash: ack_no is the number in
-- the task's payload ({"ack": n}), task_id what enqueue returned. Filled by the test.
CREATE TABLE crash_check.acknowledged (
    ack_no integer PRIMARY KEY,
    task_id bigint NOT NULL
);

-- The executions that were running when the server was killed, recorded right after the restart
-- by crash_check.record_running_at_crash().
CREATE TABLE crash_check.running_at_crash (
    execution_id bigint PRIMARY KEY,
    workflow_type text NOT NULL,
    task_ids bigint[] NOT NULL,
    lease_expires_at timestamptz NOT NULL,
    -- still running when recorded (false: the worker had already expired it)
    still_running boolean NOT NULL
);

-- Records the executions running at the crash and returns how many. Only the background worker
-- acts between the restart and this call, and it may already have expired some of them: those are
-- the ones it expired since this postmaster started (an execution expired before the crash ended
-- before that).
CREATE FUNCTION crash_check.record_running_at_crash() RETURNS bigint
    LANGUAGE sql AS $$
    WITH recorded AS (
        INSERT INTO crash_check.running_at_crash
        SELECT e.id, e.workflow_type, e.task_ids, e.lease_expires_at, e.status = 'running'
          FROM orchestrator.workflow_orchestration e
         WHERE e.workflow_type <> 'orchestrator'
           AND (e.status = 'running'
                OR (e.status = 'expired' AND e.finished_at >= pg_postmaster_start_time()))
        RETURNING 1)
    SELECT count(*) FROM recorded
$$;

CREATE FUNCTION crash_check.checks(phase text)
    RETURNS TABLE (check_name text, violations bigint, sample text)
    LANGUAGE sql STABLE AS $$
WITH
exec AS NOT MATERIALIZED (
    SELECT * FROM orchestrator.workflow_orchestration WHERE workflow_type <> 'orchestrator'),
-- One row per (execution, task it lists).
listed AS (
    SELECT e.id AS execution_id, e.status, e.started_at, e.finished_at, u.task_id
      FROM exec e CROSS JOIN LATERAL unnest(e.task_ids) u(task_id)),
completion AS (
    SELECT * FROM listed WHERE status IN ('completed', 'partial')),
-- Per task: the executions that listed it, and those of them that completed.
per_task AS (
    SELECT task_id, count(*) AS listings,
           count(*) FILTER (WHERE status IN ('completed', 'partial')) AS completions
      FROM listed GROUP BY task_id),
task AS NOT MATERIALIZED (
    SELECT t.*, w.name AS type_name, w.max_attempts
      FROM orchestrator.task t JOIN orchestrator.workflow_type w ON w.id = t.workflow_type_id),
-- The tasks of the executions running at the crash, with the attempt the expiry recorded.
crashed AS (
    SELECT r.execution_id, u.task_id, t.state, t.attempts, t.max_attempts, t.execution_id AS latest,
           t.dead_letter_reason,
           (SELECT (f ->> 'attempt')::integer FROM jsonb_array_elements(t.failures) f
             WHERE (f ->> 'execution_id')::bigint = r.execution_id
               AND f ->> 'error' = 'lease expired'
             LIMIT 1) AS expired_attempt
      FROM crash_check.running_at_crash r
      CROSS JOIN LATERAL unnest(r.task_ids) u(task_id)
      LEFT JOIN task t ON t.id = u.task_id),
result (check_name, phases, ids) AS (
    -- Durability of acknowledged enqueues.
    SELECT 'acknowledged enqueue missing or altered', '{restart,expired,drained}'::text[],
           array(SELECT a.ack_no::bigint FROM crash_check.acknowledged a
                   LEFT JOIN task t ON t.id = a.task_id
                  WHERE t.id IS NULL OR t.type_name <> 'crash_ack'
                     OR t.payload IS DISTINCT FROM jsonb_build_object('ack', a.ack_no))
    UNION ALL
    -- No task completed twice.
    SELECT 'task listed by two completed executions', '{restart,expired,drained}',
           array(SELECT task_id FROM per_task WHERE completions > 1)
    UNION ALL
    SELECT 'task of a completed execution not succeeded by it', '{restart,expired,drained}',
           array(SELECT c.task_id FROM completion c LEFT JOIN task t ON t.id = c.task_id
                  WHERE c.status = 'completed'
                    AND (t.id IS NULL OR t.state <> 'succeeded'
                         OR t.execution_id IS DISTINCT FROM c.execution_id))
    UNION ALL
    SELECT 'succeeded task without exactly one completion', '{restart,expired,drained}',
           array(SELECT t.id FROM task t LEFT JOIN per_task p ON p.task_id = t.id
                  WHERE t.state = 'succeeded'
                    AND (coalesce(p.completions, 0) <> 1
                         OR NOT EXISTS (SELECT 1 FROM completion c
                                         WHERE c.task_id = t.id
                                           AND c.execution_id = t.execution_id)))
    UNION ALL
    SELECT 'task in two executions running at the same time', '{restart,expired,drained}',
           array(SELECT DISTINCT a.task_id FROM listed a JOIN listed b
                    ON b.task_id = a.task_id AND b.execution_id > a.execution_id
                 WHERE tstzrange(a.started_at, coalesce(a.finished_at, 'infinity'), '[]')
                       && tstzrange(b.started_at, coalesce(b.finished_at, 'infinity'), '[]'))
    UNION ALL
    -- The history agrees with the tasks.
    SELECT 'task whose attempts differ from the executions listing it', '{restart,expired,drained}',
           array(SELECT t.id FROM task t LEFT JOIN per_task p ON p.task_id = t.id
                  WHERE t.attempts <> coalesce(p.listings, 0))
    UNION ALL
    SELECT 'failed or expired execution missing from its task''s failure history',
           '{restart,expired,drained}',
           array(SELECT l.task_id FROM listed l LEFT JOIN task t ON t.id = l.task_id
                  WHERE l.status IN ('failed', 'expired')
                    AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(t.failures) f
                                     WHERE (f ->> 'execution_id')::bigint = l.execution_id))
    UNION ALL
    SELECT 'running task whose latest execution is not running with it',
           '{restart,expired,drained}',
           array(SELECT t.id FROM task t
                  WHERE t.state = 'running'
                    AND NOT EXISTS (SELECT 1 FROM exec e
                                     WHERE e.id = t.execution_id AND e.status = 'running'
                                       AND t.id = ANY (e.task_ids)))
    UNION ALL
    SELECT 'running execution with a task not running in it', '{restart,expired,drained}',
           array(SELECT l.execution_id FROM listed l LEFT JOIN task t ON t.id = l.task_id
                  WHERE l.status = 'running'
                    AND (t.id IS NULL OR t.state <> 'running'
                         OR t.execution_id IS DISTINCT FROM l.execution_id))
    UNION ALL
    SELECT 'task in an unknown state', '{restart,expired,drained}',
           array(SELECT t.id FROM task t
                  WHERE t.state NOT IN ('queued', 'running', 'succeeded', 'dead_letter',
                                        'cancelled', 'discarded'))
    UNION ALL
    -- The executions running at the crash are expired by the worker ...
    SELECT 'execution running at the crash that was not expired', '{expired,drained}',
           array(SELECT r.execution_id FROM crash_check.running_at_crash r
                   LEFT JOIN exec e ON e.id = r.execution_id
                  WHERE e.id IS NULL OR e.status <> 'expired'
                     OR e.error IS DISTINCT FROM 'lease expired'
                     OR e.finished_at IS NULL OR e.finished_at < r.lease_expires_at)
    UNION ALL
    -- ... their tasks get the expiry in their history ...
    SELECT 'task of a crashed execution without its ''lease expired'' failure', '{expired,drained}',
           array(SELECT task_id FROM crashed WHERE expired_attempt IS NULL)
    UNION ALL
    -- ... and are sent to retry or dead-lettered ...
    SELECT 'task of a crashed execution neither sent to retry nor dead-lettered', '{expired}',
           array(SELECT task_id FROM crashed
                  WHERE (latest = execution_id
                         AND ((state = 'queued' AND attempts < max_attempts)
                              OR (state = 'dead_letter' AND attempts >= max_attempts
                                  AND dead_letter_reason = 'max attempts reached')))
                        IS NOT TRUE)
    UNION ALL
    -- ... and end retried and succeeded, or dead-lettered.
    SELECT 'task of a crashed execution neither retried to success nor dead-lettered', '{drained}',
           array(SELECT task_id FROM crashed
                  WHERE ((state = 'succeeded' AND latest <> execution_id
                          AND attempts > expired_attempt)
                         OR state = 'dead_letter') IS NOT TRUE)
    UNION ALL
    -- After draining everything is final.
    SELECT 'task not in a final state after draining', '{drained}',
           array(SELECT t.id FROM task t WHERE t.state NOT IN ('succeeded', 'dead_letter'))
    UNION ALL
    SELECT 'execution still running after draining', '{drained}',
           array(SELECT e.id FROM exec e WHERE e.status = 'running'))
SELECT check_name, cardinality(ids)::bigint,
       array_to_string((SELECT array_agg(i ORDER BY i) FROM unnest(ids) i)[1:10], ', ')
  FROM result
 WHERE phase = ANY (phases)
$$;
