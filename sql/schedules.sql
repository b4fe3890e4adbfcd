-- Recurring work: a type's schedule (cron or an interval) enqueues one task per slot, from the
-- heartbeat's ANALYZING step (here tick(), on the test clock); twice in one slot enqueues once,
-- and slots missed while nothing ran are made up once.
CREATE EXTENSION orchestrator;
\i sql/helpers/error_of.sql
SET orchestrator.test_now = '2026-01-12 10:07:00+00'; -- a Monday
SELECT orchestrator.register_workflow_type(name) > 0 AS registered
  FROM unnest(ARRAY['seo_monitor', 'digest', 'nightly']) name;

-- Bad schedules are refused with what is wrong, and change nothing.
SELECT pg_temp.error_of($$SELECT orchestrator.set_schedule('nope', '*/15 * * * *')$$);
SELECT pg_temp.error_of($$SELECT orchestrator.set_schedule(NULL, '*/15 * * * *')$$);
SELECT pg_temp.error_of($$SELECT orchestrator.set_schedule('seo_monitor', '*/15 * * *')$$);
SELECT pg_temp.error_of($$SELECT orchestrator.set_schedule('seo_monitor', '*/15 * * * 9')$$);
SELECT pg_temp.error_of($$SELECT orchestrator.set_schedule('seo_monitor', '61 * * * *')$$);
SELECT pg_temp.error_of($$SELECT orchestrator.set_schedule('seo_monitor', '90')$$);
SELECT pg_temp.error_of($$SELECT orchestrator.set_schedule('seo_monitor', 'every so often')$$);
SELECT pg_temp.error_of($$SELECT orchestrator.set_schedule('seo_monitor', '1 month')$$);
SELECT pg_temp.error_of($$SELECT orchestrator.set_schedule('seo_monitor', '30 seconds')$$);
SELECT pg_temp.error_of($$SELECT orchestrator.set_schedule('seo_monitor', '-1 hour')$$);
SELECT pg_temp.error_of($$SELECT orchestrator.set_schedule('seo_monitor', '15 minutes', priority => 11)$$);
SELECT pg_temp.error_of($$SELECT orchestrator.set_schedule('seo_monitor', '15 minutes', payload => NULL)$$);
SELECT count(*) AS schedules, (SELECT count(*) FROM orchestrator.audit_log WHERE action = 'set_schedule') AS audited
  FROM orchestrator.schedule;

-- Every 15 minutes (cron), every hour (interval), and 09:00 Berlin time on weekdays.
SELECT workflow_type_id, cron, every, payload, priority, since, last_slot
  FROM orchestrator.set_schedule('seo_monitor', ' */15  *  * * * ', '{"check": "rankings"}', 7);
SELECT cron, every FROM orchestrator.set_schedule('digest', '1 hour');
SELECT (orchestrator.configure('{"time_zone": "Europe/Berlin"}')).time_zone;
SELECT cron FROM orchestrator.set_schedule('nightly', '0 9 * * 1-5');

CREATE FUNCTION pg_temp.scheduled() RETURNS TABLE (workflow_type text, idempotency_key text,
                                                   priority integer, payload jsonb, created_at timestamptz)
    LANGUAGE sql AS $$
    SELECT w.name, t.idempotency_key, t.priority, t.payload, t.created_at
      FROM orchestrator.task t JOIN orchestrator.workflow_type w ON w.id = t.workflow_type_id
     ORDER BY t.id $$;

-- 10:07: the current slots (10:00, 10:00, Monday 09:00 Berlin = 08:00 UTC) came before the
-- schedules were set: nothing yet.
SELECT orchestrator.tick() AS ran;
SELECT count(*) AS tasks FROM orchestrator.task;

-- 10:15: seo_monitor's slot.
SET orchestrator.test_now = '2026-01-12 10:15:00+00';
SELECT orchestrator.tick() AS ran;
SELECT * FROM pg_temp.scheduled();
-- again in the same slot: nothing more
SET orchestrator.test_now = '2026-01-12 10:29:59+00';
SELECT orchestrator.tick() AS ran;
SELECT count(*) AS tasks FROM orchestrator.task;

-- 11:47: slots 10:30, 10:45, 11:00, 11:15, 11:30, 11:45 were missed: made up once (11:45);
-- digest's 11:00 slot.
SET orchestrator.test_now = '2026-01-12 11:47:00+00';
SELECT orchestrator.tick() AS ran;
SELECT * FROM pg_temp.scheduled();

-- Tuesday 07:59 UTC is 08:59 in Berlin: not yet; 08:00 UTC is 09:00 there.
SET orchestrator.test_now = '2026-01-13 07:59:00+00';
SELECT orchestrator.tick() AS ran;
SELECT count(*) FILTER (WHERE workflow_type = 'nightly') AS nightly FROM pg_temp.scheduled();
SET orchestrator.test_now = '2026-01-13 08:00:00+00';
SELECT orchestrator.tick() AS ran;
SELECT * FROM pg_temp.scheduled() WHERE workflow_type = 'nightly';

-- A paused type's schedule waits; resumed, it makes up the latest slot once.
SELECT orchestrator.pause_workflow_type('seo_monitor');
SET orchestrator.test_now = '2026-01-13 09:10:00+00';
SELECT orchestrator.tick() AS ran;
SELECT count(*) FILTER (WHERE workflow_type = 'seo_monitor' AND created_at = orchestrator.now()) AS while_paused
  FROM pg_temp.scheduled();
SELECT orchestrator.resume_workflow_type('seo_monitor');
SELECT orchestrator.tick() AS ran;
SELECT * FROM pg_temp.scheduled() WHERE created_at = orchestrator.now();

-- Removing a schedule stops it; every change is in the audit log.
SELECT orchestrator.set_schedule('digest', NULL) IS NULL AS removed;
SET orchestrator.test_now = '2026-01-13 12:00:00+00';
SELECT orchestrator.tick() AS ran;
SELECT * FROM pg_temp.scheduled() WHERE created_at = orchestrator.now();
SELECT action, target, old_value ->> 'every' AS old_every, new_value ->> 'cron' AS new_cron,
       new_value ->> 'every' AS new_every
  FROM orchestrator.audit_log WHERE action = 'set_schedule' ORDER BY id;

RESET orchestrator.test_now;
DROP EXTENSION orchestrator;
