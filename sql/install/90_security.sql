-- Who may do what. Three roles, each holding the one below it:
--   orchestrator_reader  health, metrics, forecasts, alerts, Prometheus, dashboard; reads tables
--   orchestrator_worker  what n8n calls: enqueue, dispatch, callbacks, lease heartbeats, tick
--   orchestrator_admin   configuration, dead letters, cancelling, schedules, alerts
-- Roles belong to the cluster, not to a database: a second database reuses them and DROP
-- EXTENSION leaves them. Nothing is granted to PUBLIC. The tables are written only by the
-- functions, which run as the extension's owner (SECURITY DEFINER); every function reads names
-- with search_path = pg_catalog, pg_temp, so objects a caller creates elsewhere are never used.
DO $roles$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'orchestrator_reader') THEN
        CREATE ROLE orchestrator_reader NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'orchestrator_worker') THEN
        CREATE ROLE orchestrator_worker NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'orchestrator_admin') THEN
        CREATE ROLE orchestrator_admin NOLOGIN;
    END IF;
    IF NOT pg_catalog.pg_has_role('orchestrator_worker', 'orchestrator_reader', 'MEMBER') THEN
        GRANT orchestrator_reader TO orchestrator_worker;
    END IF;
    IF NOT pg_catalog.pg_has_role('orchestrator_admin', 'orchestrator_worker', 'MEMBER') THEN
        GRANT orchestrator_worker TO orchestrator_admin;
    END IF;
END
$roles$;

REVOKE ALL ON SCHEMA orchestrator FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA orchestrator FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA orchestrator FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA orchestrator FROM PUBLIC;
GRANT USAGE ON SCHEMA orchestrator TO orchestrator_reader;

-- Every function finds names only in pg_catalog (then pg_temp, for nothing of ours): a caller's
-- functions, operators or tables named like PostgreSQL's or ours are never used.
DO $pin$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN SELECT p.oid FROM pg_catalog.pg_proc p
              WHERE p.pronamespace = 'orchestrator'::regnamespace AND p.prokind <> 'a'
    LOOP
        EXECUTE pg_catalog.format('ALTER FUNCTION %s SET search_path = pg_catalog, pg_temp', f);
    END LOOP;
END
$pin$;

-- The functions a role may call run as the extension's owner, except the two that read no table.
ALTER FUNCTION orchestrator.acknowledge_alert SECURITY DEFINER;
ALTER FUNCTION orchestrator.alter_api SECURITY DEFINER;
ALTER FUNCTION orchestrator.alter_workflow_type SECURITY DEFINER;
ALTER FUNCTION orchestrator.apply_preset SECURITY DEFINER;
ALTER FUNCTION orchestrator.budget_day_start SECURITY DEFINER;
ALTER FUNCTION orchestrator.cancel_task SECURITY DEFINER;
ALTER FUNCTION orchestrator.cancel_tasks SECURITY DEFINER;
ALTER FUNCTION orchestrator.complete_execution SECURITY DEFINER;
ALTER FUNCTION orchestrator.configure SECURITY DEFINER;
ALTER FUNCTION orchestrator.dashboard_html SECURITY DEFINER;
ALTER FUNCTION orchestrator.discard_dead_letters SECURITY DEFINER;
ALTER FUNCTION orchestrator.enqueue SECURITY DEFINER;
ALTER FUNCTION orchestrator.enqueue_batch SECURITY DEFINER;
ALTER FUNCTION orchestrator.expire_executions SECURITY DEFINER;
ALTER FUNCTION orchestrator.fail_execution SECURITY DEFINER;
ALTER FUNCTION orchestrator.forecast SECURITY DEFINER;
ALTER FUNCTION orchestrator.get_system_health SECURITY DEFINER;
ALTER FUNCTION orchestrator.heartbeat_execution SECURITY DEFINER;
ALTER FUNCTION orchestrator.list_alerts SECURITY DEFINER;
ALTER FUNCTION orchestrator.metrics SECURITY DEFINER;
ALTER FUNCTION orchestrator.orchestrate_next_execution SECURITY DEFINER;
ALTER FUNCTION orchestrator.pause_workflow_type SECURITY DEFINER;
ALTER FUNCTION orchestrator.prometheus_metrics SECURITY DEFINER;
ALTER FUNCTION orchestrator.raise_budget SECURITY DEFINER;
ALTER FUNCTION orchestrator.register_api SECURITY DEFINER;
ALTER FUNCTION orchestrator.register_workflow_type SECURITY DEFINER;
ALTER FUNCTION orchestrator.remove_workflow_type SECURITY DEFINER;
ALTER FUNCTION orchestrator.resume_api SECURITY DEFINER;
ALTER FUNCTION orchestrator.resume_workflow_type SECURITY DEFINER;
ALTER FUNCTION orchestrator.retry_dead_letters SECURITY DEFINER;
ALTER FUNCTION orchestrator.set_schedule SECURITY DEFINER;
ALTER FUNCTION orchestrator.set_workflow_type_apis SECURITY DEFINER;
ALTER FUNCTION orchestrator.tick SECURITY DEFINER;

GRANT EXECUTE ON FUNCTION
    orchestrator.now, orchestrator.budget_day_start, orchestrator.latency_percentile,
    orchestrator.get_system_health, orchestrator.list_alerts, orchestrator.metrics,
    orchestrator.forecast, orchestrator.prometheus_metrics, orchestrator.dashboard_html
    TO orchestrator_reader;
GRANT EXECUTE ON FUNCTION
    orchestrator.enqueue, orchestrator.enqueue_batch, orchestrator.orchestrate_next_execution,
    orchestrator.complete_execution, orchestrator.fail_execution,
    orchestrator.heartbeat_execution, orchestrator.expire_executions, orchestrator.tick
    TO orchestrator_worker;
GRANT EXECUTE ON FUNCTION
    orchestrator.register_workflow_type, orchestrator.alter_workflow_type,
    orchestrator.pause_workflow_type, orchestrator.resume_workflow_type,
    orchestrator.remove_workflow_type, orchestrator.apply_preset, orchestrator.register_api,
    orchestrator.alter_api, orchestrator.resume_api, orchestrator.set_workflow_type_apis,
    orchestrator.configure, orchestrator.raise_budget, orchestrator.retry_dead_letters,
    orchestrator.discard_dead_letters, orchestrator.cancel_task, orchestrator.cancel_tasks,
    orchestrator.set_schedule, orchestrator.acknowledge_alert
    TO orchestrator_admin;

-- Readers see every row; nobody but the owner (the functions) writes one.
GRANT SELECT ON ALL TABLES IN SCHEMA orchestrator TO orchestrator_reader;
DO $rls$
DECLARE
    t regclass;
BEGIN
    FOR t IN SELECT c.oid FROM pg_catalog.pg_class c
              WHERE c.relnamespace = 'orchestrator'::regnamespace AND c.relkind = 'r'
    LOOP
        EXECUTE pg_catalog.format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', t);
        EXECUTE pg_catalog.format(
            'CREATE POLICY readers_read ON %s FOR SELECT TO orchestrator_reader USING (true)', t);
    END LOOP;
END
$rls$;
