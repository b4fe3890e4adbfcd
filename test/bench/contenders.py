"""The contenders: their tables, their setup, and the pgbench scripts every measurement runs.

  orchestrator_off   the orchestrator with governance off: workflow type bench_off declares no
                     API (no set_workflow_type_apis), has no type budget, no max_concurrent, no
                     estimated cost and needs no connections or memory, so no rate limit,
                     budget or cap has anything to count for it. What is left is the queue, the
                     fair-share pick, the breakers (closed) and the execution records.
  orchestrator_on    every policy active at limits too high to bind: workflow type bench calls
                     API bench_api once per task (1,000,000 calls/min), costs $0.000001 per task
                     against the daily budget and its own type budget, needs 1 connection and
                     128 MB against the global caps, max_concurrent 100,000.
  plain_skip_locked  a plain table with a partial index: INSERT / UPDATE ... FOR UPDATE SKIP
                     LOCKED / UPDATE
  plain_plpgsql      the same plain queue behind three PL/pgSQL functions
  ceiling            one single-row UPDATE by primary key: what the server commits per second

Both orchestrator types live in one database; each contender's dispatcher names its type
(workflow_types => ARRAY[...]), as a worker dedicated to one type does, so neither reads the
other's queue.

A cycle is one pgbench transaction-script: enqueue B tasks, dispatch up to B, complete what was
dispatched -- three statements, each its own transaction (autocommit), on every side.
"""
from settings import LOAD_CHUNK

ORCHESTRATORS = ["orchestrator_off", "orchestrator_on"]
PLAINS = ["plain_skip_locked", "plain_plpgsql"]
CONTENDERS = ORCHESTRATORS + PLAINS
CEILING = "ceiling"
BASELINE = "plain_skip_locked"
COMMITS_PER_CYCLE = 3  # enqueue, dispatch, complete

TYPE = {"orchestrator_off": "bench_off", "orchestrator_on": "bench"}
SCHEMA = {"plain_skip_locked": "bench_plain", "plain_plpgsql": "bench_plpgsql"}
CEILING_ROWS = 1000

# The same payloads on every side: one small object per task.
PAYLOAD = '{"n": 1}'


def payloads(batch):
    return "[" + ", ".join('{"n": %d}' % i for i in range(1, batch + 1)) + "]"


# ---------------------------------------------------------------------------------------------
# Setup

# Run once, at the start. The limits of orchestrator_on are far above anything this benchmark
# reaches; bench.py notes any execution whose batch a limit cut (limited_by).
SETUP_SQL = """
CREATE EXTENSION orchestrator;
SELECT orchestrator.register_api('bench_api', 1000000, 1000000);
SELECT orchestrator.register_workflow_type('bench', 1, 1, 1,
    estimated_cost_usd => 0.000001, daily_budget_usd => 1000000, max_concurrent => 100000);
SELECT orchestrator.set_workflow_type_apis('bench', '{"bench_api": 1}');
SELECT orchestrator.register_workflow_type('bench_off', 1, 1, 1,
    estimated_cost_usd => 0, db_connections => 0, memory_mb => 0);
SELECT orchestrator.configure('{"daily_budget_usd": 1000000,
    "max_db_connections": 100000, "max_memory_mb": 100000000}');
"""

