-- Resource governance: APIs and their rate limits, the budget and global caps, breakers, audit.

-- One row of global settings. Change it through orchestrator.configure(), which audits.
CREATE TABLE orchestrator.config (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    daily_budget_usd numeric(14, 6) NOT NULL DEFAULT 500,
    budget_soft_ratio numeric NOT NULL DEFAULT 0.8,
    critical_priority integer NOT NULL DEFAULT 11,
    critical_reserve_usd numeric(14, 6) NOT NULL DEFAULT 0,
    budget_day_start_hour integer NOT NULL DEFAULT 0,
    time_zone text NOT NULL DEFAULT 'UTC',
    budget_raise_usd numeric(14, 6) NOT NULL DEFAULT 0,
    budget_raise_day timestamptz,
    max_db_connections integer NOT NULL DEFAULT 20,
    max_memory_mb integer NOT NULL DEFAULT 2048,
    business_days integer NOT NULL DEFAULT 31,
    business_start time NOT NULL DEFAULT '09:00',
    business_end time NOT NULL DEFAULT '18:00',
    breaker_failure_threshold integer NOT NULL DEFAULT 5,
    breaker_cooldown interval NOT NULL DEFAULT '5 minutes',
    -- History kept: finished tasks (succeeded, cancelled, discarded; not dead letters) and
    -- finished executions older than these are pruned in small batches by each heartbeat.
    task_retention interval NOT NULL DEFAULT '7 days',
    execution_retention interval NOT NULL DEFAULT '30 days',
    metric_retention interval NOT NULL DEFAULT '400 days', -- per-minute rollups
    updated_at timestamptz
);
INSERT INTO orchestrator.config DEFAULT VALUES;

-- External APIs the workflows call, with their limits. paused_until holds a 429's retry-after.
CREATE TABLE orchestrator.api (
    id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL UNIQUE CHECK (name ~ '^[a-z][a-z0-9_]{0,62}$'),
    calls_per_minute integer NOT NULL CHECK (calls_per_minute BETWEEN 1 AND 1000000),
    burst integer NOT NULL CHECK (burst BETWEEN 1 AND 1000000),
    paused_until timestamptz,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

-- The calls one task of a workflow type makes on an API.
CREATE TABLE orchestrator.workflow_type_api (
    workflow_type_id integer NOT NULL,
    api_id integer NOT NULL,
    calls_per_task integer NOT NULL CHECK (calls_per_task BETWEEN 0 AND 100000),
    PRIMARY KEY (workflow_type_id, api_id)
);

-- Circuit breakers, per workflow type and per API; closed breakers with no failures have no row.
CREATE TABLE orchestrator.breaker (
    kind text NOT NULL CHECK (kind IN ('workflow_type', 'api')),
    name text NOT NULL,
    state text NOT NULL CHECK (state IN ('closed', 'open', 'half_open')),
    consecutive_failures integer NOT NULL DEFAULT 0,
    opened_at timestamptz,
    trial_execution_id bigint,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (kind, name)
);

-- Every breaker transition with its time and cause.
CREATE TABLE orchestrator.breaker_event (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind text NOT NULL,
    name text NOT NULL,
    from_state text NOT NULL,
    to_state text NOT NULL,
    at timestamptz NOT NULL,
    cause text NOT NULL
);

-- Every configuration change and manual action: who, when, old and new values.
CREATE TABLE orchestrator.audit_log (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at timestamptz NOT NULL,
    actor text NOT NULL,
    action text NOT NULL,
    target text,
    old_value jsonb,
    new_value jsonb
);
