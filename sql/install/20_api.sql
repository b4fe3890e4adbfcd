-- The clock every function uses: the transaction's start, or orchestrator.test_now when set.
CREATE FUNCTION orchestrator.now() RETURNS timestamptz
    LANGUAGE c STABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'orchestrator_now';

-- Adds a task; returns its id (the first task's id again for a known idempotency key, or for a
-- concurrency key already queued when the type drops duplicates).
CREATE FUNCTION orchestrator.enqueue(
    workflow_type text,
    payload jsonb DEFAULT '{}',
    priority integer DEFAULT 5,
    idempotency_key text DEFAULT NULL,
    run_after timestamptz DEFAULT NULL,
    parent_execution_id bigint DEFAULT NULL,
    estimated_cost_usd numeric DEFAULT NULL,
    max_queue_wait interval DEFAULT NULL,
    concurrency_key text DEFAULT NULL
) RETURNS bigint
    LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'orchestrator_enqueue';

-- Adds many tasks of one type at once: payloads is a JSON array, one element per task.
CREATE FUNCTION orchestrator.enqueue_batch(
    workflow_type text,
    payloads jsonb,
    priority integer DEFAULT 5,
    idempotency_keys text[] DEFAULT NULL,
    run_after timestamptz DEFAULT NULL,
    parent_execution_id bigint DEFAULT NULL,
    estimated_cost_usd numeric DEFAULT NULL,
    max_queue_wait interval DEFAULT NULL
) RETURNS bigint[]
    LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'orchestrator_enqueue_batch';

-- The dispatcher: claims what may run now, one row per sub-workflow execution.
CREATE FUNCTION orchestrator.orchestrate_next_execution(
    worker_id text,
    max_executions integer DEFAULT 1,
    workflow_types text[] DEFAULT NULL
) RETURNS TABLE (
    execution_id bigint,
    workflow_type text,
    tasks jsonb,
    task_ids bigint[],
    batch_size integer,
    lease_expires_at timestamptz,
    model_tier text,
    limited_by text,
    webhook_url text,
    n8n_workflow_id text,
    parent_id bigint
)
    LANGUAGE c VOLATILE ROWS 1 AS 'MODULE_PATHNAME', 'orchestrator_orchestrate_next_execution';

-- The success callback; task_outcomes may fail some tasks of the batch; api_calls reports the
-- calls really made per API ({"gemini": 8}) to correct the rate-limit window. Returns the status.
CREATE FUNCTION orchestrator.complete_execution(
    execution_id bigint,
    result jsonb DEFAULT NULL,
    cost_usd numeric DEFAULT NULL,
    task_outcomes jsonb DEFAULT NULL,
    api_calls jsonb DEFAULT NULL
) RETURNS text
    LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'orchestrator_complete_execution';

-- The failure callback: every task of the execution is retried or dead-lettered. api_name names
-- the API that failed (its breaker counts it); retry_after (an HTTP 429's) pauses that API.
CREATE FUNCTION orchestrator.fail_execution(
    execution_id bigint,
    error text DEFAULT NULL,
    retryable boolean DEFAULT true,
    api_name text DEFAULT NULL,
    retry_after interval DEFAULT NULL,
    cost_usd numeric DEFAULT NULL
) RETURNS text
    LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'orchestrator_fail_execution';

-- Extends a running execution's lease; returns the new deadline.
CREATE FUNCTION orchestrator.heartbeat_execution(
    execution_id bigint,
    extend_by interval DEFAULT NULL
) RETURNS timestamptz
    LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'orchestrator_heartbeat_execution';

-- Fails executions whose lease has passed and sends their tasks to retry; returns how many.
CREATE FUNCTION orchestrator.expire_executions(max_executions integer DEFAULT 1000)
    RETURNS integer
    LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'orchestrator_expire_executions';
