#include "orchestrator/pg/clock.hpp"
#include "orchestrator/pg/governance.hpp"
#include "orchestrator/pg/spi.hpp"

namespace orchestrator::pg {

namespace {
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

Statement apis_statement(
    "SELECT id, name, calls_per_minute, burst, paused_until FROM orchestrator.api", {});
} // namespace

GovernanceConfig load_config(core::TimePoint now) {
    Rows rows = config_statement.run({}, true);
    GovernanceConfig c;
    c.budget.daily_limit = rows.get_int64(0, 1);
    c.budget.soft_ratio = rows.get_float8(0, 2);
    c.budget.critical_priority = rows.get_int32(0, 3);
    c.budget.critical_reserve = rows.get_int64(0, 4);
    c.budget_day_start_hour = rows.get_int32(0, 5);
    c.time_zone = rows.get_text(0, 6);
    c.budget_day_start = core::budget_day_start(now, c.budget_day_start_hour,
                                                utc_offset_of(c.time_zone));
    if (!rows.is_null(0, 8) &&
        from_timestamptz(rows.get_timestamptz(0, 8)) == c.budget_day_start)
        c.budget.daily_limit += rows.get_int64(0, 7);
    c.max_db_connections = rows.get_int32(0, 9);
    c.max_memory_mb = rows.get_int32(0, 10);
    c.business_hours.days_mask = static_cast<std::uint8_t>(rows.get_int32(0, 11));
    c.business_hours.start_minute = rows.get_int32(0, 12);
    c.business_hours.end_minute = rows.get_int32(0, 13);
    c.breaker.failure_threshold = rows.get_int32(0, 14);
    c.breaker.cooldown = core::Duration(rows.get_int64(0, 15));
    return c;
}

std::vector<ApiConfig> load_apis() {
    Rows rows = apis_statement.run({}, true);
    std::vector<ApiConfig> apis;
    for (std::uint64_t i = 0; i < rows.size(); ++i) {
        ApiConfig a;
        a.id = rows.get_int32(i, 1);
        a.name = rows.get_text(i, 2);
        a.limit.calls_per_minute = rows.get_int32(i, 3);
        a.limit.burst = rows.get_int32(i, 4);
        a.paused_until = rows.is_null(i, 5) ? 0 : rows.get_timestamptz(i, 5);
        apis.push_back(std::move(a));
    }
    return apis;
}

} // namespace orchestrator::pg
