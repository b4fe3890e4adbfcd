// Test-only functions that prove the C++/PostgreSQL boundary. They are not part of the extension's
// SQL surface: the regression test declares them itself (CREATE FUNCTION ... AS '$libdir/orchestrator').
#include "orchestrator/core/error.hpp"
#include "orchestrator/pg/args.hpp"
#include "orchestrator/pg/boundary.hpp"
#include "orchestrator/pg/spi.hpp"

#include <new>
#include <stdexcept>
#include <string>

using namespace orchestrator;

namespace {
std::int64_t destructors_run = 0;

// Counts its own destruction, so a test can see that unwinding ran it.
struct DestructorProbe {
    ~DestructorProbe() { ++destructors_run; }
};
} // namespace

ORCHESTRATOR_SQL_FUNCTION(orchestrator_test_throw) {
    const std::string kind(pg::Args(fcinfo).required_text(0, "kind", 64));
    DestructorProbe probe;
    if (kind == "error")
        throw core::Error(core::sqlstate::invalid_parameter_value, "a core error from C++",
                          "Thrown on purpose.", "Nothing to do.");
    if (kind == "bad_alloc")
        throw std::bad_alloc();
    if (kind == "std")
        throw std::runtime_error("a standard exception from C++");
    if (kind == "unknown")
        throw 42;
    return BoolGetDatum(true);
}

ORCHESTRATOR_SQL_FUNCTION(orchestrator_test_pg_error_under_cpp) {
    const std::string sql(pg::Args(fcinfo).required_text(0, "sql", 10000));
    DestructorProbe probe;
    pg::SpiConnection spi;
    const char* query = sql.c_str();
    pg::pg_call([query] { SPI_execute(query, false, 0); });
    return BoolGetDatum(true);
}

ORCHESTRATOR_SQL_FUNCTION(orchestrator_test_destructor_count) {
    (void)fcinfo;
    return Int64GetDatum(destructors_run);
}
