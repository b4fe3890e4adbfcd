#include "orchestrator/pg/executions.hpp"

#include "orchestrator/core/error.hpp"
#include "orchestrator/core/retry.hpp"
#include "orchestrator/pg/clock.hpp"
#include "orchestrator/pg/config_cache.hpp"
#include "orchestrator/pg/ready_floor.hpp"
#include "orchestrator/pg/settings.hpp"
#include "orchestrator/pg/spi.hpp"

#include <fmt/format.h>

namespace orchestrator::pg {

namespace sqlstate = core::sqlstate;

namespace {

// Why an execution cannot take a callback: read after an update that found it not running.
Statement execution_state_statement(
    "SELECT e.status, e.lease_expires_at FROM orchestrator.workflow_orchestration e"
    " WHERE e.id = $1 AND e.workflow_type <> 'orchestrator'",
    {INT8OID});

// Ends execution $1 if it is running (and, with $11, its lease has not passed), and in the same
// statement marks its tasks succeeded, except those in $8 (reported failed) and unless the end
// is a failure ($2 'failed' or 'expired'). Results $10 belong to the tasks $9 at the same
// positions; arrays are matched by position, never joined, so every task is a primary-key probe.
// Without $2 the status follows from $8: completed, partial, or failed when every task failed.
// $12 is 'running': as a parameter it cannot prove the predicate of the partial index of running
// executions, which would otherwise look cheaper than the primary key to a plan built on small
// statistics and be scanned whole.
Statement end_execution_statement(
    "WITH ended AS ("
    "    UPDATE orchestrator.workflow_orchestration e"
    "       SET status = coalesce($2, CASE WHEN cardinality($8) = 0 THEN 'completed'"
    "                                      WHEN e.task_ids <@ $8 THEN 'failed'"
    "                                      ELSE 'partial' END),"
    "           finished_at = $3,"
    "           duration_ms = ((extract(epoch FROM $3) - extract(epoch FROM e.started_at)) * 1000)::bigint,"
    "           cost_usd = CASE WHEN $7 THEN coalesce($4, e.reserved_cost_usd) ELSE $4 END,"
    "           result = $5, error = $6"
    "     WHERE e.id = $1 AND e.workflow_type <> 'orchestrator' AND e.status = $12"
    "       AND (NOT $11 OR e.lease_expires_at >= $3)"
    "    RETURNING e.status, " EXECUTION_COLUMNS "),"
    " succeeded AS ("
    "    UPDATE orchestrator.task t SET state = 'succeeded', finished_at = $3,"
    "           result = ($10::jsonb[])[array_position($9::bigint[], t.id)]"
    "     WHERE t.id = ANY ((SELECT task_ids FROM ended)::bigint[]) AND t.state = 'running'"
    "       AND $2 IS NULL AND NOT t.id = ANY ($8))"
    " SELECT * FROM ended",
    {INT8OID, TEXTOID, TIMESTAMPTZOID, NUMERICOID, JSONBOID, TEXTOID, BOOLOID, INT8ARRAYOID,
     INT8ARRAYOID, JSONBARRAYOID, BOOLOID, TEXTOID});

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

} // namespace

RunningExecution read_execution(const Rows& rows, std::uint64_t row, int first) {
    RunningExecution e;
    e.id = rows.get_int64(row, first);
    e.worker_id = rows.get_text(row, first + 1);
    e.workflow_type = rows.get_text(row, first + 2);
    e.task_ids = rows.get_int64_array(row, first + 3);
    e.started_at = rows.get_timestamptz(row, first + 4);
    Holding& h = e.holding;
    if (const TypeConfig* type = find_type(config_snapshot(), e.workflow_type))
        h.type_id = type->rules.id;
    h.reserved_cost = rows.get_int64(row, first + 5);
    h.db_connections = rows.get_int32(row, first + 6);
    h.memory_mb = rows.get_int32(row, first + 7);
    h.taken_at = from_timestamptz(rows.get_timestamptz(row, first + 8));
    if (!rows.is_null(row, first + 9))
        read_api_calls(rows.datum(row, first + 9), e);
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
    Rows rows = end_execution_statement.run(
        {int64_param(execution_id), end.status ? text_param(*end.status) : null_param(),
         timestamptz_param(now), end.cost_usd ? SqlParam{*end.cost_usd, false} : null_param(),
         end.result ? SqlParam{*end.result, false} : null_param(),
         end.error ? text_param(truncate_error(*end.error)) : null_param(),
         bool_param(end.unreported == UnreportedCost::reserved),
         int64_array_param(end.failed_tasks), int64_array_param(end.result_tasks), end.results,
         bool_param(end.lease_must_hold), text_param("running")});
    if (rows.size() == 0)
        refuse_callback(execution_id, now);
    return {read_execution(rows, 0, 2), rows.get_text(0, 1)};
}

void release_holding(const RunningExecution& execution, std::optional<Datum> cost_usd,
                     UnreportedCost unreported, const ApiCalls& actual_calls) {
    core::MicroUsd spent =
        unreported == UnreportedCost::reserved ? execution.holding.reserved_cost : 0;
    if (cost_usd) {
        const Datum cost = *cost_usd;
        spent = pg_call([cost] {
            const Datum scale = DirectFunctionCall1(int8_numeric, Int64GetDatum(1000000));
            return DatumGetInt64(DirectFunctionCall1(
                numeric_int8, DirectFunctionCall2(numeric_mul, cost, scale)));
        });
    }
    release_at_commit(config_snapshot().instance, execution.holding, spent, actual_calls);
}

void fail_tasks(const RunningExecution& execution, const std::vector<std::int64_t>& task_ids,
                std::string_view error, bool retryable, TimestampTz now) {
    if (task_ids.empty())
        return;
    // Not read-only: a fresh snapshot sees the tasks as the dispatch left them, also when both
    // calls are in one statement (a read-only run would see them through the caller's snapshot,
    // still queued, and fail none of them).
    Rows rows = failing_tasks_statement.run({int64_array_param(task_ids), int64_param(execution.id)});
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
    const int cut = pg_call([data, length, limit] {
        return pg_mbcliplen(data, length, static_cast<int>(limit));
    });
    return error.substr(0, static_cast<std::size_t>(cut));
}

} // namespace orchestrator::pg
