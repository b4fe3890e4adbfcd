-- Shadowing: a role that may call the whole API (orchestrator_admin) and nothing more fills
-- public and pg_temp with functions, operators, tables and views named like PostgreSQL's and
-- ours, each raising an error if ever used, puts them first in its search_path and calls every
-- API function. The results are the expected ones and no shadow object runs.
CREATE EXTENSION orchestrator;
CREATE ROLE orchestrator_test_shadow NOLOGIN;
GRANT orchestrator_admin TO orchestrator_test_shadow;
GRANT CREATE ON SCHEMA public TO orchestrator_test_shadow;
SET orchestrator.test_now = '2026-05-01 10:00:00+00';
-- An alert to acknowledge.
INSERT INTO orchestrator.alert (condition, severity, message, value, threshold, raised_at)
VALUES ('queue_depth', 'warning', 'test alert', 600, 500, orchestrator.now());
SET ROLE orchestrator_test_shadow;

CREATE FUNCTION public.shadow_ran(what text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'shadow object % ran', what;
END $$;

-- Functions named like the built-ins the orchestrator calls.
CREATE FUNCTION public.now() RETURNS timestamptz LANGUAGE sql AS $$ SELECT NULL::timestamptz WHERE public.shadow_ran('now()') $$;
CREATE FUNCTION public.jsonb_typeof(jsonb) RETURNS text LANGUAGE sql AS $$ SELECT NULL::text WHERE public.shadow_ran('jsonb_typeof') $$;
CREATE FUNCTION public.jsonb_array_length(jsonb) RETURNS integer LANGUAGE sql AS $$ SELECT NULL::integer WHERE public.shadow_ran('jsonb_array_length') $$;
CREATE FUNCTION public.cardinality(anyarray) RETURNS integer LANGUAGE sql AS $$ SELECT NULL::integer WHERE public.shadow_ran('cardinality') $$;
CREATE FUNCTION public.array_position(anycompatiblearray, anycompatible) RETURNS integer LANGUAGE sql AS $$ SELECT NULL::integer WHERE public.shadow_ran('array_position') $$;
CREATE FUNCTION public.nextval(regclass) RETURNS bigint LANGUAGE sql AS $$ SELECT NULL::bigint WHERE public.shadow_ran('nextval') $$;
CREATE FUNCTION public.hashtext(text) RETURNS integer LANGUAGE sql AS $$ SELECT NULL::integer WHERE public.shadow_ran('hashtext') $$;
CREATE FUNCTION public.pg_notify(text, text) RETURNS void LANGUAGE sql AS $$ SELECT WHERE public.shadow_ran('pg_notify') $$;
CREATE FUNCTION public.lower(text) RETURNS text LANGUAGE sql AS $$ SELECT NULL::text WHERE public.shadow_ran('lower') $$;
CREATE FUNCTION public.length(text) RETURNS integer LANGUAGE sql AS $$ SELECT NULL::integer WHERE public.shadow_ran('length') $$;
CREATE FUNCTION public.date_trunc(text, timestamptz) RETURNS timestamptz LANGUAGE sql AS $$ SELECT NULL::timestamptz WHERE public.shadow_ran('date_trunc') $$;
CREATE FUNCTION public.round(numeric, integer) RETURNS numeric LANGUAGE sql AS $$ SELECT NULL::numeric WHERE public.shadow_ran('round') $$;
CREATE FUNCTION public.generate_series(integer, integer) RETURNS SETOF integer LANGUAGE sql AS $$ SELECT 1 WHERE public.shadow_ran('generate_series') $$;
CREATE FUNCTION public.shadow_count(bigint, anyelement) RETURNS bigint LANGUAGE sql AS $$ SELECT NULL::bigint WHERE public.shadow_ran('count') $$;
CREATE AGGREGATE public.count(anyelement) (SFUNC = public.shadow_count, STYPE = bigint);
CREATE FUNCTION public.shadow_agg(jsonb, anyelement) RETURNS jsonb LANGUAGE sql AS $$ SELECT NULL::jsonb WHERE public.shadow_ran('jsonb_agg') $$;
CREATE AGGREGATE public.jsonb_agg(anyelement) (SFUNC = public.shadow_agg, STYPE = jsonb);

-- Operators on the types the orchestrator compares and computes with.
CREATE FUNCTION public.shadow_eq_text(text, text) RETURNS boolean LANGUAGE sql AS $$ SELECT public.shadow_ran('text = text') $$;
CREATE OPERATOR public.= (LEFTARG = text, RIGHTARG = text, FUNCTION = public.shadow_eq_text);
CREATE FUNCTION public.shadow_eq_bigint(bigint, bigint) RETURNS boolean LANGUAGE sql AS $$ SELECT public.shadow_ran('bigint = bigint') $$;
CREATE OPERATOR public.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = public.shadow_eq_bigint);
CREATE FUNCTION public.shadow_eq_int(integer, integer) RETURNS boolean LANGUAGE sql AS $$ SELECT public.shadow_ran('integer = integer') $$;
CREATE OPERATOR public.= (LEFTARG = integer, RIGHTARG = integer, FUNCTION = public.shadow_eq_int);
CREATE FUNCTION public.shadow_le_ts(timestamptz, timestamptz) RETURNS boolean LANGUAGE sql AS $$ SELECT public.shadow_ran('timestamptz <= timestamptz') $$;
CREATE OPERATOR public.<= (LEFTARG = timestamptz, RIGHTARG = timestamptz, FUNCTION = public.shadow_le_ts);
CREATE FUNCTION public.shadow_plus_ts(timestamptz, interval) RETURNS timestamptz LANGUAGE sql AS $$ SELECT NULL::timestamptz WHERE public.shadow_ran('timestamptz + interval') $$;
CREATE OPERATOR public.+ (LEFTARG = timestamptz, RIGHTARG = interval, FUNCTION = public.shadow_plus_ts);
CREATE FUNCTION public.shadow_concat_jsonb(jsonb, jsonb) RETURNS jsonb LANGUAGE sql AS $$ SELECT NULL::jsonb WHERE public.shadow_ran('jsonb || jsonb') $$;
CREATE OPERATOR public.|| (LEFTARG = jsonb, RIGHTARG = jsonb, FUNCTION = public.shadow_concat_jsonb);
CREATE FUNCTION public.shadow_field(jsonb, text) RETURNS text LANGUAGE sql AS $$ SELECT NULL::text WHERE public.shadow_ran('jsonb ->> text') $$;
CREATE OPERATOR public.->> (LEFTARG = jsonb, RIGHTARG = text, FUNCTION = public.shadow_field);

