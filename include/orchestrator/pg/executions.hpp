#pragma once
// What the callbacks and expiry share: locking an execution as a fencing token, finishing it,
// and sending its failed tasks to retry or to the dead-letter queue.
#include "orchestrator/core/time.hpp"
#include "orchestrator/pg/governance.hpp"
#include "orchestrator/pg/postgres.hpp"
#include "orchestrator/pg/spi.hpp"

#include <cstdint>
#include <boost/container/flat_map.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace orchestrator::pg {

struct ApiUse {
    std::int32_t api_id = 0;
    std::string api_name;
    int calls = 0;
};

struct RunningExecution {
    std::int64_t id = 0;
    std::string worker_id;
    std::string workflow_type;
    std::vector<std::int64_t> task_ids;
    // Where the dispatch wrote each task's running version (or nothing: look each up by id).
    std::vector<ItemPointerData> task_versions;
    TimestampTz started_at = 0;
    Holding holding;           // what it holds of the shared limits
    std::vector<ApiUse> apis;  // the calls reserved for it, by API
};

// Dollars (a numeric) in micro-dollars, rounded as numeric to bigint rounds.
core::MicroUsd micro_usd_of(Datum usd);

// How an execution's spend is settled when its callback reports no cost: a completed execution
// spent what was reserved for it, a failed or expired one spent nothing.
enum class UnreportedCost { reserved, nothing };

// Releases what the execution held when this transaction commits, with what it really spent and
// the calls it really made (api id -> calls; absent: as reserved).
void release_holding(const RunningExecution& execution, std::optional<Datum> cost_usd,
                     UnreportedCost unreported, const ApiCalls& actual_calls);

struct ExecutionEnd {
    // "failed" or "expired"; none: completed, or partial or failed by failed_tasks.
    std::optional<std::string_view> status;
    std::vector<std::int64_t> failed_tasks;  // reported failed; every other task succeeded
    std::vector<std::int64_t> result_tasks;  // the tasks `results` belong to, at the same positions
    std::vector<Datum> results;               // jsonb
    std::vector<bool> result_nulls;
    std::optional<Datum> cost_usd;
    UnreportedCost unreported = UnreportedCost::nothing;
    std::optional<Datum> result;
    std::optional<std::string_view> error;
    bool lease_must_hold = true;  // a callback; expiry ends executions whose lease has passed
};

struct EndedExecution {
    RunningExecution execution;
    std::string status;
};

// Ends a running execution and marks its tasks succeeded (unless the end fails them), written
// directly (table_writer.hpp) under the row lock, so the execution's state is the fencing
// token: a callback for an execution that never existed raises P0002, one that already finished
// OR002, one whose lease has passed OR001. Needs an SPI connection.
EndedExecution end_execution(std::int64_t execution_id, TimestampTz now, const ExecutionEnd& end);

// Raises the error that explains why execution_id cannot take a callback now.
[[noreturn]] void refuse_callback(std::int64_t execution_id, TimestampTz now);

// Each task's attempt failed: it is retried after backoff, or dead-lettered when its attempts are
// used up or the failure is not retryable. The failure joins the task's history.
void fail_tasks(const RunningExecution& execution, const std::vector<std::int64_t>& task_ids,
                std::string_view error, bool retryable, TimestampTz now);

// Error text as stored: at most orchestrator.max_error_bytes, cut on a character boundary.
std::string_view truncate_error(std::string_view error);

} // namespace orchestrator::pg
