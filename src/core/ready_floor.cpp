#include "orchestrator/core/ready_floor.hpp"

#include <algorithm>

namespace orchestrator::core {

namespace {

bool same(const LevelKey& a, const LevelKey& b) {
    return a.database == b.database && a.type_id == b.type_id && a.priority == b.priority;
}

std::size_t home_of(const LevelKey& key) {
    std::uint64_t h = key.database;
    h = h * 1000003u + static_cast<std::uint32_t>(key.type_id);
    h = h * 1000003u + static_cast<std::uint32_t>(key.priority);
    h ^= h >> 29;
    return static_cast<std::size_t>(h % FloorBoard::slot_count);
}

int find_slot(const FloorBoard& board, const LevelKey& key) {
    const std::size_t home = home_of(key);
    for (int i = 0; i < FloorBoard::probe_limit; ++i) {
        const int at = static_cast<int>((home + static_cast<std::size_t>(i)) % FloorBoard::slot_count);
        if (board.slots[at].key.type_id != 0 && same(board.slots[at].key, key))
            return at;
    }
    return -1;
}

// The key's slot, else the first free one in its probe window (starting with no floor), else
// null: that level goes without a floor.
FloorSlot* take_slot(FloorBoard& board, const LevelKey& key) {
    if (const int at = find_slot(board, key); at >= 0)
        return &board.slots[at];
    const std::size_t home = home_of(key);
    for (int i = 0; i < FloorBoard::probe_limit; ++i) {
        FloorSlot& s = board.slots[(home + static_cast<std::size_t>(i)) % FloorBoard::slot_count];
        if (s.key.type_id == 0) {
            s.key = key;
            s.floor = no_floor;
            return &s;
        }
    }
    return nullptr;
}

bool holding(const Hold& h) {
    for (std::size_t i = 0; i < h.kept.size(); ++i)
        if (h.scanning[i] != no_hold || h.kept[i] != no_hold)
            return true;
    return false;
}

void hold_type(Hold& h, std::uint32_t database, std::int32_t type_id) {
    if (!holding(h)) {
        h.database = database;
        h.type_id = type_id;
    } else if (h.type_id != type_id) {
        h.type_id = every_type;
    }
}

std::size_t level_index(int priority) { return static_cast<std::size_t>(priority - min_priority); }

bool valid_priority(int priority) { return priority >= min_priority && priority <= max_priority; }

// The lowest hold of any other backend on each level of the database's type.
LevelTimes others_hold(const FloorBoard& board, int me, std::uint32_t database,
                       std::int32_t type_id) {
    LevelTimes lowest = no_holds();
    for (int i = 0; i < board.hold_count; ++i) {
        const Hold& h = board.holds[i];
        if (i == me || h.database != database ||
            (h.type_id != type_id && h.type_id != every_type))
            continue;
        for (std::size_t l = 0; l < lowest.size(); ++l)
            lowest[l] = std::min({lowest[l], h.scanning[l], h.kept[l]});
    }
    return lowest;
}

} // namespace

TimePoint floor_of(const FloorBoard& board, const LevelKey& key) {
    const int at = find_slot(board, key);
    return at < 0 ? no_floor : board.slots[at].floor;
}

ScanTicket begin_scan(FloorBoard& board, int me, std::uint32_t database, std::int32_t type_id,
                      const std::vector<int>& priorities, std::vector<TimePoint>& floors,
                      TimePoint now) {
    Hold& mine = board.holds[me];
    hold_type(mine, database, type_id);
    for (std::size_t i = 0; i < priorities.size() && i < floors.size(); ++i) {
        floors[i] = floor_of(board, {database, type_id, priorities[i]});
        if (floors[i] <= now && valid_priority(priorities[i])) {
            TimePoint& held = mine.scanning[level_index(priorities[i])];
            held = std::min(held, floors[i]);
        }
    }
    return {board.epoch, others_hold(board, me, database, type_id)};
}

void end_scan(FloorBoard& board, int me, const ScanTicket& ticket, std::uint32_t database,
              std::int32_t type_id, const std::vector<LevelSeen>& seen, TimePoint now,
              bool may_raise) {
    Hold& mine = board.holds[me];
    for (const LevelSeen& level : seen)
        if (level.oldest && valid_priority(level.priority)) {
            TimePoint& kept = mine.kept[level_index(level.priority)];
            kept = std::min(kept, *level.oldest);
        }
    mine.scanning = no_holds();
    if (!may_raise || board.epoch != ticket.epoch)
        return;
    const LevelTimes others = others_hold(board, me, database, type_id);
    for (const LevelSeen& level : seen) {
        if (!valid_priority(level.priority))
            continue;
        const std::size_t l = level_index(level.priority);
        // Its own locked tasks bound it too: they are queued again if its transaction aborts.
        const TimePoint ceiling = std::min({ticket.others_hold[l], others[l], mine.kept[l]});
        const TimePoint seen_from = level.oldest          ? *level.oldest
                                    : level.looked_further ? level.next.value_or(no_task)
                                                           : now;
        const TimePoint to = std::min(seen_from, ceiling);
        FloorSlot* s = take_slot(board, {database, type_id, level.priority});
        if (s != nullptr && to > s->floor)
            s->floor = to;
    }
}

void note_queued(FloorBoard& board, int me, const LevelKey& level, TimePoint ready_at) {
    if (const int at = find_slot(board, level); at >= 0 && board.slots[at].floor > ready_at)
        board.slots[at].floor = ready_at;
    Hold& mine = board.holds[me];
    hold_type(mine, level.database, level.type_id);
    if (valid_priority(level.priority)) {
        TimePoint& kept = mine.kept[level_index(level.priority)];
        kept = std::min(kept, ready_at);
    } else {
        mine.kept.fill(no_floor);
    }
    ++board.epoch;
}

void note_any_change(FloorBoard& board, int me, std::uint32_t database) {
    forget_floors(board, database);
    Hold& mine = board.holds[me];
    hold_type(mine, database, every_type);
    mine.kept.fill(no_floor);
}

bool end_transaction(FloorBoard& board, int me) {
    Hold& mine = board.holds[me];
    if (!holding(mine))
        return false;
    mine = Hold{};
    ++board.epoch;
    return true;
}

void forget_floors(FloorBoard& board, std::uint32_t database) {
    for (FloorSlot& s : board.slots)
        if (s.key.type_id != 0 && s.key.database == database)
            s = FloorSlot{};
    ++board.epoch;
}

} // namespace orchestrator::core
