#include "orchestrator/pg/executions.hpp"

#include "orchestrator/core/error.hpp"
#include "orchestrator/core/retry.hpp"
#include "orchestrator/pg/clock.hpp"
#include "orchestrator/pg/config_cache.hpp"
#include "orchestrator/pg/ready_floor.hpp"
#include "orchestrator/pg/settings.hpp"
#include "orchestrator/pg/spi.hpp"
#include "orchestrator/pg/table_writer.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace orchestrator::pg {

namespace sqlstate = core::sqlstate;

namespace {

// Why an execution cannot take a callback: read after an update that found it not running.
Statement execution_state_statement(
    "SELECT e.status, e.lease_expires_at FROM orchestrator.workflow_orchestration e"
    " WHERE e.id = $1 AND e.workflow_type <> 'orchestrator'",
    {INT8OID});

Statement failing_tasks_statement(
    "SELECT t.id, t.attempts, w.max_attempts, t.workflow_type_id, t.priority"
    "  FROM orchestrator.task t JOIN orchestrator.workflow_type w ON w.id = t.workflow_type_id"
    " WHERE t.id = ANY ($1) AND t.state = 'running' AND t.execution_id = $2",
    {INT8ARRAYOID, INT8OID});

Statement fail_tasks_statement(
    "UPDATE orchestrator.task t"
    "   SET state = ($6::text[])[array_position($1, t.id)],"
    "       ready_at = coalesce(($7::timestamptz[])[array_position($1, t.id)], t.ready_at),"
    "       last_error = $2,"
    "       finished_at = CASE WHEN ($6::text[])[array_position($1, t.id)] = 'dead_letter'"
    "                          THEN $4 END,"
    "       dead_letter_reason = ($8::text[])[array_position($1, t.id)],"
    "       failures = coalesce(t.failures, '[]'::jsonb) || jsonb_build_array(jsonb_build_object("
    "           'attempt', t.attempts, 'execution_id', $5::bigint, 'worker_id', $3::text,"
    "           'at', $4::timestamptz, 'error', $2::text))"
    " WHERE t.id = ANY ($1)",
    {INT8ARRAYOID, TEXTOID, TEXTOID, TIMESTAMPTZOID, INT8OID, TEXTARRAYOID, TIMESTAMPTZARRAYOID,
     TEXTARRAYOID});

} // namespace

core::MicroUsd micro_usd_of(Datum usd) {
    return pg_call([usd] {
        const Datum scale = DirectFunctionCall1(int8_numeric, Int64GetDatum(1000000));
        return DatumGetInt64(
            DirectFunctionCall1(numeric_int8, DirectFunctionCall2(numeric_mul, usd, scale)));
    });
}

namespace {

std::string format_time(TimestampTz t) {
    return pg_call([t] { return timestamptz_to_str(t); });
}

// The API calls recorded for an execution ({"gemini": 3}), by the configured APIs.
void read_api_calls(Datum api_calls, RunningExecution& e) {
    const std::vector<ApiConfig>& apis = config_snapshot().apis;
    std::vector<std::pair<std::string, int>> calls;
    pg_call([api_calls, &calls] {
        Jsonb* json = DatumGetJsonbP(api_calls);
        JsonbIterator* it = JsonbIteratorInit(&json->root);
        JsonbValue v;
        JsonbIteratorToken token;
        char key[64];
        while ((token = JsonbIteratorNext(&it, &v, true)) != WJB_DONE) {
            if (token == WJB_KEY) {
                const int n = std::min<int>(v.val.string.len, sizeof key - 1);
                memcpy(key, v.val.string.val, n);
                key[n] = '\0';
            } else if (token == WJB_VALUE && v.type == jbvNumeric) {
                calls.emplace_back(key, DatumGetInt32(DirectFunctionCall1(
                                            numeric_int4, NumericGetDatum(v.val.numeric))));
            }
        }
    });
    for (const auto& [name, n] : calls)
        for (const ApiConfig& a : apis)
            if (a.name == name) {
                e.apis.push_back({a.id, a.name, n});
                e.holding.api_calls.emplace_back(a.id, n);
            }
}

// What an execution ends as when its callback names no status: by the tasks reported failed.
std::string_view ended_status(const TableWriter::Row& execution,
                              const std::vector<std::int64_t>& failed_tasks) {
    if (failed_tasks.empty())
        return "completed";
    const std::vector<std::int64_t> tasks = int64_array_of(execution.get("task_ids"));
    const bool all_failed = std::all_of(tasks.begin(), tasks.end(), [&](std::int64_t id) {
        return std::find(failed_tasks.begin(), failed_tasks.end(), id) != failed_tasks.end();
    });
    return all_failed ? "failed" : "partial";
}

// Whole milliseconds, half away from zero.
std::int64_t rounded_ms(TimestampTz microseconds) {
    return microseconds >= 0 ? (microseconds + 500) / 1000 : -((-microseconds + 500) / 1000);
}

// Sets what an end writes on an execution's row, as the status it ends with; false when the
// row may not end: not a running execution, or its lease has passed and must hold.
bool end_row(TableWriter::Row& e, const ExecutionEnd& end, TimestampTz now, std::string& status) {
    if (text_of(e.get("workflow_type")) == "orchestrator" || e.is_null("status") ||
        text_of(e.get("status")) != "running")
        return false;
    if (end.lease_must_hold &&
        (e.is_null("lease_expires_at") || DatumGetTimestampTz(e.get("lease_expires_at")) < now))
        return false;
    status = std::string(end.status.value_or(ended_status(e, end.failed_tasks)));
    e.set("status", text_param(status).value);
    e.set("finished_at", TimestampTzGetDatum(now));
    if (e.is_null("started_at"))
        e.set_null("duration_ms");
    else
        e.set("duration_ms",
              Int64GetDatum(rounded_ms(now - DatumGetTimestampTz(e.get("started_at")))));
    if (end.cost_usd)
        e.set("cost_usd", *end.cost_usd);
    else if (end.unreported == UnreportedCost::reserved && !e.is_null("reserved_cost_usd"))
        e.set("cost_usd", e.get("reserved_cost_usd"));
    else
        e.set_null("cost_usd");
    if (end.result)
        e.set("result", *end.result);
    else
        e.set_null("result");
    if (end.error)
        e.set("error", text_param(truncate_error(*end.error)).value);
    else
        e.set_null("error");
    return true;
}

// Every task of the execution not reported failed succeeded, with its reported result if any.
void mark_succeeded(const ConfigSnapshot& config, const RunningExecution& execution,
                    const ExecutionEnd& end, TimestampTz now) {
    TableWriter tasks(config.task_table);
    const Datum succeeded = text_param("succeeded").value;
    const bool versions_known = execution.task_versions.size() == execution.task_ids.size();
    for (std::size_t i = 0; i < execution.task_ids.size(); ++i) {
        const std::int64_t id = execution.task_ids[i];
        if (std::find(end.failed_tasks.begin(), end.failed_tasks.end(), id) !=
            end.failed_tasks.end())
            continue;
        const auto succeed = [&](TableWriter::Row& t) {
            if (text_of(t.get("state")) != "running")
                return false;
            t.set("state", succeeded);
            t.set("finished_at", TimestampTzGetDatum(now));
            const auto reported = std::find(end.result_tasks.begin(), end.result_tasks.end(), id);
            const auto at = static_cast<std::size_t>(reported - end.result_tasks.begin());
            if (reported != end.result_tasks.end() && !end.result_nulls[at])
                t.set("result", end.results[at]);
            else
                t.set_null("result");
            return true;
        };
        if (versions_known)
            tasks.update_by_key(id, execution.task_versions[i], succeed);
        else
            tasks.update_by_key(id, succeed);
    }
}

} // namespace

