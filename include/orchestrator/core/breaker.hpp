#pragma once
#include "orchestrator/core/pure.hpp"
#include "orchestrator/core/time.hpp"

#include <cstdint>

namespace orchestrator::core {

enum class BreakerState : std::int32_t { closed = 0, open = 1, half_open = 2 };

const char* to_string(BreakerState state);

struct BreakerPolicy {
    int failure_threshold = 5;
    Duration cooldown = minutes(5);
};

// A circuit breaker, plain data for shared memory.
struct Breaker {
    BreakerState state = BreakerState::closed;
    std::int32_t consecutive_failures = 0;
    std::int64_t opened_at_us = 0;
    bool trial_in_flight = false;
};

// What a breaker decision changed, so the server can record the transition.
struct BreakerChange {
    bool changed = false;
    BreakerState from = BreakerState::closed;
    BreakerState to = BreakerState::closed;
};

// Moves an open breaker whose cooldown has passed to half-open.
BreakerChange cool_down(const BreakerPolicy& policy, Breaker& breaker, TimePoint now);

// Whether work needing this breaker may be dispatched now (after cool_down).
bool breaker_allows(const Breaker& breaker);

// Marks that a dispatch went through: in half-open, that is the one trial.
void breaker_dispatched(Breaker& breaker);

// Gives back a trial that was never run (its dispatch rolled back).
void breaker_trial_cancelled(Breaker& breaker);

// Records an outcome: success closes; the threshold of consecutive failures, or a failed trial,
// opens it.
BreakerChange breaker_record(const BreakerPolicy& policy, Breaker& breaker, bool success,
                             TimePoint now);

} // namespace orchestrator::core
