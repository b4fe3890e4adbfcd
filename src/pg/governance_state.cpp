#include "orchestrator/pg/governance.hpp"

#include "orchestrator/core/error.hpp"
#include "orchestrator/pg/clock.hpp"
#include "orchestrator/pg/guard.hpp"
#include "orchestrator/pg/spi.hpp"
#include "orchestrator/pg/table_writer.hpp"

#include <algorithm>
#include <boost/container/flat_map.hpp>
#include <fmt/format.h>

extern "C" {
#include "pgtime.h"
#include "storage/ipc.h"
#include "storage/lock.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/syscache.h"
}

namespace orchestrator::pg {

namespace {

constexpr int max_types = 128;
constexpr int max_apis = 64;
// Advisory lock key (two int4s) serializing loads, and every dispatch without shared memory.
constexpr int lock_class = 0x4f524348; // "ORCH"
constexpr int lock_key_counters = 1;

struct TypeCounters {
    std::int32_t type_id = 0;
    std::int32_t running = 0;
    core::BudgetLedger budget;
    double pass = 0;
};

struct ApiCounters {
    std::int32_t api_id = 0;
    core::ApiUsage usage;
};

// Plain data: it lives in shared memory.
struct Counters {
    bool loaded = false;
    Oid database = InvalidOid;
    Oid extension = InvalidOid;
    core::BudgetLedger budget;
    std::int32_t db_connections = 0;
    std::int32_t memory_mb = 0;
    core::FairShareState fair;
    std::int32_t type_count = 0;
    TypeCounters types[max_types];
    std::int32_t api_count = 0;
    ApiCounters apis[max_apis];
};

// One set of counters per database using the orchestrator, for this many databases; a database
// beyond them is governed from its tables (exact, serialized).
constexpr int max_databases = 8;
Counters* shared_slots = nullptr;
Counters* shared_counters = nullptr; // this backend's database's slot, once claimed
LWLock* shared_lock = nullptr;
Counters local_counters; // without shared memory: this call's snapshot of the tables

shmem_request_hook_type previous_request_hook = nullptr;
shmem_startup_hook_type previous_startup_hook = nullptr;

// What must be given back if the transaction (or subtransaction) aborts, and what to release
// when it commits.
struct Pending {
    SubTransactionId subtransaction;
    Holding holding;
    core::MicroUsd spent = 0;
    ApiCalls actual_calls;
    core::TimePoint at{};
    bool live = true;
};
std::vector<Pending> undo_on_abort;
std::vector<Pending> release_on_commit;
bool stale_at_commit = false; // the tables were truncated: rebuild the counters

class CountersLock {
public:
    explicit CountersLock(bool shared) : shared_(shared) {
        if (shared_)
            pg_call([] { LWLockAcquire(shared_lock, LW_EXCLUSIVE); });
    }
    ~CountersLock() {
        if (shared_)
            LWLockRelease(shared_lock);
    }
    CountersLock(const CountersLock&) = delete;
    CountersLock& operator=(const CountersLock&) = delete;

private:
    bool shared_;
};

Counters& counters(bool shared) { return shared ? *shared_counters : local_counters; }

TypeCounters& type_counters(Counters& c, std::int32_t type_id) {
    for (int i = 0; i < c.type_count; ++i)
        if (c.types[i].type_id == type_id)
            return c.types[i];
    if (c.type_count == max_types)
        throw core::Error(core::sqlstate::program_limit_exceeded,
                          fmt::format("at most {} workflow types are supported", max_types));
    TypeCounters& t = c.types[c.type_count++];
    t = TypeCounters{};
    t.type_id = type_id;
    t.pass = c.fair.frontier;
    t.budget.day_start_us = c.budget.day_start_us;
    return t;
}

ApiCounters& api_counters(Counters& c, std::int32_t api_id) {
    for (int i = 0; i < c.api_count; ++i)
        if (c.apis[i].api_id == api_id)
            return c.apis[i];
    if (c.api_count == max_apis)
        throw core::Error(core::sqlstate::program_limit_exceeded,
                          fmt::format("at most {} APIs are supported", max_apis));
    ApiCounters& a = c.apis[c.api_count++];
    a = ApiCounters{};
    a.api_id = api_id;
    return a;
}

const ApiConfig* find_api(const std::vector<ApiConfig>& apis, std::int32_t id) {
    for (const ApiConfig& a : apis)
        if (a.id == id)
            return &a;
    return nullptr;
}

// Gives back what a holding took (an aborted dispatch) or held (a finished execution).
void give_back(Counters& c, const Holding& h, core::MicroUsd spent,
               const ApiCalls* actual_calls, core::TimePoint now) {
    TypeCounters& t = type_counters(c, h.type_id);
    t.running = std::max(0, t.running - 1);
    c.db_connections = std::max(0, c.db_connections - h.db_connections);
    c.memory_mb = std::max(0, c.memory_mb - h.memory_mb);
    c.budget.reserved = std::max<core::MicroUsd>(0, c.budget.reserved - h.reserved_cost);
    t.budget.reserved = std::max<core::MicroUsd>(0, t.budget.reserved - h.reserved_cost);
    c.budget.spent += spent;
    t.budget.spent += spent;
    for (const auto& [api_id, reserved] : h.api_calls) {
        ApiCounters& a = api_counters(c, api_id);
        int actual = 0;
        if (actual_calls != nullptr) {
            auto it = actual_calls->find(api_id);
            actual = it == actual_calls->end() ? reserved : it->second;
        }
        // The limit only bounds a refill, which give-back does not need: use the largest.
        const core::ApiLimit any{1000000, 1000000};
        if (actual < reserved)
            core::return_calls(any, a.usage, reserved - actual, h.taken_at);
        else if (actual > reserved)
            core::add_calls(a.usage, actual - reserved, now);
    }
    if (actual_calls != nullptr)
        for (const auto& [api_id, calls] : *actual_calls)
            if (std::none_of(h.api_calls.begin(), h.api_calls.end(),
                             [id = api_id](const auto& p) { return p.first == id; }))
                core::add_calls(api_counters(c, api_id).usage, calls, now);
}

void on_transaction_end(XactEvent event, void*) {
    if (shared_counters == nullptr)
        return;
    const bool commit = event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT ||
                        event == XACT_EVENT_PREPARE;
    const bool abort = event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT;
    if (!commit && !abort)
        return;
    try {
        const std::vector<Pending>& apply = commit ? release_on_commit : undo_on_abort;
        if (std::any_of(apply.begin(), apply.end(), [](const Pending& p) { return p.live; })) {
            CountersLock lock(true);
            for (const Pending& p : apply)
                if (p.live)
                    give_back(*shared_counters, p.holding, p.spent,
                              commit ? &p.actual_calls : nullptr, p.at);
        }
    } catch (...) {
        // Nothing may escape into PostgreSQL here; a missed release errs on the safe side.
    }
    if (commit && stale_at_commit && shared_counters != nullptr) {
        CountersLock lock(true);
        shared_counters->loaded = false;
    }
    stale_at_commit = false;
    undo_on_abort.clear();
    release_on_commit.clear();
}

void on_subtransaction_end(SubXactEvent event, SubTransactionId mine, SubTransactionId parent,
                           void*) {
    if (shared_counters == nullptr)
        return;
    try {
        if (event == SUBXACT_EVENT_COMMIT_SUB) {
            for (Pending& p : undo_on_abort)
                if (p.subtransaction == mine)
                    p.subtransaction = parent;
            for (Pending& p : release_on_commit)
                if (p.subtransaction == mine)
                    p.subtransaction = parent;
        } else if (event == SUBXACT_EVENT_ABORT_SUB) {
            CountersLock lock(true);
            for (Pending& p : undo_on_abort)
                if (p.live && p.subtransaction >= mine) {
                    give_back(*shared_counters, p.holding, 0, nullptr, p.at);
                    p.live = false;
                }
            for (Pending& p : release_on_commit)
                if (p.subtransaction >= mine)
                    p.live = false;
        }
    } catch (...) {
    }
}

void register_transaction_callbacks() {
    static bool registered = false;
    if (registered)
        return;
    pg_call([] {
        RegisterXactCallback(on_transaction_end, nullptr);
        RegisterSubXactCallback(on_subtransaction_end, nullptr);
    });
    registered = true;
}

Statement running_statement(
    "SELECT w.id, count(e.id)::integer,"
    "       coalesce((sum(e.reserved_cost_usd) * 1000000)::bigint, 0),"
    "       coalesce(sum(e.db_connections), 0)::integer, coalesce(sum(e.memory_mb), 0)::integer"
    "  FROM orchestrator.workflow_type w"
    "  LEFT JOIN orchestrator.workflow_orchestration e"
    "         ON e.workflow_type = w.name AND e.status = 'running'"
    " GROUP BY w.id",
    {});

Statement spent_statement(
    "SELECT w.id, coalesce((sum(e.cost_usd) * 1000000)::bigint, 0)"
    "  FROM orchestrator.workflow_orchestration e"
    "  JOIN orchestrator.workflow_type w ON w.name = e.workflow_type"
    " WHERE e.finished_at >= $1 AND e.status <> 'running' AND e.cost_usd IS NOT NULL"
    // Executions finishing today started at most a day (the longest lease) before.
    "   AND e.created_at >= $1 - interval '1 day'"
    " GROUP BY w.id",
    {TIMESTAMPTZOID});

Statement calls_statement(
    "SELECT a.id, floor(extract(epoch FROM e.created_at))::bigint,"
    "       sum((e.api_calls ->> a.name)::integer)::integer"
    "  FROM orchestrator.workflow_orchestration e"
    "  JOIN orchestrator.api a ON e.api_calls ? a.name"
    " WHERE e.created_at > $1"
    " GROUP BY 1, 2",
    {TIMESTAMPTZOID});

// Rebuilds the counters from the tables, reading under the latest snapshot so that an
// executions committed while this transaction waited for the lock are seen.
void load_counters(Counters& c, core::TimePoint now, core::TimePoint day_start) {
    // Fair-share passes are not in the tables: they survive a reload.
    boost::container::flat_map<std::int32_t, double> passes;
    for (int i = 0; i < c.type_count; ++i)
        passes[c.types[i].type_id] = c.types[i].pass;
    const core::FairShareState fair = c.fair;
    const Oid database = c.database;
    c = Counters{};
    c.fair = fair;
    c.database = database;
    for (const auto& [type_id, pass] : passes)
        type_counters(c, type_id).pass = pass;
    c.budget.day_start_us = day_start.time_since_epoch().count();
    const LatestSnapshot latest;
    Rows running = running_statement.run({}, true);
    for (std::uint64_t i = 0; i < running.size(); ++i) {
        TypeCounters& t = type_counters(c, running.get_int32(i, 1));
        t.running = running.get_int32(i, 2);
        t.budget.reserved = running.get_int64(i, 3);
        c.budget.reserved += t.budget.reserved;
        c.db_connections += running.get_int32(i, 4);
        c.memory_mb += running.get_int32(i, 5);
    }
    Rows spent = spent_statement.run({timestamptz_param(to_timestamptz(day_start))}, true);
    for (std::uint64_t i = 0; i < spent.size(); ++i) {
        TypeCounters& t = type_counters(c, spent.get_int32(i, 1));
        t.budget.spent = spent.get_int64(i, 2);
        c.budget.spent += t.budget.spent;
    }
    const core::TimePoint window_start = now - core::seconds(core::ApiUsage::window_seconds);
    Rows calls = calls_statement.run({timestamptz_param(to_timestamptz(window_start))}, true);
    for (std::uint64_t i = 0; i < calls.size(); ++i) {
        ApiCounters& a = api_counters(c, calls.get_int32(i, 1));
        const core::TimePoint at{core::seconds(calls.get_int64(i, 2))};
        core::add_calls(a.usage, calls.get_int32(i, 3), at);
    }
}

// Finds or claims this database's slot; a slot whose database was dropped is reused.
bool owns_shared_counters() {
    if (shared_counters != nullptr)
        return true;
    if (shared_slots == nullptr)
        return false;
    Oid owners[max_databases];
    {
        CountersLock lock(true);
        for (int i = 0; i < max_databases; ++i)
            owners[i] = shared_slots[i].database;
    }
    bool gone[max_databases];
    for (int i = 0; i < max_databases; ++i) {
        const Oid owner = owners[i];
        gone[i] = owner != InvalidOid && owner != MyDatabaseId &&
                  !pg_call([owner] {
                      return SearchSysCacheExists1(DATABASEOID, ObjectIdGetDatum(owner));
                  });
    }
    CountersLock lock(true);
    for (int pass = 0; pass < 2; ++pass) {
        for (int i = 0; i < max_databases; ++i) {
            Counters& slot = shared_slots[i];
            const bool mine = slot.database == MyDatabaseId;
            const bool free = slot.database == InvalidOid || (gone[i] && slot.database == owners[i]);
            if (pass == 0 ? mine : free) {
                if (!mine) {
                    slot = Counters{};
                    slot.database = MyDatabaseId;
                }
                shared_counters = &slot;
                return true;
            }
        }
    }
    return false;
}

// Whether the shared counters were built for this extension and this budget day.
bool shared_counters_current(Oid extension, core::TimePoint day_start) {
    CountersLock lock(true);
    return shared_counters->loaded && shared_counters->extension == extension &&
           shared_counters->budget.day_start_us == day_start.time_since_epoch().count();
}

// The lock that orders rebuilds against the calls that move the counters (the same lock as
// pg_advisory_xact_lock(lock_class, lock_key_counters)): those hold it in share mode to the end of
// their transaction, a rebuild holds it exclusively while it reads and installs.
LOCKTAG counters_lock_tag() {
    LOCKTAG tag;
    SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, static_cast<uint32>(lock_class),
                         static_cast<uint32>(lock_key_counters), 2);
    return tag;
}

void lock_counters(LOCKMODE mode) {
    pg_call([mode] {
        LOCKTAG tag = counters_lock_tag();
        (void)LockAcquire(&tag, mode, false, false);
    });
}

// Exclusive for the extent of a rebuild only (a session lock, released by the destructor also
// on the way out through an error), so dispatchers wait for the rebuild, not for its transaction.
class RebuildLock {
public:
    RebuildLock() {
        pg_call([] {
            LOCKTAG tag = counters_lock_tag();
            (void)LockAcquire(&tag, ExclusiveLock, true, false);
        });
    }
    ~RebuildLock() {
        LOCKTAG tag = counters_lock_tag();
        LockRelease(&tag, ExclusiveLock, true);
    }
    RebuildLock(const RebuildLock&) = delete;
    RebuildLock& operator=(const RebuildLock&) = delete;
};

void shmem_request() {
    if (previous_request_hook != nullptr)
        previous_request_hook();
    RequestAddinShmemSpace(MAXALIGN(sizeof(Counters) * max_databases));
    RequestNamedLWLockTranche("orchestrator", 1);
}

void shmem_startup() {
    if (previous_startup_hook != nullptr)
        previous_startup_hook();
    LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
    bool found = false;
    void* memory =
        ShmemInitStruct("orchestrator counters", sizeof(Counters) * max_databases, &found);
    if (!found)
        for (int i = 0; i < max_databases; ++i)
            new (static_cast<Counters*>(memory) + i) Counters();
    shared_slots = static_cast<Counters*>(memory);
    shared_lock = &(GetNamedLWLockTranche("orchestrator"))->lock;
    LWLockRelease(AddinShmemInitLock);
}

} // namespace

