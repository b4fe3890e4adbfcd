-- Recurring work: a workflow type may have a schedule, cron (five fields, in the configured time
-- zone) or an interval. Each heartbeat's ANALYZING step enqueues one task per slot that has come
-- since the schedule was set: the latest firing at or before now, so slots missed while nothing
-- ran are made up once, not one by one.
CREATE TABLE orchestrator.schedule (
    workflow_type_id integer PRIMARY KEY
        REFERENCES orchestrator.workflow_type (id) ON DELETE CASCADE,
    cron text,
    every interval,
    payload jsonb NOT NULL DEFAULT '{}',
    priority integer NOT NULL DEFAULT 5 CHECK (priority BETWEEN 1 AND 10),
    since timestamptz NOT NULL,       -- slots up to this one were before the schedule existed
    last_slot timestamptz,            -- the latest slot enqueued
    CHECK ((cron IS NULL) <> (every IS NULL))
);

-- NULL when `expression` is a valid five-field cron schedule, else what is wrong with it.
CREATE FUNCTION orchestrator._cron_problem(expression text) RETURNS text
    LANGUAGE c IMMUTABLE STRICT AS 'MODULE_PATHNAME', 'orchestrator_cron_problem';

-- Sets (or, with NULL, removes) a type's schedule: five cron fields, or an interval of at least a
-- minute ('15 minutes', '1 day'; use cron for monthly work). Audited.
CREATE FUNCTION orchestrator.set_schedule(workflow_type text, schedule text,
                                          payload jsonb DEFAULT '{}', priority integer DEFAULT 5)
    RETURNS orchestrator.schedule
    LANGUAGE plpgsql AS $$
DECLARE
    type_id integer;
    previous orchestrator.schedule;
    updated orchestrator.schedule;
    problem text;
    every interval;
BEGIN
    PERFORM orchestrator._require(workflow_type, 'workflow_type');
    SELECT w.id INTO type_id FROM orchestrator.workflow_type w
     WHERE w.name = set_schedule.workflow_type FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'workflow type "%" does not exist', workflow_type USING ERRCODE = 'P0002';
    END IF;
    SELECT * INTO previous FROM orchestrator.schedule s WHERE s.workflow_type_id = type_id;
    IF schedule IS NULL THEN
        DELETE FROM orchestrator.schedule s WHERE s.workflow_type_id = type_id;
        PERFORM orchestrator._audit('set_schedule', workflow_type, to_jsonb(previous), NULL);
        RETURN NULL;
    END IF;
    IF payload IS NULL THEN
        RAISE EXCEPTION 'payload must not be null' USING ERRCODE = '22004';
    END IF;
    IF priority IS NULL OR priority NOT BETWEEN 1 AND 10 THEN
        RAISE EXCEPTION 'priority must be between 1 and 10' USING ERRCODE = '22023';
    END IF;
    updated.workflow_type_id := type_id;
    updated.payload := payload;
    updated.priority := priority;
    updated.since := orchestrator.now();
    -- Cron is digits, '*', ',', '/' and '-'; an interval has words ('15 minutes') or colons.
    IF btrim(schedule) ~ '^[0-9*,/-]+(\s+[0-9*,/-]+)*$' THEN
        problem := orchestrator._cron_problem(btrim(schedule));
        IF problem IS NOT NULL THEN
            RAISE EXCEPTION 'invalid cron schedule "%"', schedule USING ERRCODE = '22023',
                DETAIL = upper(left(problem, 1)) || substr(problem, 2) || '.',
                HINT = 'Five fields: minute hour day-of-month month day-of-week, e.g. ''*/15 * * * *''.';
        END IF;
        updated.cron := regexp_replace(btrim(schedule), '\s+', ' ', 'g');
    ELSE
        BEGIN
            every := schedule::interval;
        EXCEPTION WHEN invalid_datetime_format OR datetime_field_overflow OR interval_field_overflow THEN
            RAISE EXCEPTION 'invalid schedule "%"', schedule USING ERRCODE = '22023',
                HINT = 'Give five cron fields (''0 9 * * 1-5'') or an interval (''15 minutes'').';
        END;
        IF date_part('year', every) <> 0 OR date_part('month', every) <> 0 THEN
            RAISE EXCEPTION 'an interval schedule cannot count months or years' USING ERRCODE = '22023',
                HINT = 'Months differ in length: use cron, e.g. ''0 6 1 * *'' for the 1st of each month.';
        END IF;
        IF every < interval '1 minute' THEN
            RAISE EXCEPTION 'an interval schedule must be at least a minute' USING ERRCODE = '22023';
        END IF;
        updated.every := every;
    END IF;
    INSERT INTO orchestrator.schedule AS s VALUES (updated.*)
        ON CONFLICT (workflow_type_id) DO UPDATE
        SET cron = excluded.cron, every = excluded.every, payload = excluded.payload,
            priority = excluded.priority, since = excluded.since, last_slot = NULL
        RETURNING s.* INTO updated;
    PERFORM orchestrator._audit('set_schedule', workflow_type, to_jsonb(previous), to_jsonb(updated));
    RETURN updated;
END $$;
