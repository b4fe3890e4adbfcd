-- Bad input to every governance configuration function: its SQLSTATE (22023, 22004, P0002,
-- 42710) and message, and nothing changed (row counts and a digest of the governance tables are
-- the same before and after). Successful changes are in audit_log: actor, action, old and new.
CREATE EXTENSION orchestrator;
SET TimeZone = 'UTC';

-- The governance tests' shared helpers (run from the repository root, as the test command does).
\i sql/helpers/governance_helpers.sql

-- Row counts and a digest of every governance table.
CREATE FUNCTION pg_temp.tables()
    RETURNS TABLE (apis bigint, types bigint, needs bigint, audit bigint, tasks bigint, digest text)
    LANGUAGE sql AS $$
    SELECT (SELECT count(*) FROM orchestrator.api), (SELECT count(*) FROM orchestrator.workflow_type),
           (SELECT count(*) FROM orchestrator.workflow_type_api), (SELECT count(*) FROM orchestrator.audit_log),
           (SELECT count(*) FROM orchestrator.task),
           md5(coalesce((SELECT string_agg(c::text, '|') FROM orchestrator.config c), '')
               || coalesce((SELECT string_agg(a::text, '|' ORDER BY a.id) FROM orchestrator.api a), '')
               || coalesce((SELECT string_agg(w::text, '|' ORDER BY w.id) FROM orchestrator.workflow_type w), '')
               || coalesce((SELECT string_agg(n::text, '|' ORDER BY n.workflow_type_id, n.api_id)
                              FROM orchestrator.workflow_type_api n), '')
               || coalesce((SELECT string_agg(l::text, '|' ORDER BY l.id) FROM orchestrator.audit_log l), '')
               || coalesce((SELECT string_agg(t::text, '|' ORDER BY t.id) FROM orchestrator.task t), '')
               || coalesce((SELECT string_agg(b::text, '|') FROM orchestrator.breaker b), ''))
$$;

SELECT pg_temp.at('2026-03-02 10:00:00+00') IS NOT NULL AS clock_set;
SELECT orchestrator.register_api('gemini', 60, 20) > 0 AS registered;
SELECT orchestrator.register_workflow_type('seo', daily_budget_usd => 10) > 0 AS registered;
SELECT orchestrator.register_workflow_type('plain') > 0 AS registered;
SELECT orchestrator.set_workflow_type_apis('seo', '{"gemini": 1}');
SELECT orchestrator.enqueue('seo', '{}') > 0 AS enqueued;
CREATE TEMP TABLE before AS SELECT * FROM pg_temp.tables();
SELECT apis, types, needs, audit, tasks FROM before;

