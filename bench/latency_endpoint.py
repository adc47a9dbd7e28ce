"""A latency-bound endpoint for the concurrency benchmark: an OpenAI-compatible server on 127.0.0.1 that
answers each chat request from a reply recorded in a real run, after a fixed delay, many at once.

It stands in for a hosted API or a vLLM server with room for many requests, where a build's time is
the requests' latency, not this machine's CPU: every request takes `delay` seconds however many are in
flight, so a build that sends N at once can finish N times sooner. The replies are a real model's
(recorded with `record=True` and an `upstream` llama.cpp server), keyed by a hash of the request's
messages, model and response_format, so a rerun of the same build finds every one.

A request with no recorded reply is answered 404 with one line naming its key and the fix, and is
counted (`misses`): a build that asks something new at another concurrency is a finding, not noise.

    .venv/bin/python bench/latency_endpoint.py --recording bench/data/concurrency-replies.json [--delay 2]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx


def request_key(payload: dict) -> str:
    """What identifies a reply: the messages, the model name and the response format (not the transport)."""
    blob = json.dumps({k: payload.get(k) for k in ("messages", "model", "response_format")}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


class LatencyEndpoint:
    """Serve `replies` (key -> a chat completion object) after `delay` s each; in record mode, ask `upstream`
    (its model renamed `upstream_model`) for what is not recorded yet, one at a time, and keep it."""

    def __init__(self, replies: dict[str, dict] | None = None, delay: float = 2.0, upstream: str | None = None,
                 upstream_model: str | None = None, port: int = 0):
        self.replies = dict(replies or {})
        self.delay = delay
        self.upstream = upstream.rstrip("/") if upstream else None
        self.upstream_model = upstream_model
        self.hits = 0
        self.misses: list[str] = []  # keys asked for with no recorded reply
        self.in_flight = 0
        self.most_in_flight = 0
        self.first_in: float | None = None  # monotonic: the first request's arrival (reset by the caller)
        self.last_out: float | None = None  # and the last reply's end: the build's span at the endpoint
        self._lock = threading.Lock()
        self._upstream_lock = threading.Lock()  # a llama.cpp server answers one at a time anyway
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, payload = outer.answer(body)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802 - /v1/models, as a real endpoint has
                data = json.dumps({"data": [{"id": "latency-endpoint"}]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.server.request_queue_size = 128  # many clients connect at once
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> "LatencyEndpoint":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def answer(self, body: bytes) -> tuple[int, dict]:
        with self._lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            if self.first_in is None:
                self.first_in = time.monotonic()
        try:
            t0 = time.monotonic()
            try:
                payload = json.loads(body)
            except ValueError:
                return 400, {"error": {"message": "the request body is not JSON"}}
            key = request_key(payload)
            reply = self.replies.get(key)
            if reply is None and self.upstream is not None:
                reply = self._ask_upstream(payload)
                with self._lock:
                    self.replies[key] = reply
            time.sleep(max(0.0, self.delay - (time.monotonic() - t0)))
            if reply is None:
                with self._lock:
                    self.misses.append(key)
                print(f"latency endpoint: no recorded reply for request {key[:16]} (model {payload.get('model')!r}); "
                      "the build asked something the recording run did not: re-record with "
                      "`bench/concurrency.py record`", file=sys.stderr)
                return 404, {"error": {"message": f"no recorded reply for request {key[:16]}", "type": "not_found"}}
            with self._lock:
                self.hits += 1
            return 200, reply
        finally:
            with self._lock:
                self.in_flight -= 1
                self.last_out = time.monotonic()

    def _ask_upstream(self, payload: dict) -> dict:
        forward = dict(payload, model=self.upstream_model or payload.get("model"))
        with self._upstream_lock:
            r = httpx.post(f"{self.upstream}/chat/completions", json=forward, timeout=900)
        r.raise_for_status()
        reply = r.json()
        reply["model"] = payload.get("model")
        for k in ("id", "created", "system_fingerprint"):  # what varies between runs and no client reads
            reply.pop(k, None)
        return reply

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(dict(sorted(self.replies.items())), indent=0, sort_keys=True) + "\n",
                        encoding="utf-8")


def load_replies(path: Path) -> dict[str, dict]:
    return json.loads(path.read_text(encoding="utf-8"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--recording", type=Path, required=True)
    ap.add_argument("--delay", type=float, default=2.0)
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    with LatencyEndpoint(load_replies(args.recording), args.delay, port=args.port) as ep:
        print(f"{ep.url} ({len(ep.replies)} recorded replies, {args.delay:g}s each); Ctrl-C stops", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    print(f"{ep.hits} answered, {len(ep.misses)} not recorded, at most {ep.most_in_flight} at once")


if __name__ == "__main__":
    main()
