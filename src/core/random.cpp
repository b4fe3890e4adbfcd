#include "orchestrator/core/random.hpp"

namespace orchestrator::core {

std::uint64_t Random::next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

std::int64_t Random::uniform(std::int64_t low, std::int64_t high) {
    // In unsigned arithmetic: high - low overflows a signed 64-bit integer for wide ranges.
    const std::uint64_t span =
        static_cast<std::uint64_t>(high) - static_cast<std::uint64_t>(low) + 1;
    if (span == 0) // the whole 64-bit range
        return static_cast<std::int64_t>(next());
    return static_cast<std::int64_t>(static_cast<std::uint64_t>(low) + next() % span);
}

} // namespace orchestrator::core
