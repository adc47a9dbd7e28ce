"""Grading of every kind, the judge panel's rules, the closed-book and difficulty validators,
and a target that goes down mid-run. Model calls go to a real llama.cpp server (SmolLM2)."""

from __future__ import annotations

from benchmint.llm import ModelClient
from benchmint.local_server import LocalServer
from benchmint.modelspec import ModelSpec
from benchmint.records import Citation
from benchmint.response_cache import ResponseCache
from benchmint.usage import UsageBook
from tests.fixtures import make_q, target_results
from validators.answerability import AnswerabilityValidator
from validators.base import Context
from validators.difficulty import DifficultyValidator
from validators.judges import JudgePanel
from validators.scoring import TargetRunner

# --------------------------------------------------------------------------- grading










# --------------------------------------------------------------------------- the panel's rules






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






def test_unanswered_question_goes_to_the_panel_for_a_wrong_gold(smollm_client):
    panel = JudgePanel([smollm_client])
    v = DifficultyValidator(TargetRunner([]), band=(0.0, 1.0), panel=panel)
    q = make_q("How many cartridges does the Tromsdal warehouse keep at minimum?", "36", "numeric", tolerance=0.5)
    q.citations = [Citation(quote="the Tromsdal warehouse keeps a minimum stock of 36 cartridges",
                            chunk_id="c", document_id="d")]
    verdict = v.verdict_for(q, target_results(False, False), {})
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


