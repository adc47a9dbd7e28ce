"""Runs the configured validators over a batch of candidates, cheapest first.

Cheap per-question checks (grounding, quality) run on every candidate; the costlier
ones (contamination, which may call a judge model) and dedup run only on those that
passed everything before them, so a near-duplicate collapses into a valid question;
last, the ones that put questions to the target models (answerability, difficulty),
so no model time is spent on a question already rejected.
Every verdict is kept on its question.
"""

from __future__ import annotations

from collections import Counter

from benchmint.errors import EndpointDown
from benchmint.records import Question, Verdict
from validators.base import Context
from validators.dedup import DedupValidator
from validators.grounding import GroundingValidator
from validators.quality import QualityValidator


class ValidatorChain:
    def __init__(self, config, extra: list | None = None, measure: list | None = None) -> None:  # noqa: ANN001
        g = config.grounding
        self.per_question = [
            GroundingValidator(g.min_ratio, g.min_words, g.min_answer_support),
            QualityValidator(),
        ]
        self.on_survivors = [*(extra or []), DedupValidator(config.dedup.threshold), *(measure or [])]
        self.counts: dict[str, Counter] = {v.name: Counter() for v in [*self.per_question, *self.on_survivors]}

    @property
    def dedup(self) -> DedupValidator:
        return next(v for v in self.on_survivors if isinstance(v, DedupValidator))

    def run(self, candidates: list[Question], ctx: Context) -> tuple[list[Question], list[Question]]:
        for validator in self.per_question:
            for q, v in zip(candidates, _safe_check(validator, candidates, ctx), strict=True):
                q.verdicts.append(v)
        for validator in self.on_survivors:
            survivors = [q for q in candidates if q.passed()]
            for q, v in zip(survivors, _safe_check(validator, survivors, ctx), strict=True):
                q.verdicts.append(v)
        for q in candidates:
            for v in q.verdicts:
                self.counts.setdefault(v.validator, Counter())["passed" if v.passed else "failed"] += 1
        return [q for q in candidates if q.passed()], [q for q in candidates if not q.passed()]

    def summary(self) -> dict[str, dict[str, int]]:
        return {name: {"passed": c.get("passed", 0), "failed": c.get("failed", 0)} for name, c in self.counts.items()}


def _safe_check(validator, questions: list[Question], ctx: Context) -> list[Verdict]:  # noqa: ANN001
    """A validator that crashes fails the batch's questions with the reason, never the run."""
    if not questions:
        return []
    try:
        verdicts = validator.check(questions, ctx)
        if len(verdicts) != len(questions):
            raise RuntimeError(f"returned {len(verdicts)} verdicts for {len(questions)} questions")
        return verdicts
    except EndpointDown:  # an endpoint's circuit breaker opened: the build stops, no verdict is due
        raise
    except Exception as exc:  # noqa: BLE001 - recorded on every question as a failed verdict
        return [Verdict(validator=validator.name, passed=False, reason=f"validator error: {type(exc).__name__}: {exc}")
                for _ in questions]
