-- One row per component with ok / warning / critical, the value judged and its threshold.
CREATE FUNCTION orchestrator.get_system_health()
    RETURNS TABLE (component text, status text, value numeric, threshold numeric, details jsonb)
    LANGUAGE sql STABLE AS $$
    WITH queue AS (
        SELECT count(*) FILTER (WHERE t.state = 'queued' AND t.ready_at <= orchestrator.now()) AS ready,
               count(*) FILTER (WHERE t.state = 'queued' AND t.ready_at > orchestrator.now()) AS waiting,
               count(*) FILTER (WHERE t.state = 'running') AS running,
               count(*) FILTER (WHERE t.state = 'dead_letter') AS dead_letters,
               min(t.ready_at) FILTER (WHERE t.state = 'queued' AND t.ready_at <= orchestrator.now()) AS oldest
          FROM orchestrator.task t
         WHERE t.state IN ('queued', 'running', 'dead_letter'))
    SELECT 'queue', CASE WHEN q.ready > 500 THEN 'warning' ELSE 'ok' END, q.ready, 500::numeric,
           jsonb_build_object('ready', q.ready, 'waiting', q.waiting, 'running', q.running,
                              'oldest_ready_seconds',
                              extract(epoch FROM orchestrator.now() - q.oldest)::bigint)
      FROM queue q
    UNION ALL
    SELECT 'workflow_type:' || w.name,
           CASE WHEN w.paused THEN 'warning' ELSE 'ok' END,
           coalesce(s.queued, 0), NULL,
           jsonb_build_object('paused', w.paused, 'queued', coalesce(s.queued, 0),
                              'running', coalesce(s.running, 0), 'weight', w.weight,
                              'batch', jsonb_build_array(w.batch_min, w.batch_max))
      FROM orchestrator.workflow_type w
      LEFT JOIN (SELECT t.workflow_type_id,
                        count(*) FILTER (WHERE t.state = 'queued') AS queued,
                        count(*) FILTER (WHERE t.state = 'running') AS running
                   FROM orchestrator.task t WHERE t.state IN ('queued', 'running')
                  GROUP BY 1) s ON s.workflow_type_id = w.id
    UNION ALL
    SELECT 'dead_letters', CASE WHEN q.dead_letters > 0 THEN 'warning' ELSE 'ok' END,
           q.dead_letters, 0::numeric, jsonb_build_object('count', q.dead_letters)
      FROM queue q
    UNION ALL
    SELECT 'database',
           CASE WHEN c.used > 0.9 * c.max THEN 'critical' WHEN c.used > 0.8 * c.max THEN 'warning'
                ELSE 'ok' END,
           c.used, c.max,
           jsonb_build_object('connections', c.used, 'max_connections', c.max)
      FROM (SELECT (SELECT count(*) FROM pg_stat_activity)::numeric AS used,
                   current_setting('max_connections')::numeric AS max) c
$$;
