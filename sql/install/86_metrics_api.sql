-- Metrics over a window, forecasts, and today's budget use: what metrics(), get_system_health()
-- and the daily summary read.

-- Today's budget use: one row for the global budget (workflow_type NULL) and one per workflow
-- type (limit NULL when the type has no budget of its own). Spend is what finished executions
-- reported since the budget day began; reserved is what running executions hold.
CREATE FUNCTION orchestrator._budget_today()
    RETURNS TABLE (workflow_type text, day_started_at timestamptz, limit_usd numeric,
                   soft_ratio numeric, spent_usd numeric, reserved_usd numeric)
    LANGUAGE sql STABLE AS $$
    WITH d AS (SELECT orchestrator.budget_day_start() AS day),
    used AS (
        SELECT e.workflow_type,
               coalesce(sum(e.cost_usd) FILTER (WHERE e.status <> 'running'
                                                AND e.finished_at >= d.day), 0) AS spent,
               coalesce(sum(e.reserved_cost_usd) FILTER (WHERE e.status = 'running'), 0) AS reserved
          FROM orchestrator.workflow_orchestration e CROSS JOIN d
         WHERE (e.status = 'running' OR e.finished_at >= d.day)
           AND e.created_at >= d.day - interval '1 day'
         GROUP BY ROLLUP (e.workflow_type))
    SELECT NULL::text, d.day,
           c.daily_budget_usd + CASE WHEN c.budget_raise_day = d.day THEN c.budget_raise_usd ELSE 0 END,
           c.budget_soft_ratio, coalesce(u.spent, 0), coalesce(u.reserved, 0)
      FROM orchestrator.config c CROSS JOIN d
      LEFT JOIN used u ON u.workflow_type IS NULL
    UNION ALL
    SELECT w.name, d.day,
           w.daily_budget_usd + CASE WHEN w.budget_raise_day = d.day THEN w.budget_raise_usd ELSE 0 END,
           c.budget_soft_ratio, coalesce(u.spent, 0), coalesce(u.reserved, 0)
      FROM orchestrator.workflow_type w CROSS JOIN orchestrator.config c CROSS JOIN d
      LEFT JOIN used u ON u.workflow_type = w.name
$$;

