#pragma once
// The lease timeout: executions whose lease has passed are ended as expired, their tasks retried
// (or dead-lettered) and any later callback for them refused.
namespace orchestrator::pg {

// Expires up to `limit` executions whose lease has passed; returns how many. SPI connected.
int expire_leases(int limit);

} // namespace orchestrator::pg
