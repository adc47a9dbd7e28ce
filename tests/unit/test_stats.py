"""benchmint.stats: t on clusters-1 degrees of freedom, bounds that are not zero width when every answer
is the same, paired differences, and a small seeded coverage check."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import t

from benchmint.stats import mean_with_ci, paired_difference

T3 = float(t.ppf(0.975, 3))  # 3.18: four documents


def four_documents(rates: list[float], per: int = 400) -> tuple[list[float], list[str]]:
    """`per` answers from each of four documents, a share `rates[c]` of them right."""
    values, labels = [], []
    for c, rate in enumerate(rates):
        right = round(rate * per)
        values += [1.0] * right + [0.0] * (per - right)
        labels += [f"doc{c}"] * per
    return values, labels


def test_four_documents_take_t_on_three_degrees_of_freedom_not_z():
    values, labels = four_documents([0.45, 0.55, 0.5, 0.5])
    plain = mean_with_ci(values, labels, clip=None)  # unbounded: exactly mean +- t SE
    assert plain.method == "clustered-t" and plain.clusters == 4
    assert (plain.ci_high - plain.ci_low) / 2 == pytest.approx(T3 * plain.se, rel=1e-6)
    e = mean_with_ci(values, labels)
    assert e.method == "korn-graubard" and e.se == pytest.approx(plain.se)
    # far from 0 and 1 the bounded interval is the t one (Clopper-Pearson adds a little); z would be 1.96
    half = (e.ci_high - e.ci_low) / 2 / e.se
    assert T3 <= half <= 1.05 * T3 and half / 1.96 > 1.6
    # the same answers as 1600 separate documents: ~z, so the clustered one is ~t3/1.96 wider
    flat = mean_with_ci(values)
    assert flat.clusters == 1600 and (flat.ci_high - flat.ci_low) / 2 / flat.se < 2.0


def test_clustered_se_is_never_below_the_independent_one():
    values, labels = four_documents([0.5, 0.5, 0.5, 0.5])  # no spread between documents: CR1 SE is 0
    e = mean_with_ci(values, labels)
    assert e.se == pytest.approx((0.25 / 1599) ** 0.5) and e.ci_low < 0.46 and e.ci_high > 0.54


@pytest.mark.parametrize("value", [0.0, 1.0])
def test_every_answer_the_same_is_not_a_zero_width_interval(value):
    docs = [f"d{i // 3}" for i in range(12)]
    e = mean_with_ci([value] * 12, docs)  # 12 answers from 4 documents
    q = 1 - 0.025 ** (1 / 4)  # Clopper-Pearson for 0 differing outcomes in 4 documents
    assert e.method == "no-variation" and e.mean == value and e.se == 0
    assert e.ci_high - e.ci_low == pytest.approx(q)
    if value == 1.0:
        assert e.ci_low < 1 and e.ci_high == 1.0 and e.ci_low == pytest.approx(0.025 ** (1 / 4))
    else:
        assert e.ci_low == 0.0 and e.ci_high > 0
    assert mean_with_ci([1.0] * 12).ci_low == pytest.approx(0.025 ** (1 / 12))  # 12 documents: narrower


def test_fractional_grades_all_equal_bound_both_ways():
    e = mean_with_ci([0.5] * 6, ["a", "a", "b", "b", "c", "c"])
    assert e.ci_low < 0.5 < e.ci_high and e.ci_high - 0.5 == pytest.approx(0.5 - e.ci_low)


def test_values_outside_the_range_are_an_error():
    with pytest.raises(ValueError, match="must lie in"):
        mean_with_ci([0.0, 2.0])
    with pytest.raises(ValueError, match="must lie in"):
        paired_difference([0.0, -1.0], [0.0, 0.0])


def test_paired_difference_takes_t_on_clusters_minus_one():
    a, labels = four_documents([0.45, 0.55, 0.5, 0.5])
    b = list(a)
    # b loses a different share of a's right answers in each document
    for c, lost in enumerate([20, 60, 40, 40]):
        start = c * 400
        b[start:start + lost] = [0.0] * lost
    d = paired_difference(a, b, labels)
    assert d.method == "mover" and d.mean == pytest.approx(0.1) and d.clusters == 4
    half = (d.ci_high - d.ci_low) / 2 / d.se
    assert T3 <= half <= 1.05 * T3  # z (1.96) would be 40% narrower


def test_paired_difference_of_models_that_agree_everywhere_is_not_zero_width():
    docs = [f"d{i // 3}" for i in range(12)]
    same = paired_difference([1, 0, 1] * 4, [1, 0, 1] * 4, docs)
    assert same.mean == 0 and same.method == "no-variation"
    assert same.ci_low == pytest.approx(-(1 - 0.025 ** (1 / 4))) and same.ci_high == -same.ci_low


def test_coverage_of_a_hard_cell_holds():
    """4 documents of 3-5 questions, within-document correlation 0.3, true accuracy 0.9: the case
    z and the CR1 SE covered ~80%."""
    rng = np.random.default_rng(7)
    k, icc, p, reps = 4, 0.3, 0.9, 300
    hits, widths = 0, []
    for _ in range(reps):
        rates = rng.beta(p * (1 - icc) / icc, (1 - p) * (1 - icc) / icc, size=k)
        values, labels = [], []
        for c, rate in enumerate(rates):
            m = int(rng.integers(3, 6))
            values += [float(x) for x in rng.random(m) < rate]
            labels += [str(c)] * m
        e = mean_with_ci(values, labels)
        hits += e.ci_low <= p <= e.ci_high
        widths.append(e.ci_high - e.ci_low)
    assert hits / reps >= 0.90
    assert np.mean(widths) < 0.8  # not by spanning everything


def test_coverage_of_a_paired_cell_holds():
    """6 documents, a strong model against a weaker one whose misses cluster by document."""
    rng = np.random.default_rng(11)
    k, reps, truth = 6, 200, 0.95 - 0.8
    hits = 0
    for _ in range(reps):
        a, b, labels = [], [], []
        for c in range(k):
            m = int(rng.integers(3, 6))
            shared = rng.normal(0, 0.5 ** 0.5) + rng.normal(0, 0.3 ** 0.5, m)
            a += [float(x) for x in shared + rng.normal(0, 0.2 ** 0.5, m) < 1.6449]  # Phi^-1(0.95)
            b += [float(x) for x in shared + rng.normal(0, 0.2 ** 0.5, m) < 0.8416]  # Phi^-1(0.8)
            labels += [str(c)] * m
        d = paired_difference(a, b, labels)
        hits += d.ci_low <= truth <= d.ci_high
    assert hits / reps >= 0.90
