-- dashboard_html(): the executive dashboard of a scripted history on the test clock. The figures
-- behind the charts (per bucket) and the page's tiles, chart points and tables are checked
-- against values worked out by hand; database text is escaped; bad arguments are refused.
-- (test/run_all.sh renders a richer history in headless Chromium.)
CREATE EXTENSION orchestrator;
SET orchestrator.test_now = '2026-05-04 10:00:00+00';
SELECT (orchestrator.configure('{"daily_budget_usd": 2}')).daily_budget_usd;
SELECT orchestrator.register_workflow_type('m', batch_max => 2, max_attempts => 1) > 0 AS registered;
SELECT orchestrator.register_api('gemini', 60) > 0 AS registered;
\i sql/helpers/first_two_executions.sql
-- Another task is left ready.
SELECT orchestrator.enqueue('m', '{"n": 5}') > 0 AS enqueued;
-- gemini's breaker is written open (only its state matters here).
INSERT INTO orchestrator.breaker (kind, name, state, consecutive_failures, opened_at, updated_at)
VALUES ('api', 'gemini', 'open', 5, orchestrator.now(), orchestrator.now());
SET orchestrator.test_now = '2026-05-04 10:05:00+00';
SELECT orchestrator.tick() AS ran;
-- An open alert whose text tries to inject markup.
INSERT INTO orchestrator.alert (condition, severity, message, raised_at)
VALUES ('<b>cond</b>', 'warning', '<script>alert("x")</script> & ''more''', orchestrator.now());

-- The buckets of the default 24 hours: 1 hour each, the last from 10:00 (it holds now). By hand,
-- the 10:00 bucket: 2 executions, 1 failed, 2 tasks succeeded and 2 dead-lettered, $0.35, the
-- day's spend $0.35 at its end; the others are empty.
SELECT i, label, executions, executions_failed, tasks_succeeded, tasks_dead_lettered, cost_usd,
       day_spend_usd,
       orchestrator.latency_percentile(run_ms, 50) AS run_p50,
       orchestrator.latency_percentile(run_ms, 95) AS run_p95,
       orchestrator.latency_percentile(wait_ms, 99) AS wait_p99
  FROM orchestrator._dashboard_buckets('2026-05-03 11:00:00+00', '1 hour', 24)
 WHERE i IN (0, 22, 23);

SELECT orchestrator.dashboard_html() AS page \gset
-- The tiles. By hand: 4 tasks finished; 1 of 2 executions succeeded (50 %); p95 of 20 s and
-- 65 s is the 65 s bucket's bound, 120 s; cost per task $0.35 / 4 = $0.0875; budget $0.35 of $2;
-- 1 ready task; 1 open alert (a warning); the heartbeat idle.
SELECT m[1] AS tile, m[2] AS label, m[3] AS value
  FROM regexp_matches(:'page', '<div class="tile ([a-z]+)"><div class="label">([^<]*)</div><div class="value">([^<]*)</div>', 'g') m;
-- The charts, in order.
SELECT m[1] AS chart, m[2] AS title
  FROM regexp_matches(:'page', '<svg class="chart" data-chart="([a-z_]+)" role="img" aria-label="([^"]*)"', 'g') m;
-- Every point drawn that is not zero, with its bucket, series and value (hover titles). By hand:
-- throughput 2 and 2 at 10:00; success 50 %; latency p50 30 s (A's bucket bound), p95 and
-- p99 120 s; wait p50, p95, p99 120 s; cost per task 0.0875; budget burn 0.35 in the 10:00
-- bucket (the limit, 2, is a dashed line without points); the queue: 1 ready task of m and its
-- 2 dead letters.
SELECT t, count(*)
  FROM (SELECT m[1] AS t FROM regexp_matches(:'page', '<title>([^<]*)</title>', 'g') m) x
 WHERE t !~ ': (0|–)$' AND t <> 'Orchestrator dashboard'
 GROUP BY t ORDER BY min(strpos(:'page', '<title>' || t || '</title>')), t;
-- The first three cells of every table row: breakers, the alert (escaped: its markup is text),
-- health (but the database connections, which vary).
SELECT m[1] AS first, m[2] AS second, m[3] AS third
  FROM regexp_matches(:'page', '<tr><td[^>]*>([^<]*)</td><td[^>]*>([^<]*)</td><td[^>]*>([^<]*)</td>', 'g') m
 WHERE m[1] <> 'database';
SELECT strpos(:'page', '<script') AS script_at, strpos(:'page', '<b>') AS markup_at,
       strpos(:'page', 'src=') + strpos(:'page', 'href=') + strpos(:'page', 'url(') AS references_at,
       :'page' LIKE '<!DOCTYPE html>%</html>' AS whole_page;

-- With hours => 1 the buckets are 2.5 minutes long, from 09:07:30 to 10:07:30.
SELECT substring(orchestrator.dashboard_html(1) FROM '<p class="sub">([^<]*)</p>') AS subtitle;

-- Bad arguments are refused.
\set VERBOSITY sqlstate
SELECT orchestrator.dashboard_html(0);
SELECT orchestrator.dashboard_html(721);
SELECT orchestrator.dashboard_html(NULL);
SELECT orchestrator._svg_chart('x', 'x', ARRAY['a'], '[]', 'pie');
SELECT orchestrator._svg_chart('x', 'x', ARRAY['a'], '{}');
\set VERBOSITY default

RESET orchestrator.test_now;
DROP EXTENSION orchestrator;
