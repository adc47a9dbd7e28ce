"""An endpoint stand-in: a small OpenAI-compatible HTTP server on 127.0.0.1 that stands in for a
remote, paid API misbehaving the ways real ones do (which llama.cpp cannot be made to do on demand).

Good replies are a real model's output: the stand-in forwards a request it has not seen to a real
llama.cpp server (`upstream`) and records the reply by the request's body; a request seen before
is answered from the recording at once, so a fault build runs at the speed of its faults. A request
for a model named in `replay` gets that model's recorded reply instead (the fault build's generator:
what the real Qwen2.5-Coder-1.5B wrote, tests/data/canary_generator_reply.json; SmolLM2's own
questions are all refused by the validators).

Faults (what it serves -> the fault kind a client should record):
  server_error  500 with a JSON error body                          -> server_error
  echo_auth     500 whose body echoes the request's Authorization   -> server_error (scrubbed)
  rate_limited  429 with Retry-After (seconds, or an HTTP date)     -> rate_limited
  request_timeout 408                                                -> timeout
  truncated     200 application/json, the good body cut in half     -> not_json
  html          200 text/html (a proxy's error page)                 -> html
  error_object  200 {"error": {..., "code": 503}}                    -> error_object (retried)
  error_object_fatal 200 {"error": {"type": "invalid_request_error"}} -> error_object (not retried)
  trickle_slow  200, the good body a few bytes at a time, slower than the client's timeout -> timeout
  drop          200, half the good body, then the connection closes  -> connection
  trickle_ok    200, the good body trickled within the timeout       -> (a good reply)

Which fault a request gets is decided by `script` (one per request, in order), by a seeded deck
(`deck`: each fault a given number of times among good replies, shuffled with the seed and dealt in
arrival order, so every kind in it is served once the build sends as many requests as the deck
holds), or by a seeded draw per (request body, arrival number) from `mix`.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import math
import random
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

from tests.fixtures import PDF_FACTS

CLIENT_KIND = {"server_error": "server_error", "echo_auth": "server_error", "rate_limited": "rate_limited",
               "request_timeout": "timeout", "truncated": "not_json", "html": "html",
               "error_object": "error_object", "error_object_fatal": "error_object", "trickle_slow": "timeout",
               "drop": "connection"}
HTML_PAGE = b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>"


@dataclass
class Event:
    """One request the stand-in answered."""

    key: str  # sha256 of the request body: which step (a retry has the same key)
    arrival: int  # 0 for the first time this body came, 1 for its first retry, ...
    fault: str  # "good", "trickle_ok" or a key of CLIENT_KIND
    t_in: float  # wall-clock time the request arrived
    t_out: float = 0.0  # wall-clock time the reply was sent (its last byte, or the give-up)
    retry_after: float | None = None  # the seconds a 429 asked to wait
    retry_at: float | None = None  # the wall-clock time before which the 429 asked for no retry
    live: bool = False  # the good reply came from upstream (not the recording)


@dataclass
class StandInConfig:
    mix: dict[str, float] = field(default_factory=dict)  # fault -> probability; the rest good
    deck: dict[str, int] = field(default_factory=dict)  # fault (or "good") -> cards; dealt before `mix` applies
    seed: int = 0
    retry_after: tuple[int, ...] = (1, 2)  # seconds a 429 asks for
    date_every: int = 3  # every n-th 429 says it as an HTTP date (1: all; 0: none)
    trickle_slow_s: float = 8.0  # how long a slow trickle would take
    trickle_ok_s: float = 0.6
    model: str | None = None  # rewrite the request's model name for upstream (llama.cpp serves one model)
    replay: dict[str, bytes] = field(default_factory=dict)  # model name -> its recorded good reply (not forwarded)


class QuietHandler(BaseHTTPRequestHandler):
    """A stand-in's request handler: no access log, and one way to answer."""

    def send_body(self, status: int, payload: bytes, ctype: str = "application/json",
                  headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(payload)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


class HttpStandIn:
    """A stand-in's threaded HTTP server on 127.0.0.1: a context manager, `url` its /v1 base."""

    def _listen(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):  # noqa: ANN204 - the stand-in itself
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"


class EndpointStandIn(HttpStandIn):
    def __init__(self, upstream: str | None = None, config: StandInConfig | None = None,
                 script: list[str] | None = None, recording: dict[str, bytes] | None = None):
        self.upstream = upstream.rstrip("/") if upstream else None
        self.config = config or StandInConfig()
        self.script = list(script or [])
        self.recording: dict[str, bytes] = recording if recording is not None else {}
        self.events: list[Event] = []
        self.auth_seen: list[str] = []
        self._arrivals: Counter = Counter()
        self._n429 = 0
        self._cards: list[str] = []
        self._decks = 0
        self._lock = threading.Lock()
        self._upstream_lock = threading.Lock()  # llama.cpp answers one at a time anyway
        outer = self

        class Handler(QuietHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer._serve(self, body)

            def do_GET(self):  # noqa: N802 - /v1/models, as a real endpoint has
                self.send_body(200, json.dumps({"data": [{"id": "stand-in"}]}).encode())

        self._listen(Handler)

    # -- what was served
    def served(self) -> Counter:
        """Faults served, by the kind a client should record for each."""
        return Counter(CLIENT_KIND[e.fault] for e in self.events if e.fault in CLIENT_KIND)

    def served_raw(self) -> Counter:
        return Counter(e.fault for e in self.events)

    def gaps_after_429(self) -> list[tuple[float, float]]:
        """(asked, waited) per 429 that was retried: the seconds the 429 asked for (from the moment it
        was sent) and the seconds until the same request came again."""
        out = []
        by_key: dict[str, list[Event]] = {}
        for e in sorted(self.events, key=lambda e: e.t_in):
            by_key.setdefault(e.key, []).append(e)
        for evs in by_key.values():
            for a, b in zip(evs, evs[1:]):
                if a.fault == "rate_limited":
                    out.append((a.retry_at - a.t_out, b.t_in - a.t_out))
        return out

    def min_gap_any_request_after_429(self) -> float | None:
        """The least time between a 429's reply and any later request, less what that 429 asked."""
        worst = None
        for a in (e for e in self.events if e.fault == "rate_limited"):
            later = [e.t_in for e in self.events if e.t_in > a.t_out]
            if later:
                slack = min(later) - a.retry_at
                worst = slack if worst is None else min(worst, slack)
        return worst

    # -- serving
    def _decide(self, key: str) -> tuple[int, str]:
        with self._lock:
            n = self._arrivals[key]
            self._arrivals[key] += 1
            if self.script:
                return n, self.script.pop(0)
            if self.config.deck:
                if not self._cards:
                    self._cards = [f for f, k in sorted(self.config.deck.items()) for _ in range(k)]
                    random.Random(f"{self.config.seed}:deck:{self._decks}").shuffle(self._cards)
                    self._decks += 1
                return n, self._cards.pop()
        rng = random.Random(f"{self.config.seed}:{key}:{n}")
        x, acc = rng.random(), 0.0
        for fault, p in sorted(self.config.mix.items()):
            acc += p
            if x < acc:
                return n, fault
        return n, "good"

    def _good(self, body: bytes, key: str, ev: Event) -> bytes:
        if key in self.recording:
            return self.recording[key]
        payload = json.loads(body)
        if payload.get("model") in self.config.replay:
            return self.config.replay[payload["model"]]
        if self.upstream is None:
            raise RuntimeError("the endpoint stand-in has no recording for this request and no upstream")
        if self.config.model:
            payload["model"] = self.config.model
        with self._upstream_lock:
            r = httpx.post(f"{self.upstream}/chat/completions", json=payload, timeout=600)
        r.raise_for_status()
        ev.live = True
        self.recording[key] = r.content
        return r.content

    def _serve(self, h: BaseHTTPRequestHandler, body: bytes) -> None:
        key = hashlib.sha256(body).hexdigest()
        arrival, fault = self._decide(key)
        ev = Event(key, arrival, fault, time.time())
        with self._lock:
            self.events.append(ev)
        self.auth_seen.append(h.headers.get("Authorization", ""))
        try:
            self._answer(h, body, key, ev)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a trickle past its deadline): what it should do
        finally:
            ev.t_out = ev.t_out or time.time()

    def _answer(self, h, body: bytes, key: str, ev: Event) -> None:  # noqa: ANN001
        f = ev.fault
        if f == "server_error":
            h.send_body(500, b'{"error": {"message": "internal error", "type": "server_error"}}')
        elif f == "echo_auth":
            echo = json.dumps({"error": {"message": f"upstream failed for request with Authorization: "
                                                    f"{h.headers.get('Authorization', '')}", "code": 500}})
            h.send_body(500, echo.encode())
        elif f == "rate_limited":
            with self._lock:
                self._n429 += 1
                as_date = bool(self.config.date_every) and self._n429 % self.config.date_every == 0
            secs = random.Random(f"{self.config.seed}:{key}:{ev.arrival}:ra").choice(self.config.retry_after)
            now = time.time()
            if as_date:  # whole seconds: the date is the next whole second at least `secs` away
                when = math.ceil(now + secs)
                value = email.utils.formatdate(when, usegmt=True)
                ev.retry_at, ev.retry_after = float(when), when - now
            else:
                value, ev.retry_after, ev.retry_at = str(secs), float(secs), None
            h.send_body(429, b'{"error": {"message": "rate limit reached", "type": "rate_limit"}}',
                        headers={"Retry-After": value})
            ev.t_out = time.time()
            if ev.retry_at is None:
                ev.retry_at = ev.t_out + secs
        elif f == "request_timeout":
            h.send_body(408, b'{"error": {"message": "request timed out"}}')
        elif f == "html":
            h.send_body(200, HTML_PAGE, "text/html; charset=utf-8")
        elif f == "error_object":
            h.send_body(200, b'{"error": {"message": "upstream overloaded", "code": 503}}')
        elif f == "error_object_fatal":
            h.send_body(200,
                        b'{"error": {"message": "this model does not support that", "type": "invalid_request_error"}}')
        else:
            good = self._good(body, key, ev)
            if f == "truncated":
                h.send_body(200, good[: len(good) // 2])
            elif f in ("trickle_slow", "trickle_ok"):
                self._trickle(h, good, self.config.trickle_slow_s if f == "trickle_slow" else self.config.trickle_ok_s)
            elif f == "drop":
                h.send_response(200)
                h.send_header("Content-Type", "application/json")
                h.send_header("Content-Length", str(len(good)))
                h.end_headers()
                h.wfile.write(good[: len(good) // 2])
                h.wfile.flush()
                h.close_connection = True
                h.connection.shutdown(socket.SHUT_RDWR)
            else:
                h.send_body(200, good)

    @staticmethod
    def _trickle(h, good: bytes, seconds: float) -> None:  # noqa: ANN001
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(good)))
        h.end_headers()
        h.wfile.flush()
        pieces = 40
        step = max(1, math.ceil(len(good) / pieces))
        for i in range(0, len(good), step):
            h.wfile.write(good[i:i + step])
            h.wfile.flush()
            time.sleep(seconds / pieces)


# The seeded deck a fault build gets: every fault kind (429 twice) among as many good replies; reshuffled
# when dealt out, so about half of all requests get a fault.
DECK = {"server_error": 1, "echo_auth": 1, "rate_limited": 2, "request_timeout": 1, "truncated": 1, "html": 1,
        "error_object": 1, "trickle_slow": 1, "drop": 1, "trickle_ok": 1, "good": 9}


GENERATOR_REPLY = Path(__file__).parent / "data" / "canary_generator_reply.json"
GENERATOR = "qwen-recorded"  # the fault build's generator: its requests get GENERATOR_REPLY
TARGETS = ("smollm2-a", "smollm2-b", "smollm2-c", "smollm2-d")  # forwarded to SmolLM2: enough steps for the deck


# The stand-in notes a trickled reply's end after its last pause (trickle_s / 40): the client has it whole by then.
SETTLE = 0.1


def settled(ep: EndpointStandIn) -> list[Event]:
    """The stand-in's events once its last trickle pause is over (it records a reply's end after that pause)."""
    time.sleep(2 * SETTLE)
    return list(ep.events)


def overlapping(events: list[Event]) -> int:
    """Pairs of requests the stand-in was answering at the same time."""
    evs = sorted(events, key=lambda e: e.t_in)
    return sum(b.t_in < a.t_out - SETTLE for i, a in enumerate(evs) for b in evs[i + 1:])


def most_at_once(events: list[Event]) -> int:
    """The most requests the stand-in was answering at one moment."""
    # at a tie an end sorts before a start
    marks = sorted([(e.t_in, 1) for e in events] + [(e.t_out - SETTLE, -1) for e in events])
    most = now = 0
    for _, step in marks:
        now += step
        most = max(most, now)
    return most


def completion(content: str, model: str = "stand-in") -> bytes:
    """An OpenAI chat completion whose message is `content`."""
    return json.dumps({"id": "standin", "object": "chat.completion", "created": 0, "model": model,
                       "choices": [{"index": 0, "finish_reason": "stop",
                                    "message": {"role": "assistant", "content": content}}],
                       "usage": {"prompt_tokens": 400, "completion_tokens": len(content) // 4,
                                 "total_tokens": 400 + len(content) // 4}}).encode()


def generator_replay() -> dict[str, bytes]:
    """StandInConfig.replay for the fault build: the real Qwen2.5-Coder-1.5B's questions on FAULT_CORPUS
    (recorded by tests/data/record_canary_generator.py for the same text, kind and count)."""
    recorded = json.loads(GENERATOR_REPLY.read_text(encoding="utf-8"))
    return {GENERATOR: completion(json.dumps(recorded["content"]), recorded["model"])}


# The text the generator's reply was recorded on (tests/conftest.py's PDF_FACTS, one chunk).
FAULT_CORPUS = {"korvath.md": "# Korvath K-12 facts\n\n" + " ".join(PDF_FACTS) + "\n"}
KIND, QUESTIONS_PER_CHUNK = "mcq", 3  # what the recording holds


def write_fault_corpus(folder) -> None:  # noqa: ANN001
    """One short document, one chunk: its questions, each asked of four targets, are enough steps for the deck."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in FAULT_CORPUS.items():
        (folder / name).write_text(text, encoding="utf-8")


def fault_build_config(name: str, sources: str, url: str, out: str, cache: str, key_env: str,
                       timeout_s: float) -> dict:
    """A build whose generator and targets are the endpoint at `url` (one endpoint, one breaker)."""
    common = {"base_url": url, "api_key_env": key_env, "json_mode": "json_object_schema", "timeout_s": timeout_s,
              "max_retries": 3, "max_concurrency": 2}
    return {"name": name, "sources": [sources], "questions": 40, "output_dir": out, "cache_dir": cache,
            "models": {"generator": {"model": GENERATOR, "max_tokens": 900, **common},
                       "targets": [{"model": t, "max_tokens": 32, **common} for t in TARGETS]},
            "generation": {"questions_per_chunk": QUESTIONS_PER_CHUNK, "kinds": [KIND]},
            "difficulty": {"band": "0:1", "closed_book": "off", "check_gold": False},
            "contamination": {"enabled": False}}
