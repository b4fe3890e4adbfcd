-- Plans built while the tables are empty stay index plans. A backend prepares each statement
-- once and keeps its generic plan; n8n keeps its connections for hours, so plans are often
-- built right after installation, when the statistics say the tables hold nothing. Such a plan
-- must not scan the whole task or execution table (nor a whole partial index) as they grow.
-- The backend's own scan counters, read around each call inside one transaction, show what each
-- call's statements scanned.
CREATE EXTENSION orchestrator;
SELECT orchestrator.register_workflow_type('cold', batch_max => 3) > 0 AS registered;
SELECT orchestrator.register_workflow_type('keyed', duplicate_key_policy => 'drop') > 0 AS registered;
-- the statistics of empty tables
ANALYZE orchestrator.task;
ANALYZE orchestrator.workflow_orchestration;
SELECT relname, reltuples FROM pg_class
 WHERE oid IN ('orchestrator.task'::regclass, 'orchestrator.workflow_orchestration'::regclass)
 ORDER BY 1;

SET orchestrator.test_now = '2026-03-02 10:00:00+00';
CREATE TEMP TABLE scans (step text, task_seq bigint, execution_seq bigint, running_index bigint);
CREATE FUNCTION pg_temp.measure(step text, statement text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    task0 bigint := pg_stat_get_xact_numscans('orchestrator.task'::regclass);
    execution0 bigint := pg_stat_get_xact_numscans('orchestrator.workflow_orchestration'::regclass);
    running0 bigint := pg_stat_get_xact_numscans('orchestrator.workflow_orchestration_lease'::regclass);
BEGIN
    EXECUTE statement;
    INSERT INTO scans VALUES (step,
        pg_stat_get_xact_numscans('orchestrator.task'::regclass) - task0,
        pg_stat_get_xact_numscans('orchestrator.workflow_orchestration'::regclass) - execution0,
        pg_stat_get_xact_numscans('orchestrator.workflow_orchestration_lease'::regclass) - running0);
END $$;
CREATE FUNCTION pg_temp.last_execution() RETURNS bigint LANGUAGE sql AS
    $$SELECT max(id) FROM orchestrator.workflow_orchestration WHERE workflow_type <> 'orchestrator'$$;

BEGIN;
-- Every path once, so that each statement is planned on the empty statistics: enqueue (plain,
-- idempotent, keyed, batch), dispatch, complete (with outcomes), fail, heartbeat, expiry.
SELECT pg_temp.measure('enqueue', $$SELECT orchestrator.enqueue('cold', '{}')$$);
SELECT pg_temp.measure('enqueue with keys', $$SELECT orchestrator.enqueue('cold', '{}', idempotency_key => 'i1', concurrency_key => 'c1')$$);
SELECT pg_temp.measure('enqueue again', $$SELECT orchestrator.enqueue('cold', '{}', idempotency_key => 'i1', concurrency_key => 'c1')$$);
SELECT pg_temp.measure('enqueue singleton', $$SELECT orchestrator.enqueue('keyed', '{}', concurrency_key => 'c1')$$);
SELECT pg_temp.measure('enqueue duplicate', $$SELECT orchestrator.enqueue('keyed', '{}', concurrency_key => 'c1')$$);
SELECT pg_temp.measure('enqueue batch', $$SELECT orchestrator.enqueue_batch('cold', '[{}, {}, {}, {}, {}, {}]', idempotency_keys => '{a, b, c, d, e, f}')$$);
-- (The execution ids are worked out before each measured call, outside its counters.)
SELECT pg_temp.measure('dispatch 1', $$SELECT orchestrator.orchestrate_next_execution('w', 1, '{cold}')$$);
SELECT pg_temp.measure('complete', format(
    'SELECT orchestrator.complete_execution(%s, task_outcomes => %L)', e.id,
    jsonb_build_array(jsonb_build_object('task_id', e.task_ids[1], 'status', 'failed'))))
  FROM orchestrator.workflow_orchestration e WHERE e.id = pg_temp.last_execution();
SELECT pg_temp.measure('dispatch 2', $$SELECT orchestrator.orchestrate_next_execution('w', 1, '{cold}')$$);
SELECT pg_temp.measure('heartbeat', format('SELECT orchestrator.heartbeat_execution(%s)', pg_temp.last_execution()));
SELECT pg_temp.measure('fail', format('SELECT orchestrator.fail_execution(%s, %L)', pg_temp.last_execution(), 'boom'));
SELECT pg_temp.measure('dispatch 3', $$SELECT orchestrator.orchestrate_next_execution('w', 1, '{cold}')$$);
SET orchestrator.test_now = '2026-03-02 11:00:00+00';
SELECT pg_temp.measure('expiry', $$SELECT orchestrator.expire_executions()$$);
COMMIT;
-- Nothing read a table whole. The index of running executions is read by expiry, and once by the
-- first dispatch, which loads the shared governance counters from the tables.
SELECT * FROM scans;

-- What happened, so that the counters above describe real work.
SELECT status, count(*) FROM orchestrator.workflow_orchestration GROUP BY 1 ORDER BY 1;
SELECT state, count(*) FROM orchestrator.task GROUP BY 1 ORDER BY 1;

RESET orchestrator.test_now;
DROP EXTENSION orchestrator;
