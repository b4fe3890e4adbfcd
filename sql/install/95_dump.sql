-- What pg_dump keeps. The tables of an extension are not dumped unless they are marked here, and
-- a restore runs CREATE EXTENSION first, then loads what was marked. Every table is marked, with
-- every row: none of them holds anything that can be derived again from the others.
--   configuration: config, workflow_type, api, workflow_type_api, schedule;
--   governance state: breaker (an open breaker stays open), api.paused_until (a 429's pause);
--   the queue: task, all states. Queued and dead-letter tasks are the work itself; finished
--     tasks keep their idempotency keys (an enqueue with a key already used must still return
--     the old id), and the last day of them feeds the metric rollups, which are recomputed;
--   executions: workflow_orchestration. Running executions keep their leases (they expire after
--     the restore and their tasks are retried, unless the callback comes first), the budget day's
--     spend and the last minute's API calls are read from it, and dead letters name their
--     executions;
--   history: metric_minute, metric_total, worker_state (the rollup marks belong with them),
--     worker_transition, alert (one open alert per condition), breaker_event, audit_log.
-- Retention (orchestrator.config) bounds task, workflow_orchestration, worker_transition and
-- metric_minute; the rest grow by one row per change.
-- The identity sequences are marked too, so ids continue after the restore: an execution id is the
-- fencing token of its callbacks and must never be handed out twice.
SELECT pg_catalog.pg_extension_config_dump('orchestrator.config', '');
SELECT pg_catalog.pg_extension_config_dump('orchestrator.workflow_type', '');
SELECT pg_catalog.pg_extension_config_dump('orchestrator.workflow_type_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('orchestrator.api', '');
SELECT pg_catalog.pg_extension_config_dump('orchestrator.api_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('orchestrator.workflow_type_api', '');
SELECT pg_catalog.pg_extension_config_dump('orchestrator.schedule', '');
SELECT pg_catalog.pg_extension_config_dump('orchestrator.breaker', '');
SELECT pg_catalog.pg_extension_config_dump('orchestrator.breaker_event', '');
SELECT pg_catalog.pg_extension_config_dump('orchestrator.breaker_event_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('orchestrator.audit_log', '');
SELECT pg_catalog.pg_extension_config_dump('orchestrator.audit_log_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('orchestrator.task', '');
SELECT pg_catalog.pg_extension_config_dump('orchestrator.task_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('orchestrator.workflow_orchestration', '');
SELECT pg_catalog.pg_extension_config_dump('orchestrator.workflow_orchestration_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('orchestrator.worker_state', '');
SELECT pg_catalog.pg_extension_config_dump('orchestrator.worker_transition', '');
SELECT pg_catalog.pg_extension_config_dump('orchestrator.worker_transition_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('orchestrator.alert', '');
SELECT pg_catalog.pg_extension_config_dump('orchestrator.alert_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('orchestrator.metric_minute', '');
SELECT pg_catalog.pg_extension_config_dump('orchestrator.metric_total', '');

-- config and worker_state have one row, which CREATE EXTENSION inserts. The restored row replaces
-- it: inserting into either table first deletes the row that is there, so a restore loads the
-- dumped row with no duplicate key (and no UPDATE, which worker_state's transition guard would
-- check against the state machine). Nothing else inserts into them.
CREATE FUNCTION orchestrator._replace_singleton() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF TG_TABLE_NAME = 'config' THEN
        DELETE FROM orchestrator.config;
    ELSIF TG_TABLE_NAME = 'worker_state' THEN
        DELETE FROM orchestrator.worker_state;
    ELSE
        RAISE EXCEPTION 'orchestrator._replace_singleton() does not serve table %', TG_TABLE_NAME
            USING ERRCODE = '39P01';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER replace_singleton BEFORE INSERT ON orchestrator.config
    FOR EACH ROW EXECUTE FUNCTION orchestrator._replace_singleton();
CREATE TRIGGER replace_singleton BEFORE INSERT ON orchestrator.worker_state
    FOR EACH ROW EXECUTE FUNCTION orchestrator._replace_singleton();
REVOKE ALL ON FUNCTION orchestrator._replace_singleton() FROM PUBLIC;

-- Type ids start again at 1 when the extension is created again in a running server, so ready
-- floors kept in shared memory for this database may belong to the types of an earlier install:
-- forget them, or the tasks a restore copies in (below any such floor) would wait for the next
-- heartbeat.
SELECT orchestrator._queue_changing();
