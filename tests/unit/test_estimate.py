"""`benchmint estimate` (issue 15 item 8): the sources chunked as a build chunks them, the calls the round loop
would make, tokens from the rendered prompts, money from the prices; no model is called."""

from __future__ import annotations

import json
import math

import pytest
from typer.testing import CliRunner

from benchmint.cli import app
from benchmint.config import load_config
from benchmint.cost import Price, money
from corpora.chunking import chunk_documents
from corpora.documents import load_documents
from pipeline.estimate import estimate
from pipeline.estimate_assumptions import Assumptions, chars_per_token, prompt_tokens
from pipeline.wiring import Direct
from tests.fixtures import MD_TEXT, PDF_FACTS, write_pdf

runner = CliRunner()
PRICE = {"input_per_million": 0.15, "output_per_million": 0.6}
REMOTE = "http://127.0.0.1:9/v1"  # never called


@pytest.fixture()
def corpus(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "rules.md").write_text(MD_TEXT * 3, encoding="utf-8")
    write_pdf(folder / "k12.pdf", PDF_FACTS * 3, title="K-12 unit")
    return folder


def cfg_for(folder, **over):
    data = {"sources": [str(folder)], "chunking": {"max_tokens": 40, "overlap": 0}, **over}
    return load_config(None, data)


def test_the_chunks_are_the_builds_and_the_calls_follow_the_config(corpus):
    cfg = cfg_for(corpus, questions=1000, generation={"questions_per_chunk": 2, "batch_chunks": 3})
    docs, _ = load_documents(cfg.sources)
    chunks = chunk_documents(docs, 40, 0)
    a = Assumptions.defaults(False, repair_rate=0.0)
    e = estimate(cfg, Direct(), a)
    assert e.documents == 2 and e.chunks == len(chunks) > 6
    # more questions wanted than the corpus gives: every chunk is a step, one generator call each
    (gen,) = e.roles
    assert e.steps == e.max_steps == e.chunks and gen.calls == e.chunks and e.candidates == 2 * e.chunks
    assert e.stop == "chunks exhausted"
    assert gen.completion_tokens == e.chunks * 2 * a.reply_tokens_per_question
    assert gen.max_calls == 2 * e.chunks  # the ceiling repairs every step
    assert gen.max_completion_tokens == 2 * e.chunks * cfg.models.generator.max_tokens
    # the question count stops it after the batch that reaches it: 6 wanted, 1.5 accepted a step, 3 steps a batch
    few = estimate(cfg.model_copy(update={"questions": 6}), Direct(), a)
    assert few.steps == 6 and few.stop == "6 questions accepted" and few.accepted == 6
    assert few.roles[0].prompt_tokens < gen.prompt_tokens


def test_targets_and_judges_answer_what_reaches_them(corpus):
    cfg = cfg_for(corpus, questions=1000, targets=f"{REMOTE}#t1,{REMOTE}#t2", judges=f"{REMOTE}#j1",
                  generation={"questions_per_chunk": 3, "kinds": ["open"]})
    a = Assumptions.defaults(True, repair_rate=0.0)
    e = estimate(cfg, Direct(), a)
    by = {r.role: r for r in e.roles}
    assert set(by) == {"generator", "target1", "target2", "judge1"}
    reach = e.chunks * 3 * a.reach_targets
    # closed-book (answerability) and with the document (difficulty): two answers per target and candidate
    assert by["target1"].calls == by["target2"].calls == round(2 * reach)
    votes = reach * a.judged_open * 2 * 2 + reach * a.gold_checked
    assert by["judge1"].calls == round(votes)
    assert by["target1"].completion_tokens == round(2 * reach * a.target_reply_tokens)
    assert a.acceptance == 0.6 and any("acceptance 0.6" in line for line in e.assumptions)


def test_money_is_the_price_times_the_tokens_and_unpriced_models_have_none(corpus):
    gen = {"model": "gpt-x", "base_url": REMOTE, "price": PRICE}
    e = estimate(cfg_for(corpus, questions=5, model=gen, targets=f"{REMOTE}#t1"), Direct())
    by = {r.role: r for r in e.roles}
    g = by["generator"]
    assert g.cost == pytest.approx(money(g.prompt_tokens, g.completion_tokens, Price(**PRICE)), rel=1e-3)
    assert g.max_cost > g.cost > 0
    assert by["target1"].cost is None and by["judge1"].cost > 0  # the judge is the (priced) generator
    assert e.total("cost") == pytest.approx(g.cost + by["judge1"].cost, rel=1e-3)  # the judge is the generator


def test_prompt_tokens_come_from_characters_at_the_familys_ratio():
    spec = load_config(None, {"sources": ["x"]}).models.generator  # local:qwen2.5-coder-1.5b
    assert chars_per_token(spec) == 4.25
    msgs = [{"role": "system", "content": "x" * 425}, {"role": "user", "content": "y" * 850}]
    assert prompt_tokens(msgs, 4.25) == pytest.approx(100 + 200 + 2 * 5 + 3)


def test_the_cli_prints_an_estimate_and_a_one_line_error(corpus, tmp_path):
    res = runner.invoke(app, ["estimate", str(corpus), "--questions", "4", "--json"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    assert d["chunks"] > 0 and d["questions"] == 4 and d["roles"][0]["role"] == "generator"
    assert d["total"]["calls"] == d["roles"][0]["calls"] and d["assumptions"]
    conf = tmp_path / "c.yaml"
    conf.write_text(f"chunking: {{max_tokens: 40, overlap: 0}}\nmodels:\n  generator: {{model: gpt-x, "
                    f"base_url: '{REMOTE}', price: {{input_per_million: 0.15, output_per_million: 0.6}}}}\n",
                    encoding="utf-8")
    res = runner.invoke(app, ["estimate", str(corpus), "--config", str(conf), "--acceptance", "0.5"],
                        terminal_width=200)
    assert res.exit_code == 0, res.output
    assert "acceptance 0.5" in res.output and "USD" in res.output and "generator" in res.output
    assert math.isfinite(float(res.output.split("generation steps")[0].split("about")[-1]))
    res = runner.invoke(app, ["estimate", str(tmp_path / "missing")])
    lines = res.output.strip().splitlines()
    assert res.exit_code == 2 and len(lines) == 1 and lines[0].startswith("error: source ")
    assert "no such file" in lines[0]
