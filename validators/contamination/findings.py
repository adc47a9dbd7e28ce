"""What a check is about (a Probe) and what it found (a Finding, a Detection), with the reason given."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from benchmint.records import Question


@dataclass
class Probe:
    """What is checked of one candidate: its question, choices and answer."""

    id: str
    question: str
    answer: str = ""
    choices: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, q: Question | dict[str, Any]) -> "Probe":
        if isinstance(q, Question):
            return cls(q.id, q.question, q.answer or "", list(q.choices) if q.kind == "mcq" else [])
        choices = q.get("choices") or []
        if not isinstance(choices, list):
            raise ValueError("'choices' must be a list of strings")
        return cls(str(q.get("id", "")), str(q["question"]), str(q.get("answer") or ""), [str(c) for c in choices])


@dataclass
class Finding:
    corpus: str
    item: int
    item_id: str
    stage: str  # exact | ngram | fuzzy | semantic | judge | review | none
    score: float
    view: str = ""
    matched_text: str = ""
    reference_text: str = ""
    detail: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"corpus": self.corpus, "item": self.item, "item_id": self.item_id, "stage": self.stage,
                "score": round(float(self.score), 4), "view": self.view, "matched_text": self.matched_text,
                "reference_text": self.reference_text, **({"detail": self.detail} if self.detail else {})}


@dataclass
class Detection:
    status: str  # contaminated | review | unchecked (a failed translation) | clean
    finding: Finding | None
    scores: dict[str, Any]  # best score of every stage that ran, per corpus
    reason: str

    @property
    def contaminated(self) -> bool:
        return self.status == "contaminated"


def view_text(p: Probe, view: str) -> str:
    if view == "question+choices":
        return "\n".join([p.question, *p.choices])
    if view == "question+answer":
        return f"{p.question}\n{p.answer}"
    return p.question


_STAGE_WORDS = {"exact": "exact copy", "ngram": "long n-gram overlap", "fuzzy": "near-verbatim (fuzzy) match",
                "semantic": "paraphrase (embedding match)", "judge": "same question (LLM judge)"}


def reason_of(f: Finding) -> str:
    what = _STAGE_WORDS.get(f.stage, f.stage)
    if f.stage == "ngram":
        how = (f"{f.detail['ratio']:.0%} of its {f.detail['n']}-grams, "
               f"longest match {f.detail['longest_match_tokens']} tokens")
    elif f.stage == "fuzzy":
        how = f"ratio {f.detail['ratio']:.1f}"
    elif f.stage == "semantic":
        how = f"cosine {f.detail['cosine']:.3f}"
    elif f.stage == "judge":
        how = f"{f.detail['band']}; judge: {f.detail['judge_reason']}"
    else:
        how = "same normalized text"
    return f"contaminated: {what} of {f.corpus} item {f.item_id} ({how}; view: {f.view})"
