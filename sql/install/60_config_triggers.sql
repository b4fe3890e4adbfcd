-- Backends cache the configuration; any change to it tells them to reload (at commit).
CREATE FUNCTION orchestrator._config_changed() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'orchestrator_config_changed';

CREATE TRIGGER config_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON orchestrator.config FOR EACH STATEMENT EXECUTE FUNCTION orchestrator._config_changed();
CREATE TRIGGER config_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON orchestrator.workflow_type FOR EACH STATEMENT EXECUTE FUNCTION orchestrator._config_changed();
CREATE TRIGGER config_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON orchestrator.api FOR EACH STATEMENT EXECUTE FUNCTION orchestrator._config_changed();
CREATE TRIGGER config_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON orchestrator.workflow_type_api FOR EACH STATEMENT EXECUTE FUNCTION orchestrator._config_changed();
CREATE TRIGGER config_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON orchestrator.breaker FOR EACH STATEMENT EXECUTE FUNCTION orchestrator._config_changed();

-- The shared counters (running executions, reservations, spend) are rebuilt after a TRUNCATE.
CREATE FUNCTION orchestrator._history_truncated() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'orchestrator_history_truncated';
CREATE TRIGGER history_truncated AFTER TRUNCATE
    ON orchestrator.task FOR EACH STATEMENT EXECUTE FUNCTION orchestrator._history_truncated();
CREATE TRIGGER history_truncated AFTER TRUNCATE
    ON orchestrator.workflow_orchestration FOR EACH STATEMENT
    EXECUTE FUNCTION orchestrator._history_truncated();
