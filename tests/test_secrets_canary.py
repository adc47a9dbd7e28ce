"""Canary keys through the real CLI on a real Prefect server: `build`, `refresh`, `eval` and
`serve` (and a run of the served deployment) with a key in an environment variable, in model URLs
(every form the redaction knows) and in a feed URL; then not one occurrence of any canary in the
outputs, the cache, the Prefect server's home (its database and files), its log, or the CLI's
output -- while the keys did reach the endpoints.

The model endpoints are stand-ins on 127.0.0.1 (a paid API cannot run here): a small
OpenAI-compatible proxy that refuses a request carrying no canary. It forwards the targets' and
the evaluated models' requests to the real SmolLM2 llama.cpp server fixture; to the generator's it
replays the reply the real Qwen2.5-Coder-1.5B wrote for this document
(tests/data/record_canary_generator.py), so the build publishes on every run, in seconds
(SmolLM2's own questions are refused by the quality validator). The feed is a local HTTP server
that refuses a request without its token.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.fixtures import PDF_FACTS, REPO
from tests.prefect_server import api_call, start_server, stop

R = "cnry" + uuid.uuid4().hex[:10]  # every canary contains R: one string to look for
NAME = "canary"


def key(tag: str) -> str:
    return f"{R}{tag}"


def _serve(handler: type[BaseHTTPRequestHandler]) -> tuple[ThreadingHTTPServer, int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_address[1]


REPLY = Path(__file__).parent / "data" / "canary_generator_reply.json"


def _completion(content: str) -> bytes:
    return json.dumps({"id": "standin", "object": "chat.completion", "created": 0, "model": "standin",
                       "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}],
                       "usage": {"prompt_tokens": 400, "completion_tokens": len(content) // 4,
                                 "total_tokens": 400 + len(content) // 4}}).encode()


class EndpointStandIn:
    """A stand-in for remote OpenAI-compatible endpoints that take a key in the URL: it answers
    401 to a request with no canary in its path, query or Authorization header; the generator's
    (path /gen/v1/...) get the recorded reply, the others (path /fNN/v1/...) are forwarded to the
    real SmolLM2 server. `seen`: the canaries that arrived."""

    def __init__(self, upstream: str):
        self.seen: set[str] = set()
        recorded = json.dumps(json.loads(REPLY.read_text())["content"])
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _relay(self, method: str) -> None:
                auth = self.headers.get("Authorization") or ""
                blob = self.path + " " + auth
                if auth.startswith("Basic "):
                    blob += " " + base64.b64decode(auth[6:]).decode("utf-8", "replace")
                found = {k for k in _all_keys() if k in blob}
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)) if method == "POST" else None
                path = urlsplit(self.path).path
                if not found:
                    status, payload = 401, json.dumps({"error": {"message": "no key", "type": "auth"}}).encode()
                elif path.startswith("/gen/") and path.endswith("/chat/completions"):
                    outer.seen |= found
                    status, payload = 200, _completion(recorded)
                elif path.endswith("/chat/completions") or path.endswith("/models"):
                    outer.seen |= found
                    r = httpx.request(method, upstream + ("/chat/completions" if path.endswith("completions") else "/models"),
                                      content=body, headers={"Content-Type": "application/json"}, timeout=300)
                    status, payload = r.status_code, r.content
                else:
                    status, payload = 404, b'{"error": {"message": "no such path"}}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_POST(self):  # noqa: N802
                self._relay("POST")

            def do_GET(self):  # noqa: N802
                self._relay("GET")

            def log_message(self, *args):  # noqa: ANN002
                pass

        self.server, self.port = _serve(Handler)


FEED_TEXT = " ".join(PDF_FACTS)
GENERATOR_KIND, QUESTIONS_PER_CHUNK = "mcq", 3  # what tests/data/record_canary_generator.py recorded
ATOM = f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Korvath notes</title><id>urn:korvath</id>
<updated>2026-11-01T00:00:00Z</updated>
<entry><title>Korvath K-12 facts</title><id>urn:korvath:k12</id><updated>2026-11-01T00:00:00Z</updated>
<published>2026-11-01T00:00:00Z</published><content type="text">{FEED_TEXT}</content></entry></feed>
"""


class FeedServer:
    """An Atom feed that answers 403 unless the request carries its token; `hits`: requests with it."""

    def __init__(self, token: str):
        self.hits = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                ok = f"token={token}" in self.path
                outer.hits += ok
                payload = ATOM.encode() if ok else b"forbidden"
                self.send_response(200 if ok else 403)
                self.send_header("Content-Type", "application/atom+xml" if ok else "text/plain")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):  # noqa: ANN002
                pass

        self.server, self.port = _serve(Handler)


