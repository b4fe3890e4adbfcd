#pragma once
// One heartbeat: a pass of the stored state machine (core/worker_state.hpp), shared by the
// background worker and orchestrator.tick(). The state row is orchestrator.worker_state; every
// transition is a row of orchestrator.worker_transition.
#include "orchestrator/core/worker_state.hpp"
#include "orchestrator/pg/postgres.hpp"

#include <functional>
#include <optional>
#include <string>

namespace orchestrator::pg {

// Who runs the pass, as stored with each transition.
enum class PassRunner { worker, tick };

// Two passes never run at once: a pass holds this advisory lock (class, key) for its extent.
constexpr int heartbeat_lock_class = 0x4f524348; // "ORCH"
constexpr int heartbeat_lock_key = 2;

// Runs one pass from the stored state. `between_steps` runs after each step (the worker commits
// there and starts a new transaction, so every step is stored as it happens; tick() passes a
// no-op and the whole pass is one transaction). Needs an SPI connection inside each transaction,
// which the pass opens itself. Returns the number of steps taken.
int run_pass(PassRunner runner, const std::function<void()>& between_steps);

// Records a failure: the state moves to error_recovery with the reason, and the time after
// which recovery may go back to idle. Runs in its own transaction (the caller's).
void enter_error_recovery(PassRunner runner, const std::string& reason);

// Whether error recovery's backoff has passed (or the state is not error_recovery).
bool recovery_due();

// Records that the runner is alive (orchestrator.worker_state.alive_at).
void record_liveness(PassRunner runner);

// The dispatch hints: for each workflow type with ready work and capacity, one NOTIFY on
// orchestrator_dispatch with the tasks ready, the batch the dispatcher would grant now (rate
// limits, budgets, caps and breakers applied, nothing reserved) and what limits it. Returns how
// many.
int send_dispatch_hints();

// The first moment after `since` at which work changes by itself (a lease ends, a retry comes
// due, an open breaker cools down), so the worker can wake then; none when nothing is pending.
// A moment already past is due at once. SPI connected.
std::optional<TimestampTz> next_due_event(TimestampTz since);

// Between heartbeats, when work arrived or a due event came: expires the leases that passed and
// sends the dispatch hints. Returns the next due event. SPI connected.
std::optional<TimestampTz> react_to_work();

} // namespace orchestrator::pg
