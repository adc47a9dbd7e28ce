"""Grading of every kind, the judge panel's rules, the closed-book and difficulty validators,
and a target that goes down mid-run. Model calls go to a real llama.cpp server (SmolLM2)."""

from __future__ import annotations

import pytest

from benchmint.llm import ModelClient
from benchmint.local_server import LocalServer
from benchmint.modelspec import ModelSpec
from benchmint.records import Citation, Question, question_id
from benchmint.response_cache import ResponseCache
from benchmint.stats import mean_with_ci, paired_difference, spearman
from benchmint.usage import UsageBook
from validators.answerability import AnswerabilityValidator
from validators.answers import extract_letter, parse_bool, token_f1
from validators.base import Context
from validators.difficulty import DifficultyValidator, discrimination
from validators.grading import choice_order, grade, grade_numeric
from validators.judges import JudgePanel, Vote, majority
from validators.scoring import TargetResult, TargetRunner


def make_q(question: str, answer: str, kind: str = "open", **kw) -> Question:
    return Question(id=question_id(question, answer), question=question, answer=answer, kind=kind,
                    citations=[Citation(quote="x", chunk_id="c", document_id="d")], document_ids=["d"],
                    chunk_ids=["c"], generator_model="test", prompt_id="p", prompt_version="1", **kw)


# --------------------------------------------------------------------------- grading


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


# --------------------------------------------------------------------------- the panel's rules


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


def test_real_panel_with_a_dead_judge_counts_the_missing_vote(smollm_client, tmp_path):
    dead = ModelClient(ModelSpec(model="judge-x", base_url="http://127.0.0.1:9/v1", max_retries=1), "judge2",
                       UsageBook(), ResponseCache(tmp_path / "r"))
    panel = JudgePanel([smollm_client, dead])
    d = panel.answer_is_correct("What is the capital of France?", "Paris", "Paris")
    assert d.missing == 1 and panel.missing_votes == 1
    assert len(d.votes) == 2 and d.votes[1].verdict is None and "cannot reach" in d.votes[1].error
    cast = d.votes[0].verdict
    assert isinstance(cast, bool) and d.decision is cast  # the one vote cast decides
    assert d.votes[0].judge == smollm_client.spec.label


# --------------------------------------------------------------------------- validators on real targets


def test_closed_book_rejects_what_targets_know_from_memory(smollm_client, embedder):
    runner = TargetRunner([smollm_client])
    known = make_q("What is the capital city of France?", "Paris")
    fictional = make_q("What salinity in parts per million makes Korvath BrineWatch raise an alarm?", "480",
                       "numeric", unit="parts per million", tolerance=0.5)
    v = AnswerabilityValidator(runner, max_pass_rate=0.5, mode="reject")
    ctx = Context(config=None, embedder=embedder)
    known_v, fictional_v = v.check([known, fictional], ctx)
    assert not known_v.passed and known_v.blocking and "memory" in known_v.reason
    assert known_v.evidence["results"][0]["reply"] and known_v.evidence["closed_book_pass_rate"] == 1.0
    # a reply SmolLM2 could not give as JSON leaves the question unmeasured, which passes (never rejected)
    assert fictional_v.passed and fictional_v.evidence["closed_book_pass_rate"] in (0.0, None)
    calls = smollm_client.usage.as_dict()["generator"]["calls"]
    assert calls >= 2  # one reply per question, and a repair try for a reply that was not JSON
    tagged = AnswerabilityValidator(runner, mode="tag").check([known], ctx)[0]
    assert not tagged.passed and not tagged.blocking  # tag: kept, marked
    assert smollm_client.usage.as_dict()["generator"]["calls"] == calls  # the runner remembered the replies


def _results(*correct: bool | None) -> list[TargetResult]:
    return [TargetResult(f"t{i}", "with_document", None if c is None else "x", c, "exact" if c is not None else "missing")
            for i, c in enumerate(correct)]


