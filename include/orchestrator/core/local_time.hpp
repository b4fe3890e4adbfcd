#pragma once
// Local wall-clock time in a time zone whose offsets the server supplies.
#include "orchestrator/core/pure.hpp"
#include "orchestrator/core/time.hpp"

#include <cstdint>
#include <functional>

namespace orchestrator::core {

// The UTC offset at an instant, in seconds east of Greenwich (the server supplies its time zone
// database; tests supply fixed transitions).
using UtcOffset = std::function<std::int64_t(TimePoint)>;

constexpr std::int64_t seconds_per_day = 86400;

// Division rounding towards minus infinity.
inline std::int64_t floor_div(std::int64_t a, std::int64_t b) {
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

// The UTC instant (seconds since the epoch) of a local wall-clock time (seconds since the local
// epoch). Where the time occurs twice (clocks going back) it is the first occurrence; where it
// does not occur (clocks going forward) it is read on the clock before the change, as PostgreSQL
// reads it (02:30 in a 02:00-03:00 gap is 03:30 on the new clock).
std::int64_t local_to_utc(std::int64_t local, const UtcOffset& offset);

struct CivilDate {
    int year;
    int month; // 1..12
    int day;   // 1..31
};

// The calendar date of a day counted from 1970-01-01 (proleptic Gregorian).
CivilDate civil_from_days(std::int64_t days);

// 0 Sunday ... 6 Saturday.
int weekday_from_days(std::int64_t days);

} // namespace orchestrator::core
