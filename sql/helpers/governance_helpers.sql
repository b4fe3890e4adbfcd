-- Helpers shared by the governance regression tests (sql/governance_*.sql): session-local
-- functions in pg_temp, created by each test with \i.

\i sql/helpers/error_of.sql

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
