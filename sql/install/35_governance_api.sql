-- Configuring governance: APIs and their limits, what each type needs, the budget and global
-- settings. Every change is checked (22023) and written to the audit log.

CREATE FUNCTION orchestrator._audit(action text, target text, old_value jsonb, new_value jsonb)
    RETURNS void
    LANGUAGE sql AS $$
    INSERT INTO orchestrator.audit_log (at, actor, action, target, old_value, new_value)
    VALUES (orchestrator.now(), session_user, action, target, old_value, new_value)
$$;

-- The start of the budget day containing `at`, in the configured time zone and start hour.
CREATE FUNCTION orchestrator.budget_day_start(at timestamptz DEFAULT NULL) RETURNS timestamptz
    LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'orchestrator_budget_day_start';

CREATE FUNCTION orchestrator._check_api(a orchestrator.api) RETURNS void
    LANGUAGE plpgsql AS $$
BEGIN
    IF a.name IS NULL OR a.name !~ '^[a-z][a-z0-9_]{0,62}$' THEN
        RAISE EXCEPTION 'invalid API name: %', coalesce(quote_literal(a.name), 'NULL')
            USING ERRCODE = '22023',
                  HINT = 'Use lowercase letters, digits and underscores, starting with a letter (at most 63).';
    END IF;
    IF a.calls_per_minute IS NULL OR a.calls_per_minute NOT BETWEEN 1 AND 1000000 THEN
        RAISE EXCEPTION 'calls_per_minute must be between 1 and 1000000' USING ERRCODE = '22023';
    END IF;
    IF a.burst IS NULL OR a.burst NOT BETWEEN 1 AND a.calls_per_minute THEN
        RAISE EXCEPTION 'burst must be between 1 and calls_per_minute' USING ERRCODE = '22023';
    END IF;
END $$;

-- Registers an API with its rate limit; burst defaults to the whole minute's calls.
CREATE FUNCTION orchestrator.register_api(name text, calls_per_minute integer,
                                          burst integer DEFAULT NULL) RETURNS integer
    LANGUAGE plpgsql AS $$
DECLARE
    a orchestrator.api;
BEGIN
    PERFORM orchestrator._require(name, 'name');
    a.name := name; a.calls_per_minute := calls_per_minute;
    a.burst := coalesce(burst, calls_per_minute);
    PERFORM orchestrator._check_api(a);
    INSERT INTO orchestrator.api AS x (name, calls_per_minute, burst, created_at, updated_at)
    VALUES (a.name, a.calls_per_minute, a.burst, orchestrator.now(), orchestrator.now())
    ON CONFLICT ON CONSTRAINT api_name_key DO NOTHING
    RETURNING x.id INTO a.id;
    IF a.id IS NULL THEN
        RAISE EXCEPTION 'API "%" already exists', a.name USING ERRCODE = '42710',
            HINT = 'Change it with orchestrator.alter_api().';
    END IF;
    PERFORM orchestrator._audit('register_api', a.name, NULL, to_jsonb(a));
    RETURN a.id;
END $$;

-- Changes an API: {"calls_per_minute": 50, "burst": 10}.
CREATE FUNCTION orchestrator.alter_api(name text, changes jsonb) RETURNS orchestrator.api
    LANGUAGE plpgsql AS $$
DECLARE
    a orchestrator.api;
    old orchestrator.api;
BEGIN
    PERFORM orchestrator._require(name, 'name');
    IF changes IS NULL OR jsonb_typeof(changes) <> 'object'
       OR EXISTS (SELECT 1 FROM jsonb_object_keys(changes) k WHERE k NOT IN ('calls_per_minute', 'burst')) THEN
        RAISE EXCEPTION 'changes must be a JSON object of calls_per_minute and burst' USING ERRCODE = '22023';
    END IF;
    SELECT * INTO old FROM orchestrator.api x WHERE x.name = alter_api.name FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'API "%" does not exist', name USING ERRCODE = 'P0002';
    END IF;
    BEGIN
        a := jsonb_populate_record(old, changes);
    EXCEPTION WHEN data_exception THEN
        RAISE EXCEPTION 'changes has a value of the wrong type' USING ERRCODE = '22023', DETAIL = SQLERRM;
    END;
    PERFORM orchestrator._check_api(a);
    UPDATE orchestrator.api x SET calls_per_minute = a.calls_per_minute, burst = a.burst,
           updated_at = orchestrator.now()
     WHERE x.id = a.id RETURNING * INTO a;
    PERFORM orchestrator._audit('alter_api', a.name, to_jsonb(old), to_jsonb(a));
    RETURN a;
