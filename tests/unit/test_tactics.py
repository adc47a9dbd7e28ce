"""Hardening tactics: the computed-number derivation check, the tactic prompts, and how the
adaptive agent moves the mix between shapes (no model call: every question here passed or was
never measured, so the agent has no failure to name)."""

from __future__ import annotations

import pytest

from benchmint.arithmetic import evaluate_arithmetic, format_number
from benchmint.config import BuildConfig, load_config
from benchmint.errors import ConfigError
from benchmint.prompts import load_tactics
from benchmint.quantities import like_quantities
from benchmint.records import Chunk, Citation, Document, Question, question_id
from generators.adaptive import AdaptiveAgent, RoundPlan, shape
from generators.single_hop import SingleHopGenerator
from pipeline.steps import plan_steps
from tests.fixtures import q
from validators.base import Context
from validators.difficulty import gold_shown
from validators.grounding import GroundingValidator

PUMP = "The Orrin-7 pump delivers 340 litres per minute at full speed and 12 litres per minute at idle."
TANK = "Its header tank holds 1,800 litres and refills in 4 hours."
COSTS = "A service visit costs NOK 2,150, plus NOK 600 for each replaced seal; a spare impeller costs GBP 165."
LIMITS = "Work stops when waves exceed 2.5 metres or the wind exceeds 15 metres per second."
BATTERY = "The battery stores 2,400 watt-hours at a rated 188 ampere-hours."
PLANT = "The plant runs 3 pumps from 06:00 to 22:00 every day."
SPEC = " ".join([PUMP, TANK, COSTS, LIMITS, BATTERY, PLANT])


def spec_ctx() -> Context:
    doc = Document(id="doc1", title="Orrin-7", source="orrin.txt", text=SPEC, format="txt")
    chunk = Chunk(id="c1", document_id="doc1", index=0, start=0, end=len(SPEC), text=SPEC, n_tokens=60)
    return Context(config=BuildConfig(name="t", sources=["x"]), documents={"doc1": doc}, chunks={"c1": chunk})


def test_arithmetic_is_evaluated_safely():
    assert evaluate_arithmetic("340 - 12") == (328.0, [340.0, 12.0])
    assert evaluate_arithmetic("(1,800 hours - 340) / 2 = 730")[0] == 730.0  # units, separators, "= c" read
    assert evaluate_arithmetic("40 - (-4)") == (44.0, [40.0, -4.0])  # a negative number as the text writes it
    for bad in ["340", "__import__('os')", "2 ** 10", "340 / 0", "", "340 & 12"]:
        with pytest.raises(ValueError):
            evaluate_arithmetic(bad)
    assert format_number(328.0) == "328" and format_number(10 / 3) == "3.33"


def computed(derivation: str, answer: str, quotes: list[str], unit: str = "",
             question: str = "How many more litres per minute does the Orrin-7 pump deliver at full speed than at idle?"
             ) -> Question:
    x = q(question, answer, quotes, kind="numeric")
    x.tactic, x.derivation, x.tolerance, x.unit = "computed", derivation, 0.5, unit
    return x


def test_a_computed_answer_is_grounded_by_its_derivation():
    g, c = GroundingValidator(), spec_ctx()
    ok = g.check([computed("340 - 12", "328", [PUMP])], c)[0]
    assert ok.passed and ok.evidence["derivation"] == "340 - 12 = 328"
    wrong = g.check([computed("340 - 12", "318", [PUMP])], c)[0]
    assert not wrong.passed and "gives 328, not the answer 318" in wrong.reason
    uncited = g.check([computed("1800 - 340", "1460", [PUMP])], c)[0]
    assert not uncited.passed and "uses 1800, not in the cited text" in uncited.reason
    both = g.check([computed("1800 - 340", "1460", [PUMP, TANK])], c)[0]
    assert both.passed
    single = g.check([computed("340", "340", [PUMP])], c)[0]
    assert not single.passed and "two or more numbers" in single.reason
    halves = g.check([computed("340 / 2", "170", [PUMP])], c)[0]  # a unit factor needs no citation
    assert halves.passed
    # a question that names a cited number its derivation leaves out asks about something else
    other = computed("1800 - 340", "1460", [PUMP, TANK], "litres",
                     "How many litres does the Orrin-7 tank hold beyond the pump's 12 litres per minute at idle?")
    v = g.check([other], c)[0]
    assert not v.passed and "names 12, a cited number" in v.reason
    named = computed("340 - 12", "328", [PUMP], "litres", "How many more litres than 12 does the Orrin-7 pump deliver?")
    assert g.check([named], c)[0].passed  # named and used


