#include "orchestrator/core/breaker.hpp"

namespace orchestrator::core {

const char* to_string(BreakerState state) {
    switch (state) {
    case BreakerState::closed:
        return "closed";
    case BreakerState::open:
        return "open";
    case BreakerState::half_open:
        return "half_open";
    }
    return "unknown";
}

namespace {
BreakerChange move(Breaker& breaker, BreakerState to) {
    BreakerChange change{breaker.state != to, breaker.state, to};
    breaker.state = to;
    return change;
}
} // namespace

BreakerChange cool_down(const BreakerPolicy& policy, Breaker& breaker, TimePoint now) {
    if (breaker.state == BreakerState::open &&
        now.time_since_epoch().count() - breaker.opened_at_us >= policy.cooldown.count()) {
        breaker.trial_in_flight = false;
        return move(breaker, BreakerState::half_open);
    }
    return {};
}

bool breaker_allows(const Breaker& breaker) {
    switch (breaker.state) {
    case BreakerState::closed:
        return true;
    case BreakerState::half_open:
        return !breaker.trial_in_flight;
    case BreakerState::open:
        return false;
    }
    return false;
}

void breaker_dispatched(Breaker& breaker) {
    if (breaker.state == BreakerState::half_open)
        breaker.trial_in_flight = true;
}

void breaker_trial_cancelled(Breaker& breaker) {
    if (breaker.state == BreakerState::half_open)
        breaker.trial_in_flight = false;
}

BreakerChange breaker_record(const BreakerPolicy& policy, Breaker& breaker, bool success,
                             TimePoint now) {
    if (success) {
        breaker.consecutive_failures = 0;
        breaker.trial_in_flight = false;
        return move(breaker, BreakerState::closed);
    }
    ++breaker.consecutive_failures;
    const bool trial_failed = breaker.state == BreakerState::half_open;
    if (trial_failed || (breaker.state == BreakerState::closed &&
                         breaker.consecutive_failures >= policy.failure_threshold)) {
        breaker.opened_at_us = now.time_since_epoch().count();
        breaker.trial_in_flight = false;
        return move(breaker, BreakerState::open);
    }
    return {};
}

} // namespace orchestrator::core
