#include "orchestrator/pg/alerts.hpp"

#include "orchestrator/core/alerts.hpp"
#include "orchestrator/pg/clock.hpp"
#include "orchestrator/pg/config_cache.hpp"
#include "orchestrator/pg/governance.hpp"
#include "orchestrator/pg/settings.hpp"
#include "orchestrator/pg/spi.hpp"

#include <fmt/format.h>

extern "C" {
#include "commands/async.h"
}

namespace orchestrator::pg {

namespace {

constexpr auto error_rate_window = core::minutes(15);
constexpr long queue_count_cap = 100000; // a deeper queue counts as this many

// $1 now, $2 budget day start, $3 error-rate window start, $4 long-running limit (started
// before), $5 queue count cap
Statement observations_statement(
    "SELECT (SELECT $1 - s.alive_at FROM orchestrator.worker_state s),"
    "       (SELECT coalesce(sum(e.cost_usd), 0) FROM orchestrator.workflow_orchestration e"
    "         WHERE e.finished_at >= $2 AND e.status <> 'running')::float8"
    "     + (SELECT coalesce(sum(e.reserved_cost_usd), 0) FROM orchestrator.workflow_orchestration e"
    "         WHERE e.status = 'running')::float8,"
    "       (SELECT count(*) FROM orchestrator.workflow_orchestration e"
    "         WHERE e.created_at >= $3 - interval '1 day' AND e.finished_at >= $3"
    "           AND e.workflow_type <> 'orchestrator')::integer,"
    "       (SELECT count(*) FROM orchestrator.workflow_orchestration e"
    "         WHERE e.created_at >= $3 - interval '1 day' AND e.finished_at >= $3"
    "           AND e.status IN ('failed', 'expired'))::integer,"
    "       (SELECT count(*) FROM (SELECT 1 FROM orchestrator.task t"
    "                               WHERE t.state = 'queued' AND t.ready_at <= $1 LIMIT $5) q),"
    "       (SELECT count(*) FROM orchestrator.workflow_orchestration e"
    "         WHERE e.status = 'running' AND e.started_at < $4)::integer,"
    "       (SELECT $1 - min(e.started_at) FROM orchestrator.workflow_orchestration e"
    "         WHERE e.status = 'running')",
    {TIMESTAMPTZOID, TIMESTAMPTZOID, TIMESTAMPTZOID, TIMESTAMPTZOID, INT8OID});

// Calls recorded by the executions started in the last minute, per API.
Statement api_load_statement(
    "SELECT a.name, a.calls_per_minute,"
    "       coalesce((SELECT sum((e.api_calls ->> a.name)::integer)"
    "                   FROM orchestrator.workflow_orchestration e"
    "                  WHERE e.created_at > $1 - interval '1 minute' AND e.api_calls ? a.name), 0)::integer"
    "  FROM orchestrator.api a ORDER BY a.name",
    {TIMESTAMPTZOID});

Statement open_alerts_statement(
    "SELECT condition FROM orchestrator.alert WHERE resolved_at IS NULL ORDER BY id FOR UPDATE", {});

Statement raise_statement(
    "INSERT INTO orchestrator.alert (condition, severity, message, value, threshold, raised_at,"
    "                                details)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)"
    " RETURNING id",
    {TEXTOID, TEXTOID, TEXTOID, FLOAT8OID, FLOAT8OID, TIMESTAMPTZOID, TEXTOID});

Statement resolve_statement(
    "UPDATE orchestrator.alert SET resolved_at = $2 WHERE condition = $1 AND resolved_at IS NULL"
    " RETURNING id, severity, message",
    {TEXTOID, TIMESTAMPTZOID});

core::Duration interval_duration(const Rows& rows, int column) {
    return from_interval(*DatumGetIntervalP(rows.datum(0, column)));
}

core::Observations observe(core::TimePoint now, const core::AlertPolicy& policy) {
    const ConfigSnapshot& snapshot = config_snapshot();
    const GovernanceConfig config = config_at(snapshot, now);
    Rows rows = observations_statement.run(
        {timestamptz_param(to_timestamptz(now)), timestamptz_param(to_timestamptz(config.budget_day_start)),
         timestamptz_param(to_timestamptz(now - error_rate_window)),
         timestamptz_param(to_timestamptz(now - policy.long_execution)),
         int64_param(queue_count_cap)},
        true);
    core::Observations seen;
    if (!rows.is_null(0, 1))
        seen.worker_silent_for = interval_duration(rows, 1);
    seen.budget_spent_usd = rows.get_float8(0, 2);
    seen.budget_limit_usd = static_cast<double>(config.budget.daily_limit) / core::micro_usd_per_usd;
    seen.attempts_finished = rows.get_int32(0, 3);
    seen.attempts_failed = rows.get_int32(0, 4);
    seen.queue_depth = static_cast<long>(rows.get_int64(0, 5));
    seen.long_executions = rows.get_int32(0, 6);
    if (!rows.is_null(0, 7))
        seen.longest_running = interval_duration(rows, 7);
    Rows apis = api_load_statement.run({timestamptz_param(to_timestamptz(now))}, true);
    for (std::uint64_t i = 0; i < apis.size(); ++i)
        seen.apis.push_back({apis.get_text(i, 1), apis.get_int32(i, 3), apis.get_int32(i, 2)});
    return seen;
}

void announce(const char* event, std::int64_t id, const std::string& condition,
              const std::string& severity, const std::string& message) {
    // Conditions and severities are ours ([a-z_:0-9]); the message may hold an API's name only.
    const std::string payload = fmt::format(
        "{{\"event\": \"{}\", \"alert_id\": {}, \"condition\": \"{}\", \"severity\": \"{}\", "
        "\"message\": \"{}\"}}",
        event, id, condition, severity, message);
    const char* channel = settings::alerts_channel;
    const char* text = payload.c_str();
    pg_call([channel, text] { Async_Notify(channel, text); });
}

} // namespace

int evaluate_alerts_now() {
    const core::TimePoint now = server_clock().now();
    const core::AlertPolicy policy;
    const std::vector<core::AlertCondition> holding =
        core::evaluate_alerts(policy, observe(now, policy));
    Rows open = open_alerts_statement.run({});
    std::vector<std::string> open_keys;
    for (std::uint64_t i = 0; i < open.size(); ++i)
        open_keys.push_back(open.get_text(i, 1));
    const core::AlertChanges changes = core::alert_changes(holding, open_keys);
    for (const core::AlertCondition& c : changes.raise)
        raise_alert(c, now);
    for (const std::string& key : changes.resolve)
        resolve_alert(key, now);
    return static_cast<int>(changes.raise.size() + changes.resolve.size());
}

std::int64_t raise_alert(const core::AlertCondition& c, core::TimePoint at,
                         const char* details_json) {
    const char* severity = core::to_string(c.severity);
    Rows raised = raise_statement.run(
        {text_param(c.key), text_param(severity), text_param(c.message), float8_param(c.value),
         float8_param(c.threshold), timestamptz_param(to_timestamptz(at)),
         details_json != nullptr ? text_param(details_json) : null_param()});
    const std::int64_t id = raised.get_int64(0, 1);
    announce("raised", id, c.key, severity, c.message);
    return id;
}

int resolve_alert(const std::string& key, core::TimePoint at) {
    Rows resolved = resolve_statement.run({text_param(key), timestamptz_param(to_timestamptz(at))});
    for (std::uint64_t i = 0; i < resolved.size(); ++i)
        announce("resolved", resolved.get_int64(i, 1), key, resolved.get_text(i, 2),
                 resolved.get_text(i, 3));
    return static_cast<int>(resolved.size());
}

} // namespace orchestrator::pg
