"""Planning a round: which chunk gets which question shape, and the order chunks are taken in."""

from __future__ import annotations

import math

from benchmint.quantities import like_quantities
from benchmint.records import Chunk, Document, Question
from generators.adaptive import AdaptiveAgent, RoundPlan
from generators.base import GenerationStep
from pipeline.names import slug

COMPUTED = "numeric:computed"
MULTI_HOP = "multi_hop"


def interleave(docs: list[Document], chunks: list[Chunk]) -> list[Chunk]:
    """Round-robin over documents, so early questions come from every document."""
    by_doc: dict[str, list[Chunk]] = {d.id: [] for d in docs}
    for c in chunks:
        by_doc[c.document_id].append(c)
    out, depth = [], max((len(v) for v in by_doc.values()), default=0)
    for i in range(depth):
        out.extend(v[i] for v in by_doc.values() if i < len(v))
    return out


def chunks_with_quantities(chunks: list[Chunk]) -> set[str]:
    """The ids of the chunks that hold like quantities (what a computed-number question combines)."""
    return {c.id for c in chunks if like_quantities(c.text)}


def plan_steps(round_chunks: list[Chunk], plan: RoundPlan, pairs: dict[str, Chunk],
               quantities: set[str] | None = None) -> list[tuple[Chunk, str, Chunk | None]]:
    """(chunk, kind, partner chunk for multi-hop or None) per generation step of a round.

    A share `plan.multi_hop` of the steps (spread evenly) pair the chunk with its partner for a
    multi-hop question; the kinds (or their harder forms) take turns over the other steps in the
    plan's order. A computed-number step goes to a chunk that has like quantities to combine
    (swapping kinds with another step when its own chunk has none); `quantities`, the ids of the
    chunks that have them, is found from the round's chunks when not given.
    """
    steps = []
    turn = 0
    for k, c in enumerate(round_chunks):
        partner = pairs.get(c.id)
        hop = partner is not None and math.ceil((k + 1) * plan.multi_hop) > math.ceil(k * plan.multi_hop)
        if hop:
            steps.append((c, MULTI_HOP, partner))
        else:
            steps.append((c, plan.kinds[turn % len(plan.kinds)], None))
            turn += 1
    if COMPUTED not in plan.kinds:
        return steps
    if quantities is None:
        quantities = chunks_with_quantities(round_chunks)
    for i, (c, kind, partner) in enumerate(steps):
        if kind == COMPUTED and c.id not in quantities:
            j = next((j for j, (c2, k2, p2) in enumerate(steps)
                      if p2 is None and k2 != COMPUTED and c2.id in quantities), None)
            if j is not None:
                steps[i], steps[j] = (c, steps[j][1], None), (steps[j][0], COMPUTED, None)
    return steps


def as_generation_steps(planned: list[tuple[Chunk, str, Chunk | None]], documents: dict[str, Document],
                        round_: int, plan: RoundPlan, seen: list[Question]) -> list[GenerationStep]:
    """The planned steps as records, each with its documents and (after round 0, or in a further pass over a
    round's chunks) its focus: the round's failure patterns plus the questions already written from its chunks
    (`seen`)."""
    out = []
    for chunk, kind, other in planned:
        chunks = [chunk] + ([other] if other is not None else [])
        focus = AdaptiveAgent.chunk_focus(plan.focus, [c.id for c in chunks], seen) if round_ > 0 or plan.again else ""
        out.append(GenerationStep(chunks=chunks, documents=[documents[c.document_id] for c in chunks],
                                  kind=kind, round=round_, focus=focus))
    return out


def step_name(step: GenerationStep) -> str:
    """A readable, stable name for a step (its task-run name): round, document and chunk index."""
    if step.hops > 1:
        (a, b), (da, db) = step.chunks, step.documents
        return f"generate-r{step.round}-{slug(da.title, 16)}-c{a.index}+{slug(db.title, 16)}-c{b.index}"
    return f"generate-r{step.round}-{slug(step.documents[0].title)}-c{step.chunks[0].index}"
