"""A release's exports, loaded by the real tools: `datasets.load_dataset` per kind, the real
`lm_eval` CLI (local-chat-completions) and the real `inspect eval` CLI, both against SmolLM2 on
a real llama.cpp server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import datasets
import pytest
import yaml

from benchmint import release
from benchmint.records import Citation, Question, question_id

BIN = Path(sys.executable).parent
FACTS = {
    "c1": "The Korvath K-12 desalination unit produces 4,800 litres of fresh water per day from seawater.",
    "c2": "Korvath Marine Systems was founded in 2017 by Liesel Abernathy-Okoro in the harbour town of Skarvik.",
}


def release_question(question: str, answer: str, kind: str, chunk: str, **kw) -> Question:
    return Question(id=question_id(question, answer), question=question, answer=answer, kind=kind,
                    citations=[Citation(quote=FACTS[chunk], chunk_id=chunk, document_id="d-" + chunk)],
                    document_ids=["d-" + chunk], chunk_ids=[chunk], generator_model="m", prompt_id="single_hop",
                    prompt_version="2", **kw)


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    qs = [
        release_question("In which harbour town was Korvath Marine Systems founded?", "Skarvik", "open", "c2"),
        release_question("Who founded Korvath Marine Systems?", "Liesel Abernathy-Okoro", "open", "c2"),
        release_question("How many litres of fresh water does the Korvath K-12 produce per day?", "4800", "numeric", "c1",
           unit="litres", tolerance=0.5),
        release_question("In which year was Korvath Marine Systems founded?", "2017", "mcq", "c2",
           choices=["2015", "2017", "2019", "2021"], gold_index=1),
        release_question("What does the Korvath K-12 desalinate?", "seawater", "mcq", "c1",
           choices=["river water", "rain water", "seawater", "brine"], gold_index=2),
        release_question("True or false: Korvath Marine Systems was founded in Skarvik.", "True", "tf", "c2",
           choices=["True", "False"], gold_index=0, rationale=FACTS["c2"]),
    ]
    out = tmp_path_factory.mktemp("exports")
    return release.publish(out, "korvath", qs, [], {}, {"d-c1": "K-12 spec", "d-c2": "History"}, FACTS)


def test_every_kind_loads_with_datasets_and_one_schema(exported):
    for kind, n in {"open": 2, "numeric": 1, "mcq": 2, "tf": 1}.items():
        ds = datasets.load_dataset(str(exported), kind, split="test")
        assert len(ds) == n and set(ds["kind"]) == {kind}
        assert ds.features == datasets.load_dataset(str(exported), "mcq", split="test").features
    mcq = datasets.load_dataset(str(exported), "mcq")
    assert list(mcq) == ["test"] and mcq["test"][0]["answer_letter"] in "ABCD"
    assert all(row["context"] for row in datasets.load_dataset(str(exported), split="test"))
    manifest = json.loads((exported / "manifest.json").read_text())
    assert manifest["exports"]["lm_eval_group"] == "benchmint_korvath_v1"
    task = yaml.safe_load((exported / "lm_eval_tasks" / "mcq.yaml").read_text())
    assert task["dataset_path"] == str(exported.resolve()) and task["dataset_name"] == "mcq"


def test_lm_eval_cli_runs_the_exported_tasks(exported, smollm_server, tmp_path):
    out = tmp_path / "lm_eval"
    env = {**os.environ, "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1"}
    r = subprocess.run(
        [str(BIN / "lm_eval"), "run", "--model", "local-chat-completions",
         "--model_args", f"base_url={smollm_server.base_url}/chat/completions,model=local,num_concurrent=1,"
                         "max_retries=2,tokenizer_backend=None,tokenized_requests=False",
         "--apply_chat_template", "--include_path", str(exported / "lm_eval_tasks"),
         "--tasks", "benchmint_korvath_v1", "--limit", "2", "--output_path", str(out)],
        capture_output=True, text=True, env=env, timeout=900)
    assert r.returncode == 0, (r.stdout[-3000:], r.stderr[-3000:])
    results = [json.loads(p.read_text()) for p in out.rglob("results_*.json")]
    assert results, list(out.rglob("*"))
    res = results[0]["results"]
    for kind in ("open", "numeric", "mcq", "tf"):
        metrics = res[f"benchmint_korvath_v1_{kind}"]
        assert any(k.startswith("exact_match") for k in metrics), metrics


def test_inspect_eval_runs_the_exported_task(exported, smollm_server, tmp_path):
    env = {**os.environ, "LOCAL_BASE_URL": smollm_server.base_url, "LOCAL_API_KEY": "none",
           "INSPECT_LOG_DIR": str(tmp_path / "logs"), "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1"}
    for kind in ("mcq", "open"):
        r = subprocess.run([str(BIN / "inspect"), "eval", f"{exported}/inspect_task.py@{kind}",
                            "--model", "openai-api/local/local", "--limit", "2", "--log-format", "json",
                            "--no-log-realtime", "--display", "plain"],
                           capture_output=True, text=True, env=env, timeout=900, cwd=tmp_path)
        assert r.returncode == 0, (r.stdout[-3000:], r.stderr[-3000:])
    logs = [json.loads(p.read_text()) for p in (tmp_path / "logs").glob("*.json")]
    assert len(logs) == 2 and all(log["status"] == "success" for log in logs)
    assert all(log["results"]["scores"] for log in logs)


def test_versions_show_and_diff_cli(tmp_path):
    from tests.fixtures import release_question as plain

    out = tmp_path / "out"
    release.publish(out, "b", [plain(1), plain(2, "mcq")], [], {}, {"d": "Doc"})
    release.publish(out, "b", [plain(2, "mcq"), plain(3)], [], {}, {"d": "Doc"})
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "benchmint.cli", *args, "--output-dir", str(out)],
                              capture_output=True, text=True, env={**env, "COLUMNS": "200"}, timeout=120)

    r = cli("versions", "b")
    assert r.returncode == 0 and "v1" in r.stdout and "v2" in r.stdout, r.stderr
    r = cli("diff", "b", "v1", "v2")
    assert r.returncode == 0 and "1 added, 1 removed, 1 kept" in r.stdout
    assert "fact number 3" in r.stdout and "fact number 1" in r.stdout
    r = cli("show", "b")
    assert r.returncode == 0 and "b v2" in r.stdout and "fact number 3" in r.stdout
    r = cli("show", "b", "v7")
    assert r.returncode == 1 and "has no version 'v7'" in r.stderr and "Traceback" not in r.stderr
    r = cli("versions", "nope")
    assert r.returncode == 1 and "no published version of 'nope'" in r.stderr


def test_init_writes_a_definition_that_loads_and_names_unknown_keys(tmp_path):
    from benchmint.config import load_config

    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    r = subprocess.run([sys.executable, "-m", "benchmint.cli", "init", "nightly"], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and (tmp_path / "nightly.yaml").is_file(), r.stderr
    cfg = load_config(tmp_path / "nightly.yaml", {"feeds": ["http://127.0.0.1:1/rss"]})
    assert cfg.name == "nightly" and cfg.schedule.cron == "0 2 * * *" and cfg.difficulty.band == (0.1, 0.8)
    again = subprocess.run([sys.executable, "-m", "benchmint.cli", "init", "nightly"], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=120)
    assert again.returncode == 2 and "--force" in again.stderr
    with (tmp_path / "nightly.yaml").open("a") as f:
        f.write("difficulty_band: [0, 1]\n")
    with pytest.raises(Exception, match="unknown key 'difficulty_band'"):
        load_config(tmp_path / "nightly.yaml", {"feeds": ["http://127.0.0.1:1/rss"]})


def test_push_to_hub_without_a_network_says_why(exported, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    out = str(exported.parent.parent)
    r = subprocess.run([sys.executable, "-m", "benchmint.cli", "push", "korvath", "--repo", "me/korvath",
                        "--output-dir", out], capture_output=True, text=True, env={**env, "HF_HUB_OFFLINE": "1"},
                       timeout=120)
    assert r.returncode == 1 and "HF_HUB_OFFLINE is set" in r.stderr and "Traceback" not in r.stderr
    r = subprocess.run([sys.executable, "-m", "benchmint.cli", "push", "korvath", "--repo", "me/korvath",
                        "--output-dir", out], capture_output=True, text=True, timeout=120,
                       env={**env, "HF_HUB_OFFLINE": "0", "HF_TOKEN": "", "HF_HOME": str(tmp_path / "hf")})
    assert r.returncode == 1 and "no token" in r.stderr
