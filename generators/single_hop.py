"""Single-hop generator: per chunk, the evaluator model writes cited questions.

The model is asked to quote first (verbatim citations), then ask, then answer:
small models ground far better in that order. Multiple-choice options are built
here from the answer and three distractors, so there is always exactly one gold
choice at a position chosen by a seeded shuffle.
"""

from __future__ import annotations

import random
import re
from pydantic import BaseModel, Field

from benchmint.llm import ModelClient
from benchmint.records import Chunk, Citation, Document, Question, question_id
from generators.prompts import Prompt, load_prompt


class DraftOpen(BaseModel):
    citations: list[str] = Field(min_length=1, max_length=2)
    question: str
    answer: str
    difficulty: int = Field(default=3, ge=1, le=5)


class DraftMCQ(BaseModel):
    citations: list[str] = Field(min_length=1, max_length=2)
    question: str
    answer: str
    distractors: list[str] = Field(min_length=3, max_length=3)
    difficulty: int = Field(default=3, ge=1, le=5)


class OpenSet(BaseModel):
    questions: list[DraftOpen] = Field(min_length=1, max_length=10)


class MCQSet(BaseModel):
    questions: list[DraftMCQ] = Field(min_length=1, max_length=10)


SCHEMAS: dict[str, type[BaseModel]] = {"open": OpenSet, "mcq": MCQSet}
_KIND_TEXT = {
    "open": ("open questions with a short free-text answer", ""),
    "mcq": ("multiple-choice questions",
            '- "distractors": three wrong but plausible answers of the same type as the answer, '
            "each different from the answer and from each other.\n"),
}


def neutralize(text: str) -> str:
    """Document text cannot close or reopen the <document> block it is quoted in."""
    return re.sub(r"<(/?)\s*document\s*>", r"‹\1document›", text, flags=re.I)


class SingleHopGenerator:
    name = "single_hop"

    def __init__(self, client: ModelClient, questions_per_chunk: int = 3,
                 kinds: list[str] | None = None, seed: int = 0, prompt: Prompt | None = None):
        self.client = client
        self.n = questions_per_chunk
        self.kinds = tuple(sorted(set(kinds or ["open", "mcq"])))
        self.seed = seed
        self.prompt = prompt or load_prompt("single_hop")

    def kind_for(self, chunk: Chunk) -> str:
        """Kinds alternate over a document's chunks, so the mix follows the config."""
        return self.kinds[chunk.index % len(self.kinds)]

    def messages(self, chunk: Chunk, doc: Document, kind: str) -> list[dict[str, str]]:
        what, extra = _KIND_TEXT[kind]
        return self.prompt.render(title=neutralize(doc.title), text=neutralize(chunk.text), n=str(self.n),
                                  kind_text=what, kind_fields=extra)

    def generate_one(self, chunk: Chunk, doc: Document, round_: int = 0) -> list[Question]:
        """Questions for one chunk; raises ModelError/ModelOutputError for the caller to record."""
        kind = self.kind_for(chunk)
        drafts = self.client.complete_json(self.messages(chunk, doc, kind), SCHEMAS[kind], seed=self.seed)
        return [q for i, d in enumerate(drafts.questions[: self.n]) if (q := self._to_question(d, kind, chunk, i, round_))]

    def _to_question(self, d: DraftOpen | DraftMCQ, kind: str, chunk: Chunk, i: int, round_: int) -> Question | None:
        question, answer = d.question.strip(), d.answer.strip()
        if not question or not answer:
            return None
        choices: list[str] = []
        gold = -1
        if kind == "mcq":
            options = [answer] + [x.strip() for x in getattr(d, "distractors", [])]
            rng = random.Random(f"{self.seed}:{chunk.id}:{i}:{question}")
            order = list(range(len(options)))
            rng.shuffle(order)
            choices = [options[k] for k in order]
            gold = order.index(0)
        cites = [Citation(quote=c.strip(), chunk_id=chunk.id, document_id=chunk.document_id)
                 for c in d.citations if c.strip()]
        return Question(
            id=question_id(question, answer), question=question, answer=answer, kind=kind,
            choices=choices, gold_index=gold, citations=cites, document_ids=[chunk.document_id],
            chunk_ids=[chunk.id], generator_model=self.client.spec.label, prompt_id=self.prompt.id,
            prompt_version=self.prompt.version, estimated_difficulty=d.difficulty, round=round_,
        )
