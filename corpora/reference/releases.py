"""A benchmint release as a reference corpus: its questions, read by benchmint.release (the one reader of a
published version's files)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmint.errors import SourceError
from benchmint.release import read_questions, versions
from corpora.reference.corpus import ReferenceCorpus, corpus_from_questions


def release_folders(p: Path, require_manifest: bool = False) -> list[Path]:
    """The version folders a path names: its questions.jsonl, a version folder, or a benchmark folder (every
    version, oldest first).

    With `require_manifest` (auto-detection in load_reference), a version counts only with its
    manifest.json beside it, so a user's own questions.jsonl is read as plain data.
    """
    def ok(folder: Path) -> bool:
        return (folder / "questions.jsonl").is_file() and (not require_manifest or (folder / "manifest.json").is_file())

    if p.is_file():
        return [p.parent] if p.name == "questions.jsonl" and ok(p.parent) else []
    if ok(p):
        return [p]
    return [p / v for v in versions(p) if ok(p / v)]


def corpus_from_release(path: str | Path, name: str | None = None) -> ReferenceCorpus:
    """A release's questions.jsonl, a version folder, or a benchmark folder (every vN) -> a corpus."""
    p = Path(path).expanduser()
    folders = release_folders(p)
    if not folders:
        raise SourceError(f"{p} holds no benchmint release (no questions.jsonl, no v1/, v2/ ...); "
                          "point at outputs/NAME or one of its versions")
    rows: list[dict[str, Any]] = []
    for folder in folders:
        for row in read_questions(folder):
            rows.append({**row, "id": f"{folder.name}:{row['id']}"} if len(folders) > 1 else row)
    if name:
        label = name
    else:
        label = f"{p.name}-previous" if len(folders) > 1 else f"{p.parent.name}-{p.name}" if p.is_dir() else p.stem
    return corpus_from_questions(rows, name=label, source=str(p.resolve()))
