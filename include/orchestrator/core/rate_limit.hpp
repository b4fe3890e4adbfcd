#pragma once
#include "orchestrator/core/pure.hpp"
#include "orchestrator/core/time.hpp"

#include <array>
#include <cstdint>

namespace orchestrator::core {

// An API's limit: at most calls_per_minute calls in any 60-second window, and at most `burst`
// at once (a token bucket of that size refilled at calls_per_minute / 60 per second).
struct ApiLimit {
    int calls_per_minute = 60;
    int burst = 10;
};

// What an API has used. Plain data, so it can live in shared memory. The window counts calls per
// second over the last 61 seconds: a window of any 60 real seconds lies within 61 whole seconds,
// so keeping the sum under the limit keeps every real window under it.
struct ApiUsage {
    static constexpr int window_seconds = 61;
    double tokens = 0;                 // a new bucket starts full (see calls_available)
    std::int64_t refilled_at_us = 0;   // microseconds since the epoch
    std::int64_t newest_second = 0;    // the second of slot newest_second % window_seconds
    std::array<std::int32_t, window_seconds> calls{};
    std::int64_t paused_until_us = 0;  // 429 retry-after: no calls before this
};

// Calls that may start now, after refilling the bucket and sliding the window to `now`.
int calls_available(const ApiLimit& limit, ApiUsage& usage, TimePoint now);

// Records `calls` calls made now (they must be available).
void take_calls(ApiUsage& usage, int calls, TimePoint now);

// Gives back calls reserved but not made (a rolled-back dispatch, a report of fewer calls),
// at the second they were taken, if that second is still in the window.
void return_calls(const ApiLimit& limit, ApiUsage& usage, int calls, TimePoint taken_at);

// Records calls made beyond those reserved (a report of more calls than planned).
void add_calls(ApiUsage& usage, int calls, TimePoint at);

// An HTTP 429 with retry-after: no calls until `until`.
void pause_api(ApiUsage& usage, TimePoint until);

// Calls in the current window (for utilization and health).
int calls_in_window(ApiUsage& usage, TimePoint now);

} // namespace orchestrator::core
