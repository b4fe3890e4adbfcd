// Alerts (SPEC "Alerts"): the seed's rules and thresholds, one open alert per condition.
#include "orchestrator/core/alerts.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace orchestrator::core;

namespace {
std::vector<std::string> keys(const std::vector<AlertCondition>& conditions) {
    std::vector<std::string> k;
    for (const AlertCondition& c : conditions)
        k.push_back(c.key);
    return k;
}
const AlertPolicy policy;
} // namespace

TEST(Alerts, DefaultsAreTheSeedsThresholds) {
    EXPECT_EQ(policy.worker_silence, minutes(2));
    EXPECT_DOUBLE_EQ(policy.error_rate, 0.10);
    EXPECT_EQ(policy.queue_depth, 500);
    EXPECT_DOUBLE_EQ(policy.api_utilization, 0.80);
    EXPECT_EQ(policy.long_execution, minutes(5));
}

TEST(Alerts, NothingHoldsOnAQuietSystem) {
    Observations seen;
    seen.worker_silent_for = seconds(10);
    seen.budget_limit_usd = 500;
    EXPECT_TRUE(evaluate_alerts(policy, seen).empty());
}

TEST(Alerts, WorkerSilentForTwoMinutesIsCritical) {
    Observations seen;
    seen.worker_silent_for = seconds(119);
    EXPECT_TRUE(evaluate_alerts(policy, seen).empty());
    seen.worker_silent_for = seconds(120);
    const auto holding = evaluate_alerts(policy, seen);
    ASSERT_EQ(keys(holding), std::vector<std::string>{"worker_silent"});
    EXPECT_EQ(holding[0].severity, Severity::critical);
    EXPECT_DOUBLE_EQ(holding[0].value, 120);
    EXPECT_DOUBLE_EQ(holding[0].threshold, 120);
    EXPECT_EQ(holding[0].message, "the orchestrator has been silent for 120 s (limit 120 s)");
}

TEST(Alerts, NeverAliveIsNotSilence) {
    Observations seen; // no liveness record yet: nothing has run, nothing to miss
    EXPECT_TRUE(evaluate_alerts(policy, seen).empty());
}

TEST(Alerts, BudgetReachedIsCritical) {
    Observations seen;
    seen.budget_limit_usd = 500;
    seen.budget_spent_usd = 499.99;
    EXPECT_TRUE(evaluate_alerts(policy, seen).empty());
    seen.budget_spent_usd = 500;
    const auto holding = evaluate_alerts(policy, seen);
    ASSERT_EQ(keys(holding), std::vector<std::string>{"budget_exceeded"});
    EXPECT_EQ(holding[0].message, "today's spend $500.00 has reached the budget of $500.00");
    seen.budget_limit_usd = 0; // no budget set: nothing to exceed
    EXPECT_TRUE(evaluate_alerts(policy, seen).empty());
}

TEST(Alerts, ErrorRateOverTenPercentOfEnoughAttempts) {
    Observations seen;
    seen.attempts_finished = 100;
    seen.attempts_failed = 10; // exactly 10%: not over
    EXPECT_TRUE(evaluate_alerts(policy, seen).empty());
    seen.attempts_failed = 11;
    const auto holding = evaluate_alerts(policy, seen);
    ASSERT_EQ(keys(holding), std::vector<std::string>{"error_rate"});
    EXPECT_EQ(holding[0].severity, Severity::critical);
    EXPECT_DOUBLE_EQ(holding[0].value, 0.11);
    // too few attempts to judge: 5 of 10 failed
    seen.attempts_finished = 10;
    seen.attempts_failed = 5;
    EXPECT_TRUE(evaluate_alerts(policy, seen).empty());
}

TEST(Alerts, QueueDepthOverFiveHundredIsAWarning) {
    Observations seen;
    seen.queue_depth = 500;
    EXPECT_TRUE(evaluate_alerts(policy, seen).empty());
    seen.queue_depth = 501;
    const auto holding = evaluate_alerts(policy, seen);
    ASSERT_EQ(keys(holding), std::vector<std::string>{"queue_depth"});
    EXPECT_EQ(holding[0].severity, Severity::warning);
    EXPECT_EQ(holding[0].message, "501 tasks are ready to run (limit 500)");
}

TEST(Alerts, EachApiOverEightyPercentHasItsOwnCondition) {
    Observations seen;
    seen.apis = {{"gemini", 48, 60}, {"openai", 41, 50}, {"idle", 0, 0}};
    // gemini at exactly 80%: not over; openai at 82%
    auto holding = evaluate_alerts(policy, seen);
    ASSERT_EQ(keys(holding), std::vector<std::string>{"api_utilization:openai"});
    EXPECT_EQ(holding[0].message, "openai used 82% of its limit in the last minute (limit 80%)");
    seen.apis[0].calls_last_minute = 49;
    holding = evaluate_alerts(policy, seen);
    EXPECT_EQ(keys(holding),
              (std::vector<std::string>{"api_utilization:gemini", "api_utilization:openai"}));
}

TEST(Alerts, LongExecutionsAreAWarningWithTheOldestAge) {
    Observations seen;
    seen.long_executions = 2;
    seen.longest_running = minutes(7);
    const auto holding = evaluate_alerts(policy, seen);
    ASSERT_EQ(keys(holding), std::vector<std::string>{"long_execution"});
    EXPECT_DOUBLE_EQ(holding[0].value, 420);
    EXPECT_EQ(holding[0].message, "2 execution(s) have run longer than 300 s");
}

TEST(AlertChanges, RaisesNewConditionsResolvesGoneOnesKeepsOpenOnes) {
    Observations seen;
    seen.queue_depth = 900;
    seen.budget_limit_usd = 10;
    seen.budget_spent_usd = 12;
    const auto changes =
        alert_changes(evaluate_alerts(policy, seen), {"queue_depth", "worker_silent"});
    EXPECT_EQ(keys(changes.raise), std::vector<std::string>{"budget_exceeded"});
    EXPECT_EQ(changes.resolve, std::vector<std::string>{"worker_silent"});
}

TEST(AlertChanges, NothingChangesWhenOpenAlertsMatch) {
    Observations seen;
    seen.queue_depth = 900;
    const auto changes = alert_changes(evaluate_alerts(policy, seen), {"queue_depth"});
    EXPECT_TRUE(changes.raise.empty());
    EXPECT_TRUE(changes.resolve.empty());
}

TEST(Alerts, SeverityNames) {
    EXPECT_STREQ(to_string(Severity::info), "info");
    EXPECT_STREQ(to_string(Severity::warning), "warning");
    EXPECT_STREQ(to_string(Severity::critical), "critical");
}