void request_governance_memory() {
    previous_request_hook = shmem_request_hook;
    shmem_request_hook = shmem_request;
    previous_startup_hook = shmem_startup_hook;
    shmem_startup_hook = shmem_startup;
}

core::UtcOffset utc_offset_of(const std::string& time_zone) {
    const char* name = time_zone.c_str();
    pg_tz* zone = pg_call([name] { return pg_tzset(name); });
    if (zone == nullptr)
        throw core::Error(core::sqlstate::invalid_parameter_value,
                          fmt::format("time zone \"{}\" is not recognized", time_zone));
    return [zone](core::TimePoint t) -> std::int64_t {
        const pg_time_t seconds =
            std::chrono::duration_cast<core::seconds>(t.time_since_epoch()).count();
        const pg_tm* local = pg_localtime(&seconds, zone);
        return local != nullptr ? local->tm_gmtoff : 0;
    };
}

Governance::Governance(Oid extension, const GovernanceConfig& config,
                       const std::vector<ApiConfig>& apis, core::TimePoint now)
    : config_(config), apis_(apis), now_(now), shared_(false) {
    const core::TimePoint day_start = config.budget_day_start;
    shared_ = owns_shared_counters();
    if (!shared_) {
        lock_counters(ExclusiveLock);
        load_counters(local_counters, now, day_start);
        return;
    }
    register_transaction_callbacks();
    // Every call that moves the counters holds the lock in share mode until its transaction ends;
    // a rebuild (first use, a new extension, a new budget day) takes it exclusively, so no
    // reservation or release is in flight while the tables are read.
    if (!shared_counters_current(extension, day_start)) {
        RebuildLock rebuilding;
        if (!shared_counters_current(extension, day_start)) {
            // The tables cannot be read under an LWLock: read first, then install. Type ids may
            // have been reused by a new extension: only the same one's fair-share passes carry over.
            Counters fresh;
            {
                CountersLock lock(true);
                if (shared_counters->loaded && shared_counters->extension == extension)
                    fresh = *shared_counters;
            }
            fresh.database = MyDatabaseId;
            load_counters(fresh, now, day_start);
            fresh.loaded = true;
            fresh.extension = extension;
            CountersLock lock(true);
            *shared_counters = fresh;
        }
        lock_counters(ShareLock);
        return;
    }
    lock_counters(ShareLock);
}