-- Tables and views named like ours, in public and in pg_temp (searched first when unqualified).
CREATE VIEW public.task AS SELECT 1 AS id WHERE public.shadow_ran('public.task');
CREATE VIEW public.workflow_type AS SELECT 1 AS id WHERE public.shadow_ran('public.workflow_type');
CREATE VIEW public.workflow_orchestration AS SELECT 1 AS id WHERE public.shadow_ran('public.workflow_orchestration');
CREATE VIEW public.config AS SELECT 1 AS id WHERE public.shadow_ran('public.config');
CREATE VIEW public.api AS SELECT 1 AS id WHERE public.shadow_ran('public.api');
CREATE TABLE public.alert (id bigint);
CREATE FUNCTION public.shadow_trigger() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM public.shadow_ran('a trigger on public.alert'); RETURN NULL; END $$;
CREATE TRIGGER shadow BEFORE INSERT OR UPDATE OR DELETE ON public.alert FOR EACH STATEMENT EXECUTE FUNCTION public.shadow_trigger();
CREATE TEMP VIEW task AS SELECT 1 AS id WHERE public.shadow_ran('pg_temp.task');
CREATE TEMP VIEW workflow_type AS SELECT 1 AS id WHERE public.shadow_ran('pg_temp.workflow_type');
CREATE TEMP VIEW config AS SELECT 1 AS id WHERE public.shadow_ran('pg_temp.config');
CREATE TEMP VIEW metric_minute AS SELECT 1 AS id WHERE public.shadow_ran('pg_temp.metric_minute');
CREATE FUNCTION pg_temp.now() RETURNS timestamptz LANGUAGE sql AS $$ SELECT NULL::timestamptz WHERE public.shadow_ran('pg_temp.now()') $$;

SET search_path = pg_temp, public, pg_catalog;
-- The shadows are live: unqualified names in this session reach them.
\set VERBOSITY terse
SELECT now();
SELECT 'a'::text = 'a'::text;
SELECT * FROM task;
\set VERBOSITY default

-- Every API function, as this role. The test's own expressions name pg_catalog's functions and
-- operators explicitly, as they would reach the shadows too.
SELECT orchestrator.now();
SELECT orchestrator.budget_day_start();
SELECT (orchestrator.configure('{"daily_budget_usd": 100}')).daily_budget_usd;
SELECT orchestrator.register_api('gemini', 60) > 0 AS api_registered;
SELECT (orchestrator.alter_api('gemini', '{"burst": 30}')).burst;
SELECT orchestrator.register_workflow_type('shadowed', batch_max => 2, estimated_cost_usd => 0.5,
                                           max_attempts => 1) > 0 AS type_registered;
