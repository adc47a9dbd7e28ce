"""A build on a real Dask LocalCluster of 2 worker processes, as real Prefect flow runs, against the embedded
SmolLM2 model: its llama.cpp server is started once, by the flow's process, and the workers reach it by URL.
The same build on the thread runner then publishes the same release from the replies the workers cached, and so
does the build on a scheduler at an address (Dask's CLI: a scheduler and one worker process started for the test).

The validators are relaxed (grounding): SmolLM2-135M's questions are what the runner moves here, not what
is under test, and a release needs at least one accepted question."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from benchmint.config import BuildConfig
from tests.fixtures import dask_cli_cluster

DOCS = {
    "pump.md": "# Orrin-7 pump\n\nThe Orrin-7 pump moves 4,800 litres per hour. It is serviced every 14 days by the "
               "Skarvik harbour crew.\n",
    "ferry.md": "# Tromsdal ferry\n\nThe Tromsdal ferry crosses the fjord in 35 minutes. It carries up to 64 cars.\n",
    "lamp.md": "# Vesterhorn lighthouse\n\nThe Vesterhorn lighthouse was built in 1871. Its lamp is visible from 22 "
               "nautical miles away.\n",
    "depot.md": "# Tromsdal warehouse\n\nThe Tromsdal warehouse stores spare membrane cartridges. It keeps a minimum "
                "stock of 36 cartridges.\n",
}


def _config(tmp_path: Path, runner: dict, out: str) -> dict:
    return BuildConfig(
        name="runners", sources=[str(tmp_path / "docs")], questions=2, output_dir=str(tmp_path / out),
        cache_dir=str(tmp_path / "cache"), runner=runner,
        models={"generator": {"model": "local:smollm2-135m", "max_tokens": 500, "sampling": {"repeat_penalty": 1.3}}},
        generation={"questions_per_chunk": 1, "batch_chunks": 2, "kinds": ["tf"]},
        grounding={"min_ratio": 0, "min_words": 1, "min_answer_support": 0}, contamination={"enabled": False},
    ).model_dump(mode="json")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_dask_build_publishes_the_release_the_thread_build_publishes(prefect_harness, tmp_path):
    from flows.build import build_benchmark

    (tmp_path / "docs").mkdir()
    for name, text in DOCS.items():
        (tmp_path / "docs" / name).write_text(text, encoding="utf-8")
    # first on Dask, with an empty response cache: the workers make every model call
    on_dask = build_benchmark(_config(tmp_path, {"kind": "dask", "workers": 2}, "dask"))
    on_threads = build_benchmark(_config(tmp_path, {"kind": "thread"}, "thread"))
    dask_release, thread_release = Path(on_dask["release"]), Path(on_threads["release"])
    m_dask = json.loads((dask_release / "manifest.json").read_text())
    m_thread = json.loads((thread_release / "manifest.json").read_text())
    assert m_dask["content_hash"] == m_thread["content_hash"]
    assert (dask_release / "questions.jsonl").read_bytes() == (thread_release / "questions.jsonl").read_bytes()
    def shape(rounds: list) -> list:  # the tokens a round spent differ: the thread build's came from the cache
        return [{k: v for k, v in r.items() if k != "completion_tokens"} for r in rounds]

    assert shape(m_dask["rounds"]) == shape(m_thread["rounds"])
    assert m_dask["stopped_because"] == m_thread["stopped_because"]
    assert m_dask["config"]["runner"] == {"kind": "dask", "address": None, "workers": 2, "endpoint_limits": None}
    assert "runner" not in m_thread["config"]  # the default runner: a thread build's manifest as it was

    # the workers' calls are in the flow's usage; the thread build found every reply they kept, under the same keys
    gd, gt = m_dask["token_usage"]["generator"], m_thread["token_usage"]["generator"]
    assert gd["calls"] >= 2 and gd["completion_tokens"] > 0 and gd["seconds"] > 0 and gd["cache_hits"] == 0
    assert gt["calls"] == 0 and gt["saved_calls"] == gd["calls"]
    assert gt["cached_completion_tokens"] == gd["completion_tokens"]
    assert on_dask["token_usage"] == m_dask["token_usage"]
    # the same steps failed; the replies counted as faults may differ by the steps a repair saved: a rerun finds
    # such a step's valid reply at once and never replays the invalid first one
    fd, ft = m_dask["faults"].get("by_role", {}), m_thread["faults"].get("by_role", {})
    assert {r: f.get("failed_steps") for r, f in fd.items()} == {r: f.get("failed_steps") for r, f in ft.items()}
    repaired = gd.get("repairs", 0) - gd.get("failures", 0)  # repairs that gave a valid reply
    for role, f in fd.items():
        schema_d = f.get("replies", {}).get("schema", 0)
        schema_t = ft.get(role, {}).get("replies", {}).get("schema", 0)
        assert schema_d - max(0, repaired) <= schema_t <= schema_d

    # every generation step ran in a worker process, none in this one (the flow's); the cluster is gone after
    steps = sum(r["chunks"] for r in m_dask["rounds"])
    workers = on_dask["workers"]
    pids = {int(w.rsplit(":", 1)[1]) for w in workers}
    assert sum(workers.values()) == steps >= 2 and 1 <= len(pids) <= 2 and os.getpid() not in pids
    assert "workers" not in on_threads
    deadline = time.monotonic() + 30
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not any(_alive(p) for p in pids)

    # a scheduler at an address (a team's cluster, started by Dask's own CLI): the same release, the steps run by
    # its worker, which stays up after the build (the config a flow receives validates again from its dump)
    with dask_cli_cluster(1, 4) as (address, (worker_pid,)):
        on_cluster = build_benchmark(_config(tmp_path, {"kind": "dask", "address": address}, "cluster"))
        m_cluster = json.loads((Path(on_cluster["release"]) / "manifest.json").read_text())
        assert m_cluster["content_hash"] == m_thread["content_hash"]
        assert m_cluster["config"]["runner"]["address"] == address
        ran_on = {int(w.rsplit(":", 1)[1]) for w in on_cluster["workers"]}
        assert ran_on == {worker_pid} and _alive(worker_pid)


def test_a_dask_config_picks_the_dask_runner_and_the_flows_copy_keeps_its_guards(monkeypatch):
    """No flow run: the runner a config asks for, and the copy `with_options` makes of a SecretSafeFlow (the
    one a Dask build runs) still stashes and redacts a secret URL before Prefect stores the parameters."""
    from prefect_dask import DaskTaskRunner

    from flows.build import build_benchmark
    from flows.runner import runner_for
    from flows.secret_safe import SecretSafeFlow

    base = {"name": "b", "sources": ["docs"], "models": {"generator": {"model": "local:smollm2-135m",
                                                                       "max_concurrency": 7}}}
    local = runner_for({"config": {**base, "runner": {"kind": "dask", "workers": 3}}})
    assert isinstance(local, DaskTaskRunner) and local.address is None
    assert local.cluster_kwargs == {"n_workers": 3, "processes": True, "threads_per_worker": 3,
                                    "dashboard_address": None}
    remote = runner_for({"config": {**base, "runner": {"kind": "dask", "address": "tcp://10.0.0.5:8786"}}})
    assert remote.address == "tcp://10.0.0.5:8786" and not remote.cluster_kwargs
    assert runner_for({"config": base}) is None and runner_for({"config": {"name": "b"}}) is None

    copy = build_benchmark.with_options(task_runner=local)
    assert isinstance(copy, SecretSafeFlow) and copy.task_runner is local and copy.name == "build-benchmark"
    assert copy.runner_for is build_benchmark.runner_for
    raw = "https://user:pw-4417@api.example.invalid/v1?api_key=sk-inline-3390"
    params = copy.safe_parameters({"config": {**base, "models": {"generator": {"model": "m", "base_url": raw}}},
                                   "wait_s": 0.0})
    stored = json.dumps(copy.serialize_parameters(params))
    assert "pw-4417" not in stored and "sk-inline-3390" not in stored and "REDACTED" in stored


def _step_code_imported() -> bool:
    import sys

    return "pipeline.generation" in sys.modules


def test_the_cluster_imports_the_step_code_before_the_first_step():
    """A scheduler at an address unpickles every task it is sent: `load_step_code` (sent as a Dask build connects)
    has the scheduler and the workers import the step's module before any step reaches them."""
    from distributed import Client

    from flows.runner import load_step_code

    with dask_cli_cluster(2, 2) as (address, _), Client(address, timeout=60) as client:
        assert not client.run_on_scheduler(_step_code_imported)
        assert not any(client.run(_step_code_imported).values())
        load_step_code(client)
        assert client.run_on_scheduler(_step_code_imported)
        assert all(client.run(_step_code_imported).values()) and len(client.run(_step_code_imported)) == 2


