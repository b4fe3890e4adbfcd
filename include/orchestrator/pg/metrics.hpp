#pragma once
// Per-minute metric rollups (orchestrator.metric_minute).
namespace orchestrator::pg {

// Recomputes the rollups of the finished minutes since the last rollup, and always of the last
// 15 (a callback that commits late still counts), at most one day back, then adds the minutes
// older than that to the monotone totals (metric_total). SPI connected.
void roll_up_metrics();

} // namespace orchestrator::pg
