#pragma once
// The dispatch decision for one workflow type: how many tasks its next execution may take, at
// which model tier, and what limited it. Fed a snapshot of every limit; pure and exhaustive.
#include "orchestrator/core/batch.hpp"
#include "orchestrator/core/budget.hpp"
#include "orchestrator/core/pure.hpp"

#include <optional>
#include <string>
#include <vector>

namespace orchestrator::core {

struct ApiDemand {
    std::string name;
    int calls_per_task = 1;
    int calls_available = 0;
    bool breaker_allows = true;
};

struct TypeDemand {
    std::string name;
    int batch_min = 1;
    int batch_max = 1;
    int running = 0;
    std::optional<int> max_concurrent;
    int connections_per_execution = 0;
    int memory_mb_per_execution = 0;
    MicroUsd cost_per_task = 0;
    std::optional<MicroUsd> type_budget_remaining; // nothing: the type has no budget of its own
    bool breaker_allows = true;
    std::vector<ApiDemand> apis;
};

struct SystemCapacity {
    int connections_free = 0;
    int memory_mb_free = 0;
    MicroUsd budget_remaining = 0;          // for any task
    MicroUsd budget_remaining_critical = 0; // for critical tasks
    int critical_priority = 11;
    bool past_soft_threshold = false;
};

struct ExecutionPlan {
    BatchGrant grant;              // grant.max_tasks == 0: nothing now, grant.limited_by says why
    ModelTier tier = ModelTier::standard;
    int min_priority = 1;          // critical_priority when only critical work fits the budget
};

ExecutionPlan plan_execution(const TypeDemand& type, const SystemCapacity& system);

// How many of these tasks (best first) fit the budget reserved for them, taken in order.
int tasks_within(const std::vector<MicroUsd>& costs, MicroUsd budget);

} // namespace orchestrator::core
