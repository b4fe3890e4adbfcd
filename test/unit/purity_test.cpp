// Documents the core's purity check. The core (and this unit-test binary) is compiled with
// -DORCHESTRATOR_CORE and without PostgreSQL's include path; include/orchestrator/core/pure.hpp,
// included first by every core header, #errors if PostgreSQL's headers were seen anyway.
//
// The checks below are preprocessor checks, so a violation is a compile error, not a test failure:
// if anyone adds `#include "postgres.h"` (or anything defining POSTGRES_H / PG_VERSION_NUM) to a
// core header, this file stops compiling. The runtime test only records that the build got here.
#include "orchestrator/core/batch.hpp"
#include "orchestrator/core/error.hpp"
#include "orchestrator/core/fairness.hpp"
#include "orchestrator/core/priority.hpp"
#include "orchestrator/core/pure.hpp"
#include "orchestrator/core/random.hpp"
#include "orchestrator/core/retry.hpp"
#include "orchestrator/core/time.hpp"

#include <gtest/gtest.h>

// Without ORCHESTRATOR_CORE, pure.hpp's guard is switched off: the unit build must define it.
#ifndef ORCHESTRATOR_CORE
#error "unit tests must be compiled with -DORCHESTRATOR_CORE (as the core is)"
#endif

// No core header pulled in PostgreSQL's headers.
#ifdef POSTGRES_H
#error "a core header included postgres.h"
#endif
#ifdef PG_VERSION_NUM
#error "a core header included pg_config.h (PG_VERSION_NUM is defined)"
#endif

// And PostgreSQL's server headers are not even reachable from the core's include path.
#if defined(__has_include)
#if __has_include("postgres.h") || __has_include(<postgres.h>)
#error "postgres.h is on the core's include path"
#endif
#endif

namespace {

TEST(Purity, CoreHeadersCompileWithoutPostgresHeaders) {
    // Reaching this point means the preprocessor checks above passed for every core header.
#if defined(POSTGRES_H) || defined(PG_VERSION_NUM)
    FAIL() << "PostgreSQL headers were included";
#else
    SUCCEED();
#endif
}

TEST(Purity, CoreGuardIsArmed) {
#ifdef ORCHESTRATOR_CORE
    SUCCEED();
#else
    FAIL() << "ORCHESTRATOR_CORE is not defined, so pure.hpp checks nothing";
#endif
}

} // namespace
