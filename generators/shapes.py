"""Question shapes, the unit the adaptive rounds mix: a configured kind, a harder form of a kind (a tactic,
"numeric:computed"), or multi-hop; and a shape's measured pass rate as a round's plan weighed it.

Kept apart from generators.adaptive so the round records (pipeline.records, which the CLI reads) type it
without importing the agent and its model client.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from benchmint.records import Question


def shape(q: Question) -> str:
    if q.hops > 1:
        return "multi_hop"
    return f"{q.kind}:{q.tactic}" if q.tactic else q.kind


class ShapeRate(BaseModel):
    """A question shape's measured pass rate, as the next round's plan weighed it."""

    model_config = ConfigDict(extra="forbid")

    n: int
    """Measured questions of the shape."""
    mean: float
    """Their mean pass rate over the targets."""
    ci: list[float]
    """95% interval of the mean, clustered by source chunk (benchmint.stats.mean_with_ci)."""
    status: str = ""
    """What the plan did with it: "kept" (its interval reaches the hardest shape's), "dropped" (its interval
    lies wholly above the hardest's: clearly easier), "exploring" (fewer than `shape_min_measured` measured
    questions: kept), "not offered" (not a shape the build may use)."""

    def rounded(self) -> ShapeRate:
        return self.model_copy(update={"mean": round(self.mean, 3), "ci": [round(x, 3) for x in self.ci]})
