// Batch granting: the tightest limit bounds the batch and names the reason; batch_min holds back
// small batches unless the oldest ready task is starving.
#include "orchestrator/core/batch.hpp"

#include <gtest/gtest.h>

#include <climits>

namespace {

using namespace orchestrator::core;

TEST(Batch, NoLimitsGrantsNothingWithReasonNone) {
    const BatchGrant g = grant_batch({});
    EXPECT_EQ(g.max_tasks, 0);
    EXPECT_EQ(g.limited_by, "none");
}

TEST(Batch, SingleLimitIsGrantedAsIs) {
    const BatchGrant g = grant_batch({{25, "batch_max"}});
    EXPECT_EQ(g.max_tasks, 25);
    EXPECT_EQ(g.limited_by, "batch_max");
}

TEST(Batch, TightestLimitNamesTheReason) {
    const BatchGrant g =
        grant_batch({{10, "batch_max"}, {7, "rate:gemini"}, {3, "queue"}, {5, "budget"}});
    EXPECT_EQ(g.max_tasks, 3);
    EXPECT_EQ(g.limited_by, "queue");
}

TEST(Batch, TightestLimitFirstInListNamesTheReason) {
    const BatchGrant g = grant_batch({{2, "connections"}, {10, "batch_max"}, {9, "queue"}});
    EXPECT_EQ(g.max_tasks, 2);
    EXPECT_EQ(g.limited_by, "connections");
}

TEST(Batch, TightestLimitLastInListNamesTheReason) {
    const BatchGrant g = grant_batch({{10, "batch_max"}, {9, "queue"}, {1, "memory"}});
    EXPECT_EQ(g.max_tasks, 1);
    EXPECT_EQ(g.limited_by, "memory");
}

TEST(Batch, TieBetweenTightestLimitsNamesTheFirst) {
    const BatchGrant g = grant_batch({{10, "batch_max"}, {4, "rate:openai"}, {4, "budget"}});
    EXPECT_EQ(g.max_tasks, 4);
    EXPECT_EQ(g.limited_by, "rate:openai");
}

TEST(Batch, ZeroLimitGrantsZero) {
    const BatchGrant g = grant_batch({{10, "batch_max"}, {0, "breaker"}, {5, "queue"}});
    EXPECT_EQ(g.max_tasks, 0);
    EXPECT_EQ(g.limited_by, "breaker");
}

TEST(Batch, NegativeLimitClampsToZeroAndNamesItself) {
    const BatchGrant g = grant_batch({{10, "batch_max"}, {-3, "budget"}, {5, "queue"}});
    EXPECT_EQ(g.max_tasks, 0);
    EXPECT_EQ(g.limited_by, "budget");
}

TEST(Batch, OnlyNegativeLimitClampsToZero) {
    const BatchGrant g = grant_batch({{INT_MIN, "rate:gemini"}});
    EXPECT_EQ(g.max_tasks, 0);
    EXPECT_EQ(g.limited_by, "rate:gemini");
}

TEST(Batch, TightestOfSeveralNegativeLimitsNamesTheReason) {
    // -5 is the tightest limit, and it is also the first of those that allow 0: "budget" either
    // way. Regression: comparing each raw limit with the already clamped grant (0) let the later,
    // looser -3 take over the reason.
    const BatchGrant g = grant_batch({{10, "batch_max"}, {-5, "budget"}, {-3, "rate:openai"}});
    EXPECT_EQ(g.max_tasks, 0);
    EXPECT_EQ(g.limited_by, "budget");
}

TEST(Batch, DispatchTakesTheSmallerOfGrantAndClaimable) {
    EXPECT_EQ(tasks_to_dispatch(1, 10, 3, false), 3);
    EXPECT_EQ(tasks_to_dispatch(1, 4, 30, false), 4);
    EXPECT_EQ(tasks_to_dispatch(1, 6, 6, false), 6);
}

TEST(Batch, BatchMinNotMetDispatchesNothing) {
    EXPECT_EQ(tasks_to_dispatch(5, 10, 4, false), 0); // too few ready
    EXPECT_EQ(tasks_to_dispatch(5, 4, 10, false), 0); // grant too small
}

TEST(Batch, BatchMinExactlyMetDispatches) {
    EXPECT_EQ(tasks_to_dispatch(5, 10, 5, false), 5);
    EXPECT_EQ(tasks_to_dispatch(5, 5, 10, false), 5);
}

TEST(Batch, BatchMinNotMetButOldestStarvingDispatchesWhatIsThere) {
    EXPECT_EQ(tasks_to_dispatch(5, 10, 2, true), 2);
    EXPECT_EQ(tasks_to_dispatch(5, 3, 10, true), 3);
}

TEST(Batch, NothingToDispatchEvenWhenStarving) {
    EXPECT_EQ(tasks_to_dispatch(5, 0, 10, true), 0);
    EXPECT_EQ(tasks_to_dispatch(5, 10, 0, true), 0);
    EXPECT_EQ(tasks_to_dispatch(0, 0, 0, false), 0);
}

TEST(Batch, NegativeGrantOrClaimableDispatchesZero) {
    EXPECT_EQ(tasks_to_dispatch(1, -4, 10, true), 0);
    EXPECT_EQ(tasks_to_dispatch(1, 10, -4, true), 0);
    EXPECT_EQ(tasks_to_dispatch(0, INT_MIN, INT_MIN, false), 0);
}

TEST(Batch, ZeroOrNegativeBatchMinImposesNoMinimum) {
    EXPECT_EQ(tasks_to_dispatch(0, 10, 1, false), 1);
    EXPECT_EQ(tasks_to_dispatch(-3, 10, 1, false), 1);
}

TEST(Batch, GrantFeedsDispatch) {
    const BatchGrant g = grant_batch({{20, "batch_max"}, {-1, "budget"}});
    EXPECT_EQ(tasks_to_dispatch(1, g.max_tasks, 50, true), 0);
}

} // namespace
