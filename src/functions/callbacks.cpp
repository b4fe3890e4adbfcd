// The callbacks a running execution makes: complete, fail, heartbeat.
#include "orchestrator/core/error.hpp"
#include "orchestrator/pg/args.hpp"
#include "orchestrator/pg/boundary.hpp"
#include "orchestrator/pg/clock.hpp"
#include "orchestrator/pg/executions.hpp"
#include "orchestrator/pg/spi.hpp"

#include <algorithm>
#include <fmt/format.h>

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

Statement succeed_tasks_statement(
    "UPDATE orchestrator.task t SET state = 'succeeded', finished_at = $2, result = d.result"
    "  FROM unnest($1::bigint[], $3::jsonb[]) d(id, result)"
    " WHERE t.id = d.id AND t.state = 'running'",
    {INT8ARRAYOID, TIMESTAMPTZOID, JSONBARRAYOID});

Statement lease_statement(
    "UPDATE orchestrator.workflow_orchestration e"
    "   SET lease_expires_at = $2 + coalesce($3, w.lease_timeout)"
    "  FROM orchestrator.workflow_type w"
    " WHERE e.id = $1 AND w.name = e.workflow_type"
    " RETURNING e.lease_expires_at",
    {INT8OID, TIMESTAMPTZOID, INTERVALOID});

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

// Splits the execution's tasks by the reported outcomes; unreported tasks succeeded.
void read_outcomes(std::optional<Datum> outcomes, const RunningExecution& execution,
                   std::vector<std::int64_t>& succeeded, std::vector<Datum>& results,
                   std::vector<bool>& result_nulls, std::vector<TaskFailure>& failed) {
    std::vector<std::int64_t> reported;
    if (outcomes) {
        Rows type = json_type_statement.run({SqlParam{*outcomes, false}}, true);
        if (type.get_text(0, 1) != "array")
            bad_outcomes("It must be a JSON array.");
        Rows rows = outcomes_statement.run({SqlParam{*outcomes, false}}, true);
        for (std::uint64_t i = 0; i < rows.size(); ++i) {
            if (rows.is_null(i, 1))
                bad_outcomes(fmt::format("Element {} has no task_id.", i + 1));
            const std::int64_t id = rows.get_int64(i, 1);
            if (std::find(execution.task_ids.begin(), execution.task_ids.end(), id) ==
                execution.task_ids.end())
                bad_outcomes(fmt::format("Task {} is not part of execution {}.", id, execution.id));
            if (std::find(reported.begin(), reported.end(), id) != reported.end())
                bad_outcomes(fmt::format("Task {} is reported twice.", id));
            reported.push_back(id);
            const std::string status = rows.get_text(i, 2);
            if (status == "failed") {
                failed.push_back({id, rows.is_null(i, 3) ? "failed" : rows.get_text(i, 3),
                                  rows.get_bool(i, 4)});
            } else if (status == "succeeded" || status.empty()) {
                succeeded.push_back(id);
                result_nulls.push_back(rows.is_null(i, 5));
                results.push_back(rows.datum(i, 5));
            } else {
                bad_outcomes(fmt::format("Task {} has status \"{}\".", id, status));
            }
        }
    }
    for (std::int64_t id : execution.task_ids) {
        if (std::find(reported.begin(), reported.end(), id) == reported.end()) {
            succeeded.push_back(id);
            result_nulls.push_back(true);
            results.push_back(Datum(0));
        }
    }
}

SqlParam jsonb_array_param(const std::vector<Datum>& values, const std::vector<bool>& nulls) {
    const int n = static_cast<int>(values.size());
    const Datum* v = values.data();
    std::vector<char> null_flags(nulls.begin(), nulls.end());
    const char* f = null_flags.data();
    return {pg_call([v, f, n] {
                bool* flags = static_cast<bool*>(palloc(sizeof(bool) * (n + 1)));
                for (int i = 0; i < n; ++i)
                    flags[i] = f[i] != 0;
                int dims[1] = {n};
                int lbs[1] = {1};
                return PointerGetDatum(construct_md_array(const_cast<Datum*>(v), flags, 1, dims,
                                                          lbs, JSONBOID, -1, false, 'i'));
            }),
            false};
}

} // namespace

// complete_execution(execution_id, result, cost_usd, task_outcomes) -> status
ORCHESTRATOR_SQL_FUNCTION(orchestrator_complete_execution) {
    const Args args(fcinfo);
    const std::int64_t id = args.required_int64(0, "execution_id");
    const std::optional<Datum> result = args.optional_jsonb(1, "result");
    const std::optional<Datum> cost = args.optional_nonnegative_numeric(2, "cost_usd");
    const std::optional<Datum> outcomes = args.optional_jsonb(3, "task_outcomes");
    const TimestampTz now = to_timestamptz(server_clock().now());

    const char* status = nullptr;
    {
        SpiConnection spi;
        const RunningExecution execution = lock_running_execution(id, now);
        std::vector<std::int64_t> succeeded;
        std::vector<Datum> results;
        std::vector<bool> result_nulls;
        std::vector<TaskFailure> failed;
        read_outcomes(outcomes, execution, succeeded, results, result_nulls, failed);

        if (!succeeded.empty())
            succeed_tasks_statement.run({int64_array_param(succeeded), timestamptz_param(now),
                                         jsonb_array_param(results, result_nulls)});
        for (const TaskFailure& f : failed)
            fail_tasks(execution, {f.task_id}, f.error, f.retryable, now);
        status = failed.empty() ? "completed" : succeeded.empty() ? "failed" : "partial";
        finish_execution(execution, status, now, cost, result, std::nullopt);
    }
    return pg_call([status] { return CStringGetTextDatum(status); });
}

// fail_execution(execution_id, error, retryable) -> status
ORCHESTRATOR_SQL_FUNCTION(orchestrator_fail_execution) {
    const Args args(fcinfo);
    const std::int64_t id = args.required_int64(0, "execution_id");
    const std::string error(args.optional_text(1, "error", 1 << 20).value_or("failed"));
    const bool retryable = args.boolean(2, "retryable");
    const TimestampTz now = to_timestamptz(server_clock().now());

    {
        SpiConnection spi;
        const RunningExecution execution = lock_running_execution(id, now);
        fail_tasks(execution, execution.task_ids, error, retryable, now);
        finish_execution(execution, "failed", now, std::nullopt, std::nullopt, error);
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
    lock_running_execution(id, now);
    Rows rows = lease_statement.run({int64_param(id), timestamptz_param(now), extend_by});
    return TimestampTzGetDatum(rows.get_timestamptz(0, 1)); // by value: outlives SPI_finish
}
