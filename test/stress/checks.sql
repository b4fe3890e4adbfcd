-- The governance invariants, proved over what the orchestrator recorded: one row per invariant
-- with `holds` and the worst value measured, then one line per invariant ("ok - ..." or
-- "not ok - ..."), and last "failed invariants: N". Used by test/stress/run.sh and by the demo's
-- workload driver (examples/demo/drive.py); both fail unless N = 0. Run it after every execution
-- has finished.
--
-- psql variables:
--   harness  the schema of the caller's own records (default stress): enqueued (task_id, every
--            task it enqueued in the scope), callback_error (at, execution_id, action, sqlstate,
--            message: callbacks the orchestrator refused), pause_log (execution_id, api, t,
--            retry_after: every HTTP 429 reported, at the callback's clock)
--   since    the scope: executions and tasks created at or after it (default -infinity). Spend
--            of the same budget day from before it counts against the budgets too.
--
-- Time model: an execution is running over [created_at, finished_at), created_at being its
-- dispatch time and finished_at its callback's (or expiry's); both are the transaction start
-- times the extension records. "At every dispatch instant" means at every execution's
-- created_at, which is where the running sums can grow.
\set ON_ERROR_STOP 1
\pset footer off
SET client_min_messages = warning;
\if :{?harness}
\else
\set harness stress
\endif
\if :{?since}
\else
\set since -infinity
\endif

CREATE TEMP TABLE check_result (
    ord serial,
    invariant text NOT NULL,
    holds boolean NOT NULL,
    worst text
);

