-- The Prometheus export: prometheus_metrics() writes the text exposition format (version 0.0.4)
-- from _prometheus_samples(), one row per sample. Counters and histograms come from the metric
-- rollups (_metric_totals(): they only grow, and move on at each heartbeat); gauges are read
-- now, and the budget, API and worker gauges are get_system_health()'s own figures.

-- A label value escaped for the exposition format: backslash, double quote and line feed.
CREATE FUNCTION orchestrator._prometheus_escape(value text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT replace(replace(replace(value, E'\\', E'\\\\'), '"', E'\\"'), E'\n', E'\\n')
$$;

-- The metric families, in output order, with their type and help text.
CREATE FUNCTION orchestrator._prometheus_families()
    RETURNS TABLE (ord integer, family text, type text, help text)
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    VALUES
    (1, 'orchestrator_queue_tasks', 'gauge',
     'Tasks by workflow type and state: ready (queued and due), waiting (queued for a run-after time or a retry), running, dead_letter.'),
    (2, 'orchestrator_queue_oldest_ready_seconds', 'gauge',
     'Seconds the oldest ready task of the workflow type has waited (0 when none is ready).'),
    (3, 'orchestrator_executions_running', 'gauge', 'Executions running now.'),
    (4, 'orchestrator_executions_total', 'counter',
     'Executions finished (dispatched and then completed, failed or expired), as rolled up by the heartbeat.'),
    (5, 'orchestrator_execution_failures_total', 'counter',
     'Executions that failed or expired, as rolled up by the heartbeat.'),
    (6, 'orchestrator_tasks_finished_total', 'counter',
     'Tasks that finished, by outcome (succeeded or dead_lettered), as rolled up by the heartbeat.'),
    (7, 'orchestrator_execution_duration_seconds', 'histogram',
     'Execution time from dispatch to completion or failure; le counts durations below the bound.'),
    (8, 'orchestrator_task_wait_seconds', 'histogram',
     'Time finished tasks waited from enqueue to their last dispatch; le counts waits below the bound.'),
    (9, 'orchestrator_cost_usd_total', 'counter', 'Cost reported by finished executions, in US dollars.'),
    (10, 'orchestrator_budget_spent_usd', 'gauge', 'Spend of the current budget day, in US dollars.'),
    (11, 'orchestrator_budget_reserved_usd', 'gauge',
     'Cost reserved by running executions, in US dollars.'),
    (12, 'orchestrator_budget_limit_usd', 'gauge',
     'The daily budget, with the raise of the day, in US dollars.'),
    (13, 'orchestrator_api_calls_last_minute', 'gauge',
     'Calls planned by executions started in the last minute.'),
    (14, 'orchestrator_api_limit_calls_per_minute', 'gauge', 'The API''s rate limit.'),
    (15, 'orchestrator_api_burst_calls', 'gauge', 'The API''s token bucket size.'),
    (16, 'orchestrator_api_paused', 'gauge', '1 while the API is paused by an HTTP 429, else 0.'),
    (17, 'orchestrator_breaker_state', 'gauge',
     'Circuit breaker of a workflow type or an API: 0 closed, 1 half-open, 2 open.'),
    (18, 'orchestrator_breaker_consecutive_failures', 'gauge',
     'Consecutive failures counted by the circuit breaker.'),
    (19, 'orchestrator_worker_up', 'gauge',
     '1 when the worker or tick() recorded liveness in the last 2 minutes, else 0.'),
    (20, 'orchestrator_worker_last_alive_timestamp_seconds', 'gauge',
     'Unix time of the last liveness record (0 if never).'),
    (21, 'orchestrator_worker_info', 'gauge',
     'Always 1; the labels give the heartbeat''s state and what ran it last.'),
    (22, 'orchestrator_metrics_rolled_up_timestamp_seconds', 'gauge',
     'Unix time up to which the counters and histograms are rolled up (0 if never).'),
    (23, 'orchestrator_alerts_open', 'gauge', 'Open alerts by severity.'),
    (24, 'orchestrator_alert_open', 'gauge', '1 for each open alert, by condition.')
$$;

-- Every sample: its family, the sample's name (the family's, or with _bucket, _sum, _count),
-- its labels and value, in output order (seq within the family).
CREATE FUNCTION orchestrator._prometheus_samples()
    RETURNS TABLE (family text, sample text, labels jsonb, value numeric, seq bigint)
    LANGUAGE sql STABLE AS $$
    WITH types AS (
        SELECT w.id, w.name FROM orchestrator.workflow_type w),
    health AS (
        SELECT h.component, h.status, h.value, h.threshold, h.details
          FROM orchestrator.get_system_health() h
         WHERE h.component IN ('budget', 'worker') OR h.component LIKE 'api:%'),
    queue AS (
        SELECT * FROM orchestrator._queue_depth()),
    totals AS (
        SELECT coalesce(x.workflow_type, ty.name) AS workflow_type, x.executions,
               x.executions_failed, x.tasks_succeeded, x.tasks_dead_lettered, x.cost_usd,
               x.run_ms, x.wait_ms, x.run_ms_sum, x.wait_ms_sum
          FROM orchestrator._metric_totals() x
          FULL JOIN types ty ON ty.name = x.workflow_type),
    bounds AS (
        SELECT b.i, b.ms FROM unnest(orchestrator._latency_bounds_ms()) WITH ORDINALITY b(ms, i)
        UNION ALL
        SELECT cardinality(orchestrator._latency_bounds_ms()) + 1, NULL),  -- +Inf
    histograms AS (
        SELECT h.family, h.workflow_type, h.counts, h.sum_ms
          FROM totals x
         CROSS JOIN LATERAL (VALUES
               ('orchestrator_execution_duration_seconds', x.workflow_type, x.run_ms, x.run_ms_sum),
               ('orchestrator_task_wait_seconds', x.workflow_type, x.wait_ms, x.wait_ms_sum))
               h(family, workflow_type, counts, sum_ms)),
    samples AS (
        SELECT 'orchestrator_queue_tasks' AS family, NULL AS suffix,
               jsonb_build_object('workflow_type', q.workflow_type, 'state', q.state) AS labels,
               q.tasks::numeric AS value, 0::bigint AS seq
          FROM queue q
        UNION ALL
        SELECT 'orchestrator_queue_oldest_ready_seconds', NULL,
               jsonb_build_object('workflow_type', q.workflow_type), q.oldest_ready_seconds, 0
          FROM queue q WHERE q.state = 'ready'
        UNION ALL
        SELECT 'orchestrator_executions_running', NULL, jsonb_build_object('workflow_type', ty.name),
               (SELECT count(*) FROM orchestrator.workflow_orchestration e
                 WHERE e.status = 'running' AND e.workflow_type = ty.name), 0
          FROM types ty
        UNION ALL
        SELECT 'orchestrator_executions_total', NULL, jsonb_build_object('workflow_type', x.workflow_type),
               coalesce(x.executions, 0), 0
          FROM totals x
        UNION ALL
        SELECT 'orchestrator_execution_failures_total', NULL,
               jsonb_build_object('workflow_type', x.workflow_type), coalesce(x.executions_failed, 0), 0
          FROM totals x
        UNION ALL
        SELECT 'orchestrator_tasks_finished_total', NULL,
               jsonb_build_object('workflow_type', x.workflow_type, 'outcome', o.outcome),
               coalesce(o.n, 0), o.ord
          FROM totals x
         CROSS JOIN LATERAL (VALUES (1, 'succeeded', x.tasks_succeeded),
                                    (2, 'dead_lettered', x.tasks_dead_lettered)) o(ord, outcome, n)
        UNION ALL
        -- Cumulative buckets, then _sum (exact: the rollups keep the sum of the durations) and
        -- _count.
        SELECT h.family, '_bucket',
               jsonb_build_object('workflow_type', h.workflow_type, 'le',
                                  coalesce(trim_scale(b.ms::numeric / 1000)::text, '+Inf')),
               sum(coalesce(h.counts[b.i::integer], 0)) OVER (PARTITION BY h.family, h.workflow_type
                                                     ORDER BY b.i),
               b.i
          FROM histograms h CROSS JOIN bounds b
        UNION ALL
        SELECT h.family, '_sum', jsonb_build_object('workflow_type', h.workflow_type),
               coalesce(h.sum_ms, 0) / 1000, 1000
          FROM histograms h
        UNION ALL
        SELECT h.family, '_count', jsonb_build_object('workflow_type', h.workflow_type),
               coalesce((SELECT sum(c) FROM unnest(h.counts) c), 0), 1001
          FROM histograms h
        UNION ALL
        SELECT 'orchestrator_cost_usd_total', NULL, jsonb_build_object('workflow_type', x.workflow_type),
               coalesce(x.cost_usd, 0), 0
          FROM totals x
        UNION ALL
        SELECT f.family, NULL, '{}', (h.details ->> f.field)::numeric, 0
          FROM health h
         CROSS JOIN (VALUES ('orchestrator_budget_spent_usd', 'spent_usd'),
                            ('orchestrator_budget_reserved_usd', 'reserved_usd')) f(family, field)
         WHERE h.component = 'budget'
        UNION ALL
        SELECT 'orchestrator_budget_limit_usd', NULL, '{}', h.threshold, 0
          FROM health h WHERE h.component = 'budget'
        UNION ALL
        SELECT f.family, NULL, jsonb_build_object('api', substr(h.component, 5)), f.value, 0
          FROM health h
         CROSS JOIN LATERAL (VALUES
               ('orchestrator_api_calls_last_minute', h.value),
               ('orchestrator_api_limit_calls_per_minute', h.threshold),
               ('orchestrator_api_burst_calls', (h.details ->> 'burst')::numeric),
               ('orchestrator_api_paused',
                CASE WHEN (h.details ->> 'paused_until')::timestamptz > orchestrator.now()
                     THEN 1 ELSE 0 END)) f(family, value)
         WHERE h.component LIKE 'api:%'
        UNION ALL
        SELECT f.family, NULL, jsonb_build_object(b.kind, b.name), f.value, 0
          FROM orchestrator._breaker_states() b
         CROSS JOIN LATERAL (VALUES
               ('orchestrator_breaker_state',
                CASE b.state WHEN 'open' THEN 2 WHEN 'half_open' THEN 1 ELSE 0 END),
               ('orchestrator_breaker_consecutive_failures', b.consecutive_failures))
               f(family, value)
        UNION ALL
        SELECT 'orchestrator_worker_up', NULL, '{}',
               CASE WHEN h.value < h.threshold THEN 1 ELSE 0 END, 0
          FROM health h WHERE h.component = 'worker'
        UNION ALL
        SELECT 'orchestrator_worker_last_alive_timestamp_seconds', NULL, '{}',
               coalesce(extract(epoch FROM (h.details ->> 'alive_at')::timestamptz), 0), 0
          FROM health h WHERE h.component = 'worker'
        UNION ALL
        SELECT 'orchestrator_worker_info', NULL,
               jsonb_build_object('state', h.details ->> 'state',
                                  'runner', coalesce(h.details ->> 'runner', 'none')), 1, 0
          FROM health h WHERE h.component = 'worker'
        UNION ALL
        SELECT 'orchestrator_metrics_rolled_up_timestamp_seconds', NULL, '{}',
               coalesce(extract(epoch FROM w.metrics_rolled_up_to), 0), 0
          FROM orchestrator.worker_state w
        UNION ALL
        SELECT 'orchestrator_alerts_open', NULL, jsonb_build_object('severity', s.severity),
               (SELECT count(*) FROM orchestrator.alert a
                 WHERE a.resolved_at IS NULL AND a.severity = s.severity), s.ord
          FROM (VALUES (1, 'critical'), (2, 'warning'), (3, 'info')) s(ord, severity)
        UNION ALL
        SELECT 'orchestrator_alert_open', NULL,
               jsonb_build_object('condition', a.condition, 'severity', a.severity), 1, a.id
          FROM orchestrator.alert a WHERE a.resolved_at IS NULL)
    SELECT s.family, s.family || coalesce(s.suffix, ''), s.labels, s.value,
           row_number() OVER (PARTITION BY s.family
                              ORDER BY s.labels ->> 'workflow_type', s.labels ->> 'api', s.seq,
                                       s.labels::text)
      FROM samples s
$$;

-- The metrics in the Prometheus text exposition format (version 0.0.4), for a scraper or an
-- n8n webhook to serve as they are.
CREATE FUNCTION orchestrator.prometheus_metrics() RETURNS text
    LANGUAGE sql STABLE AS $$
    WITH lines AS (
        SELECT s.family,
               string_agg(s.sample
                          || coalesce((SELECT '{' || string_agg(l.key || '="'
                                                   || orchestrator._prometheus_escape(l.value) || '"',
                                                   ',' ORDER BY l.key) || '}'
                                         FROM jsonb_each_text(s.labels) l), '')
                          || ' ' || trim_scale(s.value)::text || E'\n', '' ORDER BY s.seq) AS text
          FROM orchestrator._prometheus_samples() s
         GROUP BY s.family)
    SELECT string_agg('# HELP ' || f.family || ' ' || f.help || E'\n'
                      || '# TYPE ' || f.family || ' ' || f.type || E'\n'
                      || coalesce(l.text, ''), '' ORDER BY f.ord)
      FROM orchestrator._prometheus_families() f
      LEFT JOIN lines l ON l.family = f.family
$$;
