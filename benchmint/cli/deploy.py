"""`benchmint deploy NAME --pool POOL`: the nightly refresh of NAME as a deployment of a Prefect process work pool.

The deployment's code is this checkout (the folder that holds flows/), recorded as its pull step
(`set_working_directory` to that path: `Flow.from_source(<checkout>, entrypoint)`), so any checkout deploys
itself and no variable names a home. Its parameters are NAME's definition with every path made absolute
(the folder `deploy` ran in anchors the relative ones), so a worker started anywhere reads the same sources
and writes the same output folder. A Docker or Kubernetes pool cannot see a checkout: prefect.yaml's image
deployments are for those.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from benchmint.cli.refresh import BenchName, CronOpt, DefinitionOpt, OutputDirOpt, TimezoneOpt, refresh_config
from benchmint.cli.ui import fail, flow_params, out
from benchmint.config import BuildConfig, ScheduleConfig
from benchmint.errors import BenchmintError

ENTRYPOINT = "flows/refresh.py:refresh_benchmark"


def anchored(cfg: BuildConfig) -> BuildConfig:
    """`cfg` with its sources, output and cache folders, and reference corpora given by path, made absolute
    against the current folder (a registered corpus name stays a name)."""
    def absolute(p: str) -> str:
        return str(Path(p).expanduser().absolute())

    refs = [absolute(r) if Path(r).expanduser().exists() else r for r in cfg.contamination.references]
    return cfg.model_copy(update={
        "sources": [absolute(s) for s in cfg.sources], "output_dir": absolute(cfg.output_dir),
        "cache_dir": absolute(cfg.cache_dir) if cfg.cache_dir else None,
        "contamination": cfg.contamination.model_copy(update={"references": refs})})


def checkout() -> Path:
    """The folder that holds this benchmint's flows/ (a checkout, or site-packages for an installed copy)."""
    import flows.refresh

    return Path(flows.refresh.__file__).resolve().parent.parent


def check_pool(pool: str) -> None:
    """One line, exit 2, unless a Prefect server is configured and `pool` is a process pool on it."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound
    from prefect.settings import PREFECT_API_URL

    if not PREFECT_API_URL.value():
        fail("deploy registers with a Prefect server, and PREFECT_API_URL is not set: start one "
             "(prefect server start) and export PREFECT_API_URL=http://127.0.0.1:4200/api", 2)
    try:
        with get_client(sync_client=True) as client:
            work_pool = client.read_work_pool(pool)
    except ObjectNotFound:
        fail(f"work pool {pool!r} does not exist on {PREFECT_API_URL.value()}; create it: "
             f"prefect work-pool create {pool} --type process", 2)
    if work_pool.type != "process":
        fail(f"work pool {pool!r} is a {work_pool.type} pool; deploy registers runs of this checkout, which only a "
             "process pool's workers can reach; for a Docker or Kubernetes pool deploy prefect.yaml's image "
             "deployments (prefect deploy --name example-nightly-docker)", 2)


def deploy(
    name: BenchName,
    pool: Annotated[str, typer.Option("--pool", help="A Prefect process work pool.")],
    cron: CronOpt = None,
    timezone: TimezoneOpt = None,
    config: DefinitionOpt = None,
    output_dir: OutputDirOpt = None,
) -> None:
    """Register the nightly refresh of NAME with a Prefect process work pool; its workers run it from this
    checkout (`prefect worker start --pool POOL`)."""
    try:
        cfg = anchored(refresh_config(name, config, output_dir))
        sched = ScheduleConfig(cron=cron or cfg.schedule.cron, timezone=timezone or cfg.schedule.timezone)
        from prefect.schedules import Cron

        schedule = Cron(sched.cron, timezone=sched.timezone)
        params = flow_params(cfg)
    except BenchmintError as exc:
        fail(str(exc), 2)
    except ValueError as exc:
        fail(f"schedule {cron or cfg.schedule.cron!r} ({timezone or cfg.schedule.timezone}): {exc}", 2)
    check_pool(pool)
    from flows.refresh import refresh_benchmark

    code = checkout()
    deployment = f"{name}-nightly"
    flow = refresh_benchmark.from_source(str(code), ENTRYPOINT)
    flow.deploy(name=deployment, work_pool_name=pool, schedules=[schedule], concurrency_limit=1,
                parameters={"config": params}, tags=["benchmint", name], build=False, push=False,
                description=f"Nightly refresh of the benchmint benchmark {name}", print_next_steps=False)
    out.print(f"deployed {refresh_benchmark.name}/{deployment} to work pool {pool}: {sched.cron} ({sched.timezone}), "
              f"code from {code}, releases in {cfg.output_dir}", highlight=False)
    out.print(f"start a worker: prefect worker start --pool {pool}; run it now: prefect deployment run "
              f"'{refresh_benchmark.name}/{deployment}'", highlight=False, markup=False)
