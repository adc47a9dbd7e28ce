"""The build's budgets, checked between batches: completion tokens (adaptive.max_tokens) and money
(adaptive.max_cost, from each role's price). A spent budget stops the rounds cleanly; what was accepted
is published."""

from __future__ import annotations

from typing import Any

from benchmint.config import AdaptiveConfig
from benchmint.cost import Price, currency_of, money_text, spent
from benchmint.modelspec import ModelSpec


def completion_tokens(usage: dict[str, dict[str, Any]]) -> int:
    return int(sum(u["completion_tokens"] for u in usage.values()))


def prices(roles: dict[str, ModelSpec]) -> dict[str, Price | None]:
    return {role: spec.effective_price for role, spec in roles.items()}


def budget_stop(adaptive: AdaptiveConfig, usage: dict[str, dict[str, Any]], roles: dict[str, ModelSpec]) -> str:
    """Why the build stops for its budget ("" while neither budget is spent)."""
    if adaptive.max_tokens and completion_tokens(usage) >= adaptive.max_tokens:
        return f"token budget of {adaptive.max_tokens} completion tokens spent"
    if adaptive.max_cost:
        by_role = prices(roles)
        money = spent(usage, by_role)
        if money >= adaptive.max_cost:
            cur = currency_of(by_role)
            return f"cost budget of {money_text(adaptive.max_cost, cur)} spent ({money_text(money, cur)})"
    return ""


def question_stop(questions: int, rounds: int, accepted: float) -> str:
    """A one-round build stops at the question count ("" until then). An adaptive build runs every round (or
    until a budget is spent) and chooses the published set from all of them (pipeline.selection): stopping at
    the count would publish round 0, the easiest questions, the rounds exist to move past."""
    if rounds == 1 and accepted >= questions:
        return f"{questions} questions accepted"
    return ""


def percent_done(questions: int, accepted: int, rounds: int, round_index: int, steps_done: int,
                 steps_planned: int) -> float:
    """The build's progress for the UI: a one-round build's accepted share of the question count; an adaptive
    build's share of its rounds (the round in progress by its steps done so far), since it runs every round
    whatever it has accepted."""
    if rounds == 1:
        return min(100.0, 100.0 * accepted / max(1, questions))
    within = min(1.0, steps_done / steps_planned) if steps_planned else 1.0
    return min(100.0, 100.0 * (round_index + within) / rounds)
