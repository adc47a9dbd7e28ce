"""Difficulty, measured on the target models.

Per question: the pass rate over the targets (answering with the source text
when `with_document`, else closed-book), and its discrimination: the upper-lower
index, the pass rate among the stronger half of the targets minus that among
the weaker half (strength: each target's accuracy over every question it has
answered in this run). A question is kept when its pass rate is inside the band
[lo, hi]. A question no target answers is first put to the judge panel: when the
panel finds the gold answer wrong, it is rejected as a bad question, not counted
as hard (its pass rate is cleared, so no round mean or failure sample counts it).
Missing replies are excluded from the rate and counted.
"""

from __future__ import annotations

from benchmint.records import Question, Verdict
from validators.base import Context
from validators.judges import JudgePanel
from validators.scoring import TargetResult, TargetRunner, pass_rate


def gold_shown(q: Question) -> str:
    """The gold as the panel checks it: a number with its unit. (A computed answer's arithmetic is
    not shown: with it, the 1.5B judge passed a 110 % "share" it had rejected without.)"""
    return f"{q.answer} {q.unit}".strip() if q.unit and q.unit not in q.answer else q.answer


def discrimination(results: list[TargetResult], strength: dict[str, float]) -> float | None:
    graded = [r for r in results if r.correct is not None]
    if len(graded) < 2:
        return None
    ranked = sorted(graded, key=lambda r: strength.get(r.target, 0.0), reverse=True)
    half = len(ranked) // 2
    upper, lower = ranked[:half], ranked[len(ranked) - half:]
    return sum(bool(r.correct) for r in upper) / len(upper) - sum(bool(r.correct) for r in lower) / len(lower)


class DifficultyValidator:
    name = "difficulty"

    def __init__(self, runner: TargetRunner, band: tuple[float, float] = (0.1, 0.8), with_document: bool = True,
                 panel: JudgePanel | None = None, check_gold: bool = True):
        self.runner = runner
        self.band = band
        self.mode = "with_document" if with_document else "closed_book"
        self.panel = panel
        self.check_gold = check_gold

    def check(self, questions: list[Question], ctx: Context) -> list[Verdict]:
        results = self.runner.run(questions, self.mode, ctx.chunks)
        strength = self.runner.accuracy(self.mode)
        return [self.verdict_for(q, results[q.id], strength) for q in questions]

    def verdict_for(self, q: Question, rs: list[TargetResult], strength: dict[str, float]) -> Verdict:
        """The verdict on one question from its targets' results (`strength`: each target's accuracy so far)."""
        rate = pass_rate(rs)
        missing = sum(r.correct is None for r in rs)
        disc = discrimination(rs, strength)
        q.pass_rate, q.discrimination = rate, disc
        evidence: dict = {"mode": self.mode, "pass_rate": rate, "discrimination": disc, "missing": missing,
                          "band": list(self.band), "results": [r.as_dict() for r in rs]}
        if rate is None:
            return Verdict(validator=self.name, passed=False, score=None, evidence=evidence,
                           reason=f"not measured: all {missing} target replies missing")
        if rate == 0 and self.check_gold and self.panel is not None:
            d = self.panel.gold_is_right(q.question, gold_shown(q), [c.quote for c in q.citations])
            evidence["gold_check"] = d.as_dict()
            if d.decision is False:
                # a bad question, not a hard one: it counts in no pass-rate figure (round means,
                # the adaptive agent's failures); the rate measured stays in the evidence
                q.pass_rate, q.discrimination = None, None
                return Verdict(validator=self.name, passed=False, score=rate, evidence=evidence,
                               reason=f"no target answered it, and the judge panel finds the gold answer wrong "
                                      f"({d.no} of {len(d.votes)} votes)")
        lo, hi = self.band
        where = f"pass rate {rate:.2f} over {len(rs) - missing} targets"
        if rate < lo:
            return Verdict(validator=self.name, passed=False, score=rate, evidence=evidence,
                           reason=f"too hard: {where} < {lo}")
        if rate > hi:
            return Verdict(validator=self.name, passed=False, score=rate, evidence=evidence,
                           reason=f"too easy: {where} > {hi}")
        return Verdict(validator=self.name, passed=True, score=rate, evidence=evidence,
                       reason=f"{where}, in the band [{lo}, {hi}]")
