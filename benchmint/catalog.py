"""Reading published versions back: the list, one version's summary, the difference of two."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from benchmint.env import iter_jsonl
from benchmint.errors import SourceError
from benchmint.release import versions


def bench_dir(output_dir: str | Path, name: str) -> Path:
    d = Path(output_dir) / name
    if not versions(d):
        raise SourceError(f"no published version of '{name}' in {output_dir}/; build it with "
                          f"`benchmint build SOURCE --name {name}` or pass --output-dir")
    return d


def resolve_version(d: Path, version: str | None) -> str:
    found = versions(d)
    if version in (None, "latest"):
        return found[-1]
    v = version if version.startswith("v") else f"v{version}"
    if v not in found:
        raise SourceError(f"'{d.name}' has no version {version}; it has {', '.join(found)}")
    return v


def manifest(d: Path, version: str) -> dict[str, Any]:
    return json.loads((d / version / "manifest.json").read_text(encoding="utf-8"))


def questions(d: Path, version: str) -> list[dict[str, Any]]:
    return [row for _, row in iter_jsonl(d / version / "questions.jsonl", "the release is damaged")]


def version_rows(d: Path) -> list[dict[str, Any]]:
    rows = []
    for v in versions(d):
        m = manifest(d, v)
        rows.append({"version": v, "created_at": m.get("created_at", ""), "parent": m.get("parent_version") or "",
                     "questions": m.get("counts", {}).get("accepted", 0),
                     "by_kind": m.get("counts", {}).get("by_kind", {}),
                     "generator": m.get("models", {}).get("generator", ""),
                     "content_hash": m.get("content_hash", "")[:12]})
    return rows


def diff(d: Path, a: str, b: str) -> dict[str, Any]:
    """Questions added in b (not in a), removed from a (not in b), and kept, by question id."""
    qa, qb = {q["id"]: q for q in questions(d, a)}, {q["id"]: q for q in questions(d, b)}
    return {"from": a, "to": b,
            "added": [qb[i] for i in qb if i not in qa],
            "removed": [qa[i] for i in qa if i not in qb],
            "kept": [qb[i] for i in qb if i in qa]}
