#pragma once
#include "orchestrator/core/pure.hpp"

#include <cstdint>

namespace orchestrator::core {

// A small seeded generator (splitmix64): the same seed gives the same sequence, so jitter is
// reproducible in tests; the server seeds it per backend.
class Random {
public:
    explicit Random(std::uint64_t seed) : state_(seed) {}

    std::uint64_t next();
    // Uniform in [low, high], both included; requires low <= high.
    std::int64_t uniform(std::int64_t low, std::int64_t high);

private:
    std::uint64_t state_;
};

} // namespace orchestrator::core
