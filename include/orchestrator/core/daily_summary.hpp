#pragma once
// The info-level daily summary alert (SPEC "Alerts"). The first heartbeat of a budget day raises
// one alert, `daily_summary`, with the figures of the budget day before; it stays open until the
// next day's summary supersedes (resolves) it, so at most one is open, like every condition.
// The alert rules never resolve it (alert_changes leaves it alone).
#include "orchestrator/core/alerts.hpp"
#include "orchestrator/core/pure.hpp"
#include "orchestrator/core/time.hpp"

#include <optional>
#include <string>

namespace orchestrator::core {

inline constexpr const char* daily_summary_key = "daily_summary";
// The seed's throughput target, the summary's threshold: 500 items a day.
inline constexpr double daily_summary_target_tasks = 500;

enum class SummaryStep {
    remember_day, // remember the current day without a summary: the first pass ever, or a day
                  // boundary moved by configure() (the day before would overlap one summarized)
    summarize,    // the day the last pass saw is over: summarize the one before the current day
    nothing,      // still the day the last pass saw
};

// What this pass does, given the start of the budget day the last pass saw (none before the
// first pass), and the starts of the current budget day and of the one before it. It summarizes
// when the day before began at or after the day seen, so no two summaries overlap.
SummaryStep daily_summary_step(std::optional<TimePoint> day_seen, TimePoint current_day_start,
                               TimePoint previous_day_start);

// One budget day's figures, from the metric rollups.
struct DaySummary {
    std::string day; // the day's date in the configured time zone, e.g. "2026-03-02"
    long tasks_succeeded = 0;
    long tasks_dead_lettered = 0;
    long executions = 0;
    long executions_failed = 0;
    double cost_usd = 0;
    std::optional<double> wait_p95_ms; // none when no task finished
    std::optional<double> run_p95_ms;
};

// The summary alert: severity info, value the tasks finished, threshold the seed's target.
AlertCondition daily_summary_alert(const DaySummary& day);

} // namespace orchestrator::core
