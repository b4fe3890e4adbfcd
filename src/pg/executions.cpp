#include "orchestrator/pg/executions.hpp"

#include "orchestrator/core/error.hpp"
#include "orchestrator/core/retry.hpp"
#include "orchestrator/pg/clock.hpp"
#include "orchestrator/pg/settings.hpp"
#include "orchestrator/pg/spi.hpp"

#include <fmt/format.h>

namespace orchestrator::pg {

namespace sqlstate = core::sqlstate;

namespace {

Statement lock_execution_statement(
    "SELECT e.status, e.lease_expires_at, e.worker_id, e.workflow_type, e.task_ids, e.started_at"
    "  FROM orchestrator.workflow_orchestration e"
    " WHERE e.id = $1 AND e.workflow_type <> 'orchestrator'"
    "   FOR UPDATE OF e",
    {INT8OID});

Statement holding_statement(
    "SELECT coalesce(w.id, 0), coalesce((e.reserved_cost_usd * 1000000)::bigint, 0),"
    "       coalesce(e.db_connections, 0), coalesce(e.memory_mb, 0), e.created_at"
    "  FROM orchestrator.workflow_orchestration e"
    "  LEFT JOIN orchestrator.workflow_type w ON w.name = e.workflow_type"
    " WHERE e.id = $1",
    {INT8OID});

Statement api_use_statement(
    "SELECT a.id, a.name, j.value::integer"
    "  FROM orchestrator.workflow_orchestration e"
    " CROSS JOIN jsonb_each_text(e.api_calls) j"
    "  JOIN orchestrator.api a ON a.name = j.key"
    " WHERE e.id = $1",
    {INT8OID});

Statement numeric_micro_statement("SELECT ($1 * 1000000)::bigint", {NUMERICOID});

Statement finish_execution_statement(
    "UPDATE orchestrator.workflow_orchestration"
    "   SET status = $2, finished_at = $3,"
    "       duration_ms = ((extract(epoch FROM $3) - extract(epoch FROM started_at)) * 1000)::bigint,"
    "       cost_usd = $4, result = $5, error = $6"
    " WHERE id = $1",
    {INT8OID, TEXTOID, TIMESTAMPTZOID, NUMERICOID, JSONBOID, TEXTOID});

Statement failing_tasks_statement(
    "SELECT t.id, t.attempts, w.max_attempts"
    "  FROM orchestrator.task t JOIN orchestrator.workflow_type w ON w.id = t.workflow_type_id"
    " WHERE t.id = ANY ($1) AND t.state = 'running' AND t.execution_id = $2",
    {INT8ARRAYOID, INT8OID});

Statement fail_tasks_statement(
    "UPDATE orchestrator.task t"
    "   SET state = d.state, ready_at = coalesce(d.ready_at, t.ready_at), last_error = $2,"
    "       finished_at = CASE WHEN d.state = 'dead_letter' THEN $4 END,"
    "       dead_letter_reason = d.reason,"
    "       failures = coalesce(t.failures, '[]'::jsonb) || jsonb_build_array(jsonb_build_object("
    "           'attempt', t.attempts, 'execution_id', $5::bigint, 'worker_id', $3::text,"
    "           'at', $4::timestamptz, 'error', $2::text))"
    "  FROM unnest($1::bigint[], $6::text[], $7::timestamptz[], $8::text[]) d(id, state, ready_at, reason)"
    " WHERE t.id = d.id",
    {INT8ARRAYOID, TEXTOID, TEXTOID, TIMESTAMPTZOID, INT8OID, TEXTARRAYOID, TIMESTAMPTZARRAYOID,
     TEXTARRAYOID});

std::string format_time(TimestampTz t) {
    return pg_call([t] { return timestamptz_to_str(t); });
}

} // namespace

RunningExecution lock_running_execution(std::int64_t execution_id, TimestampTz now) {
    Rows rows = lock_execution_statement.run({int64_param(execution_id)}, false, 1);
    if (rows.size() == 0)
        throw core::Error(sqlstate::no_data_found,
                          fmt::format("execution {} does not exist", execution_id));
    const std::string status = rows.get_text(0, 1);
    if (status == "expired")
        throw core::Error(sqlstate::lease_expired,
                          fmt::format("execution {} has expired", execution_id),
                          "Its lease passed and its tasks were sent to retry; this callback "
                          "changes nothing.");
    if (status != "running")
        throw core::Error(sqlstate::execution_finished,
                          fmt::format("execution {} has already finished", execution_id),
                          fmt::format("Its status is {}; this callback changes nothing.", status));
    const TimestampTz lease = rows.get_timestamptz(0, 2);
    if (lease < now)
        throw core::Error(sqlstate::lease_expired,
                          fmt::format("execution {} has expired", execution_id),
                          fmt::format("Its lease ended at {}; this callback changes nothing.",
                                      format_time(lease)),
                          "Call heartbeat_execution before the lease ends to keep it.");
    RunningExecution e;
    e.id = execution_id;
    e.worker_id = rows.get_text(0, 3);
    e.workflow_type = rows.get_text(0, 4);
    e.task_ids = rows.get_int64_array(0, 5);
    e.started_at = rows.get_timestamptz(0, 6);
    load_holding(e);
    return e;
}

void load_holding(RunningExecution& execution) {
    Rows rows = holding_statement.run({int64_param(execution.id)}, true);
    Holding& h = execution.holding;
    h.type_id = rows.get_int32(0, 1);
    h.reserved_cost = rows.get_int64(0, 2);
    h.db_connections = rows.get_int32(0, 3);
    h.memory_mb = rows.get_int32(0, 4);
    h.taken_at = from_timestamptz(rows.get_timestamptz(0, 5));
    Rows apis = api_use_statement.run({int64_param(execution.id)}, true);
    for (std::uint64_t i = 0; i < apis.size(); ++i) {
        execution.apis.push_back({apis.get_int32(i, 1), apis.get_text(i, 2), apis.get_int32(i, 3)});
        h.api_calls.emplace_back(apis.get_int32(i, 1), apis.get_int32(i, 3));
    }
}

void release_holding(const RunningExecution& execution, std::optional<Datum> cost_usd,
                     const std::map<std::int32_t, int>& actual_calls) {
    core::MicroUsd spent = 0;
    if (cost_usd)
        spent = numeric_micro_statement.run({SqlParam{*cost_usd, false}}, true).get_int64(0, 1);
    release_at_commit(execution.holding, spent, actual_calls);
}

void finish_execution(const RunningExecution& execution, std::string_view status, TimestampTz now,
                      std::optional<Datum> cost_usd, std::optional<Datum> result,
                      std::optional<std::string_view> error) {
    finish_execution_statement.run(
        {int64_param(execution.id), text_param(status), timestamptz_param(now),
         cost_usd ? SqlParam{*cost_usd, false} : null_param(),
         result ? SqlParam{*result, false} : null_param(),
         error ? text_param(truncate_error(*error)) : null_param()});
}

void fail_tasks(const RunningExecution& execution, const std::vector<std::int64_t>& task_ids,
                std::string_view error, bool retryable, TimestampTz now) {
    if (task_ids.empty())
        return;
    Rows rows = failing_tasks_statement.run({int64_array_param(task_ids), int64_param(execution.id)},
                                            true);
    std::vector<std::int64_t> ids;
    std::vector<const char*> states, reasons;
    std::vector<TimestampTz> ready_ats;
    const core::RetryPolicy policy;
    for (std::uint64_t i = 0; i < rows.size(); ++i) {
        const int attempts = rows.get_int32(i, 2);
        const int max_attempts = rows.get_int32(i, 3);
        ids.push_back(rows.get_int64(i, 1));
        if (core::decide_failure(attempts, max_attempts, retryable) ==
            core::FailureOutcome::retry) {
            states.push_back("queued");
            reasons.push_back(nullptr);
            const core::Duration delay = core::retry_delay(policy, attempts, backend_random());
            ready_ats.push_back(to_timestamptz(from_timestamptz(now) + delay));
        } else {
            states.push_back("dead_letter");
            reasons.push_back(retryable ? "max attempts reached" : "not retryable");
            ready_ats.push_back(now);
        }
    }
    if (ids.empty())
        return;
    const std::string_view stored_error = truncate_error(error);
    fail_tasks_statement.run({int64_array_param(ids), text_param(stored_error),
                              text_param(execution.worker_id), timestamptz_param(now),
                              int64_param(execution.id), text_array_param(states),
                              timestamptz_array_param(ready_ats), text_array_param(reasons)});
}

std::string_view truncate_error(std::string_view error) {
    const auto limit = static_cast<std::size_t>(settings::max_error_bytes);
    if (error.size() <= limit)
        return error;
    const char* data = error.data();
    const int length = static_cast<int>(error.size());
    const int cut = pg_call([data, length, limit] {
        return pg_mbcliplen(data, length, static_cast<int>(limit));
    });
    return error.substr(0, static_cast<std::size_t>(cut));
}

} // namespace orchestrator::pg
