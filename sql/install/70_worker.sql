-- The orchestrator's heartbeat: the stored state machine (one row) and every transition it made.
-- The background worker (or orchestrator.tick()) moves it IDLE -> ANALYZING -> DISPATCHING ->
-- MONITORING -> IDLE, and to ERROR_RECOVERY on a failure; after a restart it resumes from here.
CREATE TABLE orchestrator.worker_state (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    state text NOT NULL DEFAULT 'idle',
    entered_at timestamptz NOT NULL DEFAULT now(),
    pass_started_at timestamptz,
    pass_finished_at timestamptz,
    failures integer NOT NULL DEFAULT 0,    -- failed passes in a row
    last_error text,
    recover_after timestamptz,              -- error recovery waits until then
    alive_at timestamptz,                   -- last sign of life of the worker or tick()
    alive_pid integer,
    alive_runner text,
    metrics_rolled_up_to timestamptz,       -- the minutes before it are rolled up
    metrics_totaled_to timestamptz,         -- the minutes before it are in metric_total
    summary_day timestamptz                 -- the budget day the last daily summary check saw
);
INSERT INTO orchestrator.worker_state DEFAULT VALUES;

CREATE TABLE orchestrator.worker_transition (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    from_state text NOT NULL,
    to_state text NOT NULL,
    at timestamptz NOT NULL,
    reason text,
    runner text NOT NULL CHECK (runner IN ('worker', 'tick'))
);
CREATE INDEX worker_transition_at ON orchestrator.worker_transition (at);

CREATE FUNCTION orchestrator._worker_state_guard() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'orchestrator_worker_state_guard';
CREATE TRIGGER worker_state_guard BEFORE UPDATE OF state ON orchestrator.worker_state
    FOR EACH ROW EXECUTE FUNCTION orchestrator._worker_state_guard();

-- One heartbeat, for hosts without the background worker (drive it with pg_cron). False when
-- another pass is running.
CREATE FUNCTION orchestrator.tick() RETURNS boolean
    LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'orchestrator_tick';
