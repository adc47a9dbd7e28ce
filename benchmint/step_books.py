"""What each step spends when a process's steps share one model client (a Dask worker running several
steps at once, benchmint.remote): every count goes to the book of the step whose context made it, and
`counted` hands it back as a StepUsage for the flow to merge (ModelPool.absorb)."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TypeVar

from benchmint.breaker import Endpoint
from benchmint.usage import StepUsage, UsageBook

T = TypeVar("T")


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


def counted(endpoint: str, work: Callable[[], T]) -> tuple[T, StepUsage]:
    """`work()` with every count of this process's clients it makes kept apart: its value, and what it spent."""
    step = _Step()
    token = _step.set(step)
    try:
        value = work()
    finally:
        _step.reset(token)
    usage = step.book.snapshot().model_copy(update={"endpoint": endpoint, "breaker": step.breaker,
                                                    "worker": f"{socket.gethostname()}:{os.getpid()}"})
    return value, usage
