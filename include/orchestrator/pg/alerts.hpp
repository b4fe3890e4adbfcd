#pragma once
// The heartbeat's alerts: observations from the tables, the core's rules, the alert table and
// NOTIFY on orchestrator.alerts_channel for every alert raised or resolved.
namespace orchestrator::pg {

// Evaluates the rules now: raises what holds and is not open, resolves what is open and no
// longer holds. Run before this pass records liveness (the silence is measured up to now).
// Returns the number of alerts raised plus resolved. SPI connected.
int evaluate_alerts_now();

} // namespace orchestrator::pg
