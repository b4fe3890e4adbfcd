-- The current state of the queue and the breakers, as the Prometheus export and the dashboard
-- read it.

-- Tasks of each registered workflow type in each state: ready (queued and due), waiting (queued
-- for a run-after time or a retry's backoff), running and dead_letter (zeros included), with
-- how long the oldest ready task has waited.
CREATE FUNCTION orchestrator._queue_depth()
    RETURNS TABLE (workflow_type text, state text, tasks bigint, oldest_ready_seconds numeric)
    LANGUAGE sql STABLE AS $$
    WITH q AS (
        SELECT t.workflow_type_id,
               CASE WHEN t.state <> 'queued' THEN t.state
                    WHEN t.ready_at <= orchestrator.now() THEN 'ready' ELSE 'waiting' END AS state,
               count(*) AS n, min(t.ready_at) AS oldest
          FROM orchestrator.task t
         WHERE t.state IN ('queued', 'running', 'dead_letter')
         GROUP BY 1, 2)
    SELECT w.name, s.state, coalesce(q.n, 0),
           CASE WHEN s.state = 'ready'
                THEN coalesce(extract(epoch FROM orchestrator.now() - q.oldest), 0) END
      FROM orchestrator.workflow_type w
     CROSS JOIN (VALUES (1, 'ready'), (2, 'waiting'), (3, 'running'), (4, 'dead_letter')) s(ord, state)
      LEFT JOIN q ON q.workflow_type_id = w.id AND q.state = s.state
     ORDER BY w.name, s.ord
$$;

-- The breaker of every workflow type and every API (kind 'workflow_type' or 'api'): a breaker
-- without a row is closed with no failures.
CREATE FUNCTION orchestrator._breaker_states()
    RETURNS TABLE (kind text, name text, state text, consecutive_failures integer,
                   opened_at timestamptz)
    LANGUAGE sql STABLE AS $$
    SELECT k.kind, k.name, coalesce(b.state, 'closed'), coalesce(b.consecutive_failures, 0),
           b.opened_at
      FROM (SELECT 'workflow_type' AS kind, w.name FROM orchestrator.workflow_type w
            UNION ALL
            SELECT 'api', a.name FROM orchestrator.api a) k
      LEFT JOIN orchestrator.breaker b ON b.kind = k.kind AND b.name = k.name
     ORDER BY k.kind DESC, k.name
$$;
