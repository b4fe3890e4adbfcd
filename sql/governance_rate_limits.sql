-- Rate limits per API: a token bucket of `burst` calls refilled at calls_per_minute/60 per
-- second, and never more than calls_per_minute calls in any minute. Batches shrink to what the
-- buckets allow (limited_by 'api:NAME'); a 429's retry-after pauses the API; resume_api lifts the
-- pause; calls reported back by complete_execution correct the window.
CREATE EXTENSION orchestrator;
SET TimeZone = 'UTC';

-- The governance tests' shared helpers (run from the repository root, as the test command does).
\i sql/helpers/governance_helpers.sql

-- Executions in this file hold no connections or memory: only the rate limits govern.
-- An API of 10 calls per minute, burst 5; a type making one call per task, batches up to 10.
SELECT pg_temp.at('2026-03-02 10:00:00+00') IS NOT NULL AS clock_set;
SELECT orchestrator.register_api('llm', 10, 5) > 0 AS registered;
SELECT orchestrator.register_workflow_type('writer', batch_max => 10, db_connections => 0,
                                           memory_mb => 0) > 0 AS registered;
SELECT orchestrator.set_workflow_type_apis('writer', '{"llm": 1}');
SELECT pg_temp.fill('writer', 200);

-- The full bucket: one batch of 5, limited by the API; asking for more executions gets no more.
SELECT * FROM pg_temp.d(10, '{writer}');
SELECT * FROM pg_temp.d(10, '{writer}');
-- 3 s refill half a token: nothing. 6 s refill one: a batch of one.
SELECT pg_temp.at('2026-03-02 10:00:03+00') IS NOT NULL AS clock_set;
SELECT * FROM pg_temp.d(10, '{writer}');
SELECT pg_temp.at('2026-03-02 10:00:06+00') IS NOT NULL AS clock_set;
SELECT * FROM pg_temp.d(10, '{writer}');
-- 30 s later the bucket is full again (5), but only 4 calls are left in this minute (6 taken).
SELECT pg_temp.at('2026-03-02 10:00:36+00') IS NOT NULL AS clock_set;
SELECT * FROM pg_temp.d(10, '{writer}');
SELECT * FROM pg_temp.d(10, '{writer}');
-- Once the first 5 calls are more than a minute old: the bucket is full again (1 left + 25 s of
-- refill, capped at 5) and 5 calls are left in the last minute.
SELECT pg_temp.at('2026-03-02 10:01:01+00') IS NOT NULL AS clock_set;
SELECT * FROM pg_temp.d(10, '{writer}');

-- Three minutes of dispatching every second: 5 + 1 + 4 tasks per cycle of 61 s (25 tasks in 8
-- dispatches), never more than 10 calls within any 60 seconds, and the limit is used.
CREATE TEMP TABLE sim (second int, tasks int);
DO $$
BEGIN
    FOR s IN 2 .. 181 LOOP
        PERFORM pg_temp.at('2026-03-02 10:01:00+00'::timestamptz + s * interval '1 second');
        INSERT INTO sim SELECT s, coalesce(sum(d.batch_size), 0) FROM pg_temp.d(10, '{writer}') d;
    END LOOP;
END $$;
SELECT sum(tasks) AS tasks_in_3_minutes, count(*) FILTER (WHERE tasks > 0) AS dispatching_seconds
  FROM sim;
-- Every execution of the type so far, each window of 60 s starting at one of them.
SELECT max(w.calls) AS most_calls_in_any_60s
  FROM orchestrator.workflow_orchestration a
 CROSS JOIN LATERAL (SELECT sum((b.api_calls ->> 'llm')::int) AS calls
                       FROM orchestrator.workflow_orchestration b
                      WHERE b.workflow_type = 'writer' AND b.created_at >= a.created_at
                        AND b.created_at < a.created_at + interval '60 seconds') w
 WHERE a.workflow_type = 'writer';
