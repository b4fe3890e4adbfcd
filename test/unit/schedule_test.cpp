// Recurring work (SPEC "Scheduling"): cron with five fields in the orchestrator's time zone, or an
// interval; a schedule fires once per slot, the latest firing at or before now.
#include "orchestrator/core/schedule.hpp"

#include "test_time.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

using namespace orchestrator::core;
using namespace orchestrator::test_time;

const UtcOffset utc_zone = [](TimePoint) -> std::int64_t { return 0; };

CronSchedule cron(const char* text) {
    std::string why;
    const auto s = parse_cron(text, why);
    EXPECT_TRUE(s.has_value()) << text << ": " << why;
    return s.value_or(CronSchedule{});
}

std::string error_of(const char* text) {
    std::string why;
    return parse_cron(text, why) ? "parsed" : why;
}

TimePoint slot(const char* text, TimePoint now, const UtcOffset& zone = utc_zone) {
    const auto at = latest_cron_slot(cron(text), now, zone);
    EXPECT_TRUE(at.has_value()) << text;
    return at.value_or(TimePoint{});
}

} // namespace

TEST(Civil, DaysRoundTripWithTheTestsOwnConversion) {
    for (std::int64_t day = days_from_civil(1999, 12, 25); day < days_from_civil(2032, 3, 5); ++day) {
        const CivilDate d = civil_from_days(day);
        ASSERT_EQ(days_from_civil(d.year, static_cast<unsigned>(d.month), static_cast<unsigned>(d.day)), day);
    }
    EXPECT_EQ(civil_from_days(days_from_civil(2028, 2, 29)).day, 29);
    EXPECT_EQ(weekday_from_days(0), 4);                               // 1970-01-01, a Thursday
    EXPECT_EQ(weekday_from_days(days_from_civil(2026, 1, 4)), 0);     // a Sunday
    EXPECT_EQ(weekday_from_days(days_from_civil(1969, 12, 31)), 3);   // before the epoch
}

TEST(CronParse, FieldsListsRangesAndSteps) {
    const CronSchedule s = cron("*/15 8-18/2 1,15 * 1-5");
    EXPECT_EQ(s.minutes.count(), 4u);
    EXPECT_TRUE(s.minutes[0] && s.minutes[15] && s.minutes[30] && s.minutes[45]);
    EXPECT_EQ(s.hours.count(), 6u); // 8 10 12 14 16 18
    EXPECT_TRUE(s.hours[8] && s.hours[18] && !s.hours[9]);
    EXPECT_TRUE(s.days_of_month[1] && s.days_of_month[15] && !s.days_of_month[2]);
    EXPECT_EQ(s.months.count(), 12u);
    EXPECT_EQ(s.days_of_week.count(), 5u);
    EXPECT_FALSE(s.days_of_week[0]);
    EXPECT_TRUE(s.day_of_month_restricted && s.day_of_week_restricted);
}

TEST(CronParse, SevenIsSundayAndAStartWithAStepRunsToTheEnd) {
    EXPECT_TRUE(cron("0 0 * * 7").days_of_week[0]);
    const CronSchedule s = cron("5/20 * * * *");
    EXPECT_EQ(s.minutes.count(), 3u); // 5 25 45
    EXPECT_TRUE(s.minutes[5] && s.minutes[25] && s.minutes[45]);
    EXPECT_FALSE(cron("0 9 * * *").day_of_week_restricted);
}

TEST(CronParse, ErrorsSayWhatIsWrong) {
    EXPECT_EQ(error_of("* * * *"),
              "a cron schedule has five fields (minute hour day-of-month month day-of-week), not 4");
    EXPECT_EQ(error_of("60 * * * *"), "the minute \"60\" is outside 0-59");
    EXPECT_EQ(error_of("* 24 * * *"), "the hour \"24\" is outside 0-23");
    EXPECT_EQ(error_of("* * 0 * *"), "the day of month \"0\" is outside 1-31");
    EXPECT_EQ(error_of("* * * 13 *"), "the month \"13\" is outside 1-12");
    EXPECT_EQ(error_of("* * * * 8"), "the day of week \"8\" is outside 0-7");
    EXPECT_EQ(error_of("*/0 * * * *"), "the minute step \"0\" is not a whole number above 0");
    EXPECT_EQ(error_of("5-1 * * * *"), "the minute \"5-1\" is outside 0-59");
    EXPECT_EQ(error_of("MON * * * *"), "the minute \"MON\" is not a number, a range or *");
    EXPECT_EQ(error_of("1/2/3 * * * *"), "the minute \"1/2/3\" has two steps");
    EXPECT_EQ(error_of(""), "a cron schedule has five fields (minute hour day-of-month month day-of-week), not 0");
    EXPECT_EQ(error_of("1,,2 * * * *"), "the minute \"\" is not a number, a range or *");
}

