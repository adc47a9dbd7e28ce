"""Which accepted questions a build publishes when it accepted more than were asked for.

A one-round build publishes the first ones, in generation order (it stops at the count, so at most a batch
more). An adaptive build runs all its rounds and chooses from every round's survivors: the questions that
tell the targets apart best first, then the hardest (lowest pass rate over the targets; the difficulty band
has already removed those every target fails or passes beyond it), then those the targets never answered;
ties keep generation order. The choice is recorded in the manifest.
"""

from __future__ import annotations

from collections import Counter

from benchmint.records import Question, Verdict
from pipeline.records import SELECTION_RULE as RULE
from pipeline.records import Selection


def _key(q: Question) -> tuple[bool, float, float]:
    measured = q.pass_rate is not None
    return not measured, -(q.discrimination or 0.0) if measured else 0.0, q.pass_rate if measured else 1.0


def choose(accepted: list[Question], wanted: int, adaptive: bool) -> tuple[list[Question], list[Question],
                                                                          Selection | None]:
    """(published, surplus, the recorded choice or None for a one-round build). The surplus passed every
    validator; each gets a blocking "budget" verdict saying so."""
    if adaptive:
        order = sorted(accepted, key=_key)  # a stable sort: ties keep generation order
        reason = f"passed every validator; not among the {wanted} chosen from every round ({RULE})"
    else:
        order = list(accepted)
        reason = f"passed every validator, beyond the requested {wanted} questions"
    picked = {id(q) for q in order[:wanted]}
    chosen = [q for q in accepted if id(q) in picked]  # published in generation order
    surplus = order[wanted:]
    for q in surplus:
        q.verdicts.append(Verdict(validator="budget", passed=False, blocking=True, reason=reason))
    if not adaptive:
        return chosen, surplus, None
    return chosen, surplus, Selection(
        wanted=wanted, offered=len(accepted), chosen=[q.id for q in order[:wanted]],
        chosen_by_round=dict(sorted(Counter(q.round for q in chosen).items())),
        offered_by_round=dict(sorted(Counter(q.round for q in accepted).items())))
