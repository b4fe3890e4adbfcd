// Budget (SPEC "Budget", "Budgets per type"): $500 a day from a configurable local start hour;
// past 80% the economy tier; the last critical_reserve kept for critical work; a raise lasts
// for the rest of the day; the day is 23 or 25 hours long across a DST change.
#include "orchestrator/core/budget.hpp"

#include "test_time.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <set>
#include <string>
#include <vector>

namespace {

using namespace orchestrator::core;
using namespace orchestrator::test_time;

constexpr MicroUsd usd = micro_usd_per_usd;


std::string show(TimePoint t) {
    const std::int64_t s = std::chrono::duration_cast<seconds>(t.time_since_epoch()).count();
    const std::int64_t days = s / 86400;
    // Good enough for 2026 in messages: day offset from 2026-01-01 and the UTC time of day.
    const std::int64_t d2026 = days - days_from_civil(2026, 1, 1);
    char buf[64];
    std::snprintf(buf, sizeof buf, "2026-day%03lld %02lld:%02lld:%02lld UTC",
                  static_cast<long long>(d2026 + 1), static_cast<long long>(s % 86400 / 3600),
                  static_cast<long long>(s % 3600 / 60), static_cast<long long>(s % 60));
    return buf;
}

const UtcOffset utc_zone = [](TimePoint) -> std::int64_t { return 0; };
const UtcOffset tokyo = [](TimePoint) -> std::int64_t { return 9 * 3600; };
const UtcOffset new_york_winter = [](TimePoint) -> std::int64_t { return -5 * 3600; };

// ---- policy, tiers, remaining ----

TEST(Budget, DefaultPolicyIsFiveHundredDollarsEightyPercentNoCriticalReserve) {
    const BudgetPolicy p;
    EXPECT_EQ(p.daily_limit, 500 * usd);
    EXPECT_DOUBLE_EQ(p.soft_ratio, 0.8);
    EXPECT_EQ(p.critical_priority, 11);
    EXPECT_EQ(p.critical_reserve, 0);
}

TEST(Budget, StandardTierBelowEightyPercent) {
    const BudgetPolicy p;
    BudgetLedger l;
    EXPECT_EQ(model_tier(p, l), ModelTier::standard);
    l.spent = 400 * usd - 1;
    EXPECT_FALSE(past_soft_threshold(p, l));
    EXPECT_EQ(model_tier(p, l), ModelTier::standard);
}

TEST(Budget, EconomyTierExactlyAtEightyPercent) {
    const BudgetPolicy p;
    BudgetLedger l;
    l.spent = 400 * usd;
    EXPECT_TRUE(past_soft_threshold(p, l));
    EXPECT_EQ(model_tier(p, l), ModelTier::economy);
}

TEST(Budget, EconomyTierAboveEightyPercentAndPastTheLimit) {
    const BudgetPolicy p;
    BudgetLedger l;
    l.spent = 450 * usd;
    EXPECT_EQ(model_tier(p, l), ModelTier::economy);
    l.spent = 900 * usd;
    EXPECT_EQ(model_tier(p, l), ModelTier::economy);
}

TEST(Budget, ReservationsCountTowardsTheSoftThreshold) {
    const BudgetPolicy p;
    BudgetLedger l;
    l.spent = 300 * usd;
    l.reserved = 100 * usd - 1;
    EXPECT_EQ(model_tier(p, l), ModelTier::standard);
    l.reserved = 100 * usd;
    EXPECT_EQ(model_tier(p, l), ModelTier::economy);
}

TEST(Budget, ExactlyAtThresholdIsEconomyForOddLimitsToo) {
    // 0.8 is not exact in binary: spend of exactly 4/5 of the limit must still count as "at".
    for (MicroUsd limit : {MicroUsd{5}, MicroUsd{1'234'565}, 7 * usd + 5, MicroUsd{999'999'995},
                           MicroUsd{123'456'789'015}}) {
        BudgetPolicy p;
        p.daily_limit = limit;
        BudgetLedger l;
        l.spent = limit / 5 * 4;
        EXPECT_TRUE(past_soft_threshold(p, l)) << "limit " << limit;
        l.spent -= 1;
        EXPECT_FALSE(past_soft_threshold(p, l)) << "limit " << limit;
    }
}

TEST(Budget, RemainingWithoutCriticalReserveIsLimitMinusSpentMinusReserved) {
    const BudgetPolicy p;
    BudgetLedger l;
    l.spent = 120 * usd;
    l.reserved = 30 * usd;
    EXPECT_EQ(remaining(p, l, false), 350 * usd);
    EXPECT_EQ(remaining(p, l, true), 350 * usd);
}

TEST(Budget, RemainingKeepsTheCriticalReserveFromNormalWork) {
    BudgetPolicy p;
    p.critical_priority = 9;
    p.critical_reserve = 50 * usd;
    BudgetLedger l;
    l.spent = 400 * usd;
    EXPECT_EQ(remaining(p, l, false), 50 * usd);
    EXPECT_EQ(remaining(p, l, true), 100 * usd);
    l.spent = 450 * usd; // exactly into the reserve: normal work gets nothing
    EXPECT_EQ(remaining(p, l, false), 0);
    EXPECT_EQ(remaining(p, l, true), 50 * usd);
    l.spent = 480 * usd;
    EXPECT_EQ(remaining(p, l, false), 0);
    EXPECT_EQ(remaining(p, l, true), 20 * usd);
}

TEST(Budget, RemainingIsNeverNegativeWhenOverspent) {
    BudgetPolicy p;
    p.critical_reserve = 50 * usd;
    BudgetLedger l;
    l.spent = 520 * usd;
    l.reserved = 10 * usd;
    EXPECT_EQ(remaining(p, l, false), 0);
    EXPECT_EQ(remaining(p, l, true), 0);
}

TEST(Budget, ARaisedLimitMovesRemainingAndTheSoftThreshold) {
    // A raise for the rest of the day is folded into the day's limit by the server.
    BudgetPolicy p;
    p.daily_limit = 600 * usd;
    BudgetLedger l;
    l.spent = 500 * usd;
    EXPECT_EQ(remaining(p, l, false), 100 * usd);
    // The soft threshold follows the raised limit: 80% of 600 is 480.
    l.spent = 479 * usd;
    EXPECT_EQ(model_tier(p, l), ModelTier::standard);
    l.spent = 480 * usd;
    EXPECT_EQ(model_tier(p, l), ModelTier::economy);
}

// ---- the day boundary ----

TEST(Budget, DayStartAtUtcMidnight) {
    EXPECT_EQ(budget_day_start(utc(2026, 5, 1, 13, 7), 0, utc_zone), utc(2026, 5, 1));
    EXPECT_EQ(budget_day_start(utc(2026, 5, 1), 0, utc_zone), utc(2026, 5, 1));
    EXPECT_EQ(budget_day_start(utc(2026, 5, 1) - Duration(1), 0, utc_zone), utc(2026, 4, 30));
}

TEST(Budget, DayStartAtSixBeforeAndAfterTheStartHour) {
    EXPECT_EQ(budget_day_start(utc(2026, 5, 1, 5, 59, 59), 6, utc_zone), utc(2026, 4, 30, 6));
    EXPECT_EQ(budget_day_start(utc(2026, 5, 1, 6), 6, utc_zone), utc(2026, 5, 1, 6));
    EXPECT_EQ(budget_day_start(utc(2026, 5, 1, 23), 6, utc_zone), utc(2026, 5, 1, 6));
}

TEST(Budget, DayStartInFixedOffsetZonesEastAndWest) {
    // Tokyo midnight is 15:00 UTC the day before.
    EXPECT_EQ(budget_day_start(utc(2026, 5, 1, 14, 59), 0, tokyo), utc(2026, 4, 30, 15));
    EXPECT_EQ(budget_day_start(utc(2026, 5, 1, 15), 0, tokyo), utc(2026, 5, 1, 15));
    // New York (EST) 06:00 is 11:00 UTC.
    EXPECT_EQ(budget_day_start(utc(2026, 1, 10, 10, 59), 6, new_york_winter), utc(2026, 1, 9, 11));
    EXPECT_EQ(budget_day_start(utc(2026, 1, 10, 11), 6, new_york_winter), utc(2026, 1, 10, 11));
}

TEST(Budget, DayStartBeforeTheEpochUsesFloorNotTruncation) {
    EXPECT_EQ(budget_day_start(utc(1969, 12, 31, 12), 0, utc_zone), utc(1969, 12, 31));
    EXPECT_EQ(budget_day_start(utc(1969, 12, 31, 5), 6, utc_zone), utc(1969, 12, 30, 6));
}

TEST(Budget, SpringForwardMidnightStartDayIsTwentyThreeHours) {
    // 2026-03-29 00:00 CET = 03-28 23:00 UTC; 03-30 00:00 CEST = 03-29 22:00 UTC.
    const TimePoint day = utc(2026, 3, 28, 23);
    const TimePoint next = utc(2026, 3, 29, 22);
    EXPECT_EQ(budget_day_start(utc(2026, 3, 28, 22, 59, 59), 0, berlin), utc(2026, 3, 27, 23));
    EXPECT_EQ(budget_day_start(day, 0, berlin), day);
    EXPECT_EQ(budget_day_start(spring_change - Duration(1), 0, berlin), day);
    EXPECT_EQ(budget_day_start(spring_change, 0, berlin), day);
    EXPECT_EQ(budget_day_start(utc(2026, 3, 29, 21, 59, 59), 0, berlin), day);
    EXPECT_EQ(budget_day_start(next, 0, berlin), next);
    EXPECT_EQ(next - day, hours(23));
}

TEST(Budget, SpringForwardSixOClockStartDayIsTwentyThreeHours) {
    // 03-28 06:00 CET = 05:00 UTC; 03-29 06:00 CEST = 04:00 UTC.
    const TimePoint day = utc(2026, 3, 28, 5);
    const TimePoint next = utc(2026, 3, 29, 4);
    EXPECT_EQ(budget_day_start(utc(2026, 3, 28, 12), 6, berlin), day);
    EXPECT_EQ(budget_day_start(spring_change, 6, berlin), day);
    EXPECT_EQ(budget_day_start(utc(2026, 3, 29, 3, 59, 59), 6, berlin), day);
    EXPECT_EQ(budget_day_start(next, 6, berlin), next);
    EXPECT_EQ(budget_day_start(utc(2026, 3, 30, 3, 59), 6, berlin), next);
    EXPECT_EQ(budget_day_start(utc(2026, 3, 30, 4), 6, berlin), utc(2026, 3, 30, 4));
    EXPECT_EQ(next - day, hours(23));
}

TEST(Budget, FallBackMidnightStartDayIsTwentyFiveHours) {
    // 10-25 00:00 CEST = 10-24 22:00 UTC; 10-26 00:00 CET = 10-25 23:00 UTC.
    const TimePoint day = utc(2026, 10, 24, 22);
    const TimePoint next = utc(2026, 10, 25, 23);
    EXPECT_EQ(budget_day_start(utc(2026, 10, 24, 21, 59), 0, berlin), utc(2026, 10, 23, 22));
    EXPECT_EQ(budget_day_start(day, 0, berlin), day);
    // Both passes through the repeated local hour 02:00-03:00 belong to the same day.
    EXPECT_EQ(budget_day_start(utc(2026, 10, 25, 0, 30), 0, berlin), day);
    EXPECT_EQ(budget_day_start(utc(2026, 10, 25, 1, 30), 0, berlin), day);
    EXPECT_EQ(budget_day_start(utc(2026, 10, 25, 22, 59, 59), 0, berlin), day);
    EXPECT_EQ(budget_day_start(next, 0, berlin), next);
    EXPECT_EQ(next - day, hours(25));
}

TEST(Budget, FallBackSixOClockStartDayIsTwentyFiveHours) {
    // 10-24 06:00 CEST = 04:00 UTC; 10-25 06:00 CET = 05:00 UTC.
    const TimePoint day = utc(2026, 10, 24, 4);
    const TimePoint next = utc(2026, 10, 25, 5);
    EXPECT_EQ(budget_day_start(utc(2026, 10, 24, 3, 59), 6, berlin), utc(2026, 10, 23, 4));
    EXPECT_EQ(budget_day_start(day, 6, berlin), day);
    EXPECT_EQ(budget_day_start(utc(2026, 10, 25, 0, 30), 6, berlin), day);
    EXPECT_EQ(budget_day_start(utc(2026, 10, 25, 1, 30), 6, berlin), day);
    EXPECT_EQ(budget_day_start(utc(2026, 10, 25, 4, 59, 59), 6, berlin), day);
    EXPECT_EQ(budget_day_start(next, 6, berlin), next);
    EXPECT_EQ(budget_day_start(utc(2026, 10, 26, 4, 59), 6, berlin), next);
    EXPECT_EQ(next - day, hours(25));
}

TEST(Budget, SpringGapStartHourTwoStartsTheDayWhenTheGapEnds) {
    // Local 02:00 does not exist on 2026-03-29 (01:59:59 CET is followed by 03:00 CEST), so that
    // day starts at the end of the gap: 03:00 CEST = 01:00 UTC, which is also the instant the
    // ledger rolls (budget_day_start(start) == start). No day is skipped and the start is never
    // after `now`; the next day starts at 03-30 02:00 CEST = 00:00 UTC.
    const TimePoint prev = utc(2026, 3, 28, 1);
    const TimePoint gap_day = spring_change;
    const TimePoint next = utc(2026, 3, 30, 0);
    EXPECT_EQ(budget_day_start(utc(2026, 3, 28, 12), 2, berlin), prev);
    EXPECT_EQ(budget_day_start(utc(2026, 3, 29, 0, 30), 2, berlin), prev); // 01:30 CET
    EXPECT_EQ(budget_day_start(spring_change - Duration(1), 2, berlin), prev);
    EXPECT_EQ(budget_day_start(spring_change, 2, berlin), gap_day); // 03:00 CEST
    EXPECT_EQ(budget_day_start(utc(2026, 3, 29, 12), 2, berlin), gap_day);
    EXPECT_EQ(budget_day_start(next - Duration(1), 2, berlin), gap_day);
    EXPECT_EQ(budget_day_start(next, 2, berlin), next);
    EXPECT_EQ(budget_day_start(gap_day, 2, berlin), gap_day);
    for (TimePoint t = utc(2026, 3, 28); t < utc(2026, 3, 31); t += minutes(1))
        ASSERT_LE(budget_day_start(t, 2, berlin), t) << show(t);
}

TEST(Budget, FallBackStartHourTwoInTheRepeatedHourStartsTheDayOnlyOnce) {
    // Local 02:00-03:00 happens twice on 2026-10-25: 00:00-01:00 UTC (CEST) then 01:00-02:00
    // UTC (CET). The day starts at the first 02:00 (00:00 UTC) and lasts until 10-26 02:00 CET
    // (01:00 UTC), 25 hours. A second start at the second 02:00 would roll the ledger again an
    // hour later and reset the day's spend.
    const TimePoint day = utc(2026, 10, 25, 0);
    EXPECT_EQ(show(budget_day_start(utc(2026, 10, 24, 23, 59), 2, berlin)),
              show(utc(2026, 10, 24, 0)));
    EXPECT_EQ(show(budget_day_start(day, 2, berlin)), show(day));
    EXPECT_EQ(show(budget_day_start(utc(2026, 10, 25, 0, 30), 2, berlin)), show(day));
    EXPECT_EQ(show(budget_day_start(utc(2026, 10, 25, 1, 30), 2, berlin)), show(day));
    EXPECT_EQ(show(budget_day_start(utc(2026, 10, 25, 12), 2, berlin)), show(day));
    EXPECT_EQ(show(budget_day_start(utc(2026, 10, 26, 1), 2, berlin)), show(utc(2026, 10, 26, 1)));
}

TEST(Budget, FallBackStartHourTwoGivesTheSameDayInBothRepeatedHours) {
    // The consequence for the ledger: both 02:10s belong to one budget day, so the counters are
    // not rebuilt (and the day's spend not reset) an hour after the day began.
    EXPECT_EQ(budget_day_start(utc(2026, 10, 25, 0, 10), 2, berlin),
              budget_day_start(utc(2026, 10, 25, 1, 10), 2, berlin));
}

// Over all of 2026 in the fake Berlin zone, minute by minute around the changes and hourly
// elsewhere: the start is never after now nor more than 25 h before it, starts never go back,
// and consecutive distinct starts are 23 to 25 hours apart (no day skipped or split).
void check_year(int start_hour) {
    std::vector<TimePoint> instants;
    for (TimePoint t = utc(2026, 1, 1); t < utc(2027, 1, 1); t += minutes(60))
        instants.push_back(t);
    for (TimePoint c : {spring_change, autumn_change})
        for (TimePoint t = c - hours(30); t < c + hours(30); t += minutes(1))
            instants.push_back(t);
    std::sort(instants.begin(), instants.end());
    TimePoint last_start{};
    bool have_last = false;
    std::set<std::int64_t> starts;
    for (TimePoint t : instants) {
        const TimePoint s = budget_day_start(t, start_hour, berlin);
        ASSERT_LE(s, t) << "start hour " << start_hour << " at " << show(t);
        ASSERT_GT(s, t - hours(25)) << "start hour " << start_hour << " at " << show(t);
        if (have_last) {
            ASSERT_GE(s, last_start) << "start hour " << start_hour << " at " << show(t);
            if (s != last_start) {
                ASSERT_GE(s - last_start, hours(23))
                    << "start hour " << start_hour << " at " << show(t) << ": " << show(last_start)
                    << " -> " << show(s);
                ASSERT_LE(s - last_start, hours(25))
                    << "start hour " << start_hour << " at " << show(t);
            }
        }
        last_start = s;
        have_last = true;
        starts.insert(s.time_since_epoch().count());
    }
    // Local time covered: 2026-01-01 01:00 to 2027-01-01 00:00.
    const std::size_t days = start_hour == 1 ? 365u : 366u;
    EXPECT_EQ(starts.size(), days) << "start hour " << start_hour;
}

TEST(Budget, EveryStartHourGivesOneDayPerCalendarDayAcrossBothDstChanges) {
    for (int h = 0; h < 24; ++h) {
        if (h == 2)
            continue; // the repeated hour in autumn: see FallBackStartHourTwo* above
        SCOPED_TRACE(h);
        check_year(h);
    }
}

TEST(Budget, StartHourTwoGivesOneDayPerCalendarDayAcrossBothDstChanges) {
    check_year(2);
}

} // namespace
