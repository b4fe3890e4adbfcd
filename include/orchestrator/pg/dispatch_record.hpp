#pragma once
// What a dispatch pass writes: its own row, and for each execution the execution's row and its
// claimed tasks marked running. Written directly (table_writer.hpp): the tasks are locked by the
// claim, the rows are new, so no statement is needed to find or guard anything.
#include "orchestrator/pg/config_cache.hpp"
#include "orchestrator/pg/postgres.hpp"
#include "orchestrator/pg/table_writer.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace orchestrator::pg {

// A task the claim locked: its id and a copy of the version it locked (t_self says where).
struct LockedTask {
    std::int64_t id;
    HeapTuple locked;
};

struct ExecutionRecord {
    std::int64_t id;
    std::int64_t pass_id;
    std::string workflow_type;
    std::string worker;
    std::vector<LockedTask> tasks; // best first
    TimestampTz now;
    TimestampTz lease_expires_at;
    const char* model_tier;
    std::string limited_by;
    std::int64_t reserved_micro_usd;
    Datum api_calls; // jsonb
    std::int32_t db_connections;
    std::int32_t memory_mb;
};

struct RecordedExecution {
    Datum tasks;    // jsonb: [{task_id, payload, priority, attempt}], best first
    Datum task_ids; // bigint[], best first
};

class DispatchRecorder {
public:
    explicit DispatchRecorder(const ConfigSnapshot& snapshot);

    // The pass that is the parent of the executions it dispatched.
    void record_pass(std::int64_t pass_id, const std::string& worker, TimestampTz now);

    // Records the execution and marks its tasks running (one more attempt); returns the tasks as
    // they are handed to the workflow.
    RecordedExecution record_execution(const ExecutionRecord& execution);

    // The task table, open for the claim as well.
    TableWriter& tasks() { return tasks_; }

private:
    TableWriter executions_;
    TableWriter tasks_;
};

} // namespace orchestrator::pg
