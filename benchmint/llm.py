"""One client for every OpenAI-compatible endpoint, and the pool of clients a build uses.

Every call goes through a concurrency limit, retries with exponential backoff and
jitter on 429/5xx/timeouts (never on other 4xx), a JSON response validated against
a pydantic model with one repair try, an on-disk response cache keyed on
(model identity, messages, params, schema), and token accounting per role.
`local:` models are served by llama.cpp (benchmint.local_server).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import openai
from pydantic import BaseModel, ValidationError

from benchmint.config import ModelSpec, redact_url
from benchmint.errors import ModelError, ModelOutputError
from benchmint.local_server import LocalServer, resolve_local_gguf
from benchmint.response_cache import ResponseCache
from benchmint.usage import UsageBook

T = TypeVar("T", bound=BaseModel)

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
        self._client = openai.OpenAI(base_url=self.base_url, api_key=api_key, max_retries=0, timeout=spec.timeout_s)
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
