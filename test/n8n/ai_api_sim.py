#!/usr/bin/python3
"""A simulated AI API for the n8n test, on loopback only (standard library).

POST /v1/<api>/generate answers after a short delay. Deterministically:
the Nth call to each API (--rate-limit-call, default 3) gets 429 with
Retry-After; the first call for a task id divisible by --fail-every
(default 5) gets 503; everything else gets 200 with a text and a cost.
GET /stats returns the counts as JSON. The chosen port is written to
--port-file. It exits by itself after --lifetime seconds.
"""
import argparse
import os
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

COST_USD = {"gemini": 0.004, "openai": 0.006}


class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.calls = {}         # api -> calls received
        self.answers = {}       # "api:status" -> count
        self.failed_tasks = set()

    def decide(self, api, task_id):
        """Returns the status for this call and counts it."""
        with self.lock:
            n = self.calls[api] = self.calls.get(api, 0) + 1
            if n == self.args.rate_limit_call:
                status = 429
            elif (isinstance(task_id, int) and task_id % self.args.fail_every == 0
                  and (api, task_id) not in self.failed_tasks):
                self.failed_tasks.add((api, task_id))
                status = 503
            else:
                status = 200
            key = f"{api}:{status}"
            self.answers[key] = self.answers.get(key, 0) + 1
            return status

    def stats(self):
        with self.lock:
            return {"calls": dict(self.calls), "answers": dict(self.answers)}


class Handler(BaseHTTPRequestHandler):
    server_version = "ai-api-sim/1"

    def log_message(self, fmt, *args):  # quiet: the test prints /stats instead
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
        status = self.server.state.decide(api, task_id)
        time.sleep(self.server.state.args.delay)
        if status == 429:
            self.reply(429, {"error": "rate limited"},
                       [("Retry-After", str(self.server.state.args.retry_after))])
        elif status == 503:
            self.reply(503, {"error": "overloaded, try later"})
        else:
            self.reply(200, {"text": f"{api} {request.get('step')} for task {task_id}",
                             "model": request.get("model_tier"), "cost_usd": COST_USD[api]})


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--delay", type=float, default=0.15)
    parser.add_argument("--rate-limit-call", type=int, default=3)
    parser.add_argument("--retry-after", type=int, default=30)
    parser.add_argument("--fail-every", type=int, default=5)
    parser.add_argument("--lifetime", type=float, default=900)
    args = parser.parse_args()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.state = State(args)
    threading.Timer(args.lifetime, server.shutdown).start()
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.replace(args.port_file + ".tmp", args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
