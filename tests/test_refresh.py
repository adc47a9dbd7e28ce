"""Incremental refresh as real Prefect flow runs on the embedded default model: unchanged
sources publish nothing and call no model; a new document adds only its questions; a removed
document retires its questions with the reason; two refreshes never write at once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmint.config import BuildConfig
from benchmint.errors import BenchmintError
from benchmint.release import versions
from benchmint.runlock import run_lock

pytestmark = pytest.mark.slow  # end-to-end on the default model

DOCS = {
    "lantern.md": "# Pellworth lantern rules\n\nThe Pellworth lighthouse lantern is lit 25 minutes before sunset "
                  "by the duty keeper. Its lamp flashes white every 7 seconds and is seen 19 nautical miles out. "
                  "The lantern glass is cleaned every Tuesday with a vinegar solution kept in the east store.\n",
    "boats.md": "# Pellworth boat register\n\nThe Pellworth harbour keeps three pilot boats: the Marram, the Sedge and "
                "the Tansy. The Marram is the oldest, built in 1988 at the Coldwell yard, and has a 210 horsepower "
                "engine. Pilot boats are refuelled at berth 4, never at the fishing quay.\n",
}
NEW_DOC = ("fog.md", "# Pellworth fog signal\n\nThe Pellworth fog horn sounds two blasts every 45 seconds when "
                     "visibility falls below 2 nautical miles. It is powered by a compressor in the base of the tower "
                     "that is serviced each March by the Ardley Marine engineers.\n")


@pytest.fixture(scope="module")
def bench(tmp_path_factory, prefect_harness, cache_dir):
    from flows.build import build_benchmark

    src = tmp_path_factory.mktemp("pellworth")
    for name, text in DOCS.items():
        (src / name).write_text(text, encoding="utf-8")
    out = tmp_path_factory.mktemp("refresh-out")
    cfg = BuildConfig(name="pellworth", sources=[str(src)], questions=3, output_dir=str(out), cache_dir=str(cache_dir))
    summary = build_benchmark(cfg.model_dump(mode="json"))
    return cfg, src, Path(summary["release"]).parent


def _rows(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]


def test_unchanged_sources_publish_nothing_and_call_no_model(bench):
    from flows.refresh import refresh_benchmark

    cfg, _, bench_dir = bench
    summary = refresh_benchmark(cfg.model_dump(mode="json"))
    assert summary["release"] is None and summary["refreshed_from"] == "v1" and "unchanged" in summary["message"]
    assert summary["token_usage"] == {}  # no model was even started
    assert versions(bench_dir) == ["v1"]  # (views/ holds the review pages, not a version)


def test_added_then_removed_document(bench):
    from flows.refresh import refresh_benchmark

    cfg, src, bench_dir = bench
    v1 = _rows(bench_dir / "v1" / "questions.jsonl")
    (src / NEW_DOC[0]).write_text(NEW_DOC[1], encoding="utf-8")
    added = refresh_benchmark(cfg.model_dump(mode="json"))
    assert added["version"] == "v2" and added["added"] >= 1 and not added["retired"]
    v2 = _rows(bench_dir / "v2" / "questions.jsonl")
    manifest = json.loads((bench_dir / "v2" / "manifest.json").read_text())
    fog_id = next(d["id"] for d in manifest["sources"]["documents"] if d["source"].endswith("fog.md"))
    new = [q for q in v2 if q["introduced_in"] == "v2"]
    assert new and all(q["document_ids"] == [fog_id] for q in new)  # only questions from the new document
    assert {q["id"] for q in v2 if q["introduced_in"] == "v1"} == {q["id"] for q in v1}
    assert manifest["parent_version"] == "v1" and manifest["changes"]["added"] == len(new)
    log = (bench_dir / "v2" / "CHANGELOG.md").read_text()
    assert f"## Added ({len(new)})" in log and "## Retired (0)" in log and f"## Kept ({len(v1)})" in log

    # remove a first document that holds questions (which one does depends on the model's replies)
    doc_of = {d["id"]: Path(d["source"]).name for d in manifest["sources"]["documents"]}
    holding = sorted({doc_of[i] for q in v2 for i in q["document_ids"]} & set(DOCS))
    assert holding, "v2 holds no question from the first documents"
    gone_name = holding[0]
    (src / gone_name).unlink()
    removed = refresh_benchmark(cfg.model_dump(mode="json"))
    assert removed["version"] == "v3" and removed["added"] == 0
    gone_id = next(i for i, name in doc_of.items() if name == gone_name)
    gone = [q for q in v2 if gone_id in q["document_ids"]]
    assert gone and {r["id"] for r in removed["retired"]} == {q["id"] for q in gone}
    assert all(gone_name in r["reason"] and "removed or changed" in r["reason"] for r in removed["retired"])
    retired_rows = _rows(bench_dir / "v3" / "retired.jsonl")
    assert all(r["retired_in"] == "v3" and r["introduced_in"] for r in retired_rows)
    assert "removed or changed" in (bench_dir / "v3" / "CHANGELOG.md").read_text()
    assert {q["id"] for q in _rows(bench_dir / "v3" / "questions.jsonl")} == {q["id"] for q in v2} - {q["id"] for q in gone}


def test_a_second_refresh_does_not_write_at_once(bench):
    from flows.refresh import refresh_benchmark

    cfg, _, bench_dir = bench
    with run_lock(bench_dir, "refresh"):
        with pytest.raises(BenchmintError, match="pellworth is busy: a refresh"):
            refresh_benchmark(cfg.model_dump(mode="json"), wait_s=0.5)


def test_refresh_cli_uses_the_stored_definition(bench, tmp_path):
    import os
    import subprocess
    import sys


    cfg, _, bench_dir = bench
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    r = subprocess.run([sys.executable, "-m", "benchmint.cli", "refresh", "pellworth", "--output-dir", cfg.output_dir],
                       capture_output=True, text=True, cwd=tmp_path, env=env, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "unchanged" in r.stdout and not (bench_dir / "v4").exists()
    r = subprocess.run([sys.executable, "-m", "benchmint.cli", "refresh", "nothing-here", "--output-dir", cfg.output_dir],
                       capture_output=True, text=True, cwd=tmp_path, env=env, timeout=600)
    assert r.returncode == 2 and "no published version of 'nothing-here'" in r.stderr


def test_serve_registers_a_scheduled_deployment_and_its_runs_publish_artifacts(bench, tmp_path):
    """A real `prefect server start` on 127.0.0.1, `benchmint serve` against it, `prefect deployment ls`,
    a triggered run of the deployment, and its artifacts read back from the server's API."""
    import signal
    import subprocess
    import sys
    import time

    from tests.prefect_server import api_call, server_env, start_server, stop

    cfg, _, _ = bench
    home = tmp_path / "prefect-home"
    home.mkdir()
    server, api = start_server(home, tmp_path / "prefect-server.log")
    env = {**server_env(home, api), "PREFECT_LOGGING_LEVEL": "WARNING"}
    bin_dir = Path(sys.executable).parent
    serving, serve_log = None, tmp_path / "serve.log"
    try:
        with serve_log.open("w") as log_out:  # the child keeps its own copy of the descriptor
            serving = subprocess.Popen([sys.executable, "-m", "benchmint.cli", "serve", "pellworth", "--cron",
                                        "0 3 * * *", "--output-dir", cfg.output_dir], env=env, cwd=tmp_path,
                                       stdout=log_out, stderr=subprocess.STDOUT, start_new_session=True)
        listed = ""
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and "pellworth-nightly" not in listed:
            time.sleep(2)
            listed = subprocess.run([str(bin_dir / "prefect"), "deployment", "ls"], env={**env, "COLUMNS": "250"},
                                    capture_output=True, text=True, timeout=120).stdout
        assert "refresh-benchmark/pellworth-nightly" in listed, listed + serve_log.read_text()[-2000:]
        deps = api_call("POST", f"{api}/deployments/filter", {"limit": 10})
        dep = next(d for d in deps if d["name"] == "pellworth-nightly")
        assert dep["schedules"][0]["schedule"]["cron"] == "0 3 * * *" and dep["schedules"][0]["active"]
        run = api_call("POST", f"{api}/deployments/{dep['id']}/create_flow_run", {})
        state = ""
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and state not in ("COMPLETED", "FAILED", "CRASHED"):
            time.sleep(2)
            state = api_call("GET", f"{api}/flow_runs/{run['id']}")["state"]["type"]
        assert state == "COMPLETED", (state, serve_log.read_text()[-3000:])
        body = {"artifacts": {"flow_run_id": {"any_": [run["id"]]}}, "limit": 10, "offset": 0, "sort": "CREATED_DESC"}
        arts = api_call("POST", f"{api}/artifacts/filter", body)
        assert any(a["key"] == "build-pellworth" and "unchanged" in (a.get("description") or "") for a in arts), arts
    finally:
        stop(serving, signal.SIGINT)
        stop(server)
