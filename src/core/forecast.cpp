#include "orchestrator/core/forecast.hpp"

#include <cmath>

namespace orchestrator::core {

double forecast_weight(int minutes_ago, double half_life_minutes) {
    return std::exp2(-static_cast<double>(minutes_ago) / half_life_minutes);
}

double ewma_per_hour(const std::vector<double>& per_minute_newest_first,
                     double half_life_minutes) {
    double weighted = 0;
    double weights = 0;
    for (std::size_t i = 0; i < per_minute_newest_first.size(); ++i) {
        const double w = forecast_weight(static_cast<int>(i), half_life_minutes);
        weighted += w * per_minute_newest_first[i];
        weights += w;
    }
    return weights > 0 ? weighted / weights * 60 : 0;
}

std::optional<double> seconds_to_empty(double level, double falling_per_hour) {
    if (std::isnan(level))
        return std::nullopt;
    if (level <= 0)
        return 0.0;
    if (std::isinf(level) || !(falling_per_hour > 0)) // NaN is not > 0 either
        return std::nullopt;
    return level / falling_per_hour * 3600;
}

} // namespace orchestrator::core
