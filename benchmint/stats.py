"""Confidence intervals for eval scores, clustered by source document.

Questions minted from one document are not independent draws: they share the
document's topic and style, so a model's successes and failures come in
clusters. Following Miller, "Adding Error Bars to Evals" (2024), the standard
error of a mean score is the cluster-robust one:

    SE = sqrt( sum_c ( sum_{i in c} (x_i - mean) )^2 ) / n

which equals the usual CLT standard error when every question is its own
cluster and grows when scores within a document are correlated. A benchmark
minted from a handful of documents has few clusters, so the small-sample
correction k/(k-1) (k clusters) multiplies the variance, as in the usual CR1
estimator. With fewer than two clusters the clustered SE is undefined and the
CLT SE is used (and said).
Paired differences between two models are the per-question differences
x_A - x_B, with the same clustered SE (pairing removes question difficulty
from the variance). Intervals are mean +- 1.96 SE.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass

Z95 = 1.959964


@dataclass
class Estimate:
    mean: float
    se: float
    ci_low: float
    ci_high: float
    n: int
    clusters: int
    method: str  # "clustered" | "clt"

    def as_dict(self) -> dict[str, float | int | str]:
        d = asdict(self)
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in d.items()}


def mean_with_ci(values: Sequence[float], clusters: Sequence[str] | None = None,
                 clip: tuple[float, float] | None = (0.0, 1.0)) -> Estimate:
    """Mean of `values` with a 95% interval, clustered by `clusters` (one label per value)."""
    n = len(values)
    if n == 0:
        return Estimate(float("nan"), float("nan"), float("nan"), float("nan"), 0, 0, "none")
    mean = sum(values) / n
    labels = list(clusters) if clusters is not None else [str(i) for i in range(n)]
    if len(labels) != n:
        raise ValueError(f"{len(labels)} cluster labels for {n} values")
    sums: dict[str, float] = defaultdict(float)
    for x, c in zip(values, labels):
        sums[c] += x - mean
    k = len(sums)
    if k >= 2:
        se = math.sqrt(k / (k - 1) * sum(s * s for s in sums.values())) / n
        method = "clustered"
    else:
        var = sum((x - mean) ** 2 for x in values) / (n - 1) if n > 1 else 0.0
        se = math.sqrt(var / n)
        method = "clt"
    lo, hi = mean - Z95 * se, mean + Z95 * se
    if clip is not None:
        lo, hi = max(clip[0], lo), min(clip[1], hi)
    return Estimate(mean, se, lo, hi, n, k, method)


def paired_difference(a: Sequence[float], b: Sequence[float], clusters: Sequence[str] | None = None) -> Estimate:
    """Mean of a_i - b_i over the same questions, with a clustered 95% interval."""
    if len(a) != len(b):
        raise ValueError("paired scores need the same questions")
    return mean_with_ci([x - y for x, y in zip(a, b)], clusters, clip=(-1.0, 1.0))


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman rank correlation (average ranks for ties); nan when undefined."""
    if len(x) != len(y) or len(x) < 2:
        return float("nan")

    def ranks(v: Sequence[float]) -> list[float]:
        order = sorted(range(len(v)), key=lambda i: v[i])
        r = [0.0] * len(v)
        i = 0
        while i < len(order):
            j = i
            while j + 1 < len(order) and v[order[j + 1]] == v[order[i]]:
                j += 1
            for k in range(i, j + 1):
                r[order[k]] = (i + j) / 2
            i = j + 1
        return r

    rx, ry = ranks(x), ranks(y)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    cov = sum((p - mx) * (q - my) for p, q in zip(rx, ry))
    vx = math.sqrt(sum((p - mx) ** 2 for p in rx))
    vy = math.sqrt(sum((q - my) ** 2 for q in ry))
    return cov / (vx * vy) if vx and vy else float("nan")
