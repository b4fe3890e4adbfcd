#pragma once
// Index descriptions kept across transactions for the direct writes (table_writer.hpp). The
// executor builds each index's IndexInfo and compiles its predicate for every statement; for the
// hot path's one-row writes that cost more than the index entries themselves. Here each is built
// once per backend and index, and built again after the index's relcache entry is invalidated.
#include "orchestrator/pg/postgres.hpp"

extern "C" {
#include "nodes/execnodes.h"
}

namespace orchestrator::pg {

// What ExecOpenIndices(result, false) does, with the cached descriptions: opens the indexes of
// the result relation (RowExclusiveLock) and sets ri_IndexRelationDescs / ri_IndexRelationInfo.
// Run inside pg_call; ExecCloseIndices closes them.
void open_indexes(ResultRelInfo* result, EState* estate);

} // namespace orchestrator::pg
