"""The refresh rules: which documents changed, which published questions stay, and when a refresh has
nothing to recheck.

A document is identified by the hash of its text, so an edited document is a removed one plus a new
one. A published question whose document is gone is retired with that reason; the others are
rechecked (they may have become contaminated or saturated) and kept when they pass; new questions
are written only from the new documents.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmint import __version__, catalog
from benchmint.config import BuildConfig
from benchmint.errors import SourceError
from benchmint.records import Document, Question, Verdict
from benchmint.release import read_questions, versions
from corpora.reference.registry import read_registry
from validators.scoring import TargetResult


def refresh_fingerprint(cfg: BuildConfig) -> str:
    """What, besides the documents, decides which published questions stay: the contamination
    settings and the corpora's identities (registry entries, files' size and time), the targets,
    the judges and the difficulty settings. A refresh whose documents and fingerprint are
    unchanged has nothing to recheck."""
    registry = read_registry(cfg.resolved_cache_dir())
    refs: list[Any] = []
    for ref in cfg.contamination.references:
        path = Path(ref).expanduser()
        if ref in registry:
            refs.append(registry[ref])
        elif path.exists():
            st = path.stat()
            refs.append({"path": str(path.resolve()), "size": st.st_size, "mtime": int(st.st_mtime)})
        else:
            refs.append(ref)
    # a judge's price decides no verdict: left out, so pricing a model asks for no recheck
    contamination = cfg.contamination.model_dump(mode="json", exclude={"judge": {"price"}})
    blob = {"contamination": contamination, "references": refs,
            "targets": [t.label for t in cfg.models.targets], "judges": [j.label for j in cfg.models.panel()],
            "difficulty": cfg.difficulty.model_dump(mode="json"), "benchmint": __version__}
    return hashlib.sha256(json.dumps(blob, sort_keys=True, default=str).encode()).hexdigest()


@dataclass
class PublishedState:
    """The latest version of a benchmark: its name, its manifest and its questions."""

    version: str
    manifest: dict[str, Any]
    questions: list[Question]


def latest_state(bench_dir: Path) -> PublishedState:
    found = versions(bench_dir)
    if not found:
        raise SourceError(f"no published version of '{bench_dir.name}' in {bench_dir.parent}/ to refresh; "
                          f"build it first: benchmint build --config FILE")
    rows = read_questions(bench_dir / found[-1])
    return PublishedState(found[-1], catalog.manifest(bench_dir, found[-1]), [Question.model_validate(r) for r in rows])


@dataclass
class DocumentDiff:
    """The documents read now against those of the latest version, and what that means for its questions."""

    new: set[str] = field(default_factory=set)
    """Ids of documents the latest version did not have (new questions are written from these)."""
    gone: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Manifest entries of documents no longer read (removed, or changed: a new id)."""
    keep: list[Question] = field(default_factory=list)
    """Published questions whose documents are all still there (to recheck)."""
    retire: list[Question] = field(default_factory=list)
    """Published questions with a document gone, `retired_reason` set."""

    @property
    def changed(self) -> bool:
        return bool(self.new or self.gone)


def diff_documents(manifest: dict[str, Any], docs: list[Document], published: list[Question]) -> DocumentDiff:
    now = {d.id for d in docs}
    before = {d["id"]: d for d in manifest.get("sources", {}).get("documents", [])}
    gone = {i: d for i, d in before.items() if i not in now}
    out = DocumentDiff(new=now - set(before), gone=gone,
                       keep=[q for q in published if all(d in now for d in q.document_ids)])
    for q in published:
        missing = [gone[d] for d in q.document_ids if d in gone]
        if missing:
            why = "; ".join(f"its document {m['title']!r} ({m['source']}) was removed or changed" for m in missing)
            out.retire.append(q.model_copy(update={"retired_reason": why}))
    return out


def nothing_to_recheck(diff: DocumentDiff, manifest: dict[str, Any], cfg: BuildConfig) -> bool:
    """The same documents, the same corpora, targets and settings: no model needs to start."""
    return not diff.changed and manifest.get("refresh_fingerprint") == refresh_fingerprint(cfg)


def retire_rule(keep: list[Question], contamination: list[Verdict | None],
                results: dict[str, list[TargetResult]]) -> tuple[list[Question], list[Question]]:
    """(kept, retired): a published question is retired when it became contaminated (its contamination
    verdict failed: a corpus was added) or saturated (every target that gave a graded reply answers it
    right); the retired ones carry the reason."""
    kept, retired = [], []
    for q, v in zip(keep, contamination, strict=True):
        rs = [r for r in results.get(q.id, []) if r.correct is not None]
        if v is not None and not v.passed:
            retired.append(q.model_copy(update={"retired_reason": f"contaminated: {v.reason}"}))
        elif rs and all(r.correct for r in rs):
            retired.append(q.model_copy(update={
                "retired_reason": f"saturated: every target answers it ({', '.join(r.target for r in rs)})"}))
        else:
            kept.append(q)
    return kept, retired


def recheck(keep: list[Question], contamination: Any, runner: Any, ctx: Any, cfg: BuildConfig
            ) -> tuple[list[Question], list[Question]]:
    """Put the published questions of unchanged documents through the contamination check and the
    targets again, and apply the retire rule."""
    checks = contamination.check(keep, ctx) if contamination is not None else [None] * len(keep)
    mode = "with_document" if cfg.difficulty.with_document else "closed_book"
    results = runner.run(keep, mode, ctx.chunks) if runner is not None else {}
    return retire_rule(keep, checks, results)
