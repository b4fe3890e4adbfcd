// orchestrate_next_execution: picks what may run now, claims it and records the executions.
//
// 1. Read the dispatchable workflow types with their rules, and for each (type, priority) level
//    the oldest ready task (one index probe each: which types have work, which are starving).
// 2. Pick types by weighted fair share (core/fairness; weights follow business hours).
// 3. For the picked type, ask the governor (core/governor over the shared counters) how many
//    tasks its next execution may take given rate limits, budgets, caps and breakers, and
//    reserve that much at once, so concurrent dispatchers can never pass a limit together.
// 4. Claim the best tasks: each level is read in ready_at order under FOR UPDATE SKIP LOCKED, so
//    dispatchers never wait on each other or share a task; the core's scoring merges the levels.
//    Stale tasks go to the dead-letter queue; tasks whose concurrency key is full stay queued.
// 5. Shrink the reservation to the tasks claimed, record the execution (and, first time round,
//    the pass that is its parent) and mark its tasks running: written directly, without a
//    statement (dispatch_record.hpp).
#include "orchestrator/core/batch.hpp"
#include "orchestrator/core/calendar.hpp"
#include "orchestrator/core/error.hpp"
#include "orchestrator/core/fairness.hpp"
#include "orchestrator/core/priority.hpp"
#include "orchestrator/pg/args.hpp"
#include "orchestrator/pg/boundary.hpp"
#include "orchestrator/pg/breakers.hpp"
#include "orchestrator/pg/clock.hpp"
#include "orchestrator/pg/config_cache.hpp"
#include "orchestrator/pg/dispatch_record.hpp"
#include "orchestrator/pg/executions.hpp"
#include "orchestrator/pg/governance.hpp"
#include "orchestrator/pg/ready_floor.hpp"
#include "orchestrator/pg/spi.hpp"

extern "C" {
#include "access/stratnum.h"
#include "utils/fmgroids.h"
}

#include <algorithm>
#include <fmt/format.h>
#include <boost/container/flat_map.hpp>
#include <optional>
#include <string>
#include <vector>

using namespace orchestrator;
using namespace orchestrator::pg;

