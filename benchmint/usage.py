"""Token and call accounting per model role."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


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
