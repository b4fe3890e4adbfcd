// Fairness (SPEC "Fairness"): workflow types with ready work share dispatches by weight (stride
// scheduling); no catch-up burst after idling; starving types go first, fairly among themselves.
#include "orchestrator/core/fairness.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <vector>

namespace {

using namespace orchestrator::core;

ContendingType type(std::int32_t id, double weight, double pass = 0, bool starving = false) {
    ContendingType t;
    t.type_id = id;
    t.weight = weight;
    t.pass = pass;
    t.starving = starving;
    return t;
}

// Picks and charges `picks` times; returns the type ids in the order served.
std::vector<std::int32_t> run(FairShareState& state, std::vector<ContendingType>& types,
                              int picks) {
    std::vector<std::int32_t> served;
    for (int i = 0; i < picks; ++i) {
        const auto idx = pick_next_type(state, types);
        if (!idx)
            break;
        charge_type(state, types[*idx]);
        served.push_back(types[*idx].type_id);
    }
    return served;
}

std::map<std::int32_t, int> count(const std::vector<std::int32_t>& served) {
    std::map<std::int32_t, int> c;
    for (std::int32_t id : served)
        ++c[id];
    return c;
}

TEST(Fairness, NoTypesPicksNothing) {
    EXPECT_FALSE(pick_next_type(FairShareState{}, {}).has_value());
}

TEST(Fairness, SingleTypeIsAlwaysPicked) {
    FairShareState s;
    std::vector<ContendingType> types = {type(7, 0.5)};
    EXPECT_EQ(count(run(s, types, 10))[7], 10);
}

TEST(Fairness, WeightsThreeToOneShareThousandPicks) {
    FairShareState s;
    std::vector<ContendingType> types = {type(1, 3), type(2, 1)};
    const auto c = count(run(s, types, 1000));
    EXPECT_NEAR(c.at(1), 750, 10); // within 1% of 1,000
    EXPECT_NEAR(c.at(2), 250, 10);
}

TEST(Fairness, WeightsOneOneTwoShareThousandPicks) {
    FairShareState s;
    std::vector<ContendingType> types = {type(1, 1), type(2, 1), type(3, 2)};
    const auto c = count(run(s, types, 1000));
    EXPECT_NEAR(c.at(1), 250, 10);
    EXPECT_NEAR(c.at(2), 250, 10);
    EXPECT_NEAR(c.at(3), 500, 10);
}

TEST(Fairness, WeightedShareHoldsInEveryPrefixNotOnlyAtTheEnd) {
    // Stride scheduling keeps each type within a couple of picks of its share at all times:
    // nobody monopolizes a stretch of dispatches.
    FairShareState s;
    std::vector<ContendingType> types = {type(1, 3), type(2, 1)};
    const auto served = run(s, types, 1000);
    int a = 0;
    for (std::size_t i = 0; i < served.size(); ++i) {
        a += served[i] == 1;
        const double expected = 0.75 * static_cast<double>(i + 1);
        ASSERT_NEAR(a, expected, 2.0) << "after " << i + 1 << " picks";
    }
}

TEST(Fairness, EqualWeightsAlternate) {
    FairShareState s;
    std::vector<ContendingType> types = {type(1, 1), type(2, 1)};
    const auto served = run(s, types, 10);
    EXPECT_EQ(served, (std::vector<std::int32_t>{1, 2, 1, 2, 1, 2, 1, 2, 1, 2}));
}

TEST(Fairness, TypeComingBackFromIdleGetsNoCatchUpBurst) {
    FairShareState s;
    std::vector<ContendingType> busy = {type(1, 1), type(2, 1)};
    run(s, busy, 2); // both served once
    // Type 2 goes idle (no ready work, so it does not contend) while type 1 is served 100 times.
    std::vector<ContendingType> alone = {busy[0]};
    run(s, alone, 100);
    // Type 2 comes back with its stale stored pass: it must not get ~100 dispatches in a row.
    std::vector<ContendingType> back = {alone[0], busy[1]};
    ASSERT_LT(back[1].pass, back[0].pass); // stale pass, far behind
    const auto served = run(s, back, 20);
    int longest_run = 0, current = 0;
    for (std::int32_t id : served) {
        current = id == 2 ? current + 1 : 0;
        longest_run = std::max(longest_run, current);
    }
    EXPECT_LE(longest_run, 1);
    const auto c = count(served);
    EXPECT_NEAR(c.at(2), 10, 1);
    EXPECT_NEAR(c.at(1), 10, 1);
}

TEST(Fairness, BrandNewTypeStartsAtTheFrontier) {
    FairShareState s;
    std::vector<ContendingType> types = {type(1, 1)};
    run(s, types, 50);
    types.push_back(type(2, 1)); // pass 0: would win 50 picks in a row without the frontier
    const auto served = run(s, types, 10);
    EXPECT_EQ(count(served).at(2), 5);
}

TEST(Fairness, ChargeMovesFrontierToServedPassAndAdvancesByExecutionsOverWeight) {
    FairShareState s;
    s.frontier = 10;
    ContendingType stale = type(1, 2, 3); // stale pass below the frontier
    charge_type(s, stale, 4);
    EXPECT_DOUBLE_EQ(s.frontier, 10);
    EXPECT_DOUBLE_EQ(stale.pass, 12); // 10 + 4 / 2
    ContendingType ahead = type(2, 4, 20);
    charge_type(s, ahead);
    EXPECT_DOUBLE_EQ(s.frontier, 20);
    EXPECT_DOUBLE_EQ(ahead.pass, 20.25);
}

TEST(Fairness, BatchesChargeByExecutionsSoShareIsInExecutionsNotPicks) {
    // Type 1 always dispatches batches of 4; type 2 single executions; equal weights: type 2
    // gets about 4 picks for each of type 1's, so executions are shared equally.
    FairShareState s;
    std::vector<ContendingType> types = {type(1, 1), type(2, 1)};
    std::map<std::int32_t, int> executions;
    for (int i = 0; i < 1000; ++i) {
        const auto idx = pick_next_type(s, types);
        ASSERT_TRUE(idx);
        const int n = types[*idx].type_id == 1 ? 4 : 1;
        charge_type(s, types[*idx], n);
        executions[types[*idx].type_id] += n;
    }
    const double share1 = static_cast<double>(executions[1]) / (executions[1] + executions[2]);
    EXPECT_NEAR(share1, 0.5, 0.01);
}

TEST(Fairness, StarvingTypeIsServedBeforeAnyOther) {
    FairShareState s;
    std::vector<ContendingType> types = {type(1, 100, 0), type(2, 0.01, 1e9, /*starving=*/true)};
    EXPECT_EQ(pick_next_type(s, types), std::optional<std::size_t>(1));
}

TEST(Fairness, StarvingTypesShareFairlyAmongThemselvesAndShutOutOthers) {
    FairShareState s;
    std::vector<ContendingType> types = {type(1, 1, 0, true), type(2, 10, 0, false),
                                         type(3, 3, 0, true)};
    const auto c = count(run(s, types, 1000));
    EXPECT_EQ(c.count(2), 0u);
    EXPECT_NEAR(c.at(1), 250, 10);
    EXPECT_NEAR(c.at(3), 750, 10);
}

TEST(Fairness, TieOnPassGoesToHigherWeight) {
    FairShareState s;
    std::vector<ContendingType> types = {type(1, 1, 5), type(2, 2, 5)};
    EXPECT_EQ(pick_next_type(s, types), std::optional<std::size_t>(1));
}

TEST(Fairness, TieOnPassAndWeightGoesToLowerTypeIdWhateverTheOrder) {
    FairShareState s;
    std::vector<ContendingType> types = {type(9, 1, 5), type(3, 1, 5), type(6, 1, 5)};
    EXPECT_EQ(pick_next_type(s, types), std::optional<std::size_t>(1));
    std::vector<ContendingType> reversed = {types[2], types[1], types[0]};
    EXPECT_EQ(pick_next_type(s, reversed), std::optional<std::size_t>(1));
    // Both below the frontier: they tie at the frontier, so the id decides.
    s.frontier = 50;
    std::vector<ContendingType> below = {type(4, 1, 10), type(2, 1, 20)};
    EXPECT_EQ(pick_next_type(s, below), std::optional<std::size_t>(1));
}

TEST(Fairness, SequenceIsDeterministic) {
    FairShareState s1, s2;
    std::vector<ContendingType> t1 = {type(1, 1.5), type(2, 1), type(3, 2.5)};
    std::vector<ContendingType> t2 = t1;
    EXPECT_EQ(run(s1, t1, 500), run(s2, t2, 500));
}

TEST(Fairness, FrontierNeverMovesBackwards) {
    FairShareState s;
    std::vector<ContendingType> types = {type(1, 1), type(2, 3), type(3, 0.5)};
    double last = s.frontier;
    for (int i = 0; i < 300; ++i) {
        // Occasionally a type comes back with a stale low pass, or a type starves.
        if (i % 50 == 25)
            types[2].pass = 0;
        types[1].starving = (i % 70) < 5;
        const auto idx = pick_next_type(s, types);
        ASSERT_TRUE(idx);
        charge_type(s, types[*idx]);
        ASSERT_GE(s.frontier, last);
        last = s.frontier;
    }
}

} // namespace