core::ExecutionPlan Governance::plan_locked(const TypeRules& rules, bool type_breaker_allows,
                                            const ApiVerdicts& api_breakers_allow) {
    Counters& c = counters(shared_);
    TypeCounters& t = type_counters(c, rules.id);
    core::TypeDemand demand;
    demand.name = rules.name;
    demand.batch_min = rules.batch_min;
    demand.batch_max = rules.batch_max;
    demand.running = t.running;
    demand.max_concurrent = rules.max_concurrent;
    demand.connections_per_execution = rules.db_connections;
    demand.memory_mb_per_execution = rules.memory_mb;
    demand.cost_per_task = rules.cost_per_task;
    demand.breaker_allows = type_breaker_allows;
    if (rules.daily_budget) {
        core::BudgetPolicy type_policy;
        type_policy.daily_limit = *rules.daily_budget + rules.budget_raise;
        demand.type_budget_remaining = core::remaining(type_policy, t.budget, true);
    }
    for (const ApiNeed& need : rules.apis) {
        const ApiConfig* api = find_api(apis_, need.api_id);
        if (api == nullptr)
            continue;
        ApiCounters& a = api_counters(c, need.api_id);
        // The table holds the pause (a 429's retry-after, lifted by resume_api).
        a.usage.paused_until_us =
            api->paused_until != 0
                ? from_timestamptz(api->paused_until).time_since_epoch().count()
                : 0;
        auto allow = api_breakers_allow.find(need.api_id);
        demand.apis.push_back({need.api_name, need.calls_per_task,
                               core::calls_available(api->limit, a.usage, now_),
                               allow == api_breakers_allow.end() || allow->second});
    }
    core::SystemCapacity system;
    system.connections_free = config_.max_db_connections - c.db_connections;
    system.memory_mb_free = config_.max_memory_mb - c.memory_mb;
    system.budget_remaining = core::remaining(config_.budget, c.budget, false);
    system.budget_remaining_critical = core::remaining(config_.budget, c.budget, true);
    system.critical_priority = config_.budget.critical_priority;
    system.past_soft_threshold = core::past_soft_threshold(config_.budget, c.budget);
    return core::plan_execution(demand, system);
}

