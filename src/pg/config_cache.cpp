#include "orchestrator/pg/config_cache.hpp"

#include "orchestrator/pg/clock.hpp"
#include "orchestrator/pg/spi.hpp"
#include "orchestrator/pg/table_writer.hpp"

extern "C" {
#include "port/atomics.h"
#include "storage/ipc.h"
#include "storage/shmem.h"
}

namespace orchestrator::pg {

namespace {

pg_atomic_uint64* shared_version = nullptr;
shmem_request_hook_type previous_request_hook = nullptr;
shmem_startup_hook_type previous_startup_hook = nullptr;

bool changed_in_this_transaction = false;
bool cache_valid = false;
std::uint64_t cached_version = 0;
ConfigSnapshot cache;

Statement config_statement(
    "SELECT (daily_budget_usd * 1000000)::bigint, budget_soft_ratio::float8, critical_priority,"
    "       (critical_reserve_usd * 1000000)::bigint, budget_day_start_hour, time_zone,"
    "       (budget_raise_usd * 1000000)::bigint, budget_raise_day, max_db_connections,"
    "       max_memory_mb, business_days,"
    "       (extract(epoch FROM business_start) / 60)::integer,"
    "       (extract(epoch FROM business_end) / 60)::integer,"
    "       breaker_failure_threshold, (extract(epoch FROM breaker_cooldown) * 1000000)::bigint"
    "  FROM orchestrator.config",
    {});

Statement types_statement(
    "SELECT w.id, w.name, w.paused, w.weight, coalesce(w.weight_outside_hours, w.weight),"
    "       w.batch_min, w.batch_max, w.max_concurrent,"
    "       (extract(epoch FROM w.lease_timeout) * 1000000)::bigint, w.webhook_url,"
    "       w.n8n_workflow_id, w.db_connections, w.memory_mb,"
    "       (w.estimated_cost_usd * 1000000)::bigint, (w.daily_budget_usd * 1000000)::bigint,"
    "       (w.budget_raise_usd * 1000000)::bigint, w.budget_raise_day, w.concurrency_key_limit,"
    "       w.max_queue_wait"
    "  FROM orchestrator.workflow_type w ORDER BY w.id",
    {});

Statement needs_statement(
    "SELECT n.workflow_type_id, a.id, a.name, n.calls_per_task"
    "  FROM orchestrator.workflow_type_api n JOIN orchestrator.api a ON a.id = n.api_id",
    {});

Statement apis_statement(
    "SELECT id, name, calls_per_minute, burst, paused_until FROM orchestrator.api", {});

std::optional<core::TimePoint> optional_time(const Rows& rows, std::uint64_t row, int column) {
    if (rows.is_null(row, column))
        return std::nullopt;
    return from_timestamptz(rows.get_timestamptz(row, column));
}

std::optional<std::string> optional_text(const Rows& rows, std::uint64_t row, int column) {
    if (rows.is_null(row, column))
        return std::nullopt;
    return rows.get_text(row, column);
}

void load(ConfigSnapshot& s) {
    s = ConfigSnapshot{};
    Rows c = config_statement.run({}, true);
    GovernanceConfig& g = s.config;
    g.budget.daily_limit = c.get_int64(0, 1);
    g.budget.soft_ratio = c.get_float8(0, 2);
    g.budget.critical_priority = c.get_int32(0, 3);
    g.budget.critical_reserve = c.get_int64(0, 4);
    g.budget_day_start_hour = c.get_int32(0, 5);
    g.time_zone = c.get_text(0, 6);
    s.budget_raise = c.get_int64(0, 7);
    s.budget_raise_day = optional_time(c, 0, 8);
    g.max_db_connections = c.get_int32(0, 9);
    g.max_memory_mb = c.get_int32(0, 10);
    g.business_hours.days_mask = static_cast<std::uint8_t>(c.get_int32(0, 11));
    g.business_hours.start_minute = c.get_int32(0, 12);
    g.business_hours.end_minute = c.get_int32(0, 13);
    g.breaker.failure_threshold = c.get_int32(0, 14);
    g.breaker.cooldown = core::Duration(c.get_int64(0, 15));

    Rows t = types_statement.run({}, true);
    for (std::uint64_t i = 0; i < t.size(); ++i) {
        TypeConfig type;
        type.rules.id = t.get_int32(i, 1);
        type.rules.name = t.get_text(i, 2);
        type.paused = t.get_bool(i, 3);
        type.weight_inside = t.get_int32(i, 4);
        type.weight_outside = t.get_int32(i, 5);
        type.rules.batch_min = t.get_int32(i, 6);
        type.rules.batch_max = t.get_int32(i, 7);
        if (!t.is_null(i, 8))
            type.rules.max_concurrent = t.get_int32(i, 8);
        type.lease_timeout = core::Duration(t.get_int64(i, 9));
        type.webhook_url = optional_text(t, i, 10);
        type.n8n_workflow_id = optional_text(t, i, 11);
        type.rules.db_connections = t.get_int32(i, 12);
        type.rules.memory_mb = t.get_int32(i, 13);
        type.rules.cost_per_task = t.get_int64(i, 14);
        if (!t.is_null(i, 15))
            type.rules.daily_budget = t.get_int64(i, 15);
        type.rules.budget_raise = t.get_int64(i, 16);
        type.raise_day = optional_time(t, i, 17);
        type.key_limit = t.get_int32(i, 18);
        if (!t.is_null(i, 19))
            type.max_queue_wait = *DatumGetIntervalP(t.datum(i, 19));
        s.types.push_back(std::move(type));
    }
    Rows n = needs_statement.run({}, true);
    for (std::uint64_t i = 0; i < n.size(); ++i)
        for (TypeConfig& type : s.types)
            if (type.rules.id == n.get_int32(i, 1))
                type.rules.apis.push_back({n.get_int32(i, 2), n.get_text(i, 3), n.get_int32(i, 4)});

    Rows a = apis_statement.run({}, true);
    for (std::uint64_t i = 0; i < a.size(); ++i) {
        ApiConfig api;
        api.id = a.get_int32(i, 1);
        api.name = a.get_text(i, 2);
        api.limit.calls_per_minute = a.get_int32(i, 3);
        api.limit.burst = a.get_int32(i, 4);
        api.paused_until = a.is_null(i, 5) ? 0 : a.get_timestamptz(i, 5);
        s.apis.push_back(std::move(api));
    }
    s.breakers = load_breakers();
    const Oid schema = pg_call([] { return get_namespace_oid("orchestrator", false); });
    s.execution_id_sequence =
        pg_call([schema] { return get_relname_relid("workflow_orchestration_id_seq", schema); });
    s.task_table = pg_call([schema] { return get_relname_relid("task", schema); });
    s.task_id_sequence = pg_call([schema] { return get_relname_relid("task_id_seq", schema); });
    s.execution_table =
        pg_call([schema] { return get_relname_relid("workflow_orchestration", schema); });
}

void on_transaction_end(XactEvent event, void*) {
    if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT) {
        if (changed_in_this_transaction && shared_version != nullptr)
            pg_atomic_fetch_add_u64(shared_version, 1);
        changed_in_this_transaction = false;
    } else if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT) {
        changed_in_this_transaction = false;
    }
}

