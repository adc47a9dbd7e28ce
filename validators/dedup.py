"""Dedup: near-duplicate questions collapse to the best-grounded one.

MiniLM embeddings of the question text in a faiss inner-product index (cosine on
normalized vectors). Candidates are visited best-grounded first; one whose nearest
kept question is at or above the threshold is a duplicate of it. The index lives
as long as the validator, so questions accepted in earlier steps of a build (or
loaded from earlier versions) are compared against too.
"""

from __future__ import annotations

import faiss
import numpy as np

from benchmint.embeddings import DIMENSION
from benchmint.records import Question, Verdict, normalize_text
from validators.base import Context


class DedupValidator:
    name = "dedup"

    def __init__(self, threshold: float = 0.9):
        self.threshold = threshold
        self.index = faiss.IndexFlatIP(DIMENSION)
        self.kept_ids: list[str] = []
        self.kept_text: list[str] = []

    def add_existing(self, questions: list[Question], ctx: Context) -> None:
        """Questions already kept (earlier steps or versions): later candidates collapse into them."""
        if questions:
            self.index.add(ctx.embedder.encode([normalize_text(q.question) for q in questions]))
            self.kept_ids += [q.id for q in questions]
            self.kept_text += [q.question for q in questions]

    def check(self, questions: list[Question], ctx: Context) -> list[Verdict]:
        if not questions:
            return []
        vecs = ctx.embedder.encode([normalize_text(q.question) for q in questions])
        order = sorted(range(len(questions)), key=lambda i: -_grounding_score(questions[i]))
        verdicts: list[Verdict | None] = [None] * len(questions)
        for i in order:
            q, v = questions[i], vecs[i : i + 1]
            if self.index.ntotal:
                sims, ids = self.index.search(v, 1)
                sim, j = float(sims[0][0]), int(ids[0][0])
                if sim >= self.threshold:
                    verdicts[i] = Verdict(
                        validator=self.name, passed=False, score=round(sim, 4),
                        reason=f"near-duplicate (cosine {sim:.3f}) of a better-grounded question",
                        evidence={"duplicate_of": self.kept_ids[j], "duplicate_text": self.kept_text[j],
                                  "cosine": round(sim, 4)})
                    continue
                nearest = round(sim, 4)
            else:
                nearest = 0.0
            self.index.add(np.ascontiguousarray(v))
            self.kept_ids.append(q.id)
            self.kept_text.append(q.question)
            verdicts[i] = Verdict(validator=self.name, passed=True, score=nearest,
                                  reason=f"no near-duplicate (nearest cosine {nearest:.3f})")
        return [v for v in verdicts if v is not None]


def _grounding_score(q: Question) -> float:
    v = q.verdict("grounding")
    return (v.score or 0.0) if v is not None else 0.0
