-- The forecast figures health shows in a row's details (rates rounded to 1e-6, times to seconds).
CREATE FUNCTION orchestrator._forecast_details(arrivals_per_hour double precision,
                                               completions_per_hour double precision,
                                               drain_seconds double precision) RETURNS jsonb
    LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_build_object('arrivals_per_hour', round(arrivals_per_hour::numeric, 6),
                              'completions_per_hour', round(completions_per_hour::numeric, 6),
                              'drain_seconds', round(drain_seconds::numeric))
$$;

-- One row per component with ok / warning / critical, the value judged and its threshold.
CREATE FUNCTION orchestrator.get_system_health()
    RETURNS TABLE (component text, status text, value numeric, threshold numeric, details jsonb)
    LANGUAGE sql STABLE AS $$
    WITH forecast AS MATERIALIZED (SELECT * FROM orchestrator.forecast()),
    queue AS (
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
           || orchestrator._forecast_details(f.arrivals_per_hour, f.completions_per_hour, f.drain_seconds)
      FROM queue q
      LEFT JOIN forecast f ON f.workflow_type IS NULL
    UNION ALL
    SELECT 'workflow_type:' || w.name,
           CASE WHEN w.paused THEN 'warning' ELSE 'ok' END,
           coalesce(s.queued, 0), NULL,
           jsonb_build_object('paused', w.paused, 'queued', coalesce(s.queued, 0),
                              'running', coalesce(s.running, 0), 'weight', w.weight,
                              'batch', jsonb_build_array(w.batch_min, w.batch_max))
           || orchestrator._forecast_details(f.arrivals_per_hour, f.completions_per_hour, f.drain_seconds)
      FROM orchestrator.workflow_type w
      LEFT JOIN forecast f ON f.workflow_type = w.name
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
    -- Today's spend and reservations against the daily budget (with today's raise), and when it
    -- runs out at the current burn rate.
    SELECT 'budget',
           CASE WHEN b.spent_usd + b.reserved_usd >= b.limit_usd THEN 'critical'
                WHEN b.spent_usd + b.reserved_usd >= b.limit_usd * b.soft_ratio THEN 'warning'
                ELSE 'ok' END,
           b.spent_usd + b.reserved_usd, b.limit_usd,
           jsonb_build_object('spent_usd', b.spent_usd, 'reserved_usd', b.reserved_usd,
                              'day_started_at', b.day_started_at, 'soft_threshold', b.soft_ratio,
                              'burn_usd_per_hour', round(f.burn_usd_per_hour::numeric, 6),
                              'exhausted_in_seconds', round(f.budget_exhausted_seconds::numeric))
      FROM orchestrator._budget_today() b
      LEFT JOIN forecast f ON f.workflow_type IS NULL
     WHERE b.workflow_type IS NULL
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
