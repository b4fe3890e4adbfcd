#include "orchestrator/core/rate_limit.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace orchestrator::core {

namespace {
constexpr std::int64_t us_per_second = 1'000'000;

std::int64_t micros(TimePoint t) { return t.time_since_epoch().count(); }

std::int64_t second_of(std::int64_t us) {
    return us >= 0 ? us / us_per_second : -((-us + us_per_second - 1) / us_per_second);
}

std::int32_t& slot(ApiUsage& usage, std::int64_t second) {
    const auto w = static_cast<std::int64_t>(ApiUsage::window_seconds);
    return usage.calls[static_cast<std::size_t>(((second % w) + w) % w)];
}

// Moves the window forward to `second`, clearing the seconds that fell out. Time that goes
// backwards (a test clock moved back) leaves the window as it is.
void slide(ApiUsage& usage, std::int64_t second) {
    if (second <= usage.newest_second)
        return;
    const std::int64_t gap = second - usage.newest_second;
    if (gap >= ApiUsage::window_seconds) {
        usage.calls.fill(0);
    } else {
        for (std::int64_t s = usage.newest_second + 1; s <= second; ++s)
            slot(usage, s) = 0;
    }
    usage.newest_second = second;
}

void refill(const ApiLimit& limit, ApiUsage& usage, std::int64_t now_us) {
    if (usage.refilled_at_us == 0) { // a new bucket starts full
        usage.tokens = limit.burst;
        usage.refilled_at_us = now_us;
        return;
    }
    if (now_us <= usage.refilled_at_us)
        return;
    const double elapsed_s = static_cast<double>(now_us - usage.refilled_at_us) / us_per_second;
    usage.tokens = std::min<double>(limit.burst,
                                    usage.tokens + elapsed_s * limit.calls_per_minute / 60.0);
    usage.refilled_at_us = now_us;
}

int window_sum(const ApiUsage& usage) {
    return std::accumulate(usage.calls.begin(), usage.calls.end(), 0);
}
} // namespace

int calls_available(const ApiLimit& limit, ApiUsage& usage, TimePoint now) {
    const std::int64_t now_us = micros(now);
    slide(usage, second_of(now_us));
    refill(limit, usage, now_us);
    if (now_us < usage.paused_until_us)
        return 0;
    const int by_bucket = static_cast<int>(std::floor(usage.tokens + 1e-9));
    const int by_window = limit.calls_per_minute - window_sum(usage);
    return std::max(0, std::min(by_bucket, by_window));
}

void take_calls(ApiUsage& usage, int calls, TimePoint now) {
    const std::int64_t second = second_of(micros(now));
    slide(usage, second);
    if (second > usage.newest_second - ApiUsage::window_seconds)
        slot(usage, second) += calls;
    usage.tokens = std::max(0.0, usage.tokens - calls);
}

void return_calls(const ApiLimit& limit, ApiUsage& usage, int calls, TimePoint taken_at) {
    const std::int64_t second = second_of(micros(taken_at));
    if (second <= usage.newest_second && second > usage.newest_second - ApiUsage::window_seconds) {
        std::int32_t& s = slot(usage, second);
        s = std::max(0, s - calls);
    }
    usage.tokens = std::min<double>(limit.burst, usage.tokens + calls);
}

void add_calls(ApiUsage& usage, int calls, TimePoint at) { take_calls(usage, calls, at); }

void pause_api(ApiUsage& usage, TimePoint until) {
    usage.paused_until_us = std::max(usage.paused_until_us, micros(until));
}

int calls_in_window(ApiUsage& usage, TimePoint now) {
    slide(usage, second_of(micros(now)));
    return window_sum(usage);
}

} // namespace orchestrator::core
