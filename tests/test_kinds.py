"""Numeric, true/false and multi-hop questions written by the embedded default model (Qwen on a
real llama.cpp server) from real documents, and checked by the real validators."""

from __future__ import annotations

import pytest

from benchmint.modelspec import ModelSpec
from benchmint.pool import ModelPool
from corpora.chunking import chunk_documents
from corpora.documents import load_documents
from generators.multi_hop import MultiHopGenerator, pair_chunks
from generators.single_hop import SingleHopGenerator, tolerance_of
from validators.base import Context
from validators.grounding import GroundingValidator
from validators.quality import QualityValidator

pytestmark = pytest.mark.slow  # end-to-end on the default model


@pytest.fixture(scope="module")
def korvath(sources, cache_dir, embedder):
    docs, _ = load_documents([str(sources)])
    chunks = chunk_documents(docs, 380, 40)
    ctx = Context(config=None, documents={d.id: d for d in docs}, chunks={c.id: c for c in chunks}, embedder=embedder)
    with ModelPool({"generator": ModelSpec(model="local:qwen2.5-coder-1.5b")}, cache_dir) as pool:
        yield ctx, chunks, pool["generator"]


def test_tolerance_is_half_a_unit_of_the_last_digit():
    assert tolerance_of("4.5") == pytest.approx(0.05) and tolerance_of("120") == 0.5 and tolerance_of("1,800") == 0.5
    assert tolerance_of("none") == 0.0


def test_numeric_and_true_false_generation(korvath):
    """Every numeric and true/false question is well formed; and within three seeds (a build draws many
    steps; one sample of a 1.5B model may miss) each kind yields one that passes grounding and quality."""
    ctx, chunks, client = korvath
    pdf_chunk = next(c for c in chunks if ctx.documents[c.document_id].format == "pdf")
    doc = ctx.documents[pdf_chunk.document_id]
    grounding, quality = GroundingValidator(), QualityValidator()
    passing: set[str] = set()
    written = []
    for seed in (0, 1, 2):
        gen = SingleHopGenerator(client, 3, ["numeric", "tf"], seed=seed)
        numeric = gen.generate_one(pdf_chunk, doc, kind="numeric")
        tf = gen.generate_one(pdf_chunk, doc, kind="tf")
        assert numeric and all(q.kind == "numeric" and q.tolerance > 0 for q in numeric)
        assert tf and all(q.kind == "tf" and q.choices == ["True", "False"] and q.rationale for q in tf)
        assert all(q.answer == q.choices[q.gold_index] for q in tf)
        written += numeric + tf
        passing |= {q.kind for q in numeric + tf
                    if grounding.check([q], ctx)[0].passed and quality.check([q], ctx)[0].passed}
        if passing == {"numeric", "tf"}:
            break
    assert passing == {"numeric", "tf"}, [(q.question, q.answer, q.verdicts) for q in written]


def test_multi_hop_generation_across_documents(korvath):
    """Every multi-hop question cites both chunks; within three seeds one passes grounding, with a citation
    found in each hop and its answer supported by the cited text."""
    ctx, chunks, client = korvath
    pairs = pair_chunks(chunks, ctx.embedder)
    a = chunks[0]
    b = ctx.chunks[pairs[a.id]]
    assert b.document_id != a.document_id or abs(b.index - a.index) > 1
    written, grounded = [], []
    for seed in (0, 1, 2):
        qs = MultiHopGenerator(client, 2, seed=seed).generate_pair(a, ctx.documents[a.document_id], b,
                                                                     ctx.documents[b.document_id])
        assert qs and all(q.hops == 2 and q.chunk_ids == [a.id, b.id] for q in qs)
        assert all({c.chunk_id for c in q.citations} == {a.id, b.id} for q in qs)
        written += qs
        grounded += [(q, v) for q, v in zip(qs, GroundingValidator().check(qs, ctx), strict=True) if v.passed]
        if grounded:
            break
    assert grounded, [(q.question, q.answer, v.reason) for q in written for v in GroundingValidator().check([q], ctx)]
    for q, v in grounded:
        found = {c.chunk_id for c, e in zip(q.citations, v.evidence["citations"], strict=True) if e["found"]}
        assert found == {a.id, b.id}
        assert v.evidence.get("derivation") or v.evidence["answer_support"] >= GroundingValidator().min_answer_support
