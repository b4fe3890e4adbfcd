-- Ready floors: each claim starts its index range where the level's queued tasks begin, past the
-- entries claimed tasks left behind (src/pg/ready_floor.cpp). Whatever puts a task back below
-- the floor lowers it; a task written into the table by hand is found again by the next
-- heartbeat. The concurrent cases are in test/isolation/specs/ready_floor.spec.
CREATE EXTENSION orchestrator;
SELECT orchestrator.register_workflow_type('content_pipeline', batch_max => 1,
                                           lease_timeout => '1 day');
SET orchestrator.test_now = '2024-06-03 12:00:00+00';
SELECT count(orchestrator.enqueue('content_pipeline', jsonb_build_object('n', n),
                                  run_after => '2024-06-03 12:00:00+00'::timestamptz
                                               + n * interval '1 minute'))
  FROM generate_series(1, 3) n;

CREATE FUNCTION pg_temp.next() RETURNS jsonb LANGUAGE sql AS $$
    SELECT jsonb_agg(d.tasks -> 0 -> 'payload' -> 'n')
      FROM orchestrator.orchestrate_next_execution('w') d
$$;

-- At 12:10 the claims take 1 (ready 12:01), then 2 (12:02): the floor is at 2 or later.
SET orchestrator.test_now = '2024-06-03 12:10:00+00';
SELECT pg_temp.next() AS first, pg_temp.next() AS second;

-- 1 fails while the clock reads 11:00: its retry is ready by 11:01:30, below the floor.
SET orchestrator.test_now = '2024-06-03 11:00:00+00';
SELECT orchestrator.fail_execution(e.id, 'timeout')
  FROM orchestrator.workflow_orchestration e
 WHERE e.status = 'running' AND e.task_ids = ARRAY[(SELECT t.id FROM orchestrator.task t
                                                      WHERE t.payload ->> 'n' = '1')];
-- Back at 12:10, 1 comes before 3: putting it back lowered the floor.
SET orchestrator.test_now = '2024-06-03 12:10:00+00';
SELECT pg_temp.next() AS retried;

-- 3 next (the floor rises to its 12:03), and 4 is queued (ready 12:10).
SELECT pg_temp.next() AS third;
SELECT orchestrator.enqueue('content_pipeline', '{"n": 4}') > 0 AS queued_4;

-- A task inserted by hand, ready 11:30, is below the floor: the claim does not see it and
-- takes 4 ...
INSERT INTO orchestrator.task (workflow_type_id, priority, state, payload, created_at, ready_at)
SELECT w.id, 5, 'queued', '{"n": "by hand"}', '2024-06-03 11:30:00+00', '2024-06-03 11:30:00+00'
  FROM orchestrator.workflow_type w WHERE w.name = 'content_pipeline';
SELECT pg_temp.next() AS before_heartbeat;
-- ... until a heartbeat forgets the floors.
SELECT orchestrator.tick();
SELECT pg_temp.next() AS after_heartbeat;

-- A transaction that queued (or claimed) tasks cannot be prepared: its hold on the floors ends
-- with the session's transaction, but a prepared one would keep the tasks.
BEGIN;
SELECT orchestrator.enqueue('content_pipeline', '{"n": "prepared"}') > 0 AS queued;
\set VERBOSITY sqlstate
PREPARE TRANSACTION 'orchestrator_ready_floor';
\set VERBOSITY default
SELECT count(*) AS prepared_tasks FROM orchestrator.task WHERE payload ->> 'n' = 'prepared';

DROP EXTENSION orchestrator;
