#pragma once
// Every core header includes this first. The core is built without PostgreSQL's include path, so
// `#include "postgres.h"` cannot even be found there; this catches the other direction: a core
// translation unit that somehow sees PostgreSQL's headers.
#if defined(ORCHESTRATOR_CORE) && (defined(POSTGRES_H) || defined(PG_VERSION_NUM))
#error "the orchestrator core must not include PostgreSQL headers"
#endif
