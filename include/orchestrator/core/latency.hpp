#pragma once
// Latency histograms for the per-minute metric rollups: fixed bucket bounds, so minutes and
// types add up bucket by bucket, and percentiles over any window come from the summed counts.
#include "orchestrator/core/pure.hpp"

#include <array>
#include <optional>
#include <cstdint>
#include <vector>

namespace orchestrator::core {

// Bucket i holds durations from bound i-1 (inclusive) to bound i (exclusive); bucket 0 those
// below the first bound, the last bucket those at or above the last (PostgreSQL's width_bucket
// with these thresholds numbers them the same way).
inline constexpr std::array<double, 17> latency_bounds_ms = {
    10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 120000, 300000, 600000,
    1800000, 3600000};
inline constexpr std::size_t latency_buckets = latency_bounds_ms.size() + 1;

// The bucket of a duration: how many bounds are at or below `ms`.
std::size_t latency_bucket(double ms);

// The p-th percentile (0 < p <= 100) of the durations counted in `counts` (one per bucket), as
// the (exclusive) upper bound of the bucket that holds it (the last bucket reports the last
// bound); none
// when nothing is counted.
std::optional<double> percentile_ms(const std::vector<std::int64_t>& counts, double p);

} // namespace orchestrator::core
