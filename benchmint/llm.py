"""One client for every OpenAI-compatible endpoint (the pool of clients a build uses: benchmint.pool).

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
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from benchmint.breaker import Endpoint
from benchmint.errors import ModelError, ModelFault, ModelOutputError
from benchmint.modelspec import ModelSpec
from benchmint.ratelimit import estimate_tokens, shared_limit
from benchmint.response_cache import ResponseCache
from benchmint.secrets import redact_url, remember, reveal, scrub
from benchmint.transport import Fault, Reply, post_chat
from benchmint.usage import UsageBook

T = TypeVar("T", bound=BaseModel)


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
    """Speaks the OpenAI chat API to one endpoint, for one role.

    Each `complete_json` is one step: a reply that is not usable after the retries (see
    benchmint.transport for the kinds) raises ModelFault or ModelOutputError for the caller to record,
    and counts against the endpoint's circuit breaker; an open breaker raises EndpointDown at once."""

    def __init__(self, spec: ModelSpec, role: str, usage: UsageBook, cache: ResponseCache | None,
                 base_url: str | None = None, identity: str | None = None, endpoint: Endpoint | None = None):
        self.spec = spec
        self.role = role
        self.usage = usage
        self.cache = cache
        self.base_url = base_url or spec.base_url  # as configured (redacted when it carried a secret)
        if not self.base_url:
            raise ModelError(f"model {spec.model!r} has no base_url")
        self.shown_url = redact_url(self.base_url)  # for labels and errors
        # What the cache key names: stable across runs (a local server's port is not).
        self.identity = identity or f"{self.shown_url}#{spec.model}"
        self.served_model = "local" if spec.is_local else spec.model
        self.endpoint = endpoint or Endpoint(self.shown_url, spec.max_consecutive_failures)
        self._reached = False  # has the endpoint answered once?
        raw_url = reveal(self.base_url)  # the secret part of the URL is used only to connect
        api_key = "sk-no-key-required"
        if spec.api_key_env:
            api_key = os.environ.get(spec.api_key_env) or ("sk-no-key-required" if spec.is_local else "")
            if not api_key and not _is_loopback(raw_url):
                raise ModelError(f"model {spec.label}: environment variable {spec.api_key_env} is not set; export it with your API key")
            api_key = api_key or "sk-no-key-required"
            remember(api_key)
        self._secrets = (api_key,)  # scrubbed from every kept error text, remembered or not
        url = httpx.URL(raw_url)
        self._url = url.copy_with(path=url.path.rstrip("/") + "/chat/completions")  # keeps a query (api-version)
        limit = spec.max_concurrency  # a local model's is its server's slot count (ModelPool sets it)
        self._http = httpx.Client(headers={"Authorization": f"Bearer {api_key}"},
                                  limits=httpx.Limits(max_connections=limit, max_keepalive_connections=limit))
        self.concurrency = limit  # requests this client sends at once: the pipeline runs as many steps at once
        self._sem = threading.Semaphore(limit)
        # a hosted API's quota, shared by every client of the endpoint in this process (None: no limit)
        self.rate_limit = shared_limit(f"{self.shown_url} {spec.api_key_env or ''}", spec.requests_per_minute,
                                       spec.tokens_per_minute)
        self.json_mode = spec.json_mode if spec.json_mode != "auto" else ("json_object_schema" if spec.is_local else "json_schema")

    # -- one reply, with retries
    def _create(self, messages: list[dict[str, str]], params: dict[str, Any], deadline: float) -> Reply:
        """A usable reply before `deadline` (the step's budget), retrying 429/408/5xx, timeouts, dropped
        connections and broken 200 bodies; otherwise ModelFault (ModelError when never reached)."""
        payload = {"model": self.served_model, "messages": messages, **params}
        attempt = 0
        while True:
            if not self.endpoint.wait_turn(deadline):
                raise ModelFault(f"model {self.spec.label}: the endpoint asked for a pause that outlasts this step's "
                                 f"time budget (max_call_s={self.spec.max_call_s:g})", "rate_limited")
            t0 = time.monotonic()
            try:
                with self._sem:
                    grant = None
                    if self.rate_limit is not None:
                        grant = self.rate_limit.acquire(estimate_tokens(messages, params.get("max_tokens", 0)), deadline)
                        t0 = time.monotonic()  # the wait for a turn is not the model's time
                    reply = post_chat(self._http, self._url, payload, min(deadline, time.monotonic() + self.spec.timeout_s),
                                      self._secrets)
                if grant is not None:
                    self.rate_limit.settle(grant, reply.prompt_tokens + reply.completion_tokens)
                self.usage.add(self.role, seconds=time.monotonic() - t0)
                self._reached = True
                return reply
            except Fault as f:
                self.usage.add(self.role, seconds=time.monotonic() - t0)
                self.usage.fault(self.role, f.kind)
                if f.kind == "timeout" and f.status is None:
                    f.message = f"{f.message} (timeout_s={self.spec.timeout_s:g})"
                self._reached = self._reached or f.reached
                if f.retry_after is not None:  # holds for every role on this endpoint, even when this step gives up
                    self.endpoint.pause(min(f.retry_after, self.spec.retry_after_max_s))
                wait = self._next_wait(f, attempt, deadline)
                if wait is None:
                    raise self._give_up(f, attempt) from None
                attempt += 1
                self.usage.add(self.role, retries=1)
                time.sleep(wait)

    def _next_wait(self, f: Fault, attempt: int, deadline: float) -> float | None:
        """Seconds to wait before the next try, or None: give up now."""
        if not f.retryable or attempt >= self.spec.max_retries or not self._reached:
            return None
        if f.retry_after is not None and f.retry_after > self.spec.retry_after_max_s:
            f.message += f" (Retry-After {f.retry_after:.0f}s is over retry_after_max_s={self.spec.retry_after_max_s:g})"
            return None
        wait = max(min(30.0, 0.5 * 2 ** attempt) * random.uniform(0.5, 1.5), f.retry_after or 0.0)
        if time.monotonic() + wait >= deadline:
            f.message += f" (the step's time budget, max_call_s={self.spec.max_call_s:g}, is spent)"
            return None
        return wait

    def _give_up(self, f: Fault, attempt: int) -> ModelError:
        label, url = self.spec.label, self.shown_url
        if not self._reached:
            # An endpoint never reached is a wrong URL or a server not started: fail at once.
            tries = f" (after {attempt + 1} tries)" if attempt else ""
            return ModelError(f"cannot reach model endpoint {url}{tries}: is the server running and the URL right?")
        if f.kind == "not_found":
            return ModelError(f"model {self.spec.model!r} was not found at {url}; check the name after '#'")
        if f.kind == "auth":
            return ModelError(f"model {label}: the endpoint refused the API key in {self.spec.api_key_env or '(none)'}")
        if f.kind == "rejected":
            return ModelFault(f"model {label} rejected the request ({f.message})", f.kind)
        tries = f"after {attempt + 1} tries" if attempt else "at the first try"
        return ModelFault(f"model {label} failed {tries}: {f.kind}: {f.message}", f.kind)

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

    def complete_json(self, messages: list[dict[str, str]], schema: type[T], *, output_faults_trip: bool = True,
                      **overrides: Any) -> T:
        """A reply validated against `schema`: cached, retried, repaired once, within max_call_s.

        `output_faults_trip=False` where a malformed reply is the model's own failure rather than a sign of a
        broken endpoint (a target under test rambling past its token limit): the endpoint answered, so such a
        step resets the breaker's count instead of adding to it."""
        params: dict[str, Any] = {
            "temperature": self.spec.temperature,
            "max_tokens": self.spec.max_tokens,
            "response_format": self._response_format(schema),
            **self.spec.sampling,
        }
        params.update(overrides)
        key = self.cache_key(messages, params)
        if self.cache is not None and (hit := self.cache.get(key)) is not None:
            with contextlib.suppress(ValidationError):
                obj = schema.model_validate(hit["value"])
                self.usage.add(self.role, cache_hits=1, saved_calls=hit.get("calls", 1),
                               cached_completion_tokens=hit.get("completion_tokens", 0))
                return obj
        if self.endpoint.open:
            raise self.endpoint.down()
        try:
            obj, completion_tokens, calls = self._validated(messages, params, schema,
                                                            time.monotonic() + self.spec.max_call_s)
        except (ModelError, ModelOutputError) as exc:
            kind = getattr(exc, "kind", "unreachable")
            self.usage.add(self.role, failures=1)
            self.usage.failed_step(self.role, kind)
            if isinstance(exc, ModelOutputError) and not output_faults_trip:
                self.endpoint.succeeded()
            else:
                self.endpoint.failed(f"{kind}: {str(exc)[:160]}")
            raise
        self.endpoint.succeeded()
        if self.cache is not None:
            # with the calls it took (2 after a repair): a hit spares them all, which the usage counts
            self.cache.put(key, {"value": obj.model_dump(mode="json"), "completion_tokens": completion_tokens,
                                 "calls": calls})
        return obj

    def _validated(self, messages: list[dict[str, str]], params: dict[str, Any], schema: type[T],
                   deadline: float) -> tuple[T, int, int]:
        convo = list(messages)
        completion_tokens = 0
        for attempt in range(2):
            # a reply that does not validate is kept as it came, so a rerun after a crash replays it instead of
            # asking again (a step that failed, or a first reply whose repair never came); a valid one is kept
            # as the step's value by complete_json
            key = self.cache_key(convo, {**params, "kept": "invalid reply"})
            reply = self._kept_reply(key)
            fresh = reply is None
            if reply is None:
                reply = self._create(convo, params, deadline)
                self.usage.add(self.role, calls=1, prompt_tokens=reply.prompt_tokens,
                               completion_tokens=reply.completion_tokens)
            completion_tokens += reply.completion_tokens
            try:
                return schema.model_validate(extract_json(reply.content)), completion_tokens, attempt + 1
            except (ValueError, ValidationError) as exc:
                self.usage.fault(self.role, "schema")
                if fresh and self.cache is not None:
                    self.cache.put(key, {"content": reply.content, "prompt_tokens": reply.prompt_tokens,
                                         "completion_tokens": reply.completion_tokens})
                if attempt == 1:
                    raise ModelOutputError(f"model {self.spec.label} returned invalid {schema.__name__} JSON twice: "
                                           f"{_short(exc, self._secrets)}") from None
                self.usage.add(self.role, repairs=1)
                convo = convo + [
                    {"role": "assistant", "content": reply.content[:4000]},
                    {"role": "user", "content": f"That reply is not valid: {_short(exc)}. "
                                                "Reply again with only the corrected JSON object, following the schema."},
                ]
        raise AssertionError("unreachable")

    def _kept_reply(self, key: str) -> Reply | None:
        """The reply kept under `key` (counted as a cache hit), or None."""
        hit = self.cache.get(key) if self.cache is not None else None
        if hit is None or "content" not in hit:
            return None
        self.usage.add(self.role, cache_hits=1, saved_calls=1, cached_completion_tokens=hit.get("completion_tokens", 0))
        return Reply(hit["content"], hit.get("prompt_tokens", 0), hit.get("completion_tokens", 0))

    def close(self) -> None:
        self._http.close()


def _short(exc: BaseException, secrets: tuple[str, ...] = ()) -> str:
    msg = scrub(str(exc).replace("\n", " "), extra=secrets)
    return msg[:240] + ("..." if len(msg) > 240 else "")


def _is_loopback(url: str) -> bool:
    host = httpx.URL(url).host
    return host in {"localhost", "127.0.0.1", "::1"} or host.startswith("127.")
