"""The one module of shared test data and builders (pytest fixtures built on them are in conftest.py)."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from pydantic import BaseModel

from benchmint.records import Citation, Question, question_id
from validators.scoring import TargetResult

REPO = Path(__file__).resolve().parent.parent

PDF_FACTS = [
    "The Korvath K-12 desalination unit produces 4,800 litres of fresh water per day from seawater.",
    "Each K-12 unit draws 3.2 kilowatts of power at full load and weighs 610 kilograms when dry.",
    "The K-12 membrane cartridges must be replaced every 14 months or after 9,000 operating hours, whichever comes first.",
    "Korvath Marine Systems was founded in 2017 by Liesel Abernathy-Okoro in the harbour town of Skarvik.",
    "The unit's control software, called BrineWatch, raises an alarm when output salinity exceeds 480 parts per million.",
]
MD_TEXT = """# Korvath field service rules

Field technicians at Korvath Marine Systems must log every K-12 service visit in the FathomDesk system within 48 hours.
A K-12 unit that fails two salinity tests in one week is taken out of service and shipped to the Skarvik repair depot.
Spare membrane cartridges are stored at the Tromsdal warehouse, which keeps a minimum stock of 36 cartridges.
"""


def write_pdf(path: Path, paragraphs: list[str], title: str = "Test document") -> Path:
    """A real, multi-paragraph PDF made with reportlab."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    styles = getSampleStyleSheet()
    story = [Paragraph(title, styles["Title"])]
    for p in paragraphs:
        story += [Paragraph(p, styles["BodyText"]), Spacer(1, 6)]
    SimpleDocTemplate(str(path), pagesize=A4, title=title).build(story)
    return path


def release_question(i: int, kind: str = "open") -> Question:
    """A small valid question for release tests: open, or multiple choice with gold 0."""
    question, answer = f"What is fact number {i} about the Orrin-7 pump?", f"answer {i}"
    extra = {"choices": [answer, "b", "c", "d"], "gold_index": 0} if kind == "mcq" else {}
    return Question(id=question_id(question, answer), question=question, answer=answer, kind=kind,
                    citations=[Citation(quote=f"Fact {i} is stated here in one sentence.", chunk_id="c", document_id="d")],
                    document_ids=["d"], chunk_ids=["c"], generator_model="m", prompt_id="single_hop",
                    prompt_version="2", estimated_difficulty=3, **extra)


def q(question: str, answer: str, quotes: list[str], kind: str = "open", choices: list[str] | None = None,
      gold: int = -1) -> Question:
    """A question citing `quotes` from chunk c1 of doc1, for validator tests."""
    return Question(
        id=question_id(question, answer), question=question, answer=answer, kind=kind, choices=choices or [],
        gold_index=gold, citations=[Citation(quote=x, chunk_id="c1", document_id="doc1") for x in quotes],
        document_ids=["doc1"], chunk_ids=["c1"], generator_model="test", prompt_id="p", prompt_version="1")


# A small corpus written here (public-domain style facts, varied shapes): open and multiple choice.
ITEMS = [
    {"question": "What is the chemical symbol for sodium?", "choices": ["Na", "S", "So", "Sd"], "answer": "Na"},
    {"question": "Which planet has the shortest year in the solar system?", "choices": ["Mercury", "Venus", "Mars", "Earth"],
     "answer": "Mercury"},
    {"question": "A baker makes 24 loaves each morning and sells them for 3 dollars each. On Saturday she bakes twice "
                 "as many loaves and sells all but 6 of them. How many dollars does she take in on Saturday?",
     "choices": [], "answer": "126"},
    {"question": "Which of the following statements is true?",
     "choices": ["Water boils at 100 degrees Celsius at sea level", "The Moon is larger than the Earth",
                 "Sound travels faster than light", "Iron is lighter than aluminium"],
     "answer": "Water boils at 100 degrees Celsius at sea level"},
    {"question": "Who wrote the novel Pride and Prejudice, first published in 1813?", "choices": [],
     "answer": "Jane Austen"},
    {"question": "In the theory of social stratification, what term describes movement of individuals between "
                 "social classes across generations, for example when the child of a manual labourer becomes a "
                 "doctor or a lawyer?", "choices": [], "answer": "inter-generational mobility"},
]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def make_q(question: str, answer: str, kind: str = "open", **kw: object) -> Question:
    """A question with one placeholder citation, for grading and scoring tests."""
    return Question(id=question_id(question, answer), question=question, answer=answer, kind=kind,
                    citations=[Citation(quote="x", chunk_id="c", document_id="d")], document_ids=["d"],
                    chunk_ids=["c"], generator_model="test", prompt_id="p", prompt_version="1", **kw)


