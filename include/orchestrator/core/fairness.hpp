#pragma once
#include "orchestrator/core/pure.hpp"

#include <cstdint>
#include <optional>
#include <vector>

namespace orchestrator::core {

// Weighted fair sharing of dispatches between workflow types, by stride scheduling: each
// execution a type receives advances its pass by 1/weight, and the ready type with the smallest
// pass goes next. A type coming back from idle starts at the current frontier (no catch-up burst).
// Types whose oldest ready task is starving are served before all others, fairly among themselves.
struct FairShareState {
    double frontier = 0; // pass of the last type served
};

struct ContendingType {
    std::int32_t type_id = 0;
    double weight = 1;  // > 0
    double pass = 0;    // the type's stored pass, read from and written back to its slot
    bool starving = false;
};

// Index into `types` of the type to serve next, or nothing when `types` is empty.
std::optional<std::size_t> pick_next_type(const FairShareState& state,
                                          const std::vector<ContendingType>& types);

// Records that `type` received `executions` executions.
void charge_type(FairShareState& state, ContendingType& type, int executions = 1);

} // namespace orchestrator::core
