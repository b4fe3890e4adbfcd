// budget_day_start: the start of the budget day, from the core's calendar and PostgreSQL's zones.
#include "orchestrator/pg/args.hpp"
#include "orchestrator/pg/boundary.hpp"
#include "orchestrator/pg/clock.hpp"
#include "orchestrator/pg/config_cache.hpp"
#include "orchestrator/pg/spi.hpp"

using namespace orchestrator;
using namespace orchestrator::pg;

ORCHESTRATOR_SQL_FUNCTION(orchestrator_budget_day_start) {
    const Args args(fcinfo);
    const auto at = args.optional_timestamptz(0);
    const core::TimePoint when = at ? from_timestamptz(*at) : server_clock().now();
    GovernanceConfig config;
    {
        SpiConnection spi;
        config = config_at(config_snapshot(), when);
    }
    return TimestampTzGetDatum(to_timestamptz(config.budget_day_start));
}