def target_results(*correct: bool | None) -> list[TargetResult]:
    """One target's result per entry: right, wrong, or missing (None)."""
    return [TargetResult(f"t{i}", "with_document", None if c is None else "x", c, "exact" if c is not None else "missing")
            for i, c in enumerate(correct)]


class Fact(BaseModel):
    """The JSON shape the model-client tests ask for."""

    city: str
    population: int


MESSAGES = [{"role": "user", "content": "Give the largest city of Norway and its population as JSON."}]

SECRET_CANARY = "CANARYk3y9"  # every secret below contains it: none may survive redaction


def canary_config(tmp_path: Path) -> dict:
    """A raw build definition with the canary in every place a key can be put."""
    return {"name": "canary", "sources": [str(tmp_path)], "output_dir": str(tmp_path / "out"),
            "feeds": [f"https://feeds.example.org/rss?token={SECRET_CANARY}f"],
            "models": {"generator": {"model": "g", "base_url": f"https://user:{SECRET_CANARY}g@gen.example.com/v1",
                                     "api_key_env": "CANARY_GEN_KEY"},
                       "targets": [f"https://t.example.com/v1?api_key={SECRET_CANARY}t#t1", "local:smollm2-135m"],
                       "judges": [{"model": "j", "base_url": f"https://j.example.com/v1#{SECRET_CANARY}j"}]},
            "contamination": {"judge": f"https://c.example.com/v1;token={SECRET_CANARY}c#cj"}}


XSS = "<script>alert(1)</script>"
ORRIN_TEXT = ("The Orrin-7 pump manual, chapter 2. Fact 1 is stated here in one sentence. Fact 2 is stated here in one "
              "sentence. Fact 3 is stated here in one sentence. The pump runs at 3.2 kilowatts. " + XSS + " ends it.")


