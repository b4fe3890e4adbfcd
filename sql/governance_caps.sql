-- Concurrency caps: max_concurrent per type, and the global max_db_connections and max_memory_mb
-- against what each execution of a type holds. Capacity comes back when an execution completes,
-- fails or expires (each committed in its own statement).
CREATE EXTENSION orchestrator;
SET TimeZone = 'UTC';

-- The governance tests' shared helpers (run from the repository root, as the test command does).
\i sql/helpers/governance_helpers.sql

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
