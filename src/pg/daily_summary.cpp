#include "orchestrator/pg/daily_summary.hpp"

#include "orchestrator/core/daily_summary.hpp"
#include "orchestrator/pg/alerts.hpp"
#include "orchestrator/pg/clock.hpp"
#include "orchestrator/pg/config_cache.hpp"
#include "orchestrator/pg/governance.hpp"
#include "orchestrator/pg/spi.hpp"

#include <optional>

namespace orchestrator::pg {

namespace {

Statement day_seen_statement("SELECT summary_day FROM orchestrator.worker_state FOR UPDATE", {});

Statement remember_day_statement("UPDATE orchestrator.worker_state SET summary_day = $1",
                                 {TIMESTAMPTZOID});

// The overall figures of the budget day [$1, $2) (the window's, not those of now), its date in
// the configured time zone, and the same figures as JSON for the alert's details.
Statement day_figures_statement(
    "SELECT to_char($1 AT TIME ZONE c.time_zone, 'YYYY-MM-DD'), m.tasks_succeeded,"
    "       m.tasks_dead_lettered, m.executions, m.executions_failed, m.cost_usd::float8,"
    "       m.wait_p95_ms, m.run_p95_ms,"
    "       (jsonb_build_object('day', to_char($1 AT TIME ZONE c.time_zone, 'YYYY-MM-DD'),"
    "                           'since', $1, 'until', $2)"
    "        || (to_jsonb(m) - ARRAY['workflow_type', 'queue_ready', 'queue_waiting', 'running',"
    "                                'oldest_ready_seconds', 'budget_spent_usd',"
    "                                'budget_reserved_usd', 'budget_utilization',"
    "                                'arrivals_per_hour', 'completions_per_hour', 'drain_seconds',"
    "                                'burn_usd_per_hour', 'budget_exhausted_seconds']))::text"
    "  FROM orchestrator.metrics($1, $2) m CROSS JOIN orchestrator.config c"
    " WHERE m.workflow_type IS NULL",
    {TIMESTAMPTZOID, TIMESTAMPTZOID});

std::optional<double> optional_float8(const Rows& rows, int column) {
    if (rows.is_null(0, column))
        return std::nullopt;
    return rows.get_float8(0, column);
}

} // namespace

bool summarize_day_if_due() {
    const core::TimePoint now = server_clock().now();
    const ConfigSnapshot& snapshot = config_snapshot();
    const core::TimePoint today = config_at(snapshot, now).budget_day_start;
    Rows seen = day_seen_statement.run({});
    std::optional<core::TimePoint> day_seen;
    if (seen.size() == 1 && !seen.is_null(0, 1))
        day_seen = from_timestamptz(seen.get_timestamptz(0, 1));
    // The budget day before today (23 or 25 hours across a daylight-saving change).
    const core::TimePoint yesterday =
        config_at(snapshot, today - core::Duration(1)).budget_day_start;
    const core::SummaryStep step = core::daily_summary_step(day_seen, today, yesterday);
    if (step == core::SummaryStep::nothing)
        return false;
    remember_day_statement.run({timestamptz_param(to_timestamptz(today))});
    if (step == core::SummaryStep::remember_day)
        return false;

    // Not read-only: it must see the rollup this pass has just written.
    Rows figures = day_figures_statement.run(
        {timestamptz_param(to_timestamptz(yesterday)), timestamptz_param(to_timestamptz(today))});
    core::DaySummary day;
    day.day = figures.get_text(0, 1);
    day.tasks_succeeded = static_cast<long>(figures.get_int64(0, 2));
    day.tasks_dead_lettered = static_cast<long>(figures.get_int64(0, 3));
    day.executions = static_cast<long>(figures.get_int64(0, 4));
    day.executions_failed = static_cast<long>(figures.get_int64(0, 5));
    day.cost_usd = figures.get_float8(0, 6);
    day.wait_p95_ms = optional_float8(figures, 7);
    day.run_p95_ms = optional_float8(figures, 8);
    const std::string details = figures.get_text(0, 9);

    resolve_alert(core::daily_summary_key, now); // superseded by today's
    raise_alert(core::daily_summary_alert(day), now, details.c_str());
    return true;
}

} // namespace orchestrator::pg