core::ExecutionPlan Governance::plan(const TypeRules& rules, bool type_breaker_allows,
                                     const ApiVerdicts& api_breakers_allow) {
    CountersLock lock(shared_);
    return plan_locked(rules, type_breaker_allows, api_breakers_allow);
}

Reservation Governance::reserve(const TypeRules& rules, bool type_breaker_allows,
                                const ApiVerdicts& api_breakers_allow) {
    Reservation r;
    {
        CountersLock lock(shared_);
        r.plan = plan_locked(rules, type_breaker_allows, api_breakers_allow);
        Counters& c = counters(shared_);
        r.reserved_tasks = r.plan.grant.max_tasks;
        if (r.reserved_tasks == 0)
            return r;

        TypeCounters& t = type_counters(c, rules.id);
        Holding& h = r.holding;
        h.type_id = rules.id;
        h.db_connections = rules.db_connections;
        h.memory_mb = rules.memory_mb;
        h.reserved_cost = rules.cost_per_task * r.reserved_tasks;
        h.taken_at = now_;
        t.running += 1;
        c.db_connections += h.db_connections;
        c.memory_mb += h.memory_mb;
        c.budget.reserved += h.reserved_cost;
        t.budget.reserved += h.reserved_cost;
        for (const ApiNeed& need : rules.apis) {
            if (find_api(apis_, need.api_id) == nullptr || need.calls_per_task == 0)
                continue;
            const int calls = need.calls_per_task * r.reserved_tasks;
            core::take_calls(api_counters(c, need.api_id).usage, calls, now_);
            h.api_calls.emplace_back(need.api_id, calls);
        }
    }
    if (shared_) {
        const SubTransactionId sub = pg_call([] { return GetCurrentSubTransactionId(); });
        undo_on_abort.push_back({sub, r.holding, 0, {}, now_, true});
        r.undo_slot = static_cast<int>(undo_on_abort.size()) - 1;
    }
    return r;
}

