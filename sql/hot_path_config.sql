-- The hot path (enqueue, enqueue_batch, dispatch, complete, fail, heartbeat) writes no
-- configuration table: a statement on one fires its trigger even when it changes no row, which
-- moves the configuration version and makes every backend reload its whole configuration at its
-- next call. A second statement trigger on each configuration table counts what fires.
CREATE EXTENSION orchestrator;
SET orchestrator.test_now = '2026-07-01 10:00:00+00';
SELECT orchestrator.register_api('gemini', 1000) > 0 AS api;
SELECT orchestrator.register_workflow_type('hot', batch_max => 2, estimated_cost_usd => 0.01,
                                           max_concurrent => 100) > 0 AS type;
SELECT orchestrator.set_workflow_type_apis('hot', '{"gemini": 1}');
-- A breaker that counts failures has a row: the callbacks read it on every call.
SELECT orchestrator.enqueue('hot', '{"n": 0}') > 0 AS queued;
SELECT orchestrator.fail_execution(execution_id, 'boom')
  FROM orchestrator.orchestrate_next_execution('w', 1);

CREATE TABLE pg_temp.fired (n serial, config_table text, operation text);
CREATE FUNCTION pg_temp.count_firing() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO pg_temp.fired (config_table, operation) VALUES (TG_TABLE_NAME, TG_OP);
    RETURN NULL;
END $$;
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['config', 'workflow_type', 'api', 'workflow_type_api', 'breaker'] LOOP
        EXECUTE format('CREATE TRIGGER count_firing AFTER INSERT OR UPDATE OR DELETE ON orchestrator.%I'
                       ' FOR EACH STATEMENT EXECUTE FUNCTION pg_temp.count_firing()', t);
    END LOOP;
END $$;

-- The cycle, every callback, in each of its forms.
SELECT orchestrator.enqueue('hot', '{"n": 1}') > 0 AS queued;
SELECT cardinality(orchestrator.enqueue_batch('hot', '[{"n": 2}, {"n": 3}, {"n": 4}]')) AS queued;
SELECT orchestrator.enqueue('hot', '{"n": 5}', idempotency_key => 'k') > 0 AS keyed;
SELECT execution_id AS first FROM orchestrator.orchestrate_next_execution('w', 1) \gset
SELECT orchestrator.heartbeat_execution(:first) IS NOT NULL AS extended;
SELECT orchestrator.complete_execution(:first, NULL, 0.02, NULL, '{"gemini": 2}');
SELECT execution_id AS second FROM orchestrator.orchestrate_next_execution('w', 1) \gset
SELECT orchestrator.complete_execution(:second, task_outcomes =>
    jsonb_build_array(jsonb_build_object('task_id', (SELECT task_ids[1] FROM orchestrator.workflow_orchestration WHERE id = :second),
                                         'status', 'failed', 'error', 'x')));
SELECT execution_id AS third FROM orchestrator.orchestrate_next_execution('w', 1) \gset
SELECT orchestrator.fail_execution(:third, 'retry me');
SELECT count(*) AS none_left FROM orchestrator.orchestrate_next_execution('w', 5);

-- Only the breaker's real changes: the first success after the failure above forgets the
-- workflow type's breaker (DELETE), the failure at the end counts one again (an upsert, which
-- fires both UPDATE and INSERT statement triggers). Nothing else: no statement per call.
SELECT config_table, operation FROM pg_temp.fired ORDER BY n;

DROP TABLE pg_temp.fired;
DROP EXTENSION orchestrator CASCADE;