END $$;

-- Lifts a 429 pause before its retry-after has passed.
CREATE FUNCTION orchestrator.resume_api(name text) RETURNS boolean
    LANGUAGE plpgsql AS $$
DECLARE
    until timestamptz;
BEGIN
    PERFORM orchestrator._require(name, 'name');
    SELECT x.paused_until INTO until FROM orchestrator.api x WHERE x.name = resume_api.name FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'API "%" does not exist', name USING ERRCODE = 'P0002';
    END IF;
    UPDATE orchestrator.api x SET paused_until = NULL, updated_at = orchestrator.now()
     WHERE x.name = resume_api.name;
    PERFORM orchestrator._audit('resume_api', name, jsonb_build_object('paused_until', until),
                                jsonb_build_object('paused_until', NULL));
    RETURN true;
END $$;

-- Sets the calls one task of a type makes on each API: {"gemini": 2, "openai": 1}. Replaces the
-- type's previous needs; {} clears them.
CREATE FUNCTION orchestrator.set_workflow_type_apis(workflow_type text, calls_per_task jsonb)
    RETURNS jsonb
    LANGUAGE plpgsql AS $$
DECLARE
    type_id integer;
    old jsonb;
    bad text;
BEGIN
    PERFORM orchestrator._require(workflow_type, 'workflow_type');
    SELECT w.id INTO type_id FROM orchestrator.workflow_type w WHERE w.name = workflow_type FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'workflow type "%" does not exist', workflow_type USING ERRCODE = 'P0002';
    END IF;
    IF calls_per_task IS NULL OR jsonb_typeof(calls_per_task) <> 'object' THEN
        RAISE EXCEPTION 'calls_per_task must be a JSON object of API name to calls' USING ERRCODE = '22023';
    END IF;
    SELECT string_agg(k, ', ') INTO bad FROM jsonb_object_keys(calls_per_task) k
     WHERE NOT EXISTS (SELECT 1 FROM orchestrator.api a WHERE a.name = k);
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'unknown API: %', bad USING ERRCODE = 'P0002',
            HINT = 'Register it with orchestrator.register_api().';
    END IF;
    SELECT string_agg(j.key, ', ') INTO bad FROM jsonb_each(calls_per_task) j
     WHERE jsonb_typeof(j.value) <> 'number' OR j.value::numeric <> trunc(j.value::numeric)
        OR j.value::numeric NOT BETWEEN 0 AND 100000;
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'calls per task must be whole numbers from 0 to 100000: %', bad USING ERRCODE = '22023';
    END IF;
    SELECT coalesce(jsonb_object_agg(a.name, n.calls_per_task), '{}') INTO old
      FROM orchestrator.workflow_type_api n JOIN orchestrator.api a ON a.id = n.api_id
     WHERE n.workflow_type_id = type_id;
    DELETE FROM orchestrator.workflow_type_api n WHERE n.workflow_type_id = type_id;
    INSERT INTO orchestrator.workflow_type_api (workflow_type_id, api_id, calls_per_task)
    SELECT type_id, a.id, j.value::integer FROM jsonb_each(calls_per_task) j
      JOIN orchestrator.api a ON a.name = j.key;
    PERFORM orchestrator._audit('set_workflow_type_apis', workflow_type, old, calls_per_task);
    RETURN calls_per_task;
END $$;

