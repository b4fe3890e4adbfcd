// enqueue and enqueue_batch: add tasks to the queue.
#include "orchestrator/core/error.hpp"
#include "orchestrator/core/priority.hpp"
#include "orchestrator/pg/args.hpp"
#include "orchestrator/pg/boundary.hpp"
#include "orchestrator/pg/clock.hpp"
#include "orchestrator/pg/config_cache.hpp"
#include "orchestrator/pg/ready_floor.hpp"
#include "orchestrator/pg/settings.hpp"
#include "orchestrator/pg/spi.hpp"
#include "orchestrator/pg/table_writer.hpp"
#include "orchestrator/pg/worker.hpp"

#include <fmt/format.h>
#include <boost/container/flat_map.hpp>
#include <algorithm>
#include <optional>
#include <string>

using namespace orchestrator;
using namespace orchestrator::pg;
namespace sqlstate = core::sqlstate;

namespace {

constexpr int max_name_bytes = 63;
constexpr int max_key_bytes = 512;
constexpr int max_batch_tasks = 10000;

// Columns shared by both forms; $1 type name, $2 priority, $5 now, $6 run_after, $7 max wait,
// $8 parent execution, $9 estimated cost.
#define TASK_INSERT                                                                                \
    "INSERT INTO orchestrator.task AS t (workflow_type_id, priority, state, payload,"              \
    "    idempotency_key, created_at, ready_at, stale_at, parent_execution_id, "                   \
    "estimated_cost_usd,"                                                                          \
    "    concurrency_key, singleton)"

// A conflict on either unique index (idempotency key; a singleton type's queued key) inserts
// nothing; the caller then returns the task that was there first.
Statement enqueue_statement(
    TASK_INSERT " SELECT w.id, $2, 'queued', $3, $4, $5, greatest($5, coalesce($6, $5)),"
                "        $5 + coalesce($7, w.max_queue_wait), $8, $9, $10,"
                "        $10 IS NOT NULL AND w.duplicate_key_policy = 'drop'"
                "   FROM orchestrator.workflow_type w WHERE w.name = $1"
                // A type that drops duplicates: also those queued before it started to.
                "    AND NOT ($10 IS NOT NULL AND w.duplicate_key_policy = 'drop' AND EXISTS ("
                "         SELECT 1 FROM orchestrator.task q WHERE q.workflow_type_id = w.id"
                "            AND q.concurrency_key = $10 AND q.state = 'queued'))"
                " ON CONFLICT DO NOTHING"
                " RETURNING t.id, t.workflow_type_id, t.ready_at",
    {TEXTOID, INT4OID, JSONBOID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID, INTERVALOID, INT8OID,
     NUMERICOID, TEXTOID});

Statement queued_duplicate_statement(
    "SELECT t.id FROM orchestrator.task t"
    " WHERE t.workflow_type_id = (SELECT w.id FROM orchestrator.workflow_type w WHERE w.name = $1)"
    "   AND t.concurrency_key = $2 AND t.state = 'queued'"
    " ORDER BY t.id LIMIT 1",
    {TEXTOID, TEXTOID});

// $1 the type's id and $10 its maximum queue wait, from the configuration cache.
Statement enqueue_batch_statement(
    TASK_INSERT
    " SELECT $1, $2, 'queued', p.value, k.key, $5, greatest($5, coalesce($6, $5)),"
    "        $5 + coalesce($7, $10), $8, $9, NULL, false"
    "   FROM jsonb_array_elements($3) WITH ORDINALITY p(value, n)"
    "   LEFT JOIN unnest($4::text[]) WITH ORDINALITY k(key, n) ON k.n = p.n"
    "  ORDER BY p.n"
    " ON CONFLICT (workflow_type_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING"
    " RETURNING t.id, t.idempotency_key, t.workflow_type_id, t.ready_at",
    {INT4OID, INT4OID, JSONBOID, TEXTARRAYOID, TIMESTAMPTZOID, TIMESTAMPTZOID, INTERVALOID, INT8OID,
     NUMERICOID, INTERVALOID});

// Not read-only: a fresh snapshot sees the task a concurrent enqueue committed while this one
// waited on the unique index, and tasks this statement inserted earlier.
Statement existing_key_statement(
    "SELECT t.id, t.idempotency_key FROM orchestrator.task t"
    " WHERE t.workflow_type_id = (SELECT w.id FROM orchestrator.workflow_type w WHERE w.name = $1)"
    "   AND t.idempotency_key = ANY ($2)",
    {TEXTOID, TEXTARRAYOID});

Statement parent_exists_statement("SELECT 1 FROM orchestrator.workflow_orchestration WHERE id = $1",
                                  {INT8OID});

Statement
    largest_payload_statement("SELECT max(pg_column_size(e.value)) FROM jsonb_array_elements($1) e",
                              {JSONBOID});

// The arguments both forms share, read and checked before anything changes.
struct CommonArgs {
    std::string workflow_type;
    std::int32_t priority = 5;
    SqlParam run_after, max_queue_wait, parent, cost;
};

CommonArgs read_common(const Args& args, FunctionCallInfo fcinfo, int priority_arg,
                       int run_after_arg) {
    CommonArgs c;
    c.workflow_type = std::string(args.required_text(0, "workflow_type", max_name_bytes));
    c.priority =
        args.int32_in_range(priority_arg, "priority", core::min_priority, core::max_priority);
    const auto run_after = args.optional_timestamptz(run_after_arg);
    c.run_after = run_after ? timestamptz_param(*run_after) : null_param();
    const auto parent = args.optional_int64(run_after_arg + 1);
    c.parent = parent ? int64_param(*parent) : null_param();
    const auto cost = args.optional_nonnegative_numeric(run_after_arg + 2, "estimated_cost_usd");
    c.cost = cost ? SqlParam{*cost, false} : null_param();
    args.optional_interval(run_after_arg + 3, "max_queue_wait");
    c.max_queue_wait = args.is_null(run_after_arg + 3)
                           ? null_param()
                           : SqlParam{fcinfo->args[run_after_arg + 3].value, false};
    return c;
}

// The type, from the configuration cache (SPI connected).
const TypeConfig& known_type(const std::string& name) {
    const TypeConfig* type = find_type(config_snapshot(), name);
    if (type == nullptr)
        throw core::Error(sqlstate::no_data_found,
                          fmt::format("workflow type \"{}\" does not exist", name), {},
                          "Register it with orchestrator.register_workflow_type().");
    return *type;
}

SqlParam max_queue_wait_param(const TypeConfig& type) {
    return type.max_queue_wait ? SqlParam{PointerGetDatum(&*type.max_queue_wait), false}
                               : null_param();
}

// Checks what the insert could not tell apart: an unknown type, a missing parent.
const TypeConfig& check_references(const CommonArgs& c) {
    const TypeConfig& type = known_type(c.workflow_type);
    if (!c.parent.is_null && parent_exists_statement.run({c.parent}, true, 1).size() == 0)
        throw core::Error(sqlstate::no_data_found, fmt::format("parent execution {} does not exist",
                                                               DatumGetInt64(c.parent.value)));
    return type;
}

struct Queued {
    std::int64_t id;
    std::int32_t type_id;
    TimestampTz ready_at;
};

// Tasks without keys cannot conflict: they are written directly (table_writer.hpp), their type
// (id, maximum queue wait) taken from the configuration cache.
class UnkeyedTasks {
public:
    UnkeyedTasks(const CommonArgs& c, const TypeConfig& type, TimestampTz now)
        : c_(c), type_id_(type.rules.id), now_(now),
          ready_at_(c.run_after.is_null ? now
                                        : std::max(now, DatumGetTimestampTz(c.run_after.value))),
          snapshot_(config_snapshot()), tasks_(snapshot_.task_table) {
        const SqlParam wait =
            c.max_queue_wait.is_null ? max_queue_wait_param(type) : c.max_queue_wait;
        if (!wait.is_null)
            stale_at_ = pg_call([now, &wait] {
                return DirectFunctionCall2(timestamptz_pl_interval, TimestampTzGetDatum(now),
                                           wait.value);
            });
    }

