-- Circuit breakers per workflow type and per API: 5 consecutive failures open one (4 do not);
-- nothing is dispatched while it is open; after the cooldown (5 minutes) exactly one trial goes
-- through; a failed trial opens it again, a successful one closes it. Every transition is a
-- breaker_event row; the threshold and cooldown are configurable.
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

-- Dispatches one execution of a type and fails it (two statements, so each commits).
CREATE FUNCTION pg_temp.breaker(kind text, name text)
    RETURNS TABLE (state text, consecutive_failures int, opened_at timestamptz, trial boolean)
    LANGUAGE sql AS $$
    SELECT b.state, b.consecutive_failures, b.opened_at, b.trial_execution_id IS NOT NULL
      FROM orchestrator.breaker b WHERE b.kind = $1 AND b.name = $2
$$;
CREATE FUNCTION pg_temp.events(name text)
    RETURNS TABLE (kind text, from_state text, to_state text, at timestamptz, cause text)
    LANGUAGE sql AS $$
    SELECT e.kind, e.from_state, e.to_state, e.at, regexp_replace(e.cause, '[0-9]+', 'N')
      FROM orchestrator.breaker_event e WHERE e.name = $1 ORDER BY e.id
$$;

SELECT pg_temp.at('2026-03-02 10:00:00+00') IS NOT NULL AS clock_set;
SELECT orchestrator.register_workflow_type('brittle', max_attempts => 100, db_connections => 0,
                                           memory_mb => 0) > 0 AS registered;
SELECT pg_temp.fill('brittle', 50);

-- 4 failures, a success, 4 failures: consecutive failures start again, the breaker stays closed.
SELECT * FROM pg_temp.d(1, '{brittle}');
SELECT orchestrator.fail_execution(pg_temp.last('brittle'), 'boom');
SELECT * FROM pg_temp.d(1, '{brittle}');
SELECT orchestrator.fail_execution(pg_temp.last('brittle'), 'boom');
SELECT * FROM pg_temp.d(1, '{brittle}');
SELECT orchestrator.fail_execution(pg_temp.last('brittle'), 'boom');
SELECT * FROM pg_temp.d(1, '{brittle}');
SELECT orchestrator.fail_execution(pg_temp.last('brittle'), 'boom');
SELECT * FROM pg_temp.breaker('workflow_type', 'brittle');
SELECT * FROM pg_temp.d(1, '{brittle}');
SELECT orchestrator.complete_execution(pg_temp.last('brittle'));
SELECT count(*) AS breaker_rows FROM orchestrator.breaker;
SELECT * FROM pg_temp.d(1, '{brittle}');
SELECT orchestrator.fail_execution(pg_temp.last('brittle'), 'boom');
SELECT * FROM pg_temp.d(1, '{brittle}');
SELECT orchestrator.fail_execution(pg_temp.last('brittle'), 'boom');
SELECT * FROM pg_temp.d(1, '{brittle}');
SELECT orchestrator.fail_execution(pg_temp.last('brittle'), 'boom');
SELECT * FROM pg_temp.d(1, '{brittle}');
SELECT orchestrator.fail_execution(pg_temp.last('brittle'), 'boom');
SELECT * FROM pg_temp.breaker('workflow_type', 'brittle');
-- The 5th consecutive failure opens it.
SELECT pg_temp.at('2026-03-02 10:01:00+00') IS NOT NULL AS clock_set;
SELECT * FROM pg_temp.d(1, '{brittle}');
SELECT orchestrator.fail_execution(pg_temp.last('brittle'), 'boom');
SELECT * FROM pg_temp.breaker('workflow_type', 'brittle');
SELECT * FROM pg_temp.d(5, '{brittle}');
SELECT pg_temp.at('2026-03-02 10:05:59+00') IS NOT NULL AS clock_set;
SELECT * FROM pg_temp.d(5, '{brittle}');
-- 5 minutes on: one trial, and only one.
SELECT pg_temp.at('2026-03-02 10:06:00+00') IS NOT NULL AS clock_set;
SELECT * FROM pg_temp.d(5, '{brittle}');
SELECT * FROM pg_temp.d(5, '{brittle}');
SELECT * FROM pg_temp.breaker('workflow_type', 'brittle');
-- The trial fails: open again, from now.
SELECT pg_temp.at('2026-03-02 10:07:00+00') IS NOT NULL AS clock_set;
SELECT orchestrator.fail_execution(pg_temp.last('brittle'), 'boom');
SELECT * FROM pg_temp.breaker('workflow_type', 'brittle');
SELECT pg_temp.at('2026-03-02 10:11:59+00') IS NOT NULL AS clock_set;
SELECT * FROM pg_temp.d(5, '{brittle}');
-- Its trial succeeds: closed (and forgotten), dispatch as usual.
SELECT pg_temp.at('2026-03-02 10:12:00+00') IS NOT NULL AS clock_set;
SELECT * FROM pg_temp.d(5, '{brittle}');
SELECT * FROM pg_temp.d(5, '{brittle}');
SELECT orchestrator.complete_execution(pg_temp.last('brittle'));
SELECT count(*) AS breaker_rows FROM orchestrator.breaker;
SELECT count(*) AS executions FROM pg_temp.d(5, '{brittle}');
SELECT * FROM pg_temp.events('brittle');
SELECT count(orchestrator.complete_execution(id)) AS completed
  FROM orchestrator.workflow_orchestration WHERE status = 'running' AND workflow_type <> 'orchestrator';

