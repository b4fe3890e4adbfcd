-- Business hours (days, start, end, time zone) switch each type's weight between weight and
-- weight_outside_hours: 1,000 dispatches inside and outside hours share out by those weights.
CREATE EXTENSION orchestrator;
SET TimeZone = 'UTC';

-- The governance tests' shared helpers (run from the repository root, as the test command does).
\i sql/helpers/governance_helpers.sql

-- Dispatches `calls` times (one execution each, completed at once) and counts each type's share.
CREATE TEMP TABLE picks (round text, workflow_type text);
CREATE FUNCTION pg_temp.run(round text, calls int) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    picked text;
    execution bigint;
BEGIN
    FOR i IN 1 .. calls LOOP
        picked := NULL;
        execution := NULL;
        SELECT e.workflow_type, e.execution_id INTO picked, execution
          FROM orchestrator.orchestrate_next_execution('cal-worker', 1, '{day,night}') e;
        IF execution IS NOT NULL THEN
            PERFORM orchestrator.complete_execution(execution);
        END IF;
        INSERT INTO picks VALUES (round, coalesce(picked, '(none)'));
    END LOOP;
    RETURN calls;
END $$;
CREATE FUNCTION pg_temp.shares(round text, day_share numeric)
    RETURNS TABLE (workflow_type text, dispatched bigint, target numeric, within_10_percent boolean)
    LANGUAGE sql AS $$
    SELECT k.t, coalesce(c.n, 0), k.share * 1000,
           abs(coalesce(c.n, 0) - k.share * 1000) <= 0.1 * k.share * 1000
      FROM (VALUES ('day', $2), ('night', 1 - $2)) k(t, share)
      LEFT JOIN (SELECT p.workflow_type, count(*) AS n FROM picks p WHERE p.round = $1 GROUP BY 1) c
             ON c.workflow_type = k.t
     ORDER BY 1
$$;

-- Monday to Friday, 09:00 to 18:00 in Berlin (UTC+1 in March).
SELECT business_days, business_start, business_end, time_zone
  FROM orchestrator.configure('{"business_days": 31, "business_start": "09:00", "business_end": "18:00",
                                "time_zone": "Europe/Berlin"}');
SELECT orchestrator.register_workflow_type('day', weight => 4, weight_outside_hours => 1,
           db_connections => 0, memory_mb => 0) > 0 AS registered;
SELECT orchestrator.register_workflow_type('night', weight => 1, weight_outside_hours => 4,
           db_connections => 0, memory_mb => 0) > 0 AS registered;
SELECT pg_temp.at('2026-03-02 07:00:00+00') IS NOT NULL AS clock_set;
SELECT pg_temp.fill('day', 3000), pg_temp.fill('night', 3000);

-- Monday 08:30 UTC is 09:30 in Berlin: inside hours, day 4 : night 1.
SELECT pg_temp.at('2026-03-02 08:30:00+00') IS NOT NULL AS clock_set;
SELECT pg_temp.run('monday 09:30', 1000);
SELECT * FROM pg_temp.shares('monday 09:30', 0.8);
-- Monday 17:00 UTC is 18:00 in Berlin: outside hours (the end is excluded), day 1 : night 4.
SELECT pg_temp.at('2026-03-02 17:00:00+00') IS NOT NULL AS clock_set;
SELECT pg_temp.run('monday 18:00', 1000);
SELECT * FROM pg_temp.shares('monday 18:00', 0.2);
-- Saturday noon: outside hours.
SELECT pg_temp.at('2026-03-07 11:00:00+00') IS NOT NULL AS clock_set;
SELECT pg_temp.run('saturday 12:00', 1000);
SELECT * FROM pg_temp.shares('saturday 12:00', 0.2);
-- Friday 08:00 UTC is 09:00 in Berlin: inside again.
SELECT pg_temp.at('2026-03-13 08:00:00+00') IS NOT NULL AS clock_set;
SELECT pg_temp.run('friday 09:00', 1000);
SELECT * FROM pg_temp.shares('friday 09:00', 0.8);
-- Without weight_outside_hours a type keeps its weight outside hours: 4 : 1 on Friday 21:00 too.
SELECT (orchestrator.alter_workflow_type('night', '{"weight_outside_hours": null, "weight": 1}')).weight_outside_hours;
SELECT (orchestrator.alter_workflow_type('day', '{"weight_outside_hours": null}')).weight_outside_hours;
SELECT pg_temp.at('2026-03-13 20:00:00+00') IS NOT NULL AS clock_set;
SELECT pg_temp.run('friday 21:00', 1000);
SELECT * FROM pg_temp.shares('friday 21:00', 0.8);

RESET orchestrator.test_now;
DROP EXTENSION orchestrator;
