"""The Prefect-free core (pipeline/): the refresh rules, the round planner, the ordered concurrent
steps, the chain built by name, the manifest and summary records and their markdown. No model, no
Prefect: real records and real threads."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from benchmint.config import BuildConfig
from benchmint.errors import ConfigError, EndpointDown
from benchmint.modelspec import ModelSpec
from benchmint.pool import ModelPool
from benchmint.records import Chunk, Citation, Document, Question, Verdict, question_id
from generators.adaptive import RoundPlan
from generators.shapes import ShapeRate
from pipeline.budget import percent_done, question_stop
from pipeline.concurrent import run_in_plan_order
from pipeline.records import BuildSummary, RoundDrop, RoundRecord, StepOutcome
from pipeline.refresh import diff_documents, nothing_to_recheck, refresh_fingerprint, retire_rule
from pipeline.report import summary_markdown
from pipeline.rounds import RoundLoop, round_drop
from pipeline.selection import choose
from pipeline.steps import as_generation_steps, interleave, plan_steps, step_name
from pipeline.wiring import Direct
from validators.base import ChainTools, Context
from validators.chain import DEFAULT_CHAIN, ValidatorChain, build_chain
from validators.scoring import TargetResult

PUMP = "The Orrin-7 pump delivers 340 litres per minute at full speed and 12 litres per minute at idle."
SEAL = "Maintenance crews replace the Orrin-7 seals every 1,800 operating hours."


def doc(i: str, text: str, title: str = "") -> Document:
    return Document(id=i, title=title or f"Doc {i}", source=f"{i}.md", text=text, format="md")


def chunk(d: Document, index: int = 0) -> Chunk:
    return Chunk(id=f"{d.id}-c{index}", document_id=d.id, index=index, start=0, end=len(d.text), text=d.text,
                 n_tokens=20)


def question(text: str, answer: str, d: Document, pass_rate: float | None = None) -> Question:
    return Question(id=question_id(text, answer), question=text, answer=answer, kind="open",
                    citations=[Citation(quote=d.text[:40], chunk_id=f"{d.id}-c0", document_id=d.id)],
                    document_ids=[d.id], chunk_ids=[f"{d.id}-c0"], generator_model="m", prompt_id="single_hop",
                    prompt_version="1", pass_rate=pass_rate)


def result(target: str, correct: bool | None) -> TargetResult:
    return TargetResult(target=target, mode="with_document", reply=None if correct is None else "x",
                        correct=correct, method="exact")


# --------------------------------------------------------------------------- refresh rules


def test_the_retire_rule_retires_contaminated_and_saturated_questions_only():
    d = doc("a", PUMP)
    clean, dirty, easy, mixed, unmeasured = (question(f"Question {n} about the pump?", n, d) for n in "abcde")
    contamination = [Verdict(validator="contamination", passed=True), Verdict(validator="contamination", passed=False,
                     reason="matches mmlu item 12"), None, None, None]
    results = {easy.id: [result("t1", True), result("t2", True), result("t3", None)],  # a missing reply is not a vote
               mixed.id: [result("t1", True), result("t2", False)],
               unmeasured.id: [result("t1", None)]}
    kept, retired = retire_rule([clean, dirty, easy, mixed, unmeasured], contamination, results)
    assert [q.id for q in kept] == [clean.id, mixed.id, unmeasured.id]
    assert [q.id for q in retired] == [dirty.id, easy.id]
    assert retired[0].retired_reason == "contaminated: matches mmlu item 12"
    assert retired[1].retired_reason == "saturated: every target answers it (t1, t2)"
    assert dirty.retired_reason == ""  # the published record is not changed in place


def test_the_document_diff_retires_questions_of_changed_documents_and_writes_only_from_new_ones():
    a, b, b2, c = doc("a", PUMP), doc("b", SEAL), doc("b2", SEAL + " Edited."), doc("c", "A new page.")
    manifest = {"sources": {"documents": [{"id": "a", "title": "Pump", "source": "pump.md"},
                                          {"id": "b", "title": "Seals", "source": "seals.md"}]}}
    qa, qb = question("How fast is the pump?", "340", a), question("When are seals replaced?", "1,800 hours", b)
    diff = diff_documents(manifest, [a, b2, c], [qa, qb])
    assert diff.new == {"b2", "c"} and set(diff.gone) == {"b"} and diff.changed
    assert diff.keep == [qa]
    assert [q.id for q in diff.retire] == [qb.id]
    assert diff.retire[0].retired_reason == "its document 'Seals' (seals.md) was removed or changed"
    same = diff_documents(manifest, [a, b], [qa, qb])
    assert not same.changed and same.keep == [qa, qb] and not same.retire


def test_the_fingerprint_follows_targets_and_corpus_files_and_decides_nothing_to_recheck(tmp_path):
    ref = tmp_path / "ref.jsonl"
    ref.write_text('{"question": "q", "answer": "a"}\n')
    cfg = BuildConfig(name="t", sources=["x"], cache_dir=str(tmp_path / "cache"),
                      contamination={"references": [str(ref)]})
    fp = refresh_fingerprint(cfg)
    assert fp == refresh_fingerprint(cfg.model_copy())
    other = cfg.model_copy(update={"models": cfg.models.model_copy(update={
        "targets": [ModelSpec(model="m", base_url="http://127.0.0.1:1/v1")]})})
    assert refresh_fingerprint(other) != fp
    ref.write_text('{"question": "q", "answer": "a"}\n{"question": "q2", "answer": "b"}\n')  # the corpus grew
    assert refresh_fingerprint(cfg) != fp
    d = doc("a", PUMP)
    manifest = {"sources": {"documents": [{"id": "a", "title": "Pump", "source": "pump.md"}]},
                "refresh_fingerprint": refresh_fingerprint(cfg)}
    assert nothing_to_recheck(diff_documents(manifest, [d], []), manifest, cfg)
    assert not nothing_to_recheck(diff_documents(manifest, [d, doc("b", SEAL)], []), manifest, cfg)
    assert not nothing_to_recheck(diff_documents(manifest, [d], []), manifest, other)


# --------------------------------------------------------------------------- round planning


def test_round_planning_interleaves_documents_and_spreads_multi_hop_steps():
    a, b = doc("a", PUMP, "Pump manual"), doc("b", SEAL, "Seal notes")
    chunks = interleave([a, b], [chunk(a, 0), chunk(a, 1), chunk(a, 2), chunk(b, 0)])
    assert [c.id for c in chunks] == ["a-c0", "b-c0", "a-c1", "a-c2"]
    pairs = {c.id: chunks[(i + 1) % 4] for i, c in enumerate(chunks)}
    plan = RoundPlan(kinds=["open", "mcq"], multi_hop=0.5)
    planned = plan_steps(chunks, plan, pairs)
    assert [k for _, k, _ in planned] == ["multi_hop", "open", "multi_hop", "mcq"]
    assert planned[0][2].id == "b-c0" and planned[1][2] is None
    plan.focus = "The targets miss units."
    asked = question("How fast is the pump at idle?", "12", a)
    steps = as_generation_steps(planned, {"a": a, "b": b}, 1, plan, [asked])
    assert [s.hops for s in steps] == [2, 1, 2, 1]
    assert steps[0].documents == [a, b] and steps[0].round == 1
    assert "The targets miss units." in steps[1].focus
    assert "How fast is the pump at idle?" in steps[0].focus  # a-c0 was asked about already
    assert "How fast is the pump at idle?" not in steps[1].focus  # b-c0 was not
    assert as_generation_steps(planned, {"a": a, "b": b}, 0, plan, [asked])[0].focus == ""  # round 0: no focus
    assert step_name(steps[0]) == "generate-r1-pump-manual-c0+seal-notes-c0"
    assert step_name(steps[1]) == "generate-r1-seal-notes-c0"


# --------------------------------------------------------------------------- concurrent steps


def test_steps_run_at_most_max_workers_at_once_and_come_back_in_plan_order():
    running, peak, lock = 0, 0, threading.Lock()
    finished: list[int] = []

    def work(i: int) -> int:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.05 * (8 - i))  # later steps finish first
        with lock:
            running -= 1
            finished.append(i)
        return i * i

    seen: list[int] = []
    out = run_in_plan_order(list(range(8)), work, 3, lambda s, r: seen.append(s))
    assert out == [i * i for i in range(8)] and seen == list(range(8))
    assert peak == 3
    assert finished != sorted(finished)  # they did finish out of order


def test_a_stop_mid_batch_cancels_the_steps_not_started_and_lets_running_ones_finish():
    started: list[int] = []
    done: list[int] = []
    lock = threading.Lock()

    def work(i: int) -> int:
        with lock:
            started.append(i)
        time.sleep(0.05)
        with lock:
            done.append(i)
        return i

    def breaker(step: int, r: int) -> None:
        if step == 1:
            raise EndpointDown("model endpoint x failed 2 steps in a row")

    with pytest.raises(EndpointDown):
        run_in_plan_order(list(range(20)), work, 2, breaker)
    assert sorted(done) == sorted(started)  # nothing left running behind the caller's back
    assert len(started) < 20  # the rest never started


def test_ctrl_c_mid_batch_returns_without_waiting_for_the_running_steps():
    release = threading.Event()  # the running step's model call: it ends only when the caller lets it
    finished: list[int] = []

    def work(i: int) -> int:
        if i == 1:
            release.wait(30)
        finished.append(i)
        return i

    def interrupted(step: int, r: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_in_plan_order([0, 1, 2, 3], work, 2, interrupted)
    assert not release.is_set() and 1 not in finished  # back before the running step ended
    release.set()


def test_one_worker_runs_in_the_callers_thread():
    caller = threading.get_ident()
    assert run_in_plan_order([1, 2], lambda s: threading.get_ident(), 1) == [caller, caller]


# --------------------------------------------------------------------------- the chain by name


def test_the_chain_is_built_by_name_and_leaves_out_what_the_config_switches_off():
    cfg = BuildConfig(name="t", sources=["x"], contamination={"enabled": False})
    chain = build_chain(DEFAULT_CHAIN, ChainTools(config=cfg))  # no targets: nothing to measure with
    assert [v.name for v in chain.per_question] == ["grounding", "quality"]
    assert [v.name for v in chain.on_survivors] == ["dedup"]
    assert chain.get("dedup") is chain.on_survivors[0] and chain.get("difficulty") is None
    with pytest.raises(ConfigError, match="unknown validator 'grounded'; the registered ones are answerability"):
        build_chain(["grounded"], ChainTools(config=cfg))


# --------------------------------------------------------------------------- records


def test_questions_beyond_the_count_are_rejected_with_a_budget_verdict():
    d = doc("a", PUMP)
    qs = [question(f"Pump question {i}?", str(i), d) for i in range(5)]
    accepted, rejected, selection = choose(list(qs), 3, adaptive=False)
    assert accepted == qs[:3] and rejected == qs[3:] and selection is None
    assert rejected[0].verdicts[-1].validator == "budget" and not rejected[0].passed()
    assert rejected[0].verdicts[-1].reason == "passed every validator, beyond the requested 3 questions"


def test_an_adaptive_build_publishes_the_most_telling_questions_of_every_round():
    d = doc("a", PUMP)
    qs = [question(f"Pump question {i}?", str(i), d) for i in range(6)]
    # (round, pass rate, discrimination): round 0 easy and flat, later rounds harder and telling
    facts = [(0, 0.75, 0.0), (0, 0.5, 0.0), (1, 0.5, 1.0), (1, None, None), (2, 0.25, 0.5), (2, 0.5, 0.5)]
    for q, (r, rate, disc) in zip(qs, facts):
        q.round, q.pass_rate, q.discrimination = r, rate, disc
    accepted, rejected, selection = choose(list(qs), 3, adaptive=True)
    assert accepted == [qs[2], qs[4], qs[5]]  # generation order
    assert selection.chosen == [qs[2].id, qs[4].id, qs[5].id]  # the most discriminating, then the hardest
    assert rejected == [qs[1], qs[0], qs[3]]  # unmeasured last
    assert selection.chosen_by_round == {1: 1, 2: 2} and selection.offered_by_round == {0: 2, 1: 2, 2: 2}
    assert selection.offered == 6 and selection.wanted == 3
    assert all(q.verdicts[-1].validator == "budget" and "not among the 3 chosen" in q.verdicts[-1].reason
               for q in rejected)
    fewer, none_left, _ = choose(list(qs[:2]), 3, adaptive=True)
    assert fewer == qs[:2] and none_left == []


def test_only_a_one_round_build_stops_at_the_question_count():
    assert question_stop(10, 1, 10) == "10 questions accepted"
    assert question_stop(10, 1, 9) == ""
    assert question_stop(10, 3, 25) == ""  # every round runs; the published set is chosen after


def test_progress_counts_rounds_in_an_adaptive_build_and_accepted_questions_in_one_round():
    assert percent_done(10, 5, 1, 0, 3, 8) == 50.0
    assert percent_done(10, 14, 1, 0, 8, 8) == 100.0
    # three rounds: round 0 with its question count already accepted is a third of the build, not all of it
    assert percent_done(10, 10, 3, 0, 8, 8) == 100.0 / 3
    assert percent_done(10, 12, 3, 1, 4, 8) == 50.0
    assert percent_done(10, 30, 3, 2, 8, 8) == 100.0
    assert percent_done(10, 0, 3, 1, 0, 0) == 200.0 / 3


def test_round_records_keep_the_adaptive_keys_only_for_adaptive_rounds():
    first = RoundRecord(round=0, generated=4, accepted=2, rejected=2, mean_target_pass_rate=None)
    assert set(first.as_dict()) == {"round", "generated", "accepted", "rejected", "rejected_by_validator", "chunks",
                                    "mean_target_pass_rate", "measured", "pass_rate_ci", "completion_tokens", "passes"}
    rate = ShapeRate(n=4, mean=0.5, ci=[0.2, 0.8], status="kept")
    later = first.model_copy(update={"round": 1, "patterns": ["units"], "kinds": ["mcq"], "multi_hop": 0.0,
                                     "shape_pass_rates": {"mcq": rate}})
    assert later.as_dict()["patterns"] == ["units"] and "error" not in later.as_dict()
    assert later.as_dict()["shape_pass_rates"] == {"mcq": {"n": 4, "mean": 0.5, "ci": [0.2, 0.8], "status": "kept"}}
    assert later.brief() == {"round": 1, "generated": 4, "accepted": 2, "mean_target_pass_rate": None,
                               "measured": 0, "pass_rate_ci": None}


def test_the_summary_renders_as_markdown_with_what_was_skipped_and_spent():
    s = BuildSummary(name="pumps", accepted=3, rejected=5, generated=8, chunks_used=4, chunks=6,
                     rejections_by_validator={"quality": 1, "grounding": 4},
                     rounds=[{"round": 0, "generated": 8, "accepted": 3, "mean_target_pass_rate": 0.25,
                               "measured": 6, "pass_rate_ci": [0.1, 0.4]}],
                     missing={"target_replies": 2, "judge_votes": 0},
                     skipped=[{"source": "/docs/caf\udce9.md", "reason": "not UTF-8"}],
                     token_usage={"generator": {"calls": 4, "cache_hits": 1, "prompt_tokens": 900,
                                                "completion_tokens": 300}})
    md = summary_markdown(s, "published outputs/pumps/v1")
    lines = md.splitlines()
    assert lines[0] == "# benchmint build: pumps" and "**published outputs/pumps/v1**" in lines
    assert "| 3 | 5 | 8 | 4 / 6 |" in lines
    assert lines.index("| grounding | 4 |") < lines.index("| quality | 1 |")  # sorted by validator
    assert "| 0 | 8 | 3 | 0.25 [0.10, 0.40], 6 measured |" in lines
    assert "Missing: 2 target replies, 0 judge votes." in lines
    assert "- `/docs/caf\\xe9.md`: not UTF-8" in lines  # the undecodable byte escaped, not dropped
    assert "- generator: 4 calls, 1 cached, 900 prompt + 300 completion tokens" in lines
    d = s.as_dict()
    assert d["release"] is None and "version" not in d and "timing" not in d and "round_drop" not in d
    assert not any(line.startswith("Drop") for line in lines)
    s.round_drop = RoundDrop(last_round=2, mean=0.3125, ci_low=0.05, ci_high=0.5, n_first=12, n_last=10,
                             clusters=9, shared_clusters=5, method="mover")
    assert ("Drop in mean target pass rate from round 0 to round 2 [95% interval, paired by the chunks both rounds "
            "drew on]: 0.31 [0.05, 0.50], 12 and 10 measured, 9 chunks (5 in both).") in summary_markdown(s, "x")
    assert s.as_dict()["round_drop"]["last_round"] == 2


def test_the_drop_runs_from_round_0_to_the_last_round_that_measured_questions():
    r0 = ([1.0, 0.5, 1.0, 0.5], ["a", "b", "c", "d"])
    r1 = ([0.5, 0.0, 0.5], ["a", "b", "e"])
    assert round_drop([]) is None and round_drop([r0]) is None
    assert round_drop([([], []), r1]) is None and round_drop([r0, ([], [])]) is None
    d = round_drop([r0, r1, ([], [])])  # the last round measured nothing: the drop ends at round 1
    assert (d.first_round, d.last_round, d.n_first, d.n_last, d.clusters, d.shared_clusters) == (0, 1, 4, 3, 5, 2)
    assert d.mean == pytest.approx(0.75 - 1 / 3, abs=1e-4) and d.ci_low < d.mean < d.ci_high
    assert d.method == "mover"


# --------------------------------------------------------------------------- rounds measured


class RecordedSteps(Direct):
    """A wiring whose generation step returns one recorded question per step (no model) and whose
    validation measures only the questions of every third chunk, as a round whose targets answer few."""

    def __init__(self):
        self.steps: list[tuple[int, str]] = []
        self.focus: list[str] = []

    def generate(self, generator, step):
        c = step.chunks[0]
        self.steps.append((step.round, c.id))
        self.focus.append(step.focus)
        q = question(f"Round {step.round}: what does chunk {c.id} say?", c.id, step.documents[0])
        return StepOutcome(questions=[q.model_copy(update={"chunk_ids": [c.id]})])

    def validate(self, chain, candidates, ctx):
        for q in candidates:
            if int(q.chunk_ids[0].rsplit("c", 1)[1]) % 3 == 0:
                q.pass_rate = 0.5 if int(q.chunk_ids[0].rsplit("c", 1)[1]) % 2 else 0.25
        return candidates, []

    def plan_round(self, agent, questions, cfg, round_):
        return RoundPlan(kinds=["open"], multi_hop=0.0)


def test_an_adaptive_round_goes_on_until_enough_questions_are_measured(tmp_path):
    d = doc("a", PUMP)
    chunks = [chunk(d, i).model_copy(update={"id": f"a-c{i}"}) for i in range(40)]
    cfg = BuildConfig(name="t", sources=["x"], cache_dir=str(tmp_path), questions=1000,
                      generation={"batch_chunks": 2, "kinds": ["open"]},
                      adaptive={"rounds": 2, "chunks_per_round": 4, "min_measured": 5},
                      models={"generator": {"model": "m", "base_url": "http://127.0.0.1:9/v1"}})
    wiring = RecordedSteps()
    ctx = Context(config=cfg, documents={"a": d}, chunks={c.id: c for c in chunks})
    with ModelPool({"generator": cfg.models.generator}, tmp_path) as pool:  # never called: the wiring answers
        gen = RoundLoop(cfg, wiring, pool, ctx, ValidatorChain([], []), chunks, chunks, logging.getLogger("t")).run()
    r0, r1 = gen.rounds
    # every third chunk is measured: round 0 takes chunks 0..13 (a batch of 2 at a time) to measure 5
    assert [c for r, c in wiring.steps if r == 0] == [f"a-c{i}" for i in range(14)]
    assert r0.measured == 5 and r0.chunks == 14
    rates = [0.25, 0.5, 0.25, 0.5, 0.25]  # chunks 0, 3, 6, 9, 12
    assert r0.mean_target_pass_rate == pytest.approx(sum(rates) / 5)
    assert r0.pass_rate_ci[0] < r0.mean_target_pass_rate < r0.pass_rate_ci[1]
    assert r1.measured >= 5 and len({c for r, c in wiring.steps if r == 1}) == r1.chunks  # each chunk once a round
    # the drop from round 0 to round 1, paired by the chunks both measured (round 1 returns to the failed ones)
    drop = gen.drop
    both = {c for r, c in wiring.steps if r == 0} & {c for r, c in wiring.steps if r == 1}
    shared = {c for c in both if int(c.rsplit("c", 1)[1]) % 3 == 0}
    assert (drop.last_round, drop.n_first, drop.n_last) == (1, 5, r1.measured)
    assert drop.shared_clusters == len(shared) > 0
    assert drop.mean == pytest.approx(r0.mean_target_pass_rate - r1.mean_target_pass_rate, abs=1e-3)
    assert drop.ci_low <= drop.mean <= drop.ci_high
    assert loop_agent_min(cfg, tmp_path, 7) == 7
    assert "0.35 [" in summary_markdown(BuildSummary(name="t", kind="build", accepted=1, rejected=0, generated=1,
                                                     rounds=[r0.brief()]), "published v1")
    unbounded = cfg.model_copy(update={"adaptive": cfg.adaptive.model_copy(update={"min_measured": 0})})
    wiring = RecordedSteps()
    with ModelPool({"generator": cfg.models.generator}, tmp_path) as pool:
        loop = RoundLoop(unbounded, wiring, pool, ctx, ValidatorChain([], []), chunks, chunks, logging.getLogger("t"))
        gen = loop.run()
    assert [r.chunks for r in gen.rounds] == [4, 4]  # chunks_per_round only


def test_a_round_that_used_every_chunk_passes_over_them_again_until_enough_are_measured(tmp_path):
    d = doc("a", PUMP)
    chunks = [chunk(d, i).model_copy(update={"id": f"a-c{i}"}) for i in range(6)]
    cfg = BuildConfig(name="t", sources=["x"], cache_dir=str(tmp_path), questions=1000,
                      generation={"batch_chunks": 4, "kinds": ["open"]},
                      adaptive={"rounds": 2, "chunks_per_round": 4, "min_measured": 5, "max_passes": 3},
                      models={"generator": {"model": "m", "base_url": "http://127.0.0.1:9/v1"}})
    ctx = Context(config=cfg, documents={"a": d}, chunks={c.id: c for c in chunks})

    def run(cfg):
        wiring = RecordedSteps()
        with ModelPool({"generator": cfg.models.generator}, tmp_path) as pool:  # never called: the wiring answers
            gen = RoundLoop(cfg, wiring, pool, ctx, ValidatorChain([], []), chunks, chunks,
                            logging.getLogger("t")).run()
        return gen, wiring

    gen, wiring = run(cfg)
    r0 = gen.rounds[0]
    # chunks 0 and 3 are measured: a pass measures 2, so round 0 takes all 6 chunks twice, then 4 (a batch)
    # of a third pass, whose first batch reaches 5 measured questions
    assert [c for r, c in wiring.steps if r == 0] == [f"a-c{i}" for i in [*range(6), *range(6), 0, 1, 2, 3]]
    assert (r0.passes, r0.measured, r0.chunks, r0.again_kinds) == (3, 6, 16, ["open"])
    # the first pass of round 0 has no focus; a further pass lists what its chunk was already asked
    first, again = wiring.focus[0], wiring.focus[6]
    assert first == "" and "other facts" in again and "Round 0: what does chunk a-c0 say?" in again
    assert gen.rounds[1].passes == 3 and gen.rounds[1].measured >= 5
    # max_passes 1: each chunk once a round, and the round records what it measured
    once = cfg.model_copy(update={"adaptive": cfg.adaptive.model_copy(update={"max_passes": 1})})
    gen, wiring = run(once)
    assert [(r.passes, r.measured, r.chunks) for r in gen.rounds] == [(1, 2, 6), (1, 2, 6)]
    assert "again_kinds" not in gen.rounds[0].as_dict()


def loop_agent_min(cfg: BuildConfig, tmp_path, n: int) -> int:
    """The shape minimum the rounds' agent gets from `adaptive.shape_min_measured`."""
    cfg = cfg.model_copy(update={"adaptive": cfg.adaptive.model_copy(update={"shape_min_measured": n})})
    with ModelPool({"generator": cfg.models.generator}, tmp_path) as pool:
        loop = RoundLoop(cfg, Direct(), pool, Context(config=cfg), ValidatorChain([], []), [], [],
                         logging.getLogger("t"))
    return loop.agent.shape_min_measured
