#include "orchestrator/pg/worker.hpp"

#include "orchestrator/core/worker_state.hpp"
#include "orchestrator/pg/guard.hpp"
#include "orchestrator/pg/heartbeat.hpp"
#include "orchestrator/pg/settings.hpp"
#include "orchestrator/pg/spi.hpp"
#include "orchestrator/pg/worker_identity.hpp"

#include <algorithm>
#include <cstring>
#include <exception>
#include <optional>
#include <string>

extern "C" {
#include "catalog/pg_authid_d.h"
#include "commands/extension.h"
#include "pgstat.h"
#include "port/atomics.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/shmem.h"
#include "tcop/tcopprot.h"
#include "utils/snapmgr.h"

PGDLLEXPORT void orchestrator_worker_main(Datum);
}

namespace orchestrator::pg {

namespace {

// How the committing backends reach the worker.
struct WakeSlot {
    Latch* latch; // the worker's, while it runs
    pg_atomic_uint32 work_arrived;
};
WakeSlot* wake_slot = nullptr;

shmem_request_hook_type previous_request_hook = nullptr;
shmem_startup_hook_type previous_startup_hook = nullptr;

void shmem_request() {
    if (previous_request_hook)
        previous_request_hook();
    RequestAddinShmemSpace(MAXALIGN(sizeof(WakeSlot)));
}

void shmem_startup() {
    if (previous_startup_hook)
        previous_startup_hook();
    LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
    bool found = false;
    wake_slot = static_cast<WakeSlot*>(ShmemInitStruct("orchestrator wake slot", sizeof(WakeSlot), &found));
    if (!found) {
        wake_slot->latch = nullptr;
        pg_atomic_init_u32(&wake_slot->work_arrived, 0);
    }
    LWLockRelease(AddinShmemInitLock);
}

bool wake_pending = false;
bool wake_callback_registered = false;

void on_transaction_event(XactEvent event, void*) {
    if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT) {
        // Only the first commit since the worker last looked signals it: under load that is one
        // signal per hint interval, not one per enqueue.
        if (wake_pending && wake_slot != nullptr &&
            pg_atomic_read_u32(&wake_slot->work_arrived) == 0 &&
            pg_atomic_exchange_u32(&wake_slot->work_arrived, 1) == 0) {
            Latch* latch = wake_slot->latch;
            if (latch != nullptr)
                SetLatch(latch);
        }
        wake_pending = false;
    } else if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT) {
        wake_pending = false;
    }
}

// --- the worker's side ----------------------------------------------------------------------

// The extension's owner, whom the worker's transactions act as (worker_identity.hpp); invalid
// until the extension is found and the worker's role may run it.
Oid acting_owner = InvalidOid;

// Guarded: run_pass commits between steps with C++ objects alive, and an error at commit must
// reach in_transaction (and error recovery) as a PgError, not end the process. An abort gives
// the transaction back its starting user by itself.
void start_transaction() {
    pg_call([] {
        SetCurrentStatementStartTimestamp();
        StartTransactionCommand();
        if (OidIsValid(acting_owner))
            act_as_owner(acting_owner);
        PushActiveSnapshot(GetTransactionSnapshot());
    });
}

void commit_transaction() {
    pg_call([] {
        PopActiveSnapshot();
        if (OidIsValid(acting_owner))
            stop_acting_as_owner();
        CommitTransactionCommand();
        pgstat_report_stat(false);
        pgstat_report_activity(STATE_IDLE, nullptr);
    });
}

// Runs `work` in a transaction of its own. An error is logged and rolled back, and returns its
// message; success returns "".
template <typename F> std::string in_transaction(const char* what, F&& work) {
    pgstat_report_activity(STATE_RUNNING, what);
    std::string failure;
    try {
        start_transaction();
        work();
        commit_transaction();
        return failure;
    } catch (const PgError& e) {
        failure = e.data()->message != nullptr ? e.data()->message : "error";
    } catch (const std::exception& e) {
        failure = e.what();
    } catch (...) {
        failure = "unknown error";
    }
    ereport(LOG, (errmsg("orchestrator worker: %s failed: %s", what, failure.c_str())));
    AbortCurrentTransaction();
    pgstat_report_activity(STATE_IDLE, nullptr);
    return failure;
}

WorkerStanding check_standing() {
    WorkerIdentity identity;
    in_transaction("looking for the extension", [&identity] { identity = look_up_worker_identity(); });
    acting_owner = identity.extension_owner;
    return identity.standing;
}

