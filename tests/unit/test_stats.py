"""benchmint.stats: t on clusters-1 degrees of freedom, bounds that are not zero width when every answer
is the same, paired differences, differences of two samples paired by shared clusters, and small seeded
coverage checks."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import t

from benchmint.stats import clustered_difference, mean_with_ci, paired_difference

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


def mover_by_hand(a: list[float], ca: list[str], b: list[float], cb: list[str], var: float) -> tuple[float, float]:
    """MOVER on each mean's own interval, with the correlation `var` (the difference's variance) implies."""
    ea, eb = mean_with_ci(a, ca), mean_with_ci(b, cb)
    r = (ea.se ** 2 + eb.se ** 2 - var) / (2 * ea.se * eb.se)
    d = ea.mean - eb.mean
    da, db = ea.mean - ea.ci_low, eb.ci_high - eb.mean
    low = d - (da * da + db * db - 2 * r * da * db) ** 0.5
    da, db = ea.ci_high - ea.mean, eb.mean - eb.ci_low
    return low, d + (da * da + db * db - 2 * r * da * db) ** 0.5


# two rounds of 9 questions from the chunks x, y, z, w; round a passes where round b fails, chunk by chunk
A, CA = [1, 1, 0.5, 0.5, 1, 0, 0.5, 1, 0.5], list("xxxyyzzww")
B, CB = [0, 0.5, 0, 0, 0.5, 0.5, 1, 0, 0.5], list("xxyyyzzww")


def test_a_difference_over_shared_chunks_by_hand():
    d = clustered_difference(A, CA, B, CB)
    # mean_a 2/3, mean_b 1/3; each chunk's influence sum_a (a - 2/3)/9 - sum_b (b - 1/3)/9:
    # x: (1/3 + 1/3 - 1/6)/9 - (-1/3 + 1/6)/9 = 2/27; y: 2/27; z: -5/27; w: 1/27
    var = 4 / 3 * (2 ** 2 + 2 ** 2 + 5 ** 2 + 1 ** 2) / 27 ** 2  # G/(G-1) sum u^2, G = 4
    independent = np.var(A, ddof=1) / 9 + np.var(B, ddof=1) / 9
    assert var > 2 * independent  # the chunks pull the rounds apart: more variance than independent questions
    assert d.mean == pytest.approx(1 / 3) and d.se == pytest.approx(var ** 0.5)
    assert (d.n, d.clusters, d.method) == (18, 4, "mover")
    assert (d.ci_low, d.ci_high) == pytest.approx(mover_by_hand(A, CA, B, CB, var))
    assert d.ci_low < 0 < d.ci_high


def test_the_difference_is_never_below_the_independent_variance():
    # the same chunks make both rounds high or low together: CR1 ~0, the independent variance stays
    a, b = [1, 1, 0, 0, 1, 1, 0, 0], [1, 0.5, 0, 0, 1, 0.5, 0, 0]
    c = list("xxyyzzww")
    d = clustered_difference(a, c, b, c)
    independent = np.var(a, ddof=1) / 8 + np.var(b, ddof=1) / 8
    assert d.se == pytest.approx(independent ** 0.5)


def test_disjoint_chunks_are_two_independent_clustered_means():
    a, ca = four_documents([0.45, 0.55, 0.5, 0.5], per=50)
    b, cb = four_documents([0.3, 0.2, 0.25, 0.35], per=50)
    cb = [f"other-{c}" for c in cb]
    d = clustered_difference(a, ca, b, cb)
    ea, eb = mean_with_ci(a, ca), mean_with_ci(b, cb)
    assert d.clusters == 8 and d.mean == pytest.approx(ea.mean - eb.mean)
    # each sample's clusters alone in their influence terms: the two variances add (G/(G-1) on the union)
    assert d.se ** 2 == pytest.approx(ea.se ** 2 + eb.se ** 2, rel=0.2)
    half = ((ea.mean - ea.ci_low) ** 2 + (eb.ci_high - eb.mean) ** 2) ** 0.5  # MOVER with no correlation
    assert d.mean - d.ci_low == pytest.approx(half, rel=0.1)


def test_identical_samples_differ_by_nothing_inside_an_interval():
    d = clustered_difference(A, CA, A, CA)
    assert d.mean == 0 and d.ci_low < 0 < d.ci_high and d.method == "mover"
    assert d.ci_high == pytest.approx(-d.ci_low)


def test_one_chunk_takes_the_questions_as_independent():
    a, b = [1, 0, 1, 1, 0.5], [0, 0.5, 0, 1]
    d = clustered_difference(a, ["c"] * 5, b, ["c"] * 4)
    assert d.clusters == 1 and d.method == "independent"
    assert d.se == pytest.approx((np.var(a, ddof=1) / 5 + np.var(b, ddof=1) / 4) ** 0.5)
    assert d.ci_low < d.mean < d.ci_high


def test_constant_samples_take_each_rounds_exact_bound():
    docs = [f"d{i // 3}" for i in range(12)]  # 12 questions from 4 chunks in each round
    q = 1 - 0.025 ** (1 / 4)
    d = clustered_difference([1.0] * 12, docs, [0.0] * 12, docs)
    assert d.method == "no-variation" and d.mean == 1 and d.se == 0
    assert d.ci_high == 1 and d.ci_low == pytest.approx(1 - (2 * q * q) ** 0.5)
    same = clustered_difference([1.0] * 12, docs, [1.0] * 12, docs)
    assert same.mean == 0 and same.ci_low == pytest.approx(-q) and same.ci_high == pytest.approx(q)
    # one round constant, the other not: still an interval around the difference
    mixed = clustered_difference([1.0] * 12, docs, [1, 0, 0.5] * 4, docs)
    assert mixed.method == "mover" and mixed.ci_low < mixed.mean == 0.5 < mixed.ci_high <= 1


def test_a_difference_of_nothing_or_out_of_range_values():
    assert clustered_difference([], [], [0.5], ["c"]).method == "none"
    with pytest.raises(ValueError, match="must lie in"):
        clustered_difference([2.0], ["c"], [0.5], ["c"])
    with pytest.raises(ValueError, match="cluster labels"):
        clustered_difference([1.0, 0.0], ["c"], [0.5], ["c"])


def test_coverage_of_two_rounds_over_shared_chunks_holds():
    """10 chunks; each round draws 20-29 questions from them, scored by two targets; a chunk is easier or
    harder in each round on its own (sd 1.5 on the latent scale), so questions of a chunk are alike within
    a round: the independent interval covers ~80%."""
    from scipy.stats import norm

    rng = np.random.default_rng(5)
    g, sd, reps, mu = 10, 1.5, 300, (0.5, -0.3)
    truth = float(norm.cdf(mu[0] / (1 + sd ** 2) ** 0.5) - norm.cdf(mu[1] / (1 + sd ** 2) ** 0.5))
    hits = naive = 0

    def one_round(m: float) -> tuple[list[float], list[str]]:
        effect = rng.normal(0, sd, g)
        chunk = rng.integers(0, g, int(rng.integers(20, 30)))
        right = rng.random((len(chunk), 2)) < norm.cdf(m + effect[chunk])[:, None]
        return [float(x) for x in right.mean(1)], [f"c{c}" for c in chunk]

    for _ in range(reps):
        (a, ca), (b, cb) = one_round(mu[0]), one_round(mu[1])
        d = clustered_difference(a, ca, b, cb)
        hits += d.ci_low <= truth <= d.ci_high
        flat = clustered_difference(a, None, b, None)
        naive += flat.ci_low <= truth <= flat.ci_high
    assert 0.92 <= hits / reps <= 0.99
    assert naive / reps < 0.88
