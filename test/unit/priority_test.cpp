// Priority and aging (SPEC "Priority and aging"): score = priority × 10 + minutes waited, plus 50
// once a task has waited over 30 minutes; ties go to the older ready_at, then the lower id.
#include "orchestrator/core/priority.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

namespace {

using namespace orchestrator::core;

const TimePoint kNow = TimePoint{} + hours(24 * 365 * 50);

Candidate waiting(std::int64_t id, int priority, Duration waited) {
    return Candidate{id, priority, kNow - waited};
}

std::vector<std::int64_t> ids(const std::vector<Candidate>& candidates) {
    std::vector<std::int64_t> out;
    for (const Candidate& c : candidates)
        out.push_back(c.task_id);
    return out;
}

std::vector<std::int64_t> sorted_ids(std::vector<Candidate> candidates, TimePoint now = kNow) {
    sort_best_first(candidates, now, PriorityPolicy{});
    return ids(candidates);
}

TEST(Priority, DefaultPolicyMatchesSpec) {
    const PriorityPolicy p;
    EXPECT_EQ(p.points_per_priority, 10);
    EXPECT_EQ(p.starvation_after, minutes(30));
    EXPECT_EQ(p.starvation_bonus, 50);
    EXPECT_EQ(min_priority, 1);
    EXPECT_EQ(max_priority, 10);
}

TEST(Priority, ScoreIsPriorityTimesTenPlusMinutesWaited) {
    const PriorityPolicy p;
    EXPECT_DOUBLE_EQ(score(p, 1, Duration::zero()), 10);
    EXPECT_DOUBLE_EQ(score(p, 10, Duration::zero()), 100);
    EXPECT_DOUBLE_EQ(score(p, 3, minutes(12)), 42);
    EXPECT_DOUBLE_EQ(score(p, 7, seconds(90)), 71.5);
    EXPECT_DOUBLE_EQ(score(p, 5, minutes(30)), 80); // exactly 30:00: no bonus yet
}

TEST(Priority, IsStarvingIsFalseAtExactlyThirtyMinutesAndTrueOneMicrosecondLater) {
    const PriorityPolicy p;
    EXPECT_FALSE(is_starving(p, Duration::zero()));
    EXPECT_FALSE(is_starving(p, minutes(29) + seconds(59)));
    // "waiting over 30 minutes": exactly 30:00 is not yet starving.
    EXPECT_FALSE(is_starving(p, minutes(30)));
    EXPECT_TRUE(is_starving(p, minutes(30) + Duration(1)));
    EXPECT_TRUE(is_starving(p, minutes(30) + seconds(1)));
    EXPECT_TRUE(is_starving(p, hours(48)));
}

TEST(Priority, StarvationBonusIsAddedOnceAndOnlyPastThirtyMinutes) {
    const PriorityPolicy p;
    EXPECT_DOUBLE_EQ(score(p, 1, minutes(29) + seconds(59)), 10 + 29 + 59.0 / 60);
    EXPECT_DOUBLE_EQ(score(p, 1, minutes(30)), 40);
    EXPECT_DOUBLE_EQ(score(p, 1, minutes(30) + seconds(1)), 10 + 30 + 1.0 / 60 + 50);
    // The bonus is a single step, not a second slope: one hour later it is still +50.
    EXPECT_DOUBLE_EQ(score(p, 1, minutes(90)), 10 + 90 + 50);
}

TEST(Priority, TaskCrossingThirtyMinutesJumpsAheadOfHigherPriority) {
    // Priority 1 at 29:59 / 30:00 / 30:01 against fresh higher-priority work.
    std::vector<Candidate> c = {
        waiting(1, 1, minutes(29) + seconds(59)), // 39.98
        waiting(2, 1, minutes(30)),               // 40.00
        waiting(3, 1, minutes(30) + seconds(1)),  // 90.0167 (bonus)
        waiting(4, 5, Duration::zero()),          // 50
        waiting(5, 9, Duration::zero()),          // 90
        waiting(6, 8, minutes(5)),                // 85
        waiting(7, 4, Duration::zero()),          // 40, newer than id 2 → after it
    };
    EXPECT_EQ(sorted_ids(c), (std::vector<std::int64_t>{3, 5, 6, 4, 2, 7, 1}));
}

TEST(Priority, ExactlyThirtyMinutesDoesNotYetBeatHigherPriority) {
    // At exactly 30:00 priority 1 scores 40 and stays behind a fresh priority 5 (50); one second
    // later it scores 90.02 and passes it.
    std::vector<Candidate> c = {waiting(1, 1, minutes(30)), waiting(2, 5, Duration::zero())};
    EXPECT_EQ(sorted_ids(c), (std::vector<std::int64_t>{2, 1}));
    EXPECT_EQ(sorted_ids(c, kNow + seconds(1)), (std::vector<std::int64_t>{1, 2}));
}

TEST(Priority, HigherPriorityWinsAtEqualWaitForEveryPair) {
    std::vector<Candidate> c;
    for (int p = min_priority; p <= max_priority; ++p)
        c.push_back(waiting(100 + p, p, minutes(7)));
    std::reverse(c.begin(), c.end());
    std::rotate(c.begin(), c.begin() + 3, c.end()); // scramble input order
    std::vector<std::int64_t> expected;
    for (int p = max_priority; p >= min_priority; --p)
        expected.push_back(100 + p);
    EXPECT_EQ(sorted_ids(c), expected);
}

TEST(Priority, TenMinutesOfWaitEqualsOnePriorityLevel) {
    // p1 after 11 min (21) beats fresh p2 (20); p1 after 9 min (19) does not.
    EXPECT_EQ(sorted_ids({waiting(1, 2, Duration::zero()), waiting(2, 1, minutes(11))}),
              (std::vector<std::int64_t>{2, 1}));
    EXPECT_EQ(sorted_ids({waiting(1, 2, Duration::zero()), waiting(2, 1, minutes(9))}),
              (std::vector<std::int64_t>{1, 2}));
}

TEST(Priority, EqualScoreTieGoesToOlderReadyAt) {
    // p1 waited 10 min (score 20) ties with fresh p2 (score 20): the older task wins even though
    // its priority is lower and its id is higher.
    std::vector<Candidate> c = {waiting(1, 2, Duration::zero()), waiting(2, 1, minutes(10))};
    const PriorityPolicy p;
    ASSERT_DOUBLE_EQ(score(p, 2, Duration::zero()), score(p, 1, minutes(10)));
    EXPECT_EQ(sorted_ids(c), (std::vector<std::int64_t>{2, 1}));
}

TEST(Priority, EqualScoreAndReadyAtTieGoesToLowerId) {
    std::vector<Candidate> c = {waiting(30, 4, minutes(3)), waiting(10, 4, minutes(3)),
                                waiting(20, 4, minutes(3))};
    EXPECT_EQ(sorted_ids(c), (std::vector<std::int64_t>{10, 20, 30}));
}

TEST(Priority, NegativeWaitScoresAsZero) {
    const PriorityPolicy p;
    EXPECT_DOUBLE_EQ(score(p, 3, -minutes(10)), 30);
    EXPECT_DOUBLE_EQ(score(p, 3, -hours(24)), 30);
    EXPECT_FALSE(is_starving(p, -hours(24)));
}

TEST(Priority, FutureReadyAtIsNotPenalisedBelowItsPriority) {
    // A task whose ready_at is 10 minutes in the future still scores 30 as priority 3, so it beats
    // a priority 2 task that waited 9 minutes (29)...
    EXPECT_EQ(sorted_ids({waiting(1, 2, minutes(9)), waiting(2, 3, -minutes(10))}),
              (std::vector<std::int64_t>{2, 1}));
    // ...and ties with a same-priority task ready now, which is older and therefore goes first.
    EXPECT_EQ(sorted_ids({waiting(1, 3, -minutes(10)), waiting(2, 3, Duration::zero())}),
              (std::vector<std::int64_t>{2, 1}));
    // Two future tasks: both score as zero wait, the earlier ready_at goes first.
    EXPECT_EQ(sorted_ids({waiting(1, 3, -minutes(1)), waiting(2, 3, -minutes(5))}),
              (std::vector<std::int64_t>{1, 2}));
}

TEST(Priority, OrderIsTimeInvariantWhileNobodyCrossesThirtyMinutes) {
    std::vector<Candidate> c = {waiting(1, 1, minutes(15)), waiting(2, 2, minutes(4)),
                                waiting(3, 3, Duration::zero()), waiting(4, 2, minutes(5)),
                                waiting(5, 5, minutes(1))};
    const auto before = sorted_ids(c);
    EXPECT_EQ(sorted_ids(c, kNow + minutes(10)), before);
    EXPECT_EQ(sorted_ids(c, kNow + minutes(14) + seconds(59)), before);
}

TEST(Priority, SortedOrderAgreesWithScoreOnALargeGrid) {
    std::vector<Candidate> c;
    std::int64_t id = 1000;
    for (int p = min_priority; p <= max_priority; ++p)
        for (int s = -120; s <= 3600; s += 37)
            c.push_back(waiting(id--, p, seconds(s)));
    const PriorityPolicy policy;
    sort_best_first(c, kNow, policy);
    for (std::size_t i = 1; i < c.size(); ++i) {
        const Candidate& a = c[i - 1];
        const Candidate& b = c[i];
        const double sa = score(policy, a.priority, kNow - a.ready_at);
        const double sb = score(policy, b.priority, kNow - b.ready_at);
        ASSERT_GE(sa, sb) << "at " << i;
        if (sa == sb) {
            ASSERT_LE(a.ready_at, b.ready_at) << "at " << i;
            if (a.ready_at == b.ready_at) {
                ASSERT_LT(a.task_id, b.task_id) << "at " << i;
            }
        }
    }
}

TEST(Priority, BestCandidatesLimitSmallerThanInputKeepsTheBest) {
    std::vector<Candidate> c = {waiting(1, 1, Duration::zero()), waiting(2, 9, Duration::zero()),
                                waiting(3, 5, Duration::zero()), waiting(4, 1, minutes(31)),
                                waiting(5, 7, Duration::zero())};
    const auto best = best_candidates(c, kNow, PriorityPolicy{}, 2);
    EXPECT_EQ(ids(best), (std::vector<std::int64_t>{4, 2}));
}

TEST(Priority, BestCandidatesLimitLargerThanInputReturnsAllSorted) {
    std::vector<Candidate> c = {waiting(1, 1, Duration::zero()), waiting(2, 9, Duration::zero()),
                                waiting(3, 5, Duration::zero())};
    const auto best = best_candidates(c, kNow, PriorityPolicy{}, 100);
    EXPECT_EQ(ids(best), (std::vector<std::int64_t>{2, 3, 1}));
}

TEST(Priority, BestCandidatesLimitEqualToInputReturnsAllSorted) {
    std::vector<Candidate> c = {waiting(1, 1, Duration::zero()), waiting(2, 9, Duration::zero())};
    EXPECT_EQ(ids(best_candidates(c, kNow, PriorityPolicy{}, 2)),
              (std::vector<std::int64_t>{2, 1}));
}

TEST(Priority, BestCandidatesLimitZeroOrEmptyInputReturnsNothing) {
    std::vector<Candidate> c = {waiting(1, 1, Duration::zero())};
    EXPECT_TRUE(best_candidates(c, kNow, PriorityPolicy{}, 0).empty());
    EXPECT_TRUE(best_candidates({}, kNow, PriorityPolicy{}, 5).empty());
}

TEST(Priority, CustomPolicyChangesThresholdAndBonus) {
    PriorityPolicy p;
    p.points_per_priority = 100;
    p.starvation_after = minutes(5);
    p.starvation_bonus = 1000;
    EXPECT_DOUBLE_EQ(score(p, 2, minutes(5)), 205);
    EXPECT_DOUBLE_EQ(score(p, 2, minutes(6)), 1206);
    EXPECT_FALSE(is_starving(p, minutes(5)));
    EXPECT_TRUE(is_starving(p, minutes(5) + Duration(1)));
}

} // namespace
