#include "orchestrator/pg/breakers.hpp"

#include "orchestrator/pg/clock.hpp"
#include "orchestrator/pg/spi.hpp"

#include <algorithm>
#include <optional>

namespace orchestrator::pg {

namespace {

Statement breakers_statement(
    "SELECT kind, name, state, consecutive_failures, opened_at, trial_execution_id IS NOT NULL"
    "  FROM orchestrator.breaker",
    {});

Statement try_trial_statement(
    "SELECT 1 FROM orchestrator.breaker"
    " WHERE kind = $1 AND name = $2 AND state <> 'closed' AND trial_execution_id IS NULL"
    "   FOR UPDATE SKIP LOCKED",
    {TEXTOID, TEXTOID});

Statement take_trial_statement(
    "WITH before AS (SELECT state FROM orchestrator.breaker WHERE kind = $1 AND name = $2),"
    " moved AS (UPDATE orchestrator.breaker SET state = 'half_open', trial_execution_id = $3,"
    "                  updated_at = $4"
    "            WHERE kind = $1 AND name = $2 RETURNING 1)"
    " INSERT INTO orchestrator.breaker_event (kind, name, from_state, to_state, at, cause)"
    " SELECT $1, $2, b.state, 'half_open', $4, 'cooldown passed: trial execution ' || $3"
    "   FROM before b, moved WHERE b.state = 'open'",
    {TEXTOID, TEXTOID, INT8OID, TIMESTAMPTZOID});

Statement lock_breaker_statement(
    "SELECT state, consecutive_failures, opened_at FROM orchestrator.breaker"
    " WHERE kind = $1 AND name = $2 FOR UPDATE",
    {TEXTOID, TEXTOID});

Statement save_breaker_statement(
    "INSERT INTO orchestrator.breaker AS b (kind, name, state, consecutive_failures, opened_at,"
    "                                      trial_execution_id, updated_at)"
    " VALUES ($1, $2, $3, $4, $5, NULL, $6)"
    " ON CONFLICT (kind, name) DO UPDATE SET state = $3, consecutive_failures = $4,"
    "     opened_at = $5, trial_execution_id = NULL, updated_at = $6",
    {TEXTOID, TEXTOID, TEXTOID, INT4OID, TIMESTAMPTZOID, TIMESTAMPTZOID});

Statement forget_breaker_statement(
    "DELETE FROM orchestrator.breaker WHERE kind = $1 AND name = $2", {TEXTOID, TEXTOID});

Statement breaker_event_statement(
    "INSERT INTO orchestrator.breaker_event (kind, name, from_state, to_state, at, cause)"
    " VALUES ($1, $2, $3, $4, $5, $6)",
    {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TIMESTAMPTZOID, TEXTOID});

// A verdict on a breaker clears its trial (save_breaker_statement); what still names the
// execution had none.
Statement release_trials_statement(
    "UPDATE orchestrator.breaker SET trial_execution_id = NULL, updated_at = $2"
    " WHERE trial_execution_id = $1",
    {INT8OID, TIMESTAMPTZOID});

// $1 now, $2 the cooldown in microseconds
Statement half_open_statement(
    "WITH cooled AS ("
    "    UPDATE orchestrator.breaker SET state = 'half_open', updated_at = $1"
    "     WHERE state = 'open' AND trial_execution_id IS NULL"
    "       AND opened_at + $2 * interval '1 microsecond' <= $1"
    "    RETURNING kind, name)"
    " INSERT INTO orchestrator.breaker_event (kind, name, from_state, to_state, at, cause)"
    " SELECT kind, name, 'open', 'half_open', $1, 'cooldown passed' FROM cooled",
    {TIMESTAMPTZOID, INT8OID});

core::BreakerState state_of(const std::string& s) {
    if (s == "open")
        return core::BreakerState::open;
    if (s == "half_open")
        return core::BreakerState::half_open;
    return core::BreakerState::closed;
}

} // namespace

std::vector<BreakerRow> load_breakers() {
    Rows rows = breakers_statement.run({}, true);
    std::vector<BreakerRow> breakers;
    for (std::uint64_t i = 0; i < rows.size(); ++i) {
        BreakerRow row;
        row.kind = rows.get_text(i, 1);
        row.name = rows.get_text(i, 2);
        row.breaker.state = state_of(rows.get_text(i, 3));
        row.breaker.consecutive_failures = rows.get_int32(i, 4);
        row.breaker.opened_at_us =
            rows.is_null(i, 5)
                ? 0
                : from_timestamptz(rows.get_timestamptz(i, 5)).time_since_epoch().count();
        row.trial_taken = rows.get_bool(i, 6);
        row.breaker.trial_in_flight = row.trial_taken;
        breakers.push_back(std::move(row));
    }
    return breakers;
}

Breakers::Breakers(const core::BreakerPolicy& policy, core::TimePoint now,
                   std::vector<BreakerRow> open_breakers)
    : policy_(policy), now_(now), rows_(std::move(open_breakers)) {}

std::optional<core::Breaker> Breakers::cooled(const std::string& kind, const std::string& name,
                                              std::size_t& index) const {
    auto it = std::find_if(rows_.begin(), rows_.end(), [&](const BreakerRow& r) {
        return r.kind == kind && r.name == name;
    });
    if (it == rows_.end())
        return std::nullopt;
    index = static_cast<std::size_t>(it - rows_.begin());
    core::Breaker b = it->breaker;
    core::cool_down(policy_, b, now_);
    return b;
}

bool Breakers::allows(const std::string& kind, const std::string& name) {
    std::size_t index = 0;
    const std::optional<core::Breaker> b = cooled(kind, name, index);
    if (!b)
        return true;
    if (std::find(trials_.begin(), trials_.end(), index) != trials_.end())
        return false; // this dispatch already holds its one trial
    if (!core::breaker_allows(*b))
        return false;
    if (b->state == core::BreakerState::closed)
        return true;
    if (try_trial_statement.run({text_param(kind), text_param(name)}, false, 1).size() == 0)
        return false; // another dispatcher holds the trial
    trials_.push_back(index);
    return true;
}

bool Breakers::would_allow(const std::string& kind, const std::string& name) const {
    std::size_t index = 0;
    const std::optional<core::Breaker> b = cooled(kind, name, index);
    return !b || core::breaker_allows(*b);
}

void Breakers::record_trials(std::int64_t execution_id) {
    for (std::size_t index : trials_)
        take_trial_statement.run({text_param(rows_[index].kind), text_param(rows_[index].name),
                                  int64_param(execution_id), timestamptz_param(to_timestamptz(now_))});
    for (std::size_t index : trials_)
        rows_[index].trial_taken = rows_[index].breaker.trial_in_flight = true;
    trials_.clear();
}

namespace {
void record_outcome(const core::BreakerPolicy& policy, const std::string& kind,
                    const std::string& name, bool success, core::TimePoint now,
                    const std::string& cause) {
    Rows rows = lock_breaker_statement.run({text_param(kind), text_param(name)}, false, 1);
    core::Breaker b;
    if (rows.size() == 1) {
        b.state = state_of(rows.get_text(0, 1));
        b.consecutive_failures = rows.get_int32(0, 2);
        b.opened_at_us = rows.is_null(0, 3)
                             ? 0
                             : from_timestamptz(rows.get_timestamptz(0, 3)).time_since_epoch().count();
    } else if (success) {
        return; // closed with no failures: nothing to record
    }
    const core::BreakerChange change = core::breaker_record(policy, b, success, now);
    const TimestampTz at = to_timestamptz(now);
    if (b.state == core::BreakerState::closed && b.consecutive_failures == 0)
        forget_breaker_statement.run({text_param(kind), text_param(name)});
    else
        save_breaker_statement.run(
            {text_param(kind), text_param(name), text_param(core::to_string(b.state)),
             int32_param(b.consecutive_failures),
             b.opened_at_us != 0 ? timestamptz_param(to_timestamptz(core::TimePoint(
                                       core::Duration(b.opened_at_us))))
                                 : null_param(),
             timestamptz_param(at)});
    if (change.changed)
        breaker_event_statement.run({text_param(kind), text_param(name),
                                     text_param(core::to_string(change.from)),
                                     text_param(core::to_string(change.to)), timestamptz_param(at),
                                     text_param(cause)});
}

} // namespace

void record_breaker_failure(const core::BreakerPolicy& policy, const std::string& kind,
                            const std::string& name, core::TimePoint now,
                            const std::string& cause) {
    record_outcome(policy, kind, name, false, now, cause);
}

void record_breaker_successes(const std::vector<BreakerRow>& breakers,
                              const std::string& workflow_type,
                              const std::vector<std::string>& apis, core::TimePoint now,
                              const std::string& cause) {
    std::vector<std::pair<std::string, std::string>> tracked;
    for (const BreakerRow& b : breakers)
        if ((b.kind == "workflow_type" && b.name == workflow_type) ||
            (b.kind == "api" && std::find(apis.begin(), apis.end(), b.name) != apis.end()))
            tracked.emplace_back(b.kind, b.name);
    const core::BreakerPolicy success_needs_no_policy;
    for (const auto& [kind, name] : tracked)
        record_outcome(success_needs_no_policy, kind, name, true, now, cause);
}

void release_undecided_trials(const std::vector<BreakerRow>& breakers, std::int64_t execution_id,
                              core::TimePoint now) {
    if (std::none_of(breakers.begin(), breakers.end(),
                     [](const BreakerRow& b) { return b.trial_taken; }))
        return;
    release_trials_statement.run({int64_param(execution_id), timestamptz_param(to_timestamptz(now))});
}

int half_open_cooled_breakers(const core::BreakerPolicy& policy, core::TimePoint now) {
    return static_cast<int>(
        half_open_statement
            .run({timestamptz_param(to_timestamptz(now)), int64_param(policy.cooldown.count())})
            .size());
}

} // namespace orchestrator::pg
