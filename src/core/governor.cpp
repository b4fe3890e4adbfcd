#include "orchestrator/core/governor.hpp"

#include <algorithm>
#include <limits>

namespace orchestrator::core {

namespace {
constexpr int unlimited = std::numeric_limits<int>::max();

int affordable(MicroUsd budget, MicroUsd cost_per_task) {
    if (cost_per_task <= 0)
        return unlimited;
    const MicroUsd n = budget / cost_per_task;
    return n > unlimited ? unlimited : static_cast<int>(n);
}
} // namespace

ExecutionPlan plan_execution(const TypeDemand& type, const SystemCapacity& system) {
    ExecutionPlan plan;
    std::vector<BatchLimit> limits{{type.batch_max, "batch_max"}};
    if (system.past_soft_threshold) {
        plan.tier = ModelTier::economy;
        limits.push_back({std::max(type.batch_min, (type.batch_max + 1) / 2), "budget:soft"});
    }
    if (!type.breaker_allows)
        limits.push_back({0, "breaker:" + type.name});
    for (const ApiDemand& api : type.apis) {
        if (!api.breaker_allows)
            limits.push_back({0, "breaker:api:" + api.name});
        limits.push_back({api.calls_per_task > 0 ? api.calls_available / api.calls_per_task
                                                 : unlimited,
                          "api:" + api.name});
    }
    if (type.max_concurrent && type.running >= *type.max_concurrent)
        limits.push_back({0, "concurrency:" + type.name});
    if (system.connections_free < type.connections_per_execution)
        limits.push_back({0, "connections"});
    if (system.memory_mb_free < type.memory_mb_per_execution)
        limits.push_back({0, "memory"});

    int by_budget = affordable(system.budget_remaining, type.cost_per_task);
    if (by_budget == 0 && system.critical_priority <= 10) {
        by_budget = affordable(system.budget_remaining_critical, type.cost_per_task);
        if (by_budget > 0)
            plan.min_priority = system.critical_priority;
    }
    limits.push_back({by_budget, "budget"});
    if (type.type_budget_remaining)
        limits.push_back({affordable(*type.type_budget_remaining, type.cost_per_task),
                          "budget:" + type.name});
    plan.grant = grant_batch(limits);
    return plan;
}

int tasks_within(const std::vector<MicroUsd>& costs, MicroUsd budget) {
    int n = 0;
    MicroUsd total = 0;
    for (MicroUsd c : costs) {
        if (total + c > budget)
            break;
        total += c;
        ++n;
    }
    return n;
}

} // namespace orchestrator::core
