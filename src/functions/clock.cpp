#include "orchestrator/pg/boundary.hpp"
#include "orchestrator/pg/clock.hpp"

using namespace orchestrator::pg;

ORCHESTRATOR_SQL_FUNCTION(orchestrator_now) {
    (void)fcinfo;
    return TimestampTzGetDatum(to_timestamptz(server_clock().now()));
}