# the forms of a key in a model URL that reach the endpoint (a fragment never leaves the client)
def model_urls(port: int) -> dict[str, str]:
    h = f"127.0.0.1:{port}"
    return {
        "f01": f"http://user:{key('f01')}@{h}/f01/v1",
        "f02": f"http://user:p%40s%2F{key('f02')}@{h}/f02/v1",  # '@' and '/' inside a password, encoded
        "f03": f"http://{h}/f03/v1?api_key={key('f03')}",
        "f04": f"http://{h}/f04/v1?code={key('f04')}",
        "f05": f"http://{h}/f05/v1?sv=2024&sig={key('f05')}",
        "f06": f"http://{h}/f06/v1?password={key('f06')}",
        "f07": f"http://{h}/f07/v1?secret={key('f07')}",
        "f08": f"http://{h}/f08/v1?auth={key('f08')}",
        "f09": f"http://{h}/f09/v1?subscription-key={key('f09')}",
        "f10": f"http://{h}/f10/v1?x-api-key={key('f10')}",
        "f11": f"http://{h}/f11/v1;token={key('f11')}",
        "f12": f"HTTP://user:{key('f12')}@{h}/f12/v1",
        "f13": f"http://{h}/f13/v1?api%5Fkey={key('f13')}&model=smol",
    }


ENV_KEY, OPENAI_KEY, FEED_KEY, GEN_KEY = key("env"), key("openai"), key("feed"), key("gen")
FRAGMENT_KEY, RAW_PW_KEY = key("frag"), key("rawpw")
BUILD_TARGETS = ("f01", "f03")  # the build's targets; the other forms are its judges (kinds that need none)


def _all_keys() -> list[str]:
    return [*(key(f"f{i:02d}") for i in range(1, 14)), ENV_KEY, OPENAI_KEY, FEED_KEY, GEN_KEY, FRAGMENT_KEY, RAW_PW_KEY]


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory):
    """`prefect server start` on a free port, with its own PREFECT_HOME (database, files) and log."""
    home = tmp_path_factory.mktemp("prefect-home")
    log = home.parent / f"{home.name}-server.log"
    proc, api = start_server(home, log)
    yield {"api": api, "home": home, "log": log, "proc": proc}
    stop(proc)


def _config(tmp: Path, stand_in: int, feed: int) -> Path:
    urls = model_urls(stand_in)

    def spec(url: str, **kw: object) -> dict:
        return {"model": "smol", "base_url": url, "json_mode": "json_object_schema", "max_tokens": 32,
                "max_retries": 1, "timeout_s": 300, **kw}

    cfg = {
        "name": NAME, "feeds": [f"http://127.0.0.1:{feed}/feed.xml?token={FEED_KEY}"], "questions": 1,
        "output_dir": str(tmp / "outputs"), "cache_dir": str(tmp / "cache"),
        "models": {
            # a remote generator: a key in its URL and one in an environment variable
            "generator": {"model": "qwen-standin", "base_url": f"http://127.0.0.1:{stand_in}/gen/v1?api_key={GEN_KEY}",
                          "api_key_env": "CANARY_KEY_ENV", "json_mode": "json_schema"},
            "targets": [spec(urls[f]) for f in BUILD_TARGETS],
            # configured, never called (the kind needs no judge; check_gold is off): the other forms, and a
            # fragment, which never leaves the client
            "judges": [spec(u) for f, u in urls.items() if f not in BUILD_TARGETS]
                      + [spec(f"http://127.0.0.1:{stand_in}/f15/v1#{FRAGMENT_KEY}")]},
        # an unencoded '@' or '/' in a password (no address httpx can reach): configured, never called
        "contamination": {"enabled": False,
                          "judge": {"model": "j", "base_url": f"http://user:p@s/{RAW_PW_KEY}@127.0.0.1:{stand_in}/f16/v1"}},
        "generation": {"questions_per_chunk": QUESTIONS_PER_CHUNK, "kinds": [GENERATOR_KIND]},
        "difficulty": {"band": [0.0, 1.0], "closed_book": "off", "check_gold": False},
    }
    path = tmp / "canary.json"  # JSON is YAML
    path.write_text(json.dumps(cfg, indent=1))
    return path


def _cli_env(tmp: Path, server: dict) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PYTHONPATH=str(REPO), PREFECT_API_URL=server["api"], PREFECT_HOME=str(server["home"]),
               BENCHMINT_CACHE=str(tmp / "cache"), CANARY_KEY_ENV=ENV_KEY, OPENAI_API_KEY=OPENAI_KEY,
               PREFECT_RUNNER_POLL_FREQUENCY="2")
    return env


