#pragma once
// The counters every dispatch checks and moves: API call windows, the budget ledgers, running
// executions and held resources.
//
// With the library preloaded they live in shared memory under one LWLock: a dispatch reserves
// what it may use the moment it decides (an aborted dispatch gives it back), and a callback's
// release applies when its transaction commits; both err on the safe side. The tables remain the
// truth: after a restart the counters are rebuilt from the executions table on first use (a fresh
// API bucket starts full; the call window is rebuilt exactly from recorded calls).
// Without preload, each call rebuilds them from the tables under an exclusive transaction lock:
// exact, but dispatches are serialized.
#include "orchestrator/core/breaker.hpp"
#include "orchestrator/core/budget.hpp"
#include "orchestrator/core/calendar.hpp"
#include "orchestrator/core/fairness.hpp"
#include "orchestrator/core/governor.hpp"
#include "orchestrator/core/rate_limit.hpp"
#include "orchestrator/pg/postgres.hpp"

#include <cstdint>
#include <boost/container/flat_map.hpp>
#include <optional>
#include <string>
#include <vector>

namespace orchestrator::pg {

// Calls per API (api id -> calls), and a yes/no per API: a handful of entries, kept sorted.
using ApiCalls = boost::container::flat_map<std::int32_t, int>;
using ApiVerdicts = boost::container::flat_map<std::int32_t, bool>;

struct GovernanceConfig {
    core::BudgetPolicy budget;
    core::TimePoint budget_day_start{};
    int budget_day_start_hour = 0;
    std::string time_zone = "UTC";
    int max_db_connections = 20;
    int max_memory_mb = 2048;
    core::BusinessHours business_hours;
    core::BreakerPolicy breaker;
};

struct ApiConfig {
    std::int32_t id = 0;
    std::string name;
    core::ApiLimit limit;
    TimestampTz paused_until = 0; // 0: not paused
};

struct ApiNeed {
    std::int32_t api_id = 0;
    std::string api_name;
    int calls_per_task = 0;
};

// A workflow type's governance settings.
struct TypeRules {
    std::int32_t id = 0;
    std::string name;
    int batch_min = 1;
    int batch_max = 1;
    std::optional<int> max_concurrent;
    int db_connections = 1;
    int memory_mb = 128;
    core::MicroUsd cost_per_task = 0;
    std::optional<core::MicroUsd> daily_budget;
    core::MicroUsd budget_raise = 0;
    std::vector<ApiNeed> apis;
};

// What one execution holds: reserved at dispatch, released by its callback or expiry.
struct Holding {
    std::int32_t type_id = 0;
    int db_connections = 0;
    int memory_mb = 0;
    core::MicroUsd reserved_cost = 0;
    std::vector<std::pair<std::int32_t, int>> api_calls; // api id, calls
    core::TimePoint taken_at{};
};

// A dispatch's reservation for one execution, before its tasks are known.
struct Reservation {
    core::ExecutionPlan plan;
    Holding holding;
    int reserved_tasks = 0;
    int undo_slot = -1; // where the abort handler finds it (shared memory only)
};

class Governance {
public:
    // Opens the counters for this call: shared memory (loaded if needed) or a snapshot of the
    // tables taken under an exclusive transaction lock. Needs an SPI connection.
    // instance: the extension's identity (see ConfigSnapshot::instance).
    Governance(Oid instance, const GovernanceConfig& config, const std::vector<ApiConfig>& apis,
               core::TimePoint now);

    // Decides and reserves, atomically, the most this type's next execution may take.
    // breakers_allow: the type's breaker and its APIs' breakers (by api id) let work through.
    Reservation reserve(const TypeRules& rules, bool type_breaker_allows,
                        const ApiVerdicts& api_breakers_allow);

    // What reserve would decide now, without reserving anything (for the dispatch hints).
    core::ExecutionPlan plan(const TypeRules& rules, bool type_breaker_allows,
                             const ApiVerdicts& api_breakers_allow);

    // Shrinks the reservation to the tasks claimed, whose costs (best first) are given; returns
    // how many of them fit. Zero releases it entirely.
    int settle_claim(Reservation& reservation, const TypeRules& rules,
                     const std::vector<core::MicroUsd>& task_costs);

    // Fair-share passes, kept with the counters.
    double pass_of(std::int32_t type_id);
    core::FairShareState fair_share();
    // Charges the type for one execution and stores its new pass.
    void charge(core::ContendingType& type);

private:
    // The decision over the counters, whose lock the caller holds.
    core::ExecutionPlan plan_locked(const TypeRules& rules, bool type_breaker_allows,
                                    const ApiVerdicts& api_breakers_allow);

    const GovernanceConfig& config_;
    const std::vector<ApiConfig>& apis_;
    core::TimePoint now_;
    bool shared_;
};

// At commit of the current transaction, releases what an execution held and records its spend
// and the calls it really made (api id -> calls; absent: as reserved).
void release_at_commit(Oid instance, const Holding& holding, core::MicroUsd spent,
                       const ApiCalls& actual_calls);

// The tasks or executions were truncated: the shared counters are rebuilt from the tables once
// this transaction commits.
void rebuild_counters_at_commit();

// Shared memory: requested when the library is preloaded (from _PG_init).
void request_governance_memory();

// The UTC offset of a time zone at an instant, from PostgreSQL's time zone database.
core::UtcOffset utc_offset_of(const std::string& time_zone);

} // namespace orchestrator::pg