@pytest.mark.parametrize("derivation,answer,unit,quotes,problem", [
    ("1800 - 4", "1796", "litres", [TANK], "subtracts time from volume"),
    ("2150 - 165", "1985", "NOK", [COSTS], "subtracts money GBP from money NOK"),
    ("2150 + 600", "2750", "NOK", [COSTS], None),
    ("4 * 60", "240", "minutes", [TANK], None),  # 4 hours are 240 minutes
    ("4 * 60", "240", "seconds", [TANK], "another unit than seconds"),  # ... not 240 seconds
    ("(340 - 12) / 340 * 100", "96.47", "%", [PUMP], None),
    ("1800 / 340", "5.29", "litres", [PUMP, TANK], "gives a ratio, but the answer is in litres"),
    ("15 - 2.5", "12.5", "metres", [LIMITS], "subtracts length from speed"),
    ("2400 / 188", "12.77", "hours", [BATTERY], "another kind (one unit per another), not hours"),
    ("12 - 340", "-328", "litres", [PUMP], "negative"),
    ("(22 - 6) * 60", "960", "minutes", [PLANT], None),  # clock times are hours
    ("3 * 60", "180", "", [PLANT], "60, a number the text does not hold, as a quantity"),
])
def test_a_computed_answer_keeps_its_units_straight(derivation, answer, unit, quotes, problem):
    v = GroundingValidator().check([computed(derivation, answer, quotes, unit, "What does the Orrin-7 cost or hold?")],
                                   spec_ctx())[0]
    assert v.passed is (problem is None), v.reason
    if problem:
        assert problem in v.reason


def test_the_gold_check_sees_a_numeric_gold_with_its_unit():
    x = computed("340 - 12", "328", [PUMP], "litres")
    assert gold_shown(x) == "328 litres"
    plain = q("Who designed the Orrin-7 pump?", "Elspeth Marrow", [PUMP])
    assert gold_shown(plain) == "Elspeth Marrow"


def test_like_quantities_pair_numbers_of_one_unit():
    pairs = like_quantities(SPEC)
    assert ("340 litres", "12 litres") in pairs and ("NOK 2,150", "NOK 600") in pairs
    flat = {x for p in pairs for x in p}
    assert "GBP 165" not in flat and not any("hours" in x for x in flat)  # no partner of its unit


def test_tactic_prompts_and_unknown_tactics():
    tactics = load_tactics()
    assert {"numeric:computed", "mcq:near_miss", "open:reworded", "tf:subtle"} <= set(tactics.tactics)
    gen = SingleHopGenerator(client=None, questions_per_chunk=2)  # messages only: no model call
    doc = Document(id="doc1", title="Orrin-7", source="orrin.txt", text=PUMP, format="txt")
    chunk = Chunk(id="c1", document_id="doc1", index=0, start=0, end=len(PUMP), text=PUMP, n_tokens=20)
    plain = gen.messages(chunk, doc, "numeric")[-1]["content"]
    hard = gen.messages(chunk, doc, "numeric:computed")[-1]["content"]
    assert '"derivation"' in hard and '"derivation"' not in plain
    assert "- 340 litres and 12 litres" in hard and "- 340 litres" not in plain  # the excerpt's like quantities
    lone = "The Orrin-7 impeller weighs 4 kilograms and was designed in 2024."
    hint = SingleHopGenerator.facts(load_tactics().tactics["numeric:computed"], lone)
    assert hint.endswith(f"- {lone}")  # no pair of one unit: its sentences with numbers instead
    assert "near misses" in gen.messages(chunk, doc, "mcq:near_miss")[-1]["content"]
    assert "elsewhere in the excerpt" in gen.messages(chunk, doc, "tf:subtle")[-1]["content"]
    assert set(gen.prompts(["tf:subtle"])) == {"single_hop", "true_false", "tactics"}
    assert set(gen.prompts()) == {"single_hop"}  # the configured kinds: open and mcq, plain
    with pytest.raises(ValueError, match="unknown tactic"):
        gen.generate_one(chunk, doc, kind="mcq:impossible")
    with pytest.raises(ConfigError, match="unknown tactic 'open:riddle'"):
        load_config(None, {"name": "t", "sources": ["x"], "adaptive": {"tactics": ["open:riddle"]}})