-- Forecasts now, overall (workflow_type NULL) and per workflow type. Arrivals (tasks enqueued),
-- completions (tasks that succeeded or were dead-lettered) and burn (cost reported by finished
-- executions) are counted per minute over the last complete minutes (_forecast_window_minutes(),
-- 60) and weighed with a half-life of 15 minutes (core/forecast.hpp). They are read from the
-- live tables, which always hold the last hour (task_retention is at least an hour), so they
-- are current to the minute; the rollups lag by up to one heartbeat. The backlog is every task
-- queued (ready or waiting) or running; it drains at completions minus arrivals, and
-- drain_seconds is NULL when that is not positive. The budget left is today's limit minus spend
-- and reservations; budget_exhausted_seconds is NULL when nothing is being spent (and for types
-- without a budget of their own).
CREATE FUNCTION orchestrator.forecast()
    RETURNS TABLE (workflow_type text, arrivals_per_hour double precision,
                   completions_per_hour double precision, backlog bigint,
                   drain_seconds double precision, burn_usd_per_hour double precision,
                   budget_left_usd numeric, budget_exhausted_seconds double precision)
    LANGUAGE sql STABLE AS $$
    WITH k AS (SELECT date_trunc('minute', orchestrator.now()) AS this_minute,
                      orchestrator._forecast_window_minutes() AS n),
    -- minute i (1 = the last complete minute) as the index of each event
    arrivals AS (
        SELECT t.workflow_type_id AS type_id,
               (extract(epoch FROM k.this_minute - date_trunc('minute', t.created_at)) / 60)::integer AS i,
               count(*)::float8 AS n
          FROM orchestrator.task t CROSS JOIN k
         WHERE t.created_at >= k.this_minute - k.n * interval '1 minute' AND t.created_at < k.this_minute
         GROUP BY 1, 2),
    completions AS (
        SELECT t.workflow_type_id AS type_id,
               (extract(epoch FROM k.this_minute - date_trunc('minute', t.finished_at)) / 60)::integer AS i,
               count(*)::float8 AS n
          FROM orchestrator.task t CROSS JOIN k
         WHERE t.finished_at >= k.this_minute - k.n * interval '1 minute' AND t.finished_at < k.this_minute
           AND t.state IN ('succeeded', 'dead_letter')
         GROUP BY 1, 2),
    burn AS (
        SELECT e.workflow_type AS name,
               (extract(epoch FROM k.this_minute - date_trunc('minute', e.finished_at)) / 60)::integer AS i,
               sum(e.cost_usd)::float8 AS n
          FROM orchestrator.workflow_orchestration e CROSS JOIN k
         WHERE e.created_at >= k.this_minute - k.n * interval '1 minute' - interval '1 day'
           AND e.finished_at >= k.this_minute - k.n * interval '1 minute' AND e.finished_at < k.this_minute
           AND e.status <> 'running' AND e.workflow_type <> 'orchestrator' AND e.cost_usd IS NOT NULL
         GROUP BY 1, 2),
    backlog AS (
        SELECT t.workflow_type_id AS type_id, count(*) AS n
          FROM orchestrator.task t WHERE t.state IN ('queued', 'running') GROUP BY 1),
    minutes AS (SELECT g.i FROM k CROSS JOIN generate_series(1, k.n) g(i)),
    rates AS (
        SELECT w.name,
               orchestrator._ewma_per_hour(ARRAY(
                   SELECT coalesce(a.n, 0) FROM minutes m
                     LEFT JOIN arrivals a ON a.type_id = w.id AND a.i = m.i ORDER BY m.i)) AS arrivals,
               orchestrator._ewma_per_hour(ARRAY(
                   SELECT coalesce(c.n, 0) FROM minutes m
                     LEFT JOIN completions c ON c.type_id = w.id AND c.i = m.i ORDER BY m.i)) AS completions,
               orchestrator._ewma_per_hour(ARRAY(
                   SELECT coalesce(b.n, 0) FROM minutes m
                     LEFT JOIN burn b ON b.name = w.name AND b.i = m.i ORDER BY m.i)) AS burn,
               coalesce((SELECT q.n FROM backlog q WHERE q.type_id = w.id), 0) AS backlog
          FROM orchestrator.workflow_type w
        UNION ALL
        SELECT NULL,
               orchestrator._ewma_per_hour(ARRAY(
                   SELECT coalesce(sum(a.n), 0) FROM minutes m
                     LEFT JOIN arrivals a ON a.i = m.i GROUP BY m.i ORDER BY m.i)),
               orchestrator._ewma_per_hour(ARRAY(
                   SELECT coalesce(sum(c.n), 0) FROM minutes m
                     LEFT JOIN completions c ON c.i = m.i GROUP BY m.i ORDER BY m.i)),
               orchestrator._ewma_per_hour(ARRAY(
                   SELECT coalesce(sum(b.n), 0) FROM minutes m
                     LEFT JOIN burn b ON b.i = m.i GROUP BY m.i ORDER BY m.i)),
               coalesce((SELECT sum(q.n) FROM backlog q), 0)::bigint)
    SELECT r.name, r.arrivals, r.completions, r.backlog,
           orchestrator._seconds_to_empty(r.backlog, r.completions - r.arrivals), r.burn,
           b.limit_usd - b.spent_usd - b.reserved_usd,
           orchestrator._seconds_to_empty((b.limit_usd - b.spent_usd - b.reserved_usd)::float8, r.burn)
      FROM rates r
      LEFT JOIN orchestrator._budget_today() b ON b.workflow_type IS NOT DISTINCT FROM r.name
$$;