// A pass; on failure, error recovery with its backoff. Returns when the next pass is due.
TimestampTz heartbeat(int& failures_in_row) {
    const std::string failure = in_transaction("heartbeat", [] {
        run_pass(PassRunner::worker, [] {
            commit_transaction();
            start_transaction();
        });
    });
    if (failure.empty()) {
        failures_in_row = 0;
        return TimestampTzPlusMilliseconds(GetCurrentTimestamp(), settings::heartbeat_interval_ms);
    }
    ++failures_in_row;
    in_transaction("entering error recovery",
                   [&failure] { enter_error_recovery(PassRunner::worker, failure); });
    const core::Duration delay = core::recovery_delay(core::RecoveryPolicy{}, failures_in_row);
    return TimestampTzPlusMilliseconds(
        GetCurrentTimestamp(),
        std::chrono::duration_cast<std::chrono::milliseconds>(delay).count());
}

long milliseconds_until(TimestampTz at, TimestampTz now) {
    return std::max<long>(0, (at - now) / 1000);
}

// The heartbeat lock, held for a whole pass across its transactions (session level).
bool try_heartbeat_lock() {
    bool locked = false;
    in_transaction("taking the heartbeat lock", [&locked] {
        locked = pg_call([] {
            return DatumGetBool(DirectFunctionCall2(pg_try_advisory_lock_int4,
                                                    Int32GetDatum(heartbeat_lock_class),
                                                    Int32GetDatum(heartbeat_lock_key)));
        });
    });
    return locked;
}

void release_heartbeat_lock() {
    in_transaction("releasing the heartbeat lock", [] {
        pg_call([] {
            DirectFunctionCall2(pg_advisory_unlock_int4, Int32GetDatum(heartbeat_lock_class),
                                Int32GetDatum(heartbeat_lock_key));
        });
    });
}

// When the worker next has something to do.
struct Timers {
    TimestampTz heartbeat;
    TimestampTz liveness;
    TimestampTz reaction_allowed = 0;  // reactions are spaced by orchestrator.hint_interval
    std::optional<TimestampTz> due;    // a lease ends, a retry comes due, a breaker cools down
    bool work_waiting = false;         // an enqueue committed since the last reaction
};

// After a heartbeat that started at `since`: what came due during the pass is due at once.
void look_ahead(Timers& timers, TimestampTz since) {
    in_transaction("looking ahead", [&timers, since] {
        SpiConnection spi;
        timers.due = next_due_event(since);
    });
}

// One round of the worker's loop with the extension present; returns how long to sleep.
long run_due_work(Timers& timers, int& failures_in_row) {
    TimestampTz now = GetCurrentTimestamp();
    // The flag is cleared just before the work that answers it, so that commits in between
    // find it set and do not signal again.
    if (pg_atomic_read_u32(&wake_slot->work_arrived) != 0)
        timers.work_waiting = true;
    if (settings::worker_enabled && now >= timers.heartbeat) {
        if (try_heartbeat_lock()) {
            (void)pg_atomic_exchange_u32(&wake_slot->work_arrived, 0); // a full barrier
            const TimestampTz started = GetCurrentTimestamp();
            timers.heartbeat = heartbeat(failures_in_row);
            release_heartbeat_lock();
            timers.work_waiting = false; // the pass sent hints for everything ready
            look_ahead(timers, started);
        } else {
            timers.heartbeat = TimestampTzPlusMilliseconds(now, 1000); // tick() is running
        }
        now = GetCurrentTimestamp();
    }
    const bool due = timers.due && now >= *timers.due;
    if (settings::worker_enabled && (timers.work_waiting || due) && now >= timers.reaction_allowed) {
        (void)pg_atomic_exchange_u32(&wake_slot->work_arrived, 0);
        const std::string failure = in_transaction("reacting to work", [&timers] {
            SpiConnection spi;
            timers.due = react_to_work();
        });
        if (!failure.empty())
            timers.due.reset(); // not again every hint_interval: the heartbeat takes over
        timers.work_waiting = false;
        timers.reaction_allowed = TimestampTzPlusMilliseconds(now, settings::hint_interval_ms);
    }
    if (now >= timers.liveness) {
        in_transaction("recording liveness", [] {
            SpiConnection spi;
            record_liveness(PassRunner::worker);
        });
        timers.liveness = TimestampTzPlusMilliseconds(now, settings::liveness_interval_ms);
    }
    now = GetCurrentTimestamp();
    long wait_ms = milliseconds_until(timers.liveness, now);
    if (settings::worker_enabled) {
        wait_ms = std::min(wait_ms, milliseconds_until(timers.heartbeat, now));
        std::optional<TimestampTz> react_at = timers.due;
        if (timers.work_waiting)
            react_at = now;
        if (react_at)
            wait_ms = std::min(wait_ms, milliseconds_until(
                                            std::max(timers.reaction_allowed, *react_at), now));
    }
    return wait_ms;
}

