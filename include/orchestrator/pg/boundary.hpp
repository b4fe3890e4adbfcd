#pragma once
// The boundary between PostgreSQL and C++ for SQL-callable functions. Every C++ exception is
// caught there, after the function's C++ scope has ended, and raised as a PostgreSQL ERROR:
//   core::Error       -> its own SQLSTATE, message, detail and hint
//   pg::PgError       -> the original PostgreSQL error, unchanged
//   std::bad_alloc    -> 53200 out_of_memory
//   std::exception    -> XX000 with its message
#include "orchestrator/pg/postgres.hpp"

namespace orchestrator::pg {

using SqlFunctionBody = Datum (*)(FunctionCallInfo);

Datum call_sql_function(SqlFunctionBody body, FunctionCallInfo fcinfo);

} // namespace orchestrator::pg

// Defines the SQL-callable C function `name`; the braces that follow are its C++ body, which
// reads its arguments from `fcinfo` and returns a Datum.
#define ORCHESTRATOR_SQL_FUNCTION(name)                                                            \
    static Datum name##_body(FunctionCallInfo fcinfo);                                             \
    extern "C" {                                                                                   \
    PG_FUNCTION_INFO_V1(name);                                                                     \
    Datum name(PG_FUNCTION_ARGS) {                                                                 \
        return orchestrator::pg::call_sql_function(name##_body, fcinfo);                           \
    }                                                                                              \
    }                                                                                              \
    static Datum name##_body(FunctionCallInfo fcinfo)
