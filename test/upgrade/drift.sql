
-- Test fixture, not part of any release. `make install-upgrade-fixtures` appends this file to a
-- copy of the install script: a fake version <current>-drift whose upgrade script from <current>
-- adds nothing, so an update forgets every change below. test/t/021_upgrade_paths.pl checks that
-- the catalog comparison reports each of them, which proves it can tell.
CREATE FUNCTION orchestrator.harness_added() RETURNS integer
    LANGUAGE sql IMMUTABLE AS 'SELECT 1';
ALTER FUNCTION orchestrator.list_alerts(boolean) VOLATILE;
ALTER FUNCTION orchestrator.dashboard_html(integer) SET work_mem = '8MB';
ALTER TABLE orchestrator.alert ADD COLUMN harness_note text;
ALTER TABLE orchestrator.api ALTER COLUMN burst SET DEFAULT 7;
CREATE INDEX harness_audit_actor ON orchestrator.audit_log (actor);
ALTER TABLE orchestrator.breaker ADD CONSTRAINT harness_failures CHECK (consecutive_failures >= 0);
CREATE TRIGGER harness_changed AFTER UPDATE ON orchestrator.schedule
    FOR EACH STATEMENT EXECUTE FUNCTION orchestrator._config_changed();
GRANT SELECT ON orchestrator.metric_total TO pg_monitor;
CREATE POLICY harness_policy ON orchestrator.alert USING (false);
CREATE TYPE orchestrator.harness_state AS ENUM ('on', 'off');
CREATE VIEW orchestrator.harness_view AS SELECT 1 AS one;
COMMENT ON FUNCTION orchestrator.tick() IS 'harness comment';
SELECT pg_catalog.pg_extension_config_dump('orchestrator.alert', 'WHERE resolved_at IS NULL');
