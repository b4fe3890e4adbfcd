#pragma once
// Recurring work: a workflow type's schedule is cron (five fields, in the orchestrator's time
// zone) or a fixed interval. Each schedule fires once per slot; the slot a time belongs to is
// the latest firing at or before it, so a missed slot (the server was down) runs once, late.
#include "orchestrator/core/local_time.hpp"
#include "orchestrator/core/pure.hpp"
#include "orchestrator/core/time.hpp"

#include <bitset>
#include <optional>
#include <string>
#include <string_view>

namespace orchestrator::core {

// "minute hour day-of-month month day-of-week": numbers, '*', lists (1,15), ranges (1-5) and
// steps (*/15, 8-18/2); day of week 0-7, 0 and 7 both Sunday. As in cron, when both day fields
// are restricted a day matching either one fires.
struct CronSchedule {
    std::bitset<60> minutes;
    std::bitset<24> hours;
    std::bitset<32> days_of_month; // bit 0 unused
    std::bitset<13> months;        // bit 0 unused
    std::bitset<7> days_of_week;   // bit 0 Sunday
    bool day_of_month_restricted = false;
    bool day_of_week_restricted = false;
};

// The schedule, or nullopt with the reason in `why`.
std::optional<CronSchedule> parse_cron(std::string_view text, std::string& why);

// The latest local minute at or before `now` the schedule fires, as a UTC instant; nullopt when
// it never fired in the last eight years (a 30th of February).
std::optional<TimePoint> latest_cron_slot(const CronSchedule& schedule, TimePoint now,
                                          const UtcOffset& offset);

// The latest multiple of `every` since the Unix epoch at or before `now` (every > 0).
TimePoint latest_interval_slot(Duration every, TimePoint now);

} // namespace orchestrator::core
