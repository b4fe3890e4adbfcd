-- Per-minute metric rollups, written by the heartbeat's MONITORING step from the executions and
-- tasks that finished in each minute, per workflow type. They are kept (metric_retention) long
-- after the raw rows are pruned. Latencies are histograms with fixed bucket bounds (core/
-- latency.hpp: 10, 25, 50, 100, 250, 500 ms, 1, 2.5, 5, 10, 30 s, 1, 2, 5, 10, 30, 60 min;
-- bucket i runs from bound i-1 to bound i), so minutes and types add up bucket by bucket.
CREATE TABLE orchestrator.metric_minute (
    minute timestamptz NOT NULL,
    workflow_type text NOT NULL,
    executions integer NOT NULL,         -- finished in this minute
    executions_failed integer NOT NULL,  -- of which failed or expired
    tasks_succeeded integer NOT NULL,    -- tasks that finished in this minute
    tasks_dead_lettered integer NOT NULL,
    cost_usd numeric(14, 6) NOT NULL,    -- reported by the executions that finished
    run_ms integer[] NOT NULL,           -- executions: dispatch -> done
    wait_ms integer[] NOT NULL,          -- finished tasks: enqueue -> their last dispatch
    run_ms_sum bigint NOT NULL DEFAULT 0,    -- the exact sum of the durations in run_ms
    wait_ms_sum numeric NOT NULL DEFAULT 0,  -- the exact sum of the waits in wait_ms (to the us)
    PRIMARY KEY (minute, workflow_type)
);

-- Everything ever rolled up, per workflow type, as monotone counters: the minutes before
-- worker_state.metrics_totaled_to are added here once, and no rollup recomputes them any more
-- (rollups reach at most a day back), so pruning old minutes never makes a total go down. The
-- totals of now are these plus the minutes from metrics_totaled_to on (_metric_totals()).
CREATE TABLE orchestrator.metric_total (
    workflow_type text PRIMARY KEY,
    executions bigint NOT NULL,
    executions_failed bigint NOT NULL,
    tasks_succeeded bigint NOT NULL,
    tasks_dead_lettered bigint NOT NULL,
    cost_usd numeric NOT NULL,
    run_ms bigint[] NOT NULL,
    wait_ms bigint[] NOT NULL,
    run_ms_sum numeric NOT NULL,
    wait_ms_sum numeric NOT NULL
);

