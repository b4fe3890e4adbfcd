// The trigger on the configuration tables: backends reload their cached configuration once the
// changing transaction commits.
#include "orchestrator/core/error.hpp"
#include "orchestrator/pg/boundary.hpp"
#include "orchestrator/pg/config_cache.hpp"
#include "orchestrator/pg/governance.hpp"
#include "orchestrator/pg/ready_floor.hpp"

using namespace orchestrator;

ORCHESTRATOR_SQL_FUNCTION(orchestrator_config_changed) {
    if (!CALLED_AS_TRIGGER(fcinfo))
        throw core::Error("39P01", "orchestrator._config_changed() is a trigger function");
    pg::mark_config_changed();
    return PointerGetDatum(nullptr);
}

// On TRUNCATE of the tasks or executions: the shared counters no longer match the tables.
ORCHESTRATOR_SQL_FUNCTION(orchestrator_history_truncated) {
    if (!CALLED_AS_TRIGGER(fcinfo))
        throw core::Error("39P01", "orchestrator._history_truncated() is a trigger function");
    pg::rebuild_counters_at_commit();
    return PointerGetDatum(nullptr);
}

// Called first by the SQL functions that put tasks back in the queue or lock queued ones
// (retrying dead letters, cancelling): no ready floor of the database rises until they end.
ORCHESTRATOR_SQL_FUNCTION(orchestrator_queue_changing) {
    (void)fcinfo;
    pg::note_any_queue_change();
    return PointerGetDatum(nullptr);
}
