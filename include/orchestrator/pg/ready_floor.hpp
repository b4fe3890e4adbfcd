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
// (whose snapshot must come after), record the oldest task seen at each level, then finish.
class FloorScan {
public:
    FloorScan(std::int32_t type_id, const std::vector<std::int32_t>& priorities);
    // Where each level's range starts (-infinity without a floor), in the constructor's order.
    const std::vector<TimestampTz>& floors() const { return floors_; }
    void saw(std::int32_t priority, TimestampTz ready_at);
    void finish(TimestampTz now);

private:
    std::int32_t type_id_;
    std::vector<int> priorities_;
    std::vector<TimestampTz> floors_;
    std::vector<core::LevelSeen> seen_;
    core::ScanTicket ticket_;
    bool shared_ = false; // the floors came from shared memory
};

// The floors of these levels (their database is this one), -infinity where there is none; for
// reading without claiming (a task queued meanwhile may be missed until the next read).
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
