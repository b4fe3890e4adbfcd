-- Workflow types: what can be enqueued and how it is dispatched.
CREATE TABLE orchestrator.workflow_type (
    id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL UNIQUE
        CONSTRAINT workflow_type_name_format CHECK (name ~ '^[a-z][a-z0-9_]{0,62}$' AND name <> 'orchestrator'),
    weight integer NOT NULL DEFAULT 1 CHECK (weight BETWEEN 1 AND 1000),
    batch_min integer NOT NULL DEFAULT 1 CHECK (batch_min BETWEEN 1 AND 1000),
    batch_max integer NOT NULL DEFAULT 1 CHECK (batch_max BETWEEN 1 AND 1000),
    lease_timeout interval NOT NULL DEFAULT '5 minutes'
        CHECK (lease_timeout BETWEEN '1 second' AND '1 day'),
    max_attempts integer NOT NULL DEFAULT 3 CHECK (max_attempts BETWEEN 1 AND 100),
    max_concurrent integer CHECK (max_concurrent BETWEEN 1 AND 100000),
    max_queue_wait interval CHECK (max_queue_wait > '0'),
    estimated_cost_usd numeric(14, 6) NOT NULL DEFAULT 0 CHECK (estimated_cost_usd >= 0),
    webhook_url text CHECK (length(webhook_url) <= 2000),
    n8n_workflow_id text CHECK (length(n8n_workflow_id) <= 200),
    paused boolean NOT NULL DEFAULT false,
    weight_outside_hours integer CHECK (weight_outside_hours BETWEEN 1 AND 1000),
    daily_budget_usd numeric(14, 6) CHECK (daily_budget_usd >= 0),
    budget_raise_usd numeric(14, 6) NOT NULL DEFAULT 0,
    budget_raise_day timestamptz,
    db_connections integer NOT NULL DEFAULT 1 CHECK (db_connections BETWEEN 0 AND 10000),
    memory_mb integer NOT NULL DEFAULT 128 CHECK (memory_mb BETWEEN 0 AND 1000000),
    concurrency_key_limit integer NOT NULL DEFAULT 1 CHECK (concurrency_key_limit BETWEEN 1 AND 10000),
    duplicate_key_policy text NOT NULL DEFAULT 'queue' CHECK (duplicate_key_policy IN ('queue', 'drop')),
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    CHECK (batch_min <= batch_max)
);

COMMENT ON TABLE orchestrator.workflow_type IS
    'Registered workflow types; change them through the orchestrator functions, not directly.';

-- Tasks: the queue and its history. A task is ready when state = queued and ready_at has come;
-- it waits (for a run-after time or a retry's backoff) by having ready_at in the future.
-- Inserts fill a page only half: the claim and the completion each write a new version of a
-- row, and a version with room on its row's page is written there (one page changed, not two,
-- and no lock record logged before moving away) while pruning reclaims the version before.
CREATE TABLE orchestrator.task (
    -- Column order: fixed-width first, then the columns the indexes name, the payload among the
    -- last. Every update compares the indexed columns of the old and the new version, and reading
    -- a column that follows a variable-length one walks the columns before it: neither walks
    -- past the payload.
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workflow_type_id integer NOT NULL,
    -- 1 to 10 and the state (queued, running, succeeded, dead_letter, cancelled or discarded)
    -- are set only by the orchestrator's functions, which check them. No CHECK: PostgreSQL reads
    -- a CHECK's expression again for every statement that writes the table, every dispatch and
    -- callback included.
    priority smallint NOT NULL,
    singleton boolean NOT NULL DEFAULT false,
    attempts integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL,
    ready_at timestamptz NOT NULL,
    state text NOT NULL,
    concurrency_key text,
    idempotency_key text,
    finished_at timestamptz,
    stale_at timestamptz,
    dispatched_at timestamptz,
    execution_id bigint,
    parent_execution_id bigint,
    estimated_cost_usd numeric(14, 6),
    payload jsonb NOT NULL,
    result jsonb,
    last_error text,
    dead_letter_reason text,
    failures jsonb
) WITH (fillfactor = 50);