-- Metrics over the window [since, until): one row overall (workflow_type NULL) and one per
-- workflow type, or only the row of only_type. Figures of the window come from the per-minute
-- rollups (metric_minute: a minute counts when it starts inside the window; the rollups reach
-- rolled_up_to, the last heartbeat's minute), so they outlive the raw rows. API calls come from
-- the executions started in the window (kept for execution_retention). Queue, budget and
-- forecast figures are those of now (see forecast()).
CREATE FUNCTION orchestrator.metrics(since timestamptz, until timestamptz,
                                     only_type text DEFAULT NULL)
    RETURNS TABLE (
        workflow_type text,
        executions bigint,             -- finished in the window
        executions_failed bigint,      -- of which failed or expired
        tasks_succeeded bigint,
        tasks_dead_lettered bigint,
        executions_per_hour numeric,
        tasks_per_hour numeric,        -- tasks finished (succeeded or dead-lettered)
        success_rate numeric,          -- tasks succeeded / tasks finished
        wait_p50_ms double precision,  -- enqueue -> dispatch, per finished task
        wait_p95_ms double precision,
        wait_p99_ms double precision,
        run_p50_ms double precision,   -- dispatch -> done, per execution
        run_p95_ms double precision,
        run_p99_ms double precision,
        cost_usd numeric,
        cost_per_task_usd numeric,
        cost_per_day_usd numeric,
        queue_ready bigint,            -- now
        queue_waiting bigint,
        running bigint,
        oldest_ready_seconds numeric,
        api_utilization jsonb,         -- per API: calls in the window against the limit
        budget_spent_usd numeric,      -- today
        budget_reserved_usd numeric,
        budget_limit_usd numeric,
        budget_utilization numeric,
        arrivals_per_hour double precision,
        completions_per_hour double precision,
        drain_seconds double precision,
        burn_usd_per_hour double precision,
        budget_exhausted_seconds double precision,
        rolled_up_to timestamptz)
    LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
DECLARE
    hours numeric;
BEGIN
    IF since IS NULL OR until IS NULL THEN
        RAISE EXCEPTION 'since and until must not be null' USING ERRCODE = '22004';
    END IF;
    IF NOT isfinite(since) OR NOT isfinite(until) THEN
        RAISE EXCEPTION 'since and until must be finite' USING ERRCODE = '22023';
    END IF;
    IF until <= since THEN
        RAISE EXCEPTION 'until must be later than since' USING ERRCODE = '22023';
    END IF;
    IF only_type IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM orchestrator.workflow_type w WHERE w.name = only_type)
       AND NOT EXISTS (SELECT 1 FROM orchestrator.metric_minute m WHERE m.workflow_type = only_type) THEN
        RAISE EXCEPTION 'workflow type "%" does not exist', only_type USING ERRCODE = 'P0002';
    END IF;
    hours := extract(epoch FROM until - since) / 3600;
    RETURN QUERY
    WITH names AS (
        SELECT NULL::text AS name WHERE only_type IS NULL
        UNION ALL
        SELECT only_type WHERE only_type IS NOT NULL
        UNION ALL
        (SELECT w.name FROM orchestrator.workflow_type w WHERE only_type IS NULL
         UNION
         SELECT m.workflow_type FROM orchestrator.metric_minute m
          WHERE only_type IS NULL AND m.minute >= since AND m.minute < until)),
    window_minutes AS (
        SELECT * FROM orchestrator.metric_minute m WHERE m.minute >= since AND m.minute < until),
    rolled AS (
        SELECT m.workflow_type AS name, sum(m.executions) AS ex, sum(m.executions_failed) AS ex_failed,
               sum(m.tasks_succeeded) AS succeeded, sum(m.tasks_dead_lettered) AS dead,
               sum(m.cost_usd) AS cost
          FROM window_minutes m GROUP BY ROLLUP (m.workflow_type)),
    buckets AS (
        SELECT m.workflow_type AS name, b.i, sum(b.run) AS run, sum(b.wait) AS wait
          FROM window_minutes m CROSS JOIN unnest(m.run_ms, m.wait_ms) WITH ORDINALITY b(run, wait, i)
         GROUP BY GROUPING SETS ((m.workflow_type, b.i), (b.i))),
    histograms AS (
        SELECT b.name, array_agg(b.run ORDER BY b.i)::bigint[] AS run,
               array_agg(b.wait ORDER BY b.i)::bigint[] AS wait
          FROM buckets b GROUP BY b.name),
    queue AS (
        SELECT w.name,
               count(*) FILTER (WHERE t.state = 'queued' AND t.ready_at <= orchestrator.now()) AS ready,
               count(*) FILTER (WHERE t.state = 'queued' AND t.ready_at > orchestrator.now()) AS waiting,
               count(*) FILTER (WHERE t.state = 'running') AS running,
               min(t.ready_at) FILTER (WHERE t.state = 'queued' AND t.ready_at <= orchestrator.now()) AS oldest
          FROM orchestrator.task t JOIN orchestrator.workflow_type w ON w.id = t.workflow_type_id
         WHERE t.state IN ('queued', 'running')
         GROUP BY ROLLUP (w.name)),
    calls AS (  -- API calls per type and minute the executions started
        SELECT e.workflow_type AS name, a.name AS api, date_trunc('minute', e.created_at) AS minute,
               sum((e.api_calls ->> a.name)::bigint) AS n
          FROM orchestrator.workflow_orchestration e JOIN orchestrator.api a ON e.api_calls ? a.name
         WHERE e.created_at >= since AND e.created_at < until AND e.workflow_type <> 'orchestrator'
         GROUP BY 1, 2, 3),
    calls_all AS (
        SELECT c.name, c.api, c.minute, c.n FROM calls c
        UNION ALL
        SELECT NULL, c.api, c.minute, sum(c.n) FROM calls c GROUP BY c.api, c.minute),
    api_use AS (
        SELECT n.name, jsonb_object_agg(a.name, jsonb_build_object(
                   'calls', coalesce(u.calls, 0), 'calls_per_minute', a.calls_per_minute,
                   'utilization', round(coalesce(u.calls, 0) / (a.calls_per_minute * hours * 60), 6),
                   'peak_minute_calls', coalesce(u.peak, 0),
                   'peak_minute_utilization', round(coalesce(u.peak, 0) / a.calls_per_minute::numeric, 6))
                   ORDER BY a.name) AS j
          FROM names n CROSS JOIN orchestrator.api a
          LEFT JOIN LATERAL (SELECT sum(c.n) AS calls, max(c.n) AS peak FROM calls_all c
                              WHERE c.name IS NOT DISTINCT FROM n.name AND c.api = a.name) u ON true
         GROUP BY n.name)
    SELECT n.name,
           coalesce(r.ex, 0)::bigint, coalesce(r.ex_failed, 0)::bigint,
           coalesce(r.succeeded, 0)::bigint, coalesce(r.dead, 0)::bigint,
           coalesce(r.ex, 0) / hours,
           (coalesce(r.succeeded, 0) + coalesce(r.dead, 0)) / hours,
           r.succeeded::numeric / nullif(r.succeeded + r.dead, 0),
           orchestrator.latency_percentile(h.wait, 50), orchestrator.latency_percentile(h.wait, 95),
           orchestrator.latency_percentile(h.wait, 99),
           orchestrator.latency_percentile(h.run, 50), orchestrator.latency_percentile(h.run, 95),
           orchestrator.latency_percentile(h.run, 99),
           coalesce(r.cost, 0), r.cost / nullif(r.succeeded + r.dead, 0), coalesce(r.cost, 0) / hours * 24,
           coalesce(q.ready, 0), coalesce(q.waiting, 0), coalesce(q.running, 0),
           extract(epoch FROM orchestrator.now() - q.oldest),
           coalesce(au.j, '{}'),
           b.spent_usd, b.reserved_usd, b.limit_usd,
           (b.spent_usd + b.reserved_usd) / nullif(b.limit_usd, 0),
           f.arrivals_per_hour, f.completions_per_hour, f.drain_seconds, f.burn_usd_per_hour,
           f.budget_exhausted_seconds,
           (SELECT s.metrics_rolled_up_to FROM orchestrator.worker_state s)
      FROM names n
      LEFT JOIN rolled r ON r.name IS NOT DISTINCT FROM n.name
      LEFT JOIN histograms h ON h.name IS NOT DISTINCT FROM n.name
      LEFT JOIN queue q ON q.name IS NOT DISTINCT FROM n.name
      LEFT JOIN api_use au ON au.name IS NOT DISTINCT FROM n.name
      LEFT JOIN orchestrator._budget_today() b ON b.workflow_type IS NOT DISTINCT FROM n.name
      LEFT JOIN orchestrator.forecast() f ON f.workflow_type IS NOT DISTINCT FROM n.name
     ORDER BY n.name NULLS FIRST;
END $$;
