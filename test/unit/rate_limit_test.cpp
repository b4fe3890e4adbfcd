// Rate limits (SPEC "Rate limits"): per API, a token bucket of `burst` refilled at
// calls_per_minute / 60 per second, plus a window of 61 whole seconds so that no 60-second window
// ever holds more than calls_per_minute calls; a 429 pauses the API until its retry-after.
#include "orchestrator/core/rate_limit.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

namespace {

using namespace orchestrator::core;

// 2026-01-01 00:00:00 UTC: far from the epoch (0 marks a bucket never refilled).
const TimePoint t0 = TimePoint(seconds(1767225600));

TimePoint at(double secs) {
    return t0 + Duration(static_cast<std::int64_t>(secs * 1'000'000));
}

TEST(RateLimit, NewBucketStartsFullAtBurst) {
    const ApiLimit limit{60, 10};
    ApiUsage usage;
    EXPECT_EQ(calls_available(limit, usage, t0), 10);
}

TEST(RateLimit, NewBucketWithBurstAboveLimitIsCappedByTheMinuteLimit) {
    const ApiLimit limit{50, 100};
    ApiUsage usage;
    EXPECT_EQ(calls_available(limit, usage, t0), 50);
}

TEST(RateLimit, TakingCallsEmptiesTheBucket) {
    const ApiLimit limit{60, 10};
    ApiUsage usage;
    ASSERT_EQ(calls_available(limit, usage, t0), 10);
    take_calls(usage, 10, t0);
    EXPECT_EQ(calls_available(limit, usage, t0), 0);
    EXPECT_EQ(calls_in_window(usage, t0), 10);
}

TEST(RateLimit, TokensRefillAtCallsPerMinuteOverSixtySeconds) {
    const ApiLimit limit{60, 10}; // one token a second
    ApiUsage usage;
    ASSERT_EQ(calls_available(limit, usage, t0), 10);
    take_calls(usage, 10, t0);
    EXPECT_EQ(calls_available(limit, usage, at(0.999)), 0);
    EXPECT_EQ(calls_available(limit, usage, at(1.0)), 1);
    EXPECT_EQ(calls_available(limit, usage, at(3.5)), 3);
    EXPECT_EQ(calls_available(limit, usage, at(7.0)), 7);
}

TEST(RateLimit, RefillAtFractionalRateThirtyPerMinuteIsOneEveryTwoSeconds) {
    const ApiLimit limit{30, 5};
    ApiUsage usage;
    ASSERT_EQ(calls_available(limit, usage, t0), 5);
    take_calls(usage, 5, t0);
    EXPECT_EQ(calls_available(limit, usage, at(1.9)), 0);
    EXPECT_EQ(calls_available(limit, usage, at(2.0)), 1);
    EXPECT_EQ(calls_available(limit, usage, at(6.0)), 3);
}

TEST(RateLimit, RefillIsCappedAtBurstAfterALongIdle) {
    const ApiLimit limit{60, 10};
    ApiUsage usage;
    ASSERT_EQ(calls_available(limit, usage, t0), 10);
    take_calls(usage, 3, t0);
    EXPECT_EQ(calls_available(limit, usage, at(3600)), 10);
    // Many small refills do not add up past the burst either.
    for (int i = 1; i <= 100; ++i)
        EXPECT_LE(calls_available(limit, usage, at(3600 + i * 0.25)), 10);
    EXPECT_EQ(calls_available(limit, usage, at(3700)), 10);
}

TEST(RateLimit, FrequentPollingRefillsAsMuchAsOneLongGap) {
    const ApiLimit limit{60, 10};
    ApiUsage polled;
    ApiUsage idle;
    calls_available(limit, polled, t0);
    calls_available(limit, idle, t0);
    take_calls(polled, 10, t0);
    take_calls(idle, 10, t0);
    for (int ms = 1; ms <= 5000; ms += 7)
        calls_available(limit, polled, at(ms / 1000.0));
    EXPECT_EQ(calls_available(limit, polled, at(5.0)), 5);
    EXPECT_EQ(calls_available(limit, idle, at(5.0)), 5);
}

TEST(RateLimit, WindowCapsCallsEvenWhenBucketHasTokens) {
    // Burst 100 but 60 per minute: the first 60 drain the window, the bucket still holds 40.
    const ApiLimit limit{60, 100};
    ApiUsage usage;
    ASSERT_EQ(calls_available(limit, usage, t0), 60);
    take_calls(usage, 60, t0);
    EXPECT_EQ(calls_available(limit, usage, at(30)), 0);
    EXPECT_EQ(calls_available(limit, usage, at(60.999)), 0);
    // Second 0 leaves the 61-second window when second 61 begins.
    EXPECT_EQ(calls_available(limit, usage, at(61.0)), 60);
}

TEST(RateLimit, PausedApiHasNothingAvailableUntilThePausePasses) {
    const ApiLimit limit{60, 10};
    ApiUsage usage;
    ASSERT_EQ(calls_available(limit, usage, t0), 10);
    pause_api(usage, at(30));
    EXPECT_EQ(calls_available(limit, usage, t0), 0);
    EXPECT_EQ(calls_available(limit, usage, at(29.999999)), 0);
    EXPECT_EQ(calls_available(limit, usage, at(30)), 10);
    EXPECT_EQ(calls_available(limit, usage, at(45)), 10);
}

TEST(RateLimit, PauseCannotBeShortenedByAnEarlierRetryAfter) {
    const ApiLimit limit{60, 10};
    ApiUsage usage;
    pause_api(usage, at(60));
    pause_api(usage, at(10));
    EXPECT_EQ(calls_available(limit, usage, at(20)), 0);
    EXPECT_EQ(calls_available(limit, usage, at(60)), 10);
}

TEST(RateLimit, BucketRefillsDuringAPause) {
    const ApiLimit limit{60, 10};
    ApiUsage usage;
    ASSERT_EQ(calls_available(limit, usage, t0), 10);
    take_calls(usage, 10, t0);
    pause_api(usage, at(4));
    EXPECT_EQ(calls_available(limit, usage, at(3)), 0);
    EXPECT_EQ(calls_available(limit, usage, at(4)), 4);
}

TEST(RateLimit, ReturnCallsGivesBackTokensAndWindowSlots) {
    const ApiLimit limit{60, 10};
    ApiUsage usage;
    ASSERT_EQ(calls_available(limit, usage, t0), 10);
    take_calls(usage, 8, t0);
    EXPECT_EQ(calls_available(limit, usage, t0), 2);
    EXPECT_EQ(calls_in_window(usage, t0), 8);
    return_calls(limit, usage, 5, t0);
    EXPECT_EQ(calls_available(limit, usage, t0), 7);
    EXPECT_EQ(calls_in_window(usage, t0), 3);
}

TEST(RateLimit, ReturnCallsFreesWindowSlotsThatBoundTheBatch) {
    // Window-bound (burst above the limit): returning the calls must make them available again.
    const ApiLimit limit{60, 100};
    ApiUsage usage;
    ASSERT_EQ(calls_available(limit, usage, t0), 60);
    take_calls(usage, 60, t0);
    ASSERT_EQ(calls_available(limit, usage, at(10)), 0);
    return_calls(limit, usage, 20, t0);
    EXPECT_EQ(calls_in_window(usage, at(10)), 40);
    EXPECT_EQ(calls_available(limit, usage, at(10)), 20);
}

TEST(RateLimit, ReturnCallsNeverOverfillsTheBucketOrMakesTheWindowNegative) {
    const ApiLimit limit{60, 10};
    ApiUsage usage;
    ASSERT_EQ(calls_available(limit, usage, t0), 10);
    take_calls(usage, 2, t0);
    return_calls(limit, usage, 50, t0);
    EXPECT_EQ(calls_available(limit, usage, t0), 10);
    EXPECT_EQ(calls_in_window(usage, t0), 0);
}

TEST(RateLimit, ReturnCallsForASecondThatLeftTheWindowDoesNotTouchTheReusedSlot) {
    // Second 61 reuses second 0's slot: a late return for second 0 must not erase second 61.
    const ApiLimit limit{60, 100};
    ApiUsage usage;
    ASSERT_EQ(calls_available(limit, usage, t0), 60);
    take_calls(usage, 10, t0);
    take_calls(usage, 5, at(61));
    ASSERT_EQ(calls_in_window(usage, at(61)), 5);
    return_calls(limit, usage, 10, t0);
    EXPECT_EQ(calls_in_window(usage, at(61)), 5);
}

TEST(RateLimit, AddCallsCountsUnplannedCallsInTheWindow) {
    const ApiLimit limit{60, 100};
    ApiUsage usage;
    ASSERT_EQ(calls_available(limit, usage, t0), 60);
    take_calls(usage, 50, t0);
    add_calls(usage, 10, at(1));
    EXPECT_EQ(calls_in_window(usage, at(1)), 60);
    EXPECT_EQ(calls_available(limit, usage, at(2)), 0);
}

TEST(RateLimit, CallsInWindowForgetsSecondsOlderThanTheWindow) {
    ApiUsage usage;
    take_calls(usage, 3, t0);
    take_calls(usage, 4, at(30));
    EXPECT_EQ(calls_in_window(usage, at(60.5)), 7);
    EXPECT_EQ(calls_in_window(usage, at(61)), 4);
    EXPECT_EQ(calls_in_window(usage, at(91)), 0);
    EXPECT_EQ(calls_in_window(usage, at(10'000)), 0);
}

TEST(RateLimit, ClockMovingBackwardsDoesNotRefillOrClearTheWindow) {
    const ApiLimit limit{60, 10};
    ApiUsage usage;
    ASSERT_EQ(calls_available(limit, usage, at(100)), 10);
    take_calls(usage, 10, at(100));
    // Back 30 s, then 5 minutes: no tokens appear, the window still holds the 10 calls.
    EXPECT_EQ(calls_available(limit, usage, at(70)), 0);
    EXPECT_EQ(calls_in_window(usage, at(70)), 10);
    EXPECT_EQ(calls_available(limit, usage, at(-200)), 0);
    EXPECT_EQ(calls_in_window(usage, at(-200)), 10);
    EXPECT_GE(usage.tokens, 0.0);
    // Forward again: refill counts from the latest time seen, not from the earlier one.
    EXPECT_EQ(calls_available(limit, usage, at(100)), 0);
    EXPECT_EQ(calls_available(limit, usage, at(103)), 3);
    EXPECT_EQ(calls_in_window(usage, at(103)), 10);
    EXPECT_EQ(calls_in_window(usage, at(161)), 0);
    EXPECT_EQ(calls_available(limit, usage, at(161)), 10);
}

TEST(RateLimit, CallsTakenAfterClockMovedBackStillCountAndTokensNeverGoNegative) {
    const ApiLimit limit{60, 10};
    ApiUsage usage;
    ASSERT_EQ(calls_available(limit, usage, at(100)), 10);
    take_calls(usage, 4, at(100));
    ASSERT_EQ(calls_available(limit, usage, at(90)), 6);
    take_calls(usage, 6, at(90));
    take_calls(usage, 3, at(90)); // more than available: clamps, no negative balance
    EXPECT_GE(usage.tokens, 0.0);
    EXPECT_EQ(calls_in_window(usage, at(100)), 13);
    EXPECT_EQ(calls_available(limit, usage, at(100)), 0);
    for (std::int32_t c : usage.calls)
        EXPECT_GE(c, 0);
}

// The acceptance simulation: callers take whatever is available at random instants over 10
// simulated minutes; afterwards every 60-second window [t, t + 60 s] (both ends included) and
// every span of 61 whole seconds is checked by brute force against the limit.
struct SimResult {
    std::vector<std::int64_t> call_us; // one entry per call, ascending
};

SimResult simulate(const ApiLimit& limit, std::uint64_t seed, std::int64_t max_gap_us,
                   bool take_all) {
    std::mt19937_64 gen(seed);
    std::uniform_int_distribution<std::int64_t> gap(0, max_gap_us);
    SimResult r;
    ApiUsage usage;
    const std::int64_t start = t0.time_since_epoch().count();
    const std::int64_t end = start + 600LL * 1'000'000;
    for (std::int64_t now = start; now < end; now += gap(gen)) {
        const TimePoint tp{Duration(now)};
        const int avail = calls_available(limit, usage, tp);
        if (avail <= 0)
            continue;
        const int n = take_all ? avail : std::uniform_int_distribution<int>(1, avail)(gen);
        take_calls(usage, n, tp);
        for (int i = 0; i < n; ++i)
            r.call_us.push_back(now);
        // Sometimes a dispatch rolls back part of what it took.
        if (!take_all && n > 1 && gen() % 10 == 0) {
            const int back = std::uniform_int_distribution<int>(1, n - 1)(gen);
            return_calls(limit, usage, back, tp);
            r.call_us.resize(r.call_us.size() - static_cast<std::size_t>(back));
        }
    }
    return r;
}

int max_in_real_window(const std::vector<std::int64_t>& t, std::int64_t width_us) {
    int worst = 0;
    for (std::size_t i = 0; i < t.size(); ++i) {
        int n = 0;
        for (std::size_t j = i; j < t.size() && t[j] <= t[i] + width_us; ++j)
            ++n;
        worst = std::max(worst, n);
    }
    return worst;
}

int max_in_whole_seconds(const std::vector<std::int64_t>& t, std::int64_t seconds_span) {
    int worst = 0;
    for (std::size_t i = 0; i < t.size(); ++i) {
        const std::int64_t first_second = t[i] / 1'000'000;
        int n = 0;
        for (std::size_t j = i; j < t.size() && t[j] / 1'000'000 < first_second + seconds_span; ++j)
            ++n;
        worst = std::max(worst, n);
    }
    return worst;
}

TEST(RateLimit, RandomizedTenMinutesNeverExceedSixtyInAnySixtySecondWindow) {
    struct Case {
        ApiLimit limit;
        std::int64_t max_gap_us;
        bool take_all;
    };
    const std::vector<Case> cases = {
        {{60, 10}, 2'000'000, false}, {{60, 10}, 300'000, true},     {{60, 60}, 1'500'000, false},
        {{60, 100}, 700'000, true},   {{60, 100}, 3'000'000, false}, {{50, 50}, 900'000, false},
        {{50, 200}, 250'000, true},   {{1, 1}, 5'000'000, true},
    };
    for (std::size_t c = 0; c < cases.size(); ++c) {
        for (std::uint64_t seed = 1; seed <= 5; ++seed) {
            const Case& k = cases[c];
            const SimResult r = simulate(k.limit, seed * 7919 + c, k.max_gap_us, k.take_all);
            ASSERT_TRUE(std::is_sorted(r.call_us.begin(), r.call_us.end()));
            EXPECT_GT(r.call_us.size(), static_cast<std::size_t>(k.limit.calls_per_minute))
                << "case " << c << " seed " << seed << ": the simulation must actually be busy";
            EXPECT_LE(max_in_real_window(r.call_us, 60'000'000), k.limit.calls_per_minute)
                << "case " << c << " seed " << seed;
            EXPECT_LE(max_in_whole_seconds(r.call_us, ApiUsage::window_seconds),
                      k.limit.calls_per_minute)
                << "case " << c << " seed " << seed;
        }
    }
}

TEST(RateLimit, RandomizedSimulationUsesTheLimitOverTenMinutes) {
    // Taking everything available, ten minutes of 60/min give close to 600 calls (not a trickle).
    const SimResult r = simulate({60, 10}, 42, 200'000, true);
    EXPECT_GE(r.call_us.size(), 540u);
    EXPECT_LE(r.call_us.size(), 610u);
    // The limit is reached, so the window checks above are not passing vacuously.
    EXPECT_EQ(max_in_real_window(r.call_us, 60'000'000), 60);
    const SimResult wide = simulate({60, 100}, 42, 700'000, true);
    EXPECT_EQ(max_in_real_window(wide.call_us, 60'000'000), 60);
}

} // namespace
