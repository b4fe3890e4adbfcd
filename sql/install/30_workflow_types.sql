-- Registering and changing workflow types. Every value is checked here, with SQLSTATE 22023,
-- before anything is written.

-- Refuses a missing argument with 22004 before anything is looked up.
CREATE FUNCTION orchestrator._require(value text, what text) RETURNS void
    LANGUAGE plpgsql AS $$
BEGIN
    IF value IS NULL THEN
        RAISE EXCEPTION '% must not be null', what USING ERRCODE = '22004';
    END IF;
END $$;

CREATE FUNCTION orchestrator._check_workflow_type(t orchestrator.workflow_type) RETURNS void
    LANGUAGE plpgsql AS $$
BEGIN
    IF t.name IS NULL OR t.name !~ '^[a-z][a-z0-9_]{0,62}$' OR t.name = 'orchestrator' THEN
        RAISE EXCEPTION 'invalid workflow type name: %', coalesce(quote_literal(t.name), 'NULL')
            USING ERRCODE = '22023',
                  HINT = 'Use lowercase letters, digits and underscores, starting with a letter (at most 63); "orchestrator" is reserved.';
    END IF;
    IF t.weight IS NULL OR t.weight NOT BETWEEN 1 AND 1000 THEN
        RAISE EXCEPTION 'weight must be between 1 and 1000' USING ERRCODE = '22023';
    END IF;
    IF t.batch_min IS NULL OR t.batch_max IS NULL OR t.batch_min NOT BETWEEN 1 AND 1000
       OR t.batch_max NOT BETWEEN 1 AND 1000 OR t.batch_min > t.batch_max THEN
        RAISE EXCEPTION 'batch sizes must satisfy 1 <= batch_min <= batch_max <= 1000'
            USING ERRCODE = '22023';
    END IF;
    IF t.lease_timeout IS NULL OR t.lease_timeout NOT BETWEEN interval '1 second' AND interval '1 day' THEN
        RAISE EXCEPTION 'lease_timeout must be between 1 second and 1 day' USING ERRCODE = '22023';
    END IF;
    IF t.max_attempts IS NULL OR t.max_attempts NOT BETWEEN 1 AND 100 THEN
        RAISE EXCEPTION 'max_attempts must be between 1 and 100' USING ERRCODE = '22023';
    END IF;
    IF t.max_concurrent IS NOT NULL AND t.max_concurrent NOT BETWEEN 1 AND 100000 THEN
        RAISE EXCEPTION 'max_concurrent must be between 1 and 100000, or null for no cap'
            USING ERRCODE = '22023';
    END IF;
    IF t.max_queue_wait IS NOT NULL AND t.max_queue_wait <= interval '0' THEN
        RAISE EXCEPTION 'max_queue_wait must be positive, or null for no limit' USING ERRCODE = '22023';
    END IF;
    IF t.estimated_cost_usd IS NULL OR t.estimated_cost_usd < 0 OR t.estimated_cost_usd = 'NaN' THEN
        RAISE EXCEPTION 'estimated_cost_usd must be a number of at least 0' USING ERRCODE = '22023';
    END IF;
    IF t.weight_outside_hours IS NOT NULL AND t.weight_outside_hours NOT BETWEEN 1 AND 1000 THEN
        RAISE EXCEPTION 'weight_outside_hours must be between 1 and 1000, or null for the same weight'
            USING ERRCODE = '22023';
    END IF;
    IF t.daily_budget_usd IS NOT NULL AND (t.daily_budget_usd < 0 OR t.daily_budget_usd = 'NaN') THEN
        RAISE EXCEPTION 'daily_budget_usd must be at least 0, or null for none' USING ERRCODE = '22023';
    END IF;
    IF t.db_connections IS NULL OR t.db_connections NOT BETWEEN 0 AND 10000
       OR t.memory_mb IS NULL OR t.memory_mb NOT BETWEEN 0 AND 1000000 THEN
        RAISE EXCEPTION 'db_connections (0..10000) and memory_mb (0..1000000) are what one execution holds'
            USING ERRCODE = '22023';
    END IF;
    IF t.concurrency_key_limit IS NULL OR t.concurrency_key_limit NOT BETWEEN 1 AND 10000 THEN
        RAISE EXCEPTION 'concurrency_key_limit must be between 1 and 10000' USING ERRCODE = '22023';
    END IF;
    IF t.duplicate_key_policy IS NULL OR t.duplicate_key_policy NOT IN ('queue', 'drop') THEN
        RAISE EXCEPTION 'duplicate_key_policy must be queue or drop' USING ERRCODE = '22023';
    END IF;
    IF length(t.webhook_url) > 2000 OR length(t.n8n_workflow_id) > 200 THEN
        RAISE EXCEPTION 'webhook_url (2000) or n8n_workflow_id (200) is too long' USING ERRCODE = '22023';
    END IF;
