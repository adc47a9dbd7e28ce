"""Money per model role: a price per million tokens on a model entry, and what the tokens a build spent
cost. Currency-agnostic (USD by convention); a local model costs nothing, an endpoint with no price is
"unpriced" (its tokens are counted, its money is not)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from benchmint.records import Record


class Price(Record):
    """What an endpoint charges (`models.generator.price: {input_per_million: 0.15, output_per_million: 0.6}`)."""

    input_per_million: float = Field(default=0.0, ge=0)
    """Money per million prompt tokens."""
    output_per_million: float = Field(default=0.0, ge=0)
    """Money per million completion tokens."""
    currency: str = Field(default="USD", min_length=1, max_length=8)
    """A label only: every priced model of one build must use the same one."""


FREE = Price()


def money(prompt_tokens: float, completion_tokens: float, price: Price) -> float:
    return (prompt_tokens * price.input_per_million + completion_tokens * price.output_per_million) / 1e6


def currency_of(prices: dict[str, Price | None]) -> str:
    """The build's currency: the one the priced models name (USD when none is priced)."""
    named = {p.currency for p in prices.values() if p is not None and p is not FREE}
    return named.pop() if len(named) == 1 else "USD"


def with_cost(usage: dict[str, dict[str, Any]], prices: dict[str, Price | None]) -> tuple[dict[str, dict[str, Any]],
                                                                                         dict[str, Any]]:
    """(usage with a `cost` per priced role, {"total", "currency", "unpriced": roles with no price}).
    Cached replies cost nothing: only the tokens of real calls are in `usage`."""
    out, total, unpriced = {}, 0.0, []
    for role, u in usage.items():
        price = prices.get(role)
        if price is None:
            out[role] = dict(u)
            unpriced.append(role)
            continue
        cost = money(u.get("prompt_tokens", 0), u.get("completion_tokens", 0), price)
        total += cost
        out[role] = {**u, "cost": round(cost, 6)}
    return out, {"total": round(total, 6), "currency": currency_of(prices), "unpriced": unpriced}


def spent(usage: dict[str, dict[str, Any]], prices: dict[str, Price | None]) -> float:
    """The money the priced roles have spent so far."""
    return with_cost(usage, prices)[1]["total"]


def money_text(amount: float, currency: str) -> str:
    """4 significant decimals below 1 (a build on a cheap model costs fractions of a cent)."""
    return f"{amount:.2f} {currency}" if amount >= 1 else f"{amount:.4g} {currency}"


def role_money(u: dict[str, Any], cost: dict[str, Any]) -> str:
    """A role's money as the summaries show it after its tokens: ", 0.0012 USD", or "" when unpriced."""
    return f", {money_text(u['cost'], cost.get('currency', 'USD'))}" if "cost" in u else ""


def total_text(cost: dict[str, Any]) -> str:
    """The build's money in one phrase ("" when nothing was counted): the total, and what it leaves out."""
    if not cost:
        return ""
    text = money_text(cost["total"], cost.get("currency", "USD"))
    if cost.get("unpriced"):
        text += f" (not counted: {', '.join(cost['unpriced'])}, no price)"
    return text
