"""The nightly refresh of every benchmark definition in a folder: one parent flow, one subflow per benchmark.

`refresh_folder(folder)` reads each definition (pipeline.nightly: NAME.yaml defines benchmark NAME) and runs
`refresh-benchmark` on it as a subflow run named `refresh-NAME`, or `build-benchmark` (`build-NAME`) when the
benchmark has no version yet, so a definition added to the folder gets its first version the next night. The
definitions run one after another; one that fails (a file that cannot be read, a refresh that raises) is
recorded with its one-line reason and the others still run.

The parent ends Failed when any definition failed, Completed otherwise: a Prefect user watches run states
(the dashboard, `prefect deployment run --watch`, an automation on Failed runs), and a night that left a
benchmark stale must show there, not only in an artifact nobody opens. The benchmarks that did refresh keep
their new versions and their Completed subflow runs either way. Both states carry the same summary: a table
artifact `nightly-<folder>` (definition, benchmark, published / unchanged / failed, version, the one line),
and the run's result (`NightlySummary` as a dict).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact
from prefect.states import Completed, Failed, State

from benchmint.errors import BenchmintError
from benchmint.names import bench_dir_inside, escape_undecodable
from benchmint.release import versions
from flows.build import build_benchmark
from flows.refresh import refresh_benchmark
from pipeline.names import slug
from pipeline.nightly import (
    DefinitionOutcome,
    NightlySummary,
    definition_files,
    load_definition,
    one_line,
    outcome_of_summary,
)


def failure_reason(state: State) -> str:
    """A failed subflow's reason as one line: its exception's message (a BenchmintError's is written for
    the user), else the state's message."""
    exc = state.result(raise_on_failure=False)
    if isinstance(exc, BenchmintError):
        return one_line(str(exc))
    if isinstance(exc, BaseException):
        return one_line(f"{type(exc).__name__}: {exc}")
    return one_line(state.message or f"ended {state.name}")


def run_definition(path: Path, output_dir: str | None, wait_s: float) -> DefinitionOutcome:
    """Refresh (or first build) the benchmark `path` defines, as a subflow run; its outcome, never an error."""
    log = get_run_logger()
    name = path.stem
    try:
        cfg = load_definition(path, output_dir)
        published = bool(versions(bench_dir_inside(cfg.output_dir, cfg.name)))
    except BenchmintError as exc:
        log.error("%s: %s", path.name, exc)
        return DefinitionOutcome(definition=path.name, benchmark=name, status="failed", detail=one_line(str(exc)))
    child, run = (refresh_benchmark, f"refresh-{name}") if published else (build_benchmark, f"build-{name}")
    state = child(cfg.model_dump(mode="json"), wait_s=wait_s, return_state=True)
    if not state.is_completed():
        reason = failure_reason(state)
        log.error("%s (%s): %s", path.name, run, reason)
        return DefinitionOutcome(definition=path.name, benchmark=name, status="failed", detail=reason, run=run)
    outcome = outcome_of_summary(path, name, state.result(), run)
    log.info("%s: %s %s", name, outcome.status, outcome.detail)
    return outcome


@flow(name="refresh-folder", flow_run_name="nightly-{folder}", log_prints=True)
def refresh_folder(folder: str, output_dir: str | None = None, wait_s: float = 0.0) -> Any:
    """Refresh every benchmark defined in `folder` (first-build the ones with no version yet), each as a subflow
    run; `output_dir` overrides the definitions' own, `wait_s` is each one's wait for the run lock. Returns the
    summary as a dict; the run ends Failed when any definition failed."""
    files = definition_files(folder)
    summary = NightlySummary(folder=str(folder))
    for path in files:
        summary.outcomes.append(run_definition(path, output_dir, wait_s))
    headline = summary.headline()
    create_table_artifact(table=summary.table(), key=f"nightly-{slug(Path(folder).name or 'folder', 40)}",
                          description=headline)
    result = summary.model_dump(mode="json")
    if summary.failed:
        reasons = "; ".join(f"{o.definition}: {o.detail}" for o in summary.failed)
        return Failed(message=escape_undecodable(f"{headline}: {reasons}"), data=result)
    return Completed(message=headline, data=result)
