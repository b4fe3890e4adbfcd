// The core's metric arithmetic, callable from SQL so that metrics(), forecast(),
// get_system_health(), the Prometheus export and the dashboard share one implementation: the
// latency buckets' bounds, percentiles of the rollups' latency histograms
// (core/latency.hpp), exponentially weighted rates and the time until a level reaches zero
// (core/forecast.hpp).
#include "orchestrator/core/error.hpp"
#include "orchestrator/core/forecast.hpp"
#include "orchestrator/core/latency.hpp"
#include "orchestrator/pg/args.hpp"
#include "orchestrator/pg/boundary.hpp"
#include "orchestrator/pg/spi.hpp"

#include <fmt/format.h>

using namespace orchestrator;
using namespace orchestrator::pg;

namespace {
// A year of minutes: more than any forecast reads.
constexpr int max_minutes = 366 * 24 * 60;
} // namespace

// _latency_bounds_ms(): the buckets' upper bounds in milliseconds.
ORCHESTRATOR_SQL_FUNCTION(orchestrator_latency_bounds_ms) {
    (void)fcinfo;
    return float8_array_param(
               std::vector<double>(core::latency_bounds_ms.begin(), core::latency_bounds_ms.end()))
        .value;
}

// latency_percentile(histogram bigint[], percentile float8): the bucket bound that holds the
// percentile, by nearest rank; NULL when the histogram counts nothing.
ORCHESTRATOR_SQL_FUNCTION(orchestrator_latency_percentile) {
    const Args args(fcinfo);
    const std::vector<std::int64_t> counts =
        args.nonnegative_int64_array(0, "histogram", static_cast<int>(core::latency_buckets));
    const double p = args.float8(1, "percentile");
    if (counts.size() != core::latency_buckets)
        throw core::Error(core::sqlstate::invalid_parameter_value,
                          fmt::format("histogram must have {} buckets", core::latency_buckets),
                          fmt::format("It has {}.", counts.size()));
    if (!(p > 0 && p <= 100))
        throw core::Error(core::sqlstate::invalid_parameter_value,
                          "percentile must be above 0 and at most 100");
    const std::optional<double> ms = core::percentile_ms(counts, p);
    if (!ms)
        PG_RETURN_NULL();
    return Float8GetDatum(*ms);
}

// _ewma_per_hour(per_minute float8[]): the exponentially weighted rate per hour of per-minute
// counts given newest first.
ORCHESTRATOR_SQL_FUNCTION(orchestrator_ewma_per_hour) {
    const Args args(fcinfo);
    return Float8GetDatum(
        core::ewma_per_hour(args.nonnegative_float8_array(0, "per_minute", max_minutes)));
}

// _seconds_to_empty(level float8, falling_per_hour float8): NULL when it never empties.
ORCHESTRATOR_SQL_FUNCTION(orchestrator_seconds_to_empty) {
    const Args args(fcinfo);
    const std::optional<double> seconds =
        core::seconds_to_empty(args.float8(0, "level"), args.float8(1, "falling_per_hour"));
    if (!seconds)
        PG_RETURN_NULL();
    return Float8GetDatum(*seconds);
}

// _forecast_window_minutes(): the complete minutes the forecasts weigh.
ORCHESTRATOR_SQL_FUNCTION(orchestrator_forecast_window_minutes) {
    (void)fcinfo;
    return Int32GetDatum(core::forecast_window_minutes);
}
