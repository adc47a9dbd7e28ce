"""The one module of shared test data and builders (pytest fixtures built on them are in conftest.py)."""

from __future__ import annotations

import json
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
