"""Grading of every kind, the judge panel's decision rule, the difficulty band and the statistics: no model."""

from __future__ import annotations

import pytest

from benchmint.stats import mean_with_ci, paired_difference, spearman
from tests.fixtures import make_q, target_results
from validators.answers import extract_letter, parse_bool, token_f1
from validators.difficulty import DifficultyValidator, discrimination
from validators.grading import choice_order, grade, grade_numeric
from validators.judges import Vote, majority
from validators.scoring import TargetRunner


def test_open_answers_exact_match_and_f1_fallback():
    q = make_q("Which town hosts the Korvath repair depot?", "Skarvik")
    assert grade(q, "skarvik.").correct and grade(q, "skarvik.").method == "exact"
    assert grade(q, "It is in Skarvik.").correct  # the gold phrase inside a short reply
    assert not grade(q, "Tromsdal").correct
    q2 = make_q("Who founded Korvath Marine Systems?", "Liesel Abernathy-Okoro")
    g = grade(q2, "Liesel Okoro")  # not exact; no panel: token F1 decides
    assert g.method == "f1" and g.score == pytest.approx(token_f1("Liesel Okoro", "Liesel Abernathy-Okoro"))
    assert not grade(q2, "").correct


def test_numeric_units_and_tolerance():
    q = make_q("How far can the K-12 pump water?", "4.5", "numeric", unit="km", tolerance=0.05)
    assert grade(q, "4.5 km").correct
    assert grade(q, "4,500 metres").correct  # converted to the gold unit
    assert grade(q, "4.54").correct  # no unit: taken in the gold unit, within tolerance
    assert not grade(q, "4.6 km").correct  # outside the tolerance
    assert not grade(q, "4.5 hours").correct  # a different dimension is not the same quantity
    assert grade_numeric("90 minutes", "1.5", "hours")[0]
    assert grade_numeric("12%", "12", "percent")[0]
    assert not grade_numeric("no idea", "12", "")[0]


def test_multiple_choice_is_shuffled_per_target_and_graded_back():
    q = make_q("What does BrineWatch monitor?", "output salinity", "mcq",
               choices=["water temperature", "output salinity", "pump pressure", "membrane age"], gold_index=1)
    orders = {t: choice_order(q, t) for t in ("model-a", "model-b", "model-c", "model-d")}
    assert all(sorted(o) == [0, 1, 2, 3] for o in orders.values())
    assert len({tuple(o) for o in orders.values()}) > 1  # not every target sees the same order
    for target, order in orders.items():
        shown_gold = order.index(1)
        letter = "ABCD"[shown_gold]
        assert grade(q, letter, order).correct, target
        assert grade(q, f"The answer is {letter}.", order).correct
        wrong = "ABCD"[(shown_gold + 1) % 4]
        assert not grade(q, wrong, order).correct
        assert grade(q, "output salinity", order).correct  # the choice's text, not its letter
    assert extract_letter("A lot of it", ["a", "b", "c", "d"]) is None  # a word is not a letter


def test_true_false():
    q = make_q("True or false: The K-12 weighs 610 kilograms dry.", "True", "tf", choices=["True", "False"],
               gold_index=0, rationale="The K-12 weighs 610 kilograms dry.")
    assert grade(q, "True").correct and grade(q, "yes, that is right").correct
    assert not grade(q, "False.").correct
    assert not grade(q, "I cannot tell").correct
    assert parse_bool("The statement is false") is False


def test_majority_and_tie_rules():
    yes, no, gone = Vote("a", True), Vote("b", False), Vote("c", None, error="down")
    assert majority([yes, Vote("x", True), no]).decision is True
    assert majority([no, Vote("x", False), yes]).decision is False
    tie = majority([yes, no])
    assert tie.tie and tie.decision is None and (tie.yes, tie.no) == (1, 1)
    d = majority([yes, gone])  # a missing vote does not count; the one cast decides
    assert d.decision is True and d.missing == 1
    assert majority([gone]).tie  # nothing cast: a tie, for the caller's fallback
    d = majority([yes, no, gone])
    assert d.tie and d.as_dict()["votes"][2]["error"] == "down"


def test_panel_tie_falls_back_to_token_f1():
    q = make_q("Who founded Korvath Marine Systems?", "Liesel Abernathy-Okoro")

    class Split:  # the panel's decision rule, with the decision fixed to a tie
        names = ["a", "b"]

        def answer_is_correct(self, *a):
            return majority([Vote("a", True), Vote("b", False)])

    g = grade(q, "Liesel Abernathy", panel=Split())
    assert g.method == "f1" and g.correct is True and g.panel["tie"] is True and "tie" in g.detail




def test_band_filter_and_discrimination():
    v = DifficultyValidator(TargetRunner([]), band=(0.1, 0.8), panel=None)
    strength = {"t0": 0.9, "t1": 0.5, "t2": 0.2, "t3": 0.1}
    q = make_q("Which warehouse stocks K-12 cartridges?", "Tromsdal")
    easy = v.verdict_for(q, target_results(True, True, True, True), strength)
    assert not easy.passed and easy.reason.startswith("too easy")
    hard = v.verdict_for(q, target_results(False, False, False, False), strength)
    assert not hard.passed and hard.reason.startswith("too hard")
    mid = v.verdict_for(q, target_results(True, True, False, False), strength)
    assert mid.passed and q.pass_rate == 0.5 and q.discrimination == 1.0  # the strong half right, the weak wrong
    inverse = v.verdict_for(q, target_results(False, False, True, True), strength)
    assert inverse.passed and q.discrimination == -1.0
    missing = v.verdict_for(q, target_results(True, None, False, None), strength)
    assert missing.passed and q.pass_rate == 0.5 and missing.evidence["missing"] == 2
    none = v.verdict_for(q, target_results(None, None), strength)
    assert not none.passed and "not measured" in none.reason
    assert discrimination(target_results(True), strength) is None
    wide = DifficultyValidator(TargetRunner([]), band=(0.0, 1.0))
    assert wide.verdict_for(q, target_results(True, True), strength).passed


def test_clustered_intervals_and_paired_differences():
    flat = mean_with_ci([1, 0, 1, 0, 1, 0, 1, 0], [str(i) for i in range(8)])
    clustered = mean_with_ci([1, 1, 1, 1, 0, 0, 0, 0], ["a", "a", "a", "a", "b", "b", "c", "c"])
    assert flat.mean == clustered.mean == 0.5 and flat.method == clustered.method == "korn-graubard"
    assert clustered.se > flat.se  # correlated within documents: wider
    assert flat.ci_low < 0.5 < flat.ci_high and 0 <= clustered.ci_low and clustered.ci_high <= 1
    one = mean_with_ci([1, 0, 1], ["a", "a", "a"])
    assert one.method == "independent" and one.se > 0  # one document: the questions taken as independent
    d = paired_difference([1, 1, 1, 0], [0, 1, 0, 0], ["a", "b", "c", "d"])
    assert d.mean == 0.5 and d.ci_low < 0.5 < d.ci_high
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
