#pragma once
// Index descriptions kept across transactions for the direct writes (table_writer.hpp). The
// executor builds each index's IndexInfo and compiles its predicate for every statement; for the
// hot path's one-row writes that cost more than the index entries themselves. Here each is built
// once per backend and index, and built again after the index's relcache entry is invalidated.
#include "orchestrator/pg/postgres.hpp"

extern "C" {
#include "access/genam.h"
#include "nodes/execnodes.h"
}

namespace orchestrator::pg {

struct IndexDescription {
    IndexInfo* info;              // predicate and expressions compiled
    const char* name;
    IndexUniqueCheck unique_check; // what a statement's insert asks of it
};

// The description of index `index`. Building it needs the index open: when it is not cached,
// this opens it (RowExclusiveLock) and leaves it in `opened` for the caller to use and close;
// otherwise `opened` is left alone. Run inside pg_call.
IndexDescription describe_index(Oid index, Relation& opened);

} // namespace orchestrator::pg
