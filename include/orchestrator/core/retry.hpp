#pragma once
#include "orchestrator/core/pure.hpp"
#include "orchestrator/core/random.hpp"
#include "orchestrator/core/time.hpp"

namespace orchestrator::core {

// Exponential backoff: base, base×factor, base×factor², ... capped, then ± jitter.
struct RetryPolicy {
    Duration base = minutes(1);
    int factor = 2;
    Duration cap = minutes(16);
    Duration jitter = seconds(30);
};

// The delay before the next attempt after `failed_attempts` attempts have failed (1 or more).
// Never negative.
Duration retry_delay(const RetryPolicy& policy, int failed_attempts, Random& random);

// The delay without jitter: the centre of the window retry_delay draws from.
Duration nominal_retry_delay(const RetryPolicy& policy, int failed_attempts);

enum class FailureOutcome { retry, dead_letter };

// What happens to a task whose attempt failed.
FailureOutcome decide_failure(int attempts_made, int max_attempts, bool retryable);

} // namespace orchestrator::core
