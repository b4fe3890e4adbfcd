// The callbacks a running execution makes: complete, fail, heartbeat.
#include "orchestrator/core/error.hpp"
#include "orchestrator/pg/args.hpp"
#include "orchestrator/pg/boundary.hpp"
#include "orchestrator/pg/breakers.hpp"
#include "orchestrator/pg/clock.hpp"
#include "orchestrator/pg/config_cache.hpp"
#include "orchestrator/pg/executions.hpp"
#include "orchestrator/pg/spi.hpp"

#include <algorithm>
#include <boost/container/flat_map.hpp>
#include <fmt/format.h>
#include <string_view>

using namespace orchestrator;
using namespace orchestrator::pg;
namespace sqlstate = core::sqlstate;

namespace {

Statement outcomes_statement(
    "SELECT (o.value ->> 'task_id')::bigint, o.value ->> 'status', o.value ->> 'error',"
    "       coalesce((o.value ->> 'retryable')::boolean, true), o.value -> 'result',"
    "       jsonb_typeof(o.value)"
    "  FROM jsonb_array_elements($1) o",
    {JSONBOID});

Statement json_type_statement("SELECT jsonb_typeof($1)", {JSONBOID});

// Reported calls: integers only (a fraction or text reads as NULL and is refused).
Statement api_calls_statement(
    "SELECT j.key, CASE WHEN jsonb_typeof(j.value) = 'number' AND j.value::numeric = trunc(j.value::numeric)"
    "                        AND abs(j.value::numeric) < 1000000000"
    "                   THEN j.value::integer END"
    "  FROM jsonb_each($1) j",
    {JSONBOID});

Statement record_actual_calls_statement(
    "UPDATE orchestrator.workflow_orchestration SET api_calls = coalesce(api_calls, '{}') || $2"
    " WHERE id = $1",
    {INT8OID, JSONBOID});

Statement pause_api_statement(
    "UPDATE orchestrator.api SET paused_until = greatest(paused_until, $2), updated_at = $3"
    " WHERE name = $1",
    {TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID});

Statement lease_statement(
    "UPDATE orchestrator.workflow_orchestration e"
    "   SET lease_expires_at = $2 + coalesce($3, w.lease_timeout)"
    "  FROM orchestrator.workflow_type w"
    " WHERE e.id = $1 AND w.name = e.workflow_type AND e.status = $4 AND e.lease_expires_at >= $2"
    " RETURNING e.lease_expires_at",
    {INT8OID, TIMESTAMPTZOID, INTERVALOID, TEXTOID}); // $4 'running': see end_execution_statement

// Error messages reach the server log (log_min_messages = warning logs every ERROR), and what a
// callback sends may be anything: a value from its JSON is quoted in a message only when it is
// short and shaped like a name ([a-z0-9_], at most 63 bytes), never as free text.
bool name_shaped(std::string_view value) {
    return !value.empty() && value.size() <= 63 &&
           std::all_of(value.begin(), value.end(), [](char c) {
               return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
           });
}

struct TaskFailure {
    std::int64_t task_id;
    std::string error;
    bool retryable;
};

[[noreturn]] void bad_outcomes(const std::string& why) {
    throw core::Error(sqlstate::invalid_parameter_value, "task_outcomes is invalid", why,
                      "Pass a JSON array of {\"task_id\": n, \"status\": \"succeeded\" | "
                      "\"failed\", \"error\": \"...\", \"retryable\": true, \"result\": {...}}.");
}

struct Outcomes {
    std::vector<std::int64_t> reported; // every task reported, in order
    std::vector<std::int64_t> succeeded;
    std::vector<Datum> results; // of `succeeded`, at the same positions
    std::vector<bool> result_nulls;
    std::vector<TaskFailure> failed;
    std::vector<std::int64_t> failed_ids;
};

// Reads the reported per-task outcomes; tasks not reported succeed without a result.
Outcomes read_outcomes(std::optional<Datum> outcomes) {
    Outcomes o;
    if (!outcomes)
        return o;
    Rows type = json_type_statement.run({SqlParam{*outcomes, false}}, true);
    if (type.get_text(0, 1) != "array")
        bad_outcomes("It must be a JSON array.");
    Rows rows = outcomes_statement.run({SqlParam{*outcomes, false}}, true);
    for (std::uint64_t i = 0; i < rows.size(); ++i) {
        if (rows.is_null(i, 1))
            bad_outcomes(fmt::format("Element {} has no task_id.", i + 1));
        const std::int64_t id = rows.get_int64(i, 1);
        if (std::find(o.reported.begin(), o.reported.end(), id) != o.reported.end())
            bad_outcomes(fmt::format("Task {} is reported twice.", id));
        o.reported.push_back(id);
        const std::string status = rows.get_text(i, 2);
        if (status == "failed") {
            o.failed.push_back(
                {id, rows.is_null(i, 3) ? "failed" : rows.get_text(i, 3), rows.get_bool(i, 4)});
            o.failed_ids.push_back(id);
        } else if (status == "succeeded" || status.empty()) {
            o.succeeded.push_back(id);
            o.result_nulls.push_back(rows.is_null(i, 5));
            o.results.push_back(rows.datum(i, 5));
        } else {
            bad_outcomes(name_shaped(status)
                             ? fmt::format("Task {} has status \"{}\".", id, status)
                             : fmt::format("Task {} has a status that is not a name.", id));
        }
    }
    return o;
}

// Every reported task must belong to the execution. Checked once the execution is known; an
// error here rolls back its end with everything else.
void check_outcomes_belong(const Outcomes& o, const RunningExecution& execution) {
    for (std::int64_t id : o.reported)
        if (std::find(execution.task_ids.begin(), execution.task_ids.end(), id) ==
            execution.task_ids.end())
            bad_outcomes(fmt::format("Task {} is not part of execution {}.", id, execution.id));
}

// The calls an execution reports it really made, as {"api name": calls}; by api id.
ApiCalls read_actual_calls(std::optional<Datum> reported,
                                              const std::vector<ApiConfig>& apis) {
    ApiCalls calls;
    if (!reported)
        return calls;
    if (json_type_statement.run({SqlParam{*reported, false}}, true).get_text(0, 1) != "object")
        throw core::Error(sqlstate::invalid_parameter_value, "api_calls must be a JSON object",
                          {}, "Pass the calls made per API, e.g. {\"gemini\": 8}.");
    Rows rows = api_calls_statement.run({SqlParam{*reported, false}}, true);
    for (std::uint64_t i = 0; i < rows.size(); ++i) {
        const std::string name = rows.get_text(i, 1);
        auto api = std::find_if(apis.begin(), apis.end(),
                                [&](const ApiConfig& a) { return a.name == name; });
        if (api == apis.end())
            throw core::Error(sqlstate::no_data_found,
                              name_shaped(name)
                                  ? fmt::format("API \"{}\" does not exist", name)
                                  : std::string("api_calls has a key that is not an API name"));
        if (rows.is_null(i, 2) || rows.get_int32(i, 2) < 0)
            throw core::Error(sqlstate::invalid_parameter_value,
                              fmt::format("api_calls for \"{}\" must be a whole number of at least 0",
                                          name));
        calls[api->id] = rows.get_int32(i, 2);
    }
    return calls;
}

// The API names whose breakers learn of a success: those it reserved or reported calls on.
std::vector<std::string> apis_used(const RunningExecution& execution,
                                   const ApiCalls& actual,
                                   const std::vector<ApiConfig>& apis) {
    std::vector<std::string> names;
    for (const ApiUse& use : execution.apis)
        names.push_back(use.api_name);
    for (const auto& [id, calls] : actual)
        for (const ApiConfig& a : apis)
            if (a.id == id && calls > 0 &&
                std::find(names.begin(), names.end(), a.name) == names.end())
                names.push_back(a.name);
    return names;
}

} // namespace

