#pragma once
// The configuration every dispatch and callback reads (settings, workflow types, APIs, the calls
// each type makes, breakers that are not closed), cached in each backend. A trigger on those
// tables bumps a version number in shared memory when the changing transaction commits; a
// backend reloads when the version moved, when its own transaction changed the configuration,
// or always when the library is not preloaded.
#include "orchestrator/core/time.hpp"
#include "orchestrator/pg/breakers.hpp"
#include "orchestrator/pg/governance.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace orchestrator::pg {

struct TypeConfig {
    TypeRules rules; // budget_raise holds the raise as configured; see raise_day
    std::optional<core::TimePoint> raise_day;
    bool paused = false;
    int weight_inside = 1;
    int weight_outside = 1;
    int key_limit = 1;
    core::Duration lease_timeout{};
    std::optional<Interval> max_queue_wait; // an interval: a day is a calendar day
    std::optional<std::string> webhook_url;
    std::optional<std::string> n8n_workflow_id;
};

struct ConfigSnapshot {
    Oid instance = InvalidOid; // orchestrator.config's oid: new when the extension is recreated
    GovernanceConfig config; // budget_day_start and the raise are applied per call
    core::MicroUsd budget_raise = 0;
    std::optional<core::TimePoint> budget_raise_day;
    std::vector<TypeConfig> types;
    std::vector<ApiConfig> apis;
    std::vector<BreakerRow> breakers; // every breaker with a row: not closed, or counting failures
    Oid execution_id_sequence = InvalidOid;
    Oid task_table = InvalidOid;
    Oid task_id_sequence = InvalidOid;
    Oid execution_table = InvalidOid; // workflow_orchestration
};

// The configured type of that name, or nullptr.
const TypeConfig* find_type(const ConfigSnapshot& snapshot, std::string_view name);

// The current configuration (SPI connected).
const ConfigSnapshot& config_snapshot();

// The settings as they apply at `now`: the budget day and any raise made on that day.
GovernanceConfig config_at(const ConfigSnapshot& snapshot, core::TimePoint now);

// The raise of a type's budget that applies on the budget day starting at day_start.
core::MicroUsd type_raise_at(const TypeConfig& type, core::TimePoint day_start);

// Called by the configuration tables' trigger.
void mark_config_changed();

void request_config_version_memory();

} // namespace orchestrator::pg
