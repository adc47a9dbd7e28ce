"""One concurrency budget per model endpoint, shared by every build that calls it.

A model entry's `max_concurrency` bounds the requests one build sends. Several builds on one endpoint (a
nightly fan-out, Dask workers in many processes, two teams on a shared vLLM) would each send that many;
an orchestrator that sees them all (Prefect's global concurrency limits: flows/endpoint_lease.py) holds
one budget per endpoint instead. `EndpointBudget` is what names that budget: safe to store (no secret), the
same for every build that reaches the same endpoint, whatever key or query string it uses.

An embedded `local:` model has none: its server belongs to the build that started it.
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import urlsplit

from benchmint.modelspec import ModelSpec
from benchmint.records import Record
from benchmint.secrets import redact_url

PREFIX = "benchmint-endpoint-"
_MAX_NAME = 120


class EndpointBudget(Record):
    """The shared budget of one endpoint."""

    name: str
    """The limit's name: PREFIX + host, port and path of the endpoint (no user info, query or fragment)."""
    slots: int
    """The slots the limit is created with when it does not exist yet: the model entry's max_concurrency.
    An existing limit keeps the slots it has (a team sets them once, for every build)."""
    url: str
    """The endpoint as shown in messages (redacted)."""

    @classmethod
    def of(cls, spec: ModelSpec, base_url: str | None = None) -> "EndpointBudget | None":
        """The budget of the endpoint `spec` reaches (at `base_url` when given); None for a local model."""
        url = base_url or spec.base_url
        if spec.is_local or not url:
            return None
        shown = redact_url(url)
        return cls(name=limit_name(shown), slots=spec.max_concurrency, url=shown)


def limit_name(url: str) -> str:
    """A stable, storable name for the endpoint at `url`: host, port and path only, in the characters a
    Prefect limit name may hold; a long one ends with a hash of the whole so that two stay apart."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme.lower(), 0)
    where = f"{host}-{port}{parts.path.rstrip('/')}"
    text = re.sub(r"[^A-Za-z0-9._-]+", "-", where).strip("-")
    if len(PREFIX) + len(text) > _MAX_NAME:
        digest = hashlib.sha256(where.encode()).hexdigest()[:10]
        text = text[: _MAX_NAME - len(PREFIX) - 11] + "-" + digest
    return PREFIX + text
