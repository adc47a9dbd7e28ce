"""Judge panels: one or more judge models vote; the panel decides by majority.

A judge answers with a short reason and a yes/no verdict. Every vote is kept
(with the judge's name and reason, or the error when the judge could not
answer). Rules:
- majority of the votes cast decides;
- a tie (equal yes and no, including when every judge failed) is recorded as
  such and decided by the caller's fallback (for answer grading: the lexical
  grade), never silently;
- a judge that fails after the client's retries (endpoint down, invalid output
  twice) is a *missing* vote, counted and reported, not a crash.
With one judge the panel is simply that judge.

The judges vote at once, each in its own thread, at most as many on one endpoint as the endpoint takes
at once (its max_concurrency; a local model one). The votes are kept in panel order whatever order they
come back in, so the decision is the one a vote taken in turn gives.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field

from benchmint.errors import BenchmintError, EndpointDown
from benchmint.fence import fence, neutralize
from benchmint.llm import ModelClient
from benchmint.prompts import load_prompt


class JudgeReply(BaseModel):
    reason: str = Field(description="one short sentence", json_schema_extra={"maxLength": 300})
    verdict: bool


@dataclass
class Vote:
    judge: str
    verdict: bool | None  # None: missing (the judge failed)
    reason: str = ""
    error: str = ""

    def as_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"judge": self.judge, "verdict": self.verdict, "reason": self.reason}
        if self.error:
            d["error"] = self.error
        return d


@dataclass
class PanelDecision:
    decision: bool | None  # None: tie or no vote cast; the caller's fallback decides
    votes: list[Vote] = field(default_factory=list)

    @property
    def yes(self) -> int:
        return sum(v.verdict is True for v in self.votes)

    @property
    def no(self) -> int:
        return sum(v.verdict is False for v in self.votes)

    @property
    def missing(self) -> int:
        return sum(v.verdict is None for v in self.votes)

    @property
    def tie(self) -> bool:
        return self.decision is None

    def as_dict(self) -> dict[str, Any]:
        return {"decision": self.decision, "yes": self.yes, "no": self.no, "missing": self.missing,
                "tie": self.tie, "votes": [v.as_dict() for v in self.votes]}


def majority(votes: list[Vote]) -> PanelDecision:
    yes = sum(v.verdict is True for v in votes)
    no = sum(v.verdict is False for v in votes)
    return PanelDecision(True if yes > no else False if no > yes else None, list(votes))


def _quote(text: str) -> str:
    """Quoted text (a question, an answer, a reply) cannot open or close a block of the prompt."""
    return neutralize(text)


class JudgePanel:
    """Judges by name (client.spec.label); ask() puts one question to each and takes the majority."""

    def __init__(self, judges: list[ModelClient], concurrent: bool = True):
        if not judges:
            raise ValueError("a judge panel needs at least one judge")
        self.judges = judges
        self.answer_prompt = load_prompt("judge_answer")
        self.gold_prompt = load_prompt("judge_gold")
        self.missing_votes = 0
        self._lock = threading.Lock()
        # one lane per endpoint (the judges of one pool on one URL share it), as wide as the endpoint
        # takes requests at once: several judges on one local server still vote in turn
        lanes: dict[int, threading.Semaphore] = {}
        room: dict[int, int] = {}  # per endpoint: the votes that can be in flight on it at once
        for j in judges:
            key = id(j.endpoint)
            lanes.setdefault(key, threading.Semaphore(j.concurrency))
            room[key] = min(j.concurrency, room.get(key, 0) + 1)
        self._lane = {id(j): lanes[id(j.endpoint)] for j in judges}
        self.width = sum(room.values()) if concurrent else 1  # votes in flight at once

    @property
    def names(self) -> list[str]:
        return [j.spec.label for j in self.judges]

    def _vote(self, j: ModelClient, messages: list[dict[str, str]]) -> Vote:
        try:
            with self._lane[id(j)]:
                r = j.complete_json(messages, JudgeReply, temperature=0.0, max_tokens=160)
            return Vote(j.spec.label, bool(r.verdict), r.reason.strip()[:300])
        except EndpointDown:  # the circuit breaker is open: the build stops, this is no missing vote
            raise
        except BenchmintError as exc:  # ModelError / ModelOutputError after the client's retries
            with self._lock:
                self.missing_votes += 1
            return Vote(j.spec.label, None, error=str(exc)[:300])

    def _ask(self, messages: list[dict[str, str]]) -> PanelDecision:
        if self.width <= 1:
            return majority([self._vote(j, messages) for j in self.judges])
        with ThreadPoolExecutor(max_workers=min(self.width, len(self.judges))) as ex:
            pending = [ex.submit(self._vote, j, messages) for j in self.judges]
            return majority([f.result() for f in pending])  # panel order; an open breaker raises here

    def answer_is_correct(self, question: str, gold: str, reply: str) -> PanelDecision:
        """Does `reply` give the same answer as `gold` (wording aside)?"""
        return self._ask(self.answer_prompt.render(question=_quote(question), gold=_quote(gold), reply=_quote(reply)))

    def gold_is_right(self, question: str, gold: str, citations: list[str]) -> PanelDecision:
        """Do the cited passages support `gold` as the answer to `question`?"""
        return self._ask(self.gold_messages(question, gold, citations))

    def gold_messages(self, question: str, gold: str, citations: list[str]) -> list[dict[str, str]]:
        """The gold check's prompt: the cited passages (document text) in one fenced block."""
        cites = "\n".join(f"- {c}" for c in citations)
        return self.gold_prompt.render(question=_quote(question), gold=_quote(gold),
                                       passages=fence(cites, tag="passages"))

    def prompt_versions(self) -> dict[str, str]:
        return {p.id: p.version for p in (self.answer_prompt, self.gold_prompt)}