SELECT call, pg_temp.e(call) AS error FROM (VALUES
    -- register_api
    ('SELECT orchestrator.register_api(''Gemini'', 60)'),
    ('SELECT orchestrator.register_api(NULL, 60)'),
    ('SELECT orchestrator.register_api(''x'', 0)'),
    ('SELECT orchestrator.register_api(''x'', NULL)'),
    ('SELECT orchestrator.register_api(''x'', 1000001)'),
    ('SELECT orchestrator.register_api(''x'', 60, 0)'),
    ('SELECT orchestrator.register_api(''x'', 60, 61)'),
    ('SELECT orchestrator.register_api(''gemini'', 60)'),
    -- alter_api
    ('SELECT orchestrator.alter_api(NULL, ''{"burst": 5}'')'),
    ('SELECT orchestrator.alter_api(''nope'', ''{"burst": 5}'')'),
    ('SELECT orchestrator.alter_api(''gemini'', NULL)'),
    ('SELECT orchestrator.alter_api(''gemini'', ''[]'')'),
    ('SELECT orchestrator.alter_api(''gemini'', ''{"name": "x"}'')'),
    ('SELECT orchestrator.alter_api(''gemini'', ''{"burst": "many"}'')'),
    ('SELECT orchestrator.alter_api(''gemini'', ''{"burst": 61}'')'),
    ('SELECT orchestrator.alter_api(''gemini'', ''{"calls_per_minute": 10}'')'),
    ('SELECT orchestrator.alter_api(''gemini'', ''{"calls_per_minute": null}'')'),
    -- resume_api
    ('SELECT orchestrator.resume_api(NULL)'),
    ('SELECT orchestrator.resume_api(''nope'')'),
    -- set_workflow_type_apis
    ('SELECT orchestrator.set_workflow_type_apis(NULL, ''{}'')'),
    ('SELECT orchestrator.set_workflow_type_apis(''nope'', ''{}'')'),
    ('SELECT orchestrator.set_workflow_type_apis(''seo'', NULL)'),
    ('SELECT orchestrator.set_workflow_type_apis(''seo'', ''[1]'')'),
    ('SELECT orchestrator.set_workflow_type_apis(''seo'', ''{"openai": 1}'')'),
    ('SELECT orchestrator.set_workflow_type_apis(''seo'', ''{"gemini": 1.5}'')'),
    ('SELECT orchestrator.set_workflow_type_apis(''seo'', ''{"gemini": -1}'')'),
    ('SELECT orchestrator.set_workflow_type_apis(''seo'', ''{"gemini": "2"}'')'),
    ('SELECT orchestrator.set_workflow_type_apis(''seo'', ''{"gemini": 100001}'')'),
    -- configure
    ('SELECT orchestrator.configure(NULL)'),
    ('SELECT orchestrator.configure(''"x"'')'),
    ('SELECT orchestrator.configure(''{"budget": 5}'')'),
    ('SELECT orchestrator.configure(''{"daily_budget_usd": "lots"}'')'),
    ('SELECT orchestrator.configure(''{"daily_budget_usd": -1}'')'),
    ('SELECT orchestrator.configure(''{"daily_budget_usd": null}'')'),
    ('SELECT orchestrator.configure(''{"critical_reserve_usd": 501}'')'),
    ('SELECT orchestrator.configure(''{"budget_soft_ratio": 1.5}'')'),
    ('SELECT orchestrator.configure(''{"critical_priority": 0}'')'),
    ('SELECT orchestrator.configure(''{"critical_priority": 12}'')'),
    ('SELECT orchestrator.configure(''{"budget_day_start_hour": 24}'')'),
    ('SELECT orchestrator.configure(''{"time_zone": "Mars/Olympus"}'')'),
    ('SELECT orchestrator.configure(''{"time_zone": null}'')'),
    ('SELECT orchestrator.configure(''{"max_db_connections": 0}'')'),
    ('SELECT orchestrator.configure(''{"max_memory_mb": -5}'')'),
    ('SELECT orchestrator.configure(''{"business_days": 128}'')'),
    ('SELECT orchestrator.configure(''{"business_start": "25:00"}'')'),
    ('SELECT orchestrator.configure(''{"business_end": null}'')'),
    ('SELECT orchestrator.configure(''{"breaker_failure_threshold": 0}'')'),
    ('SELECT orchestrator.configure(''{"breaker_cooldown": "0 seconds"}'')'),
    ('SELECT orchestrator.configure(''{"breaker_cooldown": "2 days"}'')'),
    -- raise_budget
    ('SELECT orchestrator.raise_budget(NULL)'),
    ('SELECT orchestrator.raise_budget(0)'),
    ('SELECT orchestrator.raise_budget(-5)'),
    ('SELECT orchestrator.raise_budget(''NaN'')'),
    ('SELECT orchestrator.raise_budget(1000001)'),
    ('SELECT orchestrator.raise_budget(5, ''nope'')'),
    ('SELECT orchestrator.raise_budget(5, ''plain'')'),
    -- the governance settings of workflow types
    ('SELECT orchestrator.register_workflow_type(''x'', weight_outside_hours => 0)'),
    ('SELECT orchestrator.register_workflow_type(''x'', weight_outside_hours => 1001)'),
    ('SELECT orchestrator.register_workflow_type(''x'', daily_budget_usd => -1)'),
    ('SELECT orchestrator.register_workflow_type(''x'', daily_budget_usd => ''NaN'')'),
    ('SELECT orchestrator.register_workflow_type(''x'', db_connections => -1)'),
    ('SELECT orchestrator.register_workflow_type(''x'', memory_mb => NULL)'),
    ('SELECT orchestrator.register_workflow_type(''x'', max_concurrent => 0)'),
    ('SELECT orchestrator.register_workflow_type(''x'', concurrency_key_limit => 0)'),
    ('SELECT orchestrator.register_workflow_type(''x'', duplicate_key_policy => ''replace'')'),
    ('SELECT orchestrator.register_workflow_type(''seo'')'),
    ('SELECT orchestrator.alter_workflow_type(NULL, ''{"weight": 2}'')'),
    ('SELECT orchestrator.alter_workflow_type(''nope'', ''{"weight": 2}'')'),
    ('SELECT orchestrator.alter_workflow_type(''seo'', ''{"budget_raise_usd": 2}'')'),
    ('SELECT orchestrator.alter_workflow_type(''seo'', ''{"memory_mb": "big"}'')'),
    ('SELECT orchestrator.alter_workflow_type(''seo'', ''{"concurrency_key_limit": null}'')'),
    ('SELECT orchestrator.alter_workflow_type(''seo'', ''{"duplicate_key_policy": "keep"}'')'),
    -- fail_execution: retry_after needs api_name; budget_day_start(NULL) is today's, no error
    ('SELECT orchestrator.fail_execution(1, ''x'', retry_after => ''1 minute'')'),
    ('SELECT orchestrator.budget_day_start(NULL) IS NULL')
) v(call);