def measured(kind: str, rate: float | None, tactic: str = "", hops: int = 1, i: int = 0, chunk: str = "c1") -> Question:
    text = f"What is measured {kind} {tactic} {hops} {i}?"
    x = Question(id=question_id(text, "a"), question=text, answer="a", kind=kind, tactic=tactic, hops=hops,
                 citations=[Citation(quote="x", chunk_id=chunk, document_id="doc1")], document_ids=["doc1"],
                 chunk_ids=[chunk], generator_model="t", prompt_id="p", prompt_version="1")
    x.pass_rate = rate
    return x


class Namer:
    """The evaluator agent's model: names one pattern (the mix, not the patterns, is under test)."""

    def complete_json(self, messages, schema, **kw):
        return schema(patterns=["numbers with units"])


def many(kind: str, rates: list[float], start: int, chunks: int) -> list[Question]:
    """Measured questions of one kind, from `chunks` chunks in turn."""
    return [measured(kind, r, i=start + k, chunk=f"{kind}-c{k % chunks}") for k, r in enumerate(rates)]


def test_the_agent_keeps_the_hardest_shapes_tries_new_ones_and_drops_barren_ones():
    agent = AdaptiveAgent(client=None, tactics=["numeric:computed", "mcq:near_miss"], barren_after=3)
    # (the shapes not measured yet come first, then those measured too little to judge, then the hardest)
    # round 0: plain kinds only, two and one measured questions: both still explored
    r0 = [measured("open", 1.0, i=0), measured("open", 0.5, i=1), measured("mcq", 0.5, i=2)]
    plan = agent.plan(r0, ["open", "mcq"], 0.0)
    assert plan.kinds == ["numeric:computed", "mcq:near_miss", "open", "mcq"] and plan.multi_hop == 0.25
    assert {k: (r.n, r.mean, r.status) for k, r in plan.shape_pass_rates.items()} == {
        "mcq": (1, 0.5, "exploring"), "open": (2, 0.75, "exploring")}
    # round 1: computed numbers measured; near-miss mcq tried 3 times, all rejected before
    # measurement (barren); multi-hop tried once, not measured yet (tried again)
    r1 = r0 + [measured("numeric", 0.5, "computed", i=3)] + \
        [measured("mcq", None, "near_miss", i=k) for k in range(4, 7)] + [measured("open", None, hops=2, i=7)]
    assert shape(r1[3]) == "numeric:computed" and shape(r1[-1]) == "multi_hop"
    plan = agent.plan(r1, ["open", "mcq"], 0.0)
    assert plan.kinds == ["open", "mcq", "numeric:computed"] and plan.multi_hop == 0.25
    # multi-hop tried enough without a measured question: dropped
    r2 = r1 + [measured("open", None, hops=2, i=k) for k in range(8, 10)]
    assert agent.plan(r2, ["open", "mcq"], 0.0).multi_hop == 0.0


