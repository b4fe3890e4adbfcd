// The daily summary alert: raised by the first pass of each budget day for the day before, left
// alone by the alert rules, superseded by the next day's.
#include "orchestrator/core/daily_summary.hpp"

#include <gtest/gtest.h>

using namespace orchestrator::core;

namespace {
const TimePoint day = TimePoint(hours(24 * 20000));
} // namespace

TEST(DailySummary, TheFirstPassOnlyRemembersTheDay) {
    EXPECT_EQ(daily_summary_step(std::nullopt, day, day - hours(24)), SummaryStep::remember_day);
}

TEST(DailySummary, ANewDaySummarizesTheDayBefore) {
    EXPECT_EQ(daily_summary_step(day - hours(24), day, day - hours(24)), SummaryStep::summarize);
    // days missed: the day before the current one is summarized, once
    EXPECT_EQ(daily_summary_step(day - hours(72), day, day - hours(24)), SummaryStep::summarize);
    // a 23-hour day (daylight saving) is a day like the others
    EXPECT_EQ(daily_summary_step(day - hours(23), day, day - hours(23)), SummaryStep::summarize);
}

TEST(DailySummary, TheSameDayDoesNotSummarizeAgain) {
    EXPECT_EQ(daily_summary_step(day, day, day - hours(24)), SummaryStep::nothing);
}

TEST(DailySummary, AMovedDayBoundaryIsRememberedNotSummarized) {
    // the day start moved 5 hours later: the day before the new current day would overlap the
    // day seen, which the next new day summarizes instead
    EXPECT_EQ(daily_summary_step(day, day + hours(5), day - hours(19)), SummaryStep::remember_day);
    EXPECT_EQ(daily_summary_step(day + hours(5), day + hours(29), day + hours(5)),
              SummaryStep::summarize);
    // moved earlier: likewise
    EXPECT_EQ(daily_summary_step(day, day - hours(3), day - hours(27)), SummaryStep::remember_day);
}

TEST(DailySummary, TheAlertIsInfoWithTheDaysFigures) {
    DaySummary d;
    d.day = "2026-03-02";
    d.tasks_succeeded = 3;
    d.tasks_dead_lettered = 1;
    d.executions = 3;
    d.executions_failed = 1;
    d.cost_usd = 0.35;
    d.wait_p95_ms = 120000;
    d.run_p95_ms = 2500;
    const AlertCondition a = daily_summary_alert(d);
    EXPECT_EQ(a.key, "daily_summary");
    EXPECT_EQ(a.severity, Severity::info);
    EXPECT_DOUBLE_EQ(a.value, 4);
    EXPECT_DOUBLE_EQ(a.threshold, 500);
    EXPECT_EQ(a.message, "2026-03-02: 4 tasks finished (75.0% succeeded), 3 executions (1 failed), "
                         "$0.35 spent ($0.0875 per task), p95 wait 2 min, p95 run 2.5 s");
}

TEST(DailySummary, AQuietDaySaysSo) {
    DaySummary d;
    d.day = "2026-03-03";
    const AlertCondition a = daily_summary_alert(d);
    EXPECT_EQ(a.message, "2026-03-03: no tasks finished, 0 executions (0 failed), $0.00 spent");
    EXPECT_DOUBLE_EQ(a.value, 0);
}

TEST(DailySummary, TheRulesNeverResolveIt) {
    const AlertChanges changes = alert_changes({}, {"daily_summary", "queue_depth"});
    EXPECT_TRUE(changes.raise.empty());
    EXPECT_EQ(changes.resolve, std::vector<std::string>{"queue_depth"});
}
