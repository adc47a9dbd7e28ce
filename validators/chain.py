"""Runs the named validators over a batch of candidates, cheapest first.

The chain is built by name from the registry (validators/base.py; the built-in ones register in
validators/builtin.py): `build_chain(names, tools)`. DEFAULT_CHAIN is the order a build runs.

Cheap per-question checks (grounding, quality) run on every candidate; the costlier
ones (contamination, which may call a judge model) and dedup run only on those that
passed everything before them, so a near-duplicate collapses into a valid question;
last, the ones that put questions to the target models (answerability, difficulty),
so no model time is spent on a question already rejected.
Every verdict is kept on its question.
"""

from __future__ import annotations

from collections import Counter

import validators.builtin  # noqa: F401 - registers the built-in validators by name
from benchmint.errors import ConfigError, EndpointDown
from benchmint.records import Question, Verdict
from validators.base import VALIDATORS, ChainTools, Context, Validator

DEFAULT_CHAIN = ("grounding", "quality", "contamination", "dedup", "answerability", "difficulty")


class ValidatorChain:
    def __init__(self, per_question: list[Validator], on_survivors: list[Validator]) -> None:
        self.per_question = per_question  # every candidate
        self.on_survivors = on_survivors  # in order, only those that passed every validator before
        self.counts: dict[str, Counter] = {v.name: Counter() for v in [*self.per_question, *self.on_survivors]}

    def get(self, name: str) -> Validator | None:
        return next((v for v in [*self.per_question, *self.on_survivors] if v.name == name), None)

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


def build_chain(names: list[str] | tuple[str, ...], tools: ChainTools) -> ValidatorChain:
    """The validators `names` (registered names, in order), each made from `tools`; a validator whose
    factory gives None (switched off by the config, or nothing to measure with) is left out."""
    per_question, on_survivors = [], []
    for name in names:
        entry = VALIDATORS.get(name)
        if entry is None:
            raise ConfigError(f"unknown validator {name!r}; the registered ones are {', '.join(sorted(VALIDATORS))}")
        v = entry.make(tools)
        if v is not None:
            (per_question if entry.every_candidate else on_survivors).append(v)
    return ValidatorChain(per_question, on_survivors)


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