    Queued write(Datum payload) {
        const Queued queued{next_value(snapshot_.task_id_sequence), type_id_, ready_at_};
        TableWriter::Row row = tasks_.new_row();
        row.set("id", Int64GetDatum(queued.id));
        row.set("workflow_type_id", Int32GetDatum(type_id_));
        row.set("priority", Int16GetDatum(static_cast<std::int16_t>(c_.priority)));
        row.set("state", text_param("queued").value);
        row.set("payload", payload);
        row.set("singleton", BoolGetDatum(false));
        row.set("created_at", TimestampTzGetDatum(now_));
        row.set("ready_at", TimestampTzGetDatum(ready_at_));
        if (stale_at_)
            row.set("stale_at", *stale_at_);
        row.set("attempts", Int32GetDatum(0));
        if (!c_.parent.is_null)
            row.set("parent_execution_id", c_.parent.value);
        if (!c_.cost.is_null)
            row.set("estimated_cost_usd", c_.cost.value);
        tasks_.insert(row);
        return queued;
    }

private:
    const CommonArgs& c_;
    std::int32_t type_id_;
    TimestampTz now_;
    TimestampTz ready_at_;
    std::optional<Datum> stale_at_;
    const ConfigSnapshot& snapshot_;
    TableWriter tasks_;
};

// The elements of a jsonb array, each a jsonb of its own (as jsonb_array_elements gives them).
std::vector<Datum> elements_of(Datum array) {
    int count = 0;
    Datum* elements = pg_call([array, &count] {
        Jsonb* json = DatumGetJsonbP(array);
        Datum* out = static_cast<Datum*>(palloc(sizeof(Datum) * (JB_ROOT_COUNT(json) + 1)));
        JsonbIterator* it = JsonbIteratorInit(&json->root);
        JsonbValue v;
        JsonbIteratorToken token;
        while ((token = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
            if (token == WJB_ELEM)
                out[count++] = JsonbPGetDatum(JsonbValueToJsonb(&v));
        return out;
    });
    return std::vector<Datum>(elements, elements + count);
}

// The number of payloads in the batch, each checked against orchestrator.max_payload_bytes.
std::int64_t count_payloads(Datum payloads) {
    const Jsonb* array = reinterpret_cast<const Jsonb*>(DatumGetPointer(payloads));
    if (!JB_ROOT_IS_ARRAY(array) || JB_ROOT_IS_SCALAR(array))
        throw core::Error(sqlstate::invalid_parameter_value,
                          "payloads must be a JSON array of task payloads");
    const std::int64_t count = JB_ROOT_COUNT(array);
    if (count < 1 || count > max_batch_tasks)
        throw core::Error(sqlstate::invalid_parameter_value,
                          fmt::format("payloads must hold 1 to {} tasks", max_batch_tasks),
                          fmt::format("It holds {}.", count));
    // A payload on its own takes at most 8 bytes more than its share of the array (its own
    // headers against the array's, and alignment): a small array needs no look inside.
    constexpr std::size_t own_headers = 8;
    if (VARSIZE(array) + own_headers > static_cast<std::size_t>(settings::max_payload_bytes)) {
        Rows largest = largest_payload_statement.run({SqlParam{payloads, false}}, true);
        if (largest.get_int32(0, 1) > settings::max_payload_bytes)
            throw core::Error(sqlstate::program_limit_exceeded, "a payload is too large",
                              fmt::format("The limit (orchestrator.max_payload_bytes) is {} bytes.",
                                          settings::max_payload_bytes));
    }
    return count;
}

// Keyed tasks: one INSERT ... ON CONFLICT; a key already queued gives the task that holds it.
std::vector<std::int64_t> enqueue_keyed_batch(const CommonArgs& c, const TypeConfig& type,
                                              Datum payloads, const std::vector<std::string>& keys,
                                              const std::vector<bool>& key_nulls, TimestampTz now) {
    std::vector<const char*> key_params;
    for (std::size_t i = 0; i < keys.size(); ++i)
        key_params.push_back(key_nulls[i] ? nullptr : keys[i].c_str());
    Rows inserted = enqueue_batch_statement.run(
        {int32_param(type.rules.id), int32_param(c.priority), SqlParam{payloads, false},
         text_array_param(key_params), timestamptz_param(now), c.run_after, c.max_queue_wait,
         c.parent, c.cost, max_queue_wait_param(type)});
    if (inserted.size() > 0) {
        // One type, one priority, one ready_at for the whole batch.
        note_queued(inserted.get_int32(0, 3), c.priority, inserted.get_timestamptz(0, 4));
        wake_worker_at_commit();
    }
    // Rows come back in input order; keyed rows that already existed are looked up.
    boost::container::flat_map<std::string, std::int64_t> by_key;
    std::vector<std::int64_t> unkeyed;
    for (std::uint64_t i = 0; i < inserted.size(); ++i) {
        if (inserted.is_null(i, 2))
            unkeyed.push_back(inserted.get_int64(i, 1));
        else
            by_key.emplace(inserted.get_text(i, 2), inserted.get_int64(i, 1));
    }
    Rows existing =
        existing_key_statement.run({text_param(c.workflow_type), text_array_param(key_params)});
    for (std::uint64_t i = 0; i < existing.size(); ++i)
        by_key.emplace(existing.get_text(i, 2), existing.get_int64(i, 1));
    std::vector<std::int64_t> ids;
    std::size_t next_unkeyed = 0;
    for (std::size_t i = 0; i < keys.size(); ++i)
        ids.push_back(key_nulls[i] ? unkeyed.at(next_unkeyed++) : by_key.at(keys[i]));
    return ids;
}

} // namespace

// enqueue(workflow_type, payload, priority, idempotency_key, run_after, parent_execution_id,
//         estimated_cost_usd, max_queue_wait, concurrency_key) -> task id; for a singleton type,
// the id of the task already queued with that concurrency key
ORCHESTRATOR_SQL_FUNCTION(orchestrator_enqueue) {
    const Args args(fcinfo);
    const CommonArgs c = read_common(args, fcinfo, 2, 4);
    const Datum payload = args.required_jsonb(1, "payload");
    const auto key = args.optional_text(3, "idempotency_key", max_key_bytes);
    const auto concurrency_key = args.optional_text(8, "concurrency_key", max_key_bytes);
    const TimestampTz now = to_timestamptz(server_clock().now());

    SpiConnection spi;
    if (!c.parent.is_null)
        check_references(c);
    std::optional<Queued> queued;
    if (key || concurrency_key) {
        Rows inserted = enqueue_statement.run(
            {text_param(c.workflow_type), int32_param(c.priority), SqlParam{payload, false},
             key ? text_param(*key) : null_param(), timestamptz_param(now), c.run_after,
             c.max_queue_wait, c.parent, c.cost,
             concurrency_key ? text_param(*concurrency_key) : null_param()});
        if (inserted.size() == 1)
            queued = Queued{inserted.get_int64(0, 1), inserted.get_int32(0, 2),
                            inserted.get_timestamptz(0, 3)};
    } else {
        queued = UnkeyedTasks(c, known_type(c.workflow_type), now).write(payload);
    }
    if (queued) {
        note_queued(queued->type_id, c.priority, queued->ready_at);
        wake_worker_at_commit();
        return Int64GetDatum(queued->id);
    }
    if (key) {
        Rows existing = existing_key_statement.run(
            {text_param(c.workflow_type), text_array_param({std::string(*key).c_str()})});
        if (existing.size() == 1)
            return Int64GetDatum(existing.get_int64(0, 1));
    }
    if (concurrency_key) {
        Rows duplicate = queued_duplicate_statement.run(
            {text_param(c.workflow_type), text_param(*concurrency_key)});
        if (duplicate.size() == 1)
            return Int64GetDatum(duplicate.get_int64(0, 1));
    }
    check_references(c);
    throw core::Error(sqlstate::internal_error, "enqueue inserted nothing");
}

// enqueue_batch(workflow_type, payloads jsonb array, priority, idempotency_keys, run_after,
//               parent_execution_id, estimated_cost_usd, max_queue_wait) -> task ids in order
ORCHESTRATOR_SQL_FUNCTION(orchestrator_enqueue_batch) {
    const Args args(fcinfo);
    const CommonArgs c = read_common(args, fcinfo, 2, 4);
    // Each payload is held to orchestrator.max_payload_bytes below; the array to 256 MB.
    const Datum payloads = args.required_jsonb(1, "payloads", 256 * 1024 * 1024);
    std::vector<std::string> keys;
    std::vector<bool> key_nulls;
    if (!args.is_null(3)) {
        const Datum raw = fcinfo->args[3].value;
        Datum* elements = nullptr;
        bool* nulls = nullptr;
        int count = 0;
        pg_call([raw, &elements, &nulls, &count] {
            deconstruct_array(DatumGetArrayTypeP(raw), TEXTOID, -1, false, 'i', &elements, &nulls,
                              &count);
        });
        for (int i = 0; i < count; ++i) {
            key_nulls.push_back(nulls[i]);
            keys.emplace_back(nulls[i] ? std::string() : std::string(text_of(elements[i])));
            if (!nulls[i] && (keys.back().empty() || keys.back().size() > max_key_bytes))
                throw core::Error(sqlstate::invalid_parameter_value,
                                  "idempotency_keys must be non-empty and at most 512 bytes");
        }
    }
    const TimestampTz now = to_timestamptz(server_clock().now());

    std::vector<std::int64_t> ids;
    {
        SpiConnection spi;
        const std::int64_t count = count_payloads(payloads);
        if (!keys.empty() && static_cast<std::int64_t>(keys.size()) != count)
            throw core::Error(sqlstate::invalid_parameter_value,
                              "idempotency_keys must have one entry per payload");
        const TypeConfig& type = check_references(c);

        if (keys.empty()) {
            UnkeyedTasks tasks(c, type, now);
            Queued last{};
            for (const Datum payload : elements_of(payloads)) {
                last = tasks.write(payload);
                ids.push_back(last.id);
            }
            // One type, one priority, one ready_at for the whole batch.
            note_queued(last.type_id, c.priority, last.ready_at);
            wake_worker_at_commit();
        } else {
            ids = enqueue_keyed_batch(c, type, payloads, keys, key_nulls, now);
        }
    }
    return pg_call([&ids] {
        Datum* values = static_cast<Datum*>(palloc(sizeof(Datum) * (ids.size() + 1)));
        for (std::size_t i = 0; i < ids.size(); ++i)
            values[i] = Int64GetDatum(ids[i]);
        return PointerGetDatum(
            construct_array(values, static_cast<int>(ids.size()), INT8OID, 8, true, 'd'));
    });
}
