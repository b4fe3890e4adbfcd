#include "orchestrator/core/budget.hpp"

#include <algorithm>

namespace orchestrator::core {

namespace {
constexpr std::int64_t seconds_per_day = 86400;

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}
} // namespace

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

namespace {
// The UTC instant of a local wall-clock time. Where the time occurs twice (clocks going back)
// it is the first occurrence; where it does not occur (clocks going forward) it is the end of
// the gap. The offsets 14 hours either side are those in force before and after any change.
std::int64_t local_to_utc(std::int64_t local, const UtcOffset& offset) {
    const std::int64_t before = offset(TimePoint(seconds(local - 14 * 3600)));
    const std::int64_t after = offset(TimePoint(seconds(local + 14 * 3600)));
    const std::int64_t first = local - std::max(before, after);
    const std::int64_t second = local - std::min(before, after);
    if (offset(TimePoint(seconds(first))) == std::max(before, after))
        return first;
    if (offset(TimePoint(seconds(second))) == std::min(before, after))
        return second;
    return local - before; // in the gap
}
} // namespace

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
