"""Any question file (`benchmint decontaminate`): one verdict row per question of a jsonl file."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from benchmint.embeddings import Embedder
from benchmint.env import iter_jsonl
from benchmint.errors import SourceError
from corpora.reference.corpus import ReferenceCorpus
from corpora.reference.registry import resolve_reference
from validators.contamination.config import ContaminationConfig
from validators.contamination.detector import Detector
from validators.contamination.findings import Detection, Probe
from validators.contamination.judge import judge_label


def read_question_file(path: str | Path) -> list[Probe]:
    """INPUT.jsonl rows with `id` and `question` (and optionally `answer`, `choices`)."""
    p = Path(path).expanduser()
    if not p.is_file():
        raise SourceError(f"input file {p} does not exist; give a jsonl file with id and question per line")
    probes: list[Probe] = []
    seen: set[str] = set()
    for ln, row in iter_jsonl(p):
        if not isinstance(row, dict) or "question" not in row or "id" not in row:
            raise SourceError(f"{p} line {ln} needs an 'id' and a 'question' field")
        if not isinstance(row["question"], str) or not row["question"].strip():
            raise SourceError(f"{p} line {ln}: 'question' must be non-empty text")
        try:
            probe = Probe.of(row)
        except (ValueError, TypeError) as exc:
            raise SourceError(f"{p} line {ln}: {exc}") from None
        probe.id = str(row["id"])
        if probe.id in seen:
            raise SourceError(f"{p} line {ln}: id {probe.id!r} appears twice; ids must be unique")
        seen.add(probe.id)
        probes.append(probe)
    if not probes:
        raise SourceError(f"input file {p} holds no questions")
    return probes


def output_row(probe: Probe, d: Detection) -> dict[str, Any]:
    f = d.finding
    row: dict[str, Any] = {"id": probe.id, "contaminated": d.contaminated,
                           "stage": f.stage if f is not None else None,
                           "score": round(float(f.score), 4) if f is not None else
                           round(float(d.scores.get("semantic", {}).get("cosine", 0.0)), 4),
                           "match": ({"corpus": f.corpus, "item": f.item_id, "index": f.item, "text": f.reference_text}
                                     if f is not None else None),
                           "review": d.status in ("review", "unchecked"), "reason": d.reason}
    if f is not None and f.matched_text:
        row["matched_text"] = f.matched_text
    return row


def decontaminate_file(input_path: str | Path, references: Iterable[str | ReferenceCorpus], output_path: str | Path,
                       judge: Any = None, *, config: ContaminationConfig | None = None,
                       cache_dir: str | Path | None = None, embedder: Embedder | None = None) -> dict[str, Any]:
    """Check every question of INPUT.jsonl against the references; write one row per question.

    Each output row: id, contaminated, stage, score, match {corpus, item, index, text} (or null),
    review (true for the middle band when there is no judge), reason. Returns a summary.
    """
    t0 = time.monotonic()
    probes = read_question_file(input_path)
    refs = list(references)
    if not refs:
        raise SourceError("no reference given; name at least one with --reference (a corpus name or a file)")
    corpora = [resolve_reference(r, cache_dir=cache_dir) for r in refs]
    # the judge (if any) also translates non-English questions so they are checked in English too
    detector = Detector(corpora, config, judge, Path(cache_dir) if cache_dir else None, translator=judge)
    emb = embedder or Embedder()
    detections = detector.detect(probes, emb)
    out = Path(output_path).expanduser()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        for p, d in zip(probes, detections, strict=True):
            fh.write(json.dumps(output_row(p, d), ensure_ascii=False) + "\n")
    os.replace(tmp, out)
    by_stage: dict[str, int] = {}
    for d in detections:
        if d.finding is not None:
            by_stage[d.finding.stage] = by_stage.get(d.finding.stage, 0) + 1
    return {"input": str(input_path), "output": str(out), "questions": len(probes),
            "contaminated": sum(d.status == "contaminated" for d in detections),
            "review": sum(d.status == "review" for d in detections),
            "clean": sum(d.status == "clean" for d in detections), "by_stage": by_stage,
            "unchecked": sum(d.status == "unchecked" for d in detections),
            "corpora": [c.describe() for c in corpora], "thresholds": detector.config.manifest(),
            "judge": judge_label(judge), "timing": detector.stage_report(),
            "seconds": round(time.monotonic() - t0, 3)}
