"""Multi-hop generator: two chunks in, questions that need a fact from each.

Pairs are chosen by meaning: for a chunk, the most similar chunk (MiniLM cosine)
that is not the chunk itself or its overlapping neighbour, from the same document
or another. Each hop is cited verbatim from its own chunk; grounding checks every
citation in its chunk and that every hop is cited.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, Field

from benchmint.embeddings import Embedder
from benchmint.fence import fence, neutralize
from benchmint.llm import ModelClient
from benchmint.prompts import Prompt, load_prompt
from benchmint.records import Chunk, Citation, Document, Question, question_id
from generators.base import GenerationStep
from generators.single_hop import with_focus


class DraftHop(BaseModel):
    citations_1: list[str] = Field(min_length=1, max_length=2)
    citations_2: list[str] = Field(min_length=1, max_length=2)
    question: str
    answer: str
    difficulty: int = Field(default=4, ge=1, le=5)


class HopSet(BaseModel):
    questions: list[DraftHop] = Field(min_length=1, max_length=10)


def pair_chunks(chunks: list[Chunk], embedder: Embedder) -> dict[str, str]:
    """chunk id -> the id of its most similar non-adjacent chunk (empty when there is none)."""
    if len(chunks) < 2:
        return {}
    vecs = embedder.encode([c.text for c in chunks])
    sims = vecs @ vecs.T
    out: dict[str, str] = {}
    for i, c in enumerate(chunks):
        order = np.argsort(-sims[i])
        for j in order:
            o = chunks[int(j)]
            if o.id == c.id or (o.document_id == c.document_id and abs(o.index - c.index) <= 1):
                continue
            out[c.id] = o.id
            break
    return out


class MultiHopGenerator:
    name = "multi_hop"

    def __init__(self, client: ModelClient, questions_per_pair: int = 2, seed: int = 0, prompt: Prompt | None = None):
        self.client = client
        self.n = questions_per_pair
        self.seed = seed
        self.prompt = prompt or load_prompt("multi_hop")

    def messages(self, a: Chunk, da: Document, b: Chunk, db: Document, focus: str = "") -> list[dict[str, str]]:
        return with_focus(self.prompt.render(title_1=neutralize(da.title), document_1=fence(a.text),
                                             title_2=neutralize(db.title), document_2=fence(b.text), n=str(self.n)),
                          focus)

    def generate(self, step: GenerationStep) -> list[Question]:
        """The Generator protocol: the questions of a two-chunk step."""
        (a, b), (da, db) = step.chunks, step.documents
        return self.generate_pair(a, da, b, db, step.round, step.focus)

    def prompt_versions(self, step: GenerationStep) -> dict[str, str]:
        return {self.prompt.id: self.prompt.version}

    def generate_pair(self, a: Chunk, da: Document, b: Chunk, db: Document, round_: int = 0,
                      focus: str = "") -> list[Question]:
        drafts = self.client.complete_json(self.messages(a, da, b, db, focus), HopSet, seed=self.seed)
        out = []
        for d in drafts.questions[: self.n]:
            question, answer = d.question.strip(), d.answer.strip()
            if not question or not answer:
                continue
            cites = [Citation(quote=x.strip(), chunk_id=a.id, document_id=a.document_id) for x in d.citations_1 if x.strip()]
            cites += [Citation(quote=x.strip(), chunk_id=b.id, document_id=b.document_id) for x in d.citations_2 if x.strip()]
            out.append(Question(
                id=question_id(question, answer), question=question, answer=answer, kind="open",
                citations=cites, document_ids=list(dict.fromkeys([a.document_id, b.document_id])),
                chunk_ids=[a.id, b.id], generator_model=self.client.spec.label, prompt_id=self.prompt.id,
                prompt_version=self.prompt.version, estimated_difficulty=d.difficulty, round=round_, hops=2,
            ))
        return out
