"""End to end: a real Prefect flow run on the embedded default model (Qwen2.5-Coder-1.5B
on a real llama.cpp server), real PDFs and bad files; the CLI's one-line errors."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import datasets
import pandas as pd
import pytest
from rapidfuzz import fuzz

from benchmint.config import BuildConfig
from benchmint.records import normalize_text
from corpora.documents import load_documents
from tests.fixtures import REPO

pytestmark = pytest.mark.slow  # end-to-end on the default model


@pytest.fixture(scope="module")
def built(sources, tmp_path_factory, prefect_harness, cache_dir):
    from flows.build import build_benchmark

    out = tmp_path_factory.mktemp("outputs")
    cfg = BuildConfig(name="e2e", sources=[str(sources)], questions=3, output_dir=str(out), cache_dir=str(cache_dir))
    first = build_benchmark(cfg.model_dump(mode="json"))
    return cfg, out, first


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_build_publishes_grounded_questions(built, sources):
    cfg, out, summary = built
    release = Path(summary["release"])
    assert release == out / "e2e" / "v1"
    rows = [json.loads(line) for line in (release / "questions.jsonl").read_text().splitlines()]
    assert 1 <= len(rows) <= 3
    # Independent check: every citation is in its source text (partial ratio >= 90).
    docs, _ = load_documents([str(sources)])
    text = {d.id: normalize_text(d.text) for d in docs}
    for row in rows:
        assert row["prompt_id"] == "single_hop" and row["prompt_version"]
        for c in row["citations"]:
            assert fuzz.partial_ratio(normalize_text(c["quote"]), text[c["document_id"]]) >= 90, c["quote"]
        assert all(v["passed"] for v in row["verdicts"])
    manifest = json.loads((release / "manifest.json").read_text())
    skipped = {Path(s["source"]).name for s in manifest["sources"]["skipped"]}
    assert skipped == {"broken.pdf", "empty.md", "firmware.bin"}
    assert {Path(d["source"]).name for d in manifest["sources"]["documents"]} == {"k12-spec.pdf", "service.md"}
    assert manifest["token_usage"]["generator"]["completion_tokens"] > 0
    assert manifest["models"]["generator"] == "local:qwen2.5-coder-1.5b"
    assert manifest["prompts"] == {"single_hop": rows[0]["prompt_version"]}
    assert manifest["validators"]["grounding"]["passed"] >= len(rows)
    assert len(manifest["content_hash"]) == 64
    # Readers.
    assert datasets.load_from_disk(str(release / "dataset")).num_rows == len(rows)
    assert len(pd.read_parquet(release / "questions.parquet")) == len(rows)
    rejected = [json.loads(x) for x in (release / "rejected.jsonl").read_text().splitlines()]
    assert all(any(not v["passed"] for v in r["verdicts"]) for r in rejected)


def test_build_records_a_summary_artifact(built):
    import httpx
    from prefect.settings import PREFECT_API_URL

    body = {"artifacts": {"key": {"any_": ["build-e2e"]}}, "limit": 10, "offset": 0, "sort": "CREATED_DESC"}
    arts = httpx.post(f"{PREFECT_API_URL.value()}/artifacts/filter", json=body, timeout=30).raise_for_status().json()
    assert arts and arts[0]["type"] == "markdown" and "published" in arts[0]["description"]
    assert "| accepted | rejected |" in arts[0]["data"]
    body = {"artifacts": {"key": {"any_": ["validators-e2e", "progress-e2e", "changelog-e2e"]}}, "limit": 20,
            "offset": 0, "sort": "CREATED_DESC"}
    by_key = {a["key"]: a for a in
              httpx.post(f"{PREFECT_API_URL.value()}/artifacts/filter", json=body, timeout=30).raise_for_status().json()}
    assert by_key["validators-e2e"]["type"] == "table" and "grounding" in str(by_key["validators-e2e"]["data"])
    assert by_key["progress-e2e"]["type"] == "progress" and float(by_key["progress-e2e"]["data"]) == 100.0
    assert by_key["changelog-e2e"]["type"] == "markdown" and "## Added" in by_key["changelog-e2e"]["data"]


def test_rebuild_makes_zero_calls_and_keeps_v1(built):
    from flows.build import build_benchmark

    cfg, out, _ = built
    before = _digest(out / "e2e" / "v1")
    second = build_benchmark(cfg.model_dump(mode="json"))
    assert Path(second["release"]).name == "v2"
    assert _digest(out / "e2e" / "v1") == before
    usage = second["token_usage"]["generator"]
    assert usage["calls"] == 0 and usage["cache_hits"] >= 1
    assert os.readlink(out / "e2e" / "latest") == "v2"


def test_a_planted_contaminated_question_is_rejected_with_evidence(built, tmp_path):
    """A light edit of one of v1's questions, planted in a reference corpus, is caught on rebuild."""
    from benchmint.errors import NothingToPublish
    from flows.build import build_benchmark

    cfg, out, first = built
    rows = [json.loads(x) for x in (Path(first["release"]) / "questions.jsonl").read_text().splitlines()]
    planted = rows[0]
    ref = tmp_path / "known.jsonl"
    ref.write_text(json.dumps({"id": "known-7", "question": "Question: " + planted["question"].upper(),
                               "answer": planted["answer"]}) + "\n"
                   + json.dumps({"id": "known-8", "question": "What is the boiling point of water at sea level?",
                                 "answer": "100 degrees Celsius"}) + "\n")
    data = cfg.model_dump(mode="json")
    data["contamination"]["references"] = [str(ref)]
    try:
        summary = build_benchmark(data)
    except NothingToPublish as exc:  # v1 held a single question: it is the one rejected
        assert len(rows) == 1 and "contamination" in str(exc)
        return
    release = Path(summary["release"])
    rejected = [json.loads(x) for x in (release / "rejected.jsonl").read_text().splitlines()]
    hit = [r for r in rejected if r["id"] == planted["id"]]
    assert hit, "the planted question was published"
    v = next(v for v in hit[0]["verdicts"] if v["validator"] == "contamination")
    assert not v["passed"] and v["evidence"]["corpus"] == "known" and v["evidence"]["item_id"] == "known-7"
    assert v["evidence"]["stage"] in {"exact", "ngram", "fuzzy"}
    published = {json.loads(x)["id"] for x in (release / "questions.jsonl").read_text().splitlines()}
    assert planted["id"] not in published
    manifest = json.loads((release / "manifest.json").read_text())
    names = {c["name"] for c in manifest["contamination"]["corpora"]}
    assert "known" in names and {"gsm8k-test", "gpqa-diamond", "aime-2025"} <= names
    assert all(len(c["content_hash"]) >= 16 for c in manifest["contamination"]["corpora"])


