#pragma once
#include "orchestrator/core/pure.hpp"
#include "orchestrator/core/time.hpp"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace orchestrator::core {

inline constexpr int min_priority = 1;
inline constexpr int max_priority = 10;

// Score = priority × points_per_priority + minutes waited, plus a one-time bonus once a task has
// waited past the starvation threshold. Apart from that step the order is time-invariant, which
// is why each priority level can be read in ready_at order from an index (see best_candidates).
struct PriorityPolicy {
    double points_per_priority = 10;
    Duration starvation_after = minutes(30);
    double starvation_bonus = 50;
};

double score(const PriorityPolicy& policy, int priority, Duration waited);
bool is_starving(const PriorityPolicy& policy, Duration waited);

// A queued task as the dispatcher sees it before claiming.
struct Candidate {
    std::int64_t task_id = 0;
    int priority = min_priority;
    TimePoint ready_at{};
};

// Whether a goes before b: higher score, then longer wait, then lower id.
bool ranks_before(const Candidate& a, const Candidate& b, TimePoint now,
                  const PriorityPolicy& policy);

// Orders candidates best first (ranks_before).
void sort_best_first(std::vector<Candidate>& candidates, TimePoint now,
                     const PriorityPolicy& policy);

// The `limit` best candidates, best first.
std::vector<Candidate> best_candidates(std::vector<Candidate> candidates, TimePoint now,
                                       const PriorityPolicy& policy, std::size_t limit);

} // namespace orchestrator::core
