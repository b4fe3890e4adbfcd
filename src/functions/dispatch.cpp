// orchestrate_next_execution: picks what may run now, claims it and records the executions.
//
// 1. Read the dispatchable workflow types and, for each (type, priority) level, the oldest ready
//    task (one index probe each; the heads tell which types have work and which are starving).
// 2. Pick types by weighted fair share (core/fairness), one execution at a time.
// 3. Claim the picked type's best tasks: each level is read in ready_at order under
//    FOR UPDATE SKIP LOCKED, so concurrent dispatchers never wait on each other or share a task,
//    and the core's scoring merges the levels. Stale tasks go to the dead-letter queue instead.
// 4. One statement records the execution (and, first time round, the pass that is its parent)
//    and marks its tasks running.
#include "orchestrator/core/batch.hpp"
#include "orchestrator/core/error.hpp"
#include "orchestrator/core/fairness.hpp"
#include "orchestrator/core/priority.hpp"
#include "orchestrator/pg/args.hpp"
#include "orchestrator/pg/boundary.hpp"
#include "orchestrator/pg/clock.hpp"
#include "orchestrator/pg/spi.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

using namespace orchestrator;
using namespace orchestrator::pg;

namespace {

constexpr int max_worker_id_bytes = 200;
constexpr int max_executions_per_call = 1000;

Statement types_statement(
    "SELECT w.id, w.name, w.weight, w.batch_min, w.batch_max, w.max_concurrent, w.lease_timeout,"
    "       w.webhook_url, w.n8n_workflow_id"
    "  FROM orchestrator.workflow_type w"
    " WHERE NOT w.paused AND ($1::text[] IS NULL OR w.name = ANY ($1))"
    " ORDER BY w.id",
    {TEXTARRAYOID});

Statement heads_statement(
    "SELECT l.type_id, l.priority, h.ready_at"
    "  FROM unnest($1::integer[]) l_type(type_id)"
    " CROSS JOIN LATERAL (SELECT l_type.type_id, p.priority"
    "                       FROM generate_series(1, 10) p(priority)) l"
    " CROSS JOIN LATERAL (SELECT t.ready_at FROM orchestrator.task t"
    "                      WHERE t.workflow_type_id = l.type_id AND t.priority = l.priority"
    "                        AND t.state = 'queued' AND t.ready_at <= $2"
    "                      ORDER BY t.ready_at LIMIT 1) h",
    {INT4ARRAYOID, TIMESTAMPTZOID});

Statement claim_statement(
    "SELECT c.id, c.priority, c.ready_at, c.stale_at"
    "  FROM unnest($2::integer[]) l(priority)"
    " CROSS JOIN LATERAL (SELECT t.id, t.priority, t.ready_at, t.stale_at"
    "                       FROM orchestrator.task t"
    "                      WHERE t.workflow_type_id = $1 AND t.priority = l.priority"
    "                        AND t.state = 'queued' AND t.ready_at <= $3"
    "                      ORDER BY t.ready_at LIMIT $4"
    "                        FOR UPDATE OF t SKIP LOCKED) c",
    {INT4OID, INT4ARRAYOID, TIMESTAMPTZOID, INT4OID});

Statement running_count_statement(
    "SELECT pg_try_advisory_xact_lock(hashtext('orchestrator.max_concurrent'), $1),"
    "       (SELECT count(*)::integer FROM orchestrator.workflow_orchestration e"
    "         WHERE e.status = 'running' AND e.workflow_type = $2)",
    {INT4OID, TEXTOID});

Statement dead_letter_stale_statement(
    "UPDATE orchestrator.task SET state = 'dead_letter', finished_at = $2,"
    "       dead_letter_reason = 'stale: waited longer than its maximum queue wait'"
    " WHERE id = ANY ($1)",
    {INT8ARRAYOID, TIMESTAMPTZOID});

// $1 type, $2 worker, $3 task ids best first, $4 now, $5 lease deadline, $6 pass id (NULL: create
// the pass row), $7 model tier, $8 limited_by
Statement dispatch_statement(
    "WITH pass AS ("
    "    INSERT INTO orchestrator.workflow_orchestration"
    "        (workflow_type, worker_id, status, created_at, started_at, finished_at, duration_ms)"
    "    SELECT 'orchestrator', $2, 'completed', $4, $4, $4, 0 WHERE $6::bigint IS NULL"
    "    RETURNING id),"
    " execution AS ("
    "    INSERT INTO orchestrator.workflow_orchestration (parent_id, workflow_type, worker_id,"
    "        status, task_ids, batch_size, model_tier, limited_by, created_at, started_at,"
    "        lease_expires_at)"
    "    SELECT p.id, $1, $2, 'running', $3, cardinality($3), $7, $8, $4, $4, $5"
    "      FROM (SELECT $6 AS id UNION ALL SELECT id FROM pass) p WHERE p.id IS NOT NULL"
    "    RETURNING id, parent_id),"
    " claimed AS ("
    "    UPDATE orchestrator.task t"
    "       SET state = 'running', execution_id = (SELECT id FROM execution),"
    "           attempts = t.attempts + 1, dispatched_at = $4"
    "     WHERE t.id = ANY ($3)"
    "    RETURNING t.id, t.payload, t.priority, t.attempts)"
    " SELECT e.id, e.parent_id,"
    "        (SELECT jsonb_agg(jsonb_build_object('task_id', c.id, 'payload', c.payload,"
    "                                             'priority', c.priority, 'attempt', c.attempts)"
    "                          ORDER BY array_position($3, c.id))"
    "           FROM claimed c)"
    "   FROM execution e",
    {TEXTOID, TEXTOID, INT8ARRAYOID, TIMESTAMPTZOID, TIMESTAMPTZOID, INT8OID, TEXTOID, TEXTOID});

struct WorkflowType {
    std::int32_t id = 0;
    std::string name;
    int weight = 1;
    int batch_min = 1;
    int batch_max = 1;
    std::optional<int> max_concurrent;
    core::Duration lease_timeout{};
    Datum webhook_url = 0, n8n_workflow_id = 0;
    bool webhook_url_null = true, n8n_workflow_id_null = true;
    std::vector<std::int32_t> ready_levels; // priorities with a ready head
    TimestampTz oldest_ready = 0;
};

// Fair-share passes live for the backend's life (shared memory will make them global).
core::FairShareState fair_share;
std::map<std::int32_t, double> passes;

std::vector<WorkflowType> load_types(SqlParam filter) {
    Rows rows = types_statement.run({filter}, true);
    std::vector<WorkflowType> types;
    for (std::uint64_t i = 0; i < rows.size(); ++i) {
        WorkflowType t;
        t.id = rows.get_int32(i, 1);
        t.name = rows.get_text(i, 2);
        t.weight = rows.get_int32(i, 3);
        t.batch_min = rows.get_int32(i, 4);
        t.batch_max = rows.get_int32(i, 5);
        if (!rows.is_null(i, 6))
            t.max_concurrent = rows.get_int32(i, 6);
        t.lease_timeout = from_interval(*DatumGetIntervalP(rows.datum(i, 7)));
        t.webhook_url_null = rows.is_null(i, 8);
        t.webhook_url = rows.datum(i, 8);
        t.n8n_workflow_id_null = rows.is_null(i, 9);
        t.n8n_workflow_id = rows.datum(i, 9);
        types.push_back(std::move(t));
    }
    return types;
}

void load_heads(std::vector<WorkflowType>& types, TimestampTz now) {
    std::vector<std::int32_t> ids;
    for (const WorkflowType& t : types)
        ids.push_back(t.id);
    Rows rows = heads_statement.run({int32_array_param(ids), timestamptz_param(now)}, true);
    for (std::uint64_t i = 0; i < rows.size(); ++i) {
        const std::int32_t id = rows.get_int32(i, 1);
        auto it = std::find_if(types.begin(), types.end(),
                               [id](const WorkflowType& t) { return t.id == id; });
        const TimestampTz ready_at = rows.get_timestamptz(i, 3);
        if (it->ready_levels.empty() || ready_at < it->oldest_ready)
            it->oldest_ready = ready_at;
        it->ready_levels.push_back(rows.get_int32(i, 2));
    }
}

// Whether another execution of this type may start now (its max_concurrent cap). The advisory
// lock, held to commit, makes the count exact among concurrent dispatchers; a dispatcher that
// cannot take it skips the type rather than wait.
bool has_capacity(const WorkflowType& type) {
    if (!type.max_concurrent)
        return true;
    Rows rows = running_count_statement.run({int32_param(type.id), text_param(type.name)});
    if (!rows.get_bool(0, 1))
        return false;
    return rows.get_int32(0, 2) < *type.max_concurrent; // counts this call's own too
}

struct Claimed {
    std::vector<core::Candidate> fresh;
    std::vector<std::int64_t> stale;
};

Claimed claim(const WorkflowType& type, int limit, TimestampTz now) {
    Rows rows = claim_statement.run({int32_param(type.id), int32_array_param(type.ready_levels),
                                     timestamptz_param(now), int32_param(limit)});
    Claimed claimed;
    for (std::uint64_t i = 0; i < rows.size(); ++i) {
        const std::int64_t id = rows.get_int64(i, 1);
        if (!rows.is_null(i, 4) && rows.get_timestamptz(i, 4) <= now) {
            claimed.stale.push_back(id);
            continue;
        }
        claimed.fresh.push_back({id, static_cast<int>(DatumGetInt16(rows.datum(i, 2))),
                                 from_timestamptz(rows.get_timestamptz(i, 3))});
    }
    return claimed;
}

struct OutputRow {
    Datum values[11];
    bool nulls[11];
};

} // namespace

