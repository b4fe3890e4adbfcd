#include "orchestrator/pg/settings.hpp"

#include "orchestrator/pg/postgres.hpp"

namespace orchestrator::pg::settings {

char* test_now = nullptr;
int test_seed = 0;
int max_payload_bytes = 1024 * 1024;
int max_error_bytes = 4096;

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
    MarkGUCPrefixReserved("orchestrator");
}

} // namespace orchestrator::pg::settings
