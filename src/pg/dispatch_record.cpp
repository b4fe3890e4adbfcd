#include "orchestrator/pg/dispatch_record.hpp"

#include "orchestrator/pg/guard.hpp"
#include "orchestrator/pg/jsonb_builder.hpp"
#include "orchestrator/pg/spi.hpp"

namespace orchestrator::pg {

namespace {

Datum text_datum(std::string_view value) {
    return text_param(value).value;
}

Datum micro_usd_datum(std::int64_t micro) {
    return pg_call([micro] { return NumericGetDatum(int64_div_fast_to_numeric(micro, 6)); });
}

std::vector<std::int64_t> ids_of(const std::vector<LockedTask>& tasks) {
    std::vector<std::int64_t> ids;
    for (const LockedTask& t : tasks)
        ids.push_back(t.id);
    return ids;
}

} // namespace

DispatchRecorder::DispatchRecorder(const ConfigSnapshot& snapshot)
    : executions_(snapshot.execution_table), tasks_(snapshot.task_table) {}

void DispatchRecorder::record_pass(std::int64_t pass_id, const std::string& worker,
                                   TimestampTz now) {
    TableWriter::Row row = executions_.new_row();
    row.set("id", Int64GetDatum(pass_id));
    row.set("workflow_type", text_datum("orchestrator"));
    row.set("worker_id", text_datum(worker));
    row.set("status", text_datum("completed"));
    row.set("task_ids", int64_array_param({}).value);
    row.set("batch_size", Int32GetDatum(0));
    row.set("created_at", TimestampTzGetDatum(now));
    row.set("started_at", TimestampTzGetDatum(now));
    row.set("finished_at", TimestampTzGetDatum(now));
    row.set("duration_ms", Int64GetDatum(0));
    executions_.insert(row);
}

RecordedExecution DispatchRecorder::record_execution(const ExecutionRecord& e) {
    const std::vector<std::int64_t> task_ids = ids_of(e.tasks);
    RecordedExecution recorded;
    recorded.task_ids = int64_array_param(task_ids).value;

    // The tasks first: the execution records where their running versions went.
    JsonbArrayBuilder handed_out;
    std::vector<ItemPointerData> running_versions;
    const Datum running = text_datum("running");
    for (const LockedTask& t : e.tasks) {
        TableWriter::Row task = tasks_.row_of(t.locked);
        const std::int32_t attempt = DatumGetInt32(task.get("attempts")) + 1;
        task.set("state", running);
        task.set("execution_id", Int64GetDatum(e.id));
        task.set("attempts", Int32GetDatum(attempt));
        task.set("dispatched_at", TimestampTzGetDatum(e.now));
        handed_out.add_integer("task_id", t.id);
        // Its bytes are read before the task's new version is written.
        handed_out.add_document("payload", task.get("payload"));
        handed_out.add_integer("priority", DatumGetInt16(task.get("priority")));
        handed_out.add_integer("attempt", attempt);
        handed_out.end_object();
        running_versions.push_back(tasks_.update_locked(t.locked->t_self, task));
    }
    recorded.tasks = handed_out.finish();

    TableWriter::Row row = executions_.new_row();
    row.set("id", Int64GetDatum(e.id));
    row.set("parent_id", Int64GetDatum(e.pass_id));
    row.set("workflow_type", text_datum(e.workflow_type));
    row.set("worker_id", text_datum(e.worker));
    row.set("status", text_datum("running"));
    row.set("task_ids", recorded.task_ids);
    row.set("task_versions", tid_array_param(running_versions).value);
    row.set("batch_size", Int32GetDatum(static_cast<std::int32_t>(task_ids.size())));
    row.set("model_tier", text_datum(e.model_tier));
    row.set("limited_by", text_datum(e.limited_by));
    row.set("reserved_cost_usd", micro_usd_datum(e.reserved_micro_usd));
    row.set("api_calls", e.api_calls);
    row.set("db_connections", Int32GetDatum(e.db_connections));
    row.set("memory_mb", Int32GetDatum(e.memory_mb));
    row.set("created_at", TimestampTzGetDatum(e.now));
    row.set("started_at", TimestampTzGetDatum(e.now));
    row.set("lease_expires_at", TimestampTzGetDatum(e.lease_expires_at));
    executions_.insert(row);
    return recorded;
}

} // namespace orchestrator::pg