# {s}: bench_plain for plain_skip_locked, bench_plpgsql for plain_plpgsql (a table each).
PLAIN_SCHEMA = """
CREATE SCHEMA {s};
CREATE TABLE {s}.job (
    id bigserial PRIMARY KEY,
    priority smallint NOT NULL DEFAULT 5,
    state text NOT NULL DEFAULT 'queued',
    payload jsonb NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    locked_by text,
    locked_at timestamptz,
    finished_at timestamptz
);
CREATE INDEX job_queued ON {s}.job (priority, id) WHERE state = 'queued';

CREATE FUNCTION {s}.enqueue(payload jsonb, priority integer DEFAULT 5) RETURNS bigint
    LANGUAGE plpgsql AS $$
DECLARE
    new_id bigint;
BEGIN
    INSERT INTO {s}.job (payload, priority) VALUES (payload, priority) RETURNING id INTO new_id;
    RETURN new_id;
END $$;

CREATE FUNCTION {s}.enqueue_batch(payloads jsonb, priority integer DEFAULT 5)
    RETURNS bigint[] LANGUAGE plpgsql AS $$
DECLARE
    ids bigint[];
BEGIN
    WITH ins AS (
        INSERT INTO {s}.job (payload, priority)
        SELECT p.value, enqueue_batch.priority FROM jsonb_array_elements(payloads) p
        RETURNING id)
    SELECT array_agg(id) INTO ids FROM ins;
    RETURN ids;
END $$;

CREATE FUNCTION {s}.dequeue(worker text, max_jobs integer DEFAULT 1)
    RETURNS TABLE (id bigint, payload jsonb) LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY
    UPDATE {s}.job j
       SET state = 'running', locked_by = worker, locked_at = now(), attempts = j.attempts + 1
     WHERE j.id = ANY (ARRAY(SELECT q.id FROM {s}.job q WHERE q.state = 'queued'
                              ORDER BY q.priority, q.id LIMIT max_jobs FOR UPDATE SKIP LOCKED))
    RETURNING j.id, j.payload;
END $$;

CREATE FUNCTION {s}.complete(ids bigint[]) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    n integer;
BEGIN
    UPDATE {s}.job j SET state = 'done', finished_at = now()
     WHERE j.id = ANY (ids) AND j.state = 'running';
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END $$;
"""

CEILING_SCHEMA = f"""
CREATE SCHEMA bench_ceiling;
CREATE TABLE bench_ceiling.counter (id integer PRIMARY KEY, n bigint NOT NULL DEFAULT 0);
INSERT INTO bench_ceiling.counter (id) SELECT g FROM generate_series(1, {CEILING_ROWS}) g;
"""


def reset_sql(batch):
    """Empties every contender's tables and sets both orchestrator types to batch_max BATCH.
    The extension is created once, at the start: re-creating it would read the extension
    script again, and another checkout's `make install` may have replaced it by then."""
    alter = "".join(
        f"SELECT orchestrator.alter_workflow_type('{t}', jsonb_build_object("
        f"'batch_min', 1, 'batch_max', {batch}));\n" for t in TYPE.values())
    return ("DROP SCHEMA IF EXISTS bench_plain CASCADE;\n"
            "DROP SCHEMA IF EXISTS bench_plpgsql CASCADE;\n"
            "DROP SCHEMA IF EXISTS bench_ceiling CASCADE;\n"
            "TRUNCATE orchestrator.task, orchestrator.workflow_orchestration RESTART IDENTITY;\n"
            + alter + "".join(PLAIN_SCHEMA.format(s=s) for s in SCHEMA.values())
            + CEILING_SCHEMA)


def fill_sql(contender, n):
    """Statements that queue N more tasks, LOAD_CHUNK per statement (each its own transaction)."""
    stmts = []
    while n > 0:
        k = min(n, LOAD_CHUNK)
        if contender in TYPE:
            stmts.append(f"SELECT orchestrator.enqueue_batch('{TYPE[contender]}', (SELECT "
                         f"jsonb_agg(jsonb_build_object('n', g)) FROM generate_series(1, {k}) g), 5);")
        else:
            stmts.append(f"INSERT INTO {SCHEMA[contender]}.job (payload, priority) SELECT "
                         f"jsonb_build_object('n', g), 5 FROM generate_series(1, {k}) g;")
        n -= k
    return "\n".join(stmts) + "\n"


def queued_sql(contender):
    if contender in TYPE:
        return ("SELECT count(*) FROM orchestrator.task t JOIN orchestrator.workflow_type w"
                f" ON w.id = t.workflow_type_id WHERE w.name = '{TYPE[contender]}'"
                " AND t.state = 'queued'")
    return f"SELECT count(*) FROM {SCHEMA[contender]}.job WHERE state = 'queued'"


