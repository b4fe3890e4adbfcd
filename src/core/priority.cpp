#include "orchestrator/core/priority.hpp"

#include <algorithm>

namespace orchestrator::core {

bool is_starving(const PriorityPolicy& policy, Duration waited) {
    return waited > policy.starvation_after;
}

double score(const PriorityPolicy& policy, int priority, Duration waited) {
    const Duration age = std::max(waited, Duration::zero());
    double s = priority * policy.points_per_priority + to_minutes(age);
    if (is_starving(policy, age))
        s += policy.starvation_bonus;
    return s;
}

bool ranks_before(const Candidate& a, const Candidate& b, TimePoint now,
                  const PriorityPolicy& policy) {
    const double sa = score(policy, a.priority, now - a.ready_at);
    const double sb = score(policy, b.priority, now - b.ready_at);
    if (sa != sb)
        return sa > sb;
    if (a.ready_at != b.ready_at)
        return a.ready_at < b.ready_at;
    return a.task_id < b.task_id;
}

void sort_best_first(std::vector<Candidate>& candidates, TimePoint now,
                     const PriorityPolicy& policy) {
    std::sort(candidates.begin(), candidates.end(), [&](const Candidate& a, const Candidate& b) {
        return ranks_before(a, b, now, policy);
    });
}

std::vector<Candidate> best_candidates(std::vector<Candidate> candidates, TimePoint now,
                                       const PriorityPolicy& policy, std::size_t limit) {
    sort_best_first(candidates, now, policy);
    if (candidates.size() > limit)
        candidates.resize(limit);
    return candidates;
}

} // namespace orchestrator::core
