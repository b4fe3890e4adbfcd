// The ready floors: a floor rises only to what a claim saw, never above a task another
// transaction locked or is queueing, and not at all when the epoch moved during the claim.
#include "orchestrator/core/ready_floor.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

namespace {

using namespace orchestrator::core;

const TimePoint kT0 = TimePoint{} + hours(24 * 365 * 50);
constexpr std::uint32_t kDb = 16384;
constexpr std::int32_t kType = 3;

TimePoint at(int seconds_after) { return kT0 + seconds(seconds_after); }

// A level where the claim returned tasks, the oldest ready at `oldest` (or none).
LevelSeen claimed(int priority, std::optional<TimePoint> oldest) {
    return {priority, oldest, false, std::nullopt};
}

// A level where the claim returned nothing and then found the oldest queued task (or none).
LevelSeen looked_further(int priority, std::optional<TimePoint> next) {
    return {priority, std::nullopt, true, next};
}

struct Board {
    std::unique_ptr<FloorBoard> board = std::make_unique<FloorBoard>();
    std::vector<Hold> holds = std::vector<Hold>(4);
    Board() {
        board->holds = holds.data();
        board->hold_count = static_cast<int>(holds.size());
    }
    FloorBoard& operator*() { return *board; }
    TimePoint floor(int priority, std::int32_t type = kType, std::uint32_t db = kDb) const {
        return floor_of(*board, {db, type, priority});
    }
};

// A whole claim by backend `me` at level 5 that returned `oldest` (or nothing).
void claim(Board& b, int me, std::optional<TimePoint> oldest, TimePoint now = at(100),
           std::int32_t type = kType) {
    std::vector<TimePoint> floors(1);
    const ScanTicket ticket = begin_scan(*b, me, kDb, type, {5}, floors, now);
    end_scan(*b, me, ticket, kDb, type, {claimed(5, oldest)}, now, true);
}

TEST(ReadyFloor, StartsWithoutFloors) {
    Board b;
    EXPECT_EQ(b.floor(5), no_floor);
    std::vector<TimePoint> floors(3, at(1));
    begin_scan(*b, 0, kDb, kType, {1, 5, 10}, floors, at(100));
    EXPECT_EQ(floors, (std::vector<TimePoint>{no_floor, no_floor, no_floor}));
}

TEST(ReadyFloor, RisesToTheOldestTaskAClaimSaw) {
    Board b;
    claim(b, 0, at(10));
    EXPECT_EQ(b.floor(5), at(10));
    EXPECT_EQ(b.floor(4), no_floor); // other levels keep theirs
    end_transaction(*b, 0);
    claim(b, 0, at(20));
    EXPECT_EQ(b.floor(5), at(20));
}

TEST(ReadyFloor, RisesToNowWhereTheClaimFoundNothing) {
    Board b;
    claim(b, 0, std::nullopt, at(100));
    EXPECT_EQ(b.floor(5), at(100));
}

TEST(ReadyFloor, NeverFalls) {
    Board b;
    claim(b, 0, at(50));
    end_transaction(*b, 0);
    claim(b, 0, at(40)); // cannot happen unless queued meanwhile, which lowers it first
    EXPECT_EQ(b.floor(5), at(50));
}

TEST(ReadyFloor, BeginScanReturnsTheFloorsAndHoldsEachLevelFromIt) {
    Board b;
    claim(b, 0, at(30));
    end_transaction(*b, 0);
    std::vector<TimePoint> floors(2);
    begin_scan(*b, 1, kDb, kType, {4, 5}, floors, at(100));
    EXPECT_EQ(floors, (std::vector<TimePoint>{no_floor, at(30)}));
    EXPECT_EQ(b.holds[1].scanning[3], no_floor); // priority 4
    EXPECT_EQ(b.holds[1].scanning[4], at(30));   // priority 5
}

TEST(ReadyFloor, ARunningClaimOfAnotherBackendBoundsTheRaise) {
    Board b;
    claim(b, 0, at(10));
    end_transaction(*b, 0);
    std::vector<TimePoint> floors(1);
    begin_scan(*b, 1, kDb, kType, {5}, floors, at(100)); // backend 1 scans from 10, may lock from there
    claim(b, 0, at(60));
    EXPECT_EQ(b.floor(5), at(10));
}

TEST(ReadyFloor, TasksAnotherTransactionLockedBoundTheRaiseUntilItEnds) {
    Board b;
    claim(b, 1, at(15)); // backend 1 locked a task ready at 15 and has not committed
    claim(b, 0, at(60)); // backend 0 skipped it (locked) and saw 60
    EXPECT_EQ(b.floor(5), at(15));
    EXPECT_TRUE(end_transaction(*b, 1)); // say it rolled back: the task is queued again at 15
    end_transaction(*b, 0);
    claim(b, 0, at(15));
    EXPECT_EQ(b.floor(5), at(15));
}

TEST(ReadyFloor, ItsOwnLockedTasksBoundASecondClaimInTheSameTransaction) {
    Board b;
    claim(b, 0, at(15)); // first execution of a pass
    claim(b, 0, at(70)); // second: the first's task would be queued again by a rollback
    EXPECT_EQ(b.floor(5), at(15));
}

TEST(ReadyFloor, QueueingLowersTheFloorAtOnce) {
    Board b;
    claim(b, 0, at(50));
    end_transaction(*b, 0);
    note_queued(*b, 1, {kDb, kType, 5}, at(20)); // a retry or a run_after in the past
    EXPECT_EQ(b.floor(5), at(20));
    note_queued(*b, 1, {kDb, kType, 5}, at(90)); // later than the floor: no change
    EXPECT_EQ(b.floor(5), at(20));
}

TEST(ReadyFloor, QueueingDuringAClaimStopsItsRaise) {
    Board b;
    std::vector<TimePoint> ticket_floors(1);
    const ScanTicket ticket = begin_scan(*b, 0, kDb, kType, {5}, ticket_floors, at(100));
    note_queued(*b, 1, {kDb, kType, 5}, at(20)); // its insert is not in the claim's snapshot
    end_transaction(*b, 1);                      // and it commits before the claim ends
    end_scan(*b, 0, ticket, kDb, kType, {claimed(5, at(60))}, at(100), true);
    EXPECT_EQ(b.floor(5), no_floor);
}

TEST(ReadyFloor, AQueueingTransactionStillRunningBoundsTheRaise) {
    Board b;
    note_queued(*b, 1, {kDb, kType, 5}, at(20)); // before the claim began, not committed
    claim(b, 0, at(60));
    EXPECT_EQ(b.floor(5), at(20));
}

TEST(ReadyFloor, AHolderEndingDuringTheClaimStopsItsRaise) {
    Board b;
    std::vector<TimePoint> first_floors(1);
    const ScanTicket first = begin_scan(*b, 0, kDb, kType, {5}, first_floors, at(100));
    std::vector<TimePoint> other_floors(1);
    const ScanTicket other = begin_scan(*b, 1, kDb, kType, {5}, other_floors, at(100));
    end_scan(*b, 1, other, kDb, kType, {claimed(5, at(15))}, at(100), true); // it locked 15 ...
    end_transaction(*b, 1); // ... and rolled back before backend 0's claim ended
    end_scan(*b, 0, first, kDb, kType, {claimed(5, at(60))}, at(100), true);
    EXPECT_EQ(b.floor(5), no_floor);
}

TEST(ReadyFloor, AClaimUnderAnOlderSnapshotRaisesNothing) {
    Board b;
    std::vector<TimePoint> ticket_floors(1);
    const ScanTicket ticket = begin_scan(*b, 0, kDb, kType, {5}, ticket_floors, at(100));
    end_scan(*b, 0, ticket, kDb, kType, {claimed(5, at(60))}, at(100), false);
    EXPECT_EQ(b.floor(5), no_floor);
    EXPECT_EQ(b.holds[0].kept[4], at(60)); // but it holds what it locked
}

TEST(ReadyFloor, AnyOtherChangeForgetsTheFloorsAndHoldsEverythingUntilItEnds) {
    Board b;
    claim(b, 0, at(50));
    end_transaction(*b, 0);
    note_any_change(*b, 1, kDb); // e.g. dead letters retried, tasks cancelled
    EXPECT_EQ(b.floor(5), no_floor);
    claim(b, 0, at(60));
    EXPECT_EQ(b.floor(5), no_floor);
    end_transaction(*b, 0);
    end_transaction(*b, 1);
    claim(b, 0, at(60));
    EXPECT_EQ(b.floor(5), at(60));
}

TEST(ReadyFloor, HoldsOfOtherTypesAndDatabasesDoNotBound) {
    Board b;
    note_queued(*b, 1, {kDb, kType + 1, 5}, at(5));
    note_queued(*b, 2, {kDb + 1, kType, 5}, at(5));
    claim(b, 0, at(60));
    EXPECT_EQ(b.floor(5), at(60));
}

TEST(ReadyFloor, AHoldOnSeveralTypesBoundsEveryType) {
    Board b;
    note_queued(*b, 1, {kDb, kType + 1, 5}, at(5));
    note_queued(*b, 1, {kDb, kType + 2, 5}, at(7));
    EXPECT_EQ(b.holds[1].type_id, every_type);
    claim(b, 0, at(60));
    EXPECT_EQ(b.floor(5), at(5));
}

TEST(ReadyFloor, EndTransactionTellsWhetherItHeldAnything) {
    Board b;
    EXPECT_FALSE(end_transaction(*b, 0));
    const std::uint64_t epoch = (*b).epoch;
    claim(b, 0, at(10));
    EXPECT_TRUE(end_transaction(*b, 0));
    EXPECT_GT((*b).epoch, epoch);
    EXPECT_EQ(b.holds[0].kept, no_holds());
    EXPECT_EQ(b.holds[0].scanning, no_holds());
}

TEST(ReadyFloor, ForgettingOneDatabaseKeepsTheOthers) {
    Board b;
    claim(b, 0, at(10));
    end_transaction(*b, 0);
    std::vector<TimePoint> ticket_floors(1);
    const ScanTicket ticket = begin_scan(*b, 0, kDb + 1, kType, {5}, ticket_floors, at(100));
    end_scan(*b, 0, ticket, kDb + 1, kType, {claimed(5, at(20))}, at(100), true);
    end_transaction(*b, 0);
    forget_floors(*b, kDb);
    EXPECT_EQ(b.floor(5), no_floor);
    EXPECT_EQ(b.floor(5, kType, kDb + 1), at(20));
}

TEST(ReadyFloor, LevelsWithoutRoomGoWithoutAFloor) {
    Board b;
    for (std::int32_t type = 1; type <= FloorBoard::slot_count; ++type) {
        std::vector<TimePoint> ticket_floors(1);
        const ScanTicket ticket = begin_scan(*b, 0, kDb, type, {1}, ticket_floors, at(100));
        end_scan(*b, 0, ticket, kDb, type, {claimed(1, at(10))}, at(100), true);
        end_transaction(*b, 0);
    }
    int without = 0;
    for (std::int32_t type = 1; type <= FloorBoard::slot_count; ++type)
        without += b.floor(1, type) == no_floor ? 1 : 0;
    EXPECT_GT(without, 0); // probing gave up for some: they scan from the start, as before
    EXPECT_LT(without, FloorBoard::slot_count / 4);
}

TEST(ReadyFloor, ALevelFoundWithoutAnyTaskIsNotReadUntilOneIsQueued) {
    Board b;
    std::vector<TimePoint> floors(2);
    ScanTicket ticket = begin_scan(*b, 0, kDb, kType, {3, 5}, floors, at(100));
    end_scan(*b, 0, ticket, kDb, kType, {looked_further(3, std::nullopt), claimed(5, at(10))},
             at(100), true);
    end_transaction(*b, 0);
    EXPECT_EQ(b.floor(3), no_task);
    begin_scan(*b, 0, kDb, kType, {3, 5}, floors, at(200));
    EXPECT_EQ(floors, (std::vector<TimePoint>{no_task, at(10)}));
    EXPECT_EQ(b.holds[0].scanning[2], no_hold); // level 3 is not read, so not held
    end_transaction(*b, 0);
    note_queued(*b, 1, {kDb, kType, 3}, at(150));
    EXPECT_EQ(b.floor(3), at(150));
}

TEST(ReadyFloor, ALevelWhoseTasksAreReadyLaterWaitsForTheOldest) {
    Board b;
    std::vector<TimePoint> floors(1);
    ScanTicket ticket = begin_scan(*b, 0, kDb, kType, {3}, floors, at(100));
    end_scan(*b, 0, ticket, kDb, kType, {looked_further(3, at(300))}, at(100), true);
    EXPECT_EQ(b.floor(3), at(300));
}

TEST(ReadyFloor, AClaimThatDidNotLookFurtherRaisesOnlyToNow) {
    Board b;
    std::vector<TimePoint> floors(1);
    ScanTicket ticket = begin_scan(*b, 0, kDb, kType, {3}, floors, at(100));
    end_scan(*b, 0, ticket, kDb, kType, {claimed(3, std::nullopt)}, at(100), true);
    EXPECT_EQ(b.floor(3), at(100));
}

TEST(ReadyFloor, HoldsBoundOnlyTheirOwnLevels) {
    Board b;
    note_queued(*b, 1, {kDb, kType, 5}, at(5)); // in flight at level 5
    std::vector<TimePoint> floors(2);
    ScanTicket ticket = begin_scan(*b, 0, kDb, kType, {3, 5}, floors, at(100));
    end_scan(*b, 0, ticket, kDb, kType, {looked_further(3, std::nullopt), claimed(5, at(60))},
             at(100), true);
    EXPECT_EQ(b.floor(3), no_task);
    EXPECT_EQ(b.floor(5), at(5));
}

} // namespace
