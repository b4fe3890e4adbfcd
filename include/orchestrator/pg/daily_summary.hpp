#pragma once
// The daily summary alert (core/daily_summary.hpp): the heartbeat's MONITORING step raises it once
// per budget day, with the figures of the day before from metrics().
namespace orchestrator::pg {

// At the first pass of a budget day, resolves the previous summary and raises one for the budget
// day before; the very first pass, and the first after the day boundary moved, only remember
// the day (worker_state.summary_day). Returns whether it raised a summary. SPI connected.
bool summarize_day_if_due();

} // namespace orchestrator::pg
