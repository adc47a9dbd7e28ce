"""The review page of a published release (`benchmint view`): one self-contained HTML file a domain team
opens to read its benchmark instead of JSONL.

A version folder is read-only and its content hashed, so the page is written beside the versions, to
outputs/NAME/views/vN.html (`views` is no version name: catalog and release list only vN folders).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from benchmint.errors import SourceError
from benchmint.view.page import render
from benchmint.view.release_data import load

VIEWS = "views"


def view_path(release: Path) -> Path:
    """Where the page of outputs/NAME/vN goes: outputs/NAME/views/vN.html."""
    return release.parent / VIEWS / f"{release.name}.html"


def render_release(release: Path) -> str:
    """The page of a version folder, as text."""
    return render(load(release))


def write_view(release: Path, out: Path | None = None) -> Path:
    """Write the page of `release` to `out` (default: view_path) atomically; returns the path written."""
    target = out or view_path(release)
    if out is None and target.parent.is_symlink():  # the page stays inside the benchmark's folder
        raise SourceError(f"{target.parent} is a symlink; remove it, or pass --out FILE")
    html = render_release(release)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        # a lone surrogate (an undecodable file name) is written escaped, never a crash
        tmp.write_text(html, encoding="utf-8", errors="backslashreplace")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def refresh_view(release: Path) -> Path | None:
    """Write the page of `release` again when it has one (an evaluation added the leaderboard); None when it
    has none or the page cannot be written (the page is a convenience: `benchmint view` writes it later)."""
    if not view_path(release).is_file():
        return None
    try:
        return write_view(release)
    except (OSError, SourceError, KeyError, TypeError, ValueError, AttributeError):
        return None
