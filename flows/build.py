"""The build flow: sources -> documents -> chunks -> questions -> validators -> release.

Thin wiring over the core (pipeline.build.BuildRun): the flow takes the benchmark's run lock and
runs the core with its steps as Prefect tasks (flows.tasks); the core generates each batch's steps
concurrently, bounded by the generator endpoint's `max_concurrency`, validates, and publishes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import get_run_logger

from benchmint.config import BuildConfig
from benchmint.records import Document, SkippedSource
from benchmint.release import versions
from flows.runner import off_its_runner, on_dask, runner_for, start_workers
from flows.secret_safe import safe_config_params, secret_safe_flow, secured
from flows.stale_runs import flow_run_lock
from flows.tasks import PrefectWiring
from pipeline import build


def load_all(cfg: BuildConfig) -> tuple[list[Document], list[SkippedSource]]:
    """Documents from the sources and the feeds (tasks of the running flow)."""
    return build.load_all(cfg, PrefectWiring())


def run_build(cfg: BuildConfig, **kw: Any) -> dict[str, Any]:
    """The core's build run inside the running flow (a refresh passes what it read and keeps; see BuildRun).
    On a Dask task runner the generation steps go to its workers."""
    log = get_run_logger()
    remote = on_dask()
    if cfg.runner.kind == "dask" and not remote:
        log.warning("runner.kind is dask, but this run has no Dask task runner: its generation steps run on threads "
                    "in this process")
    if remote:
        start_workers()
    shared = cfg.runner.endpoint_limits if cfg.runner.endpoint_limits is not None else remote
    wiring = PrefectWiring(remote=remote, shared_limits=shared)
    return build.BuildRun(cfg, wiring, log=log, **kw).run().as_dict()


@secret_safe_flow(safe_config_params, runner_for, name="build-benchmark", flow_run_name="build-{config[name]}", log_prints=True)
def build_benchmark(config: dict[str, Any], wait_s: float = 0.0) -> dict[str, Any]:
    """Run the whole pipeline once and publish the next version. Returns a summary.

    Holds the benchmark's run lock throughout (a refresh of the same name waits or stops), and
    publishes only when the latest version is still the one seen at the start."""
    if off_its_runner({"config": config}):
        get_run_logger().info("runner.kind is dask: the build runs as a subflow run on its Dask task runner")
        return build_benchmark(config, wait_s)
    cfg = secured(config)
    bench_dir = Path(cfg.output_dir) / cfg.name
    with flow_run_lock(bench_dir, "build", wait_s, get_run_logger()):
        found = versions(bench_dir)
        return run_build(cfg, parent=found[-1] if found else None)