def test_a_further_pass_keeps_the_shapes_that_reached_the_targets_in_shifted_turns():
    # open: 2 of 2 measured; mcq: 0 of 4 (grounding rejected them); multi-hop 1 of 4; computed not written yet
    qs = [measured("open", 0.5, i=0), measured("open", 1.0, i=1)] + \
        [measured("mcq", None, i=k) for k in range(2, 6)] + \
        [measured("open", 0.0, hops=2, i=6)] + [measured("open", None, hops=2, i=k) for k in range(7, 10)]
    assert AdaptiveAgent.shape_yields(qs) == {"open": 1.0, "mcq": 0.0, "multi_hop": 0.25}
    plan = RoundPlan(kinds=["open", "mcq", "numeric:computed"], multi_hop=0.5, patterns=["units"], focus="F")
    again = AdaptiveAgent.again(plan, qs)
    assert (again.kinds, again.multi_hop, again.focus, again.again) == (["numeric:computed", "open"], 0.0, "F", True)
    assert plan.kinds == ["open", "mcq", "numeric:computed"] and not plan.again  # the round's own plan unchanged
    # multi-hop as good as the best: kept; round 0 (no focus) gets one asking for other facts
    hop = measured("open", 1.0, hops=2, i=6)
    again = AdaptiveAgent.again(RoundPlan(kinds=["open"], multi_hop=0.25), qs[:2] + [hop])
    assert again.multi_hop == 0.25 and "other facts" in again.focus
    # nothing written yet: every shape stays
    assert AdaptiveAgent.again(RoundPlan(kinds=["open", "mcq"], multi_hop=0.0), []).kinds == ["mcq", "open"]


def test_a_shape_easier_on_a_few_questions_stays():
    # the old rule (within 0.1 of the lowest mean) dropped open, 0.33 above mcq on three questions each
    agent = AdaptiveAgent(client=Namer())
    qs = many("open", [1.0, 0.5, 0.5], 0, 3) + many("mcq", [0.5, 0.5, 0.0], 3, 3)
    plan = agent.plan(qs, ["open", "mcq"], 0.0)
    rates = plan.shape_pass_rates
    assert rates["open"].mean - rates["mcq"].mean > 0.3 and rates["open"].ci[0] < rates["mcq"].ci[1]
    assert rates["open"].status == "kept" and rates["mcq"].status == "kept"
    assert "open" in plan.kinds and "mcq" in plan.kinds
    # two questions all passed, against a hard shape on twenty: still explored, not dropped
    qs = many("open", [1.0, 1.0], 0, 2) + many("mcq", [0.0] * 20, 2, 10)
    plan = agent.plan(qs, ["open", "mcq"], 0.0)
    assert plan.shape_pass_rates["open"].status == "exploring" and "open" in plan.kinds
    # the minimum is the agent's: at two it judges open, whose interval from two chunks still reaches mcq's
    judged = AdaptiveAgent(client=Namer(), shape_min_measured=2).plan(qs, ["open", "mcq"], 0.0).shape_pass_rates
    assert judged["open"].status == "kept" and judged["open"].ci[0] < judged["mcq"].ci[1]


def test_a_shape_leaves_the_mix_when_its_interval_lies_above_the_hardest():
    agent = AdaptiveAgent(client=Namer())
    qs = many("open", [1.0] * 30, 0, 10) + many("mcq", [0.0, 0.5] * 15, 30, 10)
    plan = agent.plan(qs, ["open", "mcq"], 0.0)
    rates = plan.shape_pass_rates
    assert rates["open"].ci[0] > rates["mcq"].ci[1] and rates["open"].status == "dropped"
    assert "open" not in plan.kinds and "mcq" in plan.kinds
    # clearly easier by less than 0.1: the old rule kept open at 0.09 against 0.0, on 200 and 300 questions
    qs = many("open", ([0.5] * 9 + [0.0] * 41) * 4, 0, 100) + many("mcq", [0.0] * 300, 200, 150)
    plan = agent.plan(qs, ["open", "mcq"], 0.0)
    rates = plan.shape_pass_rates
    assert rates["open"].mean == pytest.approx(0.09) and rates["open"].status == "dropped"
    assert plan.kinds == ["mcq"]
    # the round record shows each shape's evidence, rounded
    shown = agent.describe(plan)["shape_pass_rates"]
    assert shown["open"].model_dump() == {"n": 200, "mean": 0.09, "ci": [round(x, 3) for x in rates["open"].ci],
                                          "status": "dropped"}


