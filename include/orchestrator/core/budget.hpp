#pragma once
#include "orchestrator/core/local_time.hpp"
#include "orchestrator/core/pure.hpp"
#include "orchestrator/core/time.hpp"

#include <cstdint>
#include <functional>

namespace orchestrator::core {

enum class ModelTier { standard, economy };

// Money in millionths of a dollar: sums are exact, so spend plus reservations can be held to the
// limit to the last micro-dollar.
using MicroUsd = std::int64_t;
inline constexpr MicroUsd micro_usd_per_usd = 1'000'000;

// A daily budget. Past soft_ratio of the limit batches are halved and the economy tier is used.
// The last critical_reserve of the limit is kept for tasks of critical_priority or above
// (11: no task is critical), so at the limit only critical work runs, or none.
struct BudgetPolicy {
    MicroUsd daily_limit = 500 * micro_usd_per_usd;
    double soft_ratio = 0.8;
    int critical_priority = 11;
    MicroUsd critical_reserve = 0;
};

// Money for the current budget day: settled spend plus reservations of running executions.
// (A raise for the rest of the day is part of the policy's limit on that day.)
struct BudgetLedger {
    MicroUsd spent = 0;
    MicroUsd reserved = 0;
    std::int64_t day_start_us = 0;
};

// What may still be reserved: by critical work, or by any work.
MicroUsd remaining(const BudgetPolicy& policy, const BudgetLedger& ledger, bool critical);
bool past_soft_threshold(const BudgetPolicy& policy, const BudgetLedger& ledger);
ModelTier model_tier(const BudgetPolicy& policy, const BudgetLedger& ledger);


// The start of the budget day containing `now`: the most recent local `start_hour`:00.
// Days are 23 or 25 hours long across a DST change.
TimePoint budget_day_start(TimePoint now, int start_hour, const UtcOffset& offset);


} // namespace orchestrator::core
