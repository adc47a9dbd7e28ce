"""Confidence intervals for eval scores, clustered by source document.

Questions minted from one document are not independent draws: they share the document's topic and
style, so a model's successes and failures come in clusters, and a benchmark minted from a handful of
documents has few clusters (Miller, "Adding Error Bars to Evals", 2024). The variance of a mean score
is the cluster-robust (CR1) one,

    SE^2 = k/(k-1) * sum_c ( sum_{i in c} (x_i - mean) )^2 / n^2      (k clusters, n questions),

never taken below the independent-questions SE (a shared document makes answers alike, so clustering
adds variance; with few clusters the CR1 estimate is often far too small by chance).

The interval is Korn & Graubard's (Survey Methodology 24, 1998; NCHS's standard for survey
proportions): Clopper-Pearson on the effective sample size n_eff = p(1-p)/SE^2 (p: the mean, rescaled
to [0, 1]), shrunk by (t_{n-1} / t_{k-1})^2 so that it carries the t critical value on k-1 degrees of
freedom. Far from 0 and 1 it is the cluster-robust t interval, mean +- t_{k-1} SE; near 0 and 1 it
is skewed the way a proportion's interval must be. Chosen over the plain CR1 t interval and a cluster
bootstrap by its coverage in bench/coverage.py (figures in BENCHMARKS.md).

When every value is the same (all correct, all wrong) there is no variance to estimate and nothing
tells how correlated a document's questions are, so the documents, not the questions, are the
independent units: the bound is Clopper-Pearson for 0 differing outcomes in k trials, the exact
q = 1 - 0.025^(1/k) (12 correct answers from 4 documents: [0.40, 1.00]).

A paired difference of two models' scores on the same questions combines their two intervals by
MOVER (Zou & Donner, Stat. Med. 2008): the correlation of the two means is the one the clustered
variance of the per-question differences implies, so it is the t interval on the differences (on
k-1 degrees of freedom) when both scores are far from 0 and 1, and keeps the skew of each score's
interval near them.

A difference of two means over different questions (an adaptive build's round 0 against its last
round) is paired by its clusters instead: both samples draw on the same documents, so a document's
questions in each sample enter one influence term, u_c = sum_{i in a,c} (a_i - mean_a)/n_a -
sum_{j in b,c} (b_j - mean_b)/n_b, and the CR1 variance is G/(G-1) * sum_c u_c^2 (G: the clusters of
either sample), never below the independent var_a/n_a + var_b/n_b. Shared clusters are what pair the
samples: a document easy in both cancels out of the difference instead of counting twice (down to the
independent floor); with no shared document it is about the sum of the two means' clustered variances.
The interval is the same MOVER, on each mean's Korn-Graubard interval with the correlation that
variance implies (its coverage: tests/unit/test_stats.py).

One cluster (one document) leaves no between-document variance to estimate: the questions are taken
as independent, and the method says so.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

ALPHA = 0.05
"""1 - the intervals' nominal coverage."""


@dataclass
class Estimate:
    mean: float
    """The mean score (or mean paired difference)."""
    se: float
    """Its standard error: cluster-robust (CR1), not below the independent-questions SE; 0 when every
    value is the same."""
    ci_low: float
    """Lower end of the 95% interval."""
    ci_high: float
    """Upper end of the 95% interval."""
    n: int
    """Questions (values); a difference of two samples: both samples' together."""
    clusters: int
    """Distinct clusters (documents) among them."""
    method: str
    """How the interval was made: "korn-graubard" (clustered, t on clusters-1 df), "independent" (one
    cluster: Korn-Graubard on the questions as independent), "mover" (a paired difference),
    "no-variation" (every value the same: the exact bound on the clusters; a difference of two samples:
    each sample's own values the same), "clustered-t" (no range given: mean +- t SE), "none" (no values).
    A difference of two samples (clustered_difference) is "mover", or "independent" when both samples
    hold one cluster."""

    def as_dict(self) -> dict[str, float | int | str]:
        d = asdict(self)
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in d.items()}


@dataclass
class Moments:
    """Per replication: the mean of values grouped by cluster, and what its interval needs. The functions
    on Moments take arrays of replications (bench/coverage.py) or one sample (mean_with_ci,
    paired_difference) through the same code."""

    mean: np.ndarray
    """The mean of the values."""
    se: np.ndarray
    """max(CR1 SE, independent SE); 0 when every value is equal."""
    n: np.ndarray
    """Values."""
    units: np.ndarray
    """The independent units: clusters, or the values when there is one cluster."""
    constant: np.ndarray
    """Every value is the same."""


def _t(df: np.ndarray | float) -> np.ndarray:
    from scipy.special import stdtrit  # scipy.stats.t.ppf's kernel, without importing scipy.stats

    return stdtrit(df, 1 - ALPHA / 2)


