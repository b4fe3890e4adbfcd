-- The dead-letter queue: tasks that used up their attempts, failed as not retryable, or went
-- stale. Each keeps its whole failure history.
CREATE VIEW orchestrator.dead_letters AS
SELECT t.id AS task_id, w.name AS workflow_type, t.priority, t.payload, t.attempts,
       t.dead_letter_reason AS reason, t.last_error, t.failures, t.created_at,
       t.finished_at AS dead_lettered_at, t.execution_id AS last_execution_id
  FROM orchestrator.task t
  JOIN orchestrator.workflow_type w ON w.id = t.workflow_type_id
 WHERE t.state = 'dead_letter';

-- Audits a manual action on tasks: which tasks moved from one state to the other, and the filter
-- (one task, one type, or all) that chose them.
CREATE FUNCTION orchestrator._audit_task_action(action text, task_id bigint, workflow_type text,
                                                ids bigint[], from_state text, to_state text)
    RETURNS void
    LANGUAGE sql AS $$
    SELECT orchestrator._audit(action,
        CASE WHEN task_id IS NOT NULL THEN 'task:' || task_id
             WHEN workflow_type IS NOT NULL THEN 'workflow_type:' || workflow_type ELSE 'all' END,
        jsonb_build_object('state', from_state, 'task_ids', to_jsonb(ids)),
        jsonb_build_object('state', to_state, 'count', cardinality(ids)))
$$;

-- Called before putting tasks back in the queue or locking queued ones by SQL (below): the
-- dispatcher's ready floors (src/pg/ready_floor.cpp) stay down until the transaction ends.
CREATE FUNCTION orchestrator._queue_changing() RETURNS void
    LANGUAGE c AS 'MODULE_PATHNAME', 'orchestrator_queue_changing';

-- Puts dead letters back in the queue with a fresh attempt count; returns how many.
-- Filters: one task, or every dead letter of a type, or all (both NULL).
CREATE FUNCTION orchestrator.retry_dead_letters(
    task_id bigint DEFAULT NULL,
    workflow_type text DEFAULT NULL
) RETURNS integer
    LANGUAGE plpgsql AS $$
DECLARE
    ids bigint[];
    n integer;
BEGIN
    PERFORM orchestrator._check_dead_letter_filter(task_id, workflow_type);
    PERFORM orchestrator._queue_changing();
    WITH retried AS (
        UPDATE orchestrator.task t
           SET state = 'queued', attempts = 0, ready_at = orchestrator.now(), finished_at = NULL,
               dead_letter_reason = NULL,
               stale_at = orchestrator.now() + (SELECT w.max_queue_wait FROM orchestrator.workflow_type w
                                                 WHERE w.id = t.workflow_type_id)
         WHERE t.state = 'dead_letter'
           AND (retry_dead_letters.task_id IS NULL OR t.id = retry_dead_letters.task_id)
           AND (retry_dead_letters.workflow_type IS NULL OR t.workflow_type_id =
                (SELECT w.id FROM orchestrator.workflow_type w WHERE w.name = retry_dead_letters.workflow_type))
        RETURNING t.id)
    SELECT coalesce(array_agg(r.id ORDER BY r.id), '{}') INTO ids FROM retried r;
    n := cardinality(ids);
    PERFORM orchestrator._audit_task_action('retry_dead_letters', task_id, workflow_type, ids,
                                            'dead_letter', 'queued');
    RETURN n;
END $$;

-- Discards dead letters for good (kept as 'discarded' until history retention prunes them).
CREATE FUNCTION orchestrator.discard_dead_letters(
    task_id bigint DEFAULT NULL,
    workflow_type text DEFAULT NULL
) RETURNS integer
    LANGUAGE plpgsql AS $$
DECLARE
    ids bigint[];
    n integer;
BEGIN
    PERFORM orchestrator._check_dead_letter_filter(task_id, workflow_type);
    WITH discarded AS (
        UPDATE orchestrator.task t SET state = 'discarded'
         WHERE t.state = 'dead_letter'
           AND (discard_dead_letters.task_id IS NULL OR t.id = discard_dead_letters.task_id)
           AND (discard_dead_letters.workflow_type IS NULL OR t.workflow_type_id =
                (SELECT w.id FROM orchestrator.workflow_type w WHERE w.name = discard_dead_letters.workflow_type))
        RETURNING t.id)
    SELECT coalesce(array_agg(d.id ORDER BY d.id), '{}') INTO ids FROM discarded d;
    n := cardinality(ids);
    PERFORM orchestrator._audit_task_action('discard_dead_letters', task_id, workflow_type, ids,
                                            'dead_letter', 'discarded');
    RETURN n;
