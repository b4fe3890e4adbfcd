#include "orchestrator/pg/guard.hpp"

namespace orchestrator::pg {

const char* PgError::what() const noexcept {
    return data_->message != nullptr ? data_->message : "PostgreSQL error";
}

namespace detail {

ErrorData* call_catching_errors(void (*fn)(void*), void* arg) {
    MemoryContext caller_context = CurrentMemoryContext;
    ErrorData* volatile error = nullptr;
    PG_TRY();
    {
        fn(arg);
    }
    PG_CATCH();
    {
        // The copy lives in the caller's context until the boundary re-raises it.
        MemoryContextSwitchTo(caller_context);
        error = CopyErrorData();
        FlushErrorState();
    }
    PG_END_TRY();
    return error;
}

} // namespace detail
} // namespace orchestrator::pg
