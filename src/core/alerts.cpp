#include "orchestrator/core/alerts.hpp"

#include "orchestrator/core/daily_summary.hpp"

#include <algorithm>
#include <cstdio>

namespace orchestrator::core {

namespace {
std::string format(const char* pattern, double a, double b) {
    char buffer[160];
    std::snprintf(buffer, sizeof buffer, pattern, a, b);
    return buffer;
}
} // namespace

const char* to_string(Severity severity) {
    switch (severity) {
    case Severity::info: return "info";
    case Severity::warning: return "warning";
    case Severity::critical: return "critical";
    }
    return "warning";
}

std::vector<AlertCondition> evaluate_alerts(const AlertPolicy& policy, const Observations& seen) {
    std::vector<AlertCondition> holding;
    const double silence_limit = to_seconds(policy.worker_silence);
    if (seen.worker_silent_for && *seen.worker_silent_for >= policy.worker_silence)
        holding.push_back({"worker_silent", Severity::critical,
                           format("the orchestrator has been silent for %.0f s (limit %.0f s)",
                                  to_seconds(*seen.worker_silent_for), silence_limit),
                           to_seconds(*seen.worker_silent_for), silence_limit});
    if (seen.budget_limit_usd > 0 && seen.budget_spent_usd >= seen.budget_limit_usd)
        holding.push_back({"budget_exceeded", Severity::critical,
                           format("today's spend $%.2f has reached the budget of $%.2f",
                                  seen.budget_spent_usd, seen.budget_limit_usd),
                           seen.budget_spent_usd, seen.budget_limit_usd});
    if (seen.attempts_finished >= policy.error_rate_min_attempts && seen.attempts_finished > 0) {
        const double rate = static_cast<double>(seen.attempts_failed) / seen.attempts_finished;
        if (rate > policy.error_rate)
            holding.push_back({"error_rate", Severity::critical,
                               format("%.1f%% of recent attempts failed (limit %.1f%%)",
                                      rate * 100, policy.error_rate * 100),
                               rate, policy.error_rate});
    }
    if (seen.queue_depth > policy.queue_depth)
        holding.push_back({"queue_depth", Severity::warning,
                           format("%.0f tasks are ready to run (limit %.0f)",
                                  static_cast<double>(seen.queue_depth),
                                  static_cast<double>(policy.queue_depth)),
                           static_cast<double>(seen.queue_depth),
                           static_cast<double>(policy.queue_depth)});
    for (const ApiLoad& api : seen.apis) {
        if (api.calls_per_minute <= 0)
            continue;
        const double use = static_cast<double>(api.calls_last_minute) / api.calls_per_minute;
        if (use > policy.api_utilization)
            holding.push_back({"api_utilization:" + api.name, Severity::warning,
                               api.name + format(" used %.0f%% of its limit in the last minute "
                                                 "(limit %.0f%%)",
                                                 use * 100, policy.api_utilization * 100),
                               use, policy.api_utilization});
    }
    if (seen.long_executions > 0)
        holding.push_back(
            {"long_execution", Severity::warning,
             format("%.0f execution(s) have run longer than %.0f s",
                    static_cast<double>(seen.long_executions), to_seconds(policy.long_execution)),
             to_seconds(seen.longest_running), to_seconds(policy.long_execution)});
    return holding;
}

AlertChanges alert_changes(const std::vector<AlertCondition>& holding,
                           const std::vector<std::string>& open_keys) {
    AlertChanges changes;
    for (const AlertCondition& c : holding)
        if (std::find(open_keys.begin(), open_keys.end(), c.key) == open_keys.end())
            changes.raise.push_back(c);
    for (const std::string& key : open_keys)
        if (key != daily_summary_key &&
            std::none_of(holding.begin(), holding.end(),
                         [&key](const AlertCondition& c) { return c.key == key; }))
            changes.resolve.push_back(key);
    return changes;
}

} // namespace orchestrator::core
