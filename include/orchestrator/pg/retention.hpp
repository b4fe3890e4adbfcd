#pragma once
// History retention: finished tasks and executions older than orchestrator.config's
// task_retention and execution_retention are deleted, a small batch per heartbeat.
namespace orchestrator::pg {

// Deletes at most `batch` rows of each kind (and old worker transitions, kept as long as
// executions, and metric rollups past metric_retention). SPI connected.
void prune_history(int batch);

} // namespace orchestrator::pg
