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
    IndexInfo* info;
    MemoryContext context; // holds info and what it points to
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

IndexInfo* cached_index_info(Relation index) {
    if (cache == nullptr) {
        HASHCTL control{};
        control.keysize = sizeof(Oid);
        control.entrysize = sizeof(CachedIndexInfo);
        cache = hash_create("orchestrator index infos", 16, &control, HASH_ELEM | HASH_BLOBS);
        CacheRegisterRelcacheCallback(forget, 0);
    }
    const Oid oid = RelationGetRelid(index);
    bool found = false;
    auto* entry = static_cast<CachedIndexInfo*>(hash_search(cache, &oid, HASH_ENTER, &found));
    if (!found) {
        entry->context = nullptr;
        entry->valid = false;
    }
    if (entry->valid)
        return entry->info;
    // A writer earlier in this transaction may still hold the old description: it goes when
    // the transaction ends.
    if (entry->context != nullptr)
        MemoryContextSetParent(entry->context, TopTransactionContext);
    entry->context = nullptr; // not retired twice if what follows raises
    const MemoryContext context =
        AllocSetContextCreate(CacheMemoryContext, "orchestrator index info", ALLOCSET_SMALL_SIZES);
    entry->context = context;
    entry->info = build(index, context);
    entry->valid = true;
    return entry->info;
}

} // namespace

void open_indexes(ResultRelInfo* result, EState* estate) {
    List* indexes = RelationGetIndexList(result->ri_RelationDesc);
    const int n = list_length(indexes);
    result->ri_NumIndices = n;
    if (n == 0)
        return;
    result->ri_IndexRelationDescs = static_cast<RelationPtr>(palloc(n * sizeof(Relation)));
    result->ri_IndexRelationInfo = static_cast<IndexInfo**>(palloc(n * sizeof(IndexInfo*)));
    int i = 0;
    ListCell* cell;
    foreach (cell, indexes) {
        Relation index = index_open(lfirst_oid(cell), RowExclusiveLock);
        IndexInfo* info = cached_index_info(index);
        // What an index AM caches in the description (BRIN's descriptor) lives with this
        // writer, as it would with one statement.
        info->ii_AmCache = nullptr;
        info->ii_Context = estate->es_query_cxt;
        result->ri_IndexRelationDescs[i] = index;
        result->ri_IndexRelationInfo[i] = info;
        ++i;
    }
    list_free(indexes);
}

} // namespace orchestrator::pg
