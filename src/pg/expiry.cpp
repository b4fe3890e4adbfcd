#include "orchestrator/pg/expiry.hpp"

#include "orchestrator/pg/breakers.hpp"
#include "orchestrator/pg/clock.hpp"
#include "orchestrator/pg/config_cache.hpp"
#include "orchestrator/pg/executions.hpp"
#include "orchestrator/pg/spi.hpp"

namespace orchestrator::pg {

namespace {
// SKIP LOCKED: an execution whose callback holds the row wins; its callback decides.
Statement expired_statement(
    "SELECT e.id FROM orchestrator.workflow_orchestration e"
    " WHERE e.status = 'running' AND e.lease_expires_at < $1"
    " ORDER BY e.lease_expires_at LIMIT $2"
    "   FOR UPDATE SKIP LOCKED",
    {TIMESTAMPTZOID, INT4OID});
} // namespace

int expire_leases(int limit) {
    const core::TimePoint now_point = server_clock().now();
    const TimestampTz now = to_timestamptz(now_point);
    Rows rows = expired_statement.run({timestamptz_param(now), int32_param(limit)});
    std::vector<std::int64_t> expired;
    for (std::uint64_t i = 0; i < rows.size(); ++i)
        expired.push_back(rows.get_int64(i, 1));
    if (expired.empty())
        return 0;
    const core::BreakerPolicy breaker_policy = config_snapshot().config.breaker;
    for (const std::int64_t id : expired) {
        ExecutionEnd end;
        end.status = "expired";
        end.error = "lease expired";
        end.lease_must_hold = false;
        const RunningExecution e = end_execution(id, now, end).execution;
        fail_tasks(e, e.task_ids, "lease expired", true, now);
        release_holding(e, std::nullopt, UnreportedCost::nothing, {});
        record_breaker_failure(breaker_policy, "workflow_type", e.workflow_type, now_point,
                               "execution " + std::to_string(e.id) + " expired");
        release_undecided_trials(config_snapshot().breakers, e.id, now_point);
    }
    return static_cast<int>(expired.size());
}

} // namespace orchestrator::pg
