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
    "c3": "The Korvath K-12 weighs 340 kilograms and draws 3.2 kilowatts of power at full output.",
    "c4": "The membrane cartridge of the Korvath K-12 lasts 18 months and is made by Trellgaard Filters in Bergen.",
    "c5": "The K-12 control panel runs firmware version 5 and shuts the unit down if the water passes 45 °C.",
    "c6": "Korvath Marine Systems employs 140 people and sells the K-12 mainly to fish farms on the Norwegian coast.",
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
    loader = type("Loader", (yaml.SafeLoader,), {})  # the YAML names its grading with lm-eval's !function tag
    loader.add_constructor("!function", lambda _, node: node.value)
    task = yaml.load((exported / "lm_eval_tasks" / "mcq.yaml").read_text(), Loader=loader)
    assert task["process_results"] == "benchmint_grading.process_mcq" and "tag" not in task
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


def agreement_questions() -> list[Question]:
    """24 questions over the four kinds, on the Korvath facts (numeric ones with units and tolerances)."""
    q = release_question
    opens = [("In which harbour town was Korvath Marine Systems founded?", "Skarvik", "c2"),
             ("Who founded Korvath Marine Systems?", "Liesel Abernathy-Okoro", "c2"),
             ("Which company makes the membrane cartridge of the Korvath K-12?", "Trellgaard Filters", "c4"),
             ("In which city is Trellgaard Filters based?", "Bergen", "c4"),
             ("To which customers does Korvath mainly sell the K-12?", "fish farms", "c6"),
             ("What does the Korvath K-12 produce from seawater?", "fresh water", "c1"),
             ("What does the K-12 control panel do when the water passes 45 °C?", "it shuts the unit down", "c5"),
             ("On which coast are the fish farms that buy the K-12?", "the Norwegian coast", "c6")]
    numerics = [("How many litres of fresh water does the Korvath K-12 produce per day?", "4800", "litres", 0.5, "c1"),
                ("How much does the Korvath K-12 weigh?", "340", "kg", 1.0, "c3"),
                ("How much power does the Korvath K-12 draw at full output?", "3.2", "kW", 0.1, "c3"),
                ("How long does the membrane cartridge of the K-12 last?", "18", "months", 0.0, "c4"),
                ("How many people does Korvath Marine Systems employ?", "140", "", 0.0, "c6"),
                ("Above which water temperature does the K-12 shut down?", "45", "°C", 0.5, "c5")]
    mcqs = [("In which year was Korvath Marine Systems founded?", ["2015", "2017", "2019", "2021"], 1, "c2"),
            ("What does the Korvath K-12 desalinate?", ["river water", "rain water", "seawater", "brine"], 2, "c1"),
            ("Which firmware version does the K-12 control panel run?", ["3", "4", "5", "6"], 2, "c5"),
            ("Where is Trellgaard Filters based?", ["Bergen", "Oslo", "Skarvik", "Tromsø"], 0, "c4"),
            ("What power does the K-12 draw at full output?", ["1.2 kW", "3.2 kW", "4.8 kW", "32 kW"], 1, "c3")]
    tfs = [("Korvath Marine Systems was founded in Skarvik.", True, "c2"),
           ("The Korvath K-12 weighs 500 kilograms.", False, "c3"),
           ("The membrane cartridge of the K-12 lasts 18 months.", True, "c4"),
           ("Korvath Marine Systems employs 14 people.", False, "c6"),
           ("The K-12 control panel runs firmware version 5.", True, "c5")]
    return ([q(text, gold, "open", c) for text, gold, c in opens]
            + [q(text, gold, "numeric", c, unit=u, tolerance=t) for text, gold, u, t, c in numerics]
            + [q(text, ch[g], "mcq", c, choices=ch, gold_index=g) for text, ch, g, c in mcqs]
            + [q(text, str(v), "tf", c, choices=["True", "False"], gold_index=0 if v else 1) for text, v, c in tfs])


@pytest.fixture(scope="module")
def graded_by_benchmint(tmp_path_factory, smollm_server):
    """An exported release answered by SmolLM2 and graded on `benchmint eval`'s path (TargetRunner with
    a judge panel, evals/<model>/results.json), without the Prefect flow around it."""
    from benchmint.llm import ModelClient
    from benchmint.modelspec import ModelSpec
    from benchmint.response_cache import ResponseCache
    from benchmint.usage import UsageBook
    from pipeline.evaluation import by_model, load_release, write_evals
    from validators.judges import JudgePanel
    from validators.scoring import TargetRunner

    out = tmp_path_factory.mktemp("agreement")
    folder = release.publish(out, "korvath", agreement_questions(), [], {},
                             {f"d-{c}": c for c in FACTS}, FACTS)
    questions, contexts, manifest = load_release(folder)
    usage, cache = UsageBook(), ResponseCache(out / "responses")

    def client(role: str) -> ModelClient:
        return ModelClient(ModelSpec(model="local:smollm2-135m", max_tokens=200), role, usage, cache,
                           base_url=smollm_server.base_url, identity=f"local:smollm2-{role}")

    runner = TargetRunner([client("target")], JudgePanel([client("judge")]))
    results = runner.run(questions, "with_document", lambda q: contexts.get(q.id, ""))
    labels = runner.names
    write_evals(folder, manifest, questions, "with_document", by_model(questions, labels, results), labels,
                ["local:smollm2-135m"])
    record = json.loads(next((folder / "evals").glob("*/results.json")).read_text())
    return folder, {q.id: q for q in questions}, {r["id"]: r for r in record["questions"]}


