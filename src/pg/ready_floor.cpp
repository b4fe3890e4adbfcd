#include "orchestrator/pg/ready_floor.hpp"

#include "orchestrator/pg/clock.hpp"
#include "orchestrator/pg/spi.hpp"

extern "C" {
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
}

#include <algorithm>

namespace orchestrator::pg {

namespace {

core::FloorBoard* board = nullptr;
LWLock* board_lock = nullptr;
bool holding = false; // this backend holds something in this transaction

shmem_request_hook_type previous_request_hook = nullptr;
shmem_startup_hook_type previous_startup_hook = nullptr;

Size board_bytes() {
    return add_size(MAXALIGN(sizeof(core::FloorBoard)), mul_size(MaxBackends, sizeof(core::Hold)));
}

void shmem_request() {
    if (previous_request_hook != nullptr)
        previous_request_hook();
    RequestAddinShmemSpace(board_bytes());
    RequestNamedLWLockTranche("orchestrator ready floors", 1);
}

void shmem_startup() {
    if (previous_startup_hook != nullptr)
        previous_startup_hook();
    LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
    bool found = false;
    void* memory = ShmemInitStruct("orchestrator ready floors", board_bytes(), &found);
    char* holds = static_cast<char*>(memory) + MAXALIGN(sizeof(core::FloorBoard));
    if (!found) {
        core::FloorBoard* b = new (memory) core::FloorBoard();
        b->holds = reinterpret_cast<core::Hold*>(holds);
        b->hold_count = MaxBackends;
        for (int i = 0; i < MaxBackends; ++i)
            new (b->holds + i) core::Hold();
    }
    board = static_cast<core::FloorBoard*>(memory);
    board_lock = &(GetNamedLWLockTranche("orchestrator ready floors"))->lock;
    LWLockRelease(AddinShmemInitLock);
}

// This backend's hold; -1 for a process without one (it then keeps to the plain scan).
int my_hold() {
    return MyBackendId >= 1 && MyBackendId <= board->hold_count ? MyBackendId - 1 : -1;
}

// A transaction that queued or locked tasks may not be prepared: its hold would end with the
// backend's transaction while the prepared one still holds the tasks.
void on_transaction_event(XactEvent event, void*) {
    if (!holding)
        return;
    if (event == XACT_EVENT_PRE_PREPARE)
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                        errmsg("cannot prepare a transaction that queued or claimed orchestrator "
                               "tasks")));
    if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
        event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT) {
        LWLockAcquire(board_lock, LW_EXCLUSIVE);
        core::end_transaction(*board, my_hold());
        LWLockRelease(board_lock);
        holding = false;
    }
}

// Whether floors are kept here; registers the end-of-transaction release on first use.
bool floors_available() {
    if (board == nullptr || my_hold() < 0)
        return false;
    static bool registered = false;
    if (!registered) {
        pg_call([] { RegisterXactCallback(on_transaction_event, nullptr); });
        registered = true;
    }
    return true;
}

class BoardLock {
public:
    BoardLock() {
        pg_call([] { LWLockAcquire(board_lock, LW_EXCLUSIVE); });
    }
    ~BoardLock() { LWLockRelease(board_lock); }
    BoardLock(const BoardLock&) = delete;
    BoardLock& operator=(const BoardLock&) = delete;
};

TimestampTz to_bound(core::TimePoint t) {
    if (t == core::no_floor)
        return DT_NOBEGIN;
    if (t == core::no_task)
        return DT_NOEND;
    return to_timestamptz(t);
}

core::TimePoint from_bound(TimestampTz t) {
    if (t == DT_NOBEGIN)
        return core::no_floor;
    if (t == DT_NOEND)
        return core::no_task;
    return from_timestamptz(t);
}

// Each level's oldest queued task from its floor on, ready or not, locked or not.
Statement next_queued_statement(
    "SELECT l.priority, (SELECT t.ready_at FROM orchestrator.task t"
    "                     WHERE t.workflow_type_id = $1 AND t.priority = l.priority"
    "                       AND t.state = 'queued' AND t.ready_at >= l.floor"
    "                     ORDER BY t.ready_at LIMIT 1)"
    "  FROM unnest($2::integer[], $3::timestamptz[]) l(priority, floor)",
    {INT4OID, INT4ARRAYOID, TIMESTAMPTZARRAYOID});

} // namespace

