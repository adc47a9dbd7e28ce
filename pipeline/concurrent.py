"""Run a batch of independent steps on a bounded thread pool and hand back their results in plan order.

Why plan order: a step's result goes into the release in the order the round planned it, whatever
order the endpoint answered in, so the same inputs and seed publish the same release at any
concurrency. Each step runs in a copy of the caller's context (contextvars), so the progress
reporter and an orchestrator's run context (Prefect's flow run) follow it into the worker thread.

`after_each` sees each result in plan order as soon as it and every step before it are done (the
circuit breaker is checked there). When it raises, the steps not started yet are cancelled, the ones
running finish (a model call cannot be taken back), their results are dropped, and the exception
propagates: a stop mid-batch never leaves a worker writing behind the caller's back. Ctrl-C and SIGTERM
(KeyboardInterrupt) do not wait for the running calls: the caller stops at once and closes its model
servers, which ends those calls.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import TypeVar

S = TypeVar("S")
R = TypeVar("R")


def run_in_plan_order(steps: Sequence[S], work: Callable[[S], R], max_workers: int,
                      after_each: Callable[[S, R], None] | None = None) -> list[R]:
    """`work(step)` for every step, at most `max_workers` at a time; the results in the order of `steps`."""
    if max_workers <= 1 or len(steps) <= 1:
        out = []
        for s in steps:  # no pool: the same code path a sequential build always had
            r = work(s)
            if after_each is not None:
                after_each(s, r)
            out.append(r)
        return out
    pool = ThreadPoolExecutor(max_workers=min(max_workers, len(steps)), thread_name_prefix="benchmint-step")
    futures: list[Future[R]] = [pool.submit(contextvars.copy_context().run, work, s) for s in steps]
    try:
        out = []
        for s, f in zip(steps, futures):
            r = f.result()
            if after_each is not None:
                after_each(s, r)
            out.append(r)
        return out
    except Exception:
        for f in futures:
            f.cancel()
        wait(futures)
        raise
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
