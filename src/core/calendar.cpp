#include "orchestrator/core/calendar.hpp"

namespace orchestrator::core {

namespace {
bool day_in(const BusinessHours& hours, std::int64_t day_number) {
    const int monday_based = (weekday_from_days(day_number) + 6) % 7;
    return (hours.days_mask >> monday_based) & 1;
}
} // namespace

bool within_business_hours(const BusinessHours& hours, TimePoint now, const UtcOffset& offset) {
    const std::int64_t local =
        std::chrono::duration_cast<seconds>(now.time_since_epoch()).count() + offset(now);
    const std::int64_t day = floor_div(local, seconds_per_day);
    const int minute = static_cast<int>((local - day * seconds_per_day) / 60);
    if (hours.start_minute == hours.end_minute)
        return day_in(hours, day);
    if (hours.start_minute < hours.end_minute)
        return day_in(hours, day) && minute >= hours.start_minute && minute < hours.end_minute;
    return (day_in(hours, day) && minute >= hours.start_minute) ||
           (day_in(hours, day - 1) && minute < hours.end_minute);
}

int weight_now(int weight_inside, int weight_outside, bool inside) {
    return inside ? weight_inside : weight_outside;
}

} // namespace orchestrator::core
