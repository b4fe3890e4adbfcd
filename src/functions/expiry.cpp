// expire_executions(max_executions): the lease timeout, for callers without the worker.
#include "orchestrator/pg/args.hpp"
#include "orchestrator/pg/boundary.hpp"
#include "orchestrator/pg/expiry.hpp"
#include "orchestrator/pg/spi.hpp"

using namespace orchestrator::pg;

ORCHESTRATOR_SQL_FUNCTION(orchestrator_expire_executions) {
    const Args args(fcinfo);
    const int limit = args.int32_in_range(0, "max_executions", 1, 1000000);
    SpiConnection spi;
    return Int32GetDatum(expire_leases(limit));
}
