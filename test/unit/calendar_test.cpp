// Scheduling (SPEC "Scheduling"): business hours (days, hours, time zone) change each type's
// weight. Windows are in local time; one that ends before it starts wraps past midnight and
// belongs to the day it started on.
#include "orchestrator/core/calendar.hpp"

#include "test_time.hpp"

#include <gtest/gtest.h>

#include <cstdint>

namespace {

using namespace orchestrator::core;
using namespace orchestrator::test_time;


UtcOffset fixed(std::int64_t offset_s) {
    return [offset_s](TimePoint) { return offset_s; };
}

// Local wall time in a fixed-offset zone, as an instant.
TimePoint local(std::int64_t offset_s, int y, unsigned mo, unsigned d, int h, int mi = 0,
                int s = 0) {
    return utc(y, mo, d, h, mi, s) - seconds(offset_s);
}

constexpr std::int64_t est = -5 * 3600; // a fixed UTC-5 zone
// 2026-01-05 is a Monday; 01-09 Friday, 01-10 Saturday, 01-11 Sunday.


constexpr std::uint8_t monday = 1 << 0;
constexpr std::uint8_t thursday = 1 << 3;
constexpr std::uint8_t friday = 1 << 4;
constexpr std::uint8_t sunday = 1 << 6;

TEST(Calendar, DefaultIsMondayToFridayNineToEighteen) {
    const BusinessHours h;
    EXPECT_EQ(h.days_mask, 0b0011111);
    EXPECT_EQ(h.start_minute, 9 * 60);
    EXPECT_EQ(h.end_minute, 18 * 60);
}

TEST(Calendar, BusinessHoursEdgesInAFixedOffsetZone) {
    const BusinessHours h;
    const UtcOffset z = fixed(est);
    EXPECT_FALSE(within_business_hours(h, local(est, 2026, 1, 5, 8, 59), z));
    EXPECT_FALSE(within_business_hours(h, local(est, 2026, 1, 5, 8, 59, 59), z));
    EXPECT_TRUE(within_business_hours(h, local(est, 2026, 1, 5, 9, 0), z));
    EXPECT_TRUE(within_business_hours(h, local(est, 2026, 1, 5, 17, 59), z));
    EXPECT_TRUE(within_business_hours(h, local(est, 2026, 1, 5, 17, 59, 59), z));
    EXPECT_FALSE(within_business_hours(h, local(est, 2026, 1, 5, 18, 0), z));
}

TEST(Calendar, TheZoneOffsetDecidesNotUtc) {
    const BusinessHours h;
    // 13:59 UTC on a Monday is 08:59 in UTC-5: outside; 14:00 UTC is 09:00 there.
    EXPECT_FALSE(within_business_hours(h, utc(2026, 1, 5, 13, 59), fixed(est)));
    EXPECT_TRUE(within_business_hours(h, utc(2026, 1, 5, 13, 59), fixed(0)));
    EXPECT_TRUE(within_business_hours(h, utc(2026, 1, 5, 14, 0), fixed(est)));
    // Half-hour zone: 09:00 in UTC+5:30 is 03:30 UTC.
    const std::int64_t ist = 5 * 3600 + 30 * 60;
    EXPECT_FALSE(within_business_hours(h, utc(2026, 1, 5, 3, 29), fixed(ist)));
    EXPECT_TRUE(within_business_hours(h, utc(2026, 1, 5, 3, 30), fixed(ist)));
}

TEST(Calendar, EveryWeekdayAtNoonIsInsideAndTheWeekendOutside) {
    const BusinessHours h;
    const UtcOffset z = fixed(est);
    for (unsigned d = 5; d <= 9; ++d)
        EXPECT_TRUE(within_business_hours(h, local(est, 2026, 1, d, 12), z)) << "Jan " << d;
    EXPECT_FALSE(within_business_hours(h, local(est, 2026, 1, 10, 12), z)); // Saturday
    EXPECT_FALSE(within_business_hours(h, local(est, 2026, 1, 11, 12), z)); // Sunday
    EXPECT_FALSE(within_business_hours(h, local(est, 2026, 1, 10, 9), z));
    EXPECT_FALSE(within_business_hours(h, local(est, 2026, 1, 11, 17, 59), z));
}

TEST(Calendar, LocalWeekdayDiffersFromUtcWeekday) {
    const BusinessHours h;
    // Friday 17:30 in UTC-8 is Saturday 01:30 UTC: inside (Friday locally).
    const std::int64_t pst = -8 * 3600;
    EXPECT_TRUE(within_business_hours(h, utc(2026, 1, 10, 1, 30), fixed(pst)));
    EXPECT_FALSE(within_business_hours(h, utc(2026, 1, 10, 1, 30), fixed(0)));
    // Monday 10:00 in UTC+14 is Sunday 20:00 UTC: inside (Monday locally).
    const std::int64_t kiribati = 14 * 3600;
    EXPECT_TRUE(within_business_hours(h, utc(2026, 1, 4, 20), fixed(kiribati)));
    EXPECT_FALSE(within_business_hours(h, utc(2026, 1, 4, 20), fixed(0))); // Sunday in UTC
    // Saturday 10:00 in UTC+14 is Friday 20:00 UTC: outside.
    EXPECT_FALSE(within_business_hours(h, utc(2026, 1, 9, 20), fixed(kiribati)));
}

TEST(Calendar, WindowAcrossMidnightCountsEarlySaturdayForFriday) {
    BusinessHours h;
    h.days_mask = friday;
    h.start_minute = 22 * 60;
    h.end_minute = 2 * 60;
    const UtcOffset z = fixed(est);
    EXPECT_FALSE(within_business_hours(h, local(est, 2026, 1, 9, 21, 59), z));
    EXPECT_TRUE(within_business_hours(h, local(est, 2026, 1, 9, 22, 0), z));
    EXPECT_TRUE(within_business_hours(h, local(est, 2026, 1, 9, 23, 59, 59), z));
    EXPECT_TRUE(within_business_hours(h, local(est, 2026, 1, 10, 0, 0), z));
    EXPECT_TRUE(within_business_hours(h, local(est, 2026, 1, 10, 1, 59), z));
    EXPECT_FALSE(within_business_hours(h, local(est, 2026, 1, 10, 2, 0), z));
    // Early Friday belongs to Thursday night's window, and Thursday is not in the mask.
    EXPECT_FALSE(within_business_hours(h, local(est, 2026, 1, 9, 0, 30), z));
    EXPECT_FALSE(within_business_hours(h, local(est, 2026, 1, 9, 1, 59), z));
    // Saturday night is not a window either, nor early Sunday.
    EXPECT_FALSE(within_business_hours(h, local(est, 2026, 1, 10, 22, 0), z));
    EXPECT_FALSE(within_business_hours(h, local(est, 2026, 1, 11, 1, 0), z));
    // Midday Friday and Saturday are outside.
    EXPECT_FALSE(within_business_hours(h, local(est, 2026, 1, 9, 12), z));
    EXPECT_FALSE(within_business_hours(h, local(est, 2026, 1, 10, 12), z));
}

TEST(Calendar, WindowAcrossMidnightOnThursdayCountsEarlyFriday) {
    BusinessHours h;
    h.days_mask = thursday;
    h.start_minute = 22 * 60;
    h.end_minute = 2 * 60;
    const UtcOffset z = fixed(0);
    EXPECT_TRUE(within_business_hours(h, utc(2026, 1, 9, 0, 30), z));
    EXPECT_FALSE(within_business_hours(h, utc(2026, 1, 10, 0, 30), z));
}

TEST(Calendar, SundayNightWindowWrapsIntoMondayAcrossTheWeek) {
    BusinessHours h;
    h.days_mask = sunday;
    h.start_minute = 23 * 60;
    h.end_minute = 60;
    const UtcOffset z = fixed(0);
    EXPECT_TRUE(within_business_hours(h, utc(2026, 1, 11, 23, 30), z));  // Sunday
    EXPECT_TRUE(within_business_hours(h, utc(2026, 1, 12, 0, 30), z));   // early Monday
    EXPECT_FALSE(within_business_hours(h, utc(2026, 1, 12, 1, 0), z));   // window over
    EXPECT_FALSE(within_business_hours(h, utc(2026, 1, 11, 0, 30), z));  // early Sunday
    EXPECT_FALSE(within_business_hours(h, utc(2026, 1, 12, 23, 30), z)); // Monday night
}

TEST(Calendar, EqualStartAndEndMeansTheWholeDay) {
    BusinessHours h;
    h.days_mask = monday;
    h.start_minute = 0;
    h.end_minute = 0;
    const UtcOffset z = fixed(est);
    EXPECT_TRUE(within_business_hours(h, local(est, 2026, 1, 5, 0, 0), z));
    EXPECT_TRUE(within_business_hours(h, local(est, 2026, 1, 5, 23, 59, 59), z));
    EXPECT_FALSE(within_business_hours(h, local(est, 2026, 1, 6, 0, 0), z));
    EXPECT_FALSE(within_business_hours(h, local(est, 2026, 1, 4, 23, 59, 59), z));
}

TEST(Calendar, EmptyMaskIsNeverInside) {
    BusinessHours h;
    h.days_mask = 0;
    for (unsigned d = 5; d <= 11; ++d)
        EXPECT_FALSE(within_business_hours(h, utc(2026, 1, d, 12), fixed(0))) << "Jan " << d;
}

TEST(Calendar, WeekdaysBeforeTheEpochAreRight) {
    // 1969-12-29 was a Monday, 1969-12-28 a Sunday.
    const BusinessHours h;
    EXPECT_TRUE(within_business_hours(h, utc(1969, 12, 29, 10), fixed(0)));
    EXPECT_FALSE(within_business_hours(h, utc(1969, 12, 29, 8, 59), fixed(0)));
    EXPECT_FALSE(within_business_hours(h, utc(1969, 12, 28, 10), fixed(0)));
    EXPECT_TRUE(within_business_hours(h, utc(1970, 1, 1, 10), fixed(0)));  // Thursday
    EXPECT_FALSE(within_business_hours(h, utc(1970, 1, 3, 10), fixed(0))); // Saturday
}

TEST(Calendar, SpringForwardMovesTheUtcStartOfBusinessHoursAnHourEarlier) {
    const BusinessHours h;
    // Friday 2026-03-27 (CET): 09:00 local = 08:00 UTC.
    EXPECT_FALSE(within_business_hours(h, utc(2026, 3, 27, 7, 59), berlin));
    EXPECT_TRUE(within_business_hours(h, utc(2026, 3, 27, 8, 0), berlin));
    EXPECT_TRUE(within_business_hours(h, utc(2026, 3, 27, 16, 59), berlin));
    EXPECT_FALSE(within_business_hours(h, utc(2026, 3, 27, 17, 0), berlin));
    // Monday 2026-03-30 (CEST): 09:00 local = 07:00 UTC, 18:00 local = 16:00 UTC.
    EXPECT_FALSE(within_business_hours(h, utc(2026, 3, 30, 6, 59), berlin));
    EXPECT_TRUE(within_business_hours(h, utc(2026, 3, 30, 7, 0), berlin));
    EXPECT_TRUE(within_business_hours(h, utc(2026, 3, 30, 15, 59), berlin));
    EXPECT_FALSE(within_business_hours(h, utc(2026, 3, 30, 16, 0), berlin));
}

TEST(Calendar, FallBackMovesTheUtcStartOfBusinessHoursAnHourLater) {
    const BusinessHours h;
    // Friday 2026-10-23 (CEST): 09:00 local = 07:00 UTC.
    EXPECT_TRUE(within_business_hours(h, utc(2026, 10, 23, 7, 0), berlin));
    // Monday 2026-10-26 (CET): 09:00 local = 08:00 UTC.
    EXPECT_FALSE(within_business_hours(h, utc(2026, 10, 26, 7, 30), berlin));
    EXPECT_TRUE(within_business_hours(h, utc(2026, 10, 26, 8, 0), berlin));
    EXPECT_TRUE(within_business_hours(h, utc(2026, 10, 26, 16, 59), berlin));
    EXPECT_FALSE(within_business_hours(h, utc(2026, 10, 26, 17, 0), berlin));
}

TEST(Calendar, NightWindowAcrossTheSpringGapIsShorterButStillCovered) {
    // Saturday 2026-03-28 22:00 to Sunday 03-29 04:00 local (Saturday in the mask): the night
    // loses its 02:00-03:00 hour but every real instant from 22:00 CET to 04:00 CEST is inside.
    BusinessHours h;
    h.days_mask = 1 << 5; // Saturday
    h.start_minute = 22 * 60;
    h.end_minute = 4 * 60;
    EXPECT_FALSE(within_business_hours(h, utc(2026, 3, 28, 20, 59), berlin)); // 21:59 CET
    for (TimePoint t = utc(2026, 3, 28, 21); t < utc(2026, 3, 29, 2); t += minutes(1))
        EXPECT_TRUE(within_business_hours(h, t, berlin));
    EXPECT_FALSE(within_business_hours(h, utc(2026, 3, 29, 2), berlin)); // 04:00 CEST
}

TEST(Calendar, WeightNowPicksInsideOrOutsideWeight) {
    EXPECT_EQ(weight_now(5, 1, true), 5);
    EXPECT_EQ(weight_now(5, 1, false), 1);
    EXPECT_EQ(weight_now(0, 3, true), 0);
    EXPECT_EQ(weight_now(0, 3, false), 3);
}

TEST(Calendar, WeightNowFollowsBusinessHours) {
    const BusinessHours h;
    const UtcOffset z = fixed(est);
    EXPECT_EQ(weight_now(10, 2, within_business_hours(h, local(est, 2026, 1, 5, 9), z)), 10);
    EXPECT_EQ(weight_now(10, 2, within_business_hours(h, local(est, 2026, 1, 5, 18), z)), 2);
    EXPECT_EQ(weight_now(10, 2, within_business_hours(h, local(est, 2026, 1, 10, 12), z)), 2);
}

} // namespace