-- Changes global settings: {"daily_budget_usd": 400, "time_zone": "Europe/Berlin", ...}.
CREATE FUNCTION orchestrator.configure(changes jsonb) RETURNS orchestrator.config
    LANGUAGE plpgsql AS $$
DECLARE
    c orchestrator.config;
    old orchestrator.config;
    unknown text;
BEGIN
    IF changes IS NULL OR jsonb_typeof(changes) <> 'object' THEN
        RAISE EXCEPTION 'changes must be a JSON object' USING ERRCODE = '22023';
    END IF;
    SELECT string_agg(k, ', ') INTO unknown FROM jsonb_object_keys(changes) k
     WHERE k NOT IN ('daily_budget_usd', 'budget_soft_ratio', 'critical_priority',
                     'critical_reserve_usd', 'budget_day_start_hour', 'time_zone',
                     'max_db_connections', 'max_memory_mb', 'business_days', 'business_start',
                     'business_end', 'breaker_failure_threshold', 'breaker_cooldown',
                     'task_retention', 'execution_retention', 'metric_retention');
    IF unknown IS NOT NULL THEN
        RAISE EXCEPTION 'cannot configure %', unknown USING ERRCODE = '22023';
    END IF;
    SELECT * INTO old FROM orchestrator.config FOR UPDATE;
    BEGIN
        c := jsonb_populate_record(old, changes);
    EXCEPTION WHEN data_exception THEN
        RAISE EXCEPTION 'changes has a value of the wrong type' USING ERRCODE = '22023', DETAIL = SQLERRM;
    END;
    IF c.daily_budget_usd IS NULL OR c.daily_budget_usd < 0 OR c.daily_budget_usd = 'NaN'
       OR c.critical_reserve_usd IS NULL OR c.critical_reserve_usd < 0
       OR c.critical_reserve_usd > c.daily_budget_usd THEN
        RAISE EXCEPTION 'daily_budget_usd and critical_reserve_usd must satisfy 0 <= reserve <= budget'
            USING ERRCODE = '22023';
    END IF;
    IF c.budget_soft_ratio IS NULL OR c.budget_soft_ratio NOT BETWEEN 0 AND 1 THEN
        RAISE EXCEPTION 'budget_soft_ratio must be between 0 and 1' USING ERRCODE = '22023';
    END IF;
    IF c.critical_priority IS NULL OR c.critical_priority NOT BETWEEN 1 AND 11 THEN
        RAISE EXCEPTION 'critical_priority must be between 1 and 10, or 11 for none' USING ERRCODE = '22023';
    END IF;
    IF c.budget_day_start_hour IS NULL OR c.budget_day_start_hour NOT BETWEEN 0 AND 23 THEN
        RAISE EXCEPTION 'budget_day_start_hour must be between 0 and 23' USING ERRCODE = '22023';
    END IF;
    IF c.time_zone IS NULL OR NOT EXISTS (SELECT 1 FROM pg_catalog.pg_timezone_names z WHERE z.name = c.time_zone) THEN
        RAISE EXCEPTION 'unknown time zone: %', coalesce(c.time_zone, 'NULL') USING ERRCODE = '22023';
    END IF;
    IF c.max_db_connections IS NULL OR c.max_db_connections NOT BETWEEN 1 AND 100000
       OR c.max_memory_mb IS NULL OR c.max_memory_mb NOT BETWEEN 1 AND 100000000 THEN
        RAISE EXCEPTION 'max_db_connections and max_memory_mb must be positive' USING ERRCODE = '22023';
    END IF;
    IF c.business_days IS NULL OR c.business_days NOT BETWEEN 0 AND 127
       OR c.business_start IS NULL OR c.business_end IS NULL THEN
        RAISE EXCEPTION 'business_days is a bit mask 0..127 (bit 0 Monday) with start and end times'
            USING ERRCODE = '22023';
    END IF;
    IF c.breaker_failure_threshold IS NULL OR c.breaker_failure_threshold NOT BETWEEN 1 AND 1000
       OR c.breaker_cooldown IS NULL OR c.breaker_cooldown NOT BETWEEN interval '1 second' AND interval '1 day' THEN
        RAISE EXCEPTION 'breaker_failure_threshold must be 1..1000 and breaker_cooldown 1 second..1 day'
            USING ERRCODE = '22023';
    END IF;
    -- Executions are kept at least two days: the budget day's spend is summed from them.
    IF c.task_retention IS NULL OR c.task_retention NOT BETWEEN interval '1 hour' AND interval '10 years'
       OR c.execution_retention IS NULL
       OR c.execution_retention NOT BETWEEN interval '2 days' AND interval '10 years'
       OR c.metric_retention IS NULL
       OR c.metric_retention NOT BETWEEN interval '2 days' AND interval '10 years' THEN
        RAISE EXCEPTION 'task_retention must be 1 hour..10 years, execution_retention and metric_retention 2 days..10 years'
            USING ERRCODE = '22023';
    END IF;
    c.updated_at := orchestrator.now();
    UPDATE orchestrator.config SET
        daily_budget_usd = c.daily_budget_usd, budget_soft_ratio = c.budget_soft_ratio,
        critical_priority = c.critical_priority, critical_reserve_usd = c.critical_reserve_usd,
        budget_day_start_hour = c.budget_day_start_hour, time_zone = c.time_zone,
        max_db_connections = c.max_db_connections, max_memory_mb = c.max_memory_mb,
        business_days = c.business_days, business_start = c.business_start,
        business_end = c.business_end, breaker_failure_threshold = c.breaker_failure_threshold,
        breaker_cooldown = c.breaker_cooldown, task_retention = c.task_retention,
        execution_retention = c.execution_retention, metric_retention = c.metric_retention,
        updated_at = c.updated_at
    RETURNING * INTO c;
    PERFORM orchestrator._audit('configure', NULL, to_jsonb(old), to_jsonb(c));
    RETURN c;