// orchestrate_next_execution(worker_id, max_executions, workflow_types) -> one row per execution
ORCHESTRATOR_SQL_FUNCTION(orchestrator_orchestrate_next_execution) {
    const Args args(fcinfo);
    const std::string worker(args.required_text(0, "worker_id", max_worker_id_bytes));
    const int max_executions =
        args.int32_in_range(1, "max_executions", 1, max_executions_per_call);
    const SqlParam filter = args.is_null(2) ? null_param() : SqlParam{fcinfo->args[2].value, false};
    const core::TimePoint now_point = server_clock().now();
    const TimestampTz now = to_timestamptz(now_point);
    const core::PriorityPolicy priority_policy;

    ReturnSetInfo* result_info = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    pg_call([fcinfo] { InitMaterializedSRF(fcinfo, 0); });

    SpiConnection spi;
    std::vector<WorkflowType> types = load_types(filter);
    if (!types.empty())
        load_heads(types, now);

    std::vector<core::ContendingType> contenders;
    std::vector<WorkflowType*> contender_types;
    for (WorkflowType& t : types) {
        if (t.ready_levels.empty())
            continue;
        contenders.push_back({t.id, static_cast<double>(t.weight), passes[t.id],
                              core::is_starving(priority_policy,
                                                now_point - from_timestamptz(t.oldest_ready))});
        contender_types.push_back(&t);
    }

    std::optional<std::int64_t> pass_id;
    int dispatched = 0;
    while (dispatched < max_executions && !contenders.empty()) {
        const std::size_t pick = *core::pick_next_type(fair_share, contenders);
        const WorkflowType& type = *contender_types[pick];
        auto retire = [&] {
            contenders.erase(contenders.begin() + static_cast<long>(pick));
            contender_types.erase(contender_types.begin() + static_cast<long>(pick));
        };
        if (!has_capacity(type)) {
            retire();
            continue;
        }
        const core::BatchGrant grant = core::grant_batch({{type.batch_max, "batch_max"}});
        Claimed claimed = claim(type, grant.max_tasks, now);
        if (!claimed.stale.empty())
            dead_letter_stale_statement.run(
                {int64_array_param(claimed.stale), timestamptz_param(now)});
        const std::vector<core::Candidate> best = core::best_candidates(
            claimed.fresh, now_point, priority_policy, static_cast<std::size_t>(grant.max_tasks));
        const bool oldest_starving =
            !best.empty() && std::any_of(best.begin(), best.end(), [&](const core::Candidate& c) {
                return core::is_starving(priority_policy, now_point - c.ready_at);
            });
        const int take = core::tasks_to_dispatch(type.batch_min, grant.max_tasks,
                                                 static_cast<int>(best.size()), oldest_starving);
        if (take == 0) {
            retire();
            continue;
        }
        std::vector<std::int64_t> task_ids;
        for (int i = 0; i < take; ++i)
            task_ids.push_back(best[static_cast<std::size_t>(i)].task_id);
        const std::string limited_by = take < grant.max_tasks ? "queue" : grant.limited_by;
        const TimestampTz lease = to_timestamptz(now_point + type.lease_timeout);

        Rows row = dispatch_statement.run(
            {text_param(type.name), text_param(worker), int64_array_param(task_ids),
             timestamptz_param(now), timestamptz_param(lease),
             pass_id ? int64_param(*pass_id) : null_param(), text_param("standard"),
             text_param(limited_by)});
        pass_id = row.get_int64(0, 2);

        OutputRow out{};
        out.values[0] = Int64GetDatum(row.get_int64(0, 1));
        out.values[1] = text_param(type.name).value;
        out.values[2] = row.datum(0, 3);
        out.values[3] = int64_array_param(task_ids).value;
        out.values[4] = Int32GetDatum(take);
        out.values[5] = TimestampTzGetDatum(lease);
        out.values[6] = text_param("standard").value;
        out.values[7] = text_param(limited_by).value;
        out.values[8] = type.webhook_url;
        out.nulls[8] = type.webhook_url_null;
        out.values[9] = type.n8n_workflow_id;
        out.nulls[9] = type.n8n_workflow_id_null;
        out.values[10] = Int64GetDatum(*pass_id);
        pg_call([result_info, &out] {
            tuplestore_putvalues(result_info->setResult, result_info->setDesc, out.values,
                                 out.nulls);
        });

        core::charge_type(fair_share, contenders[pick]);
        passes[type.id] = contenders[pick].pass;
        ++dispatched;
        if (take < grant.max_tasks)
            retire(); // it has nothing more ready
    }
    return Datum(0);
}
