"""The embedded model's server: no llama.cpp server outlives the process that started it, however that
process ends, and one llama-server answers N concurrent requests in N slots at once.

Real processes throughout: a script that opens a ModelPool on local:smollm2-135m (its real server), killed
with a real signal; the evidence is the process table and the server's own log and /slots endpoint."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import httpx
import pytest
from pydantic import BaseModel, Field

from benchmint.config import ModelSpec
from benchmint.pool import ModelPool
from benchmint.server_binary import BUILD_HINT, find_binary

REPO = Path(__file__).resolve().parent.parent

# A script that opens a pool, keeps a long request in flight (a server busy with a reply is the hard case
# to stop), and waits to be killed.
POOL_SCRIPT = textwrap.dedent("""
    import faulthandler, signal, sys, threading, time
    from pathlib import Path
    from pydantic import BaseModel, Field
    from benchmint.config import ModelSpec
    from benchmint.pool import ModelPool

    class Long(BaseModel):
        words: list[str] = Field(min_length=200)

    faulthandler.register(signal.SIGUSR1, all_threads=True)  # the test's view into a script that will not exit
    spec = ModelSpec(model="local:smollm2-135m", max_concurrency=2, n_ctx=1024, max_tokens=900)
    with ModelPool({"generator": spec}, Path(sys.argv[1]), use_cache=False) as pool:
        ask = lambda: pool["generator"].complete_json([{"role": "user", "content": "List 200 words."}], Long)
        threading.Thread(target=ask, daemon=True).start()
        time.sleep(1.5)
        print(pool["generator"].base_url, flush=True)
        time.sleep(600)
""")


def _servers_on(port: int) -> list[int]:
    """Live processes (not zombies) whose command line serves `port`: the server and its watchdog."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            args = (proc / "cmdline").read_bytes().split(b"\0")
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and b"--port" in args and str(port).encode() in args:
            found.append(int(proc.name))
    return found


def _is_llama_server(pid: int) -> bool:
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return any(a.endswith(b"llama-server") or a == b"llama_cpp.server" for a in args)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL, signal.SIGINT], ids=lambda s: s.name)
def test_a_killed_script_leaves_no_llama_cpp_server(tmp_path, sig):
    env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    script = tmp_path / "pool.py"
    script.write_text(POOL_SCRIPT)
    # stderr to a file, not a pipe nobody reads: a script blocked on a full pipe would look like a hang
    stderr = tmp_path / "stderr.txt"
    with stderr.open("w") as err:  # Ctrl-C reaches it as in a terminal (tests/conftest.py)
        proc = subprocess.Popen([sys.executable, str(script), str(tmp_path / "cache")], env=env, cwd=tmp_path,
                                stdout=subprocess.PIPE, stderr=err, text=True)
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("http://127.0.0.1:"), f"the pool did not start: {line!r} {stderr.read_text()[-800:]}"
        port = int(line.rsplit(":", 1)[1].split("/")[0])
        running = _servers_on(port)
        assert any(_is_llama_server(pid) for pid in running), f"no llama.cpp server serves port {port}"
        proc.send_signal(sig)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGUSR1)  # every thread's stack to stderr
            time.sleep(2)
            pytest.fail(f"the script outlived {sig.name} by 30 s; its threads:\n{stderr.read_text()[-4000:]}")
        deadline = time.monotonic() + 30
        while _servers_on(port) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _servers_on(port) == [], f"after {sig.name} to its parent, the server on port {port} still runs"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pid in _servers_on(port) if "port" in locals() else []:
            os.kill(pid, signal.SIGKILL)


class Counted(BaseModel):
    """A short reply of bounded length (8 small numbers), still long enough (tens of tokens) that every request
    is in its slot when the last one arrives."""

    numbers: list[int] = Field(min_length=8, max_length=8)


def _max_in_flight(log: str) -> tuple[int, set[int]]:
    """The most tasks the server held at once, and the slots that held them, from its own log."""
    busy: set[int] = set()
    most, used = 0, set()
    for slot, what in re.findall(r"id\s+(\d+) \| task -?\d+ \| (processing task|stop processing)", log):
        if what == "processing task":
            busy.add(int(slot))
            used.add(int(slot))
            most = max(most, len(busy))
        else:
            busy.discard(int(slot))
    return most, used


def test_concurrent_requests_share_one_server_in_as_many_slots(tmp_path):
    if find_binary() is None:
        pytest.skip(f"llama-server is not built: {BUILD_HINT}")
    slots = 3
    spec = ModelSpec(model="local:smollm2-135m", max_concurrency=slots, n_ctx=1024, max_tokens=200)
    with ModelPool({"generator": spec}, tmp_path, use_cache=False) as pool:
        client = pool["generator"]
        assert len(pool.servers) == 1
        server = next(iter(pool.servers.values()))
        listed = httpx.get(f"http://127.0.0.1:{server.port}/slots", timeout=10).json()
        assert len(listed) == slots
        replies: list[Counted] = []
        errors: list[BaseException] = []

        def ask(i: int) -> None:
            try:
                messages = [{"role": "user", "content": f"Give eight numbers between {i} and {i + 99}, as JSON."}]
                replies.append(client.complete_json(messages, Counted, temperature=0.0, max_tokens=120))
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=ask, args=(i,)) for i in range(slots)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
        assert errors == [] and len(replies) == slots
        most, used = _max_in_flight(server.log_path.read_text(errors="replace"))
    assert most == slots, f"the server held at most {most} of {slots} concurrent requests at once"
    assert used == set(range(slots))