def counts_sql(contender):
    """One row: tasks completed, tasks running, executions dispatched (NULL for the plain
    queues), executions whose batch a limit cut (limited_by other than batch_max or queue)."""
    if contender in TYPE:
        t = TYPE[contender]
        return ("SELECT count(*) FILTER (WHERE t.state = 'succeeded'),"
                "       count(*) FILTER (WHERE t.state = 'running'),"
                "       (SELECT count(*) FROM orchestrator.workflow_orchestration"
                f"         WHERE workflow_type = '{t}'),"
                "       (SELECT count(*) FROM orchestrator.workflow_orchestration"
                f"         WHERE workflow_type = '{t}' AND limited_by NOT IN ('batch_max', 'queue'))"
                "  FROM orchestrator.task t JOIN orchestrator.workflow_type w"
                f"    ON w.id = t.workflow_type_id WHERE w.name = '{t}'")
    return ("SELECT count(*) FILTER (WHERE state = 'done'),"
            f"       count(*) FILTER (WHERE state = 'running'), NULL, 0 FROM {SCHEMA[contender]}.job")


def release_sql(contender):
    """Completes what dispatch-only runs left running, so the orchestrator's governance
    counters (running executions, held connections and memory) are back to zero."""
    if contender in TYPE:
        return ("SELECT count(orchestrator.complete_execution(id))"
                "  FROM orchestrator.workflow_orchestration"
                f" WHERE workflow_type = '{TYPE[contender]}' AND status = 'running';\n")
    if contender in SCHEMA:
        return (f"UPDATE {SCHEMA[contender]}.job SET state = 'done', finished_at = now()"
                " WHERE state = 'running';\n")
    return ""


def tables(contender):
    """The relations whose dead tuples and size are reported."""
    if contender in TYPE:
        return ["orchestrator.task", "orchestrator.workflow_orchestration"]
    return [f"{SCHEMA[contender]}.job"]


# ---------------------------------------------------------------------------------------------
# Statements and pgbench scripts


def dispatch_sql(contender, k):
    """One dispatch of up to K tasks (orchestrator: one execution of up to batch_max tasks)."""
    if contender in TYPE:
        return ("SELECT * FROM orchestrator.orchestrate_next_execution('bench', 1, "
                f"ARRAY['{TYPE[contender]}'])")
    if contender == "plain_skip_locked":
        # = ANY (ARRAY(...)): the claimed ids are then found by primary key whatever the
        # statistics say. With `IN (SELECT ...)` the plan chosen right after VACUUM ANALYZE of a
        # small table is a hash semi-join over a sequential scan of the whole table, which
        # slows every dispatch as done jobs accumulate, until autovacuum analyzes again.
        return ("UPDATE bench_plain.job j"
                "   SET state = 'running', locked_by = 'bench', locked_at = now(),"
                "       attempts = j.attempts + 1"
                " WHERE j.id = ANY (ARRAY(SELECT q.id FROM bench_plain.job q"
                "                          WHERE q.state = 'queued' ORDER BY q.priority, q.id"
                f"                          LIMIT {k} FOR UPDATE SKIP LOCKED))"
                " RETURNING j.id, j.payload")
    if contender == "plain_plpgsql":
        return f"SELECT * FROM bench_plpgsql.dequeue('bench', {k})"
    raise ValueError(contender)


def ceiling_script():
    return "\n".join([f"\\set id random(1, {CEILING_ROWS})",
                      "UPDATE bench_ceiling.counter SET n = n + 1 WHERE id = :id;", ""])


def enqueue_sql(contender, batch):
    """One enqueue of BATCH tasks, one statement (at 10: one 10-element array on every side)."""
    one = batch == 1
    data = PAYLOAD if one else payloads(batch)
    if contender in TYPE:
        t = TYPE[contender]
        return (f"SELECT orchestrator.enqueue('{t}', '{data}', 5)" if one else
                f"SELECT orchestrator.enqueue_batch('{t}', '{data}', 5)")
    s = SCHEMA[contender]
    if contender == "plain_skip_locked":
        return (f"INSERT INTO {s}.job (payload, priority) VALUES ('{data}', 5)" if one
                else f"INSERT INTO {s}.job (payload, priority)"
                f" SELECT p.value, 5 FROM jsonb_array_elements('{data}') p")
    return (f"SELECT {s}.enqueue('{data}', 5)" if one else f"SELECT {s}.enqueue_batch('{data}', 5)")


