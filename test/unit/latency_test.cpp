// Latency histograms of the metric rollups: fixed buckets, percentiles by nearest rank.
#include "orchestrator/core/latency.hpp"

#include <gtest/gtest.h>

using namespace orchestrator::core;

TEST(Latency, BucketsCountTheBoundsAtOrBelow) {
    EXPECT_EQ(latency_bucket(0), 0u);
    EXPECT_EQ(latency_bucket(9.99), 0u);
    EXPECT_EQ(latency_bucket(10), 1u);     // a bound starts the next bucket
    EXPECT_EQ(latency_bucket(999), 6u);    // [500, 1000)
    EXPECT_EQ(latency_bucket(3599999), 16u);
    EXPECT_EQ(latency_bucket(3600000), 17u); // at or above every bound
    EXPECT_EQ(latency_buckets, 18u);
}

TEST(Latency, PercentilesByNearestRank) {
    std::vector<std::int64_t> counts(latency_buckets, 0);
    EXPECT_EQ(percentile_ms(counts, 50), std::nullopt);
    counts[latency_bucket(40)] = 50;   // 50 in [25, 50) ms
    counts[latency_bucket(400)] = 45;  // 45 in [250, 500) ms
    counts[latency_bucket(4000)] = 5;  // 5 in [2.5, 5) s
    EXPECT_EQ(percentile_ms(counts, 50), 50);   // the 50th of 100 is in the 50 ms bucket
    EXPECT_EQ(percentile_ms(counts, 51), 500);
    EXPECT_EQ(percentile_ms(counts, 95), 500);  // the 95th: 50 + 45
    EXPECT_EQ(percentile_ms(counts, 96), 5000);
    EXPECT_EQ(percentile_ms(counts, 99), 5000);
    EXPECT_EQ(percentile_ms(counts, 100), 5000);
}

TEST(Latency, TheOverflowBucketReportsTheLastBound) {
    std::vector<std::int64_t> counts(latency_buckets, 0);
    counts.back() = 3;
    EXPECT_EQ(percentile_ms(counts, 50), 3600000);
}

TEST(Latency, OneSampleIsEveryPercentile) {
    std::vector<std::int64_t> counts(latency_buckets, 0);
    counts[latency_bucket(120)] = 1;
    EXPECT_EQ(percentile_ms(counts, 1), 250);
    EXPECT_EQ(percentile_ms(counts, 99), 250);
}
