-- The executive dashboard: dashboard_html() returns one self-contained HTML page (inline CSS and
-- SVG, no script, font or image, and a Content-Security-Policy that forbids loading any) with
-- the last hours' throughput, latency, success rate, cost and budget burn from the per-minute
-- rollups, and the queue, breakers, alerts and health as they are now.

-- The window cut into `buckets` equal buckets, each with what finished in it (from the rollups)
-- and the budget day's spend at its end. Labels are the buckets' start times in the configured
-- time zone.
CREATE FUNCTION orchestrator._dashboard_buckets(window_start timestamptz, bucket interval,
                                                buckets integer)
    RETURNS TABLE (i integer, label text, executions bigint, executions_failed bigint,
                   tasks_succeeded bigint, tasks_dead_lettered bigint, cost_usd numeric,
                   run_ms bigint[], wait_ms bigint[], day_spend_usd numeric)
    LANGUAGE sql STABLE AS $$
    WITH b AS (
        SELECT g.i, window_start + g.i * bucket AS starts, window_start + (g.i + 1) * bucket AS ends
          FROM generate_series(0, buckets - 1) g(i)),
    m AS (
        SELECT b.i, sum(m.executions) AS executions, sum(m.executions_failed) AS failed,
               sum(m.tasks_succeeded) AS succeeded, sum(m.tasks_dead_lettered) AS dead,
               sum(m.cost_usd) AS cost, orchestrator._sum_counts(m.run_ms::bigint[]) AS run,
               orchestrator._sum_counts(m.wait_ms::bigint[]) AS wait
          FROM b JOIN orchestrator.metric_minute m ON m.minute >= b.starts AND m.minute < b.ends
         GROUP BY b.i)
    SELECT b.i, to_char(b.starts AT TIME ZONE c.time_zone, 'HH24:MI'),
           coalesce(m.executions, 0), coalesce(m.failed, 0), coalesce(m.succeeded, 0),
           coalesce(m.dead, 0), coalesce(m.cost, 0), m.run, m.wait,
           (SELECT coalesce(sum(d.cost_usd), 0) FROM orchestrator.metric_minute d
             WHERE d.minute >= orchestrator.budget_day_start(b.ends - interval '1 microsecond')
               AND d.minute < b.ends)
      FROM b CROSS JOIN orchestrator.config c
      LEFT JOIN m ON m.i = b.i
     ORDER BY b.i
$$;

-- One figure of the summary row, coloured by a health status (ok, warning, critical or none).
CREATE FUNCTION orchestrator._dashboard_tile(label text, value text, status text DEFAULT NULL)
    RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT format('<div class="tile %s"><div class="label">%s</div><div class="value">%s</div></div>',
                  coalesce(orchestrator._html_escape(status), 'none'),
                  orchestrator._html_escape(label), orchestrator._html_escape(value))
$$;

-- An HTML table: `header` names the columns; each row of `cells` is a JSON array of
-- [text, class] pairs (class may be null). All text is escaped here.
CREATE FUNCTION orchestrator._dashboard_table(header text[], cells jsonb, empty text)
    RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT '<table><thead><tr>'
           || (SELECT string_agg('<th>' || orchestrator._html_escape(h) || '</th>', '' ORDER BY k)
                 FROM unnest(header) WITH ORDINALITY u(h, k))
           || '</tr></thead><tbody>'
           || coalesce((SELECT string_agg('<tr>' || (SELECT string_agg(
                                  format('<td%s>%s</td>',
                                         CASE WHEN c.value ->> 1 IS NOT NULL
                                              THEN ' class="' || orchestrator._html_escape(c.value ->> 1) || '"'
                                              ELSE '' END,
                                         orchestrator._html_escape(c.value ->> 0)), '' ORDER BY c.k)
                                       FROM jsonb_array_elements(r.value) WITH ORDINALITY c(value, k))
                                  || '</tr>', '' ORDER BY r.k)
                          FROM jsonb_array_elements(cells) WITH ORDINALITY r(value, k)),
                       format('<tr><td colspan="%s" class="muted">%s</td></tr>', cardinality(header),
                              orchestrator._html_escape(empty)))
           || '</tbody></table>'
$$;

-- The dashboard of the last `hours` hours (1 to 720), cut into 24 buckets.
CREATE FUNCTION orchestrator.dashboard_html(hours integer DEFAULT 24) RETURNS text
    LANGUAGE plpgsql STABLE AS $$
DECLARE
    buckets CONSTANT integer := 24;
    window_end timestamptz;
    bucket interval;
    tz text;
    d record;
    h record;
    charts text[];
    tiles text;
    queue_chart text;
    breakers text;
    alerts text;
    health text;
    per_bucket text;
