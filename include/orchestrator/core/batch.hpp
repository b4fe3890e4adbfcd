#pragma once
#include "orchestrator/core/pure.hpp"

#include <string>
#include <vector>

namespace orchestrator::core {

// One reason an execution's batch may be smaller than the type's maximum.
struct BatchLimit {
    int max_tasks = 0;
    std::string reason; // shown to users as `limited_by`, e.g. "batch_max", "queue"
};

struct BatchGrant {
    int max_tasks = 0;
    std::string limited_by;
};

// The largest batch every limit allows; the first tightest limit names the reason.
BatchGrant grant_batch(const std::vector<BatchLimit>& limits);

// How many of `claimable` ready tasks to dispatch as one execution: nothing when fewer than
// `batch_min` are ready, unless the oldest of them is starving (waiting longer helps nobody then).
int tasks_to_dispatch(int batch_min, int granted, int claimable, bool oldest_starving);

} // namespace orchestrator::core
