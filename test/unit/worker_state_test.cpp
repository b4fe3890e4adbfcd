#include "orchestrator/core/worker_state.hpp"

#include <gtest/gtest.h>

using namespace orchestrator::core;

namespace {
constexpr WorkerState all[] = {WorkerState::idle, WorkerState::analyzing, WorkerState::dispatching,
                               WorkerState::monitoring, WorkerState::error_recovery};
}

TEST(WorkerState, NamesRoundTrip) {
    for (WorkerState s : all)
        EXPECT_EQ(parse_worker_state(to_string(s)), s);
    EXPECT_EQ(parse_worker_state("IDLE"), std::nullopt);
    EXPECT_EQ(parse_worker_state(""), std::nullopt);
}

TEST(WorkerState, PassStepsFollowEachOther) {
    EXPECT_TRUE(transition_allowed(WorkerState::idle, WorkerState::analyzing));
    EXPECT_TRUE(transition_allowed(WorkerState::analyzing, WorkerState::dispatching));
    EXPECT_TRUE(transition_allowed(WorkerState::dispatching, WorkerState::monitoring));
    EXPECT_TRUE(transition_allowed(WorkerState::monitoring, WorkerState::idle));
}

TEST(WorkerState, StepsCannotBeSkippedOrRepeated) {
    EXPECT_FALSE(transition_allowed(WorkerState::idle, WorkerState::dispatching));
    EXPECT_FALSE(transition_allowed(WorkerState::idle, WorkerState::monitoring));
    EXPECT_FALSE(transition_allowed(WorkerState::analyzing, WorkerState::idle));
    EXPECT_FALSE(transition_allowed(WorkerState::dispatching, WorkerState::analyzing));
    EXPECT_FALSE(transition_allowed(WorkerState::monitoring, WorkerState::analyzing));
    for (WorkerState s : all)
        EXPECT_FALSE(transition_allowed(s, s)) << to_string(s);
}

TEST(WorkerState, AnyStateMayFailIntoRecoveryWhichLeadsOnlyToIdle) {
    for (WorkerState s : all)
        EXPECT_EQ(transition_allowed(s, WorkerState::error_recovery),
                  s != WorkerState::error_recovery)
            << to_string(s);
    for (WorkerState s : all)
        EXPECT_EQ(transition_allowed(WorkerState::error_recovery, s), s == WorkerState::idle)
            << to_string(s);
}

TEST(WorkerState, PassFromIdleRunsEveryStep) {
    EXPECT_EQ(pass_from(WorkerState::idle),
              (std::vector{WorkerState::analyzing, WorkerState::dispatching,
                           WorkerState::monitoring, WorkerState::idle}));
}

TEST(WorkerState, InterruptedPassResumesAtTheStoredStep) {
    EXPECT_EQ(pass_from(WorkerState::analyzing),
              (std::vector{WorkerState::analyzing, WorkerState::dispatching,
                           WorkerState::monitoring, WorkerState::idle}));
    EXPECT_EQ(pass_from(WorkerState::dispatching),
              (std::vector{WorkerState::dispatching, WorkerState::monitoring, WorkerState::idle}));
    EXPECT_EQ(pass_from(WorkerState::monitoring),
              (std::vector{WorkerState::monitoring, WorkerState::idle}));
}

TEST(WorkerState, RecoveryReturnsToIdleThenRunsAFreshPass) {
    EXPECT_EQ(pass_from(WorkerState::error_recovery),
              (std::vector{WorkerState::idle, WorkerState::analyzing, WorkerState::dispatching,
                           WorkerState::monitoring, WorkerState::idle}));
}

TEST(WorkerState, EveryPassIsAChainOfAllowedTransitions) {
    for (WorkerState stored : all) {
        WorkerState at = stored;
        const std::vector<WorkerState> steps = pass_from(stored);
        // A resumed step is re-entered in place, not transitioned into.
        std::size_t first = steps.front() == stored ? 1 : 0;
        for (std::size_t i = first; i < steps.size(); ++i) {
            EXPECT_TRUE(transition_allowed(at, steps[i]))
                << to_string(at) << " -> " << to_string(steps[i]);
            at = steps[i];
        }
        EXPECT_EQ(at, WorkerState::idle);
    }
}

TEST(WorkerState, RecoveryDelayDoublesUpToItsCap) {
    const RecoveryPolicy p;
    EXPECT_EQ(recovery_delay(p, 1), seconds(5));
    EXPECT_EQ(recovery_delay(p, 2), seconds(10));
    EXPECT_EQ(recovery_delay(p, 3), seconds(20));
    EXPECT_EQ(recovery_delay(p, 6), seconds(160));
    EXPECT_EQ(recovery_delay(p, 7), minutes(5));
    EXPECT_EQ(recovery_delay(p, 1000), minutes(5));
}
