#pragma once
// The heartbeat's alerts: observations from the tables, the core's rules, the alert table and
// NOTIFY on orchestrator.alerts_channel for every alert raised or resolved.
#include "orchestrator/core/alerts.hpp"
#include "orchestrator/core/time.hpp"

#include <cstdint>
#include <string>

namespace orchestrator::pg {

// Evaluates the rules now: raises what holds and is not open, resolves what is open and no
// longer holds. Run before this pass records liveness (the silence is measured up to now).
// Returns the number of alerts raised plus resolved. SPI connected.
int evaluate_alerts_now();

// Stores `condition` as an open alert raised at `at`, with details (JSON text, or null), and
// announces it; returns its id. The condition must have no open alert. SPI connected.
std::int64_t raise_alert(const core::AlertCondition& condition, core::TimePoint at,
                         const char* details_json = nullptr);

// Resolves the open alert of `key` at `at` and announces it; returns how many it resolved (0 or
// 1). SPI connected.
int resolve_alert(const std::string& key, core::TimePoint at);

} // namespace orchestrator::pg
