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
    PRIMARY KEY (minute, workflow_type)
);
