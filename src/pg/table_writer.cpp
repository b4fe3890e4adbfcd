#include "orchestrator/pg/table_writer.hpp"

#include "orchestrator/core/error.hpp"
#include "orchestrator/pg/guard.hpp"
#include "orchestrator/pg/index_info_cache.hpp"

#include <array>
#include <cstdint>
#include <cstring>
#include <fmt/format.h>

extern "C" {
#include "access/genam.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/index.h"
#include "commands/sequence.h"
#include "storage/bufmgr.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/snapmgr.h"
}

namespace orchestrator::pg {

namespace {

bool has_write_triggers(Relation relation) {
    const TriggerDesc* t = relation->trigdesc;
    return t != nullptr &&
           (t->trig_insert_before_row || t->trig_insert_after_row || t->trig_insert_instead_row ||
            t->trig_insert_before_statement || t->trig_insert_after_statement ||
            t->trig_update_before_row || t->trig_update_after_row || t->trig_update_instead_row ||
            t->trig_update_before_statement || t->trig_update_after_statement);
}

} // namespace

TableWriter::TableWriter(Oid table) {
    const bool refused = pg_call([this, table] {
        relation_ = table_open(table, RowExclusiveLock);
        if (has_write_triggers(relation_))
            return true;
        estate_ = CreateExecutorState();
        List* oids = RelationGetIndexList(relation_);
        const Oid key = RelationGetPrimaryKeyIndex(relation_);
        indexes_ = static_cast<TableIndex*>(
            MemoryContextAllocZero(estate_->es_query_cxt, sizeof(TableIndex) * list_length(oids)));
        ListCell* cell;
        foreach (cell, oids) {
            TableIndex& index = indexes_[index_count_++];
            index.oid = lfirst_oid(cell);
            index.description = describe_index(index.oid, index.relation);
            IndexInfo* info = index.description.info;
            // What an index AM caches in the description (BRIN's descriptor) lives with this
            // writer, as it would with one statement.
            info->ii_AmCache = nullptr;
            info->ii_Context = estate_->es_query_cxt;
            if (index.oid == key)
                key_index_ = &index;
        }
        list_free(oids);
        stored_ = table_slot_create(relation_, nullptr);
        written_ = table_slot_create(relation_, nullptr);
        return false;
    });
    if (refused)
        throw core::Error(core::sqlstate::feature_not_supported,
                          fmt::format("orchestrator.{} has INSERT or UPDATE triggers",
                                      RelationGetRelationName(relation_)),
                          "The orchestrator writes this table's rows directly; triggers on it "
                          "would not fire.",
                          "Drop the trigger; to follow the table, use logical replication or the "
                          "orchestrator's notifications.");
}

// None of these raise on a relation this object opened.
TableWriter::~TableWriter() {
    release_.release([this] {
        if (key_scan_ != nullptr)
            index_endscan(key_scan_);
        if (estate_ != nullptr) {
            ExecDropSingleTupleTableSlot(stored_);
            ExecDropSingleTupleTableSlot(written_);
            for (int i = 0; i < index_count_; ++i)
                if (indexes_[i].relation != nullptr)
                    index_close(indexes_[i].relation, NoLock);
            FreeExecutorState(estate_);
        }
        table_close(relation_, NoLock);
    });
}

// Runs inside pg_call.
Relation TableWriter::opened(TableIndex& index) {
    if (index.relation == nullptr)
        index.relation = index_open(index.oid, RowExclusiveLock);
    return index.relation;
}

TableWriter::Row::Row(TupleDesc descriptor)
    : descriptor_(descriptor), values_(descriptor->natts, Datum(0)),
      nulls_(descriptor->natts, true) {}

namespace {

// Where the hot path's column names (string literals, named thousands of times a second) were
// found, by the literal's address and the table's row type: an open-addressing table, entries
// only ever added, all forgotten together when a relcache entry is invalidated (a table's
// columns change only with one). A literal never found twice in a row costs a search each time,
// never a wrong column.
struct KnownColumn {
    const char* name = nullptr;
    Oid row_type = InvalidOid;
    int position = -1;
};
constexpr int known_bits = 10;
constexpr int max_probes = 8;
std::array<KnownColumn, std::size_t{1} << known_bits> known_columns;
bool forgetting_registered = false;

void forget_columns(Datum, Oid) {
    known_columns.fill(KnownColumn{});
}

int position_of(TupleDesc descriptor, const char* column) {
    for (int i = 0; i < descriptor->natts; ++i) {
        const Form_pg_attribute a = TupleDescAttr(descriptor, i);
        if (!a->attisdropped && std::strcmp(NameStr(a->attname), column) == 0)
            return i;
    }
    throw core::Error(core::sqlstate::internal_error,
                      fmt::format("column \"{}\" does not exist", column));
}

} // namespace

int TableWriter::Row::index(const char* column) const {
    const Oid row_type = descriptor_->tdtypeid;
    // Literals lie a few bytes apart: a multiplicative hash spreads them over the slots.
    const std::uint64_t mixed =
        (reinterpret_cast<std::uintptr_t>(column) ^ std::uint64_t{row_type} << 40) *
        0x9E3779B97F4A7C15ull;
    std::size_t slot = mixed >> (64 - known_bits);
    for (int probe = 0; probe < max_probes; ++probe, slot = (slot + 1) % known_columns.size()) {
        KnownColumn& known = known_columns[slot];
        if (known.name == column && known.row_type == row_type)
            return known.position;
        if (known.name == nullptr) {
            if (!forgetting_registered) {
                pg_call([] { CacheRegisterRelcacheCallback(forget_columns, 0); });
                forgetting_registered = true;
            }
            const int position = position_of(descriptor_, column);
            known = {column, row_type, position};
            return position;
        }
    }
    return position_of(descriptor_, column);
}

// A numeric value is rounded to its column's declared scale, as an INSERT's coercion would.
void TableWriter::Row::set(const char* column, Datum value) {
    const int i = index(column);
    const Form_pg_attribute a = TupleDescAttr(descriptor_, i);
    if (a->atttypid == NUMERICOID && a->atttypmod >= 0)
        value = pg_call([value, a] {
            return DirectFunctionCall2(numeric, value, Int32GetDatum(a->atttypmod));
        });
    values_[i] = value;
    nulls_[i] = false;
}

void TableWriter::Row::set_null(const char* column) {
    const int i = index(column);
    values_[i] = Datum(0);
    nulls_[i] = true;
}

Datum TableWriter::Row::get(const char* column) const {
    return values_[index(column)];
}

bool TableWriter::Row::is_null(const char* column) const {
    return nulls_[index(column)];
}

TableWriter::Row TableWriter::new_row() const {
    return Row(RelationGetDescr(relation_));
}

// Values read from a stored version already fit their columns; set() coerced the others.
void TableWriter::fill_written(const Row& row) {
    TupleTableSlot* slot = written_;
    ExecClearTuple(slot);
    const int natts = slot->tts_tupleDescriptor->natts;
    std::memcpy(slot->tts_values, row.values_.data(), natts * sizeof(Datum));
    std::memcpy(slot->tts_isnull, row.nulls_.data(), natts * sizeof(bool));
    ExecStoreVirtualTuple(slot);
}

// The entries a statement's write makes (ExecInsertIndexTuples): in each index ready for
// inserts whose predicate the row meets, unique keys checked as they go in. An update is
// described to the index AMs as changing no key column ("unchanged"), which holds for every
// update made here (none changes a key column of a b-tree).
void TableWriter::insert_index_entries(bool update) {
    ExprContext* context = GetPerTupleExprContext(estate_);
    context->ecxt_scantuple = written_;
    for (int i = 0; i < index_count_; ++i) {
        TableIndex& index = indexes_[i];
        IndexInfo* info = index.description.info;
        if (!info->ii_ReadyForInserts)
            continue;
        if (info->ii_PredicateState != nullptr && !ExecQual(info->ii_PredicateState, context))
            continue;
        Datum values[INDEX_MAX_KEYS];
        bool nulls[INDEX_MAX_KEYS];
        FormIndexDatum(info, written_, estate_, values, nulls);
        const Relation relation = opened(index);
        index_insert(relation, values, nulls, &written_->tts_tid, relation_,
                     index.description.unique_check, update, info);
        if (info->ii_ExclusionOps != nullptr) // immediate: a deferrable one has a trigger
            check_exclusion_constraint(relation_, relation, info, &written_->tts_tid, values, nulls,
                                       estate_, false);
    }
    ResetPerTupleExprContext(estate_);
}

void TableWriter::insert(const Row& row) {
    pg_call([this, &row] {
        fill_written(row);
        table_tuple_insert(relation_, written_, GetCurrentCommandId(true), 0, nullptr);
        insert_index_entries(false);
    });
}

TableWriter::Row TableWriter::row_of_stored() {
    Row row = new_row();
    const int natts = stored_->tts_tupleDescriptor->natts;
    std::memcpy(row.values_.data(), stored_->tts_values, natts * sizeof(Datum));
    std::memcpy(row.nulls_.data(), stored_->tts_isnull, natts * sizeof(bool));
    return row;
}

HeapTuple TableWriter::copy_of_last_read() const {
    TupleTableSlot* slot = stored_;
    return pg_call([slot] { return ExecCopySlotHeapTuple(slot); });
}

TableWriter::Row TableWriter::row_of(HeapTuple copy) {
    Row row = new_row();
    const TupleDesc descriptor = RelationGetDescr(relation_);
    Datum* values = row.values_.data();
    bool* nulls = row.nulls_.data();
    pg_call(
        [values, nulls, copy, descriptor] { heap_deform_tuple(copy, descriptor, values, nulls); });
    return row;
}

ItemPointerData TableWriter::update_locked(ItemPointerData tid, const Row& row) {
    return pg_call([this, &tid, &row] {
        fill_written(row);
        CheckCmdReplicaIdentity(relation_, CMD_UPDATE);
        bool new_index_entries = false;
        // Raises if the version is not the latest: it cannot be while this transaction locks it.
        simple_table_tuple_update(relation_, &tid, written_, GetActiveSnapshot(),
                                  &new_index_entries);
        if (new_index_entries) // not for a heap-only (HOT) update
            insert_index_entries(true);
        return written_->tts_tid;
    });
}

bool TableWriter::try_update(ItemPointerData tid, const Row& row, LockTupleMode& lock_mode) {
    return pg_call([this, &tid, &row, &lock_mode] {
        fill_written(row);
        CheckCmdReplicaIdentity(relation_, CMD_UPDATE);
        TM_FailureData failure;
        bool new_index_entries = false;
        const TM_Result r = table_tuple_update(relation_, &tid, written_, GetCurrentCommandId(true),
                                               GetActiveSnapshot(), InvalidSnapshot, true, &failure,
                                               &lock_mode, &new_index_entries);
        if (r != TM_Ok && r != TM_Updated && r != TM_Deleted)
            elog(ERROR, "orchestrator: unexpected result %d updating \"%s\"", static_cast<int>(r),
                 RelationGetRelationName(relation_));
        if (r != TM_Ok && IsolationUsesXactSnapshot())
            ereport(ERROR, (errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
                            errmsg("could not serialize access due to concurrent update")));
        if (r == TM_Ok && new_index_entries)
            insert_index_entries(true);
        return r == TM_Ok;
    });
}

bool TableWriter::lock_latest(ItemPointerData tid, LockTupleMode lock_mode) {
    return pg_call([this, &tid, lock_mode] {
        TM_FailureData failure;
        const TM_Result r = table_tuple_lock(relation_, &tid, GetActiveSnapshot(), stored_,
                                             GetCurrentCommandId(true), lock_mode, LockWaitBlock,
                                             TUPLE_LOCK_FLAG_FIND_LAST_VERSION, &failure);
        if (r != TM_Ok && r != TM_Deleted)
            elog(ERROR, "orchestrator: unexpected result %d locking \"%s\"", static_cast<int>(r),
                 RelationGetRelationName(relation_));
        if (r == TM_Ok)
            slot_getallattrs(stored_);
        return r == TM_Ok;
    });
}

std::optional<TableWriter::Row>
TableWriter::update_by_key(std::int64_t key, const std::function<bool(Row&)>& change) {
    if (!read_by_key(key))
        return std::nullopt;
    return update_read(change);
}

std::optional<TableWriter::Row>
TableWriter::update_by_key(std::int64_t key, ItemPointerData hint,
                           const std::function<bool(Row&)>& change) {
    if (!read_at(hint, key) && !read_by_key(key))
        return std::nullopt;
    return update_read(change);
}

bool TableWriter::read_by_key(std::int64_t key) {
    if (key_index_ == nullptr)
        throw core::Error(
            core::sqlstate::internal_error,
            fmt::format("orchestrator.{} has no primary key", RelationGetRelationName(relation_)));
    TupleTableSlot* slot = stored_;
    return pg_call([this, slot, key] {
        // One scan serves every key under one snapshot: a b-tree scan's state is ~27 kB.
        const Snapshot snapshot = GetActiveSnapshot();
        if (key_scan_ != nullptr && key_scan_->xs_snapshot != snapshot) {
            index_endscan(key_scan_);
            key_scan_ = nullptr;
        }
        if (key_scan_ == nullptr)
            key_scan_ = index_beginscan(relation_, opened(*key_index_), snapshot, 1, 0);
        ScanKeyData equals;
        ScanKeyInit(&equals, 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(key));
        index_rescan(key_scan_, &equals, 1, nullptr, 0);
        if (!index_getnext_slot(key_scan_, ForwardScanDirection, slot))
            return false;
        slot_getallattrs(slot);
        return true;
    });
}

// A snapshot sees at most one version of a row, so a visible version with the key is the one
// the primary key would lead to.
bool TableWriter::read_at(ItemPointerData tid, std::int64_t key) {
    if (key_index_ == nullptr || !ItemPointerIsValid(&tid))
        return false;
    TupleTableSlot* slot = stored_;
    const AttrNumber key_column = key_index_->description.info->ii_IndexAttrNumbers[0];
    return pg_call([this, slot, &tid, key, key_column] {
        if (blocks_ == InvalidBlockNumber)
            blocks_ = RelationGetNumberOfBlocks(relation_);
        if (ItemPointerGetBlockNumber(&tid) >= blocks_ ||
            !table_tuple_fetch_row_version(relation_, &tid, GetActiveSnapshot(), slot))
            return false;
        slot_getallattrs(slot);
        return !slot->tts_isnull[key_column - 1] &&
               DatumGetInt64(slot->tts_values[key_column - 1]) == key;
    });
}

std::optional<TableWriter::Row> TableWriter::update_read(const std::function<bool(Row&)>& change) {
    TupleTableSlot* slot = stored_;
    Row row = row_of_stored();
    if (!change(row))
        return std::nullopt;
    LockTupleMode lock_mode = LockTupleExclusive;
    if (try_update(slot->tts_tid, row, lock_mode))
        return row;
    // Changed since the snapshot: decide again on the latest version, locked (READ COMMITTED).
    if (!lock_latest(slot->tts_tid, lock_mode))
        return std::nullopt;
    row = row_of_stored();
    if (!change(row))
        return std::nullopt;
    update_locked(slot->tts_tid, row);
    return row;
}

std::int64_t next_value(Oid sequence) {
    return pg_call([sequence] { return nextval_internal(sequence, true); });
}

Relation TableWriter::index_named(const char* name) {
    for (int i = 0; i < index_count_; ++i)
        if (std::strcmp(indexes_[i].description.name, name) == 0)
            return pg_call([this, i] { return opened(indexes_[i]); });
    throw core::Error(core::sqlstate::internal_error,
                      fmt::format("index \"{}\" does not exist", name));
}

void TableWriter::lock_skipping_locked(const char* index,
                                       const std::vector<IndexCondition>& conditions,
                                       const std::function<bool(const Row&)>& still_matches,
                                       const std::function<bool(const Row&)>& visit) {
    Relation scanned = index_named(index);
    const IndexCondition* given = conditions.data();
    const int n = static_cast<int>(conditions.size());
    TupleTableSlot* slot = stored_;
    IndexScanDesc scan = pg_call([this, scanned, given, n] {
        ScanKey keys = static_cast<ScanKey>(palloc(sizeof(ScanKeyData) * n));
        for (int i = 0; i < n; ++i)
            ScanKeyInit(&keys[i], given[i].column, given[i].strategy, given[i].function,
                        given[i].value);
        IndexScanDesc s = index_beginscan(relation_, scanned, GetActiveSnapshot(), n, 0);
        index_rescan(s, keys, n, nullptr, 0);
        return s;
    });
    enum class Next { none, skipped, locked, locked_after_change };
    for (;;) {
        // The next entry's row, locked, in one call.
        const Next next = pg_call([this, scan, slot] {
            if (!index_getnext_slot(scan, ForwardScanDirection, slot))
                return Next::none;
            ItemPointerData tid = slot->tts_tid;
            TM_FailureData failure;
            const bool snapshot_isolation = IsolationUsesXactSnapshot();
            const TM_Result r = table_tuple_lock(
                relation_, &tid, GetActiveSnapshot(), slot, GetCurrentCommandId(true),
                LockTupleExclusive, LockWaitSkip,
                snapshot_isolation ? 0 : TUPLE_LOCK_FLAG_FIND_LAST_VERSION, &failure);
            if ((r == TM_Updated || r == TM_Deleted) && snapshot_isolation)
                ereport(ERROR, (errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
                                errmsg("could not serialize access due to concurrent update")));
            if (r == TM_Invisible || r == TM_Updated)
                elog(ERROR, "orchestrator: unexpected result %d locking \"%s\"",
                     static_cast<int>(r), RelationGetRelationName(relation_));
            // TM_WouldBlock: another transaction holds it; TM_SelfModified, TM_Deleted: gone.
            if (r != TM_Ok)
                return Next::skipped;
            slot_getallattrs(slot);
            return failure.traversed ? Next::locked_after_change : Next::locked;
        });
        if (next == Next::none)
            break;
        if (next == Next::skipped)
            continue;
        const Row row = row_of_stored();
        if (next == Next::locked_after_change && !still_matches(row))
            continue;
        if (!visit(row))
            break;
    }
    pg_call([scan] { index_endscan(scan); });
}

FreshSnapshot::FreshSnapshot() {
    pg_call([] {
        CommandCounterIncrement();
        PushActiveSnapshot(GetTransactionSnapshot());
        UpdateActiveSnapshotCommandId();
    });
}

// PopActiveSnapshot does not raise with the snapshot this object pushed on top.
FreshSnapshot::~FreshSnapshot() {
    release_.release([] { PopActiveSnapshot(); });
}

LatestSnapshot::LatestSnapshot() {
    pg_call([] { PushActiveSnapshot(GetLatestSnapshot()); });
}

LatestSnapshot::~LatestSnapshot() {
    release_.release([] { PopActiveSnapshot(); });
}

} // namespace orchestrator::pg
