// The library's entry point: defines the settings. Nothing heavy runs here: under
// shared_preload_libraries this runs in the postmaster before it forks.
#include "orchestrator/pg/postgres.hpp"
#include "orchestrator/pg/config_cache.hpp"
#include "orchestrator/pg/governance.hpp"
#include "orchestrator/pg/ready_floor.hpp"
#include "orchestrator/pg/settings.hpp"
#include "orchestrator/pg/worker.hpp"

extern "C" {
PG_MODULE_MAGIC;

void _PG_init(void);
void _PG_init(void) {
    orchestrator::pg::settings::define();
    if (process_shared_preload_libraries_in_progress) {
        orchestrator::pg::request_governance_memory();
        orchestrator::pg::request_config_version_memory();
        orchestrator::pg::request_ready_floor_memory();
        orchestrator::pg::register_worker();
    } else {
        ereport(LOG,
                (errmsg("orchestrator loaded without shared_preload_libraries: no background "
                        "worker, and governance counters are read from the tables"),
                 errhint("Add orchestrator to shared_preload_libraries and restart, or call "
                         "orchestrator.tick() every minute (for example from pg_cron).")));
    }
}
}