END $$;

-- Registers a workflow type; returns its id.
CREATE FUNCTION orchestrator.register_workflow_type(
    name text,
    weight integer DEFAULT 1,
    batch_min integer DEFAULT 1,
    batch_max integer DEFAULT 1,
    lease_timeout interval DEFAULT '5 minutes',
    max_attempts integer DEFAULT 3,
    max_concurrent integer DEFAULT NULL,
    max_queue_wait interval DEFAULT NULL,
    estimated_cost_usd numeric DEFAULT 0,
    webhook_url text DEFAULT NULL,
    n8n_workflow_id text DEFAULT NULL,
    weight_outside_hours integer DEFAULT NULL,
    daily_budget_usd numeric DEFAULT NULL,
    db_connections integer DEFAULT 1,
    memory_mb integer DEFAULT 128,
    concurrency_key_limit integer DEFAULT 1,
    duplicate_key_policy text DEFAULT 'queue'
) RETURNS integer
    LANGUAGE plpgsql AS $$
DECLARE
    t orchestrator.workflow_type;
    new_id integer;
BEGIN
    t.name := name; t.weight := weight; t.batch_min := batch_min; t.batch_max := batch_max;
    t.lease_timeout := lease_timeout; t.max_attempts := max_attempts;
    t.max_concurrent := max_concurrent; t.max_queue_wait := max_queue_wait;
    t.estimated_cost_usd := estimated_cost_usd; t.webhook_url := webhook_url;
    t.n8n_workflow_id := n8n_workflow_id; t.weight_outside_hours := weight_outside_hours;
    t.daily_budget_usd := daily_budget_usd; t.db_connections := db_connections;
    t.memory_mb := memory_mb; t.concurrency_key_limit := concurrency_key_limit;
    t.duplicate_key_policy := duplicate_key_policy;
    PERFORM orchestrator._check_workflow_type(t);
    INSERT INTO orchestrator.workflow_type AS w (name, weight, batch_min, batch_max, lease_timeout,
        max_attempts, max_concurrent, max_queue_wait, estimated_cost_usd, webhook_url,
        n8n_workflow_id, weight_outside_hours, daily_budget_usd, db_connections, memory_mb,
        concurrency_key_limit, duplicate_key_policy, created_at, updated_at)
    VALUES (t.name, t.weight, t.batch_min, t.batch_max, t.lease_timeout, t.max_attempts,
        t.max_concurrent, t.max_queue_wait, t.estimated_cost_usd, t.webhook_url,
        t.n8n_workflow_id, t.weight_outside_hours, t.daily_budget_usd, t.db_connections,
        t.memory_mb, t.concurrency_key_limit, t.duplicate_key_policy, orchestrator.now(),
        orchestrator.now())
    ON CONFLICT ON CONSTRAINT workflow_type_name_key DO NOTHING
    RETURNING w.id INTO new_id;
    IF new_id IS NULL THEN
        RAISE EXCEPTION 'workflow type "%" already exists', t.name
            USING ERRCODE = '42710', HINT = 'Change it with orchestrator.alter_workflow_type().';
    END IF;
    PERFORM orchestrator._audit('register_workflow_type', t.name, NULL,
        to_jsonb(t) - 'id' - 'created_at' - 'updated_at');
    RETURN new_id;
END $$;

-- Changes a workflow type: changes is a JSON object of the columns to set, e.g.
-- {"weight": 3, "max_concurrent": null}. JSON null clears an optional setting.
CREATE FUNCTION orchestrator.alter_workflow_type(name text, changes jsonb)
    RETURNS orchestrator.workflow_type
    LANGUAGE plpgsql AS $$