RunningExecution read_execution(const TableWriter::Row& row) {
    RunningExecution e;
    e.id = DatumGetInt64(row.get("id"));
    if (!row.is_null("worker_id"))
        e.worker_id = text_of(row.get("worker_id"));
    e.workflow_type = text_of(row.get("workflow_type"));
    e.task_ids = int64_array_of(row.get("task_ids"));
    if (!row.is_null("task_versions"))
        e.task_versions = tid_array_of(row.get("task_versions"));
    e.started_at = DatumGetTimestampTz(row.get("started_at"));
    Holding& h = e.holding;
    if (const TypeConfig* type = find_type(config_snapshot(), e.workflow_type))
        h.type_id = type->rules.id;
    if (!row.is_null("reserved_cost_usd"))
        h.reserved_cost = micro_usd_of(row.get("reserved_cost_usd"));
    if (!row.is_null("db_connections"))
        h.db_connections = DatumGetInt32(row.get("db_connections"));
    if (!row.is_null("memory_mb"))
        h.memory_mb = DatumGetInt32(row.get("memory_mb"));
    h.taken_at = from_timestamptz(DatumGetTimestampTz(row.get("created_at")));
    if (!row.is_null("api_calls"))
        read_api_calls(row.get("api_calls"), e);
    return e;
}

void refuse_callback(std::int64_t execution_id, TimestampTz now) {
    Rows rows = execution_state_statement.run({int64_param(execution_id)}, false);
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
    // Running with a live lease, yet the update missed it: it changed under this transaction.
    throw core::Error(sqlstate::serialization_failure,
                      fmt::format("execution {} changed concurrently", execution_id), {},
                      "Retry the callback.");
}

EndedExecution end_execution(std::int64_t execution_id, TimestampTz now, const ExecutionEnd& end) {
    const ConfigSnapshot& config = config_snapshot();
    const FreshSnapshot snapshot;
    std::string status;
    TableWriter executions(config.execution_table);
    const std::optional<TableWriter::Row> ended = executions.update_by_key(
        execution_id, [&](TableWriter::Row& e) { return end_row(e, end, now, status); });
    if (!ended)
        refuse_callback(execution_id, now);
    RunningExecution execution = read_execution(*ended);
    if (!end.status)
        mark_succeeded(config, execution, end, now);
    return {std::move(execution), std::move(status)};
}

void release_holding(const RunningExecution& execution, std::optional<Datum> cost_usd,
                     UnreportedCost unreported, const ApiCalls& actual_calls) {
    core::MicroUsd spent =
        unreported == UnreportedCost::reserved ? execution.holding.reserved_cost : 0;
    if (cost_usd)
        spent = micro_usd_of(*cost_usd);
    release_at_commit(config_snapshot().instance, execution.holding, spent, actual_calls);
}

void fail_tasks(const RunningExecution& execution, const std::vector<std::int64_t>& task_ids,
                std::string_view error, bool retryable, TimestampTz now) {
    if (task_ids.empty())
        return;
    // Not read-only: a fresh snapshot sees the tasks as the dispatch left them, also when both
    // calls are in one statement (a read-only run would see them through the caller's snapshot,
    // still queued, and fail none of them).
    Rows rows =
        failing_tasks_statement.run({int64_array_param(task_ids), int64_param(execution.id)});
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
            note_queued(rows.get_int32(i, 4), DatumGetInt16(rows.datum(i, 5)), ready_ats.back());
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
    const int cut = pg_call(
        [data, length, limit] { return pg_mbcliplen(data, length, static_cast<int>(limit)); });
    return error.substr(0, static_cast<std::size_t>(cut));
}

} // namespace orchestrator::pg
