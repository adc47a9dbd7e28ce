"""Putting questions to target models and grading their replies (validators.grading). Shared by the
answerability and difficulty validators and by evaluation (flows/evaluate.py).

A target that fails (endpoint down, invalid output twice, after the client's
retries) gives a *missing* result for that question, recorded, never a crash.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, Field

from benchmint.errors import BenchmintError, EndpointDown
from benchmint.fence import fence, neutralize
from benchmint.llm import ModelClient
from benchmint.prompts import load_prompt
from benchmint.records import LETTERS, Chunk, Question
from validators.grading import choice_order, grade
from validators.judges import JudgePanel

Mode = Literal["closed_book", "with_document"]


class TargetReply(BaseModel):
    # maxLength in the schema only (not enforced on parse): a local model's grammar then always closes
    # the string, so a rambling reply cannot run out of tokens mid-JSON
    answer: str = Field(json_schema_extra={"maxLength": 160})


_INSTRUCTIONS = {
    "open": "Answer with a short phrase.",
    "numeric": "Answer with the number and its unit.",
    "mcq": "Answer with the letter of the correct choice.",
    "tf": "Is the statement true or false? Answer True or False.",
}


@dataclass
class TargetResult:
    target: str
    mode: Mode
    reply: str | None  # None: missing
    correct: bool | None
    method: str
    score: float = 0.0
    detail: str = ""
    choice_order: list[int] = field(default_factory=list)
    panel: dict[str, Any] | None = None
    error: str = ""

    def as_dict(self) -> dict[str, Any]:
        d = {"target": self.target, "mode": self.mode, "reply": self.reply, "correct": self.correct,
             "method": self.method, "score": round(self.score, 4), "detail": self.detail}
        if self.choice_order and self.choice_order != sorted(self.choice_order):
            d["choice_order"] = self.choice_order
        if self.panel:
            d["panel"] = self.panel
        if self.error:
            d["error"] = self.error
        return d


def context_for(question: Question, chunks: dict[str, Chunk]) -> str:
    return question.source_text({c: chunks[c].text for c in question.chunk_ids if c in chunks})


class TargetRunner:
    """Puts questions to target models (closed-book or with the source text) and grades the replies.

    Results are kept per (question, target, mode), so the answerability and difficulty
    validators share one set of calls; the model calls themselves are also on-disk cached.
    """

    def __init__(self, targets: list[ModelClient], panel: JudgePanel | None = None):
        self.targets = targets
        self.panel = panel
        self.prompt = load_prompt("target_answer")
        self.results: dict[tuple[str, str, str], TargetResult] = {}
        self.missing = 0

    @property
    def names(self) -> list[str]:
        return [t.spec.label for t in self.targets]

    def messages(self, q: Question, mode: Mode, order: list[int], context: str) -> list[dict[str, str]]:
        choices = ""
        if q.kind == "mcq":
            choices = "".join(f"{LETTERS[i]}. {neutralize(q.choices[k])}\n" for i, k in enumerate(order))
        ctx = f"Source text:\n{fence(context)}\n\n" if mode == "with_document" and context else ""
        return self.prompt.render(context=ctx, question=neutralize(q.question), choices=choices,
                                  instruction=_INSTRUCTIONS[q.kind])

    def reply(self, client: ModelClient, q: Question, mode: Mode, context: str) -> TargetResult:
        """The target's reply, not yet graded (correct is None until grade_result)."""
        name = client.spec.label
        order = choice_order(q, name)
        try:
            # a target's malformed answer is its failure on this question, not a broken endpoint
            r = client.complete_json(self.messages(q, mode, order, context), TargetReply, temperature=0.0,
                                     max_tokens=128, output_faults_trip=False)
        except EndpointDown:  # the circuit breaker is open: the build stops, this is no missing reply
            raise
        except BenchmintError as exc:
            self.missing += 1
            return TargetResult(name, mode, None, None, "missing", choice_order=order, error=str(exc)[:300])
        return TargetResult(name, mode, r.answer, None, "ungraded", choice_order=order)

    def grade_result(self, q: Question, res: TargetResult) -> TargetResult:
        if res.reply is None:
            return res
        g = grade(q, res.reply, res.choice_order, self.panel)
        res.correct, res.method, res.score, res.detail, res.panel = g.correct, g.method, g.score, g.detail, g.panel
        return res

    def run(self, questions: list[Question], mode: Mode,
            context_of: Callable[[Question], str] | dict[str, Chunk]) -> dict[str, list[TargetResult]]:
        """Per question id, one result per target (answered once, then remembered).

        `context_of` gives a question's source text (or is the chunks by id). Every target
        answers first, then the replies are graded: the judges' calls do not interleave with a
        target's, so a local server keeps the shared prompt prefix (the source text) cached."""
        if isinstance(context_of, dict):
            chunks = context_of
            context_of = lambda q: context_for(q, chunks)  # noqa: E731
        replies: list[tuple[Question, TargetResult]] = []
        for client in self.targets:
            name = client.spec.label
            todo = [q for q in questions if (q.id, name, mode) not in self.results]
            workers = max(1, min(client.spec.max_concurrency if not client.spec.is_local else 1, len(todo) or 1))
            with ThreadPoolExecutor(max_workers=workers) as ex:
                replies += zip(todo, ex.map(lambda q: self.reply(client, q, mode, context_of(q)), todo))
        for q, res in replies:
            self.results[(q.id, res.target, mode)] = self.grade_result(q, res)
        return {q.id: [self.results[(q.id, t.spec.label, mode)] for t in self.targets] for q in questions}

    def accuracy(self, mode: Mode) -> dict[str, float]:
        """Each target's accuracy over every question it answered in `mode` so far (missing excluded)."""
        out: dict[str, float] = {}
        for t in self.names:
            graded = [r.correct for (qid, name, m), r in self.results.items() if name == t and m == mode
                      and r.correct is not None]
            out[t] = sum(graded) / len(graded) if graded else 0.0
        return out


def pass_rate(results: list[TargetResult]) -> float | None:
    graded = [r.correct for r in results if r.correct is not None]
    return sum(graded) / len(graded) if graded else None