// Says once, until the standing changes, why the worker is not working.
void tell_standing(WorkerStanding standing) {
    if (standing == WorkerStanding::no_extension)
        ereport(LOG, (errmsg("orchestrator worker: waiting for CREATE EXTENSION orchestrator "
                             "in database \"%s\"",
                             settings::worker_database)));
    else if (standing == WorkerStanding::not_authorized)
        ereport(LOG, (errmsg("orchestrator worker: waiting for role \"%s\" to be granted "
                             "orchestrator_worker",
                             settings::worker_role),
                      errhint("GRANT orchestrator_worker TO %s;", settings::worker_role)));
}

void worker_loop() {
    int failures_in_row = 0;
    Timers timers;
    timers.heartbeat = GetCurrentTimestamp(); // at start: resume a stored pass
    timers.liveness = timers.heartbeat;
    int heartbeat_interval = settings::heartbeat_interval_ms;
    WorkerStanding standing = WorkerStanding::no_extension;
    WorkerStanding told = WorkerStanding::ready; // what the log last said; ready: nothing
    TimestampTz next_standing_check = 0;

    for (;;) {
        CHECK_FOR_INTERRUPTS();
        if (ConfigReloadPending) {
            ConfigReloadPending = false;
            ProcessConfigFile(PGC_SIGHUP);
            if (settings::heartbeat_interval_ms != heartbeat_interval) {
                timers.heartbeat = TimestampTzPlusMilliseconds(
                    timers.heartbeat, settings::heartbeat_interval_ms - heartbeat_interval);
                heartbeat_interval = settings::heartbeat_interval_ms;
            }
        }
        long wait_ms = settings::liveness_interval_ms;
        // Looked up once per liveness interval, not at every wake-up.
        const TimestampTz now = GetCurrentTimestamp();
        if (now >= next_standing_check) {
            standing = check_standing();
            next_standing_check = TimestampTzPlusMilliseconds(now, settings::liveness_interval_ms);
        }
        if (standing == WorkerStanding::ready) {
            told = standing;
            wait_ms = run_due_work(timers, failures_in_row);
        } else if (told != standing) {
            tell_standing(standing);
            told = standing;
        }
        (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, wait_ms,
                        PG_WAIT_EXTENSION);
        ResetLatch(MyLatch);
    }
}

void clear_wake_latch(int, Datum) {
    if (wake_slot != nullptr)
        wake_slot->latch = nullptr;
}

} // namespace

void register_worker() {
    previous_request_hook = shmem_request_hook;
    shmem_request_hook = shmem_request;
    previous_startup_hook = shmem_startup_hook;
    shmem_startup_hook = shmem_startup;

    BackgroundWorker worker;
    std::memset(&worker, 0, sizeof worker);
    worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
    // Not on a standby: the postmaster starts it once recovery has finished (promotion).
    worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
    worker.bgw_restart_time = 5;
    std::strcpy(worker.bgw_library_name, "orchestrator");
    std::strcpy(worker.bgw_function_name, "orchestrator_worker_main");
    std::strcpy(worker.bgw_name, "orchestrator worker");
    std::strcpy(worker.bgw_type, "orchestrator worker");
    RegisterBackgroundWorker(&worker);
}

void wake_worker_at_commit() {
    if (wake_slot == nullptr)
        return;
    if (!wake_callback_registered) {
        pg_call([] { RegisterXactCallback(on_transaction_event, nullptr); });
        wake_callback_registered = true;
    }
    wake_pending = true;
}

} // namespace orchestrator::pg

// The worker's entry point. PostgreSQL errors outside a transaction end the process (FATAL), and
// the postmaster starts it again after bgw_restart_time; inside one they are logged and recovered.
void orchestrator_worker_main(Datum) {
    using namespace orchestrator::pg;
    pqsignal(SIGHUP, SignalHandlerForConfigReload);
    pqsignal(SIGTERM, die);
    BackgroundWorkerUnblockSignals();

    if (settings::worker_role == nullptr || settings::worker_role[0] == '\0') {
        ereport(LOG, (errmsg("orchestrator worker: not started, orchestrator.worker_role is not set"),
                      errhint("Set orchestrator.worker_role to a login role granted "
                              "orchestrator_worker, then restart the server.")));
        proc_exit(0); // exit code 0: the postmaster does not start it again
    }
    BackgroundWorkerInitializeConnection(settings::worker_database, settings::worker_role, 0);
    if (GetUserId() == BOOTSTRAP_SUPERUSERID) {
        ereport(LOG, (errmsg("orchestrator worker: not started, orchestrator.worker_role must not "
                             "be the bootstrap superuser"),
                      errhint("Create a role of its own for the worker.")));
        proc_exit(0);
    }
    wake_slot->latch = MyLatch;
    on_shmem_exit(clear_wake_latch, 0);
    pgstat_report_appname("orchestrator worker");
    try {
        worker_loop();
    } catch (const std::exception& e) {
        ereport(FATAL, (errmsg("orchestrator worker: %s", e.what())));
    }
}
