-- Concurrency keys: at most concurrency_key_limit running tasks per key (a site, a customer);
-- duplicate_key_policy 'drop' keeps one queued task per key (a duplicate returns the queued
-- task's id), 'queue' queues every task.
CREATE EXTENSION orchestrator;
SET TimeZone = 'UTC';

-- The governance tests' shared helpers (run from the repository root, as the test command does).
\i sql/helpers/governance_helpers.sql

-- The concurrency keys of an execution's tasks, sorted ('-' for none).
CREATE FUNCTION pg_temp.keys(execution bigint) RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(coalesce(t.concurrency_key, '-'), ',' ORDER BY coalesce(t.concurrency_key, '-'))
      FROM orchestrator.task t WHERE t.execution_id = $1
$$;

SELECT pg_temp.at('2026-03-02 10:00:00+00') IS NOT NULL AS clock_set;

-- Limit 1: three tasks for site a, two for b, one without a key; batches up to 10.
SELECT orchestrator.register_workflow_type('crawl', batch_max => 10, db_connections => 0,
                                           memory_mb => 0) > 0 AS registered;
SELECT count(orchestrator.enqueue('crawl', jsonb_build_object('n', n), concurrency_key => k)) AS enqueued
  FROM unnest(ARRAY['a', 'a', 'a', 'b', 'b', NULL]) WITH ORDINALITY u(k, n);
SELECT * FROM pg_temp.d(5, '{crawl}');
SELECT pg_temp.keys(pg_temp.last('crawl'));
-- a and b are running: the rest waits.
SELECT * FROM pg_temp.d(5, '{crawl}');
SELECT orchestrator.complete_execution(pg_temp.last('crawl'));
SELECT * FROM pg_temp.d(5, '{crawl}');
SELECT pg_temp.keys(pg_temp.last('crawl'));
SELECT * FROM pg_temp.d(5, '{crawl}');
-- A failure (not retried) frees the keys too: the last task of a.
SELECT orchestrator.fail_execution(pg_temp.last('crawl'), 'boom', retryable => false);
SELECT * FROM pg_temp.d(5, '{crawl}');
SELECT pg_temp.keys(pg_temp.last('crawl'));
SELECT orchestrator.complete_execution(pg_temp.last('crawl'));

-- Tasks whose key is full do not hold back the tasks behind them: seven tasks for a busy key,
-- then one for another key, batches of up to 5.
SELECT orchestrator.register_workflow_type('feed', batch_max => 5, db_connections => 0,
                                           memory_mb => 0) > 0 AS registered;
DO $$
BEGIN
    FOR n IN 1 .. 8 LOOP
        PERFORM pg_temp.at('2026-03-02 10:00:00+00'::timestamptz + n * interval '1 second');
        PERFORM orchestrator.enqueue('feed', jsonb_build_object('n', n),
                                     concurrency_key => CASE WHEN n < 8 THEN 'hot' ELSE 'cold' END);
    END LOOP;
END $$;
SELECT pg_temp.at('2026-03-02 10:01:00+00') IS NOT NULL AS clock_set;
SELECT * FROM pg_temp.d(5, '{feed}');
SELECT pg_temp.keys(pg_temp.last('feed'));
SELECT * FROM pg_temp.d(5, '{feed}');
SELECT string_agg(t.concurrency_key, ',' ORDER BY t.id) AS running_keys FROM orchestrator.task t
  JOIN orchestrator.workflow_type w ON w.id = t.workflow_type_id
 WHERE w.name = 'feed' AND t.state = 'running';

-- Limit 2: of four tasks for one customer two run at once, across executions too.
SELECT orchestrator.register_workflow_type('bill', batch_max => 5, concurrency_key_limit => 2,
                                           db_connections => 0, memory_mb => 0) > 0 AS registered;
SELECT count(orchestrator.enqueue('bill', jsonb_build_object('n', n), concurrency_key => 'acme'))
  FROM generate_series(1, 4) n;
SELECT orchestrator.enqueue('bill', '{"n": 5}', concurrency_key => 'zeta') > 0 AS enqueued;
SELECT * FROM pg_temp.d(5, '{bill}');
SELECT pg_temp.keys(pg_temp.last('bill'));
SELECT * FROM pg_temp.d(5, '{bill}');
-- The execution completes: both of acme's slots are free; with batches of one, two executions.
SELECT (orchestrator.alter_workflow_type('bill', '{"batch_max": 1}')).batch_max;
SELECT orchestrator.complete_execution(pg_temp.last('bill'));
SELECT * FROM pg_temp.d(5, '{bill}');
SELECT * FROM pg_temp.d(5, '{bill}');
SELECT count(*) AS acme_running FROM orchestrator.task
 WHERE concurrency_key = 'acme' AND state = 'running';

-- duplicate_key_policy 'drop': a task for a key already queued is not added; its id comes back.
SELECT orchestrator.register_workflow_type('refresh', duplicate_key_policy => 'drop',
                                           db_connections => 0, memory_mb => 0) > 0 AS registered;
SELECT orchestrator.enqueue('refresh', '{"v": 1}', concurrency_key => 'site1') AS first_id \gset
SELECT orchestrator.enqueue('refresh', '{"v": 2}', concurrency_key => 'site1') = :first_id AS same_id;
SELECT pg_temp.at('2026-03-02 10:01:01+00') IS NOT NULL AS clock_set;
SELECT orchestrator.enqueue('refresh', '{"v": 3}', concurrency_key => 'site2') <> :first_id AS new_id;
SELECT concurrency_key, payload FROM orchestrator.task t
 WHERE t.workflow_type_id = (SELECT id FROM orchestrator.workflow_type WHERE name = 'refresh')
 ORDER BY id;
-- Once it runs, the key is not queued any more: a new task is queued (and waits for the key).
SELECT * FROM pg_temp.d(1, '{refresh}');
SELECT orchestrator.enqueue('refresh', '{"v": 4}', concurrency_key => 'site1') AS second_id \gset
SELECT :second_id <> :first_id AS new_id;
SELECT orchestrator.enqueue('refresh', '{"v": 5}', concurrency_key => 'site1') = :second_id AS same_id;
SELECT concurrency_key, state, payload FROM orchestrator.task t
 WHERE t.workflow_type_id = (SELECT id FROM orchestrator.workflow_type WHERE name = 'refresh')
 ORDER BY id;

-- duplicate_key_policy 'queue' (the default): every task is queued.
SELECT orchestrator.register_workflow_type('notify', db_connections => 0, memory_mb => 0) > 0 AS registered;
SELECT count(DISTINCT orchestrator.enqueue('notify', jsonb_build_object('n', n), concurrency_key => 'site1'))
       AS distinct_ids
  FROM generate_series(1, 3) n;
-- Switching a type to drop keeps what is queued; a new duplicate is dropped.
SELECT (orchestrator.alter_workflow_type('notify', '{"duplicate_key_policy": "drop"}')).duplicate_key_policy;
SELECT orchestrator.enqueue('notify', '{"n": 4}', concurrency_key => 'site1') IN
       (SELECT id FROM orchestrator.task WHERE concurrency_key = 'site1' AND state = 'queued') AS existing_id;
SELECT count(*) AS notify_queued FROM orchestrator.task t
  JOIN orchestrator.workflow_type w ON w.id = t.workflow_type_id
 WHERE w.name = 'notify' AND t.state = 'queued';

RESET orchestrator.test_now;
DROP EXTENSION orchestrator;