TEST(CronSlot, LatestFiringAtOrBeforeNow) {
    EXPECT_EQ(slot("*/15 * * * *", utc(2026, 5, 4, 10, 7, 30)), utc(2026, 5, 4, 10, 0));
    EXPECT_EQ(slot("*/15 * * * *", utc(2026, 5, 4, 10, 15)), utc(2026, 5, 4, 10, 15));
    EXPECT_EQ(slot("0 9 * * *", utc(2026, 5, 4, 8, 59)), utc(2026, 5, 3, 9, 0));
    EXPECT_EQ(slot("* * * * *", utc(2026, 5, 4, 8, 59, 59)), utc(2026, 5, 4, 8, 59));
}

TEST(CronSlot, WeekdaysSkipTheWeekend) {
    // 2026-05-09 is a Saturday: the last weekday 09:00 is Friday the 8th.
    EXPECT_EQ(slot("0 9 * * 1-5", utc(2026, 5, 9, 12)), utc(2026, 5, 8, 9, 0));
    EXPECT_EQ(slot("0 9 * * 1-5", utc(2026, 5, 11, 8)), utc(2026, 5, 8, 9, 0)); // Monday, early
}

TEST(CronSlot, BothDayFieldsRestrictedFireOnEither) {
    // the 13th, or any Friday: 2026-05-08 is a Friday, 05-13 a Wednesday
    EXPECT_EQ(slot("0 0 13 * 5", utc(2026, 5, 12, 12)), utc(2026, 5, 8, 0, 0));
    EXPECT_EQ(slot("0 0 13 * 5", utc(2026, 5, 14, 12)), utc(2026, 5, 13, 0, 0));
}

TEST(CronSlot, MonthsAndLeapDays) {
    EXPECT_EQ(slot("0 0 1 1 *", utc(2026, 5, 4)), utc(2026, 1, 1));
    EXPECT_EQ(slot("0 12 29 2 *", utc(2026, 5, 4)), utc(2024, 2, 29, 12));
    std::string why;
    EXPECT_FALSE(latest_cron_slot(cron("0 0 30 2 *"), utc(2026, 5, 4), utc_zone).has_value());
}

TEST(CronSlot, InTheLocalTimeZoneAcrossDaylightSaving) {
    // 09:00 in Berlin is 08:00 UTC in winter, 07:00 UTC in summer.
    EXPECT_EQ(slot("0 9 * * *", utc(2026, 1, 10, 12), berlin), utc(2026, 1, 10, 8));
    EXPECT_EQ(slot("0 9 * * *", utc(2026, 7, 10, 12), berlin), utc(2026, 7, 10, 7));
    // On 2026-03-29 Berlin's clocks jump from 02:00 to 03:00: 02:30 does not exist that day and
    // is read on the old clock, as PostgreSQL reads it: 02:30 CET = 03:30 CEST = 01:30 UTC.
    EXPECT_EQ(slot("30 2 * * *", utc(2026, 3, 29, 6), berlin), utc(2026, 3, 29, 1, 30));
    EXPECT_EQ(slot("30 2 * * *", utc(2026, 3, 29, 1, 29), berlin), utc(2026, 3, 28, 1, 30));
    // On 2026-10-25 02:30 happens twice; the slot is the first one, 02:30 CEST = 00:30 UTC.
    EXPECT_EQ(slot("30 2 * * *", utc(2026, 10, 25, 6), berlin), utc(2026, 10, 25, 0, 30));
}

TEST(IntervalSlot, MultiplesOfTheIntervalSinceTheEpoch) {
    EXPECT_EQ(latest_interval_slot(minutes(15), utc(2026, 5, 4, 10, 7, 30)), utc(2026, 5, 4, 10, 0));
    EXPECT_EQ(latest_interval_slot(minutes(15), utc(2026, 5, 4, 10, 15)), utc(2026, 5, 4, 10, 15));
    EXPECT_EQ(latest_interval_slot(std::chrono::hours(24), utc(2026, 5, 4, 23, 59)), utc(2026, 5, 4));
    EXPECT_EQ(latest_interval_slot(seconds(90), TimePoint(seconds(-1))), TimePoint(seconds(-90)));
}
