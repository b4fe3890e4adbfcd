#include "orchestrator/core/retry.hpp"

#include <algorithm>

namespace orchestrator::core {

Duration nominal_retry_delay(const RetryPolicy& policy, int failed_attempts) {
    Duration delay = policy.base;
    for (int i = 1; i < failed_attempts && delay < policy.cap; ++i)
        delay *= policy.factor;
    return std::min(delay, policy.cap);
}

Duration retry_delay(const RetryPolicy& policy, int failed_attempts, Random& random) {
    const auto jitter = policy.jitter.count();
    const Duration offset(random.uniform(-jitter, jitter));
    return std::max(nominal_retry_delay(policy, failed_attempts) + offset, Duration::zero());
}

FailureOutcome decide_failure(int attempts_made, int max_attempts, bool retryable) {
    if (!retryable || attempts_made >= max_attempts)
        return FailureOutcome::dead_letter;
    return FailureOutcome::retry;
}

} // namespace orchestrator::core
