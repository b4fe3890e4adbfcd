#pragma once
// Dates and time zones for the unit tests: instants from calendar dates, and a fake
// Europe/Berlin for 2026 (CET, +1 h, until 2026-03-29 01:00 UTC; CEST, +2 h, until
// 2026-10-25 01:00 UTC; CET again after).
#include "orchestrator/core/local_time.hpp"

#include <cstdint>

namespace orchestrator::test_time {

using core::TimePoint;
using core::UtcOffset;

// Days since 1970-01-01 of a proleptic Gregorian date, worked out independently of
// core::civil_from_days (which it checks).
inline std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

inline TimePoint utc(int y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0) {
    return TimePoint(core::seconds(days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s));
}

inline const TimePoint spring_change = utc(2026, 3, 29, 1);
inline const TimePoint autumn_change = utc(2026, 10, 25, 1);
inline const UtcOffset berlin = [](TimePoint t) -> std::int64_t {
    return (t >= spring_change && t < autumn_change) ? 7200 : 3600;
};

} // namespace orchestrator::test_time