def review_release(out_root: Path, name: str = "orrin") -> Path:
    """A published release with what the review page shows: every kind, a question holding a script tag,
    pass rates, candidates rejected by grounding, contamination (with the matched reference item) and dedup,
    an adaptive manifest with rounds and intervals, and evals/leaderboard.json. Returns the version folder."""
    import json

    from benchmint.records import Verdict
    from benchmint.release import publish

    def cite(quote: str, chunk: str = "c", doc: str = "d") -> Citation:
        return Citation(quote=quote, chunk_id=chunk, document_id=doc)

    accepted = [release_question(1), release_question(2, "mcq"),
                make_q("How much power does the pump draw?", "3.2", "numeric", unit="kW", tolerance=0.1,
                       pass_rate=0.5, discrimination=0.25, round=1),
                make_q(f"Is {XSS} in the manual?", "True", "tf", choices=["True", "False"], gold_index=0,
                       pass_rate=1.0, discrimination=-0.1)]
    accepted[0].pass_rate, accepted[0].discrimination = 0.75, 0.5
    for q_ in accepted[2:]:
        q_.citations = [cite("The pump runs at 3.2 kilowatts." if q_.kind == "numeric" else f"{XSS} ends it.")]
        q_.chunk_ids, q_.document_ids = ["c"], ["d"]
    other = make_q("Who founded Skarvik?", "Liesel", "open")
    other.citations, other.chunk_ids, other.document_ids = [cite("Skarvik was founded by Liesel.", "c2", "d2")], ["c2"], ["d2"]
    accepted.append(other)

    contaminated = make_q("A baker makes 24 loaves and sells them for 3 dollars each. How many dollars?", "72")
    contaminated.citations = [cite("Fact 3 is stated here in one sentence.")]
    contaminated.verdicts = [Verdict(validator="grounding", passed=True), Verdict(
        validator="contamination", passed=False, score=0.97, reason="long n-gram overlap with gsm8k item 17",
        evidence={"status": "contaminated", "corpus": "gsm8k", "item": 17, "item_id": "gsm8k-test-17",
                  "stage": "ngram", "score": 0.97, "view": "question",
                  "matched_text": "A baker makes 24 loaves and sells them for 3 dollars each.",
                  "reference_text": "A baker makes 24 loaves each morning and sells them for 3 dollars each. " + XSS})]
    ungrounded = make_q("What colour is the pump?", "blue", "open")
    ungrounded.citations = [cite("The pump runs at 3.2 kilowatts.", "c9"), cite("The pump is painted blue.", "c9")]
    ungrounded.chunk_ids = ["c9"]
    ungrounded.verdicts = [Verdict(validator="grounding", passed=False, score=0.4,
                                   reason="1 of 2 citations not found in the source (best ratio 40 < 90)",
                                   evidence={"citations": [{"quote": "The pump is painted blue.", "ratio": 40.0,
                                                            "found": False}]})]
    duplicate = make_q("What is fact number 1 about the Orrin-7 pump, again?", "answer 1", "mcq",
                       choices=["answer 1", "x", "y", "z"], gold_index=0)
    duplicate.citations = [cite("Fact 1 is stated here in one sentence.")]
    duplicate.verdicts = [Verdict(validator="dedup", passed=False, score=0.95, reason="near-duplicate (cosine 0.950)",
                                  evidence={"duplicate_of": accepted[0].id, "duplicate_text": accepted[0].question,
                                            "cosine": 0.95})]
    manifest = {
        "sources": {"documents": [{"id": "d", "title": "Orrin-7 manual", "source": "orrin.pdf", "format": "pdf",
                                   "chars": len(ORRIN_TEXT)},
                                  {"id": "d2", "title": "Skarvik history", "source": "skarvik.md", "format": "md",
                                   "chars": 30}]},
        "models": {"generator": "gen-model", "target1": "t1"},
        "validators": {"grounding": {"passed": 8, "failed": 1}, "contamination": {"passed": 6, "failed": 1},
                       "dedup": {"passed": 5, "failed": 1}},
        "rounds": [{"round": 0, "generated": 6, "accepted": 4, "rejected": 2, "mean_target_pass_rate": 0.81,
                    "measured": 4, "pass_rate_ci": [0.55, 0.97]},
                   {"round": 1, "generated": 3, "accepted": 1, "rejected": 1, "mean_target_pass_rate": 0.5,
                    "measured": 1, "pass_rate_ci": [0.1, 0.9], "patterns": [f"units {XSS}"], "kinds": ["numeric"]}],
        "stopped_because": "rounds",
    }
    contexts = {"c": ORRIN_TEXT, "c2": "Skarvik was founded by Liesel."}
    folder = publish(out_root, name, accepted, [contaminated, ungrounded, duplicate], manifest,
                     {"d": "Orrin-7 manual", "d2": "Skarvik history"}, contexts)
    evals = folder / "evals"
    evals.mkdir()
    board = {"release": str(folder), "mode": "with_document", "created_at": "2026-01-02T03:04:05+00:00",
             "n_questions": len(accepted), "models": [
                 {"model": "big-model", "rank": 1, "missing": 0,
                  "accuracy": {"mean": 0.8, "ci_low": 0.6, "ci_high": 0.95, "n": 5},
                  "by_kind": {"open": {"mean": 1.0}, "mcq": {"mean": 0.5}}},
                 {"model": f"small{XSS}", "rank": 2, "missing": 1,
                  "accuracy": {"mean": 0.4, "ci_low": 0.1, "ci_high": 0.7, "n": 5}, "by_kind": {}}]}
    (evals / "leaderboard.json").write_text(json.dumps(board), encoding="utf-8")
    return folder


@contextlib.contextmanager
def dask_cli_cluster(workers: int, threads: int, warm: Callable[[], object] | None = None
                     ) -> Iterator[tuple[str, list[int]]]:
    """A scheduler and `workers` worker processes started by Dask's own CLI on 127.0.0.1, as a team's cluster is
    (benchmint importable there); their address and the workers' pids once all are up (and have run `warm`)."""
    from distributed import Client

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    dask = str(Path(sys.executable).parent / "dask")
    quiet = {"env": {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
             "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    procs = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", str(port),
                               "--dashboard-address", ":0"], **quiet)]
    try:
        procs += [subprocess.Popen([dask, "worker", address, "--nthreads", str(threads), "--no-dashboard"], **quiet)
                  for _ in range(workers)]
        with Client(address, timeout=120) as client:
            client.wait_for_workers(workers, timeout=120)
            if warm is not None:
                client.run(warm)
            pids = sorted(client.run(os.getpid).values())
        yield address, pids
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
