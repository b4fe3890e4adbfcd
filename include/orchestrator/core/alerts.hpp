#pragma once
// Alert rules (SPEC "Alerts"). Critical: the worker silent for 2 minutes, the budget exceeded,
// an error rate over 10%. Warning: queue depth over 500, an API over 80% of its limit, an
// execution running over 5 minutes. Each condition has a stable key, so at most one alert per
// condition is open: a condition that holds and has no open alert is raised, an open alert whose
// condition no longer holds is resolved.
#include "orchestrator/core/pure.hpp"
#include "orchestrator/core/time.hpp"

#include <optional>
#include <string>
#include <vector>

namespace orchestrator::core {

enum class Severity { info, warning, critical };
const char* to_string(Severity severity);

struct AlertPolicy {
    Duration worker_silence = minutes(2);
    double error_rate = 0.10;       // of the attempts finished in the window
    int error_rate_min_attempts = 20; // fewer attempts say too little to alert on
    long queue_depth = 500;
    double api_utilization = 0.80;
    Duration long_execution = minutes(5);
};

struct ApiLoad {
    std::string name;
    int calls_last_minute = 0;
    int calls_per_minute = 0;
};

// What the orchestrator sees now.
struct Observations {
    std::optional<Duration> worker_silent_for; // since the last liveness record; none: never
    double budget_spent_usd = 0;               // spent and reserved today
    double budget_limit_usd = 0;
    int attempts_finished = 0; // in the error-rate window
    int attempts_failed = 0;
    long queue_depth = 0; // ready tasks
    std::vector<ApiLoad> apis;
    int long_executions = 0;   // running longer than the policy allows
    Duration longest_running{}; // the oldest running execution's age
};

struct AlertCondition {
    std::string key; // "worker_silent", "budget_exceeded", "error_rate", "queue_depth",
                     // "api_utilization:<name>", "long_execution"
    Severity severity = Severity::warning;
    std::string message;
    double value = 0;
    double threshold = 0;
};

// The conditions that hold now.
std::vector<AlertCondition> evaluate_alerts(const AlertPolicy& policy, const Observations& seen);

struct AlertChanges {
    std::vector<AlertCondition> raise;
    std::vector<std::string> resolve; // keys of open alerts whose condition is gone
};

// Compares what holds with the keys of the open alerts. Open alerts the rules do not decide (the
// daily summary, see daily_summary.hpp) are never resolved here.
AlertChanges alert_changes(const std::vector<AlertCondition>& holding,
                           const std::vector<std::string>& open_keys);

} // namespace orchestrator::core