void request_ready_floor_memory() {
    previous_request_hook = shmem_request_hook;
    shmem_request_hook = shmem_request;
    previous_startup_hook = shmem_startup_hook;
    shmem_startup_hook = shmem_startup;
}

FloorScan::FloorScan(std::int32_t type_id, const std::vector<std::int32_t>& priorities,
                     TimestampTz now)
    : type_id_(type_id), now_(now) {
    if (!floors_available()) {
        levels_ = priorities;
        floors_.assign(priorities.size(), DT_NOBEGIN);
        return;
    }
    const std::vector<int> all(priorities.begin(), priorities.end());
    const core::TimePoint now_point = from_timestamptz(now);
    std::vector<core::TimePoint> floors(all.size());
    {
        BoardLock lock;
        holding = true;
        ticket_ = core::begin_scan(*board, my_hold(), MyDatabaseId, type_id_, all, floors,
                                   now_point);
    }
    shared_ = true;
    for (std::size_t i = 0; i < all.size(); ++i)
        if (floors[i] <= now_point) {
            levels_.push_back(all[i]);
            floors_.push_back(to_bound(floors[i]));
            seen_.push_back({all[i], std::nullopt, false, std::nullopt});
        }
}

void FloorScan::saw(std::int32_t priority, TimestampTz ready_at) {
    for (core::LevelSeen& level : seen_)
        if (level.priority == priority) {
            const core::TimePoint t = from_bound(ready_at);
            if (!level.oldest || t < *level.oldest)
                level.oldest = t;
        }
}

void FloorScan::finish() {
    if (!shared_)
        return;
    // Under REPEATABLE READ or SERIALIZABLE the claim read the transaction's snapshot, which
    // may predate begin_scan: it can hold tasks back but not raise floors.
    const bool may_raise = !IsolationUsesXactSnapshot();
    if (may_raise) {
        std::vector<std::int32_t> empty_levels;
        std::vector<TimestampTz> empty_floors;
        for (std::size_t i = 0; i < seen_.size(); ++i)
            if (!seen_[i].oldest) {
                empty_levels.push_back(levels_[i]);
                empty_floors.push_back(floors_[i]);
            }
        if (!empty_levels.empty()) {
            Rows rows = next_queued_statement.run({int32_param(type_id_),
                                                   int32_array_param(empty_levels),
                                                   timestamptz_array_param(empty_floors)});
            for (std::uint64_t r = 0; r < rows.size(); ++r)
                for (core::LevelSeen& level : seen_)
                    if (level.priority == rows.get_int32(r, 1)) {
                        level.looked_further = true;
                        if (!rows.is_null(r, 2))
                            level.next = from_timestamptz(rows.get_timestamptz(r, 2));
                    }
        }
    }
    BoardLock lock;
    core::end_scan(*board, my_hold(), ticket_, MyDatabaseId, type_id_, seen_,
                   from_timestamptz(now_), may_raise);
}

std::vector<TimestampTz> ready_floors(const std::vector<core::LevelKey>& levels) {
    std::vector<TimestampTz> floors(levels.size(), DT_NOBEGIN);
    if (board == nullptr)
        return floors;
    std::vector<core::TimePoint> points(levels.size(), core::no_floor);
    {
        BoardLock lock;
        for (std::size_t i = 0; i < levels.size(); ++i)
            points[i] = core::floor_of(*board, {MyDatabaseId, levels[i].type_id, levels[i].priority});
    }
    std::transform(points.begin(), points.end(), floors.begin(), to_bound);
    return floors;
}

void note_queued(std::int32_t type_id, std::int32_t priority, TimestampTz ready_at) {
    if (!floors_available())
        return;
    const core::TimePoint t = from_bound(ready_at);
    BoardLock lock;
    holding = true;
    core::note_queued(*board, my_hold(), {MyDatabaseId, type_id, priority}, t);
}

void note_any_queue_change() {
    if (!floors_available())
        return;
    BoardLock lock;
    holding = true;
    core::note_any_change(*board, my_hold(), MyDatabaseId);
}

void forget_ready_floors() {
    if (board == nullptr)
        return;
    BoardLock lock;
    core::forget_floors(*board, MyDatabaseId);
}

} // namespace orchestrator::pg
