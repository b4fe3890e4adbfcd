-- What must hold after the listening master's run failed on a late callback (setup_crash.sql)
-- and n8n ran the error workflow. One row per check: "ok" or "not ok", its name, what was found.
\set ON_ERROR_STOP 1
WITH subs AS (
    SELECT * FROM orchestrator.workflow_orchestration e WHERE e.workflow_type <> 'orchestrator'),
checks(name, pass, found) AS (
    SELECT 'the late content_pipeline execution expired and its callback changed nothing',
           count(*) = 1 AND bool_and(status = 'expired' AND result IS NULL),
           coalesce(string_agg(status, ','), 'none')
      FROM subs WHERE workflow_type = 'content_pipeline'
    UNION ALL
    SELECT 'the error workflow failed the run''s executions that never started',
           count(*) = 2,
           count(*)::text
      FROM subs WHERE workflow_type IN ('seo_monitor', 'revenue_optimizer') AND status = 'failed'
       AND error LIKE 'n8n execution % of "orchestrator: master" failed in node "Run content_pipeline": execution % has expired'
    UNION ALL
    SELECT 'the executions were claimed by the listening master',
           count(DISTINCT worker_id) = 1 AND bool_and(worker_id LIKE 'n8n:%'),
           coalesce(string_agg(DISTINCT worker_id, ','), 'none')
      FROM subs
    UNION ALL
    SELECT 'every task is back in the queue for a retry',
           count(*) = 4 AND bool_and(state = 'queued' AND attempts = 1),
           coalesce(string_agg(DISTINCT state || ' after ' || attempts, ','), 'none')
      FROM orchestrator.task)
SELECT CASE WHEN pass THEN 'ok' ELSE 'not ok' END AS result, name, found FROM checks;
