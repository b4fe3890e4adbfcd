#include "orchestrator/pg/boundary.hpp"

#include "orchestrator/core/error.hpp"
#include "orchestrator/pg/guard.hpp"

#include <cstdio>
#include <new>

namespace orchestrator::pg {

namespace {

// What the boundary will raise, held in plain storage so that raising it needs no C++ object.
struct PendingError {
    bool pending = false;
    ErrorData* postgres_error = nullptr;
    char sqlstate[6] = {};
    char message[1024] = {};
    char detail[1024] = {};
    char hint[512] = {};
};

void set_text(char* to, std::size_t size, const char* from) {
    std::snprintf(to, size, "%s", from);
}

void set_pending(PendingError& out, const char* sqlstate, const char* message,
                 const char* detail = "", const char* hint = "") {
    out.pending = true;
    set_text(out.sqlstate, sizeof out.sqlstate, sqlstate);
    set_text(out.message, sizeof out.message, message);
    set_text(out.detail, sizeof out.detail, detail);
    set_text(out.hint, sizeof out.hint, hint);
}

// Runs the body; every C++ object it creates is gone when this returns.
Datum run_catching_exceptions(SqlFunctionBody body, FunctionCallInfo fcinfo, PendingError& out) {
    try {
        return body(fcinfo);
    } catch (const PgError& e) {
        out.pending = true;
        out.postgres_error = e.data();
    } catch (const core::Error& e) {
        set_pending(out, e.sqlstate(), e.what(), e.detail().c_str(), e.hint().c_str());
    } catch (const std::bad_alloc&) {
        set_pending(out, "53200", "out of memory in the orchestrator");
    } catch (const std::exception& e) {
        set_pending(out, "XX000", e.what());
    } catch (...) {
        set_pending(out, "XX000", "unknown C++ exception in the orchestrator");
    }
    return Datum(0);
}

void raise(const PendingError& error) {
    if (error.postgres_error != nullptr)
        ReThrowError(error.postgres_error);
    const char* s = error.sqlstate;
    ereport(ERROR, (errcode(MAKE_SQLSTATE(s[0], s[1], s[2], s[3], s[4])),
                    errmsg_internal("%s", error.message),
                    error.detail[0] != '\0' ? errdetail_internal("%s", error.detail) : 0,
                    error.hint[0] != '\0' ? errhint("%s", error.hint) : 0));
}

} // namespace

Datum call_sql_function(SqlFunctionBody body, FunctionCallInfo fcinfo) {
    PendingError error;
    Datum result = run_catching_exceptions(body, fcinfo, error);
    if (error.pending)
        raise(error);
    return result;
}

} // namespace orchestrator::pg
