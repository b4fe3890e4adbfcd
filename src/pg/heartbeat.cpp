#include "orchestrator/pg/heartbeat.hpp"

#include "orchestrator/core/error.hpp"
#include "orchestrator/pg/alerts.hpp"
#include "orchestrator/pg/breakers.hpp"
#include "orchestrator/pg/clock.hpp"
#include "orchestrator/pg/config_cache.hpp"
#include "orchestrator/pg/daily_summary.hpp"
#include "orchestrator/pg/expiry.hpp"
#include "orchestrator/pg/governance.hpp"
#include "orchestrator/pg/metrics.hpp"
#include "orchestrator/pg/ready_floor.hpp"
#include "orchestrator/pg/retention.hpp"
#include "orchestrator/pg/schedules.hpp"
#include "orchestrator/pg/settings.hpp"
#include "orchestrator/pg/spi.hpp"

#include <algorithm>
#include <fmt/format.h>

extern "C" {
#include "commands/async.h"
}

namespace orchestrator::pg {

namespace {

using core::WorkerState;

constexpr int leases_per_pass = 1000;
constexpr int pruned_per_pass = 1000; // of each kind of history
// A hint counts ready tasks up to this many; beyond, it says "at least".
constexpr int hint_count_cap = 10000;

Statement stored_state_statement(
    "SELECT state, recover_after, failures FROM orchestrator.worker_state FOR UPDATE", {});

// $1 new state, $2 now, $3 reason, $4 runner, $5 failures, $6 recover after, $7 the state left
Statement transition_statement(
    "WITH moved AS ("
    "    UPDATE orchestrator.worker_state"
    "       SET state = $1, entered_at = $2, failures = $5, recover_after = $6,"
    "           last_error = CASE WHEN $1 = 'error_recovery' THEN $3 ELSE last_error END,"
    "           pass_started_at = CASE WHEN $1 = 'analyzing' THEN $2 ELSE pass_started_at END,"
    "           pass_finished_at = CASE WHEN $7 = 'monitoring' THEN $2 ELSE pass_finished_at END"
    "    RETURNING 1)"
    " INSERT INTO orchestrator.worker_transition (from_state, to_state, at, reason, runner)"
    " SELECT $7, $1, $2, $3, $4 FROM moved",
    {TEXTOID, TIMESTAMPTZOID, TEXTOID, TEXTOID, INT4OID, TIMESTAMPTZOID, TEXTOID});

Statement failure_statement(
    "UPDATE orchestrator.worker_state SET failures = $1, recover_after = $2, last_error = $3",
    {INT4OID, TIMESTAMPTZOID, TEXTOID});

Statement liveness_statement(
    "UPDATE orchestrator.worker_state SET alive_at = $1, alive_pid = $2, alive_runner = $3",
    {TIMESTAMPTZOID, INT4OID, TEXTOID});

// Ready tasks per type that may be dispatched, counted by the ready index up to a cap.
Statement ready_work_statement(
    "SELECT w.name, r.ready"
    "  FROM orchestrator.workflow_type w"
    " CROSS JOIN LATERAL (SELECT count(*)::integer AS ready FROM ("
    "     SELECT 1 FROM orchestrator.task t"
    "      WHERE t.workflow_type_id = w.id AND t.state = 'queued' AND t.ready_at <= $1"
    "      LIMIT $2) l) r"
    " WHERE NOT w.paused AND r.ready > 0"
    " ORDER BY w.name",
    {TIMESTAMPTZOID, INT4OID});

// The first moment after $1 work changes by itself: a lease ends, a retry (or a delayed task)
// comes due, an open breaker's cooldown ends. NULL when none is pending. (What is already past
// and still pending, such as a lease whose callback holds the row, waits for the heartbeat.)
Statement next_due_statement(
    "SELECT least("
    "    (SELECT min(e.lease_expires_at) FROM orchestrator.workflow_orchestration e"
    "      WHERE e.status = 'running' AND e.lease_expires_at > $1),"
    "    (SELECT min(h.ready_at) FROM orchestrator.workflow_type w"
    "      CROSS JOIN generate_series(1, 10) p(priority)"
    "      CROSS JOIN LATERAL (SELECT t.ready_at FROM orchestrator.task t"
    "                           WHERE t.workflow_type_id = w.id AND t.priority = p.priority"
    "                             AND t.state = 'queued' AND t.ready_at > $1"
    "                           ORDER BY t.ready_at LIMIT 1) h"
    "      WHERE NOT w.paused),"
    "    (SELECT min(b.opened_at + c.breaker_cooldown)"
    "       FROM orchestrator.breaker b CROSS JOIN orchestrator.config c"
    "      WHERE b.state = 'open' AND b.opened_at + c.breaker_cooldown > $1))",
    {TIMESTAMPTZOID});

const char* runner_name(PassRunner runner) { return runner == PassRunner::worker ? "worker" : "tick"; }

struct Stored {
    WorkerState state = WorkerState::idle;
    std::optional<TimestampTz> recover_after;
    int failures = 0;
};

Stored read_stored() {
    Rows rows = stored_state_statement.run({});
    if (rows.size() != 1)
        throw core::Error(core::sqlstate::internal_error, "orchestrator.worker_state has no row");
    Stored s;
    const std::string name = rows.get_text(0, 1);
    const auto state = core::parse_worker_state(name);
    if (!state)
        throw core::Error(core::sqlstate::internal_error,
                          fmt::format("unknown worker state \"{}\"", name));
    s.state = *state;
    if (!rows.is_null(0, 2))
        s.recover_after = rows.get_timestamptz(0, 2);
    s.failures = rows.get_int32(0, 3);
    return s;
}

void move(const Stored& from, WorkerState to, PassRunner runner, const std::string& reason,
          int failures, std::optional<TimestampTz> recover_after) {
    const TimestampTz now = to_timestamptz(server_clock().now());
    transition_statement.run(
        {text_param(core::to_string(to)), timestamptz_param(now), text_param(reason),
         text_param(runner_name(runner)), int32_param(failures),
         recover_after ? timestamptz_param(*recover_after) : null_param(),
         text_param(core::to_string(from.state))});
}

// ANALYZING: expire leases, roll the budget day, half-open cooled breakers, enqueue recurring
// work that is due, prune history.
void analyze() {
    forget_ready_floors(); // found again by the next claims; see ready_floor.hpp
    expire_leases(leases_per_pass);
    const ConfigSnapshot& snapshot = config_snapshot();
    const core::TimePoint now = server_clock().now();
    const GovernanceConfig config = config_at(snapshot, now);
    // Opening the shared counters starts a new budget day when one began.
    Governance day_roll(snapshot.instance, config, snapshot.apis, now);
    half_open_cooled_breakers(config.breaker, now);
    enqueue_due_schedules();
    prune_history(pruned_per_pass);
}

void do_step(WorkerState step, PassRunner runner) {
    switch (step) {
    case WorkerState::analyzing:
        analyze();
        break;
    case WorkerState::dispatching:
        send_dispatch_hints();
        break;
    case WorkerState::monitoring:
        roll_up_metrics();
        evaluate_alerts_now(); // before liveness: silence is measured up to this pass
        summarize_day_if_due(); // after the rollup: the day before is rolled up
        record_liveness(runner);
        break;
    case WorkerState::idle:
    case WorkerState::error_recovery:
        break;
    }
}

} // namespace

int run_pass(PassRunner runner, const std::function<void()>& between_steps) {
    std::vector<WorkerState> steps;
    {
        SpiConnection spi;
        steps = core::pass_from(read_stored().state);
    }
    for (WorkerState step : steps) {
        {
            SpiConnection spi;
            const Stored stored = read_stored();
            if (stored.state != step) {
                if (!core::transition_allowed(stored.state, step))
                    throw core::Error(core::sqlstate::object_not_in_prerequisite_state,
                                      fmt::format("the worker state moved to {} meanwhile",
                                                  core::to_string(stored.state)));
                // A completed pass clears the failure count; recovery keeps it until then.
                const int failures = step == WorkerState::idle &&
                                             stored.state == WorkerState::monitoring
                                         ? 0
                                         : stored.failures;
                move(stored, step, runner, "heartbeat", failures, std::nullopt);
            }
        }
        between_steps();
        {
            SpiConnection spi;
            do_step(step, runner);
        }
        between_steps();
    }
    return static_cast<int>(steps.size());
}

void enter_error_recovery(PassRunner runner, const std::string& reason) {
    SpiConnection spi;
    const Stored stored = read_stored();
    const int failures = stored.failures + 1;
    const TimestampTz recover_after = to_timestamptz(
        server_clock().now() + core::recovery_delay(core::RecoveryPolicy{}, failures));
    if (stored.state == WorkerState::error_recovery)
        failure_statement.run(
            {int32_param(failures), timestamptz_param(recover_after), text_param(reason)});
    else
        move(stored, WorkerState::error_recovery, runner, reason, failures, recover_after);
}

bool recovery_due() {
    SpiConnection spi;
    const Stored stored = read_stored();
    return stored.state != WorkerState::error_recovery || !stored.recover_after ||
           *stored.recover_after <= to_timestamptz(server_clock().now());
}

void record_liveness(PassRunner runner) {
    liveness_statement.run({timestamptz_param(to_timestamptz(server_clock().now())),
                            int32_param(MyProcPid), text_param(runner_name(runner))});
}

int send_dispatch_hints() {
    const core::TimePoint now = server_clock().now();
    Rows rows = ready_work_statement.run(
        {timestamptz_param(to_timestamptz(now)), int32_param(hint_count_cap)}, true);
    if (rows.size() == 0)
        return 0;
    const ConfigSnapshot& snapshot = config_snapshot();
    const GovernanceConfig config = config_at(snapshot, now);
    Governance governance(snapshot.instance, config, snapshot.apis, now);
    const Breakers breakers(config.breaker, now, snapshot.breakers);
    int sent = 0;
    for (std::uint64_t i = 0; i < rows.size(); ++i) {
        const std::string name = rows.get_text(i, 1); // names are [a-z0-9_]
        const int ready = rows.get_int32(i, 2);
        const TypeConfig* type = find_type(snapshot, name);
        if (type == nullptr)
            continue;
        // What the dispatcher would grant now, by the same rules, without reserving it.
        TypeRules rules = type->rules;
        rules.budget_raise = type_raise_at(*type, config.budget_day_start);
        ApiVerdicts api_allows;
        for (const ApiNeed& need : rules.apis)
            api_allows[need.api_id] = breakers.would_allow("api", need.api_name);
        const core::ExecutionPlan plan =
            governance.plan(rules, breakers.would_allow("workflow_type", name), api_allows);
        const int batch = std::min(ready, plan.grant.max_tasks);
        if (batch == 0)
            continue; // no capacity now: a hint would only wake n8n for nothing
        const std::string payload = fmt::format(
            "{{\"workflow_type\": \"{}\", \"ready\": {}, \"ready_at_least\": {}, "
            "\"batch\": {}, \"limited_by\": \"{}\"}}",
            name, ready, ready == hint_count_cap ? "true" : "false", batch,
            batch < plan.grant.max_tasks ? "queue" : plan.grant.limited_by);
        const char* text = payload.c_str();
        const char* channel = settings::dispatch_channel;
        pg_call([channel, text] { Async_Notify(channel, text); });
        ++sent;
    }
    return sent;
}

std::optional<TimestampTz> next_due_event(TimestampTz since) {
    Rows rows = next_due_statement.run({timestamptz_param(since)}, true);
    if (rows.is_null(0, 1))
        return std::nullopt;
    return rows.get_timestamptz(0, 1);
}

std::optional<TimestampTz> react_to_work() {
    expire_leases(leases_per_pass);
    send_dispatch_hints();
    // The same moment the expiry used: nothing falls between the two.
    return next_due_event(to_timestamptz(server_clock().now()));
}

} // namespace orchestrator::pg
