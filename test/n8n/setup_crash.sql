-- The n8n test's first phase: a content_pipeline lease (1 second) shorter than its work
-- takes against a slow API, so its callback comes late and is refused; the master run fails,
-- and n8n's error workflow must hand back what that run claimed.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
CREATE EXTENSION orchestrator;
SELECT count(*) AS preset_items FROM orchestrator.apply_preset('n8n-content');
SELECT (orchestrator.alter_workflow_type('content_pipeline', '{"lease_timeout": "1 second"}')).name;
SELECT cardinality(orchestrator.enqueue_batch('content_pipeline', '[{"topic": "late"}, {"topic": "later"}]')) AS content;
SELECT orchestrator.enqueue('seo_monitor', '{"url": "/never-started"}') > 0 AS seo;
SELECT orchestrator.enqueue('revenue_optimizer', '{"offer": "never-started"}') > 0 AS revenue;
