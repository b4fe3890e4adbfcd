#include "orchestrator/pg/schedules.hpp"

#include "orchestrator/core/schedule.hpp"
#include "orchestrator/pg/clock.hpp"
#include "orchestrator/pg/config_cache.hpp"
#include "orchestrator/pg/governance.hpp"
#include "orchestrator/pg/spi.hpp"

#include <chrono>
#include <optional>
#include <string>

namespace orchestrator::pg {

namespace {

Statement schedules_statement(
    "SELECT s.workflow_type_id, w.name, s.cron,"
    "       (extract(epoch FROM s.every) * 1000000)::bigint, s.since, s.last_slot"
    "  FROM orchestrator.schedule s"
    "  JOIN orchestrator.workflow_type w ON w.id = s.workflow_type_id"
    " WHERE NOT w.paused"
    " ORDER BY s.workflow_type_id"
    "   FOR UPDATE OF s",
    {});

Statement enqueue_slot_statement(
    "WITH slot AS ("
    "    UPDATE orchestrator.schedule s SET last_slot = $2 WHERE s.workflow_type_id = $1"
    "    RETURNING s.payload, s.priority)"
    " SELECT orchestrator.enqueue($3, slot.payload, slot.priority,"
    "                             idempotency_key => 'schedule:' || $4)"
    "   FROM slot",
    {INT4OID, TIMESTAMPTZOID, TEXTOID, TEXTOID});

} // namespace

int enqueue_due_schedules() {
    Rows rows = schedules_statement.run({});
    if (rows.size() == 0)
        return 0;
    const core::TimePoint now = server_clock().now();
    const core::UtcOffset offset = utc_offset_of(config_snapshot().config.time_zone);
    struct Due {
        std::int32_t type_id;
        std::string name;
        core::TimePoint slot;
    };
    std::vector<Due> due;
    for (std::uint64_t i = 0; i < rows.size(); ++i) {
        std::optional<core::TimePoint> slot;
        if (!rows.is_null(i, 3)) {
            std::string why;
            const auto cron = core::parse_cron(rows.get_text(i, 3), why);
            if (cron) // set_schedule stores only valid ones
                slot = core::latest_cron_slot(*cron, now, offset);
        } else {
            slot = core::latest_interval_slot(core::Duration(rows.get_int64(i, 4)), now);
        }
        if (!slot || *slot <= from_timestamptz(rows.get_timestamptz(i, 5)))
            continue;
        if (!rows.is_null(i, 6) && *slot <= from_timestamptz(rows.get_timestamptz(i, 6)))
            continue;
        due.push_back({rows.get_int32(i, 1), rows.get_text(i, 2), *slot});
    }
    for (const Due& d : due) {
        const auto epoch_s =
            std::chrono::duration_cast<core::seconds>(d.slot.time_since_epoch()).count();
        enqueue_slot_statement.run({int32_param(d.type_id), timestamptz_param(to_timestamptz(d.slot)),
                                    text_param(d.name), text_param(std::to_string(epoch_s))});
    }
    return static_cast<int>(due.size());
}

} // namespace orchestrator::pg