BEGIN
    IF hours IS NULL THEN
        RAISE EXCEPTION 'hours must not be null' USING ERRCODE = '22004';
    END IF;
    IF hours NOT BETWEEN 1 AND 720 THEN
        RAISE EXCEPTION 'hours must be between 1 and 720'
            USING ERRCODE = '22023', DETAIL = format('The value given was %s.', hours);
    END IF;
    -- Buckets start at whole multiples of their length; the last one holds now (it is still
    -- filling).
    bucket := hours * interval '1 hour' / buckets;
    window_end := to_timestamp((floor(extract(epoch FROM orchestrator.now()) / extract(epoch FROM bucket)) + 1)
                               * extract(epoch FROM bucket));
    per_bucket := orchestrator._chart_number(extract(epoch FROM bucket) / 60) || ' min';
    SELECT c.time_zone INTO tz FROM orchestrator.config c;

    -- The series of the window, and its totals.
    SELECT array_agg(b.label ORDER BY b.i) AS labels,
           jsonb_agg(b.tasks_succeeded ORDER BY b.i) AS succeeded,
           jsonb_agg(b.tasks_dead_lettered ORDER BY b.i) AS dead,
           jsonb_agg(b.executions ORDER BY b.i) AS executions,
           jsonb_agg(orchestrator.latency_percentile(b.run_ms, 50) / 1000 ORDER BY b.i) AS run_p50,
           jsonb_agg(orchestrator.latency_percentile(b.run_ms, 95) / 1000 ORDER BY b.i) AS run_p95,
           jsonb_agg(orchestrator.latency_percentile(b.run_ms, 99) / 1000 ORDER BY b.i) AS run_p99,
           jsonb_agg(orchestrator.latency_percentile(b.wait_ms, 50) / 1000 ORDER BY b.i) AS wait_p50,
           jsonb_agg(orchestrator.latency_percentile(b.wait_ms, 95) / 1000 ORDER BY b.i) AS wait_p95,
           jsonb_agg(orchestrator.latency_percentile(b.wait_ms, 99) / 1000 ORDER BY b.i) AS wait_p99,
           jsonb_agg(round(100.0 * (b.executions - b.executions_failed) / nullif(b.executions, 0), 1)
                     ORDER BY b.i) AS success,
           jsonb_agg(round(b.cost_usd / nullif(b.tasks_succeeded + b.tasks_dead_lettered, 0), 6)
                     ORDER BY b.i) AS cost_per_task,
           jsonb_agg(b.day_spend_usd ORDER BY b.i) AS day_spend,
           sum(b.tasks_succeeded + b.tasks_dead_lettered) AS tasks,
           sum(b.executions) AS total_executions,
           sum(b.executions_failed) AS total_failed,
           sum(b.cost_usd) AS total_cost,
           orchestrator._sum_counts(b.run_ms) AS run_all
      INTO d
      FROM orchestrator._dashboard_buckets(window_end - hours * interval '1 hour', bucket, buckets) b;

    -- Health as it is now: the summary row reads its budget, queue, worker and alert figures.
    SELECT max(x.status) FILTER (WHERE x.component = 'budget') AS budget_status,
           max(x.value) FILTER (WHERE x.component = 'budget') AS budget_used,
           max(x.threshold) FILTER (WHERE x.component = 'budget') AS budget_limit,
           max(x.status) FILTER (WHERE x.component = 'queue') AS queue_status,
           max(x.value) FILTER (WHERE x.component = 'queue') AS queue_ready,
           max(x.status) FILTER (WHERE x.component = 'worker') AS worker_status,
           max(x.details ->> 'state') FILTER (WHERE x.component = 'worker') AS worker_state,
           max(x.status) FILTER (WHERE x.component = 'alerts') AS alerts_status,
           max(x.value) FILTER (WHERE x.component = 'alerts') AS alerts_open,
           jsonb_agg(jsonb_build_array(jsonb_build_array(x.component, NULL),
                                       jsonb_build_array(x.status, 'status ' || x.status),
                                       jsonb_build_array(orchestrator._chart_number(x.value), 'num'),
                                       jsonb_build_array(orchestrator._chart_number(x.threshold), 'num'))
                     ORDER BY x.component) AS health_rows
      INTO h
      FROM orchestrator.get_system_health() x;

    tiles := orchestrator._dashboard_tile('Tasks finished', d.tasks::text)
          || orchestrator._dashboard_tile('Success rate',
                 coalesce(orchestrator._chart_number(round(100.0 * (d.total_executions - d.total_failed)
                                                           / nullif(d.total_executions, 0), 1)) || ' %', '–'))
          || orchestrator._dashboard_tile('p95 dispatch → done',
                 coalesce(orchestrator._chart_number(
                              orchestrator.latency_percentile(d.run_all, 95)::numeric / 1000) || ' s', '–'))
          || orchestrator._dashboard_tile('Cost per task',
                 coalesce('$' || orchestrator._chart_number(d.total_cost / nullif(d.tasks, 0)), '–'))
          || orchestrator._dashboard_tile('Budget today',
                 format('$%s of $%s', orchestrator._chart_number(h.budget_used),
                        orchestrator._chart_number(h.budget_limit)), h.budget_status)
          || orchestrator._dashboard_tile('Ready tasks', h.queue_ready::text, h.queue_status)
          || orchestrator._dashboard_tile('Open alerts', h.alerts_open::text, h.alerts_status)
          || orchestrator._dashboard_tile('Heartbeat', coalesce(h.worker_state, '–'), h.worker_status);

    charts := ARRAY[orchestrator._svg_chart('throughput', 'Throughput: tasks finished per ' || per_bucket, d.labels,
                  jsonb_build_array(jsonb_build_object('name', 'succeeded', 'values', d.succeeded, 'color', '#16a34a'),
                                    jsonb_build_object('name', 'dead-lettered', 'values', d.dead, 'color', '#dc2626')),
                  'bar'),
           orchestrator._svg_chart('success_rate', 'Success rate of executions (%)', d.labels,
                  jsonb_build_array(jsonb_build_object('name', 'succeeded %', 'values', d.success, 'color', '#16a34a'))),
           orchestrator._svg_chart('latency', 'Latency dispatch → done (s, bucket bound)', d.labels,
                  jsonb_build_array(jsonb_build_object('name', 'p50', 'values', d.run_p50),
                                    jsonb_build_object('name', 'p95', 'values', d.run_p95),
                                    jsonb_build_object('name', 'p99', 'values', d.run_p99))),
           orchestrator._svg_chart('wait', 'Wait enqueue → dispatch (s, bucket bound)', d.labels,
                  jsonb_build_array(jsonb_build_object('name', 'p50', 'values', d.wait_p50),
                                    jsonb_build_object('name', 'p95', 'values', d.wait_p95),
                                    jsonb_build_object('name', 'p99', 'values', d.wait_p99))),
           orchestrator._svg_chart('cost_per_task', 'Cost per finished task (USD)', d.labels,
                  jsonb_build_array(jsonb_build_object('name', 'cost per task', 'values', d.cost_per_task,
                                                       'color', '#d97706'))),
           orchestrator._svg_chart('budget_burn', 'Budget burn: spend of the budget day (USD)', d.labels,
                  jsonb_build_array(jsonb_build_object('name', 'spent', 'values', d.day_spend, 'color', '#7c3aed'),
                                    jsonb_build_object('name', 'daily budget now', 'dashed', true, 'color', '#dc2626',
                                                       'values', (SELECT jsonb_agg(h.budget_limit)
                                                                    FROM generate_series(1, buckets)))))];

    SELECT orchestrator._svg_chart('queue', 'Queue depth by workflow type (tasks now)',
               array_agg(q.workflow_type ORDER BY q.workflow_type),
               jsonb_build_array(
                   jsonb_build_object('name', 'ready', 'color', '#2563eb',
                                      'values', jsonb_agg(q.ready ORDER BY q.workflow_type)),
                   jsonb_build_object('name', 'waiting', 'color', '#94a3b8',
                                      'values', jsonb_agg(q.waiting ORDER BY q.workflow_type)),
                   jsonb_build_object('name', 'running', 'color', '#16a34a',
                                      'values', jsonb_agg(q.running ORDER BY q.workflow_type)),
                   jsonb_build_object('name', 'dead letters', 'color', '#dc2626',
                                      'values', jsonb_agg(q.dead ORDER BY q.workflow_type))),
               'bar')
      INTO queue_chart
      FROM (SELECT x.workflow_type,
                   sum(x.tasks) FILTER (WHERE x.state = 'ready') AS ready,
                   sum(x.tasks) FILTER (WHERE x.state = 'waiting') AS waiting,
                   sum(x.tasks) FILTER (WHERE x.state = 'running') AS running,
                   sum(x.tasks) FILTER (WHERE x.state = 'dead_letter') AS dead
              FROM orchestrator._queue_depth() x GROUP BY x.workflow_type) q;

    SELECT orchestrator._dashboard_table(ARRAY['breaker', 'state', 'failures in a row', 'opened'],
               coalesce(jsonb_agg(jsonb_build_array(
                   jsonb_build_array(replace(b.kind, '_', ' ') || ' ' || b.name, NULL),
                   jsonb_build_array(replace(b.state, '_', '-'), 'status ' || b.state),
                   jsonb_build_array(b.consecutive_failures::text, 'num'),
                   jsonb_build_array(coalesce(to_char(b.opened_at AT TIME ZONE tz, 'YYYY-MM-DD HH24:MI'), ''), NULL))
                   ORDER BY b.kind DESC, b.name), '[]'),
               'No workflow type or API is registered.')
      INTO breakers
      FROM orchestrator._breaker_states() b;

    SELECT orchestrator._dashboard_table(ARRAY['severity', 'condition', 'message', 'raised', 'acknowledged'],
               coalesce(jsonb_agg(jsonb_build_array(
                   jsonb_build_array(a.severity, 'status ' || a.severity),
                   jsonb_build_array(a.condition, NULL),
                   jsonb_build_array(a.message, NULL),
                   jsonb_build_array(to_char(a.raised_at AT TIME ZONE tz, 'YYYY-MM-DD HH24:MI'), NULL),
                   jsonb_build_array(CASE WHEN a.acknowledged_at IS NULL THEN 'no' ELSE 'yes' END, NULL))
                   ORDER BY a.raised_at DESC, a.id DESC), '[]'),
               'No open alert.')
      INTO alerts
      FROM orchestrator.alert a WHERE a.resolved_at IS NULL;

    health := orchestrator._dashboard_table(ARRAY['component', 'status', 'value', 'threshold'],
                                            h.health_rows, 'No health rows.');

    RETURN '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        || '<meta http-equiv="Content-Security-Policy" content="default-src ''none''; style-src ''unsafe-inline''">'
        || '<meta name="viewport" content="width=device-width, initial-scale=1">'
        || '<title>Orchestrator dashboard</title><style>'
        || 'body{margin:0;padding:20px 24px;background:#f1f5f9;color:#0f172a;'
        || 'font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}'
        || 'h1{font-size:20px;margin:0 0 2px}h2{font-size:15px;margin:0 0 8px}'
        || '.sub{color:#64748b;margin:0 0 16px}'
        || '.tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(135px,1fr));gap:10px;margin-bottom:16px}'
        || '.tile{background:#fff;border-radius:8px;padding:10px 12px;border-left:4px solid #cbd5e1}'
        || '.tile.ok{border-left-color:#16a34a}.tile.warning{border-left-color:#d97706}.tile.critical{border-left-color:#dc2626}'
        || '.tile .label{color:#64748b;font-size:12px}.tile .value{font-size:18px;font-weight:600}'
        || '.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(460px,1fr));gap:14px}'
        || '.card{background:#fff;border-radius:8px;padding:12px;box-shadow:0 1px 2px rgba(15,23,42,.08)}'
        || 'svg.chart{width:100%;height:auto;display:block}'
        || 'svg .title{font-size:14px;font-weight:600;fill:#0f172a}svg .axis{font-size:11px;fill:#64748b}'
        || 'svg .legend{font-size:12px;fill:#334155}svg .empty{font-size:13px;fill:#94a3b8}'
        || 'svg .grid{stroke:#e2e8f0;stroke-width:1}svg .baseline{stroke:#94a3b8;stroke-width:1}'
        || 'table{border-collapse:collapse;width:100%;font-size:13px}'
        || 'th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #e2e8f0}th{color:#64748b;font-weight:500}'
        || 'td.num{text-align:right;font-variant-numeric:tabular-nums}td.muted{color:#94a3b8}'
        || 'td.status{font-weight:600}.status.ok,.status.closed{color:#16a34a}'
        || '.status.warning,.status.half_open{color:#d97706}.status.critical,.status.open{color:#dc2626}'
        || '.status.info{color:#2563eb}'
        || '</style></head><body>'
        || '<h1>Orchestrator</h1>'
        || format('<p class="sub">%s from %s to %s (%s) in buckets of %s, as rolled up by the heartbeat; the last bucket is still filling. The queue, breakers, alerts and health are as of %s.</p>',
                  hours || CASE WHEN hours = 1 THEN ' hour' ELSE ' hours' END,
                  to_char((window_end - hours * interval '1 hour') AT TIME ZONE tz, 'YYYY-MM-DD HH24:MI'),
                  to_char(window_end AT TIME ZONE tz, 'YYYY-MM-DD HH24:MI'), orchestrator._html_escape(tz),
                  per_bucket, to_char(orchestrator.now() AT TIME ZONE tz, 'YYYY-MM-DD HH24:MI'))
        || '<div class="tiles">' || tiles || '</div>'
        || '<div class="cards">'
        || (SELECT string_agg('<div class="card">' || c || '</div>', '' ORDER BY k)
              FROM unnest(charts || queue_chart) WITH ORDINALITY u(c, k))
        || '<div class="card"><h2>Circuit breakers</h2>' || breakers || '</div>'
        || '<div class="card"><h2>Open alerts</h2>' || alerts || '</div>'
        || '<div class="card"><h2>Health</h2>' || health || '</div>'
        || '</div></body></html>';
END $$;
