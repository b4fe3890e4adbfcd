#include "orchestrator/core/budget.hpp"

#include <algorithm>

namespace orchestrator::core {

MicroUsd remaining(const BudgetPolicy& policy, const BudgetLedger& ledger, bool critical) {
    const MicroUsd left = policy.daily_limit - ledger.spent - ledger.reserved;
    return std::max<MicroUsd>(0, critical ? left : left - policy.critical_reserve);
}

bool past_soft_threshold(const BudgetPolicy& policy, const BudgetLedger& ledger) {
    return static_cast<double>(ledger.spent + ledger.reserved) >=
           policy.soft_ratio * static_cast<double>(policy.daily_limit);
}

ModelTier model_tier(const BudgetPolicy& policy, const BudgetLedger& ledger) {
    return past_soft_threshold(policy, ledger) ? ModelTier::economy : ModelTier::standard;
}


TimePoint budget_day_start(TimePoint now, int start_hour, const UtcOffset& offset) {
    const std::int64_t now_s = std::chrono::duration_cast<seconds>(now.time_since_epoch()).count();
    const std::int64_t start_offset = static_cast<std::int64_t>(start_hour) * 3600;
    const std::int64_t local_now = now_s + offset(now);
    std::int64_t local_start =
        floor_div(local_now - start_offset, seconds_per_day) * seconds_per_day + start_offset;
    std::int64_t start = local_to_utc(local_start, offset);
    if (start > now_s) // now is in the local hour before the day's start: the previous day
        start = local_to_utc(local_start - seconds_per_day, offset);
    return TimePoint(seconds(start));
}


} // namespace orchestrator::core
