#pragma once
// The orchestrator.* settings (GUCs).
#include <cstdint>

namespace orchestrator::pg::settings {

extern char* test_now;          // orchestrator.test_now, "" when the real clock is used
extern int test_seed;           // orchestrator.test_seed, 0 when random
extern int max_payload_bytes;   // orchestrator.max_payload_bytes
extern int max_error_bytes;     // orchestrator.max_error_bytes

void define();

} // namespace orchestrator::pg::settings
