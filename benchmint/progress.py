"""Progress events from a running pipeline to whoever shows them (the CLI's rich display).

The reporter travels in a ContextVar, so library code and Prefect tasks (run in the
caller's thread and context) report without a global or an extra parameter.
"""

from __future__ import annotations

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


current: ContextVar[Reporter] = ContextVar("benchmint_progress", default=NullReporter())