COMMENT ON COLUMN orchestrator.task.failures IS
    'Every failed attempt: [{attempt, execution_id, worker_id, at, error}], oldest first.';

-- The dispatcher reads each (type, priority) level in ready_at order: within a level the score
-- only grows with age, so the best tasks are the heads of these ten streams.
-- No deduplication: the tasks of one enqueue_batch share a ready_at, and a posting list is
-- marked dead only when one scan finds every task in it claimed, so each dispatch would fetch
-- the claimed ones again; entries of their own are marked dead one by one and skipped after.
CREATE INDEX task_ready ON orchestrator.task (workflow_type_id, priority, ready_at)
    WITH (deduplicate_items = off) WHERE state = 'queued';
CREATE UNIQUE INDEX task_idempotency ON orchestrator.task (workflow_type_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
-- Every write of a task row evaluates each partial index's predicate; in the next three the test
-- that is false for most tasks comes first, so the text comparison of state is rarely reached.
-- A singleton type keeps one queued task per concurrency key: a duplicate is dropped.
CREATE UNIQUE INDEX task_singleton ON orchestrator.task (workflow_type_id, concurrency_key)
    WHERE singleton AND state = 'queued';
CREATE INDEX task_running_key ON orchestrator.task (concurrency_key)
    WHERE concurrency_key IS NOT NULL AND state = 'running';
CREATE INDEX task_queued_key ON orchestrator.task (workflow_type_id, concurrency_key)
    WHERE concurrency_key IS NOT NULL AND state = 'queued';
CREATE INDEX task_dead_letter ON orchestrator.task (finished_at) WHERE state = 'dead_letter';
-- Pruning and the metrics rollup find finished tasks by this: a task's finished version is
-- written on its own page (the fillfactor above) or, without room there, where there is room,
-- so finish times follow the order of enqueueing but for the wait, and a block-range index is
-- enough (a task that waited days widens its range's summary; the range is read, not missed).
-- Partial: the enqueue and the claim write versions without a finish time, and leave it alone
-- (every range comparison on finished_at implies the predicate).
CREATE INDEX task_finished ON orchestrator.task USING brin (finished_at)
    WHERE finished_at IS NOT NULL;

-- Executions: one row per sub-workflow run, plus one row (workflow_type 'orchestrator') per
-- dispatch pass, which is the parent of the executions it dispatched.
CREATE TABLE orchestrator.workflow_orchestration (
    -- Column order as in task: fixed-width first, then the columns the indexes name.
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    created_at timestamptz NOT NULL,
    batch_size integer NOT NULL DEFAULT 0,
    -- running, completed, partial, failed or expired (set only by the orchestrator's functions)
    status text NOT NULL,
    lease_expires_at timestamptz,
    parent_id bigint,
    started_at timestamptz,
    finished_at timestamptz,
    duration_ms bigint,
    db_connections integer,
    memory_mb integer,
    reserved_cost_usd numeric(14, 6),
    cost_usd numeric(14, 6),
    workflow_type text NOT NULL,
    worker_id text,
    model_tier text,
    limited_by text,
    task_ids bigint[] NOT NULL DEFAULT '{}',
    task_versions tid[],
    api_calls jsonb,
    result jsonb,
    error text
);

COMMENT ON COLUMN orchestrator.workflow_orchestration.task_versions IS
    'Where the dispatch wrote each task''s running version (ctid), in task_ids order: the '
    'completion looks there before it looks the task up by id.';

CREATE INDEX workflow_orchestration_lease ON orchestrator.workflow_orchestration (lease_expires_at)
    WHERE status = 'running';
-- Rows are inserted in time order, so a block-range index finds a time window (the budget day,
-- the last minute's API calls, history to prune) at almost no cost to each insert and update.
CREATE INDEX workflow_orchestration_created ON orchestrator.workflow_orchestration
    USING brin (created_at);
