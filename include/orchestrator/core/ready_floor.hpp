#pragma once
// Where each priority level's queued tasks begin in the ready index.
//
// A claimed task leaves a dead entry at the head of its level in the ready index until VACUUM
// removes it, and a claim walks over every such entry before it reaches a live one: the walk
// grows with the tasks claimed since the last vacuum (a bare SKIP LOCKED queue pays the same).
// A level's floor is a ready_at below which none of the level's tasks is queued, so the claim
// starts its index range there instead; a level whose floor is still to come (a level with no
// task at all has the floor `no_task`) is not read at all.
//
// A floor must never rise above a task that is queued, or that will be once its transaction
// ends. A claim raises a floor to the oldest task it saw; the tasks it could not see are those
// locked by another transaction (SKIP LOCKED passes them by) and those its snapshot misses
// (queued by a transaction still running or committed after the snapshot was taken). Hence:
// - every transaction that locks or queues tasks holds, until it ends and for each level it
//   touches, a time no floor of that level may rise above: while a claim runs, the floor it
//   started from; then the oldest task it locked or queued there;
// - queueing a task lowers its level's floor to the task's ready_at at once;
// - queueing a task and the end of every holding transaction advance the epoch, and a claim
//   during which the epoch moved raises nothing.
// Everything here runs under one lock held by the caller; the board lives in shared memory.
#include "orchestrator/core/priority.hpp"
#include "orchestrator/core/pure.hpp"
#include "orchestrator/core/time.hpp"

#include <array>

#include <cstdint>
#include <optional>
#include <vector>

namespace orchestrator::core {

inline constexpr TimePoint no_floor = TimePoint::min();
inline constexpr TimePoint no_task = TimePoint::max(); // the floor of a level with no task
inline constexpr TimePoint no_hold = TimePoint::max();
inline constexpr std::int32_t every_type = -1;

struct LevelKey {
    std::uint32_t database = 0;
    std::int32_t type_id = 0;
    std::int32_t priority = 0;
};

struct FloorSlot {
    LevelKey key; // type_id 0: free
    TimePoint floor = no_floor;
};

using LevelTimes = std::array<TimePoint, max_priority>; // by priority - 1

inline LevelTimes no_holds() {
    LevelTimes t;
    t.fill(no_hold);
    return t;
}

// One per backend.
struct Hold {
    std::uint32_t database = 0;
    std::int32_t type_id = 0; // every_type once the transaction touched several types
    LevelTimes scanning = no_holds();
    LevelTimes kept = no_holds();
};

struct FloorBoard {
    static constexpr int slot_count = 4096;
    static constexpr int probe_limit = 8; // slots tried per key before giving up (no floor)

    std::uint64_t epoch = 0;
    Hold* holds = nullptr; // hold_count of them, one per backend
    int hold_count = 0;
    FloorSlot slots[slot_count];
};

// What a claim remembers between its start and its end.
struct ScanTicket {
    std::uint64_t epoch = 0;
    LevelTimes others_hold = no_holds();
};

// What a claim found at a level: the oldest task it returned (and locked), or, where it
// returned none and then looked further, the oldest queued task at all (ready later, or locked
// by another transaction), none meaning the level has no queued task.
struct LevelSeen {
    int priority = 0;
    std::optional<TimePoint> oldest;
    bool looked_further = false;
    std::optional<TimePoint> next;
};

TimePoint floor_of(const FloorBoard& board, const LevelKey& key);

// Before a claim takes its snapshot: the floors of `priorities` (into `floors`, same order and
// already that size: nothing is allocated under the lock). The claim reads the levels whose
// floor has come by `now`, from their floor; this backend's hold covers those.
ScanTicket begin_scan(FloorBoard& board, int me, std::uint32_t database, std::int32_t type_id,
                      const std::vector<int>& priorities, std::vector<TimePoint>& floors,
                      TimePoint now);

// After the claim: its hold keeps the oldest task it locked at each level, and, if `may_raise`
// (the claim's snapshot was taken after begin_scan) and nothing was queued or ended meanwhile,
// each level's floor rises to what was seen there (`now` where nothing was and the claim did
// not look further), but never above a hold on that level.
void end_scan(FloorBoard& board, int me, const ScanTicket& ticket, std::uint32_t database,
              std::int32_t type_id, const std::vector<LevelSeen>& seen, TimePoint now,
              bool may_raise);

// A task of the level is being queued with this ready_at (inserted, retried, put back).
void note_queued(FloorBoard& board, int me, const LevelKey& level, TimePoint ready_at);

// The transaction is about to queue or lock tasks by other paths than the above: forget the
// database's floors and hold everything until the transaction ends.
void note_any_change(FloorBoard& board, int me, std::uint32_t database);

// The transaction ended (committed or not); true if it held anything.
bool end_transaction(FloorBoard& board, int me);

// Forget every floor of the database (they are found again by the next claims).
void forget_floors(FloorBoard& board, std::uint32_t database);

} // namespace orchestrator::core
