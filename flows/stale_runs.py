"""A build or refresh killed before it ended (kill -9, a lost machine) leaves its flow run Running in the Prefect
UI: no process is left to report its end. The next run of the same benchmark finds the dead run's record in the
benchmark's run lock (benchmint.runlock: a holder that ends cleanly clears it) and sets that flow run Crashed,
saying so, so that a team's UI shows what happened to last night's run.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
from prefect import get_client
from prefect.context import FlowRunContext
from prefect.exceptions import ObjectNotFound, PrefectHTTPStatusError
from prefect.states import Crashed

from benchmint.runlock import run_lock


def holder_note() -> dict[str, str]:
    """What the run lock records of the running flow run: its id."""
    ctx = FlowRunContext.get()
    return {"flow_run_id": str(ctx.flow_run.id)} if ctx is not None and ctx.flow_run is not None else {}


def mark_crashed(died: dict[str, Any] | None, log: logging.Logger | logging.LoggerAdapter) -> None:
    """Set the flow run of a holder that died (the lock's record, None: none died) Crashed, if it is not final
    yet. Only a report: a run the API does not know (another Prefect server) is named in the log and left."""
    run_id = (died or {}).get("flow_run_id")
    if not run_id:
        return
    how = f"{died.get('kind', 'run')} with pid {died.get('pid')} on {died.get('host')}, since {died.get('since')}"
    try:
        with get_client(sync_client=True) as client:
            run = client.read_flow_run(UUID(str(run_id)))
            if run.state is None or run.state.is_final():
                return
            client.set_flow_run_state(run.id, Crashed(message=(
                f"its process ended without finishing (the {how}: killed, or its machine lost); found by the "
                "next run of this benchmark")), force=True)
    except (ObjectNotFound, PrefectHTTPStatusError, httpx.HTTPError, ValueError) as exc:
        log.info("the %s ended without finishing; its flow run %s was not marked Crashed: %s", how, run_id,
                 type(exc).__name__)
        return
    log.warning("the %s ended without finishing: its flow run %s (%s) is now Crashed", how, run.name, run_id)


@contextlib.contextmanager
def flow_run_lock(bench_dir: Path, kind: str, wait_s: float, log: logging.Logger | logging.LoggerAdapter
                  ) -> Iterator[None]:
    """The benchmark's run lock (benchmint.runlock) for the running flow run: its record names the flow run, and a
    holder that died before it is set Crashed."""
    with run_lock(bench_dir, kind, wait_s, note=holder_note()) as died:
        mark_crashed(died, log)
        yield
