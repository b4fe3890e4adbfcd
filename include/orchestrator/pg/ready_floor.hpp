#pragma once
// The ready floors (core/ready_floor.hpp) in shared memory: where each level's claim starts in
// the ready index. Without the library preloaded there are none and claims start at the
// beginning of each level, as a plain queue does.
#include "orchestrator/core/ready_floor.hpp"
#include "orchestrator/pg/postgres.hpp"

#include <cstdint>
#include <vector>

namespace orchestrator::pg {

void request_ready_floor_memory();

// One claim over some levels of a workflow type: construct it just before the claim statement
// (whose snapshot must come after), claim from levels() starting at floors(), record the
// oldest task seen at each level, then finish.
class FloorScan {
public:
    FloorScan(std::int32_t type_id, const std::vector<std::int32_t>& priorities, TimestampTz now);
    // The levels to read: those whose floor has come by now.
    const std::vector<std::int32_t>& levels() const { return levels_; }
    // Where each of levels() starts (-infinity without a floor).
    const std::vector<TimestampTz>& floors() const { return floors_; }
    void saw(std::int32_t priority, TimestampTz ready_at);
    // Where a level gave nothing, looks for its oldest queued task at all (one statement), so
    // that its floor can rise past now; then raises what may be raised.
    void finish();

private:
    std::int32_t type_id_;
    TimestampTz now_;
    std::vector<std::int32_t> levels_;
    std::vector<TimestampTz> floors_;
    std::vector<core::LevelSeen> seen_;
    core::ScanTicket ticket_;
    bool shared_ = false; // the floors came from shared memory
};

// The floors of these levels (their database is this one): -infinity where there is none,
// +infinity where the level has no task. For reading without claiming (a task queued meanwhile
// may be missed until the next read).
std::vector<TimestampTz> ready_floors(const std::vector<core::LevelKey>& levels);

// Tasks of the level are being queued (inserted or put back) with ready_at at or after this.
void note_queued(std::int32_t type_id, std::int32_t priority, TimestampTz ready_at);

// This transaction changes queued tasks by some other path (cancelling, retrying dead letters):
// no floor of this database rises until it ends.
void note_any_queue_change();

// Forget this database's floors; the heartbeat does, so a task queued behind the orchestrator's
// back (restored, inserted by hand) waits at most one beat.
void forget_ready_floors();

} // namespace orchestrator::pg