-- API breakers: failures naming an API count for the API, not for the type. Two types use
-- 'shaky'; a third does not.
SELECT pg_temp.at('2026-03-02 11:00:00+00') IS NOT NULL AS clock_set;
SELECT orchestrator.register_api('shaky', 1000) > 0 AS registered;
SELECT orchestrator.register_workflow_type('reader', max_attempts => 100, db_connections => 0,
                                           memory_mb => 0) > 0 AS registered;
SELECT orchestrator.register_workflow_type('writer', db_connections => 0, memory_mb => 0) > 0 AS registered;
SELECT orchestrator.register_workflow_type('other', db_connections => 0, memory_mb => 0) > 0 AS registered;
SELECT orchestrator.set_workflow_type_apis('reader', '{"shaky": 1}');
SELECT orchestrator.set_workflow_type_apis('writer', '{"shaky": 2}');
SELECT pg_temp.fill('reader', 20), pg_temp.fill('writer', 20), pg_temp.fill('other', 20);
SELECT * FROM pg_temp.d(1, '{reader}');
SELECT orchestrator.fail_execution(pg_temp.last('reader'), 'HTTP 500', api_name => 'shaky');
SELECT * FROM pg_temp.d(1, '{reader}');
SELECT orchestrator.fail_execution(pg_temp.last('reader'), 'HTTP 500', api_name => 'shaky');
SELECT * FROM pg_temp.d(1, '{reader}');
SELECT orchestrator.fail_execution(pg_temp.last('reader'), 'HTTP 500', api_name => 'shaky');
SELECT * FROM pg_temp.d(1, '{reader}');
SELECT orchestrator.fail_execution(pg_temp.last('reader'), 'HTTP 500', api_name => 'shaky');
SELECT * FROM pg_temp.breaker('api', 'shaky');
SELECT * FROM pg_temp.d(1, '{reader}');
SELECT orchestrator.fail_execution(pg_temp.last('reader'), 'HTTP 500', api_name => 'shaky');
SELECT * FROM pg_temp.breaker('api', 'shaky');
SELECT count(*) AS type_breakers FROM orchestrator.breaker WHERE kind = 'workflow_type';
SELECT * FROM pg_temp.d(10, '{reader,writer,other}');
SELECT * FROM pg_temp.d(10, '{reader,writer}');
-- After the cooldown one trial, for one of the two types; it succeeds: closed.
SELECT pg_temp.at('2026-03-02 11:05:00+00') IS NOT NULL AS clock_set;
SELECT count(*) AS trials FROM pg_temp.d(10, '{reader,writer}');
SELECT count(*) AS trials FROM pg_temp.d(10, '{reader,writer}');
SELECT count(orchestrator.complete_execution(id)) AS completed
  FROM orchestrator.workflow_orchestration
 WHERE status = 'running' AND workflow_type IN ('reader', 'writer');
SELECT * FROM pg_temp.breaker('api', 'shaky');
SELECT count(*) AS executions FROM pg_temp.d(10, '{reader,writer}');
SELECT kind, from_state, to_state, at, cause FROM pg_temp.events('shaky');
SELECT count(orchestrator.complete_execution(id)) AS completed
  FROM orchestrator.workflow_orchestration WHERE status = 'running' AND workflow_type <> 'orchestrator';

-- Configured: 2 failures open it, 30 seconds of cooldown.
SELECT breaker_failure_threshold, breaker_cooldown
  FROM orchestrator.configure('{"breaker_failure_threshold": 2, "breaker_cooldown": "30 seconds"}');
SELECT pg_temp.at('2026-03-02 12:00:00+00') IS NOT NULL AS clock_set;
SELECT orchestrator.register_workflow_type('quick', max_attempts => 100, db_connections => 0,
                                           memory_mb => 0) > 0 AS registered;
SELECT pg_temp.fill('quick', 10);
SELECT * FROM pg_temp.d(1, '{quick}');
SELECT orchestrator.fail_execution(pg_temp.last('quick'), 'boom');
SELECT * FROM pg_temp.breaker('workflow_type', 'quick');
SELECT * FROM pg_temp.d(1, '{quick}');
SELECT orchestrator.fail_execution(pg_temp.last('quick'), 'boom');
SELECT * FROM pg_temp.breaker('workflow_type', 'quick');
SELECT * FROM pg_temp.d(1, '{quick}');
SELECT pg_temp.at('2026-03-02 12:00:29+00') IS NOT NULL AS clock_set;
SELECT * FROM pg_temp.d(1, '{quick}');
SELECT pg_temp.at('2026-03-02 12:00:30+00') IS NOT NULL AS clock_set;
SELECT * FROM pg_temp.d(1, '{quick}');
SELECT * FROM pg_temp.d(1, '{quick}');
SELECT * FROM pg_temp.events('quick');

RESET orchestrator.test_now;
DROP EXTENSION orchestrator;
