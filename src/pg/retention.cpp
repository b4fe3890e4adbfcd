#include "orchestrator/pg/retention.hpp"

#include "orchestrator/pg/clock.hpp"
#include "orchestrator/pg/spi.hpp"

namespace orchestrator::pg {

namespace {

// Dead letters wait for a person (retry or discard); queued and running tasks are not history.
Statement prune_tasks_statement(
    "DELETE FROM orchestrator.task t WHERE t.id IN ("
    "    SELECT o.id FROM orchestrator.task o"
    "     WHERE o.finished_at < $1 - (SELECT c.task_retention FROM orchestrator.config c)"
    "       AND o.state IN ('succeeded', 'cancelled', 'discarded')"
    "     LIMIT $2)",
    {TIMESTAMPTZOID, INT4OID});

Statement prune_executions_statement(
    "DELETE FROM orchestrator.workflow_orchestration e WHERE e.id IN ("
    "    SELECT o.id FROM orchestrator.workflow_orchestration o"
    "     WHERE o.created_at < $1 - (SELECT c.execution_retention FROM orchestrator.config c)"
    "       AND o.status <> 'running'"
    "     LIMIT $2)",
    {TIMESTAMPTZOID, INT4OID});

Statement prune_transitions_statement(
    "DELETE FROM orchestrator.worker_transition w WHERE w.id IN ("
    "    SELECT o.id FROM orchestrator.worker_transition o"
    "     WHERE o.at < $1 - (SELECT c.execution_retention FROM orchestrator.config c)"
    "     ORDER BY o.at LIMIT $2)",
    {TIMESTAMPTZOID, INT4OID});

// Only minutes already added to the totals (metric_total) go, so no counter ever goes down.
Statement prune_metrics_statement(
    "DELETE FROM orchestrator.metric_minute m WHERE (m.minute, m.workflow_type) IN ("
    "    SELECT o.minute, o.workflow_type FROM orchestrator.metric_minute o"
    "     WHERE o.minute < $1 - (SELECT c.metric_retention FROM orchestrator.config c)"
    "       AND o.minute < (SELECT w.metrics_totaled_to FROM orchestrator.worker_state w)"
    "     ORDER BY o.minute LIMIT $2)",
    {TIMESTAMPTZOID, INT4OID});

} // namespace

void prune_history(int batch) {
    const SqlParam now = timestamptz_param(to_timestamptz(server_clock().now()));
    prune_tasks_statement.run({now, int32_param(batch)});
    prune_executions_statement.run({now, int32_param(batch)});
    prune_transitions_statement.run({now, int32_param(batch)});
    prune_metrics_statement.run({now, int32_param(batch)});
}

} // namespace orchestrator::pg