SELECT bool_and(batch_size = (api_calls ->> 'llm')::int) AS one_call_per_task,
       bool_and(limited_by = 'api:llm') AS all_limited_by_llm
  FROM orchestrator.workflow_orchestration WHERE workflow_type = 'writer';

-- A type making 2 calls per task: 10 tokens make a batch of 5; 6 s refill one token, not enough
-- for a task.
SELECT pg_temp.at('2026-03-02 11:00:00+00') IS NOT NULL AS clock_set;
SELECT orchestrator.register_api('big', 10, 10) > 0 AS registered;
SELECT orchestrator.register_workflow_type('summarizer', batch_max => 10, db_connections => 0,
                                           memory_mb => 0) > 0 AS registered;
SELECT orchestrator.set_workflow_type_apis('summarizer', '{"big": 2}');
SELECT pg_temp.fill('summarizer', 20);
SELECT * FROM pg_temp.d(10, '{summarizer}');
SELECT api_calls FROM orchestrator.workflow_orchestration WHERE id = pg_temp.last('summarizer');
SELECT pg_temp.at('2026-03-02 11:00:06+00') IS NOT NULL AS clock_set;
SELECT * FROM pg_temp.d(10, '{summarizer}');
-- 12 s refill two tokens, but the minute's 10 calls are used: nothing until 11:00:00 is more
-- than a minute ago; then the full bucket again.
SELECT pg_temp.at('2026-03-02 11:00:12+00') IS NOT NULL AS clock_set;
SELECT * FROM pg_temp.d(10, '{summarizer}');
SELECT pg_temp.at('2026-03-02 11:01:01+00') IS NOT NULL AS clock_set;
SELECT * FROM pg_temp.d(10, '{summarizer}');

