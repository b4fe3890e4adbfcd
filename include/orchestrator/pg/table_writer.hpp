#pragma once
// Writes rows of one of the orchestrator's tables without a statement: no parse, no plan, no
// executor start. The hot path's fixed writes (recording an execution, marking its claimed
// tasks) then cost what the data costs: the heap write and its index entries, as a SQL INSERT or
// UPDATE would make them (same MVCC, WAL, TOAST, index predicates, unique checks, statistics).
//
// What a statement would add and this does not: triggers and column defaults. A table with
// INSERT or UPDATE triggers (a deferrable constraint has one) is refused (0A000); a row leaves
// unset columns NULL.
#include "orchestrator/pg/guard.hpp"
#include "orchestrator/pg/index_info_cache.hpp"
#include "orchestrator/pg/postgres.hpp"

#include <boost/container/small_vector.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

extern "C" {
#include "access/genam.h"
#include "access/relation.h"
#include "executor/executor.h"
}

namespace orchestrator::pg {

class TableWriter {
public:
    // Opens the table for writing (RowExclusiveLock, held to the end of the transaction).
    explicit TableWriter(Oid table);
    ~TableWriter();
    TableWriter(const TableWriter&) = delete;
    TableWriter& operator=(const TableWriter&) = delete;

    // A row's values by column, every column NULL until set. Values read from a stored version
    // point into it and stay valid until the writer reads the next one.
    class Row {
    public:
        void set(const char* column, Datum value);
        void set_null(const char* column);
        Datum get(const char* column) const; // NULL reads as 0
        bool is_null(const char* column) const;

    private:
        friend class TableWriter;
        explicit Row(TupleDesc descriptor);
        int index(const char* column) const;
        // Inline up to the orchestrator tables' width: a row costs no allocation, and the
        // null flags are plain bools, copied to and from a slot's as they are.
        static constexpr std::size_t inline_columns = 32;
        TupleDesc descriptor_;
        boost::container::small_vector<Datum, inline_columns> values_;
        boost::container::small_vector<bool, inline_columns> nulls_;
    };

    Row new_row() const;
    void insert(const Row& row);

    // A copy of the version read last (the one a scan's `visit` is looking at), palloc'd in the
    // current memory context, and a row of its values (pointing into the copy): what a locked
    // row's next version is built from without reading it again.
    HeapTuple copy_of_last_read() const;
    Row row_of(HeapTuple copy);

    // Writes the new version of a row at `tid` that this transaction holds locked (FOR UPDATE):
    // nobody else can have changed it since it was locked. Returns where the new version is.
    ItemPointerData update_locked(ItemPointerData tid, const Row& row);

    // Updates the row whose primary key (a bigint) is `key` as UPDATE ... WHERE key = $1 would,
    // under the active snapshot (see FreshSnapshot): `change` looks at the visible version and
    // either declines (false) or sets the new values. If a concurrent transaction changed the row
    // meanwhile, this waits for it and asks `change` again about the latest version (READ
    // COMMITTED), or raises 40001 (REPEATABLE READ and above). Returns the row as written, or
    // nothing when no version is visible or `change` declined.
    std::optional<Row> update_by_key(std::int64_t key, const std::function<bool(Row&)>& change);
    // The same, looking first at `hint`, where a version of the row was once written: when the
    // version there is the key's and visible, it is the one the key would find, and no index is
    // read. Any other hint (moved, pruned, reused, past the table's end) costs one page read.
    std::optional<Row> update_by_key(std::int64_t key, ItemPointerData hint,
                                     const std::function<bool(Row&)>& change);

    // One condition of a b-tree scan on an index column (1-based), e.g. {3,
    // BTGreaterEqualStrategyNumber, F_TIMESTAMPTZ_GE, value}.
    struct IndexCondition {
        AttrNumber column;
        StrategyNumber strategy;
        RegProcedure function;
        Datum value;
    };

    // Visits, in the order of the index named `index`, the rows visible to the active snapshot
    // whose entries meet `conditions`, locking each as SELECT ... FOR UPDATE SKIP LOCKED does: a
    // row another transaction holds is skipped; a row changed since the snapshot is locked in
    // its latest version, visited only if `still_matches` accepts it (READ COMMITTED; REPEATABLE
    // READ raises 40001). `visit` gets the locked version (copy_of_last_read keeps it) and
    // returns false to stop.
    void lock_skipping_locked(const char* index, const std::vector<IndexCondition>& conditions,
                              const std::function<bool(const Row&)>& still_matches,
                              const std::function<bool(const Row&)>& visit);

private:
    // One of the table's indexes, opened (RowExclusiveLock) when a write puts an entry in it or
    // a scan reads it: an index whose predicate no row written here meets is never opened. The
    // table's lock keeps every index from being dropped meanwhile.
    struct TableIndex {
        Oid oid;
        IndexDescription description;
        Relation relation; // nullptr until used
    };
    Relation opened(TableIndex& index);
    Relation index_named(const char* name);
    // These two run inside pg_call, as part of one write.
    void fill_written(const Row& row);
    void insert_index_entries(bool update);

    // A row of the values of `stored_`, which the caller has deformed (slot_getallattrs).
    Row row_of_stored();
    // Read into `stored_` the version of the key's row visible to the active snapshot: found by
    // the primary key, or at `tid` when that is it. False when there is none / it is not there.
    bool read_by_key(std::int64_t key);
    bool read_at(ItemPointerData tid, std::int64_t key);
    // update_by_key's decision and write, on the version just read.
    std::optional<Row> update_read(const std::function<bool(Row&)>& change);
    // Writes `row` over the version at `tid`; false when a concurrent transaction changed it.
    bool try_update(ItemPointerData tid, const Row& row, LockTupleMode& lock_mode);
    bool lock_latest(ItemPointerData tid, LockTupleMode lock_mode);

    ScopedRelease release_;
    TableIndex* indexes_ = nullptr; // in the executor state's memory
    int index_count_ = 0;
    TableIndex* key_index_ = nullptr; // the primary key
    IndexScanDesc key_scan_ = nullptr; // update_by_key's scan of key_index_, kept for the next key
    // The table's length when read_at first needed it. It cannot shrink while this writer's lock
    // is held (truncation takes an exclusive lock); blocks added since are left to the key.
    BlockNumber blocks_ = InvalidBlockNumber;
    Relation relation_ = nullptr;
    EState* estate_ = nullptr;
    TupleTableSlot* stored_ = nullptr;  // the version read last
    TupleTableSlot* written_ = nullptr; // the row being written
};

// The next value of a sequence, for a key the writer sets itself (as a column default would).
std::int64_t next_value(Oid sequence);

// What a statement does before it reads: makes this transaction's earlier writes visible and
// takes a snapshot (a new one under READ COMMITTED), active until the end of the scope.
class FreshSnapshot {
public:
    FreshSnapshot();
    ~FreshSnapshot();
    FreshSnapshot(const FreshSnapshot&) = delete;
    FreshSnapshot& operator=(const FreshSnapshot&) = delete;

private:
    ScopedRelease release_;
};

// What a cache of shared state reads with: the latest committed data (and this transaction's
// earlier writes), whatever the statement's own snapshot, active until the end of the scope. A
// cache that checks a version counter first and then reads with this cannot keep data older
// than the version it records.
class LatestSnapshot {
public:
    LatestSnapshot();
    ~LatestSnapshot();
    LatestSnapshot(const LatestSnapshot&) = delete;
    LatestSnapshot& operator=(const LatestSnapshot&) = delete;

private:
    ScopedRelease release_;
};

} // namespace orchestrator::pg
