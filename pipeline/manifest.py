"""The manifest and the summary of a finished run, from what it read, generated and spent."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from benchmint.config import BuildConfig
from benchmint.modelspec import ModelSpec
from benchmint.records import Chunk, Document, Question, SkippedSource
from pipeline.records import BuildSummary, Manifest, RetiredEntry, Selection
from pipeline.refresh import refresh_fingerprint
from pipeline.rounds import Generation
from pipeline.validity import contamination_tally, validity


@dataclass
class ModelsUsed:
    """What the models cost and what went missing, read from the pool before it closes."""

    usage: dict[str, dict[str, Any]]  # with a `cost` per priced role (benchmint.cost.with_cost)
    cost: dict[str, Any]  # total, currency, unpriced roles
    seconds: float
    faults: dict[str, Any]
    missing: dict[str, int]


@dataclass
class RunFacts:
    """Everything a finished run knows that its manifest and summary are made from."""

    cfg: BuildConfig
    docs: list[Document]
    skipped: list[SkippedSource]
    all_chunks: list[Chunk]
    roles: dict[str, ModelSpec]
    gen: Generation
    models: ModelsUsed
    started: float  # time.monotonic() at the start

    def timing(self) -> dict[str, float]:
        return {"total_s": round(time.monotonic() - self.started, 2), "model_s": round(self.models.seconds, 2)}


def rejections(rejected: list[Question]) -> dict[str, int]:
    return dict(Counter(v.validator for q in rejected for v in q.verdicts if v.blocking and not v.passed))


def build_manifest(run: RunFacts, validators: dict[str, dict[str, int]], contamination: dict[str, Any] | None,
                   rejected: list[Question], selection: Selection | None = None,
                   published: list[Question] | None = None) -> Manifest:
    """The manifest; `published`: the questions of this build the release holds (for its validity figures)."""
    cfg, gen = run.cfg, run.gen
    candidates = gen.accepted + gen.rejected  # every candidate validated (the surplus is in accepted)
    if contamination is not None:
        contamination = {**contamination, "verdicts": contamination_tally(candidates).model_dump()}
    return Manifest(
        config=cfg.public_dict(),
        sources={
            "documents": [{"id": d.id, "title": d.title, "source": d.source, "format": d.format, "chars": len(d.text),
                           **({"published_at": d.published_at.isoformat()} if d.published_at else {})}
                          for d in run.docs],
            "feeds": list(cfg.feeds), "since": cfg.since,
            "skipped": [s.model_dump() for s in run.skipped],
            "chunks": len(run.all_chunks), "chunks_used": len(gen.used),
        },
        models={role: spec.label for role, spec in run.roles.items()},
        targets=[t.label for t in cfg.models.targets],
        judges=[j.label for j in cfg.models.panel()],
        rounds=[r.as_dict() for r in gen.rounds],
        stopped_because=gen.stop,
        missing=run.models.missing,
        refresh_fingerprint=refresh_fingerprint(cfg),
        contamination=contamination if contamination is not None else {"enabled": False, "corpora": []},
        prompts=gen.prompts,
        validators=validators,
        rejections_by_validator=rejections(rejected),
        generated=gen.generated,
        model_output_errors=gen.output_errors,
        faults=run.models.faults,
        token_usage=run.models.usage,
        cost=run.models.cost,
        timing=run.timing(),
        selection=selection,
        round_drop=gen.drop,
        validity=validity(cfg, candidates, published or [], any(r.startswith("target") for r in run.roles)),
    )


def build_summary(run: RunFacts, kind: str, accepted: list[Question], rejected: list[Question], added: int,
                  kept: int, retired: list[Question]) -> BuildSummary:
    return BuildSummary(
        name=run.cfg.name, kind=kind, accepted=len(accepted), rejected=len(rejected), generated=run.gen.generated,
        skipped=[s.model_dump() for s in run.skipped], rejections_by_validator=rejections(rejected),
        token_usage=run.models.usage, cost=run.models.cost, chunks_used=len(run.gen.used), chunks=len(run.all_chunks),
        added=added,
        kept=kept, retired=[RetiredEntry(id=q.id, question=q.question, reason=q.retired_reason) for q in retired],
        rounds=[r.brief() for r in run.gen.rounds], round_drop=run.gen.drop, missing=run.models.missing,
        stopped_because=run.gen.stop,
        faults=run.models.faults["replies"], workers=dict(sorted(run.gen.workers.items())) or None)
