"""An endpoint's own rate limit (`requests_per_minute`, `tokens_per_minute` on its ModelSpec), kept on
this side so that a hosted API's quota is not met with a stream of 429s.

Each limit is a token bucket that refills continuously at limit/60 per second and holds at most one
second's share (at least one request's worth): hosted APIs enforce a per-minute quota over shorter
periods too, so the requests are spread over the minute rather than sent in one burst. A request
reserves its place in line under a lock and sleeps outside it, so threads go in the order they
asked and none is starved. A request whose cost is over the bucket's size waits for a full bucket and
then overdraws it: the ones after it wait for the debt to refill. A wait that would outlast the step's
deadline is not taken: the step fails with a `rate_limited` fault at once.

Every client of one endpoint in the process shares one limiter (`shared_limit`), so the roles, the
threads and the pools of a process together keep to the quota.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from benchmint.errors import ModelFault

BURST_S = 1.0  # the bucket holds this many seconds of the limit


class Bucket:
    """One token bucket. Not locked: RateLimit holds the lock around every use."""

    def __init__(self, per_minute: float, now: float):
        self.per_minute = per_minute
        self.rate = per_minute / 60.0  # per second
        self.size = max(1.0, self.rate * BURST_S)
        self.level = self.size  # may go below zero: places already reserved by requests still waiting
        self.stamp = now

    def refill(self, now: float) -> None:
        self.level = min(self.size, self.level + (now - self.stamp) * self.rate)
        self.stamp = now

    def wait_for(self, cost: float) -> float:
        """Seconds from `stamp` until `cost` may be taken (a cost over the size waits for a full bucket)."""
        need = min(cost, self.size)
        return max(0.0, (need - self.level) / self.rate)

    def give_back(self, amount: float) -> None:
        self.level = min(self.size, self.level + amount)


@dataclass
class Grant:
    """A request let through: the tokens it was charged up front (settled against the reply's usage)."""

    tokens: int
    waited: float  # seconds it waited for its turn


class RateLimit:
    """requests_per_minute and/or tokens_per_minute for one endpoint (None: that one is not limited)."""

    def __init__(self, label: str, requests_per_minute: float | None = None, tokens_per_minute: float | None = None,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep):
        self.label = label  # redacted: it is shown
        self._clock, self._sleep = clock, sleep
        now = clock()
        self.requests = Bucket(requests_per_minute, now) if requests_per_minute else None
        self.tokens = Bucket(tokens_per_minute, now) if tokens_per_minute else None
        self._lock = threading.Lock()

    @property
    def limits(self) -> tuple[float | None, float | None]:
        return (self.requests.per_minute if self.requests else None, self.tokens.per_minute if self.tokens else None)

    def acquire(self, tokens: int, deadline: float) -> Grant:
        """Wait for this request's turn (one request, `tokens` estimated); ModelFault("rate_limited")
        without waiting when the turn comes after `deadline` (a clock() time)."""
        buckets = [(b, c) for b, c in ((self.requests, 1), (self.tokens, tokens)) if b is not None]
        with self._lock:
            now = self._clock()
            for b, _ in buckets:
                b.refill(now)
            wait = max((b.wait_for(c) for b, c in buckets), default=0.0)
            if now + wait > deadline:
                raise ModelFault(f"the rate limit of {self.label} ({self._shown()}) has no turn for this request "
                                 f"before the step's time budget runs out (in {max(0.0, deadline - now):.0f}s); "
                                 "raise max_call_s or the limit", "rate_limited")
            for b, c in buckets:
                b.level -= c
        if wait > 0:
            self._sleep(wait)
        return Grant(tokens if self.tokens else 0, wait)

    def tighten(self, requests_per_minute: float | None, tokens_per_minute: float | None) -> None:
        """Keep the stricter of each limit (a second client of the endpoint set its own)."""
        with self._lock:
            now = self._clock()
            self.requests = _stricter(self.requests, requests_per_minute, now)
            self.tokens = _stricter(self.tokens, tokens_per_minute, now)

    def settle(self, grant: Grant, used_tokens: int) -> None:
        """Correct the up-front charge with the tokens the reply says it used (0: not said, keep the charge)."""
        if self.tokens is None or used_tokens <= 0:
            return
        with self._lock:
            self.tokens.refill(self._clock())
            self.tokens.give_back(grant.tokens - used_tokens)  # negative: the estimate was low, a debt

    def _shown(self) -> str:
        rpm, tpm = self.limits
        parts = ([f"requests_per_minute={rpm:g}"] if rpm else []) + ([f"tokens_per_minute={tpm:g}"] if tpm else [])
        return ", ".join(parts)


def estimate_tokens(messages: list[dict[str, str]], max_tokens: int) -> int:
    """The up-front charge of one request: its completion budget plus the prompt at ~4 characters a token."""
    chars = sum(len(m.get("content") or "") + 8 for m in messages)
    return int(max_tokens) + chars // 4 + 1


_shared: dict[str, RateLimit] = {}
_shared_lock = threading.Lock()


def shared_limit(endpoint: str, requests_per_minute: float | None, tokens_per_minute: float | None) -> RateLimit | None:
    """The process's limiter for `endpoint` (a redacted URL plus the key's variable name), or None when no
    limit is set. Two settings for one endpoint: the stricter of each holds."""
    if not requests_per_minute and not tokens_per_minute:
        return None
    with _shared_lock:
        have = _shared.get(endpoint)
        if have is None:
            have = _shared[endpoint] = RateLimit(endpoint.partition(" ")[0], requests_per_minute, tokens_per_minute)
        else:
            have.tighten(requests_per_minute, tokens_per_minute)
        return have


def _stricter(have: Bucket | None, per_minute: float | None, now: float) -> Bucket | None:
    if not per_minute or (have is not None and have.per_minute <= per_minute):
        return have
    new = Bucket(per_minute, now)
    if have is not None:
        have.refill(now)
        new.level = min(new.size, have.level)  # what is reserved stays reserved
    return new
