#include "orchestrator/core/schedule.hpp"

#include <cctype>
#include <vector>

namespace orchestrator::core {

namespace {

struct Field {
    const char* name;
    int low;
    int high;
};
constexpr Field fields[] = {{"minute", 0, 59},
                            {"hour", 0, 23},
                            {"day of month", 1, 31},
                            {"month", 1, 12},
                            {"day of week", 0, 7}};

std::vector<std::string_view> split(std::string_view text, char separator) {
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    for (std::size_t i = 0; i <= text.size(); ++i)
        if (i == text.size() || text[i] == separator) {
            parts.push_back(text.substr(start, i - start));
            start = i + 1;
        }
    return parts;
}

std::optional<int> number(std::string_view s) {
    if (s.empty() || s.size() > 4)
        return std::nullopt;
    int n = 0;
    for (char c : s) {
        if (!std::isdigit(static_cast<unsigned char>(c)))
            return std::nullopt;
        n = n * 10 + (c - '0');
    }
    return n;
}

// Sets the values one field allows in `bits` (indexed by value); false with `why` on an error.
bool parse_field(std::string_view text, const Field& field, std::vector<bool>& bits,
                 std::string& why) {
    for (std::string_view item : split(text, ',')) {
        const std::vector<std::string_view> stepped = split(item, '/');
        if (stepped.size() > 2) {
            why = std::string("the ") + field.name + " \"" + std::string(item) + "\" has two steps";
            return false;
        }
        int step = 1;
        if (stepped.size() == 2) {
            const auto s = number(stepped[1]);
            if (!s || *s == 0) {
                why = std::string("the ") + field.name + " step \"" + std::string(stepped[1]) +
                      "\" is not a whole number above 0";
                return false;
            }
            step = *s;
        }
        int from = field.low, to = field.high;
        if (stepped[0] != "*") {
            const std::vector<std::string_view> range = split(stepped[0], '-');
            const auto a = range.size() <= 2 ? number(range[0]) : std::nullopt;
            const auto b = range.size() == 2 ? number(range[1]) : a;
            if (!a || !b) {
                why = std::string("the ") + field.name + " \"" + std::string(item) +
                      "\" is not a number, a range or *";
                return false;
            }
            from = *a;
            // "5/15": from 5 to the field's end, every 15
            to = range.size() == 2 ? *b : stepped.size() == 2 ? field.high : *a;
        }
        if (from < field.low || to > field.high || from > to) {
            why = std::string("the ") + field.name + " \"" + std::string(item) + "\" is outside " +
                  std::to_string(field.low) + "-" + std::to_string(field.high);
            return false;
        }
        for (int v = from; v <= to; v += step)
            bits[static_cast<std::size_t>(v)] = true;
    }
    return true;
}

template <std::size_t N> void copy_bits(const std::vector<bool>& from, std::bitset<N>& to) {
    for (std::size_t i = 0; i < N && i < from.size(); ++i)
        to[i] = from[i];
}

bool day_fires(const CronSchedule& s, std::int64_t day) {
    const CivilDate date = civil_from_days(day);
    if (!s.months[static_cast<std::size_t>(date.month)])
        return false;
    const bool by_month_day = s.days_of_month[static_cast<std::size_t>(date.day)];
    const bool by_week_day = s.days_of_week[static_cast<std::size_t>(weekday_from_days(day))];
    if (s.day_of_month_restricted && s.day_of_week_restricted)
        return by_month_day || by_week_day;
    if (s.day_of_month_restricted)
        return by_month_day;
    if (s.day_of_week_restricted)
        return by_week_day;
    return true;
}

constexpr int days_searched = 8 * 366;

} // namespace

std::optional<CronSchedule> parse_cron(std::string_view text, std::string& why) {
    std::vector<std::string_view> parts;
    for (std::string_view p : split(text, ' '))
        if (!p.empty())
            parts.push_back(p);
    if (parts.size() != 5) {
        why = "a cron schedule has five fields (minute hour day-of-month month day-of-week), not " +
              std::to_string(parts.size());
        return std::nullopt;
    }
    CronSchedule s;
    std::vector<bool> bits[5];
    for (int i = 0; i < 5; ++i) {
        bits[i].assign(static_cast<std::size_t>(fields[i].high) + 1, false);
        if (!parse_field(parts[static_cast<std::size_t>(i)], fields[i], bits[i], why))
            return std::nullopt;
    }
    copy_bits(bits[0], s.minutes);
    copy_bits(bits[1], s.hours);
    copy_bits(bits[2], s.days_of_month);
    copy_bits(bits[3], s.months);
    if (bits[4][7])
        bits[4][0] = true; // 7 is Sunday too
    copy_bits(bits[4], s.days_of_week);
    s.day_of_month_restricted = parts[2] != "*";
    s.day_of_week_restricted = parts[4] != "*";
    return s;
}

std::optional<TimePoint> latest_cron_slot(const CronSchedule& schedule, TimePoint now,
                                          const UtcOffset& offset) {
    const std::int64_t now_s = std::chrono::duration_cast<seconds>(now.time_since_epoch()).count();
    const std::int64_t local_now = now_s + offset(now);
    const std::int64_t today = floor_div(local_now, seconds_per_day);
    const int minute_now = static_cast<int>((local_now - today * seconds_per_day) / 60);
    for (int back = 0; back < days_searched; ++back) {
        const std::int64_t day = today - back;
        if (!day_fires(schedule, day))
            continue;
        for (int minute = back == 0 ? minute_now : 24 * 60 - 1; minute >= 0; --minute) {
            if (!schedule.hours[static_cast<std::size_t>(minute / 60)] ||
                !schedule.minutes[static_cast<std::size_t>(minute % 60)])
                continue;
            const std::int64_t at = local_to_utc(day * seconds_per_day + minute * 60, offset);
            if (at <= now_s) // a minute in a DST gap maps past now only on the day of the gap
                return TimePoint(seconds(at));
        }
    }
    return std::nullopt;
}

TimePoint latest_interval_slot(Duration every, TimePoint now) {
    const std::int64_t us = now.time_since_epoch().count();
    return TimePoint(Duration(floor_div(us, every.count()) * every.count()));
}

} // namespace orchestrator::core
