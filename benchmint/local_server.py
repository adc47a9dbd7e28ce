"""A `local:` model's GGUF file (the embedded ones: benchmint.local_models) served by llama.cpp's own server
(`llama-server`, several parallel slots, continuous batching) on a free 127.0.0.1 port that benchmint
starts, waits for, and stops on exit, on error, on Ctrl-C and SIGTERM, and that stops itself when
benchmint dies any other way (SIGKILL)."""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from benchmint.errors import ModelError
from benchmint.server_binary import BUILD_HINT, amx_advertised, find_binary


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# The server runs under a watchdog shell that holds the read end of a pipe whose write end only benchmint
# holds: when benchmint goes, however it goes (exit, error, Ctrl-C, SIGTERM, SIGKILL), the kernel closes
# the pipe, `read` returns, and the shell kills the server and reaps it. SIGKILL: the server keeps nothing
# worth a graceful exit, and llama_cpp.server would finish the reply in progress first (minutes).
# (PR_SET_PDEATHSIG would follow the *thread* that started the server: Prefect starts it from a worker thread.)
_WATCHDOG = '"$@" </dev/null & pid=$!; read -r _; kill -KILL "$pid" 2>/dev/null; wait "$pid"'
_warned_fallback = False


def _warn_fallback() -> None:
    global _warned_fallback
    if not _warned_fallback:
        _warned_fallback = True
        print(f"benchmint: llama-server is not built, so local models are served one request at a time by "
              f"llama_cpp.server; build it with: {BUILD_HINT}", file=sys.stderr)


ENV_THREADS = "BENCHMINT_LLAMA_THREADS"


def default_threads() -> int:
    """llama.cpp's threads: $BENCHMINT_LLAMA_THREADS, else every usable core. Their barrier waits sleep
    (server_env), so a busy neighbour costs the server its share of the cores, not more (BENCHMINT_LLAMA_THREADS
    stays for a machine where even that is too much)."""
    raw = os.environ.get(ENV_THREADS, "").strip()
    if raw:
        if not raw.isdigit() or int(raw) < 1:
            raise ModelError(f"{ENV_THREADS}={raw!r} is not a thread count: set a whole number of at least 1, "
                             "or unset it for every usable core")
        return int(raw)
    return max(1, len(os.sched_getaffinity(0)))


def server_env() -> dict[str, str]:
    """The server's environment: ours, with OpenMP's barrier waits sleeping (OMP_WAIT_POLICY=PASSIVE) unless
    the user chose a policy. A spinning wait takes the core a descheduled partner thread needs when a
    neighbour shares the machine (one request 1.4x slower instead of over 14x; idle, 3% slower)."""
    return {**os.environ, "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY") or "PASSIVE"}


class LocalServer:
    """llama.cpp's server for one GGUF file, on 127.0.0.1: `llama-server` with `slots` parallel slots and
    continuous batching, or (when that binary is not built) llama_cpp.server, which serves one at a time.

    n_ctx is the context of one slot (prompt + reply of one request); `slots` becomes 1 on the fallback.
    chat_template: a Jinja chat template for a GGUF that carries none (a base model; llama-server would
    otherwise wrap the messages in ChatML, whose markers such a model reads as text); "": the GGUF's own.
    speculative: llama-server's draft-free speculative decoding (`--spec-type`, e.g. "ngram-simple": drafts
    copied from the prompt, which a question's verbatim citations repeat), with any of its flags after the
    type ("ngram-simple --spec-ngram-simple-size-n 4"); "": none."""

    def __init__(self, gguf: Path, n_ctx: int = 4096, log_path: Path | None = None,
                 startup_timeout_s: float = 180.0, n_threads: int | None = None, slots: int = 1,
                 poll: int = 0, prefer_llama_server: bool = True, n_threads_batch: int | None = None,
                 chat_template: str = "", speculative: str = ""):
        self.gguf = gguf
        self.n_ctx = n_ctx
        self.log_path = log_path
        self.startup_timeout_s = startup_timeout_s
        self.n_threads = n_threads or default_threads()
        self.n_threads_batch = n_threads_batch or self.n_threads  # prompt processing
        self.slots = slots
        self.poll = poll  # llama.cpp's busy-wait level (0-100) for idle threads; 0: they sleep
        self.prefer_llama_server = prefer_llama_server  # False: llama_cpp.server (to compare them)
        self.chat_template = chat_template
        self.speculative = speculative
        self.proc: subprocess.Popen[bytes] | None = None
        self.port: int | None = None
        self.binary: Path | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def command(self) -> list[str]:
        """The server's command line (llama-server when built, else llama_cpp.server with one slot)."""
        threads, batch = str(self.n_threads), str(self.n_threads_batch)
        if self.binary is not None:
            return [str(self.binary), "--model", str(self.gguf), "--host", "127.0.0.1", "--port", str(self.port),
                    "--alias", "local", "--parallel", str(self.slots), "--ctx-size", str(self.n_ctx * self.slots),
                    "--no-kv-unified",  # each slot keeps its own n_ctx: a long prompt cannot starve the others
                    "--cont-batching", "--jinja",  # Jinja chat templates: the GGUF's own, or chat_template
                    "--threads", threads, "--threads-batch", batch, "--poll", str(self.poll),
                    "--cache-ram", "256", "--no-webui", "--metrics",
                    *(["--no-repack"] if amx_advertised() else []),  # see amx_advertised
                    *(["--chat-template", self.chat_template] if self.chat_template else []),
                    *(["--spec-type", *self.speculative.split()] if self.speculative else [])]
        return [sys.executable, "-m", "llama_cpp.server", "--model", str(self.gguf),
                "--host", "127.0.0.1", "--port", str(self.port), "--n_ctx", str(self.n_ctx),
                # llama.cpp defaults to half the cores; generation here is CPU-bound.
                "--n_threads", threads, "--n_threads_batch", batch]

    def start(self) -> "LocalServer":
        self.binary = find_binary() if self.prefer_llama_server else None
        if self.binary is None:
            if importlib.util.find_spec("llama_cpp") is None:
                raise ModelError("llama.cpp is not installed for local models: pip install 'benchmint[local]'")
            if self.prefer_llama_server:
                _warn_fallback()
            self.slots = 1
        self.port = free_port()
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
        try:
            self.proc = subprocess.Popen(["sh", "-c", _WATCHDOG, "benchmint-watchdog", *self.command()],
                                         stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True, env=server_env())
            atexit.register(self.stop)
        finally:
            if log is not subprocess.DEVNULL:
                log.close()
        health = f"http://127.0.0.1:{self.port}/health" if self.binary else f"{self.base_url}/models"
        deadline = time.monotonic() + self.startup_timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                tail = self._log_tail()
                self.proc = None
                raise ModelError(f"llama.cpp server for {self.gguf.name} exited at start-up{': ' + tail if tail else ''}")
            try:
                if httpx.get(health, timeout=2.0).status_code == 200:  # llama-server: 503 while loading
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        self.stop()
        raise ModelError(f"llama.cpp server for {self.gguf.name} was not ready after {self.startup_timeout_s:.0f}s")

    def _log_tail(self) -> str:
        if not self.log_path or not self.log_path.is_file():
            return ""
        lines = [ln for ln in self.log_path.read_text(errors="replace").splitlines() if ln.strip()]
        return lines[-1][:300] if lines else ""

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.stdin is not None:
            with contextlib.suppress(OSError):
                proc.stdin.close()  # the watchdog's cue: it stops the server and waits for it
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)

    def __enter__(self) -> "LocalServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
