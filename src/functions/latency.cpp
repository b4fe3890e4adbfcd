// The latency histograms' bucket bounds and percentiles from the core (core/latency.hpp), so SQL
// reads the one copy of both.
#include "orchestrator/core/error.hpp"
#include "orchestrator/core/latency.hpp"
#include "orchestrator/pg/boundary.hpp"
#include "orchestrator/pg/spi.hpp"

#include <fmt/format.h>
#include <vector>

using namespace orchestrator;
using namespace orchestrator::pg;

// _latency_bounds_ms(): the buckets' upper bounds in milliseconds.
ORCHESTRATOR_SQL_FUNCTION(orchestrator_latency_bounds_ms) {
    (void)fcinfo;
    return float8_array_param(
               std::vector<double>(core::latency_bounds_ms.begin(), core::latency_bounds_ms.end()))
        .value;
}

// _latency_percentile_ms(counts bigint[], p float8): the p-th percentile of the durations counted
// in a histogram (one count per bucket), as its bucket's upper bound; NULL when it counts nothing.
// STRICT: never called with a NULL argument.
ORCHESTRATOR_SQL_FUNCTION(orchestrator_latency_percentile_ms) {
    const std::vector<std::int64_t> counts = int64_array_of(PG_GETARG_DATUM(0));
    const double p = PG_GETARG_FLOAT8(1);
    if (counts.size() != core::latency_buckets)
        throw core::Error(core::sqlstate::invalid_parameter_value,
                          fmt::format("counts must have {} elements, none of them null",
                                      core::latency_buckets),
                          fmt::format("The array given had {} elements that are not null.",
                                      counts.size()));
    if (!(p > 0 && p <= 100))
        throw core::Error(core::sqlstate::invalid_parameter_value,
                          "p must be greater than 0 and at most 100",
                          fmt::format("The value given was {}.", p));
    const auto ms = core::percentile_ms(counts, p);
    if (!ms)
        PG_RETURN_NULL();
    return Float8GetDatum(*ms);
}
