"""Readable, safe short names: artifact keys, task-run names, folders per model."""

from __future__ import annotations

import re


def slug(text: str, n: int = 24) -> str:
    """Lower-case letters and digits joined by dashes, at most `n` characters ("doc" when none is left)."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:n] or "doc"


def model_slug(label: str) -> str:
    """A model label as a folder name (case kept: evals/<model>/)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", label).strip("_") or "model"