-- Adds two bucket-count arrays position by position (NULL is nothing counted yet).
CREATE FUNCTION orchestrator._add_counts(a bigint[], b bigint[]) RETURNS bigint[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN a IS NULL THEN b WHEN b IS NULL THEN a
                ELSE ARRAY(SELECT coalesce(u.x, 0) + coalesce(u.y, 0)
                             FROM unnest(a, b) WITH ORDINALITY u(x, y, i) ORDER BY u.i) END
$$;

-- The position-by-position sum of bucket-count arrays.
CREATE AGGREGATE orchestrator._sum_counts(bigint[]) (
    SFUNC = orchestrator._add_counts,
    STYPE = bigint[],
    PARALLEL = SAFE
);

-- Adds the minutes from worker_state.metrics_totaled_to up to `before` to metric_total and moves
-- the mark there (never back). Called by each rollup with `before` a day back: minutes older than
-- that are never recomputed, so each minute is added exactly once.
CREATE FUNCTION orchestrator._seal_metric_totals(before timestamptz) RETURNS void
    LANGUAGE sql AS $$
    INSERT INTO orchestrator.metric_total AS t
    SELECT m.workflow_type, sum(m.executions), sum(m.executions_failed), sum(m.tasks_succeeded),
           sum(m.tasks_dead_lettered), sum(m.cost_usd), orchestrator._sum_counts(m.run_ms::bigint[]),
           orchestrator._sum_counts(m.wait_ms::bigint[]), sum(m.run_ms_sum), sum(m.wait_ms_sum)
      FROM orchestrator.metric_minute m
     WHERE m.minute >= coalesce((SELECT w.metrics_totaled_to FROM orchestrator.worker_state w),
                                '-infinity')
       AND m.minute < _seal_metric_totals.before
     GROUP BY m.workflow_type
        ON CONFLICT (workflow_type) DO UPDATE
       SET executions = t.executions + excluded.executions,
           executions_failed = t.executions_failed + excluded.executions_failed,
           tasks_succeeded = t.tasks_succeeded + excluded.tasks_succeeded,
           tasks_dead_lettered = t.tasks_dead_lettered + excluded.tasks_dead_lettered,
           cost_usd = t.cost_usd + excluded.cost_usd,
           run_ms = orchestrator._add_counts(t.run_ms, excluded.run_ms),
           wait_ms = orchestrator._add_counts(t.wait_ms, excluded.wait_ms),
           run_ms_sum = t.run_ms_sum + excluded.run_ms_sum,
           wait_ms_sum = t.wait_ms_sum + excluded.wait_ms_sum;
    UPDATE orchestrator.worker_state w SET metrics_totaled_to = _seal_metric_totals.before
     WHERE w.metrics_totaled_to IS NULL OR w.metrics_totaled_to < _seal_metric_totals.before;
$$;

-- Everything rolled up so far, per workflow type: metric_total plus the minutes not added to it
-- yet. Every figure only grows (the Prometheus counters read it).
CREATE FUNCTION orchestrator._metric_totals()
    RETURNS TABLE (workflow_type text, executions bigint, executions_failed bigint,
                   tasks_succeeded bigint, tasks_dead_lettered bigint, cost_usd numeric,
                   run_ms bigint[], wait_ms bigint[], run_ms_sum numeric, wait_ms_sum numeric)
    LANGUAGE sql STABLE AS $$
    SELECT x.workflow_type, sum(x.executions)::bigint, sum(x.executions_failed)::bigint,
           sum(x.tasks_succeeded)::bigint, sum(x.tasks_dead_lettered)::bigint, sum(x.cost_usd),
           orchestrator._sum_counts(x.run_ms), orchestrator._sum_counts(x.wait_ms),
           sum(x.run_ms_sum), sum(x.wait_ms_sum)
      FROM (SELECT t.workflow_type, t.executions, t.executions_failed, t.tasks_succeeded,
                   t.tasks_dead_lettered, t.cost_usd, t.run_ms, t.wait_ms, t.run_ms_sum,
                   t.wait_ms_sum
              FROM orchestrator.metric_total t
            UNION ALL
            SELECT m.workflow_type, m.executions, m.executions_failed, m.tasks_succeeded,
                   m.tasks_dead_lettered, m.cost_usd, m.run_ms::bigint[], m.wait_ms::bigint[],
                   m.run_ms_sum, m.wait_ms_sum
              FROM orchestrator.metric_minute m
             WHERE m.minute >= coalesce((SELECT w.metrics_totaled_to
                                           FROM orchestrator.worker_state w), '-infinity')) x
     GROUP BY x.workflow_type
$$;

-- The latency buckets' upper bounds in milliseconds (core/latency.hpp), the one copy SQL reads.
CREATE FUNCTION orchestrator._latency_bounds_ms() RETURNS float8[]
    LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'orchestrator_latency_bounds_ms';

-- The p-th percentile (0 < p <= 100) of a latency histogram with the rollups' buckets (summed
-- bucket by bucket over any minutes and types), by nearest rank, reported as the upper bound of
-- the bucket that holds it (core/latency.hpp); NULL when the histogram counts nothing.
CREATE FUNCTION orchestrator.latency_percentile(histogram bigint[], percentile double precision)
    RETURNS double precision
    LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'orchestrator_latency_percentile';

-- Forecast arithmetic (core/forecast.hpp): the exponentially weighted rate per hour of
-- per-minute counts given newest first (half-life 15 minutes), how many complete minutes the
-- forecasts read, and the seconds until a level reaches zero at a rate per hour (NULL: never).
CREATE FUNCTION orchestrator._ewma_per_hour(per_minute double precision[])
    RETURNS double precision
    LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'orchestrator_ewma_per_hour';
CREATE FUNCTION orchestrator._forecast_window_minutes() RETURNS integer
    LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'orchestrator_forecast_window_minutes';
CREATE FUNCTION orchestrator._seconds_to_empty(level double precision,
                                               falling_per_hour double precision)
    RETURNS double precision
    LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'orchestrator_seconds_to_empty';
