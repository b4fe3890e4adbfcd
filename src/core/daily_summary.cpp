#include "orchestrator/core/daily_summary.hpp"

#include <cstdio>

namespace orchestrator::core {

namespace {

// A latency bound as people read it: 250 ms, 2.5 s, 2 min.
std::string readable_ms(std::optional<double> ms) {
    if (!ms)
        return "-";
    char buffer[32];
    if (*ms < 1000)
        std::snprintf(buffer, sizeof buffer, "%g ms", *ms);
    else if (*ms < 60000)
        std::snprintf(buffer, sizeof buffer, "%g s", *ms / 1000);
    else
        std::snprintf(buffer, sizeof buffer, "%g min", *ms / 60000);
    return buffer;
}

} // namespace

SummaryStep daily_summary_step(std::optional<TimePoint> day_seen, TimePoint current_day_start,
                               TimePoint previous_day_start) {
    if (!day_seen)
        return SummaryStep::remember_day;
    if (previous_day_start >= *day_seen)
        return SummaryStep::summarize;
    return *day_seen == current_day_start ? SummaryStep::nothing : SummaryStep::remember_day;
}

AlertCondition daily_summary_alert(const DaySummary& day) {
    const long tasks = day.tasks_succeeded + day.tasks_dead_lettered;
    char buffer[400];
    if (tasks > 0)
        std::snprintf(buffer, sizeof buffer,
                      "%s: %ld tasks finished (%.1f%% succeeded), %ld executions (%ld failed), "
                      "$%.2f spent ($%.4f per task), p95 wait %s, p95 run %s",
                      day.day.c_str(), tasks, 100.0 * day.tasks_succeeded / tasks, day.executions,
                      day.executions_failed, day.cost_usd, day.cost_usd / tasks,
                      readable_ms(day.wait_p95_ms).c_str(), readable_ms(day.run_p95_ms).c_str());
    else
        std::snprintf(buffer, sizeof buffer,
                      "%s: no tasks finished, %ld executions (%ld failed), $%.2f spent",
                      day.day.c_str(), day.executions, day.executions_failed, day.cost_usd);
    return {daily_summary_key, Severity::info, buffer, static_cast<double>(tasks),
            daily_summary_target_tasks};
}

} // namespace orchestrator::core
