"""Cost before and after (issue 15 item 8): a price on a model entry, the money per role a build spent (manifest,
summary, card), and `--max-cost` stopping the rounds like the token budget."""

from __future__ import annotations

import logging

import pytest

from benchmint.card import _cost
from benchmint.config import AdaptiveConfig, BuildConfig, load_config
from benchmint.cost import FREE, Price, money, with_cost
from benchmint.errors import ConfigError
from benchmint.modelspec import ModelSpec
from benchmint.pool import ModelPool
from pipeline.budget import budget_stop
from pipeline.records import BuildSummary, StepOutcome
from pipeline.report import summary_markdown
from pipeline.rounds import RoundLoop
from pipeline.wiring import Direct
from tests.unit.test_pipeline import PUMP, chunk, doc, question
from validators.base import Context
from validators.chain import ValidatorChain

PRICED = {"model": "gpt-x", "base_url": "http://127.0.0.1:9/v1",
          "price": {"input_per_million": 0.15, "output_per_million": 0.6}}


def test_a_price_is_parsed_validated_and_local_models_cost_nothing():
    cfg = load_config(None, {"sources": ["x"], "model": PRICED, "targets": "local:smollm2-135m"})
    assert cfg.models.generator.price == Price(input_per_million=0.15, output_per_million=0.6, currency="USD")
    assert cfg.models.targets[0].effective_price == FREE  # local: free, counted
    assert ModelSpec(model="m", base_url="http://h/v1").effective_price is None  # an endpoint with no price: unpriced
    with pytest.raises(ConfigError, match="price.output_per_million"):
        load_config(None, {"sources": ["x"], "model": {**PRICED, "price": {"output_per_million": -1}}})
    with pytest.raises(ConfigError, match="price.per_token"):  # extra keys are refused by name
        load_config(None, {"sources": ["x"], "model": {**PRICED, "price": {"per_token": 1}}})
    eur = {**PRICED, "model": "other", "price": {"input_per_million": 1, "currency": "EUR"}}
    with pytest.raises(ConfigError, match="one currency"):
        load_config(None, {"sources": ["x"], "model": PRICED, "judges": [eur]})


def test_max_cost_needs_every_endpoint_priced():
    assert load_config(None, {"sources": ["x"], "model": PRICED, "max_cost": 2}).adaptive.max_cost == 2
    assert load_config(None, {"sources": ["x"], "max_cost": 2}).adaptive.max_cost == 2  # local only: free, allowed
    with pytest.raises(ConfigError, match="gpt-x@http://127.0.0.1:9/v1 has no price"):
        load_config(None, {"sources": ["x"], "model": "http://127.0.0.1:9/v1#gpt-x", "max_cost": 2})
    with pytest.raises(ConfigError, match="max_cost"):
        load_config(None, {"sources": ["x"], "max_cost": 0})


def test_money_per_role_from_the_tokens_of_real_calls():
    usage = {"generator": {"calls": 4, "cache_hits": 1, "prompt_tokens": 2_000_000, "completion_tokens": 500_000},
             "target1": {"calls": 6, "cache_hits": 0, "prompt_tokens": 900, "completion_tokens": 100},
             "judge1": {"calls": 2, "cache_hits": 0, "prompt_tokens": 300, "completion_tokens": 40}}
    prices = {"generator": Price(input_per_million=0.15, output_per_million=0.6), "target1": FREE, "judge1": None}
    assert money(2_000_000, 500_000, prices["generator"]) == pytest.approx(0.6)
    out, total = with_cost(usage, prices)
    assert out["generator"]["cost"] == pytest.approx(0.6) and out["target1"]["cost"] == 0
    assert "cost" not in out["judge1"]  # unpriced: its tokens only
    assert total == {"total": pytest.approx(0.6), "currency": "USD", "unpriced": ["judge1"]}
    s = BuildSummary(name="p", accepted=1, generated=1, token_usage=out, cost=total)
    md = summary_markdown(s, "published v1").splitlines()
    assert "- generator: 4 calls, 1 cached, 2000000 prompt + 500000 completion tokens, 0.6 USD" in md
    assert "- judge1: 2 calls, 0 cached, 300 prompt + 40 completion tokens" in md
    assert "- cost: 0.6 USD (not counted: judge1, no price)" in md
    line = _cost({"token_usage": out, "cost": total})[0]
    assert line.startswith("- cost: generator 2000000 prompt + 500000 completion tokens, 0.6 USD; target1 ")
    assert line.endswith("; total 0.6 USD (not counted: judge1, no price)")
    assert _cost({}) == []


def test_the_budget_rule_stops_at_the_tokens_or_the_money():
    roles = {"generator": ModelSpec.model_validate(PRICED)}
    usage = {"generator": {"prompt_tokens": 1_000_000, "completion_tokens": 1000}}  # 0.15 + 0.0006
    assert budget_stop(AdaptiveConfig(), usage, roles) == ""
    assert budget_stop(AdaptiveConfig(max_tokens=1000), usage, roles) == "token budget of 1000 completion tokens spent"
    assert budget_stop(AdaptiveConfig(max_cost=0.2), usage, roles) == ""
    assert budget_stop(AdaptiveConfig(max_cost=0.15), usage, roles) == "cost budget of 0.15 USD spent (0.1506 USD)"


class PaidSteps(Direct):
    """Each generation step writes one question and spends one million prompt tokens on the priced generator
    (recorded on the pool's usage book as a real call would); validation accepts every question."""

    def __init__(self, pool: ModelPool):
        self.pool, self.steps = pool, 0

    def generate(self, generator, step):
        self.steps += 1
        self.pool.usage.add("generator", calls=1, prompt_tokens=1_000_000, completion_tokens=100)
        c = step.chunks[0]
        q = question(f"What does chunk {c.id} say?", c.id, step.documents[0])
        return StepOutcome(questions=[q.model_copy(update={"chunk_ids": [c.id]})])

    def validate(self, chain, candidates, ctx):
        return candidates, []


def test_max_cost_stops_the_rounds_cleanly_after_the_batch_that_reaches_it(tmp_path):
    d = doc("a", PUMP)
    chunks = [chunk(d, i).model_copy(update={"id": f"a-c{i}"}) for i in range(20)]
    cfg = BuildConfig(name="t", sources=["x"], cache_dir=str(tmp_path), questions=100,
                      generation={"batch_chunks": 2, "kinds": ["open"]}, adaptive={"max_cost": 0.5},
                      models={"generator": PRICED})
    ctx = Context(config=cfg, documents={"a": d}, chunks={c.id: c for c in chunks})
    with ModelPool({"generator": cfg.models.generator}, tmp_path) as pool:  # never called: the wiring answers
        wiring = PaidSteps(pool)
        gen = RoundLoop(cfg, wiring, pool, ctx, ValidatorChain([], []), chunks, chunks, logging.getLogger("t")).run()
    # 0.15 a step: after batch 1 (0.30) it goes on, after batch 2 (0.60) it stops; a batch is never cut
    assert wiring.steps == 4 and len(gen.accepted) == 4
    assert gen.stop == "cost budget of 0.5 USD spent (0.6002 USD)"
