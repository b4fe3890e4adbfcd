-- Alerts: raised and resolved by the heartbeat's MONITORING step (rules in core/alerts.hpp),
-- at most one open alert per condition, each change announced on orchestrator_alerts.
CREATE TABLE orchestrator.alert (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    condition text NOT NULL,  -- worker_silent, budget_exceeded, error_rate, queue_depth,
                              -- api_utilization:<api>, long_execution; daily_summary (info,
                              -- open until the next day's summary supersedes it)
    severity text NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
    message text NOT NULL,
    value numeric,
    threshold numeric,
    raised_at timestamptz NOT NULL,
    acknowledged_at timestamptz,
    acknowledged_by text,
    resolved_at timestamptz,
    details jsonb             -- the daily summary's figures (metrics() of the day)
);
CREATE UNIQUE INDEX alert_open ON orchestrator.alert (condition) WHERE resolved_at IS NULL;
CREATE INDEX alert_raised ON orchestrator.alert (raised_at);

-- The alerts, open ones first (newest first), with resolved ones when asked.
CREATE FUNCTION orchestrator.list_alerts(include_resolved boolean DEFAULT false)
    RETURNS SETOF orchestrator.alert
    LANGUAGE sql STABLE AS $$
    SELECT * FROM orchestrator.alert a
     WHERE a.resolved_at IS NULL OR coalesce(list_alerts.include_resolved, false)
     ORDER BY a.resolved_at IS NOT NULL, a.raised_at DESC, a.id DESC
$$;

-- Marks an open alert seen (it stays open until its condition is gone). False when it was
-- already acknowledged or is resolved. Audited.
CREATE FUNCTION orchestrator.acknowledge_alert(alert_id bigint) RETURNS boolean
    LANGUAGE plpgsql AS $$
DECLARE
    a orchestrator.alert;
BEGIN
    IF alert_id IS NULL THEN
        RAISE EXCEPTION 'alert_id must not be null' USING ERRCODE = '22004';
    END IF;
    SELECT * INTO a FROM orchestrator.alert x WHERE x.id = alert_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'alert % does not exist', alert_id USING ERRCODE = 'P0002';
    END IF;
    IF a.acknowledged_at IS NOT NULL OR a.resolved_at IS NOT NULL THEN
        RETURN false;
    END IF;
    UPDATE orchestrator.alert x SET acknowledged_at = orchestrator.now(), acknowledged_by = session_user
     WHERE x.id = alert_id;
    PERFORM orchestrator._audit('acknowledge_alert', a.condition, to_jsonb(a),
                                (SELECT to_jsonb(x) FROM orchestrator.alert x WHERE x.id = alert_id));
    RETURN true;
END $$;