END $$;

CREATE FUNCTION orchestrator._check_dead_letter_filter(task_id bigint, workflow_type text)
    RETURNS void
    LANGUAGE plpgsql AS $$
BEGIN
    IF task_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM orchestrator.task t WHERE t.id = task_id AND t.state = 'dead_letter') THEN
        RAISE EXCEPTION 'task % is not in the dead-letter queue', task_id USING ERRCODE = 'P0002';
    END IF;
    IF workflow_type IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM orchestrator.workflow_type w WHERE w.name = workflow_type) THEN
        RAISE EXCEPTION 'workflow type "%" does not exist', workflow_type USING ERRCODE = 'P0002';
    END IF;
END $$;

-- Cancels one queued task; false when it is no longer queued (running or finished).
CREATE FUNCTION orchestrator.cancel_task(task_id bigint) RETURNS boolean
    LANGUAGE plpgsql AS $$
BEGIN
    IF task_id IS NULL THEN
        RAISE EXCEPTION 'task_id must not be null' USING ERRCODE = '22004';
    END IF;
    PERFORM orchestrator._queue_changing();
    UPDATE orchestrator.task t SET state = 'cancelled', finished_at = orchestrator.now()
     WHERE t.id = cancel_task.task_id AND t.state = 'queued';
    IF FOUND THEN
        PERFORM orchestrator._audit_task_action('cancel_task', task_id, NULL, ARRAY[task_id],
                                                'queued', 'cancelled');
        RETURN true;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM orchestrator.task t WHERE t.id = cancel_task.task_id) THEN
        RAISE EXCEPTION 'task % does not exist', task_id USING ERRCODE = 'P0002';
    END IF;
    RETURN false;
END $$;

-- Cancels the queued tasks matching every filter given (at least one); returns how many.
CREATE FUNCTION orchestrator.cancel_tasks(
    workflow_type text DEFAULT NULL,
    max_priority integer DEFAULT NULL,
    older_than interval DEFAULT NULL,
    payload_contains jsonb DEFAULT NULL
) RETURNS integer
    LANGUAGE plpgsql AS $$
DECLARE
    type_id integer;
    ids bigint[];
    n integer;
BEGIN
    IF num_nonnulls(workflow_type, max_priority, older_than, payload_contains) = 0 THEN
        RAISE EXCEPTION 'cancel_tasks needs at least one filter' USING ERRCODE = '22023',
            HINT = 'Filter by workflow_type, max_priority, older_than or payload_contains.';
    END IF;
    IF max_priority IS NOT NULL AND max_priority NOT BETWEEN 1 AND 10 THEN
        RAISE EXCEPTION 'max_priority must be between 1 and 10' USING ERRCODE = '22023';
    END IF;
    IF older_than IS NOT NULL AND older_than < interval '0' THEN
        RAISE EXCEPTION 'older_than must not be negative' USING ERRCODE = '22023';
    END IF;
    IF workflow_type IS NOT NULL THEN
        SELECT w.id INTO type_id FROM orchestrator.workflow_type w WHERE w.name = workflow_type;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'workflow type "%" does not exist', workflow_type USING ERRCODE = 'P0002';
        END IF;
    END IF;
    PERFORM orchestrator._queue_changing();
    WITH cancelled AS (
        UPDATE orchestrator.task t SET state = 'cancelled', finished_at = orchestrator.now()
         WHERE t.state = 'queued'
           AND (type_id IS NULL OR t.workflow_type_id = type_id)
           AND (max_priority IS NULL OR t.priority <= max_priority)
           AND (older_than IS NULL OR t.created_at <= orchestrator.now() - older_than)
           AND (payload_contains IS NULL OR t.payload @> payload_contains)
        RETURNING t.id)
    SELECT coalesce(array_agg(c.id ORDER BY c.id), '{}') INTO ids FROM cancelled c;
    n := cardinality(ids);
    PERFORM orchestrator._audit('cancel_tasks', coalesce(workflow_type, 'all'),
        jsonb_build_object('state', 'queued', 'task_ids', to_jsonb(ids)),
        jsonb_build_object('state', 'cancelled', 'count', n, 'filter', jsonb_strip_nulls(jsonb_build_object(
            'workflow_type', workflow_type, 'max_priority', max_priority,
            'older_than', older_than, 'payload_contains', payload_contains))));
    RETURN n;
END $$;