namespace {

constexpr int max_worker_id_bytes = 200;
constexpr int max_executions_per_call = 1000;

// Each level is read from its floor (ready_floor.hpp), past the entries claimed tasks left.
Statement heads_statement(
    "SELECT l.type_id, l.priority, h.ready_at"
    "  FROM unnest($1::integer[], $2::integer[], $3::timestamptz[]) l(type_id, priority, floor)"
    " CROSS JOIN LATERAL (SELECT t.ready_at FROM orchestrator.task t"
    "                      WHERE t.workflow_type_id = l.type_id AND t.priority = l.priority"
    "                        AND t.state = 'queued' AND t.ready_at >= l.floor AND t.ready_at <= $4"
    "                      ORDER BY t.ready_at LIMIT 1) h",
    {INT4ARRAYOID, INT4ARRAYOID, TIMESTAMPTZARRAYOID, TIMESTAMPTZOID});

// A concurrency key is counted only once its lock is held, under a snapshot taken after that.
Statement key_lock_statement(
    "SELECT pg_try_advisory_xact_lock(hashtext('orchestrator.concurrency_key'), hashtext($1))",
    {TEXTOID});
Statement key_running_statement("SELECT count(*)::integer FROM orchestrator.task"
                                " WHERE state = 'running' AND concurrency_key = $1",
                                {TEXTOID});

Statement dead_letter_stale_statement(
    "UPDATE orchestrator.task SET state = 'dead_letter', finished_at = $2,"
    "       dead_letter_reason = 'stale: waited longer than its maximum queue wait'"
    " WHERE id = ANY ($1)",
    {INT8ARRAYOID, TIMESTAMPTZOID});

struct WorkflowType {
    const TypeConfig* config = nullptr;
    TypeRules rules;                        // with today's budget raise
    std::vector<std::int32_t> ready_levels; // priorities that may have ready work
    TimestampTz oldest_ready = 0;
};

// The types that may be dispatched now: not paused, and named by the filter when there is one.
std::vector<WorkflowType> dispatchable_types(const ConfigSnapshot& snapshot,
                                             const std::optional<std::vector<std::string>>& filter,
                                             core::TimePoint day_start) {
    std::vector<WorkflowType> types;
    for (const TypeConfig& t : snapshot.types) {
        if (t.paused ||
            (filter && std::find(filter->begin(), filter->end(), t.rules.name) == filter->end()))
            continue;
        WorkflowType w;
        w.config = &t;
        w.rules = t.rules;
        w.rules.budget_raise = type_raise_at(t, day_start);
        types.push_back(std::move(w));
    }
    return types;
}

std::optional<std::vector<std::string>> read_filter(FunctionCallInfo fcinfo, int n) {
    if (fcinfo->args[n].isnull)
        return std::nullopt;
    const Datum raw = fcinfo->args[n].value;
    Datum* elements = nullptr;
    bool* nulls = nullptr;
    int count = 0;
    pg_call([raw, &elements, &nulls, &count] {
        deconstruct_array(DatumGetArrayTypeP(raw), TEXTOID, -1, false, 'i', &elements, &nulls,
                          &count);
    });
    std::vector<std::string> names;
    for (int i = 0; i < count; ++i)
        if (!nulls[i])
            names.emplace_back(text_of(elements[i]));
    return names;
}

void load_heads(std::vector<WorkflowType>& types, TimestampTz now) {
    std::vector<core::LevelKey> levels;
    for (const WorkflowType& t : types)
        for (std::int32_t p = core::min_priority; p <= core::max_priority; ++p)
            levels.push_back({0, t.rules.id, p});
    const std::vector<TimestampTz> all_floors = ready_floors(levels);
    std::vector<std::int32_t> ids, priorities;
    std::vector<TimestampTz> floors;
    for (std::size_t i = 0; i < levels.size(); ++i)
        if (all_floors[i] <= now) { // a level whose floor is still to come has nothing ready
            ids.push_back(levels[i].type_id);
            priorities.push_back(levels[i].priority);
            floors.push_back(all_floors[i]);
        }
    if (ids.empty())
        return;
    Rows rows = heads_statement.run({int32_array_param(ids), int32_array_param(priorities),
                                     timestamptz_array_param(floors), timestamptz_param(now)},
                                    true);
    for (std::uint64_t i = 0; i < rows.size(); ++i) {
        const std::int32_t id = rows.get_int32(i, 1);
        auto it = std::find_if(types.begin(), types.end(),
                               [id](const WorkflowType& t) { return t.rules.id == id; });
        const TimestampTz ready_at = rows.get_timestamptz(i, 3);
        if (it->ready_levels.empty() || ready_at < it->oldest_ready)
            it->oldest_ready = ready_at;
        it->ready_levels.push_back(rows.get_int32(i, 2));
    }
}

struct ClaimedTask {
    core::Candidate candidate;
    std::optional<TimestampTz> stale_at;
    std::string concurrency_key;
    core::MicroUsd cost = 0;
    HeapTuple locked; // a copy of the version the claim locked
};

// Locks up to `limit` queued tasks per level of `scan`, in ready_at order from the level's floor,
// as SELECT ... FOR UPDATE SKIP LOCKED would (table_writer.hpp); under a snapshot taken after
// the scan's floors were read.
std::vector<ClaimedTask> lock_queued(TableWriter& tasks, const WorkflowType& type,
                                     const FloorScan& scan, int limit, TimestampTz now) {
    const FreshSnapshot snapshot;
    std::vector<ClaimedTask> locked;
    const std::int32_t type_id = type.rules.id;
    for (std::size_t i = 0; i < scan.levels().size(); ++i) {
        const std::int32_t priority = scan.levels()[i];
        const TimestampTz floor = scan.floors()[i];
        const auto in_level = [&](const TableWriter::Row& t) {
            const TimestampTz ready_at = DatumGetTimestampTz(t.get("ready_at"));
            return text_of(t.get("state")) == "queued" &&
                   DatumGetInt32(t.get("workflow_type_id")) == type_id &&
                   DatumGetInt16(t.get("priority")) == priority && ready_at >= floor &&
                   ready_at <= now;
        };
        int taken = 0;
        tasks.lock_skipping_locked(
            "task_ready",
            {{1, BTEqualStrategyNumber, F_INT4EQ, Int32GetDatum(type_id)},
             {2, BTEqualStrategyNumber, F_INT2EQ,
              Int16GetDatum(static_cast<std::int16_t>(priority))},
             {3, BTGreaterEqualStrategyNumber, F_TIMESTAMPTZ_GE, TimestampTzGetDatum(floor)},
             {3, BTLessEqualStrategyNumber, F_TIMESTAMPTZ_LE, TimestampTzGetDatum(now)}},
            in_level, [&](const TableWriter::Row& t) {
                ClaimedTask c;
                c.candidate = {DatumGetInt64(t.get("id")), priority,
                               from_timestamptz(DatumGetTimestampTz(t.get("ready_at")))};
                if (!t.is_null("stale_at"))
                    c.stale_at = DatumGetTimestampTz(t.get("stale_at"));
                if (!t.is_null("concurrency_key"))
                    c.concurrency_key = text_of(t.get("concurrency_key"));
                c.cost = t.is_null("estimated_cost_usd")
                             ? type.rules.cost_per_task
                             : micro_usd_of(t.get("estimated_cost_usd"));
                c.locked = tasks.copy_of_last_read();
                locked.push_back(std::move(c));
                return ++taken < limit;
            });
    }
    return locked;
}

// Claims up to `limit` fresh tasks per level. Stale tasks found on the way (waited longer than
// their maximum queue wait) go to the dead-letter queue and the claim reads further.
// `more` tells whether a level had `limit` tasks to give, so reading further may find more.
std::vector<ClaimedTask> claim(TableWriter& tasks, const WorkflowType& type, int min_priority,
                               int limit, TimestampTz now, bool& more) {
    std::vector<std::int32_t> levels;
    for (std::int32_t p : type.ready_levels)
        if (p >= min_priority)
            levels.push_back(p);
    std::vector<ClaimedTask> fresh;
    while (!levels.empty()) {
        FloorScan scan(type.rules.id, levels, now);
        if (scan.levels().empty())
            break;
        std::vector<std::int64_t> stale;
        boost::container::flat_map<int, int> per_level;
        for (ClaimedTask& t : lock_queued(tasks, type, scan, limit, now)) {
            const int priority = t.candidate.priority;
            scan.saw(priority, to_timestamptz(t.candidate.ready_at));
            more = more || ++per_level[priority] == limit;
            if (t.stale_at && *t.stale_at < now)
                stale.push_back(t.candidate.task_id);
            else
                fresh.push_back(std::move(t));
        }
        scan.finish();
        if (stale.empty())
            break;
        dead_letter_stale_statement.run({int64_array_param(stale), timestamptz_param(now)});
        fresh.clear(); // read again: the levels' next tasks are now within reach
        more = false;
    }
    return fresh;
}

// Keeps, best first, the tasks whose concurrency key has room: at most key_limit tasks with one
// key run at once. A key another dispatcher is deciding on right now is skipped, not waited for.
std::vector<ClaimedTask> within_key_limits(std::vector<ClaimedTask> tasks, int key_limit) {
    boost::container::flat_map<std::string, int> room;
    std::vector<ClaimedTask> kept;
    for (ClaimedTask& t : tasks) {
        if (t.concurrency_key.empty()) {
            kept.push_back(std::move(t));
            continue;
        }
        auto it = room.find(t.concurrency_key);
        if (it == room.end()) {
            int free = 0;
            if (key_lock_statement.run({text_param(t.concurrency_key)}).get_bool(0, 1))
                free = key_limit -
                       key_running_statement.run({text_param(t.concurrency_key)}).get_int32(0, 1);
            it = room.emplace(t.concurrency_key, free).first;
        }
        if (it->second > 0) {
            --it->second;
            kept.push_back(std::move(t));
        }
    }
    return kept;
}

// The best tasks this execution may take, up to `wanted`, best first. Tasks held back by a full
// concurrency key make the claim read further down the levels (a few times at most).
std::vector<ClaimedTask> best_claimable(TableWriter& tasks, const WorkflowType& type,
                                        int min_priority, int wanted, TimestampTz now,
                                        core::TimePoint now_point,
                                        const core::PriorityPolicy& policy) {
    int limit = wanted;
    for (int round = 0;; ++round) {
        bool more = false;
        std::vector<ClaimedTask> claimed = claim(tasks, type, min_priority, limit, now, more);
        std::sort(claimed.begin(), claimed.end(), [&](const ClaimedTask& a, const ClaimedTask& b) {
            return core::ranks_before(a.candidate, b.candidate, now_point, policy);
        });
        std::vector<ClaimedTask> kept =
            within_key_limits(std::move(claimed), type.config->key_limit);
        if (static_cast<int>(kept.size()) >= wanted || !more || round == 3)
            return kept;
        limit *= 4;
    }
}

std::string api_calls_json(const Holding& holding, const std::vector<ApiConfig>& apis) {
    std::string json = "{";
    for (const auto& [api_id, calls] : holding.api_calls) {
        auto api = std::find_if(apis.begin(), apis.end(),
                                [id = api_id](const ApiConfig& a) { return a.id == id; });
        if (api == apis.end())
            continue;
        if (json.size() > 1)
            json += ", ";
        json += fmt::format("\"{}\": {}", api->name, calls); // names are [a-z0-9_]
    }
    return json + "}";
}

SqlParam jsonb_param(const std::string& json) {
    const char* text = json.c_str();
    return {pg_call([text] { return DirectFunctionCall1(jsonb_in, CStringGetDatum(text)); }),
            false};
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
    const int max_executions = args.int32_in_range(1, "max_executions", 1, max_executions_per_call);
    const std::optional<std::vector<std::string>> filter = read_filter(fcinfo, 2);
    const core::TimePoint now_point = server_clock().now();
    const TimestampTz now = to_timestamptz(now_point);
    const core::PriorityPolicy priority_policy;

    ReturnSetInfo* result_info = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    // The row type the caller expects is the declared one; taking it spares reading the
    // declaration from the catalog again on every call.
    pg_call([fcinfo, result_info] {
        const bool expected = result_info != nullptr && IsA(result_info, ReturnSetInfo) &&
                              result_info->expectedDesc != nullptr;
        InitMaterializedSRF(fcinfo, expected ? MAT_SRF_USE_EXPECTED_DESC : 0);
    });

    SpiConnection spi;
    const ConfigSnapshot& snapshot = config_snapshot();
    const GovernanceConfig config = config_at(snapshot, now_point);
    std::vector<WorkflowType> types = dispatchable_types(snapshot, filter, config.budget_day_start);
    if (types.empty())
        return Datum(0);
    if (types.size() == 1) {
        // Nothing to share between types: the claim reads every priority level itself, so the
        // heads (which types have work, and since when) would only cost a statement.
        WorkflowType& only = types.front();
        for (std::int32_t p = core::min_priority; p <= core::max_priority; ++p)
            only.ready_levels.push_back(p);
        only.oldest_ready = now;
    } else {
        load_heads(types, now);
        if (std::all_of(types.begin(), types.end(),
                        [](const WorkflowType& t) { return t.ready_levels.empty(); }))
            return Datum(0);
    }

    const std::vector<ApiConfig>& apis = snapshot.apis;
    Governance governance(snapshot.instance, config, apis, now_point);
    Breakers breakers(config.breaker, now_point, snapshot.breakers);
    const bool business_hours = core::within_business_hours(config.business_hours, now_point,
                                                            utc_offset_of(config.time_zone));

    std::vector<core::ContendingType> contenders;
    std::vector<WorkflowType*> contender_types;
    for (WorkflowType& t : types) {
        if (t.ready_levels.empty())
            continue;
        contenders.push_back(
            {t.rules.id,
             static_cast<double>(core::weight_now(t.config->weight_inside, t.config->weight_outside,
                                                  business_hours)),
             governance.pass_of(t.rules.id),
             core::is_starving(priority_policy, now_point - from_timestamptz(t.oldest_ready))});
        contender_types.push_back(&t);
    }

    std::optional<DispatchRecorder> recorder; // opened with the first claim
    std::optional<std::int64_t> pass_id;
    int dispatched = 0;
    while (dispatched < max_executions && !contenders.empty()) {
        const std::size_t pick = *core::pick_next_type(governance.fair_share(), contenders);
        WorkflowType& type = *contender_types[pick];
        auto retire = [&] {
            contenders.erase(contenders.begin() + static_cast<long>(pick));
            contender_types.erase(contender_types.begin() + static_cast<long>(pick));
        };

        const bool type_allows = breakers.allows("workflow_type", type.rules.name);
        ApiVerdicts api_allows;
        for (const ApiNeed& need : type.rules.apis)
            api_allows[need.api_id] = breakers.allows("api", need.api_name);
        Reservation reservation = governance.reserve(type.rules, type_allows, api_allows);
        const core::BatchGrant& grant = reservation.plan.grant;
        if (grant.max_tasks == 0) {
            retire();
            continue;
        }

        if (!recorder)
            recorder.emplace(snapshot);
        const std::vector<ClaimedTask> best =
            best_claimable(recorder->tasks(), type, reservation.plan.min_priority, grant.max_tasks,
                           now, now_point, priority_policy);
        const bool any_starving = std::any_of(best.begin(), best.end(), [&](const ClaimedTask& t) {
            return core::is_starving(priority_policy, now_point - t.candidate.ready_at);
        });
        const int take = core::tasks_to_dispatch(type.rules.batch_min, grant.max_tasks,
                                                 static_cast<int>(best.size()), any_starving);
        std::vector<core::MicroUsd> costs;
        for (int i = 0; i < take; ++i)
            costs.push_back(best[static_cast<std::size_t>(i)].cost);
        const int fit = governance.settle_claim(reservation, type.rules, costs);
        if (fit == 0) {
            retire();
            continue;
        }
        std::vector<LockedTask> tasks;
        for (int i = 0; i < fit; ++i)
            tasks.push_back({best[static_cast<std::size_t>(i)].candidate.task_id,
                             best[static_cast<std::size_t>(i)].locked});
        const std::string limited_by = fit < take               ? "budget"
                                       : take < grant.max_tasks ? "queue"
                                                                : grant.limited_by;
        const char* tier =
            reservation.plan.tier == core::ModelTier::economy ? "economy" : "standard";
        const TimestampTz lease = to_timestamptz(now_point + type.config->lease_timeout);

        if (!pass_id) {
            pass_id = next_value(snapshot.execution_id_sequence);
            recorder->record_pass(*pass_id, worker, now);
        }
        const std::int64_t execution_id = next_value(snapshot.execution_id_sequence);
        const RecordedExecution recorded = recorder->record_execution(
            {execution_id, *pass_id, type.rules.name, worker, std::move(tasks), now, lease, tier,
             limited_by, reservation.holding.reserved_cost,
             jsonb_param(api_calls_json(reservation.holding, apis)).value,
             reservation.holding.db_connections, reservation.holding.memory_mb});
        breakers.record_trials(execution_id);

        OutputRow out{};
        out.values[0] = Int64GetDatum(execution_id);
        out.values[1] = text_param(type.rules.name).value;
        out.values[2] = recorded.tasks;
        out.values[3] = recorded.task_ids;
        out.values[4] = Int32GetDatum(fit);
        out.values[5] = TimestampTzGetDatum(lease);
        out.values[6] = text_param(tier).value;
        out.values[7] = text_param(limited_by).value;
        out.nulls[8] = !type.config->webhook_url;
        if (type.config->webhook_url)
            out.values[8] = text_param(*type.config->webhook_url).value;
        out.nulls[9] = !type.config->n8n_workflow_id;
        if (type.config->n8n_workflow_id)
            out.values[9] = text_param(*type.config->n8n_workflow_id).value;
        out.values[10] = Int64GetDatum(*pass_id);
        pg_call([result_info, &out] {
            tuplestore_putvalues(result_info->setResult, result_info->setDesc, out.values,
                                 out.nulls);
        });

        governance.charge(contenders[pick]);
        ++dispatched;
        if (fit < grant.max_tasks)
            retire(); // it has nothing more it may run now
    }
    return Datum(0);
}
