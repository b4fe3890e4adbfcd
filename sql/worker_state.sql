-- The heartbeat's state machine, stored in orchestrator.worker_state, and tick(): one pass of it
-- from SQL (the background worker runs the same steps; it is not running in this cluster, whose
-- orchestrator.worker_role is unset).
CREATE EXTENSION orchestrator;
\i sql/helpers/error_of.sql
SET orchestrator.test_now = '2026-04-06 09:00:00+00';

SELECT state, failures, pass_started_at, pass_finished_at, alive_at FROM orchestrator.worker_state;

-- One pass: every step stored, in order, with its time and who ran it.
SELECT orchestrator.tick() AS ran;
SELECT state, failures, pass_started_at, pass_finished_at, alive_at, alive_runner
  FROM orchestrator.worker_state;
SELECT from_state, to_state, at, reason, runner FROM orchestrator.worker_transition ORDER BY id;

-- The table refuses transitions the machine does not have.
SELECT pg_temp.error_of($$UPDATE orchestrator.worker_state SET state = 'dispatching'$$);
SELECT pg_temp.error_of($$UPDATE orchestrator.worker_state SET state = 'monitoring'$$);
-- (staying in a state is not a transition)
SELECT pg_temp.error_of($$UPDATE orchestrator.worker_state SET state = 'idle'$$) AS idle_stays;
SELECT pg_temp.error_of($$UPDATE orchestrator.worker_state SET state = 'IDLE'$$);
SELECT pg_temp.error_of($$UPDATE orchestrator.worker_state SET state = 'analyzing'$$) AS idle_to_analyzing;
SELECT pg_temp.error_of($$UPDATE orchestrator.worker_state SET state = 'idle'$$) AS analyzing_to_idle;
SELECT pg_temp.error_of($$UPDATE orchestrator.worker_state SET state = 'error_recovery'$$) AS analyzing_to_recovery;
SELECT pg_temp.error_of($$UPDATE orchestrator.worker_state SET state = 'error_recovery'$$) AS recovery_stays;
SELECT pg_temp.error_of($$UPDATE orchestrator.worker_state SET state = 'analyzing'$$) AS recovery_to_analyzing;
SELECT pg_temp.error_of($$UPDATE orchestrator.worker_state SET state = 'idle'$$) AS recovery_to_idle;
-- other columns change freely
SELECT pg_temp.error_of($$UPDATE orchestrator.worker_state SET failures = 0$$) AS other_columns;

-- A pass cut short resumes at the stored step: stored 'dispatching' runs dispatching (again),
-- monitoring, idle.
UPDATE orchestrator.worker_state SET state = 'analyzing';
UPDATE orchestrator.worker_state SET state = 'dispatching';
TRUNCATE orchestrator.worker_transition;
SET orchestrator.test_now = '2026-04-06 09:05:00+00';
SELECT orchestrator.tick() AS ran;
SELECT from_state, to_state, at, runner FROM orchestrator.worker_transition ORDER BY id;
SELECT state, pass_finished_at FROM orchestrator.worker_state;

-- From error recovery: back to idle, then a whole pass; a completed pass clears the failures.
UPDATE orchestrator.worker_state SET state = 'error_recovery', failures = 2, last_error = 'boom';
TRUNCATE orchestrator.worker_transition;
SELECT orchestrator.tick() AS ran;
SELECT from_state, to_state FROM orchestrator.worker_transition ORDER BY id;
SELECT state, failures, last_error FROM orchestrator.worker_state;

-- ANALYZING expires leases: an execution whose lease has passed is expired by the pass and its
-- task goes back to the queue for a retry.
SELECT orchestrator.register_workflow_type('beat', lease_timeout => interval '5 minutes') > 0 AS registered;
SELECT orchestrator.enqueue('beat', '{"n": 1}') AS task \gset
SELECT execution_id AS execution FROM orchestrator.orchestrate_next_execution('w', 1) \gset
SET orchestrator.test_now = '2026-04-06 09:20:00+00';
SELECT orchestrator.tick() AS ran;
SELECT status, error FROM orchestrator.workflow_orchestration WHERE id = :execution;
SELECT state, attempts, last_error FROM orchestrator.task WHERE id = :task;
-- and a late callback for it is refused
SELECT pg_temp.error_of(format('SELECT orchestrator.complete_execution(%s)', :execution));

-- ANALYZING half-opens a breaker whose cooldown (5 minutes) has passed and records why; the next
-- dispatch takes its one trial. Five failures in a row open the type's breaker.
SELECT orchestrator.register_workflow_type('brittle', max_attempts => 10) > 0 AS registered;
SELECT orchestrator.enqueue('brittle', '{}') > 0 AS enqueued;
SELECT count(orchestrator.fail_execution(e.execution_id, 'boom'))
  FROM generate_series(1, 5) n,
       LATERAL (SELECT set_config('orchestrator.test_now',
                                  (timestamptz '2026-04-06 09:30:00+00' + n * interval '1 hour')::text,
                                  false)) clock,
       LATERAL orchestrator.orchestrate_next_execution('w' || n, 1, '{brittle}') e;
SELECT state, opened_at FROM orchestrator.breaker WHERE name = 'brittle';
SET orchestrator.test_now = '2026-04-06 14:34:59+00';
SELECT orchestrator.tick() AS ran;
SELECT state FROM orchestrator.breaker WHERE name = 'brittle';
SET orchestrator.test_now = '2026-04-06 14:35:00+00';
SELECT orchestrator.tick() AS ran;
SELECT state, trial_execution_id FROM orchestrator.breaker WHERE name = 'brittle';
SELECT from_state, to_state, at, cause FROM orchestrator.breaker_event WHERE name = 'brittle' ORDER BY at, from_state;
-- (the task's fifth retry waits 16 minutes after 14:30, give or take 30 s)
SET orchestrator.test_now = '2026-04-06 14:47:00+00';
SELECT batch_size FROM orchestrator.orchestrate_next_execution('trial', 1, '{brittle}');
SELECT state, trial_execution_id IS NOT NULL AS trial_taken FROM orchestrator.breaker WHERE name = 'brittle';

RESET orchestrator.test_now;
DROP EXTENSION orchestrator;
