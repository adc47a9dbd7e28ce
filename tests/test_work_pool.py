"""The nightly refresh from a real Prefect work pool, set up the way the README says: a real `prefect server
start`, a process work pool, `benchmint deploy NAME --pool POOL` from the benchmark's folder, a triggered run,
and `prefect worker start --pool POOL --run-once` in another folder, whose flow run refreshes the SmolLM2
benchmark built beforehand and publishes its next version (documents were added after the first build, so the
refresh has something new to write from). prefect.yaml's entrypoints are loaded with Prefect's own loader.

The validators are relaxed (grounding, contamination off): SmolLM2-135M's questions are what the worker moves
here, not what is under test, and a version needs at least one accepted question."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import yaml

from benchmint.release import versions
from tests.fixtures import REPO
from tests.prefect_server import api_call, server_env, start_server, stop

FIRST = {"pump.md": "# Orrin-7 pump\n\nThe Orrin-7 pump moves 4,800 litres per hour. It is serviced every 14 days by "
                    "the Skarvik harbour crew.\n"}
# added after the first build: the refresh writes questions only from these (several, so that one reply SmolLM2
# gets wrong cannot leave the refresh with nothing new)
ADDED = {
    "ferry.md": "# Tromsdal ferry\n\nThe Tromsdal ferry crosses the fjord in 35 minutes. It carries up to 64 cars.\n",
    "lamp.md": "# Vesterhorn lighthouse\n\nThe Vesterhorn lighthouse was built in 1871. Its lamp is visible from 22 "
               "nautical miles away.\n",
    "depot.md": "# Tromsdal warehouse\n\nThe Tromsdal warehouse stores spare membrane cartridges. It keeps a minimum "
                "stock of 36 cartridges.\n",
    "bell.md": "# Skarvik harbour bell\n\nThe Skarvik harbour bell weighs 240 kilograms. It is rung at noon every "
               "Sunday by the harbour master.\n",
}
POOL = "benchmint-test"
# the Makefile's exports: what every process of the suite runs with, the worker and its flow runs included
OFFLINE = {"DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "HF_HUB_OFFLINE": "1",
           "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def test_prefect_yaml_entrypoints_load_as_flows():
    from prefect import Flow
    from prefect.flows import load_flow_from_entrypoint

    spec = yaml.safe_load((REPO / "prefect.yaml").read_text(encoding="utf-8"))
    names = {"flows/refresh.py:refresh_benchmark": "refresh-benchmark", "flows/nightly.py:refresh_folder":
             "refresh-folder"}
    for d in spec["deployments"]:
        path, func = d["entrypoint"].split(":")
        flow = load_flow_from_entrypoint(f"{REPO / path}:{func}")
        assert isinstance(flow, Flow) and flow.name == names[d["entrypoint"]], d["name"]
        assert set(d["parameters"]) <= set(flow.parameters.properties), d["name"]


def _run(args: list[str], env: dict[str, str], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    r = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, (args, r.returncode, r.stdout[-3000:], r.stderr[-3000:])
    return r


def test_a_process_worker_runs_the_deployed_nightly_refresh_and_publishes_a_new_version(tmp_path):
    project, worker_dir, home = tmp_path / "project", tmp_path / "worker", tmp_path / "prefect-home"
    for d in (project / "docs", worker_dir, home):
        d.mkdir(parents=True)
    for name, text in FIRST.items():
        (project / "docs" / name).write_text(text, encoding="utf-8")
    # relative paths: `benchmint deploy` anchors them to the folder it runs in; the worker runs elsewhere
    definition = {"name": "harbour", "sources": ["docs"], "questions": 2, "output_dir": "out", "cache_dir": "cache",
                  # 1200 tokens: SmolLM2 fills the schema's list before it closes the JSON (at 500, most true/false
                  # replies are cut off)
                  "models": {"generator": {"model": "local:smollm2-135m", "max_tokens": 1200,
                                           "sampling": {"repeat_penalty": 1.3}}},
                  "generation": {"questions_per_chunk": 1, "batch_chunks": 2, "kinds": ["tf"]},
                  "grounding": {"min_ratio": 0, "min_words": 1, "min_answer_support": 0},
                  "contamination": {"enabled": False}}
    (project / "harbour.yaml").write_text(yaml.safe_dump(definition), encoding="utf-8")
    bench = project / "out" / "harbour"

    server, api = start_server(home, tmp_path / "prefect-server.log")
    bin_dir = Path(sys.executable).parent
    env = {**server_env(home, api), **OFFLINE, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
           "PYTHONPATH": str(REPO), "COLUMNS": "250"}
    worker, worker_log = None, tmp_path / "worker.log"
    try:
        _run([sys.executable, "-m", "benchmint.cli", "build", "--config", "harbour.yaml"], env, project)
        assert versions(bench) == ["v1"]
        for name, text in ADDED.items():
            (project / "docs" / name).write_text(text, encoding="utf-8")

        _run([str(bin_dir / "prefect"), "work-pool", "create", POOL, "--type", "process"], env, project, 120)
        deployed = _run([sys.executable, "-m", "benchmint.cli", "deploy", "harbour", "--pool", POOL], env, project)
        assert f"deployed refresh-benchmark/harbour-nightly to work pool {POOL}" in deployed.stdout, deployed.stdout
        dep = next(d for d in api_call("POST", f"{api}/deployments/filter", {"limit": 10})
                   if d["name"] == "harbour-nightly")
        # the code is this checkout's, wherever it is; the definition's paths are absolute
        assert dep["pull_steps"] == [{"prefect.deployments.steps.set_working_directory": {"directory": str(REPO)}}]
        assert dep["entrypoint"] == "flows/refresh.py:refresh_benchmark" and dep["work_pool_name"] == POOL
        config = dep["parameters"]["config"]
        assert config["sources"] == [str(project / "docs")] and config["output_dir"] == str(project / "out")
        assert config["cache_dir"] == str(project / "cache")
        assert dep["schedules"][0]["schedule"]["cron"] == "0 2 * * *"

        _run([str(bin_dir / "prefect"), "deployment", "run", "refresh-benchmark/harbour-nightly"], env, project, 120)
        runs = api_call("POST", f"{api}/flow_runs/filter",
                        {"flow_runs": {"deployment_id": {"any_": [dep["id"]]}}, "limit": 10})
        # the schedule's upcoming runs are in the future; the triggered one is due now
        due = [r for r in runs if r["state"]["type"] == "SCHEDULED"
               and r["expected_start_time"] <= time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time.time() + 60))]
        assert len(due) == 1, runs
        run_id = due[0]["id"]

        with worker_log.open("w") as out:  # the child keeps its own copy of the descriptor
            worker = subprocess.Popen([str(bin_dir / "prefect"), "worker", "start", "--pool", POOL, "--run-once",
                                       "--limit", "1"], env=env, cwd=worker_dir, stdout=out,
                                      stderr=subprocess.STDOUT, start_new_session=True)
        try:
            worker.wait(1200)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"the worker did not finish in 20 min:\n{worker_log.read_text()[-6000:]}") from None
        state = api_call("GET", f"{api}/flow_runs/{run_id}")["state"]
        log = worker_log.read_text()
        assert state["type"] == "COMPLETED", (state, log[-6000:])
        assert versions(bench) == ["v1", "v2"], ("no new version published", log[-6000:])
    finally:
        stop(worker)
        stop(server)
    manifest = json.loads((bench / "v2" / "manifest.json").read_text())
    assert manifest["parent_version"] == "v1" and manifest["changes"]["added"] >= 1
    added_ids = {d["id"] for d in manifest["sources"]["documents"] if Path(d["source"]).name in ADDED}
    new = [json.loads(x) for x in (bench / "v2" / "questions.jsonl").read_text().splitlines()
           if json.loads(x)["introduced_in"] == "v2"]
    assert new and all(set(q["document_ids"]) <= added_ids for q in new)
    assert f"submitting flow run '{run_id}'" in log  # this worker ran it