-- The executions (not the dispatch passes, workflow_type 'orchestrator'), with the commit times
-- of their dispatch (dc: the dispatch pass row, never updated, shares the dispatch's
-- transaction) and of their finish (fc: the row's last writer is the callback or the expiry),
-- when the server has track_commit_timestamp = on.
SELECT current_setting('track_commit_timestamp') = 'on' AS have_commit_ts \gset
CREATE TEMP TABLE ex AS
SELECT e.*, coalesce(e.finished_at, 'infinity') AS until,
       CASE WHEN :'have_commit_ts'::boolean THEN pg_xact_commit_timestamp(p.xmin) ELSE e.created_at END AS dc,
       CASE WHEN e.status = 'running' THEN 'infinity'
            WHEN :'have_commit_ts'::boolean THEN pg_xact_commit_timestamp(e.xmin) ELSE e.finished_at END AS fc
  FROM orchestrator.workflow_orchestration e
  LEFT JOIN orchestrator.workflow_orchestration p ON p.id = e.parent_id
 WHERE e.workflow_type <> 'orchestrator' AND e.created_at >= :'since';
CREATE INDEX ON ex (created_at);
ANALYZE ex;

-- Calls per API per execution: those reserved at dispatch, or those the callback reported.
CREATE TEMP TABLE api_use AS
SELECT a.name AS api, a.calls_per_minute, a.burst, e.id, e.created_at AS t,
       (e.api_calls ->> a.name)::integer AS calls
  FROM ex e JOIN orchestrator.api a ON e.api_calls ? a.name;

-- 1. Rate limits: every window [t, t + 60 s) starting at a dispatch holds at most
-- calls_per_minute calls of each API.
INSERT INTO check_result (invariant, holds, worst)
SELECT format('rate limit %s: calls in any 60 s window <= %s', a.name, a.calls_per_minute),
       coalesce(max(w.calls), 0) <= a.calls_per_minute,
       format('max %s calls in a window (from %s), %s calls in all',
              coalesce(max(w.calls), 0),
              coalesce((array_agg(w.t::time(3)::text ORDER BY w.calls DESC, w.t))[1], '-'),
              (SELECT coalesce(sum(u.calls), 0) FROM api_use u WHERE u.api = a.name))
  FROM orchestrator.api a
  LEFT JOIN LATERAL (
        SELECT s.t, (SELECT sum(u.calls) FROM api_use u
                      WHERE u.api = a.name AND u.t >= s.t AND u.t < s.t + interval '60 seconds') AS calls
          FROM (SELECT DISTINCT u.t FROM api_use u WHERE u.api = a.name) s) w ON true
 GROUP BY a.name, a.calls_per_minute
 ORDER BY a.name;

-- 1b. (extra) Token bucket: between any two dispatches t1 <= t2, at most
-- burst + calls_per_minute * (t2 - t1) / 60 s calls (the bucket starts full and refills
-- continuously). t is the dispatch's transaction start; the bucket refills to the latest time
-- any dispatch brought to it (its clock never runs back), which for the dispatch at t2 can be
-- the start of one that began after t2 and reserved first: up to t2's own time to its
-- reservation later. So the bound is checked with 50 ms of refill to spare (0.04 calls at
-- 50/min; seen: 0.00001, a 12 µs gap); a limiter that grants a call too many exceeds it by more.
INSERT INTO check_result (invariant, holds, worst)
SELECT format('token bucket %s: calls in [t1, t2] <= %s + %s/min * (t2 - t1 + 50 ms)', a.name,
              a.burst, a.calls_per_minute),
       coalesce(max(b.excess), -1) <= a.calls_per_minute * 0.05 / 60,
       format('worst excess over the bound %s calls (%s calls in %s s)',
              round(coalesce(max(b.excess), 0), 3),
              coalesce((array_agg(b.calls ORDER BY b.excess DESC))[1], 0),
              coalesce(round((array_agg(b.span ORDER BY b.excess DESC))[1], 3), 0))
  FROM orchestrator.api a
  LEFT JOIN LATERAL (
        WITH per_t AS (
            SELECT u.t, sum(u.calls) AS calls FROM api_use u WHERE u.api = a.name GROUP BY u.t),
        cum AS (
            SELECT p.t, p.calls, sum(p.calls) OVER (ORDER BY p.t) AS upto FROM per_t p)
        SELECT c2.upto - c1.upto + c1.calls AS calls,
               extract(epoch FROM c2.t - c1.t) AS span,
               c2.upto - c1.upto + c1.calls
                 - (a.burst + a.calls_per_minute * extract(epoch FROM c2.t - c1.t) / 60) AS excess
          FROM cum c1 JOIN cum c2 ON c2.t >= c1.t) b ON true
 GROUP BY a.name, a.burst, a.calls_per_minute
 ORDER BY a.name;

-- 2-4. Budgets and caps at every dispatch instant. Two measures per dispatch D:
--
-- * by timestamps (the plain reading): X counts as running at D when
--   X.created_at <= D.created_at < X.finished_at, as finished before D when
--   X.finished_at <= D.created_at.
-- * certain: the recorded timestamps are transaction starts, while the extension reserves in
--   the middle of the dispatch transaction (somewhere in [D.created_at, D.dc]) and releases
--   after the callback's commit (after X.fc). Where the order of D's reservation and X's
--   reservation or release is not decided by the records, X counts with the smallest value it
--   could have had at that moment (not yet reserved: 0; released: its cost, 0 for resources;
--   holding: its reservation). This is a lower bound of what the extension saw, so a certain
--   value over the limit is a real violation; a plain reading over it with the certain one
--   within is an ordering ambiguity of a few milliseconds (reported, not failed).
-- `holds` is on the certain measure; `worst` shows both.
CREATE TEMP TABLE pair AS
SELECT d.id AS d_id, d.created_at AS t, x.id AS x_id, x.workflow_type, x.reserved_cost_usd,
       coalesce(x.cost_usd, 0) AS cost, least(coalesce(x.cost_usd, 0), x.reserved_cost_usd) AS least_cost,
       x.db_connections, x.memory_mb,
       -- plain reading
       (x.created_at <= d.created_at AND d.created_at < x.until) AS ts_running,
       (x.status <> 'running' AND x.finished_at <= d.created_at
        AND x.finished_at >= orchestrator.budget_day_start(d.created_at)) AS ts_spent,
       -- certain reading
       CASE WHEN x.id = d.id THEN 'holding'
            WHEN coalesce(x.dc, 'infinity') > d.created_at THEN 'maybe_unreserved'
            WHEN x.fc < coalesce(d.dc, 'infinity') THEN 'maybe_released'
            ELSE 'holding' END AS certain_state,
       (x.status <> 'running' AND x.finished_at >= orchestrator.budget_day_start(d.created_at)) AS same_day
  FROM ex d CROSS JOIN ex x;

-- Spend before the scope, per budget day and type: executions that finished before `since`
-- (those still running across it are left out, which keeps the sums lower bounds).
CREATE TEMP TABLE prior_spend AS
SELECT orchestrator.budget_day_start(o.finished_at) AS day, o.workflow_type,
       sum(coalesce(o.cost_usd, 0)) AS cost,
       sum(least(coalesce(o.cost_usd, 0), o.reserved_cost_usd)) AS least_cost
  FROM orchestrator.workflow_orchestration o
 WHERE o.workflow_type <> 'orchestrator' AND o.created_at < :'since' AND o.finished_at < :'since'
 GROUP BY 1, 2;

CREATE TEMP TABLE at_dispatch AS
SELECT p.d_id, p.t,
       sum(p.reserved_cost_usd) FILTER (WHERE p.ts_running)
         + coalesce(sum(p.cost) FILTER (WHERE p.ts_spent), 0)
         + coalesce((SELECT sum(s.cost) FROM prior_spend s
                      WHERE s.day = orchestrator.budget_day_start(p.t)), 0) AS ts_budget,
       coalesce(sum(p.reserved_cost_usd) FILTER (WHERE p.certain_state = 'holding'), 0)
         + coalesce(sum(p.least_cost) FILTER (WHERE p.certain_state = 'maybe_released' AND p.same_day), 0)
         + coalesce((SELECT sum(s.least_cost) FROM prior_spend s
                      WHERE s.day = orchestrator.budget_day_start(p.t)), 0) AS c_budget,
       coalesce(sum(p.db_connections) FILTER (WHERE p.ts_running), 0) AS ts_connections,
       coalesce(sum(p.db_connections) FILTER (WHERE p.certain_state = 'holding'), 0) AS c_connections,
       coalesce(sum(p.memory_mb) FILTER (WHERE p.ts_running), 0) AS ts_memory,
       coalesce(sum(p.memory_mb) FILTER (WHERE p.certain_state = 'holding'), 0) AS c_memory
  FROM pair p GROUP BY p.d_id, p.t;

-- The same per workflow type, for the types with a budget of their own.
CREATE TEMP TABLE at_dispatch_type AS
SELECT p.d_id, p.t, p.workflow_type,
       coalesce(sum(p.reserved_cost_usd) FILTER (WHERE p.ts_running), 0)
         + coalesce(sum(p.cost) FILTER (WHERE p.ts_spent), 0)
         + coalesce((SELECT sum(s.cost) FROM prior_spend s
                      WHERE s.day = orchestrator.budget_day_start(p.t)
                        AND s.workflow_type = p.workflow_type), 0) AS ts_budget,
       coalesce(sum(p.reserved_cost_usd) FILTER (WHERE p.certain_state = 'holding'), 0)
         + coalesce(sum(p.least_cost) FILTER (WHERE p.certain_state = 'maybe_released' AND p.same_day), 0)
         + coalesce((SELECT sum(s.least_cost) FROM prior_spend s
                      WHERE s.day = orchestrator.budget_day_start(p.t)
                        AND s.workflow_type = p.workflow_type), 0) AS c_budget
  FROM pair p
 WHERE p.workflow_type IN (SELECT w.name FROM orchestrator.workflow_type w
                            WHERE w.daily_budget_usd IS NOT NULL)
 GROUP BY p.d_id, p.t, p.workflow_type;

-- This budget day's spend and the reservations still held, per type (NULL: all types).
CREATE TEMP TABLE final_spend AS
SELECT x.workflow_type,
       coalesce(sum(x.cost_usd) FILTER (WHERE x.status <> 'running'
                                         AND x.finished_at >= orchestrator.budget_day_start()), 0)
         + coalesce((SELECT sum(s.cost) FROM prior_spend s
                      WHERE s.day = orchestrator.budget_day_start()
                        AND (x.workflow_type IS NULL OR s.workflow_type = x.workflow_type)), 0) AS spent,
       coalesce(sum(x.reserved_cost_usd) FILTER (WHERE x.status = 'running'), 0) AS reserved
  FROM ex x GROUP BY ROLLUP (x.workflow_type);

CREATE FUNCTION pg_temp.verdict(what text, certain numeric, plain numeric, lim numeric, at timestamptz)
    RETURNS text LANGUAGE sql AS $$
    SELECT format('certain max %s; by timestamps max %s (at %s)%s', certain, plain, at::time(3),
                  CASE WHEN plain > lim AND certain <= lim
                       THEN ' - timestamp reading over the limit only through ordering ambiguity'
                       ELSE '' END)
$$;

INSERT INTO check_result (invariant, holds, worst)
SELECT format('global budget: reserved (running) + spent <= %s at every dispatch', lim),
       coalesce(max(a.c_budget), 0) <= lim,
       pg_temp.verdict('budget', coalesce(max(a.c_budget), 0), coalesce(max(a.ts_budget), 0), lim,
                       (array_agg(a.t ORDER BY a.ts_budget DESC))[1])
  FROM (SELECT daily_budget_usd + budget_raise_usd AS lim FROM orchestrator.config) c
  LEFT JOIN at_dispatch a ON true
 GROUP BY lim;

INSERT INTO check_result (invariant, holds, worst)
SELECT format('global budget: today''s spend + reservations <= %s', c.daily_budget_usd + c.budget_raise_usd),
       coalesce(f.spent + f.reserved, 0) <= c.daily_budget_usd + c.budget_raise_usd,
       format('spent %s + still reserved %s = %s', coalesce(f.spent, 0), coalesce(f.reserved, 0),
              coalesce(f.spent + f.reserved, 0))
  FROM orchestrator.config c LEFT JOIN final_spend f ON f.workflow_type IS NULL;

INSERT INTO check_result (invariant, holds, worst)
SELECT format('%s budget: reserved + spent <= %s at every dispatch', w.name, w.lim),
       coalesce(max(a.c_budget), 0) <= w.lim,
       pg_temp.verdict('budget', coalesce(max(a.c_budget), 0), coalesce(max(a.ts_budget), 0), w.lim,
                       (array_agg(a.t ORDER BY a.ts_budget DESC))[1])
  FROM (SELECT name, daily_budget_usd + budget_raise_usd AS lim FROM orchestrator.workflow_type
         WHERE daily_budget_usd IS NOT NULL) w
  LEFT JOIN at_dispatch_type a ON a.workflow_type = w.name
 GROUP BY w.name, w.lim
 ORDER BY w.name;

INSERT INTO check_result (invariant, holds, worst)
SELECT format('%s budget: today''s spend + reservations <= %s', w.name, w.daily_budget_usd + w.budget_raise_usd),
       coalesce(f.spent + f.reserved, 0) <= w.daily_budget_usd + w.budget_raise_usd,
       format('spent %s + still reserved %s = %s', coalesce(f.spent, 0), coalesce(f.reserved, 0),
              coalesce(f.spent + f.reserved, 0))
  FROM orchestrator.workflow_type w LEFT JOIN final_spend f ON f.workflow_type = w.name
 WHERE w.daily_budget_usd IS NOT NULL
 ORDER BY w.name;

INSERT INTO check_result (invariant, holds, worst)
SELECT format('db connections: running sum <= max_db_connections %s', c.max_db_connections),
       coalesce(max(a.c_connections), 0) <= c.max_db_connections,
       pg_temp.verdict('connections', coalesce(max(a.c_connections), 0), coalesce(max(a.ts_connections), 0),
                       c.max_db_connections, (array_agg(a.t ORDER BY a.ts_connections DESC))[1])
  FROM orchestrator.config c LEFT JOIN at_dispatch a ON true
 GROUP BY c.max_db_connections;

INSERT INTO check_result (invariant, holds, worst)
SELECT format('memory: running sum <= max_memory_mb %s', c.max_memory_mb),
       coalesce(max(a.c_memory), 0) <= c.max_memory_mb,
       pg_temp.verdict('memory', coalesce(max(a.c_memory), 0), coalesce(max(a.ts_memory), 0),
                       c.max_memory_mb, (array_agg(a.t ORDER BY a.ts_memory DESC))[1])
  FROM orchestrator.config c LEFT JOIN at_dispatch a ON true
 GROUP BY c.max_memory_mb;

INSERT INTO check_result (invariant, holds, worst)
SELECT format('max_concurrent %s: running executions <= %s', w.name, w.max_concurrent),
       coalesce(max(n.c_running), 0) <= w.max_concurrent,
       format('certain max %s; by timestamps max %s running (%s dispatches of the type)',
              coalesce(max(n.c_running), 0), coalesce(max(n.ts_running), 0), count(n.d_id))
  FROM orchestrator.workflow_type w
  LEFT JOIN LATERAL (
        SELECT p.d_id, count(*) FILTER (WHERE p.ts_running) AS ts_running,
               count(*) FILTER (WHERE p.certain_state = 'holding') AS c_running
          FROM pair p JOIN ex d ON d.id = p.d_id
         WHERE d.workflow_type = w.name AND p.workflow_type = w.name
         GROUP BY p.d_id) n ON true
 WHERE w.max_concurrent IS NOT NULL
 GROUP BY w.name, w.max_concurrent
 ORDER BY w.name;

-- 5. Tasks. Never dispatched twice at once: no two executions holding one task overlap in time.
CREATE TEMP TABLE ex_task AS
SELECT e.id AS execution_id, e.status, e.created_at, e.until, e.workflow_type,
       u.task_id, u.pos
  FROM ex e CROSS JOIN LATERAL unnest(e.task_ids) WITH ORDINALITY u(task_id, pos);
CREATE INDEX ON ex_task (task_id);
ANALYZE ex_task;

INSERT INTO check_result (invariant, holds, worst)
SELECT 'no task held by two overlapping executions',
       count(*) = 0,
       format('%s overlapping pairs%s', count(*),
              coalesce(' e.g. task ' || min(a.task_id) || ' in ' || min(a.execution_id) || ' and '
                       || min(b.execution_id), ''))
  FROM ex_task a JOIN ex_task b
    ON a.task_id = b.task_id AND a.execution_id < b.execution_id
   AND a.created_at < b.until AND b.created_at < a.until;

INSERT INTO check_result (invariant, holds, worst)
SELECT 'no task twice in one execution, every task of its execution''s type',
       count(*) FILTER (WHERE dup) = 0 AND count(*) FILTER (WHERE wrong_type) = 0,
       format('%s duplicates, %s of another type', count(*) FILTER (WHERE dup),
              count(*) FILTER (WHERE wrong_type))
  FROM (SELECT count(*) OVER (PARTITION BY x.execution_id, x.task_id) > 1 AS dup,
               w.name IS DISTINCT FROM x.workflow_type AS wrong_type
          FROM ex_task x
          LEFT JOIN orchestrator.task t ON t.id = x.task_id
          LEFT JOIN orchestrator.workflow_type w ON w.id = t.workflow_type_id) s;

-- The tasks in the scope.
CREATE TEMP TABLE scoped_task AS SELECT * FROM orchestrator.task WHERE created_at >= :'since';
CREATE INDEX ON scoped_task (id);
ANALYZE scoped_task;

-- No task lost: every task enqueued is there, in a final or queued state (nothing left running
-- after expiry), and nothing else is.
INSERT INTO check_result (invariant, holds, worst)
SELECT 'no task lost: tasks = enqueued, each queued or final',
       s.tasks = s.enqueued AND s.missing = 0 AND s.extra = 0 AND s.running = 0 AND s.bad_state = 0,
       format('%s tasks, %s enqueued, %s missing, %s unknown, %s still running, %s other state',
              s.tasks, s.enqueued, s.missing, s.extra, s.running, s.bad_state)
  FROM (SELECT (SELECT count(*) FROM scoped_task) AS tasks,
               (SELECT count(*) FROM :"harness".enqueued) AS enqueued,
               (SELECT count(*) FROM :"harness".enqueued q
                 WHERE NOT EXISTS (SELECT 1 FROM scoped_task t WHERE t.id = q.task_id)) AS missing,
               (SELECT count(*) FROM scoped_task t
                 WHERE NOT EXISTS (SELECT 1 FROM :"harness".enqueued q WHERE q.task_id = t.id)) AS extra,
               (SELECT count(*) FROM scoped_task WHERE state = 'running') AS running,
               (SELECT count(*) FROM scoped_task
                 WHERE state NOT IN ('queued', 'succeeded', 'dead_letter', 'cancelled', 'discarded')) AS bad_state) s;

-- Every succeeded task appears in exactly one completed/partial execution that did not fail it
-- (a partial execution's failed tasks are in the task's failure history), and that is the task's
-- last execution; no task that did not succeed has such an execution.
INSERT INTO check_result (invariant, holds, worst)
SELECT 'every succeeded task in exactly one completed/partial execution (and no other task)',
       count(*) FILTER (WHERE bad) = 0,
       format('%s succeeded tasks checked, %s wrong%s', count(*) FILTER (WHERE state = 'succeeded'),
              count(*) FILTER (WHERE bad),
              coalesce(' e.g. task ' || min(id) FILTER (WHERE bad), ''))
  FROM (SELECT t.id, t.state,
               CASE WHEN t.state = 'succeeded'
                    THEN s.n <> 1 OR s.last_ok IS DISTINCT FROM t.execution_id
                    ELSE s.n <> 0 END AS bad
          FROM scoped_task t
          CROSS JOIN LATERAL (
                SELECT count(*) AS n, max(x.execution_id) AS last_ok
                  FROM ex_task x
                 WHERE x.task_id = t.id AND x.status IN ('completed', 'partial')
                   AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(coalesce(t.failures, '[]')) f
                                    WHERE (f ->> 'execution_id')::bigint = x.execution_id)) s
         WHERE t.attempts > 0 OR t.state = 'succeeded') c;