-- Two APIs: the tighter one (narrow: burst 3) names the limit, and the other gives only what was
-- used (3 of wide's 8 tokens: a type using wide alone then gets 5).
SELECT pg_temp.at('2026-03-02 12:00:00+00') IS NOT NULL AS clock_set;
SELECT orchestrator.register_api('wide', 100, 8) > 0 AS registered;
SELECT orchestrator.register_api('narrow', 10, 3) > 0 AS registered;
SELECT orchestrator.register_workflow_type('combo', batch_max => 10, db_connections => 0,
                                           memory_mb => 0) > 0 AS registered;
SELECT orchestrator.register_workflow_type('wide_only', batch_max => 10, db_connections => 0,
                                           memory_mb => 0) > 0 AS registered;
SELECT orchestrator.set_workflow_type_apis('combo', '{"wide": 1, "narrow": 1}');
SELECT orchestrator.set_workflow_type_apis('wide_only', '{"wide": 1}');
SELECT pg_temp.fill('combo', 20), pg_temp.fill('wide_only', 20);
SELECT * FROM pg_temp.d(10, '{combo}');
SELECT api_calls FROM orchestrator.workflow_orchestration WHERE id = pg_temp.last('combo');
SELECT * FROM pg_temp.d(10, '{wide_only}');

-- A 429 with retry-after pauses the API: nothing is dispatched for it until the pause has passed.
SELECT pg_temp.at('2026-03-02 13:00:00+00') IS NOT NULL AS clock_set;
SELECT orchestrator.register_api('flaky', 60, 60) > 0 AS registered;
SELECT orchestrator.register_workflow_type('caller', db_connections => 0, memory_mb => 0) > 0 AS registered;
SELECT orchestrator.set_workflow_type_apis('caller', '{"flaky": 1}');
SELECT pg_temp.fill('caller', 10);
SELECT * FROM pg_temp.d(1, '{caller}');
SELECT orchestrator.fail_execution(pg_temp.last('caller'), 'HTTP 429', api_name => 'flaky',
                                   retry_after => '2 minutes');
SELECT paused_until FROM orchestrator.api WHERE name = 'flaky';
SELECT * FROM pg_temp.d(1, '{caller}');
SELECT pg_temp.at('2026-03-02 13:01:59+00') IS NOT NULL AS clock_set;
SELECT * FROM pg_temp.d(1, '{caller}');
SELECT pg_temp.at('2026-03-02 13:02:00+00') IS NOT NULL AS clock_set;
SELECT * FROM pg_temp.d(1, '{caller}');
SELECT orchestrator.complete_execution(pg_temp.last('caller'));
-- Another 429, 10 minutes; resume_api lifts the pause at once.
SELECT * FROM pg_temp.d(1, '{caller}');
SELECT orchestrator.fail_execution(pg_temp.last('caller'), 'HTTP 429', api_name => 'flaky',
                                   retry_after => '10 minutes');
SELECT * FROM pg_temp.d(1, '{caller}');
SELECT orchestrator.resume_api('flaky');
SELECT paused_until FROM orchestrator.api WHERE name = 'flaky';
SELECT * FROM pg_temp.d(1, '{caller}');
SELECT action, target, old_value, new_value FROM orchestrator.audit_log
 WHERE action = 'resume_api';

-- Reporting fewer calls than reserved gives the rest back: 4 reserved, 1 used, 3 come back.
SELECT pg_temp.at('2026-03-02 14:00:00+00') IS NOT NULL AS clock_set;
SELECT orchestrator.register_api('meter', 10, 4) > 0 AS registered;
SELECT orchestrator.register_workflow_type('meterer', batch_max => 10, db_connections => 0,
                                           memory_mb => 0) > 0 AS registered;
SELECT orchestrator.set_workflow_type_apis('meterer', '{"meter": 1}');
SELECT pg_temp.fill('meterer', 20);
SELECT * FROM pg_temp.d(10, '{meterer}');
SELECT * FROM pg_temp.d(10, '{meterer}');
-- An unknown API in the report is refused and the execution stays running.
SELECT pg_temp.e(format('SELECT orchestrator.complete_execution(%s, api_calls => ''{"nope": 1}'')',
                        pg_temp.last('meterer')));
SELECT pg_temp.e(format('SELECT orchestrator.complete_execution(%s, api_calls => ''{"meter": 1.5}'')',
                        pg_temp.last('meterer')));
SELECT count(*) AS running FROM orchestrator.workflow_orchestration
 WHERE workflow_type = 'meterer' AND status = 'running';
SELECT orchestrator.complete_execution(pg_temp.last('meterer'), api_calls => '{"meter": 1}');
SELECT api_calls FROM orchestrator.workflow_orchestration
 WHERE workflow_type = 'meterer' AND status = 'completed';
SELECT * FROM pg_temp.d(10, '{meterer}');
SELECT * FROM pg_temp.d(10, '{meterer}');

-- A type whose API has no tokens left is skipped; another type is dispatched meanwhile.
SELECT pg_temp.at('2026-03-02 15:00:00+00') IS NOT NULL AS clock_set;
SELECT orchestrator.register_api('scarce', 1, 1) > 0 AS registered;
SELECT orchestrator.register_workflow_type('blocked', db_connections => 0, memory_mb => 0) > 0 AS registered;
SELECT orchestrator.register_workflow_type('free', db_connections => 0, memory_mb => 0) > 0 AS registered;
SELECT orchestrator.set_workflow_type_apis('blocked', '{"scarce": 1}');
SELECT pg_temp.fill('blocked', 5), pg_temp.fill('free', 5);
SELECT * FROM pg_temp.d(1, '{blocked}');
SELECT workflow_type, count(*) AS executions, sum(batch_size) AS tasks
  FROM pg_temp.d(10, '{blocked,free}') GROUP BY 1 ORDER BY 1;
SELECT count(*) AS blocked_still_queued FROM orchestrator.task t
  JOIN orchestrator.workflow_type w ON w.id = t.workflow_type_id
 WHERE w.name = 'blocked' AND t.state = 'queued';

RESET orchestrator.test_now;
DROP EXTENSION orchestrator;