SELECT b.apis = a.apis AND b.types = a.types AND b.needs = a.needs AND b.audit = a.audit
       AND b.tasks = a.tasks AS same_counts, b.digest = a.digest AS same_digest
  FROM before b, pg_temp.tables() a;

-- fail_execution naming an unknown API refuses and leaves the execution running.
SELECT count(*) AS executions FROM pg_temp.d(1, '{seo}');
SELECT pg_temp.e(format('SELECT orchestrator.fail_execution(%s, ''x'', api_name => ''nope'')', pg_temp.last('seo')));
SELECT pg_temp.e(format('SELECT orchestrator.fail_execution(%s, ''x'', api_name => ''gemini'', retry_after => ''-1 minute'')', pg_temp.last('seo')));
SELECT status FROM orchestrator.workflow_orchestration WHERE workflow_type = 'seo';
SELECT paused_until FROM orchestrator.api;
SELECT count(*) AS breakers FROM orchestrator.breaker;

-- Successful changes are audited: who, what, old and new values.
TRUNCATE orchestrator.audit_log;
SELECT (orchestrator.alter_api('gemini', '{"calls_per_minute": 100, "burst": 30}')).burst;
SELECT (orchestrator.configure('{"daily_budget_usd": 250, "time_zone": "Europe/Paris"}')).daily_budget_usd;
SELECT orchestrator.set_workflow_type_apis('seo', '{"gemini": 2}');
SELECT orchestrator.raise_budget(5, 'seo');
SELECT orchestrator.resume_api('gemini');
SELECT (orchestrator.alter_workflow_type('seo', '{"concurrency_key_limit": 3}')).concurrency_key_limit;
SELECT orchestrator.register_api('openai', 50) > 0 AS registered;
SELECT actor = session_user AS by_me, at, action, target,
       CASE WHEN action IN ('configure', 'alter_workflow_type', 'alter_api')
            THEN (SELECT jsonb_object_agg(k, old_value -> k) FROM jsonb_object_keys(new_value) k
                   WHERE old_value -> k IS DISTINCT FROM new_value -> k AND k NOT IN ('updated_at'))
            ELSE old_value END AS old_value,
       CASE WHEN action IN ('configure', 'alter_workflow_type', 'alter_api')
            THEN (SELECT jsonb_object_agg(k, new_value -> k) FROM jsonb_object_keys(new_value) k
                   WHERE old_value -> k IS DISTINCT FROM new_value -> k AND k NOT IN ('updated_at'))
            ELSE new_value - 'created_at' - 'updated_at' - 'id' END AS new_value
  FROM orchestrator.audit_log ORDER BY id;

RESET orchestrator.test_now;
DROP EXTENSION orchestrator;