// complete_execution(execution_id, result, cost_usd, task_outcomes) -> status
ORCHESTRATOR_SQL_FUNCTION(orchestrator_complete_execution) {
    const Args args(fcinfo);
    const std::int64_t id = args.required_int64(0, "execution_id");
    const std::optional<Datum> result = args.optional_jsonb(1, "result");
    const std::optional<Datum> cost = args.optional_nonnegative_numeric(2, "cost_usd");
    const std::optional<Datum> outcomes = args.optional_jsonb(3, "task_outcomes");
    const std::optional<Datum> reported_calls = args.optional_jsonb(4, "api_calls");
    const core::TimePoint now_point = server_clock().now();
    const TimestampTz now = to_timestamptz(now_point);

    std::string status;
    {
        SpiConnection spi;
        const Outcomes reported = read_outcomes(outcomes);
        ExecutionEnd end;
        end.failed_tasks = reported.failed_ids;
        end.result_tasks = reported.succeeded;
        end.results = reported.results;
        end.result_nulls = reported.result_nulls;
        end.cost_usd = cost;
        end.unreported = UnreportedCost::reserved;
        end.result = result;
        EndedExecution ended = end_execution(id, now, end);
        const RunningExecution& execution = ended.execution;
        status = std::move(ended.status);
        check_outcomes_belong(reported, execution);
        for (const TaskFailure& f : reported.failed)
            fail_tasks(execution, {f.task_id}, f.error, f.retryable, now);

        const std::vector<ApiConfig>& apis = config_snapshot().apis;
        const ApiCalls actual = read_actual_calls(reported_calls, apis);
        if (reported_calls)
            record_actual_calls_statement.run({int64_param(id), SqlParam{*reported_calls, false}});
        release_holding(execution, cost, UnreportedCost::reserved, actual);
        record_breaker_successes(config_snapshot().breakers, execution.workflow_type,
                                 apis_used(execution, actual, apis),
                                 now_point, fmt::format("execution {} completed", id));
        release_undecided_trials(config_snapshot().breakers, id, now_point);
    }
    return pg_call([&status] { return CStringGetTextDatum(status.c_str()); });
}

