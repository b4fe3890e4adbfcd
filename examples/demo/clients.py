"""The demo's database clients: enqueuers (new work at a rate per workflow type) and workers
(the n8n sub-workflows: claim an execution, call the AI API for each task, report back).

Every client is a thread with its own psycopg2 connection (libpq reads PGHOST, PGPORT,
PGDATABASE and PGUSER) and runs as orchestrator_worker, the role n8n uses.
"""
import json
import random
import select
import threading
import time
import urllib.error
import urllib.request

import psycopg2

DISPATCH_CHANNEL = "orchestrator_dispatch"
IDLE_WAIT_S = 0.5   # an idle worker waits this long for a dispatch hint before asking again


def connect(name, role=None, autocommit=True):
    conn = psycopg2.connect("", application_name=name)
    conn.autocommit = True
    if role:
        with conn.cursor() as cur:
            cur.execute(f"SET ROLE {role}")
    conn.autocommit = autocommit
    return conn


class Enqueuer(threading.Thread):
    """New tasks of one workflow type: `backlog` at once (the type's schedule firing, as the four
    independent n8n workflows did), then arriving at random (Poisson) at `per_second`."""

    def __init__(self, workflow_type, per_second, backlog, run_id, seed, stop):
        super().__init__(name=f"enqueue-{workflow_type}", daemon=True)
        self.workflow_type, self.per_second, self.run_id = workflow_type, per_second, run_id
        self.backlog = backlog
        self.random = random.Random(seed)
        self.stop = stop
        self.count = 0
        self.error = None

    def run(self):
        try:
            conn = connect(self.name, "orchestrator_worker")
            for _ in range(self.backlog):
                self.enqueue(conn)
            next_at = time.monotonic()
            while True:
                next_at += self.random.expovariate(self.per_second)
                if self.stop.wait(max(0.0, next_at - time.monotonic())):
                    break
                self.enqueue(conn)
            conn.close()
        except Exception as e:  # reported by the driver; the run fails
            self.error = e

    def enqueue(self, conn):
        self.count += 1
        payload = {"source": "demo", "run": self.run_id, "item": self.count}
        priority = self.random.choices(range(1, 11), weights=[1, 2, 4, 6, 8, 6, 4, 2, 1, 1])[0]
        with conn.cursor() as cur:
            cur.execute("INSERT INTO demo.enqueued (task_id, workflow_type)"
                        " SELECT orchestrator.enqueue(%s, %s::jsonb, %s), %s",
                        (self.workflow_type, json.dumps(payload), priority, self.workflow_type))


class AiApi:
    """The simulated AI API over HTTP (test/n8n/ai_api_sim.py)."""

    def __init__(self, port):
        self.base = f"http://127.0.0.1:{port}/v1"

    def call(self, api, task_id, step, model_tier):
        """(status, cost in USD, retry-after seconds or None)."""
        body = json.dumps({"task_id": task_id, "step": step, "model_tier": model_tier}).encode()
        request = urllib.request.Request(f"{self.base}/{api}/generate", data=body,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())["cost_usd"], None
        except urllib.error.HTTPError as e:
            retry_after = e.headers.get("Retry-After")
            return e.code, 0.0, int(retry_after) if retry_after else None


class Outcome:
    """What one execution did: cost, calls made per API, tasks failed for good, or the API
    failure that ends the whole execution."""

    def __init__(self, calls_per_task):
        self.cost = 0.0
        self.api_calls = {api: 0 for api, _ in calls_per_task}
        self.failed_tasks = []
        self.failure = None  # (api, status, retry-after seconds or None)


class Worker(threading.Thread):
    """One n8n sub-workflow runner: dispatch, work, callback, until told to stop."""

    def __init__(self, number, calls_per_task, api, stop):
        super().__init__(name=f"worker-{number}", daemon=True)
        self.calls_per_task = calls_per_task  # workflow type -> [(api, calls)]
        self.api = api
        self.stop = stop
        self.executions = 0
        self.error = None

    def run(self):
        try:
            conn = connect(self.name, "orchestrator_worker", autocommit=False)
            with conn.cursor() as cur:
                cur.execute(f"LISTEN {DISPATCH_CHANNEL}")
            conn.commit()
            while not self.stop.is_set():
                row = self.dispatch(conn)
                if row is None:
                    self.wait_for_hint(conn)
                else:
                    self.executions += 1
                    self.report(conn, row[0], self.work(*row))
            conn.close()
        except Exception as e:  # reported by the driver; the run fails
            self.error = e

    def dispatch(self, conn):
        with conn.cursor() as cur:
            cur.execute("SELECT execution_id, workflow_type, tasks, model_tier"
                        "  FROM orchestrator.orchestrate_next_execution(%s, 1)", (self.name,))
            row = cur.fetchone()
        conn.commit()
        return row

    def wait_for_hint(self, conn):
        if not conn.notifies:
            select.select([conn], [], [], IDLE_WAIT_S)
            conn.poll()
        del conn.notifies[:]

    def work(self, execution_id, workflow_type, tasks, model_tier):
        """Calls the API for each task in turn. A 400 fails that task for good; a 429 or 5xx ends
        the execution (as an n8n workflow stops at a failing HTTP node)."""
        calls = self.calls_per_task[workflow_type]
        outcome = Outcome(calls)
        for task in tasks:
            if not self.work_task(task["task_id"], calls, model_tier, outcome):
                break
        return outcome

    def work_task(self, task_id, calls, model_tier, outcome):
        """One task's calls; False when the execution must stop."""
        for api, n in calls:
            for step in range(n):
                status, cost, retry_after = self.api.call(api, task_id, step, model_tier)
                outcome.api_calls[api] += 1
                outcome.cost += cost
                if status == 400:
                    outcome.failed_tasks.append({"task_id": task_id, "status": "failed",
                                                 "error": f"{api} rejected the request",
                                                 "retryable": False})
                    return True
                if status != 200:
                    outcome.failure = (api, status, retry_after)
                    return False
        return True

    def report(self, conn, execution_id, outcome):
        try:
            with conn.cursor() as cur:
                if outcome.failure is None:
                    action = "complete"
                    cur.execute("SELECT orchestrator.complete_execution(%s, %s::jsonb, %s,"
                                " %s::jsonb, %s::jsonb)",
                                (execution_id, json.dumps({"ok": True}), round(outcome.cost, 6),
                                 json.dumps(outcome.failed_tasks) if outcome.failed_tasks else None,
                                 json.dumps(outcome.api_calls)))
                else:
                    api, status, retry_after = outcome.failure
                    action = f"fail {status}"
                    pause = f"{retry_after} seconds" if status == 429 and retry_after else None
                    cur.execute("SELECT orchestrator.fail_execution(%s, %s, true, %s,"
                                " %s::interval, %s)",
                                (execution_id, f"HTTP {status} from {api}", api, pause,
                                 round(outcome.cost, 6)))
                    if pause:
                        cur.execute("INSERT INTO demo.pause_log"
                                    " VALUES (%s, %s, orchestrator.now(), %s::interval)",
                                    (execution_id, api, pause))
            conn.commit()
        except psycopg2.Error as e:
            conn.rollback()
            with conn.cursor() as cur:
                cur.execute("INSERT INTO demo.callback_error (execution_id, action, sqlstate,"
                            " message) VALUES (%s, %s, %s, %s)",
                            (execution_id, action, e.pgcode, str(e).strip()))
            conn.commit()
