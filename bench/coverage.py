"""Coverage of benchmint.stats' 95% intervals on simulated clustered scores: for each cell, the share
of replications whose interval holds the true value, and the intervals' mean width.

    .venv/bin/python bench/coverage.py [--reps 2000] [--seed 0] [--baselines]

Accuracy (`mean_with_ci`): k documents, k in {3, 4, 6, 10, 20, 50}, each with 3-5 questions (uniform,
drawn per document and replication); a document's accuracy p_c ~ Beta(p (1-rho)/rho, (1-p) (1-rho)/rho)
(rho = 0: p_c = p) and its questions' outcomes Bernoulli(p_c), the beta-binomial whose within-document
correlation (ICC) is exactly rho, rho in {0, 0.1, 0.3, 0.5}; true accuracy p in {0.05, 0.2, 0.5, 0.8,
0.95}.

Paired difference (`paired_difference`): two models answer the same questions; model j is right when
u_c + v_q + e_jq < Phi^-1(p_j), with u_c ~ N(0, rho) shared by the document's questions (rho here is
the ICC of the latent scale), v_q ~ N(0, 0.3) shared by both models (a hard question is hard for
both: this is what pairing removes) and e_jq ~ N(0, 0.7 - rho) each model's own; true difference
p_A - p_B, for (p_A, p_B) in a handful of pairs, same k and rho.

The same functions `mean_with_ci` and `paired_difference` call (benchmint.stats.moments,
korn_graubard, mover), run on every replication at once. With 2000 replications a cell's coverage
has a standard error of about 0.5 points (95% coverage), so +-1 point is its own noise. Exit 0 when
every cell, both tables, covers >= 93%; else 1.

--baselines also prints what the choice was measured against: the plain cluster-robust t interval
(CR1 SE, t on k-1 df) on the mean and on the paired differences, and a percentile cluster bootstrap
(400 resamples, k <= 10 only: the few-cluster cells where the choice matters; slower). Each gets the
same bound as benchmint.stats where every value is equal, so that only the interval itself differs;
and benchmint's interval with NCHS's rule where every value is equal (n questions, df-adjusted, in
place of k documents).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from scipy.special import ndtri, stdtrit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmint.stats import Moments, korn_graubard, moments, mover, no_variation  # noqa: E402

KS = (3, 4, 6, 10, 20, 50)
ICCS = (0.0, 0.1, 0.3, 0.5)
PS = (0.05, 0.2, 0.5, 0.8, 0.95)
PAIRS = ((0.5, 0.5), (0.8, 0.5), (0.95, 0.8), (0.95, 0.95), (0.2, 0.05))
SIZES = (3, 5)
"""Questions per document: uniform on this range, inclusive."""
SHARED = 0.3
"""Paired: latent variance of the question effect both models share."""
TARGET = 0.93
BOOT = 400

Interval = Callable[[np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def layout(rng: np.random.Generator, reps: int, k: int) -> np.ndarray:
    """The mask of `reps` replications of k documents, 3-5 questions each, padded to 5."""
    sizes = rng.integers(SIZES[0], SIZES[1] + 1, size=(reps, k))
    return np.arange(SIZES[1])[None, None, :] < sizes[..., None]


def accuracy_sample(rng: np.random.Generator, reps: int, k: int, icc: float, p: float) -> tuple[np.ndarray, ...]:
    mask = layout(rng, reps, k)
    if icc > 0:
        pc = rng.beta(p * (1 - icc) / icc, (1 - p) * (1 - icc) / icc, size=(reps, k))
    else:
        pc = np.full((reps, k), p)
    x = (rng.random(mask.shape) < pc[..., None]).astype(float)
    return x, mask


def paired_sample(rng: np.random.Generator, reps: int, k: int, icc: float, pa: float,
                  pb: float) -> tuple[np.ndarray, ...]:
    mask = layout(rng, reps, k)
    shared = rng.standard_normal((reps, k, 1)) * np.sqrt(icc) + rng.standard_normal(mask.shape) * np.sqrt(SHARED)
    own = np.sqrt(1 - icc - SHARED)
    a = (shared + rng.standard_normal(mask.shape) * own < ndtri(pa)).astype(float)
    b = (shared + rng.standard_normal(mask.shape) * own < ndtri(pb)).astype(float)
    return a, b, mask


# --- baselines (--baselines)

def cluster_t(m: Moments, cr1: np.ndarray, k: int, lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
    """mean +- t_{k-1} CR1 SE, clipped; the no-variation bound where every value is equal."""
    half = stdtrit(k - 1, 0.975) * cr1
    c_lo, c_hi = no_variation(m.mean, m.units, lo, hi)
    return (np.where(m.constant, c_lo, np.clip(m.mean - half, lo, hi)),
            np.where(m.constant, c_hi, np.clip(m.mean + half, lo, hi)))


def nchs_no_variation(m: Moments, k: int, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """benchmint's interval, but where every value is equal NCHS's rule: n questions (df-adjusted),
    not k documents, in the exact bound."""
    units = m.n * (stdtrit(m.n - 1, 0.975) / stdtrit(k - 1, 0.975)) ** 2
    c_lo, c_hi = no_variation(m.mean, units, 0.0, 1.0)
    return np.where(m.constant, c_lo, lo), np.where(m.constant, c_hi, hi)


def cr1_se(x: np.ndarray, mask: np.ndarray) -> np.ndarray:
    k = x.shape[-2]
    x = np.where(mask, x, 0.0)
    sizes = mask.sum(-1)
    n = sizes.sum(-1)
    resid = x.sum(-1) - sizes * (x.sum((-1, -2)) / n)[..., None]
    return np.sqrt(k / (k - 1) * (resid**2).sum(-1)) / n


def bootstrap(rng: np.random.Generator, x: np.ndarray, mask: np.ndarray, m: Moments) -> tuple[np.ndarray, np.ndarray]:
    """Percentile cluster bootstrap of the mean (documents resampled with replacement)."""
    sums, sizes = np.where(mask, x, 0.0).sum(-1), mask.sum(-1)
    reps, k = sums.shape
    lo, hi = np.empty(reps), np.empty(reps)
    for start in range(0, reps, 250):
        part = slice(start, min(reps, start + 250))
        pick = rng.integers(0, k, size=(part.stop - part.start, BOOT, k))
        s = np.take_along_axis(sums[part, None, :], pick, -1).sum(-1)
        n = np.take_along_axis(sizes[part, None, :], pick, -1).sum(-1)
        lo[part], hi[part] = np.quantile(s / n, [0.025, 0.975], axis=-1)
    c_lo, c_hi = no_variation(m.mean, m.units, 0.0, 1.0)
    return np.where(m.constant, c_lo, lo), np.where(m.constant, c_hi, hi)


# --- the runs

def run_accuracy(rng: np.random.Generator, reps: int, baselines: bool) -> dict[str, dict[tuple, tuple[float, float]]]:
    out: dict[str, dict[tuple, tuple[float, float]]] = {"benchmint": {}}
    for k in KS:
        for icc in ICCS:
            for p in PS:
                x, mask = accuracy_sample(rng, reps, k, icc, p)
                m = moments(x, mask)
                found = {"benchmint": korn_graubard(m, 0.0, 1.0)}
                if baselines:
                    found["cluster-t"] = cluster_t(m, cr1_se(x, mask), k, 0.0, 1.0)
                    found["no-variation on n (NCHS)"] = nchs_no_variation(m, k, *found["benchmint"])
                    if k <= 10:
                        found["cluster bootstrap"] = bootstrap(rng, x, mask, m)
                for name, (lo, hi) in found.items():
                    out.setdefault(name, {})[(k, icc, p)] = (float(np.mean((lo <= p) & (p <= hi))),
                                                             float(np.mean(hi - lo)))
    return out


def run_paired(rng: np.random.Generator, reps: int, baselines: bool) -> dict[str, dict[tuple, tuple[float, float]]]:
    out: dict[str, dict[tuple, tuple[float, float]]] = {"benchmint": {}}
    for k in KS:
        for icc in ICCS:
            for pa, pb in PAIRS:
                a, b, mask = paired_sample(rng, reps, k, icc, pa, pb)
                md = moments(a - b, mask)
                found = {"benchmint": mover(moments(a, mask), moments(b, mask), md)}
                if baselines:
                    found["cluster-t"] = cluster_t(md, cr1_se(a - b, mask), k, -1.0, 1.0)
                truth = pa - pb
                for name, (lo, hi) in found.items():
                    out.setdefault(name, {})[(k, icc, (pa, pb))] = (
                        float(np.mean((lo <= truth + 1e-12) & (truth - 1e-12 <= hi))), float(np.mean(hi - lo)))
    return out


def table(cells: dict[tuple, tuple[float, float]], columns: tuple, head: str, label: Callable[[object], str]) -> str:
    rows = [f"| k | {head} | " + " | ".join(label(c) for c in columns) + " |",
            "|---:|---:|" + "---:|" * len(columns)]
    for k in KS:
        for icc in ICCS:
            found = [cells[(k, icc, c)] for c in columns]
            rows.append(f"| {k} | {icc:g} | " + " | ".join(
                f"{'**' if cov < TARGET else ''}{100 * cov:.1f}{'**' if cov < TARGET else ''} ({w:.2f})"
                for cov, w in found) + " |")
    return "\n".join(rows)


def summary(name: str, cells: dict[tuple, tuple[float, float]]) -> str:
    covs = [c for c, _ in cells.values()]
    worst = min(cells, key=lambda key: cells[key][0])
    below = sum(c < TARGET for c in covs)
    return (f"| {name} | {100 * min(covs):.1f} at {worst} | {below} of {len(covs)} | "
            f"{np.mean([w for _, w in cells.values()]):.3f} |")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--baselines", action="store_true", help="also measure plain cluster-t and a cluster bootstrap")
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    t0 = time.perf_counter()
    acc = run_accuracy(rng, args.reps, args.baselines)
    pair = run_paired(rng, args.reps, args.baselines)
    seconds = time.perf_counter() - t0

    print(f"## Coverage of nominal 95% intervals ({args.reps} replications a cell, seed {args.seed})\n")
    print("Cells: coverage % (mean interval width); **bold** below 93%. 3-5 questions per document.\n")
    print("### Accuracy, `mean_with_ci` (columns: true accuracy; ICC of the outcomes)\n")
    print(table(acc["benchmint"], PS, "ICC", lambda p: f"p={p:g}"))
    print("\n### Paired difference, `paired_difference` (columns: p_A - p_B; ICC of the latent scale)\n")
    print(table(pair["benchmint"], PAIRS, "ICC", lambda c: f"{c[0]:g}-{c[1]:g}"))
    print("\n### Summary\n")
    print("| interval | min coverage % at (k, ICC, p) | cells < 93% | mean width |")
    print("|---|---|---:|---:|")
    for name, cells in acc.items():
        print(summary(f"accuracy: {name}", cells))
    for name, cells in pair.items():
        print(summary(f"paired: {name}", cells))
    worst = min(c for cells in (acc["benchmint"], pair["benchmint"]) for c, _ in cells.values())
    ok = worst >= TARGET
    print(f"\nbenchmint's minimum coverage: {100 * worst:.1f}% -> {'PASS' if ok else 'FAIL'} "
          f"(every cell >= {100 * TARGET:.0f}%); {seconds:.0f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