def test_decontaminate_cli_and_corpora_registry(tmp_path):
    ref = tmp_path / "ref.jsonl"
    ref.write_text(json.dumps({"question": "Natalia sold clips to 48 of her friends in April, and then she sold half "
                                           "as many clips in May. How many clips did Natalia sell altogether?",
                               "answer": "72"}) + "\n")
    env_cache = tmp_path / "cache"
    inp = tmp_path / "in.jsonl"
    inp.write_text(json.dumps({"id": "a", "question": "natalia sold clips to 48 of her friends in april and then "
                                                      "she sold half as many clips in may how many clips did natalia sell"})
                   + "\n" + json.dumps({"id": "b", "question": "Which valve on the Orrin-7 pump opens at 12 bar?"}) + "\n")
    os.environ["BENCHMINT_CACHE"] = str(env_cache)
    try:
        r = _cli("corpora", "add", "mine", str(ref), cwd=tmp_path)
        assert r.returncode == 0 and "1 items" in r.stdout, r.stderr
        r = _cli("corpora", "list", cwd=tmp_path)
        assert "mine" in r.stdout and "gsm8k-test" in r.stdout
        r = _cli("decontaminate", str(inp), "--reference", "mine", "--output", str(tmp_path / "out.jsonl"),
                 "--no-judge", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        rows = {x["id"]: x for x in map(json.loads, (tmp_path / "out.jsonl").read_text().splitlines())}
        assert rows["a"]["contaminated"] and rows["a"]["match"]["corpus"] == "mine"
        assert not rows["b"]["contaminated"]
        r = _cli("decontaminate", str(inp), "--reference", str(tmp_path / "missing.jsonl"),
                 "--output", str(tmp_path / "o2.jsonl"), "--no-judge", cwd=tmp_path)
        assert r.returncode == 1 and "Traceback" not in r.stderr and "missing.jsonl" in r.stderr
        r = _cli("corpora", "remove", "mine", cwd=tmp_path)
        assert r.returncode == 0
        r = _cli("corpora", "remove", "mine", cwd=tmp_path)
        assert r.returncode == 1 and "no registered corpus named 'mine'" in r.stderr
    finally:
        del os.environ["BENCHMINT_CACHE"]


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    return subprocess.run([sys.executable, "-m", "benchmint.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


def test_unreachable_endpoint_is_one_line_and_leaves_nothing(sources, tmp_path):
    r = _cli("build", str(sources), "--name", "x", "--model", "http://127.0.0.1:9/v1#some-model",
             "--output-dir", str(tmp_path / "out"), cwd=tmp_path)
    assert r.returncode == 1
    assert "cannot reach model endpoint http://127.0.0.1:9/v1" in r.stderr
    assert "Traceback" not in r.stderr + r.stdout
    assert not (tmp_path / "out" / "x").exists() or not any(
        p.name.startswith(("v", ".tmp")) for p in (tmp_path / "out" / "x").iterdir())


def test_invalid_model_name_is_one_line(sources, tmp_path):
    r = _cli("build", str(sources), "--name", "x", "--model", "local:no-such-model", cwd=tmp_path)
    assert r.returncode == 1
    error_lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert "unknown local model 'local:no-such-model'" in r.stderr and len(error_lines) <= 2
    assert "Traceback" not in r.stderr


def test_unknown_config_key_names_the_key(tmp_path):
    cfg = tmp_path / "bench.yaml"
    cfg.write_text("name: x\nsources: [docs]\nquestoins: 5\n")
    r = _cli("build", "--config", str(cfg), cwd=tmp_path)
    assert r.returncode == 2 and "unknown key 'questoins'" in r.stderr


def test_nothing_accepted_publishes_nothing(sources, tmp_path, cache_dir):
    cfg = tmp_path / "strict.yaml"
    cfg.write_text(f"name: strict\nsources: [{sources}/service.md]\nquestions: 2\n"
                   f"cache_dir: {cache_dir}\noutput_dir: {tmp_path / 'out'}\n"
                   "models: {generator: {model: 'local:smollm2-135m', max_tokens: 300}}\n"
                   "generation: {questions_per_chunk: 1}\n"
                   "grounding: {min_words: 400}\n")
    r = _cli("build", "--config", str(cfg), cwd=tmp_path)
    assert r.returncode == 1 and "nothing was published" in r.stderr
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "out" / "strict").exists()


def test_models_lists_the_embedded_models(tmp_path):
    r = _cli("models", cwd=REPO)
    assert r.returncode == 0
    assert "local:qwen2.5-coder-1.5b" in r.stdout and "local:smollm2-135m" in r.stdout


def test_the_review_page_of_a_real_build_renders_every_section(built):
    from tests.browser import check_review_page, chromium_binary

    binary = chromium_binary()
    if binary is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    check_review_page(binary, Path(built[2]["release"]), ("questions", "rejected", "rounds", "sources"))

