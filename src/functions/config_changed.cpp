// The trigger on the configuration tables: backends reload their cached configuration once the
// changing transaction commits.
#include "orchestrator/core/error.hpp"
#include "orchestrator/pg/boundary.hpp"
#include "orchestrator/pg/config_cache.hpp"

using namespace orchestrator;

ORCHESTRATOR_SQL_FUNCTION(orchestrator_config_changed) {
    if (!CALLED_AS_TRIGGER(fcinfo))
        throw core::Error("39P01", "orchestrator._config_changed() is a trigger function");
    pg::mark_config_changed();
    return PointerGetDatum(nullptr);
}
