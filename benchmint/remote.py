"""What a model call needs to run in another process (a Dask worker), and what it sends back.

A live ModelClient holds an HTTP client, locks and semaphores: it cannot be sent to another process.
`ClientSpec` is the record that can (pickle or JSON): the model entry, the endpoint the flow's client
reaches (an embedded `local:` model's server, started once by the flow's process, by its URL), the
identity the response cache keys on (so a worker hits the entries a thread build wrote), and the cache
folder. It never carries a secret: URLs are stashed and redacted (benchmint.secrets), and a key stays in
the variable `api_key_env` names, which the worker reads itself.

A worker rebuilds one client per spec and reuses it for every step it runs (`client_for`, a small
process-wide registry). The steps a worker runs at once share that client, so what each one spends is
routed by its context to its own book (benchmint.step_books) and comes back for the flow to merge.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from benchmint.llm import ModelClient
from benchmint.modelspec import ModelSpec, stash_model_ref
from benchmint.records import Record
from benchmint.response_cache import ResponseCache
from benchmint.secrets import redact_url, stash
from benchmint.step_books import ROUTED, StepEndpoint

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