def test_a_deployments_run_of_a_dask_config_builds_on_dask(prefect_harness, tmp_path):
    """Prefect starts a deployment's run (a worker, `benchmint serve`) without the call that picks the task
    runner: `run_flow`, as they do. A Dask config's build then runs as a subflow run on a LocalCluster, its steps
    on the worker process. The endpoint stands in for a remote API (the real Qwen2.5-Coder-1.5B's recorded
    questions: tests/endpoint_standin.py)."""
    from prefect import get_client
    from prefect.flow_engine import run_flow

    from flows.build import build_benchmark
    from tests.endpoint_standin import GENERATOR, EndpointStandIn, StandInConfig, generator_replay
    from tests.fixtures import PDF_FACTS

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "korvath.md").write_text("# Korvath K-12 facts\n\n" + " ".join(PDF_FACTS) + "\n", encoding="utf-8")
    with EndpointStandIn(config=StandInConfig(replay=generator_replay())) as ep:
        config = BuildConfig.model_validate({
            "name": "deployed", "sources": [str(docs)], "questions": 3, "output_dir": str(tmp_path / "out"),
            "cache_dir": str(tmp_path / "cache"), "runner": {"kind": "dask", "workers": 1},
            "models": {"generator": {"model": GENERATOR, "base_url": ep.url, "json_mode": "json_object_schema",
                                     "max_tokens": 900, "max_concurrency": 2}},
            "generation": {"questions_per_chunk": 3, "kinds": ["mcq"]},
            "difficulty": {"closed_book": "off", "check_gold": False},
            "contamination": {"enabled": False}}).model_dump(mode="json")
        summary = run_flow(build_benchmark, parameters={"config": config, "wait_s": 0.0}, return_type="result")
    workers = {int(w.rsplit(":", 1)[1]) for w in summary["workers"]}
    assert summary["release"] and workers and os.getpid() not in workers
    with get_client(sync_client=True) as client:
        runs = [r for r in client.read_flow_runs() if r.name == "build-deployed"]
    assert len(runs) == 2 and sum(r.parent_task_run_id is not None for r in runs) == 1
