#include "orchestrator/core/batch.hpp"

#include <algorithm>

namespace orchestrator::core {

BatchGrant grant_batch(const std::vector<BatchLimit>& limits) {
    BatchGrant grant{0, "none"};
    bool first = true;
    for (const BatchLimit& limit : limits) {
        const int allowed = std::max(limit.max_tasks, 0);
        if (first || allowed < grant.max_tasks) {
            grant = {allowed, limit.reason};
            first = false;
        }
    }
    return grant;
}

int tasks_to_dispatch(int batch_min, int granted, int claimable, bool oldest_starving) {
    const int take = std::min(granted, claimable);
    if (take <= 0)
        return 0;
    if (take < batch_min && !oldest_starving)
        return 0;
    return take;
}

} // namespace orchestrator::core
