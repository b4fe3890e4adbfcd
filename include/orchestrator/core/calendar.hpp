#pragma once
#include "orchestrator/core/budget.hpp"
#include "orchestrator/core/pure.hpp"
#include "orchestrator/core/time.hpp"

#include <cstdint>

namespace orchestrator::core {

// A weekly window in local time: days_mask bit 0 is Monday ... bit 6 Sunday; the window runs
// from start_minute to end_minute after local midnight (end < start wraps past midnight, so a
// Friday 22:00-02:00 window covers early Saturday).
struct BusinessHours {
    std::uint8_t days_mask = 0b0011111; // Monday to Friday
    int start_minute = 9 * 60;
    int end_minute = 18 * 60;
};

bool within_business_hours(const BusinessHours& hours, TimePoint now, const UtcOffset& offset);

// A type's weight inside and outside business hours.
int weight_now(int weight_inside, int weight_outside, bool inside);

} // namespace orchestrator::core