def moments(x: np.ndarray, mask: np.ndarray) -> Moments:
    """`x` and `mask` of shape (..., k, m): k clusters padded to m values, `mask` False on the padding;
    every cluster holds at least one value."""
    x = np.where(mask, x, 0.0)
    sizes = mask.sum(-1)
    n = sizes.sum(-1)
    k = x.shape[-2]
    mean = x.sum((-1, -2)) / n
    resid = x.sum(-1) - sizes * mean[..., None]
    dev = np.where(mask, x - mean[..., None, None], 0.0)
    ss = (dev**2).sum((-1, -2))
    with np.errstate(divide="ignore", invalid="ignore"):
        iid = np.sqrt(np.where(n > 1, ss / ((n - 1) * n), 0.0))
    if k >= 2:
        se = np.maximum(np.sqrt(k / (k - 1) * (resid**2).sum(-1)) / n, iid)
        units = np.full(np.shape(n), k)
    else:
        se, units = iid, n
    top = np.where(mask, x, -np.inf).max((-1, -2))
    bottom = np.where(mask, x, np.inf).min((-1, -2))
    constant = top == bottom
    return Moments(mean, np.where(constant, 0.0, se), n, units, constant)


def no_variation(value: np.ndarray, units: np.ndarray, lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
    """Every value equal to `value`: at most q = 1 - (alpha/2)^(1/units) of outcomes differ (Clopper-
    Pearson, 0 of `units`), so the mean is within q of `value` toward each end of [lo, hi]."""
    q = 1 - (ALPHA / 2) ** (1 / np.asarray(units, dtype=float))
    return value - q * (value - lo), value + q * (hi - value)


def korn_graubard(m: Moments, lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
    """The 95% interval of the mean of values in [lo, hi] (no-variation bound where constant)."""
    from scipy.special import betaincinv

    span = hi - lo
    u = (m.mean - lo) / span
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        neff = u * (1 - u) / (m.se / span) ** 2 * (_t(m.n - 1) / _t(m.units - 1)) ** 2
        x = u * neff
        low = betaincinv(x, neff - x + 1, ALPHA / 2)
        high = betaincinv(x + 1, neff - x, 1 - ALPHA / 2)
    low, high = lo + span * np.nan_to_num(low, nan=0.0), lo + span * np.nan_to_num(high, nan=1.0)
    c_low, c_high = no_variation(m.mean, m.units, lo, hi)
    low, high = np.where(m.constant, c_low, low), np.where(m.constant, c_high, high)
    # Clopper-Pearson on a fractional count can end a hair inside the mean
    return np.minimum(low, m.mean), np.maximum(high, m.mean)


def mover(a: Moments, b: Moments, d: Moments) -> tuple[np.ndarray, np.ndarray]:
    """The 95% interval of mean(a) - mean(b), values in [0, 1], paired question by question (`d`:
    the moments of the differences)."""
    la, ua = korn_graubard(a, 0.0, 1.0)
    lb, ub = korn_graubard(b, 0.0, 1.0)
    # the correlation of the two means for which var(a) + var(b) - 2 r se_a se_b is the (clustered)
    # variance of the differences; 0 when a score has no variance to correlate
    with np.errstate(divide="ignore", invalid="ignore"):
        r = (a.se**2 + b.se**2 - d.se**2) / (2 * a.se * b.se)
    r = np.clip(np.nan_to_num(r, nan=0.0, posinf=0.0, neginf=0.0), -1.0, 1.0)
    da, db = a.mean - la, ub - b.mean
    low = d.mean - np.sqrt(np.maximum(da**2 + db**2 - 2 * r * da * db, 0.0))
    da, db = ua - a.mean, b.mean - lb
    high = d.mean + np.sqrt(np.maximum(da**2 + db**2 - 2 * r * da * db, 0.0))
    c_low, c_high = no_variation(d.mean, d.units, -1.0, 1.0)
    low, high = np.where(d.constant, c_low, low), np.where(d.constant, c_high, high)
    return np.clip(low, -1.0, d.mean), np.clip(high, d.mean, 1.0)


def _grouped(values: Sequence[float], clusters: Sequence[str] | None) -> tuple[np.ndarray, np.ndarray]:
    """`values` as a (k, m) array of clusters, padded, and its mask."""
    n = len(values)
    labels = list(clusters) if clusters is not None else [str(i) for i in range(n)]
    if len(labels) != n:
        raise ValueError(f"{len(labels)} cluster labels for {n} values")
    index: dict[str, list[int]] = {}
    for i, c in enumerate(labels):
        index.setdefault(c, []).append(i)
    width = max(len(v) for v in index.values())
    x, mask = np.zeros((len(index), width)), np.zeros((len(index), width), dtype=bool)
    for row, members in enumerate(index.values()):
        x[row, : len(members)] = [values[i] for i in members]
        mask[row, : len(members)] = True
    return x, mask


def _check_range(values: Sequence[float], lo: float, hi: float, what: str) -> None:
    bad = [v for v in values if not lo <= v <= hi]
    if bad:
        raise ValueError(f"{what} must lie in [{lo}, {hi}] (got {bad[0]!r})")


def _estimate(m: Moments, low: np.ndarray, high: np.ndarray, clusters: int, method: str) -> Estimate:
    method = "no-variation" if bool(m.constant) else method
    return Estimate(float(m.mean), float(m.se), float(low), float(high), int(m.n), clusters, method)


def mean_with_ci(values: Sequence[float], clusters: Sequence[str] | None = None,
                 clip: tuple[float, float] | None = (0.0, 1.0)) -> Estimate:
    """Mean of `values` with a 95% interval, clustered by `clusters` (one label per value; None: every
    value its own cluster). `clip` is the range the values lie in (an error when one does not); None:
    unbounded, a plain cluster-robust t interval."""
    if len(values) == 0:
        return Estimate(math.nan, math.nan, math.nan, math.nan, 0, 0, "none")
    x, mask = _grouped(values, clusters)
    k = x.shape[0]
    m = moments(x, mask)
    if clip is None:  # no range: nothing bounds the no-variation case, which stays zero width
        half = float(_t(m.units - 1) * m.se) if m.n > 1 else 0.0
        return Estimate(float(m.mean), float(m.se), float(m.mean) - half, float(m.mean) + half, int(m.n), k,
                        "clustered-t")
    _check_range(values, clip[0], clip[1], "values")
    low, high = korn_graubard(m, clip[0], clip[1])
    return _estimate(m, low, high, k, "korn-graubard" if k >= 2 else "independent")


def paired_difference(a: Sequence[float], b: Sequence[float], clusters: Sequence[str] | None = None) -> Estimate:
    """Mean of a_i - b_i over the same questions (scores in [0, 1]), with a clustered 95% interval."""
    if len(a) != len(b):
        raise ValueError("paired scores need the same questions")
    if len(a) == 0:
        return Estimate(math.nan, math.nan, math.nan, math.nan, 0, 0, "none")
    _check_range(a, 0.0, 1.0, "scores")
    _check_range(b, 0.0, 1.0, "scores")
    xa, mask = _grouped(a, clusters)
    xb, _ = _grouped(b, clusters)
    ma, mb, md = moments(xa, mask), moments(xb, mask), moments(xa - xb, mask)
    low, high = mover(ma, mb, md)
    return _estimate(md, low, high, xa.shape[0], "mover")


def clustered_difference(a: Sequence[float], a_clusters: Sequence[str] | None, b: Sequence[float],
                         b_clusters: Sequence[str] | None) -> Estimate:
    """mean(a) - mean(b) for two samples of different questions (values in [0, 1]) whose clusters may be
    shared, with a clustered 95% interval (see the module docstring). Shared cluster labels are what pair
    the samples; None: every value its own cluster, shared with nothing."""
    if len(a) == 0 or len(b) == 0:
        return Estimate(math.nan, math.nan, math.nan, math.nan, len(a) + len(b), 0, "none")
    _check_range(a, 0.0, 1.0, "values")
    _check_range(b, 0.0, 1.0, "values")
    ca = list(a_clusters) if a_clusters is not None else [f"a{i}" for i in range(len(a))]
    cb = list(b_clusters) if b_clusters is not None else [f"b{i}" for i in range(len(b))]
    ma, mb = moments(*_grouped(a, ca)), moments(*_grouped(b, cb))
    va, vb = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    u: dict[str, float] = {}
    for c, x in zip(ca, (va - ma.mean) / len(a)):
        u[c] = u.get(c, 0.0) + float(x)
    for c, x in zip(cb, (vb - mb.mean) / len(b)):
        u[c] = u.get(c, 0.0) - float(x)
    g = len(u)
    iid = sum(float(v.var(ddof=1)) / len(v) if len(v) > 1 else 0.0 for v in (va, vb))
    var = max(g / (g - 1) * sum(x * x for x in u.values()), iid) if g >= 2 else iid
    constant = bool(ma.constant) and bool(mb.constant)
    # the difference's moments as mover reads them: its no-variation bound is not used (each mean's own is)
    d = Moments(mean=ma.mean - mb.mean, se=np.asarray(0.0 if constant else math.sqrt(var)),
                n=np.asarray(len(a) + len(b)), units=np.asarray(g), constant=np.asarray(False))
    low, high = mover(ma, mb, d)
    method = "no-variation" if constant else "mover" if g >= 2 else "independent"
    return Estimate(float(d.mean), float(d.se), float(low), float(high), len(a) + len(b), g, method)


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
