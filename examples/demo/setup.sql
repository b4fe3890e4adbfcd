-- The demo workload's harness and settings, run by examples/demo/drive.py through psycopg2
-- (with psycopg2 named parameters for the cooldown and the budget; not a psql script).
--
-- Schema demo holds this run's own records, which test/stress/checks.sql reads
-- (-v harness=demo): every task the run enqueued, callbacks the orchestrator refused, and every
-- HTTP 429 reported. It is made anew for each run.
DROP SCHEMA IF EXISTS demo CASCADE;
CREATE SCHEMA demo;
CREATE TABLE demo.enqueued (task_id bigint PRIMARY KEY, workflow_type text NOT NULL);
CREATE TABLE demo.callback_error (
    at timestamptz NOT NULL DEFAULT clock_timestamp(), execution_id bigint, action text,
    sqlstate text, message text);
CREATE TABLE demo.pause_log (execution_id bigint, api text, t timestamptz, retry_after interval);
-- The clients run as orchestrator_worker, the role n8n would use.
GRANT USAGE ON SCHEMA demo TO orchestrator_worker;
GRANT INSERT ON ALL TABLES IN SCHEMA demo TO orchestrator_worker;

SELECT count(*) FROM orchestrator.apply_preset('n8n-content');

-- Demo tasks an earlier run left queued (waiting for a retry, or never dispatched) would be
-- dispatched in this run without being its own: cancelled (audited).
SELECT orchestrator.cancel_tasks(payload_contains => '{"source": "demo"}');

-- Breakers that open after 3 consecutive failures and try again after a short cooldown, and a
-- budget for this run on top of what today has already committed.
SELECT 1 FROM orchestrator.configure(jsonb_build_object(
    'breaker_failure_threshold', 3,
    'breaker_cooldown', %(cooldown)s::text,
    'daily_budget_usd', (SELECT m.budget_spent_usd + m.budget_reserved_usd
                           FROM orchestrator.metrics(now() - interval '1 minute', now()) m
                          WHERE m.workflow_type IS NULL) + %(budget)s::numeric));

-- The heavy type runs one at a time (a per-type cap the checks prove).
SELECT 1 FROM orchestrator.alter_workflow_type('intelligence_engine', '{"max_concurrent": 1}');
