#pragma once
// Forecasts (SPEC "Metrics"): arrival, completion and spending rates as exponentially weighted
// averages of per-minute counts, and the time until a level (the queue's backlog, the budget
// left) reaches zero at a net rate.
//
// The rates weigh the last `forecast_window_minutes` complete minutes, the most recent one most:
// minute i (i = 0 the last complete minute, 1 the one before, ...) has weight 2^(-i / h) with the
// half-life h = `forecast_half_life_minutes`, and the rate is the weighted mean of the counts,
// sum(w_i * c_i) / sum(w_i), per minute (times 60 per hour). A steady rate is estimated exactly,
// and a change is half taken in after one half-life. Minutes with nothing in them count as 0.
#include "orchestrator/core/pure.hpp"

#include <optional>
#include <vector>

namespace orchestrator::core {

inline constexpr double forecast_half_life_minutes = 15;
inline constexpr int forecast_window_minutes = 60;

// The weight of the minute `minutes_ago` complete minutes before the last one (0: the last).
double forecast_weight(int minutes_ago, double half_life_minutes = forecast_half_life_minutes);

// The exponentially weighted rate per hour of per-minute counts given newest first; 0 for no
// minutes. Counts must be finite and not negative (the caller checks).
double ewma_per_hour(const std::vector<double>& per_minute_newest_first,
                     double half_life_minutes = forecast_half_life_minutes);

// Seconds until `level` reaches zero when it falls by `falling_per_hour`: 0 when it is already
// at or below zero; none when it never gets there (a rate at or below zero or NaN, or an
// infinite level).
std::optional<double> seconds_to_empty(double level, double falling_per_hour);

} // namespace orchestrator::core
