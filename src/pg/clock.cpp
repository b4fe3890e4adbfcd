#include "orchestrator/pg/clock.hpp"

#include "orchestrator/pg/guard.hpp"
#include "orchestrator/pg/settings.hpp"

#include <string>
#include <unistd.h>

namespace orchestrator::pg {

namespace {
// Microseconds between the Unix epoch and PostgreSQL's (2000-01-01).
constexpr std::int64_t postgres_epoch_offset_us =
    static_cast<std::int64_t>(POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY;

TimestampTz parse_test_now(const char* text) {
    return pg_call([text] {
        return DatumGetTimestampTz(DirectFunctionCall3(timestamptz_in, CStringGetDatum(text),
                                                       ObjectIdGetDatum(InvalidOid),
                                                       Int32GetDatum(-1)));
    });
}
} // namespace

core::TimePoint from_timestamptz(TimestampTz value) {
    return core::TimePoint(core::Duration(value + postgres_epoch_offset_us));
}

TimestampTz to_timestamptz(core::TimePoint value) {
    return value.time_since_epoch().count() - postgres_epoch_offset_us;
}

core::Duration from_interval(const Interval& value) {
    return core::Duration(value.time + value.day * USECS_PER_DAY +
                          static_cast<std::int64_t>(value.month) * DAYS_PER_MONTH * USECS_PER_DAY);
}

core::TimePoint ServerClock::now() const {
    const char* test_now = settings::test_now;
    if (test_now == nullptr || test_now[0] == '\0')
        return from_timestamptz(GetCurrentTransactionStartTimestamp());
    static std::string parsed_text;
    static TimestampTz parsed_value = 0;
    if (parsed_text != test_now) {
        parsed_value = parse_test_now(test_now);
        parsed_text = test_now;
    }
    return from_timestamptz(parsed_value);
}

const core::Clock& server_clock() {
    static const ServerClock clock;
    return clock;
}

core::Random& backend_random() {
    static int seeded_with = -1;
    static core::Random random(0);
    const int wanted = settings::test_seed;
    if (seeded_with != wanted) {
        const std::uint64_t seed =
            wanted != 0 ? static_cast<std::uint64_t>(wanted)
                        : (static_cast<std::uint64_t>(MyProcPid) << 32) ^
                              static_cast<std::uint64_t>(GetCurrentTimestamp());
        random = core::Random(seed);
        seeded_with = wanted;
    }
    return random;
}

} // namespace orchestrator::pg
