"""The task runner a build's config asks for (`runner:` in benchmint.config): Prefect's thread pool, or a
Dask cluster (prefect-dask's DaskTaskRunner) whose worker processes run the generation steps
(`run_on_worker`: each step's Prefect task run waits in the flow's process while a worker runs the step).

The build and refresh flows pick it when they are called (SecretSafeFlow's `runner_for`), so
`benchmint build --runner dask`, `build_benchmark(config)` from Python and each subflow run of a nightly run
over a folder (flows/nightly.py) run on Dask. A deployment's run of the build or refresh flow itself
(`benchmint serve`, `benchmint deploy`, a work pool) is started by Prefect without that call: it hands its
work to a subflow run of itself, which the call puts on Dask (`off_its_runner`).
"""

from __future__ import annotations

import logging
import math
import sys
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from prefect.context import FlowRunContext
from prefect.task_runners import TaskRunner

from benchmint.config import BuildConfig
from benchmint.errors import BenchmintError
from pipeline.generation import step_code_loaded

log = logging.getLogger(__name__)

T = TypeVar("T")


def dask_task_runner(cfg: BuildConfig) -> TaskRunner:
    """A DaskTaskRunner on the scheduler at runner.address, or on a LocalCluster of runner.workers processes
    started for the run (stopped when it ends)."""
    from prefect_dask import DaskTaskRunner  # imports distributed: only for a Dask build

    if cfg.runner.address:
        return DaskTaskRunner(address=cfg.runner.address)
    workers = cfg.runner.local_workers
    # the flow sends at most the generator's max_concurrency steps at once: the cluster can run them all
    threads = max(1, math.ceil(cfg.models.generator.max_concurrency / workers))
    return DaskTaskRunner(cluster_class="distributed.LocalCluster",
                          cluster_kwargs={"n_workers": workers, "processes": True, "threads_per_worker": threads,
                                          "dashboard_address": None})


def runner_for(params: dict[str, Any]) -> TaskRunner | None:
    """The task runner a flow's `config` parameter asks for; None: the flow's own (threads). An invalid
    config gets None: the flow reports it."""
    try:
        cfg = BuildConfig.model_validate(params.get("config"))
    except (ValueError, BenchmintError):
        return None
    return dask_task_runner(cfg) if cfg.runner.kind == "dask" else None


def on_dask() -> bool:
    """Does the running flow send its tasks to a Dask cluster?"""
    if "prefect_dask" not in sys.modules:  # never imported: no DaskTaskRunner can be running
        return False
    from prefect_dask import DaskTaskRunner

    ctx = FlowRunContext.get()
    return ctx is not None and isinstance(ctx.task_runner, DaskTaskRunner)


def off_its_runner(params: dict[str, Any]) -> bool:
    """Does this flow run's config ask for Dask while the run has no Dask task runner? So is a deployment's run
    (`benchmint serve`, `benchmint deploy`, a work pool): Prefect starts it without the call that picks the runner
    (SecretSafeFlow.__call__), so the flow hands its work to a subflow run of itself, which that call puts on Dask."""
    return runner_for(params) is not None and not on_dask()


def start_workers() -> None:
    """Reach the scheduler (or start the LocalCluster) now, in the flow's own thread: the task runner does it
    on first use, and a batch's first steps are submitted from several threads at once (each would start one).
    Then, in the background while the flow reads its sources, the scheduler and the workers import the step
    code (`load_step_code`)."""
    ctx = FlowRunContext.get()
    if ctx is not None:
        client = ctx.task_runner.client
        threading.Thread(target=load_step_code, args=(client,), name="benchmint-load-step-code", daemon=True).start()


def load_step_code(client: Any) -> None:
    """Have the cluster's scheduler and workers import the generation step's code. The scheduler unpickles every
    task it is sent, so a scheduler that never ran a step imports it on the first one, with the batch's requests
    waiting behind it (0.5-1 s on a 2-core machine: BENCHMARKS.md, the Dask scaling bench); a worker imports it
    on its first step. Only a head start: a failure here leaves that to the first steps, which report it."""
    try:
        client.run_on_scheduler(step_code_loaded)
        client.run(step_code_loaded)
    except Exception as exc:  # noqa: BLE001 - see the docstring
        log.debug("the cluster did not import the step code ahead of the steps: %s", exc)


def run_on_worker(fn: Callable[..., T], *args: Any) -> T:
    """fn(*args) on one of the running flow's Dask workers, as a plain Dask task; its result (or its exception)
    here. The caller is a Prefect task run in the flow's process (its name, retries and state in the UI): on
    the worker no Prefect engine runs, whose per-task cost (a client, settings and events per task run, ~0.1-0.3
    CPU s) outweighs a short request on a small machine (BENCHMARKS.md, the Dask scaling bench)."""
    ctx = FlowRunContext.get()
    if ctx is None:
        raise RuntimeError("run_on_worker needs a running flow on a Dask task runner")
    return ctx.task_runner.client.submit(fn, *args, pure=False).result()