-- (extra) Attempts and failure history agree with the executions: a task's attempts is the
-- number of executions that held it, and each failed/expired one is in its failure history.
INSERT INTO check_result (invariant, holds, worst)
SELECT 'attempts = executions holding the task; failures recorded',
       count(*) FILTER (WHERE bad) = 0,
       format('%s tasks dispatched, %s disagree%s', count(*), count(*) FILTER (WHERE bad),
              coalesce(' e.g. task ' || min(id) FILTER (WHERE bad), ''))
  FROM (SELECT t.id,
               t.attempts <> (SELECT count(*) FROM ex_task x WHERE x.task_id = t.id)
               OR (SELECT count(*) FROM ex_task x WHERE x.task_id = t.id AND x.status IN ('failed', 'expired'))
                  > jsonb_array_length(coalesce(t.failures, '[]')) AS bad
          FROM scoped_task t WHERE t.attempts > 0) s;

-- (extra) After an HTTP 429 with retry_after R at T, nothing using that API is dispatched in
-- [T + 1 s, T + R) (the first second is slack for dispatches already under way at T).
INSERT INTO check_result (invariant, holds, worst)
SELECT 'HTTP 429 pauses: no dispatch on the API within [T + 1 s, T + retry_after)',
       count(*) FILTER (WHERE u.t >= p.t + interval '1 second') = 0,
       format('%s 429s; dispatches on the paused API within retry_after: %s, of which after the first second: %s',
              (SELECT count(*) FROM :"harness".pause_log), count(u.id),
              count(*) FILTER (WHERE u.t >= p.t + interval '1 second'))
  FROM :"harness".pause_log p
  LEFT JOIN api_use u ON u.api = p.api AND u.t > p.t AND u.t < p.t + p.retry_after;

-- Callbacks on running executions were all accepted, and every execution has finished.
INSERT INTO check_result (invariant, holds, worst)
SELECT 'every callback accepted; every execution finished after its dispatch',
       (SELECT count(*) FROM :"harness".callback_error) = 0
       AND (SELECT count(*) FROM ex WHERE status = 'running' OR finished_at < created_at) = 0,
       format('%s callback errors%s, %s running, %s finished before dispatch',
              (SELECT count(*) FROM :"harness".callback_error),
              coalesce(' e.g. ' || (SELECT action || ' ' || execution_id || ': ' || sqlstate || ' ' || message
                                      FROM :"harness".callback_error ORDER BY at LIMIT 1), ''),
              (SELECT count(*) FROM ex WHERE status = 'running'),
              (SELECT count(*) FROM ex WHERE finished_at < created_at));

SELECT ord AS "#", invariant, holds, worst FROM check_result ORDER BY ord;
\pset tuples_only on
\pset format unaligned
SELECT CASE WHEN holds THEN 'ok' ELSE 'not ok' END || ' - ' || invariant FROM check_result ORDER BY ord;
SELECT 'failed invariants: ' || count(*) FILTER (WHERE NOT holds) FROM check_result;