def replays(questions: dict, graded: dict) -> dict:
    """What the replay stand-in answers per question text: benchmint's recorded reply, the choice it read
    (mcq), its judge's verdict (open)."""
    from tests.replay_standin import Replay
    from validators.answers import extract_letter

    out = {}
    for qid, r in graded.items():
        q, reply = questions[qid], r["reply"] or ""
        choice = verdict = None
        if q.kind == "mcq":
            order = r.get("choice_order") or list(range(len(q.choices)))
            pick = extract_letter(reply, [q.choices[i] for i in order])
            choice = None if pick is None else q.choices[order[pick]]
        if r["method"] == "judge":
            verdict = bool(r["correct"])
        out[q.question] = Replay(reply, choice, verdict)
    return out


def test_lm_eval_and_inspect_grade_as_benchmint_eval_on_the_same_replies(graded_by_benchmint, tmp_path):
    from inspect_ai.log import read_eval_log

    from tests.replay_standin import ReplayStandIn

    folder, questions, graded = graded_by_benchmint
    ours = {qid: bool(r["correct"]) for qid, r in graded.items() if r["correct"] is not None}
    # lm-eval has no judge: an open answer benchmint's judge (or its tie-break) decided is not compared there
    # (inspect's grader gets benchmint's judge verdict replayed, so there it is compared: the plumbing, not the judge)
    judged = {qid for qid, r in graded.items() if r["method"] in ("judge", "f1")}
    group = "benchmint_korvath_v1"
    env = {**os.environ, "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1"}
    with ReplayStandIn(replays(questions, graded)) as replay:
        out = tmp_path / "lm_eval"
        r = subprocess.run(
            [str(BIN / "lm_eval"), "run", "--model", "local-chat-completions",
             "--model_args", f"base_url={replay.url}/chat/completions,model=replay,num_concurrent=1,"
                             "max_retries=1,tokenizer_backend=None,tokenized_requests=False",
             "--apply_chat_template", "--include_path", str(folder / "lm_eval_tasks"), "--tasks", group,
             "--log_samples", "--output_path", str(out)], capture_output=True, text=True, env=env, timeout=900)
        assert r.returncode == 0, (r.stdout[-3000:], r.stderr[-3000:])
        logs = tmp_path / "logs"
        tasks = [f"{folder}/inspect_task.py@{kind}" for kind in ("open", "numeric", "mcq", "tf")]
        r = subprocess.run([str(BIN / "inspect"), "eval", *tasks, "--model",
                            "openai-api/local/replay", "--log-format", "json", "--no-log-realtime", "--display",
                            "plain", "--log-dir", str(logs)], capture_output=True, text=True, timeout=900, cwd=tmp_path,
                           env={**env, "LOCAL_BASE_URL": replay.url, "LOCAL_API_KEY": "none"})
        assert r.returncode == 0, (r.stdout[-3000:], r.stderr[-3000:])
        assert not replay.unknown, replay.unknown[:3]

    # the group's score is the size-weighted mean of every kind's task
    res = json.loads(next(out.rglob("results_*.json")).read_text())
    kinds = {f"{group}_{k}": k for k in ("open", "numeric", "mcq", "tf")}
    sizes = {t: res["n-samples"][t]["effective"] for t in kinds}
    weighted = sum(sizes[t] * res["results"][t]["exact_match,extract"] for t in kinds) / sum(sizes.values())
    assert sum(sizes.values()) == len(questions)
    assert res["results"][group]["exact_match,extract"] == pytest.approx(weighted)

    lm = {}
    for path in out.rglob("samples_*.jsonl"):
        for line in path.read_text().splitlines():
            s = json.loads(line)
            assert s["filter"] == "extract"
            lm[s["doc"]["id"]] = s["exact_match"] == 1.0
    insp = {}
    for path in logs.glob("*.json"):
        log = read_eval_log(str(path))
        assert log.status == "success" and log.eval.task_version == "v1", (path, log.status)
        for s in log.samples:
            (score,) = s.scores.values()
            insp[s.id] = score.value == "C"
    assert set(lm) == set(insp) == set(questions)

    def agreement(theirs: dict, ids: set) -> tuple[float, list]:
        differ = [(questions[i].kind, questions[i].question, graded[i]["reply"], ours[i], theirs[i])
                  for i in sorted(ids) if ours[i] != theirs[i]]
        return 1 - len(differ) / len(ids), differ

    lm_ids, insp_ids = set(ours) - judged, set(ours)
    lm_agree, lm_differ = agreement(lm, lm_ids)
    insp_agree, insp_differ = agreement(insp, insp_ids)
    print(f"agreement with benchmint eval: lm-eval {lm_agree:.3f} on {len(lm_ids)} "
          f"({len(judged & set(ours))} judged open answers left out), inspect {insp_agree:.3f} on {len(insp_ids)}; "
          f"benchmint accuracy {sum(ours.values()) / len(ours):.3f}; "
          f"lm-eval group exact_match {res['results'][group]['exact_match,extract']:.3f}")
    assert lm_agree >= 0.95, lm_differ
    assert insp_agree >= 0.95, insp_differ
