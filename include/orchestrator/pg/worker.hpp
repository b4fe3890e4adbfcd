#pragma once
// The background worker: the orchestrator's pulse when the library is preloaded. It beats every
// orchestrator.heartbeat_interval (a pass of the state machine, pg/heartbeat.hpp), records
// liveness every orchestrator.liveness_interval, and sends dispatch hints within milliseconds of
// an enqueue's commit. It never does the sub-workflows' work.

namespace orchestrator::pg {

// From _PG_init under shared_preload_libraries: the worker and its shared wake-up slot.
void register_worker();

// Called by enqueue: when this transaction commits, the worker wakes and sends dispatch hints.
// A transaction that rolls back wakes nobody. Without the worker it does nothing.
void wake_worker_at_commit();

} // namespace orchestrator::pg
