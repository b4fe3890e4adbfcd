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
    UNION ALL
    -- The heartbeat (the background worker, or tick()): seconds since its last sign of life.
    SELECT 'worker',
           CASE WHEN s.alive_at IS NULL THEN 'warning'
                WHEN orchestrator.now() - s.alive_at >= interval '2 minutes' THEN 'critical'
                WHEN s.state = 'error_recovery' THEN 'warning'
                ELSE 'ok' END,
           extract(epoch FROM orchestrator.now() - s.alive_at)::numeric(12, 1), 120::numeric,
           jsonb_build_object('state', s.state, 'runner', s.alive_runner, 'pid', s.alive_pid,
                              'alive_at', s.alive_at, 'pass_finished_at', s.pass_finished_at,
                              'failures', s.failures, 'last_error', s.last_error)
      FROM orchestrator.worker_state s
    UNION ALL
    -- Today's spend and reservations against the daily budget (with today's raise).
    SELECT 'budget',
           CASE WHEN b.used >= b.limit_usd THEN 'critical'
                WHEN b.used >= b.limit_usd * b.soft THEN 'warning' ELSE 'ok' END,
           b.used, b.limit_usd,
           jsonb_build_object('spent_usd', b.spent, 'reserved_usd', b.reserved,
                              'day_started_at', b.day, 'soft_threshold', b.soft)
      FROM (SELECT d.day, c.budget_soft_ratio AS soft,
                   c.daily_budget_usd + CASE WHEN c.budget_raise_day = d.day
                                             THEN c.budget_raise_usd ELSE 0 END AS limit_usd,
                   x.spent, x.reserved, x.spent + x.reserved AS used
              FROM orchestrator.config c
             CROSS JOIN (SELECT orchestrator.budget_day_start() AS day) d
             CROSS JOIN LATERAL (
                   SELECT coalesce(sum(e.cost_usd) FILTER (WHERE e.status <> 'running'
                                                            AND e.finished_at >= d.day), 0) AS spent,
                          coalesce(sum(e.reserved_cost_usd) FILTER (WHERE e.status = 'running'), 0) AS reserved
                     FROM orchestrator.workflow_orchestration e
                    WHERE (e.status = 'running' OR e.finished_at >= d.day)
                      AND e.created_at >= d.day - interval '1 day') x) b
    UNION ALL
    -- Each API: calls of the executions started in the last minute against its limit.
    SELECT 'api:' || a.name,
           CASE WHEN a.paused_until > orchestrator.now() THEN 'warning'
                WHEN u.calls > 0.8 * a.calls_per_minute THEN 'warning' ELSE 'ok' END,
           u.calls, a.calls_per_minute::numeric,
           jsonb_build_object('calls_last_minute', u.calls, 'calls_per_minute', a.calls_per_minute,
                              'burst', a.burst, 'paused_until', a.paused_until)
      FROM orchestrator.api a
     CROSS JOIN LATERAL (
           SELECT coalesce(sum((e.api_calls ->> a.name)::integer), 0)::numeric AS calls
             FROM orchestrator.workflow_orchestration e
            WHERE e.created_at > orchestrator.now() - interval '1 minute'
              AND e.api_calls ? a.name) u
    UNION ALL
    -- Breakers that are not closed (closed ones with no failures have no row).
    SELECT 'breaker:' || b.kind || ':' || b.name,
           CASE b.state WHEN 'open' THEN 'critical' WHEN 'half_open' THEN 'warning' ELSE 'ok' END,
           b.consecutive_failures::numeric, NULL,
           jsonb_build_object('state', b.state, 'consecutive_failures', b.consecutive_failures,
                              'opened_at', b.opened_at, 'trial_execution_id', b.trial_execution_id)
      FROM orchestrator.breaker b
    UNION ALL
    -- Open alerts, judged by the worst of them.
    SELECT 'alerts',
           CASE WHEN count(*) FILTER (WHERE a.severity = 'critical') > 0 THEN 'critical'
                WHEN count(*) FILTER (WHERE a.severity = 'warning') > 0 THEN 'warning'
                ELSE 'ok' END,
           count(*)::numeric, 0::numeric,
           jsonb_build_object('open', coalesce(jsonb_agg(a.condition ORDER BY a.id)
                                                  FILTER (WHERE a.id IS NOT NULL), '[]'))
      FROM orchestrator.alert a WHERE a.resolved_at IS NULL
$$;
