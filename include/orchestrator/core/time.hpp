#pragma once
#include "orchestrator/core/pure.hpp"

#include <chrono>

namespace orchestrator::core {

using Duration = std::chrono::microseconds;
// Microseconds since the Unix epoch, whatever clock produced them.
using TimePoint = std::chrono::time_point<std::chrono::system_clock, Duration>;

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

// The one source of "now". The server binds it to the transaction clock or to the test clock;
// unit tests use ManualClock.
class Clock {
public:
    virtual ~Clock() = default;
    virtual TimePoint now() const = 0;
};

class ManualClock final : public Clock {
public:
    explicit ManualClock(TimePoint start) : now_(start) {}
    TimePoint now() const override { return now_; }
    void advance(Duration by) { now_ += by; }
    void set(TimePoint to) { now_ = to; }

private:
    TimePoint now_;
};

inline double to_minutes(Duration d) {
    return std::chrono::duration<double, std::ratio<60>>(d).count();
}

inline double to_seconds(Duration d) { return std::chrono::duration<double>(d).count(); }

} // namespace orchestrator::core
