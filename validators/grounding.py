"""Grounding: every citation is in its chunk, one is a real sentence, the answer is in them.

- each citation matches its chunk with rapidfuzz partial ratio >= min_ratio on
  normalized text (NFKC, case, quotes, dashes, whitespace);
- at least one matched citation has min_words words or more (a title or a
  two-word fragment grounds nothing);
- the answer is supported by the cited text: at least min_answer_support of its
  content words (every number among them) occur in the matched citations
  (validators.support);
- a computed numeric answer (the `numeric:computed` tactic) is supported instead by
  its derivation, with its units straight (validators.derivation).
The matched span of each citation in the document is recorded as evidence.
"""

from __future__ import annotations

from rapidfuzz import fuzz

from benchmint.records import Question, Verdict, normalize_text, normalize_with_map
from validators.base import Context
from validators.derivation import derivation_support
from validators.support import answer_support


class GroundingValidator:
    name = "grounding"

    def __init__(self, min_ratio: float = 90.0, min_words: int = 6, min_answer_support: float = 0.6):
        self.min_ratio = min_ratio
        self.min_words = min_words
        self.min_answer_support = min_answer_support

    def check(self, questions: list[Question], ctx: Context) -> list[Verdict]:
        return [self._check_one(q, ctx) for q in questions]

    def _check_one(self, q: Question, ctx: Context) -> Verdict:
        if not q.citations:
            return Verdict(validator=self.name, passed=False, score=0.0, reason="no citation")
        per_cite = []
        normalized_chunks: dict[str, tuple[str, list[int]]] = {}
        for c in q.citations:
            chunk = ctx.chunks.get(c.chunk_id)
            if chunk is None:
                per_cite.append({"quote": c.quote, "ratio": 0.0, "found": False,
                                 "reason": f"unknown chunk {c.chunk_id}"})
                continue
            if chunk.id not in normalized_chunks:
                normalized_chunks[chunk.id] = normalize_with_map(chunk.text)
            hay, idx = normalized_chunks[chunk.id]
            needle = normalize_text(c.quote)
            if not needle:
                per_cite.append({"quote": c.quote, "ratio": 0.0, "found": False, "reason": "empty quote"})
                continue
            al = fuzz.partial_ratio_alignment(needle, hay)
            ratio = al.score if al is not None else 0.0
            entry = {"quote": c.quote, "ratio": round(ratio, 1), "found": ratio >= self.min_ratio,
                     "words": len(needle.split())}
            if al is not None and entry["found"] and al.dest_end > al.dest_start:
                start = chunk.start + idx[al.dest_start]
                end = chunk.start + idx[al.dest_end - 1] + 1
                entry.update(start=start, end=end)
                c.start, c.end = start, end
            per_cite.append(entry)
        ratios = [e["ratio"] for e in per_cite]
        evidence: dict = {"citations": per_cite}
        missing = [e for e in per_cite if not e["found"]]
        if missing:
            return Verdict(validator=self.name, passed=False, score=min(ratios) / 100, evidence=evidence,
                           reason=f"{len(missing)} of {len(per_cite)} citations not found in the source "
                                  f"(best ratio {max(e['ratio'] for e in missing):.0f} < {self.min_ratio:.0f})")
        if not any(e["words"] >= self.min_words for e in per_cite):
            return Verdict(validator=self.name, passed=False, score=min(ratios) / 100, evidence=evidence,
                           reason=f"no citation is a sentence or clause of {self.min_words}+ words")
        if len(q.chunk_ids) > 1:  # multi-hop: every hop cited
            cited_chunks = {c.chunk_id for c, e in zip(q.citations, per_cite) if e["found"]}
            uncited = [c for c in q.chunk_ids if c not in cited_chunks]
            if uncited:
                return Verdict(validator=self.name, passed=False, score=min(ratios) / 100, evidence=evidence,
                               reason=f"{len(uncited)} of {len(q.chunk_ids)} hops have no citation found in them")
        cited = " ".join(e["quote"] for e in per_cite)
        if q.derivation:
            ok, why = derivation_support(q, cited)
            evidence["derivation"] = why
            if not ok:
                return Verdict(validator=self.name, passed=False, score=0.0, evidence=evidence,
                               reason=f"the computed answer is not supported: {why}")
            return Verdict(validator=self.name, passed=True, score=min(ratios) / 100, evidence=evidence,
                           reason=f"all citations found; the answer is computed from them ({why})")
        # a true/false question's answer is a truth value: the true statement is what must be supported
        support = answer_support(q.rationale if q.kind == "tf" else q.answer, cited)
        evidence["answer_support"] = round(support, 3)
        if support < self.min_answer_support:
            return Verdict(validator=self.name, passed=False, score=min(ratios) / 100 * support, evidence=evidence,
                           reason=f"the answer is not supported by the cited text "
                                  f"(support {support:.2f} < {self.min_answer_support})")
        return Verdict(validator=self.name, passed=True, score=min(ratios) / 100 * min(1.0, 0.5 + support / 2),
                       evidence=evidence, reason="all citations found; answer supported")