@pytest.mark.slow
def test_canary_keys_are_used_and_never_stored(tmp_path, prefect_server, smollm_server):
    stand_in = EndpointStandIn(smollm_server.base_url)
    feed = FeedServer(FEED_KEY)
    cfg = _config(tmp_path, stand_in.port, feed.port)
    env = _cli_env(tmp_path, prefect_server)
    said: list[str] = []  # everything the CLI printed

    def cli(*args: str, timeout: int = 600) -> subprocess.CompletedProcess:
        r = subprocess.run([sys.executable, "-m", "benchmint.cli", *args], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=timeout)
        said.extend([r.stdout, r.stderr])
        return r

    try:
        r = cli("build", "--config", str(cfg))
        assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
        release = tmp_path / "outputs" / NAME / "v1"
        manifest = json.loads((release / "manifest.json").read_text())
        assert manifest["models"]["generator"] == f"qwen-standin@http://127.0.0.1:{stand_in.port}/gen/v1?api_key=REDACTED"
        assert manifest["config"]["feeds"][0].endswith("token=REDACTED")
        rows = [json.loads(x) for x in (release / "questions.jsonl").read_text().splitlines()]
        assert rows and all(r["generator_model"] == manifest["models"]["generator"] for r in rows)

        r = cli("refresh", NAME, "--config", str(cfg))
        assert r.returncode == 0 and "unchanged" in r.stdout, r.stdout[-3000:] + r.stderr[-3000:]

        refs = [f"{u}#smol" for u in model_urls(stand_in.port).values()]
        r = cli("eval", str(release), "--no-judge", *[x for ref in refs for x in ("--model", ref)])
        assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
        board = json.loads((release / "evals" / "leaderboard.json").read_text())
        assert len(board["models"]) == len(refs)

        hits_before = feed.hits
        _serve_and_run_once(cli_env=env, tmp=tmp_path, cfg=cfg, api=prefect_server["api"], said=said)
        assert feed.hits > hits_before  # the served run (a child process) revealed the feed URL
    finally:
        stand_in.server.shutdown()
        feed.server.shutdown()

    # the keys were used: every model-URL form (build targets, eval), the generator's URL key and the
    # variable's key (build), and OPENAI_API_KEY (eval)
    assert stand_in.seen >= {key(f"f{i:02d}") for i in range(1, 14)} | {GEN_KEY, ENV_KEY, OPENAI_KEY}
    assert feed.hits >= 3  # build, refresh, the served run

    stop(prefect_server["proc"])  # the database is complete and closed
    leaks = [str(p) for root in (tmp_path / "outputs", tmp_path / "cache", prefect_server["home"])
             for p in root.rglob("*") if p.is_file() and R.encode() in p.read_bytes()]
    if R in prefect_server["log"].read_text(errors="replace"):
        leaks.append(str(prefect_server["log"]))
    leaks += [f"CLI output: ...{s[max(0, s.find(R) - 200):s.find(R) + 50]}" for s in said if R in s]
    assert not leaks, leaks
    # and the files were there to look at: the release, the response cache, the server's database
    assert any((tmp_path / "cache" / "responses").rglob("*")) and list(prefect_server["home"].glob("prefect.db*"))


def _serve_and_run_once(cli_env: dict, tmp: Path, cfg: Path, api: str, said: list[str]) -> None:
    """`benchmint serve` until its deployment is registered, one run of it to completion, then stop."""
    log = tmp / "serve.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "benchmint.cli", "serve", NAME, "--config", str(cfg),
                                 "--cron", "0 3 * * *"], cwd=tmp, env=cli_env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        dep = None
        deadline = time.monotonic() + 240
        while dep is None and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(2)
            found = api_call("POST", f"{api}/deployments/filter",
                             {"deployments": {"name": {"any_": [f"{NAME}-nightly"]}}})
            dep = found[0] if found else None
        assert dep is not None, f"no deployment registered: {log.read_text()[-3000:]}"
        run = api_call("POST", f"{api}/deployments/{dep['id']}/create_flow_run", {})
        state = None
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            time.sleep(3)
            state = api_call("GET", f"{api}/flow_runs/{run['id']}")["state"]
            if state and state["type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED"):
                break
        assert state and state["type"] == "COMPLETED", f"{state}: {log.read_text()[-3000:]}"
    finally:
        stop(proc, signal.SIGINT)
        said.append(log.read_text(errors="replace"))