def dispatched_ref(contender):
    """What a dispatch hands to the completion, as an aggregate over its rows d (one row even
    when nothing was dispatched): the execution id, or the array of task ids."""
    if contender in TYPE:
        return "coalesce(max(d.execution_id), 0)"
    return "coalesce(array_agg(d.id), '{}')"


def complete_sql(contender, ref):
    """Completes what one dispatch handed out; REF is the SQL of dispatched_ref's value."""
    if contender in TYPE:
        return f"SELECT orchestrator.complete_execution({ref})"
    s = SCHEMA[contender]
    if contender == "plain_skip_locked":
        return (f"UPDATE {s}.job SET state = 'done', finished_at = now()"
                f" WHERE id = ANY (CAST({ref} AS bigint[])) AND state = 'running'")
    return f"SELECT {s}.complete(CAST({ref} AS bigint[]))"


def cycle_script(contender, batch):
    """One pgbench transaction-script = one cycle; each statement commits on its own."""
    if contender == CEILING:
        return ceiling_script()
    ref = "eid" if contender in TYPE else "ids"
    tasks = ("coalesce(jsonb_agg(d.tasks), '[]')" if contender in TYPE else
             "coalesce(jsonb_agg(jsonb_build_object('id', d.id, 'payload', d.payload)), '[]')")
    # An aggregate always returns one row, so \gset works when nothing was dispatched.
    count = "coalesce(sum(d.batch_size), 0)" if contender in TYPE else "count(*)"
    return "\n".join([
        enqueue_sql(contender, batch) + ";",
        f"WITH d AS ({dispatch_sql(contender, batch)})",
        f"SELECT {dispatched_ref(contender)} AS {ref}, {count} AS n, {tasks} AS tasks FROM d",
        "\\gset",
        "\\if :n > 0",
        complete_sql(contender, ":" + ref) + ";",
        "\\endif",
        ""])


def prepared_cycle_sql(contender, batch):
    """The cycle as three prepared statements (what pgbench -M prepared runs), for a session
    without pgbench's variables (instructions.py): the dispatch keeps what it handed out in a
    setting, the completion reads it. Returns (PREPARE statements, one cycle of EXECUTEs)."""
    ref = dispatched_ref(contender)
    stored = "current_setting('bench.dispatched')::" + ("bigint" if contender in TYPE else "bigint[]")
    prepare = "\n".join([
        f"PREPARE enqueue AS {enqueue_sql(contender, batch)};",
        f"PREPARE dispatch AS WITH d AS ({dispatch_sql(contender, batch)})"
        f" SELECT set_config('bench.dispatched', ({ref})::text, false) FROM d;",
        f"PREPARE complete AS {complete_sql(contender, stored)};",
        ""])
    return prepare, "EXECUTE enqueue;\nEXECUTE dispatch;\nEXECUTE complete;\n"


def dispatch_script(contender, batch):
    """A dispatch-only transaction: one dispatch of up to BATCH tasks, committed (autocommit);
    what it claims stays running until release_sql(). The ceiling: its UPDATE."""
    if contender == CEILING:
        return ceiling_script()
    return dispatch_sql(contender, batch) + ";\n"


def depth_script(contender):
    """One dispatch of one task inside a transaction that rolls back: the depth stays put."""
    return "\n".join(["BEGIN;", dispatch_sql(contender, 1) + ";", "ROLLBACK;", ""])


def depth_check_sql(contender):
    """Run before each depth point: must print 1 (the dispatch found exactly one task)."""
    return f"BEGIN;\nWITH d AS ({dispatch_sql(contender, 1)}) SELECT count(*) FROM d;\nROLLBACK;\n"


def snapshot_read_sql(contender):
    """What the session holding a snapshot reads once, in its REPEATABLE READ transaction."""
    return f"SELECT count(*) FROM {tables(contender)[0]}"