DECLARE
    t orchestrator.workflow_type;
    old orchestrator.workflow_type;
    unknown text;
BEGIN
    PERFORM orchestrator._require(name, 'name');
    IF changes IS NULL OR jsonb_typeof(changes) <> 'object' THEN
        RAISE EXCEPTION 'changes must be a JSON object' USING ERRCODE = '22023';
    END IF;
    SELECT string_agg(k, ', ') INTO unknown FROM jsonb_object_keys(changes) k
     WHERE k NOT IN ('weight', 'batch_min', 'batch_max', 'lease_timeout', 'max_attempts',
                     'max_concurrent', 'max_queue_wait', 'estimated_cost_usd', 'webhook_url',
                     'n8n_workflow_id', 'weight_outside_hours', 'daily_budget_usd',
                     'db_connections', 'memory_mb', 'concurrency_key_limit',
                     'duplicate_key_policy');
    IF unknown IS NOT NULL THEN
        RAISE EXCEPTION 'cannot change %', unknown USING ERRCODE = '22023',
            HINT = 'Settable: weight, batch_min, batch_max, lease_timeout, max_attempts, max_concurrent, max_queue_wait, estimated_cost_usd, webhook_url, n8n_workflow_id, weight_outside_hours, daily_budget_usd, db_connections, memory_mb, concurrency_key_limit, duplicate_key_policy.';
    END IF;
    SELECT * INTO t FROM orchestrator.workflow_type w WHERE w.name = alter_workflow_type.name
       FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'workflow type "%" does not exist', name USING ERRCODE = 'P0002';
    END IF;
    old := t;
    BEGIN
        t := jsonb_populate_record(t, changes);
    EXCEPTION WHEN data_exception THEN
        RAISE EXCEPTION 'changes has a value of the wrong type' USING ERRCODE = '22023',
            DETAIL = SQLERRM;
    END;
    PERFORM orchestrator._check_workflow_type(t);
    UPDATE orchestrator.workflow_type w
       SET weight = t.weight, batch_min = t.batch_min, batch_max = t.batch_max,
           lease_timeout = t.lease_timeout, max_attempts = t.max_attempts,
           max_concurrent = t.max_concurrent, max_queue_wait = t.max_queue_wait,
           estimated_cost_usd = t.estimated_cost_usd, webhook_url = t.webhook_url,
           n8n_workflow_id = t.n8n_workflow_id, weight_outside_hours = t.weight_outside_hours,
           daily_budget_usd = t.daily_budget_usd, db_connections = t.db_connections,
           memory_mb = t.memory_mb, concurrency_key_limit = t.concurrency_key_limit,
           duplicate_key_policy = t.duplicate_key_policy, updated_at = orchestrator.now()
     WHERE w.id = t.id
    RETURNING * INTO t;
    PERFORM orchestrator._audit('alter_workflow_type', t.name, to_jsonb(old), to_jsonb(t));
    RETURN t;
END $$;

CREATE FUNCTION orchestrator._set_paused(name text, paused boolean) RETURNS boolean
    LANGUAGE plpgsql AS $$
BEGIN
    PERFORM orchestrator._require(name, 'name');
    UPDATE orchestrator.workflow_type w SET paused = _set_paused.paused, updated_at = orchestrator.now()
     WHERE w.name = _set_paused.name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'workflow type "%" does not exist', name USING ERRCODE = 'P0002';
    END IF;
    PERFORM orchestrator._audit(CASE WHEN paused THEN 'pause_workflow_type' ELSE 'resume_workflow_type' END,
        name, jsonb_build_object('paused', NOT paused), jsonb_build_object('paused', paused));
    RETURN true;
END $$;

-- A paused type keeps accepting tasks but none is dispatched until it is resumed. Both return
-- true once done.
CREATE FUNCTION orchestrator.pause_workflow_type(name text) RETURNS boolean
    LANGUAGE sql AS $$ SELECT orchestrator._set_paused(name, true) $$;

