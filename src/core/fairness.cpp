#include "orchestrator/core/fairness.hpp"

#include <algorithm>

namespace orchestrator::core {

namespace {
double effective_pass(const FairShareState& state, const ContendingType& type) {
    return std::max(type.pass, state.frontier);
}
} // namespace

std::optional<std::size_t> pick_next_type(const FairShareState& state,
                                          const std::vector<ContendingType>& types) {
    const bool any_starving = std::any_of(types.begin(), types.end(),
                                          [](const ContendingType& t) { return t.starving; });
    std::optional<std::size_t> best;
    for (std::size_t i = 0; i < types.size(); ++i) {
        const ContendingType& t = types[i];
        if (any_starving && !t.starving)
            continue;
        if (!best) {
            best = i;
            continue;
        }
        const ContendingType& b = types[*best];
        const double pt = effective_pass(state, t), pb = effective_pass(state, b);
        if (pt < pb || (pt == pb && (t.weight > b.weight ||
                                     (t.weight == b.weight && t.type_id < b.type_id))))
            best = i;
    }
    return best;
}

void charge_type(FairShareState& state, ContendingType& type, int executions) {
    state.frontier = effective_pass(state, type);
    type.pass = state.frontier + executions / type.weight;
}

} // namespace orchestrator::core
