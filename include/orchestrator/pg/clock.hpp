#pragma once
// The server's clock and randomness. Time is the transaction's start time, unless a superuser has
// set orchestrator.test_now, which freezes it (regression tests move it to test aging, backoff,
// leases and budget days without sleeping).
#include "orchestrator/core/random.hpp"
#include "orchestrator/core/time.hpp"
#include "orchestrator/pg/postgres.hpp"

namespace orchestrator::pg {

core::TimePoint from_timestamptz(TimestampTz value);
TimestampTz to_timestamptz(core::TimePoint value);
core::Duration from_interval(const Interval& value);

class ServerClock final : public core::Clock {
public:
    core::TimePoint now() const override;
};

const core::Clock& server_clock();

// Seeded from orchestrator.test_seed when set, else from the backend's pid and start time.
core::Random& backend_random();

} // namespace orchestrator::pg
