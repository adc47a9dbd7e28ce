"""Token and call accounting per model role."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field, fields

from pydantic import BaseModel, ConfigDict, Field


@dataclass
class RoleUsage:
    calls: int = 0
    cache_hits: int = 0
    saved_calls: int = 0  # calls the cache spared: a step kept after its repair spares both of its calls
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_completion_tokens: int = 0
    retries: int = 0
    repairs: int = 0
    failures: int = 0
    seconds: float = 0.0


class StepUsage(BaseModel):
    """What one step run in another process (a Dask worker) spent and saw, sent back with its outcome and merged
    into the flow's book (`UsageBook.merge`, `ModelPool.absorb`), so the manifest's usage and faults, the budget
    stops and the circuit breaker count it as if the step had run in the flow's process."""

    model_config = ConfigDict(extra="forbid")

    roles: dict[str, dict[str, int | float]] = Field(default_factory=dict)
    """RoleUsage counters by role (calls, cache_hits, tokens, seconds, ...)."""
    replies: dict[str, dict[str, int]] = Field(default_factory=dict)
    """Unusable replies by role and fault kind."""
    steps: dict[str, dict[str, int]] = Field(default_factory=dict)
    """Failed steps by role and the fault kind that ended them."""
    endpoint: str = ""
    """The endpoint the calls went to, as shown (redacted): whose circuit breaker `breaker` is for."""
    breaker: list[str] = Field(default_factory=list)
    """The breaker's events in order: "" a step that got a usable reply, else why one failed."""
    worker: str = ""
    """Where the step ran: host:pid."""


@dataclass
class UsageBook:
    roles: dict[str, RoleUsage] = field(default_factory=dict)
    # Unusable replies by role and fault kind (retried or not), and failed steps by role and the kind
    # that ended them: what the manifest's "faults" reports.
    replies: dict[str, Counter] = field(default_factory=dict)
    steps: dict[str, Counter] = field(default_factory=dict)
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

    def fault(self, role: str, kind: str) -> None:
        """One unusable reply (a later try may still have succeeded)."""
        with self._lock:
            self.replies.setdefault(role, Counter())[kind] += 1

    def failed_step(self, role: str, kind: str) -> None:
        """One step that ended without a usable reply."""
        with self._lock:
            self.steps.setdefault(role, Counter())[kind] += 1

    def faults(self) -> dict[str, object]:
        """{"replies": unusable replies per kind, "failed_steps": failed steps per kind, "by_role": {role:
        {"replies": ..., "failed_steps": ...}}}, every count a plain int."""
        with self._lock:
            replies, steps = Counter(), Counter()
            for c in self.replies.values():
                replies.update(c)
            for c in self.steps.values():
                steps.update(c)
            roles = sorted(set(self.replies) | set(self.steps))
            return {"replies": dict(sorted(replies.items())), "failed_steps": dict(sorted(steps.items())),
                    "by_role": {r: {"replies": dict(sorted(self.replies.get(r, Counter()).items())),
                                    "failed_steps": dict(sorted(self.steps.get(r, Counter()).items()))}
                                for r in roles}}

    def snapshot(self) -> StepUsage:
        """The book as a StepUsage (no breaker events, no worker)."""
        with self._lock:
            return StepUsage(roles={r: {f.name: getattr(u, f.name) for f in fields(u) if getattr(u, f.name)}
                                    for r, u in self.roles.items()},
                             replies={r: dict(c) for r, c in self.replies.items()},
                             steps={r: dict(c) for r, c in self.steps.items()})

    def merge(self, other: StepUsage) -> None:
        """Add what `other` counted to this book."""
        for role, delta in other.roles.items():
            self.add(role, **delta)
        with self._lock:
            for mine, theirs in ((self.replies, other.replies), (self.steps, other.steps)):
                for role, kinds in theirs.items():
                    mine.setdefault(role, Counter()).update(kinds)