void shmem_request() {
    if (previous_request_hook != nullptr)
        previous_request_hook();
    RequestAddinShmemSpace(MAXALIGN(sizeof(pg_atomic_uint64)));
}

void shmem_startup() {
    if (previous_startup_hook != nullptr)
        previous_startup_hook();
    LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
    bool found = false;
    void* memory = ShmemInitStruct("orchestrator config version", sizeof(pg_atomic_uint64), &found);
    if (!found)
        pg_atomic_init_u64(static_cast<pg_atomic_uint64*>(memory), 1);
    shared_version = static_cast<pg_atomic_uint64*>(memory);
    LWLockRelease(AddinShmemInitLock);
}

void register_transaction_callback() {
    static bool registered = false;
    if (!registered) {
        pg_call([] { RegisterXactCallback(on_transaction_end, nullptr); });
        registered = true;
    }
}

} // namespace

const ConfigSnapshot& config_snapshot() {
    register_transaction_callback();
    // An extension dropped and created again has new tables: the version cannot tell, the
    // table's oid can.
    const Oid table = pg_call([] {
        return get_relname_relid("config", get_namespace_oid("orchestrator", false));
    });
    const std::uint64_t version =
        shared_version != nullptr ? pg_atomic_read_u64(shared_version) : 0;
    const bool usable = cache_valid && shared_version != nullptr && version == cached_version &&
                        table == cache.instance && !changed_in_this_transaction;
    if (!usable) {
        cache_valid = false;
        // Read after the version, with a snapshot taken after it: the statement's own snapshot
        // may predate the commit that raised the version (a 429's pause committed while this
        // dispatch was starting), and the data it showed would be kept as that version's.
        const LatestSnapshot latest;
        load(cache);
        cache_valid = true;
        cached_version = version;
        cache.instance = table;
    }
    return cache;
}

const TypeConfig* find_type(const ConfigSnapshot& snapshot, std::string_view name) {
    for (const TypeConfig& t : snapshot.types)
        if (t.rules.name == name)
            return &t;
    return nullptr;
}

GovernanceConfig config_at(const ConfigSnapshot& snapshot, core::TimePoint now) {
    GovernanceConfig c = snapshot.config;
    c.budget_day_start =
        core::budget_day_start(now, c.budget_day_start_hour, utc_offset_of(c.time_zone));
    if (snapshot.budget_raise_day && *snapshot.budget_raise_day == c.budget_day_start)
        c.budget.daily_limit += snapshot.budget_raise;
    return c;
}

core::MicroUsd type_raise_at(const TypeConfig& type, core::TimePoint day_start) {
    return type.raise_day && *type.raise_day == day_start ? type.rules.budget_raise : 0;
}

void mark_config_changed() {
    register_transaction_callback();
    changed_in_this_transaction = true;
}

void request_config_version_memory() {
    previous_request_hook = shmem_request_hook;
    shmem_request_hook = shmem_request;
    previous_startup_hook = shmem_startup_hook;
    shmem_startup_hook = shmem_startup;
}

} // namespace orchestrator::pg
