#pragma once
// The orchestrator.* settings (GUCs).
#include <cstdint>

namespace orchestrator::pg::settings {

extern char* test_now;          // orchestrator.test_now, "" when the real clock is used
extern int test_seed;           // orchestrator.test_seed, 0 when random
extern int max_payload_bytes;   // orchestrator.max_payload_bytes
extern int max_error_bytes;     // orchestrator.max_error_bytes
// The background worker's (see pg/worker.hpp).
extern bool worker_enabled;       // orchestrator.worker_enabled
extern char* worker_database;     // orchestrator.database
extern char* worker_role;         // orchestrator.worker_role, "" until set
extern int heartbeat_interval_ms; // orchestrator.heartbeat_interval
extern int liveness_interval_ms;  // orchestrator.liveness_interval
extern int hint_interval_ms;      // orchestrator.hint_interval
extern char* dispatch_channel;    // orchestrator.dispatch_channel
extern char* alerts_channel;      // orchestrator.alerts_channel

void define();

} // namespace orchestrator::pg::settings
