"""A short adaptive run and an evaluation, as real Prefect flow runs: the generator is the
embedded Qwen model (round 0 reuses the session's cached replies), the target, the judge and
the answers graded are SmolLM2 on a real llama.cpp server."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from benchmint.config import BuildConfig
from benchmint.errors import ConfigError
from tests.fixtures import REPO

pytestmark = pytest.mark.slow  # end-to-end on the default model

SMOL = "local:smollm2-135m"


@pytest.fixture(scope="module")
def adaptive(sources, tmp_path_factory, prefect_harness, cache_dir):
    from flows.build import build_benchmark

    out = tmp_path_factory.mktemp("adaptive-out")
    cfg = BuildConfig(
        name="adaptive", sources=[str(sources)], questions=20, output_dir=str(out), cache_dir=str(cache_dir),
        models={"targets": [SMOL], "judges": [SMOL]},
        difficulty={"band": "0:1", "closed_book": "tag"},
        adaptive={"rounds": 2, "chunks_per_round": 1, "sample": 4, "min_measured": 0},  # rounds: unit tests
    )
    summary = build_benchmark(cfg.model_dump(mode="json"))
    release = Path(summary["release"])
    return summary, release, json.loads((release / "manifest.json").read_text())


def test_adaptive_rounds_are_recorded_in_the_manifest(adaptive):
    summary, release, manifest = adaptive
    rounds = manifest["rounds"]
    assert [r["round"] for r in rounds] == [0, 1]
    for r in rounds:
        assert r["generated"] >= r["accepted"] and r["generated"] == r["accepted"] + r["rejected"]
        assert set(r) >= {"rejected_by_validator", "mean_target_pass_rate", "completion_tokens", "measured"}
    assert rounds[0]["mean_target_pass_rate"] is not None and rounds[0]["measured"] > 0
    r1 = rounds[1]
    assert isinstance(r1["patterns"], list) and r1["kinds"] and "shape_pass_rates" in r1
    assert r1["completion_tokens"] > 0  # round 1 asked the model for new, aimed questions
    assert manifest["targets"] == [SMOL] and manifest["judges"] == [SMOL]
    assert {"target_answer", "judge_answer", "judge_gold", "adaptive_patterns"} <= set(manifest["prompts"])
    assert manifest["stopped_because"] == "2 rounds done"
    published = [json.loads(x)["id"] for x in (release / "questions.jsonl").read_text().splitlines()]
    selection = manifest["selection"]  # the published set, chosen from both rounds
    assert selection["wanted"] == 20 and sorted(selection["chosen"]) == sorted(published)
    assert sum(selection["offered_by_round"].values()) == selection["offered"] == sum(r["accepted"] for r in rounds)
    assert summary["rounds"][1]["round"] == 1


def test_published_questions_are_grounded_and_measured(adaptive):
    _, release, _ = adaptive
    rows = [json.loads(x) for x in (release / "questions.jsonl").read_text().splitlines()]
    assert rows
    for row in rows:
        verdicts = {v["validator"]: v for v in row["verdicts"]}
        assert verdicts["grounding"]["passed"]
        d = verdicts["difficulty"]
        assert d["passed"] and d["evidence"]["results"][0]["target"] == SMOL
        assert row["pass_rate"] == d["evidence"]["pass_rate"] and row["round"] in (0, 1)
        assert "answerability" in verdicts  # closed-book: tagged, not rejected, in this run
    import pandas as pd

    table = pd.read_parquet(release / "questions.parquet")
    assert (table["pass_rate"] >= 0).all() and table["context"].str.len().min() > 0


def test_rounds_without_targets_default_to_the_embedded_models():
    from benchmint.config import load_config
    from benchmint.local_models import LOCAL_MODELS, default_targets

    cfg = load_config(None, {"sources": ["examples/docs/"], "rounds": 3})
    assert cfg.name == "docs" and cfg.adaptive.rounds == 3 and cfg.models.targets == []
    # weakest first; Gemma 3 270M between the two when its package is installed
    gemma = ["local:gemma3-270m"] if LOCAL_MODELS["gemma3-270m"].installed() else []
    assert [t.model for t in default_targets()] == ["local:smollm2-135m", *gemma, "local:qwen2.5-coder-1.5b"]
    with pytest.raises(ConfigError, match="difficulty.band"):
        load_config(None, {"sources": ["x"], "band": "0.9:0.2"})


def test_eval_writes_intervals_paired_differences_chart_and_records_missing(adaptive, prefect_harness, cache_dir):
    from prefect.settings import PREFECT_API_URL

    from flows.evaluate import evaluate_models

    _, release, _ = adaptive
    dead = "http://127.0.0.1:9/v1#gone-model"
    board = evaluate_models(str(release), [SMOL, dead], judges=[SMOL], cache_dir=str(cache_dir))
    n = board["n_questions"]
    assert board["mode"] == "with_document" and [m["rank"] for m in board["models"]] == [1, 2]
    by = {m["model"]: m for m in board["models"]}
    gone = next(k for k in by if k.startswith("gone-model"))
    assert by[gone]["missing"] == n and by[gone]["accuracy"]["mean"] == 0.0  # recorded, the run completed
    res = json.loads((release / "evals" / "local_smollm2-135m" / "results.json").read_text())
    acc = res["accuracy"]
    assert acc["ci_low"] <= acc["mean"] <= acc["ci_high"] and acc["n"] == n and acc["clusters"] >= 1
    assert set(res["by_kind"]) == {q["kind"] for q in res["questions"]}
    assert len(res["questions"]) == n and {"reply", "correct", "method", "document_id"} <= set(res["questions"][0])
    pd_ = res["paired_differences"][gone]
    assert pd_["mean"] == pytest.approx(acc["mean"]) and pd_["ci_low"] <= pd_["mean"] <= pd_["ci_high"]
    png = release / "evals" / "leaderboard.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    body = {"artifacts": {"type": {"any_": ["table"]}}, "limit": 10, "offset": 0, "sort": "CREATED_DESC"}
    arts = httpx.post(f"{PREFECT_API_URL.value()}/artifacts/filter", json=body, timeout=30).raise_for_status().json()
    assert any((a.get("key") or "").startswith("eval-") for a in arts)
    # the release itself is untouched: evals/ sits beside its read-only files
    assert (release / "questions.jsonl").stat().st_mode & 0o222 == 0


def test_eval_cli(adaptive, tmp_path):
    import os

    _, release, _ = adaptive
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    r = subprocess.run([sys.executable, "-m", "benchmint.cli", "eval", str(release.parent), "--model", SMOL,
                        "--no-judge"], capture_output=True, text=True, cwd=REPO, env=env, timeout=900)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "smollm2-135m" in r.stdout and "95% CI" in r.stdout
    # not a terminal: plain progress lines, with the elapsed time
    assert re.search(r"\[\d:\d\d:\d\d\] answering \d+ questions (with document|closed book): ", r.stdout + r.stderr)
    bad = subprocess.run([sys.executable, "-m", "benchmint.cli", "eval", str(tmp_path), "--model", SMOL],
                         capture_output=True, text=True, cwd=REPO, env=env, timeout=300)
    assert bad.returncode == 2 and "not a benchmint release" in bad.stderr and "Traceback" not in bad.stderr


def test_the_review_page_of_an_adaptive_build_renders_every_section(adaptive):
    from tests.browser import check_review_page, chromium_binary

    binary = chromium_binary()
    if binary is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    check_review_page(binary, adaptive[1], ("questions", "rejected", "rounds", "sources"))

