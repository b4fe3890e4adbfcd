#pragma once
// Per-minute metric rollups (orchestrator.metric_minute).
namespace orchestrator::pg {

// Recomputes the rollups of the finished minutes since the last rollup, and always of the last
// 15 (a callback that commits late still counts), at most one day back. SPI connected.
void roll_up_metrics();

} // namespace orchestrator::pg
