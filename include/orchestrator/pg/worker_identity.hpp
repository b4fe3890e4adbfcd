#pragma once
// Who the background worker acts as. It connects as orchestrator.worker_role, which must be a
// superuser or a member of orchestrator_worker (the role the extension creates for callers of
// its API). Its passes then run as the extension's owner, as the API's SECURITY DEFINER
// functions do: the tables are written by nobody else.
#include "orchestrator/pg/postgres.hpp"

namespace orchestrator::pg {

enum class WorkerStanding { no_extension, not_authorized, ready };

struct WorkerIdentity {
    WorkerStanding standing = WorkerStanding::no_extension;
    Oid extension_owner = InvalidOid; // valid when ready
};

// Reads the extension's owner and whether the connected role may run the orchestrator
// (in a transaction).
WorkerIdentity look_up_worker_identity();

// Within a transaction: act as `owner` until stop_acting_as_owner() or the transaction's abort.
void act_as_owner(Oid owner);
void stop_acting_as_owner();

} // namespace orchestrator::pg
