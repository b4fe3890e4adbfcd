// Forecasts: exponentially weighted per-minute rates (half-life 15 minutes over the last 60
// complete minutes) and the time until a level reaches zero.
#include "orchestrator/core/forecast.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

using namespace orchestrator::core;

TEST(Forecast, TheHalfLifeIsFifteenMinutesOverAnHour) {
    EXPECT_DOUBLE_EQ(forecast_half_life_minutes, 15);
    EXPECT_EQ(forecast_window_minutes, 60);
    EXPECT_DOUBLE_EQ(forecast_weight(0), 1);
    EXPECT_DOUBLE_EQ(forecast_weight(15), 0.5);
    EXPECT_DOUBLE_EQ(forecast_weight(30), 0.25);
    EXPECT_DOUBLE_EQ(forecast_weight(10, 10), 0.5);
}

TEST(Forecast, ASteadyRateIsEstimatedExactly) {
    EXPECT_NEAR(ewma_per_hour(std::vector<double>(60, 5)), 300, 1e-9);
    EXPECT_NEAR(ewma_per_hour(std::vector<double>(3, 0.5)), 30, 1e-9);
}

TEST(Forecast, NothingObservedIsARateOfZero) {
    EXPECT_DOUBLE_EQ(ewma_per_hour({}), 0);
    EXPECT_DOUBLE_EQ(ewma_per_hour(std::vector<double>(60, 0)), 0);
}

TEST(Forecast, OneMinuteCountsByItsWeight) {
    // 12 tasks four minutes before the last complete one: 60 * 12 * 2^(-4/15) / S, where
    // S = sum of 2^(-i/15) for i = 0..59 = (1 - 2^-4) / (1 - 2^(-1/15)) = 20.7603...
    std::vector<double> counts(60, 0);
    counts[4] = 12;
    const double s = (1 - std::exp2(-4.0)) / (1 - std::exp2(-1.0 / 15));
    EXPECT_NEAR(s, 20.7603, 1e-4);
    EXPECT_NEAR(ewma_per_hour(counts), 60 * 12 * std::exp2(-4.0 / 15) / s, 1e-9);
    EXPECT_NEAR(ewma_per_hour(counts), 28.8287, 1e-4);
    // the same count longer ago weighs less
    std::vector<double> older(60, 0);
    older[30] = 12;
    EXPECT_LT(ewma_per_hour(older), ewma_per_hour(counts));
}

TEST(Forecast, AChangeIsHalfTakenInAfterOneHalfLife) {
    // a long history at 0 per minute, then 10 per minute for the last 15 minutes
    std::vector<double> counts(2000, 0);
    for (int i = 0; i < 15; ++i)
        counts[i] = 10;
    EXPECT_NEAR(ewma_per_hour(counts), 300, 1e-6); // half of 600 per hour
}

TEST(Forecast, TimeToEmptyIsTheLevelOverTheNetRate) {
    EXPECT_EQ(seconds_to_empty(10, 20), 1800);  // 10 left, 20 an hour: half an hour
    EXPECT_EQ(seconds_to_empty(3, 0.5), 21600);
}

TEST(Forecast, AnEmptyLevelIsEmptyNow) {
    EXPECT_EQ(seconds_to_empty(0, 0), 0);
    EXPECT_EQ(seconds_to_empty(0, -5), 0);
    EXPECT_EQ(seconds_to_empty(-2, 1), 0); // overspent: exhausted already
}

TEST(Forecast, ALevelThatDoesNotFallNeverEmpties) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const double inf = std::numeric_limits<double>::infinity();
    EXPECT_EQ(seconds_to_empty(10, 0), std::nullopt);
    EXPECT_EQ(seconds_to_empty(10, -1), std::nullopt); // arrivals outpace completions
    EXPECT_EQ(seconds_to_empty(10, nan), std::nullopt);
    EXPECT_EQ(seconds_to_empty(nan, 1), std::nullopt);
    EXPECT_EQ(seconds_to_empty(inf, 1), std::nullopt);
    EXPECT_EQ(seconds_to_empty(10, inf), 0);
}
