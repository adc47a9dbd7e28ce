"""A release published inside a real flow run logs what a person reads, not the bytecode of a library.

`datasets` fingerprints a table with dill, which disassembles a function and captures what `dis` prints;
a flow with `log_prints` turns that print into one INFO line per instruction, in the run's log and on the
Prefect server everyone sees."""

from __future__ import annotations

import time

import httpx

from tests.fixtures import release_question


def test_publishing_in_a_flow_run_logs_no_disassembly(prefect_harness, tmp_path):
    from prefect import flow
    from prefect.settings import PREFECT_API_URL

    from benchmint.config import BuildConfig
    from flows.tasks import publish_task

    cfg = BuildConfig(name="pub-logs", sources=["x"], output_dir=str(tmp_path))

    @flow(name="publish-logs", log_prints=True)
    def publish_once() -> str:
        return publish_task(cfg, [release_question(1), release_question(2)], [], {}, {"d": "Doc"}, {}, [], None)

    state = publish_once(return_state=True)
    assert state.is_completed() and (tmp_path / "pub-logs" / "v1" / "manifest.json").is_file()
    api, run_id = PREFECT_API_URL.value(), str(state.state_details.flow_run_id)
    messages: list[str] = []
    for _ in range(30):  # logs reach the API in batches: wait for the flow's own last line
        logs = httpx.post(f"{api}/logs/filter", json={"logs": {"flow_run_id": {"any_": [run_id]}}},
                          timeout=30).raise_for_status().json()
        messages = [x["message"] for x in logs]
        if sum("Finished in state Completed" in m for m in messages) >= 2:  # the task's and the flow's
            break
        time.sleep(1)
    assert sum("Finished in state Completed" in m for m in messages) >= 2, messages
    bytecode = [m for m in messages if any(op in m for op in ("LOAD_GLOBAL", "RESUME", "RETURN_VALUE", "LOAD_FAST"))]
    assert not bytecode, bytecode[:5]
