// tick(): one heartbeat from SQL, for hosts that cannot preload the library (drive it with
// pg_cron); and the guard that keeps the stored worker state a valid state machine.
#include "orchestrator/core/error.hpp"
#include "orchestrator/core/worker_state.hpp"
#include "orchestrator/pg/boundary.hpp"
#include "orchestrator/pg/guard.hpp"
#include "orchestrator/pg/heartbeat.hpp"

#include <fmt/format.h>

using namespace orchestrator;
using namespace orchestrator::pg;
namespace sqlstate = core::sqlstate;

// tick() -> true after a pass, false when another pass (the worker's, or another tick) is
// running: two passes never run at once. The whole pass is the caller's transaction.
ORCHESTRATOR_SQL_FUNCTION(orchestrator_tick) {
    static_cast<void>(fcinfo);
    const bool locked = pg_call([] {
        return DatumGetBool(DirectFunctionCall2(pg_try_advisory_xact_lock_int4,
                                                Int32GetDatum(heartbeat_lock_class),
                                                Int32GetDatum(heartbeat_lock_key)));
    });
    if (!locked)
        return BoolGetDatum(false);
    run_pass(PassRunner::tick, [] {});
    return BoolGetDatum(true);
}

namespace {
core::WorkerState state_in(HeapTuple tuple, TupleDesc descriptor, int attribute) {
    const char* name = pg_call([tuple, descriptor, attribute] {
        return SPI_getvalue(tuple, descriptor, attribute);
    });
    const auto state = core::parse_worker_state(name == nullptr ? "" : name);
    if (!state)
        throw core::Error(sqlstate::invalid_parameter_value,
                          fmt::format("\"{}\" is not a worker state", name == nullptr ? "" : name),
                          {}, "The states are idle, analyzing, dispatching, monitoring and "
                              "error_recovery.");
    return *state;
}
} // namespace

// BEFORE UPDATE on orchestrator.worker_state: only the state machine's transitions.
ORCHESTRATOR_SQL_FUNCTION(orchestrator_worker_state_guard) {
    const auto* trigger = reinterpret_cast<TriggerData*>(fcinfo->context);
    if (trigger == nullptr || !CALLED_AS_TRIGGER(fcinfo) ||
        !TRIGGER_FIRED_BY_UPDATE(trigger->tg_event))
        throw core::Error(sqlstate::internal_error, "worker_state_guard must run as an UPDATE trigger");
    TupleDesc descriptor = trigger->tg_relation->rd_att;
    const int attribute = pg_call([descriptor] { return SPI_fnumber(descriptor, "state"); });
    const core::WorkerState from = state_in(trigger->tg_trigtuple, descriptor, attribute);
    const core::WorkerState to = state_in(trigger->tg_newtuple, descriptor, attribute);
    if (from != to && !core::transition_allowed(from, to))
        throw core::Error(sqlstate::object_not_in_prerequisite_state,
                          fmt::format("the worker state cannot go from {} to {}",
                                      core::to_string(from), core::to_string(to)),
                          "A pass goes idle, analyzing, dispatching, monitoring, idle; any state "
                          "may go to error_recovery, which goes back to idle.");
    return PointerGetDatum(trigger->tg_newtuple);
}
