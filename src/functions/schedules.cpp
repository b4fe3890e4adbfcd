// _cron_problem(expression): what is wrong with a cron schedule, for set_schedule's checks.
#include "orchestrator/core/schedule.hpp"
#include "orchestrator/pg/args.hpp"
#include "orchestrator/pg/boundary.hpp"
#include "orchestrator/pg/spi.hpp"

#include <string>

using namespace orchestrator;
using namespace orchestrator::pg;

ORCHESTRATOR_SQL_FUNCTION(orchestrator_cron_problem) {
    const std::string expression(text_of(fcinfo->args[0].value));
    std::string why;
    if (core::parse_cron(expression, why))
        return pg_call([fcinfo] { PG_RETURN_NULL(); });
    return pg_call([&why] { return CStringGetTextDatum(why.c_str()); });
}
