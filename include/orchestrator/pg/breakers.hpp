#pragma once
// Circuit breakers, kept in orchestrator.breaker (the table is their only state: transitions are
// rare, and a half-open trial is taken under a row lock, so exactly one dispatcher gets it).
#include "orchestrator/core/breaker.hpp"
#include "orchestrator/pg/postgres.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace orchestrator::pg {

struct BreakerRow {
    std::string kind; // workflow_type or api
    std::string name;
    core::Breaker breaker;
    bool trial_taken = false;
};

// Every breaker with a row: not closed, or closed and counting failures.
std::vector<BreakerRow> load_breakers();

class Breakers {
public:
    Breakers(const core::BreakerPolicy& policy, core::TimePoint now,
             std::vector<BreakerRow> open_breakers);

    // Whether work needing this breaker may go now. An open breaker past its cooldown, or a
    // half-open one without a trial, lets through the dispatcher that locks its row first.
    bool allows(const std::string& kind, const std::string& name);

    // Whether work needing this breaker could go now, without taking a trial (for the hints).
    bool would_allow(const std::string& kind, const std::string& name) const;

    // Records that an execution went through a half-open (or cooled-down) breaker as its trial.
    void record_trials(std::int64_t execution_id);

private:
    // The breaker of that name after its cooldown is applied, and its row's index; none when it
    // has no row (closed, no failures).
    std::optional<core::Breaker> cooled(const std::string& kind, const std::string& name,
                                        std::size_t& index) const;

    core::BreakerPolicy policy_;
    core::TimePoint now_;
    std::vector<BreakerRow> rows_;
    std::vector<std::size_t> trials_; // rows whose trial this dispatch holds, not yet recorded
};

// A failure for one breaker; records the transition, if any, with its cause.
void record_breaker_failure(const core::BreakerPolicy& policy, const std::string& kind,
                            const std::string& name, core::TimePoint now,
                            const std::string& cause);

// A success for a workflow type and the APIs it used: closes those of their breakers that have
// a row (`breakers`, from the configuration cache); nothing to do when none has.
void record_breaker_successes(const std::vector<BreakerRow>& breakers,
                              const std::string& workflow_type,
                              const std::vector<std::string>& apis, core::TimePoint now,
                              const std::string& cause);

// Gives back the trials an execution held on breakers its outcome said nothing about (a trial
// of the openai breaker that failed on gemini, or that expired): they stay half-open and the
// next dispatch that needs one takes a new trial. Call after the outcome is recorded. `breakers`
// are the configuration's (config_snapshot): a trial is taken by a committed dispatch, which moved
// the configuration's version, so with no trial among them there is nothing to give back.
void release_undecided_trials(const std::vector<BreakerRow>& breakers, std::int64_t execution_id,
                              core::TimePoint now);

// Moves open breakers whose cooldown has passed to half-open, recording each transition; the
// next dispatch that needs one takes its single trial. Returns how many moved.
int half_open_cooled_breakers(const core::BreakerPolicy& policy, core::TimePoint now);

} // namespace orchestrator::pg
