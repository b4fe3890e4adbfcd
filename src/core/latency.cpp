#include "orchestrator/core/latency.hpp"

#include <algorithm>
#include <cmath>

namespace orchestrator::core {

std::size_t latency_bucket(double ms) {
    return static_cast<std::size_t>(
        std::upper_bound(latency_bounds_ms.begin(), latency_bounds_ms.end(), ms) -
        latency_bounds_ms.begin());
}

std::optional<double> percentile_ms(const std::vector<std::int64_t>& counts, double p) {
    std::int64_t total = 0;
    for (std::int64_t c : counts)
        total += c;
    if (total == 0)
        return std::nullopt;
    // The rank of the p-th percentile: the smallest k with k >= p% of the total (nearest rank).
    const auto rank = static_cast<std::int64_t>(std::ceil(p / 100.0 * static_cast<double>(total)));
    std::int64_t seen = 0;
    for (std::size_t b = 0; b < counts.size(); ++b) {
        seen += counts[b];
        if (seen >= std::max<std::int64_t>(rank, 1))
            return latency_bounds_ms[std::min(b, latency_bounds_ms.size() - 1)];
    }
    return latency_bounds_ms.back();
}

} // namespace orchestrator::core
