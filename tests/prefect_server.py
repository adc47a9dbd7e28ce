"""A real `prefect server start` on 127.0.0.1 for tests that need the server itself (deployments,
`benchmint serve`), and calls to its API the way Prefect's own client makes them.

The server answers 503 while its SQLite database is locked (its scheduler writes a deployment's
upcoming runs right after `serve` registers it); Prefect's client retries 429/502/503, so the tests
do too instead of failing on a busy database.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

RETRY_CODES = {429, 502, 503}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(home: Path, api: str | None = None) -> dict[str, str]:
    """This process's environment without its PREFECT_ settings, pointed at `home` (and `api`)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(home), PREFECT_SERVER_ANALYTICS_ENABLED="false", PREFECT_UI_ENABLED="false",
               DO_NOT_TRACK="1")
    if api:
        env["PREFECT_API_URL"] = api
    return env


def start_server(home: Path, log: Path, timeout_s: float = 300) -> tuple[subprocess.Popen, str]:
    """Start the server with its own home and log; return the process and its API URL once healthy."""
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(Path(sys.executable).parent / "prefect"), "server", "start", "--host",
                                 "127.0.0.1", "--port", str(port)], env=server_env(home), stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if httpx.get(f"{api}/health", timeout=5).status_code == 200:
                return proc, api
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            stop(proc)
            raise RuntimeError(f"prefect server did not start in {timeout_s:.0f} s: {log.read_text()[-2000:]}")
        time.sleep(1)


def stop(proc: subprocess.Popen | None, sig: int = signal.SIGTERM) -> None:
    """Signal the process group, wait a minute, then kill it."""
    if proc is None or proc.poll() is not None:
        return
    os.killpg(proc.pid, sig)
    try:
        proc.wait(60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(30)


def api_call(method: str, url: str, json: Any = None, attempts: int = 8) -> Any:
    """The JSON reply of one API call, retried with backoff on the codes Prefect's client retries."""
    reply = None
    for attempt in range(attempts):
        reply = httpx.request(method, url, json=json, timeout=30)
        if reply.status_code not in RETRY_CODES:
            break
        time.sleep(min(2 ** attempt, 15))
    assert reply is not None and reply.status_code < 300, (method, url, reply.status_code, reply.text[:2000])
    return reply.json()