SELECT (orchestrator.alter_workflow_type('shadowed', '{"weight": 2}')).weight;
SELECT orchestrator.set_workflow_type_apis('shadowed', '{"gemini": 1}');
SELECT orchestrator.pause_workflow_type('shadowed'), orchestrator.resume_workflow_type('shadowed');
SELECT orchestrator.enqueue('shadowed', '{"n": 1}', 7, idempotency_key => 'k1') AS first_task \gset
SELECT orchestrator.enqueue('shadowed', '{"n": 1}', 7, idempotency_key => 'k1') OPERATOR(pg_catalog.=) :first_task AS idempotent;
SELECT pg_catalog.cardinality(orchestrator.enqueue_batch('shadowed', '[{"n": 2}, {"n": 3}, {"n": 4}]')) AS batch;
SELECT execution_id, workflow_type, batch_size, model_tier, limited_by
  FROM orchestrator.orchestrate_next_execution('w1', 1) \gset
SELECT :'workflow_type' AS dispatched_type, :batch_size AS batch_size, :'model_tier' AS tier;
SELECT orchestrator.heartbeat_execution(:execution_id) OPERATOR(pg_catalog.>) orchestrator.now() AS lease_extended;
SELECT orchestrator.complete_execution(:execution_id, '{"ok": true}', 0.75, NULL, '{"gemini": 2}');
SELECT execution_id AS second FROM orchestrator.orchestrate_next_execution('w1', 1) \gset
SELECT orchestrator.fail_execution(:second, 'bad input', false, 'gemini', '30 seconds');
SELECT orchestrator.resume_api('gemini');
SELECT orchestrator.expire_executions();
SELECT orchestrator.tick();
SELECT pg_catalog.count(*) AS dead_letters FROM orchestrator.dead_letters;
SELECT orchestrator.retry_dead_letters(workflow_type => 'shadowed') AS retried;
SELECT orchestrator.cancel_tasks('shadowed', payload_contains => '{"n": 3}') AS cancelled;
SELECT orchestrator.cancel_task(id) AS cancelled_one
  FROM orchestrator.task WHERE state OPERATOR(pg_catalog.=) 'queued' ORDER BY id LIMIT 1;
SELECT orchestrator.raise_budget(5) AS raised;
SELECT (orchestrator.set_schedule('shadowed', '*/15 * * * *')).cron;
SELECT condition, severity, resolved_at IS NOT NULL AS resolved
  FROM orchestrator.list_alerts(true) ORDER BY id;
SELECT orchestrator.acknowledge_alert(id) FROM orchestrator.list_alerts(true) ORDER BY id LIMIT 1;
SELECT component, status FROM orchestrator.get_system_health()
 WHERE component OPERATOR(pg_catalog.=) ANY ('{queue,budget,api:gemini,workflow_type:shadowed}') ORDER BY component;
SELECT workflow_type, executions, tasks_succeeded
  FROM orchestrator.metrics('2026-05-01 00:00+00', '2026-05-02 00:00+00') ORDER BY workflow_type NULLS FIRST;
SELECT pg_catalog.count(*) OPERATOR(pg_catalog.>) 0 AS forecasts FROM orchestrator.forecast();
SELECT orchestrator.latency_percentile(array_fill(1::bigint, ARRAY[18]), 50);
SELECT pg_catalog.strpos(orchestrator.prometheus_metrics(), 'orchestrator_queue') OPERATOR(pg_catalog.>) 0 AS prometheus;
SELECT pg_catalog.strpos(orchestrator.dashboard_html(), '<svg') OPERATOR(pg_catalog.>) 0 AS dashboard;
SELECT orchestrator.discard_dead_letters(workflow_type => 'shadowed') AS discarded;
SELECT orchestrator.apply_preset('n8n-content');
SELECT orchestrator.cancel_tasks('shadowed') AS cancelled_rest;
SELECT orchestrator.remove_workflow_type('shadowed');

-- What the calls did, read as the superuser with a clean search_path.
RESET ROLE;
RESET search_path;
SELECT t.state, count(*) FROM orchestrator.task t GROUP BY t.state ORDER BY t.state;
SELECT e.workflow_type, e.status, e.cost_usd FROM orchestrator.workflow_orchestration e
 WHERE e.workflow_type <> 'orchestrator' ORDER BY e.id;
SELECT action, actor FROM orchestrator.audit_log ORDER BY id;

RESET orchestrator.test_now;
DROP EXTENSION orchestrator;
DROP OWNED BY orchestrator_test_shadow;
REVOKE CREATE ON SCHEMA public FROM orchestrator_test_shadow;
DROP ROLE orchestrator_test_shadow;
