#include "orchestrator/pg/index_info_cache.hpp"

extern "C" {
#include "access/genam.h"
#include "catalog/index.h"
#include "optimizer/optimizer.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/rel.h"
}

namespace orchestrator::pg {

namespace {

struct CachedIndexInfo {
    Oid index; // the hash key
    IndexDescription description;
    MemoryContext context; // holds the description and what it points to
    bool valid;
};

HTAB* cache = nullptr;

void forget(Datum, Oid relation) {
    HASH_SEQ_STATUS status;
    hash_seq_init(&status, cache);
    while (auto* entry = static_cast<CachedIndexInfo*>(hash_seq_search(&status)))
        if (relation == InvalidOid || entry->index == relation)
            entry->valid = false;
}

// BuildIndexInfo, with the predicate and expressions compiled as the executor would compile
// them for one statement (ExecPrepareQual, ExecPrepareExpr), here in the entry's own memory.
IndexInfo* build(Relation index, MemoryContext context) {
    const MemoryContext old = MemoryContextSwitchTo(context);
    IndexInfo* info = BuildIndexInfo(index);
    if (info->ii_Predicate != NIL)
        info->ii_PredicateState = ExecInitQual(reinterpret_cast<List*>(expression_planner(
                                                   reinterpret_cast<Expr*>(info->ii_Predicate))),
                                               nullptr);
    ListCell* cell;
    foreach (cell, info->ii_Expressions)
        info->ii_ExpressionsState =
            lappend(info->ii_ExpressionsState,
                    ExecInitExpr(expression_planner(static_cast<Expr*>(lfirst(cell))), nullptr));
    MemoryContextSwitchTo(old);
    return info;
}

IndexUniqueCheck unique_check_of(Relation index) {
    if (!index->rd_index->indisunique)
        return UNIQUE_CHECK_NO;
    return index->rd_index->indimmediate ? UNIQUE_CHECK_YES : UNIQUE_CHECK_PARTIAL;
}

} // namespace

IndexDescription describe_index(Oid index, Relation& opened) {
    if (cache == nullptr) {
        HASHCTL control{};
        control.keysize = sizeof(Oid);
        control.entrysize = sizeof(CachedIndexInfo);
        cache = hash_create("orchestrator index infos", 16, &control, HASH_ELEM | HASH_BLOBS);
        CacheRegisterRelcacheCallback(forget, 0);
    }
    bool found = false;
    auto* entry = static_cast<CachedIndexInfo*>(hash_search(cache, &index, HASH_ENTER, &found));
    if (!found) {
        entry->context = nullptr;
        entry->valid = false;
    }
    if (entry->valid)
        return entry->description;
    // A writer earlier in this transaction may still hold the old description: it goes when
    // the transaction ends.
    if (entry->context != nullptr)
        MemoryContextSetParent(entry->context, TopTransactionContext);
    entry->context = nullptr; // not retired twice if what follows raises
    opened = index_open(index, RowExclusiveLock);
    const MemoryContext context =
        AllocSetContextCreate(CacheMemoryContext, "orchestrator index info", ALLOCSET_SMALL_SIZES);
    entry->context = context;
    entry->description.info = build(opened, context);
    entry->description.name = MemoryContextStrdup(context, RelationGetRelationName(opened));
    entry->description.unique_check = unique_check_of(opened);
    entry->valid = true;
    return entry->description;
}

} // namespace orchestrator::pg
