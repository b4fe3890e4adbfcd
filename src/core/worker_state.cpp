#include "orchestrator/core/worker_state.hpp"

#include <algorithm>

namespace orchestrator::core {

namespace {
constexpr std::pair<WorkerState, const char*> names[] = {
    {WorkerState::idle, "idle"},
    {WorkerState::analyzing, "analyzing"},
    {WorkerState::dispatching, "dispatching"},
    {WorkerState::monitoring, "monitoring"},
    {WorkerState::error_recovery, "error_recovery"},
};

// The step that follows each step of a pass.
WorkerState next_in_pass(WorkerState s) {
    switch (s) {
    case WorkerState::idle: return WorkerState::analyzing;
    case WorkerState::analyzing: return WorkerState::dispatching;
    case WorkerState::dispatching: return WorkerState::monitoring;
    case WorkerState::monitoring: return WorkerState::idle;
    case WorkerState::error_recovery: return WorkerState::idle;
    }
    return WorkerState::idle;
}
} // namespace

const char* to_string(WorkerState state) {
    for (const auto& [s, name] : names)
        if (s == state)
            return name;
    return "idle";
}

std::optional<WorkerState> parse_worker_state(std::string_view name) {
    for (const auto& [s, n] : names)
        if (name == n)
            return s;
    return std::nullopt;
}

bool transition_allowed(WorkerState from, WorkerState to) {
    if (to == WorkerState::error_recovery)
        return from != WorkerState::error_recovery;
    return to == next_in_pass(from);
}

std::vector<WorkerState> pass_from(WorkerState stored) {
    std::vector<WorkerState> steps;
    WorkerState s = stored;
    if (s == WorkerState::error_recovery) {
        steps.push_back(WorkerState::idle);
        s = WorkerState::idle;
    }
    if (s == WorkerState::idle)
        s = WorkerState::analyzing;
    for (; s != WorkerState::idle; s = next_in_pass(s))
        steps.push_back(s);
    steps.push_back(WorkerState::idle);
    return steps;
}

Duration recovery_delay(const RecoveryPolicy& policy, int failures) {
    Duration delay = policy.first;
    for (int i = 1; i < failures && delay < policy.longest; ++i)
        delay *= 2;
    return std::min(delay, policy.longest);
}

} // namespace orchestrator::core
