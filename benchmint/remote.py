"""What a model call needs to run in another process (a Dask worker), and what it sends back.

A live ModelClient holds an HTTP client, locks and semaphores: it cannot be sent to another process.
`ClientSpec` is the record that can (pickle or JSON): the model entry, the endpoint the flow's client
reaches (an embedded `local:` model's server, started once by the flow's process, by its URL), the
identity the response cache keys on (so a worker hits the entries a thread build wrote), and the cache
folder. It never carries a secret: URLs are stashed and redacted (benchmint.secrets), and a key stays in
the variable `api_key_env` names, which the worker reads itself.

A worker rebuilds one client per spec and reuses it for every step it runs (`client_for`, a small
process-wide registry). The steps a worker runs at once share that client, so what each one spends is
routed by its context to its own book (`counted`) and comes back as a StepUsage for the flow to merge.
"""

from __future__ import annotations

import os
import socket
import threading
from collections import OrderedDict
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from benchmint.breaker import Endpoint
from benchmint.llm import ModelClient
from benchmint.modelspec import ModelSpec, stash_model_ref
from benchmint.records import Record
from benchmint.response_cache import ResponseCache
from benchmint.secrets import redact_url, stash
from benchmint.usage import StepUsage, UsageBook

T = TypeVar("T")


class ClientSpec(Record):
    """A model client as another process rebuilds it (`client_for`)."""

    spec: ModelSpec
    """The model entry (a local model's max_concurrency: its server's slots); its URL stashed and redacted."""
    role: str
    """The role its usage is counted under (generator, target1, ...)."""
    base_url: str
    """The endpoint reached: a local model's server URL (served by the flow's process), else the configured
    URL, redacted (the raw form is revealed from the environment where the connection opens)."""
    identity: str
    """What the response cache keys name (a local model's file and size, not its server's port)."""
    cache: str | None = None
    """The response cache folder; None: no cache."""

    @classmethod
    def of(cls, client: ModelClient) -> "ClientSpec":
        """The spec of a live client. A URL with a secret is stashed here: the spec holds its redacted form."""
        return cls(spec=stash_model_ref(client.spec), role=client.role, base_url=stash(client.base_url),
                   identity=client.identity, cache=str(client.cache.root) if client.cache is not None else None)

    @property
    def shown_url(self) -> str:
        return redact_url(self.base_url)


# --------------------------------------------------------------------------- one process's registry

_MAX_SHARED = 32  # a long-lived worker serves many builds (a local server's port changes each time): bounded
_shared: OrderedDict[str, Any] = OrderedDict()
_lock = threading.RLock()  # reentrant: making a client takes its endpoint from the registry


def shared(key: str, make: Callable[[], T]) -> T:
    """The object made once for `key` in this process (the least recently used go past _MAX_SHARED; they are
    not closed: a step may still be using one)."""
    with _lock:
        if key in _shared:
            _shared.move_to_end(key)
            return _shared[key]
        value = _shared[key] = make()
        while len(_shared) > _MAX_SHARED:
            _shared.popitem(last=False)
        return value


def client_for(spec: ClientSpec) -> ModelClient:
    """This process's client for `spec` (made on first use)."""
    return shared("client " + spec.model_dump_json(), lambda: _open(spec))


def _open(spec: ClientSpec) -> ModelClient:
    shown = spec.shown_url
    endpoint = shared(f"endpoint {shown}", lambda: StepEndpoint(shown))
    cache = ResponseCache(Path(spec.cache)) if spec.cache else None
    return ModelClient(spec.spec, spec.role, ROUTED, cache, base_url=spec.base_url, identity=spec.identity,
                       endpoint=endpoint)


# --------------------------------------------------------------------------- each step's own count


@dataclass
class _Step:
    book: UsageBook = field(default_factory=UsageBook)
    breaker: list[str] = field(default_factory=list)


_step: ContextVar[_Step | None] = ContextVar("benchmint_remote_step", default=None)


class StepBooks(UsageBook):
    """The book of the clients this process shares between steps: each count goes to the book of the step
    whose context made it (its own book when no step is counting)."""

    def add(self, role: str, **delta: float) -> None:
        step = _step.get()
        (step.book if step is not None else super()).add(role, **delta)

    def fault(self, role: str, kind: str) -> None:
        step = _step.get()
        (step.book if step is not None else super()).fault(role, kind)

    def failed_step(self, role: str, kind: str) -> None:
        step = _step.get()
        (step.book if step is not None else super()).failed_step(role, kind)


ROUTED = StepBooks()


class StepEndpoint(Endpoint):
    """An endpoint as a worker sees it: the Retry-After pause holds for every step of this process, but the
    breaker never opens here (a long-lived worker would keep it open across builds); each step's success or
    failure is recorded for the flow's breaker, which decides."""

    def __init__(self, label: str):
        super().__init__(label, max_consecutive_failures=0)

    def succeeded(self) -> None:
        super().succeeded()
        if (step := _step.get()) is not None:
            step.breaker.append("")

    def failed(self, error: str) -> None:
        super().failed(error)
        if (step := _step.get()) is not None:
            step.breaker.append(error or "failed")


def counted(spec: ClientSpec, work: Callable[[], T]) -> tuple[T, StepUsage]:
    """`work()` with every count of this process's clients it makes kept apart: its value, and what it spent."""
    step = _Step()
    token = _step.set(step)
    try:
        value = work()
    finally:
        _step.reset(token)
    usage = step.book.snapshot().model_copy(update={"endpoint": spec.shown_url, "breaker": step.breaker,
                                                    "worker": f"{socket.gethostname()}:{os.getpid()}"})
    return value, usage
