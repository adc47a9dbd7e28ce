"""A published release read back for the review page.

Everything in it is input (document text, model output): the page escapes it. A part that is missing or
damaged beyond the manifest and questions.jsonl (rejected.jsonl, the kind files, the leaderboard) gives
a note on the page instead of no page: the reviewer still sees the questions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmint.catalog import read_manifest
from benchmint.env import iter_jsonl
from benchmint.errors import SourceError
from benchmint.records import KINDS
from benchmint.release import read_questions


@dataclass
class ReleaseData:
    """One version folder's content, as the page shows it."""

    folder: Path
    """The version folder (outputs/NAME/vN)."""
    manifest: dict[str, Any]
    """manifest.json."""
    questions: list[dict[str, Any]]
    """questions.jsonl rows (benchmint.records.Question dumps), in file order."""
    rejected: list[dict[str, Any]] = field(default_factory=list)
    """rejected.jsonl rows, with their verdicts."""
    contexts: dict[str, str] = field(default_factory=dict)
    """Question id -> the source text it was written from (the `context` of the export rows, KIND.jsonl):
    the text of its chunks, joined by a blank line. Rejected candidates have none in the release."""
    leaderboard: dict[str, Any] | None = None
    """evals/leaderboard.json (pipeline.evaluation.write_evals), None when the release was not evaluated."""
    notes: list[str] = field(default_factory=list)
    """What could not be read, said on the page."""


def load(folder: Path) -> ReleaseData:
    """Read `folder`; a missing or damaged manifest or questions.jsonl is one SourceError line."""
    data = ReleaseData(folder=folder, manifest=read_manifest(folder), questions=read_questions(folder))
    data.rejected = _rows(folder / "rejected.jsonl", data.notes)
    for kind in KINDS:  # the file names come from the known kinds, never from the release's own text
        for row in _rows(folder / f"{kind}.jsonl", data.notes):
            if isinstance(row.get("id"), str) and isinstance(row.get("context"), str):
                data.contexts[row["id"]] = row["context"]
    board = folder / "evals" / "leaderboard.json"
    if board.is_file():
        try:
            loaded = json.loads(board.read_text(encoding="utf-8"))
            if not isinstance(loaded, dict) or not isinstance(loaded.get("models"), list):
                raise ValueError("no models list")
            data.leaderboard = loaded
        except (OSError, ValueError) as exc:
            data.notes.append(f"evals/leaderboard.json cannot be read ({type(exc).__name__}); the leaderboard "
                              "is left out")
    return data


def _rows(path: Path, notes: list[str]) -> list[dict[str, Any]]:
    """A JSONL file's object rows ([] when absent; a damaged file is a note, not an error)."""
    if not path.is_file():
        return []
    try:
        return [row for _, row in iter_jsonl(path) if isinstance(row, dict)]
    except (OSError, UnicodeDecodeError, SourceError) as exc:
        notes.append(f"{path.name} cannot be read ({type(exc).__name__}); its part of the page is left out")
        return []
