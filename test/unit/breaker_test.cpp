// Circuit breakers (SPEC "Circuit breakers"): 5 consecutive failures open the breaker; after 5
// minutes it goes half-open and lets one trial through; success closes it, failure opens it again.
#include "orchestrator/core/breaker.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

using namespace orchestrator::core;

const TimePoint t0 = TimePoint(seconds(1767225600)); // 2026-01-01 00:00 UTC

std::int64_t us(TimePoint t) {
    return t.time_since_epoch().count();
}

// Opens a fresh breaker with `threshold` failures at `at`.
Breaker opened(const BreakerPolicy& p, TimePoint at) {
    Breaker b;
    for (int i = 0; i < p.failure_threshold; ++i)
        breaker_record(p, b, false, at);
    return b;
}

TEST(Breaker, DefaultPolicyIsFiveFailuresAndFiveMinutes) {
    const BreakerPolicy p;
    EXPECT_EQ(p.failure_threshold, 5);
    EXPECT_EQ(p.cooldown, minutes(5));
}

TEST(Breaker, NewBreakerIsClosedAndAllows) {
    const Breaker b;
    EXPECT_EQ(b.state, BreakerState::closed);
    EXPECT_TRUE(breaker_allows(b));
}

TEST(Breaker, StateNames) {
    EXPECT_STREQ(to_string(BreakerState::closed), "closed");
    EXPECT_STREQ(to_string(BreakerState::open), "open");
    EXPECT_STREQ(to_string(BreakerState::half_open), "half_open");
}

TEST(Breaker, FourConsecutiveFailuresKeepItClosed) {
    const BreakerPolicy p;
    Breaker b;
    for (int i = 0; i < 4; ++i) {
        const BreakerChange c = breaker_record(p, b, false, t0);
        EXPECT_FALSE(c.changed) << "failure " << i + 1;
    }
    EXPECT_EQ(b.state, BreakerState::closed);
    EXPECT_EQ(b.consecutive_failures, 4);
    EXPECT_TRUE(breaker_allows(b));
}

TEST(Breaker, FifthConsecutiveFailureOpensItWithClosedToOpenChange) {
    const BreakerPolicy p;
    Breaker b;
    for (int i = 0; i < 4; ++i)
        breaker_record(p, b, false, t0);
    const BreakerChange c = breaker_record(p, b, false, t0 + seconds(7));
    EXPECT_TRUE(c.changed);
    EXPECT_EQ(c.from, BreakerState::closed);
    EXPECT_EQ(c.to, BreakerState::open);
    EXPECT_EQ(b.state, BreakerState::open);
    EXPECT_EQ(b.opened_at_us, us(t0 + seconds(7)));
    EXPECT_FALSE(breaker_allows(b));
}

TEST(Breaker, SuccessResetsTheFailureCount) {
    const BreakerPolicy p;
    Breaker b;
    for (int i = 0; i < 4; ++i)
        breaker_record(p, b, false, t0);
    const BreakerChange c = breaker_record(p, b, true, t0);
    EXPECT_FALSE(c.changed);
    EXPECT_EQ(b.consecutive_failures, 0);
    for (int i = 0; i < 4; ++i)
        breaker_record(p, b, false, t0);
    EXPECT_EQ(b.state, BreakerState::closed);
    breaker_record(p, b, false, t0);
    EXPECT_EQ(b.state, BreakerState::open);
}

TEST(Breaker, CustomThresholdOfOneOpensOnTheFirstFailure) {
    BreakerPolicy p;
    p.failure_threshold = 1;
    Breaker b;
    EXPECT_TRUE(breaker_record(p, b, false, t0).changed);
    EXPECT_EQ(b.state, BreakerState::open);
}

TEST(Breaker, OpenBreakerBlocksAndFurtherFailuresDoNotMoveOpenedAt) {
    const BreakerPolicy p;
    Breaker b = opened(p, t0);
    EXPECT_FALSE(breaker_allows(b));
    breaker_dispatched(b); // a dispatch that went through anyway marks no trial
    EXPECT_FALSE(b.trial_in_flight);
    const BreakerChange c = breaker_record(p, b, false, t0 + minutes(2)); // a late failure
    EXPECT_FALSE(c.changed);
    EXPECT_EQ(b.state, BreakerState::open);
    EXPECT_EQ(b.opened_at_us, us(t0));
}

TEST(Breaker, CooldownNotPassedAtFourMinutesFiftyNine) {
    const BreakerPolicy p;
    Breaker b = opened(p, t0);
    const BreakerChange c = cool_down(p, b, t0 + minutes(4) + seconds(59));
    EXPECT_FALSE(c.changed);
    EXPECT_EQ(b.state, BreakerState::open);
    EXPECT_FALSE(breaker_allows(b));
    EXPECT_FALSE(cool_down(p, b, t0 + minutes(5) - Duration(1)).changed);
}

TEST(Breaker, CooldownOfFiveMinutesMovesOpenToHalfOpen) {
    const BreakerPolicy p;
    Breaker b = opened(p, t0);
    const BreakerChange c = cool_down(p, b, t0 + minutes(5));
    EXPECT_TRUE(c.changed);
    EXPECT_EQ(c.from, BreakerState::open);
    EXPECT_EQ(c.to, BreakerState::half_open);
    EXPECT_EQ(b.state, BreakerState::half_open);
    EXPECT_TRUE(breaker_allows(b));
    // Cooling down again changes nothing.
    EXPECT_FALSE(cool_down(p, b, t0 + minutes(6)).changed);
    EXPECT_EQ(b.state, BreakerState::half_open);
}

