"""The nightly refresh of a folder of definitions as real Prefect flow runs on the embedded SmolLM2 model: one
subflow run per benchmark, named after it; a definition that cannot be read and one whose run raises are
reported with their one-line reasons while the others publish; the parent ends Failed while any failed, and
Completed once none does.

The validators are relaxed (grounding, contamination off): SmolLM2-135M's questions are what the runs move
here, not what is under test, and a release needs at least one accepted question."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from benchmint.release import versions

# two documents each, so that one reply SmolLM2 gets wrong cannot leave a first build with nothing (its replies
# differ between CPUs: on a 2-core Xeon VM one ferry reply was unusable)
DOCS = {
    "ferry": {"ferry.md": "# Tromsdal ferry\n\nThe Tromsdal ferry crosses the fjord in 35 minutes. It carries up to "
                          "64 cars and sails every hour from 6 in the morning.\n",
              "quay.md": "# Tromsdal quay\n\nThe Tromsdal quay is 140 metres long. It was rebuilt in 1998 after a "
                         "winter storm.\n"},
    "pump": {"pump.md": "# Orrin-7 pump\n\nThe Orrin-7 pump moves 4,800 litres per hour. It is serviced every 14 "
                        "days by the Skarvik harbour crew.\n",
             "valve.md": "# Orrin-7 valve\n\nThe Orrin-7 relief valve opens at 6 bar. It is tested every 30 days.\n"},
}
# added to ferry's sources after night 1 (two, so that one reply SmolLM2 gets wrong cannot leave the refresh with
# nothing new)
NEW_DOCS = {
    "lamp.md": "# Vesterhorn lighthouse\n\nThe Vesterhorn lighthouse was built in 1871. Its lamp is visible from 22 "
               "nautical miles away.\n",
    "depot.md": "# Tromsdal warehouse\n\nThe Tromsdal warehouse stores spare membrane cartridges. It keeps a minimum "
                "stock of 36 cartridges.\n",
}


def _definition(tmp_path: Path, sources: str) -> dict:
    """A small SmolLM2 definition (no name: the file's name gives it)."""
    return {"sources": [sources], "questions": 2, "output_dir": str(tmp_path / "out"),
            "cache_dir": str(tmp_path / "cache"),
            # 1200 tokens: SmolLM2 fills the schema's list of up to 10 statements before it closes the JSON; at 500
            # most of its true/false replies are cut off
            "models": {"generator": {"model": "local:smollm2-135m", "max_tokens": 1200,
                                     "sampling": {"repeat_penalty": 1.3}}},
            "generation": {"questions_per_chunk": 1, "batch_chunks": 2, "kinds": ["tf"]},
            "grounding": {"min_ratio": 0, "min_words": 1, "min_answer_support": 0}, "contamination": {"enabled": False}}


def _children(parent_id) -> dict[str, str]:  # noqa: ANN001 - a UUID
    """The parent's subflow runs: name -> state type."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterParentFlowRunId

    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(flow_run_filter=FlowRunFilter(
            parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[parent_id])))
    return {r.name: r.state.type.value for r in runs}


def _artifact(key: str) -> tuple[list[dict], str]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    with get_client(sync_client=True) as client:
        art = client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])))
    latest = max(art, key=lambda a: a.created)
    data = latest.data if isinstance(latest.data, list) else json.loads(latest.data)
    return data, latest.description or ""


def test_a_folder_of_definitions_refreshes_each_as_a_subflow_run(prefect_harness, tmp_path):
    from flows.nightly import refresh_folder

    defs = tmp_path / "definitions"
    defs.mkdir()
    for name, files in DOCS.items():
        (tmp_path / name).mkdir()
        for fname, text in files.items():
            (tmp_path / name / fname).write_text(text, encoding="utf-8")
        (defs / f"{name}.yaml").write_text(yaml.safe_dump(_definition(tmp_path, str(tmp_path / name))))
    (defs / "broken.yaml").write_text("sources: [docs\nquestions: 2\n")  # unclosed flow sequence
    (defs / "missing.yaml").write_text(yaml.safe_dump(_definition(tmp_path, str(tmp_path / "no-such-folder"))))
    (defs / ".pump.yaml.swp").write_text("not a definition")
    out = tmp_path / "out"

    # night 1: ferry and pump get their first versions; broken (no run) and missing (its run fails) do not stop
    # them (missing runs between ferry and pump)
    state = refresh_folder(str(defs), return_state=True)
    assert state.is_failed(), state
    summary = state.result(raise_on_failure=False)
    by_def = {o["definition"]: o for o in summary["outcomes"]}
    assert list(by_def) == ["broken.yaml", "ferry.yaml", "missing.yaml", "pump.yaml"]
    assert versions(out / "ferry") == ["v1"] and versions(out / "pump") == ["v1"]
    assert by_def["ferry.yaml"]["status"] == by_def["pump.yaml"]["status"] == "published"
    assert by_def["ferry.yaml"]["version"] == "v1" and by_def["ferry.yaml"]["detail"].startswith("first version -> v1")
    broken = by_def["broken.yaml"]
    assert broken["status"] == "failed" and broken["run"] is None and "\n" not in broken["detail"]
    assert "broken.yaml is not valid YAML" in broken["detail"], broken
    missing = by_def["missing.yaml"]
    assert missing["status"] == "failed" and missing["run"] == "build-missing", missing
    assert "no-such-folder" in missing["detail"] and "\n" not in missing["detail"], missing
    assert "2 published, 0 unchanged, 2 failed (broken.yaml, missing.yaml)" in state.message
    assert "broken.yaml: " in state.message and "missing.yaml: " in state.message
    assert _children(state.state_details.flow_run_id) == {"build-ferry": "COMPLETED", "build-missing": "FAILED",
                                                          "build-pump": "COMPLETED"}
    table, description = _artifact(f"nightly-{defs.name}")
    assert [(r["definition"], r["status"], r["version"]) for r in table] == [
        ("broken.yaml", "failed", ""), ("ferry.yaml", "published", "v1"), ("missing.yaml", "failed", ""),
        ("pump.yaml", "published", "v1")]
    assert description == f"4 definition(s) in {defs}: 2 published, 0 unchanged, 2 failed (broken.yaml, missing.yaml)"

    # night 2: new documents for ferry (a refresh publishes v2), nothing new for pump (unchanged, no model call)
    for fname, text in NEW_DOCS.items():
        (tmp_path / "ferry" / fname).write_text(text, encoding="utf-8")
    state = refresh_folder(str(defs), return_state=True)
    assert state.is_failed()
    by_def = {o["definition"]: o for o in state.result(raise_on_failure=False)["outcomes"]}
    ferry, pump = by_def["ferry.yaml"], by_def["pump.yaml"]
    assert ferry["status"] == "published" and ferry["version"] == "v2" and ferry["run"] == "refresh-ferry", ferry
    assert ferry["detail"].startswith("v1 -> v2: ") and versions(out / "ferry") == ["v1", "v2"]
    assert pump["status"] == "unchanged" and pump["version"] == "v1" and "unchanged" in pump["detail"], pump
    assert versions(out / "pump") == ["v1"]
    assert _children(state.state_details.flow_run_id) == {"refresh-ferry": "COMPLETED", "build-missing": "FAILED",
                                                          "refresh-pump": "COMPLETED"}

    # night 3: the two failing definitions fixed or gone: the parent completes, with the same summary
    (defs / "broken.yaml").unlink()
    (defs / "missing.yaml").unlink()
    state = refresh_folder(str(defs), return_state=True)
    assert state.is_completed(), state
    assert state.message == f"2 definition(s) in {defs}: 0 published, 2 unchanged, 0 failed"
    assert [o["status"] for o in state.result()["outcomes"]] == ["unchanged", "unchanged"]



def test_the_nightly_command_lists_each_definition_and_exits_1_when_one_failed(tmp_path):
    """`benchmint nightly` on Prefect's ephemeral API, over definitions that fail before any model starts."""
    import os
    import subprocess
    import sys

    from tests.fixtures import REPO

    defs = tmp_path / "defs"
    defs.mkdir()
    (defs / "broken.yaml").write_text("sources: [docs\n")
    (defs / "gone.yaml").write_text(yaml.safe_dump(_definition(tmp_path, str(tmp_path / "no-such-folder"))))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    r = subprocess.run([sys.executable, "-m", "benchmint.cli", "nightly", str(defs)], capture_output=True, text=True,
                       cwd=tmp_path, env={**env, "PYTHONPATH": str(REPO)}, timeout=600)
    assert r.returncode == 1, (r.stdout, r.stderr[-3000:])
    lines = r.stdout.strip().splitlines()
    assert lines[0].startswith("broken.yaml: failed: config file ") and "is not valid YAML" in lines[0], lines
    assert lines[1].startswith("gone.yaml: failed: source ") and "no-such-folder" in lines[1], lines
    assert lines[2] == f"2 definition(s) in {defs}: 0 published, 0 unchanged, 2 failed (broken.yaml, gone.yaml)"
    assert "Traceback" not in r.stdout + r.stderr
    r = subprocess.run([sys.executable, "-m", "benchmint.cli", "nightly", str(tmp_path / "none")], capture_output=True,
                       text=True, cwd=tmp_path, env={**env, "PYTHONPATH": str(REPO)}, timeout=600)
    assert r.returncode == 2 and r.stderr.strip().startswith("error: definitions folder "), r.stderr
