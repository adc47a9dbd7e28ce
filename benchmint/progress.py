"""Progress events from a running pipeline to whoever shows them (the CLI's rich display, or plain
lines in a log).

The reporter travels in a ContextVar, so library code and Prefect tasks (run in the
caller's thread and context) report without a global or an extra parameter.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import Protocol


class Reporter(Protocol):
    def stage(self, text: str) -> None: ...
    def advance(self, accepted: int, target: int, chunks_done: int, chunks_total: int) -> None: ...
    def note(self, text: str) -> None: ...


class NullReporter:
    def stage(self, text: str) -> None:
        pass

    def advance(self, accepted: int, target: int, chunks_done: int, chunks_total: int) -> None:
        pass

    def note(self, text: str) -> None:
        pass


class PlainReporter:
    """Progress as plain lines, for output that is not a terminal (a log file, a pipe, cron): a live
    display draws nothing there. Every stage change and note is a line; the counts are a line at most
    once every `every` seconds (a long build shows it is alive without flooding the log), and the
    counts held back are written at the next stage change and at close()."""

    def __init__(self, write: Callable[[str], None], every: float = 10.0,
                 clock: Callable[[], float] = time.monotonic):
        self.write, self.every, self.clock = write, every, clock
        self.started = clock()
        self._stage: str | None = None
        self._shown: tuple[int, int, int, int] | None = None
        self._held: tuple[int, int, int, int] | None = None
        self._shown_at: float | None = None  # None: the next counts are written at once
        self._lock = threading.Lock()  # steps may report from worker threads

    def _line(self, text: str) -> None:
        s = max(0, int(self.clock() - self.started))
        self.write(f"[{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}] {text}")

    def _counts(self, c: tuple[int, int, int, int]) -> None:
        self._line(f"accepted {c[0]}/{c[1]} questions, chunks {c[2]}/{c[3]}")
        self._shown, self._held, self._shown_at = c, None, self.clock()

    def stage(self, text: str) -> None:
        with self._lock:
            if text == self._stage:
                return
            if self._held is not None:
                self._counts(self._held)
            self._stage = text
            self._line(text)
            self._shown_at = None

    def advance(self, accepted: int, target: int, chunks_done: int, chunks_total: int) -> None:
        c = (accepted, target, chunks_done, chunks_total)
        with self._lock:
            if c == self._shown:
                return
            due = self._shown_at is None or self.clock() - self._shown_at >= self.every
            if due or accepted >= target:  # the target reached is news, whenever it comes
                self._counts(c)
            else:
                self._held = c

    def note(self, text: str) -> None:
        with self._lock:
            self._line(text)

    def close(self) -> None:
        """Write the counts held back, so the log ends on the last ones."""
        with self._lock:
            if self._held is not None:
                self._counts(self._held)


current: ContextVar[Reporter] = ContextVar("benchmint_progress", default=NullReporter())
