-- Circuit breakers per workflow type and per API: 5 consecutive failures open one (4 do not);
-- nothing is dispatched while it is open; after the cooldown (5 minutes) exactly one trial goes
-- through; a failed trial opens it again, a successful one closes it. Every transition is a
-- breaker_event row; the threshold and cooldown are configurable.
CREATE EXTENSION orchestrator;
SET TimeZone = 'UTC';

-- The governance tests' shared helpers (run from the repository root, as the test command does).
\i sql/helpers/governance_helpers.sql

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

-- A trial that ends without a verdict on its breaker gives the trial back: a type using two APIs
-- takes the trial of the one whose breaker is open, and fails on the other (an HTTP 429 there).
-- The breaker stays half-open and the next dispatch takes a new trial (it used to wait forever).
SELECT orchestrator.register_api('first', 1000) > 0 AS registered;
SELECT orchestrator.register_api('second', 1000) > 0 AS registered;
SELECT orchestrator.register_workflow_type('pair', max_attempts => 100, db_connections => 0,
                                           memory_mb => 0) > 0 AS registered;
SELECT orchestrator.set_workflow_type_apis('pair', '{"first": 1, "second": 1}');
SELECT pg_temp.fill('pair', 10);
SELECT * FROM pg_temp.d(1, '{pair}');
SELECT orchestrator.fail_execution(pg_temp.last('pair'), 'HTTP 503', api_name => 'second');
SELECT * FROM pg_temp.d(1, '{pair}');
SELECT orchestrator.fail_execution(pg_temp.last('pair'), 'HTTP 503', api_name => 'second');
SELECT * FROM pg_temp.breaker('api', 'second');
SELECT pg_temp.at('2026-03-02 12:01:30+00') IS NOT NULL AS clock_set;
SELECT * FROM pg_temp.d(1, '{pair}');
SELECT * FROM pg_temp.breaker('api', 'second');
SELECT orchestrator.fail_execution(pg_temp.last('pair'), 'HTTP 429', api_name => 'first',
                                   retry_after => interval '1 second');
SELECT * FROM pg_temp.breaker('api', 'second');
SELECT pg_temp.at('2026-03-02 12:01:32+00') IS NOT NULL AS clock_set;
SELECT * FROM pg_temp.d(1, '{pair}');
SELECT * FROM pg_temp.d(1, '{pair}');
SELECT orchestrator.complete_execution(pg_temp.last('pair'));
SELECT * FROM pg_temp.breaker('api', 'second');
SELECT * FROM pg_temp.events('second');
SELECT count(orchestrator.complete_execution(id)) AS completed
  FROM orchestrator.workflow_orchestration WHERE status = 'running' AND workflow_type <> 'orchestrator';

RESET orchestrator.test_now;
DROP EXTENSION orchestrator;
