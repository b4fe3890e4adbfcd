#include "orchestrator/pg/worker_identity.hpp"

#include "orchestrator/pg/guard.hpp"

extern "C" {
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/pg_extension.h"
#include "commands/extension.h"
#include "utils/acl.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"
}

namespace orchestrator::pg {

namespace {

Oid saved_user = InvalidOid;
int saved_context = 0;

Oid owner_of(Oid extension) {
    Relation catalog = table_open(ExtensionRelationId, AccessShareLock);
    ScanKeyData key;
    ScanKeyInit(&key, Anum_pg_extension_oid, BTEqualStrategyNumber, F_OIDEQ,
                ObjectIdGetDatum(extension));
    SysScanDesc scan = systable_beginscan(catalog, ExtensionOidIndexId, true, nullptr, 1, &key);
    const HeapTuple row = systable_getnext(scan);
    const Oid owner = HeapTupleIsValid(row)
                          ? reinterpret_cast<Form_pg_extension>(GETSTRUCT(row))->extowner
                          : InvalidOid;
    systable_endscan(scan);
    table_close(catalog, AccessShareLock);
    return owner;
}

} // namespace

WorkerIdentity look_up_worker_identity() {
    return pg_call([] {
        WorkerIdentity identity;
        const Oid extension = get_extension_oid("orchestrator", true);
        if (!OidIsValid(extension))
            return identity;
        // The role the worker logged in as, whoever it acts as at the moment.
        const Oid role = GetSessionUserId();
        const Oid worker_role = get_role_oid("orchestrator_worker", true);
        if (!superuser_arg(role) &&
            !(OidIsValid(worker_role) && has_privs_of_role(role, worker_role))) {
            identity.standing = WorkerStanding::not_authorized;
            return identity;
        }
        identity.standing = WorkerStanding::ready;
        identity.extension_owner = owner_of(extension);
        return identity;
    });
}

void act_as_owner(Oid owner) {
    GetUserIdAndSecContext(&saved_user, &saved_context);
    SetUserIdAndSecContext(owner, saved_context | SECURITY_LOCAL_USERID_CHANGE);
}

void stop_acting_as_owner() {
    SetUserIdAndSecContext(saved_user, saved_context);
}

} // namespace orchestrator::pg