TEST(Breaker, CoolDownLeavesClosedBreakersAlone) {
    const BreakerPolicy p;
    Breaker b;
    const BreakerChange c = cool_down(p, b, t0 + hours(1));
    EXPECT_FALSE(c.changed);
    EXPECT_EQ(b.state, BreakerState::closed);
}

TEST(Breaker, HalfOpenLetsExactlyOneTrialThrough) {
    const BreakerPolicy p;
    Breaker b = opened(p, t0);
    cool_down(p, b, t0 + minutes(5));
    ASSERT_TRUE(breaker_allows(b));
    breaker_dispatched(b);
    EXPECT_TRUE(b.trial_in_flight);
    EXPECT_FALSE(breaker_allows(b));
    // Cool-down while the trial runs does not free a second slot.
    cool_down(p, b, t0 + minutes(20));
    EXPECT_FALSE(breaker_allows(b));
}

TEST(Breaker, FailedTrialReopensForAnotherCooldown) {
    const BreakerPolicy p;
    Breaker b = opened(p, t0);
    cool_down(p, b, t0 + minutes(5));
    breaker_dispatched(b);
    const TimePoint failed_at = t0 + minutes(6);
    const BreakerChange c = breaker_record(p, b, false, failed_at);
    EXPECT_TRUE(c.changed);
    EXPECT_EQ(c.from, BreakerState::half_open);
    EXPECT_EQ(c.to, BreakerState::open);
    EXPECT_EQ(b.state, BreakerState::open);
    EXPECT_EQ(b.opened_at_us, us(failed_at));
    EXPECT_FALSE(b.trial_in_flight);
    EXPECT_FALSE(breaker_allows(b));
    // The new cooldown counts from the failed trial, not from the first opening.
    EXPECT_FALSE(cool_down(p, b, failed_at + minutes(4) + seconds(59)).changed);
    EXPECT_TRUE(cool_down(p, b, failed_at + minutes(5)).changed);
    EXPECT_EQ(b.state, BreakerState::half_open);
    EXPECT_TRUE(breaker_allows(b));
}

TEST(Breaker, SuccessfulTrialCloses) {
    const BreakerPolicy p;
    Breaker b = opened(p, t0);
    cool_down(p, b, t0 + minutes(5));
    breaker_dispatched(b);
    const BreakerChange c = breaker_record(p, b, true, t0 + minutes(6));
    EXPECT_TRUE(c.changed);
    EXPECT_EQ(c.from, BreakerState::half_open);
    EXPECT_EQ(c.to, BreakerState::closed);
    EXPECT_EQ(b.state, BreakerState::closed);
    EXPECT_EQ(b.consecutive_failures, 0);
    EXPECT_FALSE(b.trial_in_flight);
    EXPECT_TRUE(breaker_allows(b));
    // Closed again: it takes the full threshold to reopen.
    for (int i = 0; i < 4; ++i)
        breaker_record(p, b, false, t0 + minutes(7));
    EXPECT_EQ(b.state, BreakerState::closed);
}

TEST(Breaker, CancelledTrialFreesTheSlot) {
    const BreakerPolicy p;
    Breaker b = opened(p, t0);
    cool_down(p, b, t0 + minutes(5));
    breaker_dispatched(b);
    ASSERT_FALSE(breaker_allows(b));
    breaker_trial_cancelled(b);
    EXPECT_FALSE(b.trial_in_flight);
    EXPECT_EQ(b.state, BreakerState::half_open);
    EXPECT_TRUE(breaker_allows(b));
    breaker_dispatched(b);
    EXPECT_FALSE(breaker_allows(b));
}

TEST(Breaker, CancellingOutsideHalfOpenChangesNothing) {
    const BreakerPolicy p;
    Breaker closed;
    breaker_trial_cancelled(closed);
    EXPECT_EQ(closed.state, BreakerState::closed);
    EXPECT_TRUE(breaker_allows(closed));
    Breaker open = opened(p, t0);
    breaker_trial_cancelled(open);
    EXPECT_EQ(open.state, BreakerState::open);
    EXPECT_FALSE(breaker_allows(open));
}

TEST(Breaker, DispatchWhileClosedIsNotATrial) {
    Breaker b;
    breaker_dispatched(b);
    breaker_dispatched(b);
    EXPECT_FALSE(b.trial_in_flight);
    EXPECT_TRUE(breaker_allows(b));
}

TEST(Breaker, SuccessOnAClosedBreakerReportsNoChange) {
    const BreakerPolicy p;
    Breaker b;
    const BreakerChange c = breaker_record(p, b, true, t0);
    EXPECT_FALSE(c.changed);
    EXPECT_EQ(c.from, BreakerState::closed);
    EXPECT_EQ(c.to, BreakerState::closed);
}

TEST(Breaker, FullCycleClosedOpenHalfOpenOpenHalfOpenClosed) {
    const BreakerPolicy p;
    Breaker b;
    std::string path = to_string(b.state);
    auto note = [&](const BreakerChange& c) {
        if (c.changed) {
            EXPECT_EQ(std::string(to_string(c.from)), path.substr(path.rfind(' ') + 1));
            path += std::string(" ") + to_string(c.to);
        }
    };
    for (int i = 0; i < 5; ++i)
        note(breaker_record(p, b, false, t0));
    note(cool_down(p, b, t0 + minutes(5)));
    breaker_dispatched(b);
    note(breaker_record(p, b, false, t0 + minutes(5) + seconds(1)));
    EXPECT_FALSE(cool_down(p, b, t0 + minutes(10)).changed); // reopened at 5:01: not yet
    note(cool_down(p, b, t0 + minutes(10) + seconds(1)));
    breaker_dispatched(b);
    note(breaker_record(p, b, true, t0 + minutes(16)));
    EXPECT_EQ(path, "closed open half_open open half_open closed");
}

} // namespace