int Governance::settle_claim(Reservation& r, const TypeRules& rules,
                             const std::vector<core::MicroUsd>& task_costs) {
    if (r.reserved_tasks == 0)
        return 0;
    int fit = 0;
    {
        CountersLock lock(shared_);
        Counters& c = counters(shared_);
        TypeCounters& t = type_counters(c, rules.id);
        Holding& h = r.holding;
        const bool critical = r.plan.min_priority > 1;
        core::MicroUsd may_spend =
            h.reserved_cost + core::remaining(config_.budget, c.budget, critical);
        if (rules.daily_budget) {
            core::BudgetPolicy type_policy;
            type_policy.daily_limit = *rules.daily_budget + rules.budget_raise;
            may_spend = std::min(may_spend,
                                 h.reserved_cost + core::remaining(type_policy, t.budget, true));
        }
        std::vector<core::MicroUsd> costs(task_costs.begin(),
                                          task_costs.begin() +
                                              std::min<std::size_t>(task_costs.size(),
                                                                    r.reserved_tasks));
        fit = core::tasks_within(costs, may_spend);
        if (fit == 0) {
            give_back(c, h, 0, nullptr, now_);
            r.holding = Holding{};
        } else {
            core::MicroUsd cost = 0;
            for (int i = 0; i < fit; ++i)
                cost += costs[static_cast<std::size_t>(i)];
            c.budget.reserved += cost - h.reserved_cost;
            t.budget.reserved += cost - h.reserved_cost;
            h.reserved_cost = cost;
            for (auto& [api_id, calls] : h.api_calls) {
                const int per_task = calls / r.reserved_tasks;
                const int keep = per_task * fit;
                const core::ApiLimit any{1000000, 1000000};
                core::return_calls(any, api_counters(c, api_id).usage, calls - keep, h.taken_at);
                calls = keep;
            }
        }
    }
    if (r.undo_slot >= 0) {
        Pending& p = undo_on_abort[static_cast<std::size_t>(r.undo_slot)];
        p.holding = r.holding;
        p.live = fit > 0;
    }
    r.reserved_tasks = fit;
    return fit;
}

