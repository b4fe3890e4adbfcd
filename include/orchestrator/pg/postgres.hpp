#pragma once
// The one way C++ code includes PostgreSQL's headers: inside extern "C", and never from the core.
#if defined(ORCHESTRATOR_CORE)
#error "the orchestrator core must not include PostgreSQL headers"
#endif

extern "C" {
#include "postgres.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "access/xact.h"
#include "commands/trigger.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "mb/pg_wchar.h"
#include "utils/timestamp.h"
}

// port.h redirects the printf family to PostgreSQL's own; C++ code formats with fmt and the
// standard library, which must see the real names.
#undef printf
#undef fprintf
#undef sprintf
#undef snprintf
#undef vprintf
#undef vfprintf
#undef vsprintf
#undef vsnprintf
