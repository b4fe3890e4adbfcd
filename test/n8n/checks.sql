-- What must hold after n8n ran the master until the queue drained. One row per check:
-- "ok" or "not ok", its name, and what was found. :'sim_cost' is the simulated API's
-- total cost of its successful answers (from its /stats), :'sim_429' its 429 answers.
\set ON_ERROR_STOP 1
WITH routed AS (
    SELECT t.* FROM orchestrator.task t
      JOIN orchestrator.workflow_type w ON w.id = t.workflow_type_id
     WHERE w.name <> 'unrouted_type'),
subs AS (
    SELECT * FROM orchestrator.workflow_orchestration e WHERE e.workflow_type <> 'orchestrator'),
checks(name, pass, found) AS (
    SELECT 'every routed task succeeded',
           count(*) = 13 AND count(*) FILTER (WHERE state = 'succeeded') = 13,
           string_agg(DISTINCT state, ',') || ' of ' || count(*)
      FROM routed
    UNION ALL
    SELECT 'every succeeded task has a result from the API',
           count(*) = 13,
           count(*)::text
      FROM routed WHERE state = 'succeeded' AND result IS NOT NULL AND result::text LIKE '%for task%'
    UNION ALL
    SELECT 'a task whose first API call failed (503) was retried and succeeded',
           count(*) >= 1,
           count(*)::text
      FROM routed WHERE state = 'succeeded' AND attempts > 1 AND failures::text LIKE '%503%'
    UNION ALL
    SELECT 'each of the four types has a completed execution claimed by n8n',
           count(DISTINCT workflow_type) = 4,
           string_agg(DISTINCT workflow_type, ',')
      FROM subs WHERE status IN ('completed', 'partial') AND worker_id LIKE 'n8n:%'
    UNION ALL
    SELECT 'no execution is left running',
           count(*) = 0, count(*)::text
      FROM subs WHERE status = 'running'
    UNION ALL
    SELECT 'completed executions recorded their cost and duration',
           count(*) > 0 AND bool_and(cost_usd > 0 AND duration_ms IS NOT NULL),
           count(*) || ' executions, $' || coalesce(sum(cost_usd), 0)
      FROM subs WHERE status IN ('completed', 'partial')
    UNION ALL
    SELECT 'recorded costs add up to what the simulated API charged',
           coalesce(sum(cost_usd), 0) = :'sim_cost'::numeric,
           '$' || coalesce(sum(cost_usd), 0) || ' recorded, $' || :'sim_cost' || ' charged'
      FROM subs
    UNION ALL
    SELECT 'completed executions reported their API calls',
           count(*) > 0 AND bool_and(api_calls ? 'gemini' OR api_calls ? 'openai'),
           count(*)::text
      FROM subs WHERE status IN ('completed', 'partial')
    UNION ALL
    SELECT 'a 429 failed its execution and paused that API for the Retry-After (30 s)',
           count(*) >= 1 AND count(*) <= :'sim_429'::int
               AND bool_and(a.paused_until = e.finished_at + interval '30 seconds'),
           count(*) || ' executions for ' || :'sim_429' || ' 429s, paused: '
               || coalesce(string_agg(DISTINCT a.name, ','), 'none')
      FROM subs e JOIN orchestrator.api a ON e.error = a.name || ' answered 429 (rate limited)'
     WHERE e.status = 'failed'
    UNION ALL
    SELECT 'the type with no sub-workflow was dead-lettered by the master''s fallback',
           count(*) = 1, count(*)::text
      FROM orchestrator.task t JOIN orchestrator.workflow_type w ON w.id = t.workflow_type_id
     WHERE w.name = 'unrouted_type' AND t.state = 'dead_letter'
       AND t.last_error = 'n8n has no sub-workflow for workflow type unrouted_type'
    UNION ALL
    SELECT 'no routed task was dead-lettered',
           count(*) = 0, count(*)::text
      FROM routed WHERE state = 'dead_letter')
SELECT CASE WHEN pass THEN 'ok' ELSE 'not ok' END AS result, name, found FROM checks;
