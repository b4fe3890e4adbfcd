#pragma once
// Recurring work (core/schedule.hpp; the table orchestrator.schedule).
namespace orchestrator::pg {

// Enqueues one task for each schedule whose latest slot has not been enqueued yet; returns how
// many. Each slot's task carries the idempotency key "schedule:<slot in epoch seconds>", so a
// slot is enqueued once even if its record were lost. SPI connected.
int enqueue_due_schedules();

} // namespace orchestrator::pg