def test_multi_hop_steps_do_not_use_up_the_kinds_turns():
    chunks = [Chunk(id=f"c{i}", document_id="d", index=i, start=0, end=1, text="x", n_tokens=1) for i in range(4)]
    pairs = {c.id: chunks[(i + 2) % 4] for i, c in enumerate(chunks)}
    steps = plan_steps(chunks, RoundPlan(kinds=["mcq", "numeric:computed"], multi_hop=0.5), pairs)
    assert [k for _, k, _ in steps] == ["multi_hop", "mcq", "multi_hop", "numeric:computed"]
    assert [o is not None for _, _, o in steps] == [True, False, True, False]
    # a computed-number step goes to the chunk with like quantities to combine
    plain, spec = chunks[0], Chunk(id="s", document_id="d", index=4, start=0, end=len(SPEC), text=SPEC, n_tokens=60)
    steps = plan_steps([plain, spec], RoundPlan(kinds=["numeric:computed", "mcq"], multi_hop=0.0), {})
    assert [(c.id, k) for c, k, _ in steps] == [("c0", "mcq"), ("s", "numeric:computed")]


def graded(q: Question, **right: bool) -> Question:
    from benchmint.records import Verdict

    q.verdicts.append(Verdict(validator="difficulty", passed=True, evidence={"results": [
        {"target": t, "reply": "x", "correct": ok} for t, ok in right.items()]}))
    return q


def test_with_every_rate_at_one_half_the_strongest_targets_failures_are_the_failures():
    # the weak target fails everything, the strong one passes all but one: every rate is 0.5
    qs = [graded(measured("mcq", 0.5, i=k), weak=False, strong=k != 2) for k in range(4)]
    qs[2] = graded(measured("mcq", 0.5, i=2), weak=True, strong=False)
    agent = AdaptiveAgent(client=None)
    assert [q.id for q in agent.failures(qs)] == [qs[2].id]
    failed, passed = agent.split(qs)
    assert failed == [qs[2]] and qs[2] not in passed
    chunks = [Chunk(id="c1", document_id="doc1", index=0, start=0, end=1, text="x", n_tokens=1),
              Chunk(id="c9", document_id="doc1", index=1, start=0, end=1, text="x", n_tokens=1)]
    assert [c.id for c in agent.pick_chunks(chunks, qs, used={"c1"}, n=2)] == ["c1", "c9"]
    # a question below one half is a failure whatever the targets' strengths
    low = graded(measured("open", 0.0, i=9), weak=False, strong=False)
    assert agent.failures(qs + [low]) == [low]


def test_a_used_up_corpus_is_revisited_suitable_chunks_first_then_the_lowest_pass_rates():
    chunks = [Chunk(id=f"c{k}", document_id="doc1", index=k, start=0, end=1, text="x", n_tokens=1) for k in range(4)]
    qs = [measured("mcq", 1.0, i=0), measured("open", 0.5, i=1), measured("mcq", 1.0, i=2)]
    for question, c in zip(qs, ("c0", "c1", "c2"), strict=True):
        question.chunk_ids = [c]
    agent = AdaptiveAgent(client=None)
    used = {"c0", "c1", "c2", "c3"}
    # no failure, nothing unused: the used chunks again, the lowest pass rate first (c3, never
    # measured, counts as 0.5 and was asked less than c1)
    assert [c.id for c in agent.pick_chunks(chunks, qs, used, n=3)] == ["c3", "c1", "c0"]
    # chunks that suit the round's shapes (like quantities for computed numbers) come first
    assert [c.id for c in agent.pick_chunks(chunks, qs, used, n=2, prefer={"c2"})] == ["c2", "c3"]
    # an unused chunk still comes before any revisit
    assert [c.id for c in agent.pick_chunks(chunks, qs, used - {"c0"}, n=2)] == ["c0", "c3"]
