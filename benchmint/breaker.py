"""What the clients of one endpoint share: the circuit breaker and the pause a `Retry-After` asks for.

A step is one validated reply (every try and the repair try). One failed step is recorded and the
build goes on; `max_consecutive_failures` failed steps in a row on one endpoint mean the endpoint is
down or broken, and the build stops with one line instead of spending every remaining step on it.
"""

from __future__ import annotations

import threading
import time

from benchmint.errors import EndpointDown


class Endpoint:
    """One endpoint's breaker (failed steps in a row) and its rate-limit pause (no request before)."""

    def __init__(self, label: str, max_consecutive_failures: int = 5):
        self.label = label  # redacted: it is shown
        self.max_consecutive_failures = max_consecutive_failures  # 0: the breaker never opens
        self.failures = 0  # failed steps in a row
        self.last_error = ""
        self._not_before = 0.0  # time.monotonic() before which no request is sent
        self._lock = threading.Lock()

    @property
    def open(self) -> bool:
        return 0 < self.max_consecutive_failures <= self.failures

    def succeeded(self) -> None:
        with self._lock:
            self.failures = 0

    def failed(self, error: str) -> None:
        with self._lock:
            self.failures += 1
            self.last_error = error

    def down(self) -> EndpointDown:
        return EndpointDown(
            f"model endpoint {self.label} failed {self.failures} steps in a row (last: {self.last_error}); "
            f"the build stopped. Check the endpoint, or raise max_consecutive_failures in its model entry "
            "(0 turns the breaker off)")

    def pause(self, seconds: float) -> None:
        """No request to this endpoint for `seconds` (a Retry-After holds for every client of it)."""
        with self._lock:
            self._not_before = max(self._not_before, time.monotonic() + seconds)

    def wait_turn(self, deadline: float) -> bool:
        """Sleep out the pause; False (without sleeping) when it outlasts `deadline`."""
        with self._lock:
            until = self._not_before
        if until > deadline:
            return False
        delay = until - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        return True
