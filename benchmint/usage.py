"""Token and call accounting per model role."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field


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