END $$;

-- Raises the daily budget, or one type's, by amount_usd for the rest of the current budget day.
CREATE FUNCTION orchestrator.raise_budget(amount_usd numeric, workflow_type text DEFAULT NULL)
    RETURNS numeric
    LANGUAGE plpgsql AS $$
DECLARE
    day timestamptz := orchestrator.budget_day_start();
    before numeric;
    after numeric;
BEGIN
    IF amount_usd IS NULL OR amount_usd <= 0 OR amount_usd = 'NaN' OR amount_usd > 1000000 THEN
        RAISE EXCEPTION 'amount_usd must be a positive number up to 1000000' USING ERRCODE = '22023';
    END IF;
    IF workflow_type IS NULL THEN
        SELECT CASE WHEN c.budget_raise_day = day THEN c.budget_raise_usd ELSE 0 END INTO before
          FROM orchestrator.config c FOR UPDATE;
        after := before + amount_usd;
        UPDATE orchestrator.config SET budget_raise_usd = after, budget_raise_day = day;
    ELSE
        SELECT CASE WHEN w.budget_raise_day = day THEN w.budget_raise_usd ELSE 0 END INTO before
          FROM orchestrator.workflow_type w WHERE w.name = raise_budget.workflow_type FOR UPDATE;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'workflow type "%" does not exist', workflow_type USING ERRCODE = 'P0002';
        END IF;
        IF (SELECT w.daily_budget_usd FROM orchestrator.workflow_type w
             WHERE w.name = raise_budget.workflow_type) IS NULL THEN
            RAISE EXCEPTION 'workflow type "%" has no budget of its own to raise', workflow_type
                USING ERRCODE = '22023', HINT = 'Set daily_budget_usd with orchestrator.alter_workflow_type().';
        END IF;
        after := before + amount_usd;
        UPDATE orchestrator.workflow_type w SET budget_raise_usd = after, budget_raise_day = day
         WHERE w.name = raise_budget.workflow_type;
    END IF;
    PERFORM orchestrator._audit('raise_budget', coalesce(workflow_type, 'global'),
        jsonb_build_object('raise_usd', before), jsonb_build_object('raise_usd', after, 'day', day));
    RETURN after;
END $$;
