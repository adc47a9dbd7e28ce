"""`benchmint refresh`, `benchmint nightly` (every definition in a folder) and `benchmint serve` (the nightly refresh
as a Prefect deployment)."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Annotated, Optional

import typer

from benchmint.cli.build import preflight
from benchmint.cli.ui import fail, flow_params, interrupt, out, with_progress
from benchmint.config import BuildConfig, load_config
from benchmint.errors import BenchmintError

# The options `refresh`, `serve` and `deploy` share, declared once.
BenchName = Annotated[str, typer.Argument(help="Benchmark name (outputs/NAME).")]
CronOpt = Annotated[Optional[str], typer.Option(
    "--cron", help="When to refresh (default: the config's schedule.cron, 0 2 * * *).")]
TimezoneOpt = Annotated[Optional[str], typer.Option(
    "--timezone", help="The cron's timezone (default: schedule.timezone, UTC).")]
DefinitionOpt = Annotated[Optional[Path], typer.Option(
    "--config", "-c", help="Its definition (default NAME.yaml if present, else the definition this machine "
                           "last built it with).")]
OutputDirOpt = Annotated[Optional[str], typer.Option("--output-dir", help="Where releases are (default outputs).")]


def refresh(
    name: BenchName,
    config: DefinitionOpt = None,
    output_dir: OutputDirOpt = None,
    wait: Annotated[float, typer.Option(
        "--wait", help="Seconds to wait for another build or refresh of NAME to end.")] = 0.0,
) -> None:
    """Re-read the sources; retire stale questions, add new ones; publish only on a change."""
    try:
        cfg = refresh_config(name, config, output_dir)
        params = flow_params(cfg)
    except BenchmintError as exc:
        fail(str(exc), 2)
    from flows.refresh import refresh_benchmark

    signal.signal(signal.SIGTERM, interrupt)
    summary = with_progress(refresh_benchmark, params, wait)
    if summary["release"] is None:
        out.print(summary.get("message") or f"unchanged: {name} stays at {summary['refreshed_from']}; no new version",
                  highlight=False)
        return
    out.print(f"{name}: {summary['refreshed_from']} -> {summary['version']}: {summary['added']} added, "
              f"{len(summary['retired'])} retired, {summary['kept']} kept ({summary['release']}/CHANGELOG.md)",
              highlight=False)
    for r in summary["retired"]:
        out.print(f"  retired {r['id']}: {r['reason']}", highlight=False)
    if summary.get("view"):
        out.print(f"review page: {summary['view']}", highlight=False)


def nightly(
    folder: Annotated[Path, typer.Argument(help="A folder of benchmark definitions: NAME.yaml defines NAME.")],
    output_dir: Annotated[Optional[str], typer.Option(
        "--output-dir", help="Where releases are, for every definition (default: each definition's own).")] = None,
    wait: Annotated[float, typer.Option(
        "--wait", help="Seconds each one waits for another build or refresh of it to end.")] = 0.0,
) -> None:
    """Refresh every benchmark defined in FOLDER, one Prefect subflow run each (a first build for one with no
    version yet); one that fails does not stop the others, and the run exits 1 when any failed."""
    from pipeline.nightly import NightlySummary, definition_files

    try:
        definition_files(folder)
    except BenchmintError as exc:
        fail(str(exc), 2)
    from flows.nightly import refresh_folder

    signal.signal(signal.SIGTERM, interrupt)
    state = with_progress(lambda: refresh_folder(str(folder), output_dir, wait, return_state=True))
    result = state.result(raise_on_failure=False)
    if not isinstance(result, dict):  # the parent itself failed before its summary (a folder gone meanwhile)
        fail(state.message or f"the nightly run ended {state.name}")
    summary = NightlySummary.model_validate(result)
    for o in summary.outcomes:
        out.print(f"{o.definition}: {o.status}{' ' + o.version if o.version else ''}: {o.detail}",
                  highlight=False, markup=False, soft_wrap=True)  # one line each, for a log or grep
    out.print(summary.headline(), highlight=False, markup=False, soft_wrap=True)
    if summary.failed:
        raise typer.Exit(1)


def serve(
    name: BenchName,
    cron: CronOpt = None,
    timezone: TimezoneOpt = None,
    config: DefinitionOpt = None,
    output_dir: OutputDirOpt = None,
) -> None:
    """Serve the nightly refresh of NAME as a scheduled Prefect deployment (no work pool needed).

    Runs until stopped; with PREFECT_API_URL pointing at `prefect server start`, the deployment,
    its runs and their artifacts show in the Prefect UI."""
    from benchmint.config import ScheduleConfig

    try:
        cfg = refresh_config(name, config, output_dir)
        sched = ScheduleConfig(cron=cron or cfg.schedule.cron, timezone=timezone or cfg.schedule.timezone)
        from prefect.schedules import Cron

        schedule = Cron(sched.cron, timezone=sched.timezone)
        params = flow_params(cfg)  # the deployment's stored parameters; scheduled runs inherit the stash
    except BenchmintError as exc:
        fail(str(exc), 2)
    except ValueError as exc:
        fail(f"schedule {cron or cfg.schedule.cron!r} ({timezone or cfg.schedule.timezone}): {exc}", 2)
    from flows.refresh import refresh_benchmark

    out.print(f"serving deployment refresh-benchmark/{name}-nightly: {sched.cron} ({sched.timezone}); Ctrl-C stops it",
              highlight=False)
    refresh_benchmark.serve(name=f"{name}-nightly", schedules=[schedule], global_limit=1,
                            parameters={"config": params}, tags=["benchmint", name],
                            description=f"Nightly refresh of the benchmint benchmark {name}",
                            print_starting_message=False)


def refresh_config(name: str, config: Optional[Path], output_dir: Optional[str]) -> BuildConfig:
    """NAME's definition: --config, NAME.yaml, or the one this machine last published NAME with.

    Never the config inside a manifest: a release is data, and one received from elsewhere could name
    any endpoint, key variable or folder. A benchmark this machine never published needs --config."""
    from benchmint import catalog, definitions
    from benchmint.names import check_name

    check_name(name)
    if config is None and Path(f"{name}.yaml").is_file():
        config = Path(f"{name}.yaml")
    overrides: dict = {"name": name, "output_dir": output_dir}
    if config is None:
        d = catalog.bench_dir(output_dir or "outputs", name)
        stored = definitions.recall(d)
        if stored is None:
            raise BenchmintError(
                f"{d} was not published on this machine (no local record of its definition); refresh takes "
                f"endpoints, key variables and sources only from your own definition, never from a release's "
                f"manifest: pass --config FILE (`benchmint init {name}` writes one)")
        overrides = {**{k: v for k, v in stored.items() if k not in ("name", "output_dir")},
                     "name": name, "output_dir": output_dir or "outputs"}
    cfg = load_config(config, overrides)
    d = catalog.bench_dir(cfg.output_dir, name)  # published, and inside the output folder
    catalog.check_release(d / catalog.resolve_version(d, None))  # a damaged latest version: one line, now
    preflight(cfg)
    return cfg
