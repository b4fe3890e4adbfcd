#include "orchestrator/pg/settings.hpp"

#include "orchestrator/pg/postgres.hpp"

namespace orchestrator::pg::settings {

char* test_now = nullptr;
int test_seed = 0;
int max_payload_bytes = 1024 * 1024;
int max_error_bytes = 4096;
bool worker_enabled = true;
char* worker_database = nullptr;
char* worker_role = nullptr;
int heartbeat_interval_ms = 5 * 60 * 1000;
int liveness_interval_ms = 30 * 1000;
int hint_interval_ms = 100;
char* dispatch_channel = nullptr;
char* alerts_channel = nullptr;

void define() {
    DefineCustomStringVariable(
        "orchestrator.test_now", "Freezes the orchestrator's clock at this timestamp (tests only).",
        "Empty means the transaction's start time.", &test_now, "", PGC_SUSET, 0, nullptr,
        nullptr, nullptr);
    DefineCustomIntVariable("orchestrator.test_seed",
                            "Seeds the orchestrator's randomness (retry jitter); 0 is random.",
                            nullptr, &test_seed, 0, 0, INT_MAX, PGC_SUSET, 0, nullptr, nullptr,
                            nullptr);
    DefineCustomIntVariable("orchestrator.max_payload_bytes",
                            "Largest task payload enqueue accepts, in bytes.", nullptr,
                            &max_payload_bytes, 1024 * 1024, 1024, 64 * 1024 * 1024, PGC_SUSET,
                            GUC_UNIT_BYTE, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("orchestrator.max_error_bytes",
                            "Failure messages from callbacks are truncated to this many bytes.",
                            nullptr, &max_error_bytes, 4096, 64, 1024 * 1024, PGC_SUSET,
                            GUC_UNIT_BYTE, nullptr, nullptr, nullptr);
    DefineCustomBoolVariable("orchestrator.worker_enabled",
                             "Whether the background worker beats (it still records liveness).",
                             nullptr, &worker_enabled, true, PGC_SIGHUP, 0, nullptr, nullptr,
                             nullptr);
    DefineCustomStringVariable("orchestrator.database",
                               "The database whose orchestrator the background worker runs.",
                               nullptr, &worker_database, "postgres", PGC_POSTMASTER, 0, nullptr,
                               nullptr, nullptr);
    DefineCustomStringVariable(
        "orchestrator.worker_role", "The role the background worker connects as.",
        "A login role granted orchestrator_worker (or a superuser); not the bootstrap superuser. "
        "Until it is set the worker waits.",
        &worker_role, "", PGC_POSTMASTER, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("orchestrator.heartbeat_interval",
                            "Time between two heartbeats (passes of the state machine).", nullptr,
                            &heartbeat_interval_ms, 5 * 60 * 1000, 1000, 24 * 3600 * 1000,
                            PGC_SIGHUP, GUC_UNIT_MS, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("orchestrator.liveness_interval",
                            "Time between two liveness records of the background worker.",
                            nullptr, &liveness_interval_ms, 30 * 1000, 100, 3600 * 1000,
                            PGC_SIGHUP, GUC_UNIT_MS, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("orchestrator.hint_interval",
                            "Least time between two dispatch hints; enqueues in between are "
                            "announced together at its end.",
                            nullptr, &hint_interval_ms, 100, 0, 60 * 1000, PGC_SIGHUP,
                            GUC_UNIT_MS, nullptr, nullptr, nullptr);
    DefineCustomStringVariable("orchestrator.dispatch_channel",
                               "NOTIFY channel of the dispatch hints.", nullptr, &dispatch_channel,
                               "orchestrator_dispatch", PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
    DefineCustomStringVariable("orchestrator.alerts_channel",
                               "NOTIFY channel of alerts raised and resolved.", nullptr,
                               &alerts_channel, "orchestrator_alerts", PGC_SIGHUP, 0, nullptr,
                               nullptr, nullptr);
    MarkGUCPrefixReserved("orchestrator");
}

} // namespace orchestrator::pg::settings
