-- Concurrency caps: max_concurrent per type, and the global max_db_connections and max_memory_mb
-- against what each execution of a type holds. Capacity comes back when an execution completes,
-- fails or expires (each committed in its own statement).
CREATE EXTENSION orchestrator;
SET TimeZone = 'UTC';

-- Reports an error as SQLSTATE: message | detail | hint.
CREATE FUNCTION pg_temp.error_of(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    state text; message text; detail text; hint text;
BEGIN
    EXECUTE sql;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
        detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
    RETURN state || ': ' || message || coalesce(' | ' || nullif(detail, ''), '')
        || coalesce(' | ' || nullif(hint, ''), '');
END $$;

-- error_of with task and execution ids replaced by N.
CREATE FUNCTION pg_temp.e(sql text) RETURNS text LANGUAGE sql AS $$
    SELECT regexp_replace(pg_temp.error_of($1), '([Tt]ask|execution) [0-9]+', '\1 N', 'g')
$$;

-- Moves the test clock.
CREATE FUNCTION pg_temp.at(t timestamptz) RETURNS timestamptz LANGUAGE sql AS $$
    SELECT set_config('orchestrator.test_now',
                      to_char($1 AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00', false);
    SELECT $1
$$;

-- One dispatch call: what each execution got, without ids.
CREATE FUNCTION pg_temp.d(n int DEFAULT 1, types text[] DEFAULT NULL)
    RETURNS TABLE (workflow_type text, batch_size int, limited_by text, model_tier text)
    LANGUAGE sql AS $$
    SELECT e.workflow_type, e.batch_size, e.limited_by, e.model_tier
      FROM orchestrator.orchestrate_next_execution('w', $1, $2) e
$$;

-- Enqueues n tasks of a type; returns how many.
CREATE FUNCTION pg_temp.fill(type text, n int, priority int DEFAULT 5) RETURNS int
    LANGUAGE sql AS $$
    SELECT cardinality(orchestrator.enqueue_batch($1,
        (SELECT jsonb_agg(jsonb_build_object('i', i)) FROM generate_series(1, $2) i), $3))
$$;

-- The id of the newest running execution of a type.
CREATE FUNCTION pg_temp.last(type text) RETURNS bigint LANGUAGE sql AS $$
    SELECT max(id) FROM orchestrator.workflow_orchestration
     WHERE workflow_type = $1 AND status = 'running'
$$;

CREATE FUNCTION pg_temp.holding()
    RETURNS TABLE (running bigint, db_connections bigint, memory_mb bigint)
    LANGUAGE sql AS $$
    SELECT count(*), coalesce(sum(db_connections), 0), coalesce(sum(memory_mb), 0)
      FROM orchestrator.workflow_orchestration
     WHERE status = 'running' AND workflow_type <> 'orchestrator'
$$;

SELECT pg_temp.at('2026-03-02 10:00:00+00') IS NOT NULL AS clock_set;

-- max_concurrent 2: two executions run, a third waits for one of them to finish.
SELECT orchestrator.register_workflow_type('solo', max_concurrent => 2) > 0 AS registered;
SELECT pg_temp.fill('solo', 20);
SELECT * FROM pg_temp.d(5, '{solo}');
SELECT * FROM pg_temp.d(5, '{solo}');
SELECT * FROM pg_temp.holding();
SELECT orchestrator.complete_execution(pg_temp.last('solo'));
SELECT * FROM pg_temp.d(5, '{solo}');
SELECT * FROM pg_temp.d(5, '{solo}');
SELECT orchestrator.fail_execution(pg_temp.last('solo'), 'boom');
SELECT * FROM pg_temp.d(5, '{solo}');
SELECT * FROM pg_temp.d(5, '{solo}');
-- Both leases (5 minutes) pass: expiry frees both slots.
SELECT pg_temp.at('2026-03-02 10:05:01+00') IS NOT NULL AS clock_set;
SELECT * FROM pg_temp.d(5, '{solo}');
SELECT orchestrator.expire_executions();
SELECT * FROM pg_temp.holding();
SELECT * FROM pg_temp.d(5, '{solo}');
SELECT * FROM pg_temp.d(5, '{solo}');
SELECT count(orchestrator.complete_execution(id)) AS completed
  FROM orchestrator.workflow_orchestration WHERE status = 'running' AND workflow_type <> 'orchestrator';

-- Database connections: 5 in all; 'heavy' holds 2 per execution, 'light' 1.
SELECT pg_temp.at('2026-03-02 11:00:00+00') IS NOT NULL AS clock_set;
SELECT max_db_connections FROM orchestrator.configure('{"max_db_connections": 5}');
SELECT orchestrator.register_workflow_type('heavy', db_connections => 2, memory_mb => 0) > 0 AS registered;
SELECT orchestrator.register_workflow_type('light', db_connections => 1, memory_mb => 0) > 0 AS registered;
SELECT pg_temp.fill('heavy', 10), pg_temp.fill('light', 10);
SELECT * FROM pg_temp.d(5, '{heavy}');
SELECT * FROM pg_temp.holding();
-- One connection left: not enough for heavy, enough for one light.
SELECT * FROM pg_temp.d(5, '{heavy}');
SELECT * FROM pg_temp.d(5, '{light}');
SELECT * FROM pg_temp.d(5);
SELECT * FROM pg_temp.holding();
-- A heavy one completes: 2 connections, one heavy (or two light) again.
SELECT orchestrator.complete_execution(pg_temp.last('heavy'));
SELECT * FROM pg_temp.d(5, '{heavy}');
SELECT * FROM pg_temp.d(5);
SELECT count(orchestrator.complete_execution(id)) AS completed
  FROM orchestrator.workflow_orchestration WHERE status = 'running' AND workflow_type <> 'orchestrator';
SELECT * FROM pg_temp.holding();

-- Memory: 1000 MB in all, 'fat' needs 400 per execution: two run; a 'slim' one (150) fits beside.
SELECT max_db_connections, max_memory_mb
  FROM orchestrator.configure('{"max_db_connections": 100, "max_memory_mb": 1000}');
SELECT orchestrator.register_workflow_type('fat', db_connections => 0, memory_mb => 400) > 0 AS registered;
SELECT orchestrator.register_workflow_type('slim', db_connections => 0, memory_mb => 150) > 0 AS registered;
SELECT pg_temp.fill('fat', 10), pg_temp.fill('slim', 10);
SELECT * FROM pg_temp.d(5, '{fat}');
SELECT * FROM pg_temp.d(5, '{fat}');
SELECT * FROM pg_temp.d(5, '{slim}');
SELECT * FROM pg_temp.holding();
SELECT orchestrator.fail_execution(pg_temp.last('fat'), 'boom');
SELECT * FROM pg_temp.d(5, '{fat}');
SELECT * FROM pg_temp.holding();
SELECT count(orchestrator.complete_execution(id)) AS completed
  FROM orchestrator.workflow_orchestration WHERE status = 'running' AND workflow_type <> 'orchestrator';

-- The defaults (20 connections, 2048 MB; 1 connection and 128 MB per execution): 16 at most.
SELECT max_db_connections, max_memory_mb
  FROM orchestrator.configure('{"max_db_connections": 20, "max_memory_mb": 2048}');
SELECT orchestrator.register_workflow_type('plain') > 0 AS registered;
SELECT pg_temp.fill('plain', 30);
SELECT count(*) AS executions FROM pg_temp.d(30, '{plain}');
SELECT * FROM pg_temp.holding();
SELECT count(*) AS executions FROM pg_temp.d(30, '{plain}');

-- A dispatch held back by max_concurrent, connections or memory returns no row, so those limits
-- (concurrency:TYPE, connections, memory) are not seen here: each execution shows its own limit.
SELECT DISTINCT workflow_type, limited_by FROM orchestrator.workflow_orchestration
 WHERE workflow_type <> 'orchestrator' ORDER BY 1, 2;

RESET orchestrator.test_now;
DROP EXTENSION orchestrator;