// fail_execution(execution_id, error, retryable) -> status
ORCHESTRATOR_SQL_FUNCTION(orchestrator_fail_execution) {
    const Args args(fcinfo);
    const std::int64_t id = args.required_int64(0, "execution_id");
    const std::string error(args.optional_text(1, "error", 1 << 20).value_or("failed"));
    const bool retryable = args.boolean(2, "retryable");
    const auto api_name = args.optional_text(3, "api_name", 63);
    const auto retry_after = args.optional_interval(4, "retry_after");
    const std::optional<Datum> cost = args.optional_nonnegative_numeric(5, "cost_usd");
    if (retry_after && !api_name)
        throw core::Error(sqlstate::invalid_parameter_value, "retry_after needs api_name",
                          {}, "Name the API that answered 429.");
    const core::TimePoint now_point = server_clock().now();
    const TimestampTz now = to_timestamptz(now_point);

    {
        SpiConnection spi;
        const ConfigSnapshot& snapshot = config_snapshot();
        const std::vector<ApiConfig>& apis = snapshot.apis;
        ExecutionEnd end;
        end.status = "failed";
        end.cost_usd = cost;
        end.error = error;
        const RunningExecution execution = end_execution(id, now, end).execution;
        if (api_name && std::none_of(apis.begin(), apis.end(), [&](const ApiConfig& a) {
                return a.name == *api_name;
            }))
            throw core::Error(sqlstate::no_data_found,
                              fmt::format("API \"{}\" does not exist", *api_name));
        fail_tasks(execution, execution.task_ids, error, retryable, now);
        release_holding(execution, cost, UnreportedCost::nothing, {});
        const core::BreakerPolicy& breaker_policy = snapshot.config.breaker;
        const std::string cause = fmt::format("execution {} failed", id);
        if (api_name) {
            if (retry_after)
                pause_api_statement.run({text_param(*api_name),
                                         timestamptz_param(to_timestamptz(now_point + *retry_after)),
                                         timestamptz_param(now)});
            record_breaker_failure(breaker_policy, "api", std::string(*api_name), now_point, cause);
        } else {
            record_breaker_failure(breaker_policy, "workflow_type", execution.workflow_type,
                                   now_point, cause);
        }
        release_undecided_trials(config_snapshot().breakers, id, now_point);
    }
    return pg_call([] { return CStringGetTextDatum("failed"); });
}

// heartbeat_execution(execution_id, extend_by) -> the new lease deadline
ORCHESTRATOR_SQL_FUNCTION(orchestrator_heartbeat_execution) {
    const Args args(fcinfo);
    const std::int64_t id = args.required_int64(0, "execution_id");
    args.optional_interval(1, "extend_by");
    const SqlParam extend_by = args.is_null(1) ? null_param() : SqlParam{fcinfo->args[1].value, false};
    const TimestampTz now = to_timestamptz(server_clock().now());

    SpiConnection spi;
    Rows rows = lease_statement.run({int64_param(id), timestamptz_param(now), extend_by, text_param("running")});
    if (rows.size() == 0)
        refuse_callback(id, now);
    return TimestampTzGetDatum(rows.get_timestamptz(0, 1)); // by value: outlives SPI_finish
}
