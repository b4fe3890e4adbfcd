#pragma once
// The orchestrator's heartbeat as a state machine. One pass runs
//   IDLE -> ANALYZING -> DISPATCHING -> MONITORING -> IDLE
// and a failure in any state moves to ERROR_RECOVERY, which goes back to IDLE once its backoff
// has passed. The state is stored after every step, so a pass cut short by a crash resumes at
// the step it was in (each step is safe to run again).
#include "orchestrator/core/pure.hpp"
#include "orchestrator/core/time.hpp"

#include <optional>
#include <string_view>
#include <vector>

namespace orchestrator::core {

enum class WorkerState { idle, analyzing, dispatching, monitoring, error_recovery };

// Stored names: idle, analyzing, dispatching, monitoring, error_recovery.
const char* to_string(WorkerState state);
std::optional<WorkerState> parse_worker_state(std::string_view name);

bool transition_allowed(WorkerState from, WorkerState to);

// The steps a pass takes from the stored state, in order, ending with idle. From idle a fresh
// pass; from a step a crash interrupted, that step again and the rest; from error recovery, back
// to idle and then a fresh pass.
std::vector<WorkerState> pass_from(WorkerState stored);

struct RecoveryPolicy {
    Duration first = seconds(5);
    Duration longest = minutes(5);
};

// How long error recovery waits after the n-th failure in a row (n >= 1): doubling, capped.
Duration recovery_delay(const RecoveryPolicy& policy, int failures);

} // namespace orchestrator::core
