#!/usr/bin/python3
"""A simulated AI API on loopback only (standard library), for the n8n test and the demo.

POST /v1/<api>/generate (api: gemini or openai) answers 200 with a text and a cost, 429 with a
Retry-After header, 503 (overloaded) or 400 (bad request), after a delay. GET /stats returns the
counts as JSON. Two behaviours:

- Scripted (the command line, for the n8n test), deterministic: the Nth call to each API
  (--rate-limit-call, default 3) gets 429; the first call for a task id divisible by
  --fail-every (default 5) gets 503; every answer takes --delay seconds. The chosen port is
  written to --port-file; the server exits by itself after --lifetime seconds.
- Workload (imported by examples/demo/drive.py): a seeded random latency, sporadic 503s, 429s
  and 400s at given rates, plus scheduled events: an outage of one API (every call 503) and
  forced 429s.
"""
import argparse
import json
import os
import random
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

COST_USD = {"gemini": 0.004, "openai": 0.006}


class Scripted:
    """The n8n test's deterministic answers."""

    def __init__(self, args):
        self.args = args
        self.calls = {}
        self.failed_tasks = set()

    def answer(self, api, task_id):
        """(status, delay in seconds); called under the server's lock."""
        n = self.calls[api] = self.calls.get(api, 0) + 1
        if n == self.args.rate_limit_call:
            status = 429
        elif (isinstance(task_id, int) and task_id % self.args.fail_every == 0
              and (api, task_id) not in self.failed_tasks):
            self.failed_tasks.add((api, task_id))
            status = 503
        else:
            status = 200
        return status, self.args.delay

    def retry_after(self):
        return self.args.retry_after


class Workload:
    """Random answers for the demo's workload, with scheduled events.

    delay: (low, high) seconds, uniform; p_503, p_429, p_400: chances per call;
    outages: [(api, start, end)] in seconds since start(), every call 503 (answered fast);
    forced_429s: [(api, at)], the first call to api at or after `at` gets 429."""

    def __init__(self, seed, delay=(0.1, 0.5), p_503=0.01, p_429=0.005, p_400=0.005,
                 retry_after_s=5, outages=(), forced_429s=()):
        self.random = random.Random(seed)
        self.delay = delay
        self.p_503, self.p_429, self.p_400 = p_503, p_429, p_400
        self.retry_after_s = retry_after_s
        self.outages = list(outages)
        self.forced_429s = list(forced_429s)
        self.started = time.monotonic()

    def start(self):
        """Event times count from now."""
        self.started = time.monotonic()

    def answer(self, api, task_id):
        now = time.monotonic() - self.started
        if any(a == api and start <= now < end for a, start, end in self.outages):
            return 503, 0.05
        due = [e for e in self.forced_429s if e[0] == api and e[1] <= now]
        if due:
            self.forced_429s.remove(due[0])
            return 429, 0.05
        delay = self.random.uniform(*self.delay)
        roll = self.random.random()
        if roll < self.p_429:
            return 429, 0.05
        if roll < self.p_429 + self.p_503:
            return 503, delay
        if roll < self.p_429 + self.p_503 + self.p_400:
            return 400, delay
        return 200, delay

    def retry_after(self):
        return self.retry_after_s


class State:
    def __init__(self, behaviour):
        self.behaviour = behaviour
        self.lock = threading.Lock()
        self.calls = {}         # api -> calls received
        self.answers = {}       # "api:status" -> count

    def decide(self, api, task_id):
        """Returns (status, delay) for this call and counts it."""
        with self.lock:
            self.calls[api] = self.calls.get(api, 0) + 1
            status, delay = self.behaviour.answer(api, task_id)
            key = f"{api}:{status}"
            self.answers[key] = self.answers.get(key, 0) + 1
            return status, delay

    def stats(self):
        with self.lock:
            return {"calls": dict(self.calls), "answers": dict(self.answers)}


class Handler(BaseHTTPRequestHandler):
    server_version = "ai-api-sim/1"

    def log_message(self, fmt, *args):  # quiet: callers print /stats instead
        pass

    def reply(self, status, body, headers=()):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/stats":
            self.reply(200, self.server.state.stats())
        else:
            self.reply(404, {"error": "not found"})

    def do_POST(self):
        parts = self.path.strip("/").split("/")
        if len(parts) != 3 or parts[0] != "v1" or parts[2] != "generate" or parts[1] not in COST_USD:
            self.reply(404, {"error": "not found"})
            return
        api = parts[1]
        length = int(self.headers.get("Content-Length") or 0)
        try:
            request = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            self.reply(400, {"error": "body is not JSON"})
            return
        task_id = request.get("task_id")
        state = self.server.state
        status, delay = state.decide(api, task_id)
        time.sleep(delay)
        if status == 429:
            self.reply(429, {"error": "rate limited"},
                       [("Retry-After", str(state.behaviour.retry_after()))])
        elif status == 503:
            self.reply(503, {"error": "overloaded, try later"})
        elif status == 400:
            self.reply(400, {"error": "the request was rejected"})
        else:
            self.reply(200, {"text": f"{api} {request.get('step')} for task {task_id}",
                             "model": request.get("model_tier"), "cost_usd": COST_USD[api]})


def serve(behaviour):
    """A server on a free loopback port (server.server_address[1]), not yet serving."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.state = State(behaviour)
    return server


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--delay", type=float, default=0.15)
    parser.add_argument("--rate-limit-call", type=int, default=3)
    parser.add_argument("--retry-after", type=int, default=30)
    parser.add_argument("--fail-every", type=int, default=5)
    parser.add_argument("--lifetime", type=float, default=900)
    args = parser.parse_args()

    server = serve(Scripted(args))
    threading.Timer(args.lifetime, server.shutdown).start()
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.replace(args.port_file + ".tmp", args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