double Governance::pass_of(std::int32_t type_id) {
    CountersLock lock(shared_);
    return type_counters(counters(shared_), type_id).pass;
}

core::FairShareState Governance::fair_share() {
    CountersLock lock(shared_);
    return counters(shared_).fair;
}

void Governance::charge(core::ContendingType& type) {
    CountersLock lock(shared_);
    Counters& c = counters(shared_);
    core::charge_type(c.fair, type);
    type_counters(c, type.type_id).pass = type.pass;
}

void rebuild_counters_at_commit() {
    if (!owns_shared_counters())
        return;
    register_transaction_callbacks();
    stale_at_commit = true;
}

void release_at_commit(Oid extension, const Holding& holding, core::MicroUsd spent,
                       const ApiCalls& actual_calls) {
    if (!owns_shared_counters())
        return; // the tables are the only truth
    // Held to commit: a rebuild waits for this release and then reads its result from the tables.
    lock_counters(ShareLock);
    {
        CountersLock lock(true);
        if (!shared_counters->loaded || shared_counters->extension != extension)
            return; // the next rebuild reads it from the tables
    }
    register_transaction_callbacks();
    const SubTransactionId sub = pg_call([] { return GetCurrentSubTransactionId(); });
    release_on_commit.push_back({sub, holding, spent, actual_calls, server_clock().now(), true});
}

} // namespace orchestrator::pg
