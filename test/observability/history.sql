-- A day of scripted history on the test clock, for the Prometheus and dashboard checks in
-- test/run_all.sh: the n8n preset's four types and two APIs, tasks every hour, executions that
-- complete (with costs and varied durations), fail, dead-letter, and at the end an open breaker,
-- a paused API, running executions, waiting tasks and open alerts, so every metric family and
-- every chart has data. Deterministic: it depends on nothing but the test clock.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS orchestrator;
CREATE EXTENSION orchestrator;
SET orchestrator.test_now = '2026-06-01 00:00:00+00';
SET orchestrator.test_seed = 42;
SELECT count(*) AS created FROM orchestrator.apply_preset();
-- A small daily budget, so the budget burn chart shows the day's spend approaching it.
SELECT (orchestrator.configure('{"daily_budget_usd": 12}')).daily_budget_usd;

-- Each step commits: a callback's release of what it reserved applies at commit, and the
-- heartbeat's rollup reads what committed.
DO $$
DECLARE
    start CONSTANT timestamptz := '2026-06-01 00:00:00+00';
    h integer;
    n integer;
    at timestamptz;
    ids bigint[];
    sizes integer[];
    name text;
BEGIN
    FOR h IN 0..23 LOOP
        at := start + h * interval '1 hour';
        PERFORM set_config('orchestrator.test_now', at::text, false);
        FOREACH name IN ARRAY ARRAY['content_pipeline', 'seo_monitor', 'revenue_optimizer',
                                    'intelligence_engine'] LOOP
            PERFORM orchestrator.enqueue_batch(name,
                        (SELECT jsonb_agg(jsonb_build_object('hour', h, 'n', i))
                           FROM generate_series(1, 2 + (h * 7 + length(name)) % 6) i));
        END LOOP;
        COMMIT;
        -- Dispatch a minute and a half later; each execution finishes after its own duration.
        at := at + interval '90 seconds';
        PERFORM set_config('orchestrator.test_now', at::text, false);
        SELECT array_agg(e.execution_id ORDER BY e.execution_id),
               array_agg(e.batch_size ORDER BY e.execution_id)
          INTO ids, sizes
          FROM orchestrator.orchestrate_next_execution('sim', 40) e;
        COMMIT;
        FOR n IN 1..coalesce(cardinality(ids), 0) LOOP
            PERFORM set_config('orchestrator.test_now',
                               (at + (n * 5 + (h * 13 + n * 29) % 170) * interval '1 second')::text, false);
            IF (h + n) % 11 = 0 THEN
                PERFORM orchestrator.fail_execution(ids[n], 'upstream <error> & "quote"',
                                                    retryable => false, cost_usd => 0.01);
            ELSIF (h * 3 + n) % 7 = 0 THEN
                PERFORM orchestrator.fail_execution(ids[n], 'timeout', cost_usd => 0.02);
            ELSE
                PERFORM orchestrator.complete_execution(ids[n],
                            cost_usd => round(0.02 * sizes[n] + (h % 5) * 0.013 + n * 0.001, 6));
            END IF;
            COMMIT;
        END LOOP;
        PERFORM set_config('orchestrator.test_now', (start + h * interval '1 hour' + interval '30 minutes')::text, false);
        PERFORM orchestrator.tick();
        COMMIT;
    END LOOP;
END $$;

-- After the day: two intelligence_engine executions keep running past 5 minutes (heartbeated);
-- gemini answers a 429 (paused for 10 minutes); with a breaker threshold of 1, one openai failure
-- opens its breaker (half-open by the last pass); a task waits for tomorrow.
SET orchestrator.test_now = '2026-06-02 00:00:00+00';
SELECT cardinality(orchestrator.enqueue_batch('revenue_optimizer', '[{}, {}, {}, {}, {}]')) AS enqueued;
SELECT cardinality(orchestrator.enqueue_batch('seo_monitor', '[{}, {}, {}]')) AS enqueued;
SELECT orchestrator.enqueue('intelligence_engine', '{"report": "weekly"}',
                            run_after => '2026-06-03 00:00:00+00') > 0 AS enqueued;
SELECT (orchestrator.configure('{"breaker_failure_threshold": 1}')).breaker_failure_threshold;
SET orchestrator.test_now = '2026-06-02 00:01:00+00';
SELECT count(orchestrator.heartbeat_execution(e.execution_id, '1 hour')) AS running
  FROM orchestrator.orchestrate_next_execution('sim', 2, ARRAY['intelligence_engine']) e;
SELECT orchestrator.fail_execution(e.execution_id, 'HTTP 429', api_name => 'gemini',
                                   retry_after => '10 minutes')
  FROM orchestrator.orchestrate_next_execution('sim', 1, ARRAY['seo_monitor']) e;
SELECT orchestrator.fail_execution(e.execution_id, 'HTTP 503', api_name => 'openai')
  FROM orchestrator.orchestrate_next_execution('sim', 1, ARRAY['revenue_optimizer']) e;
SET orchestrator.test_now = '2026-06-02 00:07:00+00';
SELECT orchestrator.tick() AS ran;
SELECT kind, name, state FROM orchestrator.breaker WHERE state <> 'closed' ORDER BY kind, name;
SELECT name, paused_until FROM orchestrator.api WHERE paused_until IS NOT NULL;
SELECT condition, severity FROM orchestrator.list_alerts() ORDER BY condition;