def test_band_filter_and_discrimination():
    v = DifficultyValidator(TargetRunner([]), band=(0.1, 0.8), panel=None)
    strength = {"t0": 0.9, "t1": 0.5, "t2": 0.2, "t3": 0.1}
    q = make_q("Which warehouse stocks K-12 cartridges?", "Tromsdal")
    easy = v.verdict_for(q, _results(True, True, True, True), strength)
    assert not easy.passed and easy.reason.startswith("too easy")
    hard = v.verdict_for(q, _results(False, False, False, False), strength)
    assert not hard.passed and hard.reason.startswith("too hard")
    mid = v.verdict_for(q, _results(True, True, False, False), strength)
    assert mid.passed and q.pass_rate == 0.5 and q.discrimination == 1.0  # the strong half right, the weak wrong
    inverse = v.verdict_for(q, _results(False, False, True, True), strength)
    assert inverse.passed and q.discrimination == -1.0
    missing = v.verdict_for(q, _results(True, None, False, None), strength)
    assert missing.passed and q.pass_rate == 0.5 and missing.evidence["missing"] == 2
    none = v.verdict_for(q, _results(None, None), strength)
    assert not none.passed and "not measured" in none.reason
    assert discrimination(_results(True), strength) is None
    wide = DifficultyValidator(TargetRunner([]), band=(0.0, 1.0))
    assert wide.verdict_for(q, _results(True, True), strength).passed


def test_unanswered_question_goes_to_the_panel_for_a_wrong_gold(smollm_client):
    panel = JudgePanel([smollm_client])
    v = DifficultyValidator(TargetRunner([]), band=(0.0, 1.0), panel=panel)
    q = make_q("How many cartridges does the Tromsdal warehouse keep at minimum?", "36", "numeric", tolerance=0.5)
    q.citations = [Citation(quote="the Tromsdal warehouse keeps a minimum stock of 36 cartridges",
                            chunk_id="c", document_id="d")]
    verdict = v.verdict_for(q, _results(False, False), {})
    gold = verdict.evidence["gold_check"]
    assert len(gold["votes"]) == 1 and isinstance(gold["votes"][0]["verdict"], bool)
    # kept as hard when the panel upholds the gold, rejected when it finds it wrong
    assert verdict.passed == (gold["decision"] is not False)
    # a wrong gold makes a bad question, not a hard one: no pass rate counts it
    assert (q.pass_rate is None) == (gold["decision"] is False) and verdict.evidence["pass_rate"] == 0.0


def test_a_target_that_goes_down_mid_run_is_retried_then_missing(smollm_gguf, tmp_path):
    server = LocalServer(smollm_gguf, n_ctx=1024, log_path=tmp_path / "down.log").start()
    client = ModelClient(ModelSpec(model="local:smollm2-135m", max_retries=2), "target1", UsageBook(), None,
                         base_url=server.base_url, identity="local:smollm2-down-test")
    runner = TargetRunner([client])
    first = make_q("What colour is a clear daytime sky?", "blue")
    second = make_q("What is two plus two?", "4", "numeric")
    try:
        assert runner.run([first], "closed_book", {})[first.id][0].reply is not None
    finally:
        server.stop()
    r = runner.run([second], "closed_book", {})[second.id][0]
    assert r.correct is None and r.method == "missing" and "after 3 tries" in r.error
    assert runner.missing == 1 and client.usage.as_dict()["target1"]["retries"] == 2


# --------------------------------------------------------------------------- statistics


def test_clustered_intervals_and_paired_differences():
    flat = mean_with_ci([1, 0, 1, 0, 1, 0, 1, 0], [str(i) for i in range(8)])
    clustered = mean_with_ci([1, 1, 1, 1, 0, 0, 0, 0], ["a", "a", "a", "a", "b", "b", "c", "c"])
    assert flat.mean == clustered.mean == 0.5 and flat.method == clustered.method == "clustered"
    assert clustered.se > flat.se  # correlated within documents: wider
    assert flat.ci_low < 0.5 < flat.ci_high and 0 <= clustered.ci_low and clustered.ci_high <= 1
    one = mean_with_ci([1, 0, 1], ["a", "a", "a"])
    assert one.method == "clt" and one.se > 0
    d = paired_difference([1, 1, 1, 0], [0, 1, 0, 0], ["a", "b", "c", "d"])
    assert d.mean == 0.5 and d.ci_low < 0.5 < d.ci_high
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
