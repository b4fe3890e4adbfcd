-- The n8n test's database: the extension, the n8n-content preset, one type that no n8n
-- sub-workflow serves (the master's fallback branch), and a queue of work for all of them.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
CREATE EXTENSION orchestrator;
SELECT count(*) AS preset_items FROM orchestrator.apply_preset('n8n-content');
SELECT orchestrator.register_workflow_type('unrouted_type') AS unrouted_type_id;

SELECT cardinality(orchestrator.enqueue_batch('content_pipeline',
    '[{"topic": "pgvector"}, {"topic": "pg_cron"}, {"topic": "n8n"}, {"topic": "queues"}]')) AS content;
SELECT cardinality(orchestrator.enqueue_batch('seo_monitor',
    '[{"url": "/a"}, {"url": "/b"}, {"url": "/c"}, {"url": "/d"}]')) AS seo;
SELECT cardinality(orchestrator.enqueue_batch('revenue_optimizer',
    '[{"offer": 1}, {"offer": 2}, {"offer": 3}]')) AS revenue;
SELECT cardinality(orchestrator.enqueue_batch('intelligence_engine',
    '[{"market": "eu"}, {"market": "us"}]')) AS intelligence;
SELECT orchestrator.enqueue('unrouted_type', '{"note": "no sub-workflow in n8n"}') > 0 AS unrouted;
