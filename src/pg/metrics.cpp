#include "orchestrator/pg/metrics.hpp"

#include "orchestrator/core/latency.hpp"
#include "orchestrator/pg/clock.hpp"
#include "orchestrator/pg/spi.hpp"

#include <boost/container/flat_map.hpp>
#include <string>
#include <utility>
#include <vector>

namespace orchestrator::pg {

namespace {

constexpr auto always_recomputed = core::minutes(15);
constexpr auto furthest_back = core::minutes(24 * 60);

Statement rolled_up_to_statement(
    "SELECT metrics_rolled_up_to FROM orchestrator.worker_state", {});

// $1, $2: the window [from, to); $3 the latency bounds. Executions by the minute they finished.
Statement executions_statement(
    "SELECT date_trunc('minute', e.finished_at), e.workflow_type, count(*)::integer,"
    "       (count(*) FILTER (WHERE e.status IN ('failed', 'expired')))::integer,"
    "       coalesce(sum(e.cost_usd), 0)::float8, coalesce(sum(e.duration_ms), 0)::bigint"
    "  FROM orchestrator.workflow_orchestration e"
    " WHERE e.created_at >= $1 - interval '1 day' AND e.finished_at >= $1 AND e.finished_at < $2"
    "   AND e.workflow_type <> 'orchestrator'"
    " GROUP BY 1, 2",
    {TIMESTAMPTZOID, TIMESTAMPTZOID});

Statement run_histogram_statement(
    "SELECT date_trunc('minute', e.finished_at), e.workflow_type,"
    "       width_bucket(coalesce(e.duration_ms, 0)::float8, $3), count(*)::integer"
    "  FROM orchestrator.workflow_orchestration e"
    " WHERE e.created_at >= $1 - interval '1 day' AND e.finished_at >= $1 AND e.finished_at < $2"
    "   AND e.workflow_type <> 'orchestrator'"
    " GROUP BY 1, 2, 3",
    {TIMESTAMPTZOID, TIMESTAMPTZOID, FLOAT8ARRAYOID});

// Tasks by the minute they finished, with the wait from enqueue to their last dispatch (its sum
// in microseconds, exact).
Statement tasks_statement(
    "SELECT date_trunc('minute', t.finished_at), w.name,"
    "       (count(*) FILTER (WHERE t.state = 'succeeded'))::integer,"
    "       (count(*) FILTER (WHERE t.state = 'dead_letter'))::integer,"
    "       width_bucket(coalesce(extract(epoch FROM t.dispatched_at - t.created_at) * 1000, 0)::float8, $3),"
    "       count(*) FILTER (WHERE t.dispatched_at IS NOT NULL)::integer,"
    "       coalesce(sum((extract(epoch FROM t.dispatched_at - t.created_at) * 1000000)::bigint),"
    "                0)::bigint"
    "  FROM orchestrator.task t JOIN orchestrator.workflow_type w ON w.id = t.workflow_type_id"
    " WHERE t.finished_at >= $1 AND t.finished_at < $2 AND t.state IN ('succeeded', 'dead_letter')"
    " GROUP BY 1, 2, 5",
    {TIMESTAMPTZOID, TIMESTAMPTZOID, FLOAT8ARRAYOID});

Statement clear_statement(
    "DELETE FROM orchestrator.metric_minute WHERE minute >= $1 AND minute < $2",
    {TIMESTAMPTZOID, TIMESTAMPTZOID});

// One row per (minute, type): the histograms come as flat arrays, latency_buckets per row; the
// waits' sum comes in microseconds.
Statement insert_statement(
    "INSERT INTO orchestrator.metric_minute"
    " SELECT r.minute, r.workflow_type, r.executions, r.failed, r.succeeded, r.dead, r.cost,"
    "        $8[(r.n - 1) * $10 + 1 : r.n * $10], $9[(r.n - 1) * $10 + 1 : r.n * $10],"
    "        r.run_sum, round(r.wait_us_sum / 1000.0, 3)"
    "   FROM unnest($1::timestamptz[], $2::text[], $3::integer[], $4::integer[], $5::integer[],"
    "               $6::integer[], $7::float8[], $11::bigint[], $12::bigint[]) WITH ORDINALITY"
    "        r(minute, workflow_type, executions, failed, succeeded, dead, cost, run_sum,"
    "          wait_us_sum, n)",
    {TIMESTAMPTZARRAYOID, TEXTARRAYOID, INT4ARRAYOID, INT4ARRAYOID, INT4ARRAYOID, INT4ARRAYOID,
     FLOAT8ARRAYOID, INT4ARRAYOID, INT4ARRAYOID, INT4OID, INT8ARRAYOID, INT8ARRAYOID});

// Minutes no rollup recomputes any more go into the monotone totals (metric_total).
Statement seal_statement("SELECT orchestrator._seal_metric_totals($1)", {TIMESTAMPTZOID});

Statement watermark_statement(
    "UPDATE orchestrator.worker_state SET metrics_rolled_up_to = $1", {TIMESTAMPTZOID});

struct Minute {
    std::int32_t executions = 0;
    std::int32_t failed = 0;
    std::int32_t succeeded = 0;
    std::int32_t dead = 0;
    double cost = 0;
    std::int64_t run_sum = 0;
    std::int64_t wait_us_sum = 0;
    std::vector<std::int32_t> run = std::vector<std::int32_t>(core::latency_buckets, 0);
    std::vector<std::int32_t> wait = std::vector<std::int32_t>(core::latency_buckets, 0);
};

using Key = std::pair<TimestampTz, std::string>;

void count_into(std::vector<std::int32_t>& histogram, std::int32_t bucket, std::int32_t n) {
    const auto b = static_cast<std::size_t>(std::max<std::int32_t>(bucket, 0));
    histogram[std::min(b, histogram.size() - 1)] += n;
}

} // namespace

void roll_up_metrics() {
    const core::TimePoint now = server_clock().now();
    const core::TimePoint this_minute = core::TimePoint(
        std::chrono::duration_cast<core::Duration>(std::chrono::floor<std::chrono::minutes>(
            now.time_since_epoch())));
    core::TimePoint from = this_minute - always_recomputed;
    Rows mark = rolled_up_to_statement.run({});
    if (mark.size() == 1 && !mark.is_null(0, 1))
        from = std::min(from, from_timestamptz(mark.get_timestamptz(0, 1)));
    from = std::max(from, this_minute - furthest_back);
    const SqlParam from_p = timestamptz_param(to_timestamptz(from));
    const SqlParam to_p = timestamptz_param(to_timestamptz(this_minute));
    const SqlParam bounds = float8_array_param(
        std::vector<double>(core::latency_bounds_ms.begin(), core::latency_bounds_ms.end()));

    boost::container::flat_map<Key, Minute> minutes;
    Rows e = executions_statement.run({from_p, to_p}, true);
    for (std::uint64_t i = 0; i < e.size(); ++i) {
        Minute& m = minutes[{e.get_timestamptz(i, 1), e.get_text(i, 2)}];
        m.executions = e.get_int32(i, 3);
        m.failed = e.get_int32(i, 4);
        m.cost = e.get_float8(i, 5);
        m.run_sum = e.get_int64(i, 6);
    }
    Rows r = run_histogram_statement.run({from_p, to_p, bounds}, true);
    for (std::uint64_t i = 0; i < r.size(); ++i)
        count_into(minutes[{r.get_timestamptz(i, 1), r.get_text(i, 2)}].run, r.get_int32(i, 3),
                   r.get_int32(i, 4));
    Rows t = tasks_statement.run({from_p, to_p, bounds}, true);
    for (std::uint64_t i = 0; i < t.size(); ++i) {
        Minute& m = minutes[{t.get_timestamptz(i, 1), t.get_text(i, 2)}];
        m.succeeded += t.get_int32(i, 3);
        m.dead += t.get_int32(i, 4);
        count_into(m.wait, t.get_int32(i, 5), t.get_int32(i, 6));
        m.wait_us_sum += t.get_int64(i, 7);
    }

    std::vector<TimestampTz> at;
    std::vector<const char*> types;
    std::vector<std::int32_t> executions, failed, succeeded, dead, run, wait;
    std::vector<double> cost;
    std::vector<std::int64_t> run_sum, wait_us_sum;
    for (const auto& [key, m] : minutes) {
        at.push_back(key.first);
        types.push_back(key.second.c_str());
        executions.push_back(m.executions);
        failed.push_back(m.failed);
        succeeded.push_back(m.succeeded);
        dead.push_back(m.dead);
        cost.push_back(m.cost);
        run_sum.push_back(m.run_sum);
        wait_us_sum.push_back(m.wait_us_sum);
        run.insert(run.end(), m.run.begin(), m.run.end());
        wait.insert(wait.end(), m.wait.begin(), m.wait.end());
    }
    clear_statement.run({from_p, to_p});
    if (!at.empty())
        insert_statement.run({timestamptz_array_param(at), text_array_param(types),
                              int32_array_param(executions), int32_array_param(failed),
                              int32_array_param(succeeded), int32_array_param(dead),
                              float8_array_param(cost), int32_array_param(run),
                              int32_array_param(wait),
                              int32_param(static_cast<std::int32_t>(core::latency_buckets)),
                              int64_array_param(run_sum), int64_array_param(wait_us_sum)});
    watermark_statement.run({to_p});
    seal_statement.run({timestamptz_param(to_timestamptz(this_minute - furthest_back))});
}

} // namespace orchestrator::pg
