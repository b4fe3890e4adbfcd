// Retries (SPEC "Retries"): 1, 2, 4, 8, 16, 16, ... minutes, ±30 s jitter, never negative; after
// max attempts, or at once when not retryable, the task goes to the dead-letter queue.
#include "orchestrator/core/retry.hpp"

#include <gtest/gtest.h>

#include <climits>
#include <vector>

namespace {

using namespace orchestrator::core;

TEST(Retry, DefaultPolicyMatchesSpec) {
    const RetryPolicy p;
    EXPECT_EQ(p.base, minutes(1));
    EXPECT_EQ(p.factor, 2);
    EXPECT_EQ(p.cap, minutes(16));
    EXPECT_EQ(p.jitter, seconds(30));
}

TEST(Retry, NominalScheduleForAttemptsOneToEightDoublesThenCapsAtSixteenMinutes) {
    const RetryPolicy p;
    const std::vector<int> expected_minutes = {1, 2, 4, 8, 16, 16, 16, 16};
    for (int attempt = 1; attempt <= 8; ++attempt)
        EXPECT_EQ(nominal_retry_delay(p, attempt), minutes(expected_minutes[attempt - 1]))
            << "attempt " << attempt;
}

TEST(Retry, NominalDelayStaysCappedForHugeAttemptCounts) {
    const RetryPolicy p;
    EXPECT_EQ(nominal_retry_delay(p, 64), minutes(16));
    EXPECT_EQ(nominal_retry_delay(p, 1000), minutes(16));
    EXPECT_EQ(nominal_retry_delay(p, INT_MAX), minutes(16));
}

TEST(Retry, CapThatIsNotAPowerOfTheFactorIsHitExactly) {
    RetryPolicy p;
    p.cap = minutes(10);
    EXPECT_EQ(nominal_retry_delay(p, 4), minutes(8));
    EXPECT_EQ(nominal_retry_delay(p, 5), minutes(10));
    EXPECT_EQ(nominal_retry_delay(p, 6), minutes(10));
}

TEST(Retry, ZeroJitterGivesExactlyTheNominalDelay) {
    RetryPolicy p;
    p.jitter = Duration::zero();
    Random r(7);
    for (int attempt = 1; attempt <= 8; ++attempt)
        EXPECT_EQ(retry_delay(p, attempt, r), nominal_retry_delay(p, attempt));
}

TEST(Retry, JitterStaysWithinThirtySecondsAndReachesBothEnds) {
    const RetryPolicy p;
    Random r(20240601);
    const Duration nominal = minutes(4); // attempt 3
    Duration lo = Duration::max(), hi = Duration::min();
    double sum = 0;
    const int draws = 200000;
    for (int i = 0; i < draws; ++i) {
        const Duration d = retry_delay(p, 3, r);
        ASSERT_GE(d, nominal - seconds(30));
        ASSERT_LE(d, nominal + seconds(30));
        lo = std::min(lo, d);
        hi = std::max(hi, d);
        sum += static_cast<double>((d - nominal).count());
    }
    // 200k uniform draws over a 60 s window: both extremes come within well under a second.
    EXPECT_LT(lo, nominal - seconds(29));
    EXPECT_GT(hi, nominal + seconds(29));
    // Centred on the nominal delay (mean offset within 1 s).
    EXPECT_LT(std::abs(sum / draws), 1e6);
}

TEST(Retry, JitterWindowIsCentredOnNominalForEveryAttempt) {
    const RetryPolicy p;
    Random r(99);
    for (int attempt = 1; attempt <= 8; ++attempt) {
        const Duration nominal = nominal_retry_delay(p, attempt);
        bool below = false, above = false;
        for (int i = 0; i < 2000; ++i) {
            const Duration d = retry_delay(p, attempt, r);
            ASSERT_GE(d, nominal - seconds(30)) << "attempt " << attempt;
            ASSERT_LE(d, nominal + seconds(30)) << "attempt " << attempt;
            below = below || d < nominal;
            above = above || d > nominal;
        }
        EXPECT_TRUE(below && above) << "attempt " << attempt;
    }
}

TEST(Retry, DelayIsNeverNegativeWithHugeJitter) {
    RetryPolicy p;
    p.jitter = hours(10); // far larger than the 1 minute nominal delay
    Random r(1);
    int clamped = 0;
    for (int i = 0; i < 10000; ++i) {
        const Duration d = retry_delay(p, 1, r);
        ASSERT_GE(d, Duration::zero());
        ASSERT_LE(d, minutes(1) + hours(10));
        if (d == Duration::zero())
            ++clamped;
    }
    // About half the draws land below zero and are clamped to zero.
    EXPECT_GT(clamped, 4000);
    EXPECT_LT(clamped, 6000);
}

TEST(Retry, SameSeedGivesSameDelays) {
    const RetryPolicy p;
    Random a(5), b(5);
    for (int attempt = 1; attempt <= 50; ++attempt)
        EXPECT_EQ(retry_delay(p, attempt % 8 + 1, a), retry_delay(p, attempt % 8 + 1, b));
}

TEST(Retry, DecideFailureRetriesBelowMaxAttempts) {
    EXPECT_EQ(decide_failure(1, 3, true), FailureOutcome::retry);
    EXPECT_EQ(decide_failure(2, 3, true), FailureOutcome::retry);
}

TEST(Retry, DecideFailureDeadLettersAtMaxAttempts) {
    // SPEC: "After 3 attempts the task goes to the dead-letter queue".
    EXPECT_EQ(decide_failure(3, 3, true), FailureOutcome::dead_letter);
    EXPECT_EQ(decide_failure(1, 1, true), FailureOutcome::dead_letter);
}

TEST(Retry, DecideFailureDeadLettersAboveMaxAttempts) {
    EXPECT_EQ(decide_failure(4, 3, true), FailureOutcome::dead_letter);
    EXPECT_EQ(decide_failure(100, 3, true), FailureOutcome::dead_letter);
}

TEST(Retry, DecideFailureDeadLettersNonRetryableAtOnce) {
    EXPECT_EQ(decide_failure(1, 3, false), FailureOutcome::dead_letter);
    EXPECT_EQ(decide_failure(1, 100, false), FailureOutcome::dead_letter);
}

} // namespace