CREATE FUNCTION orchestrator.resume_workflow_type(name text) RETURNS boolean
    LANGUAGE sql AS $$ SELECT orchestrator._set_paused(name, false) $$;

-- Removes a type with no queued or running tasks, with its finished history.
CREATE FUNCTION orchestrator.remove_workflow_type(name text) RETURNS boolean
    LANGUAGE plpgsql AS $$
DECLARE
    removed orchestrator.workflow_type;
    type_id integer;
    open_tasks bigint;
BEGIN
    PERFORM orchestrator._require(name, 'name');
    SELECT * INTO removed FROM orchestrator.workflow_type w
     WHERE w.name = remove_workflow_type.name FOR UPDATE;
    type_id := removed.id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'workflow type "%" does not exist', name USING ERRCODE = 'P0002';
    END IF;
    SELECT count(*) INTO open_tasks FROM orchestrator.task t
     WHERE t.workflow_type_id = type_id AND t.state IN ('queued', 'running', 'dead_letter');
    IF open_tasks > 0 THEN
        RAISE EXCEPTION 'workflow type "%" still has % queued, running or dead-lettered tasks', name, open_tasks
            USING ERRCODE = '55006',
                  HINT = 'Cancel them with orchestrator.cancel_tasks() and discard its dead letters first.';
    END IF;
    DELETE FROM orchestrator.task t WHERE t.workflow_type_id = type_id;
    DELETE FROM orchestrator.workflow_type_api n WHERE n.workflow_type_id = type_id;
    DELETE FROM orchestrator.workflow_type w WHERE w.id = type_id;
    PERFORM orchestrator._audit('remove_workflow_type', name, to_jsonb(removed), NULL);
    RETURN true;
END $$;

-- Loads a ready-made setup. 'n8n-content': the four workflows of the original brief, the two
-- AI APIs they share (gemini 60/min, openai 50/min) and the $500 daily budget, with the content
-- pipeline held to $300 of it. Types and APIs that already exist are left as they are.
CREATE FUNCTION orchestrator.apply_preset(preset text DEFAULT 'n8n-content') RETURNS setof text
    LANGUAGE plpgsql AS $$
DECLARE
    s record;
BEGIN
    IF preset IS DISTINCT FROM 'n8n-content' THEN
        RAISE EXCEPTION 'unknown preset: %', coalesce(quote_literal(preset), 'NULL')
            USING ERRCODE = '22023', HINT = 'Available: n8n-content.';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM orchestrator.api a WHERE a.name = 'gemini') THEN
        PERFORM orchestrator.register_api('gemini', 60, 20);
        RETURN NEXT 'api:gemini';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM orchestrator.api a WHERE a.name = 'openai') THEN
        PERFORM orchestrator.register_api('openai', 50, 15);
        RETURN NEXT 'api:openai';
    END IF;
    FOR s IN SELECT * FROM (VALUES
        -- name, weight by day, by night, batch, cost per task, budget, connections, memory, calls
        ('content_pipeline', 4, 1, 1, 10, 0.05, 300, 2, 256, '{"gemini": 1, "openai": 1}'::jsonb),
        ('seo_monitor', 2, 3, 1, 10, 0.01, NULL, 1, 128, '{"gemini": 1}'),
        ('revenue_optimizer', 2, 1, 1, 5, 0.02, NULL, 1, 128, '{"openai": 1}'),
        ('intelligence_engine', 1, 4, 1, 1, 0.08, NULL, 2, 512, '{"gemini": 2, "openai": 1}'))
        v(name, weight, night_weight, batch_min, batch_max, cost, budget, connections, memory, calls)
    LOOP
        CONTINUE WHEN EXISTS (SELECT 1 FROM orchestrator.workflow_type w WHERE w.name = s.name);
        PERFORM orchestrator.register_workflow_type(s.name, weight => s.weight,
            weight_outside_hours => s.night_weight, batch_min => s.batch_min,
            batch_max => s.batch_max, estimated_cost_usd => s.cost, daily_budget_usd => s.budget,
            db_connections => s.connections, memory_mb => s.memory);
        PERFORM orchestrator.set_workflow_type_apis(s.name, s.calls);
        RETURN NEXT s.name;
    END LOOP;
END $$;
