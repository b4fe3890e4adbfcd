#include "orchestrator/core/local_time.hpp"

#include <algorithm>

namespace orchestrator::core {

std::int64_t local_to_utc(std::int64_t local, const UtcOffset& offset) {
    // The offsets 14 hours either side are those in force before and after any change.
    const std::int64_t before = offset(TimePoint(seconds(local - 14 * 3600)));
    const std::int64_t after = offset(TimePoint(seconds(local + 14 * 3600)));
    const std::int64_t first = local - std::max(before, after);
    const std::int64_t second = local - std::min(before, after);
    if (offset(TimePoint(seconds(first))) == std::max(before, after))
        return first;
    if (offset(TimePoint(seconds(second))) == std::min(before, after))
        return second;
    return local - before; // in the gap: on the clock before the change
}

CivilDate civil_from_days(std::int64_t days) {
    // Counted in 400-year eras starting on March 1st, so that February is the era's last month.
    const std::int64_t shifted = days + 719468; // days from 0000-03-01
    const std::int64_t era = floor_div(shifted, 146097);
    const std::int64_t day_of_era = shifted - era * 146097;
    const std::int64_t year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
    const std::int64_t day_of_year =
        day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    const std::int64_t march_based_month = (5 * day_of_year + 2) / 153;
    const int day = static_cast<int>(day_of_year - (153 * march_based_month + 2) / 5 + 1);
    const int month = static_cast<int>(march_based_month < 10 ? march_based_month + 3
                                                              : march_based_month - 9);
    const int year = static_cast<int>(year_of_era + era * 400 + (month <= 2 ? 1 : 0));
    return {year, month, day};
}

int weekday_from_days(std::int64_t days) {
    const std::int64_t from_sunday = days + 4; // 1970-01-01 was a Thursday
    return static_cast<int>(from_sunday - 7 * floor_div(from_sunday, 7));
}

} // namespace orchestrator::core
